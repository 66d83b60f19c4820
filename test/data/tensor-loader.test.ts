/**
 * TensorDataset, Subset, defaultCollate and the DataLoader over them (issue 14, item 4): batches
 * of tensors in the data set's dtypes, any number of fields, float targets never truncated.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { DTypeError, IndexError, ShapeError, ValueError } from "../../src/errors.js";
import { tensor } from "../../src/tensor/create.js";
import { Generator } from "../../src/tensor/random.js";
import { Tensor } from "../../src/tensor/tensor.js";
import {
  DataLoader,
  Subset,
  TensorDataset,
  defaultCollate,
  loadDigits,
  loadIris,
  toTensorDataset,
  trainTestSplit,
  type Dataset,
  type MapDataset,
} from "../../src/data/index.js";

const epoch = <B,>(loader: Iterable<B>): B[] => [...loader];

/**
 * Four fields whose row i is recognisable: float32 [n, 2, 3] with values 10 i + j, int32 labels
 * i % 7, float64 targets i + 0.25 as [n, 1], and bool i % 2.
 */
function fields(n: number): [Tensor, Tensor, Tensor, Tensor] {
  return [
    new Tensor(Float32Array.from({ length: n * 6 }, (_, k) => 10 * Math.floor(k / 6) + (k % 6)), [n, 2, 3]),
    new Tensor(Int32Array.from({ length: n }, (_, i) => i % 7), [n]),
    new Tensor(Float64Array.from({ length: n }, (_, i) => i + 0.25), [n, 1]),
    new Tensor(Uint8Array.from({ length: n }, (_, i) => i % 2), [n]),
  ];
}

/** The data row each batch row came from (read back from field 0), checking every field agrees. */
function rowsOf(batch: Tensor[]): number[] {
  const [x, y, t, m] = batch as [Tensor, Tensor, Tensor, Tensor];
  const size = x.shape[0]!;
  expect(x.shape).toEqual([size, 2, 3]);
  expect([y.shape, t.shape, m.shape]).toEqual([[size], [size, 1], [size]]);
  expect([x.dtype, y.dtype, t.dtype, m.dtype]).toEqual(["float32", "int32", "float64", "bool"]);
  const xs = x.toTypedArray();
  const rows: number[] = [];
  for (let r = 0; r < size; r++) {
    const i = xs[r * 6]! / 10;
    for (let j = 0; j < 6; j++) if (xs[r * 6 + j] !== 10 * i + j) throw new Error(`x row ${r} is not data row ${i}`);
    if (y.toTypedArray()[r] !== i % 7 || t.toTypedArray()[r] !== i + 0.25 || m.toTypedArray()[r] !== i % 2) {
      throw new Error(`batch row ${r}: the fields do not all hold data row ${i}`);
    }
    rows.push(i);
  }
  return rows;
}

