/**
 * The new ops at their singular points (issue 15): where the derivative is infinite or undefined
 * (acos/asin at ±1, atan2 and hypot at the origin, cdist at identical points) the value follows
 * IEEE and PyTorch and the gradient is finite, with the value the family headers document; the
 * fused logSigmoid at ±1000; the tie rules of the 1-D pools, checked exactly against a naive loop.
 * Inputs are adversarial (fast-check): the singular points themselves, ±0, values next to them,
 * huge and tiny magnitudes, ties.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { grad, tensor, type DType, type Tensor } from "../../src/index.js";
import { vals } from "../helpers.js";

const DTYPES: DType[] = ["float64", "float32"];
const finite = (t: Tensor | null): boolean => t === null || vals(t).every(Number.isFinite);
/** x rounded to the dtype, as a kernel computing in float64 stores it. */
const round = (x: number, dtype: DType): number => (dtype === "float32" ? Math.fround(x) : x);
/** Same number, telling -0 from 0 (toBe uses Object.is): for values, whose zeros carry IEEE signs. */
const same = (got: number, want: number, what: string): void => expect(got, what).toBe(want);
/** A gradient entry is zero (either sign: -g * 0 is -0). */
const zero = (got: number, what: string): void => expect(got === 0, `${what}: ${got}`).toBe(true);
/** Values with -0 read as 0, for gradients compared with toEqual. */
const unsigned = (t: Tensor): number[] => vals(t).map((v) => v + 0);
/**
 * Magnitudes below 1e-30 become 0 (see planeValue): near a singular point at distance r the true
 * first derivatives grow like 1 / r and the second like 1 / r², beyond float32's range (or float64's)
 * for smaller r. That is the derivative itself, not a rounding problem.
 */
const normalOr0 = (v: number): number => (Math.abs(v) < 1e-30 ? 0 : v);

/** Gradients of sum(w * f(inputs)) and of sum(w' * those gradients) (grad of grad), w fixed. */
function gradients(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): { out: Tensor; first: (Tensor | null)[]; second: (Tensor | null)[] } {
  const out = f(...inputs);
  const w = tensor(Array.from({ length: out.numel }, (_, i) => 1 + (i % 3)), { dtype: out.dtype, shape: [...out.shape] });
  const first = grad(out.mul(w).sum(), inputs, { createGraph: true, allowUnused: true });
  const acc = first.reduce<Tensor>((s, g, i) => (g && g.requiresGrad ? s.add(g.mul(i + 2).sum()) : s), tensor(0, { dtype: out.dtype }));
  const second = acc.requiresGrad ? grad(acc, inputs, { allowUnused: true }) : inputs.map(() => null);
  return { out, first, second };
}

// ------------------------------------------------------------------ acos, asin

