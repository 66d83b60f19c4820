/**
 * Issue 20's elementwise ops and activations: singular points and kinks exactly at the point, the
 * where() trap closed for the new ops, typed errors (integer division by zero, bitwise on floats,
 * dtype mismatches), and adversarial finiteness properties (value and gradient finite for every
 * finite input, float32 and float64: 0, -0, ±1e30, ±1e-30, subnormals, ties). Values against torch
 * are in math-torch.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { DTypeError, grad, noGrad, Tensor, tensor, ValueError } from "../../src/index.js";
import { opTable } from "../../src/ops/table.js";

const f64 = (v: number[] | number, requiresGrad = true): Tensor => tensor(v, { dtype: "float64", requiresGrad });
/** The gradients of sum(f(inputs)). */
function grads(f: (...xs: Tensor[]) => Tensor, ...xs: Tensor[]): number[][] {
  return grad([f(...xs).sum()], xs, { allowUnused: true }).map((g) => (g ? Array.from(g.toTypedArray(), Number) : []));
}
const arr = (t: Tensor): number[] => Array.from(t.toTypedArray(), Number);

describe("singular points: the honest infinite derivative (as pow at 0), NaN only without a finite value", () => {
  it("acosh'(1) = Infinity; atanh'(±1) = Infinity (as torch)", () => {
    expect(grads(sg.acosh, f64([1, 2]))[0]).toEqual([Infinity, 1 / Math.sqrt(3)]);
    const [ga] = grads(sg.atanh, f64([1, -1, 0]));
    expect(ga).toEqual([Infinity, Infinity, 1]);
  });

  it("the where() trap stays closed: where(x > 1, acosh(x), 0) and where(|x| < 1, atanh(x), 0) have gradient 0 at the point", () => {
    expect(grads((x) => sg.where(x.gt(1), sg.acosh(x), 0), f64([1, 2]))[0]).toEqual([0, 1 / Math.sqrt(3)]);
    expect(grads((x) => sg.where(x.abs().lt(1), sg.atanh(x), 0), f64([1, -1, 0.5]))[0]).toEqual([0, 0, 1 / 0.75]);
  });

  it("asinh's gradient 1 / hypot(x, 1) is finite for every finite x (1e-30 at ±1e30 in float32, where x² overflows)", () => {
    const x = tensor([1e30, -1e30, 0], { requiresGrad: true });
    sg.asinh(x).sum().backward();
    const g = arr(x.grad!);
    expect(g[0]).toBeCloseTo(1e-30, 36);
    expect(g[1]).toBeCloseTo(1e-30, 36);
    expect(g[2]).toBe(1);
  });

  it("copysign: d/da = ±1 by the result's sign, 0 at a = ±0, ±1 at a = ±Infinity (torch: NaN); d/db = 0", () => {
    const [ga, gb] = grads(sg.copysign, f64([2, -2, 0, -0, Infinity, -Infinity]), f64([-1, -1, -1, 1, -1, 1]));
    expect(ga).toEqual([-1, 1, 0, 0, -1, -1]);
    expect(gb).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Object.is(arr(sg.copysign(f64([1, 1], false), f64([-0, 0], false)))[0], -1)).toBe(true);
  });

  it("logaddexp: value a itself at a = b = ±Infinity; gradients σ(a - b), 1/2 each at equal infinities (torch: NaN)", () => {
    const a = f64([-Infinity, Infinity, -Infinity, 1000, 0]);
    const b = f64([-Infinity, Infinity, 0, 1000, -Infinity]);
    const out = sg.logaddexp(a, b);
    expect(arr(out)).toEqual([-Infinity, Infinity, 0, 1000 + Math.LN2, 0]);
    const [ga, gb] = grads(sg.logaddexp, a, b);
    expect(ga).toEqual([0.5, 0.5, 0, 0.5, 1]);
    expect(gb).toEqual([0.5, 0.5, 1, 0.5, 0]);
  });

  it("fmod/remainder: gradient 1 to a and -trunc(a / b) / -floor(a / b) to b, for negative operands too", () => {
    const a = f64([-7, 7, -7, 7]);
    const b = f64([2, -2, -2, 2]);
    expect(grads(sg.fmod, a, b)).toEqual([[1, 1, 1, 1], [3, 3, -3, -3]]);
    expect(grads(sg.remainder, a, b)).toEqual([[1, 1, 1, 1], [4, 4, -3, -3]]);
  });
});

