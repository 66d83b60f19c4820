import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  amax, amin, argmax, argmin, DTypeError, logSoftmax, logsumexp, max, mean, min, norm, ShapeError, softmax, std, sum, tensor,
  ValueError, variance, zeros, type Tensor,
} from "../../src/index.js";
import { expectClose, numelOf, ravel, rnd, seedArb, shapeArb, unravel, vals } from "../helpers.js";

/** Group the elements of x by their position in the reduced output. */
function groups(x: Tensor, dims: readonly number[]): { shape: number[]; keepShape: number[]; groups: number[][] } {
  const keepShape = x.shape.map((s, d) => (dims.includes(d) ? 1 : s));
  const shape = x.shape.filter((_, d) => !dims.includes(d));
  const out: number[][] = Array.from({ length: numelOf(keepShape) }, () => []);
  vals(x).forEach((v, i) => {
    const idx = unravel(i, x.shape).map((k, d) => (dims.includes(d) ? 0 : k));
    out[ravel(idx, keepShape)]!.push(v);
  });
  return { shape, keepShape, groups: out };
}

const naive = {
  sum: (g: number[]) => g.reduce((a, b) => a + b, 0),
  mean: (g: number[]) => g.reduce((a, b) => a + b, 0) / g.length,
  amax: (g: number[]) => (g.some(Number.isNaN) ? NaN : Math.max(...g)),
  amin: (g: number[]) => (g.some(Number.isNaN) ? NaN : Math.min(...g)),
  var: (c: number) => (g: number[]) => {
    const m = naive.mean(g);
    return g.reduce((a, v) => a + (v - m) ** 2, 0) / Math.max(0, g.length - c);
  },
  logsumexp: (g: number[]) => {
    const m = Math.max(...g);
    return m + Math.log(g.reduce((a, v) => a + Math.exp(v - m), 0));
  },
  norm: (p: number) => (g: number[]) =>
    p === Infinity ? Math.max(0, ...g.map(Math.abs)) : g.reduce((a, v) => a + Math.abs(v) ** p, 0) ** (1 / p),
};

/** Round in place: small integers make ties in argmax common. */
function roundInPlace(t: Tensor): Tensor {
  for (let i = 0; i < t.storage.length; i++) t.storage[i] = Math.round(t.storage[i]!) + 0; // + 0 turns -0 into 0
  return t;
}

interface ReduceCase {
  shape: number[];
  dims: number[];
  negate: boolean[];
  keepdim: boolean;
  all: boolean;
  transposed: boolean;
  seed: number;
}

/** Random shape, a random subset of its dims written with random signs, keepdim and a seed. */
const reduceArb: fc.Arbitrary<ReduceCase> = shapeArb(0, 4, 1, 4).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    dims: fc.subarray(Array.from({ length: shape.length }, (_, i) => i)),
    negate: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
    keepdim: fc.boolean(),
    all: fc.boolean(),
    transposed: fc.boolean(),
    seed: seedArb,
  }),
);

function setup(r: ReduceCase): { x: Tensor; dims: number[]; arg: number[] | undefined } {
  let x = rnd(r.shape, r.seed);
  if (r.transposed && r.shape.length >= 2) x = rnd([...r.shape].reverse(), r.seed).permute([...r.shape.keys()].reverse());
  const dims = r.all ? [...r.shape.keys()] : r.dims;
  const arg = r.all ? undefined : dims.map((d) => (r.negate[d] ? d - r.shape.length : d));
  return { x, dims, arg };
}

