/**
 * The reference backend: plain loops that are easy to check by eye. It is the oracle every fast
 * backend is property-tested against, so clarity wins over speed here, with two exceptions that
 * keep it usable: contiguous inputs skip the index computation, and matmul loops in i-k-j order.
 */
import { allocArray, toDtype, type DType, type TypedArray } from "../tensor/dtype.js";
import { contiguousData, contiguousStrides, isContiguous, offsetsOf } from "../tensor/layout.js";
import { numel, type Shape } from "../tensor/shape.js";
import { convOutShape, poolOutShape } from "./layout.js";
import { erfcFraction, erfSeries, geluBackwardReference, geluReference, geluTanhReference } from "./reference-gelu.js";
import { maskedSoftmaxReference, softmaxBackwardReference } from "./reference-softmax.js";
import type { BinaryMathOp } from "./backend.js";
import { UNARY_DEFAULTS, type Backend, type BinaryOp, type Conv2dParams, type Pool2dParams, type ReduceOp, type UnaryOp, type UnaryParams, type View } from "./backend.js";

// NOTE: erf to ~1e-15 relative: the gradcheck of gelu compares finite differences of erf with
// its analytic derivative, so a 1e-7 approximation (Abramowitz-Stegun) would fail it.
function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  // below 3 the series of positive terms (no cancellation); erfc's continued fraction above
  if (ax < 3) return erfSeries(x);
  return Math.sign(x) * (1 - erfcFraction(ax));
}

/**
 * One row of layerNorm in float64: the standardised values and 1 / sqrt(var + eps) in x's units.
 * The row is shifted by its first entry (a constant row has deviations of exactly 0); a row with
 * max |x| >= 2^32 (float32) or 2^256 (float64) is divided by s = 2^floor(log2 max) first, eps by s²
 * (floored at 2^-64 / 2^-512, as the composite's overflow scaling: 1 / sqrt of it stays finite), and
 * the factor for x's units is then rstd / s.
 */
function layerNormRow(xs: TypedArray, o: number, n: number, eps: number, dtype: DType): { xhat: Float64Array; rstd: number } {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(xs[o + i]!));
  const limit = dtype === "float64" ? 2 ** 256 : 2 ** 32;
  const s = max >= limit && max < Infinity ? 2 ** Math.floor(Math.log2(max)) : 1;
  const e = s === 1 ? eps : Math.max(eps / (s * s), 1 / (limit * limit));
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = xs[o + i]! / s - xs[o]! / s;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d[i]! - mean) ** 2;
  v /= n;
  const r = 1 / Math.sqrt(v + e);
  const xhat = d.map((di) => (di - mean) * r);
  return { xhat, rstd: r / s };
}

/** The logistic function, without overflow for large |x|. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|): e^-|x| <= 1 never overflows, and the result is x
 * itself far below 0 and 0 far above it (as PyTorch's log_sigmoid, the same formula).
 */
function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * Round half to even (as torch.round, C's nearbyint): Math.round rounds ties toward +Infinity, so a
 * tie that went up to an odd integer comes back down by one; the sign of a zero result follows x.
 */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  const even = r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even === 0 && (x < 0 || Object.is(x, -0)) ? -0 : even;
}

/**
 * The elementwise unary ops, each a scalar function of its parameters: one entry per `UnaryOp`
 * (the compiler checks the table is complete). The fast backends fall back to it for the ops they
 * have no loop for.
 */
