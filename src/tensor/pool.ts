/**
 * A size-keyed pool of float32 buffers that the autograd engine alone owned: intermediate gradients
 * consumed by a VJP or by accumulation, and broadcast gradients summed back to an input's shape.
 * Kernels take their output arrays from it (`allocArray` zeroes what it hands out; `takeUninit` is
 * for kernels that write every element), so a training step reuses last step's gradient buffers
 * instead of asking the allocator for fresh zeroed pages (page faults, zeroing) and leaving the old
 * ones to the garbage collector.
 *
 * Only the engine returns buffers (`recycle`), and only a buffer that was handed out during the
 * current backward pass (`bornInPass`: so never a forward activation, a user's array, a root
 * gradient or anything older than the pass) and that no live tensor reads any more: see
 * autograd/engine.ts for the rules, test/autograd/pool.test.ts for the proofs.
 *
 * `Tensor.dispose()` (and `tidy`) give back op results too, under the owner records below: see
 * {@link Owner}; test/tensor/dispose*.test.ts for the proofs.
 */
import type { DType, TypedArray } from "./types.js";
import { forgetVersion } from "./version.js";

/** Buffers below this many elements are not pooled (the allocator is cheap there). */
const MIN_LENGTH = 4096;
/** At most this many bytes wait in the pool; a buffer that would pass it is left to the GC. */
let limitBytes = 64 << 20;

const free32 = new Map<number, Float32Array[]>();
let heldBytes = 0;
/** Buffers recycled into the pool, and poolable buffers handed out from it or fresh, since the last drain (test and bench hooks). */
let recycledCount = 0;
let reused = 0;
let fresh = 0;
/** Buffers handed out since the current backward pass began (null outside one). */
let pass: WeakSet<TypedArray> | null = null;
/** Test hook: fill recycled buffers with NaN, and buffers taken uninitialised with NaN too. */
let poison = false;

/**
 * @internal Who may give a float32 buffer of the pool's sizes back on dispose. Every buffer the
 * library hands out (`takeUninit`, `allocArray`) gets one, BORN; the Tensor constructor counts the
 * Tensor objects built on it (`n`: views share it) and dispose uncounts them. The op wrapper
 * (ops/define.ts `call`) makes a BORN buffer a RESULT when it is an op's output and no input's
 * storage; it is KEPT (never given back on dispose) as soon as an autograd node, a tensor that
 * requires grad or a `.grad` involves it. A RESULT goes back to the pool when its count drops to
 * 0. A user's array (`tensor(typedArray)`, `new Tensor(a)`) and a subarray have no record, and a
 * buffer handed out raw (`toTypedArray`'s copy) is no op's output (an op's output storage is a
 * kernel's fresh buffer or, for a view, its input's): neither ever becomes a RESULT.
 * `recycle` kills the record (KEPT) so a stale Tensor's dispose cannot touch a re-issued buffer.
 */
export interface Owner {
  n: number;
  s: number;
}
// Owner states (`s`), as literals (bundle size): 0 BORN, 1 RESULT, 2 KEPT.
const owners = new WeakMap<TypedArray, Owner>();

function born(a: TypedArray): void {
  if (a.length >= MIN_LENGTH && a instanceof Float32Array) owners.set(a, { n: 0, s: 0 });
}

/** @internal The live owner record of a buffer of the pool's sizes, if it has one. */
export function ownerOf(a: TypedArray): Owner | undefined {
  if (a.length < MIN_LENGTH) return undefined;
  const o = owners.get(a);
  return o && o.s !== 2 ? o : undefined;
}

/** @internal Never give `a` back on dispose (a graph, a gradient or a parameter holds it). */
export function keepStorage(a: TypedArray): void {
  const o = ownerOf(a);
  if (o) o.s = 2;
}

/** @internal A Tensor on the buffer of `o` was disposed: recycle the buffer when it was the last one of an op result. */
export function release(a: TypedArray, o: Owner): void {
  // NOTE: inside a backward pass the engine may still hold the buffer (a hook's gradient): keep it
  if (pass) o.s = 2;
  if (--o.n === 0 && o.s === 1) recycle(a);
}

/**
 * @internal Whether the pool is on (the engine recycles only then; off, it runs as without a pool:
 * the reference the tests compare with).
 */
export function poolEnabled(): boolean {
  return limitBytes > 0;
}

