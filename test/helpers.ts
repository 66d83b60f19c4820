/**
 * Shared helpers for the core suite: naive index arithmetic, seeded random tensors, closeness
 * checks and fast-check arbitraries for shapes. Everything here is deliberately naive: it is the
 * oracle the library is compared against.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { Generator, randn, type DType, type Tensor } from "../src/index.js";

export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  return shape.reduce((a, s) => a * s, 1);
}

/** Row-major multi-index of flat position i. */
export function unravel(i: number, shape: Shape): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d]!;
    idx[d] = i % s;
    i = Math.floor(i / s);
  }
  return idx;
}

/** Row-major flat position of a multi-index. */
export function ravel(idx: readonly number[], shape: Shape): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + idx[d]!;
  return f;
}

/** The elements of t in row-major order, as plain numbers. */
export function vals(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as ArrayLike<number>);
}

/** A seeded standard-normal tensor (float64 by default). */
export function rnd(shape: Shape, seed: number, dtype: DType = "float64"): Tensor {
  return randn([...shape], { dtype, generator: new Generator(seed) });
}

/** Element-wise closeness with NaN == NaN and exact infinities. */
export function expectClose(actual: readonly number[], expected: readonly number[], rtol = 1e-10, atol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e) {
        throw new Error(`element ${i}: expected ${e}, got ${a}`);
      }
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`element ${i}: expected ${e}, got ${a} (difference ${Math.abs(a - e)})`);
    }
  }
}

/** Shapes of ndim in [minDims, maxDims] with sizes in [minSize, maxSize]. */
export function shapeArb(minDims = 0, maxDims = 4, minSize = 0, maxSize = 4): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: minSize, max: maxSize }), { minLength: minDims, maxLength: maxDims });
}

/** A random permutation of 0..n-1. */
export function permArb(n: number): fc.Arbitrary<number[]> {
  return fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n });
}

export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });

/** Strip a broadcast-compatible shape: keep a suffix of `out` and replace some sizes with 1. */
export function broadcastableFrom(out: number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((s, i) => (ones[i + drop] ? 1 : s)));
}

/** Value of a strided view at a multi-index, read straight from storage. */
export function readAt(t: Tensor, idx: readonly number[]): number {
  let off = t.offset;
  for (let d = 0; d < idx.length; d++) off += idx[d]! * t.strides[d]!;
  return t.storage[off]!;
}
