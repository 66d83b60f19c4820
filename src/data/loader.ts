import { ValueError } from "../errors.js";
import type { Generator } from "../tensor/random.js";
import { resolveGenerator, shuffleInPlace } from "./split.js";

/** What a {@link DataLoader} reads: `rows = y.length` samples of `prod(featureShape)` values each. */
export interface Dataset<X extends Float32Array | Float64Array = Float32Array | Float64Array> {
  /** Row-major features, `rows * prod(featureShape)` values. */
  x: X;
  /** One integer label per row. */
  y: Int32Array;
  /** Shape of one sample, e.g. `[64]` or `[1, 8, 8]`. */
  featureShape: readonly number[];
}

/** Options for {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch (a positive integer). */
  batchSize: number;
  /** Visit the rows in a new random order each epoch. Default `false` (the order of `indices`). */
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
}

/** One mini-batch. All arrays are fresh copies that the caller owns. */
export interface Batch<X extends Float32Array | Float64Array = Float32Array> {
  /** Features of the batch's rows, row-major, `size * prod(featureShape)` values. */
  x: X;
  /** Labels, `size` values. */
  y: Int32Array;
  /** Number of samples in this batch (`batchSize`, or fewer for a last partial batch). */
  size: number;
  /** Row of the data set that each sample came from. */
  indices: Int32Array;
  /** Shape of `x` as a tensor: `[size, ...featureShape]`. */
  shape: number[];
}

/**
 * Iterates over mini-batches of a data set, restricted to (and in the order of) an index array.
 *
 * Each `for...of` is one epoch. With `shuffle`, the start of every epoch draws a fresh permutation
 * of the indices from the generator, so successive epochs differ while two loaders built with the
 * same seed produce the same sequence of epochs. Abandoning an epoch early (`break`) and iterating
 * again starts the next epoch. Without `shuffle`, every epoch follows `indices` as given.
 *
 * Rows are read from `dataset` when each batch is made (the data set is not copied; the index
 * array is). Batches copy rows out of the data set, so `x` keeps the data set's element type (`Float32Array`
 * for the embedded data sets; `Float64Array` data stays `Float64Array`). The loader knows nothing
 * about tensors: wrap `batch.x` with `batch.shape` to make one.
 *
 * @example
 * ```ts
 * const d = loadDigits();
 * const { train } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
 * const loader = new DataLoader(d, train, { batchSize: 32, shuffle: true, seed: 0 });
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for (const batch of loader) {
 *     // batch.x: Float32Array of batch.size * 64 values, batch.y: labels
 *   }
 * }
 * ```
 */
export class DataLoader<X extends Float32Array | Float64Array = Float32Array> implements Iterable<Batch<X>> {
  /** Samples per batch. */
  declare readonly batchSize: number;
  /** Whether each epoch is shuffled. */
  declare readonly shuffle: boolean;
  /** Whether a trailing partial batch is dropped. */
  declare readonly dropLast: boolean;
  /** Where epoch orders come from; `null` when `shuffle` is off. Its state can be checkpointed. */
  declare readonly generator: Generator | null;
  readonly #dataset: Dataset<X>;
  readonly #order: Int32Array;
  readonly #features: number;

  /**
   * @param dataset the rows to draw from
   * @param indices rows to visit (copied; repeats allowed); `null` for all rows in order
   * @param options batch size, shuffling and seeding
   */
  constructor(dataset: Dataset<X>, indices: ArrayLike<number> | null, options: DataLoaderOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ValueError("DataLoader", `batchSize must be a positive integer, got ${batchSize}`);
    }
    let features = 1;
    for (const s of dataset.featureShape) {
      if (!Number.isInteger(s) || s <= 0) {
        throw new ValueError("DataLoader", `featureShape [${dataset.featureShape.join(", ")}] has a bad dimension ${s}`);
      }
      features *= s;
    }
    const rows = dataset.y.length;
    if (dataset.x.length !== rows * features) {
      throw new ValueError("DataLoader", `x has ${dataset.x.length} values, expected ${rows} rows * ${features}`);
    }
    const order = indices === null ? Int32Array.from({ length: rows }, (_, i) => i) : Int32Array.from(indices);
    for (let k = 0; k < order.length; k++) {
      const i = indices === null ? k : indices[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= rows) {
        throw new ValueError("DataLoader", `indices[${k}] = ${i} is not a row index in [0, ${rows})`);
      }
    }
    this.#dataset = dataset;
    this.#order = order;
    this.#features = features;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle === true;
    this.dropLast = options.dropLast === true;
    const generator = resolveGenerator("DataLoader", options.seed, options.generator);
    this.generator = this.shuffle ? generator : null;
  }

  /** Number of samples visited per epoch (before `dropLast`). */
  get numSamples(): number {
    return this.#order.length;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const m = this.#order.length;
    return this.dropLast ? Math.floor(m / this.batchSize) : Math.ceil(m / this.batchSize);
  }

  /**
   * Start one epoch. The permutation (if shuffling) is drawn now, not on the first `next()`.
   * @example
   * const iris = loadIris();
   * const loader = new DataLoader(iris, null, { batchSize: 50 });
   * for (const batch of loader) tensor(batch.x, { shape: batch.shape }); // [50, 4] tensors
   */
  [Symbol.iterator](): Iterator<Batch<X>> {
    const order = this.generator === null ? this.#order : shuffleInPlace(this.#order.slice(), this.generator);
    const batches = this.length;
    let b = 0;
    return {
      next: (): IteratorResult<Batch<X>> => {
        if (b >= batches) return { done: true, value: undefined };
        const start = b * this.batchSize;
        b++;
        return { done: false, value: this.#gather(order.subarray(start, Math.min(start + this.batchSize, order.length))) };
      },
    };
  }

  #gather(rows: Int32Array): Batch<X> {
    const { x, y, featureShape } = this.#dataset;
    const f = this.#features;
    const size = rows.length;
    const bx = (x instanceof Float64Array ? new Float64Array(size * f) : new Float32Array(size * f)) as X;
    const by = new Int32Array(size);
    for (let k = 0; k < size; k++) {
      const i = rows[k]!;
      bx.set(x.subarray(i * f, (i + 1) * f), k * f);
      by[k] = y[i]!;
    }
    return { x: bx, y: by, size, indices: rows.slice(), shape: [size, ...featureShape] };
  }
}
