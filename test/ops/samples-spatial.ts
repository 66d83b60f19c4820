/**
 * Gradcheck samples for convolution, pooling and resampling ops (issues 16 and 20); joined into the op-table samples by samples.ts.
 * Every new spatial function is a composite of op-table primitives (conv2d and its input gradient,
 * maxPool2dIndices with ceilMode, gather, where, scatterAdd), so all samples are composite
 * samples, checked in float64 with gradients of gradients.
 */
import fc from "fast-check";
import * as F from "../../src/index.js";
import { Generator, nn, type Tensor } from "../../src/index.js";
import { seedArb, t64, type GradSample, type Sample } from "./sample-kit.js";

/** Samples for primitive ops, keyed by op name. */
export const spatialOpSamples: Record<string, Sample> = {};

const int = (min: number, max: number) => fc.integer({ min, max });

/** Samples for composite ops, keyed by a name. */
export const spatialCompositeSamples: Record<string, GradSample> = {
  conv1d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 2), int(1, 2), int(1, 2), int(1, 3), int(1, 2), int(0, 2), int(1, 2), fc.boolean(), fc.boolean(), seedArb).map(([cg, og, groups, k, s, p, d, same, batched, seed]) => ({
      inputs: [t64(batched ? [1, cg * groups, 7] : [cg * groups, 7], seed), t64([og * groups, cg, k], seed + 1), t64([og * groups], seed + 2)],
      fn: (x: Tensor, w: Tensor, b: Tensor) => F.conv1d(x, w, b, { stride: same ? 1 : s, padding: same ? "same" : p, dilation: d, groups }),
    })),
  },
  conv3d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 2), int(1, 2), int(1, 2), int(0, 1), int(1, 2), fc.boolean(), seedArb).map(([groups, kd, sd, p, dd, same, seed]) => ({
      inputs: [t64([1, groups, 4, 2, 2], seed), t64([groups, 1, kd, 2, 1], seed + 1), t64([groups], seed + 2)],
      fn: (x: Tensor, w: Tensor, b: Tensor) => F.conv3d(x, w, b, same ? { padding: "same", dilation: [dd, 1, 1], groups } : { stride: [sd, 1, 1], padding: [p, p, 0], dilation: [dd, 1, 1], groups }),
    })),
  },
  convTranspose2d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 2), int(1, 2), int(1, 3), int(1, 2), int(0, 1), int(0, 1), int(1, 3), fc.boolean(), seedArb).map(([cg, groups, k, s, p, op, d, batched, seed]) => ({
      inputs: [t64(batched ? [1, cg * groups, 2, 2] : [cg * groups, 2, 2], seed), t64([cg * groups, 1, k, 2], seed + 1), t64([groups], seed + 2)],
      // outputPadding below the stride or the dilation (when it is not below the stride the cropped path runs)
      fn: (x: Tensor, w: Tensor, b: Tensor) => F.convTranspose2d(x, w, b, { stride: [s, 1], padding: [Math.min(p, Math.floor((s + d * (k - 1)) / 2)), 0], outputPadding: [op < s || op < d ? op : 0, 0], dilation: [d, 1], groups }),
    })),
  },
  convTranspose1d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 3), int(1, 3), int(0, 1), int(1, 2), seedArb).map(([k, s, p, d, seed]) => ({
      inputs: [t64([1, 2, 3], seed), t64([2, 2, k], seed + 1), t64([2], seed + 2)],
      fn: (x: Tensor, w: Tensor, b: Tensor) => F.convTranspose1d(x, w, b, { stride: s, padding: Math.min(p, Math.floor(((3 - 1) * s + d * (k - 1)) / 2)), dilation: d, outputPadding: s > 1 ? 1 : 0 }),
    })),
  },
  maxPool2dCeil: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(2, 3), int(1, 3), int(0, 1), seedArb).map(([k, s, p, seed]) => ({
      inputs: [t64([1, 1, 5, 4], seed)],
      fn: (x: Tensor) => F.maxPool2d(x, k, { stride: s, padding: p, ceilMode: true }),
    })),
  },
  avgPool2dCeil: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(2, 3), int(1, 3), int(0, 1), fc.boolean(), fc.constantFrom(undefined, 2.5), seedArb).map(([k, s, p, include, dv, seed]) => ({
      inputs: [t64([1, 1, 5, 4], seed)],
      fn: (x: Tensor) => F.avgPool2d(x, k, { stride: s, padding: p, ceilMode: true, countIncludePad: include, divisorOverride: dv }),
    })),
  },
  pool1dCeil: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(2, 3), int(2, 3), int(0, 1), fc.boolean(), seedArb).map(([k, s, p, include, seed]) => ({
      inputs: [t64([1, 2, 7], seed)],
      fn: (x: Tensor) => F.maxPool1d(x, k, { stride: s, padding: p, ceilMode: true }).sum(-1).add(F.avgPool1d(x, k, { stride: s, padding: p, ceilMode: true, countIncludePad: include }).sum(-1)),
    })),
  },
  pool3d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 2), int(1, 2), int(0, 1), fc.boolean(), fc.boolean(), seedArb).map(([kd, sd, pd, ceil, include, seed]) => ({
      inputs: [t64([1, 1, 3, 3, 2], seed)],
      fn: (x: Tensor) =>
        F.maxPool3d(x, [kd + 1, 2, 1], { stride: [sd, 1, 1], padding: [Math.min(pd, Math.floor((kd + 1) / 2)), 1, 0], ceilMode: ceil }).sum([2])
          .add(F.avgPool3d(x, [kd + 1, 2, 1], { stride: [sd, 1, 1], padding: [Math.min(pd, Math.floor((kd + 1) / 2)), 1, 0], ceilMode: ceil, countIncludePad: include }).sum([2])),
    })),
  },
  adaptiveAvgPool2d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 6), int(1, 4), fc.boolean(), seedArb).map(([ho, wo, batched, seed]) => ({
      inputs: [t64(batched ? [1, 1, 4, 3] : [1, 4, 3], seed)],
      fn: (x: Tensor) => F.adaptiveAvgPool2d(x, [ho, wo]),
    })),
  },
  adaptiveMaxPool2d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 5), int(1, 4), seedArb).map(([ho, wo, seed]) => ({
      inputs: [t64([1, 1, 4, 3], seed)],
      fn: (x: Tensor) => F.adaptiveMaxPool2d(x, [ho, wo]),
    })),
  },
  adaptivePool1d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 8), seedArb).map(([o, seed]) => ({
      inputs: [t64([1, 2, 5], seed)],
      fn: (x: Tensor) => F.adaptiveAvgPool1d(x, o).add(F.adaptiveMaxPool1d(x, o)),
    })),
  },
  maxUnpool2d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 2), int(1, 3), seedArb).map(([k, extra, seed]) => {
      const { values, indices } = F.maxPool2dWithIndices(t64([1, 1, 4, 5], seed + 7).detach(), [k, 2]);
      return {
        inputs: [t64([...values.shape], seed)],
        fn: (v: Tensor) => F.maxUnpool2d(v, indices, [k, 2], { outputSize: [values.shape[2]! * k + (extra % k), 5] }),
      };
    }),
  },
  interpolateNearest: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 6), int(1, 5), fc.constantFrom<"nearest" | "nearest-exact">("nearest", "nearest-exact"), seedArb).map(([h, w, mode, seed]) => ({
      inputs: [t64([1, 1, 4, 3], seed)],
      fn: (x: Tensor) => F.interpolate(x, { size: [h, w], mode }),
    })),
  },
  interpolateLinear: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(int(1, 5), int(1, 5), int(1, 3), fc.boolean(), fc.constantFrom<1 | 2 | 3>(1, 2, 3), seedArb).map(([h, w, d, align, nd, seed]) => {
      const mode = (["linear", "bilinear", "trilinear"] as const)[nd - 1];
      const shape = [1, 1, 3, 4, 2].slice(0, nd + 2);
      return { inputs: [t64(shape, seed)], fn: (x: Tensor) => F.interpolate(x, { size: [h, w, d].slice(0, nd), mode, alignCorners: align }) };
    }),
  },
  interpolateScale: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom(0.5, 1.3, 2), fc.boolean(), seedArb).map(([sf, bilinear, seed]) => ({
      inputs: [t64([1, 1, 3, 2], seed)],
      fn: (x: Tensor) => F.interpolate(x, { scaleFactor: sf, mode: bilinear ? "bilinear" : "nearest" }),
    })),
  },
  groupNorm: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom(1, 2, 4), fc.constantFrom<number[]>([], [3], [2, 2]), seedArb).map(([g, spatial, seed]) => ({
      inputs: [t64([1, 4, ...spatial], seed), t64([4], seed + 1), t64([4], seed + 2)],
      fn: (x: Tensor, w: Tensor, b: Tensor) => nn.functional.groupNorm(x, g, { weight: w, bias: b, eps: 1e-3 }),
    })),
  },
  channelDropout: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom(0.3, 0.5), seedArb).map(([p, seed]) => ({
      inputs: [t64([2, 3, 4], seed), t64([2, 3, 2, 2], seed + 1)],
      // a fresh generator per call: the same channel mask at every evaluation
      fn: (a: Tensor, b: Tensor) => nn.functional.dropout1d(a, { p, generator: new Generator(seed) }).sum().add(nn.functional.dropout2d(b, { p, generator: new Generator(seed + 1) }).sum()),
    })),
  },
};
