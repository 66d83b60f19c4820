import { ValueError } from "../errors.js";
import type { FloatArray } from "../tensor/dtype.js";
import { isTensor } from "../tensor/tensor.js";
import type { Generator } from "../tensor/random.js";
import {
  Subset,
  TensorDataset,
  checkArrayData,
  datasetLength,
  defaultCollate,
  describe,
  gatherRows,
  type Collated,
  type Dataset,
  type LabelArray,
  type MapDataset,
} from "./dataset.js";
import { resolveGenerator, shuffleInPlace } from "./split.js";

export type { Dataset } from "./dataset.js";

/**
 * What a {@link DataLoader} reads: a map-style data set ({@link MapDataset}: a
 * {@link TensorDataset}, a {@link Subset}, your own), or a {@link Dataset} of typed arrays (the
 * array form).
 *
 * @example
 * ```ts
 * const sources: LoaderDataset[] = [new TensorDataset(zeros([4, 2])), toTensorDataset(loadIris()), loadIris()];
 * ```
 */
export type LoaderDataset = MapDataset<unknown> | Dataset<FloatArray, LabelArray>;

/**
 * The type of one sample of a data set `D` (what `get(i)` returns), for typing a `collate`.
 *
 * @example
 * ```ts
 * type S = SampleOf<TensorDataset<[Tensor, Tensor]>>; // [Tensor, Tensor]
 * ```
 */
export type SampleOf<D> = D extends MapDataset<infer T> ? T : never;

/**
 * What a {@link DataLoader} over `D` yields without a custom `collate`: the {@link Collated}
 * samples for a map-style data set (a tuple of tensors for a {@link TensorDataset}), a typed-array
 * {@link Batch} for the array form.
 *
 * @example
 * ```ts
 * type B = BatchOf<TensorDataset<[Tensor, Tensor]>>; // [Tensor, Tensor]
 * type Old = BatchOf<DigitsData>; // Batch<Float32Array, Int32Array>
 * ```
 */
export type BatchOf<D> = D extends MapDataset<infer T> ? Collated<T> : D extends Dataset<infer X, infer Y> ? Batch<X, Y> : never;

/** Options for {@link DataLoader}. */
export interface DataLoaderOptions<T = unknown, B = unknown> {
  /** Samples per batch (a positive integer). Default 1, as in PyTorch. */
  batchSize?: number;
  /** Visit the samples in a new random order each epoch. Default `false` (in order). */
  shuffle?: boolean;
  /** Seed for the loader's own generator (used only when `shuffle` is on; default: use `generator`). */
  seed?: number;
  /**
   * Generator to draw epoch orders from instead (shared and advanced). Give `seed` or
   * `generator`, not both; with neither, the shared default generator is used.
   */
  generator?: Generator;
  /** Drop the last batch when it is smaller than `batchSize`. Default `false`. */
  dropLast?: boolean;
  /**
   * Make a batch from the list of samples (`dataset.get(i)` for each index of the batch), as
   * PyTorch's `collate_fn`. Default: {@link defaultCollate} (for a {@link TensorDataset}, the
   * rows are gathered straight from the tensors without calling `get`). Not for the array form.
   */
  collate?: (samples: T[]) => B;
}

/** One mini-batch of the array form of {@link DataLoader}. All arrays are fresh copies that the caller owns. */
export interface Batch<X extends FloatArray = Float32Array, Y extends LabelArray = Int32Array> {
  /** Features of the batch's rows, row-major, `size * prod(featureShape)` values. */
  x: X;
  /** Labels or targets, `size` values, in the data set's array type (float targets stay float). */
  y: Y;
  /** Number of samples in this batch (`batchSize`, or fewer for a last partial batch). */
  size: number;
  /** Row of the data set that each sample came from. */
  indices: Int32Array;
  /** Shape of `x` as a tensor: `[size, ...featureShape]`. */
  shape: number[];
}

interface ArraySource {
  x: FloatArray;
  y: LabelArray;
  features: number;
  featureShape: readonly number[];
  order: Int32Array;
}

interface TensorSource {
  base: TensorDataset;
  /** Index of each sample of the loader's data set in `base` (nested Subsets composed); null: the identity. */
  map: Int32Array | null;
}

