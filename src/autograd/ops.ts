/**
 * THE OP TABLE. Each primitive op is one entry: its forward (through the kernel backend) and its
 * VJP, side by side. Composite ops (softmax, mean, var, gelu, ...) live in functional.ts and get
 * their gradients from these entries.
 *
 * Conventions:
 * - A VJP returns gradients in the output's (broadcast) shape; the engine sums them back to each
 *   input's shape once (principle: unbroadcast in the engine only).
 * - VJPs use differentiable tensor ops, so `createGraph` gives gradients of gradients for free.
 * - Subgradients at kinks (written down and tested): relu'(0) = 0, |x|'(0) = 0, sign' = 0,
 *   clamp passes the gradient where min <= x <= max (inclusive, as PyTorch), maximum/minimum
 *   split the gradient evenly on ties (as PyTorch), amax/amin split it evenly among tied maxima
 *   (as torch.amax), max(dim)/min(dim) send it to the returned index (as torch.max(dim)),
 *   norm(p=2)'(0) = 0 and norm(inf) splits evenly among ties (as torch.linalg.vector_norm).
 */
import { getBackend } from "../kernels/registry.js";
import { convOutShape } from "../kernels/reference.js";
import type { Conv2dParams, Pool2dParams, UnaryOp, UnaryParams } from "../kernels/backend.js";
import { allocArray, type DType } from "../tensor/dtype.js";
import { broadcastShapes, numel, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { OpDef, Vjp } from "./node.js";
import { expandView, fullLike, viewStrides, zerosLike } from "./view-helpers.js";
import * as F from "./functional.js";

function unaryOp(op: UnaryOp, vjp: Vjp<UnaryParams>): OpDef<UnaryParams> {
  return {
    forward: ([x], p) => new Tensor(getBackend().unary(op, x!, p), x!.shape),
    vjp,
  };
}

function softmaxOp(log: boolean, vjp: Vjp<DimAttrs>): OpDef<DimAttrs> {
  return {
    forward: ([x], a) => new Tensor(getBackend().softmax(x!, a.dim, log), x!.shape),
    vjp,
  };
}

function keepShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((s, d) => (dims.includes(d) ? 1 : s));
}

/** The shape after reducing over dims: size 1 there with keepdim, else without them. */
function reducedShape(shape: Shape, dims: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keepShape(shape, dims) : shape.filter((_, d) => !dims.includes(d));
}

function reduceForward(op: "sum" | "max" | "min") {
  return ([x]: readonly Tensor[], a: ReduceAttrs): Tensor => new Tensor(getBackend().reduce(op, x!, a.dims), reducedShape(x!.shape, a.dims, a.keepdim));
}

function argReduceOp(op: "argmax" | "argmin"): OpDef<ArgAttrs> {
  return {
    forward: ([x], a) => new Tensor(getBackend().argReduce(op, x!, a.dim), reducedShape(x!.shape, [a.dim], a.keepdim)),
    vjp: "nonDifferentiable",
  };
}

/** Gradient of amax/amin: split evenly among the tied extremes. */
const extremeVjp: Vjp<ReduceAttrs> = ({ g, inputs: [x], out, attrs }) => {
  const ks = keepShape(x!.shape, attrs.dims);
  const mask = x!.eq(out.reshape(ks)).to(x!.dtype);
  const count = mask.sum(attrs.dims, true);
  return [g.reshape(ks).div(count).mul(mask)];
};

export interface ReduceAttrs {
  dims: number[];
  keepdim: boolean;
}
export interface DimAttrs {
  dim: number;
}
export interface ArgAttrs extends DimAttrs {
  keepdim: boolean;
}
export interface NormAttrs extends ReduceAttrs {
  p: number;
}
export interface ConvGradAttrs {
  p: Conv2dParams;
  shape: Shape;
}

const compare = (op: "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr"): OpDef<null> => ({
  broadcast: true,
  forward: ([a, b]) => new Tensor(getBackend().binary(op, a!, b!, "bool"), a!.shape),
  vjp: "nonDifferentiable",
});

function binaryOp(op: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum", vjp: Vjp<null>): OpDef<null> {
  return {
    broadcast: true,
    forward: ([a, b]) => new Tensor(getBackend().binary(op, a!, b!, a!.dtype), a!.shape),
    vjp,
  };
}

