import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  arange, DTypeError, eye, full, fullLike, Generator, IndexError, isTensor, linspace, manualSeed, ones, onesLike, rand, randint, randn,
  ShapeError, tensor, Tensor, ValueError, zeros, zerosLike, defaultGenerator,
} from "../../src/index.js";
import { vals } from "../helpers.js";

describe("tensor()", () => {
  it("nested arrays: shape inference, default float32, explicit dtype", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float32");
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(7).shape).toEqual([]);
    expect(tensor(7).item()).toBe(7);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([1.5, 2.5], { dtype: "int32" }).toArray()).toEqual([1, 2]);
    expect(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor([0.1], { dtype: "float64" }).item()).toBe(0.1);
    expect(tensor([0.1]).item()).toBe(Math.fround(0.1));
  });

  it("round-trips random nested arrays through toArray (property)", () => {
    const arb = fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(arb, fc.constantFrom("float32" as const, "float64" as const, "int32" as const), (data, dtype) => {
        const t = tensor(data, { dtype });
        expect(t.shape).toEqual([data.length, 3]);
        expect(t.toArray()).toEqual(data);
        expect(vals(t)).toEqual(data.flat());
      }),
      { numRuns: 50 },
    );
  });

  it("booleans give bool tensors; numbers converted to bool are 0/1", () => {
    const b = tensor([true, false, true]);
    expect(b.dtype).toBe("bool");
    expect(b.toArray()).toEqual([true, false, true]);
    expect(tensor([2, 0, -3], { dtype: "bool" }).toArray()).toEqual([true, false, true]);
    expect(vals(tensor([2, 0, -3], { dtype: "bool" }))).toEqual([1, 0, 1]);
    expect(tensor([true, false], { dtype: "float32" }).toArray()).toEqual([1, 0]);
  });

  it("typed arrays: keep their dtype, are copied, accept a shape", () => {
    const src = new Float64Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(src, { shape: [2, 3] });
    expect(t.dtype).toBe("float64");
    expect(t.storage).not.toBe(src);
    src[0] = 100;
    expect(t.at(0, 0)).toBe(1);
    expect(tensor(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(tensor(new Float32Array([1, 2]), { dtype: "float64" }).dtype).toBe("float64");
    expect(() => tensor(new Float32Array(6), { shape: [4, 2] })).toThrow(ShapeError);
    expect(() => tensor(new Float32Array(6), { shape: [-1, 6] })).toThrow(ShapeError);
  });

  it("typed arrays converted to bool hold 0/1 (as torch: any non-zero is true)", () => {
    const b = tensor(new Float32Array([2, 0, 0.5, -1]), { dtype: "bool" });
    expect(vals(b)).toEqual([1, 0, 1, 1]);
    expect(b.sum().item()).toBe(3);
  });

  it("ragged input throws ShapeError; non-numbers throw DTypeError; shape mismatch throws", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => tensor([[1, 2], 3] as never)).toThrow(ShapeError);
    expect(() => tensor([1, [2]] as never)).toThrow(ShapeError);
    expect(() => tensor(["a"] as never)).toThrow(DTypeError);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/\[2, 2\] does not match 3 elements/);
    expect(() => tensor([1, 2], { shape: [2.5] })).toThrow(ShapeError);
  });
});

