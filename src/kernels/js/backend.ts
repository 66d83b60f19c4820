/**
 * "js-fast": the pure-JS fast backend. Same results as the reference backend (within float
 * rounding), but: layouts are coalesced into runs (see runs.ts) so every hot loop is a plain
 * strided `for` loop chosen by a `switch` outside it (no per-element closures), matmul and conv go
 * through a packed, register-blocked GEMM (gemm.ts, gemm-ops.ts), and reductions accumulate run
 * by run. This is what runs where WebAssembly SIMD does not.
 *
 * Rare ops (argmax/argmin, max-pool indices) are not implemented here:
 * `completeBackend` fills them in from the reference.
 */
import { allocArray, toDtype, type DType, type TypedArray } from "../../tensor/dtype.js";
import { numel } from "../../tensor/shape.js";
import { contiguousStrides } from "../../tensor/layout.js";
import { UNARY_DEFAULTS, type Backend, type BinaryOp, type ReduceOp, type UnaryOp, type UnaryParams, type View } from "../backend.js";
import { completeBackend } from "../registry.js";
import { gemmJs, type Gemm } from "./gemm.js";
import { conv2dInputGradVia, conv2dVia, conv2dWeightGradVia, matmulOrderedVia, matmulVia } from "./gemm-ops.js";
import { erf, erfFloat32, sigmoid } from "./math.js";
import { planRuns, type RunPlan } from "./runs.js";
import { softmaxMethods } from "./softmax.js";
import { geluBackwardJs, geluRun } from "./gelu.js";
import { layerNormBackwardJs, layerNormJs } from "./norm.js";

/**
 * O[oi + i] = op(X[xi + i * xs]) for i < n. One loop per op, selected once per run. False for an
 * op without a loop here (it then runs on the reference).
 */
export function unaryRun(op: UnaryOp, p: UnaryParams, X: TypedArray, xi: number, xs: number, O: TypedArray, oi: number, n: number): boolean {
  const end = oi + n;
  switch (op) {
    case "neg": for (; oi < end; oi++, xi += xs) O[oi] = -X[xi]!; return true;
    case "abs": for (; oi < end; oi++, xi += xs) O[oi] = Math.abs(X[xi]!); return true;
    case "sign": for (; oi < end; oi++, xi += xs) { const x = X[xi]!; O[oi] = x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN; } return true;
    case "exp": for (; oi < end; oi++, xi += xs) O[oi] = Math.exp(X[xi]!); return true;
    case "log": for (; oi < end; oi++, xi += xs) O[oi] = Math.log(X[xi]!); return true;
    case "log1p": for (; oi < end; oi++, xi += xs) O[oi] = Math.log1p(X[xi]!); return true;
    case "expm1": for (; oi < end; oi++, xi += xs) O[oi] = Math.expm1(X[xi]!); return true;
    case "sqrt": for (; oi < end; oi++, xi += xs) O[oi] = Math.sqrt(X[xi]!); return true;
    case "rsqrt": for (; oi < end; oi++, xi += xs) O[oi] = 1 / Math.sqrt(X[xi]!); return true;
    case "square": for (; oi < end; oi++, xi += xs) { const x = X[xi]!; O[oi] = x * x; } return true;
    case "sin": for (; oi < end; oi++, xi += xs) O[oi] = Math.sin(X[xi]!); return true;
    case "cos": for (; oi < end; oi++, xi += xs) O[oi] = Math.cos(X[xi]!); return true;
    case "tanh": for (; oi < end; oi++, xi += xs) O[oi] = Math.tanh(X[xi]!); return true;
    case "atan": for (; oi < end; oi++, xi += xs) O[oi] = Math.atan(X[xi]!); return true;
    case "acos": for (; oi < end; oi++, xi += xs) O[oi] = Math.acos(X[xi]!); return true;
    case "asin": for (; oi < end; oi++, xi += xs) O[oi] = Math.asin(X[xi]!); return true;
    case "sigmoid": for (; oi < end; oi++, xi += xs) O[oi] = sigmoid(X[xi]!); return true;
    // NOTE: the reference's formula, min(x, 0) - log1p(e^-|x|): no overflow at either end.
    case "logSigmoid": for (; oi < end; oi++, xi += xs) { const x = X[xi]!; O[oi] = Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))); } return true;
    // NOTE: relu(NaN) = NaN and relu(-0) = +0, as the reference.
    case "relu": for (; oi < end; oi++, xi += xs) { const x = X[xi]!; O[oi] = x > 0 ? x : x === x ? 0 : NaN; } return true;
    case "erf":
      // NOTE: a float32 result needs only the float32 approximation (about 10x faster than the series)
      if (O instanceof Float32Array) for (; oi < end; oi++, xi += xs) O[oi] = erfFloat32(X[xi]!);
      else for (; oi < end; oi++, xi += xs) O[oi] = erf(X[xi]!);
      return true;
    case "leakyRelu": {
      const a = p.alpha ?? UNARY_DEFAULTS.alpha;
      for (; oi < end; oi++, xi += xs) { const x = X[xi]!; O[oi] = x > 0 ? x : x * a; }
      return true;
    }
    case "softplus": {
      const beta = p.beta ?? UNARY_DEFAULTS.beta;
      const th = p.threshold ?? UNARY_DEFAULTS.threshold;
      for (; oi < end; oi++, xi += xs) { const x = X[xi]!; O[oi] = x * beta > th ? x : Math.log1p(Math.exp(x * beta)) / beta; }
      return true;
    }
    case "clamp": {
      const lo = p.min ?? -Infinity;
      const hi = p.max ?? Infinity;
      for (; oi < end; oi++, xi += xs) O[oi] = Math.min(Math.max(X[xi]!, lo), hi);
      return true;
    }
    case "logicalNot": for (; oi < end; oi++, xi += xs) O[oi] = X[xi] ? 0 : 1; return true;
    case "gelu": case "geluTanh": geluRun(op === "geluTanh", X, xi, xs, O, oi, n); return true;
    default: return false;
  }
}

