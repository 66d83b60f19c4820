/**
 * "safegrad/data": data sets and loaders, as torch.utils.data (browser-safe; the embedded data
 * sets, which read files, are in "safegrad/node", which re-exports this module too). A subpath of
 * its own so that the main bundle does not carry it.
 * @example
 * const ds = new TensorDataset(randn([100, 4]), randint(0, 3, [100]));
 * for (const [xb] of new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 0 })) xb.shape;
 * @module safegrad/data
 */
export { TensorDataset, Subset, toTensorDataset, defaultCollate } from "./data/dataset.js";
export type { MapDataset, Dataset, LabelArray, Collated, ToTensorDatasetOptions } from "./data/dataset.js";
export { DataLoader } from "./data/loader.js";
export type { DataLoaderOptions, Batch, LoaderDataset, SampleOf, BatchOf } from "./data/loader.js";
export { trainTestSplit, permutation } from "./data/split.js";
export type { Split, SplitOptions } from "./data/split.js";
export { standardize } from "./data/standardize.js";
export type { Standardized } from "./data/standardize.js";
export { parseDigitsCsv, parseIrisCsv } from "./data/parse.js";
export type { DigitsData, IrisData } from "./data/parse.js";