describe("kinks, exactly at the point", () => {
  it("hardtanh and relu6 pass no gradient at their bounds (as torch); clamp does (inclusive)", () => {
    expect(grads((x) => sg.hardtanh(x), f64([-1, 1, 0.5, -2]))[0]).toEqual([0, 0, 1, 0]);
    expect(grads(sg.relu6, f64([0, 6, 3, -0]))[0]).toEqual([0, 0, 1, 0]);
    expect(grads((x) => sg.clamp(x, -1, 1), f64([-1, 1]))[0]).toEqual([1, 1]);
  });

  it("hardsigmoid: 1/6 strictly inside (-3, 3), 0 at ±3; hardswish: -0.5 at -3, 1 at 3, 0 below -3", () => {
    expect(grads(sg.hardsigmoid, f64([-3, 3, 0]))[0]).toEqual([0, 0, 1 / 6]);
    expect(grads(sg.hardswish, f64([-3, 3, -4, 4, 0]))[0]).toEqual([-0.5, 1, 0, 1, 0.5]);
  });

  it("elu, celu and selu take the x <= 0 branch at 0: alpha (celu: 1), alpha · scale for selu", () => {
    expect(grads((x) => sg.elu(x, 0.7), f64([0, 1]))[0]).toEqual([0.7, 1]);
    expect(grads((x) => sg.celu(x, 2), f64([0]))[0]).toEqual([1]);
    const [g] = grads(sg.selu, f64([0, 1]));
    expect(g![0]).toBeCloseTo(sg.SELU_CONSTANTS.alpha * sg.SELU_CONSTANTS.scale, 14);
    expect(g![1]).toBeCloseTo(sg.SELU_CONSTANTS.scale, 15);
  });

  it("the rounding ops have zero gradient, also at their jumps; div with a roundingMode too", () => {
    for (const f of [sg.floor, sg.ceil, sg.round, sg.trunc]) expect(grads(f, f64([0.5, 1, -1.5, 2.5]))[0]).toEqual([0, 0, 0, 0]);
    expect(grads((a, b) => sg.div(a, b, { roundingMode: "floor" }), f64([7, -7]), f64([2, 2]))).toEqual([[0, 0], [0, 0]]);
  });
});

