/**
 * The "wasm" backend: WebAssembly SIMD kernels generated at runtime, for float32 GEMM (matmul;
 * conv2d and both gradients run entirely in WASM, see conv.ts) from kernels.ts, and
 * elementwise ops (dense or with a broadcast bias/scalar operand), exp, softmax, comparisons, sums over
 * leading or trailing axes and the fused Adam step from math.ts (wired in elementwise.ts).
 * Everything else (float64, other strided layouts, the other transcendental functions) runs on
 * js-fast, which has the same results within float rounding.
 *
 * Memory: one WebAssembly.Memory, grown as needed. Each call lays its operands out from byte 0
 * (calls are synchronous), copies inputs in and results out: the Backend contract returns fresh
 * typed arrays that must survive a later `memory.grow`, which detaches views of the old buffer.
 *
 * Works in Node and browsers: only the WebAssembly global is used. Both modules are compiled
 * synchronously, so each stays under Chrome's 4 KB limit for synchronous compilation on the
 * main thread (tests check).
 */
import type { TypedArray } from "../../tensor/dtype.js";
import type { Backend, View } from "../backend.js";
import { gemmJs, packA, type Gemm, type MatRef } from "../js/gemm.js";
import { fastJsBackend, makeGemmBackend } from "../js/backend.js";
import { adamWasm, binaryWasm, reduceWasm, unaryWasm } from "./elementwise.js";
import { maskedSoftmaxWasm, softmaxBackwardWasm } from "./softmax.js";
import { layerNormBackwardWasm, layerNormWasm } from "./norm.js";
import { conv2dInputGradWasm, conv2dWasm, conv2dWeightGradWasm } from "./conv.js";
import { MR, NR, NT_MR, NT_NR } from "./kernels.js";
import { simdSupported } from "./emit.js";
import { Arena, GEMM, GEMM_NT, roundUp, WasmRuntime } from "./runtime.js";
import { geluBackwardWasm, geluWasm } from "./gelu.js";
import { batchedMatmulWasm } from "./matmul.js";

// NOTE: KC x NR x 4 B = 8 KB of B per micro-panel stays in L1 while the MC x KC block of A
// (128 KB) streams from L2; NC bounds the packed B block (KC x NC x 4 B = 4 MB) for wide GEMMs.
const KC = 256;
const MC = 128;
const NC = 4096;
/** k block (floats) and row block of the dot-product (NT) path: an MC_NT x KB_NT block of A is 256 KB. */
const KB_NT = 1024;
const MC_NT = 64;
/** The longest k for which a C at least 64 wide takes the packed path rather than the dot-product one. */
const NT_KMAX = 256;


/** Pack B[k0 .. k0+kc, j0 .. j0+nc) into NR-column micro-panels at float index `at`. */
function packB(b: MatRef, k0: number, kc: number, j0: number, nc: number, ncp: number, H: Float32Array, at: number): void {
  const B = b.data;
  const { rs, cs } = b;
  for (let jp = 0; jp < ncp; jp += NR) {
    let o = at + jp * kc;
    const w = Math.min(NR, nc - jp);
    const base = b.off + k0 * rs + (j0 + jp) * cs;
    if (w === NR && cs === 1) {
      for (let k = 0; k < kc; k++, o += NR) {
        const r = base + k * rs;
        H[o] = B[r]!; H[o + 1] = B[r + 1]!; H[o + 2] = B[r + 2]!; H[o + 3] = B[r + 3]!;
        H[o + 4] = B[r + 4]!; H[o + 5] = B[r + 5]!; H[o + 6] = B[r + 6]!; H[o + 7] = B[r + 7]!;
      }
    } else {
      for (let k = 0; k < kc; k++, o += NR) {
        const r = base + k * rs;
        let c = 0;
        for (; c < w; c++) H[o + c] = B[r + c * cs]!;
        for (; c < NR; c++) H[o + c] = 0;
      }
    }
  }
}

/**
 * Copy a rows x cols block with unit column stride from src (row stride rs) to dst at `at` (row
 * stride ld): one copy when both are contiguous, else per row (element by element for short rows,
 * where a subarray per row costs more than the copy).
 */
