/**
 * Reductions over any dims: sum, mean, amax/amin, argmax/argmin, max/min with indices,
 * variance/std, logsumexp, norm.
 *
 * Subgradients (written down and tested): amax/amin split the gradient evenly among tied extremes
 * (as torch.amax), max(dim)/min(dim) send it to the returned index (as torch.max(dim)),
 * norm(p=2)'(0) = 0 and norm(inf) splits evenly among ties (as torch.linalg.vector_norm).
 *
 * Degenerate cases (written down and tested): var/std of a constant row are 0 with gradient 0 (as
 * torch's fused std, whose backward masks the 0 · ∞); with n - correction <= 0 the value is IEEE's
 * 0/0 = NaN (or s/0 = Infinity), as PyTorch, and the NaN guard names var/std and the sample size.
 * logsumexp of a row of only -Infinity is -Infinity with gradient 0 (torch 1.13: NaN gradient).
 */
import { ShapeError, ValueError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { contiguousData } from "../tensor/layout.js";
import { normDim, normDims, shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, call, expandView, nonDifferentiable, type OpDef, OpFamily, safeDenominator, scalar, type VjpContext } from "./define.js";
import { where } from "./compare.js";
import { gather } from "./indexing.js";
import { cast, normalFinite, prodOfOthers, reshape, squeeze } from "./shape.js";
import { type Bounds, constBounds, type IntervalRules, isPoint, maxAbs, monotone, mulBounds, point, symmetric } from "./interval.js";

/** @internal The reduce family's op-table entries. */
export const reduceOps = new OpFamily("reduce");

/**
 * The dims a reduction runs over: one dim, a list of dims, or null (or omitted) for all.
 * Negative dims count from the end.
 * @example
 * const dims: Dims = [0, -1];
 * sum(a, dims);
 */
export type Dims = number | readonly number[] | null;
/**
 * What `max(x, dim)`, `min(x, dim)` and `maxPool2dWithIndices` return.
 * @example
 * const { values, indices } = max(a, 1);
 */
export interface ValuesIndices {
  /** The selected values (they carry the gradient). */
  values: Tensor;
  /** Where each value was found, as int32 (not differentiable). */
  indices: Tensor;
}
/** Options of `variance` / `std` (`Tensor.var`, `Tensor.std`). */
export interface VarOptions {
  /** Bessel's correction: divide by N - correction (default 1, as PyTorch). */
  correction?: number;
  /** Keep the reduced dims with size 1 (default false). */
  keepdim?: boolean;
}

interface ReduceAttrs {
  dims: number[];
  keepdim: boolean;
}

function keepShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((s, d) => (dims.includes(d) ? 1 : s));
}

/** The shape after reducing over dims: size 1 there with keepdim, else without them. */
function reducedShape(shape: Shape, dims: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keepShape(shape, dims) : shape.filter((_, d) => !dims.includes(d));
}

function reduceOp(name: string, op: "sum" | "max" | "min", vjp: (ctx: VjpContext<[Tensor], ReduceAttrs>) => readonly (Tensor | null)[], saved?: readonly []): OpDef<[Tensor], ReduceAttrs> {
  return reduceOps.define<[Tensor], ReduceAttrs>({
    ...(saved ? { saved } : {}),
    name,
    forward: ([x], a) => new Tensor(getBackend().reduce(op, x, a.dims), reducedShape(x.shape, a.dims, a.keepdim)),
    vjp,
    interval: monotone(),
  });
}

// ------------------------------------------------------------------ sum and mean
const sumOp = reduceOp("sum", "sum", ({ g, inputs: [x], attrs }) => [g.reshape(keepShape(x.shape, attrs.dims)).expand(x.shape)], []);
/**
 * Sum over `dim` (a dim, a list of dims, or all when omitted); bool is summed as int32.
 * @example
 * sum(tensor([[1, 2], [3, 4]])).item(); // 10
 * sum(tensor([[1, 2], [3, 4]]), 0).toArray(); // [4, 6]
 * sum(a, [0, 1], true).shape; // [1, 1]
 */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  if (x.dtype === "bool") x = cast(x, "int32");
  const dims = normDims("sum", dim, x.ndim);
  return call(sumOp, [x], { dims, keepdim });
}