describe("factories", () => {
  it("zeros/ones/full/*Like", () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3], { dtype: "int32" }).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7, { dtype: "float64" }).toArray()).toEqual([7, 7]);
    const x = tensor([[1, 2]], { dtype: "float64" });
    expect(zerosLike(x).dtype).toBe("float64");
    expect(onesLike(x).toArray()).toEqual([[1, 1]]);
    expect(fullLike(x, 3, { dtype: "int32" }).toArray()).toEqual([[3, 3]]);
    expect(zeros([]).shape).toEqual([]);
    expect(() => zeros([-1])).toThrow(ShapeError);
    expect(() => ones([1.5])).toThrow(/invalid shape/);
  });

  it("arange: int32 for integer arguments, float32 otherwise", () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe("int32");
    expect(arange(2, 8, 3).toArray()).toEqual([2, 5]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(arange(0, 1, 0.25).dtype).toBe("float32");
    expect(arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(0.5, 3).toArray()).toEqual([0.5, 1.5, 2.5]);
    expect(arange(3, undefined, 1, { dtype: "float64" }).dtype).toBe("float64");
    expect(arange(3, 1).shape).toEqual([0]);
    expect(() => arange(0, 5, 0)).toThrow(ValueError);
    expect(() => arange(0, Infinity)).toThrow(ValueError);
  });

  it("linspace includes both ends; steps = 1 gives start (as torch)", () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const l = linspace(-1, 1, 7, { dtype: "float64" });
    expect(l.at(0)).toBe(-1);
    expect(l.at(-1)).toBe(1);
    expect(linspace(0, 10, 0).shape).toEqual([0]);
    expect(linspace(0, 10, 1).toArray()).toEqual([0]);
    expect(linspace(3, 3, 2).toArray()).toEqual([3, 3]);
    expect(() => linspace(0, 1, -1)).toThrow(ValueError);
    expect(() => linspace(0, 1, 2.5)).toThrow(ValueError);
  });

  it("eye", () => {
    expect(eye(2).toArray()).toEqual([[1, 0], [0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(eye(3, 2, { dtype: "int32" }).toArray()).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(eye(2, 2, { dtype: "float64", requiresGrad: true }).requiresGrad).toBe(true);
  });

  it("rand/randn/randint are deterministic with manualSeed and with a Generator", () => {
    manualSeed(123);
    const a = vals(rand([5]));
    const an = vals(randn([4], { dtype: "float64" }));
    const ai = vals(randint(0, 10, [6]));
    manualSeed(123);
    expect(vals(rand([5]))).toEqual(a);
    expect(vals(randn([4], { dtype: "float64" }))).toEqual(an);
    expect(vals(randint(0, 10, [6]))).toEqual(ai);
    const g1 = new Generator(7);
    const g2 = new Generator(7);
    expect(vals(randn([3, 3], { generator: g1 }))).toEqual(vals(randn([3, 3], { generator: g2 })));
    expect(vals(rand([3], { generator: new Generator(8) }))).not.toEqual(vals(rand([3], { generator: new Generator(9) })));
    // A private generator does not disturb the default one.
    manualSeed(5);
    const first = defaultGenerator.random();
    manualSeed(5);
    rand([10], { generator: new Generator(1) });
    expect(defaultGenerator.random()).toBe(first);
  });

  it("random values have the right ranges, dtypes and rough moments", () => {
    const g = new Generator(42);
    const u = vals(rand([4000], { generator: g, dtype: "float64" }));
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(Math.abs(u.reduce((a, b) => a + b, 0) / u.length - 0.5)).toBeLessThan(0.03);
    const n = vals(randn([4000], { generator: g, dtype: "float64" }));
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    const v = n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(v - 1)).toBeLessThan(0.08);
    const r = randint(-3, 4, [2000], { generator: g });
    expect(r.dtype).toBe("int32");
    const rv = vals(r);
    expect(Math.min(...rv)).toBe(-3);
    expect(Math.max(...rv)).toBe(3);
    expect(randint(0, 2, [3], { dtype: "float64", generator: g }).dtype).toBe("float64");
    expect(rand([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => randint(3, 3, [1])).toThrow(ValueError);
    expect(() => randint(0, 2.5, [1])).toThrow(ValueError);
  });
});

describe("Generator and dtype helpers", () => {
  it("state can be saved and restored (including the cached normal); shuffle is a seeded permutation", () => {
    const g = new Generator(3);
    g.normal(); // leaves a cached second normal
    const state = g.getState();
    const next = [g.normal(), g.random(), g.nextU32()];
    const h = new Generator(99);
    h.setState(state);
    expect([h.normal(), h.random(), h.nextU32()]).toEqual(next);
    const fresh = new Generator(4).getState();
    expect(Number.isNaN(fresh[4])).toBe(true);
    expect(() => h.setState([1, 2, 3])).toThrow(ValueError);
    const a = new Generator(5).shuffle([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...a].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Generator(5).shuffle([0, 1, 2, 3, 4, 5, 6, 7])).toEqual(a);
    expect(() => g.randint(2, 2)).toThrow(ValueError);
    expect(g.manualSeed(3)).toBe(g);
  });

  it("maxFinite and isDense", async () => {
    const { maxFinite } = await import("../../src/tensor/dtype.js");
    expect(maxFinite("float32")).toBe(Math.fround(3.4028234663852886e38));
    expect(Math.fround(maxFinite("float32") * 1.0000001)).toBe(Infinity);
    expect(maxFinite("float64")).toBe(Number.MAX_VALUE);
    const { isDense } = await import("../../src/kernels/js/runs.js");
    expect(isDense([2, 3], { strides: [3, 1], offset: 0 })).toBe(true);
    expect(isDense([2, 1, 3], { strides: [3, 7, 1], offset: 5 })).toBe(true);
    expect(isDense([2, 3], { strides: [1, 2], offset: 0 })).toBe(false);
  });
});

describe("data access", () => {
  it("item / at / toTypedArray / toArray / size / numel", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "int32" });
    expect(t.at(1, 2)).toBe(6);
    expect(t.at(-1, -3)).toBe(4);
    expect(() => t.at(2, 0)).toThrow(IndexError);
    expect(() => t.at(0, 3)).toThrow(/index 3 out of range for dim 1 of size 3/);
    expect(() => t.at(0)).toThrow(/expected 2 indices/);
    expect(() => t.at(0.5, 0)).toThrow(IndexError);
    expect(() => t.item()).toThrow(ShapeError);
    expect(tensor([[9]]).item()).toBe(9);
    expect(tensor(2).at()).toBe(2);
    const ta = t.toTypedArray();
    expect(ta).toBeInstanceOf(Int32Array);
    ta[0] = 99;
    expect(t.at(0, 0)).toBe(1); // a copy, also for contiguous tensors
    expect(Array.from(t.T.toTypedArray())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(t.T.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(t.narrow(0, 1, 1).toArray()).toEqual([[4, 5, 6]]);
    expect(tensor(3).toArray()).toBe(3);
    expect(tensor(true).toArray()).toBe(true);
    expect(t.numel).toBe(6);
    expect(t.ndim).toBe(2);
    expect(t.size()).toEqual([2, 3]);
    expect(t.size(1)).toBe(3);
    expect(isTensor(t)).toBe(true);
    expect(isTensor([1])).toBe(false);
    expect(t.float().dtype).toBe("float32");
    expect(t.double().dtype).toBe("float64");
    expect(t.float().int()).not.toBe(t);
    const named = new Tensor(new Float32Array([Infinity]), [1]).markAllowNonFinite();
    expect(named.allowNonFinite).toBe(true);
  });
});

describe("printing", () => {
  it("resembles torch", () => {
    expect(tensor([1, 2]).toString()).toBe("tensor([1.0000, 2.0000])");
    expect(tensor([[1, -2], [3, 4]]).toString()).toBe("tensor([[ 1.0000, -2.0000],\n        [ 3.0000,  4.0000]])");
    expect(tensor([1, 2], { dtype: "float64" }).toString()).toBe("tensor([1.0000, 2.0000], dtype=float64)");
    expect(tensor([1, 22], { dtype: "int32" }).toString()).toBe("tensor([ 1, 22], dtype=int32)");
    expect(tensor([true, false]).toString()).toBe("tensor([ true, false], dtype=bool)");
    expect(tensor(3.5).toString()).toBe("tensor(3.5000)");
    expect(tensor([NaN, Infinity, -Infinity]).toString()).toBe("tensor([ nan,  inf, -inf])");
    expect(zeros([0, 3]).toString()).toBe("tensor([], size=[0, 3])");
    expect(tensor([1], { requiresGrad: true }).toString()).toBe("tensor([1.0000], requiresGrad=true)");
    expect(tensor([1], { requiresGrad: true }).mul(2).toString()).toBe("tensor([2.0000], gradFn=mul)");
    expect(tensor([[[1]], [[2]]]).toString()).toBe("tensor([[[1.0000]],\n\n        [[2.0000]]])");
    expect(tensor([1, 2]).T.toString()).toBe("tensor([1.0000, 2.0000])");
  });

  it("uses scientific notation for very large or very small magnitudes", () => {
    const s = tensor([1e10, 1]).toString();
    expect(s).toMatch(/^tensor\(\[1\.0000e\+10, +1\.0000e\+0+\]\)$/);
    expect(tensor([1e-5, 1]).toString()).toContain("1.0000e-05");
  });

  it("summarises tensors of more than 1000 elements", () => {
    const big = arange(2000);
    expect(big.toString()).toBe("tensor([   0,    1,    2, ..., 1997, 1998, 1999], dtype=int32)");
    const m = zeros([40, 40]).toString();
    expect(m.split("\n").length).toBe(7); // 3 rows, "...", 3 rows
    expect(m).toContain("...");
    expect(arange(1000).toString()).not.toContain("...");
  });

  it("node's inspect uses the same format", () => {
    const t = tensor([1, 2]);
    const inspect = (t as unknown as Record<symbol, () => string>)[Symbol.for("nodejs.util.inspect.custom")]!;
    expect(inspect.call(t)).toBe(t.toString());
  });
});
