import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { enableGrad, grad, gradcheck, Tensor, tensor } from "../../src/index.js";
import { opTable } from "../../src/ops/table.js";
import { nonDifferentiable } from "../../src/autograd/node.js";
import { compositeSamples, opSamples, type GradSample } from "./samples.js";

const RUNS = Number(process.env.GRADCHECK_RUNS ?? 25);

function checkGrad(name: string, s: GradSample, runs: number): void {
  fc.assert(
    fc.property(s.arb, ({ inputs, fn }) => {
      gradcheck(fn, inputs, { name });
    }),
    { numRuns: runs },
  );
}

/** d/dx <grad f(x), w>: checks that the VJPs are themselves differentiable. */
function checkGradGrad(name: string, s: GradSample, runs: number): void {
  fc.assert(
    fc.property(s.arb, ({ inputs, fn }) => {
      const diff = inputs.filter((t) => t.requiresGrad);
      const out = fn(...inputs);
      if (out.numel === 0) return;
      const gOut = tensor(Float64Array.from({ length: out.numel }, (_, i) => Math.cos(i + 1)), { shape: [...out.shape] });
      // enableGrad: gradcheck evaluates the function under noGrad for its finite differences.
      const secondOrder = (...xs: Tensor[]): Tensor => enableGrad(() => {
        const d = xs.filter((t) => t.requiresGrad);
        const gs = grad([fn(...xs)], d, { gradOutputs: [gOut], createGraph: true, allowUnused: true });
        let acc: Tensor = tensor(0, { dtype: "float64" });
        gs.forEach((g, i) => {
          if (!g) return;
          const w = tensor(Float64Array.from({ length: g.numel }, (_, j) => Math.sin(j + 2 + i)), { shape: [...g.shape] });
          acc = acc.add(g.mul(w).sum());
        });
        return acc;
      });
      if (diff.length) gradcheck(secondOrder, inputs, { name: `${name} (gradient of gradient)` });
    }),
    { numRuns: Math.max(2, Math.floor(runs / 3)) },
  );
}

describe("op table", () => {
  it("every op has a test sample", () => {
    const missing = [...opTable.keys()].filter((k) => !(k in opSamples));
    expect(missing).toEqual([]);
  });

  it("every sample names an op of the table", () => {
    const extra = Object.keys(opSamples).filter((k) => !opTable.has(k));
    expect(extra).toEqual([]);
  });

  it("the table holds every family's ops (about 60), each under its own name", () => {
    expect(opTable.size).toBeGreaterThan(55);
    for (const [name, { def }] of opTable) expect(def.name).toBe(name);
  });

  it("ops marked nonDifferentiable are exactly the custom-checked ones or casts", () => {
    for (const [name, { def }] of opTable) {
      if (def.vjp === nonDifferentiable) expect(opSamples[name]!.kind, name).toBe("custom");
    }
  });
});

describe("gradcheck of every op in the table (float64 central differences)", () => {
  for (const [name, sample] of Object.entries(opSamples)) {
    if (sample.kind === "custom") {
      it(`${name}: checked by hand`, () => sample.check());
      continue;
    }
    it(`${name}: gradient`, () => checkGrad(name, sample, RUNS));
    if (sample.gradgrad !== false) it(`${name}: gradient of gradient`, () => checkGradGrad(name, sample, RUNS));
  }
});

describe("gradcheck of composite ops", () => {
  for (const [name, sample] of Object.entries(compositeSamples)) {
    it(`${name}: gradient`, () => checkGrad(name, sample, RUNS));
    if (sample.gradgrad) it(`${name}: gradient of gradient`, () => checkGradGrad(name, sample, RUNS));
  }
});