/**
 * Mean over `dim` (a dim, a list of dims, or all when omitted), for float tensors.
 * @example
 * mean(tensor([[1, 2], [3, 4]]), 1).toArray(); // [1.5, 3.5]
 */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  assertFloat("mean", x);
  const dims = normDims("mean", dim, x.ndim);
  const n = dims.reduce((a, d) => a * x.shape[d]!, 1);
  return sum(x, dims, keepdim).div(n);
}

// ------------------------------------------------------------------ extremes
/** Gradient of amax/amin: split evenly among the tied extremes. */
const extremeVjp = ({ g, inputs: [x], out, attrs }: VjpContext<[Tensor], ReduceAttrs>): Tensor[] => {
  const ks = keepShape(x.shape, attrs.dims);
  const mask = x.eq(out.reshape(ks)).to(x.dtype);
  const count = mask.sum(attrs.dims, true);
  return [g.reshape(ks).div(count).mul(mask)];
};
const amaxOp = reduceOp("amax", "max", extremeVjp);
const aminOp = reduceOp("amin", "min", extremeVjp);
function extreme(def: OpDef<[Tensor], ReduceAttrs>, x: Tensor, dim: Dims | undefined, keepdim: boolean): Tensor {
  const name = def.name;
  const dims = normDims(name, dim, x.ndim);
  if (dims.some((d) => x.shape[d] === 0) || (x.numel === 0 && dims.length === 0 && x.ndim > 0)) {
    throw new ShapeError(name, `cannot reduce over an empty dim (shape ${shapeStr(x.shape)})`);
  }
  return call(def, [x], { dims, keepdim });
}

/**
 * Max over dims; ties share the gradient evenly (as torch.amax).
 * @example
 * amax(tensor([[1, 5], [7, 2]]), 1).toArray(); // [5, 7]
 */
export const amax = (x: Tensor, dim?: Dims, keepdim = false): Tensor => extreme(amaxOp, x, dim, keepdim);

/**
 * Min over dims; ties share the gradient evenly (as torch.amin).
 * @example
 * amin(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 2]
 */
export const amin = (x: Tensor, dim?: Dims, keepdim = false): Tensor => extreme(aminOp, x, dim, keepdim);

function argReduceOp(op: "argmax" | "argmin"): OpDef<[Tensor], { dim: number; keepdim: boolean }> {
  return reduceOps.define<[Tensor], { dim: number; keepdim: boolean }>({
    name: op,
    forward: ([x], a) => new Tensor(getBackend().argReduce(op, x, a.dim), reducedShape(x.shape, [a.dim], a.keepdim)),
    vjp: nonDifferentiable,
    interval: { forward: ({ bounds: [x], out, attrs }) => (isPoint(x!) ? point(out) : constBounds(out, 0, x!.lo.shape[attrs.dim]! - 1)) },
  });
}
const argmaxOp = argReduceOp("argmax");
const argminOp = argReduceOp("argmin");
function argExtreme(name: "argmax" | "argmin", x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) {
    if (x.numel === 0) throw new ShapeError(name, "empty tensor");
    return call(name === "argmax" ? argmaxOp : argminOp, [reshape(x, [-1])], { dim: 0, keepdim: false });
  }
  const d = normDim(name, dim, x.ndim);
  if (x.ndim === 0) return call(name === "argmax" ? argmaxOp : argminOp, [reshape(x, [1])], { dim: 0, keepdim: false });
  if (x.shape[d] === 0) throw new ShapeError(name, `cannot reduce over an empty dim (shape ${shapeStr(x.shape)})`);
  return call(name === "argmax" ? argmaxOp : argminOp, [x], { dim: d, keepdim });
}