const nextBelow1 = 1 - 2 ** -53;
const arcValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(1, -1, 0, -0, nextBelow1, -nextBelow1, 1 - 2 ** -24, 0.5, -0.5) },
  { weight: 3, arbitrary: fc.double({ min: -1, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(1.5, -1.5, 1 + 2 ** -52, Infinity, -Infinity, 1e30) },
);

describe("acos / asin at ±1 and outside [-1, 1]", () => {
  for (const dtype of DTYPES) {
    for (const [name, f, math, sign] of [["acos", sg.acos, Math.acos, -1], ["asin", sg.asin, Math.asin, 1]] as const) {
      it(`${name} (${dtype}): IEEE value, finite gradient (0 where |x| >= 1) and gradient of gradient`, () => {
        fc.assert(
          fc.property(fc.array(arcValue, { minLength: 1, maxLength: 8 }), (xs) => {
            const x = tensor(xs, { dtype, requiresGrad: true });
            const { out, first, second } = gradients(f, [x]);
            const xr = vals(x);
            vals(out).forEach((v, i) => same(v, round(math(xr[i]!), dtype), `${name}(${xr[i]})`));
            expect(finite(first[0]!) && finite(second[0]!), `${name} gradients at ${xr}`).toBe(true);
            vals(first[0]!).forEach((gv, i) => {
              const v = xr[i]!;
              const w = 1 + (i % 3);
              if (Math.abs(v) >= 1) zero(gv, `${name}'(${v})`);
              else expect(Math.abs(gv - round((sign * w) / Math.sqrt((1 - v) * (1 + v)), dtype)), `${name}'(${v})`).toBeLessThanOrEqual(1e-6 * Math.abs(gv));
            });
          }),
          { numRuns: 200 },
        );
      });
    }
  }

  it("exactly at ±1: acos 0 and π, asin ±π/2, gradients 0 (PyTorch: ∓Infinity); NaN stays NaN", () => {
    const x = tensor([1, -1, NaN], { dtype: "float64", requiresGrad: true });
    sg.acos(x).sum().backward();
    expect(vals(sg.acos(x.detach()))).toEqual([0, Math.PI, NaN]);
    expect(unsigned(x.grad!)).toEqual([0, 0, NaN]);
    const y = tensor([1, -1], { requiresGrad: true });
    y.asin().sum().backward();
    expect(vals(y.asin())).toEqual([Math.fround(Math.PI / 2), Math.fround(-Math.PI / 2)]);
    expect(unsigned(y.grad!)).toEqual([0, 0]);
  });

  it("the angle between two vectors through acos of their cosine similarity trains when they are parallel", () => {
    const u = tensor([1, 2, 2], { dtype: "float64", requiresGrad: true });
    const v = tensor([2, 4, 4], { dtype: "float64" });
    const cos = u.mul(v).sum().div(u.norm().mul(v.norm())).clamp(-1, 1);
    const angle = cos.acos();
    expect(angle.item()).toBe(0);
    angle.backward();
    expect(unsigned(u.grad!)).toEqual([0, 0, 0]);
  });
});

// ------------------------------------------------------------------ atan2, hypot

// NOTE: nothing between 0 and 1e-30 in magnitude (normalOr0): a point at distance r from the origin
// has partial derivatives up to 1 / r.
const planeValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, -0, 1e-30, -1e-30, 1, -1, 1e30, -1e30) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(normalOr0) },
);
const planePoints = fc.array(fc.tuple(planeValue, planeValue), { minLength: 1, maxLength: 8 });

describe("atan2 and hypot at the origin", () => {
  for (const dtype of DTYPES) {
    it(`atan2 (${dtype}): IEEE values (signed zeros, ±π), finite gradients, 0 at the origin`, () => {
      fc.assert(
        fc.property(planePoints, (pts) => {
          const y = tensor(pts.map(([a]) => a), { dtype, requiresGrad: true });
          const x = tensor(pts.map(([, b]) => b), { dtype, requiresGrad: true });
          const { out, first, second } = gradients(sg.atan2, [y, x]);
          const yr = vals(y);
          const xr = vals(x);
          vals(out).forEach((v, i) => same(v, round(Math.atan2(yr[i]!, xr[i]!), dtype), `atan2(${yr[i]}, ${xr[i]})`));
          expect(first.every(finite), `atan2 gradient at ${JSON.stringify(pts)}`).toBe(true);
          if (dtype === "float64") expect(second.every(finite), `atan2 gradient of gradient at ${JSON.stringify(pts)}`).toBe(true);
          const [gy, gx] = first.map((g) => vals(g!));
          yr.forEach((yv, i) => {
            if (yv === 0 && xr[i] === 0) {
              zero(gy![i]!, "d/dy at the origin");
              zero(gx![i]!, "d/dx at the origin");
            }
          });
        }),
        { numRuns: 300 },
      );
    });

    it(`hypot (${dtype}): no overflow or underflow, gradient (a, b) / r with |.| <= 1, 0 at the origin`, () => {
      fc.assert(
        fc.property(planePoints, (pts) => {
          const a = tensor(pts.map(([p]) => p), { dtype, requiresGrad: true });
          const b = tensor(pts.map(([, q]) => q), { dtype, requiresGrad: true });
          const { out, first, second } = gradients(sg.hypot, [a, b]);
          const ar = vals(a);
          const br = vals(b);
          vals(out).forEach((v, i) => same(v, round(Math.hypot(ar[i]!, br[i]!), dtype), `hypot(${ar[i]}, ${br[i]})`));
          expect(first.every(finite), `hypot gradient at ${JSON.stringify(pts)}`).toBe(true);
          if (dtype === "float64") expect(second.every(finite), `hypot gradient of gradient at ${JSON.stringify(pts)}`).toBe(true);
          const [ga, gb] = first.map((g) => vals(g!));
          ar.forEach((av, i) => {
            const w = 1 + (i % 3);
            expect(Math.abs(ga![i]!) <= w * 1.000001 && Math.abs(gb![i]!) <= w * 1.000001).toBe(true);
            if (av === 0 && br[i] === 0) {
              zero(ga![i]!, "d/da at the origin");
              zero(gb![i]!, "d/db at the origin");
            }
          });
        }),
        { numRuns: 300 },
      );
    });
  }

  it("exactly at the origin: atan2 gives ±0 / ±π with gradient 0 (PyTorch: NaN), hypot 0 with gradient 0 (PyTorch: NaN)", () => {
    const y = tensor([0, -0, 0, -0], { dtype: "float64", requiresGrad: true });
    const x = tensor([0, 0, -0, -0], { dtype: "float64", requiresGrad: true });
    const t = y.atan2(x);
    expect(vals(t).map((v) => Object.is(v, -0) ? "-0" : v)).toEqual([0, "-0", Math.PI, -Math.PI]);
    t.sum().add(y.hypot(x).sum()).backward();
    expect(unsigned(y.grad!)).toEqual([0, 0, 0, 0]);
    expect(unsigned(x.grad!)).toEqual([0, 0, 0, 0]);
  });

  it("hypot of float32 values whose squares overflow, and numbers as operands", () => {
    expect(sg.hypot(tensor([3e30, -2e38]), tensor([4e30, 1e38])).toArray()).toEqual([Math.fround(5e30), Math.fround(Math.hypot(2e38, 1e38))]);
    expect(sg.hypot(3, tensor([4], { dtype: "float64" })).item()).toBe(5);
    expect(sg.atan2(tensor([1], { dtype: "float64" }), 0).item()).toBe(Math.PI / 2);
    // int operands give float32, as torch (type promotion)
    expect(sg.atan2(tensor([1], { dtype: "int32" }), tensor([1], { dtype: "int32" })).dtype).toBe("float32");
    expect(sg.hypot(tensor([3], { dtype: "int32" }), 4).item()).toBe(5);
  });
});

