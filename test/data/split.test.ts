import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/tensor/random.js";
import { loadDigits, permutation, standardize, trainTestSplit } from "../../src/data/index.js";

/** Checks that train and test are sorted, disjoint, and together cover 0..n-1. */
function expectPartition(n: number, train: Int32Array, test: Int32Array): void {
  expect(train.length + test.length).toBe(n);
  const seen = new Uint8Array(n);
  for (const part of [train, test]) {
    for (let k = 0; k < part.length; k++) {
      const i = part[k]!;
      if (k > 0 && !(part[k - 1]! < i)) throw new Error("not strictly ascending");
      if (!(i >= 0 && i < n)) throw new Error(`index ${i} out of range`);
      if (seen[i] === 1) throw new Error(`index ${i} appears twice`);
      seen[i] = 1;
    }
  }
}

const nTestFor = (n: number, f: number) => {
  const raw = f * n;
  return Math.abs(raw - Math.round(raw)) < 1e-9 ? Math.round(raw) : Math.ceil(raw);
};

describe("trainTestSplit", () => {
  it("sizes follow ceil(testFraction * n), robust to float noise", () => {
    expect(trainTestSplit(10, { testFraction: 0.3, seed: 0 }).test.length).toBe(3); // 0.3*10 = 3.0000000000000004
    expect(trainTestSplit(10, { testFraction: 0.25, seed: 0 }).test.length).toBe(3);
    expect(trainTestSplit(1797, { testFraction: 0.2, seed: 0 }).test.length).toBe(360);
    expect(trainTestSplit(2, { testFraction: 0.5, seed: 0 }).train.length).toBe(1);
  });

  it("is a partition of 0..n-1 with the right sizes (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer(),
        (n, f, seed) => {
          const nTest = nTestFor(n, f);
          fc.pre(nTest >= 1 && nTest < n);
          const { train, test } = trainTestSplit(n, { testFraction: f, seed });
          expectPartition(n, train, test);
          expect(test.length).toBe(nTest);
        },
      ),
    );
  });

  it("is deterministic by seed and changes with the seed", () => {
    const a = trainTestSplit(500, { testFraction: 0.2, seed: 123 });
    const b = trainTestSplit(500, { testFraction: 0.2, seed: 123 });
    const c = trainTestSplit(500, { testFraction: 0.2, seed: 124 });
    expect(Array.from(b.test)).toEqual(Array.from(a.test));
    expect(Array.from(b.train)).toEqual(Array.from(a.train));
    expect(Array.from(c.test)).not.toEqual(Array.from(a.test));
  });

  it("golden split (cross-platform reproducibility)", () => {
    expect(Array.from(trainTestSplit(10, { testFraction: 0.3, seed: 0 }).test)).toEqual(GOLDEN_PLAIN);
    const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
    expect(Array.from(trainTestSplit(10, { testFraction: 0.5, seed: 0, labels }).test)).toEqual(GOLDEN_STRAT);
  });

  it("uses and advances a passed generator; equals a fresh generator of the same seed", () => {
    const g = new Generator(5);
    const a = trainTestSplit(50, { testFraction: 0.2, generator: g });
    expect(Array.from(a.test)).toEqual(Array.from(trainTestSplit(50, { testFraction: 0.2, seed: 5 }).test));
    const b = trainTestSplit(50, { testFraction: 0.2, generator: g });
    expect(Array.from(b.test)).not.toEqual(Array.from(a.test));
  });

  it("stratifies by label: each class within one sample of its proportional share (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3, max: 6 }), { minLength: 2, maxLength: 200 }),
        fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        fc.integer(),
        (labelList, f, seed) => {
          const n = labelList.length;
          const nTest = nTestFor(n, f);
          fc.pre(nTest >= 1 && nTest < n);
          const labels = Int32Array.from(labelList);
          const { train, test } = trainTestSplit(n, { testFraction: f, seed, labels });
          expectPartition(n, train, test);
          expect(test.length).toBe(nTest);
          const size = new Map<number, number>();
          const inTest = new Map<number, number>();
          for (const c of labels) size.set(c, (size.get(c) ?? 0) + 1);
          for (const i of test) inTest.set(labels[i]!, (inTest.get(labels[i]!) ?? 0) + 1);
          for (const [c, s] of size) {
            const quota = (nTest * s) / n;
            const got = inTest.get(c) ?? 0;
            expect(got).toBeGreaterThanOrEqual(Math.floor(quota + 1e-9));
            expect(got).toBeLessThanOrEqual(Math.ceil(quota - 1e-9));
          }
        },
      ),
    );
  });

  it("stratified digits split keeps class proportions", () => {
    const d = loadDigits();
    const { test } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
    const counts = new Array<number>(10).fill(0);
    const sizes = new Array<number>(10).fill(0);
    for (const c of d.y) sizes[c]!++;
    for (const i of test) counts[d.y[i]!]!++;
    expect(counts.reduce((a, b) => a + b)).toBe(360);
    counts.forEach((got, c) => {
      const quota = (360 * sizes[c]!) / d.n;
      expect(got === Math.floor(quota) || got === Math.ceil(quota)).toBe(true);
    });
  });

  it("rejects bad arguments", () => {
    expect(() => trainTestSplit(1, { testFraction: 0.5, seed: 0 })).toThrow(/n must be an integer >= 2/);
    expect(() => trainTestSplit(2.5, { testFraction: 0.5, seed: 0 })).toThrow(/n must be/);
    expect(() => trainTestSplit(10, { testFraction: 0, seed: 0 })).toThrow(/testFraction must be in \(0, 1\)/);
    expect(() => trainTestSplit(10, { testFraction: 1, seed: 0 })).toThrow(/testFraction/);
    expect(() => trainTestSplit(10, { testFraction: NaN, seed: 0 })).toThrow(/testFraction/);
    expect(() => trainTestSplit(10, { testFraction: 0.95, seed: 0 })).toThrow(/leaves no training samples/);
    expect(() => trainTestSplit(10, { testFraction: 1e-12, seed: 0 })).toThrow(/selects no test samples/);
    expect(() => trainTestSplit(10, { testFraction: 0.5, seed: 0, labels: [0, 1] })).toThrow(/labels has length 2/);
    expect(() => trainTestSplit(2, { testFraction: 0.5, seed: 0, labels: [0, 0.5] })).toThrow(/not an integer/);
    expect(() => trainTestSplit(10, { testFraction: 0.5, seed: 0, generator: new Generator(0) })).toThrow(
      /either seed or generator/,
    );
  });
});