describe("values and dtypes", () => {
  it("round: ties to even, -0 kept, in float32 and float64; int32 passes through", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const r = arr(sg.round(tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0], { dtype })));
      expect(r.slice(0, 6)).toEqual([0, 2, 2, -0, -2, -2]);
      expect(Object.is(r[3], -0)).toBe(true);
      expect(Object.is(r[7], -0)).toBe(true);
      expect(r[6]).toBe(0);
    }
    const i = sg.floor(tensor([3, -4], { dtype: "int32" }));
    expect([i.dtype, ...arr(i)]).toEqual(["int32", 3, -4]);
    expect(() => sg.round(tensor([true]))).toThrow(DTypeError);
  });

  it("div: true division is float for int32 operands; trunc and floor keep int32; 1 // 0.1 is 9 (as Python)", () => {
    const a = tensor([7, -7], { dtype: "int32" });
    expect(sg.div(a, 2).dtype).toBe("float32");
    const fl = sg.div(a, 2, { roundingMode: "floor" });
    expect([fl.dtype, ...arr(fl)]).toEqual(["int32", 3, -4]);
    expect(arr(sg.div(a, 2, { roundingMode: "trunc" }))).toEqual([3, -3]);
    expect(arr(sg.floorDivide(tensor([1], { dtype: "float64" }), 0.1))).toEqual([9]);
    expect(arr(sg.div(tensor([1, -1, 0]), 0, { roundingMode: "floor" }))).toEqual([Infinity, -Infinity, NaN]);
    expect(() => sg.div(a, 2, { roundingMode: "round" as never })).toThrow(ValueError);
  });

  it("integer division by zero is a ValueError (torch: ZeroDivisionError), floats give IEEE results", () => {
    const a = tensor([5, -5], { dtype: "int32" });
    for (const f of [sg.remainder, sg.fmod, sg.floorDivide, (x: Tensor, y: Tensor | number) => sg.div(x, y, { roundingMode: "trunc" })]) {
      expect(() => f(a, tensor([2, 0], { dtype: "int32" }))).toThrow(ValueError);
      expect(() => f(a, 0)).toThrow(/division by zero/);
    }
    expect(arr(sg.remainder(tensor([5, -5]), 0))).toEqual([NaN, NaN]);
  });

  it("remainder has the divisor's sign, fmod the dividend's; both keep int32", () => {
    expect(arr(sg.remainder(tensor([-7, 7, -7, 7], { dtype: "int32" }), tensor([2, -2, -2, 2], { dtype: "int32" })))).toEqual([1, -1, -1, 1]);
    expect(arr(sg.fmod(tensor([-7, 7, -7, 7], { dtype: "int32" }), tensor([2, -2, -2, 2], { dtype: "int32" })))).toEqual([-1, 1, -1, 1]);
    expect(() => sg.remainder(tensor([true]), tensor([true]))).toThrow(DTypeError);
  });

  it("bitwise ops: int32 and bool only (typed error on floats, as torch), bool & int is int32", () => {
    expect(sg.bitwiseAnd(tensor([true]), 3).dtype).toBe("int32");
    expect(sg.bitwiseOr(tensor([true]), tensor([false])).dtype).toBe("bool");
    expect(() => sg.bitwiseXor(tensor([1], { dtype: "int32" }), 0.5)).toThrow(DTypeError);
    expect(() => sg.bitwiseNot(tensor([1.5]))).toThrow(DTypeError);
    expect(arr(tensor([6], { dtype: "int32" }).bitwiseXor(3))).toEqual([5]);
  });

  it("isnan/isinf/isfinite on floats, int32 and bool; isclose/allclose as torch (dtype must match)", () => {
    const x = tensor([0, NaN, Infinity, -Infinity, 1e30]);
    expect(sg.isnan(x).toArray()).toEqual([false, true, false, false, false]);
    expect(sg.isinf(x).toArray()).toEqual([false, false, true, true, false]);
    expect(sg.isfinite(x).toArray()).toEqual([true, false, false, false, true]);
    expect(sg.isfinite(tensor([1], { dtype: "int32" })).toArray()).toEqual([true]);
    expect(sg.isinf(tensor([true])).toArray()).toEqual([false]);
    expect(sg.isclose(tensor([Infinity, NaN, 1]), tensor([Infinity, NaN, 1.001]), { equalNan: true, rtol: 1e-2 }).toArray()).toEqual([true, true, true]);
    expect(sg.isclose(tensor([1, 2], { dtype: "int32" }), tensor([1, 3], { dtype: "int32" })).toArray()).toEqual([true, false]);
    expect(() => sg.isclose(tensor([1]), tensor([1], { dtype: "float64" }))).toThrow(DTypeError);
    expect(sg.allclose(tensor([1, 2]), tensor([1, 2.1]))).toBe(false);
    expect(tensor([1, 2]).allclose(tensor([1, 2 + 1e-6]))).toBe(true);
  });

  it("lerp: weight 1 gives end exactly; start and end must share a float dtype (as torch)", () => {
    const s = tensor([0.1, 1e8], { dtype: "float32" });
    const e = tensor([0.7, -3], { dtype: "float32" });
    expect(arr(sg.lerp(s, e, 1))).toEqual(arr(e));
    expect(arr(sg.lerp(s, e, 0))).toEqual(arr(s));
    expect(() => sg.lerp(s, tensor([1, 2], { dtype: "float64" }), 0.5)).toThrow(DTypeError);
    expect(() => sg.lerp(tensor([1], { dtype: "int32" }), tensor([1], { dtype: "int32" }), 0.5)).toThrow(DTypeError);
  });

  it("logaddexp refuses an integer result type (as torch); copysign of ints is float32", () => {
    expect(() => sg.logaddexp(tensor([1], { dtype: "int32" }), tensor([2], { dtype: "int32" }))).toThrow(DTypeError);
    expect(sg.logaddexp(tensor([1], { dtype: "int32" }), 0.5).dtype).toBe("float32");
    expect(sg.copysign(tensor([1], { dtype: "int32" }), -1).dtype).toBe("float32");
  });

  it("argument checks: celu alpha 0, hardtanh minVal > maxVal", () => {
    expect(() => sg.celu(tensor([1]), 0)).toThrow(ValueError);
    expect(() => sg.hardtanh(tensor([1]), 1, -1)).toThrow(ValueError);
    expect(() => sg.tan(tensor([1], { dtype: "int32" }))).toThrow(DTypeError);
  });
});

