/**
 * softmax and logSoftmax: primitives (one fused kernel each, as PyTorch), shifted by the lane max,
 * or by 0 where that max is infinite (a row of -Infinity masks).
 *
 * A fully masked row (every entry -Infinity, as a padding row of an attention mask) gives a zero
 * row (logSoftmax: a -Infinity row) with zero gradient, not NaN: PyTorch >= 2.5's `_safe_softmax`
 * convention, on every backend. NOTE: a deliberate difference from torch 1.13 (the fixtures'
 * oracle), whose softmax gives NaN there.
 */
import { DTypeError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { isFloat } from "../tensor/dtype.js";
import { contiguousData } from "../tensor/layout.js";
import { normDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, type OpDef, OpFamily, type VjpContext } from "./define.js";
import type { Bounds, IntervalContext } from "./interval.js";

/** @internal The softmax family's op-table entries. */
export const softmaxOps = new OpFamily("softmax");

type SoftmaxDef = OpDef<[Tensor], { dim: number }>;

function softmaxDef(name: "softmax" | "logSoftmax", vjp: (ctx: VjpContext<[Tensor], { dim: number }>) => readonly (Tensor | null)[]): SoftmaxDef {
  return softmaxOps.define<[Tensor], { dim: number }>({
    name,
    forward: ([x], a) => new Tensor(getBackend().softmax(x, a.dim, name === "logSoftmax"), x.shape),
    vjp,
    saved: ["out"],
    interval: { forward: (c) => (name === "softmax" ? expBounds(logSoftmaxBounds(c)) : logSoftmaxBounds(c)) },
  });
}

/**
 * logSoftmax on bounds: x_i - lse(x) is increasing in x_i and decreasing in the others, so it lies
 * in [lo_i - lse(hi), min(0, hi_i - lse(lo))]. A -Infinity entry (a mask) stays -Infinity; a fully
 * masked row is -Infinity (softmax 0), as the op gives.
 */
function logSoftmaxBounds({ bounds: [x], attrs: { dim } }: IntervalContext<[Tensor], { dim: number }>): Bounds {
  let lo = x!.lo.sub(x!.hi.logsumexp(dim, true));
  let hi = x!.hi.sub(x!.lo.logsumexp(dim, true)).minimum(0);
  lo = lo.where(lo.eq(lo), -Infinity);
  hi = hi.where(hi.eq(hi), 0).where(x!.hi.ne(-Infinity), -Infinity);
  return { lo, hi };
}
const expBounds = (b: Bounds): Bounds => ({ lo: b.lo.exp(), hi: b.hi.exp() });

const softmaxOp = softmaxDef("softmax", ({ g, out, attrs }) => [out.mul(g.sub(g.mul(out).sum([attrs.dim], true)))]);
/**
 * Max-shifted softmax along `dim`. A row with some -Infinity entries (a mask) gives zeros there,
 * and a row of only -Infinity (fully masked) gives a zero row with zero gradient, not NaN (as
 * PyTorch >= 2.5's `_safe_softmax`; torch 1.13 gives NaN).
 * @example
 * softmax(tensor([[0, 0]]), 1).toArray(); // [[0.5, 0.5]]
 * softmax(tensor([1, -Infinity]), 0).toArray(); // [1, 0]
 * softmax(tensor([[0, 1], [-Infinity, -Infinity]]), 1).toArray(); // [[0.268..., 0.731...], [0, 0]]
 */
export function softmax(x: Tensor, dim: number): Tensor {
  return applySoftmax(softmaxOp, x, dim);
}

function applySoftmax(def: SoftmaxDef, x: Tensor, dim: number): Tensor {
  const op = def.name;
  const d = normDim(op, dim, x.ndim);
  if (!isFloat(x.dtype)) throw new DTypeError(op, `expects a float tensor, got ${x.dtype}`);
  if (x.numel === 0) return x;
  // a 0-d tensor is a row of one element (softmax 1, logSoftmax 0, as torch)
  if (x.ndim === 0) return call(def, [x.reshape([1])], { dim: 0 }).reshape([]);
  return call(def, [x], { dim: d });
}

/** Whether t holds a -Infinity (only then can a row be fully masked). */
function hasNegInf(t: Tensor): boolean {
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (d[i] === -Infinity) return true;
  return false;
}

const logSoftmaxOp = softmaxDef("logSoftmax", ({ g, out, attrs }) => {
  const p = out.exp();
  const gx = g.sub(p.mul(g.sum([attrs.dim], true)));
  // A fully masked row (p all 0) is -Infinity whatever x is: zero gradient there, not g.
  return [hasNegInf(out) ? gx.where(p.sum([attrs.dim], true).ne(0), 0) : gx];
});
/**
 * x - logsumexp(x): the stable log of softmax along `dim`. A row of only -Infinity (fully masked)
 * gives a -Infinity row with zero gradient, not NaN (as softmax; torch 1.13 gives NaN).
 * @example
 * logSoftmax(tensor([[0, 0]]), 1).toArray(); // [[-0.693..., -0.693...]]
 * logSoftmax(tensor([0, 1000]), 0).toArray(); // [-1000, 0], finite
 * logSoftmax(tensor([-Infinity, -Infinity]), 0).toArray(); // [-Infinity, -Infinity]
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return applySoftmax(logSoftmaxOp, x, dim);
}