/**
 * Index of the largest value along `dim` (of the flattened tensor when `dim` is omitted), as int32.
 * The first one wins on ties.
 * @example
 * argmax(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 0]
 * argmax(tensor([[1, 5], [7, 2]])).item(); // 2
 */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => argExtreme("argmax", x, dim, keepdim);

/**
 * Index of the smallest value along `dim` (of the flattened tensor when `dim` is omitted), as int32.
 * The first one wins on ties.
 * @example
 * argmin(tensor([[1, 5], [7, 2]]), 1).toArray(); // [0, 1]
 */
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => argExtreme("argmin", x, dim, keepdim);

function valuesIndices(name: "argmax" | "argmin", x: Tensor, dim: number, keepdim: boolean): ValuesIndices {
  const d = normDim(name, dim, x.ndim);
  const xx = x.ndim === 0 ? reshape(x, [1]) : x;
  const indices = argExtreme(name, xx, d, true);
  let values = gather(xx, d, indices);
  let idx = indices;
  if (!keepdim || x.ndim === 0) {
    values = squeeze(values, d);
    idx = squeeze(indices, d);
  }
  return { values, indices: idx };
}

/**
 * `max(x)`: the largest element. `max(x, dim, keepdim)`: values and indices along dim; the
 * gradient goes to the returned index (as torch.max(dim)).
 * @example
 * max(tensor([3, 9, 4])).item(); // 9
 * const { values, indices } = max(tensor([[1, 5], [7, 2]]), 1); // values [5, 7], indices [1, 0]
 */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? amax(x) : valuesIndices("argmax", x, dim, keepdim);
}

/**
 * `min(x)`: the smallest element. `min(x, dim, keepdim)`: values and indices along dim; the
 * gradient goes to the returned index (as torch.min(dim)).
 * @example
 * min(tensor([3, 9, 4])).item(); // 3
 * const { values, indices } = min(tensor([[1, 5], [7, 2]]), 1); // values [1, 2], indices [0, 1]
 */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? amin(x) : valuesIndices("argmin", x, dim, keepdim);
}

// ------------------------------------------------------------------ variance, std, logsumexp
interface VarAttrs extends ReduceAttrs {
  correction: number;
}
/** Elements reduced over. */
const countOf = (shape: Shape, dims: readonly number[]): number => dims.reduce((a, d) => a * shape[d]!, 1);

/**
 * sum((x - mean)²) / max(0, n - correction) over dims, computed in float64 (IEEE: 0/0 = NaN and
 * s/0 = Infinity where n - correction <= 0, as PyTorch).
 */
function varianceData(x: Tensor, dims: readonly number[], correction: number): Float64Array {
  const b = getBackend();
  const ks = keepShape(x.shape, dims);
  const n = countOf(x.shape, dims);
  const xd = new Tensor(b.copy(x, "float64"), x.shape);
  const centred = (m: Float64Array): Tensor => new Tensor(b.binary("sub", xd, expandView(new Tensor(m, ks), x.shape), "float64"), x.shape);
  const m0 = Float64Array.from(b.reduce("sum", xd, dims), (v) => v / n);
  // NOTE: one correction pass (plus the mean of the residuals): a constant row's mean is then its
  // value exactly, so its variance is exactly 0 (the first mean can be 1 ulp off).
  const r = b.reduce("sum", centred(m0), dims);
  const d = centred(m0.map((v, i) => v + r[i]! / n));
  const ss = b.reduce("sum", new Tensor(b.binary("mul", d, d, "float64"), x.shape), dims);
  const den = Math.max(0, n - correction);
  return Float64Array.from(ss, (v) => v / den);
}

