import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  add, broadcastShapes, div, DTypeError, eq, ge, gt, le, lt, maximum, minimum, mul, ne, pow, ShapeError, sub, tensor, ValueError, where,
  type Tensor,
} from "../../src/index.js";
import { broadcastableFrom, numelOf, rnd, seedArb, shapeArb, unravel, vals, ravel } from "../helpers.js";

/** NumPy's rule, written out: align right, pad with 1, each pair equal or one of them 1. */
function numpyBroadcast(...shapes: number[][]): number[] | null {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < nd; i++) {
    const sizes = shapes.map((s) => s[s.length - nd + i] ?? 1);
    const big = sizes.filter((v) => v !== 1);
    if (big.some((v) => v !== big[0])) return null;
    out.push(big.length ? big[0]! : 1);
  }
  return out;
}

const str = (s: readonly number[]): string => `[${s.join(", ")}]`;

/** Naive broadcasting binary op: index each input by the output index modulo its sizes. */
function naiveBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const shape = numpyBroadcast([...a.shape], [...b.shape])!;
  const av = vals(a);
  const bv = vals(b);
  const data: number[] = [];
  const pick = (t: Tensor, idx: number[]): number[] => idx.slice(idx.length - t.ndim).map((v, d) => (t.shape[d] === 1 ? 0 : v));
  for (let i = 0; i < numelOf(shape); i++) {
    const idx = unravel(i, shape);
    data.push(f(av[ravel(pick(a, idx), a.shape)]!, bv[ravel(pick(b, idx), b.shape)]!));
  }
  return { shape, data };
}

