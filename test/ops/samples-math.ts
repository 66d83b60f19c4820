/**
 * Gradcheck samples for elementwise math, activations, predicates and bitwise ops (issue 20); joined into the op-table samples by samples.ts.
 */
import fc from "fast-check";
import { Tensor, tensor } from "../../src/index.js";
import * as F from "../../src/ops/index.js";
import { binary, broadcastPairArb, nonEmptyShapeArb, seedArb, shapeArb, t64, unary, type CustomSample, type GradSample, type Sample } from "./sample-kit.js";

/** A non-differentiable op checked against a scalar reference on int32 and bool operands (all pairs of a few values). */
function bitwiseSample(op: (a: Tensor, b: Tensor) => Tensor, expected: (a: number, b: number) => number): CustomSample {
  return {
    kind: "custom",
    check: () => {
      const iv = [0, 1, 5, -1, -6, 2147483647, -2147483648];
      const a = tensor(iv, { dtype: "int32" });
      const b = tensor(iv.map((v) => [v]), { dtype: "int32" });
      const r = op(a, b);
      if (r.dtype !== "int32" || r.requiresGrad) throw new Error(`int32 result: dtype ${r.dtype}, requiresGrad ${r.requiresGrad}`);
      const got = r.toTypedArray();
      for (let i = 0; i < iv.length; i++)
        for (let j = 0; j < iv.length; j++) {
          const want = expected(iv[j]!, iv[i]!);
          if (got[i * iv.length + j] !== want) throw new Error(`int32 (${iv[j]}, ${iv[i]}): got ${got[i * iv.length + j]}, want ${want}`);
        }
      const bl = op(tensor([true, true, false, false]), tensor([true, false, true, false]));
      const want = [expected(1, 1), expected(1, 0), expected(0, 1), expected(0, 0)].map((v) => v !== 0);
      if (bl.dtype !== "bool" || JSON.stringify(bl.toArray()) !== JSON.stringify(want)) throw new Error(`bool: got ${bl.dtype} ${JSON.stringify(bl.toArray())}`);
      let threw = false;
      try {
        op(tensor([1.5]), tensor([1]));
      } catch (e) {
        threw = (e as { code?: string }).code === "DTYPE";
      }
      if (!threw) throw new Error("a float operand did not throw a DTypeError");
    },
  };
}

