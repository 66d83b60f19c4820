/**
 * Shared pieces of the benchmark suite: the workload cases, deterministic inputs and the
 * contract every implementation (ours, TF.js, jax-js) fulfils.
 */

export type Unit = "GFLOP/s" | "ns/elem" | "ms" | "MiB";

export interface Case {
  /** Unique id, e.g. "W1 matmul 1024". */
  readonly id: string;
  readonly workload: "W1" | "W2" | "W3" | "W4" | "W5" | "W6";
  readonly unit: Unit;
  /** FLOPs (GFLOP/s), elements (ns/elem) or 1 (ms). */
  readonly work: number;
  readonly params: Record<string, number | string>;
}

/** A prepared workload: `run` does one iteration (and waits for lazy backends). */
export type Runner = () => unknown;

export interface Impl {
  readonly name: string;
  /** Load and initialise; throws with a reason when unavailable. */
  init(threads: number): Promise<void>;
  /** Build inputs for one case; throws `NotAvailable` with a reason when the case cannot run. */
  prepare(c: Case): Promise<Runner>;
  /**
   * Optional: time a case itself (an implementation in another process, such as torch's), with
   * the harness's rule; run.ts then calls this instead of `prepare` and timing the runner.
   */
  measure?(c: Case, runs: number, budgetMs: number): Promise<Measured>;
  /** Optional: the losses of `steps` training steps from the initial weights (bench/losses.ts). */
  losses?(c: Case, steps: number): Promise<number[]>;
}

/** What {@link Impl.measure} returns: the median time, the runs it took, the process's peak RSS. */
export interface Measured {
  ms: number;
  runs: number;
  rssMiB?: number;
}

export class NotAvailable extends Error {}

export const MLP = { batch: 128, sizes: [784, 256, 256, 10] as const, lr: 1e-3 };

/** The cases, in the order they run (W4 first in each child so its peak RSS is its own). */
export function buildCases(workloads: readonly string[], quick: boolean): Case[] {
  const cases: Case[] = [];
  const want = (w: string): boolean => workloads.includes(w);
  if (want("W4")) {
    const b = MLP.batch;
    const [a, h1, h2, o] = MLP.sizes;
    cases.push({ id: "W4 MLP train step", workload: "W4", unit: "ms", work: 1, params: { batch: b, flops: 6 * b * (a * h1 + h1 * h2 + h2 * o) } });
  }
  if (want("W1")) {
    for (const n of quick ? [128, 256] : [128, 256, 512, 1024]) cases.push({ id: `W1 matmul ${n}`, workload: "W1", unit: "GFLOP/s", work: 2 * n ** 3, params: { n } });
  }
  if (want("W2")) {
    const n = 1 << 20;
    for (const op of ["add", "mul", "exp", "relu"]) cases.push({ id: `W2 ${op} 2^20`, workload: "W2", unit: "ns/elem", work: n, params: { op, n } });
  }
  if (want("W3")) {
    cases.push({ id: "W3 sum 2^20", workload: "W3", unit: "ns/elem", work: 1 << 20, params: { op: "sum", n: 1 << 20 } });
    cases.push({ id: "W3 softmax 1024x1024", workload: "W3", unit: "ns/elem", work: 1 << 20, params: { op: "softmax", n: 1024 } });
  }
  if (want("W5")) {
    const batch = quick ? 4 : 32;
    cases.push({ id: `W5 conv2d fwd+gx+gw N=${batch}`, workload: "W5", unit: "ms", work: 1, params: { batch, C: 16, H: 28, O: 32, k: 3 } });
  }
  if (want("W6")) {
    const batch = quick ? 4 : W6.batch;
    cases.push({ id: `W6 transformer step B=${batch}`, workload: "W6", unit: "ms", work: 1, params: { batch } });
  }
  return cases;
}

/** Deterministic values in [-1, 1) from a 32-bit LCG (the same inputs for every implementation). */
export function data(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2147483648 - 1) * scale;
  }
  return a;
}

