/**
 * The conformance kit's seeded generator: shapes (sizes 0, 1, primes, 257), layouts (contiguous,
 * transposed, expanded with stride 0, narrowed with an offset) and values, ordinary or adversarial
 * (0, -0, ±Infinity, NaN, subnormals, huge, ties). No dependency: the same seed gives the same
 * cases everywhere, so a failure in a report replays from its seed.
 */
import type { View } from "../kernels/backend.js";
import { allocArray, type DType, type TypedArray } from "../tensor/dtype.js";
import { contiguousStrides } from "../tensor/layout.js";
import { numel } from "../tensor/shape.js";

/**
 * A small seeded random source (xorshift32 scrambled by a multiply): `next()` is uniform in
 * [0, 1); `int(n)` in 0..n-1; `pick(xs)` one element.
 */
export class KitRandom {
  private s: number;
  /** A generator whose sequence depends only on `seed` (any integer). */
  constructor(seed: number) {
    this.s = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
  }
  /**
   * Uniform in [0, 1).
   */
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.s = s;
    return (Math.imul(s, 0x2c1b3c6d) >>> 0) / 4294967296;
  }
  /**
   * An integer in 0..n-1.
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /**
   * One element of `xs`.
   */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** How a generated view lies in its storage. */
export type Layout = "contiguous" | "transposed" | "expanded" | "narrowed";
/** Every layout, in the order the kit cycles through them. */
export const LAYOUTS: readonly Layout[] = ["contiguous", "transposed", "expanded", "narrowed"];

/**
 * Which values fill a view: "ordinary" (uniform in [-3, 3] with a few exact zeros and ties),
 * "adversarial" (ordinary ones mixed with 0, -0, ±Infinity, NaN, subnormals, huge values and
 * ties) or "finite" (the adversarial mix without NaN, Infinity or huge values: for sums and dot
 * products, whose order of additions is the backend's own).
 */
export type ValueKind = "ordinary" | "adversarial" | "finite";

const SIZES = [1, 2, 3, 5, 7, 1, 2, 3, 5, 7, 11, 13, 17, 31, 257, 0];

/**
 * A random shape of 0..maxDims dims (sizes 0, 1, primes, sometimes 257) with at most `max` elements.
 */
export function randomShape(r: KitRandom, maxDims = 4, max = 3000): number[] {
  const nd = r.int(maxDims + 1);
  const out = Array.from({ length: nd }, () => r.pick(SIZES));
  while (numel(out) > max) {
    const i = out.indexOf(Math.max(...out));
    out[i] = Math.max(1, Math.floor(out[i]! / 4));
  }
  return out;
}

/** The adversarial values of a dtype: zeros of both signs, infinities, NaN, subnormals, huge, ties. */
export function specialValues(dtype: DType, finite = false): number[] {
  const sub = dtype === "float32" ? 1e-40 : 1e-310;
  const huge = dtype === "float32" ? 1e30 : 1e300;
  const ties = [0.5, -0.5, 1.5, 2.5, -2.5, 1, 1, -1];
  if (finite) return [0, -0, sub, -sub, 1e-30, ...ties, 1e6, -1e6];
  return [0, -0, Infinity, -Infinity, NaN, sub, -sub, huge, -huge, 1e-30, ...ties];
}

/**
 * `n` values of `dtype` from `r` (see {@link ValueKind}); int32 values are in -5..5, bool 0/1.
 */
export function fillValues(r: KitRandom, dtype: DType, n: number, kind: ValueKind = "ordinary"): TypedArray {
  const a = allocArray(dtype, n);
  const specials = kind === "ordinary" ? [] : specialValues(dtype, kind === "finite");
  for (let i = 0; i < n; i++) {
    const u = r.next();
    if (dtype === "bool") a[i] = u < 0.5 ? 1 : 0;
    else if (dtype === "int32") a[i] = Math.floor(u * 11) - 5;
    else if (specials.length && u < 0.3) a[i] = r.pick(specials);
    else if (u < 0.33) a[i] = 0;
    else if (u < 0.38) a[i] = Math.round((u - 0.5) * 12) / 2; // ties: repeated halves
    else a[i] = (r.next() - 0.5) * 6;
  }
  return a;
}

/**
 * A view of `shape` with the given layout, its storage filled by {@link fillValues}: "transposed"
 * permutes the storage order, "expanded" gives random dims stride 0, "narrowed" puts the view at
 * an offset inside a larger storage (padding between rows).
 */
export function randomView(r: KitRandom, shape: readonly number[], dtype: DType, layout: Layout, kind: ValueKind = "ordinary"): View {
  const nd = shape.length;
  switch (layout) {
    case "contiguous":
      return { storage: fillValues(r, dtype, numel(shape), kind), shape: [...shape], strides: contiguousStrides(shape), offset: 0, dtype };
    case "transposed": {
      const perm = Array.from({ length: nd }, (_, i) => i);
      for (let i = nd - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      if (perm.every((d, i) => d === i)) perm.reverse();
      const bs = contiguousStrides(perm.map((d) => shape[d]!));
      const strides = new Array<number>(nd).fill(0);
      perm.forEach((d, j) => (strides[d] = bs[j]!));
      return { storage: fillValues(r, dtype, numel(shape), kind), shape: [...shape], strides, offset: 0, dtype };
    }
    case "expanded": {
      const small = shape.map((s) => (r.int(2) === 0 ? 1 : s));
      const ss = contiguousStrides(small);
      const strides = shape.map((s, d) => (small[d] === 1 && s !== 1 ? 0 : ss[d]!));
      return { storage: fillValues(r, dtype, numel(small), kind), shape: [...shape], strides, offset: 0, dtype };
    }
    case "narrowed": {
      const starts = shape.map(() => r.int(3));
      const baseShape = shape.map((s, d) => s + starts[d]! + r.int(2));
      const bs = contiguousStrides(baseShape);
      const offset = starts.reduce((acc, st, d) => acc + st * bs[d]!, 0);
      return { storage: fillValues(r, dtype, numel(baseShape), kind), shape: [...shape], strides: bs, offset, dtype };
    }
  }
}

/**
 * A contiguous view over `values` (converted to `dtype`).
 */
export function denseView(values: ArrayLike<number>, dtype: DType, shape: readonly number[] = [values.length]): View {
  const storage = allocArray(dtype, values.length);
  storage.set(values);
  return { storage, shape: [...shape], strides: contiguousStrides(shape), offset: 0, dtype };
}

/**
 * The element of `v` at row-major position `i`.
 */
export function elementAt(v: View, i: number): number {
  let off = v.offset;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    const s = v.shape[d]!;
    off += (i % s) * v.strides[d]!;
    i = Math.floor(i / s);
  }
  return v.storage[off]!;
}