describe("permutation", () => {
  it("is a permutation (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer(), (n, seed) => {
        const p = permutation(n, new Generator(seed));
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });
});

describe("standardize", () => {
  it("fits on the given rows only and leaves constant columns centred, not NaN", () => {
    const x = Float64Array.from([1, 5, 3, 5, 100, 5]); // 3 rows x 2 features; column 1 is constant
    const { x: z, mean, std } = standardize(x, 2, [0, 1]);
    expect(Array.from(mean)).toEqual([2, 5]);
    expect(Array.from(std)).toEqual([1, 0]);
    expect(Array.from(z)).toEqual([-1, 0, 1, 0, 98, 0]);
    expect(z).toBeInstanceOf(Float64Array);
    expect(standardize(new Float32Array(4), 2).x).toBeInstanceOf(Float32Array);
  });

  it("rejects bad arguments", () => {
    expect(() => standardize(new Float32Array(5), 2)).toThrow(/not a multiple/);
    expect(() => standardize(new Float32Array(4), 0)).toThrow(/positive integer/);
    expect(() => standardize(new Float32Array(4), 2, [])).toThrow(/empty/);
    expect(() => standardize(new Float32Array(4), 2, [2])).toThrow(/fitIndices\[0\] = 2/);
  });
});

// Recorded from this implementation; see generator.test.ts for why goldens matter.
const GOLDEN_PLAIN = [0, 2, 9];
const GOLDEN_STRAT = [0, 2, 5, 7, 9]; // classes {0..3}, {4..7}, {8, 9} give 2, 2 and 1 test rows
