import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  arange, cat, chunk, contiguous, expand, flatten, gather, IndexError, indexSelect, narrow, pad, permute, reshape, scatterAdd,
  select, ShapeError, split, squeeze, stack, tensor, transpose, unsqueeze, ValueError, view, zeros, DTypeError, oneHot,
  type Tensor,
} from "../../src/index.js";
import { numelOf, permArb, ravel, readAt, rnd, seedArb, shapeArb, unravel, vals } from "../helpers.js";

/** All divisor-based factorizations of n into `parts` sizes (random choice via fast-check). */
function factorArb(n: number): fc.Arbitrary<number[]> {
  const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
  if (n === 0) return fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }).map((s) => [...s, 0]);
  return fc.array(fc.constantFrom(...divisors), { minLength: 0, maxLength: 4 }).map((ds) => {
    const out: number[] = [];
    let rest = n;
    for (const d of ds) {
      if (rest % d === 0) {
        out.push(d);
        rest /= d;
      }
    }
    out.push(rest);
    return out;
  });
}

/** A random non-contiguous layout: a permuted, narrowed and possibly expanded view of a seeded tensor. */
const stridedArb = shapeArb(1, 4, 1, 4).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    perm: permArb(shape.length),
    seed: seedArb,
    narrowDim: fc.integer({ min: 0, max: shape.length - 1 }),
    narrowStart: fc.integer({ min: 0, max: 3 }),
    expandLead: fc.integer({ min: 0, max: 2 }),
  }),
);
function makeStrided(r: { shape: number[]; perm: number[]; seed: number; narrowDim: number; narrowStart: number; expandLead: number }): Tensor {
  const base = rnd(r.shape, r.seed);
  let t = base.permute(r.perm);
  const n = t.shape[r.narrowDim]!;
  const start = Math.min(r.narrowStart, n - 1);
  t = t.narrow(r.narrowDim, start, n - start);
  if (r.expandLead > 0) t = t.unsqueeze(0).expand([r.expandLead, ...t.shape]);
  return t;
}

