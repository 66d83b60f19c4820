/**
 * Explicit registration of the fast backends (never an import side effect: `sideEffects: false`).
 */
import type { Backend } from "./backend.js";
import { fastJsBackend } from "./js/backend.js";
import { ValueError } from "../errors.js";
import { activeBackendName, getBackend, listBackends, registerBackend, setBackend } from "./registry.js";
import { createWasmBackend } from "./wasm/backend.js";

/** Options of {@link registerFastBackends}. */
export interface RegisterFastOptions {
  /**
   * Also make the best one active: the `SAFEGRAD_BACKEND` environment variable when set (Node),
   * else "wasm" when WebAssembly SIMD is available, else "js-fast".
   */
  select?: boolean;
  /**
   * 2: split GEMMs and convolutions of "wasm" across the calling thread and one worker sharing
   * its memory (where SharedArrayBuffer and workers exist; else one thread). Default: the
   * `SAFEGRAD_THREADS` environment variable (Node), else 1. The worker exits after 1 s idle and
   * never keeps a Node process alive.
   */
  threads?: number;
}


/**
 * Register "js-fast" and, where WebAssembly SIMD is available, "wasm" (again, replacing it, when
 * `threads` is given). Returns the names registered.
 * @example
 * registerFastBackends({ select: true }); // "wasm" where SIMD is available, else "js-fast"
 * registerFastBackends({ threads: 2 }); // "wasm" on two threads where workers can share memory
 * setBackend("js"); // back to the reference backend
 */
export function registerFastBackends(options: RegisterFastOptions = {}): string[] {
  const names: string[] = [];
  if (!listBackends().includes(fastJsBackend.name)) registerBackend(fastJsBackend);
  names.push(fastJsBackend.name);
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  if (options.threads || !listBackends().includes("wasm")) {
    const w = createWasmBackend({ threads: options.threads ?? (Number(env.SAFEGRAD_THREADS) || 1) });
    if (w) {
      registerBackend(w);
      if (activeBackendName() === "wasm") setBackend("wasm"); // the new one replaces the active one
    }
  }
  if (listBackends().includes("wasm")) names.push("wasm");
  if (options.select) setBackend(env.SAFEGRAD_BACKEND || (names.includes("wasm") ? "wasm" : fastJsBackend.name));
  return names;
}

/**
 * The backend chosen on first use by the Node entry points ("safegrad" under Node's export
 * condition, and "safegrad/node"): `SAFEGRAD_BACKEND` when set (any registered name, "js" for the
 * reference), else "wasm" where WebAssembly SIMD exists, else "js-fast"; `SAFEGRAD_THREADS`
 * threads for "wasm". Browsers and bundles load the same choice as a separate chunk on first use
 * (`await ready()` waits for it): see docs/backends.md, "Fast by default".
 * @example
 * const b = chooseFastBackend(); // registers the fast backends, returns the best (not selecting it)
 * b.name; // "wasm" on this machine
 */
export function chooseFastBackend(): Backend {
  return setBackend(bestFastBackendName());
}

/**
 * @internal Register the fast backends and name the best: `SAFEGRAD_BACKEND` when set (checked),
 * else "wasm" where WebAssembly SIMD exists, else "js-fast".
 */
export function bestFastBackendName(): string {
  const names = registerFastBackends();
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const want = env.SAFEGRAD_BACKEND || (names.includes("wasm") ? "wasm" : fastJsBackend.name);
  if (!listBackends().includes(want)) {
    throw new ValueError("SAFEGRAD_BACKEND", `no backend named "${want}" (registered: ${listBackends().join(", ")})`);
  }
  return want;
}

export type { Backend };
export { getBackend };
