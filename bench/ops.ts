/**
 * `npm run bench -- --ops`: a per-op microbenchmark of Backend methods, called directly (no
 * autograd, no Tensor): every unary op, every binary op and the sum/max/min reductions, on float32
 * inputs of 2^10 to 2^22 elements (even powers; `--min-size` / `--max-size` bound them), each
 * contiguous and strided (a transposed view: shape [64, n/64] with strides [1, 64]), so a kernel
 * author sees where a kernel wins and where it falls back. Cells are in ns per element.
 */
import type { Backend, BinaryOp, ReduceOp, UnaryOp, View } from "../src/index.js";
import { KIT_BINARY_OPS, KIT_UNARY_OPS } from "../src/testing.js";
import { data, median } from "./common.js";

/** One cell of the microbenchmark. */
export interface OpCase {
  /** "unary exp 2^20 contiguous". */
  id: string;
  kind: "unary" | "binary" | "reduce";
  op: string;
  log2: number;
  layout: "contiguous" | "strided";
  unit: "ns/elem";
  /** Elements. */
  work: number;
}

/** The reductions timed (each over all axes). */
const REDUCE_OPS: readonly ReduceOp[] = ["sum", "max", "min"];
/** Ops timed on positive inputs (their domain). */
const POSITIVE = new Set(["log", "sqrt", "rsqrt", "pow"]);

/** The cells: every op × size (even powers of 2 from minLog to maxLog) × layout, filtered by `only` (op names). */
export function opCases(o: { minLog?: number; maxLog?: number; only?: readonly string[] } = {}): OpCase[] {
  const out: OpCase[] = [];
  const lo = o.minLog ?? 10;
  const hi = o.maxLog ?? 22;
  const want = (op: string): boolean => !o.only || o.only.includes(op);
  const kinds: [OpCase["kind"], readonly string[]][] = [
    ["unary", KIT_UNARY_OPS.filter((u) => u !== "logicalNot")],
    ["binary", KIT_BINARY_OPS],
    ["reduce", REDUCE_OPS],
  ];
  for (const [kind, ops] of kinds)
    for (const op of ops.filter(want))
      for (let log2 = lo; log2 <= hi; log2 += 2)
        for (const layout of ["contiguous", "strided"] as const) out.push({ id: `${kind} ${op} 2^${log2} ${layout}`, kind, op, log2, layout, unit: "ns/elem", work: 2 ** log2 });
  return out;
}

function view(c: OpCase, seed: number): View {
  const n = c.work;
  const storage = data(n, seed, 2);
  if (POSITIVE.has(c.op)) for (let i = 0; i < n; i++) storage[i] = Math.abs(storage[i]!) + 0.01;
  if (c.layout === "contiguous") return { storage, shape: [n], strides: [1], offset: 0, dtype: "float32" };
  // a transposed view of a contiguous [n / 64, 64] matrix
  return { storage, shape: [64, n / 64], strides: [1, 64], offset: 0, dtype: "float32" };
}

/** A runner of one cell on `b` (one call of the Backend method). */
export function prepareOp(b: Backend, c: OpCase): () => unknown {
  const x = view(c, 1);
  if (c.kind === "unary") return () => b.unary(c.op as UnaryOp, x, {});
  if (c.kind === "reduce") {
    const axes = x.shape.map((_, d) => d);
    return () => b.reduce(c.op as ReduceOp, x, axes);
  }
  const y = view(c, 2);
  const cmp = ["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"].includes(c.op);
  return () => b.binary(c.op as BinaryOp, x, y, cmp ? "bool" : "float32");
}

/** A timed cell: the median, the runs, and every timed run (for the spread). */
export interface Timed {
  ms: number | null;
  runs: number;
  times: number[];
  note?: string;
}

/**
 * Time `run` as the workloads are timed, with a shorter warm-up: up to 10 runs or 200 ms (at least
 * 2), then min(`runs`, budget / one run) timed runs (at least 1), each repeating the call for about
 * 2 ms; the median and every time, per call.
 */
export function timeRunner(run: () => unknown, runs: number, budgetMs: number): Timed {
  let once = Infinity;
  const w0 = performance.now();
  for (let w = 0; w < 10 && (w < 2 || performance.now() - w0 < 200) && (w < 1 || once * 3 < budgetMs); w++) {
    const t0 = performance.now();
    run();
    once = Math.min(once, performance.now() - t0);
  }
  // a timed run repeats the call until it lasts about 2 ms (small sizes take microseconds, below
  // the timer's resolution and the scheduler's noise): its time is per call
  const reps = Math.min(10000, Math.max(1, Math.ceil(2 / Math.max(once, 1e-4))));
  const n = Math.max(1, Math.min(runs, Math.floor(budgetMs / Math.max(once * reps, 1e-3))));
  const times: number[] = [];
  for (let r = 0; r < n; r++) {
    const t = performance.now();
    for (let k = 0; k < reps; k++) run();
    times.push((performance.now() - t) / reps);
  }
  return { ms: median(times), runs: n, times, ...(n < runs ? { note: `${n} runs` } : {}) };
}

/** Every cell on one backend. */
export function runOps(b: Backend, cases: readonly OpCase[], runs: number, budgetMs: number): ({ id: string } & Timed)[] {
  return cases.map((c) => {
    try {
      return { id: c.id, ...timeRunner(prepareOp(b, c), runs, budgetMs) };
    } catch (e) {
      return { id: c.id, ms: null, runs: 0, times: [], note: `error: ${(e as Error).message?.split("\n")[0]}` };
    }
  });
}
