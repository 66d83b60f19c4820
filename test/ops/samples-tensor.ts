/**
 * Gradcheck samples for reductions, cumulative, shape and indexing ops (issue 20); joined into the op-table samples by samples.ts.
 */
import fc from "fast-check";
import { Generator, Tensor, tensor } from "../../src/index.js";
import * as F from "../../src/ops/index.js";
import { linearScan } from "../../src/ops/scan.js";
import { nonEmptyShapeArb, randomPerm, seedArb, shapeArb, t64, type GradSample, type Sample } from "./sample-kit.js";

/** A float64 tensor (requiring grad) with about a third of its entries exactly 0. */
export function withZeros(shape: number[], seed: number, share = 0.35): Tensor {
  const x = t64(shape, seed);
  const g = new Generator(seed + 11);
  const data = x.toTypedArray();
  for (let i = 0; i < data.length; i++) if (g.random() < share) data[i] = 0;
  return tensor(data, { shape, requiresGrad: true });
}

/** An int32 index of `shape` whose entries along `dim` are distinct (a permutation prefix of 0..size-1 per line). */
export function uniqueIndex(shape: number[], dim: number, size: number, seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Int32Array(n);
  const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const len = shape[dim]!;
  const outer = n / Math.max(1, len * inner);
  let s = seed;
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const perm = randomPerm(size, s++);
      for (let k = 0; k < len; k++) data[o * len * inner + k * inner + i] = perm[k]!;
    }
  return tensor(data, { shape, dtype: "int32" });
}

/** An int32 index of `shape` with values in [0, high) (repeats allowed). */
function anyIndex(shape: number[], seed: number, high: number): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Int32Array.from({ length: n }, () => g.randint(0, high)), { shape, dtype: "int32" });
}

/** [1, 2, ..., n] as float64 (a weight that tells positions apart). */
const ramp = (n: number): Tensor => tensor(Float64Array.from({ length: n }, (_, i) => i + 1));

const dimOf = (s: number[], seed: number): number => (s.length ? seed % s.length : 0);

/** Scatter setups: x of shape s, an index along d no longer than the dim, src a bit larger than the index. */
const scatterArb = fc.tuple(nonEmptyShapeArb, seedArb, fc.boolean()).map(([s, seed, unique]) => {
  const d = dimOf(s, seed);
  const idxShape = s.map((v, i) => (i === d ? (unique ? Math.max(1, v - (seed % 2)) : v + 1) : Math.max(1, v - ((seed >> 1) % 2))));
  const index = unique ? uniqueIndex(idxShape, d, s[d]!, seed) : anyIndex(idxShape, seed, s[d]!);
  const srcShape = idxShape.map((v, i) => v + ((seed >> (i + 2)) % 2));
  return { s, d, index, srcShape, seed, unique };
});

/** Samples for primitive ops, keyed by op name. */
export const tensorOpSamples: Record<string, Sample> = {
  prod: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb, fc.boolean(), fc.boolean()).map(([s, seed, all, keep]) => ({
      inputs: [t64(s, seed, { awayFrom0: 0.2 })],
      fn: (x: Tensor) => (all || x.ndim === 0 ? F.prod(x) : F.prod(x, -1 - dimOf(s, seed), keep)),
    })),
  },
  linearScan: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.boolean()).map(([s, seed, reverse]) => ({
      inputs: [t64(s, seed, { lo: -1.2, hi: 1.2 }), t64(s, seed + 1)],
      fn: (a: Tensor, b: Tensor) => linearScan(a, b, dimOf(s, seed), reverse),
    })),
  },
  logcumsumexp: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed, { lo: -4, hi: 4 })], fn: (x: Tensor) => F.logcumsumexp(x, s.length ? -1 - dimOf(s, seed) : 0) })),
  },
  scatter: {
    kind: "grad",
    // Distinct indices along the dim: where two src entries go to one place, only the last one
    // written reaches the output, yet both get the gradient (as PyTorch).
    arb: scatterArb.filter((c) => c.unique).map(({ s, d, index, srcShape, seed }) => ({
      inputs: [t64(s, seed), t64(srcShape, seed + 1)],
      fn: (x: Tensor, src: Tensor) => F.scatter(x, d, index, src),
    })),
  },
  scatterReduce: {
    kind: "grad",
    arb: fc.tuple(scatterArb, fc.constantFrom<F.ScatterReduceMode>("sum", "prod", "mean", "amax", "amin"), fc.boolean()).map(([{ s, d, index, srcShape, seed }, mode, includeSelf]) => ({
      inputs: [t64(s, seed, { awayFrom0: 0.2 }), t64(srcShape, seed + 1, { awayFrom0: 0.2 })],
      fn: (x: Tensor, src: Tensor) => F.scatterReduce(x, d, index, src, mode, { includeSelf }),
    })),
  },
};

