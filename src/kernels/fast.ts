/**
 * Explicit registration of the fast backends (never an import side effect: `sideEffects: false`).
 */
import type { Backend } from "./backend.js";
import { fastJsBackend } from "./js-fast.js";
import { getBackend, listBackends, registerBackend, setBackend } from "./registry.js";
import { createWasmBackend } from "./wasm.js";

export interface RegisterFastOptions {
  /**
   * Also make the best one active: the `SAFEGRAD_BACKEND` environment variable when set (Node),
   * else "wasm" when WebAssembly SIMD is available, else "js-fast".
   */
  select?: boolean;
}

/**
 * Register "js-fast" and, where WebAssembly SIMD is available, "wasm". Returns the names registered.
 * @example
 * registerFastBackends({ select: true }); // "wasm" where SIMD is available, else "js-fast"
 * setBackend("js"); // back to the reference backend
 */
export function registerFastBackends(options: RegisterFastOptions = {}): string[] {
  const names: string[] = [];
  if (!listBackends().includes(fastJsBackend.name)) registerBackend(fastJsBackend);
  names.push(fastJsBackend.name);
  if (!listBackends().includes("wasm")) {
    const w = createWasmBackend();
    if (w) registerBackend(w);
  }
  if (listBackends().includes("wasm")) names.push("wasm");
  if (options.select) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SAFEGRAD_BACKEND;
    setBackend(env ?? (names.includes("wasm") ? "wasm" : fastJsBackend.name));
  }
  return names;
}

export type { Backend };
export { getBackend };