describe("permute / transpose", () => {
  it("random permutations: values match the naive index map, share storage, and invert", () => {
    const arb = shapeArb(0, 5, 0, 4).chain((s) => fc.tuple(fc.constant(s), permArb(s.length), seedArb));
    fc.assert(
      fc.property(arb, ([shape, perm, seed]) => {
        const x = rnd(shape, seed);
        const p = permute(x, perm);
        expect(p.shape).toEqual(perm.map((d) => shape[d]));
        expect(p.storage).toBe(x.storage);
        const xv = vals(x);
        const pv = vals(p);
        for (let i = 0; i < pv.length; i++) {
          const idx = unravel(i, p.shape);
          const src = new Array<number>(shape.length);
          perm.forEach((d, j) => (src[d] = idx[j]!));
          expect(pv[i]).toBe(xv[ravel(src, shape)]);
        }
        const inv = new Array<number>(perm.length);
        perm.forEach((d, i) => (inv[d] = i));
        expect(vals(p.permute(inv))).toEqual(xv);
      }),
      { numRuns: 150 },
    );
  });

  it("transpose, T, negative dims, and errors", () => {
    const x = arange(6).reshape(2, 3);
    expect(x.T.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(transpose(x, -1, -2).toArray()).toEqual(x.T.toArray());
    expect(x.T.isContiguous()).toBe(false);
    const v = arange(3);
    expect(v.T).toBe(v);
    expect(transpose(v, 0, 0)).toBe(v);
    expect(transpose(tensor(1), 0, 0).ndim).toBe(0);
    expect(() => zeros([1, 2, 3]).T).toThrow(ShapeError);
    expect(() => permute(x, [0])).toThrow(ShapeError);
    expect(() => permute(x, [0, 0])).toThrow(/repeated/);
    expect(() => permute(x, [0, 2])).toThrow(ShapeError);
    expect(() => transpose(x, 0, 1.5)).toThrow(/integer/);
    expect(permute(x, [0, 1])).toBe(x);
  });
});

describe("reshape / view", () => {
  it("reshape of a contiguous tensor to random factorizations is a view with the same row-major values", () => {
    const arb = shapeArb(0, 4, 0, 4).chain((s) => fc.tuple(fc.constant(s), factorArb(numelOf(s)), seedArb));
    fc.assert(
      fc.property(arb, ([shape, target, seed]) => {
        const x = rnd(shape, seed);
        const r = reshape(x, target);
        expect(r.shape).toEqual(target);
        expect(r.storage).toBe(x.storage);
        expect(vals(r)).toEqual(vals(x));
        expect(vals(view(x, target))).toEqual(vals(x));
        expect(vals(r.reshape(shape))).toEqual(vals(x));
      }),
      { numRuns: 150 },
    );
  });

  it("reshape of non-contiguous layouts gives the logical row-major values; view succeeds only without a copy", () => {
    const arb = stridedArb.chain((r) => {
      const t = makeStrided(r);
      return fc.tuple(fc.constant(r), factorArb(t.numel));
    });
    let viewed = 0;
    let refused = 0;
    fc.assert(
      fc.property(arb, ([r, target]) => {
        const t = makeStrided(r);
        const logical = vals(t);
        const re = reshape(t, target);
        expect(re.shape).toEqual(target);
        expect(vals(re)).toEqual(logical);
        let v: Tensor | null = null;
        try {
          v = view(t, target);
        } catch (e) {
          expect(e).toBeInstanceOf(ShapeError);
          refused++;
        }
        if (v) {
          viewed++;
          expect(v.storage).toBe(t.storage);
          expect(vals(v)).toEqual(logical);
          // every element of the view reads the same storage cell as the reshape copy's value
          for (let i = 0; i < v.numel; i++) expect(readAt(v, unravel(i, v.shape))).toBe(logical[i]);
        } else {
          expect(re.storage).not.toBe(t.storage);
        }
      }),
      { numRuns: 300 },
    );
    expect(viewed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it("known view cases", () => {
    const x = arange(12).reshape(3, 4);
    expect(() => x.T.view(12)).toThrow(ShapeError);
    expect(() => x.T.view(12)).toThrow(/use reshape\(\) or contiguous\(\)/);
    expect(x.T.reshape(12).toArray()).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    const n = x.narrow(1, 1, 2); // [3, 2], row stride 4
    expect(() => n.view(6)).toThrow(ShapeError);
    expect(n.view(3, 2, 1).toArray()).toEqual([[[1], [2]], [[5], [6]], [[9], [10]]]);
    expect(n.view(3, 1, 2).storage).toBe(x.storage);
    const rows = x.narrow(0, 1, 2); // contiguous rows with an offset
    expect(rows.view(8).toArray()).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(rows.view(8).offset).toBe(4);
    expect(x.T.view(2, 2, 3).shape).toEqual([2, 2, 3]); // splitting one dim of a transposed view is fine
    expect(x.view([2, -1]).shape).toEqual([2, 6]);
  });

  it("-1 inference and reshape errors", () => {
    const x = arange(12);
    expect(x.reshape(-1, 3).shape).toEqual([4, 3]);
    expect(x.reshape([2, -1, 2]).shape).toEqual([2, 3, 2]);
    expect(x.reshape(12)).toBe(x);
    expect(() => x.reshape(-1, -1)).toThrow(/only one dim may be -1/);
    expect(() => x.reshape(5, -1)).toThrow(ShapeError);
    expect(() => x.reshape(5, 3)).toThrow(/\[5, 3\] is invalid for input of size 12/);
    expect(() => x.reshape(2.5, 4)).toThrow(ShapeError);
    expect(() => x.reshape(-2, -6)).toThrow(ShapeError);
    expect(() => zeros([0, 3]).reshape(0, -1)).toThrow(ShapeError);
    expect(zeros([0, 3]).reshape(3, 0).shape).toEqual([3, 0]);
    expect(zeros([0, 3]).reshape(-1).shape).toEqual([0]);
    expect(view(zeros([2, 0]).T, [0]).shape).toEqual([0]);
  });

  it("views share storage: writes to the storage are visible through every view", () => {
    const x = arange(24, undefined, 1, { dtype: "float64" }).reshape(2, 3, 4);
    const views = [x.transpose(0, 2), x.narrow(2, 2, 2), x.select(1, 2), x.reshape(6, 4), x.unsqueeze(1).expand(2, 5, 3, 4), x.permute(2, 0, 1).flatten(1)];
    x.storage[ravel([1, 2, 3], [2, 3, 4])] = 999;
    expect(views[0]!.at(3, 2, 1)).toBe(999);
    expect(views[1]!.at(1, 2, 1)).toBe(999);
    expect(views[2]!.at(1, 3)).toBe(999);
    expect(views[3]!.at(5, 3)).toBe(999);
    expect(views[4]!.at(1, 4, 2, 3)).toBe(999);
    expect(views[5]!.at(3, 5)).toBe(999);
    for (const v of views) expect(v.storage).toBe(x.storage);
  });

  it("contiguous() copies only when needed", () => {
    const x = rnd([3, 4], 1);
    expect(contiguous(x)).toBe(x);
    expect(x.contiguous()).toBe(x);
    const t = x.T;
    const c = t.contiguous();
    expect(c).not.toBe(t);
    expect(c.storage).not.toBe(x.storage);
    expect(c.isContiguous()).toBe(true);
    expect(vals(c)).toEqual(vals(t));
    const rows = x.narrow(0, 1, 2);
    expect(rows.contiguous()).toBe(rows); // offset but contiguous: no copy
    expect(x.unsqueeze(0).expand(2, 3, 4).isContiguous()).toBe(false);
    expect(x.unsqueeze(0).expand(1, 3, 4).isContiguous()).toBe(true);
  });
});

describe("expand / squeeze / unsqueeze / flatten", () => {
  it("expand broadcasts with stride 0 and no copy", () => {
    const x = tensor([[1], [2]]);
    const e = expand(x, [3, 2, 4]);
    expect(e.storage).toBe(x.storage);
    expect(e.strides).toEqual([0, 1, 0]);
    expect(e.toArray()).toEqual([[[1, 1, 1, 1], [2, 2, 2, 2]], [[1, 1, 1, 1], [2, 2, 2, 2]], [[1, 1, 1, 1], [2, 2, 2, 2]]]);
    expect(x.expand(-1, 3).shape).toEqual([2, 3]);
    expect(x.expandAs(zeros([5, 2, 2])).shape).toEqual([5, 2, 2]);
    expect(x.expand(2, 1)).toBe(x);
    expect(() => x.expand(3, 3)).toThrow(ShapeError);
    expect(() => x.expand(3)).toThrow(/fewer dims/);
    expect(() => x.expand(-1, 2, 2)).toThrow(ShapeError);
    expect(() => tensor([1]).expand(-2)).toThrow(ShapeError);
  });

  it("the ops' internal expandView validates too", async () => {
    const { expandView } = await import("../../src/ops/define.js");
    expect(expandView(tensor([1, 2]), [3, 2]).strides).toEqual([0, 1]);
    expect(() => expandView(tensor([1, 2]), [3])).toThrow(ShapeError);
    expect(() => expandView(tensor([[1, 2]]), [2])).toThrow(ShapeError);
  });

  it("squeeze/unsqueeze round trips on random shapes", () => {
    const arb = shapeArb(0, 4, 1, 3).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -(s.length + 1), max: s.length }), seedArb));
    fc.assert(
      fc.property(arb, ([shape, dim, seed]) => {
        const x = rnd(shape, seed);
        const u = unsqueeze(x, dim);
        const d = dim < 0 ? dim + shape.length + 1 : dim;
        const expected = [...shape];
        expected.splice(d, 0, 1);
        expect(u.shape).toEqual(expected);
        expect(u.storage).toBe(x.storage);
        expect(vals(squeeze(u, dim))).toEqual(vals(x));
        expect(squeeze(u, dim).shape).toEqual(shape);
        expect(squeeze(u).shape).toEqual(shape.filter((s) => s !== 1));
      }),
      { numRuns: 100 },
    );
    const x = zeros([2, 1, 3]);
    expect(squeeze(x, 0)).toBe(x);
    expect(squeeze(tensor(3), 0).ndim).toBe(0);
    expect(unsqueeze(tensor(3), 0).shape).toEqual([1]);
    expect(() => unsqueeze(x, 4)).toThrow(ShapeError);
    expect(() => squeeze(x, 3)).toThrow(/out of range/);
  });

  it("flatten", () => {
    const x = arange(24).reshape(2, 3, 4);
    expect(flatten(x).shape).toEqual([24]);
    expect(x.flatten(1).shape).toEqual([2, 12]);
    expect(x.flatten(0, 1).shape).toEqual([6, 4]);
    expect(x.flatten(-2, -1).shape).toEqual([2, 12]);
    expect(x.transpose(0, 2).flatten().toArray()).toEqual(vals(x.transpose(0, 2).contiguous()));
    expect(flatten(tensor(5)).shape).toEqual([1]);
    expect(() => x.flatten(2, 1)).toThrow(ShapeError);
  });
});

