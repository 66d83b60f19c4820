/**
 * matmul and conv2d (forward and both gradients) written once on top of a {@link Gemm}, so the
 * JS and the WASM backends share the im2col / col2im code and differ only in their GEMM.
 */
import { allocArray, type TypedArray } from "../../tensor/dtype.js";
import { takeUninit } from "../../tensor/pool.js";
import { numel, type Shape } from "../../tensor/shape.js";
import type { Conv2dParams, View } from "../backend.js";
import type { Gemm } from "./gemm.js";
import { contiguousData, offsetsOf } from "../../tensor/layout.js";
import { convOutShape, stridesInOrder } from "../layout.js";

/**
 * Batched matmul [...batch, M, K] @ [...batch, K, N] through a GEMM (no copies of strided inputs).
 * With `order` (see `Backend.matmulOrdered`; it must end with N's dim) the result is stored in that
 * dim order: each product is written in place with the row stride of M's dim.
 */
export function matmulVia(gemm: Gemm, a: View, b: View, order?: readonly number[]): TypedArray {
  const nd = a.shape.length;
  const M = a.shape[nd - 2]!;
  const K = a.shape[nd - 1]!;
  const N = b.shape[nd - 1]!;
  const batchShape = a.shape.slice(0, nd - 2);
  const nb = numel(batchShape);
  // NOTE: every GEMM writes each element of its block of C (K = 0 included), so a float32 result
  // may come uncleared from the pool of recycled gradients (no zero fill of a 4 MB W6 gradient)
  const out = a.dtype === "float32" ? takeUninit("float32", nb * M * N) : allocArray(a.dtype, nb * M * N);
  if (out.length === 0) return out;
  const oStrides = order ? stridesInOrder([...batchShape, M, N], order) : null;
  const aBase = offsetsOf(batchShape, a.strides.slice(0, nd - 2), a.offset);
  const bBase = offsetsOf(batchShape, b.strides.slice(0, nd - 2), b.offset);
  const oBase = oStrides ? offsetsOf(batchShape, oStrides.slice(0, nd - 2), 0) : null;
  const ldc = oStrides ? oStrides[nd - 2]! : N;
  for (let bi = 0; bi < nb; bi++) {
    gemm(
      M, N, K,
      { data: a.storage, off: aBase[bi]!, rs: a.strides[nd - 2]!, cs: a.strides[nd - 1]! },
      { data: b.storage, off: bBase[bi]!, rs: b.strides[nd - 2]!, cs: b.strides[nd - 1]! },
      out, oBase ? oBase[bi]! : bi * M * N, ldc,
    );
  }
  return out;
}

/** `Backend.matmulOrdered` on a GEMM: null unless `order` keeps N's dim innermost. */
export function matmulOrderedVia(gemm: Gemm, a: View, b: View, order: readonly number[]): TypedArray | null {
  return order[order.length - 1] === a.shape.length - 1 ? matmulVia(gemm, a, b, order) : null;
}

export interface ConvGeom {
  N: number; C: number; H: number; W: number;
  O: number; Cg: number; Og: number; kH: number; kW: number;
  Ho: number; Wo: number; L: number; K: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  groups: number;
  /** Images per im2col chunk (bounds the column buffer). */
  chunk: number;
}

// NOTE: the column matrix of a whole batch is K x (N * Ho * Wo); one GEMM over the batch is far
// faster than N small ones (W5: 32 x 144 x 25088 instead of 32 x 144 x 784), so chunk only when
// the column buffer would pass 2^23 elements.
const COL_LIMIT = 1 << 23;

export function geom(xShape: Shape, wShape: Shape, p: Conv2dParams): ConvGeom {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [O, Cg, kH, kW] = wShape as [number, number, number, number];
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [, , Ho, Wo] = convOutShape(xShape, wShape, p) as [number, number, number, number];
  const L = Ho * Wo;
  const K = Cg * kH * kW;
  const chunk = Math.max(1, Math.min(N, Math.floor(COL_LIMIT / Math.max(1, K * L))));
  return { N, C, H, W, O, Cg, Og: O / p.groups, kH, kW, Ho, Wo, L, K, sh, sw, ph, pw, dh, dw, groups: p.groups, chunk };
}

