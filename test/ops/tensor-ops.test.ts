/**
 * The cumulative, reduction, shape and indexing ops of issue 20 against PyTorch 1.13
 * (fixtures/ops-tensor.json, written by scripts/fixtures/ops_tensor.py: forward and gradient),
 * their adversarial edges (0, -0, 1e30, 1e-30, subnormals, ties, -Infinity masks) as fast-check
 * properties against naive loops, and their typed errors.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { DTypeError, grad, IndexError, ShapeError, Tensor, tensor, ValueError } from "../../src/index.js";

interface TRec { data: (number | boolean | string)[]; shape: number[]; dtype: string }
interface Case {
  name: string;
  op: string;
  args: (TRec | number | string | null | number[])[];
  kwargs: Record<string, any>;
  outs: TRec[];
  grad_outputs: (TRec | null)[] | null;
  grads: (TRec | null)[] | null;
  note: string | null;
}
const fixture = JSON.parse(readFileSync(new URL("../../fixtures/ops-tensor.json", import.meta.url), "utf8")) as { torch_version: string; cases: Case[] };

const num = (v: number | boolean | string): number => (typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "string" ? Number(v) : v);
const isRec = (a: unknown): a is TRec => typeof a === "object" && a !== null && !Array.isArray(a) && "data" in a;
function toTensor(r: TRec, requiresGrad = false): Tensor {
  const dtype = r.dtype === "int64" ? "int32" : (r.dtype as sg.DType);
  return tensor(r.data.map(num), { shape: r.shape, dtype, requiresGrad: requiresGrad && (dtype === "float32" || dtype === "float64") });
}

function dispatch(c: Case, a: Tensor[]): Tensor[] {
  const k = c.kwargs;
  const [x, y, z] = a;
  const vi = (r: sg.ValuesIndices): Tensor[] => [r.values, r.indices];
  switch (c.op) {
    case "prod": return [k.dim === undefined ? sg.prod(x!) : sg.prod(x!, k.dim, k.keepdim ?? false)];
    case "cummax": return vi(sg.cummax(x!, k.dim));
    case "cummin": return vi(sg.cummin(x!, k.dim));
    case "logcumsumexp": return [sg.logcumsumexp(x!, k.dim)];
    case "all": return [sg.all(x!, k.dim, k.keepdim ?? false)];
    case "any": return [sg.any(x!, k.dim, k.keepdim ?? false)];
    case "var_mean": return sg.varMean(x!, k.dim ?? null, { unbiased: k.unbiased, correction: k.correction, keepdim: k.keepdim });
    case "std_mean": return sg.stdMean(x!, k.dim ?? null, { unbiased: k.unbiased, correction: k.correction, keepdim: k.keepdim });
    case "diagonal": return [sg.diagonal(x!, k.offset ?? 0, k.dim1 ?? 0, k.dim2 ?? 1)];
    case "diag": return [sg.diag(x!, k.diagonal ?? 0)];
    case "nonzero": return k.asTuple ? sg.nonzero(x!, { asTuple: true }) : [sg.nonzero(x!)];
    case "repeat_interleave": return [sg.repeatInterleave(x!, k.repeats ?? y!, k.dim)];
    case "unfold": return [sg.unfold(x!, k.dim, k.size, k.step)];
    case "unflatten": return [sg.unflatten(x!, k.dim, k.sizes)];
    case "scatter": return [sg.scatter(x!, k.dim, y!, k.value ?? z!, k.reduce)];
    case "scatter_reduce": return [sg.scatterReduce(x!, k.dim, y!, z!, k.reduce, { includeSelf: k.includeSelf })];
    case "pad": return [sg.pad(x!, k.pad, k.mode, k.value ?? 0)];
  }
  throw new Error(`no mapping for ${c.op}`);
}

function expectClose(got: Tensor, want: TRec, what: string, tol: number, nanAsZero = false): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const g = got.toTypedArray();
  want.data.forEach((w0, i) => {
    const w = num(w0);
    const v = Number(g[i]);
    if (Number.isNaN(w)) {
      if (nanAsZero) expect(v, `${what}[${i}]: torch NaN, safegrad 0`).toBe(0);
      else expect(Number.isNaN(v), `${what}[${i}] should be NaN, got ${v}`).toBe(true);
    } else if (!Number.isFinite(w)) expect(v, `${what}[${i}]`).toBe(w);
    else expect(Math.abs(v - w), `${what}[${i}]: got ${v}, torch ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
}

describe(`issue 20 ops against PyTorch (fixture from torch ${fixture.torch_version})`, () => {
  it("has the cases", () => expect(fixture.cases.length).toBeGreaterThanOrEqual(60));
  for (const c of fixture.cases) {
    it(c.name, () => {
      const args = c.args.map((a) => (isRec(a) ? toTensor(a, c.grads !== null) : null)).filter((t): t is Tensor => t !== null);
      const f32 = c.args.some((a) => isRec(a) && a.dtype === "float32");
      const tol = f32 ? 2e-6 : 1e-12;
      const outs = dispatch(c, args);
      expect(outs.length).toBe(c.outs.length);
      outs.forEach((o, i) => expectClose(o, c.outs[i]!, `out ${i}`, c.outs[i]!.dtype === "int64" || c.outs[i]!.dtype === "bool" ? 0 : tol));
      if (!c.grads) return;
      const used = outs.map((o, i) => [o, c.grad_outputs![i]] as const).filter(([o, go]) => go && o.requiresGrad);
      const inputs = args.filter((t) => t.requiresGrad);
      const gs = grad(used.map(([o]) => o), inputs, { gradOutputs: used.map(([, go]) => toTensor(go!)), allowUnused: true });
      const want = c.grads.filter((g): g is TRec => g !== null);
      gs.forEach((g, i) => {
        const w = want[i]!;
        if (!g) return expect(w.data.every((v) => num(v) === 0), `grad ${i} is missing but torch's is non-zero`).toBe(true);
        // torch 1.13's logcumsumexp gradient is NaN on an all -Infinity prefix; safegrad's is 0 there.
        expectClose(g, w, `grad ${i}`, tol, c.name === "logcumsumexp_neginf_prefix");
      });
    });
  }
});

// ------------------------------------------------------------------ adversarial properties
const edge: fc.Arbitrary<number> = fc.constantFrom(0, -0, 1e-30, -1e-30, 5e-324, -5e-324, 1, -1, 2, -0.5, 3);
const big: fc.Arbitrary<number> = fc.constantFrom(0, -0, 1e30, -1e30, 1e-30, 5e-324, -5e-324, 1, -1, 1000, -1000, -Infinity);
const dtypeArb = fc.constantFrom<"float32" | "float64">("float32", "float64");
const allFinite = (t: Tensor): boolean => Array.from(t.toTypedArray() as ArrayLike<number>).every(Number.isFinite);

describe("prod: zeros in the gradient", () => {
  it("the gradient is the product of the others (one zero: theirs; two: 0), finite, for edge values and both dtypes", () => {
    fc.assert(
      fc.property(fc.array(edge, { minLength: 1, maxLength: 6 }), dtypeArb, (vals, dtype) => {
        const x = tensor(vals, { dtype, requiresGrad: true });
        const [g] = grad([sg.prod(x)], [x]);
        const xv = x.toTypedArray();
        const gv = g!.toTypedArray();
        for (let i = 0; i < vals.length; i++) {
          let p = 1;
          for (let j = 0; j < vals.length; j++) if (j !== i) p *= xv[j]!;
          if (dtype === "float32") p = Math.fround(p);
          expect(Number.isFinite(gv[i]!)).toBe(true);
          // (products of subnormals underflow differently in another order: an absolute slack)
          expect(Math.abs(gv[i]! - p)).toBeLessThanOrEqual(Math.abs(p) * 1e-6 + (dtype === "float32" ? 1e-37 : 1e-300));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("along a dim with keepdim, the same per line", () => {
    const x = tensor([[0, 2, 0], [0, 3, 4], [1, 2, 3]], { dtype: "float64", requiresGrad: true });
    const [g] = grad([sg.prod(x, 1, true).sum()], [x]);
    expect(g!.toArray()).toEqual([[0, 0, 0], [12, 0, 0], [6, 3, 2]]);
  });
});

describe("logcumsumexp: large values and -Infinity masks", () => {
  it("finite output and gradient for finite input; the gradient of the sum adds up to the number of unmasked positions", () => {
    fc.assert(
      fc.property(fc.array(big, { minLength: 1, maxLength: 7 }), dtypeArb, (vals, dtype) => {
        const x = tensor(vals, { dtype, requiresGrad: true });
        const y = sg.logcumsumexp(x, 0);
        const [g] = grad([y.sum()], [x]);
        const yv = y.toTypedArray();
        const gv = Array.from(g!.toTypedArray() as ArrayLike<number>);
        let unmasked = 0;
        let seen = false;
        vals.forEach((v, i) => {
          seen ||= v !== -Infinity;
          if (seen) {
            unmasked++;
            expect(Number.isFinite(yv[i]!), `out[${i}] = ${yv[i]}`).toBe(true);
          } else expect(yv[i]).toBe(-Infinity);
        });
        expect(gv.every(Number.isFinite), `grad ${gv}`).toBe(true);
        expect(gv.every((v) => v >= 0)).toBe(true);
        const total = gv.reduce((a, b) => a + b, 0);
        expect(Math.abs(total - unmasked)).toBeLessThanOrEqual(unmasked * (dtype === "float32" ? 1e-5 : 1e-12));
        // -Infinity entries get gradient 0
        vals.forEach((v, i) => v === -Infinity && expect(gv[i]).toBe(0));
      }),
      { numRuns: 300 },
    );
  });

  it("the gradient at 1e30 in float32 weighs the upstream gradient (torch 1.13 gives 1, 1, 0)", () => {
    const x = tensor([1e30, 1e30, -1e30], { requiresGrad: true });
    const [g] = grad([sg.logcumsumexp(x, 0)], [x], { gradOutputs: [tensor([0.5, 2, 3])] });
    expect(g!.toArray()).toEqual([3, 2.5, 0]);
  });
});

describe("cummax / cummin: ties, -0 and infinities", () => {
  it("values, indices (the later one on ties) and gradient counts match a naive loop", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, -0, 1, -1, 1e30, -Infinity, Infinity, 2), { minLength: 1, maxLength: 8 }), fc.boolean(), (vals, isMax) => {
        const x = tensor(vals, { dtype: "float64", requiresGrad: true });
        const r = isMax ? sg.cummax(x, 0) : sg.cummin(x, 0);
        const [g] = grad([r.values.sum()], [x]);
        let best = vals[0]!;
        let at = 0;
        const counts = vals.map(() => 0);
        vals.forEach((v, k) => {
          if (isMax ? v >= best : v <= best) [best, at] = [v, k];
          expect(r.values.at(k)).toBe(best);
          expect(r.indices.at(k)).toBe(at);
          counts[at]!++;
        });
        expect(Array.from(g!.toTypedArray() as ArrayLike<number>)).toEqual(counts);
      }),
      { numRuns: 300 },
    );
  });
});

describe("scatterReduce: every mode against a naive loop, edge values", () => {
  const modes: sg.ScatterReduceMode[] = ["sum", "prod", "mean", "amax", "amin"];
  it("forward equals the loop; gradients are finite", () => {
    fc.assert(
      fc.property(
        fc.array(edge, { minLength: 3, maxLength: 3 }),
        fc.array(fc.tuple(edge, fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(...modes),
        fc.boolean(),
        (xs, pairs, mode, includeSelf) => {
          const x = tensor(xs, { dtype: "float64", requiresGrad: true });
          const src = tensor(pairs.map((p) => p[0]), { dtype: "float64", requiresGrad: true });
          const index = tensor(pairs.map((p) => p[1]), { dtype: "int32" });
          const y = sg.scatterReduce(x, 0, index, src, mode, { includeSelf });
          const want = xs.map((v, q) => {
            const c: number[] = [...(includeSelf ? [v] : []), ...pairs.filter((p) => p[1] === q).map((p) => p[0])];
            if (!includeSelf && c.length === 0) return v;
            if (mode === "sum" || mode === "mean") return c.reduce((a, b) => a + b, 0) / (mode === "mean" ? c.length : 1);
            if (mode === "prod") return c.reduce((a, b) => a * b, 1);
            return mode === "amax" ? Math.max(...c) : Math.min(...c);
          });
          const got = Array.from(y.toTypedArray() as ArrayLike<number>);
          got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want[i]!))));
          const [gx, gs] = grad([y.mul(tensor([1, -2, 0.5], { dtype: "float64" })).sum()], [x, src]);
          expect(allFinite(gx!) && allFinite(gs!)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("pad modes", () => {
  it("the gradient of the sum counts the copies of each entry (reflect, replicate, circular, negative pads)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: -2, max: 4 }), fc.integer({ min: -2, max: 4 }), fc.constantFrom<sg.PadMode>("reflect", "replicate", "circular"), (n, a, b, mode) => {
        const x = tensor(Float64Array.from({ length: n }, (_, i) => i), { requiresGrad: true });
        const x2 = x.reshape([1, n]);
        const core = n - Math.max(-a, 0) - Math.max(-b, 0);
        const legal = n + a + b >= 0 && (mode === "reflect" ? a < n && b < n : mode === "circular" ? a <= core && b <= core && core > 0 : true);
        if (!legal) {
          expect(() => sg.pad(x2, [a, b], mode)).toThrow(n + a + b < 0 ? ShapeError : ValueError);
          return;
        }
        const y = sg.pad(x2, [a, b], mode);
        expect(y.shape).toEqual([1, n + a + b]);
        const [g] = grad([y.sum()], [x]);
        const counts = Array.from({ length: n }, () => 0);
        for (const v of Array.from(y.toTypedArray() as ArrayLike<number>)) counts[v]!++;
        expect(Array.from(g!.toTypedArray() as ArrayLike<number>)).toEqual(counts);
      }),
      { numRuns: 300 },
    );
  });
});

describe("all / any / nonzero against loops (NaN, -0, subnormals)", () => {
  it("match", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, -0, NaN, 5e-324, 1, -Infinity), { minLength: 0, maxLength: 6 }), (vals) => {
        const x = tensor(vals, { dtype: "float64" });
        expect(sg.all(x).item()).toBe(vals.every((v) => v !== 0) ? 1 : 0);
        expect(sg.any(x).item()).toBe(vals.some((v) => v !== 0) ? 1 : 0);
        expect(Array.from(sg.nonzero(x).toTypedArray())).toEqual(vals.flatMap((v, i) => (v !== 0 ? [i] : [])));
      }),
      { numRuns: 200 },
    );
  });
});

describe("typed errors name the op, the shapes and the value", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ["prod dim", () => sg.prod(x, 2), ShapeError, /prod: dim 2 out of range/],
    ["cummax dim", () => sg.cummax(x, -3), ShapeError, /cummax: dim -3/],
    ["logcumsumexp int", () => sg.logcumsumexp(x.int(), 0), DTypeError, /logcumsumexp/],
    ["all dim", () => sg.all(x, 5), ShapeError, /all: dim 5/],
    ["stdMean both", () => sg.stdMean(x, 0, { unbiased: true, correction: 0 }), ValueError, /stdMean: give either/],
    ["diagonal same dims", () => sg.diagonal(x, 0, 1, -1), ShapeError, /diagonal: dim1 and dim2 must differ.*\[2, 3\]/],
    ["diag 3-d", () => sg.diag(sg.zeros([2, 2, 2])), ShapeError, /diag: .*\[2, 2, 2\]/],
    ["repeatInterleave float repeats", () => sg.repeatInterleave(x, tensor([1, 2])), DTypeError, /repeatInterleave: .*float32/],
    ["repeatInterleave length", () => sg.repeatInterleave(x, tensor([1, 2, 3], { dtype: "int32" }), 0), ShapeError, /repeatInterleave: .*\[3\].*2 entries/],
    ["repeatInterleave negative", () => sg.repeatInterleave(x, -1), ValueError, /repeatInterleave: .*-1/],
    ["unfold size", () => sg.unfold(x, 1, 4, 1), ValueError, /unfold: size 4 .*0\.\.3.*\[2, 3\]/],
    ["unfold step", () => sg.unfold(x, 1, 2, 0), ValueError, /unfold: step/],
    ["unflatten sizes", () => sg.unflatten(x, 1, [2, 2]), ShapeError, /unflatten: sizes \[2,2\] .* 3.*\[2, 3\]/],
    ["scatter index dtype", () => sg.scatter(x, 0, tensor([[0]]), 1), DTypeError, /scatter: index must be int32, got float32/],
    ["scatter index value", () => sg.scatter(x, 1, tensor([[3]], { dtype: "int32" }), 1), IndexError, /scatter: index 3 is out of range for dim 1 of input shape \[2, 3\]/],
    ["scatter src dtype", () => sg.scatter(x, 1, tensor([[0]], { dtype: "int32" }), tensor([[1]], { dtype: "float64" })), DTypeError, /scatter: src has dtype float64/],
    ["scatter index shape", () => sg.scatter(x, 0, tensor([[0, 0, 0, 0]], { dtype: "int32" }), 1), ShapeError, /scatter: index \[1, 4\] is larger than input \[2, 3\]/],
    ["scatter reduce", () => sg.scatter(x, 0, tensor([[0]], { dtype: "int32" }), 1, "max" as never), ValueError, /scatter: reduce/],
    ["scatterReduce mode", () => sg.scatterReduce(x, 0, tensor([[0]], { dtype: "int32" }), x, "max" as never), ValueError, /scatterReduce: reduce must be one of/],
    ["scatterReduce dim", () => sg.scatterReduce(x, 2, tensor([[0]], { dtype: "int32" }), x, "sum"), ShapeError, /scatterReduce: dim 2/],
    ["reflect pad >= size", () => sg.pad(x, [3, 0], "reflect"), ValueError, /pad: reflect padding \(3, 0\) must be less than the size 3 of dim 1 of input shape \[2, 3\]/],
    ["circular pad", () => sg.pad(x, [4, 0], "circular"), ValueError, /pad: circular padding \(4, 0\) wraps around/],
    ["replicate empty", () => sg.pad(sg.zeros([2, 0]), [1, 1], "replicate"), ValueError, /pad: replicate padding .*empty.*\[2, 0\]/],
    ["pad mode", () => sg.pad(x, [1, 1], "wrap" as never), ValueError, /pad: mode must be one of/],
    ["negative size", () => sg.pad(x, [-2, -2]), ShapeError, /pad: pads \(-2, -2\) leave a negative size -1 at dim 1 of shape \[2, 3\]/],
  ];
  for (const [name, fn, cls, re] of cases) {
    it(name, () => {
      expect(fn).toThrow(cls);
      expect(fn).toThrow(re);
    });
  }
});