// ------------------------------------------------------------------ logSigmoid

const logitValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(1000, -1000, 1e30, -1e30, 40, -40, 88.8, -104, 0, -0) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);

describe("logSigmoid is one stable step", () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: finite value <= 0 equal to min(x, 0) - log1p(e^-|x|), gradient σ(-x) in [0, 1]`, () => {
      fc.assert(
        fc.property(fc.array(logitValue, { minLength: 1, maxLength: 8 }), (xs) => {
          const x = tensor(xs, { dtype, requiresGrad: true });
          const { out, first, second } = gradients(sg.logSigmoid, [x]);
          const xr = vals(x);
          vals(out).forEach((v, i) => {
            const xi = xr[i]!;
            same(v, round(Math.min(xi, 0) - Math.log1p(Math.exp(-Math.abs(xi))), dtype), `logSigmoid(${xi})`);
            expect(v <= 0 && Number.isFinite(v)).toBe(true);
          });
          expect(finite(first[0]!) && finite(second[0]!)).toBe(true);
          vals(first[0]!).forEach((g, i) => {
            const w = 1 + (i % 3);
            const want = w / (1 + Math.exp(xr[i]!));
            expect(Math.abs(g - want), `logSigmoid'(${xr[i]})`).toBeLessThanOrEqual(2e-7 * w);
          });
        }),
        { numRuns: 300 },
      );
    });
  }

  it("at ±1000: -1000 with gradient 1 and 0 with gradient 0, where log(sigmoid(x)) is -Infinity", () => {
    const x = tensor([-1000, 1000], { requiresGrad: true });
    const y = sg.logSigmoid(x);
    expect(vals(y)).toEqual([-1000, 0]);
    y.sum().backward();
    expect(vals(x.grad!)).toEqual([1, 0]);
    expect(vals(x.detach().sigmoid().log())[0]).toBe(-Infinity);
  });
});

// ------------------------------------------------------------------ cdist

/** Rows of a, and rows of b of which some are copies of a's rows (identical points). */
const pointSets = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.oneof(fc.constantFrom(0, -0, 1, -1, 1e-30, 1e30), fc.double({ min: -10, max: 10, noNaN: true }).map(normalOr0)), { minLength: 40, maxLength: 40 }), fc.array(fc.nat(), { minLength: 4, maxLength: 4 }))
  .map(([P, M, R, pool, picks]) => {
    const a = Array.from({ length: P }, (_, i) => Array.from({ length: M }, (_, j) => pool[(i * M + j) % 40]!));
    const own = Array.from({ length: R }, (_, i) => Array.from({ length: M }, (_, j) => pool[(20 + i * M + j) % 40]!));
    const copies = picks.slice(0, 1 + (picks[0]! % 3)).map((k) => [...a[k % P]!]);
    return { a, b: [...copies, ...own] };
  });