export const referenceUnary = {
  neg: () => (x: number) => -x,
  abs: () => Math.abs,
  sign: () => (x: number) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
  exp: () => Math.exp,
  log: () => Math.log,
  log1p: () => Math.log1p,
  expm1: () => Math.expm1,
  sqrt: () => Math.sqrt,
  rsqrt: () => (x: number) => 1 / Math.sqrt(x),
  square: () => (x: number) => x * x,
  sin: () => Math.sin,
  cos: () => Math.cos,
  tanh: () => Math.tanh,
  atan: () => Math.atan,
  acos: () => Math.acos,
  asin: () => Math.asin,
  sigmoid: () => sigmoid,
  logSigmoid: () => logSigmoid,
  relu: () => (x: number) => (x > 0 ? x : x === x ? 0 : NaN),
  erf: () => erf,
  leakyRelu: (p: UnaryParams) => {
    const a = p.alpha ?? UNARY_DEFAULTS.alpha;
    return (x: number) => (x > 0 ? x : x * a);
  },
  softplus: (p: UnaryParams) => {
    const beta = p.beta ?? UNARY_DEFAULTS.beta;
    const th = p.threshold ?? UNARY_DEFAULTS.threshold;
    return (x: number) => (x * beta > th ? x : Math.log1p(Math.exp(x * beta)) / beta);
  },
  clamp: (p: UnaryParams) => {
    const lo = p.min ?? -Infinity;
    const hi = p.max ?? Infinity;
    // NOTE: NaN stays NaN (as torch.clamp); Math.min/max propagate it.
    return (x: number) => Math.min(Math.max(x, lo), hi);
  },
  logicalNot: () => (x: number) => (x ? 0 : 1),
  tan: () => Math.tan,
  sinh: () => Math.sinh,
  cosh: () => Math.cosh,
  asinh: () => Math.asinh,
  acosh: () => Math.acosh,
  atanh: () => Math.atanh,
  log2: () => Math.log2,
  log10: () => Math.log10,
  exp2: () => (x: number) => 2 ** x,
  floor: () => Math.floor,
  ceil: () => Math.ceil,
  round: () => roundHalfEven,
  trunc: () => Math.trunc,
  // NOTE: on int32 only (the op sends bool to logicalNot).
  bitwiseNot: () => (x: number) => ~x,
  elu: (p: UnaryParams) => {
    // torch's elu kernel: x > 0 ? scale x : alpha scale (e^(inputScale x) - 1), so elu, celu and selu.
    const a = (p.alpha ?? 1) * (p.scale ?? 1);
    const s = p.scale ?? 1;
    const is = p.inputScale ?? 1;
    return (x: number) => (x > 0 ? s * x : a * Math.expm1(x * is));
  },
  hardtanh: (p: UnaryParams) => {
    const lo = p.min ?? -1;
    const hi = p.max ?? 1;
    // NOTE: as torch's kernel, x itself unless strictly outside: relu6(-0) is -0; NaN stays NaN.
    return (x: number) => (x < lo ? lo : x > hi ? hi : x);
  },
  hardsigmoid: () => (x: number) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 6 + 0.5),
  hardswish: () => (x: number) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
  gelu: () => geluReference,
  geluTanh: () => geluTanhReference,
} satisfies Record<UnaryOp, (p: UnaryParams) => (x: number) => number>;

const binaryFn: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: Math.max,
  minimum: Math.min,
  atan2: Math.atan2,
  hypot: Math.hypot,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (a && b ? 1 : 0),
  logicalOr: (a, b) => (a || b ? 1 : 0),
};

const signScratch = new Float64Array(1);
const signBytes = new Uint8Array(signScratch.buffer);
/** The sign bit of x (-0 and a NaN with its sign bit set count as negative), as C's signbit. */
function signbit(x: number): boolean {
  if (x === x && x !== 0) return x < 0;
  signScratch[0] = x;
  return signBytes[7]! >= 128;
}

/** C's fmod for floats, the truncating remainder for int32 (JavaScript's % is both). */
const fmod = (a: number, b: number): number => a % b;

/** Python's modulo, as torch.remainder: the result has the divisor's sign. */
function remainder(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && m < 0 !== b < 0 ? m + b : m;
}

/**
 * torch's div_floor_floating (1.13): floor of a / b computed from fmod, so 1 // 0.1 is 9 as in
 * Python; each step rounded by `r` to the dtype torch computes in (Math.fround for float32).
 */