/** Labels 0..9 for the MLP batch. */
export function labels(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % 10);
}

export function oneHotData(y: Int32Array, k: number): Float32Array {
  const out = new Float32Array(y.length * k);
  y.forEach((c, i) => (out[i * k + c] = 1));
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * W6: one training step (forward, backward, Adam, reading the loss) of a 2-block pre-LN causal
 * transformer language model: token ids [batch, seq] over `vocab` tokens, width d, `heads` heads,
 * a GELU (exact, erf) feed-forward block of width ff, learned positions, a final LayerNorm, a
 * linear head, mean cross-entropy over all positions; float32, no dropout.
 */
export const W6 = { batch: 32, seq: 64, vocab: 256, d: 128, heads: 4, ff: 512, layers: 2, lr: 1e-3 } as const;

/** One W6 parameter: its name (PyTorch state-dict key of the safegrad model), shape (PyTorch layout: Linear weights [out, in]) and initial values. */
export interface W6Param {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * The W6 initial weights, the same for every implementation: uniform in ±1/√fan_in for the
 * projections (as torch's Linear), ±1 for the token embedding, ±0.1 for the positions, LayerNorms
 * at weight 1 and bias 0.
 */
export function w6Params(): W6Param[] {
  const { seq, vocab: V, d, ff, layers } = W6;
  let seed = 600;
  const out: W6Param[] = [];
  const u = (name: string, shape: number[], scale: number): void => void out.push({ name, shape, data: data(shape.reduce((a, b) => a * b, 1), seed++, scale) });
  const c = (name: string, n: number, v: number): void => void out.push({ name, shape: [n], data: new Float32Array(n).fill(v) });
  u("tok.weight", [V, d], 1);
  u("pos", [seq, d], 0.1);
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layers.${l}.`;
    u(`${p}self_attn.in_proj_weight`, [3 * d, d], 1 / Math.sqrt(d));
    u(`${p}self_attn.in_proj_bias`, [3 * d], 1 / Math.sqrt(d));
    u(`${p}self_attn.out_proj.weight`, [d, d], 1 / Math.sqrt(d));
    u(`${p}self_attn.out_proj.bias`, [d], 1 / Math.sqrt(d));
    u(`${p}linear1.weight`, [ff, d], 1 / Math.sqrt(d));
    u(`${p}linear1.bias`, [ff], 1 / Math.sqrt(d));
    u(`${p}linear2.weight`, [d, ff], 1 / Math.sqrt(ff));
    u(`${p}linear2.bias`, [d], 1 / Math.sqrt(ff));
    c(`${p}norm1.weight`, d, 1);
    c(`${p}norm1.bias`, d, 0);
    c(`${p}norm2.weight`, d, 1);
    c(`${p}norm2.bias`, d, 0);
  }
  c("encoder.norm.weight", d, 1);
  c("encoder.norm.bias", d, 0);
  u("head.weight", [V, d], 1 / Math.sqrt(d));
  u("head.bias", [V], 1 / Math.sqrt(d));
  return out;
}

/**
 * The W6 batch: inputs [batch, seq] and next-token targets [batch, seq] (int32), cut from sequences
 * that follow t' = (5 t + 1 + row) mod vocab from a random start, so the model can learn them.
 */
export function w6Tokens(batch: number): { x: Int32Array; y: Int32Array } {
  const { seq, vocab } = W6;
  const x = new Int32Array(batch * seq);
  const y = new Int32Array(batch * seq);
  const start = data(batch, 599);
  for (let b = 0; b < batch; b++) {
    let t = Math.floor((start[b]! + 1) * 128) % vocab;
    for (let i = 0; i < seq; i++) {
      x[b * seq + i] = t;
      t = (5 * t + 1 + b) % vocab;
      y[b * seq + i] = t;
    }
  }
  return { x, y };
}

/** The additive causal mask [seq, seq]: 0 where key j <= query i, else -1e9 (for TF.js and jax-js, written with their ops). */
export function w6CausalAdditive(): Float32Array {
  const T = W6.seq;
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return m;
}