describe("cdist at identical points", () => {
  for (const dtype of DTYPES) {
    for (const p of [1, 2, 3, Infinity]) {
      it(`p = ${p} (${dtype}): distance 0 and gradient exactly 0 for identical points, finite gradients everywhere`, () => {
        fc.assert(
          fc.property(pointSets, ({ a, b }) => {
            const ta = tensor(a, { dtype, requiresGrad: true });
            const tb = tensor(b, { dtype, requiresGrad: true });
            const d = sg.cdist(ta, tb, p);
            const av = a.map((r) => r.map((v) => round(v, dtype)));
            const bv = b.map((r) => r.map((v) => round(v, dtype)));
            const same0 = av.map((ra) => bv.map((rb) => ra.every((v, j) => v === rb[j])));
            const dv = d.toArray() as number[][];
            same0.forEach((row, i) => row.forEach((s, j) => s && expect(dv[i]![j], `d[${i}][${j}]`).toBe(0)));
            // Only the identical pairs get a cotangent: every gradient is exactly 0.
            const mask = tensor(same0.map((r) => r.map((s) => (s ? 1 : 0))), { dtype });
            const [ga, gb] = grad(d.mul(mask).sum(), [ta, tb], { createGraph: true });
            expect([...vals(ga!), ...vals(gb!)].every((v) => v === 0), `gradient at identical points: ${ga} ${gb}`).toBe(true);
            // All pairs: finite gradients and gradients of gradients (float64: second derivatives ~ 1 / distance).
            const { first, second } = gradients((x, y) => sg.cdist(x, y, p), [ta, tb]);
            expect(first.every(finite), "gradient").toBe(true);
            if (dtype === "float64") expect(second.every(finite), "gradient of gradient").toBe(true);
          }),
          { numRuns: 150 },
        );
      });
    }
  }

  it("matches a naive loop, broadcasts batch dims, and refuses bad arguments", () => {
    const a = sg.randn([2, 1, 3, 4], { dtype: "float64" });
    const b = sg.randn([3, 5, 4], { dtype: "float64" });
    const d = sg.cdist(a, b, 3);
    expect(d.shape).toEqual([2, 3, 3, 5]);
    const A = a.toArray() as number[][][][];
    const B = b.toArray() as number[][][];
    const D = d.toArray() as number[][][][];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let r = 0; r < 3; r++)
          for (let c = 0; c < 5; c++) {
            const want = Math.cbrt(A[i]![0]![r]!.reduce((s, v, k) => s + Math.abs(v - B[j]![c]![k]!) ** 3, 0));
            expect(Math.abs(D[i]![j]![r]![c]! - want)).toBeLessThan(1e-12 * (1 + want));
          }
    expect(sg.cdist(sg.zeros([2, 0]), sg.zeros([3, 0]), Infinity).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(() => sg.cdist(sg.zeros([2, 3]), sg.zeros([2, 4]))).toThrow(sg.ShapeError);
    expect(() => sg.cdist(sg.zeros([3]), sg.zeros([2, 3]))).toThrow(sg.ShapeError);
    expect(() => sg.cdist(sg.zeros([2, 2, 3]), sg.zeros([3, 2, 3]))).toThrow(sg.ShapeError);
    expect(() => sg.cdist(sg.zeros([2, 3]), sg.zeros([2, 3]), 0.5)).toThrow(sg.ValueError);
    expect(() => sg.cdist(sg.zeros([2, 3]), sg.zeros([2, 3], { dtype: "float64" }))).toThrow(sg.DTypeError);
  });
});

// ------------------------------------------------------------------ 1-D pooling

interface Pool1d {
  k: number;
  s: number;
  p: number;
  d: number;
}
const pool1dArb = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 4, max: 9 }))
  .map(([k, s, p, d, L]) => ({ cfg: { k, s, p: Math.min(p, Math.floor(k / 2)), d }, L }))
  .filter(({ cfg, L }) => Math.floor((L + 2 * cfg.p - cfg.d * (cfg.k - 1) - 1) / cfg.s) + 1 > 0);

/** Output length and, per output, the input positions of its window (padding: -1). */
function windows(L: number, { k, s, p, d }: Pool1d): number[][] {
  const Lo = Math.floor((L + 2 * p - d * (k - 1) - 1) / s) + 1;
  return Array.from({ length: Lo }, (_, o) => Array.from({ length: k }, (_, j) => o * s - p + j * d).map((i) => (i >= 0 && i < L ? i : -1)));
}