function divFloorFloat(a: number, b: number, r: (x: number) => number): number {
  if (b === 0) return a / b;
  const mod = a % b;
  let div = r(r(a - mod) / b);
  if (mod !== 0 && b < 0 !== mod < 0) div = r(div - 1);
  if (div === 0) {
    const q = r(a / b);
    return q < 0 || Object.is(q, -0) ? -0 : 0;
  }
  let f = Math.floor(div);
  if (r(div - f) > 0.5) f += 1;
  return f;
}

const same = (x: number): number => x;

/**
 * The scalar functions of {@link BinaryMathOp}, given the output dtype (int32 or bool operands are
 * integers; a float32 quotient is rounded to float32 before it is rounded to an integer, as torch).
 */
export const referenceBinaryMath: Record<BinaryMathOp, (a: number, b: number, dtype: DType) => number> = {
  copysign: (a, b) => (signbit(b) ? -Math.abs(a) : Math.abs(a)),
  fmod,
  remainder,
  divTrunc: (a, b, dt) => Math.trunc(dt === "float32" ? Math.fround(a / b) : a / b),
  divFloor: (a, b, dt) => (dt === "float64" ? divFloorFloat(a, b, same) : dt === "float32" ? divFloorFloat(a, b, Math.fround) : Math.floor(a / b)),
  logaddexp: (a, b) => {
    if (a === b && Math.abs(a) === Infinity) return a;
    return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
  },
  bitwiseAnd: (a, b) => a & b,
  bitwiseOr: (a, b) => a | b,
  bitwiseXor: (a, b) => a ^ b,
};

function idxOrNull(v: View): Int32Array | null {
  return isContiguous(v) ? null : offsetsOf(v.shape, v.strides, v.offset);
}

/**
 * The float64 accumulator of a reduction over `axes`, one slot per output element set to
 * the reduction's start (0 for a sum, -Infinity for max, Infinity for min), and the strides that
 * take an index of x to its slot (0 on the reduced axes).
 */
function reduceAcc(op: ReduceOp, shape: Shape, axes: readonly number[]): [Float64Array, number[]] {
  const outShape = shape.map((s, d) => (axes.includes(d) ? 1 : s));
  const acc = new Float64Array(numel(outShape)).fill(op === "sum" ? 0 : op === "max" ? -Infinity : Infinity);
  return [acc, contiguousStrides(outShape).map((s, d) => (axes.includes(d) ? 0 : s))];
}

/**
 * Every tap of a convolution: visit(xi, wi, yi) for each input element x[xi] that weight w[wi]
 * multiplies into output y[yi] (flat row-major indices of x [N, C, H, W], w [O, C/groups, kH, kW]
 * and y [N, O, Ho, Wo]). NOTE: conv2d and both its gradients are this one loop nest with a
 * different accumulation, so they are adjoint by construction.
 */
function convTaps(xShape: Shape, wShape: Shape, p: Conv2dParams, visit: (xi: number, wi: number, yi: number) => void): void {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [O, Cg, kH, kW] = wShape as [number, number, number, number];
  const [, , Ho, Wo] = convOutShape(xShape, wShape, p) as [number, number, number, number];
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const Og = O / p.groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++)
          for (let ci = 0; ci < Cg; ci++)
            for (let kh = 0; kh < kH; kh++) {
              const ih = oh * sh - ph + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < kW; kw++) {
                const iw = ow * sw - pw + kw * dw;
                if (iw < 0 || iw >= W) continue;
                const c = Math.floor(o / Og) * Cg + ci;
                visit(((n * C + c) * H + ih) * W + iw, ((o * Cg + ci) * kH + kh) * kW + kw, ((n * O + o) * Ho + oh) * Wo + ow);
              }
            }
}

