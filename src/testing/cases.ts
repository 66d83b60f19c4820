/**
 * The conformance kit's cases: for every Backend method, seeded random shapes, layouts,
 * broadcasts and values (ordinary and adversarial), each with the bound its output must meet
 * against the reference backend. A case runs one method on one backend; the checker
 * (check.ts) runs it on the backend under test and on the reference and compares.
 */
import type { AdamConstants, Backend, BinaryOp, Conv2dParams, Pool2dParams, ReduceOp, UnaryOp, UnaryParams, View } from "../kernels/backend.js";
import { referenceBackend, referenceUnary } from "../kernels/reference.js";
import type { DType } from "../tensor/dtype.js";
import { contiguousStrides } from "../tensor/layout.js";
import { stridesInOrder } from "../kernels/layout.js";
import { numel } from "../tensor/shape.js";
import { DEFAULT_TOLERANCES, type CompareOptions, type KitTolerances } from "./compare.js";
import { softmaxKitFixed, softmaxKitRandom } from "./cases-softmax.js";
import { denseView, fillValues, KitRandom, LAYOUTS, randomShape, randomView, specialValues, type Layout, type ValueKind } from "./generate.js";

/** The Backend methods the kit checks, in the order of the report. */
export const KIT_METHODS = [
  "unary", "binary", "where", "copy", "assign", "reduce", "argReduce", "softmax", "gather", "scatterAdd",
  "maxPool2dIndices", "matmul", "conv2d", "conv2dInputGrad", "conv2dWeightGrad", "adamUpdate",
  "layerNorm", "layerNormBackward",
  "geluBackward",
  "maskedSoftmax", "softmaxBackward",
] as const;
/** One of {@link KIT_METHODS}. */
export type KitMethod = (typeof KIT_METHODS)[number];

/** One input of a case, by the name the Backend method gives it. */
export interface KitInput {
  /** The parameter's name ("x", "a", "index", ...). */
  name: string;
  /** The view passed. */
  view: View;
}

/** One call of one Backend method, with the bound its result must meet. */
export interface KitCase {
  /** The Backend method. */
  method: KitMethod;
  /** What varies, in words: op, dtype, layouts, parameters ("exp float32 transposed"). */
  label: string;
  /** The unary/binary/reduce op, when the method takes one. */
  op?: string;
  /** The dtype of the inputs. */
  dtype: DType;
  /** The shape of the output. */
  shape: number[];
  /** The inputs, for the report (and to replay the call). */
  inputs: KitInput[];
  /** Output element i is a function of input element i of each input (same shape): the report shows those. */
  elementwise: boolean;
  /** Run the method; null when the backend declines (a partial `unary` returning null, `adamUpdate` returning false). */
  run(b: Backend): ArrayLike<number> | null;
  /** The comparison bounds, given the reference's output. */
  compare(want: ArrayLike<number>): CompareOptions;
}

/** How many cases of each method (at `runs` = 40, the project's own count). */
const PER_RUN: Record<KitMethod, number> = {
  unary: 6, binary: 4, where: 1, copy: 1, assign: 1, reduce: 3, argReduce: 1, softmax: 2, gather: 1, scatterAdd: 1,
  maxPool2dIndices: 0.5, matmul: 2, conv2d: 1, conv2dInputGrad: 1, conv2dWeightGrad: 1, adamUpdate: 0.25,
  layerNorm: 1, layerNormBackward: 1,
  geluBackward: 0.5,
  maskedSoftmax: 1, softmaxBackward: 1,
};

/** The binary ops and what they produce ("bool": comparisons and logical ops). */
const BINARY: Partial<Record<BinaryOp, "float" | "bool">> = {
  add: "float", sub: "float", mul: "float", div: "float", pow: "float", maximum: "float", minimum: "float", atan2: "float", hypot: "float",
  eq: "bool", ne: "bool", lt: "bool", le: "bool", gt: "bool", ge: "bool", logicalAnd: "bool", logicalOr: "bool",
};
/** The binary ops the kit checks. */
export const KIT_BINARY_OPS = Object.keys(BINARY) as BinaryOp[];
/** The unary ops the kit checks: every entry of the reference's table. */
export const KIT_UNARY_OPS = Object.keys(referenceUnary) as UnaryOp[];
const REDUCE_OPS: readonly ReduceOp[] = ["sum", "max", "min"];

/** Non-default parameters for the parametrized unary ops (the defaults are checked too). */
const UNARY_PARAMS: Partial<Record<UnaryOp, UnaryParams[]>> = {
  leakyRelu: [{ alpha: 0.2 }, {}],
  softplus: [{ beta: 2, threshold: 3 }, {}],
  clamp: [{ min: -1, max: 0.5 }, { min: 0 }],
};

const FLOATS: readonly DType[] = ["float32", "float64"];

function describeLayouts(...ls: Layout[]): string {
  return ls.join("/");
}

function absView(v: View): View {
  return { ...v, storage: v.storage.map(Math.abs) };
}

function maxAbs(v: View): number {
  let m = 0;
  for (let i = 0; i < v.storage.length; i++) {
    const a = Math.abs(v.storage[i]!);
    if (a > m) m = a;
  }
  return m;
}

/** Options of {@link buildCases}. */
export interface CaseOptions {
  /** The seed of every case (default 1). */
  seed?: number;
  /** Scale of the number of random cases; the project runs 40 (default 40). */
  runs?: number;
  /** Most elements of one random view (default 3000). */
  maxElements?: number;
  /** Per-dtype tolerances (default {@link DEFAULT_TOLERANCES}). */
  tolerances?: KitTolerances;
  /** Only these methods. */
  methods?: readonly KitMethod[];
  /**
   * The unary ops and dtypes to draw random unary cases from, as "op:dtype" ("exp:float32"; default
   * every op of the reference's table in float32 and float64, and logicalNot on bool). The
   * checker passes the ones a backend does not decline, so a kernel of one op gets every case.
   */
  unary?: readonly string[];
}

