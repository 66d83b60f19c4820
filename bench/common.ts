/**
 * Shared pieces of the benchmark suite: the workload cases, deterministic inputs and the
 * contract every implementation (ours, TF.js, jax-js) fulfils.
 */

export type Unit = "GFLOP/s" | "ns/elem" | "ms" | "MiB";

export interface Case {
  /** Unique id, e.g. "W1 matmul 1024". */
  readonly id: string;
  readonly workload: "W1" | "W2" | "W3" | "W4" | "W5";
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
