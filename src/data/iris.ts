import { readDataFile } from "./files.js";
import { parseIrisCsv, type IrisData } from "./parse.js";
import { standardize as standardizeRows } from "./standardize.js";

/** Options for {@link loadIris}. */
export interface LoadIrisOptions {
  /**
   * Standardize each feature to zero mean and unit variance over all 150 rows. Handy for quick
   * experiments; for an honest test score, split first and use {@link standardize} fitted on the
   * training indices instead. Default `false` (raw centimetres).
   */
  standardize?: boolean;
}

/**
 * Load the embedded iris data (UCI "Iris", R. A. Fisher, 1936, CC BY 4.0; see `data/NOTICE.md`):
 * 150 samples, 4 features (sepal length, sepal width, petal length, petal width in cm), 3 classes
 * (`classNames` = setosa, versicolor, virginica). Returns fresh arrays on every call.
 *
 * Node only (reads `data/iris.csv` next to the package with `node:fs`).
 *
 * @example
 * ```ts
 * const raw = loadIris();
 * raw.x[0]; // 5.1 (as float32)
 * const z = loadIris({ standardize: true }); // each column has mean 0, std 1
 * ```
 */
export function loadIris(options: LoadIrisOptions = {}): IrisData {
  const d = parseIrisCsv(readDataFile("iris.csv").toString("utf8"), "iris.csv");
  if (options.standardize === true) d.x = standardizeRows(d.x, d.features).x;
  return d;
}
