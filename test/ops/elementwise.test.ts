import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  abs, acos, asin, atan, clamp, cos, DTypeError, erf, exp, expm1, gelu, leakyRelu, log, log1p, logicalAnd, logicalNot, logicalOr, logSigmoid, neg, relu, rsqrt,
  sigmoid, sign, sin, softplus, sqrt, square, tanh, tensor, ValueError, type Tensor,
} from "../../src/index.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import { erf as erfFast } from "../../src/kernels/js/math.js";

/** The reference backend's erf of one float64. */
const erfKernel = (x: number): number => referenceBackend.unary("erf", tensor([x], { dtype: "float64" }))[0]!;
import { expectClose, vals } from "../helpers.js";

// Reference erf values (16-17 significant digits, as given by mpmath / scipy.special.erf).
const ERF: [number, number][] = [
  [0, 0],
  [1e-8, 1.1283791670955126e-8],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [2, 0.9953222650189527],
  [2.9, 0.9999589021219005],
  [3.5, 0.9999992569016276],
  [4, 0.9999999845827421],
  [5.5, 0.9999999999999927],
  [7, 1],
];

const erfRef = (x: number): number => {
  const hit = ERF.find(([v]) => v === Math.abs(x));
  if (!hit) throw new Error(`no reference for ${x}`);
  return Math.sign(x) * hit[1];
};

interface UnaryCase {
  name: string;
  op: (x: Tensor) => Tensor;
  f: (x: number) => number;
  lo: number;
  hi: number;
}
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const cases: UnaryCase[] = [
  { name: "neg", op: neg, f: (x) => -x, lo: -5, hi: 5 },
  { name: "abs", op: abs, f: Math.abs, lo: -5, hi: 5 },
  { name: "exp", op: exp, f: Math.exp, lo: -5, hi: 5 },
  { name: "log", op: log, f: Math.log, lo: 0.1, hi: 5 },
  { name: "log1p", op: log1p, f: Math.log1p, lo: -0.9, hi: 5 },
  { name: "expm1", op: expm1, f: Math.expm1, lo: -5, hi: 5 },
  { name: "sqrt", op: sqrt, f: Math.sqrt, lo: 0.1, hi: 5 },
  { name: "rsqrt", op: rsqrt, f: (x) => 1 / Math.sqrt(x), lo: 0.1, hi: 5 },
  { name: "square", op: square, f: (x) => x * x, lo: -5, hi: 5 },
  { name: "sin", op: sin, f: Math.sin, lo: -5, hi: 5 },
  { name: "cos", op: cos, f: Math.cos, lo: -5, hi: 5 },
  { name: "tanh", op: tanh, f: Math.tanh, lo: -5, hi: 5 },
  { name: "atan", op: atan, f: Math.atan, lo: -50, hi: 50 },
  { name: "acos", op: acos, f: Math.acos, lo: -0.99, hi: 0.99 },
  { name: "asin", op: asin, f: Math.asin, lo: -0.99, hi: 0.99 },
  { name: "logSigmoid", op: logSigmoid, f: (x) => -Math.log1p(Math.exp(-x)), lo: -30, hi: 30 },
  { name: "sigmoid", op: sigmoid, f: sig, lo: -30, hi: 30 },
  { name: "relu", op: relu, f: (x) => Math.max(x, 0), lo: -5, hi: 5 },
  { name: "leakyRelu", op: (x) => leakyRelu(x, 0.2), f: (x) => (x > 0 ? x : 0.2 * x), lo: -5, hi: 5 },
  { name: "softplus", op: (x) => softplus(x, { beta: 2, threshold: 10 }), f: (x) => (2 * x > 10 ? x : Math.log1p(Math.exp(2 * x)) / 2), lo: -8, hi: 8 },
  { name: "clamp", op: (x) => clamp(x, -1, 2), f: (x) => Math.min(Math.max(x, -1), 2), lo: -5, hi: 5 },
  { name: "gelu", op: gelu, f: (x) => 0.5 * x * (1 + erfKernel(x / Math.SQRT2)), lo: -5, hi: 5 },
  {
    name: "gelu tanh",
    op: (x) => gelu(x, { approximate: "tanh" }),
    f: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
    lo: -5,
    hi: 5,
  },
  { name: "erf", op: erf, f: erfKernel, lo: -4, hi: 4 },
];