// ---------------------------------------------------------------- adversarial finiteness
const adversarial = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, -0, 1e30, -1e30, 1e-30, -1e-30, 5e-324, -5e-324, 1, -1, 3, -3, 6, 0.5, -0.5, 2.5, 1000, -1000) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);
const rows = fc.array(fc.array(adversarial, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }).map((r) => {
  const w = r[0]!.length;
  return r.map((row) => Array.from({ length: w }, (_, i) => row[i % row.length]!));
});
const allFinite = (t: Tensor | null): boolean => !t || Array.from(t.toTypedArray()).every(Number.isFinite);

/** A second operand with ties against x: x reversed along its first dim. */
function flip0(x: Tensor): Tensor {
  const n = x.shape[0]!;
  return sg.indexSelect(x, 0, tensor(Int32Array.from({ length: n }, (_, i) => n - 1 - i)));
}

const FINITE_OPS: [string, (x: Tensor) => Tensor][] = [
  ["elu", (x) => sg.elu(x)],
  ["celu", (x) => sg.celu(x, 0.5)],
  ["selu", sg.selu],
  ["mish", sg.mish],
  ["relu6", sg.relu6],
  ["hardtanh", (x) => sg.hardtanh(x, -2, 3)],
  ["hardsigmoid", sg.hardsigmoid],
  ["hardswish", sg.hardswish],
  ["softsign", sg.softsign],
  ["softmin", (x) => sg.softmin(x, -1)],
  ["asinh", sg.asinh],
  ["floor", sg.floor],
  ["ceil", sg.ceil],
  ["round", sg.round],
  ["trunc", sg.trunc],
  ["copysign (ties)", (x) => sg.copysign(x, flip0(x))],
  ["logaddexp (ties)", (x) => sg.logaddexp(x, flip0(x))],
  ["lerp (weight 0.3)", (x) => sg.lerp(x, flip0(x), 0.3)],
  ["lerp (weight 0.8)", (x) => sg.lerp(x, flip0(x), 0.8)],
  ["lerp (tensor weight)", (x) => sg.lerp(x.mul(0.5), flip0(x).mul(0.5), x.sigmoid())],
  ["remainder (divisor 3)", (x) => sg.remainder(x, 3)],
  ["fmod (divisor -3)", (x) => sg.fmod(x, -3)],
  ["div floor (divisor 0.5)", (x) => sg.div(x, 0.5, { roundingMode: "floor" })],
];

describe("issue 20 ops that are finite for every finite input, value and gradient", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const [name, f] of FINITE_OPS) {
      it(`${name} (${dtype})`, () => {
        fc.assert(
          fc.property(rows, (data) => {
            const x = tensor(data, { dtype, requiresGrad: true });
            const y = f(x);
            expect(allFinite(y), `${name} value of ${JSON.stringify(data)}`).toBe(true);
            const w = tensor(Array.from({ length: y.numel }, (_, i) => (i % 3) - 1), { dtype, shape: [...y.shape] });
            y.mul(w).sum().backward();
            expect(allFinite(x.grad), `${name} gradient at ${JSON.stringify(data)}`).toBe(true);
          }),
          { numRuns: 150 },
        );
      });
    }
  }
});