function varianceOp(name: "var" | "std"): OpDef<[Tensor], VarAttrs> {
  return reduceOps.define<[Tensor], VarAttrs>({
    name,
    forward: ([x], a) => {
      const v = varianceData(x, a.dims, a.correction);
      const r = name === "std" ? v.map(Math.sqrt) : v;
      return new Tensor(getBackend().copy(new Tensor(r, [r.length]), x.dtype), reducedShape(x.shape, a.dims, a.keepdim));
    },
    // d var/dx = 2 (x - mean) / (n - correction); d std/dx = (x - mean) / ((n - correction) std).
    // Both are exactly 0 where the value is 0 (a constant row), whatever the upstream gradient: for
    // std that is 0 · ∞ otherwise, which PyTorch's fused std masks the same way (and var's mask makes
    // sqrt(var(x)) as safe; torch's var gives 0 · ∞ = NaN under an infinite upstream gradient).
    vjp: ({ g, inputs: [x], out, attrs }) => {
      const ks = keepShape(x.shape, attrs.dims);
      const den = Math.max(0, countOf(x.shape, attrs.dims) - attrs.correction);
      const o = out.reshape(ks);
      const gk = g.reshape(ks);
      const scale = name === "std" ? gk.div(safeDenominator(o).mul(den)) : gk.mul(2 / den);
      return [x.sub(mean(x, attrs.dims, true)).mul(where(o.eq(0), 0, scale))];
    },
    interval: varianceIntervals(name),
  });
}
const varOp = varianceOp("var");
const stdOp = varianceOp("std");

function applyVariance(def: OpDef<[Tensor], VarAttrs>, x: Tensor, dim: Dims | undefined, options: VarOptions): Tensor {
  assertFloat(def.name, x);
  const dims = normDims(def.name, dim, x.ndim);
  return call(def, [x], { dims, keepdim: options.keepdim ?? false, correction: options.correction ?? 1 });
}

/**
 * Variance with Bessel's `correction` (default 1). The free-function name of `Tensor.var`.
 * A constant input gives 0 with gradient 0. With n - correction <= 0 (one sample and the default
 * correction) the value is NaN (0/0, as PyTorch), and the NaN guard names `var` and the sample size.
 * @example
 * variance(tensor([1, 2, 3, 4])).item(); // 1.666...
 * variance(tensor([1, 2, 3, 4]), 0, { correction: 0 }).item(); // 1.25
 * variance(tensor([3])).item(); // NaN: one sample, correction 1
 */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return applyVariance(varOp, x, dim, options);
}

/**
 * Standard deviation: sqrt(var), one op. At a constant input its value is 0 and its gradient 0, not
 * 0 · ∞ = NaN, as PyTorch's fused std (the derivative of sqrt is infinite at 0, so a hand-written
 * `variance(x).sqrt()` gives NaN there). With n - correction <= 0 the value is NaN, as `variance`.
 * @example
 * std(tensor([1, 2, 3, 4]), 0, { correction: 0 }).item(); // 1.118...
 * const c = tensor([2, 2, 2], { requiresGrad: true });
 * std(c).backward();
 * c.grad!.toArray(); // [0, 0, 0]
 */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return applyVariance(stdOp, x, dim, options);
}

/**
 * var / std on bounds: in [0, (max hi - min lo)² n / (4 (n - correction))] (the largest spread of n
 * values in a range), NaN where n - correction <= 0. The gradient of std is (x - mean) g / (den std),
 * at most |g| / sqrt(den) in size since |x - mean| <= sqrt(den) std (0 at a constant row).
 */
function varianceIntervals(name: "var" | "std"): IntervalRules<[Tensor], VarAttrs> {
  return {
    forward: ({ bounds: [x], inputs: [xv], attrs, out, forward }) => {
      if (isPoint(x!)) return point(forward([x!.lo], attrs));
      const n = countOf(xv.shape, attrs.dims);
      const den = n - attrs.correction;
      const range = x!.hi.amax(attrs.dims, attrs.keepdim).sub(x!.lo.amin(attrs.dims, attrs.keepdim));
      let hi = range.square().mul(n / (4 * Math.max(den, 0)));
      if (name === "std") hi = hi.sqrt();
      const lo = hi.mul(0);
      return den > 0 ? { lo, hi } : constBounds(out, NaN, NaN);
    },
    vjp: ({ g, inputs: [xv], attrs }) => {
      if (name === "var") return undefined;
      const den = countOf(xv.shape, attrs.dims) - attrs.correction;
      const m = maxAbs(expandBounds(g, keepShape(xv.shape, attrs.dims), xv.shape)).div(Math.sqrt(Math.max(den, 0)));
      return [symmetric(m)];
    },
  };
}