/** For kernel column kw: the input column offset and the range [owLo, owHi) of output columns whose tap lies inside the input (0 <= ow * sw - pw + kw * dw < W). */
export function owRange(q: ConvGeom, kw: number): [number, number, number] {
  const shift = kw * q.dw - q.pw;
  const owLo = Math.min(q.Wo, Math.max(0, Math.ceil(-shift / q.sw)));
  return [shift, owLo, Math.max(owLo, Math.min(q.Wo, Math.floor((q.W - 1 - shift) / q.sw) + 1))];
}

/** col[r, (n - n0) * L + oh * Wo + ow] = x[n, g * Cg + ci, ih, iw] (0 outside), r = (ci * kH + kh) * kW + kw. */
function im2col(x: TypedArray, q: ConvGeom, g: number, n0: number, nc: number, col: TypedArray): void {
  const { C, H, W, Cg, kH, kW, Ho, Wo, L, sh, sw, ph, pw, dh, dw } = q;
  const NL = nc * L;
  for (let ci = 0; ci < Cg; ci++)
    for (let kh = 0; kh < kH; kh++)
      for (let kw = 0; kw < kW; kw++) {
        const r = (ci * kH + kh) * kW + kw;
        const [shift, owLo, owHi] = owRange(q, kw);
        for (let n = 0; n < nc; n++) {
          const xPlane = ((n0 + n) * C + g * Cg + ci) * H * W;
          let o = r * NL + n * L;
          for (let oh = 0; oh < Ho; oh++) {
            const ih = oh * sh - ph + kh * dh;
            if (ih < 0 || ih >= H) {
              col.fill(0, o, o + Wo);
              o += Wo;
              continue;
            }
            const xr = xPlane + ih * W + shift;
            let ow = 0;
            for (; ow < owLo; ow++) col[o++] = 0;
            if (sw === 1) for (; ow < owHi; ow++) col[o++] = x[xr + ow]!;
            else for (; ow < owHi; ow++) col[o++] = x[xr + ow * sw]!;
            for (; ow < Wo; ow++) col[o++] = 0;
          }
        }
      }
}

/** gx[n, g * Cg + ci, ih, iw] += col[r, (n - n0) * L + oh * Wo + ow]: the adjoint of im2col. */
function col2im(col: TypedArray, q: ConvGeom, g: number, n0: number, nc: number, gx: Float64Array): void {
  const { C, H, W, Cg, kH, kW, Ho, Wo, L, sh, sw, ph, pw, dh, dw } = q;
  const NL = nc * L;
  for (let ci = 0; ci < Cg; ci++)
    for (let kh = 0; kh < kH; kh++)
      for (let kw = 0; kw < kW; kw++) {
        const r = (ci * kH + kh) * kW + kw;
        const [shift, owLo, owHi] = owRange(q, kw);
        for (let n = 0; n < nc; n++) {
          const xPlane = ((n0 + n) * C + g * Cg + ci) * H * W;
          const cr = r * NL + n * L;
          for (let oh = 0; oh < Ho; oh++) {
            const ih = oh * sh - ph + kh * dh;
            if (ih < 0 || ih >= H) continue;
            const xr = xPlane + ih * W + shift;
            const o = cr + oh * Wo;
            for (let ow = owLo; ow < owHi; ow++) {
              const xi = xr + ow * sw;
              gx[xi] = gx[xi]! + col[o + ow]!;
            }
          }
        }
      }
}

/** conv2d forward: per group and batch chunk, out[o, n * L + p] = W_g[o, :] @ col. */
export function conv2dVia(gemm: Gemm, xv: View, wv: View, p: Conv2dParams): TypedArray {
  const q = geom(xv.shape, wv.shape, p);
  const out = allocArray(xv.dtype, q.N * q.O * q.L);
  if (out.length === 0) return out;
  const x = contiguousData(xv);
  const w = contiguousData(wv);
  const col = allocArray(xv.dtype, q.K * q.chunk * q.L);
  const res = allocArray(xv.dtype, q.Og * q.chunk * q.L);
  for (let g = 0; g < q.groups; g++)
    for (let n0 = 0; n0 < q.N; n0 += q.chunk) {
      const nc = Math.min(q.chunk, q.N - n0);
      const NL = nc * q.L;
      if (q.K === 0) res.fill(0);
      else {
        im2col(x, q, g, n0, nc, col);
        gemm(q.Og, NL, q.K, { data: w, off: g * q.Og * q.K, rs: q.K, cs: 1 }, { data: col, off: 0, rs: NL, cs: 1 }, res, 0, NL);
      }
      for (let o = 0; o < q.Og; o++)
        for (let n = 0; n < nc; n++) {
          const src = o * NL + n * q.L;
          out.set(res.subarray(src, src + q.L), ((n0 + n) * q.O + g * q.Og + o) * q.L);
        }
    }
  return out;
}