/** Samples for composite ops, keyed by a name. */
export const tensorCompositeSamples: Record<string, GradSample> = {
  // prod is a polynomial: finite differences are exact at zeros too, so the zero-safe gradient is checked there.
  prodWithZeros: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.boolean()).map(([s, seed, all]) => ({
      inputs: [withZeros(s, seed, 0.4)],
      fn: (x: Tensor) => (all ? F.prod(x) : F.prod(x, dimOf(s, seed), true)),
    })),
  },
  scatterReduceProdWithZeros: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(scatterArb, fc.boolean()).map(([{ s, d, index, srcShape, seed }, includeSelf]) => ({
      inputs: [withZeros(s, seed, 0.4), withZeros(srcShape, seed + 1, 0.4)],
      fn: (x: Tensor, src: Tensor) => F.scatterReduce(x, d, index, src, "prod", { includeSelf }),
    })),
  },
  scatterValueAndReduce: {
    kind: "grad",
    gradgrad: true,
    arb: scatterArb.map(({ s, d, index, srcShape, seed }) => ({
      inputs: [t64(s, seed), t64(srcShape, seed + 1)],
      fn: (x: Tensor, src: Tensor) => F.scatter(x, d, index, 0.5).mul(2).add(F.scatter(x, d, index, src, "add")).add(F.scatter(x, d, index, src.mul(0.5), "multiply")),
    })),
  },
  cummaxCummin: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => {
        const d = s.length ? dimOf(s, seed) : 0;
        return F.cat([F.cummax(x, d).values.flatten(), F.cummin(x, d).values.mul(2).flatten()]);
      },
    })),
  },
  stdMeanVarMean: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb.filter((s) => s[s.length - 1]! > 1), seedArb, fc.boolean(), fc.boolean()).map(([s, seed, unbiased, keepdim]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => {
        const [v, m] = F.varMean(x, -1, { unbiased, keepdim });
        const [sd, m2] = F.stdMean(x, null, { correction: 0 });
        return F.cat([v.flatten(), m.square().flatten(), sd.reshape([1]), m2.reshape([1])]);
      },
    })),
  },
  diagonalDiag: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom<number[]>([3, 3], [2, 4], [4, 2], [2, 3, 4]), fc.integer({ min: -2, max: 2 }), seedArb).map(([s, k, seed]) => ({
      inputs: [t64(s, seed), t64([3], seed + 1)],
      fn: (x: Tensor, v: Tensor) => {
        const dg = s.length === 3 ? F.diagonal(x, k, -1, 0) : F.diag(x, k);
        return F.cat([dg.square().flatten(), F.diag(v, k).mul(ramp((3 + Math.abs(k)) ** 2).reshape([3 + Math.abs(k), -1])).flatten()]);
      },
    })),
  },
  padModes: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom<number[]>([4], [2, 5], [1, 3, 4]), fc.constantFrom<F.PadMode>("constant", "reflect", "replicate", "circular"), fc.array(fc.integer({ min: -2, max: 3 }), { minLength: 2, maxLength: 4 }), seedArb).map(([s, mode, raw, seed]) => {
      const pairs = Math.min(s.length, Math.floor(raw.length / 2));
      // Keep each pad legal for the mode: reflect < size, circular <= the cropped size.
      const pads = raw.slice(0, 2 * pairs).map((p, i) => {
        const size = s[s.length - 1 - Math.floor(i / 2)]!;
        return Math.max(-1, Math.min(p, mode === "reflect" ? size - 1 : mode === "circular" ? size - 2 : p));
      });
      // circular: cropping both sides of a dim of 2 leaves nothing to wrap (a ValueError, as torch)
      for (let i = 0; i + 1 < pads.length; i += 2) {
        if (mode === "circular" && s[s.length - 1 - i / 2]! + Math.min(pads[i]!, 0) + Math.min(pads[i + 1]!, 0) < 1) pads[i + 1] = 0;
      }
      return {
        inputs: [t64(s, seed)],
        fn: (x: Tensor) => {
          const y = F.pad(x, pads, mode, 0.25);
          return y.mul(ramp(y.numel).reshape(y.shape));
        },
      };
    }),
  },
  unfoldUnflatten: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom<number[]>([6], [2, 5], [3, 4, 2]), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), seedArb).map(([s, size, step, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => {
        const d = dimOf(s, seed);
        const u = F.unfold(x, d, Math.min(size, s[d]!), step);
        return F.cat([u.mul(ramp(u.numel).reshape(u.shape)).flatten(), F.unflatten(x, 0, [1, s[0]!, 1]).square().flatten()]);
      },
    })),
  },
  repeatInterleave: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.boolean()).map(([s, seed, asTensor]) => {
      const d = dimOf(s, seed);
      const reps = asTensor ? anyIndex([s[d]!], seed, 3) : (seed % 3) + 1;
      return {
        inputs: [t64(s, seed)],
        fn: (x: Tensor) => {
          const a = F.repeatInterleave(x, reps, d);
          const b = F.repeatInterleave(x, 2);
          return F.cat([a.mul(ramp(a.numel).reshape(a.shape)).flatten(), b.square()]);
        },
      };
    }),
  },
};
