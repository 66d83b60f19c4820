/**
 * Batched float32 matmul on the wasm GEMM micro-kernel, for many small products at once (the
 * attention products of a transformer: [32, 4, 64, 32] @ [32, 4, 32, 64] is 128 GEMMs of
 * 64 x 64 x 32). One backend call copies each operand's span into WebAssembly memory once, packs
 * only what the micro-kernel cannot read in place (once per distinct matrix: a broadcast operand is
 * packed once), runs every product in one job (split by batches with two threads) and copies the
 * whole result out at once. Operands with permuted (strided) batch and matrix dims, such as heads
 * of a [batch, seq, heads, dim] tensor or a transposed key, are read through their strides: no
 * contiguous copy of the permuted tensor is made.
 *
 * The micro-kernel (kernels.ts `gemm`) reads A's MR rows at step k as MR consecutive floats and
 * B's NR columns as NR consecutive floats, so A is read in place when it is column-major (a.rs = 1:
 * a transposed operand, g^T in a weight gradient) and B when it is row-major (b.cs = 1); otherwise
 * they are packed into micro-panels in WASM (`packT` for a row-major A and a B^T stored row-major,
 * `pack` for the rest).
 */
import type { View } from "../backend.js";
import type { TypedArray } from "../../tensor/dtype.js";
import { numel } from "../../tensor/shape.js";
import { offsetsOf } from "../../tensor/layout.js";
import { takeUninit } from "../../tensor/pool.js";
import { stridesInOrder } from "../layout.js";
import { MR, NR } from "./kernels.js";
import { GEMM, roundUp, type WasmRuntime } from "./runtime.js";

/** Per-product multiply-adds above which the per-matrix path (cache-blocked, k-blocked) is used. */
const SMALL = 1 << 21;
/** Longest k of the batched path (no k blocking: a 4 x 8 tile's k run stays in L1). */
const K_MAX = 512;
/**
 * Per-product multiply-adds below which the per-matrix path is used: a thousand 4 x 4 x 4 products
 * took 0.43 ms here against 0.18 on js-fast's plain loops; 8 x 8 x 8 ones are faster here.
 */
const TINY = 512;

/**
 * The elements of `v`'s storage that its first `dims` dims and the matrix dims cover: [first index,
 * span], or null for a negative stride or a span more than twice the distinct elements (or past
 * 2^24 floats), where a copy of the span would cost more than it saves.
 */
function spanOf(v: View): [number, number] | null {
  let span = 1;
  let distinct = 1;
  for (let d = 0; d < v.shape.length; d++) {
    const s = v.strides[d]!;
    const n = v.shape[d]!;
    if (s < 0) return null;
    span += (n - 1) * s;
    if (s !== 0) distinct *= n;
  }
  return span > Math.min(2 * distinct + 64, 1 << 24) ? null : [v.offset, span];
}

/**
 * Write MR- (or NR-) wide micro-panels of a strided matrix in JS: for k < kc, q < w, dst[at + k w + q]
 * = src[off + k kS + q qS] for q < count, else 0 (the last partial panel of a matrix).
 */
function packTail(src: TypedArray, off: number, kS: number, qS: number, count: number, w: number, kc: number, dst: Float32Array, at: number): void {
  for (let k = 0; k < kc; k++)
    for (let q = 0; q < w; q++) dst[at + k * w + q] = q < count ? src[off + k * kS + q * qS]! : 0;
}

/**
 * [...batch, M, K] @ [...batch, K, N] (same batch shape, any strides) for float32 with more than
 * one product, each small: null when another path fits better (one matrix, large or long-k
 * products, sparse or negative strides, other dtypes), for the caller to use it. With `order`
 * (`Backend.matmulOrdered`, ending with N's dim) the result is stored in that dim order: the
 * micro-kernel writes each product in place with the row stride of M's dim (heads of attention
 * come out merged, [batch, seq, heads, dim], with no copy).
 */
export function batchedMatmulWasm(rt: WasmRuntime, a: View, b: View, order?: readonly number[]): Float32Array | null {
  if (!(a.storage instanceof Float32Array && b.storage instanceof Float32Array)) return null;
  const nd = a.shape.length;
  const M = a.shape[nd - 2]!;
  const K = a.shape[nd - 1]!;
  const N = b.shape[nd - 1]!;
  const batch = a.shape.slice(0, nd - 2);
  const nb = numel(batch);
  if (nb < 2 || M * N * K > SMALL || M * N * K < TINY || K > K_MAX || nb * M * N * K < 8192) return null;
  const as = spanOf(a);
  const bs = spanOf(b);
  if (!as || !bs) return null;
  if (order && order[nd - 1] !== nd - 1) return null;
  return rt.guard(() => run(rt, a, b, M, N, K, batch, nb, as, bs, order));
}