function copyRows(src: TypedArray, off: number, rs: number, rows: number, cols: number, dst: TypedArray, at: number, ld: number): void {
  if (rs === cols && ld === cols) dst.set(src.subarray(off, off + rows * cols), at);
  else if (cols < 32) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[at + r * ld + c] = src[off + r * rs + c]!;
  else for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * rs, off + r * rs + cols), at + r * ld);
}

/**
 * Room in the arena for the span of `data` a float32 rows x cols matrix covers: [byte address,
 * span in floats], or null when its strides are negative, or it covers more than twice its size
 * or 2^24 floats (64 MB: beyond that the copy costs more memory than the packing saves time).
 */
function stage(m: Arena, r: MatRef, rows: number, cols: number): [number, number] | null {
  const span = (rows - 1) * r.rs + (cols - 1) * r.cs + 1;
  return r.rs < 0 || r.cs < 0 || span > Math.min(2 * rows * cols, 1 << 24) ? null : [m.take(4 * span), span];
}

/**
 * Cut `rows` x `cols` (multiples of the tile `mr` x `nr`) into at most `n` rectangles along the
 * longer side in tiles: [row0, row1, col0, col1] each.
 */
function split(n: number, rows: number, cols: number, mr: number, nr: number): number[][] {
  const byRows = rows / mr >= cols / nr;
  const len = byRows ? rows : cols;
  const step = roundUp(len / n, byRows ? mr : nr);
  const out: number[][] = [];
  for (let s = 0; s < len; s += step) out.push(byRows ? [s, Math.min(len, s + step), 0, cols] : [0, rows, s, Math.min(len, s + step)]);
  return out;
}

/**
 * C = A B^T with both operands row-major along k (a.cs = 1, b.rs = 1): copied in as rows (no
 * packing) and multiplied by the dot-product kernel, blocked so an MC_NT x KB_NT block of A
 * stays in L2. With two threads C is cut into pieces (rows or columns) that both threads take.
 */
function gemmNT(rt: WasmRuntime, M: number, N: number, K: number, a: MatRef, b: MatRef, out: Float32Array, outOff: number, ldc: number): void {
  const Kp = roundUp(K, 4);
  const Mp = roundUp(M, NT_MR);
  const Np = roundUp(N, NT_NR);
  const m = rt.arena();
  const aAt = m.take(4 * Mp * Kp);
  const bAt = m.take(4 * Np * Kp);
  const cAt = m.take(4 * Mp * Np);
  const H = rt.heap(m.at);
  // NOTE: padding columns (k >= K) must be zero in both operands; padding rows only feed
  // discarded outputs, but are zeroed too so no NaN is ever computed from stale memory.
  if (Kp > K || Mp > M) H.fill(0, aAt >> 2, (aAt >> 2) + Mp * Kp);
  if (Kp > K || Np > N) H.fill(0, bAt >> 2, (bAt >> 2) + Np * Kp);
  copyRows(a.data, a.off, a.rs, M, K, H, aAt >> 2, Kp);
  copyRows(b.data, b.off, b.cs, N, K, H, bAt >> 2, Kp);
  const parts = split(M * N * K < rt.splitMin ? 1 : rt.pieces, Mp, Np, NT_MR, NT_NR);
  rt.run(parts.map(([r0, r1, c0, c1]) => {
    const l: number[] = [];
    for (let k0 = 0; k0 < Kp; k0 += KB_NT)
      for (let i0 = r0!; i0 < r1!; i0 += MC_NT)
        l.push(GEMM_NT, aAt + 4 * (i0 * Kp + k0), 4 * Kp, bAt + 4 * (c0! * Kp + k0), 4 * Kp, cAt + 4 * (i0 * Np + c0!), 4 * Np, Math.min(MC_NT, r1! - i0), c1! - c0!, Math.min(KB_NT, Kp - k0), k0 > 0 ? 1 : 0);
    return l;
  }));
  copyRows(H, cAt >> 2, Np, M, N, out, outOff, ldc);
}

