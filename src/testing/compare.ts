/**
 * How the conformance kit compares a backend's output with the reference's: element by element,
 * NaN equal to NaN, infinities exactly, signed zeros exactly (where asked), other values within a
 * bound per element (`atol + rtol |want|`, or a bound the case computes, such as a dot product's
 * `K eps (|A| |B|)_ij`). The result names the worst element, its error in ulps and how many
 * elements are out of bounds, instead of stopping at the first.
 */
import type { DType } from "../tensor/dtype.js";

/** A tolerance for one dtype: an element passes when |got - want| <= atol + rtol |want|. */
export interface DTypeTolerance {
  /** Relative tolerance. */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
}

/**
 * Per-dtype tolerances of the kit. Elementwise ops, reductions (scaled by the sum of |x| of the
 * lane) and softmax use `float32` / `float64`; matmul and the convolutions use the per-term
 * `dot32` / `dot64` (bound `dot * K * (|A| |B|)_ij`); int32 and bool results must be exact.
 */
export interface KitTolerances {
  /** float32 elementwise (default rtol 2e-6, about 16 to 32 ulps; atol 0). */
  float32: DTypeTolerance;
  /** float64 elementwise (default rtol 1e-12, atol 0). */
  float64: DTypeTolerance;
  /** Per-term tolerance of float32 dot products (default 2e-7: a GEMM may accumulate in float32). */
  dot32: number;
  /** Per-term tolerance of float64 dot products (default 1e-14). */
  dot64: number;
}

/** The tolerances the project's own fast backends are held to. */
export const DEFAULT_TOLERANCES: KitTolerances = {
  float32: { rtol: 2e-6, atol: 0 },
  float64: { rtol: 1e-12, atol: 0 },
  dot32: 2e-7,
  dot64: 1e-14,
};

/** The worst element of a comparison that failed. */
export interface Mismatch {
  /** Flat (row-major) index of the worst element (-1: the lengths differ). */
  index: number;
  /** The backend's value there. */
  got: number;
  /** The reference's value there. */
  want: number;
  /** The bound that element had to meet (0: exact). */
  allowed: number;
  /** Elements out of bounds. */
  count: number;
  /** Largest |got - want| over the whole output (Infinity where NaN, an infinity or a length differs). */
  maxError: number;
  /** What is wrong, in words ("NaN where the reference has 1", "-0 where the reference has 0", ...). */
  what: string;
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/**
 * Distance in units in the last place between two finite values of `dtype` (the number of
 * representable values between them; 0 and -0 are 0 apart). NaN or infinities: Infinity.
 */
export function ulpDistance(a: number, b: number, dtype: DType): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b ? 0 : Infinity;
  if (dtype === "float32") {
    const key = (x: number): number => {
      f32[0] = x;
      const bits = i32[0]!;
      return bits < 0 ? -(bits & 0x7fffffff) : bits;
    };
    return Math.abs(key(a) - key(b));
  }
  if (dtype === "float64") {
    const key = (x: number): bigint => {
      f64[0] = x;
      const bits = i64[0]!;
      return bits < 0n ? -(bits & 0x7fffffffffffffffn) : bits;
    };
    const d = key(a) - key(b);
    return Number(d < 0n ? -d : d);
  }
  return Math.abs(a - b);
}

/** Options of {@link compareArrays}. */
export interface CompareOptions {
  /** Relative tolerance (default 0). */
  rtol?: number;
  /** Absolute tolerance (default 0). */
  atol?: number;
  /** A bound per element, added to `atol + rtol |want|`. */
  bound?: ArrayLike<number>;
  /** 0 and -0 must match (default true). */
  signedZeros?: boolean;
}

const show = (x: number): string => (Object.is(x, -0) ? "-0" : String(x));

/** Compare `got` with `want`: null when every element is within bounds, else the worst {@link Mismatch}. */
export function compareArrays(got: ArrayLike<number>, want: ArrayLike<number>, o: CompareOptions = {}): Mismatch | null {
  if (got.length !== want.length) {
    return { index: -1, got: got.length, want: want.length, allowed: 0, count: Math.max(got.length, want.length), maxError: Infinity, what: `${got.length} elements where the reference has ${want.length}` };
  }
  const rtol = o.rtol ?? 0;
  const atol = o.atol ?? 0;
  const signed = o.signedZeros ?? true;
  let worst: Mismatch | null = null;
  let worstScore = -1;
  let count = 0;
  let maxError = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Object.is(g, w) || (g !== g && w !== w)) continue;
    let bad = false;
    let score = 0;
    let what = "";
    let allowed = 0;
    if (g !== g || w !== w) {
      bad = true;
      score = Infinity;
      what = `${show(g)} where the reference has ${show(w)}`;
      maxError = Infinity;
    } else if (g === w) {
      // 0 and -0
      if (signed) {
        bad = true;
        score = Infinity;
        what = `${show(g)} where the reference has ${show(w)}`;
      }
    } else {
      const err = Math.abs(g - w);
      maxError = Math.max(maxError, err);
      allowed = atol + rtol * Math.abs(w) + (o.bound ? o.bound[i]! : 0);
      if (!(err <= allowed)) {
        bad = true;
        score = Number.isFinite(err) ? err / (allowed || Number.MIN_VALUE) : Infinity;
        what = Number.isFinite(err) ? `|error| ${err.toPrecision(3)} > allowed ${allowed.toPrecision(3)}` : `${show(g)} where the reference has ${show(w)}`;
      }
    }
    if (!bad) continue;
    count++;
    if (score > worstScore) {
      worstScore = score;
      worst = { index: i, got: g, want: w, allowed, count: 0, maxError: 0, what };
    }
  }
  if (!worst) return null;
  worst.count = count;
  worst.maxError = maxError;
  return worst;
}