/**
 * The reference backend, named "js" and active by default: plain loops that are easy to check by
 * eye, the oracle every fast backend is property-tested against.
 * @example
 * referenceBackend.name; // "js"
 * referenceBackend.matmul(tensor([[1, 2]]), tensor([[3], [4]])); // Float32Array [11]
 */
export const referenceBackend: Backend = {
  name: "js",

  unary(op, x, params = {}) {
    const f = referenceUnary[op](params);
    const n = numel(x.shape);
    const out = allocArray(op === "logicalNot" ? "bool" : x.dtype, n);
    const s = x.storage;
    const idx = idxOrNull(x);
    if (idx) for (let i = 0; i < n; i++) out[i] = f(s[idx[i]!]!);
    else for (let i = 0, o = x.offset; i < n; i++) out[i] = f(s[o + i]!);
    return out;
  },

  binary(op, a, b, outDtype) {
    const f = binaryFn[op];
    const n = numel(a.shape);
    const out = allocArray(outDtype, n);
    const ia = idxOrNull(a);
    const ib = idxOrNull(b);
    const sa = a.storage;
    const sb = b.storage;
    for (let i = 0; i < n; i++) {
      out[i] = f(sa[ia ? ia[i]! : a.offset + i]!, sb[ib ? ib[i]! : b.offset + i]!);
    }
    return out;
  },

  geluBackward: geluBackwardReference,

  binaryMath(op, a, b, outDtype) {
    const f = referenceBinaryMath[op];
    const n = numel(a.shape);
    const out = allocArray(outDtype, n);
    const ia = idxOrNull(a);
    const ib = idxOrNull(b);
    for (let i = 0; i < n; i++) out[i] = f(a.storage[ia ? ia[i]! : a.offset + i]!, b.storage[ib ? ib[i]! : b.offset + i]!, outDtype);
    return out;
  },

  where(cond, a, b) {
    const n = numel(a.shape);
    const out = allocArray(a.dtype, n);
    const ic = offsetsOf(cond.shape, cond.strides, cond.offset);
    const ia = offsetsOf(a.shape, a.strides, a.offset);
    const ib = offsetsOf(b.shape, b.strides, b.offset);
    for (let i = 0; i < n; i++) out[i] = cond.storage[ic[i]!] ? a.storage[ia[i]!]! : b.storage[ib[i]!]!;
    return out;
  },

  copy(x, dtype) {
    const n = numel(x.shape);
    const out = allocArray(dtype, n);
    const idx = idxOrNull(x);
    const s = x.storage;
    const toBool = dtype === "bool";
    for (let i = 0; i < n; i++) {
      const v = s[idx ? idx[i]! : x.offset + i]!;
      out[i] = toBool ? (v !== 0 ? 1 : 0) : v;
    }
    return out;
  },

  assign(dst, src) {
    const n = numel(dst.shape);
    const id = offsetsOf(dst.shape, dst.strides, dst.offset);
    const is = offsetsOf(src.shape, src.strides, src.offset);
    for (let i = 0; i < n; i++) dst.storage[id[i]!] = src.storage[is[i]!]!;
  },

  reduce(op, x, axes) {
    const [acc, outStrides] = reduceAcc(op, x.shape, axes);
    const ix = offsetsOf(x.shape, x.strides, x.offset);
    const io = offsetsOf(x.shape, outStrides, 0);
    const s = x.storage;
    for (let i = 0; i < ix.length; i++) {
      const v = s[ix[i]!]!;
      const o = io[i]!;
      const cur = acc[o]!;
      if (op === "sum") acc[o] = cur + v;
      // a NaN wins, and stays: no number compares greater or less than it
      else if (v !== v || (op === "max" ? v > cur : v < cur)) acc[o] = v;
    }
    return toDtype(acc, x.dtype);
  },

  // the masked form's loops with no mask (a lane whose max is infinite is shifted by 0; a row of -Infinity
  // gives zeros, log -Infinity, not 0/0 = NaN, as PyTorch >= 2.5's _safe_softmax)
  softmax: (x, axis, log) => maskedSoftmaxReference(x, axis, log, null, false),
  maskedSoftmax: maskedSoftmaxReference,
  softmaxBackward: softmaxBackwardReference,
  layerNorm(x, weight, bias, n, eps) {
    const xs = contiguousData(x);
    const w = weight && contiguousData(weight);
    const b = bias && contiguousData(bias);
    const out = allocArray(x.dtype, xs.length);
    for (let o = 0; o < xs.length; o += n) {
      const { xhat } = layerNormRow(xs, o, n, eps, x.dtype);
      for (let i = 0; i < n; i++) out[o + i] = xhat[i]! * (w ? w[i]! : 1) + (b ? b[i]! : 0);
    }
    return out;
  },
  layerNormBackward(x, weight, g, n, eps) {
    const xs = contiguousData(x);
    const gs = contiguousData(g);
    const w = weight && contiguousData(weight);
    const dx = allocArray(x.dtype, xs.length);
    const dw = new Float64Array(n);
    const db = new Float64Array(n);
    for (let o = 0; o < xs.length; o += n) {
      const { xhat, rstd } = layerNormRow(xs, o, n, eps, x.dtype);
      // dx = rstd (gw - mean(gw) - xhat mean(gw xhat)), gw = g w
      let m1 = 0;
      let m2 = 0;
      for (let i = 0; i < n; i++) {
        const gw = gs[o + i]! * (w ? w[i]! : 1);
        m1 += gw;
        m2 += gw * xhat[i]!;
      }
      m1 /= n;
      m2 /= n;
      for (let i = 0; i < n; i++) {
        const gw = gs[o + i]! * (w ? w[i]! : 1);
        dx[o + i] = rstd * (gw - m1 - xhat[i]! * m2);
        dw[i] = dw[i]! + gs[o + i]! * xhat[i]!;
        db[i] = db[i]! + gs[o + i]!;
      }
    }
    return [dx, toDtype(dw, x.dtype), toDtype(db, x.dtype)];
  },
  argReduce(op, x, axis) {
    const shape = x.shape;
    const len = shape[axis]!;
    const outShape = shape.filter((_, d) => d !== axis);
    const nOut = numel(outShape);
    const out = new Int32Array(nOut);
    // Offsets of the first element of each lane, then walk the lane with the axis stride.
    const laneShape = shape.map((s, d) => (d === axis ? 1 : s));
    const starts = offsetsOf(laneShape, x.strides, x.offset);
    const st = x.strides[axis]!;
    const s = x.storage;
    for (let i = 0; i < nOut; i++) {
      let best = 0;
      let bv = s[starts[i]!]!;
      for (let k = 1; k < len && bv === bv; k++) {
        const v = s[starts[i]! + k * st]!;
        if (v !== v || (op === "argmax" ? v > bv : v < bv)) {
          best = k;
          bv = v;
        }
      }
      out[i] = best;
    }
    return out;
  },

  matmul(a, b) {
    const nd = a.shape.length;
    const M = a.shape[nd - 2]!;
    const K = a.shape[nd - 1]!;
    const N = b.shape[nd - 1]!;
    const batchShape = a.shape.slice(0, nd - 2);
    const nb = numel(batchShape);
    const out = allocArray(a.dtype, nb * M * N);
    const aBase = offsetsOf(batchShape, a.strides.slice(0, nd - 2), a.offset);
    const bBase = offsetsOf(batchShape, b.strides.slice(0, nd - 2), b.offset);
    const [sam, sak] = [a.strides[nd - 2]!, a.strides[nd - 1]!];
    const [sbk, sbn] = [b.strides[nd - 2]!, b.strides[nd - 1]!];
    const A = a.storage;
    const B = b.storage;
    const row = new Float64Array(N);
    for (let bi = 0; bi < nb; bi++) {
      const ao = aBase[bi]!;
      const bo = bBase[bi]!;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const aik = A[ao + i * sam + k * sak]!;
          const bro = bo + k * sbk;
          for (let j = 0; j < N; j++) row[j] = row[j]! + aik * B[bro + j * sbn]!;
        }
        out.set(row, (bi * M + i) * N);
      }
    }
    return out;
  },

  conv2d(xv, wv, p) {
    const x = contiguousData(xv);
    const w = contiguousData(wv);
    const acc = new Float64Array(numel(convOutShape(xv.shape, wv.shape, p)));
    convTaps(xv.shape, wv.shape, p, (xi, wi, yi) => (acc[yi] = acc[yi]! + x[xi]! * w[wi]!));
    return toDtype(acc, xv.dtype);
  },

  conv2dInputGrad(gyv, wv, xShape, p) {
    const gy = contiguousData(gyv);
    const w = contiguousData(wv);
    const acc = new Float64Array(numel(xShape));
    convTaps(xShape, wv.shape, p, (xi, wi, yi) => (acc[xi] = acc[xi]! + gy[yi]! * w[wi]!));
    return toDtype(acc, gyv.dtype);
  },

  conv2dWeightGrad(xv, gyv, wShape, p) {
    const x = contiguousData(xv);
    const gy = contiguousData(gyv);
    const acc = new Float64Array(numel(wShape));
    convTaps(xv.shape, wShape, p, (xi, wi, yi) => (acc[wi] = acc[wi]! + gy[yi]! * x[xi]!));
    return toDtype(acc, gyv.dtype);
  },

  maxPool2dIndices(xv, p) {
    const x = contiguousData(xv);
    const [N, C, H, W] = xv.shape as [number, number, number, number];
    const [kH, kW] = p.kernel;
    const [sh, sw] = p.stride;
    const [ph, pw] = p.padding;
    const [dh, dw] = p.dilation;
    const [, , Ho, Wo] = poolOutShape(xv.shape, p) as [number, number, number, number];
    const out = new Int32Array(N * C * Ho * Wo);
    for (let nc = 0; nc < N * C; nc++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          let best = -1;
          let bv = -Infinity;
          for (let kh = 0; kh < kH; kh++) {
            const ih = oh * sh - ph + kh * dh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < kW; kw++) {
              const iw = ow * sw - pw + kw * dw;
              if (iw < 0 || iw >= W) continue;
              const v = x[(nc * H + ih) * W + iw]!;
              if (best < 0 || v > bv || (v !== v && bv === bv)) {
                best = ih * W + iw;
                bv = v;
              }
            }
          }
          out[(nc * Ho + oh) * Wo + ow] = best;
        }
    return out;
  },

  gather(x, dim, index) {
    const n = numel(index.shape);
    const out = allocArray(x.dtype, n);
    // Storage offset of x at each index position with the gathered dim at 0, then add idx * stride.
    const base = offsetsOf(index.shape, x.strides.map((s, d) => (d === dim ? 0 : s)), x.offset);
    const ii = offsetsOf(index.shape, index.strides, index.offset);
    const sd = x.strides[dim]!;
    for (let i = 0; i < n; i++) out[i] = x.storage[base[i]! + index.storage[ii[i]!]! * sd]!;
    return out;
  },

  scatterAdd(baseV, dim, index, src) {
    const out = contiguousData(baseV).slice();
    const outStrides = contiguousStrides(baseV.shape);
    const pos = offsetsOf(index.shape, outStrides.map((s, d) => (d === dim ? 0 : s)), 0);
    const ii = offsetsOf(index.shape, index.strides, index.offset);
    const is = offsetsOf(index.shape, src.strides, src.offset);
    const sd = outStrides[dim]!;
    for (let i = 0; i < pos.length; i++) {
      const o = pos[i]! + index.storage[ii[i]!]! * sd;
      out[o] = out[o]! + src.storage[is[i]!]!;
    }
    return out;
  },
};

export type { DType };
