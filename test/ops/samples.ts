/**
 * One gradcheck sample per op of the op table (and per composite op); the samples-<area>.ts files hold
 * the newer families and are joined here. The op-table test fails
 * when an op has no sample: adding an op means adding its entry here too.
 */
import fc from "fast-check";
import { Generator, Tensor, tensor, where } from "../../src/index.js";
import * as F from "../../src/ops/index.js";
import { conv2dInputGrad, conv2dWeightGrad } from "../../src/ops/conv.js";
import { binary, broadcastPairArb, int32, nonDiff, nonEmptyShapeArb, randomPerm, seedArb, shapeArb, t64, unary, type CustomSample, type GradSample, type Sample } from "./sample-kit.js";
import { mathCompositeSamples, mathOpSamples } from "./samples-math.js";
import { normOpSamples } from "./samples-norm.js";
import { spatialCompositeSamples, spatialOpSamples } from "./samples-spatial.js";
import { tensorCompositeSamples, tensorOpSamples } from "./samples-tensor.js";

export * from "./sample-kit.js";

/** A seeded bool mask of the given shape (about a third false), its last dim broadcast when seed & 32. */
function softmaxMask(shape: number[], seed: number): Tensor {
  const g = new Generator(seed + 7);
  const s = seed & 32 ? [...shape.slice(0, -1), 1] : shape;
  const data = new Uint8Array(s.reduce((a, b) => a * b, 1)).map(() => (g.random() < 0.35 ? 0 : 1));
  return tensor(data, { shape: s });
}

/** -Infinity (a masked log-softmax entry) as 0, so finite differences stay finite. */
const finite = (y: Tensor): Tensor => y.where(y.ne(-Infinity), 0);

