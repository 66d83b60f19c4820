/**
 * Map-style data sets, as in PyTorch's `torch.utils.data`: anything with a `length` and a
 * `get(i)`; {@link TensorDataset} over tensors that share their first dim; {@link Subset} for a
 * split; and {@link defaultCollate}, which turns a list of samples into a batch of tensors.
 */
import { DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import { allocArray, type DType, type FloatArray, type TypedArray } from "../tensor/dtype.js";
import { isContiguous, offsetsOf } from "../tensor/layout.js";
import { numel, shapeStr } from "../tensor/shape.js";
import { Tensor, isTensor } from "../tensor/tensor.js";

/**
 * A map-style data set (PyTorch's `Dataset`): `length` samples, read one at a time by index.
 * A {@link DataLoader} takes any object of this shape; {@link TensorDataset} and {@link Subset}
 * are the two that come with the library.
 *
 * @example
 * ```ts
 * // Sample i is (i, i squared), built on the fly.
 * const squares: MapDataset<[number, number]> = { length: 10, get: (i) => [i, i * i] };
 * const [xb, yb] = [...new DataLoader(squares, { batchSize: 10 })][0]!;
 * yb.toArray(); // [0, 1, 4, ..., 81] (float32)
 * ```
 */
export interface MapDataset<T> {
  /** Number of samples (a non-negative integer). */
  readonly length: number;
  /** Sample `i`, for `0 <= i < length`. */
  get(i: number): T;
}

/**
 * Labels or targets per row of a typed-array data set: `Int32Array` for class labels,
 * `Float32Array` or `Float64Array` for regression targets (kept as they are, never rounded).
 *
 * @example
 * ```ts
 * const targets: LabelArray = new Float32Array([0.5, 1.5]);
 * ```
 */
export type LabelArray = Int32Array | Float32Array | Float64Array;

/**
 * The batch {@link defaultCollate} makes from samples of type `T`: every tensor, number, boolean
 * or `Float32Array`/`Float64Array`/`Int32Array` becomes one tensor with a new first dim (the
 * batch), and arrays (tuples) and plain objects keep their structure.
 *
 * @example
 * ```ts
 * type B = Collated<{ image: Tensor; label: number }>; // { image: Tensor; label: Tensor }
 * ```
 */
export type Collated<T> = T extends Tensor | number | boolean | Float32Array | Float64Array | Int32Array
  ? Tensor
  : T extends readonly unknown[]
    ? { -readonly [K in keyof T]: Collated<T[K]> }
    : T extends object
      ? { [K in keyof T]: Collated<T[K]> }
      : never;

/**
 * Tensors that share their first dim, read row by row: sample `i` is the tuple of the `i`-th row
 * of each tensor (PyTorch's `TensorDataset`). Any number of tensors, of any dtypes (float
 * features and float or int targets alike); the tensors are kept, not copied.
 *
 * A {@link DataLoader} over a TensorDataset (or a {@link Subset} of one) batches it without
 * calling `get`: each batch is a tuple of new tensors, the chosen rows of each tensor stacked along
 * a new first dim in that tensor's dtype, copied with one typed-array copy per run of consecutive
 * rows.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4], [5, 6]]); // float32 [3, 2]
 * const y = tensor([0.5, 1.5, 2.5]);          // float32 regression targets
 * const ds = new TensorDataset(x, y);
 * ds.length; // 3
 * const [xi, yi] = ds.get(1);
 * xi.toArray(); // [3, 4]
 * yi.item();    // 1.5
 * ```
 */
export class TensorDataset<T extends readonly Tensor[] = Tensor[]> implements MapDataset<T> {
  /** The tensors, as given (their first dim is the sample dim). */
  readonly tensors: T;

  /**
   * @param tensors - one or more tensors with the same size of dim 0
   * @throws ShapeError naming every shape when the first dims differ, or for a 0-d tensor
   */
  constructor(...tensors: T) {
    if (tensors.length === 0) throw new ValueError("TensorDataset", "needs at least one tensor");
    tensors.forEach((t, k) => {
      if (!isTensor(t)) {
        throw new ValueError("TensorDataset", `argument ${k} is ${describe(t)}, not a Tensor (wrap arrays with tensor(...))`);
      }
      if (t.ndim === 0) {
        throw new ShapeError("TensorDataset", `tensor ${k} is 0-d (shape []): every tensor needs a first dim, the sample dim`);
      }
    });
    const n = tensors[0]!.shape[0]!;
    if (tensors.some((t) => t.shape[0] !== n)) {
      throw new ShapeError(
        "TensorDataset",
        `size mismatch between tensors: their first dims (the number of samples) differ, shapes ${tensors.map((t) => shapeStr(t.shape)).join(", ")}`,
      );
    }
    this.tensors = tensors;
  }

  /**
   * Number of samples: the size of the tensors' first dim.
   * @example
   * new TensorDataset(zeros([5, 3]), zeros([5])).length; // 5
   */
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  /**
   * The `i`-th row of each tensor (views that share storage; negative `i` counts from the end).
   * @example
   * const ds = new TensorDataset(tensor([[1, 2], [3, 4]]), tensor([0, 1], { dtype: "int32" }));
   * const [x0, y0] = ds.get(0); // x0: [1, 2], y0: int32 scalar 0
   */
  get(i: number): T {
    const n = this.length;
    const k = i < 0 ? i + n : i;
    if (!Number.isInteger(k) || k < 0 || k >= n) {
      throw new IndexError("TensorDataset", `index ${i} is out of range for ${n} samples`);
    }
    return this.tensors.map((t) => t.select(0, k)) as unknown as T;
  }
}

/**
 * The samples of a data set at the given indices, in that order (PyTorch's `Subset`): how a
 * split made by {@link trainTestSplit} becomes a data set. The indices are copied; the data set
 * is not. A {@link DataLoader} over a Subset of a {@link TensorDataset} still gathers rows
 * directly from the tensors.
 *
 * @example
 * ```ts
 * const ds = new TensorDataset(arange(10).reshape([10, 1]), arange(10));
 * const { train, test } = trainTestSplit(ds.length, { testFraction: 0.2, seed: 0 });
 * const trainSet = new Subset(ds, train);
 * trainSet.length; // 8
 * ```
 */
export class Subset<T> implements MapDataset<T> {
  /** The underlying data set. */
  readonly dataset: MapDataset<T>;
  /** Indices into `dataset`, one per sample of the subset (a copy of those given). */
  readonly indices: Int32Array;

  /**
   * @param dataset - the data set to draw from
   * @param indices - indices into `dataset` (repeats allowed)
   * @throws IndexError when an index is not an integer in `[0, dataset.length)`
   */
  constructor(dataset: MapDataset<T>, indices: ArrayLike<number>) {
    const n = datasetLength("Subset", dataset);
    const idx = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new IndexError("Subset", `indices[${k}] = ${i} is not an index of a data set of ${n} samples`);
      }
      idx[k] = i;
    }
    this.dataset = dataset;
    this.indices = idx;
  }

  /**
   * Number of samples (the number of indices).
   * @example
   * new Subset(new TensorDataset(zeros([5, 2])), [4, 0]).length; // 2
   */
  get length(): number {
    return this.indices.length;
  }

  /**
   * Sample `i` of the subset: sample `indices[i]` of the data set.
   * @example
   * const [row] = new Subset(new TensorDataset(arange(5)), [4, 0]).get(0);
   * row.item(); // 4
   */
  get(i: number): T {
    if (!Number.isInteger(i) || i < 0 || i >= this.indices.length) {
      throw new IndexError("Subset", `index ${i} is out of range for ${this.indices.length} samples`);
    }
    return this.dataset.get(this.indices[i]!);
  }
}