/** Bounds of a reduced tensor (keepdim or not) broadcast back to the input's shape. */
const expandBounds = (b: Bounds, ks: number[], shape: Shape): Bounds => ({ lo: b.lo.reshape(ks).expand(shape), hi: b.hi.reshape(ks).expand(shape) });

/** Whether t holds a -Infinity. */
function hasNegInf(t: Tensor): boolean {
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (d[i] === -Infinity) return true;
  return false;
}

const logsumexpOp = reduceOps.define<[Tensor], ReduceAttrs>({
  name: "logsumexp",
  forward: ([x], a) => {
    const b = getBackend();
    // The shift is the row max, or 0 where that is infinite: a row of only -Infinity (fully masked)
    // then sums to 0, and log(0) = -Infinity is its value.
    const shift = Float64Array.from(b.reduce("max", x, a.dims), (m) => (Math.abs(m) === Infinity ? 0 : m));
    const sv = expandView(new Tensor(b.copy(new Tensor(shift, [shift.length]), x.dtype), keepShape(x.shape, a.dims)), x.shape);
    const e = new Tensor(b.unary("exp", new Tensor(b.binary("sub", x, sv, x.dtype), x.shape)), x.shape);
    const s = b.reduce("sum", e, a.dims);
    const r = Float64Array.from(s, (v, i) => Math.log(v) + shift[i]!);
    return new Tensor(b.copy(new Tensor(r, [r.length]), x.dtype), reducedShape(x.shape, a.dims, a.keepdim));
  },
  // d/dx = exp(x - lse) = softmax(x). A fully masked row (lse = -Infinity) is shifted by 0 instead
  // of by -Infinity (-Infinity - -Infinity = NaN): exp(-Infinity) = 0, so its gradient is 0.
  vjp: ({ g, inputs: [x], out, attrs }) => {
    const ks = keepShape(x.shape, attrs.dims);
    const lse = out.reshape(ks);
    const shift = hasNegInf(lse) ? where(lse.eq(-Infinity), 0, lse) : lse;
    return [g.reshape(ks).mul(x.sub(shift).exp())];
  },
  // monotone in each element; the gradient is g · softmax(x), softmax in [0, 1]
  interval: {
    ...monotone(),
    vjp: ({ g, inputs: [x], attrs }) => [mulBounds(expandBounds(g, keepShape(x.shape, attrs.dims), x.shape), constBounds(x, 0, 1))],
  },
});

/**
 * log(sum(exp(x))) over dim, max-shifted so it neither overflows nor underflows. A row of only
 * -Infinity (a fully masked row) gives -Infinity with gradient 0 (torch 1.13: a NaN gradient).
 * @example
 * logsumexp(tensor([1000, 1000]), 0).item(); // 1000.693..., where the naive formula gives Infinity
 * logsumexp(tensor([[0, -Infinity], [-Infinity, -Infinity]]), 1).toArray(); // [0, -Infinity]
 */
export function logsumexp(x: Tensor, dim: Dims, keepdim = false): Tensor {
  assertFloat("logsumexp", x);
  const dims = normDims("logsumexp", dim, x.ndim);
  return call(logsumexpOp, [x], { dims, keepdim });
}

