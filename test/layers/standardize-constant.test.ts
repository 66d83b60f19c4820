/**
 * layerNorm and batchNorm of a constant row standardise to exactly 0 (the output is the bias), at
 * every magnitude: the row is shifted by its first entry before the mean. Before, a row of 1e30 in
 * float64 gave ±1 (the mean's rounding error, divided by the rsqrt of a tiny variance).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nn, tensor, type FloatDType } from "../../src/index.js";

const magnitudes = fc.constantFrom(0, -0, 1, -3.7, 1e-30, 1e30, -1e30, 3e7, 1e15, 5e-324, 1e300, 2 ** 31 + 0.5);

describe("standardising a constant row", () => {
  for (const dtype of ["float32", "float64"] as FloatDType[]) {
    it(`layerNorm: exactly 0 for any constant, ${dtype}`, () => {
      fc.assert(
        fc.property(magnitudes.filter((v) => dtype === "float64" || Math.abs(v) < 3e38), fc.integer({ min: 1, max: 9 }), (v, n) => {
          const x = tensor(Array.from({ length: 2 * n }, () => v), { shape: [2, n], dtype, requiresGrad: true });
          const y = nn.functional.layerNorm(x, [n]);
          expect([...y.toTypedArray()].every((e) => e === 0)).toBe(true);
          y.mul(tensor(Array.from({ length: 2 * n }, (_, i) => i), { shape: [2, n], dtype })).sum().backward();
          expect([...x.grad!.toTypedArray()].every(Number.isFinite)).toBe(true);
        }),
      );
    });

    it(`batchNorm (training): exactly 0 for a constant channel, and the running mean is the constant, ${dtype}`, () => {
      fc.assert(
        fc.property(magnitudes.filter((v) => Math.abs(v) < 1e30 || dtype === "float64"), (v) => {
          const bn = new nn.BatchNorm1d(2, { dtype, affine: false });
          const x = tensor([v, 1, v, 2, v, 3], { shape: [3, 2], dtype });
          const y = bn.forward(x).toArray() as number[][];
          expect(y.map((r) => r[0])).toEqual([0, 0, 0]);
          const rm = bn.runningMean!.toTypedArray()[0]!;
          // momentum 0.1 from 0: 0.1 * v (the shift added back), within the dtype's rounding
          expect(Math.abs(rm - 0.1 * v)).toBeLessThanOrEqual(Math.abs(0.1 * v) * (dtype === "float32" ? 1e-6 : 1e-15));
        }),
      );
    });
  }

  it("a non-constant row is unchanged by the shift: the values of torch's formula", () => {
    const x = tensor([[1e8 + 1, 1e8 + 2, 1e8 + 3]], { dtype: "float64" });
    expect((nn.functional.layerNorm(x, [3], { eps: 0 }).toArray() as number[][])[0]!.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([-1.224744871, 0, 1.224744871]);
  });
});