/**
 * A data set as typed arrays: `rows = y.length` samples of `prod(featureShape)` feature values
 * each, and one label or target per row. The embedded digits and iris sets have this shape;
 * {@link toTensorDataset} turns one into a {@link TensorDataset}, and the array form of
 * {@link DataLoader} (`new DataLoader(data, indices, options)`) reads it directly.
 *
 * @example
 * ```ts
 * const data: Dataset<Float32Array, Float32Array> = {
 *   x: new Float32Array([0, 1, 2, 3]), // 4 rows of 1 feature
 *   y: new Float32Array([0.5, 1.5, 2.5, 3.5]), // float targets
 *   featureShape: [1],
 * };
 * ```
 */
export interface Dataset<X extends FloatArray = FloatArray, Y extends LabelArray = Int32Array> {
  /** Row-major features, `rows * prod(featureShape)` values. */
  x: X;
  /**
   * One value per row: an `Int32Array` of class labels, or a `Float32Array`/`Float64Array` of
   * regression targets (kept as they are). From plain JS, a plain array is read as class labels
   * and must hold integers (a fraction is an error, never truncated).
   */
  y: Y;
  /** Shape of one sample, e.g. `[64]` or `[1, 8, 8]`. */
  featureShape: readonly number[];
}

/** Options for {@link toTensorDataset}. */
export interface ToTensorDatasetOptions {
  /** Shape of one sample, instead of `data.featureShape` (e.g. `[1, 8, 8]` for the digits as images). */
  featureShape?: readonly number[];
}

