/**
 * Type promotion (issue 20): for every binary op and pair of operand kinds (1-d and 0-d tensors of
 * each dtype, an integer and a fractional number), the result dtype is torch 1.13's
 * (fixtures/promotion.json, written by scripts/fixtures/promotion.py), or a typed error where
 * torch errors. Deliberate differences, by design: numbers are accepted by maximum/minimum and as
 * the first operand of comparisons (torch's Python API takes tensors there); they follow the same
 * weak-number rule.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { add, DTypeError, div, eq, ge, gt, le, lt, maximum, minimum, mul, pow, sub, tensor, type DType, type Tensor } from "../../src/index.js";
import { promoteTypes, resultType } from "../../src/ops/promote.js";

interface Case { op: string; a: string; b: string; dtype: string }
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/promotion.json"), "utf8")) as { cases: Case[] };

const VALUES: Record<string, number[]> = { float32: [1.5, 2], float64: [1.5, 2], int32: [1, 2], bool: [1, 0] };
function operand(kind: string): Tensor | number {
  if (kind === "int") return 2;
  if (kind === "float") return 0.5;
  const [dim, dt] = kind.split(":") as [string, DType];
  const v = VALUES[dt]!;
  const vals = dt === "bool" ? v.map((x) => x === 1) : v;
  return dim === "1d" ? tensor(vals, { dtype: dt }) : tensor(vals[0]!, { dtype: dt });
}
const OPS: Record<string, (a: Tensor | number, b: Tensor | number) => Tensor> = {
  add, sub, mul, div, pow, maximum, minimum, eq, lt,
};
/** torch refuses these for its Python API (tensors only), not for their dtypes. */
const apiOnly = (c: Case): boolean =>
  (["maximum", "minimum"].includes(c.op) && (c.a === "int" || c.a === "float" || c.b === "int" || c.b === "float")) ||
  (["eq", "lt"].includes(c.op) && (c.a === "int" || c.a === "float"));

describe("type promotion follows torch.result_type for every binary op and operand pair", () => {
  it(`the fixture has every case (${fixture.cases.length})`, () => {
    expect(fixture.cases.length).toBe(9 * (10 * 10 - 4));
  });

  for (const op of Object.keys(OPS)) {
    it(`${op}: every pair of operand kinds`, () => {
      const misses: string[] = [];
      for (const c of fixture.cases.filter((k) => k.op === op)) {
        let got: string;
        try {
          got = OPS[op]!(operand(c.a), operand(c.b)).dtype;
        } catch (e) {
          if (!(e instanceof DTypeError)) throw e;
          got = "error";
        }
        let want = c.dtype;
        if (apiOnly(c)) {
          // our weak-number rule; comparisons give bool
          const a = operand(c.a);
          const b = operand(c.b);
          want = ["eq", "lt"].includes(op) ? "bool" : resultType(a, b);
        }
        if (got !== want) misses.push(`${c.a} ${op} ${c.b}: ${got}, torch ${want}`);
      }
      expect(misses).toEqual([]);
    });
  }

  it("promoteTypes is the lattice bool < int32 < float32 < float64", () => {
    const order: DType[] = ["bool", "int32", "float32", "float64"];
    for (const a of order) for (const b of order) expect(promoteTypes(a, b)).toBe(order[Math.max(order.indexOf(a), order.indexOf(b))]);
  });

  it("values are right, not only dtypes: int / int is true division, bool + bool is or, int32 + 0.5", () => {
    const i = tensor([1, 2, 7], { dtype: "int32" });
    expect(div(i, tensor([2, 2, 2], { dtype: "int32" })).toArray()).toEqual([0.5, 1, 3.5]);
    expect(add(i, 0.5).toArray()).toEqual([1.5, 2.5, 7.5]);
    expect(pow(i, 2).toArray()).toEqual([1, 4, 49]);
    expect(add(tensor([true, false, false]), tensor([true, true, false])).toArray()).toEqual([true, true, false]);
    expect(mul(tensor([true, false]), tensor([true, true])).toArray()).toEqual([true, false]);
    expect(() => pow(i, -1)).toThrow(/negative integer powers/);
    expect(lt(tensor([16777217], { dtype: "int32" }), 16777216.5).toArray()).toEqual([false]); // exact, in float64
    expect(eq(tensor([1, 2], { dtype: "int32" }), tensor([1, 2.5])).toArray()).toEqual([true, false]);
  });

  it("a float32 tensor meets an integer number exactly: in float32 when it holds the integer, in float64 when not", () => {
    // 16777216 = 2^24 is the last integer before float32's spacing grows to 2; 16777217 rounds to it in float32
    const x = tensor([16777216, -0, 3, -5]);
    expect(gt(x, 16777217).toArray()).toEqual([false, false, false, false]); // float64: 2^24 < 2^24 + 1
    expect(eq(x, 16777217).toArray()).toEqual([false, false, false, false]);
    expect(lt(x, 16777217).toArray()).toEqual([true, true, true, true]);
    expect(eq(x, 16777216).toArray()).toEqual([true, false, false, false]); // float32, exact
    expect(gt(x, 0).toArray()).toEqual([true, false, true, false]); // -0 > 0 is false
    expect(ge(x, 0).toArray()).toEqual([true, true, true, false]);
    expect(le(x, -5).toArray()).toEqual([false, false, false, true]);
    // a non-integer number rounds to float32 first, as torch (0.1f == 0.1 in float32)
    expect(eq(tensor([0.1]), 0.1).toArray()).toEqual([true]);
    expect(gt(tensor([0.1], { dtype: "float64" }), 0.1).toArray()).toEqual([false]);
  });

  it("gradients flow through a promotion: float32 * float64 gives float64 and a float32 gradient", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { dtype: "float64" });
    const y = mul(a, b);
    expect(y.dtype).toBe("float64");
    y.sum().backward();
    expect(a.grad!.dtype).toBe("float32");
    expect(a.grad!.toArray()).toEqual([3, 4]);
  });
});
