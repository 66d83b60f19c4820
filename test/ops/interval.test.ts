/**
 * The interval rules of the op table (the static audit's transfer functions, declared with each
 * op): every op has one, and each is sound on its gradcheck sample: for random points inside bounds
 * around the sample's inputs, the op's output lies inside the bounds its rule computes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Generator, Tensor, tensor } from "../../src/index.js";
import { opTable } from "../../src/ops/table.js";
import { intervalRun } from "../../src/guard/audit.js";
import { opSamples } from "./samples.js";

describe("interval rules", () => {
  it("every op of the table declares an interval rule (ops/interval.ts builders)", () => {
    const missing = [...opTable].filter(([, e]) => !e.def.interval).map(([n, e]) => `${e.family}:${n}`);
    expect(missing).toEqual([]);
  });

  for (const [name, sample] of Object.entries(opSamples)) {
    if (sample.kind !== "grad") continue;
    it(`${name}: the output lies within its bounds`, () => {
      const [s] = fc.sample(sample.arb, { numRuns: 1, seed: name.length * 7919 });
      const { inputs, fn } = s!;
      const g = new Generator(name.length);
      for (const width of [0, 0.01, 0.3]) {
        const bounds = inputs.map((t) => {
          if (t.dtype !== "float64" || t.numel === 0) return null;
          const d = t.detach();
          const r = d.abs().mul(width).add(width / 10);
          return { lo: d.sub(r), hi: d.add(r) };
        });
        let out: { lo: Tensor; hi: Tensor };
        try {
          out = intervalRun(fn, inputs.map((t) => t.detach()), bounds);
        } catch {
          continue; // an input outside the op's domain (a pad of 0.3 can leave it): nothing to check
        }
        const lo = out.lo.toTypedArray();
        const hi = out.hi.toTypedArray();
        for (let k = 0; k < 4; k++) {
          const pts = inputs.map((t, i) => {
            const b = bounds[i];
            if (!b) return t.detach();
            const l = b.lo.toTypedArray();
            const h = b.hi.toTypedArray();
            return tensor(Float64Array.from(l, (v, j) => (k === 0 ? v : k === 1 ? h[j]! : v + (h[j]! - v) * g.random())), { shape: t.shape });
          });
          let v: ArrayLike<number | boolean>;
          try {
            v = fn(...pts).toTypedArray() as ArrayLike<number>;
          } catch {
            continue; // a random point that the op refuses (an index out of range)
          }
          for (let j = 0; j < v.length; j++) {
            const x = Number(v[j]);
            if (Number.isNaN(x) || Number.isNaN(Number(lo[j])) || Number.isNaN(Number(hi[j]))) continue;
            const tol = 1e-9 * (1 + Math.abs(x));
            if (!(x >= Number(lo[j]) - tol && x <= Number(hi[j]) + tol)) {
              throw new Error(`${name}: element ${j} = ${x} outside [${lo[j]}, ${hi[j]}] (width ${width}, point ${k})`);
            }
          }
        }
      }
    });
  }
});
