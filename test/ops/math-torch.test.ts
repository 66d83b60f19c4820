/**
 * Issue 20's elementwise ops and activations against PyTorch 1.13: fixtures/ops-math.json is written
 * by scripts/fixtures/ops_math.py (values on edge inputs in float64 and float32, gradients in float64,
 * int32 and bool operands, integer division by zero, and the result dtype of every new binary op for
 * each pair of operand kinds). This test only reads the fixture.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { grad, Tensor, tensor } from "../../src/index.js";

type Enc = number | boolean | string;
interface TRec { data: Enc[]; shape: number[]; dtype: string }
interface Case { op: string; args: TRec[]; out?: TRec; grads?: (TRec | null)[] | null; dim?: number; weights?: TRec; error?: string | null }
interface Promo { op: string; a: string; b: string; dtype?: string; error?: string }
const fixture = JSON.parse(readFileSync(new URL("../../fixtures/ops-math.json", import.meta.url), "utf8")) as {
  torch_version: string;
  values: Case[];
  grads: Case[];
  ints: Case[];
  promotion: Promo[];
};

const num = (v: Enc): number => (typeof v === "boolean" ? (v ? 1 : 0) : v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "-0" ? -0 : (v as number));
const dtypeOf = (d: string): sg.DType => (d === "int64" ? "int32" : (d as sg.DType));
const toTensor = (r: TRec, requiresGrad = false): Tensor => tensor(r.data.map(num), { shape: r.shape, dtype: dtypeOf(r.dtype), requiresGrad });

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  tan: sg.tan, sinh: sg.sinh, cosh: sg.cosh, asinh: sg.asinh, acosh: sg.acosh, atanh: sg.atanh, log2: sg.log2, log10: sg.log10, exp2: sg.exp2,
  floor: sg.floor, ceil: sg.ceil, round: sg.round, trunc: sg.trunc, elu: (x) => sg.elu(x), elu_alpha: (x) => sg.elu(x, 0.7), celu: (x) => sg.celu(x, 1.5),
  selu: sg.selu, mish: sg.mish, relu6: sg.relu6, hardtanh: (x) => sg.hardtanh(x, -2, 3), hardsigmoid: sg.hardsigmoid, hardswish: sg.hardswish,
  softsign: sg.softsign, isnan: sg.isnan, isinf: sg.isinf, isfinite: sg.isfinite,
};
const BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  copysign: sg.copysign, remainder: sg.remainder, fmod: sg.fmod, floor_divide: sg.floorDivide, div: (a, b) => sg.div(a, b),
  div_floor: (a, b) => sg.div(a, b, { roundingMode: "floor" }), div_trunc: (a, b) => sg.div(a, b, { roundingMode: "trunc" }),
  logaddexp: sg.logaddexp, "lerp_0.3": (a, b) => sg.lerp(a, b, 0.3), "lerp_0.8": (a, b) => sg.lerp(a, b, 0.8),
  isclose: (a, b) => sg.isclose(a, b), isclose_tol: (a, b) => sg.isclose(a, b, { rtol: 0.1, atol: 0.5, equalNan: true }),
  bitwise_and: sg.bitwiseAnd, bitwise_or: sg.bitwiseOr, bitwise_xor: sg.bitwiseXor,
};
/** Exact where the op is exact (rounding, remainders, predicates, bitwise); else relative to the dtype's precision. */
const EXACT = new Set(["floor", "ceil", "round", "trunc", "relu6", "hardtanh", "isnan", "isinf", "isfinite", "copysign", "remainder", "fmod", "floor_divide", "div_floor", "div_trunc", "isclose", "isclose_tol", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"]);

function run(c: Case, inputs: Tensor[]): Tensor {
  if (c.op === "softmin") return sg.softmin(inputs[0]!, c.dim!);
  if (c.op === "lerp_tensor") return sg.lerp(inputs[0]!, inputs[1]!, inputs[2]!);
  if (c.op === "bitwise_not") return sg.bitwiseNot(inputs[0]!);
  const f = inputs.length === 1 ? UNARY[c.op] : BINARY[c.op];
  if (!f) throw new Error(`no mapping for ${c.op}`);
  return inputs.length === 1 ? (f as (x: Tensor) => Tensor)(inputs[0]!) : (f as (a: Tensor, b: Tensor) => Tensor)(inputs[0]!, inputs[1]!);
}

/**
 * Where safegrad deliberately differs from torch 1.13, by case label and flat index: the value
 * safegrad gives instead.
 */
const DIFFERENT: Record<string, Record<number, number>> = {
  // -Infinity · 0 in torch's formula; safegrad gives the limit 0 (NaN only where no finite value exists).
  "hardswish (float64)": { 21: 0 },
  "hardswish (float32)": { 21: 0 },
};
/** Looser tolerances where torch 1.13 is the less accurate side. */
const TOL: Record<string, number> = {
  // torch's float64 hardsigmoid backward multiplies by the float32 constant 1/6 (0.1666666716...).
  "hardsigmoid gradient 0": 1e-7,
  // torch's float32 logaddexp loses digits in log1p(exp(-7.5)) (5.52978e-4; exact 5.52931e-4); float64 agrees to 1e-12.
  "logaddexp (float32)": 1e-4,
};

/** Compare a result with torch's: same shape and dtype (int64 as int32), NaN where NaN, the sign of zeros, values within tol. */
function expectClose(what: string, got: Tensor, want: TRec, op: string): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  expect(got.dtype, `${what} dtype`).toBe(dtypeOf(want.dtype));
  const g = Array.from(got.toTypedArray(), Number);
  const diff = DIFFERENT[what] ?? {};
  const w = want.data.map((v, i) => (i in diff ? diff[i]! : num(v)));
  const tol = TOL[what] ?? (EXACT.has(op) ? 0 : want.dtype === "float32" ? 2e-6 : 1e-12);
  const bad: string[] = [];
  w.forEach((wv, i) => {
    const gv = g[i]!;
    const ok = Number.isNaN(wv) ? Number.isNaN(gv) : !Number.isFinite(wv) ? gv === wv : wv === 0 ? (tol === 0 ? Object.is(gv, wv) : Math.abs(gv) <= tol) : Math.abs(gv - wv) <= tol * Math.abs(wv) + (want.dtype === "float32" ? 1e-37 : 0);
    if (!ok) bad.push(`[${i}] got ${Object.is(gv, -0) ? "-0" : gv}, torch ${Object.is(wv, -0) ? "-0" : wv}`);
  });
  expect(bad, what).toEqual([]);
}

describe(`issue 20 ops against torch ${fixture.torch_version}: values on edge inputs`, () => {
  for (const c of fixture.values) {
    it(`${c.op} (${c.args[0]!.dtype})`, () => {
      const out = run(c, c.args.map((a) => toTensor(a)));
      expectClose(`${c.op} (${c.args[0]!.dtype})`, out, c.out!, c.op);
    });
  }
});

describe("gradients (float64, against torch)", () => {
  for (const c of fixture.grads) {
    it(`${c.op}${c.dim === undefined ? "" : ` dim ${c.dim}`}`, () => {
      const inputs = c.args.map((a) => toTensor(a, true));
      const out = run(c, inputs);
      expectClose(`${c.op} value`, out, c.out!, c.op);
      const w = c.weights ? toTensor(c.weights) : null;
      const loss = w ? out.mul(w).sum() : out.sum();
      const gs = grad([loss], inputs, { allowUnused: true });
      if (c.grads === null) {
        // torch 1.13 has no derivative for floor_divide; safegrad's is 0 (as div's rounding modes).
        for (const gi of gs) expect(gi === null || Array.from(gi.toTypedArray()).every((v) => v === 0)).toBe(true);
        return;
      }
      c.grads!.forEach((want, i) => {
        if (!want) return;
        expectClose(`${c.op} gradient ${i}`, gs[i]!, want, "grad");
      });
    });
  }
});

describe("int32 and bool operands", () => {
  for (const c of fixture.ints) {
    const kind = c.args[0]!.dtype;
    if (c.error !== undefined) {
      it(`${c.op}: integer division by zero is a ValueError (torch: ${c.error})`, () => {
        expect(c.error).toMatch(/ZeroDivisionError/);
        const [a, b] = c.args.map((r) => toTensor(r));
        expect(() => run(c, [a!, b!])).toThrow(sg.ValueError);
        expect(() => run(c, [a!, b!])).toThrow(/division by zero/);
      });
      continue;
    }
    it(`${c.op} (${kind})`, () => {
      expectClose(c.op, run(c, c.args.map((r) => toTensor(r))), c.out!, EXACT.has(c.op) ? c.op : "bitwise_and");
    });
  }
});

describe("result dtypes of the new binary ops (torch.result_type, weak numbers)", () => {
  const make: Record<string, () => Tensor | number> = {
    bool: () => tensor([true, false]),
    int32: () => tensor([3, 2], { dtype: "int32" }),
    float32: () => tensor([3, 2], { dtype: "float32" }),
    float64: () => tensor([3, 2], { dtype: "float64" }),
    int32_0d: () => tensor(2, { dtype: "int32" }),
    float64_0d: () => tensor(2, { dtype: "float64" }),
    int: () => 2,
    float: () => 2.5,
  };
  const fns: Record<string, (a: Tensor | number, b: Tensor | number) => Tensor> = {
    copysign: sg.copysign, remainder: sg.remainder, fmod: sg.fmod, floor_divide: sg.floorDivide,
    div_floor: (a, b) => sg.div(a, b, { roundingMode: "floor" }), div_trunc: (a, b) => sg.div(a, b, { roundingMode: "trunc" }),
    logaddexp: sg.logaddexp, bitwise_and: sg.bitwiseAnd, bitwise_or: sg.bitwiseOr, bitwise_xor: sg.bitwiseXor,
  };
  it(`every op and pair of operand kinds (${fixture.promotion.length} cases)`, () => {
    const bad: string[] = [];
    let checked = 0;
    for (const p of fixture.promotion) {
      // torch's Python signatures take no number first for copysign/fmod and none at all for logaddexp: safegrad accepts them.
      if (p.error?.startsWith("TypeError")) continue;
      const f = fns[p.op]!;
      const label = `${p.op}(${p.a}, ${p.b})`;
      checked++;
      try {
        const r = f(make[p.a]!(), make[p.b]!());
        if (p.error) bad.push(`${label}: torch raised ${p.error}, safegrad gave ${r.dtype}`);
        else if (r.dtype !== dtypeOf(p.dtype!)) bad.push(`${label}: torch ${p.dtype}, safegrad ${r.dtype}`);
      } catch (e) {
        const code = (e as { code?: string }).code;
        const want = p.error?.includes("ZeroDivisionError") ? "VALUE" : p.error ? "DTYPE" : null;
        if (code !== want) bad.push(`${label}: torch ${p.error ?? p.dtype}, safegrad threw ${code}: ${(e as Error).message}`);
      }
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(500);
  });
});
