/**
 * (x - mean) * rsqrt(var + eps) over some dims, safe at every magnitude: the one standardisation
 * that batchNorm and groupNorm share (layers/functional.ts and functional-spatial.ts), one unit for
 * the audit. layerNorm uses it only with eps = 0; otherwise it is one fused op (ops/norm.ts) with
 * the same safety (shift by the first entry, eps inside the root, overflow scaling).
 */
import { composite } from "../autograd/composite.js";
import type { Tensor } from "../tensor/tensor.js";
import { overflowScale, type RowScale } from "../ops/overflow-scale.js";
import { standardizeUnit } from "./units.js";

/** x / s (or x itself when nothing needs scaling). */
export function scaled(x: Tensor, sc: RowScale | null): Tensor {
  return sc ? x.div(sc.s) : x;
}

/**
 * (x - mean) * rsqrt(var + eps) over `dims` (biased variance), overflow-safe.
 * Returns the normalised tensor and the (scaled) statistics for running-stat updates.
 */
export function standardize(x: Tensor, dims: number[], eps: number): { y: Tensor; mean: Tensor; varBiased: Tensor; sc: RowScale | null } {
  const sc = overflowScale(x, dims);
  let mean = x;
  let varBiased = x;
  // one unit for the audit (layers/units.ts): intervals alone lose that |y| <= sqrt(n - 1)
  const y = composite(standardizeUnit, [x], { dims, eps }, () => {
    const xs = scaled(x, sc);
    // NOTE: each row is shifted by its first entry (detached) before the mean, so a constant row
    // has a mean of exactly 0 and standardises to exactly 0 (before, the mean's rounding left ulps
    // that the rsqrt of a tiny variance blew up: a row of 1e30 gave ±1 instead of 0). Standardising
    // is shift-invariant, so value and gradient are x's own; `mean` adds the shift back.
    let shift: Tensor | null = null;
    if (dims.every((d) => x.shape[d]! > 0)) {
      shift = xs.detach();
      for (const d of dims) shift = shift.narrow(d, 0, 1);
    }
    const xc = shift ? xs.sub(shift) : xs;
    const m = xc.mean(dims, true);
    mean = shift ? m.add(shift) : m;
    const d = xc.sub(m);
    varBiased = d.square().mean(dims, true);
    // NOTE: eps inside the root: a constant row (var = 0) gives rsqrt(eps), finite in value and gradient.
    return d.mul(varBiased.add(sc ? sc.eps(eps, 2) : eps).rsqrt());
  });
  return { y, mean, varBiased, sc };
}
