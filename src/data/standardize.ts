import { ValueError } from "../errors.js";
/** Result of {@link standardize}. */
export interface Standardized<X extends Float32Array | Float64Array> {
  /** A new array, same type and length as the input, with standardized features. */
  x: X;
  /** Per-feature mean over the fitted rows. */
  mean: Float64Array;
  /** Per-feature population standard deviation over the fitted rows (before the zero guard). */
  std: Float64Array;
}

/**
 * Standardize each feature column to zero mean and unit variance: `(x - mean) / std`, with
 * statistics computed (in float64) over the rows listed in `fitIndices` only (all rows by default)
 * and then applied to every row. Fit on the training indices to avoid leaking test statistics.
 *
 * A feature whose standard deviation is 0 on the fitted rows (for example an always-blank digits
 * pixel) is only centred, not divided, so it does not become NaN (the scikit-learn convention).
 *
 * @param x row-major data, `rows * features` values
 * @param features values per row
 * @param fitIndices rows to compute mean and std from
 * @example
 * ```ts
 * const d = loadIris();
 * const { train } = trainTestSplit(d.n, { testFraction: 0.2, seed: 1, labels: d.y });
 * const { x, mean, std } = standardize(d.x, d.features, train);
 * ```
 */
export function standardize<X extends Float32Array | Float64Array>(
  x: X,
  features: number,
  fitIndices?: ArrayLike<number>,
): Standardized<X> {
  if (!Number.isInteger(features) || features <= 0) {
    throw new ValueError("standardize", `features must be a positive integer, got ${features}`);
  }
  if (x.length % features !== 0) {
    throw new ValueError("standardize", `x.length ${x.length} is not a multiple of features ${features}`);
  }
  const rows = x.length / features;
  const fit = fitIndices ?? Int32Array.from({ length: rows }, (_, i) => i);
  if (fit.length === 0) throw new ValueError("standardize", `fitIndices is empty`);
  for (let k = 0; k < fit.length; k++) {
    const i = fit[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= rows) {
      throw new ValueError("standardize", `fitIndices[${k}] = ${i} is not a row index in [0, ${rows})`);
    }
  }
  const mean = new Float64Array(features);
  const std = new Float64Array(features);
  for (let k = 0; k < fit.length; k++) {
    const base = fit[k]! * features;
    for (let j = 0; j < features; j++) mean[j]! += x[base + j]!;
  }
  for (let j = 0; j < features; j++) mean[j]! /= fit.length;
  // NOTE: two-pass variance (sum of squared deviations) rather than E[x^2] - E[x]^2, which
  // cancels catastrophically when the mean is large relative to the spread.
  for (let k = 0; k < fit.length; k++) {
    const base = fit[k]! * features;
    for (let j = 0; j < features; j++) {
      const d = x[base + j]! - mean[j]!;
      std[j]! += d * d;
    }
  }
  for (let j = 0; j < features; j++) std[j] = Math.sqrt(std[j]! / fit.length);
  const out = (x instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length)) as X;
  for (let i = 0; i < rows; i++) {
    const base = i * features;
    for (let j = 0; j < features; j++) {
      const s = std[j]!;
      out[base + j] = (x[base + j]! - mean[j]!) / (s > 0 ? s : 1);
    }
  }
  return { x: out, mean, std };
}
