/**
 * The tensor idioms of issue 16 at their edges: -Infinity in maskedFill and cumsum, zeros in
 * cumprod, ties and NaN in sort/topk, empty dims, slice's views and clamping, einsum against
 * matmul, and the errors for what is not supported.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { grad, ones, ShapeError, softmax, tensor, ValueError, zeros } from "../../src/index.js";
import { seedArb, t64 } from "./samples.js";

const f64 = (data: number[] | number[][], requiresGrad = true) => tensor(data, { dtype: "float64", requiresGrad });

describe("maskedFill with -Infinity (attention masks)", () => {
  it("softmax over a causal mask: finite values and gradients, gradient 0 to the masked scores", () => {
    for (const n of [1, 2, 5]) {
      const x = t64([2, n, n], n);
      const masked = sg.maskedFill(x, sg.triu(ones([n, n]), 1).gt(0), -Infinity);
      const p = softmax(masked, -1);
      const w = t64([2, n, n], n + 1).detach();
      const [g] = grad([p.mul(w).sum()], [x]);
      const gv = g!.toTypedArray();
      expect(p.toTypedArray().every(Number.isFinite)).toBe(true);
      expect(gv.every(Number.isFinite)).toBe(true);
      for (let b = 0; b < 2; b++) for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(gv[b * n * n + i * n + j]).toBe(0);
    }
  });

  it("-Infinity and NaN of x under the mask leave the output and the gradient", () => {
    const x = f64([-Infinity, 1, NaN, 2]);
    const mask = tensor([true, false, true, false]);
    const y = sg.maskedFill(x, mask, 0);
    expect(y.toArray()).toEqual([0, 1, 0, 2]);
    const [g] = grad([y.mul(3).sum()], [x]);
    expect(g!.toArray()).toEqual([0, 3, 0, 3]);
  });

  it("a 0-d tensor value takes the gradient of the masked entries", () => {
    const x = f64([1, 2, 3]);
    const v = tensor(-1, { dtype: "float64", requiresGrad: true });
    const y = sg.maskedFill(x, tensor([true, false, true]), v);
    expect(y.toArray()).toEqual([-1, 2, -1]);
    const [gx, gv] = grad([y.mul(f64([1, 2, 4], false)).sum()], [x, v]);
    expect(gx!.toArray()).toEqual([0, 2, 0]);
    expect(gv!.item()).toBe(5);
    expect(() => sg.maskedFill(x, tensor([true, false, true]), f64([1, 2], false))).toThrow(ShapeError);
  });

  it("a mask that does not broadcast to x's shape, or is not bool, is refused", () => {
    expect(() => sg.maskedFill(zeros([2]), tensor([[true], [false]]), 1)).toThrow(ShapeError);
    expect(() => sg.maskedFill(zeros([2]), tensor([1, 0]), 1)).toThrow(sg.DTypeError);
  });
});

describe("cumsum and cumprod", () => {
  it("cumsum: -Infinity propagates forward only; the gradient stays finite (the reverse cumsum of g)", () => {
    const x = f64([1, -Infinity, 2, 3]);
    const y = sg.cumsum(x, 0);
    expect(y.toArray()).toEqual([1, -Infinity, -Infinity, -Infinity]);
    const [g] = grad([y], [x], { gradOutputs: [f64([1, 2, 3, 4], false)] });
    expect(g!.toArray()).toEqual([10, 9, 7, 4]);
  });

  it("cumsum with -Infinity anywhere (float32 and float64): the naive running sum, finite gradients", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(-Infinity), fc.double({ min: -4, max: 4, noNaN: true })), { minLength: 1, maxLength: 8 }),
        fc.constantFrom<"float32" | "float64">("float32", "float64"),
        (vals, dtype) => {
          const x = tensor(vals, { dtype, requiresGrad: true });
          const y = sg.cumsum(x, 0);
          const want = tensor(vals, { dtype }).toTypedArray();
          // From 0, as torch: cumsum([-0]) is +0.
          for (let i = 0; i < want.length; i++) want[i] = (i ? want[i - 1]! : 0) + want[i]!;
          expect(Array.from(y.toTypedArray())).toEqual(Array.from(want));
          const [g] = grad([y.sum()], [x]);
          expect(g!.toArray()).toEqual(vals.map((_, i) => vals.length - i));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("cumsum of bool counts as int32; empty dims give empty results", () => {
    const c = sg.cumsum(tensor([true, false, true]), 0);
    expect(c.dtype).toBe("int32");
    expect(c.toArray()).toEqual([1, 1, 2]);
    expect(sg.cumsum(zeros([0, 3]), 0).shape).toEqual([0, 3]);
    expect(sg.cumprod(zeros([2, 0]), 1).shape).toEqual([2, 0]);
  });

  it("cumprod's gradient is exact with one or several zeros (the product of the others)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.double({ min: -2, max: 2, noNaN: true })), { minLength: 1, maxLength: 6 }), (vals) => {
        const x = f64(vals);
        const [g] = grad([sg.cumprod(x, 0).sum()], [x]);
        const n = vals.length;
        for (let i = 0; i < n; i++) {
          // d/dx_i sum_k prod_{j<=k} x_j = sum_{k>=i} prod_{j<=k, j!=i} x_j
          // the rounding error scales with the terms, not with their sum (which can cancel to
          // almost nothing: a seed gave 1.0000000000010002e-12 against 1e-12 * (1 + |want|))
          let want = 0;
          let size = 0;
          for (let k = i; k < n; k++) {
            let p = 1;
            for (let j = 0; j <= k; j++) if (j !== i) p *= vals[j]!;
            want += p;
            size += Math.abs(p);
          }
          expect(Math.abs(g!.at(i) - want)).toBeLessThanOrEqual(1e-12 * (1 + size));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("sort, argsort, topk: ties, NaN, empty", () => {
  it("ties keep their index order, ascending and descending (as torch.sort(stable=True))", () => {
    const x = f64([1, 3, 3, 2, 3]);
    expect(sg.sort(x, 0, true).indices.toArray()).toEqual([1, 2, 4, 3, 0]);
    expect(sg.argsort(x, 0).toArray()).toEqual([0, 3, 1, 2, 4]);
  });

  it("topk among ties selects the lower index, and the gradient goes to it only", () => {
    const x = f64([1, 3, 3, 2]);
    const { values, indices } = sg.topk(x, 1);
    expect(indices.toArray()).toEqual([1]);
    const [g] = grad([values.sum()], [x]);
    expect(g!.toArray()).toEqual([0, 1, 0, 0]);
    const low = sg.topk(f64([2, 1, 1]), 1, 0, { largest: false });
    expect(low.indices.toArray()).toEqual([1]);
  });

  it("NaN sorts after every number ascending, first descending (as PyTorch)", () => {
    const x = tensor([2, NaN, -Infinity, 1]);
    expect(sg.argsort(x).toArray()).toEqual([2, 3, 0, 1]);
    expect(sg.argsort(x, -1, true).toArray()).toEqual([1, 0, 3, 2]);
  });

  it("sort's gradient is a permutation of the upstream gradient", () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const x = t64([3, 4], seed);
        const { values, indices } = sg.sort(x, 1);
        const w = t64([3, 4], seed + 1).detach();
        const [g] = grad([values.mul(w).sum()], [x]);
        const idx = indices.toTypedArray();
        for (let r = 0; r < 3; r++) for (let k = 0; k < 4; k++) expect(g!.at(r, idx[r * 4 + k]!)).toBe(w.at(r, k));
      }),
      { numRuns: 20 },
    );
  });

  it("0-d inputs sort to themselves", () => {
    const { values, indices } = sg.sort(tensor(3));
    expect([values.shape, values.item(), indices.item()]).toEqual([[], 3, 0]);
    expect(sg.topk(tensor(3), 1).values.item()).toBe(3);
  });

  it("empty dims and k = 0; k out of range is an error", () => {
    expect(sg.sort(zeros([2, 0])).values.shape).toEqual([2, 0]);
    expect(sg.topk(zeros([3, 4]), 0).values.shape).toEqual([3, 0]);
    expect(() => sg.topk(zeros([3]), 4)).toThrow(ValueError);
  });
});

describe("slice", () => {
  it("is a view with Python's clamping and negative indices", () => {
    const x = sg.arange(10);
    const s = sg.slice(x, 0, -7, 100, 3);
    expect(s.toArray()).toEqual([3, 6, 9]);
    expect(s.storage).toBe(x.storage);
    expect(sg.slice(x, 0, 8, 2).shape).toEqual([0]);
    expect(sg.slice(x, 0, -100, -8).toArray()).toEqual([0, 1]);
    expect(() => sg.slice(x, 0, 0, 5, 0)).toThrow(ValueError);
  });

  it("its gradient lands on the selected entries, zeros elsewhere", () => {
    const x = f64([1, 2, 3, 4, 5, 6, 7]);
    const [g] = grad([sg.slice(x, 0, 1, undefined, 3).mul(tensor([1, 2], { dtype: "float64" })).sum()], [x]);
    expect(g!.toArray()).toEqual([0, 1, 0, 0, 2, 0, 0]);
  });
});

describe("flip, roll, repeat, tile, maskedSelect, triu/tril on empty and degenerate shapes", () => {
  it("keep shapes as PyTorch", () => {
    expect(sg.flip(zeros([0, 2]), [0, 1]).shape).toEqual([0, 2]);
    expect(sg.roll(zeros([0, 2]), 1, 0).shape).toEqual([0, 2]);
    expect(sg.roll(sg.arange(3), 7).toArray()).toEqual([2, 0, 1]);
    expect(sg.repeat(zeros([2]), [0, 3]).shape).toEqual([0, 6]);
    expect(sg.tile(zeros([2, 3]), [2]).shape).toEqual([2, 6]);
    expect(sg.maskedSelect(zeros([2, 2]), tensor([false, false])).shape).toEqual([0]);
    expect(sg.triu(zeros([0, 3])).shape).toEqual([0, 3]);
    expect(() => sg.triu(zeros([3]))).toThrow(ShapeError);
    expect(() => sg.repeat(zeros([2, 2]), [2])).toThrow(ShapeError);
  });
});

describe("einsum and bmm", () => {
  it("agrees with matmul / sum on the common forms", () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = t64([2, 3, 4], seed).detach();
        const b = t64([2, 4, 5], seed + 1).detach();
        const close = (u: sg.Tensor, v: sg.Tensor) => {
          expect(u.shape).toEqual(v.shape);
          const uu = u.toTypedArray();
          const vv = v.toTypedArray();
          uu.forEach((x, i) => expect(Math.abs(x - vv[i]!)).toBeLessThan(1e-12));
        };
        close(sg.einsum("bij,bjk->bik", a, b), sg.bmm(a, b));
        close(sg.einsum("bij,bkj->bik", a, b.transpose(1, 2)), sg.matmul(a, b));
        close(sg.einsum("bij->b", a), a.sum([1, 2]));
        close(sg.einsum("bij,bij->", a, a), a.square().sum());
      }),
      { numRuns: 10 },
    );
  });

  it("an empty contraction gives zeros; unsupported forms are refused", () => {
    expect(sg.einsum("ij,jk->ik", zeros([2, 0]), zeros([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(() => sg.einsum("ii->i", zeros([2, 2]))).toThrow(ValueError);
    expect(() => sg.einsum("...ij,jk", zeros([2, 2]), zeros([2, 2]))).toThrow(ValueError);
    expect(() => sg.einsum("ij,jk,kl->il", zeros([2, 2]), zeros([2, 2]), zeros([2, 2]))).toThrow(ValueError);
    expect(() => sg.einsum("ij,jk->ik", zeros([2, 3]), zeros([2, 3]))).toThrow(ShapeError);
    expect(() => sg.bmm(zeros([2, 3]), zeros([3, 2]))).toThrow(ShapeError);
  });

  it("baddbmm with beta = 0 ignores the input, NaN included (as PyTorch)", () => {
    const nan = tensor([[[NaN]]]);
    expect(sg.baddbmm(nan, ones([1, 1, 2]), ones([1, 2, 1]), { beta: 0 }).toArray()).toEqual([[[2]]]);
  });
});