/** O[oi + i] = op(A[ai + i * as], B[bi + i * bs]) for i < n. */
export function binaryRun(op: BinaryOp, A: TypedArray, ai: number, as: number, B: TypedArray, bi: number, bs: number, O: TypedArray, oi: number, n: number): void {
  const end = oi + n;
  switch (op) {
    case "add": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! + B[bi]!; return;
    case "sub": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! - B[bi]!; return;
    case "mul": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! * B[bi]!; return;
    case "div": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! / B[bi]!; return;
    case "pow": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = Math.pow(A[ai]!, B[bi]!); return;
    case "maximum": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = Math.max(A[ai]!, B[bi]!); return;
    case "minimum": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = Math.min(A[ai]!, B[bi]!); return;
    case "atan2": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = Math.atan2(A[ai]!, B[bi]!); return;
    case "hypot": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = Math.hypot(A[ai]!, B[bi]!); return;
    case "eq": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! === B[bi]! ? 1 : 0; return;
    case "ne": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! !== B[bi]! ? 1 : 0; return;
    case "lt": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! < B[bi]! ? 1 : 0; return;
    case "le": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! <= B[bi]! ? 1 : 0; return;
    case "gt": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! > B[bi]! ? 1 : 0; return;
    case "ge": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! >= B[bi]! ? 1 : 0; return;
    case "logicalAnd": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! && B[bi]! ? 1 : 0; return;
    case "logicalOr": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! || B[bi]! ? 1 : 0; return;
  }
}

// NOTE: an empty view needs no special case in the strided kernels below: planRuns gives it no
// work (its outer or inner count is 0).

/** Elementwise unary through runs; `runFn` lets other backends swap in their contiguous kernels. */
export function unaryStrided(op: UnaryOp, x: View, params: UnaryParams = {}): TypedArray | null {
  const out = allocArray(op === "logicalNot" ? "bool" : x.dtype, numel(x.shape));
  const plan = planRuns(x.shape, [x]);
  const bx = plan.base[0]!;
  const sx = plan.step[0]!;
  if (!unaryRun(op, params, x.storage, plan.outer ? bx[0]! : 0, sx, out, 0, plan.outer ? plan.inner : 0)) return null;
  for (let r = 1, o = plan.inner; r < plan.outer; r++, o += plan.inner) unaryRun(op, params, x.storage, bx[r]!, sx, out, o, plan.inner);
  return out;
}

