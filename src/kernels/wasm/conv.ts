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
import type { TypedArray } from "../../tensor/dtype.js";
import type { Shape } from "../../tensor/shape.js";
import type { Conv2dParams, View } from "../backend.js";
import { geom, owRange, type ConvGeom } from "../js/gemm-ops.js";
import { contiguousData } from "../../tensor/layout.js";
import { MR, NR, NT_MR, NT_NR } from "./kernels.js";
import { COL2IM, GEMM, GEMM_NT, IM2COL, roundUp, type WasmRuntime } from "./runtime.js";

const KC = 256;
/** k block of the weight-gradient dot products (floats): 4 gy rows + 2 col rows stay in L1. */
const KB = 1024;

/** Per kw: the output columns [owLo, owHi) whose input column lies inside the image. */
function writeTable(rt: WasmRuntime, q: ConvGeom, at: number): void {
  const I = rt.ints();
  for (let kw = 0; kw < q.kW; kw++) {
    const [, lo, hi] = owRange(q, kw);
    I[(at >> 2) + 2 * kw] = lo;
    I[(at >> 2) + 2 * kw + 1] = hi;
  }
}

/** The arguments of an im2col / col2im call after the image and column addresses. */
const convArgs = (q: ConvGeom, ldcol: number, tbl: number): number[] => [ldcol, q.Cg, q.H, q.W, q.kH, q.kW, q.Ho, q.Wo, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, tbl];

/** Images [0, N) cut into n ranges: the first image of each, then N. */
const ranges = (N: number, n: number): number[] => Array.from({ length: n + 1 }, (_, i) => Math.round((i * N) / n));

/** Images [0, N) cut into up to rt.pieces ranges (one list each). */
function imageParts(rt: WasmRuntime, N: number, work: number): number[] {
  return ranges(N, work < rt.splitMin ? 1 : Math.min(N, rt.pieces));
}

/**
 * Accumulators of the weight gradient: the batch is cut into this many ranges (fewer when N is
 * smaller), each summed into its own accumulator, added in order at the end.
 */