describe("reductions vs naive loops (float64, random dims, keepdim, negative dims, non-contiguous)", () => {
  const cases: [string, (x: Tensor, dims: number[] | undefined, keepdim: boolean) => Tensor, (g: number[]) => number, number][] = [
    ["sum", (x, d, k) => sum(x, d, k), naive.sum, 1e-12],
    ["mean", (x, d, k) => mean(x, d, k), naive.mean, 1e-12],
    ["amax", (x, d, k) => amax(x, d, k), naive.amax, 0],
    ["amin", (x, d, k) => amin(x, d, k), naive.amin, 0],
    ["var (correction 1)", (x, d, keepdim) => variance(x, d, { keepdim }), naive.var(1), 1e-10],
    ["var (correction 0)", (x, d, keepdim) => x.var(d, { correction: 0, keepdim }), naive.var(0), 1e-10],
    ["std (correction 0)", (x, d, keepdim) => std(x, d, { correction: 0, keepdim }), (g) => Math.sqrt(naive.var(0)(g)), 1e-10],
    ["logsumexp", (x, d, k) => logsumexp(x, d ?? null, k), naive.logsumexp, 1e-12],
    ["norm 1", (x, d, k) => norm(x, 1, d, k), naive.norm(1), 1e-12],
    ["norm 2", (x, d, k) => norm(x, 2, d, k), naive.norm(2), 1e-12],
    ["norm 3", (x, d, k) => x.norm(3, d, k), naive.norm(3), 1e-12],
    ["norm inf", (x, d, k) => norm(x, Infinity, d, k), naive.norm(Infinity), 0],
  ];
  for (const [name, op, ref, tol] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(reduceArb, (r) => {
          const { x, dims, arg } = setup(r);
          const out = op(x, arg, r.keepdim);
          const { shape, keepShape, groups: gs } = groups(x, dims);
          expect(out.shape).toEqual(r.keepdim ? keepShape : shape);
          expect(out.dtype).toBe("float64");
          expectClose(vals(out), gs.map(ref), tol, tol);
        }),
        { numRuns: 80 },
      );
    });
  }

  it("argmax/argmin and max(dim)/min(dim) vs a naive first-index scan", () => {
    const arb = shapeArb(1, 4, 1, 4).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.boolean(), seedArb));
    fc.assert(
      fc.property(arb, ([shape, dim, keepdim, seed]) => {
        // Small integers so that ties are common.
        const x = roundInPlace(rnd(shape, seed).mul(2));
        const d = dim < 0 ? dim + shape.length : dim;
        const { shape: outShape, keepShape, groups: gs } = groups(x, [d]);
        const firstArg = (g: number[], better: (a: number, b: number) => boolean): number => {
          let best = 0;
          g.forEach((v, i) => {
            if (better(v, g[best]!)) best = i;
          });
          return best;
        };
        const am = argmax(x, dim, keepdim);
        expect(am.dtype).toBe("int32");
        expect(am.shape).toEqual(keepdim ? keepShape : outShape);
        expect(vals(am)).toEqual(gs.map((g) => firstArg(g, (a, b) => a > b)));
        expect(vals(argmin(x, dim, keepdim))).toEqual(gs.map((g) => firstArg(g, (a, b) => a < b)));
        const mx = max(x, dim, keepdim);
        expect(vals(mx.values)).toEqual(gs.map((g) => Math.max(...g)));
        expect(vals(mx.indices)).toEqual(vals(am));
        const mn = x.min(dim, keepdim);
        expect(vals(mn.values)).toEqual(gs.map((g) => Math.min(...g)));
        expect(mn.values.shape).toEqual(keepdim ? keepShape : outShape);
      }),
      { numRuns: 100 },
    );
  });
});