// ---------------------------------------------------------------- interval rules (the audit)
describe("interval rules of the issue 20 ops are sound: every value of the op on points inside the bounds lies inside its bounds", () => {
  const UNARY: [string, object, number, number][] = [
    ["tan", {}, -4, 4], ["sinh", {}, -5, 5], ["cosh", {}, -5, 5], ["asinh", {}, -5, 5], ["acosh", {}, 1, 6], ["atanh", {}, -1, 1],
    ["log2", {}, 0, 5], ["log10", {}, 0, 5], ["exp2", {}, -5, 5], ["floor", {}, -5, 5], ["ceil", {}, -5, 5], ["round", {}, -5, 5], ["trunc", {}, -5, 5],
    ["elu", { alpha: 1 }, -5, 5], ["elu", { alpha: -0.5 }, -5, 5], ["elu", { alpha: 2, inputScale: 0.5 }, -5, 5], ["hardtanh", { min: -1, max: 2 }, -5, 5],
    ["hardsigmoid", {}, -5, 5], ["hardswish", {}, -5, 5],
  ];
  const BINARY: [string, number, number, number, number][] = [
    ["copysign", -5, 5, -5, 5], ["fmod", -9, 9, 0.5, 4], ["fmod", -9, 9, -4, -0.5], ["remainder", -9, 9, 0.5, 4], ["remainder", -9, 9, -4, -0.5],
    ["divTrunc", -9, 9, 0.5, 4], ["divFloor", -9, 9, -4, -0.5], ["logaddexp", -50, 50, -50, 50],
  ];
  const within = (v: number, lo: number, hi: number): boolean => Number.isNaN(v) || Number.isNaN(lo) || Number.isNaN(hi) || (lo <= v && v <= hi);
  const pair = (min: number, max: number) => fc.tuple(fc.double({ min, max, noNaN: true }), fc.double({ min, max, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })).map(([p, q, t]) => {
    const [lo, hi] = p <= q ? [p, q] : [q, p];
    return [lo, hi, lo + t * (hi - lo)] as const;
  });
  for (const [op, attrs, min, max] of UNARY) {
    it(`${op} ${JSON.stringify(attrs)}`, () => {
      const def = opTable.get(op)!.def;
      fc.assert(fc.property(fc.array(pair(min, max), { minLength: 1, maxLength: 4 }), (ps) => noGrad(() => {
        const lo = f64(ps.map((p) => p[0]), false);
        const hi = f64(ps.map((p) => p[1]), false);
        const x = f64(ps.map((p) => Math.min(Math.max(p[2], p[0]), p[1])), false);
        const out = def.forward([x], attrs);
        const b = def.interval!.forward({ bounds: [{ lo, hi }], inputs: [x], attrs, out, forward: (i: readonly Tensor[], a: unknown) => def.forward(i, a) });
        const [v, l, h] = [arr(out), arr(b.lo), arr(b.hi)];
        v.forEach((vi, i) => expect(within(vi, l[i]!, h[i]!), `${op} at ${x.toArray()} in [${lo.toArray()}, ${hi.toArray()}]: ${vi} not in [${l[i]}, ${h[i]}]`).toBe(true));
      })), { numRuns: 100 });
    });
  }
  for (const [op, amin, amax, bmin, bmax] of BINARY) {
    it(`${op} (b in [${bmin}, ${bmax}])`, () => {
      const def = opTable.get(op)!.def;
      fc.assert(fc.property(fc.array(fc.tuple(pair(amin, amax), pair(bmin, bmax)), { minLength: 1, maxLength: 4 }), (ps) => noGrad(() => {
        const bounds = [0, 1].map((k) => ({ lo: f64(ps.map((p) => p[k]![0]), false), hi: f64(ps.map((p) => p[k]![1]), false) }));
        const inputs = [0, 1].map((k) => f64(ps.map((p) => p[k]![2]), false)) as [Tensor, Tensor];
        const out = def.forward(inputs, null);
        const b = def.interval!.forward({ bounds, inputs, attrs: null, out, forward: (i: readonly Tensor[], a: unknown) => def.forward(i, a) });
        const [v, l, h] = [arr(out), arr(b.lo), arr(b.hi)];
        v.forEach((vi, i) => expect(within(vi, l[i]!, h[i]!), `${op}(${inputs[0].toArray()}, ${inputs[1].toArray()}): ${vi} not in [${l[i]}, ${h[i]}]`).toBe(true));
      })), { numRuns: 100 });
    });
  }
  it("every op this helper added to the table has an interval rule", () => {
    const mine = ["tan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10", "exp2", "floor", "ceil", "round", "trunc", "elu", "hardtanh", "hardsigmoid", "hardswish",
      "copysign", "divTrunc", "divFloor", "remainder", "fmod", "logaddexp", "bitwiseAnd", "bitwiseOr", "bitwiseXor", "bitwiseNot"];
    expect(mine.filter((op) => !opTable.get(op)?.def.interval)).toEqual([]);
  });
});