/** Samples for primitive ops, keyed by op name. */
export const mathOpSamples: Record<string, Sample> = {
  // Issue 18: the fused GELU (both forms, by the seed) and its backward g gelu'(x) (x and g of one shape).
  gelu: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed, { lo: -3, hi: 3 })], fn: (x: Tensor) => F.gelu(x, { approximate: seed % 2 ? "tanh" : "none" }) })),
  },
  geluBackward: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed, { lo: -3, hi: 3 }), t64(s, seed + 1)],
      fn: (x: Tensor, g: Tensor) => F.geluBackward(x, g, { approximate: seed % 2 ? "tanh" : "none" }),
    })),
  },
  tan: unary(F.tan, { lo: -1.2, hi: 1.2 }),
  sinh: unary(F.sinh),
  cosh: unary(F.cosh),
  asinh: unary(F.asinh, { lo: -3, hi: 3 }),
  acosh: unary(F.acosh, { lo: 1.2, hi: 3 }),
  atanh: unary(F.atanh, { lo: -0.8, hi: 0.8 }),
  log2: unary(F.log2, { lo: 0.3, hi: 3 }),
  log10: unary(F.log10, { lo: 0.3, hi: 3 }),
  exp2: unary(F.exp2),
  // Zero gradients; the inputs stay between the jumps (floor, ceil, trunc at integers, round at halves).
  floor: unary(F.floor, { lo: 0.1, hi: 0.9 }),
  ceil: unary(F.ceil, { lo: 0.1, hi: 0.9 }),
  round: unary(F.round, { lo: 0.6, hi: 1.4 }),
  trunc: unary(F.trunc, { lo: 0.1, hi: 0.9 }),
  elu: unary((x) => F.elu(x, 1.5), { awayFrom0: 0.1 }),
  hardtanh: unary((x) => F.hardtanh(x, -0.5, 0.7)),
  hardsigmoid: unary(F.hardsigmoid, { lo: -4, hi: 4 }),
  hardswish: unary(F.hardswish, { lo: -4, hi: 4 }),
  // b away from 0: the result's sign flips there.
  copysign: binary(F.copysign, { awayFrom0: 0.1 }, { awayFrom0: 0.1 }),
  divTrunc: binary((a, b) => F.div(a, b, { roundingMode: "trunc" }), {}, { awayFrom0: 0.5 }),
  divFloor: binary((a, b) => F.div(a, b, { roundingMode: "floor" }), {}, { awayFrom0: 0.5 }),
  remainder: binary(F.remainder, {}, { awayFrom0: 0.5 }),
  fmod: binary(F.fmod, {}, { awayFrom0: 0.5 }),
  logaddexp: binary(F.logaddexp, { lo: -4, hi: 4 }, { lo: -4, hi: 4 }),
  bitwiseAnd: bitwiseSample(F.bitwiseAnd, (a, b) => a & b),
  bitwiseOr: bitwiseSample(F.bitwiseOr, (a, b) => a | b),
  bitwiseXor: bitwiseSample(F.bitwiseXor, (a, b) => a ^ b),
  bitwiseNot: {
    kind: "custom",
    check: () => {
      const r = F.bitwiseNot(tensor([0, 5, -1, 2147483647, -2147483648], { dtype: "int32" }));
      if (r.dtype !== "int32" || JSON.stringify(r.toArray()) !== JSON.stringify([-1, -6, 0, -2147483648, 2147483647])) throw new Error(`int32: ${r.dtype} ${r.toArray()}`);
      const b = F.bitwiseNot(tensor([true, false]));
      if (b.dtype !== "bool" || JSON.stringify(b.toArray()) !== "[false,true]") throw new Error(`bool: ${b.dtype} ${b.toArray()}`);
      let code = "";
      try {
        F.bitwiseNot(tensor([1.5]));
      } catch (e) {
        code = (e as { code?: string }).code ?? "";
      }
      if (code !== "DTYPE") throw new Error("a float input did not throw a DTypeError");
    },
  },
};

/** Samples for composite ops, keyed by a name. */
export const mathCompositeSamples: Record<string, GradSample> = {
  celu: { ...unary((x) => F.celu(x, 0.7), { awayFrom0: 0.1 }), gradgrad: true },
  selu: { ...unary(F.selu, { awayFrom0: 0.1 }), gradgrad: true },
  relu6: { ...unary(F.relu6, { lo: -1, hi: 7, awayFrom0: 0.1 }), gradgrad: true },
  mish: { ...unary(F.mish, { lo: -5, hi: 5 }), gradgrad: true },
  softsign: { ...unary(F.softsign, { awayFrom0: 0.1 }), gradgrad: true },
  softmin: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed, { lo: -4, hi: 4 })], fn: (x: Tensor) => F.softmin(x, seed % s.length) })),
  },
  lerpLowWeight: { ...binary((a, b) => F.lerp(a, b, 0.3)), gradgrad: true },
  lerpHighWeight: { ...binary((a, b) => F.lerp(a, b, 0.8)), gradgrad: true },
  lerpTensorWeight: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(broadcastPairArb, seedArb).map(([[sa, sb], seed]) => ({
      inputs: [t64(sa, seed), t64(sb, seed + 1), t64(sb, seed + 2, { lo: -1, hi: 2 })],
      fn: (a: Tensor, b: Tensor, w: Tensor) => F.lerp(a, b, w),
    })),
  },
  floorDivide: { ...binary(F.floorDivide, {}, { awayFrom0: 0.5 }), gradgrad: false },
};
