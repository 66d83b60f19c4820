/**
 * The kernel layer's public surface: the Backend contract, the registry, the reference (oracle)
 * backend and the fast backends (registered explicitly with `registerFastBackends`).
 */
export type { Backend, View, UnaryOp, UnaryParams, BinaryOp, ReduceOp, Conv2dParams, Pool2dParams, AdamConstants } from "./backend.js";
export { registerBackend, setBackend, getBackend, listBackends } from "./registry.js";
export { referenceBackend } from "./reference.js";
export { fastJsBackend, makeGemmBackend } from "./js/backend.js";
export { gemmJs } from "./js/gemm.js";
export type { Gemm, MatRef } from "./js/gemm.js";
export { createWasmBackend } from "./wasm/backend.js";
export { simdSupported } from "./wasm/emit.js";
export { registerFastBackends, chooseFastBackend } from "./fast.js";
export type { RegisterFastOptions } from "./fast.js";