/** gy [N, O, L] as the matrix [O, N * L] (contiguous). */
function gyMatrix(gyv: View, q: ConvGeom): TypedArray {
  const gy = contiguousData(gyv);
  const m = allocArray(gyv.dtype, gy.length);
  const NL = q.N * q.L;
  for (let n = 0; n < q.N; n++)
    for (let o = 0; o < q.O; o++) {
      const src = (n * q.O + o) * q.L;
      m.set(gy.subarray(src, src + q.L), o * NL + n * q.L);
    }
  return m;
}

/** Gradient of conv2d w.r.t. x: dcol = W_g^T @ gy_g, then col2im. */
export function conv2dInputGradVia(gemm: Gemm, gyv: View, wv: View, xShape: Shape, p: Conv2dParams): TypedArray {
  const q = geom(xShape, wv.shape, p);
  const nx = q.N * q.C * q.H * q.W;
  const out = allocArray(gyv.dtype, nx);
  if (nx === 0 || q.L === 0 || q.O === 0) return out;
  const w = contiguousData(wv);
  const gm = gyMatrix(gyv, q);
  const NLall = q.N * q.L;
  const dcol = allocArray(gyv.dtype, q.K * q.chunk * q.L);
  const gx = new Float64Array(nx);
  for (let g = 0; g < q.groups; g++)
    for (let n0 = 0; n0 < q.N; n0 += q.chunk) {
      const nc = Math.min(q.chunk, q.N - n0);
      const NL = nc * q.L;
      gemm(q.K, NL, q.Og, { data: w, off: g * q.Og * q.K, rs: 1, cs: q.K }, { data: gm, off: g * q.Og * NLall + n0 * q.L, rs: NLall, cs: 1 }, dcol, 0, NL);
      col2im(dcol, q, g, n0, nc, gx);
    }
  out.set(gx);
  return out;
}

/** Gradient of conv2d w.r.t. w: gw_g = gy_g @ col^T, summed over batch chunks. */
export function conv2dWeightGradVia(gemm: Gemm, xv: View, gyv: View, wShape: Shape, p: Conv2dParams): TypedArray {
  const q = geom(xv.shape, wShape, p);
  const nw = q.O * q.K;
  const out = allocArray(gyv.dtype, nw);
  if (nw === 0 || q.N === 0 || q.L === 0) return out;
  const x = contiguousData(xv);
  const gm = gyMatrix(gyv, q);
  const NLall = q.N * q.L;
  const col = allocArray(xv.dtype, q.K * q.chunk * q.L);
  const part = q.chunk < q.N ? allocArray(gyv.dtype, q.Og * q.K) : null;
  for (let g = 0; g < q.groups; g++)
    for (let n0 = 0; n0 < q.N; n0 += q.chunk) {
      const nc = Math.min(q.chunk, q.N - n0);
      const NL = nc * q.L;
      im2col(x, q, g, n0, nc, col);
      const A = { data: gm, off: g * q.Og * NLall + n0 * q.L, rs: NLall, cs: 1 };
      const B = { data: col, off: 0, rs: 1, cs: NL };
      if (!part) gemm(q.Og, q.K, NL, A, B, out, g * q.Og * q.K, q.K);
      else {
        gemm(q.Og, q.K, NL, A, B, part, 0, q.K);
        const base = g * q.Og * q.K;
        for (let i = 0; i < part.length; i++) out[base + i] = out[base + i]! + part[i]!;
      }
    }
  return out;
}
