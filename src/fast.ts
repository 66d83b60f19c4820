/**
 * "safegrad/fast": the fast backends, for explicit control. Nobody needs it to be fast: the main
 * entry chooses the best backend on first use (in Node at once, in a browser as a separate chunk,
 * see `ready`). Import it to pick threads, build a GEMM backend of your own, or register the fast
 * backends under their names before choosing one with `setBackend`.
 * @example
 * import { registerFastBackends } from "safegrad/fast";
 * registerFastBackends({ threads: 2, select: true }); // wasm on two threads where workers can share memory
 * @module safegrad/fast
 */
export { registerFastBackends, chooseFastBackend, fastJsBackend, createWasmBackend, simdSupported, makeGemmBackend } from "./kernels/index.js";
export type { RegisterFastOptions, Gemm, MatRef } from "./kernels/index.js";
