/**
 * Overflow-safe rescaling for the normalisations (layers/functional.ts, layers/standardize.ts and
 * the layerNorm op's recorded VJP in norm.ts); not public API.
 */
import { noGrad } from "../autograd/grad-mode.js";
import { contiguousData } from "../tensor/layout.js";
import { toDtype, type DType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";

/** A constant (non-trainable) tensor of `dtype` holding `values`. */
export function constLike(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
  return new Tensor(toDtype(values, dtype), shape);
}

/** Per-row power-of-two scales (see overflowScale) and eps scaled with them. */
export interface RowScale {
  /** Power of two per reduced row (keepdim shape), 1 for rows that need no scaling. */
  s: Tensor;
  /** eps / s^power per row. For rescaled rows it is floored so that rsqrt(eps)³ stays finite. */
  eps(eps: number, power: 1 | 2): Tensor;
}

/**
 * @internal Power-of-two scales for the rows of `x` reduced over `dims` whose largest magnitude
 * would overflow when squared and summed: max|x| >= 2^32 (float32) or 2^256 (float64). Returns null
 * when no row needs it (the common case: no extra op is recorded).
 *
 * NOTE: dividing by a power of two is exact, and layerNorm, rmsNorm, batchNorm, normalize and
 * cosineSimilarity are scale-invariant once eps is divided by s (or s²), so scaled rows give the
 * numbers the plain formula would give in exact arithmetic, without the overflow of x² to Infinity
 * (and the 0 * Infinity = NaN that follows). For scaled rows eps / s² is floored at 2^-64
 * (float32) / 2^-512 (float64), so that rsqrt'(eps) stays finite for a constant row: this only
 * matters for rows whose variance is below s² 2^-64 (relative 2^-64 of their square), where the
 * output is the deviation (0 for an exactly constant row) times a finite factor anyway.
 */
export function overflowScale(x: Tensor, dims: readonly number[]): RowScale | null {
  if (x.numel === 0 || dims.length === 0) return null;
  const limit = x.dtype === "float32" ? 2 ** 32 : 2 ** 256;
  const m = noGrad(() => x.abs().amax(dims, true));
  const md = contiguousData(m);
  const s = new Float64Array(md.length).fill(1);
  let any = false;
  for (let i = 0; i < md.length; i++) {
    const v = md[i]!;
    if (v >= limit && v < Infinity) {
      s[i] = 2 ** Math.floor(Math.log2(v));
      any = true;
    }
  }
  if (!any) return null;
  const floor = 1 / (limit * limit);
  return {
    s: constLike(x.dtype, m.shape, s),
    eps: (eps, power) => constLike(x.dtype, m.shape, s.map((v) => (v === 1 ? eps : Math.max(eps / v ** power, power === 2 ? floor : 0)))),
  };
}