/** Samples for the primitive ops of the op table, keyed by op name. */
const coreOpSamples: Record<string, Sample> = {
  neg: unary(F.neg),
  abs: unary(F.abs, { awayFrom0: 0.1 }),
  sign: unary(F.sign, { awayFrom0: 0.1 }),
  exp: unary(F.exp),
  log: unary(F.log, { lo: 0.3, hi: 3 }),
  log1p: unary(F.log1p, { lo: -0.6, hi: 3 }),
  expm1: unary(F.expm1),
  sqrt: unary(F.sqrt, { lo: 0.3, hi: 3 }),
  rsqrt: unary(F.rsqrt, { lo: 0.3, hi: 3 }),
  square: unary(F.square),
  sin: unary(F.sin),
  cos: unary(F.cos),
  tanh: unary(F.tanh),
  atan: unary(F.atan),
  acos: unary(F.acos, { lo: -0.9, hi: 0.9 }),
  asin: unary(F.asin, { lo: -0.9, hi: 0.9 }),
  sigmoid: unary(F.sigmoid),
  logSigmoid: unary(F.logSigmoid, { lo: -8, hi: 8 }),
  relu: unary(F.relu, { awayFrom0: 0.1 }),
  erf: unary(F.erf, { lo: -3.5, hi: 3.5 }),
  leakyRelu: unary((x) => F.leakyRelu(x, 0.2), { awayFrom0: 0.1 }),
  softplus: unary((x) => F.softplus(x, { beta: 2, threshold: 3 }), { lo: -3, hi: 3 }),
  clamp: unary((x) => F.clamp(x, -0.5, 0.7), { awayFrom0: 0 }),
  logicalNot: {
    kind: "custom",
    check: () => {
      const r = F.logicalNot(tensor([0, 1, -2, 0.5]));
      if (JSON.stringify(r.toArray()) !== JSON.stringify([true, false, false, false])) throw new Error(`logicalNot gave ${r.toArray()}`);
    },
  },
  add: binary(F.add),
  sub: binary(F.sub),
  mul: binary(F.mul),
  div: binary(F.div, {}, { awayFrom0: 0.5 }),
  pow: binary(F.pow, { lo: 0.3, hi: 2 }, { lo: -2, hi: 2 }),
  maximum: binary(F.maximum),
  minimum: binary(F.minimum),
  // y away from 0: atan2 jumps from π to -π across the negative x axis.
  atan2: binary(F.atan2, { awayFrom0: 0.3 }, {}),
  hypot: binary(F.hypot, { awayFrom0: 0.3 }, {}),
  eq: nonDiff(F.eq, (a, b) => (a === b ? 1 : 0)),
  ne: nonDiff(F.ne, (a, b) => (a !== b ? 1 : 0)),
  lt: nonDiff(F.lt, (a, b) => (a < b ? 1 : 0)),
  le: nonDiff(F.le, (a, b) => (a <= b ? 1 : 0)),
  gt: nonDiff(F.gt, (a, b) => (a > b ? 1 : 0)),
  ge: nonDiff(F.ge, (a, b) => (a >= b ? 1 : 0)),
  logicalAnd: nonDiff((a, b) => F.logicalAnd(a.gt(1), b.gt(0)), (a, b) => (a > 1 && b > 0 ? 1 : 0)),
  logicalOr: nonDiff((a, b) => F.logicalOr(a.gt(1), b.gt(0)), (a, b) => (a > 1 || b > 0 ? 1 : 0)),
  where: {
    kind: "grad",
    arb: fc.tuple(broadcastPairArb, shapeArb, seedArb).map(([[sa, sb], sc, seed]) => {
      const cShape = sc.slice(0, 0).concat(sa.map(() => 1)).slice(0, sa.length);
      const cond = t64(cShape.length ? sa : [], seed + 7).detach().gt(0);
      return { inputs: [t64(sa, seed), t64(sb, seed + 1)], fn: (a: Tensor, b: Tensor) => where(cond, a, b) };
    }),
  },
  cast: {
    kind: "custom",
    check: () => {
      const x = tensor([1.5, -2.25], { dtype: "float64", requiresGrad: true });
      const y = x.to("float32");
      if (y.dtype !== "float32") throw new Error("cast did not produce float32");
      y.mul(tensor([3, 4])).sum().backward();
      const g = x.grad!;
      if (g.dtype !== "float64" || g.at(0) !== 3 || g.at(1) !== 4) throw new Error(`cast gradient wrong: ${g}`);
      const i = x.detach().to("int32");
      if (i.requiresGrad || i.at(1) !== -2) throw new Error("cast to int32 wrong");
    },
  },
  contiguous: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => F.contiguous(x.ndim >= 2 ? x.transpose(0, -1) : x.expand([2, ...x.shape])),
    })),
  },
  reshape: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => (x.ndim >= 2 ? x.transpose(0, 1).reshape([-1]) : x.reshape([1, ...x.shape, 1])),
    })),
  },
  permute: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => x.permute(randomPerm(x.ndim, seed)).mul(t64(s.length ? randomPerm(s.length, seed).map((d) => s[d]!) : [], seed + 3).detach()),
    })),
  },
  expand: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => {
      const withOnes = s.map((v, i) => (i % 2 === 0 ? 1 : v));
      const target = [2, ...s.map((v, i) => (i % 2 === 0 ? 3 : v))];
      return { inputs: [t64(withOnes, seed)], fn: (x: Tensor) => x.expand(target).mul(t64(target, seed + 1).detach()) };
    }),
  },
  narrow: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => {
      const g = new Generator(seed);
      const d = g.randint(0, s.length);
      const start = g.randint(0, s[d]!);
      const len = g.randint(0, s[d]! - start + 1);
      return { inputs: [t64(s, seed)], fn: (x: Tensor) => x.narrow(d, start, len) };
    }),
  },
  pad: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.array(fc.nat(2), { minLength: 2, maxLength: 4 })).map(([s, seed, pads]) => {
      const p = pads.slice(0, 2 * Math.min(s.length, Math.floor(pads.length / 2)));
      return { inputs: [t64(s, seed)], fn: (x: Tensor) => F.pad(x, p, 0.5).mul(2) };
    }),
  },
  cat: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.integer({ min: 2, max: 3 })).map(([s, seed, k]) => {
      const d = seed % s.length;
      const inputs = Array.from({ length: k }, (_, i) => t64(s.map((v, j) => (j === d ? ((v + i) % 3) : v)), seed + i));
      return { inputs, fn: (...xs: Tensor[]) => F.cat(xs, d) };
    }),
  },
  sum: {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb, fc.boolean()).map(([s, seed, keep]) => {
      const dims = s.map((_, i) => i).filter((i) => (seed >> i) & 1);
      return { inputs: [t64(s, seed)], fn: (x: Tensor) => F.sum(x, dims.length ? dims : undefined, keep) };
    }),
  },
  softmax: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed, { lo: -4, hi: 4 })], fn: (x: Tensor) => F.softmax(x, seed % s.length) })),
  },
  logSoftmax: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed, { lo: -4, hi: 4 })], fn: (x: Tensor) => F.logSoftmax(x, -1 - (seed % s.length)) })),
  },
  // masked softmax for attention (ops/softmax.ts): a random bool mask (some rows fully masked), causal or not, log or not
  maskedSoftmax: {
    kind: "grad",
    arb: fc.tuple(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 }), seedArb).map(([s, seed]) => {
      const mask = softmaxMask(s, seed);
      const o = { mask: seed & 4 ? null : mask, causal: !!(seed & 8) || !!(seed & 4) };
      return { inputs: [t64(s, seed, { lo: -4, hi: 4 })], fn: (x: Tensor) => (seed & 16 ? finite(F.logSoftmax(x, -1, o)) : F.softmax(x, -1, o)) };
    }),
  },
  // the fused softmax gradient, in g and (through the softmax) in x
  softmaxBackward: {
    kind: "grad",
    arb: fc.tuple(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), seedArb).map(([s, seed]) => {
      const masked = s.length >= 2 && !!(seed & 2);
      const o = masked ? { mask: softmaxMask(s, seed), causal: !!(seed & 8) } : {};
      const log = !!(seed & 16);
      const dim = masked ? s.length - 1 : seed % s.length;
      const f = log ? F.logSoftmax : F.softmax;
      return { inputs: [t64(s, seed, { lo: -4, hi: 4 }), t64(s, seed + 1)], fn: (x: Tensor, g: Tensor) => F.softmaxBackward(g, f(x, dim, o), dim, { ...o, log }) };
    }),
  },
  amax: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.boolean()).map(([s, seed, keep]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => F.amax(x, -1, keep),
    })),
  },
  amin: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.boolean()).map(([s, seed, keep]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => F.amin(x, s.length > 1 ? [0, s.length - 1] : [0], keep),
    })),
  },
  argmax: {
    kind: "custom",
    check: () => {
      const x = tensor([[1, 5, 5], [7, 2, 7]], { requiresGrad: true });
      const r = F.argmax(x, 1);
      if (r.requiresGrad || r.dtype !== "int32" || JSON.stringify(r.toArray()) !== "[1,0]") throw new Error(`argmax gave ${r}`);
    },
  },
  argmin: {
    kind: "custom",
    check: () => {
      const r = F.argmin(tensor([[1, 0, 0], [7, 2, 7]]), 1, true);
      if (JSON.stringify(r.toArray()) !== "[[1],[1]]") throw new Error(`argmin gave ${r}`);
    },
  },
  norm: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb, fc.constantFrom(1, 2, 3, Infinity), fc.boolean()).map(([s, seed, p, keep]) => ({
      inputs: [t64(s, seed, { awayFrom0: 0.1 })],
      fn: (x: Tensor) => F.norm(x, p, -1, keep),
    })),
  },
  var: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb.filter((s) => s[s.length - 1]! > 1), seedArb, fc.constantFrom(0, 1), fc.boolean()).map(([s, seed, c, keepdim]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => F.variance(x, -1, { correction: c, keepdim }),
    })),
  },
  std: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb.filter((s) => s[0]! > 1), seedArb, fc.boolean()).map(([s, seed, keepdim]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.std(x, 0, { keepdim }) })),
  },
  logsumexp: unary((x) => (x.ndim ? F.logsumexp(x, -1) : F.logsumexp(x, null))),
  matmul: {
    kind: "grad",
    arb: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom<number[][]>([[], []], [[2], []], [[], [2]], [[2, 1], [3]], [[1], [2]]), seedArb)
      .map(([m, k, n, [ba, bb], seed]) => ({
        inputs: [t64([...ba!, m, k], seed), t64([...bb!, k, n], seed + 1)],
        fn: F.matmul,
      })),
  },
  conv2d: {
    kind: "grad",
    gradgrad: true,
    arb: convArb().map(({ x, w, opts }) => ({ inputs: [x, w], fn: (a: Tensor, b: Tensor) => F.conv2d(a, b, null, opts) })),
  },
  conv2dInputGrad: {
    kind: "grad",
    arb: convArb().map(({ x, w, opts, seed }) => {
      const y = F.conv2d(x.detach(), w.detach(), null, opts);
      const p = { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups };
      return { inputs: [t64([...y.shape], seed + 5), w], fn: (gy: Tensor, ww: Tensor) => conv2dInputGrad(gy, ww, x.shape, p) };
    }),
  },
  conv2dWeightGrad: {
    kind: "grad",
    arb: convArb().map(({ x, w, opts, seed }) => {
      const y = F.conv2d(x.detach(), w.detach(), null, opts);
      const p = { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups };
      return { inputs: [x, t64([...y.shape], seed + 5)], fn: (xx: Tensor, gy: Tensor) => conv2dWeightGrad(xx, gy, w.shape, p) };
    }),
  },
  maxPool2dIndices: {
    kind: "custom",
    check: () => {
      const x = tensor([[[[1, 3, 2, 0], [4, 2, 9, 9], [0, 0, 1, 1], [0, 5, 1, 1]]]], { requiresGrad: true });
      const { values, indices } = F.maxPool2dWithIndices(x, 2);
      if (JSON.stringify(indices.toArray()) !== "[[[[4,6],[13,10]]]]") throw new Error(`indices ${indices}`);
      if (JSON.stringify(values.toArray()) !== "[[[[4,9],[5,1]]]]") throw new Error(`values ${values}`);
      if (indices.requiresGrad) throw new Error("indices require grad");
    },
  },
  gather: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => {
      const d = seed % s.length;
      const idxShape = s.map((v, i) => (i === d ? 4 : Math.max(1, v - (seed % 2))));
      return { inputs: [t64(s, seed)], fn: (x: Tensor) => F.gather(x, d, int32(idxShape, seed, s[d]!)) };
    }),
  },
  scatterAdd: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => {
      const d = seed % s.length;
      const idxShape = s.map((v, i) => (i === d ? 3 : v));
      const index = int32(idxShape, seed, s[d]!);
      return { inputs: [t64(s, seed), t64(idxShape, seed + 1)], fn: (b: Tensor, src: Tensor) => F.scatterAdd(b, d, index, src) };
    }),
  },
  // Tensor idioms (issue 16): the primitives.
  cumsum: {
    kind: "grad",
    arb: fc.tuple(shapeArb, fc.constantFrom(0, -1), seedArb).map(([s, d, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.cumsum(x, d) })),
  },
  cumprod: {
    kind: "grad",
    arb: fc.tuple(shapeArb, fc.constantFrom(0, -1), seedArb).map(([s, d, seed]) => ({ inputs: [t64(s, seed, { awayFrom0: 0.2 })], fn: (x: Tensor) => F.cumprod(x, d) })),
  },
  slice: {
    kind: "grad",
    arb: fc
      .tuple(fc.constantFrom<number[]>([7], [2, 7], [3, 7, 2]), fc.integer({ min: -7, max: 6 }), fc.option(fc.integer({ min: -8, max: 8 })), fc.integer({ min: 2, max: 4 }), seedArb)
      .map(([s, start, end, step, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.slice(x, s.length > 2 ? 1 : -1, start, end ?? undefined, step) })),
  },
};

