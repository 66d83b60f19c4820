/**
 * pow(a, b) at a = 0 (issue 20): both gradients as torch 1.13 gives them (values printed by
 * scripts/fixtures/pow_at_zero.py). Before, d/db was NaN where torch gives ∓Infinity; where an
 * infinite gradient is the honest answer, it is given, and the NaN guard then names pow.
 */
import { describe, expect, it } from "vitest";
import { pow, tensor } from "../../src/index.js";

// [a, b, d/da, d/db] from torch
const TORCH: [number, number, number, number][] = [
  [0, -1, -Infinity, -Infinity],
  [0, -0.5, -Infinity, -Infinity],
  [0, -2, -Infinity, -Infinity],
  [0, 0, 0, 0],
  [0, 2, 0, 0],
  [0, 0.5, Infinity, 0],
  [-0, -1, -Infinity, Infinity],
];

describe("pow at a zero base", () => {
  for (const [a0, b0, da, db] of TORCH) {
    it(`pow(${Object.is(a0, -0) ? "-0" : a0}, ${b0}): d/da ${da}, d/db ${db}`, () => {
      const a = tensor([a0], { dtype: "float64", requiresGrad: true });
      const b = tensor([b0], { dtype: "float64", requiresGrad: true });
      pow(a, b).sum().backward();
      expect(a.grad!.item()).toBe(da);
      expect(b.grad!.item()).toBe(db);
    });
  }
});

describe("softmax of a 0-d tensor (issue 20)", () => {
  it("is 1 (it was 0); logSoftmax is 0; the gradient is 0", async () => {
    const { softmax, logSoftmax } = await import("../../src/index.js");
    const x = tensor(2.0, { dtype: "float64", requiresGrad: true });
    const s = softmax(x, 0);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(1);
    expect(logSoftmax(x, -1).item()).toBe(0);
    s.backward();
    expect(x.grad!.item()).toBe(0);
  });
});