/**
 * The float32 arithmetic of {@link binaryRun} in a function of its own, so its element accesses see
 * Float32Array only (binaryRun, shared by every dtype, is megamorphic), with the broadcast operand
 * of a run (step 0: a per-row statistic, a scalar) read once. False for other ops.
 */
function binaryRunF32(op: BinaryOp, A: Float32Array, ai: number, as: number, B: Float32Array, bi: number, bs: number, O: Float32Array, oi: number, n: number): boolean {
  const end = oi + n;
  if (bs === 0) {
    const b = B[bi]!;
    switch (op) {
      case "add": for (; oi < end; oi++, ai += as) O[oi] = A[ai]! + b; return true;
      case "sub": for (; oi < end; oi++, ai += as) O[oi] = A[ai]! - b; return true;
      case "mul": for (; oi < end; oi++, ai += as) O[oi] = A[ai]! * b; return true;
      case "div": for (; oi < end; oi++, ai += as) O[oi] = A[ai]! / b; return true;
      default: return false;
    }
  }
  switch (op) {
    case "add": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! + B[bi]!; return true;
    case "sub": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! - B[bi]!; return true;
    case "mul": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! * B[bi]!; return true;
    case "div": for (; oi < end; oi++, ai += as, bi += bs) O[oi] = A[ai]! / B[bi]!; return true;
    default: return false;
  }
}

export function binaryStrided(op: BinaryOp, a: View, b: View, outDtype: DType): TypedArray {
  const out = allocArray(outDtype, numel(a.shape));
  const plan = planRuns(a.shape, [a, b]);
  const ba = plan.base[0]!;
  const bb = plan.base[1]!;
  const [sa, sb] = plan.step as [number, number];
  const A = a.storage;
  const B = b.storage;
  if (A instanceof Float32Array && B instanceof Float32Array && out instanceof Float32Array && (op === "add" || op === "sub" || op === "mul" || op === "div")) {
    for (let r = 0, o = 0; r < plan.outer; r++, o += plan.inner) binaryRunF32(op, A, ba[r]!, sa, B, bb[r]!, sb, out, o, plan.inner);
    return out;
  }
  for (let r = 0, o = 0; r < plan.outer; r++, o += plan.inner) binaryRun(op, A, ba[r]!, sa, B, bb[r]!, sb, out, o, plan.inner);
  return out;
}

/** Strided copy with dtype conversion (bool: nonzero -> 1, as the reference). */
export function copyStrided(x: View, dtype: DType): TypedArray {
  const n = numel(x.shape);
  const out = allocArray(dtype, n);
  const plan = planRuns(x.shape, [x]);
  const S = x.storage;
  const bx = plan.base[0]!;
  const sx = plan.step[0]!;
  const inner = plan.inner;
  const toBool = dtype === "bool";
  for (let r = 0, o = 0; r < plan.outer; r++, o += inner) {
    let xi = bx[r]!;
    if (!toBool && sx === 1) out.set(S.subarray(xi, xi + inner), o);
    else if (toBool) for (let i = 0; i < inner; i++, xi += sx) out[o + i] = S[xi] !== 0 ? 1 : 0;
    else for (let i = 0; i < inner; i++, xi += sx) out[o + i] = S[xi]!;
  }
  return out;
}