function convArb() {
  return fc
    .tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), seedArb)
    .map(([n, cg, og, groups, stride, padding, dilation, k, seed]) => {
      const H = 5;
      const W = 4;
      const x = t64([n, cg * groups, H, W], seed);
      const w = t64([og * groups, cg, k, Math.max(1, k - 1)], seed + 1);
      const opts = { stride: [stride, 1] as [number, number], padding: [padding, padding] as [number, number], dilation: [dilation, 1] as [number, number], groups };
      return { x, w, opts, seed };
    });
}

/** Composite ops: functions built from primitives, gradchecked the same way. */
const coreCompositeSamples: Record<string, GradSample> = {
  mean: unary((x) => F.mean(x, -1 >= 0 ? undefined : undefined)),
  meanDims: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.mean(x, 0, true) })),
  },
  gelu: unary((x) => F.gelu(x)),
  geluTanh: unary((x) => F.gelu(x, { approximate: "tanh" })),
  maxDim: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.max(x, -1).values })),
  },
  minDim: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.min(x, 0, true).values })),
  },
  indexSelect: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.indexSelect(x, -1, int32([5], seed, s[s.length - 1]!)) })),
  },
  stack: binaryStack(),
  splitChunk: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => {
        const parts = F.split(x, 2, 0);
        const chunks = F.chunk(x, 2, -1);
        return F.cat([...parts.map((p) => p.mul(2)), ...chunks.map((c) => c.mul(3))].map((t) => t.reshape([-1])), 0);
      },
    })),
  },
  selectSqueeze: {
    kind: "grad",
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({ inputs: [t64(s, seed)], fn: (x: Tensor) => F.unsqueeze(F.select(x, 0, -1), 0).squeeze().flatten() })),
  },
  matmulVector: {
    kind: "grad",
    arb: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), seedArb).map(([k, n, seed]) => ({
      inputs: [t64([k], seed), t64([k, n], seed + 1), t64([k], seed + 2)],
      fn: (v: Tensor, m: Tensor, u: Tensor) => F.matmul(v, m).sum().add(F.matmul(v, u)).add(F.matmul(m.transpose(0, 1), v).sum()),
    })),
  },
  conv2dBias: {
    kind: "grad",
    arb: convArb().map(({ x, w, opts, seed }) => ({
      inputs: [x, w, t64([w.shape[0]!], seed + 9)],
      fn: (a: Tensor, b: Tensor, c: Tensor) => F.conv2d(a, b, c, opts),
    })),
  },
  maxPool2d: {
    kind: "grad",
    arb: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1 }), seedArb).map(([k, pad, seed]) => ({
      inputs: [t64([2, 2, 5, 4], seed)],
      fn: (x: Tensor) => F.maxPool2d(x, [k + 1, k], { stride: [1, 2], padding: [Math.min(pad, Math.floor((k + 1) / 2)), Math.min(pad, Math.floor(k / 2))] }),
    })),
  },
  cdist: {
    kind: "grad",
    gradgrad: true,
    arb: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom<number[][]>([[], []], [[2], []], [[2, 1], [3]]), fc.constantFrom(1, 2, 3, Infinity), seedArb)
      .map(([P, R, M, [ba, bb], p, seed]) => ({
        // NOTE: p = 1 and Infinity have kinks where coordinates tie; random points almost never do.
        inputs: [t64([...ba!, P, M], seed), t64([...bb!, R, M], seed + 1)],
        fn: (a: Tensor, b: Tensor) => F.cdist(a, b, p),
      })),
  },
  maxPool1d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 2 }), fc.boolean(), seedArb).map(([k, s, pad, d, batched, seed]) => ({
      inputs: [t64(batched ? [2, 2, 7] : [3, 7], seed)],
      fn: (x: Tensor) => F.maxPool1d(x, k, { stride: s, padding: Math.min(pad, Math.floor(k / 2)), dilation: d }),
    })),
  },
  avgPool1d: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.boolean(), fc.boolean(), seedArb).map(([k, s, includePad, batched, seed]) => ({
      inputs: [t64(batched ? [2, 2, 6] : [3, 6], seed)],
      fn: (x: Tensor) => F.avgPool1d(x, [k], { stride: s, padding: Math.floor(k / 2), countIncludePad: includePad }),
    })),
  },
  avgPool2d: {
    kind: "grad",
    arb: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean(), seedArb).map(([k, includePad, seed]) => ({
      inputs: [t64([1, 2, 5, 4], seed)],
      fn: (x: Tensor) => F.avgPool2d(x, k, { padding: Math.floor(k / 2), countIncludePad: includePad }),
    })),
  },
  // Tensor idioms (issue 16): the composites.
  cumprodWithZeros: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, fc.constantFrom(0, -1), seedArb).map(([s, d, seed]) => ({ inputs: [withZeros(s, seed)], fn: (x: Tensor) => F.cumprod(x, d) })),
  },
  triuTril: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.constantFrom<number[]>([3, 3], [2, 4], [2, 4, 3]), fc.integer({ min: -2, max: 2 }), seedArb).map(([s, k, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => F.triu(x, k).add(F.tril(x, -k).mul(2)),
    })),
  },
  maskedFill: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => {
      const mask = t64([s[s.length - 1]!], seed + 5).detach().gt(0);
      return { inputs: [t64(s, seed)], fn: (x: Tensor) => F.maskedFill(x, mask, 5).mul(x) };
    }),
  },
  maskedSelect: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => {
      const mask = t64(s, seed + 5).detach().gt(0);
      return { inputs: [t64(s, seed)], fn: (x: Tensor) => F.maskedSelect(x, mask).square() };
    }),
  },
  sortTopk: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, fc.boolean(), seedArb).map(([s, desc, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => {
        const n = s[s.length - 1]!;
        const sorted = F.sort(x, -1, desc).values.mul(ramp(n));
        const top = F.topk(x, Math.min(2, n), -1, { largest: !desc }).values;
        return F.cat([sorted.flatten(), top.square().flatten()]);
      },
    })),
  },
  flipRollRepeatTile: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(nonEmptyShapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed)],
      fn: (x: Tensor) => {
        const w = ramp(x.numel * 2);
        const parts = [F.flip(x, s.length > 1 ? [0, -1] : [0]), F.roll(x, 1, 0), F.roll(x, -4), F.repeat(x, [2, ...s.map(() => 1)]).mul(w.reshape([2, ...s])), F.tile(x, [3])];
        return F.cat(parts.map((p) => p.flatten()));
      },
    })),
  },
  bmmBaddbmm: {
    kind: "grad",
    gradgrad: true,
    arb: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), seedArb).map(([B, N, M, P, seed]) => ({
      inputs: [t64([1, N, P], seed), t64([B, N, M], seed + 1), t64([B, M, P], seed + 2)],
      fn: (c: Tensor, a: Tensor, b: Tensor) => F.baddbmm(c, a, b, { beta: 0.5, alpha: 2 }).add(F.bmm(a, b).square()),
    })),
  },
  einsum: {
    kind: "grad",
    gradgrad: true,
    arb: fc
      .tuple(
        fc.constantFrom<[string, number[], number[]]>(
          ["bij,bjk->bik", [2, 3, 4], [2, 4, 2]],
          ["ij,jk->ik", [3, 2], [2, 4]],
          ["bhqd,bhkd->bhqk", [2, 2, 3, 4], [2, 2, 2, 4]],
          ["i,i->", [5], [5]],
          ["i,j->ij", [3], [4]],
          ["ij,kj", [2, 3], [4, 3]],
          ["bij,jk->kbi", [2, 3, 4], [4, 2]],
          ["ijk,k->j", [2, 3, 4], [4]],
        ),
        seedArb,
      )
      .map(([[eq, sa, sb], seed]) => ({ inputs: [t64(sa, seed), t64(sb, seed + 1)], fn: (a: Tensor, b: Tensor) => F.einsum(eq, a, b).mul(F.einsum(eq, a, b)) })),
  },
};

