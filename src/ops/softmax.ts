/**
 * softmax and logSoftmax: primitives (one fused kernel each, as PyTorch), shifted by the lane max,
 * or by 0 where that max is infinite (a row of -Infinity masks); their masked forms for attention
 * (`mask`, `causal`: entries that take no part are skipped); and their gradient, one fused op
 * (`softmaxBackward`), whose own gradient is written with tensor ops (gradients of gradients).
 *
 * A fully masked row (every entry -Infinity, as a padding row of an attention mask, or no entry
 * taking part) gives a zero row (logSoftmax: a -Infinity row) with zero gradient, not NaN: PyTorch
 * >= 2.5's `_safe_softmax` convention, on every backend. NOTE: a deliberate difference from torch
 * 1.13 (the fixtures' oracle), whose softmax gives NaN there.
 */
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { noGrad } from "../autograd/grad-mode.js";
import { getBackend } from "../kernels/registry.js";
import { isFloat } from "../tensor/dtype.js";
import { contiguousData } from "../tensor/layout.js";
import { broadcastShapes, normDim, sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, expandView, type OpDef, OpFamily, type VjpContext } from "./define.js";
import { constBounds, mulBounds, type Bounds, type IntervalContext } from "./interval.js";

/** @internal The softmax family's op-table entries. */
export const softmaxOps = new OpFamily("softmax");

type SoftmaxDef = OpDef<[Tensor], { dim: number }>;

function softmaxDef(name: "softmax" | "logSoftmax", vjp: (ctx: VjpContext<[Tensor], { dim: number }>) => readonly (Tensor | null)[]): SoftmaxDef {
  return softmaxOps.define<[Tensor], { dim: number }>({
    name,
    forward: ([x], a) => new Tensor(getBackend().softmax(x, a.dim, name === "logSoftmax"), x.shape),
    vjp,
    saved: ["out"],
    interval: { forward: ({ bounds: [x], attrs: { dim } }) => (name === "softmax" ? expBounds(logSoftmaxBounds(x!, dim)) : logSoftmaxBounds(x!, dim)) },
  });
}

/**
 * logSoftmax on bounds: x_i - lse(x) is increasing in x_i and decreasing in the others, so it lies
 * in [lo_i - lse(hi), min(0, hi_i - lse(lo))]. A -Infinity entry (a mask) stays -Infinity; a fully
 * masked row is -Infinity (softmax 0), as the op gives.
 */
function logSoftmaxBounds(x: Bounds, dim: number): Bounds {
  let lo = x.lo.sub(x.hi.logsumexp(dim, true));
  let hi = x.hi.sub(x.lo.logsumexp(dim, true)).minimum(0);
  lo = lo.where(lo.eq(lo), -Infinity);
  hi = hi.where(hi.eq(hi), 0).where(x.hi.ne(-Infinity), -Infinity);
  return { lo, hi };
}
const expBounds = (b: Bounds): Bounds => ({ lo: b.lo.exp(), hi: b.hi.exp() });

/** The attributes of the masked softmax and of the softmax gradient: the lane dim, log-softmax or not, causal or not. */
interface MaskedAttrs {
  dim: number;
  log: boolean;
  causal: boolean;
}

/** The bool "takes part" tensor of x's shape: the mask (a 0-d true: all) and, causal, j <= i over the last two dims. */
function takesPart(shape: readonly number[], mask: Tensor, causal: boolean): Tensor {
  let m = mask.expand(shape);
  if (causal) {
    const [L, S] = [shape[shape.length - 2]!, shape[shape.length - 1]!];
    const tri = new Uint8Array(L * S);
    for (let i = 0; i < L; i++) tri.fill(1, i * S, i * S + Math.min(S, i + 1));
    m = m.logicalAnd(new Tensor(tri, [L, S]));
  }
  return m;
}

/** The mask as the kernels take it: null for a 0-d true (all entries), else a stride-0 view of x's shape. */
function kernelMask(mask: Tensor, shape: readonly number[]): Tensor | null {
  return mask.ndim === 0 && contiguousData(mask)[0] !== 0 ? null : expandView(mask, shape);
}

