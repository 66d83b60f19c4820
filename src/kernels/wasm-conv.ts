/**
 * conv2d and both gradients on the WASM kernels, without JS-side packing: the input is copied
 * into WebAssembly memory once, im2col / col2im run in WASM one image at a time, and the GEMM
 * reads the column matrix, the weights and the output gradient in place (gemmKernel's strided
 * addressing), writing straight into the output layout.
 *
 * - forward:      out_n[o, p]  = W_g [Og, K] @ col_n [K, L]        (gemm, B = col in place)
 * - input grad:   dcol_n[r, p] = W_g^T [K, Og] @ gy_n [Og, L]; col2im (gemm, B = gy in place)
 * - weight grad:  gw[o, r]    += gy_n [Og, L] . col_n [K, L]^T      (gemmNT, both in place)
 *
 * Rows of length L are padded to Lp (a multiple of NR = 8) with zeros, so every panel is full.
 */
import type { TypedArray } from "../tensor/dtype.js";
import type { Shape } from "../tensor/shape.js";
import type { Conv2dParams, View } from "./backend.js";
import { geom, type ConvGeom } from "./gemm-ops.js";
import { contiguousData } from "./reference.js";
import { MR, NR, NT_MR, NT_NR } from "./wasm-kernels.js";
import { Arena, roundUp, type WasmRuntime } from "./wasm-runtime.js";

const KC = 256;
/** k block of the weight-gradient dot products (floats): 4 gy rows + 2 col rows stay in L1. */
const KB = 1024;

/** Per kw: the output columns [owLo, owHi) whose input column lies inside the image. */
function writeTable(rt: WasmRuntime, q: ConvGeom, at: number): void {
  const I = rt.ints();
  for (let kw = 0; kw < q.kW; kw++) {
    const shift = kw * q.dw - q.pw;
    const lo = Math.min(q.Wo, Math.max(0, Math.ceil(-shift / q.sw)));
    const hi = Math.max(lo, Math.min(q.Wo, Math.floor((q.W - 1 - shift) / q.sw) + 1));
    I[(at >> 2) + 2 * kw] = lo;
    I[(at >> 2) + 2 * kw + 1] = hi;
  }
}

function im2col(rt: WasmRuntime, q: ConvGeom, x: number, col: number, ldcol: number, tbl: number, add: boolean): void {
  (add ? rt.k.col2im : rt.k.im2col)(x, col, ldcol, q.Cg, q.H, q.W, q.kH, q.kW, q.Ho, q.Wo, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, tbl);
}

function f32Data(v: View): Float32Array {
  return contiguousData(v) as Float32Array;
}

/** Copy [rows, L] into rows of stride Lp (padding already zero). */
function copyRows(H: Float32Array, at: number, src: Float32Array, rows: number, L: number, Lp: number): void {
  if (L === Lp) H.set(src.subarray(0, rows * L), at);
  else for (let r = 0; r < rows; r++) H.set(src.subarray(r * L, r * L + L), at + r * Lp);
}
function copyRowsOut(H: Float32Array, at: number, out: Float32Array, rows: number, L: number, Lp: number): void {
  if (L === Lp) out.set(H.subarray(at, at + rows * L));
  else for (let r = 0; r < rows; r++) out.set(H.subarray(at + r * Lp, at + r * Lp + L), r * L);
}

export function conv2dWasm(rt: WasmRuntime, xv: View, wv: View, p: Conv2dParams): TypedArray {
  const q = geom(xv.shape, wv.shape, p);
  const { N, C, H: Hh, W, O, Og, Cg, K, L } = q;
  const out = new Float32Array(N * O * L);
  if (out.length === 0 || K === 0) return out;
  const Lp = roundUp(L, NR);
  const Ogp = roundUp(Og, MR);
  const x = f32Data(xv);
  const w = f32Data(wv);
  const m = new Arena();
  const xAt = m.take(4 * x.length);
  const wtAt = m.take(4 * p.groups * K * Ogp);
  const colAt = m.take(4 * K * Lp);
  const outAt = m.take(4 * (N * O * Lp + Ogp * Lp));
  const tblAt = m.take(8 * q.kW);
  const Hp = rt.heap(m.at);
  Hp.set(x, xAt >> 2);
  // W_g^T as rows [K][Ogp]: the GEMM reads A in place (aK = 4 Ogp, aP = 4 MR)
  Hp.fill(0, wtAt >> 2, (wtAt >> 2) + p.groups * K * Ogp);
  for (let g = 0; g < p.groups; g++)
    for (let o = 0; o < Og; o++)
      for (let r = 0; r < K; r++) Hp[(wtAt >> 2) + (g * K + r) * Ogp + o] = w[(g * Og + o) * K + r]!;
  if (Lp > L) Hp.fill(0, colAt >> 2, (colAt >> 2) + K * Lp);
  writeTable(rt, q, tblAt);
  const k = rt.k;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < p.groups; g++) {
      im2col(rt, q, xAt + 4 * (n * C + g * Cg) * Hh * W, colAt, 4 * Lp, tblAt, false);
      for (let k0 = 0; k0 < K; k0 += KC) {
        const kc = Math.min(KC, K - k0);
        k.gemm(wtAt + 4 * (g * K + k0) * Ogp, 4 * Ogp, 4 * MR, colAt + 4 * k0 * Lp, 4 * Lp, 4 * NR, outAt + 4 * (n * O + g * Og) * Lp, 4 * Lp, Ogp, Lp, kc, k0 > 0 ? 1 : 0);
      }
    }
  copyRowsOut(rt.heap(0), outAt >> 2, out, N * O, L, Lp);
  return out;
}