/**
 * A {@link TensorDataset} of `(features, labels)` from typed arrays, such as the embedded data
 * sets: `x` becomes a tensor of shape `[rows, ...featureShape]` and `y` one of shape `[rows]`,
 * both sharing the arrays (no copy). `y` keeps its dtype: an `Int32Array` gives int32 labels, a
 * `Float32Array`/`Float64Array` float targets. A plain array `y` is read as class labels and
 * must hold integers (a fraction is an error, never truncated).
 *
 * @throws DTypeError when `x` is not a Float32Array or Float64Array or `y` is not a label array
 * @throws ShapeError when `x` does not hold `rows * prod(featureShape)` values
 * @example
 * ```ts
 * const digits = toTensorDataset(loadDigits(), { featureShape: [1, 8, 8] });
 * const [x0, y0] = digits.get(0); // x0: float32 [1, 8, 8], y0: int32 label 0
 * const iris = toTensorDataset(loadIris({ standardize: true })); // [150, 4] and [150]
 * ```
 */
export function toTensorDataset(data: Dataset<FloatArray, LabelArray>, options: ToTensorDatasetOptions = {}): TensorDataset<[Tensor, Tensor]> {
  const featureShape = options.featureShape ?? data.featureShape;
  const { x, y } = checkArrayData("toTensorDataset", { x: data.x, y: data.y, featureShape });
  const rows = y.length;
  return new TensorDataset(new Tensor(x, [rows, ...featureShape]), new Tensor(y, [rows]));
}

/** @internal Check the typed-array form and return its arrays (a plain integer `y` as an Int32Array). */
export function checkArrayData(op: string, data: Dataset<FloatArray, LabelArray>): { x: FloatArray; y: LabelArray; features: number } {
  const { x, featureShape } = data;
  if (!(x instanceof Float32Array || x instanceof Float64Array)) {
    throw new DTypeError(op, `x must be a Float32Array or Float64Array, got ${describe(x)}`);
  }
  const y = labelArray(op, data.y);
  if (!Array.isArray(featureShape)) throw new ValueError(op, `featureShape must be an array of sizes, got ${describe(featureShape)}`);
  let features = 1;
  for (const s of featureShape) {
    if (!Number.isInteger(s) || s <= 0) {
      throw new ValueError(op, `featureShape [${featureShape.join(", ")}] has a bad dimension ${s}`);
    }
    features *= s;
  }
  if (x.length !== y.length * features) {
    throw new ShapeError(op, `x has ${x.length} values, expected ${y.length} rows (y.length) * ${features} (featureShape [${featureShape.join(", ")}])`);
  }
  return { x, y, features };
}