describe("unary ops: forward vs Math and gradient vs central differences (float64)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const arb = fc.array(fc.double({ min: c.lo, max: c.hi, noNaN: true }), { minLength: 1, maxLength: 8 });
      fc.assert(
        fc.property(arb, (xs) => {
          // keep away from kinks where the central difference is not the subgradient
          const data = xs.map((v) => (Math.abs(v) < 1e-3 || Math.abs(v - 2) < 1e-3 || Math.abs(v + 1) < 1e-3 || Math.abs(v - 5) < 1e-3 ? v + 0.01 : v));
          const x = tensor(data, { dtype: "float64", requiresGrad: true });
          const y = c.op(x);
          expectClose(vals(y), data.map(c.f), 1e-12, 1e-14);
          y.sum().backward();
          const h = 1e-6;
          const fd = data.map((v) => (c.f(v + h) - c.f(v - h)) / (2 * h));
          expectClose(vals(x.grad!), fd, 1e-5, 1e-6);
        }),
        { numRuns: 25 },
      );
    });
  }

  it("float32 results are the float32 rounding of the float64 results", () => {
    const data = [-2.5, -0.3, 0.7, 1.9];
    for (const c of cases.filter((k) => k.lo < 0)) {
      const y32 = vals(c.op(tensor(data)));
      const y64 = vals(c.op(tensor(data.map(Math.fround), { dtype: "float64" })));
      expectClose(y32, y64.map(Math.fround), 1e-6, 1e-6);
    }
  });
});

describe("kernel details", () => {
  it("erf (the reference's and js-fast's own, a different algorithm) matches reference values across its regimes", () => {
    for (const [name, f, tol] of [["reference", erfKernel, 1e-15], ["js-fast", erfFast, 3e-15]] as const) {
      for (const [x] of ERF) {
        for (const s of [1, -1]) {
          const v = f(s * x);
          const e = erfRef(s * x);
          expect(Math.abs(v - e), `${name} erf(${s * x})`).toBeLessThanOrEqual(2e-16 + tol * Math.abs(e));
        }
      }
      expect(f(NaN)).toBeNaN();
      expect(f(Infinity)).toBe(1);
      expect(f(-Infinity)).toBe(-1);
    }
  });

  it("sigmoid is stable for large |x|; softplus is linear above the threshold", () => {
    const s = vals(sigmoid(tensor([-800, 800, 0], { dtype: "float64" })));
    expect(s[0]).toBe(0);
    expect(s[1]).toBe(1);
    expect(s[2]).toBe(0.5);
    expect(vals(softplus(tensor([100, -100], { dtype: "float64" })))).toEqual([100, Math.log1p(Math.exp(-100))]);
  });

  it("NaN handling: sign, relu and clamp keep NaN; abs/neg/sign work on int32", () => {
    expect(vals(sign(tensor([NaN, -0, 3])))).toEqual([NaN, 0, 1]);
    expect(vals(relu(tensor([NaN, -1])))).toEqual([NaN, 0]);
    expect(vals(clamp(tensor([NaN]), 0, 1))).toEqual([NaN]);
    const i = tensor([-2, 0, 3], { dtype: "int32" });
    expect(abs(i).toArray()).toEqual([2, 0, 3]);
    expect(neg(i).toArray()).toEqual([2, 0, -3]);
    expect(sign(i).toArray()).toEqual([-1, 0, 1]);
    expect(abs(i).dtype).toBe("int32");
    expect(() => exp(i)).toThrow(DTypeError);
    expect(() => clamp(tensor([1]))).toThrow(ValueError);
    expect(clamp(tensor([-3, 3]), -1).toArray()).toEqual([-1, 3]);
  });

  it("logical ops", () => {
    const a = tensor([true, true, false, false]);
    const b = tensor([true, false, true, false]);
    expect(logicalAnd(a, b).toArray()).toEqual([true, false, false, false]);
    expect(logicalOr(a, b).toArray()).toEqual([true, true, true, false]);
    expect(a.logicalAnd(b).dtype).toBe("bool");
    expect(logicalNot(a).toArray()).toEqual([false, false, true, true]);
    expect(logicalNot(tensor([0, 2])).toArray()).toEqual([true, false]);
    // any dtype reads as bool (non-zero is true), as torch
    expect(logicalAnd(tensor([1, 0, 1, 0]), b).toArray()).toEqual([true, false, true, false]);
    expect(a.logicalOr(tensor([1, 0, 1, 0], { dtype: "int32" })).toArray()).toEqual([true, true, true, false]);
  });

  it("non-contiguous inputs go through the strided path", () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
    expect(x.T.exp().toArray()).toEqual([[1, 4], [2, 5], [3, 6]].map((r) => r.map(Math.exp)));
    expect(x.T.to("int32").toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(x.T.to("bool").toArray()).toEqual([[true, true], [true, true], [true, true]]);
    expect(x.narrow(1, 1, 2).add(x.narrow(1, 0, 2)).toArray()).toEqual([[3, 5], [9, 11]]);
  });
});