/** Every "op:dtype" pair the kit's random unary cases can draw. */
export function unaryPairs(): string[] {
  return KIT_UNARY_OPS.flatMap((op) => (op === "logicalNot" ? ["logicalNot:bool"] : FLOATS.map((d) => `${op}:${d}`)));
}

/** Every case of the kit, for each method in `o.methods` (default all), from `o.seed`. */
export function buildCases(o: CaseOptions = {}): KitCase[] {
  const seed = o.seed ?? 1;
  const runs = o.runs ?? 40;
  const maxEl = o.maxElements ?? 3000;
  const tol = o.tolerances ?? DEFAULT_TOLERANCES;
  const methods = o.methods ?? KIT_METHODS;
  const out: KitCase[] = [];
  for (const m of methods) {
    // each method has its own stream, so checking one method gives the same cases as checking all
    const r = new KitRandom(seed * 1000003 + KIT_METHODS.indexOf(m) * 7919);
    const n = Math.max(1, Math.round(runs * PER_RUN[m]));
    if (m === "unary") {
      // round-robin over the op/dtype pairs, so each gets its share (and a one-op kernel all of them)
      const pairs = o.unary ?? unaryPairs();
      const keep = new Set(pairs);
      out.push(...FIXED.unary(tol).filter((c) => keep.has(`${c.op}:${c.dtype}`)));
      for (let i = 0; i < n && pairs.length; i++) {
        const [op, dtype] = pairs[i % pairs.length]!.split(":") as [UnaryOp, DType];
        out.push(randomUnary(r, tol, maxEl, Math.floor(i / pairs.length), op, dtype));
      }
      continue;
    }
    const fixed = FIXED[m](tol);
    out.push(...fixed);
    for (let i = 0; i < n; i++) {
      const c = RANDOM[m](r, tol, maxEl, i);
      if (c) out.push(c);
    }
  }
  return out;
}

const rtolOf = (t: KitTolerances, d: DType): CompareOptions => (d === "float32" ? { ...t.float32 } : d === "float64" ? { ...t.float64 } : {});