/**
 * Where the softmax output y is live: taking part (`on`) in a lane that has a live entry (y not 0,
 * log: not -Infinity, there). Dead lanes and entries that take no part have zero gradient.
 */
function liveOf(y: Tensor, on: Tensor, a: MaskedAttrs): Tensor {
  const dead = a.log ? -Infinity : 0;
  return noGrad(() => on.logicalAnd(y.where(on, dead).amax(a.dim, true).ne(dead)));
}

/** The bounds of a bool input when it is known (lo == hi), else null. */
function knownMask(b: Bounds | undefined, t: Tensor): Tensor | null {
  if (!b || b.lo === b.hi) return t;
  const l = contiguousData(b.lo);
  const h = contiguousData(b.hi);
  for (let i = 0; i < l.length; i++) if (l[i] !== h[i]) return null;
  return b.lo;
}

const maskedSoftmaxOp = softmaxOps.define<[Tensor, Tensor], MaskedAttrs>({
  name: "maskedSoftmax",
  forward: ([x, mask], a) => new Tensor(getBackend().maskedSoftmax(x, a.dim, a.log, kernelMask(mask, x.shape), a.causal), x.shape),
  vjp: ({ g, out, inputs: [, mask], attrs }) => [call(softmaxBackwardOp, [g, out, mask], attrs), null],
  saved: ["out", 1],
  interval: {
    forward: ({ bounds: [x, mb], inputs: [, mask], attrs: a }) => {
      const known = knownMask(mb, mask);
      if (!known) return a.log ? constBounds(x!.lo, -Infinity, 0) : constBounds(x!.lo, 0, 1);
      const on = takesPart(x!.lo.shape, known, a.causal);
      const b = logSoftmaxBounds({ lo: x!.lo.where(on, -Infinity), hi: x!.hi.where(on, -Infinity) }, a.dim);
      return a.log ? b : expBounds(b);
    },
  },
});

const softmaxBackwardOp: OpDef<[Tensor, Tensor, Tensor], MaskedAttrs> = softmaxOps.define<[Tensor, Tensor, Tensor], MaskedAttrs>({
  name: "softmaxBackward",
  forward: ([g, y, mask], a) => new Tensor(getBackend().softmaxBackward(expandView(g, y.shape), y, a.dim, a.log, kernelMask(mask, y.shape), a.causal), y.shape),
  // softmax: gx = y (g - S), S = sum(g y); log: gx = g - p sum(g), p = exp(y); over live entries
  vjp: ({ g: u, inputs: [g, y, mask], attrs: a, needs }) => {
    const live = liveOf(y, takesPart(y.shape, mask, a.causal), a);
    const sum = (t: Tensor): Tensor => t.where(live, 0).sum([a.dim], true);
    if (!a.log) {
      const gg = needs[0] ? call(softmaxBackwardOp, [u, y, mask], a) : null;
      const gy = needs[1] ? u.mul(g.sub(sum(g.mul(y)))).sub(g.mul(sum(u.mul(y)))).where(live, 0) : null;
      return [gg, gy, null];
    }
    const p = y.exp();
    const gg = needs[0] ? u.sub(sum(u.mul(p))).where(live, 0) : null;
    const gy = needs[1] ? u.mul(p).mul(sum(g)).neg().where(live, 0) : null;
    return [gg, gy, null];
  },
  saved: [0, 1, 2],
  interval: {
    forward: ({ bounds: [g, y, mb], inputs: [, , mask], attrs: a }) => {
      const known = knownMask(mb, mask);
      const on = known ? takesPart(y!.lo.shape, known, a.causal) : null;
      const onOr0 = (b: Bounds): Bounds => (on ? { lo: b.lo.where(on, 0), hi: b.hi.where(on, 0) } : b);
      // an unknown mask may leave out any term: each term's bounds then include 0
      const sumB = (b: Bounds): Bounds => {
        const m = on ? onOr0(b) : { lo: b.lo.minimum(0), hi: b.hi.maximum(0) };
        return { lo: m.lo.sum([a.dim], true), hi: m.hi.sum([a.dim], true) };
      };
      const gb: Bounds = { lo: g!.lo.expand(y!.lo.shape), hi: g!.hi.expand(y!.lo.shape) };
      let r: Bounds;
      if (!a.log) {
        const s = sumB(mulBounds(gb, y!));
        r = mulBounds(y!, { lo: gb.lo.sub(s.hi), hi: gb.hi.sub(s.lo) });
      } else {
        const ps = mulBounds(expBounds(y!), sumB(gb));
        r = { lo: gb.lo.sub(ps.hi), hi: gb.hi.sub(ps.lo) };
      }
      // dead lanes and entries that take no part give 0
      r = onOr0(r);
      return { lo: r.lo.minimum(0), hi: r.hi.maximum(0) };
    },
  },
});