/** Reduce by runs: the output is walked as a second view with stride 0 on the reduced axes. */
export function reduceStrided(op: ReduceOp, x: View, axes: readonly number[]): TypedArray {
  // float64 accumulators, one per output element, and the strides that take x's index to its slot
  const outShape = x.shape.map((s, d) => (axes.includes(d) ? 1 : s));
  const acc = new Float64Array(numel(outShape)).fill(op === "sum" ? 0 : op === "max" ? -Infinity : Infinity);
  const outStrides = contiguousStrides(outShape).map((s, d) => (axes.includes(d) ? 0 : s));
  const plan = planRuns(x.shape, [x, { strides: outStrides, offset: 0 }]);
  const bx = plan.base[0]!;
  const bo = plan.base[1]!;
  const [sx, so] = plan.step as [number, number];
  const S = x.storage;
  const n = plan.inner;
  for (let r = 0; r < plan.outer; r++) {
    let xi = bx[r]!;
    const o0 = bo[r]!;
    if (so === 0) {
      // the run is reduced into one output element
      let s = acc[o0]!;
      if (op === "sum") {
        // NOTE: two accumulators halve the add latency chain; still float64, as the reference.
        let s1 = 0;
        let i = 0;
        for (; i + 1 < n; i += 2, xi += 2 * sx) {
          s += S[xi]!;
          s1 += S[xi + sx]!;
        }
        if (i < n) s += S[xi]!;
        s += s1;
      } else if (op === "max") {
        for (let i = 0; i < n; i++, xi += sx) { const v = S[xi]!; if (v > s || v !== v) s = v; }
      } else {
        for (let i = 0; i < n; i++, xi += sx) { const v = S[xi]!; if (v < s || v !== v) s = v; }
      }
      // NOTE: once NaN, `v > NaN` and `v !== v` are false for numbers, so NaN stays (as the reference).
      acc[o0] = s;
    } else {
      let o = o0;
      if (op === "sum") for (let i = 0; i < n; i++, xi += sx, o += so) acc[o] = acc[o]! + S[xi]!;
      else if (op === "max") for (let i = 0; i < n; i++, xi += sx, o += so) { const v = S[xi]!; const c = acc[o]!; if (v > c || v !== v) acc[o] = v; }
      else for (let i = 0; i < n; i++, xi += sx, o += so) { const v = S[xi]!; const c = acc[o]!; if (v < c || v !== v) acc[o] = v; }
    }
  }
  return toDtype(acc, x.dtype);
}

/**
 * where over float32 values and a bool condition, in a function of its own (monomorphic element
 * accesses), with a run's broadcast condition (step 0: a per-row mask) read once per run.
 */
function whereF32(plan: RunPlan, C: Uint8Array, A: Float32Array, B: Float32Array, out: Float32Array): void {
  const [sc, sa, sb] = plan.step as [number, number, number];
  const n = plan.inner;
  for (let r = 0, o = 0; r < plan.outer; r++) {
    let ci = plan.base[0]![r]!;
    let ai = plan.base[1]![r]!;
    let bi = plan.base[2]![r]!;
    const end = o + n;
    if (sc === 0) {
      if (C[ci]) for (; o < end; o++, ai += sa) out[o] = A[ai]!;
      else for (; o < end; o++, bi += sb) out[o] = B[bi]!;
    } else for (; o < end; o++, ci += sc, ai += sa, bi += sb) out[o] = C[ci] ? A[ai]! : B[bi]!;
  }
}

export function whereStrided(cond: View, a: View, b: View): TypedArray {
  const out = allocArray(a.dtype, numel(a.shape));
  const plan = planRuns(a.shape, [cond, a, b]);
  const [sc, sa, sb] = plan.step as [number, number, number];
  const C = cond.storage;
  const A = a.storage;
  const B = b.storage;
  if (C instanceof Uint8Array && A instanceof Float32Array && B instanceof Float32Array && out instanceof Float32Array) {
    whereF32(plan, C, A, B, out);
    return out;
  }
  for (let r = 0, o = 0; r < plan.outer; r++) {
    let ci = plan.base[0]![r]!;
    let ai = plan.base[1]![r]!;
    let bi = plan.base[2]![r]!;
    for (let i = 0; i < plan.inner; i++, o++, ci += sc, ai += sa, bi += sb) out[o] = C[ci] ? A[ai]! : B[bi]!;
  }
  return out;
}

export function assignStrided(dst: View, src: View): void {
  const plan = planRuns(dst.shape, [dst, src]);
  const [sd, ss] = plan.step as [number, number];
  const D = dst.storage;
  const S = src.storage;
  for (let r = 0; r < plan.outer; r++) {
    let di = plan.base[0]![r]!;
    let si = plan.base[1]![r]!;
    if (sd === 1 && ss === 1 && D.constructor === S.constructor) D.set(S.subarray(si, si + plan.inner), di);
    else for (let i = 0; i < plan.inner; i++, di += sd, si += ss) D[di] = S[si]!;
  }
}

/**
 * gather by runs of the index's layout (the reference computes three offset tables per call): x's
 * storage position of each index position with the gathered dim at 0, plus index * its stride.
 */
