/**
 * Version counters of storages, as PyTorch's `_version`: every in-place write to a storage made
 * by the library (an optimizer step, clipping, `loadStateDict`, initialisation, a rollback) bumps
 * it, and the autograd engine records the versions of the tensors an op saves for its VJP, so a
 * backward through values changed since the forward throws instead of returning a wrong gradient.
 *
 * NOTE: a write through `tensor.storage[i] = v` is invisible to the counter (as `.data` writes in
 * PyTorch); call {@link markModified} after one.
 */
import type { TypedArray } from "./types.js";

const versions = new WeakMap<TypedArray, number>();

/** The version of a storage: 0 until something writes into it in place. */
export function versionOf(storage: TypedArray): number {
  return versions.get(storage) ?? 0;
}

/**
 * Record an in-place write into `t`'s storage (every view of it sees the new version). Call it
 * after writing into `t.storage` yourself, so a backward that saved the old values refuses to run.
 * @example
 * const w = tensor([1, 2], { requiresGrad: true });
 * const loss = w.mul(w).sum();
 * w.storage[0] = 100;
 * markModified(w);
 * // loss.backward() now throws an AutogradError naming "mul" and w
 */
export function markModified(t: { readonly storage: TypedArray }): void {
  versions.set(t.storage, versionOf(t.storage) + 1);
}

/** @internal A recycled buffer starts its next life at version 0 (tensor/pool.ts). */
export function forgetVersion(storage: TypedArray): void {
  versions.delete(storage);
}