function unaryCase(x: View, op: UnaryOp, params: UnaryParams, label: string, t: KitTolerances): KitCase {
  return {
    method: "unary",
    op,
    label: `${op}${Object.keys(params).length ? JSON.stringify(params) : ""} ${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: [...x.shape],
    inputs: [{ name: "x", view: x }],
    elementwise: true,
    run: (b) => b.unary(op, x, params),
    compare: () => rtolOf(t, x.dtype),
  };
}

/**
 * A geluBackward case: g gelu'(x). Besides the dtype's rtol of the result, each element may be off
 * by rtol times twice the magnitude of gelu''s second term |x φ(x)| (tanh: |2 x u' σ(2u) σ(-2u)|)
 * times |g|: below 0, gelu'(x) = Φ(x) + x φ(x) is a sum of two terms of opposite signs that cancel
 * at its root x = -0.7518 (the bound is the sum's condition, as a dot product's is K |A| |B|).
 */
function geluBackwardCase(x: View, g: View, approximate: "none" | "tanh", label: string, t: KitTolerances): KitCase {
  return {
    method: "geluBackward",
    op: approximate,
    label: `${approximate} ${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: [...x.shape],
    inputs: [{ name: "x", view: x }, { name: "g", view: g }],
    elementwise: true,
    run: (b) => b.geluBackward(x, g, approximate),
    compare: () => {
      const o = rtolOf(t, x.dtype);
      const xs = referenceBackend.copy(x, "float64");
      const gs = referenceBackend.copy(g, "float64");
      const k = Math.sqrt(2 / Math.PI);
      const term = (v: number): number => {
        if (!Number.isFinite(v) || Math.abs(v) > 40) return 0;
        if (approximate === "none") return (Math.abs(v) * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
        const u2 = 2 * k * (v + 0.044715 * v * v * v);
        return Math.abs(2 * v * k * (1 + 3 * 0.044715 * v * v)) / (1 + Math.exp(-u2)) / (1 + Math.exp(u2));
      };
      return { ...o, bound: Array.from(xs, (v, i) => 2 * (o.rtol ?? 0) * Math.abs(gs[i]!) * term(v)) };
    },
  };
}

/** geluBackward on every pair of special values (x, g), both forms, both dtypes, an odd length. */
function geluBackwardFixed(t: KitTolerances): KitCase[] {
  const cases: KitCase[] = [];
  for (const dtype of FLOATS) {
    const vals = [...specialValues(dtype), -0.7517915246935645, -0.75, -1.4142, 6, -6, -13, 40, -40];
    const n = vals.length * vals.length + 3;
    const x = denseView(Array.from({ length: n }, (_, i) => vals[i % vals.length]!), dtype);
    const g = denseView(Array.from({ length: n }, (_, i) => vals[Math.floor(i / vals.length) % vals.length]!), dtype);
    for (const a of ["none", "tanh"] as const) cases.push(geluBackwardCase(x, g, a, "special value pairs", t));
  }
  return cases;
}

function binaryCase(a: View, b: View, op: BinaryOp, label: string, t: KitTolerances): KitCase {
  const outDtype: DType = BINARY[op] === "bool" ? "bool" : a.dtype;
  return {
    method: "binary",
    op,
    label: `${op} ${a.dtype} ${label}`,
    dtype: a.dtype,
    shape: [...a.shape],
    inputs: [{ name: "a", view: a }, { name: "b", view: b }],
    elementwise: true,
    run: (be) => be.binary(op, a, b, outDtype),
    compare: () => (outDtype === "bool" || a.dtype === "int32" ? {} : rtolOf(t, a.dtype)),
  };
}

/** Cases every run has: the adversarial values in a row (odd length for SIMD tails), each op. */
const FIXED: Record<KitMethod, (t: KitTolerances) => KitCase[]> = {
  unary: (t) => {
    const cases: KitCase[] = [];
    for (const dtype of FLOATS) {
      const vals = specialValues(dtype);
      const n = 37;
      const x = denseView(Array.from({ length: n }, (_, i) => vals[i % vals.length]!), dtype);
      for (const op of KIT_UNARY_OPS) {
        if (op === "logicalNot") continue;
        for (const p of UNARY_PARAMS[op] ?? [{}]) cases.push(unaryCase(x, op, p, "special values", t));
      }
    }
    const b = denseView(Array.from({ length: 19 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), "bool");
    cases.push(unaryCase(b, "logicalNot", {}, "contiguous", t));
    return cases;
  },
  binary: (t) => {
    const cases: KitCase[] = [];
    for (const dtype of FLOATS) {
      const vals = [NaN, -0, 0, 1, 1, Infinity, -Infinity, 2, 0.5, dtype === "float32" ? 1e-40 : 1e-310, dtype === "float32" ? 1e30 : 1e300];
      const n = vals.length * vals.length + 3;
      const a = denseView(Array.from({ length: n }, (_, i) => vals[i % vals.length]!), dtype);
      const b = denseView(Array.from({ length: n }, (_, i) => vals[Math.floor(i / vals.length) % vals.length]!), dtype);
      for (const op of KIT_BINARY_OPS) cases.push(binaryCase(a, b, op, "special value pairs", t));
    }
    return cases;
  },
  where: () => [],
  copy: () => [],
  assign: () => [],
  reduce: (t) => {
    const cases: KitCase[] = [];
    for (const dtype of FLOATS) {
      const r = new KitRandom(5);
      const x = randomView(r, [65539], dtype, "contiguous");
      for (const op of REDUCE_OPS) cases.push(reduceCase(x, op, [0], "long contiguous (2^16 + 3)", t));
      const s = randomView(r, [3, 41], dtype, "contiguous", "adversarial");
      for (const op of REDUCE_OPS) cases.push(reduceCase(s, op, [1], "special values", t));
    }
    return cases;
  },
  argReduce: () => {
    const x = denseView([1, NaN, 3, 3, -Infinity, 2, 5, 5, 5, -0, 0, -1], "float32", [3, 4]);
    return [argCase(x, "argmax", 1, "ties and NaN"), argCase(x, "argmin", 1, "ties and NaN"), argCase(x, "argmax", 0, "ties and NaN")];
  },
  softmax: (t) => {
    const rows = [
      [1, 2, 3, 4],
      [-Infinity, -Infinity, -Infinity, -Infinity],
      [-Infinity, 0, 1, -Infinity],
      [Infinity, 1, 2, 3],
      [NaN, 1, 2, 3],
      [1e30, -1e30, 0, -0],
    ];
    const cases: KitCase[] = [];
    for (const dtype of FLOATS) {
      const x = denseView(rows.flat(), dtype, [rows.length, 4]);
      for (const log of [false, true]) cases.push(softmaxCase(x, 1, log, "masked, infinite and NaN rows", t));
    }
    return cases;
  },
  gather: () => [],
  scatterAdd: () => [],
  geluBackward: (t) => geluBackwardFixed(t),
  maskedSoftmax: (t) => softmaxKitFixed("maskedSoftmax", t),
  softmaxBackward: (t) => softmaxKitFixed("softmaxBackward", t),
  maxPool2dIndices: () => {
    const x = randomView(new KitRandom(3), [2, 3, 7, 5], "float32", "narrowed");
    return [poolCase(x, { kernel: [3, 2], stride: [2, 1], padding: [1, 1], dilation: [1, 2] }, "narrowed")];
  },
  matmul: (t) => {
    const r = new KitRandom(11);
    const a = randomView(r, [257, 257], "float32", "contiguous");
    const b = randomView(r, [257, 257], "float32", "transposed");
    const cases = [matmulCase(a, b, "257x257x257 contiguous/transposed", t)];
    // batched products on the layouts of attention: heads of [batch, seq, heads, dim] storage
    // (permuted batch dims), keys transposed, weights transposed, one operand broadcast over the batch
    const heads = (B: number, T: number, H: number, D: number, keys = false): View =>
      permuted(r, [B, T, H, D], keys ? [0, 2, 3, 1] : [0, 2, 1, 3]);
    for (const [T, D] of [[8, 16], [13, 9], [12, 8]] as const) {
      cases.push(matmulCase(heads(4, T, 3, D), heads(4, T, 3, D, true), `q k^T: heads [4, ${T}, 3, ${D}] permuted, keys transposed`, t));
      cases.push(matmulCase(permuted(r, [4, 3, T, T], [0, 1, 3, 2]), heads(4, T, 3, D), `p^T v: [4, 3, ${T}, ${T}] transposed, heads [4, ${T}, 3, ${D}] permuted`, t));
      cases.push(matmulCase(permuted(r, [4, 3, T, T], [0, 1, 2, 3], "finite"), heads(4, T, 3, D), `p v: heads [4, ${T}, 3, ${D}] permuted, finite`, t));
      // matmulOrdered, where the backend has it: the result stored as [4, T, 3, D] (merged heads)
      cases.push(matmulCase(permuted(r, [4, 3, T, T], [0, 1, 2, 3], "finite"), heads(4, T, 3, D), `p v stored as [4, ${T}, 3, ${D}] (matmulOrdered)`, t, [0, 2, 1, 3]));
    }
    const wT = permuted(r, [8, 16], [1, 0]);
    cases.push(matmulCase(heads(3, 12, 2, 16), { ...wT, shape: [3, 2, 16, 8], strides: [0, 0, ...wT.strides] }, "heads @ one transposed [16, 8] broadcast over the batch", t));
    const w = permuted(r, [8, 16], [0, 1]);
    cases.push(matmulCase({ ...w, shape: [4, 8, 16], strides: [0, ...w.strides] }, permuted(r, [4, 16, 24], [0, 1, 2]), "one [8, 16] broadcast over the batch @ contiguous", t));
    return cases;
  },
  conv2d: () => [],
  conv2dInputGrad: () => [],
  conv2dWeightGrad: () => [],
  adamUpdate: () => [],
  layerNorm: (t) => layerNormFixed(t, false),
  layerNormBackward: (t) => layerNormFixed(t, true),
};

function reduceCase(x: View, op: ReduceOp, axes: number[], label: string, t: KitTolerances): KitCase {
  const shape = x.shape.map((s, d) => (axes.includes(d) ? 1 : s));
  return {
    method: "reduce",
    op,
    label: `${op} axes [${axes}] ${x.dtype} ${label}`,
    dtype: x.dtype,
    shape,
    inputs: [{ name: "x", view: x }],
    elementwise: false,
    run: (b) => b.reduce(op, x, axes),
    compare: () => {
      if (op !== "sum") return {};
      // a sum's rounding error is bounded by the sum of |x| over the lane
      const tol = rtolOf(t, x.dtype);
      const lane = referenceBackend.reduce("sum", absView(x), axes);
      return { ...tol, bound: lane.map((s) => 3 * (tol.rtol ?? 0) * s), signedZeros: false };
    },
  };
}

function argCase(x: View, op: "argmax" | "argmin", axis: number, label: string): KitCase {
  return {
    method: "argReduce",
    op,
    label: `${op} axis ${axis} ${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: x.shape.filter((_, d) => d !== axis),
    inputs: [{ name: "x", view: x }],
    elementwise: false,
    run: (b) => b.argReduce(op, x, axis),
    compare: () => ({}),
  };
}

function softmaxCase(x: View, axis: number, log: boolean, label: string, t: KitTolerances): KitCase {
  const tol = rtolOf(t, x.dtype);
  const k = 4 * (tol.rtol ?? 0);
  return {
    method: "softmax",
    op: log ? "logSoftmax" : "softmax",
    label: `${log ? "logSoftmax" : "softmax"} axis ${axis} ${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: [...x.shape],
    inputs: [{ name: "x", view: x }],
    elementwise: false,
    run: (b) => b.softmax(x, axis, log),
    compare: () => ({ rtol: k, atol: k, signedZeros: false }),
  };
}

function poolCase(x: View, p: Pool2dParams, label: string): KitCase {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const out = (n: number, i: 0 | 1): number => Math.floor((n + 2 * p.padding[i] - p.dilation[i] * (p.kernel[i] - 1) - 1) / p.stride[i]) + 1;
  return {
    method: "maxPool2dIndices",
    label: `kernel [${p.kernel}] stride [${p.stride}] padding [${p.padding}] dilation [${p.dilation}] ${label}`,
    dtype: x.dtype,
    shape: [N, C, out(H, 0), out(W, 1)],
    inputs: [{ name: "x", view: x }],
    elementwise: false,
    run: (b) => b.maxPool2dIndices(x, p),
    compare: () => ({}),
  };
}

/** A float32 view of contiguous `storageShape` storage with its dims taken in the order `perm`. */
function permuted(r: KitRandom, storageShape: readonly number[], perm: readonly number[], kind: ValueKind = "ordinary"): View {
  const st = contiguousStrides(storageShape);
  const shape = perm.map((d) => storageShape[d]!);
  return { storage: fillValues(r, "float32", numel(storageShape), kind), shape, strides: perm.map((d) => st[d]!), offset: 0, dtype: "float32" };
}

/**
 * A matmul case; with `order`, through the backend's `matmulOrdered` where it has one and takes the
 * call (read back in row-major order), else its matmul, as ops/linalg.ts calls them.
 */
function matmulCase(a: View, b: View, label: string, t: KitTolerances, order?: number[]): KitCase {
  const K = a.shape[a.shape.length - 1]!;
  const dot = a.dtype === "float32" ? t.dot32 : t.dot64;
  const shape = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]!];
  const ordered = (be: Backend): ArrayLike<number> => {
    const got = order && be.matmulOrdered?.(a, b, order);
    if (!got) return be.matmul(a, b);
    const view: View = { storage: got, shape, strides: stridesInOrder(shape, order!), offset: 0, dtype: a.dtype };
    return referenceBackend.copy(view, a.dtype);
  };
  return {
    method: "matmul",
    label: `${a.dtype} ${label}`,
    dtype: a.dtype,
    shape,
    inputs: [{ name: "a", view: a }, { name: "b", view: b }],
    elementwise: false,
    run: ordered,
    // NOTE: the float32 accumulation bound is K eps (|A| |B|)_ij per element (Higham, "Accuracy and
    // Stability of Numerical Algorithms", 3.5); a bound on K max|a| max|b| fails when all K products
    // are equal (expanded operands): the error then grows with K^2.
    compare: () => ({ bound: referenceBackend.matmul(absView(a), absView(b)).map((s) => dot * K * s + 1e-30), signedZeros: false }),
  };
}

function convCase(method: "conv2d" | "conv2dInputGrad" | "conv2dWeightGrad", x: View, w: View, gy: View, p: Conv2dParams, label: string, t: KitTolerances): KitCase {
  const dot = x.dtype === "float32" ? t.dot32 : t.dot64;
  const [N, C] = x.shape as [number, number];
  const [O, Cg, kH, kW] = w.shape as [number, number, number, number];
  const K = Cg * kH * kW;
  const Og = O / p.groups;
  const terms = method === "conv2d" ? K : method === "conv2dInputGrad" ? Og * kH * kW : numel(gy.shape) / O;
  const scale = method === "conv2d" ? maxAbs(x) * maxAbs(w) : method === "conv2dInputGrad" ? maxAbs(gy) * maxAbs(w) : maxAbs(x) * maxAbs(gy);
  const inputs = method === "conv2d" ? [{ name: "x", view: x }, { name: "w", view: w }] : method === "conv2dInputGrad" ? [{ name: "gy", view: gy }, { name: "w", view: w }] : [{ name: "x", view: x }, { name: "gy", view: gy }];
  void N;
  void C;
  return {
    method,
    label: `${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: method === "conv2d" ? [...gy.shape] : method === "conv2dInputGrad" ? [...x.shape] : [...w.shape],
    inputs,
    elementwise: false,
    run: (b) =>
      method === "conv2d" ? b.conv2d(x, w, p) : method === "conv2dInputGrad" ? b.conv2dInputGrad(gy, w, x.shape, p) : b.conv2dWeightGrad(x, gy, w.shape, p),
    compare: () => ({ atol: dot * terms * scale + 1e-30, signedZeros: false }),
  };
}

function randomUnary(r: KitRandom, t: KitTolerances, maxEl: number, k: number, op: UnaryOp, dtype: DType): KitCase {
  // layouts and value kinds cycle with the pair's own case number k
  const layout = LAYOUTS[(k + (k >> 2)) % 4]!;
  const kind: ValueKind = k % 3 === 2 ? "adversarial" : "ordinary";
  const x = randomView(r, randomShape(r, 4, maxEl), dtype, layout, kind);
  const ps = UNARY_PARAMS[op] ?? [{}];
  return unaryCase(x, op, ps[k % ps.length]!, `${layout}${kind === "ordinary" ? "" : ` ${kind}`} [${x.shape}]`, t);
}

/** Random cases: one per call, from the method's own stream of `r`. */
const RANDOM: Record<KitMethod, (r: KitRandom, t: KitTolerances, maxEl: number, i: number) => KitCase | null> = {
  maskedSoftmax: (r, t, maxEl, i) => softmaxKitRandom("maskedSoftmax", r, t, maxEl, i),
  softmaxBackward: (r, t, maxEl, i) => softmaxKitRandom("softmaxBackward", r, t, maxEl, i),
  geluBackward: (r, t, maxEl, i) => {
    const shape = randomShape(r, 4, maxEl);
    const dtype = r.pick(FLOATS);
    const ls = [LAYOUTS[i % 4]!, r.pick(LAYOUTS)] as const;
    const kind: ValueKind = i % 3 === 2 ? "adversarial" : "ordinary";
    const x = randomView(r, shape, dtype, ls[0], kind);
    const g = randomView(r, shape, dtype, ls[1], kind);
    return geluBackwardCase(x, g, i % 2 ? "tanh" : "none", `${describeLayouts(...ls)}${kind === "ordinary" ? "" : ` ${kind}`} [${shape}]`, t);
  },
  unary: (r, t, maxEl, i) => randomUnary(r, t, maxEl, i, r.pick(KIT_UNARY_OPS.filter((o) => o !== "logicalNot")), r.pick(FLOATS)),
  binary: (r, t, maxEl, i) => {
    const op = r.pick(KIT_BINARY_OPS);
    const dtype = r.pick<DType>(["float32", "float64", "int32"]);
    const shape = randomShape(r, 4, maxEl);
    const la = LAYOUTS[i % 4]!;
    const lb = r.pick(LAYOUTS);
    const kind: ValueKind = i % 3 === 2 ? "adversarial" : "ordinary";
    const a = randomView(r, shape, dtype, la, kind);
    const b = randomView(r, shape, dtype, lb, kind);
    return binaryCase(a, b, op, `${describeLayouts(la, lb)}${kind === "ordinary" ? "" : ` ${kind}`} [${shape}]`, t);
  },
  where: (r, _t, maxEl, i) => {
    const shape = randomShape(r, 4, maxEl);
    const dtype = r.pick(FLOATS);
    const ls = [LAYOUTS[i % 4]!, r.pick(LAYOUTS), r.pick(LAYOUTS)];
    const c = randomView(r, shape, "bool", ls[0]!);
    const a = randomView(r, shape, dtype, ls[1]!, "adversarial");
    const b = randomView(r, shape, dtype, ls[2]!, "adversarial");
    return {
      method: "where", label: `${dtype} ${describeLayouts(...ls)} [${shape}]`, dtype, shape, elementwise: true,
      inputs: [{ name: "cond", view: c }, { name: "a", view: a }, { name: "b", view: b }],
      run: (be) => be.where(c, a, b), compare: () => ({}),
    };
  },
  copy: (r, _t, maxEl, i) => {
    const shape = randomShape(r, 4, maxEl);
    const from = r.pick<DType>(["float32", "float64", "int32", "bool"]);
    const to = r.pick<DType>(["float32", "float64", "int32", "bool"]);
    const layout = LAYOUTS[i % 4]!;
    const x = randomView(r, shape, from, layout, from === "float32" || from === "float64" ? "adversarial" : "ordinary");
    return {
      method: "copy", op: `${from}->${to}`, label: `${from} -> ${to} ${layout} [${shape}]`, dtype: from, shape, elementwise: true,
      inputs: [{ name: "x", view: x }], run: (b) => b.copy(x, to), compare: () => ({}),
    };
  },
  assign: (r, _t, maxEl, i) => {
    const shape = randomShape(r, 4, maxEl);
    const dtype = r.pick<DType>(["float32", "float64", "int32"]);
    // the destination cannot be expanded (two elements in one place)
    const ld = (["contiguous", "transposed", "narrowed"] as const)[i % 3]!;
    const ls = r.pick(LAYOUTS);
    const dst = randomView(r, shape, dtype, ld);
    const src = randomView(r, shape, dtype, ls, dtype === "int32" ? "ordinary" : "adversarial");
    return {
      method: "assign", label: `${dtype} dst ${ld} src ${ls} [${shape}]`, dtype, shape: [dst.storage.length], elementwise: false,
      inputs: [{ name: "dst", view: dst }, { name: "src", view: src }],
      // the whole destination storage after the call, from a fresh copy of it
      run: (b) => {
        const d = { ...dst, storage: dst.storage.slice() };
        b.assign(d, src);
        return d.storage;
      },
      compare: () => ({}),
    };
  },
  reduce: (r, t, maxEl, i) => {
    const shape = randomShape(r, 4, maxEl);
    const op = REDUCE_OPS[i % 3]!;
    const dtype = r.pick(FLOATS);
    const layout = r.pick(LAYOUTS);
    const kind: ValueKind = op === "sum" ? (i % 2 ? "finite" : "ordinary") : i % 2 ? "adversarial" : "ordinary";
    const x = randomView(r, shape, dtype, layout, kind);
    const mask = r.int(16);
    const axes = shape.map((_, d) => d).filter((d) => (mask >> d) & 1);
    return reduceCase(x, op, axes, `${layout}${kind === "ordinary" ? "" : ` ${kind}`} [${shape}]`, t);
  },
  argReduce: (r, _t, maxEl) => {
    const shape = randomShape(r, 3, Math.min(maxEl, 2000));
    if (!shape.length || numel(shape) === 0) return null;
    const x = randomView(r, shape, "float32", r.pick(LAYOUTS), r.int(2) ? "adversarial" : "ordinary");
    const axis = r.int(shape.length);
    return argCase(x, r.int(2) ? "argmax" : "argmin", axis, `[${shape}]`);
  },
  softmax: (r, t, maxEl, i) => {
    const shape = randomShape(r, 4, maxEl);
    if (!shape.length) return null;
    const layout = r.pick(LAYOUTS);
    const x = randomView(r, shape, r.pick(FLOATS), layout, i % 4 === 3 ? "finite" : "ordinary");
    return softmaxCase(x, r.int(shape.length), r.int(2) === 1, `${layout} [${shape}]`, t);
  },
  gather: (r, _t, maxEl) => {
    const shape = randomShape(r, 3, Math.min(maxEl, 2000));
    if (!shape.length || numel(shape) === 0) return null;
    const dim = r.int(shape.length);
    const x = randomView(r, shape, r.pick(FLOATS), r.pick(LAYOUTS), "adversarial");
    const index = indexView(r, shape.map((s, d) => (d === dim ? 1 + r.int(4) : Math.max(1, s - r.int(2)))), shape[dim]!);
    return {
      method: "gather", label: `dim ${dim} ${x.dtype} [${shape}] index [${index.shape}]`, dtype: x.dtype, shape: [...index.shape], elementwise: false,
      inputs: [{ name: "x", view: x }, { name: "index", view: index }], run: (b) => b.gather(x, dim, index), compare: () => ({}),
    };
  },
  scatterAdd: (r, t, maxEl) => {
    const shape = randomShape(r, 3, Math.min(maxEl, 2000));
    if (!shape.length || numel(shape) === 0) return null;
    const dim = r.int(shape.length);
    const dtype = r.pick(FLOATS);
    const base = randomView(r, shape, dtype, r.pick(LAYOUTS));
    const idxShape = shape.map((s, d) => (d === dim ? 1 + r.int(4) : Math.max(1, s - r.int(2))));
    const index = indexView(r, idxShape, shape[dim]!);
    const src = randomView(r, idxShape, dtype, r.pick(LAYOUTS));
    const tol = rtolOf(t, dtype);
    return {
      method: "scatterAdd", label: `dim ${dim} ${dtype} [${shape}] index [${idxShape}]`, dtype, shape: [...shape], elementwise: false,
      inputs: [{ name: "base", view: base }, { name: "index", view: index }, { name: "src", view: src }],
      run: (b) => b.scatterAdd(base, dim, index, src),
      compare: () => ({ rtol: 4 * (tol.rtol ?? 0), atol: 32 * (tol.rtol ?? 0), signedZeros: false }),
    };
  },
  maxPool2dIndices: (r) => {
    const k: [number, number] = [1 + r.int(3), 1 + r.int(3)];
    const pad: [number, number] = [r.int(Math.floor(k[0] / 2) + 1), r.int(Math.floor(k[1] / 2) + 1)];
    const p: Pool2dParams = { kernel: k, stride: [1 + r.int(2), 1 + r.int(2)], padding: pad, dilation: [1 + r.int(2), 1] };
    const H = p.dilation[0] * (k[0] - 1) + 1 + r.int(6);
    const W = k[1] + r.int(6);
    const layout = r.pick(LAYOUTS);
    const x = randomView(r, [1 + r.int(2), 1 + r.int(3), H, W], "float32", layout, r.int(2) ? "adversarial" : "ordinary");
    return poolCase(x, p, layout);
  },
  matmul: (r, t, _maxEl, i) => {
    const dims = [1, 2, 3, 4, 5, 7, 8, 13, 17, 1, 2, 3, 5, 31, 64, 67, 257];
    let batch = Array.from({ length: r.int(3) }, () => 1 + r.int(3));
    let M = r.pick(dims);
    const K = r.pick(dims);
    const N = r.pick(dims);
    while (numel(batch) * M * K * N > 1 << 21) {
      if (batch.length) batch = batch.slice(1);
      else M = Math.max(1, M >> 1);
    }
    const dtype = r.pick(FLOATS);
    const la = LAYOUTS[i % 4]!;
    const lb = r.pick(LAYOUTS);
    const kind: ValueKind = i % 3 === 2 ? "finite" : "ordinary";
    const a = randomView(r, [...batch, M, K], dtype, la, kind);
    const b = randomView(r, [...batch, K, N], dtype, lb, kind);
    return matmulCase(a, b, `[${batch}] ${M}x${K}x${N} ${describeLayouts(la, lb)}${kind === "ordinary" ? "" : ` ${kind}`}`, t);
  },
  conv2d: (r, t) => randomConv(r, t, "conv2d"),
  conv2dInputGrad: (r, t) => randomConv(r, t, "conv2dInputGrad"),
  conv2dWeightGrad: (r, t) => randomConv(r, t, "conv2dWeightGrad"),
  layerNorm: (r, t, maxEl, i) => randomLayerNorm(r, t, maxEl, i, false),
  layerNormBackward: (r, t, maxEl, i) => randomLayerNorm(r, t, maxEl, i, true),
  adamUpdate: (r) => {
    const n = r.pick([1, 3, 4, 7, 16, 33, 257, 1000]);
    const dtype = r.pick(FLOATS);
    const step = 1 + r.int(20);
    const beta1 = 0.9;
    const beta2 = 0.999;
    const lr = r.pick([1e-3, 0.1]);
    const decay = r.int(2) ? 1 : 1 - lr * 0.01;
    const c: AdamConstants = { beta1, beta2, bias2Sqrt: Math.sqrt(1 - beta2 ** step), eps: 1e-8, negStep: -lr / (1 - beta1 ** step), decay, sign: r.int(4) ? 1 : -1 };
    const param = fillValues(r, dtype, n);
    const grad = fillValues(r, dtype, n);
    const m = fillValues(r, dtype, n).map((x) => x * 0.1);
    const v = fillValues(r, dtype, n).map((x) => x * x * 0.01);
    const view = (a: typeof param): View => ({ storage: a, shape: [n], strides: [1], offset: 0, dtype });
    return {
      method: "adamUpdate", label: `${dtype} n ${n} step ${step} lr ${lr} decay ${decay} sign ${c.sign}`, dtype, shape: [3 * n], elementwise: false,
      inputs: [{ name: "param", view: view(param) }, { name: "grad", view: view(grad) }, { name: "m", view: view(m) }, { name: "v", view: view(v) }],
      run: (b) => {
        const [p2, m2, v2] = [param.slice(), m.slice(), v.slice()];
        const ok = b === referenceBackend ? (adamLoop(p2, grad, m2, v2, c), true) : b.adamUpdate?.(p2, grad.slice(), m2, v2, c);
        if (!ok) return null;
        const out = new Float64Array(3 * n);
        out.set(p2, 0);
        out.set(m2, n);
        out.set(v2, 2 * n);
        return out;
      },
      // the fused kernel may run in float32 arithmetic
      compare: () => ({ rtol: 2e-5, atol: 2e-6, signedZeros: false }),
    };
  },
};

/** The optimizer's own loop (optim/adam.ts without AMSGrad or L2), the reference for `adamUpdate`. */
function adamLoop(param: ArrayLike<number> & { [i: number]: number }, grad: ArrayLike<number>, m: { [i: number]: number }, v: { [i: number]: number }, c: AdamConstants): void {
  for (let i = 0; i < param.length; i++) {
    const p = param[i]! * c.decay;
    const g = c.sign < 0 ? -grad[i]! : grad[i]!;
    m[i] = m[i]! * c.beta1 + (1 - c.beta1) * g;
    v[i] = v[i]! * c.beta2 + (1 - c.beta2) * g * g;
    const denom = Math.sqrt(v[i]!) / c.bias2Sqrt + c.eps;
    param[i] = p + c.negStep * (denom === 0 ? 0 : m[i]! / denom);
  }
}

function indexView(r: KitRandom, shape: number[], high: number): View {
  const storage = new Int32Array(numel(shape));
  for (let i = 0; i < storage.length; i++) storage[i] = r.int(high);
  return { storage, shape, strides: contiguousStrides(shape), offset: 0, dtype: "int32" };
}

function randomConv(r: KitRandom, t: KitTolerances, method: "conv2d" | "conv2dInputGrad" | "conv2dWeightGrad"): KitCase | null {
  const groups = r.pick([1, 1, 2]);
  const Cg = 1 + r.int(3);
  const Og = 1 + r.int(5);
  const N = 1 + r.int(3);
  const H = 1 + r.int(9);
  const W = 1 + r.int(11);
  const kH = 1 + r.int(3);
  const kW = 1 + r.int(3);
  const p: Conv2dParams = { stride: [1 + r.int(2), 1 + r.int(3)], padding: [r.int(3), r.int(3)], dilation: [1 + r.int(2), 1 + r.int(2)], groups };
  if (H + 2 * p.padding[0] < p.dilation[0] * (kH - 1) + 1 || W + 2 * p.padding[1] < p.dilation[1] * (kW - 1) + 1) return null;
  const Ho = Math.floor((H + 2 * p.padding[0] - p.dilation[0] * (kH - 1) - 1) / p.stride[0]) + 1;
  const Wo = Math.floor((W + 2 * p.padding[1] - p.dilation[1] * (kW - 1) - 1) / p.stride[1]) + 1;
  const dtype = r.pick(FLOATS);
  const lx = r.pick(LAYOUTS);
  const lw = r.pick(LAYOUTS);
  const kind: ValueKind = r.int(3) === 2 ? "finite" : "ordinary";
  const x = randomView(r, [N, Cg * groups, H, W], dtype, lx, kind);
  const w = randomView(r, [Og * groups, Cg, kH, kW], dtype, lw, kind);
  const gy = randomView(r, [N, Og * groups, Ho, Wo], dtype, lx, kind);
  const label = `x [${x.shape}] w [${w.shape}] stride [${p.stride}] padding [${p.padding}] dilation [${p.dilation}] groups ${groups} ${describeLayouts(lx, lw)}${kind === "ordinary" ? "" : ` ${kind}`}`;
  return convCase(method, x, w, gy, p, label, t);
}

/**
 * layerNorm / layerNormBackward on x read as rows of its last `n` elements, with or without weight
 * and bias. The backward's output is dx, dweight and dbias one after the other. The bound of each
 * element is relative to the largest |value| of its part (a standardised value near 0 is the
 * difference of two rounded numbers).
 */
function layerNormCase(x: View, w: View | null, b: View | null, g: View, n: number, eps: number, backward: boolean, label: string, t: KitTolerances): KitCase {
  const k = 8 * (rtolOf(t, x.dtype).rtol ?? 0);
  const total = numel(x.shape);
  const inputs = [{ name: "x", view: x }, ...(w ? [{ name: "weight", view: w }] : []), ...(b && !backward ? [{ name: "bias", view: b }] : []), ...(backward ? [{ name: "g", view: g }] : [])];
  return {
    method: backward ? "layerNormBackward" : "layerNorm",
    label: `${x.dtype} n ${n} eps ${eps}${w ? " weight" : ""}${b && !backward ? " bias" : ""} ${label}`,
    dtype: x.dtype,
    shape: backward ? [total + 2 * n] : [...x.shape],
    inputs,
    elementwise: false,
    run: (be) => {
      if (!backward) return be.layerNorm(x, w, b, n, eps);
      const [dx, dw, db] = be.layerNormBackward(x, w, g, n, eps);
      const out = new Float64Array(total + 2 * n);
      out.set(dx, 0);
      out.set(dw, total);
      out.set(db, total + n);
      return out;
    },
    compare: (want) => {
      const parts = backward ? [[0, total], [total, total + n], [total + n, total + 2 * n]] : [[0, total]];
      const bound = new Float64Array(want.length);
      for (const [lo, hi] of parts) {
        // per row of n for x-shaped parts: a row's scale is its own
        const step = hi! - lo! === total ? n : hi! - lo!;
        for (let r0 = lo!; r0 < hi!; r0 += step) {
          let m = 0;
          for (let j = r0; j < r0 + step; j++) if (Number.isFinite(want[j]!)) m = Math.max(m, Math.abs(want[j]!));
          for (let j = r0; j < r0 + step; j++) bound[j] = k * m * (backward ? n : 1);
        }
      }
      return { rtol: k, bound, signedZeros: false };
    },
  };
}

/** Rows that standardise to exactly 0 (constants of every magnitude), rows that would overflow, NaN and infinite rows. */
function layerNormFixed(t: KitTolerances, backward: boolean): KitCase[] {
  const cases: KitCase[] = [];
  for (const dtype of FLOATS) {
    const huge = dtype === "float32" ? 3e38 : 1e300;
    const sub = dtype === "float32" ? 1e-40 : 5e-324;
    const n = 5;
    const rows = [
      [0, 0, 0, 0, 0],
      [-0, -0, -0, -0, -0],
      [sub, sub, sub, sub, sub],
      [1e30, 1e30, 1e30, 1e30, 1e30],
      [huge, huge, huge, huge, huge],
      [-huge, -huge, -huge, -huge, -huge],
      [huge, -huge, 0, 1, huge / 2],
      [dtype === "float32" ? 1e38 : 1e308, dtype === "float32" ? -1e38 : -1e308, 1e-30, sub, -sub],
      [1e8 + 1, 1e8 + 2, 1e8 + 3, 1e8 + 4, 1e8 + 5],
      [1, 2, 3, 4, 5],
      [0.5, -0.25, 3, -7, 2],
      [NaN, 1, 2, 3, 4],
      [Infinity, 1, 2, 3, 4],
    ];
    const x = denseView(rows.flat(), dtype, [rows.length, n]);
    const r = new KitRandom(17);
    const w = randomView(r, [n], dtype, "contiguous");
    const b = randomView(r, [n], dtype, "contiguous");
    const g = randomView(r, [rows.length, n], dtype, "contiguous");
    for (const eps of [1e-5, 1e-12]) {
      cases.push(layerNormCase(x, null, null, g, n, eps, backward, "adversarial rows", t));
      cases.push(layerNormCase(x, w, b, g, n, eps, backward, "adversarial rows", t));
    }
    // the same rows 8 wide, 4 times over (416 elements: a SIMD backend's row kernel runs them)
    const rows8 = Array.from({ length: 4 }, () => rows.map((row) => [...row, ...row.slice(0, 3)])).flat();
    const x8 = denseView(rows8.flat(), dtype, [rows8.length, 8]);
    const w8 = randomView(r, [8], dtype, "contiguous");
    const b8 = randomView(r, [8], dtype, "contiguous");
    const g8 = randomView(r, [rows8.length, 8], dtype, "contiguous");
    cases.push(layerNormCase(x8, null, null, g8, 8, 1e-5, backward, "adversarial rows, 8 wide", t));
    cases.push(layerNormCase(x8, w8, b8, g8, 8, 1e-5, backward, "adversarial rows, 8 wide", t));
  }
  return cases;
}

function randomLayerNorm(r: KitRandom, t: KitTolerances, maxEl: number, i: number, backward: boolean): KitCase | null {
  const shape = randomShape(r, 4, maxEl);
  if (!shape.length || numel(shape) === 0) return null;
  const k = 1 + r.int(shape.length);
  const nshape = shape.slice(shape.length - k);
  const n = numel(nshape);
  const dtype = r.pick(FLOATS);
  const layout = LAYOUTS[i % 4]!;
  const kind: ValueKind = i % 3 === 2 ? "finite" : "ordinary";
  const x = randomView(r, shape, dtype, layout, kind);
  const affine = r.int(3);
  const w = affine ? randomView(r, nshape, dtype, r.pick(LAYOUTS)) : null;
  const b = affine === 2 ? randomView(r, nshape, dtype, r.pick(LAYOUTS)) : null;
  const g = randomView(r, shape, dtype, r.pick(LAYOUTS));
  return layerNormCase(x, w, b, g, n, r.pick([1e-5, 1e-3, 0.5]), backward, `${layout}${kind === "ordinary" ? "" : ` ${kind}`} [${shape}]`, t);
}