/**
 * Iterates over mini-batches of a data set, PyTorch-style: each `for...of` is one epoch.
 *
 * Over a map-style data set ({@link TensorDataset}, {@link Subset}, any `{ length, get(i) }`),
 * each batch is made of tensors: for a TensorDataset a tuple with one tensor per field, the rows of
 * the batch stacked along a new first dim in that field's dtype (a float target stays float, an
 * int32 label int32). Those batches are gathered straight from the tensors (one typed-array copy
 * per field and run of consecutive rows), also through a Subset. Other data sets go through
 * `collate` (default {@link defaultCollate}) with the list of their samples. Batches are fresh
 * tensors with no gradient history, owned by the caller.
 *
 * With `shuffle`, the start of every epoch draws a fresh permutation from the generator, so
 * successive epochs differ while two loaders built with the same seed (or generators in the same
 * state) produce the same sequence of epochs; every sample is visited exactly once per epoch (the
 * last batch may be short unless `dropLast`). Abandoning an epoch early (`break`) and iterating
 * again starts the next epoch. Without `shuffle`, every epoch goes in order.
 *
 * The array form, `new DataLoader({ x, y, featureShape }, indices, options)`, is the original
 * API and still works: it visits the rows in `indices` (`null`: all) and yields typed-array
 * {@link Batch}es. `y` may hold int32 labels or float targets (kept as they are). New code should
 * prefer `new DataLoader(new Subset(toTensorDataset(data), indices), options)`.
 *
 * @example
 * ```ts
 * const x = randn([10, 3]);
 * const y = tensor([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]); // regression targets
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 4, shuffle: true, seed: 0 });
 * loader.length; // 3 batches: 4, 4, 2
 * for (const [xb, yb] of loader) {
 *   // xb: float32 [4, 3] (then [2, 3]); yb: float32 [4] with values like 0.5, never truncated
 * }
 * ```
 */
export class DataLoader<D extends LoaderDataset = LoaderDataset, B = BatchOf<D>> implements Iterable<B> {
  /** The data set the batches are drawn from. */
  declare readonly dataset: D;
  /** Samples per batch. */
  declare readonly batchSize: number;
  /** Whether each epoch is shuffled. */
  declare readonly shuffle: boolean;
  /** Whether a trailing partial batch is dropped. */
  declare readonly dropLast: boolean;
  /** Where epoch orders come from; `null` when `shuffle` is off. Its state can be checkpointed. */
  declare readonly generator: Generator | null;
  readonly #collate: ((samples: unknown[]) => unknown) | null;
  readonly #arrays: ArraySource | null;
  readonly #tensors: TensorSource | null;

