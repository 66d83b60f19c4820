/**
 * The where() trap, closed (issue 15): NaN or ±Inf in the lanes where() did not select never
 * reaches a gradient, and the selected lanes' gradients are exactly those of a clean input.
 * Before the engine rule (zeroWhereCotangentIsZero) this property failed at its first case.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, where, type Tensor } from "../../src/index.js";

type Dt = "float32" | "float64";
/** Singular ops: each has an infinite or undefined derivative somewhere (or overflows in float32). */
const UNARY: Record<string, (x: Tensor) => Tensor> = {
  log: (x) => x.log(),
  log1p: (x) => x.log1p(),
  sqrt: (x) => x.sqrt(),
  rsqrt: (x) => x.rsqrt(),
  reciprocal: (x) => x.pow(-1),
  powHalf: (x) => x.pow(0.5),
  exp: (x) => x.exp(),
  expm1: (x) => x.expm1(),
  square: (x) => x.square(),
  tanh: (x) => x.tanh(),
  sigmoid: (x) => x.sigmoid(),
};
const BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  div: (a, b) => a.div(b),
  pow: (a, b) => a.abs().pow(b),
  mul: (a, b) => a.mul(b),
  add: (a, b) => a.add(b),
};
/** Values that break some op in the unselected lanes. */
const HOSTILE = [0, -0, -1, -5, 100, 1e30, -1e30, NaN, Infinity, -Infinity, 1e-45, 5e-324];

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 12 }),
  dtype: fc.constantFrom<Dt>("float32", "float64"),
  mask: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  safe: fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 12, maxLength: 12 }),
  hostile: fc.array(fc.constantFrom(...HOSTILE), { minLength: 12, maxLength: 12 }),
  unary: fc.array(fc.constantFrom(...Object.keys(UNARY)), { minLength: 1, maxLength: 4 }),
  binary: fc.array(fc.constantFrom(...Object.keys(BINARY)), { minLength: 0, maxLength: 2 }),
  weights: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 12, maxLength: 12 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

/** loss = sum(w * where(mask, graph(x, y), 0)), and the gradients of x and y. */
function grads(c: Case, xs: number[], ys: number[]): [number[], number[]] {
  const x = tensor(xs, { dtype: c.dtype, requiresGrad: true });
  const y = tensor(ys, { dtype: c.dtype, requiresGrad: true });
  let h = UNARY[c.unary[0]!]!(x);
  for (const u of c.unary.slice(1)) h = h.mul(UNARY[u]!(x));
  for (const b of c.binary) h = h.add(BINARY[b]!(x, y));
  const m = tensor(c.mask.slice(0, c.n));
  const loss = where(m, h, 0).mul(tensor(c.weights.slice(0, c.n), { dtype: c.dtype })).sum();
  loss.backward();
  return [Array.from(x.grad!.toTypedArray()), Array.from(y.grad?.toTypedArray() ?? new Float64Array(c.n))];
}

describe("the where() trap", () => {
  it("hostile values in unselected lanes never reach a gradient; selected lanes are unchanged (1,000 random graphs)", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const lanes = Array.from({ length: c.n }, (_, i) => i);
        const xs = lanes.map((i) => (c.mask[i] ? c.safe[i]! : c.hostile[i]!));
        const ys = lanes.map((i) => (c.mask[i] ? c.safe[(i + 5) % 12]! : c.hostile[(i + 3) % 12]!));
        const clean = lanes.map((i) => (c.mask[i] ? xs[i]! : 1));
        const cleanY = lanes.map((i) => (c.mask[i] ? ys[i]! : 1));
        const [gx, gy] = grads(c, xs, ys);
        const [cx, cy] = grads(c, clean, cleanY);
        for (const i of lanes) {
          if (c.mask[i]) {
            // (=== : a zero cotangent's -0 may come back as +0)
            expect(gx[i] === cx[i], `x lane ${i}: ${gx[i]} vs ${cx[i]}`).toBe(true);
            expect(gy[i] === cy[i], `y lane ${i}: ${gy[i]} vs ${cy[i]}`).toBe(true);
          } else {
            expect(gx[i] === 0 && gy[i] === 0, `unselected lane ${i}: ${gx[i]}, ${gy[i]}`).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("the classic cases: log of 0, sqrt of a negative, 1/0, a masked NaN label", () => {
    const x = tensor([0, 4, -1], { requiresGrad: true });
    const pos = x.gt(0);
    where(pos, x.log(), 0).sum().backward();
    expect(x.grad!.toArray()).toEqual([0, 0.25, 0]);
    const v = tensor([-4, 4], { requiresGrad: true });
    where(v.gt(0), v.sqrt(), 0).sum().backward();
    expect(v.grad!.toArray()).toEqual([0, 0.25]);
    const d = tensor([0, 2], { requiresGrad: true });
    where(d.ne(0), tensor([1, 1]).div(d), 0).sum().backward();
    expect(d.grad!.toArray()).toEqual([0, -0.25]);
    const pred = tensor([0.5, 0.5], { requiresGrad: true });
    const label = tensor([NaN, 1]);
    where(label.eq(label), pred.sub(label).square(), 0).sum().backward();
    expect(pred.grad!.toArray()).toEqual([0, -1]);
  });

  it("a non-finite gradient in a SELECTED lane stays (the detector must still see it)", () => {
    const x = tensor([0, 1], { requiresGrad: true });
    x.log().sum().backward();
    expect(x.grad!.toArray()).toEqual([Infinity, 1]);
  });
});