export function gatherStrided(x: View, dim: number, index: View): TypedArray {
  const out = allocArray(x.dtype, numel(index.shape));
  const plan = planRuns(index.shape, [index, { strides: x.strides.map((s, d) => (d === dim ? 0 : s)), offset: x.offset }]);
  const [si, sx] = plan.step as [number, number];
  const sd = x.strides[dim]!;
  const X = x.storage;
  const I = index.storage;
  const n = plan.inner;
  for (let r = 0, o = 0; r < plan.outer; r++) {
    let ii = plan.base[0]![r]!;
    let xi = plan.base[1]![r]!;
    const end = o + n;
    if (si === 0) {
      // one index for the whole run (an index expanded along the other dims, as embedding's)
      xi += I[ii]! * sd;
      for (; o < end; o++, xi += sx) out[o] = X[xi]!;
    } else for (; o < end; o++, ii += si, xi += sx) out[o] = X[xi + I[ii]! * sd]!;
  }
  return out;
}

/**
 * scatterAdd by runs of the index's layout, in the reference's order (row-major over the index,
 * each sum stored in the base's dtype), so the results are the same bits.
 */
export function scatterAddStrided(base: View, dim: number, index: View, src: View): TypedArray {
  const out = copyStrided(base, base.dtype);
  const cs = contiguousStrides(base.shape);
  const plan = planRuns(index.shape, [index, src, { strides: cs.map((s, d) => (d === dim ? 0 : s)), offset: 0 }]);
  const [si, ss, so] = plan.step as [number, number, number];
  const sd = cs[dim]!;
  const I = index.storage;
  const S = src.storage;
  const n = plan.inner;
  for (let r = 0; r < plan.outer; r++) {
    let ii = plan.base[0]![r]!;
    let xi = plan.base[1]![r]!;
    let oi = plan.base[2]![r]!;
    for (let k = 0; k < n; k++, ii += si, xi += ss, oi += so) {
      const o = oi + I[ii]! * sd;
      out[o] = out[o]! + S[xi]!;
    }
  }
  return out;
}

/**
 * Build a JS-fast style backend around a GEMM (the WASM backend reuses this for float64): a way
 * to benchmark a matrix-multiply kernel inside every op that uses one (matmul, conv2d and its
 * gradients).
 * @example
 * const naive: Gemm = (M, N, K, a, b, out, outOff, ldc) => {
 *   for (let i = 0; i < M; i++)
 *     for (let j = 0; j < N; j++) {
 *       let s = 0;
 *       for (let k = 0; k < K; k++) s += a.data[a.off + i * a.rs + k * a.cs]! * b.data[b.off + k * b.rs + j * b.cs]!;
 *       out[outOff + i * ldc + j] = s;
 *     }
 * };
 * registerBackend(makeGemmBackend("naive-gemm", naive));
 * setBackend("naive-gemm");
 * tensor([[1, 2]]).matmul(tensor([[3], [4]])).item(); // 11
 * setBackend("js");
 */
export function makeGemmBackend(name: string, gemm: Gemm): Backend {
  return completeBackend({
    name,
    unary: unaryStrided,
    binary: binaryStrided,
    geluBackward: geluBackwardJs,
    where: whereStrided,
    copy: copyStrided,
    assign: assignStrided,
    reduce: reduceStrided,
    gather: gatherStrided,
    scatterAdd: scatterAddStrided,
    ...softmaxMethods,
    matmul: (a, b) => matmulVia(gemm, a, b),
    matmulOrdered: (a, b, order) => matmulOrderedVia(gemm, a, b, order),
    conv2d: (x, w, p) => conv2dVia(gemm, x, w, p),
    layerNorm: layerNormJs,
    layerNormBackward: layerNormBackwardJs,
    conv2dInputGrad: (gy, w, xShape, p) => conv2dInputGradVia(gemm, gy, w, xShape, p),
    conv2dWeightGrad: (x, gy, wShape, p) => conv2dWeightGradVia(gemm, x, gy, wShape, p),
  });
}

/**
 * The fast pure-JS backend. Register it explicitly:
 * @example
 * registerBackend(fastJsBackend);
 * setBackend("js-fast");
 */
export const fastJsBackend: Backend = makeGemmBackend("js-fast", gemmJs);