  /**
   * Batches of tensors from a map-style data set.
   * @param dataset - a {@link TensorDataset}, a {@link Subset}, or any `{ length, get(i) }`
   * @param options - batch size, shuffling and seeding, dropLast, collate
   */
  constructor(dataset: D, options?: DataLoaderOptions<SampleOf<D>, B>);
  /**
   * The array form: typed-array batches of the rows `indices` of `{ x, y, featureShape }`.
   * @param dataset - the rows to draw from
   * @param indices - rows to visit (copied; repeats allowed); `null` for all rows in order
   * @param options - batch size, shuffling and seeding, dropLast
   */
  constructor(dataset: D & Dataset<FloatArray, LabelArray>, indices: ArrayLike<number> | null, options?: DataLoaderOptions);
  constructor(dataset: D, second?: DataLoaderOptions<SampleOf<D>, B> | ArrayLike<number> | null, third?: DataLoaderOptions) {
    const op = "DataLoader";
    const indicesGiven = third !== undefined || second === null || Array.isArray(second) || ArrayBuffer.isView(second);
    const options = ((indicesGiven ? third : second) ?? {}) as DataLoaderOptions;
    const batchSize = options.batchSize ?? 1;
    if (typeof batchSize !== "number" || !Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ValueError(op, `batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    if (options.collate !== undefined && typeof options.collate !== "function") {
      throw new ValueError(op, `collate must be a function, got ${describe(options.collate)}`);
    }
    const d = dataset as unknown;
    let arrays: ArraySource | null = null;
    let tensors: TensorSource | null = null;
    if (isMapDataset(d)) {
      if (indicesGiven) {
        throw new ValueError(op, `an index array goes only with the typed-array form { x, y, featureShape }; for a data set, pass new Subset(dataset, indices)`);
      }
      datasetLength(op, d);
      if (options.collate === undefined) tensors = tensorSource(d);
    } else if (isArrayForm(d)) {
      if (options.collate !== undefined) {
        throw new ValueError(op, `collate applies to map-style data sets; for the typed-array form { x, y, featureShape }, pass toTensorDataset(data) instead`);
      }
      const { x, y, features } = checkArrayData(op, d);
      const rows = y.length;
      const given = indicesGiven ? (second as ArrayLike<number> | null) : null;
      const order = given === null ? Int32Array.from({ length: rows }, (_, i) => i) : new Int32Array(given.length);
      if (given !== null) {
        for (let k = 0; k < given.length; k++) {
          const i = given[k]!;
          if (!Number.isInteger(i) || i < 0 || i >= rows) {
            throw new ValueError(op, `indices[${k}] = ${i} is not a row index in [0, ${rows})`);
          }
          order[k] = i;
        }
      }
      arrays = { x, y, features, featureShape: d.featureShape, order };
    } else {
      const hint = isTensor(d) ? " (wrap tensors in new TensorDataset(x, y))" : "";
      throw new ValueError(
        op,
        `dataset must be a data set with length and get(i) (TensorDataset, Subset, your own) or typed arrays { x, y, featureShape }; got ${describe(d)}${hint}`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle === true;
    this.dropLast = options.dropLast === true;
    const generator = resolveGenerator(op, options.seed, options.generator);
    this.generator = this.shuffle ? generator : null;
    this.#collate = (options.collate as ((samples: unknown[]) => unknown) | undefined) ?? null;
    this.#arrays = arrays;
    this.#tensors = tensors;
  }

  /**
   * Number of samples visited per epoch (before `dropLast`): the data set's length, or the
   * number of indices of the array form.
   * @example
   * new DataLoader(new TensorDataset(zeros([10, 2])), { batchSize: 4 }).numSamples; // 10
   */
  get numSamples(): number {
    return this.#arrays !== null ? this.#arrays.order.length : datasetLength("DataLoader", this.dataset as MapDataset<unknown>);
  }

  /**
   * Number of batches per epoch (PyTorch's `len(loader)`).
   * @example
   * new DataLoader(new TensorDataset(zeros([10, 2])), { batchSize: 4 }).length; // 3
   * new DataLoader(new TensorDataset(zeros([10, 2])), { batchSize: 4, dropLast: true }).length; // 2
   */
  get length(): number {
    const m = this.numSamples;
    return this.dropLast ? Math.floor(m / this.batchSize) : Math.ceil(m / this.batchSize);
  }

  /**
   * Start one epoch. The permutation (if shuffling) is drawn now, not on the first `next()`.
   * @example
   * const iris = toTensorDataset(loadIris());
   * const loader = new DataLoader(iris, { batchSize: 50 });
   * for (const [x, y] of loader) x.shape; // [50, 4], with y int32 [50]
   */
  [Symbol.iterator](): Iterator<B> {
    const m = this.numSamples;
    let order = this.#arrays !== null ? this.#arrays.order : identity(m);
    if (this.generator !== null) order = shuffleInPlace(this.#arrays !== null ? order.slice() : order, this.generator);
    const batches = this.dropLast ? Math.floor(m / this.batchSize) : Math.ceil(m / this.batchSize);
    let b = 0;
    return {
      next: (): IteratorResult<B> => {
        if (b >= batches) return { done: true, value: undefined };
        const start = b * this.batchSize;
        b++;
        return { done: false, value: this.#batch(order.subarray(start, Math.min(start + this.batchSize, order.length))) };
      },
    };
  }

  #batch(rows: Int32Array): B {
    if (this.#arrays !== null) return gatherArrays(this.#arrays, rows) as B;
    const t = this.#tensors;
    if (t !== null) {
      const mapped = t.map === null ? rows : rows.map((i) => t.map![i]!);
      return t.base.tensors.map((x) => gatherRows(x, mapped)) as B;
    }
    const ds = this.dataset as MapDataset<unknown>;
    const samples = Array.from(rows, (i) => ds.get(i));
    return (this.#collate ?? defaultCollate)(samples) as B;
  }
}

function isMapDataset(d: unknown): d is MapDataset<unknown> {
  return d !== null && typeof d === "object" && typeof (d as { get?: unknown }).get === "function" && "length" in d;
}

function isArrayForm(d: unknown): d is Dataset<FloatArray, LabelArray> {
  return d !== null && typeof d === "object" && "x" in d && "y" in d && "featureShape" in d;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** The base TensorDataset under any Subsets, with the composed index map; null for other data sets. */
function tensorSource(d: MapDataset<unknown>): TensorSource | null {
  let map: Int32Array | null = null;
  let cur: MapDataset<unknown> = d;
  while (cur instanceof Subset) {
    const inner: Int32Array = cur.indices;
    map = map === null ? inner.slice() : map.map((i) => inner[i]!);
    cur = cur.dataset;
  }
  return cur instanceof TensorDataset ? { base: cur, map } : null;
}

function gatherArrays(src: ArraySource, rows: Int32Array): Batch<FloatArray, LabelArray> {
  const { x, y, features: f, featureShape } = src;
  const size = rows.length;
  const bx = x instanceof Float64Array ? new Float64Array(size * f) : new Float32Array(size * f);
  const by = y instanceof Int32Array ? new Int32Array(size) : y instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
  for (let k = 0; k < size; k++) {
    const i = rows[k]!;
    bx.set(x.subarray(i * f, (i + 1) * f), k * f);
    by[k] = y[i]!;
  }
  return { x: bx, y: by, size, indices: rows.slice(), shape: [size, ...featureShape] };
}
