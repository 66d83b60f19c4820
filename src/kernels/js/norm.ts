/**
 * js-fast's layer norm, forward and backward: one pass per statistic over each row (in cache), the
 * statistics in float64 (JS numbers), no allocation per row. The same arithmetic as the reference
 * (kernels/reference.ts, layerNormRow), in the same order, without its per-row arrays: a row is
 * shifted by its first entry, and a row with max |x| >= 2^32 (float32) or 2^256 (float64) is
 * multiplied by 1 / s for a power of two s (exact, the same as dividing), eps divided by s² and
 * floored at 2^-64 / 2^-512.
 */
import { allocArray, type TypedArray } from "../../tensor/dtype.js";
import { isContiguous } from "../../tensor/layout.js";
import { numel } from "../../tensor/shape.js";
import type { View } from "../backend.js";

/** The storage and the index of the first element of a row-major copy of v (v itself when dense). */
function dense(v: View): [TypedArray, number] {
  if (isContiguous(v)) return [v.storage, v.offset];
  const n = numel(v.shape);
  const out = allocArray(v.dtype, n);
  const st = v.strides;
  const sh = v.shape;
  const idx = new Array<number>(sh.length).fill(0);
  let off = v.offset;
  for (let i = 0; i < n; i++) {
    out[i] = v.storage[off]!;
    for (let d = sh.length - 1; d >= 0; d--) {
      if (++idx[d]! < sh[d]!) {
        off += st[d]!;
        break;
      }
      off -= st[d]! * (sh[d]! - 1);
      idx[d] = 0;
    }
  }
  return [out, 0];
}

/** n values of v as float64 (fill when v is null). */
function vec(v: View | null, n: number, fill: number): Float64Array {
  const out = new Float64Array(n);
  if (!v) return out.fill(fill);
  const [d, o] = dense(v);
  for (let i = 0; i < n; i++) out[i] = d[o + i]!;
  return out;
}

/** 1 / s for the row at X[o .. o + n): 1, or 2^-floor(log2 max|x|) for a row with max >= limit. */
function rowInvScale(X: TypedArray, o: number, n: number, limit: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(X[o + i]!);
    if (a > max) max = a;
  }
  return max >= limit && max < Infinity ? 2 ** -Math.floor(Math.log2(max)) : 1;
}

// The statistics of the last row, set by rowStats (no allocation per row).
let rowShift = 0;
let rowMean = 0;
let rowRstd = 0;

/** Shift (x0 / s), mean of the shifted values and 1 / sqrt(var + eps) of one row, all scaled by inv = 1 / s. */
function rowStats(X: TypedArray, o: number, n: number, inv: number, eps: number, floor: number): void {
  const x0 = X[o]! * inv;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += X[o + i]! * inv - x0;
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = X[o + i]! * inv - x0 - mean;
    sq += d * d;
  }
  const e = inv === 1 ? eps : Math.max(eps * inv * inv, floor);
  rowShift = x0;
  rowMean = mean;
  rowRstd = 1 / Math.sqrt(sq / n + e);
}

/** See Backend.layerNorm. */
export function layerNormJs(x: View, weight: View | null, bias: View | null, n: number, eps: number): TypedArray {
  const [X, xo] = dense(x);
  const total = numel(x.shape);
  const out = allocArray(x.dtype, total);
  const w = vec(weight, n, 1);
  const b = vec(bias, n, 0);
  const limit = x.dtype === "float64" ? 2 ** 256 : 2 ** 32;
  for (let o = 0; o < total; o += n) {
    const inv = rowInvScale(X, xo + o, n, limit);
    rowStats(X, xo + o, n, inv, eps, 1 / (limit * limit));
    const x0 = rowShift;
    const mean = rowMean;
    const r = rowRstd;
    for (let i = 0, j = xo + o; i < n; i++, j++) out[o + i] = (X[j]! * inv - x0 - mean) * r * w[i]! + b[i]!;
  }
  return out;
}

/** See Backend.layerNormBackward. */
export function layerNormBackwardJs(x: View, weight: View | null, g: View, n: number, eps: number): [TypedArray, TypedArray, TypedArray] {
  const [X, xo] = dense(x);
  const [G, go] = dense(g);
  const total = numel(x.shape);
  const dx = allocArray(x.dtype, total);
  const w = vec(weight, n, 1);
  const dw = new Float64Array(n);
  const db = new Float64Array(n);
  const limit = x.dtype === "float64" ? 2 ** 256 : 2 ** 32;
  for (let o = 0; o < total; o += n) {
    const inv = rowInvScale(X, xo + o, n, limit);
    rowStats(X, xo + o, n, inv, eps, 1 / (limit * limit));
    const x0 = rowShift;
    const mean = rowMean;
    const r = rowRstd;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const gi = G[go + o + i]!;
      const gw = gi * w[i]!;
      const xh = (X[xo + o + i]! * inv - x0 - mean) * r;
      m1 += gw;
      m2 += gw * xh;
      dw[i] = dw[i]! + gi * xh;
      db[i] = db[i]! + gi;
    }
    m1 /= n;
    m2 /= n;
    const k = r * inv;
    for (let i = 0; i < n; i++) {
      const xh = (X[xo + o + i]! * inv - x0 - mean) * r;
      dx[o + i] = k * (G[go + o + i]! * w[i]! - m1 - xh * m2);
    }
  }
  const cast = (a: Float64Array): TypedArray => {
    if (x.dtype === "float64") return a;
    const c = allocArray(x.dtype, n);
    c.set(a);
    return c;
  };
  return [dx, cast(dw), cast(db)];
}