describe("broadcastShapes", () => {
  it("matches NumPy's rule on arbitrary shape pairs (sizes 0..3), throwing ShapeError naming both shapes otherwise", () => {
    fc.assert(
      fc.property(shapeArb(0, 4, 0, 3), shapeArb(0, 4, 0, 3), (a, b) => {
        const expected = numpyBroadcast(a, b);
        if (expected) {
          expect(broadcastShapes("t", a, b)).toEqual(expected);
        } else {
          let err: unknown;
          try {
            broadcastShapes("myop", a, b);
          } catch (e) {
            err = e;
          }
          expect(err).toBeInstanceOf(ShapeError);
          const msg = (err as Error).message;
          expect(msg).toContain("myop");
          expect(msg).toContain(str(a));
          expect(msg).toContain(str(b));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is symmetric and accepts generated compatible shapes (with 1s and 0s)", () => {
    const arb = shapeArb(0, 5, 0, 4).chain((out) => fc.tuple(fc.constant(out), broadcastableFrom(out), broadcastableFrom(out)));
    fc.assert(
      fc.property(arb, ([out, a, b]) => {
        const ab = broadcastShapes("t", a, b);
        expect(ab).toEqual(broadcastShapes("t", b, a));
        expect(ab).toEqual(numpyBroadcast(a, b));
        // The result is the output shape with the dims neither input kept replaced by 1.
        expect(ab.length).toBeLessThanOrEqual(out.length);
        ab.forEach((s, i) => expect(s === out[out.length - ab.length + i] || s === 1).toBe(true));
      }),
      { numRuns: 300 },
    );
  });

  it("handles several shapes, scalars and zero sizes", () => {
    expect(broadcastShapes("t")).toEqual([]);
    expect(broadcastShapes("t", [], [])).toEqual([]);
    expect(broadcastShapes("t", [3, 1], [1, 4], [2, 1, 1])).toEqual([2, 3, 4]);
    expect(broadcastShapes("t", [0], [1])).toEqual([0]);
    expect(broadcastShapes("t", [1, 0], [5, 1])).toEqual([5, 0]);
    expect(() => broadcastShapes("t", [0], [3])).toThrow(ShapeError);
    expect(() => broadcastShapes("t", [2, 3], [3, 2])).toThrow(/\[2, 3\] and \[3, 2\]/);
  });
});

describe("binary ops with broadcasting vs a naive loop", () => {
  const fns: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
    ["add", add, (x, y) => x + y],
    ["sub", sub, (x, y) => x - y],
    ["mul", mul, (x, y) => x * y],
    ["div", div, (x, y) => x / y],
    ["maximum", maximum, Math.max],
    ["minimum", minimum, Math.min],
    ["pow", (a, b) => pow(a.abs(), b), (x, y) => Math.pow(Math.abs(x), y)],
    ["eq", (a, b) => eq(a.gt(0), b.gt(0)), (x, y) => (x > 0 === y > 0 ? 1 : 0)],
    ["lt", lt, (x, y) => (x < y ? 1 : 0)],
    ["ge", ge, (x, y) => (x >= y ? 1 : 0)],
  ];
  const arb = shapeArb(0, 4, 0, 3).chain((out) => fc.tuple(broadcastableFrom(out), broadcastableFrom(out), seedArb, fc.boolean()));
  for (const [name, op, f] of fns) {
    it(`${name}`, () => {
      fc.assert(
        fc.property(arb, ([sa, sb, seed, transposeA]) => {
          let a = rnd(sa, seed);
          // Also feed a non-contiguous (transposed) input with the same logical shape.
          if (transposeA && sa.length >= 2) {
            const tr = [...sa];
            [tr[0], tr[1]] = [tr[1]!, tr[0]!];
            a = rnd(tr, seed).transpose(0, 1);
          }
          const b = rnd(sb, seed + 1);
          const { shape, data } = naiveBinary(a, b, f);
          const r = op(a, b);
          expect(r.shape).toEqual(shape);
          expect(vals(r)).toEqual(data);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("scalars on either side keep the tensor's dtype", () => {
    const x = tensor([1, 2, 3], { dtype: "float64" });
    expect(add(x, 1).toArray()).toEqual([2, 3, 4]);
    expect(sub(10, x).toArray()).toEqual([9, 8, 7]);
    expect(div(6, x).toArray()).toEqual([6, 3, 2]);
    expect(mul(x, 2).dtype).toBe("float64");
    const i = tensor([1, 2, 3], { dtype: "int32" });
    expect(add(i, 2).toArray()).toEqual([3, 4, 5]);
    expect(add(i, 2).dtype).toBe("int32");
    expect(x.pow(2).toArray()).toEqual([1, 4, 9]);
  });

  it("comparisons: results are bool; numbers compare exactly with int32 tensors (no rounding)", () => {
    const i = tensor([0, 1, 2], { dtype: "int32" });
    expect(lt(i, 1.5).toArray()).toEqual([true, true, false]);
    expect(gt(i, 0.5).toArray()).toEqual([false, true, true]);
    expect(le(i, 1).dtype).toBe("bool");
    expect(ne(i, 1).toArray()).toEqual([true, false, true]);
    expect(eq(tensor([1, 2]), 2).toArray()).toEqual([false, true]);
    expect(eq(2, tensor([1, 2])).toArray()).toEqual([false, true]);
    // NOTE: the number on the LEFT of an int32 tensor must not be truncated either.
    expect(gt(0.5, i).toArray()).toEqual([true, false, false]);
    expect(lt(1.5, i).toArray()).toEqual([false, false, true]);
    // mixed dtypes promote (issue 20): float32 vs float64 compares in float64
    expect(gt(tensor([1]), tensor([1], { dtype: "float64" })).toArray()).toEqual([false]);
  });

  it("broadcast gradients are summed back to each input's shape", () => {
    const a = tensor([[1], [2], [3]], { dtype: "float64", requiresGrad: true }); // [3, 1]
    const b = tensor([1, 2, 3, 4], { dtype: "float64", requiresGrad: true }); // [4]
    a.mul(b).sum().backward();
    expect(a.grad!.shape).toEqual([3, 1]);
    expect(a.grad!.toArray()).toEqual([[10], [10], [10]]);
    expect(b.grad!.shape).toEqual([4]);
    expect(b.grad!.toArray()).toEqual([6, 6, 6, 6]);
    const s = tensor(2, { dtype: "float64", requiresGrad: true });
    const t = tensor([[1, 2], [3, 4]], { dtype: "float64", requiresGrad: true });
    s.mul(t).sum().backward();
    expect(s.grad!.shape).toEqual([]);
    expect(s.grad!.item()).toBe(10);
    expect(t.grad!.toArray()).toEqual([[2, 2], [2, 2]]);
  });

  it("where broadcasts condition and both branches", () => {
    const c = tensor([[true], [false]]);
    const r = where(c, tensor([1, 2, 3]), tensor(0));
    expect(r.toArray()).toEqual([[1, 2, 3], [0, 0, 0]]);
    const r2 = tensor([1, 2, 3]).where(tensor([true, false, true]), -1);
    expect(r2.toArray()).toEqual([1, -1, 3]);
    expect(() => where(tensor([1, 0]), tensor([1, 2]), 0)).toThrow(DTypeError);
    expect(() => where(tensor([true, false]), tensor([1, 2, 3]), 0)).toThrow(ShapeError);
  });
});

describe("binary op errors", () => {
  it("mixed dtypes promote as torch.result_type (issue 20; the whole table is test/ops/promote.test.ts)", () => {
    const a = tensor([1, 2]);
    const b = tensor([1, 2], { dtype: "float64" });
    expect(add(a, b).dtype).toBe("float64");
    expect(mul(tensor([1], { dtype: "int32" }), a).dtype).toBe("float32");
  });

  it("where torch errors, a typed error: bool subtraction, bool ** bool, int ** negative int, no tensor at all", () => {
    const i = tensor([1, 2], { dtype: "int32" });
    expect(add(i, 0.5).dtype).toBe("float32");
    expect(add(tensor([true]), 1).dtype).toBe("int32");
    expect(add(tensor([true]), tensor([false])).toArray()).toEqual([true]);
    expect(div(i, i).dtype).toBe("float32");
    expect(pow(i, 2).dtype).toBe("int32");
    expect(() => sub(tensor([true]), tensor([false]))).toThrow(DTypeError);
    expect(() => pow(tensor([true]), tensor([false]))).toThrow(DTypeError);
    expect(() => pow(i, -2)).toThrow(ValueError);
    expect(() => add(1 as never, 2 as never)).toThrow(DTypeError);
    expect(() => add(i, "x" as never)).toThrow(DTypeError);
    expect(() => gt(1 as never, 2 as never)).toThrow(DTypeError);
  });

  it("incompatible shapes: ShapeError naming the op and both shapes", () => {
    expect(() => add(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(ShapeError);
    expect(() => add(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(/add: .*\[3\] and \[2\]/);
  });
});
