/**
 * Data utilities: the embedded data sets, seeded splitting and mini-batch loading. Nothing here
 * depends on the Tensor class; batches are plain typed arrays with a shape.
 *
 * Every export carries its own TSDoc and example at its declaration.
 *
 * NOTE: `loadDigits` and `loadIris` import `node:fs`/`node:zlib`. Everything else (parsers,
 * split, loader, standardize) is platform-free.
 *
 * @example
 * ```ts
 * const d = loadDigits();
 * const { train, test } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
 * const loader = new DataLoader(d, train, { batchSize: 32, shuffle: true, seed: 0 });
 * for (const { x, y, shape } of loader) {
 *   // x: Float32Array of shape [size, 64]; y: Int32Array of labels
 * }
 * ```
 *
 * @module
 */

export { loadDigits, DIGITS_ROWS } from "./digits.js";
export { loadIris, type LoadIrisOptions } from "./iris.js";
export {
  parseDigitsCsv,
  parseIrisCsv,
  DIGITS_FEATURES,
  DIGITS_CLASSES,
  DIGITS_MAX_PIXEL,
  type ClassificationData,
  type DigitsData,
  type IrisData,
} from "./parse.js";
export { trainTestSplit, permutation, type SplitOptions, type Split } from "./split.js";
export { DataLoader, type Dataset, type DataLoaderOptions, type Batch } from "./loader.js";
export { standardize, type Standardized } from "./standardize.js";
