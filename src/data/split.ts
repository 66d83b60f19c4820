import { ValueError } from "../errors.js";
import { defaultGenerator, Generator } from "../tensor/random.js";

/** Options for {@link trainTestSplit}. */
export interface SplitOptions {
  /** Fraction of the samples that go to the test set, strictly between 0 and 1. */
  testFraction: number;
  /** Seed for a private generator; the same seed always gives the same split (default: use `generator`). */
  seed?: number;
  /**
   * Generator to draw from instead (it is advanced). Give `seed` or `generator`, not both; with
   * neither, the shared default generator is used (like PyTorch's `random_split`), which makes the
   * split depend on everything else that drew from it.
   */
  generator?: Generator;
  /**
   * Class label per sample (length `n`). When given, the split is stratified: each class is split
   * on its own, so its share of the test set matches its share of the data to within one sample.
   * Default: none (a plain uniform split).
   */
  labels?: ArrayLike<number>;
}

/** Disjoint train and test row indices that together cover `0..n-1`, each sorted ascending. */
export interface Split {
  /** Row indices of the training set, ascending. */
  train: Int32Array;
  /** Row indices of the test set, ascending. */
  test: Int32Array;
}

/**
 * Split the row indices `0..n-1` at random into a training and a test set.
 *
 * The test set gets `ceil(testFraction * n)` rows (as scikit-learn does, ignoring float noise) and the training set the
 * rest; both must end up non-empty. Without `labels` the rows are drawn uniformly. With `labels` the
 * split is stratified: the test rows are shared out among classes in proportion to their sizes
 * (largest-remainder rounding, ties to the smaller label), so every class gets
 * `floor` or `ceil` of `testFraction * classSize` rows, and each class's rows are drawn uniformly.
 *
 * Both returned arrays are sorted ascending (the split is a pair of sets; shuffle in the
 * {@link DataLoader}). The result depends only on `n`, `testFraction`, `labels` and the generator
 * state, so a fixed `seed` reproduces it on any platform.
 *
 * @example
 * ```ts
 * const d = loadDigits();
 * const { train, test } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
 * train.length + test.length === d.n; // true
 * ```
 */
export function trainTestSplit(n: number, options: SplitOptions): Split {
  const { testFraction, labels } = options;
  if (!Number.isInteger(n) || n < 2) {
    throw new ValueError("trainTestSplit", `n must be an integer >= 2, got ${n}`);
  }
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new ValueError("trainTestSplit", `testFraction must be in (0, 1), got ${testFraction}`);
  }
  // NOTE: 0.3 * 10 is 3.0000000000000004 in floating point; a plain ceil would give 4. Products
  // within 1e-9 of an integer are taken as that integer.
  const raw = testFraction * n;
  const nTest = Math.abs(raw - Math.round(raw)) < 1e-9 ? Math.round(raw) : Math.ceil(raw);
  if (nTest === 0) {
    throw new ValueError("trainTestSplit", `testFraction ${testFraction} of ${n} samples selects no test samples`);
  }
  if (nTest >= n) {
    throw new ValueError("trainTestSplit", `testFraction ${testFraction} of ${n} samples leaves no training samples`);
  }
  const gen = resolveGenerator("trainTestSplit", options.seed, options.generator);

  const isTest = new Uint8Array(n);
  if (labels === undefined) {
    const perm = permutation(n, gen);
    for (let k = 0; k < nTest; k++) isTest[perm[k]!] = 1;
  } else {
    if (labels.length !== n) {
      throw new ValueError("trainTestSplit", `labels has length ${labels.length}, expected n = ${n}`);
    }
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      if (!Number.isInteger(c)) throw new ValueError("trainTestSplit", `labels[${i}] = ${c} is not an integer`);
      let members = byClass.get(c);
      if (members === undefined) byClass.set(c, (members = []));
      members.push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const counts = allocate(
      nTest,
      classes.map((c) => byClass.get(c)!.length),
      n,
    );
    classes.forEach((c, k) => {
      const members = byClass.get(c)!;
      shuffleInPlace(members, gen);
      for (let m = 0; m < counts[k]!; m++) isTest[members[m]!] = 1;
    });
  }

  const train = new Int32Array(n - nTest);
  const test = new Int32Array(nTest);
  let a = 0;
  let b = 0;
  for (let i = 0; i < n; i++) {
    if (isTest[i] === 1) test[b++] = i;
    else train[a++] = i;
  }
  return { train, test };
}

/**
 * Share `total` items among groups in proportion to `sizes` (summing to `n`) by largest remainder:
 * each group gets the floor of its quota, then the leftover goes one each to the largest
 * fractional parts (ties to the earlier group). Each share lies between floor and ceil of its quota.
 */
function allocate(total: number, sizes: number[], n: number): number[] {
  // NOTE: quotas are compared as exact integer numerators (total * size mod n), not as floats, so
  // tie-breaking cannot differ between platforms.
  const shares = sizes.map((s) => Math.floor((total * s) / n));
  let left = total - shares.reduce((p, q) => p + q, 0);
  const order = sizes.map((_, k) => k).sort((i, j) => {
    const ri = (total * sizes[i]!) % n;
    const rj = (total * sizes[j]!) % n;
    return rj - ri || i - j;
  });
  for (const k of order) {
    if (left === 0) break;
    shares[k]! += 1;
    left--;
  }
  return shares;
}

/** Resolve the `seed` / `generator` pair shared by the data utilities (internal). */
export function resolveGenerator(who: string, seed: number | undefined, generator: Generator | undefined): Generator {
  if (seed !== undefined && generator !== undefined) {
    throw new ValueError(who, `pass either seed or generator, not both`);
  }
  if (generator !== undefined) return generator;
  if (seed !== undefined) {
    if (!Number.isFinite(seed)) throw new ValueError(who, `seed must be a finite number, got ${seed}`);
    return new Generator(seed);
  }
  return defaultGenerator;
}

/**
 * A uniformly random permutation of `0..n-1` (Fisher-Yates, drawing from `gen`).
 *
 * @example
 * ```ts
 * const p = permutation(5, new Generator(0)); // Int32Array [0, 3, 2, 4, 1]
 * ```
 */
export function permutation(n: number, gen: Generator): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffleInPlace(p, gen);
}

/**
 * In-place Fisher-Yates shuffle of a plain or typed array: `Generator.shuffle` itself (typed only
 * for plain arrays), so the two agree on the same generator state.
 */
export function shuffleInPlace<A extends { [i: number]: number; length: number }>(arr: A, gen: Generator): A {
  return gen.shuffle(arr as unknown as number[]) as unknown as A;
}
