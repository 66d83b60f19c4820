/**
 * Loading a third-party backend for the bench: a module (TypeScript through tsx, or JavaScript)
 * that exports a Backend, a partial one, or a factory (a function, possibly async, returning one):
 * its default export, else an export named `backend`, else the only export that is one.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { completeBackend, type Backend, type PartialBackend } from "../src/index.js";

/** The names of the built-in implementations: a backend of one of these names is refused. */
export const BUILT_IN_NAMES = ["js", "js-fast", "wasm", "wasm-2t", "tfjs-cpu", "tfjs-wasm", "jax", "jax-jit", "torch"];

const isBackendLike = (x: unknown): x is PartialBackend =>
  typeof x === "object" && x !== null && typeof (x as { name?: unknown }).name === "string" && Object.values(x).some((v) => typeof v === "function");

/** Thrown with a sentence for the user when a module exports no backend. */
export class BackendModuleError extends Error {}

/** A whole backend (completed by the reference for what it lacks) from a Backend, a partial one, or a factory of either. */
export async function toBackend(x: unknown, where = "the value"): Promise<Backend> {
  const v = typeof x === "function" && !isBackendLike(x) ? await (x as () => unknown)() : x;
  if (!isBackendLike(v)) throw new BackendModuleError(`${where} is not a Backend (an object with a string "name" and kernel methods) nor a function returning one`);
  if (BUILT_IN_NAMES.includes(v.name)) throw new BackendModuleError(`${where}: its name "${v.name}" is a built-in implementation's; give it another`);
  return completeBackend(v);
}

/** Import `path` (relative to the working directory) and return its backend (see the file's header). */
export async function loadBackendModule(path: string): Promise<Backend> {
  const url = pathToFileURL(resolve(process.cwd(), path)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new BackendModuleError(`cannot load ${path}: ${(e as Error).message?.split("\n")[0]}`);
  }
  if (mod.default !== undefined) return toBackend(mod.default, `${path}'s default export`);
  if (mod.backend !== undefined) return toBackend(mod.backend, `${path}'s export "backend"`);
  const candidates = Object.entries(mod).filter(([, v]) => isBackendLike(v) || typeof v === "function");
  const backends = candidates.filter(([, v]) => isBackendLike(v));
  if (backends.length === 1) return toBackend(backends[0]![1], `${path}'s export "${backends[0]![0]}"`);
  if (backends.length === 0 && candidates.length === 1) return toBackend(candidates[0]![1], `${path}'s export "${candidates[0]![0]}"`);
  throw new BackendModuleError(
    `${path} exports ${backends.length ? `several backends (${backends.map(([k]) => k).join(", ")})` : "no backend"}: export one as default (or as "backend")`,
  );
}