function makeGemm(rt: WasmRuntime): Gemm {
  // NOTE: rt.guard runs a call again if the worker died in it: a call overwrites its block of
  // `out` from the same operands, so the second run gives the same bits
  return (M, N, K, a, b, out, outOff, ldc) => {
    if (!(a.data instanceof Float32Array && b.data instanceof Float32Array && out instanceof Float32Array) || M * N * K < 8192 || K === 0) {
      gemmJs(M, N, K, a, b, out, outOff, ldc);
      return;
    }
    // NOTE: for short k the dot-product kernel's horizontal sums (per element of C) cost more than
    // packing: K <= 32 always; K <= 256 unless C is narrow, where the packed path's NR-wide panels
    // would mostly compute padding (x @ W^T, gemm-w6: 128 x 512 / 128 x 128 1.15x faster packed,
    // K = 512 the same; gemm-w4: 256 x 256 1.04x, but 256 x 10 1.8x slower packed)
    if (a.cs === 1 && b.rs === 1 && b.cs !== 0 && a.rs !== 0 && K > 32 && (K > NT_KMAX || N < 64)) {
      rt.guard(() => gemmNT(rt, M, N, K, a, b, out, outOff, ldc));
      return;
    }
    rt.guard(() => gemmPacked(rt, M, N, K, a, b, out, outOff, ldc));
  };
}

/** C = A B on packed panels (the general path). */
function gemmPacked(rt: WasmRuntime, M: number, N: number, K: number, a: MatRef, b: MatRef, out: Float32Array, outOff: number, ldc: number): void {
  // NOTE: A is packed whole per k block (also a transposed A, x^T @ gy in a weight gradient:
  // reading it in place with a row stride was slower than packing it), and with two threads the
  // block's C is cut into pieces.
  const pieces = M * N * K < rt.splitMin ? 1 : rt.pieces;
  const Mp = roundUp(M, MR);
  const ncMax = Math.min(NC, roundUp(N, NR));
  const kcMax = Math.min(KC, K);
  const m = rt.arena();
  const cAt = m.take(4 * Mp * ncMax);
  const bAt = m.take(4 * kcMax * ncMax);
  const aAt = m.take(4 * Mp * kcMax);
  // each operand is copied into wasm memory once (one copy of the span it covers, when that is
  // dense enough) and packed there: packing in JS cost 8% of a 1024 product, all of it serial
  const as = stage(m, a, M, K);
  const bs = stage(m, b, K, N);
  const H = rt.heap(m.at);
  for (const [r, st] of [[a, as], [b, bs]] as const) if (st) H.set(r.data.subarray(r.off, r.off + st[1]), st[0] >> 2);
  // A's rows in whole panels, packed in wasm (the rest, if any, in JS)
  const na = as ? Math.floor(M / MR) * MR : 0;
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    const ncp = roundUp(nc, NR);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      // full panels in wasm, the last partial one (and operands not staged) in JS
      const nb = bs ? Math.floor(nc / NR) : 0;
      const bSrc = bs ? bs[0] + 4 * (k0 * b.rs + j0 * b.cs) : 0;
      // B^T row-major (x @ W^T): each 8-wide panel is two 4-row halves transposed in registers
      if (bs && b.rs === 1 && kc % 4 === 0) for (const h of [0, 1]) rt.math.packT(bSrc + 16 * h * b.cs, 4 * b.cs, bAt + 16 * h, kc / 4, nb, 4 * NR * b.cs, 4 * NR);
      else if (bs) rt.math.pack(bSrc, 4 * b.rs, 4 * b.cs, 4 * NR * b.cs, bAt, kc, nb, NR);
      if (nb * NR < ncp) packB(b, k0, kc, j0 + nb * NR, nc - nb * NR, ncp - nb * NR, H, (bAt >> 2) + nb * NR * kc);
      if (as && a.cs === 1 && kc % 4 === 0) rt.math.packT(as[0] + 4 * k0, 4 * a.rs, aAt, kc / 4, na / MR, 4 * MR * a.rs, 4 * MR);
      else if (as) rt.math.pack(as[0] + 4 * k0 * a.cs, 4 * a.cs, 4 * a.rs, 4 * MR * a.rs, aAt, kc, na / MR, MR);
      if (na < M) packA(a, na, M - na, k0, kc, H, (aAt >> 2) + na * kc);
      rt.run(split(pieces, Mp, ncp, MR, NR).map(([r0, r1, c0, c1]) => {
        const l: number[] = [];
        for (let i0 = r0!; i0 < r1!; i0 += MC)
          l.push(GEMM, aAt + 4 * i0 * kc, 4 * MR, 4 * MR * kc, bAt + 4 * c0! * kc, 4 * NR, 4 * NR * kc, cAt + 4 * (i0 * ncp + c0!), 4 * ncp, Math.min(MC, r1! - i0), c1! - c0!, kc, k0 > 0 ? 1 : 0);
        return l;
      }));
    }
    copyRows(H, cAt >> 2, ncp, M, nc, out, outOff + j0, ldc);
  }
}

