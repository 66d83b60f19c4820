/**
 * Data utilities: the embedded data sets, seeded splitting, data sets (`TensorDataset`, `Subset`)
 * and mini-batch loading (`DataLoader`, batches of tensors; its array form yields typed arrays).
 *
 * Every export carries its own TSDoc and example at its declaration.
 *
 * NOTE: `loadDigits` and `loadIris` import `node:fs`/`node:zlib`. Everything else (parsers,
 * split, data sets, loader, standardize) is platform-free.
 *
 * @example
 * ```ts
 * const d = loadDigits();
 * const { train, test } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
 * const digits = toTensorDataset(d, { featureShape: [1, 8, 8] });
 * const loader = new DataLoader(new Subset(digits, train), { batchSize: 32, shuffle: true, seed: 0 });
 * for (const [x, y] of loader) {
 *   // x: float32 [32, 1, 8, 8]; y: int32 [32] labels
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
export {
  TensorDataset,
  Subset,
  toTensorDataset,
  defaultCollate,
  type MapDataset,
  type Dataset,
  type LabelArray,
  type Collated,
  type ToTensorDatasetOptions,
} from "./dataset.js";
export { DataLoader, type DataLoaderOptions, type Batch, type LoaderDataset, type SampleOf, type BatchOf } from "./loader.js";
export { standardize, type Standardized } from "./standardize.js";