// ------------------------------------------------------------------ norm
const normOp = reduceOps.define<[Tensor], ReduceAttrs & { p: number }>({
  name: "norm",
  // NOTE: computed in float64 and scaled by max|x|, so a float32 norm of values near 1e30 does
  // not overflow in the squares.
  forward: ([x], a) => {
    const b = getBackend();
    const xd = new Tensor(b.unary("abs", new Tensor(b.copy(x, "float64"), x.shape)), x.shape);
    const m = b.reduce("max", xd, a.dims);
    let r = m;
    if (a.p === 1) r = b.reduce("sum", xd, a.dims);
    else if (a.p !== Infinity) {
      // Scale by max|x| where it is finite and positive; an infinite max makes the norm Inf.
      const msafe = m.map((v) => (v > 0 && v < Infinity ? v : 1));
      const scaled = new Tensor(b.binary("div", xd, expandView(new Tensor(msafe, keepShape(x.shape, a.dims)), x.shape), "float64"), x.shape);
      const powd = new Tensor(b.binary("pow", scaled, expandView(scalar(a.p, xd), x.shape), "float64"), x.shape);
      r = b.reduce("sum", powd, a.dims).map((s, i) => (m[i] === Infinity ? Infinity : Math.pow(s, 1 / a.p) * msafe[i]!));
    }
    return new Tensor(b.copy(new Tensor(r, [r.length]), x.dtype), reducedShape(x.shape, a.dims, a.keepdim));
  },
  vjp: ({ g, inputs: [x], out, attrs }) => {
    const ks = keepShape(x.shape, attrs.dims);
    const gk = g.reshape(ks);
    const nk = out.reshape(ks);
    if (attrs.p === 1) return [gk.mul(x.sign())];
    if (attrs.p === Infinity) {
      const mask = x.abs().eq(nk).to(x.dtype);
      return [x.sign().mul(mask).mul(gk.div(mask.sum(attrs.dims, true)))];
    }
    // d||x||_p / dx = sign(x) (|x| / ||x||)^(p-1); 0 where the norm is 0.
    // NOTE: the ratio |x|/||x|| <= 1 is raised to p-1, never |x| itself, so float32 values near
    // 1e30 or 1e-30 do not overflow or underflow into 0 * inf.
    // NOTE: x / ||x|| first (at most 1): g / ||x|| overflows when the norm is subnormal.
    if (attrs.p === 2) return [x.div(safeDenominator(nk)).mul(where(nk.eq(0), 0, gk))];
    // For p < 1 the derivative |x|^(p-1) is infinite at x = 0: the subgradient there is 0 (as |x|'(0)).
    const ratio = attrs.p < 1
      ? where(x.eq(0), 0, where(x.eq(0), 1, x.abs()).div(safeDenominator(nk)).pow(attrs.p - 1))
      : x.abs().div(safeDenominator(nk)).pow(attrs.p - 1);
    return [x.sign().mul(ratio).mul(where(nk.eq(0), 0, gk))];
  },
  // monotone in |x|; for p >= 1 the gradient is g times a ratio in [-1, 1] (0 at the zero vector)
  interval: {
    forward: ({ bounds: [x], attrs, forward }) => {
      const minAbs = x!.lo.abs().minimum(x!.hi.abs()).where(x!.lo.gt(0).logicalOr(x!.hi.lt(0)), 0);
      return { lo: forward([minAbs], attrs), hi: forward([maxAbs(x!)], attrs) };
    },
    vjp: ({ g, bounds: [x], inputs: [xv], attrs }) => {
      if (attrs.p < 1) return undefined;
      const gx = expandBounds(g, keepShape(xv.shape, attrs.dims), xv.shape);
      return [mulBounds(gx, { lo: x!.lo.mul(0).where(x!.lo.ge(0), -1), hi: x!.hi.mul(0).where(x!.hi.le(0), 1) })];
    },
  },
});
/**
 * The p-norm (p = 1, 2, Infinity, or any p > 0; default 2) over dims, as torch.linalg.vector_norm.
 * Its gradient at 0 is 0, not NaN.
 * @example
 * norm(tensor([3, 4])).item(); // 5
 * norm(tensor([3, -4]), 1).item(); // 7
 * norm(a, 2, 1).shape; // [2]
 */