describe("1-D pooling: ties and divisors, exactly", () => {
  it("maxPool1d: each window's whole gradient goes to its first maximum (ties are common here)", () => {
    fc.assert(
      fc.property(pool1dArb, fc.array(fc.integer({ min: -2, max: 2 }), { minLength: 18, maxLength: 18 }), ({ cfg, L }, ints) => {
        const rows = [ints.slice(0, L), ints.slice(9, 9 + L)];
        const x = tensor([rows], { dtype: "float64", requiresGrad: true });
        const win = windows(L, cfg);
        if (win.some((w) => w.every((i) => i < 0))) return; // refused: a window entirely in the padding
        const { values, indices } = sg.maxPool1dWithIndices(x, cfg.k, { stride: cfg.s, padding: cfg.p, dilation: cfg.d });
        const gOut = win.map((_, o) => o + 1);
        values.mul(tensor([[gOut, gOut]], { dtype: "float64" })).sum().backward();
        const want = rows.map((row) => {
          const g = new Array<number>(L).fill(0);
          const idx = win.map((w, o) => {
            let best = -1;
            for (const i of w) if (i >= 0 && (best < 0 || row[i]! > row[best]!)) best = i;
            g[best] = g[best]! + gOut[o]!;
            return best;
          });
          return { g, idx, v: idx.map((i) => row[i]!) };
        });
        expect(values.toArray()).toEqual([want.map((w) => w.v)]);
        expect(indices.toArray()).toEqual([want.map((w) => w.idx)]);
        expect(x.grad!.toArray()).toEqual([want.map((w) => w.g)]);
      }),
      { numRuns: 300 },
    );
  });

  it("avgPool1d: each window's gradient is split evenly (1 / divisor), with and without the padding counted", () => {
    fc.assert(
      fc.property(pool1dArb, fc.boolean(), fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 9, maxLength: 9 }), ({ cfg, L }, includePad, xs) => {
        const c = { ...cfg, d: 1 };
        const row = xs.slice(0, L);
        const x = tensor([row], { dtype: "float64", requiresGrad: true });
        const win = windows(L, c);
        const y = sg.avgPool1d(x, [c.k], { stride: [c.s], padding: c.p, countIncludePad: includePad });
        const gOut = win.map((_, o) => o + 1);
        y.mul(tensor([gOut], { dtype: "float64" })).sum().backward();
        const g = new Array<number>(L).fill(0);
        const v = win.map((w, o) => {
          const inside = w.filter((i) => i >= 0);
          const div = includePad ? c.k : inside.length;
          for (const i of inside) g[i] = g[i]! + gOut[o]! / div;
          return inside.reduce((s, i) => s + row[i]!, 0) / div;
        });
        vals(y).forEach((got, o) => expect(Math.abs(got - v[o]!)).toBeLessThan(1e-12));
        vals(x.grad!).forEach((got, i) => expect(Math.abs(got - g[i]!)).toBeLessThan(1e-12));
      }),
      { numRuns: 300 },
    );
  });

  it("options as PyTorch's: [C, L] input, 1-tuples, default stride, ceilMode; bad sizes are refused", () => {
    expect(sg.maxPool1d(tensor([[1, 5, 2, 2, 7, 0]]), 2).toArray()).toEqual([[5, 2, 7]]);
    expect(sg.avgPool1d(tensor([[[1, 5, 2, 2]]]), [2], { stride: [1] }).toArray()).toEqual([[[3, 3.5, 2]]]);
    expect(() => sg.maxPool1d(sg.zeros([1, 1, 1, 4]), 2)).toThrow(sg.ShapeError);
    expect(sg.maxPool1d(tensor([[1, 5, 2, 2, 7]]), 2, { ceilMode: true }).toArray()).toEqual([[5, 2, 7]]);
    expect(sg.avgPool1d(tensor([[1, 5, 2, 2, 7]]), 2, { ceilMode: true }).toArray()).toEqual([[3, 2, 7]]);
    expect(() => sg.maxPool1d(sg.zeros([1, 4]), 2, { padding: 2 })).toThrow(/at most half/);
    expect(() => sg.maxPool1d(sg.zeros([1, 4]), 5)).toThrow(/output length/);
    expect(() => sg.maxPool1d(sg.zeros([1, 4]), [2, 2] as unknown as [number])).toThrow(sg.ValueError);
    expect(() => sg.avgPool1d(sg.zeros([1, 4]), 0)).toThrow(sg.ValueError);
  });
});
