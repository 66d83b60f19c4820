/**
 * Layer normalisation as one op (issue 18): the forward is one kernel (Backend.layerNorm: the row
 * statistics in float64, the affine weight and bias fused), and so is the backward when no graph is
 * being recorded (Backend.layerNormBackward: dx, dweight and dbias from x, weight and the output's
 * gradient, the statistics recomputed from x). When the backward itself is recorded (createGraph,
 * for gradients of gradients), the VJP is the same formula written with tensor ops.
 *
 * Safe at every magnitude, as the composite standardisation it replaces (layers/standardize.ts):
 * eps inside the root; each row shifted by its first entry, so a constant row standardises to
 * exactly 0 (0, -0, subnormals, 1e30, 1e300); rows whose squares would overflow divided by a power
 * of two first (in the kernels: float64 rows with max |x| >= 2^256; float32 rows cannot overflow a
 * float64 accumulator), eps with them. layers/functional.ts's layerNorm calls it for eps > 0 (with
 * eps = 0 the composite runs, whose rsqrt the anomaly hints name).
 */
import { isGradEnabled } from "../autograd/grad-mode.js";
import { getBackend } from "../kernels/registry.js";
import { full } from "../tensor/create.js";
import { Tensor } from "../tensor/tensor.js";
import { call, OpFamily } from "./define.js";
import { overflowScale } from "./overflow-scale.js";
import { addBounds, constBounds, maxAbs, mulBounds, symmetric, type Bounds } from "./interval.js";

/** @internal The norm family's op-table entries. */
export const normOps = new OpFamily("norm");

/** The attributes of the layerNorm op: the number of trailing dims normalised, and eps (> 0). */
interface LayerNormAttrs {
  k: number;
  eps: number;
}

const trailingDims = (x: Tensor, k: number): number[] => Array.from({ length: k }, (_, i) => x.ndim - k + i);
const rowLength = (x: Tensor, k: number): number => x.shape.slice(x.ndim - k).reduce((a, s) => a * s, 1);

/**
 * (x - mean) / sqrt(var + eps) over `dims` and 1 / sqrt(var + eps) in x's units, with tensor ops
 * (recorded: the VJP's path for gradients of gradients). The same safety as the kernels, in x's own
 * dtype: rows with max |x| >= 2^32 (float32) or 2^256 (float64) divided by a power of two s, eps by
 * s² (floored at 2^-64 / 2^-512), and each row shifted by its first entry (detached).
 */
function standardizeRecorded(x: Tensor, dims: number[], eps: number): { xhat: Tensor; rstd: Tensor } {
  const sc = overflowScale(x, dims);
  const xs = sc ? x.div(sc.s) : x;
  let shift = xs.detach();
  for (const d of dims) shift = shift.narrow(d, 0, 1);
  const xc = xs.sub(shift);
  const d = xc.sub(xc.mean(dims, true));
  const r = d.square().mean(dims, true).add(sc ? sc.eps(eps, 2) : eps).rsqrt();
  return { xhat: d.mul(r), rstd: sc ? r.div(sc.s) : r };
}

/** Sum over the leading (not normalised) dims: a per-row tensor to the weight's shape. */
function sumLeading(t: Tensor, k: number): Tensor {
  const lead = Array.from({ length: t.ndim - k }, (_, i) => i);
  return lead.length ? t.sum(lead) : t;
}

/** |standardised x| <= sqrt(n - 1) (the largest standardised deviation of n values) and <= range / sqrt(eps). */
function standardizedBound(x: Bounds, xv: Tensor, k: number, eps: number): Tensor {
  const dims = trailingDims(xv, k);
  const n = rowLength(xv, k);
  const range = x.hi.amax(dims, true).sub(x.lo.amin(dims, true));
  return range.div(Math.sqrt(eps)).minimum(Math.sqrt(Math.max(n - 1, 0))).expand(xv.shape);
}

const layerNormOp = normOps.define<readonly Tensor[], LayerNormAttrs>({
  name: "layerNorm",
  forward: ([x, w, b], { k, eps }) => new Tensor(getBackend().layerNorm(x!, w ?? null, b ?? null, rowLength(x!, k), eps), x!.shape),
  // x and the weight (always there: ones without an affine weight; the bias is read by shape only)
  saved: [0, 1],
  vjp: ({ g, inputs: [x, w, b], attrs: { k, eps }, needs }) => {
    if (!isGradEnabled()) {
      // NOTE: no graph is recorded: one kernel for all three gradients
      const [dx, dw, db] = getBackend().layerNormBackward(x!, w ?? null, g, rowLength(x!, k), eps);
      return [needs[0] ? new Tensor(dx, x!.shape) : null, w && needs[1] ? new Tensor(dw, w.shape) : null, b && needs[2] ? new Tensor(db, b.shape) : null];
    }
    // gradients of gradients: dx = rstd (gw - mean(gw) - xhat mean(gw xhat)), gw = g w, in tensor ops
    const dims = trailingDims(x!, k);
    const { xhat, rstd } = standardizeRecorded(x!, dims, eps);
    const gw = w ? g.mul(w) : g;
    const dx = needs[0] ? gw.sub(gw.mean(dims, true)).sub(xhat.mul(gw.mul(xhat).mean(dims, true))).mul(rstd) : null;
    return [dx, w && needs[1] ? g.mul(xhat) : null, b && needs[2] ? g : null];
  },
  interval: {
    // |y| <= sqrt(n - 1) before the affine (and <= range / sqrt(eps)), then times the weight plus the bias
    forward: ({ bounds: [x, w, b], inputs: [xv], attrs: { k, eps }, out }) => {
      if (!(eps > 0)) return constBounds(out, NaN, NaN);
      let y = symmetric(standardizedBound(x!, xv!, k, eps));
      if (w) y = mulBounds(y, w);
      if (b) y = addBounds(y, b);
      return y;
    },
    // |dx| <= max|g w| (2 + sqrt(n - 1)) / sqrt(eps); |dweight| <= sum over rows of |g| |xhat|; dbias = sum over rows of g
    vjp: ({ g, bounds: [x, w, b], inputs: [xv], attrs: { k, eps } }) => {
      const n = rowLength(xv!, k);
      const gm = maxAbs(g);
      const gw = w ? gm.mul(maxAbs(w)) : gm;
      const G = gw.amax(trailingDims(xv!, k), true);
      const gx = symmetric(G.mul((2 + Math.sqrt(Math.max(n - 1, 0))) / Math.sqrt(eps)).expand(xv!.shape));
      const gwB = w ? symmetric(sumLeading(gm.mul(standardizedBound(x!, xv!, k, eps)), k)) : null;
      const gbB = b ? { lo: sumLeading(g.lo, k), hi: sumLeading(g.hi, k) } : null;
      return w ? (b ? [gx, gwB, gbB] : [gx, gwB]) : [gx];
    },
  },
});

/**
 * @internal Layer normalisation over the last `k` dims of float x as one op: (x - mean) /
 * sqrt(var + eps) * weight + bias (biased variance; weight and bias of the normalised shape; without
 * a weight the op gets a constant one of ones, so its inputs are always [x, weight(, bias)]). eps
 * must be > 0. The caller (layers/functional.ts's layerNorm) checks shapes and dtypes.
 */
export function layerNormOpCall(x: Tensor, k: number, eps: number, weight?: Tensor | null, bias?: Tensor | null): Tensor {
  const w = weight ?? full(x.shape.slice(x.ndim - k), 1, { dtype: x.dtype });
  return call(layerNormOp, bias ? [x, w, bias] : [x, w], { k, eps });
}
