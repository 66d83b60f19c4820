/**
 * The "wasm" backend: WebAssembly SIMD kernels generated at runtime by wasm-kernels.ts, for
 * float32 GEMM (matmul, conv2d and its gradients through im2col), contiguous elementwise ops and
 * sums. Everything else (float64, strided or broadcast layouts, transcendental functions) runs on
 * js-fast, which has the same results within float rounding.
 *
 * Memory: one WebAssembly.Memory, grown as needed. Each call lays its operands out from byte 0
 * (calls are synchronous), copies inputs in and results out: the Backend contract returns fresh
 * typed arrays that must survive a later `memory.grow`, which detaches views of the old buffer.
 *
 * Works in Node and browsers: only the WebAssembly global is used. The module is compiled
 * synchronously; it is about 3 KB, under Chrome's 4 KB limit for synchronous compilation on the
 * main thread.
 */
import type { TypedArray } from "../tensor/dtype.js";
import { numel } from "../tensor/shape.js";
import type { Backend, BinaryOp, UnaryOp, View } from "./backend.js";
import { gemmJs, type Gemm, type MatRef } from "./gemm.js";
import { fastJsBackend, makeGemmBackend } from "./js-fast.js";
import { isDense } from "./strided.js";
import { buildKernelModule, MR, NR, type KernelExports } from "./wasm-kernels.js";
import { simdSupported } from "./wasm-emit.js";

const PAGE = 65536;
// NOTE: KC x NR x 4 B = 8 KB of B per micro-panel stays in L1 while the MC x KC block of A
// (128 KB) streams from L2; NC bounds the packed B block (KC x NC x 4 B = 4 MB) for wide GEMMs
// such as the conv im2col product (N = batch * Ho * Wo).
const KC = 256;
const MC = 128;
const NC = 4096;

const binaryMap: Partial<Record<BinaryOp, string>> = { add: "add", sub: "sub", mul: "mul", div: "div", maximum: "max", minimum: "min" };
const unaryMap: Partial<Record<UnaryOp, string>> = { neg: "neg", abs: "abs", sqrt: "sqrt", relu: "relu", square: "square" };

/** Below this many elements the copy-in/copy-out costs more than SIMD saves. */
const ELEMENTWISE_MIN = 256;

class WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  private f32: Float32Array;

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const bytes = buildKernelModule({ module: "env", name: "mem", initialPages: 1 });
    const mod = new WebAssembly.Module(bytes);
    const inst = new WebAssembly.Instance(mod, { env: { mem: this.memory } });
    this.k = inst.exports as unknown as KernelExports;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** A float32 view of memory with at least `bytes` bytes (grows the memory if needed). */
  heap(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }
}