/**
 * Which entries of a softmax lane take part, for attention. Entries that take no part are
 * skipped by the kernel: they give 0 (logSoftmax: -Infinity) whatever x holds there (NaN,
 * Infinity), and a zero gradient; a row with no entry taking part gives zeros. Their outputs are
 * constants, so the gradient arriving at them does not enter the row's sum (NOTE: logSoftmax of
 * x filled with -Infinity there, as torch would write it, carries that gradient into the sum;
 * softmax gives the same either way).
 */
export interface SoftmaxOptions {
  /**
   * A bool tensor broadcastable to x's shape: true where the entry takes part (torch's sdpa bool
   * `attn_mask` convention). Default: every entry.
   */
  mask?: Tensor | null;
  /**
   * Over x's last two dims [..., L, S] (dim must be the last): entry (i, j) takes part only where
   * j <= i, as `causalMask(L, S)`. Combined with `mask` (both must hold). Default false.
   */
  causal?: boolean;
}

/** Check the options against x and dim; the entry's mask input (a 0-d true for none), or null without options. */
function maskInput(op: string, x: Tensor, d: number, o: SoftmaxOptions | undefined): Tensor | null {
  if (!o || (!o.mask && !o.causal)) return null;
  if (o.causal && (x.ndim < 2 || d !== x.ndim - 1))
    throw new ValueError(op, `causal needs x of at least 2 dims [..., L, S] and dim the last (-1), got shape ${shapeStr(x.shape)} and dim ${d}`);
  const m = o.mask;
  if (!m) return new Tensor(new Uint8Array([1]), []);
  if (!(m instanceof Tensor) || m.dtype !== "bool") throw new DTypeError(op, `mask must be a bool tensor (true where the entry takes part), got ${m instanceof Tensor ? m.dtype : typeof m}`);
  return broadcastsTo(op, "mask", m, x);
}

/** t, if it broadcasts to y's shape (a ShapeError naming it otherwise). */
function broadcastsTo(op: string, what: string, t: Tensor, y: Tensor): Tensor {
  let ok = false;
  try {
    ok = sameShape(broadcastShapes(op, t.shape, y.shape), y.shape);
  } catch {}
  if (!ok) throw new ShapeError(op, `${what} of shape ${shapeStr(t.shape)} does not broadcast to the shape ${shapeStr(y.shape)}`);
  return t;
}

function applySoftmax(def: SoftmaxDef, x: Tensor, dim: number, options: SoftmaxOptions | undefined): Tensor {
  const op = def.name;
  const d = normDim(op, dim, x.ndim);
  if (!isFloat(x.dtype)) throw new DTypeError(op, `expects a float tensor, got ${x.dtype}`);
  const mask = maskInput(op, x, d, options);
  if (x.numel === 0) return x;
  // a 0-d tensor is a row of one element (softmax 1, logSoftmax 0, as torch)
  if (x.ndim === 0) return applySoftmax(def, x.reshape([1]), 0, options && { ...options, mask: options.mask?.reshape([1]) }).reshape([]);
  if (mask) return call(maskedSoftmaxOp, [x, mask], { dim: d, log: op === "logSoftmax", causal: !!options?.causal });
  return call(def, [x], { dim: d });
}

/** The gradient of the plain (unmasked) softmax / logSoftmax, through the fused entry. */
const plainBackward =
  (log: boolean) =>
  ({ g, out, attrs }: VjpContext<[Tensor], { dim: number }>): Tensor[] => [call(softmaxBackwardOp, [g, out, new Tensor(new Uint8Array([1]), [])], { dim: attrs.dim, log, causal: false })];