describe("narrow / select / split / chunk / cat / stack", () => {
  it("narrow and select read the right elements (random shapes, negative indices)", () => {
    const arb = shapeArb(1, 4, 1, 5).chain((s) =>
      fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.nat(), fc.nat(), seedArb),
    );
    fc.assert(
      fc.property(arb, ([shape, dim, a, b, seed]) => {
        const x = rnd(shape, seed);
        const n = shape[dim]!;
        const start = a % n;
        const len = b % (n - start + 1);
        const r = narrow(x, dim, start, len);
        expect(r.storage).toBe(x.storage);
        const xv = vals(x);
        vals(r).forEach((v, i) => {
          const idx = unravel(i, r.shape);
          idx[dim] = idx[dim]! + start;
          expect(v).toBe(xv[ravel(idx, shape)]);
        });
        const s = select(x, dim, start - n); // negative index
        expect(s.shape).toEqual(shape.filter((_, d) => d !== dim));
        vals(s).forEach((v, i) => {
          const idx = unravel(i, s.shape);
          idx.splice(dim, 0, start);
          expect(v).toBe(xv[ravel(idx, shape)]);
        });
      }),
      { numRuns: 100 },
    );
  });

  it("narrow/select errors are IndexErrors naming the values", () => {
    const x = zeros([3, 4]);
    expect(() => x.narrow(1, 3, 2)).toThrow(IndexError);
    expect(() => x.narrow(1, 3, 2)).toThrow(/start 3 and length 2/);
    expect(() => x.narrow(0, 0, -1)).toThrow(IndexError);
    expect(x.narrow(1, -2, 2).shape).toEqual([3, 2]);
    expect(x.narrow(0, 0, 3)).toBe(x);
    expect(() => x.select(0, 3)).toThrow(/index 3 out of range/);
    expect(() => x.select(0, -4)).toThrow(IndexError);
    expect(() => x.select(2, 0)).toThrow(ShapeError);
  });

  it("split / chunk / cat / stack round trips over random dims and sizes", () => {
    const arb = shapeArb(1, 4, 0, 5).chain((s) =>
      fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.integer({ min: 1, max: 6 }), seedArb),
    );
    fc.assert(
      fc.property(arb, ([shape, dim, k, seed]) => {
        const x = rnd(shape, seed);
        const parts = split(x, k, dim);
        const n = shape[dim]!;
        expect(parts.length).toBe(Math.max(1, Math.ceil(n / k)));
        parts.forEach((p) => expect(p.storage).toBe(x.storage));
        expect(parts.reduce((a, p) => a + p.shape[dim]!, 0)).toBe(n);
        const back = cat(parts, dim);
        expect(back.shape).toEqual(shape);
        expect(vals(back)).toEqual(vals(x));
        const ch = chunk(x, k, dim);
        expect(ch.length).toBeLessThanOrEqual(k);
        expect(vals(cat(ch, dim - shape.length))).toEqual(vals(x));
        // unbind + stack
        if (n > 0) {
          const slices = Array.from({ length: n }, (_, i) => x.select(dim, i));
          const st = stack(slices, dim);
          expect(st.shape).toEqual(shape);
          expect(vals(st)).toEqual(vals(x));
        }
      }),
      { numRuns: 120 },
    );
  });

  it("split with sections, chunk like torch, cat/stack errors", () => {
    const x = arange(10);
    expect(split(x, [3, 0, 7]).map((t) => t.shape[0])).toEqual([3, 0, 7]);
    expect(x.split([5, 5])[1]!.toArray()).toEqual([5, 6, 7, 8, 9]);
    expect(() => split(x, [3, 3])).toThrow(/do not sum to 10/);
    expect(() => split(x, 0)).toThrow(ValueError);
    expect(chunk(arange(6), 4).map((t) => t.shape[0])).toEqual([2, 2, 2]);
    expect(x.chunk(3).map((t) => t.shape[0])).toEqual([4, 4, 2]);
    expect(() => chunk(x, 0)).toThrow(ValueError);
    expect(split(zeros([0, 2]), 2).length).toBe(1);
    expect(() => cat([])).toThrow(ShapeError);
    expect(() => cat([zeros([2, 3]), zeros([2, 4])])).toThrow(/\[2, 4\].*\[2, 3\]/);
    expect(() => cat([zeros([2]), zeros([2], { dtype: "float64" })])).toThrow(DTypeError);
    expect(() => stack([zeros([2]), zeros([3])])).toThrow(ShapeError);
    expect(() => stack([])).toThrow(ShapeError);
    const one = zeros([2]);
    expect(cat([one])).toBe(one);
    expect(cat([zeros([0, 2]), tensor([[1, 2]])]).toArray()).toEqual([[1, 2]]);
    expect(stack([tensor([1, 2]), tensor([3, 4])], -1).toArray()).toEqual([[1, 3], [2, 4]]);
  });

  it("gradients flow through views to the right elements", () => {
    const x = rnd([3, 4, 5], 3).requiresGrad_();
    const y = x.permute(2, 0, 1).narrow(0, 1, 3).reshape(3, 12).select(1, 5);
    // y picks x[i, j, k] for k in 1..3 at flat (i, j) index 5 = (1, 1) of a [3, 4] grid.
    y.sum().backward();
    const g = vals(x.grad!);
    g.forEach((v, i) => {
      const [a, b, c] = unravel(i, [3, 4, 5]);
      expect(v).toBe(a === 1 && b === 1 && c! >= 1 && c! <= 3 ? 1 : 0);
    });
    const z = rnd([2, 3], 4).requiresGrad_();
    const parts = z.split(1, 1);
    cat([parts[2]!.mul(3), parts[0]!], 1).sum().backward();
    expect(z.grad!.toArray()).toEqual([[1, 0, 3], [1, 0, 3]]);
    const w = rnd([2], 5).requiresGrad_();
    w.unsqueeze(0).expand(4, 2).sum().backward();
    expect(w.grad!.toArray()).toEqual([4, 4]);
  });
});