/** Gradient of maximum (loses = "lt") and minimum (loses = "gt"): to the winning input, split evenly on ties (as PyTorch). */
function extremumVjp(loses: "lt" | "gt"): Vjp<null> {
  return ({ g, inputs: [a, b] }) => {
    const half = F.where(a!.eq(b!), g.mul(0.5), g);
    return [F.where(a![loses](b!), 0, half), F.where(b![loses](a!), 0, half)];
  };
}

/** NOTE: a zero denominator would give 0 * inf = NaN in a gradient of a gradient; keep it at 1 where masked. */
/** True when the last two dims of t are stored column by column (a transposed matrix). */
function colMajor(t: Tensor): boolean {
  const n = t.ndim;
  return t.strides[n - 2] === 1 && t.shape[n - 2]! > 1 && t.shape[n - 1]! > 1;
}

function safeDenominator(d: Tensor): Tensor {
  return F.where(d.eq(0), 1, d);
}

export const ops = {
  // ------------------------------------------------------------------ unary
  neg: unaryOp("neg", ({ g }) => [g.neg()]),
  abs: unaryOp("abs", ({ g, inputs: [x] }) => [g.mul(x!.sign())]),
  sign: unaryOp("sign", ({ g }) => [zerosLike(g)]),
  exp: unaryOp("exp", ({ g, out }) => [g.mul(out)]),
  log: unaryOp("log", ({ g, inputs: [x] }) => [g.div(x!)]),
  log1p: unaryOp("log1p", ({ g, inputs: [x] }) => [g.div(x!.add(1))]),
  expm1: unaryOp("expm1", ({ g, out }) => [g.mul(out.add(1))]),
  sqrt: unaryOp("sqrt", ({ g, out }) => [g.div(out.mul(2))]),
  rsqrt: unaryOp("rsqrt", ({ g, out }) => [g.mul(out.pow(3)).mul(-0.5)]),
  square: unaryOp("square", ({ g, inputs: [x] }) => [g.mul(x!).mul(2)]),
  sin: unaryOp("sin", ({ g, inputs: [x] }) => [g.mul(x!.cos())]),
  cos: unaryOp("cos", ({ g, inputs: [x] }) => [g.mul(x!.sin()).neg()]),
  tanh: unaryOp("tanh", ({ g, out }) => [g.mul(out.square().neg().add(1))]),
  sigmoid: unaryOp("sigmoid", ({ g, out }) => [g.mul(out).mul(out.neg().add(1))]),
  // NOTE: relu'(0) = 0 (the mask is x > 0), as PyTorch.
  relu: unaryOp("relu", ({ g, inputs: [x] }) => [g.mul(x!.gt(0).to(g.dtype))]),
  erf: unaryOp("erf", ({ g, inputs: [x] }) => [g.mul(x!.square().neg().exp().mul(2 / Math.sqrt(Math.PI)))]),
  leakyRelu: unaryOp("leakyRelu", ({ g, inputs: [x], attrs }) => [F.where(x!.gt(0), g, g.mul(attrs.alpha ?? 0.01))]),
  softplus: unaryOp("softplus", ({ g, inputs: [x], attrs }) => {
    const bx = x!.mul(attrs.beta ?? 1);
    return [F.where(bx.gt(attrs.threshold ?? 20), g, g.mul(bx.sigmoid()))];
  }),
  clamp: unaryOp("clamp", ({ g, inputs: [x], attrs }) => {
    const inside = x!.ge(attrs.min ?? -Infinity).logicalAnd(x!.le(attrs.max ?? Infinity));
    return [F.where(inside, g, 0)];
  }),
  logicalNot: { forward: ([x]) => new Tensor(getBackend().unary("logicalNot", x!), x!.shape), vjp: "nonDifferentiable" } satisfies OpDef<null>,

  // ------------------------------------------------------------------ binary (broadcasting)
  add: binaryOp("add", ({ g }) => [g, g]),
  sub: binaryOp("sub", ({ g }) => [g, g.neg()]),
  mul: binaryOp("mul", ({ g, inputs: [a, b], needs }) => [needs[0] ? g.mul(b!) : null, needs[1] ? g.mul(a!) : null]),
  // NOTE: -(g / b) * (a / b) rather than -g * a / b², which overflows for large b.
  div: binaryOp("div", ({ g, inputs: [a, b], needs }) => [needs[0] ? g.div(b!) : null, needs[1] ? g.div(b!).mul(a!.div(b!)).neg() : null]),
  // As PyTorch: d/da is 0 where b == 0; d/db is 0 where a == 0 and b >= 0 (instead of 0 * -inf).
  pow: binaryOp("pow", ({ g, inputs: [a, b], out, needs }) => [
    needs[0] ? F.where(b!.eq(0), 0, g.mul(b!).mul(a!.pow(b!.sub(1)))) : null,
    needs[1] ? F.where(a!.eq(0).logicalAnd(b!.ge(0)), 0, g.mul(out).mul(F.where(a!.eq(0), 1, a!).log())) : null,
  ]),
  maximum: binaryOp("maximum", extremumVjp("lt")),
  minimum: binaryOp("minimum", extremumVjp("gt")),
  eq: compare("eq"),
  ne: compare("ne"),
  lt: compare("lt"),
  le: compare("le"),
  gt: compare("gt"),
  ge: compare("ge"),
  logicalAnd: compare("logicalAnd"),
  logicalOr: compare("logicalOr"),
  where: {
    broadcast: true,
    forward: ([c, a, b]) => new Tensor(getBackend().where(c!, a!, b!), a!.shape),
    // NOTE: the unselected branch gets an exact 0; a NaN there (0 * inf) is the classic where() trap
    // and is the caller's to avoid (see safeDenominator).
    vjp: ({ g, inputs: [c], needs }) => [null, needs[1] ? F.where(c!, g, 0) : null, needs[2] ? F.where(c!, 0, g) : null],
  } satisfies OpDef<null>,

  // ------------------------------------------------------------------ dtype and layout
  cast: {
    forward: ([x], a) => new Tensor(getBackend().copy(x!, a.dtype), x!.shape),
    vjp: ({ g, inputs: [x] }) => [g.to(x!.dtype)],
  } satisfies OpDef<{ dtype: DType }>,
  contiguous: {
    forward: ([x]) => new Tensor(getBackend().copy(x!, x!.dtype), x!.shape),
    vjp: ({ g }) => [g],
  } satisfies OpDef<null>,
  reshape: {
    forward: ([x], a) => {
      const strides = viewStrides(x!, a.shape);
      if (strides) return new Tensor(x!.storage, a.shape, strides, x!.offset);
      return new Tensor(getBackend().copy(x!, x!.dtype), a.shape);
    },
    vjp: ({ g, inputs: [x] }) => [g.reshape(x!.shape)],
  } satisfies OpDef<{ shape: number[] }>,
  permute: {
    forward: ([x], a) =>
      new Tensor(x!.storage, a.dims.map((d) => x!.shape[d]!), a.dims.map((d) => x!.strides[d]!), x!.offset),
    vjp: ({ g, attrs }) => {
      const inv = new Array<number>(attrs.dims.length);
      attrs.dims.forEach((d, i) => (inv[d] = i));
      return [g.permute(inv)];
    },
  } satisfies OpDef<{ dims: number[] }>,
  expand: {
    forward: ([x], a) => expandView(x!, a.shape),
    vjp: ({ g }) => [g], // the engine sums it back to the input's shape
  } satisfies OpDef<{ shape: number[] }>,
  narrow: {
    forward: ([x], a) => {
      const shape = [...x!.shape];
      shape[a.dim] = a.length;
      return new Tensor(x!.storage, shape, x!.strides, x!.offset + a.start * x!.strides[a.dim]!);
    },
    vjp: ({ g, inputs: [x], attrs }) => {
      const pads = x!.shape.map((s, d) => (d === attrs.dim ? [attrs.start, s - attrs.start - attrs.length] : [0, 0]) as [number, number]);
      return [F.padDims(g, pads, 0)];
    },
  } satisfies OpDef<{ dim: number; start: number; length: number }>,
  pad: {
    forward: ([x], a) => {
      const shape = x!.shape.map((s, d) => s + a.pads[d]![0] + a.pads[d]![1]);
      const out = fullLike({ shape, dtype: x!.dtype }, a.value);
      // x goes into the view of out that starts after the leading pads.
      const offset = out.strides.reduce((o, st, d) => o + a.pads[d]![0] * st, 0);
      getBackend().assign(new Tensor(out.storage, x!.shape, out.strides, offset), x!);
      return out;
    },
    // narrow returns its input itself for an unpadded dim
    vjp: ({ g, inputs: [x], attrs }) => [x!.shape.reduce((r, s, d) => r.narrow(d, attrs.pads[d]![0], s), g)],
  } satisfies OpDef<{ pads: [number, number][]; value: number }>,
  cat: {
    forward: (xs, a) => {
      const first = xs[0]!;
      const shape = [...first.shape];
      shape[a.dim] = xs.reduce((acc, t) => acc + t.shape[a.dim]!, 0);
      const out = new Tensor(allocArray(first.dtype, numel(shape)), shape);
      let off = 0;
      for (const t of xs) {
        const part = new Tensor(out.storage, t.shape, out.strides, off * out.strides[a.dim]!);
        getBackend().assign(part, t);
        off += t.shape[a.dim]!;
      }
      return out;
    },
    vjp: ({ g, inputs, attrs, needs }) => {
      let off = 0;
      return inputs.map((t, i) => {
        const len = t.shape[attrs.dim]!;
        const r = needs[i] ? g.narrow(attrs.dim, off, len) : null;
        off += len;
        return r;
      });
    },
  } satisfies OpDef<{ dim: number }>,

  // ------------------------------------------------------------------ reductions
  sum: {
    forward: reduceForward("sum"),
    vjp: ({ g, inputs: [x], attrs }) => [g.reshape(keepShape(x!.shape, attrs.dims)).expand(x!.shape)],
  } satisfies OpDef<ReduceAttrs>,
  amax: { forward: reduceForward("max"), vjp: extremeVjp } satisfies OpDef<ReduceAttrs>,
  amin: { forward: reduceForward("min"), vjp: extremeVjp } satisfies OpDef<ReduceAttrs>,
  argmax: argReduceOp("argmax"),
  argmin: argReduceOp("argmin"),
  norm: {
    // NOTE: computed in float64 and scaled by max|x|, so a float32 norm of values near 1e30 does
    // not overflow in the squares.
    forward: ([x], a) => {
      const b = getBackend();
      const xd = new Tensor(b.unary("abs", new Tensor(b.copy(x!, "float64"), x!.shape)), x!.shape);
      const m = b.reduce("max", xd, a.dims) as Float64Array;
      let r = m;
      if (a.p === 1) r = b.reduce("sum", xd, a.dims) as Float64Array;
      else if (a.p !== Infinity) {
        // Scale by max|x| where it is finite and positive; an infinite max makes the norm Inf.
        const msafe = m.map((v) => (v > 0 && v < Infinity ? v : 1));
        const scaled = new Tensor(b.binary("div", xd, expandView(new Tensor(msafe, keepShape(x!.shape, a.dims)), x!.shape), "float64"), x!.shape);
        const powd = new Tensor(b.binary("pow", scaled, expandView(F.scalar(a.p, xd), x!.shape), "float64"), x!.shape);
        r = (b.reduce("sum", powd, a.dims) as Float64Array).map((s, i) => (m[i] === Infinity ? Infinity : Math.pow(s, 1 / a.p) * msafe[i]!));
      }
      return new Tensor(b.copy(new Tensor(r, [r.length]), x!.dtype), reducedShape(x!.shape, a.dims, a.keepdim));
    },
    vjp: ({ g, inputs: [x], out, attrs }) => {
      const ks = keepShape(x!.shape, attrs.dims);
      const gk = g.reshape(ks);
      const nk = out.reshape(ks);
      if (attrs.p === 1) return [gk.mul(x!.sign())];
      if (attrs.p === Infinity) {
        const mask = x!.abs().eq(nk).to(x!.dtype);
        return [x!.sign().mul(mask).mul(gk.div(mask.sum(attrs.dims, true)))];
      }
      // d||x||_p / dx = sign(x) (|x| / ||x||)^(p-1); 0 where the norm is 0.
      // NOTE: the ratio |x|/||x|| <= 1 is raised to p-1, never |x| itself, so float32 values near
      // 1e30 or 1e-30 do not overflow or underflow into 0 * inf.
      // NOTE: x / ||x|| first (at most 1): g / ||x|| overflows when the norm is subnormal.
      if (attrs.p === 2) return [x!.div(safeDenominator(nk)).mul(F.where(nk.eq(0), 0, gk))];
      const ratio = x!.abs().div(safeDenominator(nk)).pow(attrs.p - 1);
      return [x!.sign().mul(ratio).mul(F.where(nk.eq(0), 0, gk))];
    },
  } satisfies OpDef<NormAttrs>,

  // NOTE: softmax and logSoftmax are primitives (one fused kernel, as PyTorch), shifted by the
  // lane max, or by 0 where that max is infinite (a row of -Infinity masks).
  softmax: softmaxOp(false, ({ g, out, attrs }) => [out.mul(g.sub(g.mul(out).sum([attrs.dim], true)))]),
  logSoftmax: softmaxOp(true, ({ g, out, attrs }) => [g.sub(out.exp().mul(g.sum([attrs.dim], true)))]),

  // ------------------------------------------------------------------ linear algebra and conv
  matmul: {
    // Inputs are at least 2-D here (functional.matmul handles 1-D); batch dims broadcast.
    forward: ([a, b]) => {
      const batch = broadcastShapes("matmul", a!.shape.slice(0, -2), b!.shape.slice(0, -2));
      const M = a!.shape[a!.ndim - 2]!;
      const K = a!.shape[a!.ndim - 1]!;
      const N = b!.shape[b!.ndim - 1]!;
      const av = expandView(a!, [...batch, M, K]);
      const bv = expandView(b!, [...batch, K, N]);
      return new Tensor(getBackend().matmul(av, bv), [...batch, M, N]);
    },
    // NOTE: a gradient comes out in its input's layout. For y = x W^T (a Linear layer) the
    // weight gradient is computed as (g^T x)^T, whose transpose back to W is contiguous: no copy.
    vjp: ({ g, inputs: [a, b], needs }) => [
      needs[0] ? (colMajor(a!) ? b!.matmul(g.transpose(-1, -2)).transpose(-1, -2) : g.matmul(b!.transpose(-1, -2))) : null,
      needs[1] ? (colMajor(b!) ? g.transpose(-1, -2).matmul(a!).transpose(-1, -2) : a!.transpose(-1, -2).matmul(g)) : null,
    ],
  } satisfies OpDef<null>,
  conv2d: {
    forward: ([x, w], p) => new Tensor(getBackend().conv2d(x!, w!, p), convOutShape(x!.shape, w!.shape, p)),
    vjp: ({ g, inputs: [x, w], attrs, needs }) => [
      needs[0] ? F.conv2dInputGrad(g, w!, x!.shape, attrs) : null,
      needs[1] ? F.conv2dWeightGrad(x!, g, w!.shape, attrs) : null,
    ],
  } satisfies OpDef<Conv2dParams>,
  conv2dInputGrad: {
    forward: ([gy, w], a) => new Tensor(getBackend().conv2dInputGrad(gy!, w!, a.shape, a.p), a.shape),
    // gx = convT(gy, w) is bilinear: its adjoints are conv2d and the weight gradient.
    vjp: ({ g, inputs: [gy, w], attrs, needs }) => [
      needs[0] ? F.conv2dRaw(g, w!, attrs.p) : null,
      needs[1] ? F.conv2dWeightGrad(g, gy!, w!.shape, attrs.p) : null,
    ],
  } satisfies OpDef<ConvGradAttrs>,
  conv2dWeightGrad: {
    forward: ([x, gy], a) => new Tensor(getBackend().conv2dWeightGrad(x!, gy!, a.shape, a.p), a.shape),
    vjp: ({ g, inputs: [x, gy], attrs, needs }) => [
      needs[0] ? F.conv2dInputGrad(gy!, g, x!.shape, attrs.p) : null,
      needs[1] ? F.conv2dRaw(x!, g, attrs.p) : null,
    ],
  } satisfies OpDef<ConvGradAttrs>,
  maxPool2dIndices: {
    forward: ([x], p) => new Tensor(getBackend().maxPool2dIndices(x!, p), convOutShape(x!.shape, [x!.shape[1]!, 1, ...p.kernel], p)),
    vjp: "nonDifferentiable",
  } satisfies OpDef<Pool2dParams>,

  // ------------------------------------------------------------------ indexing
  gather: {
    forward: ([x, index], a) => new Tensor(getBackend().gather(x!, a.dim, index!), index!.shape),
    vjp: ({ g, inputs: [x, index], attrs }) => [zerosLike(x!).scatterAdd(attrs.dim, index!, g), null],
  } satisfies OpDef<{ dim: number }>,
  scatterAdd: {
    forward: ([base, index, src], a) => new Tensor(getBackend().scatterAdd(base!, a.dim, index!, src!), base!.shape),
    vjp: ({ g, inputs: [, index], attrs, needs }) => [needs[0] ? g : null, null, needs[2] ? g.gather(attrs.dim, index!) : null],
  } satisfies OpDef<{ dim: number }>,
} satisfies Record<string, OpDef<any>>;

export type OpName = keyof typeof ops;
