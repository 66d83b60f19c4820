import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { Tensor, tensor } from "../../src/index.js";
import { contiguousData } from "../../src/tensor/layout.js";
import * as nn from "../../src/layers/index.js";
import type { AnyModule } from "../../src/layers/index.js";

export interface EncTensor {
  data: number[];
  shape: number[];
  dtype: "float64" | "int64";
}

export interface ModuleSpec {
  cls: string;
  args?: unknown[];
  options?: Record<string, unknown>;
  children?: ModuleSpec[];
}

export interface ModuleStep {
  training: boolean;
  input: EncTensor;
  output: EncTensor;
  grad_output: EncTensor;
  input_grad: EncTensor | null;
  param_grads: Record<string, EncTensor>;
  buffers: Record<string, EncTensor>;
}

export interface ModuleCase {
  name: string;
  spec: ModuleSpec;
  state_dict_keys: string[];
  state_dict: Array<[string, EncTensor]>;
  steps: ModuleStep[];
}

export interface FunctionCase {
  name: string;
  fn: string;
  args: Array<EncTensor | { value: unknown }>;
  requires_grad: boolean[];
  options: Record<string, unknown>;
  tensor_options: Record<string, EncTensor>;
  out: EncTensor;
  grad_output: EncTensor | null;
  grads: Array<EncTensor | null> | null;
  kink: boolean;
}

export interface Fixture {
  torch_version: string;
  modules: ModuleCase[];
  functions: FunctionCase[];
}

export const fixture: Fixture = JSON.parse(readFileSync(new URL("../../fixtures/layers.json", import.meta.url), "utf8")) as Fixture;

/** A fixture tensor as a safegrad tensor: float64, or int32 for torch's int64. */
export function decode(t: EncTensor, requiresGrad = false): Tensor {
  const x = tensor(t.dtype === "int64" ? Int32Array.from(t.data) : Float64Array.from(t.data), { shape: t.shape });
  if (requiresGrad) x.requiresGrad = true;
  return x;
}

export function isEncTensor(v: unknown): v is EncTensor {
  return typeof v === "object" && v !== null && "data" in v && "shape" in v;
}

/** |a - e| <= rel * |e| + abs for every element, with matching shapes. */
export function expectClose(actual: Tensor | null | undefined, expected: EncTensor, what: string, rel = 1e-6, abs = 1e-10): void {
  expect(actual, `${what}: missing`).toBeTruthy();
  const a = actual!;
  expect([...a.shape], `${what}: shape`).toEqual(expected.shape);
  const data = contiguousData(a);
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i]!;
    const v = data[i]!;
    if (!(Math.abs(v - e) <= rel * Math.abs(e) + abs)) {
      throw new Error(`${what}: element ${i} is ${v}, torch gives ${e} (difference ${Math.abs(v - e)})`);
    }
  }
}

/** True when every element is a finite number. */
export function allFinite(t: Tensor | null | undefined): boolean {
  if (!t) return false;
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return false;
  return true;
}

/** The first non-finite element, for assertion messages. */
export function firstNonFinite(t: Tensor | null | undefined): string {
  if (!t) return "no tensor";
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return `element ${i} = ${d[i]}`;
  return "all finite";
}

function num(v: unknown): number {
  return v as number;
}
function pair(v: unknown): number | [number, number] {
  return Array.isArray(v) ? [num(v[0]), num(v[1])] : num(v);
}

/** Build a float64 safegrad module from a fixture spec. */
export function buildModule(spec: ModuleSpec): AnyModule {
  const a = spec.args ?? [];
  const o = { ...(spec.options ?? {}) };
  const f64 = { ...o, dtype: "float64" as const };
  switch (spec.cls) {
    case "Sequential":
      return new nn.Sequential(...(spec.children ?? []).map((c) => buildModule(c) as nn.TensorModule));
    case "Linear":
      return new nn.Linear(num(a[0]), num(a[1]), f64);
    case "Conv2d":
      return new nn.Conv2d(num(a[0]), num(a[1]), pair(a[2]), f64 as nn.Conv2dLayerOptions);
    case "MaxPool2d":
      return new nn.MaxPool2d(pair(a[0]), o);
    case "AvgPool2d":
      return new nn.AvgPool2d(pair(a[0]), o);
    case "LayerNorm":
      return new nn.LayerNorm(a[0] as number | number[], f64);
    case "RMSNorm":
      return new nn.RMSNorm(a[0] as number | number[], f64);
    case "BatchNorm1d":
      return new nn.BatchNorm1d(num(a[0]), f64);
    case "BatchNorm2d":
      return new nn.BatchNorm2d(num(a[0]), f64);
    case "Embedding":
      return new nn.Embedding(num(a[0]), num(a[1]), f64);
    case "ReLU":
      return new nn.ReLU();
    case "LeakyReLU":
      return new nn.LeakyReLU(num(a[0]));
    case "GELU":
      return new nn.GELU(o);
    case "Tanh":
      return new nn.Tanh();
    case "Sigmoid":
      return new nn.Sigmoid();
    case "Softmax":
      return new nn.Softmax(num(a[0]));
    case "LogSoftmax":
      return new nn.LogSoftmax(num(a[0]));
    case "Flatten":
      return new nn.Flatten();
    case "Identity":
      return new nn.Identity();
    default:
      throw new Error(`unknown module class ${spec.cls}`);
  }
}

/** A tensor module's forward, whatever its declared type. */
export function forward(m: AnyModule, x: Tensor): Tensor {
  return (m as unknown as nn.TensorModule).forward(x);
}
