/**
 * The building blocks of the gradcheck samples (test/ops/samples*.ts): seeded float64 inputs,
 * shape arbitraries and the unary/binary/non-differentiable sample makers.
 */
import fc from "fast-check";
import { Generator, Tensor, tensor } from "../../src/index.js";

export interface Domain {
  lo?: number;
  hi?: number;
  /** Keep |x| >= this (away from kinks at 0). */
  awayFrom0?: number;
}

/** A float64 tensor that requires grad, with values from a seeded generator. */
export function t64(shape: number[], seed: number, d: Domain = {}): Tensor {
  const g = new Generator(seed);
  const lo = d.lo ?? -2;
  const hi = d.hi ?? 2;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = lo + (hi - lo) * g.random();
    if (d.awayFrom0 && Math.abs(v) < d.awayFrom0) v = v < 0 ? v - d.awayFrom0 : v + d.awayFrom0;
    data[i] = v;
  }
  return tensor(data, { shape, requiresGrad: true });
}

export function int32(shape: number[], seed: number, high: number): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = g.randint(0, high);
  return tensor(data, { shape });
}

export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
/** Shapes of up to 3 dims, sizes 0..3 (size 0 rarely). */
export const shapeArb = fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constant(0) }), { minLength: 0, maxLength: 3 });
export const nonEmptyShapeArb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 });

/** Two shapes that broadcast together: drop leading dims and set random dims to 1. */
export const broadcastPairArb = fc
  .tuple(shapeArb, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.nat(3))
  .map(([out, onesA, onesB, drop]) => {
    const a = out.map((s, i) => (onesA[i] ? 1 : s));
    const b = out.map((s, i) => (onesB[i] ? 1 : s)).slice(Math.min(drop, out.length));
    return [a, b] as [number[], number[]];
  });

export interface GradSample {
  kind: "grad";
  /** Random inputs (some require grad) plus the function of them to check. */
  arb: fc.Arbitrary<{ inputs: Tensor[]; fn: (...xs: Tensor[]) => Tensor }>;
  /** Also check gradients of gradients (op samples: default true; composite samples: only when true). */
  gradgrad?: boolean;
}
export interface CustomSample {
  kind: "custom";
  /** The op is not differentiable (or cannot be gradchecked in float64): check it by hand. */
  check: () => void;
}
export type Sample = GradSample | CustomSample;

export const unary = (fn: (x: Tensor) => Tensor, d: Domain = {}, gradgrad = true): GradSample => ({
  kind: "grad",
  gradgrad,
  arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed, d)], fn })),
});

export const binary = (fn: (a: Tensor, b: Tensor) => Tensor, da: Domain = {}, db: Domain = {}): GradSample => ({
  kind: "grad",
  arb: fc.tuple(broadcastPairArb, seedArb, fc.boolean()).map(([[sa, sb], seed, swap]) => {
    const [x, y] = swap ? [sb, sa] : [sa, sb];
    return { inputs: [t64(x, seed, da), t64(y, seed + 1, db)], fn };
  }),
});

export function nonDiff(op: (a: Tensor, b: Tensor) => Tensor, expected: (a: number, b: number) => number): CustomSample {
  return {
    kind: "custom",
    check: () => {
      const a = tensor([1, 2, 3, NaN, -0], { dtype: "float64", requiresGrad: true });
      const b = tensor([[2], [-0.0]], { dtype: "float64" });
      const r = op(a, b);
      if (r.requiresGrad) throw new Error("a non-differentiable op produced a tensor that requires grad");
      const got = r.toTypedArray();
      const av = a.toTypedArray();
      const bv = b.toTypedArray();
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 5; j++) {
          const want = expected(av[j]!, bv[i]!);
          if (got[i * 5 + j] !== want) throw new Error(`element [${i}, ${j}]: got ${got[i * 5 + j]}, want ${want}`);
        }
    },
  };
}

export function randomPerm(n: number, seed: number): number[] {
  return new Generator(seed).shuffle(Array.from({ length: n }, (_, i) => i));
}