export function norm(x: Tensor, p = 2, dim?: Dims, keepdim = false): Tensor {
  assertFloat("norm", x);
  // NOTE: 0 < p < 1 is not a norm, but torch.linalg.vector_norm (and F.normalize) compute it.
  if (!(p > 0)) throw new ValueError("norm", `p must be > 0 (or Infinity), got ${p}`);
  const dims = normDims("norm", dim, x.ndim);
  if (p === Infinity && dims.some((d) => x.shape[d] === 0)) throw new ShapeError("norm", `inf-norm of an empty dim (shape ${shapeStr(x.shape)})`);
  return call(normOp, [x], { p, dims, keepdim });
}

// ------------------------------------------------------------------ products
interface ProdAttrs {
  dim: number;
  keepdim: boolean;
}

/** The product of x along dim d, line by line (in x's dtype; int32 wraps as Math.imul). */
function prodData(x: Tensor, d: number): Tensor {
  const data = contiguousData(x);
  const n = x.shape[d]!;
  const inner = x.shape.slice(d + 1).reduce((a, s) => a * s, 1);
  const outer = x.shape.slice(0, d).reduce((a, s) => a * s, 1);
  const out = new (data.constructor as new (n: number) => typeof data)(outer * inner);
  const int = x.dtype === "int32";
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 1;
      for (let k = 0; k < n; k++) {
        const v = data[o * n * inner + k * inner + i]!;
        acc = int ? Math.imul(acc, v) : acc * v;
      }
      out[o * inner + i] = acc;
    }
  }
  return new Tensor(out, x.shape.filter((_, j) => j !== d));
}

const prodOp = reduceOps.define<[Tensor], ProdAttrs>({
  name: "prod",
  forward: ([x], a) => {
    const r = prodData(x, a.dim);
    return a.keepdim ? new Tensor(r.storage, keepShape(x.shape, [a.dim])) : r;
  },
  // Without a zero on a line: g · prod / x. With zeros: g · (product of the others), so one zero
  // gets the product of the rest and every entry of a line with two or more zeros gets 0 (as
  // PyTorch's prod_backward), never 0/0.
  vjp: ({ g, inputs: [x], out, attrs: { dim, keepdim } }) => {
    if (x.numel === 0) return [g.reshape(keepShape(x.shape, [dim])).expand(x.shape)];
    const gk = keepdim ? g : g.unsqueeze(dim);
    if (!hasZero(x) && normalFinite(out)) return [gk.mul(keepdim ? out : out.unsqueeze(dim)).div(x)];
    return [gk.mul(prodOfOthers(x, dim))];
  },
  // Monotone where every x >= 0, else within ± the product of |x|. Each entry's gradient is g times
  // the product of the others: at most |g| · prod(max(|x|, 1)) in size.
  interval: {
    forward: (c) => {
      const x = c.bounds[0]!;
      if (x.lo.ge(0).toTypedArray().every((v) => v)) return monotone<[Tensor], ProdAttrs>().forward(c);
      return symmetric(c.forward([maxAbs(x)], c.attrs));
    },
    vjp: ({ g, bounds: [x], inputs: [xv], attrs, forward }) => {
      const p = forward([maxAbs(x!).maximum(1)], { ...attrs, keepdim: true });
      const gk = attrs.keepdim ? maxAbs(g) : maxAbs(g).unsqueeze(attrs.dim);
      return [symmetric(gk.mul(p).expand(xv.shape))];
    },
  },
});

/** Whether t holds a zero. */
function hasZero(t: Tensor): boolean {
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (d[i] === 0) return true;
  return false;
}