const GW_PARTS = 8;
/** Multiply-adds below which the weight gradient keeps one accumulator (the default splitMin). */
const GW_PART_MIN = 1 << 18;

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
  const parts = imageParts(rt, N, N * O * L * K);
  const m = rt.arena();
  const xAt = m.take(4 * x.length);
  const wtAt = m.take(4 * p.groups * K * Ogp);
  const cols = parts.slice(1).map(() => m.take(4 * K * Lp));
  // NOTE: each image's output block has Ogp - Og spare rows after its O rows: a group's GEMM
  // writes Ogp rows, and with two threads the padding rows must not land in another image's block.
  const pitch = (O + Ogp - Og) * Lp;
  const outAt = m.take(4 * N * pitch);
  const tblAt = m.take(8 * q.kW);
  const Hp = rt.heap(m.at);
  Hp.set(x, xAt >> 2);
  // W_g^T as rows [K][Ogp]: the GEMM reads A in place (aK = 4 Ogp, aP = 4 MR)
  Hp.fill(0, wtAt >> 2, (wtAt >> 2) + p.groups * K * Ogp);
  for (let g = 0; g < p.groups; g++)
    for (let o = 0; o < Og; o++)
      for (let r = 0; r < K; r++) Hp[(wtAt >> 2) + (g * K + r) * Ogp + o] = w[(g * Og + o) * K + r]!;
  for (const colAt of cols) if (Lp > L) Hp.fill(0, colAt >> 2, (colAt >> 2) + K * Lp);
  writeTable(rt, q, tblAt);
  const args = convArgs(q, 4 * Lp, tblAt);
  rt.run(cols.map((colAt, t) => {
    const l: number[] = [];
    for (let n = parts[t]!; n < parts[t + 1]!; n++)
      for (let g = 0; g < p.groups; g++) {
        l.push(IM2COL, xAt + 4 * (n * C + g * Cg) * Hh * W, colAt, ...args);
        for (let k0 = 0; k0 < K; k0 += KC)
          l.push(GEMM, wtAt + 4 * (g * K + k0) * Ogp, 4 * Ogp, 4 * MR, colAt + 4 * k0 * Lp, 4 * Lp, 4 * NR, outAt + 4 * (n * pitch + g * Og * Lp), 4 * Lp, Ogp, Lp, Math.min(KC, K - k0), k0 > 0 ? 1 : 0);
      }
    return l;
  }));
  const Hq = rt.heap(0);
  for (let n = 0; n < N; n++) copyRowsOut(Hq, (outAt >> 2) + n * pitch, out.subarray(n * O * L), O, L, Lp);
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
  const parts = imageParts(rt, N, N * O * L * K);
  const m = rt.arena();
  const gyAt = m.take(4 * N * O * Lp);
  const wAt = m.take(4 * p.groups * Og * Kp);
  const dcols = parts.slice(1).map(() => m.take(4 * Kp * Lp));
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
  const args = convArgs(q, 4 * Lp, tblAt);
  rt.run(dcols.map((dcolAt, t) => {
    const l: number[] = [];
    for (let n = parts[t]!; n < parts[t + 1]!; n++)
      for (let g = 0; g < p.groups; g++) {
        for (let k0 = 0; k0 < Og; k0 += KC)
          l.push(GEMM, wAt + 4 * (g * Og + k0) * Kp, 4 * Kp, 4 * MR, gyAt + 4 * (n * O + g * Og + k0) * Lp, 4 * Lp, 4 * NR, dcolAt, 4 * Lp, Kp, Lp, Math.min(KC, Og - k0), k0 > 0 ? 1 : 0);
        l.push(COL2IM, gxAt + 4 * (n * C + g * Cg) * Hh * W, dcolAt, ...args);
      }
    return l;
  }));
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
  // NOTE: the sum over images runs in ranges that depend on the shapes only, never on the thread
  // count (each range into its own accumulator, the accumulators added in order), so the result
  // has the same bits on one thread as on two (issue 13: cutting the batch into one range per list
  // gave a two-thread run different weights). Split, each list is a range with its own column
  // buffer; else the ranges run one after the other in one list, sharing one.
  const work = N * O * L * K;
  const parts = ranges(N, work < GW_PART_MIN ? 1 : Math.min(N, GW_PARTS));
  const split = rt.pieces > 1 && work >= rt.splitMin;
  const m = rt.arena();
  const xAt = m.take(4 * x.length);
  // NOTE: NT_MR spare rows after gy: the last group's padded tile rows read them (results discarded).
  const gyAt = m.take(4 * (N * O + NT_MR) * Lp);
  const cols = (split ? parts.slice(1) : [0]).map(() => m.take(4 * Kp * Lp));
  const gws = parts.slice(1).map(() => m.take(4 * p.groups * Ogp * Kp));
  const tblAt = m.take(8 * q.kW);
  const Hp = rt.heap(m.at);
  Hp.set(x, xAt >> 2);
  if (Lp > L) Hp.fill(0, gyAt >> 2, (gyAt >> 2) + N * O * Lp);
  Hp.fill(0, (gyAt >> 2) + N * O * Lp, (gyAt >> 2) + (N * O + NT_MR) * Lp);
  copyRows(Hp, gyAt >> 2, gy, N * O, L, Lp);
  // padding columns (p >= L) and rows (r >= K) of col stay zero: im2col writes [K, L] only
  for (const colAt of cols) Hp.fill(0, colAt >> 2, (colAt >> 2) + Kp * Lp);
  for (const gwAt of gws) Hp.fill(0, gwAt >> 2, (gwAt >> 2) + p.groups * Ogp * Kp);
  writeTable(rt, q, tblAt);
  const args = convArgs(q, 4 * Lp, tblAt);
  // NOTE: not split, one list, built in place (concatenating the ranges' lists with
  // Array.prototype.flat made the one-thread gradient of a [64, 1, 8, 8] batch 2.5x slower)
  const lists: number[][] = split ? [] : [[]];
  gws.forEach((gwAt, t) => {
    const l = split ? (lists[t] = []) : lists[0]!;
    const colAt = cols[split ? t : 0]!;
    for (let n = parts[t]!; n < parts[t + 1]!; n++)
      for (let g = 0; g < p.groups; g++) {
        l.push(IM2COL, xAt + 4 * (n * C + g * Cg) * Hh * W, colAt, ...args);
        for (let kb = 0; kb < Lp; kb += KB)
          l.push(GEMM_NT, gyAt + 4 * ((n * O + g * Og) * Lp + kb), 4 * Lp, colAt + 4 * kb, 4 * Lp, gwAt + 4 * g * Ogp * Kp, 4 * Kp, Ogp, Kp, Math.min(KB, Lp - kb), 1);
      }
  });
  rt.run(lists);
  // the accumulators added in order (SIMD; each sum rounded to float32 as in JS)
  for (let t = 1; t < gws.length; t++) rt.k.add!(gws[0]!, gws[t]!, gws[0]!, p.groups * Ogp * Kp);
  const Hq = rt.heap(0);
  for (let g = 0; g < p.groups; g++) copyRowsOut(Hq, (gws[0]! >> 2) + g * Ogp * Kp, out.subarray(g * Og * K), Og, K, Kp);
  return out;
}