describe("reduction edge cases", () => {
  it("argmax takes the first index on ties; flat argmax of the whole tensor", () => {
    expect(argmax(tensor([1, 3, 3, 2])).item()).toBe(1);
    expect(argmin(tensor([2, 1, 5, 1])).item()).toBe(1);
    expect(argmax(tensor([[1, 9], [9, 1]])).item()).toBe(1);
    expect(argmax(tensor([[1, 9], [9, 1]])).shape).toEqual([]);
    expect(tensor([[5, 5], [1, 7]]).argmax(1).toArray()).toEqual([0, 1]);
    expect(tensor([[5, 5], [1, 7]]).argmax(1, true).shape).toEqual([2, 1]);
    expect(argmax(tensor(4), 0).item()).toBe(0);
    expect(() => argmax(zeros([0]))).toThrow(ShapeError);
    expect(() => argmax(zeros([2, 0]), 1)).toThrow(ShapeError);
  });

  it("NaN propagates through amax/amin/max and argmax points at the first NaN", () => {
    const x = tensor([1, NaN, 3, NaN]);
    expect(amax(x).item()).toBeNaN();
    expect(amin(x).item()).toBeNaN();
    expect(max(x).item()).toBeNaN();
    expect(min(x).item()).toBeNaN();
    expect(argmax(x).item()).toBe(1);
    expect(argmin(x).item()).toBe(1);
    const y = tensor([[NaN, 1], [2, 3]]);
    expect(vals(amax(y, 1))).toEqual([NaN, 3]);
    expect(amax(y, 0).toArray()).toEqual([NaN, 3]);
    const m = max(y, 1);
    expect(vals(m.values)).toEqual([NaN, 3]);
    expect(m.indices.toArray()).toEqual([0, 1]);
  });

  it("amax/amin reject empty dims; max() of a 0-d tensor", () => {
    expect(() => amax(zeros([2, 0]), 1)).toThrow(ShapeError);
    expect(() => amin(zeros([0]))).toThrow(/empty/);
    expect(amax(zeros([2, 0]), 0).shape).toEqual([0]);
    expect(max(tensor(3)).item()).toBe(3);
    const r = max(tensor(3), 0);
    expect(r.values.item()).toBe(3);
    expect(r.indices.item()).toBe(0);
    expect(r.values.shape).toEqual([]);
  });

  it("sum of int32 and bool gives int32; mean/var of int throws", () => {
    const i = tensor([[1, 2], [3, 4]], { dtype: "int32" });
    expect(sum(i).dtype).toBe("int32");
    expect(sum(i, 0).toArray()).toEqual([4, 6]);
    expect(sum(tensor([true, false, true])).item()).toBe(2);
    expect(sum(tensor([true, false, true])).dtype).toBe("int32");
    expect(() => mean(i)).toThrow(DTypeError);
    expect(() => norm(i)).toThrow(DTypeError);
    expect(() => sum(i, [0, -2])).toThrow(/repeats a dim/);
    expect(() => sum(i, 2)).toThrow(ShapeError);
  });

  it("0-d tensors reduce over dim 0 / -1 / nothing", () => {
    const s = tensor(2.5);
    expect(sum(s).item()).toBe(2.5);
    expect(sum(s, 0).shape).toEqual([]);
    expect(sum(s, -1, true).shape).toEqual([]);
    expect(mean(s).item()).toBe(2.5);
    expect(sum(tensor([1, 2]), []).toArray()).toEqual([1, 2]);
  });

  it("var with too few elements is NaN or Infinity, not an exception", () => {
    expect(variance(tensor([3])).item()).toBeNaN();
    expect(variance(tensor([3]), null, { correction: 0 }).item()).toBe(0);
    expect(variance(tensor([1, 3]), null, { correction: 2 }).item()).toBe(Infinity);
    expect(std(tensor([1, 3])).item()).toBeCloseTo(Math.SQRT2, 6);
  });

  it("logsumexp: rows with -Infinity entries stay finite; all -Infinity rows give -Infinity; huge values do not overflow", () => {
    const x = tensor([[-Infinity, 0, Math.log(3)], [-Infinity, -Infinity, -Infinity], [1000, 1000, -Infinity]], { dtype: "float64" });
    const r = vals(logsumexp(x, 1));
    expect(r[0]).toBeCloseTo(Math.log(4), 12);
    expect(r[1]).toBe(-Infinity);
    expect(r[2]).toBeCloseTo(1000 + Math.LN2, 10);
    expect(logsumexp(x, -1, true).shape).toEqual([3, 1]);
    expect(logsumexp(zeros([2, 0]), 1).toArray()).toEqual([-Infinity, -Infinity]);
    const f32 = logsumexp(tensor([88, 89, 90]), 0).item();
    expect(Number.isFinite(f32)).toBe(true);
  });

  it("softmax rows sum to 1; -Infinity mask entries give exactly 0 (property)", () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 8 }), seedArb, fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), fc.double({ min: 0.1, max: 500, noNaN: true }));
    fc.assert(
      fc.property(arb, ([rows, cols, seed, mask, scale]) => {
        const x = rnd([rows, cols], seed).mul(scale);
        // Mask entries (keep at least one per row).
        for (let r = 0; r < rows; r++)
          for (let c = 1; c < cols; c++) if (mask[(r * cols + c) % 40]) x.storage[r * cols + c] = -Infinity;
        const s = softmax(x, 1);
        const sv = vals(s);
        for (let r = 0; r < rows; r++) {
          let total = 0;
          for (let c = 0; c < cols; c++) {
            const v = sv[r * cols + c]!;
            if (x.storage[r * cols + c] === -Infinity) expect(v).toBe(0);
            expect(v).toBeGreaterThanOrEqual(0);
            total += v;
          }
          expect(Math.abs(total - 1)).toBeLessThan(1e-12);
        }
        const ls = vals(logSoftmax(x, -1));
        ls.forEach((v, i) => {
          const r = Math.floor(i / cols);
          const row = Array.from(x.storage.subarray(r * cols, (r + 1) * cols));
          const lse = naive.logsumexp(row);
          if (x.storage[i] === -Infinity) expect(v).toBe(-Infinity);
          else expect(Math.abs(v - (x.storage[i]! - lse))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v)));
        });
      }),
      { numRuns: 100 },
    );
    // float32, other dim, empty.
    const y = tensor([[1, 2], [3, 4], [5, 1000]]);
    expect(vals(softmax(y, 0).sum(0)).map((v) => Math.abs(v - 1) < 1e-6)).toEqual([true, true]);
    expect(softmax(zeros([0, 3]), 1).shape).toEqual([0, 3]);
    expect(logSoftmax(zeros([0, 3]), 1).shape).toEqual([0, 3]);
    expect(() => softmax(y, 2)).toThrow(ShapeError);
  });

  it("norm: float32 values of 1e30 do not overflow; zero vectors; p validation", () => {
    const big = tensor([1e30, 1e30, 1e30, 1e30]);
    const n2 = norm(big).item();
    expect(Number.isFinite(n2)).toBe(true);
    expect(n2 / 2e30).toBeCloseTo(1, 6);
    expect(Number.isFinite(norm(big, 3).item())).toBe(true);
    expect(norm(big, 1).item() / 4e30).toBeCloseTo(1, 6);
    expect(norm(tensor([1e-30, 1e-30]).mul(1e-15)).item()).toBeGreaterThan(0); // no underflow to 0
    expect(norm(zeros([3])).item()).toBe(0);
    expect(norm(zeros([3]), 3).item()).toBe(0);
    expect(norm(zeros([0])).item()).toBe(0);
    expect(norm(tensor([3, -4]), Infinity).item()).toBe(4);
    expect(norm(tensor([-3, 4]), 1.5).item()).toBeCloseTo((3 ** 1.5 + 4 ** 1.5) ** (1 / 1.5), 5);
    expect(norm(tensor([1, 4]), 0.5).item()).toBeCloseTo((1 + 2) ** 2, 10); // 0 < p < 1, as torch (issue 20)
    expect(() => norm(tensor([1]), 0)).toThrow(ValueError);
    expect(() => norm(tensor([1]), -1)).toThrow(ValueError);
    expect(() => norm(tensor([1]), NaN)).toThrow(ValueError);
    expect(() => norm(zeros([2, 0]), Infinity, 1)).toThrow(ShapeError);
  });

  it("norm gradients of float32 values near 1e30 and 1e-30 stay finite for every p (the forward does not overflow either)", () => {
    for (const scale of [1e30, 1e-30]) {
      for (const p of [1, 1.5, 2, 3, 4, Infinity]) {
        const x = tensor([scale, -scale, 0], { requiresGrad: true });
        norm(x, p).backward();
        const g = vals(x.grad!);
        // d||x||_p/dx_i = sign(x_i) (|x_i| / ||x||)^(p-1): here ±2^(-(p-1)/p) for the two equal entries.
        const e = p === Infinity ? 0.5 : p === 1 ? 1 : 2 ** (-(p - 1) / p);
        expect(g.every(Number.isFinite), `p=${p}, scale=${scale}: ${g.join(", ")}`).toBe(true);
        expectClose(g, [e, -e, 0], 1e-5, 1e-6);
      }
    }
  });

  it("norm of a vector holding Infinity is Infinity (as torch.linalg.vector_norm)", () => {
    expect(norm(tensor([Infinity, 1])).item()).toBe(Infinity);
    expect(norm(tensor([-Infinity, 1]), 3).item()).toBe(Infinity);
    expect(norm(tensor([Infinity, 1]), 1).item()).toBe(Infinity);
    expect(norm(tensor([Infinity, 1]), Infinity).item()).toBe(Infinity);
    expect(norm(tensor([NaN, 1])).item()).toBeNaN();
  });
});
