import { gunzipSync } from "node:zlib";
import { DataError } from "../errors.js";
import { readDataFile } from "./files.js";
import { parseDigitsCsv, type DigitsData } from "./parse.js";

/**
 * Rows in the shipped digits file; checked on load so a truncated copy fails loudly.
 *
 * @example
 * ```ts
 * loadDigits().n === DIGITS_ROWS; // true
 * ```
 */
export const DIGITS_ROWS = 1797;

/**
 * Load the embedded handwritten digits data (UCI "Optical Recognition of Handwritten Digits",
 * E. Alpaydin, C. Kaynak, 1998, CC BY 4.0; see `data/NOTICE.md`).
 *
 * Each sample is an 8x8 image stored row-major as 64 values, scaled from the raw 0..16 counts to
 * [0, 1] by dividing by 16. `featureShape` is `[64]`; `toTensorDataset(d)` makes a
 * {@link TensorDataset} of it for a {@link DataLoader}, and
 * `toTensorDataset(d, { featureShape: [1, 8, 8] })` one of images (the memory layout is the same).
 * Every call parses the file again and returns fresh arrays, so mutating them is safe.
 *
 * Node only (reads `data/digits.csv.gz` next to the package with `node:fs` and `node:zlib`).
 *
 * @example
 * ```ts
 * const d = loadDigits();
 * d.n;        // 1797
 * d.x.length; // 1797 * 64
 * d.y[0];     // 0
 * ```
 */
export function loadDigits(): DigitsData {
  const text = gunzipSync(readDataFile("digits.csv.gz")).toString("utf8");
  const d = parseDigitsCsv(text, "digits.csv.gz");
  if (d.n !== DIGITS_ROWS) {
    throw new DataError("digits.csv.gz", `expected ${DIGITS_ROWS} rows, found ${d.n} (is the file truncated?)`);
  }
  return d;
}
