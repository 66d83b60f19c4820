/**
 * Issue 20's small parity bugs, against torch 1.13 (values printed by
 * scripts/fixtures/normalize_p_lt_1.py): normalize with 0 < p < 1 (it threw), crossEntropy with a
 * negative class weight (it threw).
 */
import { describe, expect, it } from "vitest";
import { crossEntropy, normalize, tensor } from "../../src/index.js";

const close = (a: number[][], b: number[][], tol: number): void => {
  a.flat().forEach((v, i) => expect(Math.abs(v - b.flat()[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b.flat()[i]!))));
};

describe("torch parity", () => {
  it("normalize with p = 0.5: values and gradients (the norm's subgradient is 0 at x = 0)", () => {
    const x = tensor([[0.5, -2.0, 0.0, 1.5], [1e-3, 3.0, -0.25, 0.0]], { dtype: "float64", requiresGrad: true });
    const y = normalize(x, { p: 0.5, dim: 1 });
    y.mul(tensor([[1, 2, 3, 4], [4, 3, 2, 1]], { dtype: "float64" })).sum().backward();
    close(y.toArray() as number[][], [[0.04465819873852045, -0.1786327949540818, 0.0, 0.13397459621556135], [0.00019515172487382922, 0.5854551746214877, -0.0487879312184573, 0.0]], 1e-12);
    close(x.grad!.toArray() as number[][], [[-0.005057480899518366, 0.22581973414236142, 0.2679491924311227, 0.3027788058229881], [-22.40304476171889, 0.16218154194851636, 1.8565663243353225, 0.1951517248738292]], 1e-12);
  });

  it("crossEntropy accepts negative class weights, as torch", () => {
    const ce = crossEntropy(tensor([[1, 2, 3], [0.5, 0.1, 0.2]], { dtype: "float64" }), tensor([0, 2], { dtype: "int32" }), { weight: tensor([-1, 2, 0.5], { dtype: "float64" }) });
    expect(ce.item()).toBeCloseTo(3.6351129830481557, 12);
  });
});
