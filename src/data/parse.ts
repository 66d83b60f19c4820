import { DataError } from "../errors.js";
/**
 * Pure parsers for the embedded CSV data sets. They use no Node APIs, so code that fetches the
 * files itself (a browser, a bundler) can still parse them; `loadDigits`/`loadIris` add the file
 * reading on Node.
 */

/**
 * Pixels per digit image (8x8, row-major).
 *
 * @example
 * ```ts
 * const pixel = (d: DigitsData, i: number, r: number, c: number) => d.x[i * DIGITS_FEATURES + r * 8 + c];
 * ```
 */
export const DIGITS_FEATURES = 64;
/**
 * Number of digit classes (0..9).
 *
 * @example
 * ```ts
 * const counts = new Int32Array(DIGITS_CLASSES);
 * ```
 */
export const DIGITS_CLASSES = 10;
/**
 * Largest raw pixel value in the digits data (pixels are counts 0..16); loaded pixels are divided
 * by it.
 *
 * @example
 * ```ts
 * const raw = Math.round(d.x[0]! * DIGITS_MAX_PIXEL); // back to 0..16
 * ```
 */
export const DIGITS_MAX_PIXEL = 16;

/** A labelled, dense classification data set with one row per sample. */
export interface ClassificationData {
  /** Row-major features, `n * features` values. */
  x: Float32Array;
  /** Integer class labels in `[0, classes)`, `n` values. */
  y: Int32Array;
  /** Number of samples. */
  n: number;
  /** Values per sample. */
  features: number;
  /** Number of classes. */
  classes: number;
  /** Shape of one sample (its product is `features`); what {@link DataLoader} reads. */
  featureShape: number[];
}

/** The digits data: 64 pixels per sample scaled to [0, 1], labels 0..9. */
export interface DigitsData extends ClassificationData {
  features: 64;
  classes: 10;
}

/** The iris data: 4 measurements per sample (cm), labels 0..2, with the class names. */
export interface IrisData extends ClassificationData {
  /** The class names, indexed by label (setosa, versicolor, virginica). */
  classNames: string[];
}

/**
 * Parse the digits CSV (64 integer pixels 0..16, then the label 0..9, no header).
 * Pixels are divided by 16, so `x` lies in [0, 1].
 *
 * @param text the decompressed CSV text
 * @param source name used in error messages
 * @throws DataError naming the line and field when a row is malformed
 * @example
 * ```ts
 * const row = [...new Array(64).fill(16), 3].join(","); // 64 pixels, then the label
 * const d = parseDigitsCsv(row + "\n");
 * d.y[0]; // 3
 * d.x[0]; // 1 (16 / 16)
 * ```
 */
export function parseDigitsCsv(text: string, source = "digits.csv"): DigitsData {
  const rows = dataLines(text);
  if (rows.length === 0) throw new DataError(source, `no data rows`);
  const { x, y } = parseRows(rows, DIGITS_FEATURES, DIGITS_CLASSES, source, " (64 pixels and a label)", (field, line, col) => {
    const v = parseIntField(field, source, line, col);
    if (v < 0 || v > DIGITS_MAX_PIXEL) throw new DataError(source, `line ${line}, field ${col}: pixel ${v} outside 0..${DIGITS_MAX_PIXEL}`);
    return v / DIGITS_MAX_PIXEL;
  });
  return { x, y, n: rows.length, features: DIGITS_FEATURES, classes: DIGITS_CLASSES, featureShape: [DIGITS_FEATURES] };
}

/**
 * Parse the iris CSV. The first line is a header `rows,features,name0,name1,...`; every other line
 * holds `features` decimal numbers and an integer label last. The header's row count is checked.
 *
 * @param text the CSV text
 * @param source name used in error messages
 * @throws DataError naming the line and field when the header or a row is malformed
 * @example
 * ```ts
 * const d = parseIrisCsv("1,4,setosa\n5.1,3.5,1.4,0.2,0\n");
 * d.classNames; // ["setosa"]
 * ```
 */
export function parseIrisCsv(text: string, source = "iris.csv"): IrisData {
  const lines = dataLines(text);
  const header = lines[0];
  if (header === undefined) throw new DataError(source, `empty file`);
  const h = header.text.split(",");
  const n = Number(h[0]);
  const features = Number(h[1]);
  const classNames = h.slice(2).map((s) => s.trim());
  if (!isPositiveInt(n) || !isPositiveInt(features) || classNames.length === 0 || classNames.some((s) => s === "")) {
    throw new DataError(
      source, `line ${header.line}: bad header "${header.text}", expected "rows,features,className,..."`,
    );
  }
  const rows = lines.slice(1);
  if (rows.length !== n) throw new DataError(source, `header announces ${n} rows, found ${rows.length}`);
  const classes = classNames.length;
  const { x, y } = parseRows(rows, features, classes, source, "", (field, line, col) => {
    const t = field.trim();
    const v = Number(t);
    if (t === "" || !Number.isFinite(v)) throw new DataError(source, `line ${line}, field ${col}: "${field}" is not a finite number`);
    return v;
  });
  return { x, y, n, features, classes, featureShape: [features], classNames };
}

interface Line {
  /** 1-based line number in the file, for error messages. */
  line: number;
  text: string;
}

/** Non-blank lines, with CRLF tolerated. */
/** `features` values (read by `value`) then a label per row; `what` explains the row width in errors. */
function parseRows(rows: Line[], features: number, classes: number, source: string, what: string, value: (field: string, line: number, col: number) => number): { x: Float32Array; y: Int32Array } {
  const n = rows.length;
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  const width = features + 1;
  for (let r = 0; r < n; r++) {
    const { line, text: row } = rows[r]!;
    const fields = row.split(",");
    if (fields.length !== width) throw new DataError(source, `line ${line}: expected ${width} comma-separated values${what}, got ${fields.length}`);
    for (let j = 0; j < features; j++) x[r * features + j] = value(fields[j]!, line, j + 1);
    y[r] = parseLabel(fields[features]!, classes, source, line, width);
  }
  return { x, y };
}

function dataLines(text: string): Line[] {
  const out: Line[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t !== "") out.push({ line: i + 1, text: t });
  }
  return out;
}

function isPositiveInt(v: number): boolean {
  return Number.isInteger(v) && v > 0;
}

function parseIntField(field: string, source: string, line: number, col: number): number {
  const s = field.trim();
  // NOTE: a strict pattern, because Number() also accepts "0x10", "1e1" and "".
  if (!/^[+-]?\d+$/.test(s)) {
    throw new DataError(source, `line ${line}, field ${col}: "${field}" is not an integer`);
  }
  return Number(s);
}

function parseLabel(field: string, classes: number, source: string, line: number, col: number): number {
  const v = parseIntField(field, source, line, col);
  if (v < 0 || v >= classes) {
    throw new DataError(source, `line ${line}, field ${col}: label ${v} outside 0..${classes - 1}`);
  }
  return v;
}
