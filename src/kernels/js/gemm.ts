/**
 * The GEMM contract shared by the fast backends, and the pure-JS GEMM.
 *
 * A matrix is given by a storage, an offset and a row and a column stride, so transposed and
 * batched views are multiplied without a copy: packing (below) reads any strides.
 */
import type { TypedArray } from "../../tensor/dtype.js";

/** A strided 2-D matrix inside a typed array: element (i, j) is data[off + i * rs + j * cs]. */
/**
 * A strided matrix operand of a {@link Gemm}: element (i, j) is `data[off + i * rs + j * cs]`, so a
 * transposed or narrowed view is passed without a copy.
 */
export interface MatRef {
  /** The storage holding the matrix. */
  readonly data: TypedArray;
  /** Index of element (0, 0) in `data`. */
  readonly off: number;
  /** Row stride: the distance in `data` between (i, j) and (i + 1, j). */
  readonly rs: number;
  /** Column stride: the distance in `data` between (i, j) and (i, j + 1). */
  readonly cs: number;
}

/** out[outOff + i * ldc + j] = sum_k A[i, k] * B[k, j] for i < M, j < N (overwrites). */
export type Gemm = (M: number, N: number, K: number, a: MatRef, b: MatRef, out: TypedArray, outOff: number, ldc: number) => void;

// NOTE: cache blocking as in BLIS (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", 2008): a KC x N panel of B and an MC x KC block of A are packed into
// micro-panels so that the 4x4 micro-kernel reads both with unit stride. 4x4 keeps the 16
// accumulators plus 8 operands in V8's 16 double registers on x86-64 with few spills; larger
// tiles measured slower in Node 20 (3-4 GFLOP/s for 4x4 at N=1024 vs 2 GFLOP/s for i-k-j).
const KC = 256;
const MC = 64;
const MR = 4;
const NR = 4;

let bpack: Float64Array = new Float64Array(0);
let apack: Float64Array = new Float64Array(0);

function scratch(cur: Float64Array, n: number): Float64Array {
  return cur.length >= n ? cur : new Float64Array(Math.max(n, cur.length * 2));
}

/** Pack B[k0 .. k0+kc, 0 .. N) into NR-column micro-panels (zero padded to Np columns). */
function packB(b: MatRef, k0: number, kc: number, N: number, Np: number, dst: Float64Array): void {
  const B = b.data;
  const { rs, cs } = b;
  for (let jp = 0; jp < Np; jp += NR) {
    let o = jp * kc;
    const full = jp + NR <= N;
    for (let k = 0; k < kc; k++) {
      const r = b.off + (k0 + k) * rs + jp * cs;
      if (full) {
        dst[o] = B[r]!;
        dst[o + 1] = B[r + cs]!;
        dst[o + 2] = B[r + 2 * cs]!;
        dst[o + 3] = B[r + 3 * cs]!;
      } else {
        for (let c = 0; c < NR; c++) dst[o + c] = jp + c < N ? B[r + c * cs]! : 0;
      }
      o += NR;
    }
  }
}

/**
 * Pack A[i0 .. i0+mc, k0 .. k0+kc) into MR-row micro-panels (zero padded to a multiple of MR rows)
 * at dst[at ..]. The wasm GEMM packs with it too (its MR is also 4).
 */
export function packA(a: MatRef, i0: number, mc: number, k0: number, kc: number, dst: TypedArray, at = 0): void {
  const A = a.data;
  const { rs, cs } = a;
  for (let ip = 0; ip < mc; ip += MR) {
    let o = at + ip * kc;
    const full = ip + MR <= mc;
    const r0 = a.off + (i0 + ip) * rs + k0 * cs;
    for (let k = 0; k < kc; k++) {
      const r = r0 + k * cs;
      if (full) {
        dst[o] = A[r]!;
        dst[o + 1] = A[r + rs]!;
        dst[o + 2] = A[r + 2 * rs]!;
        dst[o + 3] = A[r + 3 * rs]!;
      } else {
        for (let q = 0; q < MR; q++) dst[o + q] = ip + q < mc ? A[r + q * rs]! : 0;
      }
      o += MR;
    }
  }
}

/** C[0 .. mcp, 0 .. Np) += Ap * Bp, all packed; C has row stride Np. */
function macroKernel(ap: Float64Array, bp: Float64Array, c: Float64Array, cOff: number, mcp: number, Np: number, kc: number): void {
  for (let jp = 0; jp < Np; jp += NR) {
    for (let ip = 0; ip < mcp; ip += MR) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = ip * kc;
      let pb = jp * kc;
      for (let k = 0; k < kc; k++) {
        const a0 = ap[pa]!, a1 = ap[pa + 1]!, a2 = ap[pa + 2]!, a3 = ap[pa + 3]!;
        const b0 = bp[pb]!, b1 = bp[pb + 1]!, b2 = bp[pb + 2]!, b3 = bp[pb + 3]!;
        pa += MR;
        pb += NR;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let o = cOff + ip * Np + jp;
      c[o] = c[o]! + c00; c[o + 1] = c[o + 1]! + c01; c[o + 2] = c[o + 2]! + c02; c[o + 3] = c[o + 3]! + c03;
      o += Np;
      c[o] = c[o]! + c10; c[o + 1] = c[o + 1]! + c11; c[o + 2] = c[o + 2]! + c12; c[o + 3] = c[o + 3]! + c13;
      o += Np;
      c[o] = c[o]! + c20; c[o + 1] = c[o + 1]! + c21; c[o + 2] = c[o + 2]! + c22; c[o + 3] = c[o + 3]! + c23;
      o += Np;
      c[o] = c[o]! + c30; c[o + 1] = c[o + 1]! + c31; c[o + 2] = c[o + 2]! + c32; c[o + 3] = c[o + 3]! + c33;
    }
  }
}

/**
 * The pure-JS GEMM: packed, cache-blocked, 4x4 register-blocked, accumulating in float64.
 * @example
 * gemmJs(2, 2, 2, { data: a, off: 0, rs: 2, cs: 1 }, { data: b, off: 0, rs: 2, cs: 1 }, out, 0, 2);
 */
export const gemmJs: Gemm = (M, N, K, a, b, out, outOff, ldc) => {
  if (M === 0 || N === 0) return;
  // NOTE: small products (and thin ones, fewer than 4 rows or columns): packing costs more than it
  // saves; a plain dot product per element, accumulated in float64 (K = 0 gives zeros).
  if (M * N * K <= 4096 || M < MR || N < NR) {
    const A = a.data;
    const B = b.data;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0, p = a.off + i * a.rs, q = b.off + j * b.cs; k < K; k++, p += a.cs, q += b.rs) s += A[p]! * B[q]!;
        out[outOff + i * ldc + j] = s;
      }
    return;
  }
  const Np = Math.ceil(N / NR) * NR;
  const Mp = Math.ceil(M / MR) * MR;
  const kcMax = Math.min(KC, K);
  bpack = scratch(bpack, kcMax * Np);
  apack = scratch(apack, MC * kcMax);
  const c = new Float64Array(Mp * Np);
  const bp = bpack;
  const ap = apack;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    packB(b, k0, kc, N, Np, bp);
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = Math.min(MC, M - i0);
      packA(a, i0, mc, k0, kc, ap);
      macroKernel(ap, bp, c, i0 * Np, Math.ceil(mc / MR) * MR, Np, kc);
    }
  }
  for (let i = 0; i < M; i++) {
    const o = outOff + i * ldc;
    const r = i * Np;
    for (let j = 0; j < N; j++) out[o + j] = c[r + j]!;
  }
};