describe("float regression targets survive", () => {
  it("TensorDataset: a float target stays float, exactly", () => {
    const x = tensor([[1], [2], [3], [4], [5]]);
    const y = tensor([0.5, 1.5, -2.25, 3.75, 1e-3]);
    const out = epoch(new DataLoader(new TensorDataset(x, y), { batchSize: 2 }));
    expect(out.map(([, yb]) => yb.dtype)).toEqual(["float32", "float32", "float32"]);
    expect(out.flatMap(([, yb]) => Array.from(yb.toTypedArray()))).toEqual(Array.from(new Float32Array([0.5, 1.5, -2.25, 3.75, 1e-3])));
    const y64 = tensor([0.1, 0.2, 0.3, 0.4, 0.5], { dtype: "float64" });
    const [[, b64]] = epoch(new DataLoader(new TensorDataset(x, y64), { batchSize: 5 })) as [[Tensor, Tensor]];
    expect(b64.dtype).toBe("float64");
    expect(Array.from(b64.toTypedArray())).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it("array form: a Float32Array/Float64Array y stays float (was truncated to int32: 0.5 -> 0)", () => {
    const x = new Float32Array([1, 2, 3]);
    for (const y of [new Float32Array([0.5, 1.5, -2.25]), new Float64Array([0.5, 1.5, -2.25])]) {
      const [b] = epoch(new DataLoader({ x, y, featureShape: [1] }, null, { batchSize: 3 }));
      expect(b!.y).toBeInstanceOf(y.constructor);
      expect(Array.from(b!.y)).toEqual([0.5, 1.5, -2.25]);
    }
  });

  it("array form from plain JS: a plain y of fractions is refused, not truncated; integer labels still work", () => {
    const x = new Float32Array([1, 2, 3]);
    const plain = { x, y: [0.5, 1.5, -2.25], featureShape: [1] } as unknown as Dataset;
    expect(() => new DataLoader(plain, null, { batchSize: 3 })).toThrow(ValueError);
    expect(() => new DataLoader(plain, null, { batchSize: 3 })).toThrow(/y\[0\] = 0.5 is not an int32 class label.*Float32Array/);
    const labels = { x, y: [2, 0, 1], featureShape: [1] } as unknown as Dataset;
    const [b] = epoch(new DataLoader(labels, null, { batchSize: 3 }));
    expect(b!.y).toBeInstanceOf(Int32Array);
    expect(Array.from(b!.y)).toEqual([2, 0, 1]);
  });

  it("toTensorDataset keeps float targets and int labels in their dtypes", () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const [, yf] = toTensorDataset({ x, y: new Float64Array([0.5, 2.5]), featureShape: [2] }).tensors;
    expect(yf.dtype).toBe("float64");
    expect(yf.toArray()).toEqual([0.5, 2.5]);
    const [, yi] = toTensorDataset({ x, y: Int32Array.from([1, 0]), featureShape: [2] }).tensors;
    expect(yi.dtype).toBe("int32");
  });
});

describe("TensorDataset", () => {
  it("holds any number of fields; get(i) is the i-th row of each", () => {
    const ds = new TensorDataset(...fields(5));
    expect(ds.length).toBe(5);
    const [x, y, t, m] = ds.get(3);
    expect(x.toArray()).toEqual([[30, 31, 32], [33, 34, 35]]);
    expect([y.item(), t.toArray(), m.item()]).toEqual([3, [3.25], 1]);
    expect(ds.get(-1)[1].item()).toBe(4 % 7);
    expect(new TensorDataset(tensor([1, 2])).get(1)[0].item()).toBe(2);
  });

  it("refuses first dims that differ with a ShapeError naming the shapes", () => {
    const err = (() => {
      try {
        new TensorDataset(tensor([[1, 2], [3, 4], [5, 6]]), tensor([1, 2]));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toBe(
      "TensorDataset: size mismatch between tensors: their first dims (the number of samples) differ, shapes [3, 2], [2]",
    );
    expect(() => new TensorDataset(tensor(1))).toThrow(ShapeError);
    expect(() => new TensorDataset()).toThrow(ValueError);
    expect(() => new TensorDataset(new Float32Array(3) as unknown as Tensor)).toThrow(/argument 0 is a Float32Array, not a Tensor/);
    const ds = new TensorDataset(tensor([1, 2]));
    expect(() => ds.get(2)).toThrow(IndexError);
    expect(() => ds.get(-3)).toThrow(/index -3 is out of range for 2 samples/);
    expect(() => ds.get(0.5)).toThrow(IndexError);
  });
});

describe("DataLoader over a TensorDataset", () => {
  it("visits every row exactly once per epoch, all fields agreeing (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (n, batchSize, shuffle, dropLast, seed) => {
          const loader = new DataLoader(new TensorDataset(...fields(n)), { batchSize, shuffle, dropLast, seed });
          const full = Math.floor(n / batchSize);
          expect(loader.length).toBe(dropLast ? full : Math.ceil(n / batchSize));
          expect(loader.numSamples).toBe(n);
          for (let e = 0; e < 2; e++) {
            const batches = epoch(loader);
            expect(batches.length).toBe(loader.length);
            const sizes = batches.map((b) => b[0].shape[0]);
            const seen = batches.flatMap(rowsOf);
            if (dropLast) {
              expect(sizes.every((s) => s === batchSize)).toBe(true);
              expect(new Set(seen).size).toBe(full * batchSize);
            } else {
              expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
              sizes.forEach((s, k) => expect(s).toBe(k < sizes.length - 1 ? batchSize : n - batchSize * (sizes.length - 1)));
            }
            if (!shuffle) expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("the same seed gives the same epochs; a shared generator can be checkpointed", () => {
    const ds = new TensorDataset(...fields(30));
    const order = (l: DataLoader<TensorDataset<[Tensor, Tensor, Tensor, Tensor]>>) => epoch(l).flatMap(rowsOf);
    const a = new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 5 });
    const b = new DataLoader(ds, { batchSize: 7, shuffle: true, generator: new Generator(5) });
    const a1 = order(a);
    const a2 = order(a);
    expect(a2).not.toEqual(a1);
    expect(order(b)).toEqual(a1);
    expect(order(b)).toEqual(a2);
    expect(order(new DataLoader(ds, { batchSize: 7, shuffle: true, seed: 6 }))).not.toEqual(a1);
    const g = new Generator(11);
    const c = new DataLoader(ds, { batchSize: 7, shuffle: true, generator: g });
    expect(c.generator).toBe(g);
    const state = g.getState();
    const c1 = order(c);
    g.setState(state);
    expect(order(c)).toEqual(c1);
  });

  it("shuffles exactly as the array form does (golden first epochs of the array-form test)", () => {
    const ds = new TensorDataset(...fields(10));
    const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 0 });
    expect(epoch(loader).flatMap(rowsOf)).toEqual([2, 0, 9, 8, 7, 1, 5, 6, 4, 3]);
    expect(epoch(loader).flatMap(rowsOf)).toEqual([6, 4, 8, 3, 1, 7, 5, 0, 9, 2]);
  });

  it("dropLast drops only a short final batch", () => {
    const sizes = (n: number, dropLast: boolean) => epoch(new DataLoader(new TensorDataset(...fields(n)), { batchSize: 4, dropLast })).map((b) => b[0].shape[0]);
    expect(sizes(10, false)).toEqual([4, 4, 2]);
    expect(sizes(10, true)).toEqual([4, 4]);
    expect(sizes(8, true)).toEqual([4, 4]);
    expect(sizes(3, true)).toEqual([]);
    expect(sizes(0, false)).toEqual([]);
    expect(new DataLoader(new TensorDataset(...fields(3)), { batchSize: 4, dropLast: true }).length).toBe(0);
  });

  it("gathers rows without calling get, into tensors the caller owns, with no gradient history", () => {
    const w = tensor([[1, 2], [3, 4], [5, 6]], { requiresGrad: true });
    const ds = new TensorDataset(w, tensor([0, 1, 2], { dtype: "int32" }));
    const get = vi.spyOn(ds, "get");
    const [[xb]] = epoch(new DataLoader(ds, { batchSize: 3 })) as [[Tensor, Tensor]];
    expect(get).not.toHaveBeenCalled();
    expect(xb.requiresGrad).toBe(false);
    expect(xb.gradFn).toBeNull();
    xb.toTypedArray();
    (xb.storage as Float32Array)[0] = -1;
    expect(w.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
  });

  it("reads non-contiguous and expanded tensors correctly", () => {
    const base = tensor([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]); // [3, 4]
    const t = base.transpose(0, 1); // [4, 3], column j of base is row j
    const e = tensor([[7, 8]]).expand([4, 2]);
    const n = base.narrow(1, 1, 2).transpose(0, 1); // [2, 3]
    const [[tb, eb]] = epoch(new DataLoader(new TensorDataset(t, e), { batchSize: 4, shuffle: true, seed: 1 })) as [[Tensor, Tensor]];
    const rows = tb.toArray() as number[][];
    rows.forEach((r) => expect(r).toEqual([r[0]!, r[0]! + 4, r[0]! + 8]));
    expect(rows.map((r) => r[0]).sort()).toEqual([0, 1, 2, 3]);
    expect(eb.toArray()).toEqual([[7, 8], [7, 8], [7, 8], [7, 8]]);
    const [[nb]] = epoch(new DataLoader(new TensorDataset(n), { batchSize: 2 })) as [[Tensor]];
    expect(nb.toArray()).toEqual([[1, 5, 9], [2, 6, 10]]);
  });

  it("goes through a Subset (and Subsets of Subsets) without calling get, as a split", () => {
    const ds = new TensorDataset(...fields(20));
    const get = vi.spyOn(ds, "get");
    const outer = new Subset(new Subset(ds, [19, 3, 5, 7, 11, 13]), [5, 0, 2, 2]);
    expect(outer.length).toBe(4);
    expect(rowsOf(outer.get(0).map((t) => t.unsqueeze(0)))).toEqual([13]);
    get.mockClear();
    const out = epoch(new DataLoader(outer, { batchSize: 3 }));
    expect(get).not.toHaveBeenCalled();
    expect(out.flatMap(rowsOf)).toEqual([13, 19, 5, 5]);
    // The same batches through get + defaultCollate
    const slow = epoch(new DataLoader(outer, { batchSize: 3, collate: defaultCollate }));
    expect(slow.map((b) => b.map((t) => t.toArray()))).toEqual(out.map((b) => b.map((t) => t.toArray())));
    expect(get).toHaveBeenCalled();
  });

  it("a custom collate receives the samples of each batch and its result is the batch", () => {
    const ds = new TensorDataset(tensor([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]), tensor([10, 20, 30, 40, 50], { dtype: "int32" }));
    const seen: number[] = [];
    const loader = new DataLoader(ds, {
      batchSize: 2,
      collate: (samples) => {
        seen.push(samples.length);
        return { n: samples.length, labels: samples.map(([, y]) => y.item()) };
      },
    });
    const out = epoch(loader);
    expect(out).toEqual([
      { n: 2, labels: [10, 20] },
      { n: 2, labels: [30, 40] },
      { n: 1, labels: [50] },
    ]);
    expect(seen).toEqual([2, 2, 1]);
  });

  it("takes any map-style data set, batched by defaultCollate", () => {
    const squares: MapDataset<{ x: Float32Array; y: number; label: Tensor; ok: boolean }> = {
      length: 5,
      get: (i) => ({ x: new Float32Array([i, i]), y: i + 0.5, label: tensor(i % 2, { dtype: "int32" }), ok: i > 2 }),
    };
    const [b0, b1] = epoch(new DataLoader(squares, { batchSize: 3 }));
    expect(b0!.x.shape).toEqual([3, 2]);
    expect(b0!.x.dtype).toBe("float32");
    expect(b0!.y.toArray()).toEqual([0.5, 1.5, 2.5]);
    expect(b0!.label.dtype).toBe("int32");
    expect(b1!.label.toArray()).toEqual([1, 0]);
    expect(b1!.ok.toArray()).toEqual([true, true]);
    const tuples: MapDataset<[number, Int32Array]> = { length: 2, get: (i) => [i, Int32Array.from([i, -i])] };
    const [[a, c]] = epoch(new DataLoader(tuples, { batchSize: 2 })) as [[Tensor, Tensor]];
    expect(a.toArray()).toEqual([0, 1]);
    expect(c.dtype).toBe("int32");
    expect(c.toArray()).toEqual([[0, 0], [1, -1]]);
  });

  it("rejects bad arguments with typed errors", () => {
    const ds = new TensorDataset(...fields(5));
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(ValueError);
    expect(() => new DataLoader(ds, { batchSize: 1, seed: 1, generator: new Generator(1) })).toThrow(/either seed or generator/);
    expect(() => new DataLoader(ds, { collate: 3 as never })).toThrow(/collate must be a function/);
    expect(() => new DataLoader(ds as never, [0, 1], { batchSize: 1 })).toThrow(/new Subset\(dataset, indices\)/);
    expect(() => new DataLoader(tensor([1, 2]) as never, { batchSize: 1 })).toThrow(/wrap tensors in new TensorDataset\(x, y\)/);
    expect(() => new DataLoader([1, 2, 3] as never, { batchSize: 1 })).toThrow(ValueError);
    expect(() => new DataLoader({ length: -1, get: () => 0 }, {})).toThrow(/length must be a non-negative integer/);
    const arrays = { x: new Float32Array(4), y: new Int32Array(2), featureShape: [2] };
    expect(() => new DataLoader(arrays, null, { collate: (s: unknown[]) => s } as never)).toThrow(/toTensorDataset\(data\)/);
    expect(() => new DataLoader({ ...arrays, x: [0, 0, 0, 0] } as never, null, {})).toThrow(DTypeError);
    expect(() => new DataLoader({ ...arrays, featureShape: [3] }, null, {})).toThrow(ShapeError);
    expect(() => new Subset(ds, [0, 5])).toThrow(IndexError);
    expect(() => new Subset(ds, [0, 5])).toThrow(/indices\[1\] = 5 is not an index of a data set of 5 samples/);
    expect(() => new Subset(ds, [1.5])).toThrow(IndexError);
    expect(() => new Subset(ds, [0]).get(1)).toThrow(IndexError);
  });
});

describe("defaultCollate", () => {
  it("stacks tensors and keeps the structure of tuples and objects", () => {
    const b = defaultCollate([
      [tensor([1, 2]), { w: 0.5, name: [true] }],
      [tensor([3, 4]), { w: 1.5, name: [false] }],
    ] as [Tensor, { w: number; name: boolean[] }][]);
    expect(b[0].toArray()).toEqual([[1, 2], [3, 4]]);
    expect(b[1].w.dtype).toBe("float32");
    expect(b[1].w.toArray()).toEqual([0.5, 1.5]);
    expect(b[1].name[0]!.toArray()).toEqual([true, false]);
  });

  it("names the field and sample of a mismatch", () => {
    expect(() => defaultCollate([{ x: tensor([1, 2]) }, { x: tensor([1, 2, 3]) }])).toThrow(ShapeError);
    expect(() => defaultCollate([{ x: tensor([1, 2]) }, { x: tensor([1, 2, 3]) }])).toThrow(/sample\.x of sample 1 has shape \[3\], of sample 0 \[2\]/);
    expect(() => defaultCollate([tensor([1]), tensor([1], { dtype: "float64" })])).toThrow(DTypeError);
    expect(() => defaultCollate([[1, 2], [1]])).toThrow(/sample of sample 1 has 1 fields, of sample 0 2/);
    expect(() => defaultCollate([{ a: 1 }, { b: 1 }])).toThrow(/keys \[b\], of sample 0 \[a\]/);
    expect(() => defaultCollate([1, tensor([1])] as unknown[])).toThrow(ValueError);
    expect(() => defaultCollate(["a", "b"])).toThrow(/cannot batch the string "a".*collate/);
    expect(() => defaultCollate([new Uint8Array(2)])).toThrow(ValueError);
    expect(() => defaultCollate([])).toThrow(/got no samples/);
  });
});

describe("the embedded data sets load through TensorDataset and DataLoader", () => {
  it("digits: one call to a TensorDataset of images, a split through Subset", () => {
    const d = loadDigits();
    const digits = toTensorDataset(d, { featureShape: [1, 8, 8] });
    expect(digits.length).toBe(1797);
    expect(digits.tensors.map((t) => [t.dtype, t.shape])).toEqual([
      ["float32", [1797, 1, 8, 8]],
      ["int32", [1797]],
    ]);
    const { train } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
    const loader = new DataLoader(new Subset(digits, train), { batchSize: 64, shuffle: true, seed: 0 });
    expect(loader.length).toBe(Math.ceil(1437 / 64));
    let rows = 0;
    for (const [x, y] of loader) {
      expect(x.shape).toEqual([y.shape[0], 1, 8, 8]);
      rows += y.shape[0]!;
    }
    expect(rows).toBe(1437);
    const [[x0, y0]] = epoch(new DataLoader(new Subset(digits, [train[5]!]), {})) as [[Tensor, Tensor]];
    expect(Array.from(x0.toTypedArray())).toEqual(Array.from(d.x.subarray(train[5]! * 64, train[5]! * 64 + 64)));
    expect(y0.item()).toBe(d.y[train[5]!]);
  });

  it("iris: [150, 4] float features, int32 labels", () => {
    const iris = toTensorDataset(loadIris({ standardize: true }));
    const batches = epoch(new DataLoader(iris, { batchSize: 50 }));
    expect(batches.map(([x, y]) => [x.shape, y.dtype])).toEqual([
      [[50, 4], "int32"],
      [[50, 4], "int32"],
      [[50, 4], "int32"],
    ]);
    expect(batches.map(([, y]) => y.toArray())).toEqual([0, 1, 2].map((c) => new Array(50).fill(c)));
  });
});