function labelArray(op: string, y: unknown): LabelArray {
  if (y instanceof Int32Array || y instanceof Float32Array || y instanceof Float64Array) return y;
  if (Array.isArray(y)) {
    for (let i = 0; i < y.length; i++) {
      const v: unknown = y[i];
      if (typeof v !== "number" || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new ValueError(
          op,
          `y[${i}] = ${String(v)} is not an int32 class label: a plain array y is read as class labels; ` +
            `pass float targets as a Float32Array or Float64Array (or use TensorDataset)`,
        );
      }
    }
    return Int32Array.from(y as number[]);
  }
  throw new DTypeError(op, `y must be an Int32Array (class labels) or a Float32Array/Float64Array (targets), got ${describe(y)}`);
}

/** @internal `dataset.length`, checked to be a non-negative integer. */
export function datasetLength(op: string, dataset: MapDataset<unknown>): number {
  const n: unknown = dataset.length;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new ValueError(op, `the data set's length must be a non-negative integer, got ${String(n)}`);
  }
  return n;
}

/** @internal A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an Array";
  if (isTensor(v)) return `a ${v.dtype} Tensor of shape ${shapeStr(v.shape)}`;
  if (typeof v === "object") return `a ${(v as object).constructor?.name ?? "object"}`;
  return typeof v === "string" ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

/**
 * @internal The rows `rows` of `t` (indices into its dim 0) stacked into a new tensor of shape
 * `[rows.length, ...t.shape.slice(1)]` and `t`'s dtype, with no gradient history. A contiguous
 * tensor is copied with one `set` per run of consecutive rows; any other layout element by element
 * through its strides.
 */
export function gatherRows(t: Tensor, rows: Int32Array): Tensor {
  const rest = t.shape.slice(1);
  const row = numel(rest);
  const size = rows.length;
  const out = allocArray(t.dtype, size * row);
  const s = t.storage;
  if (isContiguous(t)) {
    const base = t.offset;
    if (row === 1) {
      for (let k = 0; k < size; k++) out[k] = s[base + rows[k]!]!;
    } else if (row > 0) {
      for (let k = 0; k < size; ) {
        const start = rows[k]!;
        let len = 1;
        while (k + len < size && rows[k + len] === start + len) len++;
        out.set(s.subarray(base + start * row, base + (start + len) * row), k * row);
        k += len;
      }
    }
  } else {
    const rel = offsetsOf(rest, t.strides.slice(1), 0);
    const stride0 = t.strides[0]!;
    for (let k = 0; k < size; k++) {
      const b = t.offset + rows[k]! * stride0;
      const o = k * row;
      for (let j = 0; j < row; j++) out[o + j] = s[b + rel[j]!]!;
    }
  }
  return new Tensor(out, [size, ...rest]);
}