function run(rt: WasmRuntime, a: View, b: View, M: number, N: number, K: number, batch: number[], nb: number, as: [number, number], bs: [number, number], order?: readonly number[]): Float32Array {
  const nd = a.shape.length;
  const [ars, acs] = [a.strides[nd - 2]!, a.strides[nd - 1]!];
  const [brs, bcs] = [b.strides[nd - 2]!, b.strides[nd - 1]!];
  const aOffs = offsetsOf(batch, a.strides.slice(0, nd - 2), 0);
  const bOffs = offsetsOf(batch, b.strides.slice(0, nd - 2), 0);
  const Mp = roundUp(M, MR);
  const Np = roundUp(N, NR);
  // read in place: A column-major in whole panels, B row-major in whole panels
  const aIn = ars === 1 && M % MR === 0;
  const bIn = bcs === 1 && N % NR === 0;
  // the result's batch offsets and row stride (floats): contiguous, or in `order`
  const oStrides = order ? stridesInOrder([...batch, M, N], order) : null;
  const oOffs = oStrides ? offsetsOf(batch, oStrides.slice(0, nd - 2), 0) : null;
  const ldo = oStrides ? oStrides[nd - 2]! : N;
  // NOTE: the micro-kernel writes whole MR x NR tiles, so C goes straight to the result's layout
  // only when no tile is partial; otherwise each product's tiles go to [Mp, Np] scratch
  const direct = Mp === M && Np === N;
  const m = rt.arena();
  // NOTE: 64 bytes of slack after each span: a vector load of its last floats stays inside
  const aAt = m.take(4 * as[1] + 64);
  const bAt = m.take(4 * bs[1] + 64);
  const cAt = m.take(4 * nb * Mp * Np);
  // packed copies, one per distinct matrix (a broadcast operand repeats its offsets)
  const aPacked = new Map<number, number>();
  const bPacked = new Map<number, number>();
  if (!aIn) for (const o of aOffs) if (!aPacked.has(o)) aPacked.set(o, m.take(4 * Mp * K));
  if (!bIn) for (const o of bOffs) if (!bPacked.has(o)) bPacked.set(o, m.take(4 * Np * K));
  const H = rt.heap(m.at);
  H.set(a.storage.subarray(as[0], as[0] + as[1]), aAt >> 2);
  H.set(b.storage.subarray(bs[0], bs[0] + bs[1]), bAt >> 2);
  const ma = rt.math;
  const fa = Math.floor(M / MR);
  const fb = Math.floor(N / NR);
  for (const [o, at] of aPacked) {
    // MR-row panels: dst[panel][k][q] = A[panel * MR + q, k]
    const src = aAt + 4 * o;
    if (acs === 1 && K % 4 === 0) ma.packT(src, 4 * ars, at, K / 4, fa, 4 * MR * ars, 4 * MR);
    else ma.pack(src, 4 * acs, 4 * ars, 4 * MR * ars, at, K, fa, MR);
    if (fa < Mp / MR) packTail(a.storage, a.offset + o + fa * MR * ars, acs, ars, M - fa * MR, MR, K, H, (at >> 2) + fa * MR * K);
  }
  for (const [o, at] of bPacked) {
    // NR-column panels: dst[panel][k][q] = B[k, panel * NR + q]
    // B^T row-major (a transposed key): each panel is two 4-row halves transposed in registers
    if (brs === 1 && K % 4 === 0) for (const h of [0, 1]) ma.packT(bAt + 4 * o + 16 * h * bcs, 4 * bcs, at + 16 * h, K / 4, fb, 4 * NR * bcs, 4 * NR);
    else ma.pack(bAt + 4 * o, 4 * brs, 4 * bcs, 4 * NR * bcs, at, K, fb, NR);
    if (fb < Np / NR) packTail(b.storage, b.offset + o + fb * NR * bcs, brs, bcs, N - fb * NR, NR, K, H, (at >> 2) + fb * NR * K);
  }
  // the micro-kernel's strides (bytes): per k step and per panel
  const [aK, aP] = aIn ? [4 * acs, 4 * MR] : [4 * MR, 4 * MR * K];
  const [bK, bP] = bIn ? [4 * brs, 4 * NR] : [4 * NR, 4 * NR * K];
  const pieces = Math.min(nb, nb * M * N * K < rt.splitMin ? 1 : rt.pieces);
  const per = Math.ceil(nb / pieces);
  const lists: number[][] = [];
  for (let b0 = 0; b0 < nb; b0 += per) {
    const l: number[] = [];
    for (let bi = b0; bi < Math.min(nb, b0 + per); bi++) {
      const ap = aIn ? aAt + 4 * aOffs[bi]! : aPacked.get(aOffs[bi]!)!;
      const bp = bIn ? bAt + 4 * bOffs[bi]! : bPacked.get(bOffs[bi]!)!;
      const c = direct ? cAt + 4 * (oOffs ? oOffs[bi]! : bi * M * N) : cAt + 4 * bi * Mp * Np;
      l.push(GEMM, ap, aK, aP, bp, bK, bP, c, 4 * (direct ? ldo : Np), Mp, Np, K, 0);
    }
    lists.push(l);
  }
  rt.run(lists);
  const c0 = cAt >> 2;
  // every element of the result is written below: it may come from the pool of recycled gradients
  const out = takeUninit("float32", nb * M * N);
  if (direct) out.set(H.subarray(c0, c0 + nb * M * N));
  else
    for (let bi = 0; bi < nb; bi++)
      for (let i = 0; i < M; i++) {
        const r = c0 + (bi * Mp + i) * Np;
        out.set(H.subarray(r, r + N), (oOffs ? oOffs[bi]! : bi * M * N) + i * ldo);
      }
  return out;
}