/**
 * The product of all entries (`prod(x)`, 0-d) or along one `dim` (as torch.prod; bool and int32
 * multiply as int32). The gradient is exact where x holds zeros: an entry that is the only zero of
 * its line gets the product of the others, and with two or more zeros every entry gets 0 (as
 * PyTorch; g · prod / x would give 0/0 = NaN).
 * @example
 * prod(tensor([1, 2, 3, 4])).item(); // 24
 * prod(tensor([[1, 2], [3, 4]]), 1).toArray(); // [2, 12]
 * const x = tensor([2, 0, 3], { requiresGrad: true });
 * prod(x).backward();
 * x.grad!.toArray(); // [0, 6, 0]
 */
export function prod(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError("prod", `input must be a Tensor, got ${typeof x}`);
  if (x.dtype === "bool") x = cast(x, "int32");
  if (dim === undefined || dim === null) return call(prodOp, [reshape(x, [-1])], { dim: 0, keepdim: false });
  const d = normDim("prod", dim, x.ndim);
  if (x.ndim === 0) return x;
  return call(prodOp, [x], { dim: d, keepdim });
}

// ------------------------------------------------------------------ all, any, stdMean, varMean
/**
 * Whether every entry is non-zero (true; NaN counts as true), over all dims or over `dim`, as a
 * bool tensor (as torch.all). Not differentiable.
 * @example
 * all(tensor([1, 2, 0])).item(); // 0 (false)
 * all(tensor([[1, 0], [1, 1]]), 1).toArray(); // [false, true]
 */
export function all(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError("all", `input must be a Tensor, got ${typeof x}`);
  const dims = normDims("all", dim, x.ndim);
  return sum(x.logicalNot(), dims, keepdim).eq(0);
}

/**
 * Whether any entry is non-zero (NaN counts as non-zero), over all dims or over `dim`, as a bool
 * tensor (as torch.any). Not differentiable.
 * @example
 * any(tensor([0, 0, 3])).item(); // 1 (true)
 * any(tensor([[0, 0], [0, 1]]), 1).toArray(); // [false, true]
 */
export function any(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError("any", `input must be a Tensor, got ${typeof x}`);
  const dims = normDims("any", dim, x.ndim);
  return sum(x.logicalNot().logicalNot(), dims, keepdim).gt(0);
}

/** Options of `stdMean` / `varMean`: those of `variance`, or torch's older `unbiased` flag. */
export interface StdMeanOptions extends VarOptions {
  /** true: correction 1, false: correction 0 (torch's `unbiased`; do not give both). */
  unbiased?: boolean;
}

function correctionOf(op: string, options: StdMeanOptions): VarOptions {
  const { unbiased, correction, keepdim } = options;
  if (unbiased !== undefined && correction !== undefined) throw new ValueError(op, `give either correction (${correction}) or unbiased (${unbiased}), not both`);
  return { correction: unbiased === undefined ? (correction ?? 1) : unbiased ? 1 : 0, keepdim: keepdim ?? false };
}

/**
 * The variance and the mean over `dim` in one call, as torch.var_mean: `[var, mean]`, with
 * Bessel's `correction` (default 1) or `unbiased`.
 * @example
 * const [v, m] = varMean(tensor([1, 2, 4]), null, { unbiased: false });
 * v.item(); // 1.5555...
 * m.item(); // 2.3333...
 */
export function varMean(x: Tensor, dim?: Dims, options: StdMeanOptions = {}): [Tensor, Tensor] {
  const o = correctionOf("varMean", options);
  return [variance(x, dim, o), mean(x, dim, o.keepdim)];
}

/**
 * The standard deviation and the mean over `dim` in one call, as torch.std_mean: `[std, mean]`,
 * with Bessel's `correction` (default 1) or `unbiased`.
 * @example
 * const [s, m] = stdMean(tensor([[1, 3], [2, 2]]), 1, { correction: 0 });
 * s.toArray(); // [1, 0]
 * m.toArray(); // [2, 2]
 */
export function stdMean(x: Tensor, dim?: Dims, options: StdMeanOptions = {}): [Tensor, Tensor] {
  const o = correctionOf("stdMean", options);
  return [std(x, dim, o), mean(x, dim, o.keepdim)];
}
