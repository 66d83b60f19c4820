/**
 * Gradcheck samples for the norm family (ops/norm.ts: the fused layerNorm, issue 18); joined into
 * the op-table samples by samples.ts. Gradients of gradients run the VJP's tensor-op path.
 */
import fc from "fast-check";
import type { Tensor } from "../../src/index.js";
import { layerNormOpCall } from "../../src/ops/norm.js";
import { seedArb, t64, type Sample } from "./sample-kit.js";

/** Samples for the norm family's ops, keyed by op name. */
export const normOpSamples: Record<string, Sample> = {
  // [lead..., trailing...] with 1 or 2 normalised dims; no affine, weight only, weight and bias
  layerNorm: {
    kind: "grad",
    arb: fc
      .tuple(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }), fc.integer({ min: 0, max: 2 }), seedArb)
      .map(([lead, trail, affine, seed]) => {
        const x = t64([...lead, ...trail], seed);
        const w = t64(trail, seed + 1, { lo: 0.5, hi: 1.5 });
        const b = t64(trail, seed + 2);
        const k = trail.length;
        if (affine === 0) return { inputs: [x], fn: (a: Tensor) => layerNormOpCall(a, k, 1e-5) };
        if (affine === 1) return { inputs: [x, w], fn: (a: Tensor, ww: Tensor) => layerNormOpCall(a, k, 1e-5, ww) };
        return { inputs: [x, w, b], fn: (a: Tensor, ww: Tensor, bb: Tensor) => layerNormOpCall(a, k, 0.1, ww, bb) };
      }),
  },
};