/**
 * The default way a {@link DataLoader} makes a batch from a list of samples (PyTorch's
 * `default_collate`): tensors of one shape and dtype are stacked along a new first dim (copied,
 * with no gradient history); numbers become a float32 tensor (the dtype `tensor()` gives
 * numbers: give class labels as int32 tensors, e.g. `tensor(3, { dtype: "int32" })`); booleans
 * a bool tensor; `Float32Array`/`Float64Array`/`Int32Array` rows of one length a `[batch, length]`
 * tensor of their dtype; arrays (tuples) and plain objects are collated field by field. Values
 * are never rounded.
 *
 * @throws ShapeError / DTypeError naming the field and sample when samples do not match
 * @throws ValueError for a value it cannot batch (pass your own `collate`)
 * @example
 * ```ts
 * const batch = defaultCollate([
 *   { x: tensor([1, 2]), label: tensor(0, { dtype: "int32" }), weight: 0.5 },
 *   { x: tensor([3, 4]), label: tensor(2, { dtype: "int32" }), weight: 1.5 },
 * ]);
 * batch.x.shape;         // [2, 2]
 * batch.label.toArray(); // [0, 2] (int32)
 * batch.weight.toArray(); // [0.5, 1.5] (float32)
 * ```
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  if (samples.length === 0) throw new ValueError("defaultCollate", "got no samples");
  return collateAt(samples, "sample") as Collated<T>;
}

function collateAt(samples: readonly unknown[], path: string): unknown {
  const op = "defaultCollate";
  const first = samples[0];
  const mismatch = (k: number, what: string): never => {
    throw new ValueError(op, `${path} of sample ${k} is ${describe(samples[k])}, but of sample 0 ${what}`);
  };
  if (isTensor(first)) {
    const items = samples.map((s, k) => (isTensor(s) ? s : mismatch(k, describe(first))));
    items.forEach((t, k) => {
      if (t.dtype !== first.dtype) throw new DTypeError(op, `${path} of sample ${k} has dtype ${t.dtype}, of sample 0 ${first.dtype}`);
      if (t.ndim !== first.ndim || t.shape.some((d, j) => d !== first.shape[j])) {
        throw new ShapeError(op, `${path} of sample ${k} has shape ${shapeStr(t.shape)}, of sample 0 ${shapeStr(first.shape)}`);
      }
    });
    const row = first.numel;
    const out = allocArray(first.dtype, items.length * row);
    items.forEach((t, k) => out.set(rowData(t), k * row));
    return new Tensor(out, [items.length, ...first.shape]);
  }
  if (typeof first === "number" || typeof first === "boolean") {
    const dtype: DType = typeof first === "number" ? "float32" : "bool";
    const out = allocArray(dtype, samples.length);
    samples.forEach((s, k) => {
      if (typeof s !== typeof first) mismatch(k, `a ${typeof first}`);
      out[k] = typeof s === "boolean" ? (s ? 1 : 0) : (s as number);
    });
    return new Tensor(out, [samples.length]);
  }
  if (first instanceof Float32Array || first instanceof Float64Array || first instanceof Int32Array) {
    const ctor = first.constructor as new (n: number) => TypedArray;
    const len = first.length;
    const out = new ctor(samples.length * len);
    samples.forEach((s, k) => {
      if (!(s instanceof ctor)) mismatch(k, `a ${ctor.name}`);
      if ((s as TypedArray).length !== len) {
        throw new ShapeError(op, `${path} of sample ${k} has length ${(s as TypedArray).length}, of sample 0 ${len}`);
      }
      out.set(s as TypedArray, k * len);
    });
    return new Tensor(out, [samples.length, len]);
  }
  if (Array.isArray(first)) {
    const len = first.length;
    samples.forEach((s, k) => {
      if (!Array.isArray(s)) mismatch(k, "an Array");
      if ((s as unknown[]).length !== len) {
        throw new ShapeError(op, `${path} of sample ${k} has ${(s as unknown[]).length} fields, of sample 0 ${len}`);
      }
    });
    return Array.from({ length: len }, (_, j) => collateAt(samples.map((s) => (s as unknown[])[j]), `${path}[${j}]`));
  }
  if (first !== null && typeof first === "object" && isPlainObject(first)) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    samples.forEach((s, k) => {
      if (s === null || typeof s !== "object" || !isPlainObject(s)) mismatch(k, "a plain object");
      const ks = Object.keys(s as object);
      if (ks.length !== keys.length || keys.some((key) => !Object.prototype.hasOwnProperty.call(s, key))) {
        throw new ValueError(op, `${path} of sample ${k} has keys [${ks.join(", ")}], of sample 0 [${keys.join(", ")}]`);
      }
    });
    for (const key of keys) out[key] = collateAt(samples.map((s) => (s as Record<string, unknown>)[key]), `${path}.${key}`);
    return out;
  }
  throw new ValueError(op, `cannot batch ${describe(first)} (${path} of sample 0); pass a collate function to the DataLoader`);
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The elements of `t` in row-major order: its storage itself when contiguous (a subarray). */
function rowData(t: Tensor): TypedArray {
  if (isContiguous(t)) return t.storage.subarray(t.offset, t.offset + t.numel);
  const rel = offsetsOf(t.shape, t.strides, t.offset);
  const out = allocArray(t.dtype, rel.length);
  for (let j = 0; j < rel.length; j++) out[j] = t.storage[rel[j]!]!;
  return out;
}
