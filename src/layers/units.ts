/**
 * The interval rules of the known safe composites of functional.ts, for the static hazard audit
 * (guard/audit.ts): each is taken as one unit, because plain intervals cannot see why it is safe
 * (they lose that m = max(-x, 0) in binaryCrossEntropyWithLogits, and the branch on tiny norms in
 * cosineSimilarity depends on the values).
 */
import type { CompositeDef } from "../autograd/composite.js";
import type { Bounds } from "../autograd/node.js";
import { addBounds, constBounds, maxAbs, mulBounds, negBounds, symmetric } from "../ops/interval.js";
import type { Tensor } from "../tensor/tensor.js";

const decreasing = (b: Bounds, f: (t: Tensor) => Tensor): Bounds => ({ lo: f(b.hi), hi: f(b.lo) });
const one = (like: Bounds): Bounds => constBounds(like.lo, 1, 1);

/**
 * binaryCrossEntropyWithLogits' elementwise loss (1 - t) x + w sp(-x), w = 1 + (p - 1) t (p the
 * posWeight, 1 without), sp = softplus: finite for every finite x. Gradients: x gets
 * g ((1 - t) - w σ(-x)), t gets g (-x + (p - 1) sp(-x)), p gets g t sp(-x).
 * @internal
 */
export const bceWithLogitsUnit: CompositeDef<null> = {
  name: "binaryCrossEntropyWithLogits",
  interval: {
    forward: ({ bounds: [x, t, p] }) => {
      const sp = decreasing(x!, (v) => v.neg().softplus());
      const w = p ? addBounds(one(t!), mulBounds(addBounds(p, constBounds(p.lo, -1, -1)), t!)) : null;
      return addBounds(mulBounds(addBounds(one(t!), negBounds(t!)), x!), w ? mulBounds(w, sp) : sp);
    },
    vjp: ({ g, bounds: [x, t, p] }) => {
      const sp = decreasing(x!, (v) => v.neg().softplus());
      const sig = decreasing(x!, (v) => v.neg().sigmoid());
      const pm1 = p ? addBounds(p, constBounds(p.lo, -1, -1)) : null;
      const w = pm1 ? addBounds(one(t!), mulBounds(pm1, t!)) : one(t!);
      const gx = mulBounds(g, addBounds(addBounds(one(t!), negBounds(t!)), negBounds(mulBounds(w, sig))));
      const gt = mulBounds(g, pm1 ? addBounds(negBounds(x!), mulBounds(pm1, sp)) : negBounds(x!));
      const gp = p ? mulBounds(g, mulBounds(t!, sp)) : null;
      return p ? [gx, gt, gp] : [gx, gt];
    },
  },
};

/**
 * cosineSimilarity over dim d: in [-1, 1] up to the rounding of a d-term dot product of unit
 * vectors (a cosine of a vector with itself can be 1 + 1 ulp). The gradient of a is
 * g (b̂ - cos â) / max(|a|, eps): at most 2 |g| / max(|a|, eps) in size.
 * @internal
 */
export const cosineSimilarityUnit: CompositeDef<{ dim: number; eps: number }> = {
  name: "cosineSimilarity",
  interval: {
    forward: ({ bounds: [a], out, attrs }) => {
      const n = a!.lo.shape[attrs.dim] ?? 1;
      const slack = (n + 2) * (out.dtype === "float64" ? 2 ** -53 : 2 ** -24);
      return constBounds(out, -1 - slack, 1 + slack);
    },
    vjp: ({ g, bounds, inputs, attrs }) => {
      const shape = inputs.length === 2 ? broadcast(inputs[0]!.shape, inputs[1]!.shape) : inputs[0]!.shape;
      const gm = maxAbs(g).unsqueeze(attrs.dim).expand(shape);
      return bounds.map((x) => {
        const minAbs = x.lo.abs().minimum(x.hi.abs()).where(x.lo.gt(0).logicalOr(x.hi.lt(0)), 0);
        const n = minAbs.expand(shape).norm(2, attrs.dim, true).maximum(attrs.eps);
        return symmetric(gm.mul(2).div(n));
      });
    },
  },
};

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1));
}

/**
 * (x - mean) / sqrt(var + eps) over dims (layerNorm, batchNorm in training): |y| <= sqrt(n - 1)
 * (the largest standardised deviation of n values) and <= range / sqrt(eps); NaN bounds for eps = 0
 * (a constant row gives 0 · ∞). The gradient (g - mean(g) - y mean(g y)) / sqrt(var + eps) is at
 * most max|g| (2 + sqrt(n - 1)) / sqrt(eps) in size.
 * @internal
 */
export const standardizeUnit: CompositeDef<{ dims: number[]; eps: number }> = {
  name: "standardize",
  interval: {
    forward: ({ bounds: [x], inputs: [xv], attrs: { dims, eps }, out }) => {
      const n = dims.reduce((a, d) => a * xv!.shape[d]!, 1);
      if (!(eps > 0)) return constBounds(out, NaN, NaN);
      const range = x!.hi.amax(dims, true).sub(x!.lo.amin(dims, true));
      return symmetric(range.div(Math.sqrt(eps)).minimum(Math.sqrt(Math.max(n - 1, 0))).expand(xv!.shape));
    },
    vjp: ({ g, inputs: [xv], attrs: { dims, eps } }) => {
      const n = dims.reduce((a, d) => a * xv!.shape[d]!, 1);
      const G = maxAbs(g).amax(dims, true);
      return [symmetric(G.mul((2 + Math.sqrt(Math.max(n - 1, 0))) / Math.sqrt(eps)).expand(xv!.shape))];
    },
  },
};