function binaryStack(): GradSample {
  return {
    kind: "grad",
    arb: fc.tuple(shapeArb, seedArb).map(([s, seed]) => ({
      inputs: [t64(s, seed), t64(s, seed + 1)],
      fn: (a: Tensor, b: Tensor) => F.stack([a, b], -1),
    })),
  };
}


/** A float64 tensor (requiring grad) with about a third of its entries exactly 0. */
function withZeros(shape: number[], seed: number): Tensor {
  const x = t64(shape, seed);
  const g = new Generator(seed + 11);
  const data = x.toTypedArray();
  for (let i = 0; i < data.length; i++) if (g.random() < 0.35) data[i] = 0;
  return tensor(data, { shape, requiresGrad: true });
}

/** [1, 2, ..., n] as float64 (a weight that tells positions apart). */
function ramp(n: number): Tensor {
  return tensor(Float64Array.from({ length: n }, (_, i) => i + 1));
}
/** Join sample maps; a name given twice is a mistake (one would silently hide the other). */
function join<S>(...maps: Record<string, S>[]): Record<string, S> {
  const out: Record<string, S> = {};
  for (const m of maps)
    for (const [k, v] of Object.entries(m)) {
      if (k in out) throw new Error(`sample "${k}" is defined twice`);
      out[k] = v;
    }
  return out;
}

/** Samples for the primitive ops of the op table, keyed by op name. */
export const opSamples: Record<string, Sample> = join(coreOpSamples, mathOpSamples, tensorOpSamples, spatialOpSamples, normOpSamples);
/** Samples for composite ops (public functions built from op-table entries), keyed by a name. */
export const compositeSamples: Record<string, GradSample> = join(coreCompositeSamples, mathCompositeSamples, tensorCompositeSamples, spatialCompositeSamples);