/**
 * Create the WASM SIMD backend, or null where WebAssembly SIMD is unavailable. With
 * `threads: 2`, GEMMs and convolutions are split with a worker sharing the memory where
 * SharedArrayBuffer and workers exist (Node >= 20.16; cross-origin isolated pages), else one thread.
 * @example
 * const wasm = createWasmBackend({ threads: 2 });
 * if (wasm) { registerBackend(wasm); setBackend("wasm"); }
 */
export function createWasmBackend(options: { threads?: number } = {}): Backend | null {
  if (!simdSupported()) return null;
  try {
    return wasmBackendOn(new WasmRuntime(options.threads));
  } catch {
    return null;
  }
}

/** The runtime behind a backend made here (benchmarks and tests wait for its worker). */
export const wasmRuntimeOf = (b: Backend): WasmRuntime | undefined => (b as { rt?: WasmRuntime }).rt;

/** The wasm backend on a given runtime. */
export function wasmBackendOn(rt: WasmRuntime): Backend {
  const gemm = makeGemm(rt);
  const base = makeGemmBackend("wasm", gemm);
  const isF32 = (...vs: View[]): boolean => vs.every((v) => v.dtype === "float32" && v.storage instanceof Float32Array);
  return {
    ...base,
    ...{ rt }, // see wasmRuntimeOf
    matmul: (a, b) => batchedMatmulWasm(rt, a, b) ?? base.matmul(a, b),
    matmulOrdered: (a, b, order) => batchedMatmulWasm(rt, a, b, order) ?? base.matmulOrdered!(a, b, order),
    conv2d: (x, w, p) => (isF32(x, w) ? rt.guard(() => conv2dWasm(rt, x, w, p)) : base.conv2d(x, w, p)),
    conv2dInputGrad: (gy, w, xShape, p) => (isF32(gy, w) ? rt.guard(() => conv2dInputGradWasm(rt, gy, w, xShape, p)) : base.conv2dInputGrad(gy, w, xShape, p)),
    geluBackward: (x, g, a) => (a === "none" ? geluBackwardWasm(rt, x, g) : null) ?? base.geluBackward(x, g, a),
    conv2dWeightGrad: (x, gy, wShape, p) => (isF32(x, gy) ? rt.guard(() => conv2dWeightGradWasm(rt, x, gy, wShape, p)) : base.conv2dWeightGrad(x, gy, wShape, p)),
    unary: (op, x, params) => (op === "gelu" ? geluWasm(rt, x) : unaryWasm(rt, op, x)) ?? fastJsBackend.unary(op, x, params),
    binary: (op, a, b, outDtype) => binaryWasm(rt, op, a, b, outDtype) ?? fastJsBackend.binary(op, a, b, outDtype),
    adamUpdate: (p, g, m, v, c) => adamWasm(rt, p, g, m, v, c),
    reduce: (op, x, axes) => reduceWasm(rt, op, x, axes) ?? fastJsBackend.reduce(op, x, axes),
    softmax: (x, axis, log) => maskedSoftmaxWasm(rt, x, axis, log, null, false) ?? base.softmax(x, axis, log),
    maskedSoftmax: (x, axis, log, mask, causal) => maskedSoftmaxWasm(rt, x, axis, log, mask, causal) ?? base.maskedSoftmax(x, axis, log, mask, causal),
    softmaxBackward: (g, y, axis, log, mask, causal) => softmaxBackwardWasm(rt, g, y, axis, log, mask, causal) ?? base.softmaxBackward(g, y, axis, log, mask, causal),
    layerNorm: (x, w, b, n, eps) => layerNormWasm(rt, x, w, b, n, eps) ?? base.layerNorm(x, w, b, n, eps),
    layerNormBackward: (x, w, g, n, eps) => layerNormBackwardWasm(rt, x, w, g, n, eps) ?? base.layerNormBackward(x, w, g, n, eps),
  };
}

/** Exposed for tests: the raw float32 GEMM of a fresh runtime (null without SIMD). */
export function createWasmGemm(): Gemm | null {
  return simdSupported() ? makeGemm(new WasmRuntime()) : null;
}

export type { TypedArray };