describe("pad / gather / scatterAdd / indexSelect / oneHot", () => {
  it("pad in torch order and its gradient", () => {
    const x = tensor([[1, 2], [3, 4]], { dtype: "float64", requiresGrad: true });
    const p = pad(x, [1, 0, 0, 2], -1);
    expect(p.toArray()).toEqual([[-1, 1, 2], [-1, 3, 4], [-1, -1, -1], [-1, -1, -1]]);
    p.mul(arange(12, undefined, 1, { dtype: "float64" }).reshape(4, 3)).sum().backward();
    expect(x.grad!.toArray()).toEqual([[1, 2], [4, 5]]);
    expect(pad(x, [0, 0])).toBe(x);
    expect(() => pad(x, [1])).toThrow(ShapeError);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1])).toThrow(ShapeError);
    expect(() => pad(x, [1.5, 1])).toThrow(ValueError);
    expect(pad(x, [-1, 1]).toArray()).toEqual([[2, 0], [4, 0]]); // a negative pad crops (issue 20)
  });

  it("gather/scatterAdd/indexSelect vs naive loops, with gradients", () => {
    const x = rnd([3, 4], 7).requiresGrad_();
    const idx = tensor([[2, 0, 1, 2], [0, 0, 0, 1]], { dtype: "int32" });
    const g = gather(x, 0, idx);
    const xv = vals(x);
    expect(vals(g)).toEqual([2, 0, 1, 2, 0, 0, 0, 1].map((r, i) => xv[r * 4 + (i % 4)]));
    g.sum().backward();
    const expectedGrad = new Array(12).fill(0);
    [2, 0, 1, 2, 0, 0, 0, 1].forEach((r, i) => expectedGrad[r * 4 + (i % 4)]++);
    expect(vals(x.grad!)).toEqual(expectedGrad);

    const base = zeros([2, 3], { dtype: "float64" });
    const src = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
    const sa = scatterAdd(base, 1, tensor([[0, 0, 2], [1, 1, 1]], { dtype: "int32" }), src);
    expect(sa.toArray()).toEqual([[3, 0, 3], [0, 15, 0]]);

    const rows = indexSelect(x, 0, tensor([2, 2, 0], { dtype: "int32" }));
    expect(rows.shape).toEqual([3, 4]);
    expect(vals(rows.select(0, 0))).toEqual(vals(x.select(0, 2)));
    const cols = x.indexSelect(1, tensor(3, { dtype: "int32" }));
    expect(cols.shape).toEqual([3, 1]);
    const z = rnd([3, 2], 8).requiresGrad_();
    indexSelect(z, 0, tensor([1, 1, 2], { dtype: "int32" })).sum().backward();
    expect(z.grad!.toArray()).toEqual([[0, 0], [2, 2], [1, 1]]);
  });

  it("index errors name the offending value", () => {
    const x = zeros([3, 4]);
    expect(() => gather(x, 1, tensor([[4]], { dtype: "int32" }))).toThrow(IndexError);
    expect(() => gather(x, 1, tensor([[4]], { dtype: "int32" }))).toThrow(/index 4 is out of range/);
    expect(() => gather(x, 0, tensor([[-1]], { dtype: "int32" }))).toThrow(/index -1/);
    expect(() => gather(x, 0, tensor([[0]]))).toThrow(DTypeError);
    expect(() => gather(x, 0, tensor([0], { dtype: "int32" }))).toThrow(ShapeError);
    expect(() => gather(x, 0, zeros([1, 5], { dtype: "int32" }))).toThrow(ShapeError);
    expect(() => indexSelect(x, 0, tensor([3], { dtype: "int32" }))).toThrow(/index 3/);
    expect(() => indexSelect(x, 0, zeros([1, 1], { dtype: "int32" }))).toThrow(ShapeError);
    const i = zeros([1, 1], { dtype: "int32" });
    expect(() => scatterAdd(x, 0, i, zeros([1, 1], { dtype: "float64" }))).toThrow(DTypeError);
    expect(() => scatterAdd(x, 0, zeros([1], { dtype: "int32" }), zeros([1]))).toThrow(ShapeError);
    expect(() => scatterAdd(x, 0, zeros([1, 2], { dtype: "int32" }), zeros([1, 1]))).toThrow(ShapeError);
    expect(() => scatterAdd(x, 0, tensor([[5]], { dtype: "int32" }), zeros([1, 1]))).toThrow(/index 5/);
  });

  it("oneHot", () => {
    const y = tensor([0, 2, 1], { dtype: "int32" });
    expect(oneHot(y).toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
    expect(oneHot(y, 4).shape).toEqual([3, 4]);
    expect(oneHot(y).dtype).toBe("int32");
    expect(oneHot(tensor([[1]], { dtype: "int32" }), 2).toArray()).toEqual([[[0, 1]]]);
    expect(() => oneHot(y, 2)).toThrow(IndexError);
    expect(() => oneHot(y, 2)).toThrow(/class value 2/);
    expect(() => oneHot(tensor([-1], { dtype: "int32" }))).toThrow(/-1/);
    expect(() => oneHot(tensor([1]))).toThrow(DTypeError);
  });
});

describe("size-0 dims", () => {
  it("creation, views and reductions with zero-size dims", () => {
    const e = zeros([2, 0, 3]);
    expect(e.numel).toBe(0);
    expect(e.toArray()).toEqual([[], []]);
    expect(e.permute(2, 0, 1).shape).toEqual([3, 2, 0]);
    expect(e.sum().item()).toBe(0);
    expect(e.sum(1).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(e.transpose(0, 1).reshape(0, 6).shape).toEqual([0, 6]);
    expect(e.unsqueeze(0).expand(4, 2, 0, 3).shape).toEqual([4, 2, 0, 3]);
    expect(vals(e.add(1))).toEqual([]);
    expect(e.size()).toEqual([2, 0, 3]);
    expect(e.size(-1)).toBe(3);
    expect(() => e.size(3)).toThrow(ShapeError);
  });
});