const align = (n: number): number => (n + 15) & ~15;

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
    } else if (rs === 1) {
      // NOTE: a transposed B (W^T in a linear layer): walk each column contiguously.
      for (let c = 0; c < NR; c++) {
        let q = o + c;
        if (c < w) for (let k = 0, r = base + c * cs; k < kc; k++, q += NR) H[q] = B[r + k]!;
        else for (let k = 0; k < kc; k++, q += NR) H[q] = 0;
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

/** Pack A[i0 .. i0+mc, k0 .. k0+kc) into MR-row micro-panels at float index `at`. */
function packA(a: MatRef, i0: number, mc: number, k0: number, kc: number, H: Float32Array, at: number): void {
  const A = a.data;
  const { rs, cs } = a;
  for (let ip = 0; ip < mc; ip += MR) {
    let o = at + ip * kc;
    const h = Math.min(MR, mc - ip);
    const base = a.off + (i0 + ip) * rs + k0 * cs;
    if (h === MR) {
      for (let k = 0; k < kc; k++, o += MR) {
        const r = base + k * cs;
        H[o] = A[r]!; H[o + 1] = A[r + rs]!; H[o + 2] = A[r + 2 * rs]!; H[o + 3] = A[r + 3 * rs]!;
      }
    } else {
      for (let k = 0; k < kc; k++, o += MR) {
        const r = base + k * cs;
        let q = 0;
        for (; q < h; q++) H[o + q] = A[r + q * rs]!;
        for (; q < MR; q++) H[o + q] = 0;
      }
    }
  }
}

function makeGemm(rt: WasmRuntime): Gemm {
  return (M, N, K, a, b, out, outOff, ldc) => {
    if (!(a.data instanceof Float32Array && b.data instanceof Float32Array && out instanceof Float32Array) || M * N * K < 8192 || K === 0) {
      gemmJs(M, N, K, a, b, out, outOff, ldc);
      return;
    }
    const Mp = Math.ceil(M / MR) * MR;
    const ncMax = Math.min(NC, Math.ceil(N / NR) * NR);
    const kcMax = Math.min(KC, K);
    // layout (bytes): C block [Mp x ncMax] | packed B [kcMax x ncMax] | packed A [MC x kcMax]
    const cBytes = align(Mp * ncMax * 4);
    const bAt = cBytes;
    const aAt = bAt + align(kcMax * ncMax * 4);
    const H = rt.heap(aAt + MC * kcMax * 4);
    const k = rt.k;
    for (let j0 = 0; j0 < N; j0 += NC) {
      const nc = Math.min(NC, N - j0);
      const ncp = Math.ceil(nc / NR) * NR;
      const ldcBytes = ncp * 4;
      H.fill(0, 0, Mp * ncp);
      for (let k0 = 0; k0 < K; k0 += KC) {
        const kc = Math.min(KC, K - k0);
        packB(b, k0, kc, j0, nc, ncp, H, bAt >> 2);
        for (let i0 = 0; i0 < M; i0 += MC) {
          const mc = Math.min(MC, M - i0);
          const mcp = Math.ceil(mc / MR) * MR;
          packA(a, i0, mc, k0, kc, H, aAt >> 2);
          k.gemm(aAt, bAt, i0 * ldcBytes, mcp, ncp, kc, ldcBytes);
        }
      }
      for (let i = 0; i < M; i++) out.set(H.subarray(i * ncp, i * ncp + nc), outOff + i * ldc + j0);
    }
  };
}

function denseF32(v: View): Float32Array | null {
  if (!(v.storage instanceof Float32Array) || !isDense(v.shape, v)) return null;
  return v.storage.subarray(v.offset, v.offset + numel(v.shape));
}

/**
 * Create the WASM SIMD backend, or null where WebAssembly SIMD is unavailable.
 * @example
 * const wasm = createWasmBackend();
 * if (wasm) { registerBackend(wasm); setBackend("wasm"); }
 */
export function createWasmBackend(): Backend | null {
  if (!simdSupported()) return null;
  let rt: WasmRuntime;
  try {
    rt = new WasmRuntime();
  } catch {
    return null;
  }
  const gemm = makeGemm(rt);
  const base = makeGemmBackend("wasm", gemm);
  const k = rt.k;
  return {
    ...base,
    unary(op, x, params = {}) {
      const fn = unaryMap[op];
      const xs = fn ? denseF32(x) : null;
      if (!fn || !xs || xs.length < ELEMENTWISE_MIN) return fastJsBackend.unary(op, x, params);
      const n = xs.length;
      const H = rt.heap(8 * n);
      H.set(xs, 0);
      k[fn]!(0, 4 * n, n);
      return H.slice(n, 2 * n);
    },
    binary(op, a, b, outDtype) {
      const fn = binaryMap[op];
      const as = fn && outDtype === "float32" ? denseF32(a) : null;
      const bs = as ? denseF32(b) : null;
      if (!fn || !as || !bs || as.length < ELEMENTWISE_MIN) return fastJsBackend.binary(op, a, b, outDtype);
      const n = as.length;
      const H = rt.heap(12 * n);
      H.set(as, 0);
      H.set(bs, n);
      k[fn]!(0, 4 * n, 8 * n, n);
      return H.slice(2 * n, 3 * n);
    },
    reduce(op, x, axes) {
      const xs = op === "sum" ? denseF32(x) : null;
      // the reduced axes must be a suffix of the dims: each output is the sum of one contiguous row
      const nd = x.shape.length;
      const suffix = axes.every((d, i) => d === nd - axes.length + i);
      if (!xs || !suffix || xs.length < ELEMENTWISE_MIN) return fastJsBackend.reduce(op, x, axes);
      const rowLen = numel(x.shape.slice(nd - axes.length));
      const rows = rowLen === 0 ? numel(x.shape.slice(0, nd - axes.length)) : xs.length / rowLen;
      const H = rt.heap(4 * xs.length);
      H.set(xs, 0);
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) out[r] = k.sum(4 * r * rowLen, rowLen);
      return out;
    },
  };
}

/** Exposed for tests: the raw float32 GEMM of a fresh runtime (null without SIMD). */
export function createWasmGemm(): Gemm | null {
  return simdSupported() ? makeGemm(new WasmRuntime()) : null;
}

export type { TypedArray };