export function conv2dInputGradWasm(rt: WasmRuntime, gyv: View, wv: View, xShape: Shape, p: Conv2dParams): TypedArray {
  const q = geom(xShape, wv.shape, p);
  const { N, C, H: Hh, W, O, Og, Cg, K, L } = q;
  const nx = N * C * Hh * W;
  const out = new Float32Array(nx);
  if (nx === 0 || L === 0 || O === 0 || K === 0) return out;
  const Lp = roundUp(L, NR);
  const Kp = roundUp(K, MR);
  const gy = f32Data(gyv);
  const w = f32Data(wv);
  const m = new Arena();
  const gyAt = m.take(4 * N * O * Lp);
  const wAt = m.take(4 * p.groups * Og * Kp);
  const dcolAt = m.take(4 * Kp * Lp);
  const gxAt = m.take(4 * nx);
  const tblAt = m.take(8 * q.kW);
  const Hp = rt.heap(m.at);
  if (Lp > L) Hp.fill(0, gyAt >> 2, (gyAt >> 2) + N * O * Lp);
  copyRows(Hp, gyAt >> 2, gy, N * O, L, Lp);
  // W_g as rows [Og][Kp]: A = W_g^T read in place (aK = 4 Kp, aP = 4 MR)
  if (Kp > K) Hp.fill(0, wAt >> 2, (wAt >> 2) + p.groups * Og * Kp);
  copyRows(Hp, wAt >> 2, w, O, K, Kp);
  Hp.fill(0, gxAt >> 2, (gxAt >> 2) + nx);
  writeTable(rt, q, tblAt);
  const k = rt.k;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < p.groups; g++) {
      for (let k0 = 0; k0 < Og; k0 += KC) {
        const kc = Math.min(KC, Og - k0);
        k.gemm(wAt + 4 * (g * Og + k0) * Kp, 4 * Kp, 4 * MR, gyAt + 4 * (n * O + g * Og + k0) * Lp, 4 * Lp, 4 * NR, dcolAt, 4 * Lp, Kp, Lp, kc, k0 > 0 ? 1 : 0);
      }
      im2col(rt, q, gxAt + 4 * (n * C + g * Cg) * Hh * W, dcolAt, 4 * Lp, tblAt, true);
    }
  out.set(rt.heap(0).subarray(gxAt >> 2, (gxAt >> 2) + nx));
  return out;
}

export function conv2dWeightGradWasm(rt: WasmRuntime, xv: View, gyv: View, wShape: Shape, p: Conv2dParams): TypedArray {
  const q = geom(xv.shape, wShape, p);
  const { N, C, H: Hh, W, O, Og, Cg, K, L } = q;
  const nw = O * K;
  const out = new Float32Array(nw);
  if (nw === 0 || N === 0 || L === 0) return out;
  const Lp = roundUp(L, NR);
  const Ogp = roundUp(Og, NT_MR);
  const Kp = roundUp(K, NT_NR);
  const x = f32Data(xv);
  const gy = f32Data(gyv);
  const m = new Arena();
  const xAt = m.take(4 * x.length);
  // NOTE: NT_MR spare rows after gy: the last group's padded tile rows read them (results discarded).
  const gyAt = m.take(4 * (N * O + NT_MR) * Lp);
  const colAt = m.take(4 * Kp * Lp);
  const gwAt = m.take(4 * p.groups * Ogp * Kp);
  const tblAt = m.take(8 * q.kW);
  const Hp = rt.heap(m.at);
  Hp.set(x, xAt >> 2);
  if (Lp > L) Hp.fill(0, gyAt >> 2, (gyAt >> 2) + N * O * Lp);
  Hp.fill(0, (gyAt >> 2) + N * O * Lp, (gyAt >> 2) + (N * O + NT_MR) * Lp);
  copyRows(Hp, gyAt >> 2, gy, N * O, L, Lp);
  // padding columns (p >= L) and rows (r >= K) of col stay zero: im2col writes [K, L] only
  Hp.fill(0, colAt >> 2, (colAt >> 2) + Kp * Lp);
  Hp.fill(0, gwAt >> 2, (gwAt >> 2) + p.groups * Ogp * Kp);
  writeTable(rt, q, tblAt);
  const k = rt.k;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < p.groups; g++) {
      im2col(rt, q, xAt + 4 * (n * C + g * Cg) * Hh * W, colAt, 4 * Lp, tblAt, false);
      for (let kb = 0; kb < Lp; kb += KB) {
        const kc = Math.min(KB, Lp - kb);
        k.gemmNT(gyAt + 4 * ((n * O + g * Og) * Lp + kb), 4 * Lp, colAt + 4 * kb, 4 * Lp, gwAt + 4 * g * Ogp * Kp, 4 * Kp, Ogp, Kp, kc);
      }
    }
  const Hq = rt.heap(0);
  for (let g = 0; g < p.groups; g++) copyRowsOut(Hq, (gwAt >> 2) + g * Ogp * Kp, out.subarray(g * Og * K), Og, K, Kp);
  return out;
}