const softmaxOp = softmaxDef("softmax", plainBackward(false));
/**
 * Max-shifted softmax along `dim`. A row with some -Infinity entries (a mask) gives zeros there,
 * and a row of only -Infinity (fully masked) gives a zero row with zero gradient, not NaN (as
 * PyTorch >= 2.5's `_safe_softmax`; torch 1.13 gives NaN).
 *
 * For attention, `options.mask` (bool, true where the entry takes part) and `options.causal` (j <= i
 * over the last two dims) skip the other entries in the kernel itself: they give exactly 0 and a
 * zero gradient whatever x holds there, and a row with none taking part gives zeros (no where()
 * around the softmax needed).
 * @example
 * softmax(tensor([[0, 0]]), 1).toArray(); // [[0.5, 0.5]]
 * softmax(tensor([1, -Infinity]), 0).toArray(); // [1, 0]
 * softmax(tensor([[0, 1], [-Infinity, -Infinity]]), 1).toArray(); // [[0.268..., 0.731...], [0, 0]]
 * softmax(zeros([2, 2]), -1, { causal: true }).toArray(); // [[1, 0], [0.5, 0.5]]
 * softmax(tensor([[1, NaN], [2, 3]]), -1, { mask: tensor([[true, false], [false, false]]) }).toArray(); // [[1, 0], [0, 0]]
 */
export function softmax(x: Tensor, dim: number, options?: SoftmaxOptions): Tensor {
  return applySoftmax(softmaxOp, x, dim, options);
}

const logSoftmaxOp = softmaxDef("logSoftmax", plainBackward(true));
/**
 * x - logsumexp(x): the stable log of softmax along `dim`. A row of only -Infinity (fully masked)
 * gives a -Infinity row with zero gradient, not NaN (as softmax; torch 1.13 gives NaN). `options`
 * as {@link softmax}'s: entries that take no part give -Infinity and a zero gradient.
 * @example
 * logSoftmax(tensor([[0, 0]]), 1).toArray(); // [[-0.693..., -0.693...]]
 * logSoftmax(tensor([0, 1000]), 0).toArray(); // [-1000, 0], finite
 * logSoftmax(tensor([-Infinity, -Infinity]), 0).toArray(); // [-Infinity, -Infinity]
 * logSoftmax(zeros([2, 2]), -1, { causal: true }).toArray(); // [[0, -Infinity], [-0.693..., -0.693...]]
 */
export function logSoftmax(x: Tensor, dim: number, options?: SoftmaxOptions): Tensor {
  return applySoftmax(logSoftmaxOp, x, dim, options);
}

/**
 * The gradient of `softmax(x, dim, options)` (with `log`: of `logSoftmax`) with respect to x, from
 * its output `y` and the output's gradient `g` (broadcastable to y), in one fused kernel: y (g -
 * sum(g y)), log: g - exp(y) sum(g), the sums along `dim` over the entries that take part; 0 at the
 * others and in rows where y is all 0 (log: -Infinity). Differentiable in g and y (gradients of
 * gradients). As torch's `_softmax_backward_data`.
 * @example
 * const y = softmax(tensor([[0, 0]]), 1);
 * softmaxBackward(tensor([[1, 0]]), y, 1).toArray(); // [[0.25, -0.25]]
 */
export function softmaxBackward(g: Tensor, y: Tensor, dim: number, options: SoftmaxOptions & { log?: boolean } = {}): Tensor {
  const op = "softmaxBackward";
  const d = normDim(op, dim, y.ndim);
  if (!isFloat(y.dtype) || g.dtype !== y.dtype) throw new DTypeError(op, `expects float g and y of one dtype, got ${g.dtype} and ${y.dtype}`);
  broadcastsTo(op, "g", g, y);
  const mask = maskInput(op, y, d, options) ?? new Tensor(new Uint8Array([1]), []);
  if (y.numel === 0) return y;
  if (y.ndim === 0) return call(softmaxBackwardOp, [g.reshape([1]), y.reshape([1]), mask], { dim: 0, log: !!options.log, causal: false }).reshape([]);
  return call(softmaxBackwardOp, [g, y, mask], { dim: d, log: !!options.log, causal: !!options.causal });
}