/** @internal Whether `dtype` buffers of `n` elements go through the pool. */
export function poolable(dtype: DType, n: number): boolean {
  return n >= MIN_LENGTH && dtype === "float32" && limitBytes > 0;
}

function take(n: number): Float32Array | null {
  const a = free32.get(n)?.pop();
  if (!a) {
    fresh++;
    return null;
  }
  reused++;
  heldBytes -= a.byteLength;
  return a;
}

/**
 * @internal A float32 array of `n` elements whose contents are unspecified (a pooled buffer, or a
 * fresh one): for kernels that write every element of their output.
 */
export function takeUninit(dtype: "float32", n: number): Float32Array {
  const a = (poolable(dtype, n) ? take(n) : null) ?? new Float32Array(n);
  if (poison) a.fill(NaN);
  if (pass && n >= MIN_LENGTH) pass.add(a);
  born(a);
  return a;
}

/** @internal A zeroed pooled buffer, or null (allocArray then allocates one). */
export function takeZeroed(dtype: DType, n: number): TypedArray | null {
  if (!poolable(dtype, n)) return null;
  const a = take(n);
  if (a) a.fill(0);
  return a;
}

/** @internal Record a buffer handed out (pooled or fresh) while a backward pass runs. */
export function noteBorn(a: TypedArray): void {
  if (pass && a.length >= MIN_LENGTH && a instanceof Float32Array) pass.add(a);
  born(a);
}

/**
 * @internal Start a backward pass (which buffers are born in it); returns the enclosing pass's
 * record, which {@link endPass} puts back (a hook may run a backward inside a backward).
 */
export function beginPass(): WeakSet<TypedArray> | null {
  const prev = pass;
  pass = new WeakSet();
  return prev;
}

/** @internal End the current backward pass (see {@link beginPass}). */
export function endPass(prev: WeakSet<TypedArray> | null): void {
  pass = prev;
}

/** @internal Whether a backward pass runs (its VJPs may read tensors the user disposed: a graph keeps their memory). */
export function inBackward(): boolean {
  return pass !== null;
}

/** @internal Whether `a` was handed out during the current backward pass. */
export function bornInPass(a: TypedArray): boolean {
  return pass !== null && pass.has(a);
}

/**
 * @internal Give a buffer back. The caller guarantees that nothing reads it any more (the engine's
 * rules); buffers of other types or sizes, or past the byte limit, are simply dropped.
 */
export function recycle(a: TypedArray): void {
  if (!(a instanceof Float32Array) || a.length < MIN_LENGTH) return;
  // a view into a larger buffer (a subarray) would hand out memory it shares
  if (a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  const o = owners.get(a);
  if (o) {
    o.s = 2;
    owners.delete(a);
  }
  // recycled once: it was born in this pass only until now (a second recycle would pool it twice)
  pass?.delete(a);
  if (heldBytes + a.byteLength > limitBytes) return;
  if (poison) a.fill(NaN);
  forgetVersion(a);
  let l = free32.get(a.length);
  if (!l) free32.set(a.length, (l = []));
  l.push(a);
  heldBytes += a.byteLength;
  recycledCount++;
}

/** @internal Empty the pool. */
export function drainPool(): void {
  free32.clear();
  heldBytes = 0;
  recycledCount = 0;
  reused = 0;
  fresh = 0;
}

/**
 * @internal Test and benchmark hooks: the byte limit (0 turns the pool off) and poisoning (recycled
 * and uninitialised buffers filled with NaN, so a buffer still read after it was recycled shows).
 * Returns the previous settings.
 */
export function configurePool(o: { limitBytes?: number; poison?: boolean }): { limitBytes: number; poison: boolean } {
  const prev = { limitBytes, poison };
  if (o.limitBytes !== undefined) {
    limitBytes = o.limitBytes;
    if (limitBytes === 0) drainPool();
  }
  if (o.poison !== undefined) poison = o.poison;
  return prev;
}

/** @internal Whether `a` waits in the pool now (tests: no live tensor's storage may). */
export function isPooled(a: TypedArray): boolean {
  return a instanceof Float32Array && (free32.get(a.length)?.includes(a) ?? false);
}

/**
 * @internal Bytes waiting in the pool; since the last drain, buffers recycled, and poolable
 * buffers handed out from the pool (`reused`) or freshly allocated (`fresh`).
 */
export function poolStats(): { heldBytes: number; recycled: number; reused: number; fresh: number } {
  return { heldBytes, recycled: recycledCount, reused, fresh };
}
