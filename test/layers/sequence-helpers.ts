import { readFileSync } from "node:fs";
import { tensor, type Tensor } from "../../src/index.js";

/** A fixtures/sequence.json tensor. */
export interface SeqTensor {
  data: Array<number | boolean | string>;
  shape: number[];
  dtype: "float64" | "bool";
}

/** One case of fixtures/sequence.json's "recurrent" list. */
export interface RecurrentCase {
  name: string;
  cls: string;
  args: [number, number];
  options: Record<string, unknown>;
  state_dict_keys: string[];
  state_dict: Array<[string, SeqTensor]>;
  input: SeqTensor;
  h0: SeqTensor | null;
  c0: SeqTensor | null;
  output: SeqTensor;
  h_n: SeqTensor;
  c_n: SeqTensor | null;
  grad_output: SeqTensor;
  grad_h: SeqTensor;
  grad_c: SeqTensor | null;
  input_grad: SeqTensor;
  h0_grad: SeqTensor | null;
  c0_grad: SeqTensor | null;
  param_grads: Record<string, SeqTensor>;
}

/** One case of the "attention" list (scaledDotProductAttention). */
export interface AttentionCase {
  name: string;
  q: SeqTensor;
  k: SeqTensor;
  v: SeqTensor;
  options: { isCausal?: boolean; scale?: number };
  attn_mask: SeqTensor | null;
  out: SeqTensor;
  grad_output: SeqTensor;
  grads: [SeqTensor, SeqTensor, SeqTensor];
}

/** One case of the "mha" list (MultiheadAttention). */
export interface MhaCase {
  name: string;
  args: [number, number];
  options: Record<string, unknown>;
  state_dict_keys: string[];
  state_dict: Array<[string, SeqTensor]>;
  query: SeqTensor;
  key: SeqTensor | null;
  value: SeqTensor | null;
  key_padding_mask: SeqTensor | null;
  attn_mask: SeqTensor | null;
  need_weights: boolean;
  average_attn_weights: boolean;
  out: SeqTensor;
  weights: SeqTensor | null;
  grad_output: SeqTensor;
  grads: Array<SeqTensor | null>;
  param_grads: Record<string, SeqTensor>;
}

/** One case of the "transformer" list. */
export interface TransformerCase {
  name: string;
  cls: string;
  args: unknown[];
  options: Record<string, unknown>;
  state_dict_keys: string[];
  state_dict: Array<[string, SeqTensor]>;
  src: SeqTensor;
  mask: SeqTensor | null;
  src_key_padding_mask: SeqTensor | null;
  is_causal: boolean;
  final_norm: boolean;
  out: SeqTensor;
  grad_output: SeqTensor;
  input_grad: SeqTensor;
  param_grads: Record<string, SeqTensor>;
}

/** One case of the "decoder" list. */
export interface DecoderCase {
  name: string;
  cls: string;
  args: number[];
  options: Record<string, unknown>;
  final_norm: boolean;
  state_dict_keys: string[];
  state_dict: Array<[string, SeqTensor]>;
  tgt: SeqTensor;
  memory: SeqTensor;
  tgt_mask: SeqTensor | null;
  memory_mask: SeqTensor | null;
  tgt_key_padding_mask: SeqTensor | null;
  memory_key_padding_mask: SeqTensor | null;
  out: SeqTensor;
  grad_output: SeqTensor;
  tgt_grad: SeqTensor;
  memory_grad: SeqTensor;
  param_grads: Record<string, SeqTensor>;
}

/** fixtures/sequence.json. */
export interface SequenceFixture {
  torch_version: string;
  recurrent: RecurrentCase[];
  attention?: AttentionCase[];
  mha?: MhaCase[];
  transformer?: TransformerCase[];
  decoder?: DecoderCase[];
}

export const seqFixture = JSON.parse(readFileSync(new URL("../../fixtures/sequence.json", import.meta.url), "utf8")) as SequenceFixture;

/** A fixture tensor as a safegrad float64 (or bool) tensor ("-Infinity" and the like are strings in the JSON). */
export function dec(t: SeqTensor, requiresGrad = false): Tensor {
  if (t.dtype === "bool") return tensor(Uint8Array.from(t.data, (v) => (v ? 1 : 0)), { shape: t.shape, dtype: "bool" });
  const x = tensor(Float64Array.from(t.data, (v) => Number(v)), { shape: t.shape });
  if (requiresGrad) x.requiresGrad = true;
  return x;
}
