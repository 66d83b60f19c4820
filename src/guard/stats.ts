import { contiguousData } from "../tensor/layout.js";
import { shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/** Summary of a tensor for a NaN report. min/max are over finite elements (null if none). */
export interface TensorStats {
  /** The tensor's name (module parameters are named), if any. */
  name?: string;
  /** The tensor's shape. */
  shape: number[];
  /** The tensor's dtype. */
  dtype: string;
  /** Number of elements. */
  numel: number;
  /** Smallest finite element, or null if there is none. */
  min: number | null;
  /** Largest finite element, or null if there is none. */
  max: number | null;
  /** Number of exact zeros. */
  zeros: number;
  /** Number of NaN elements. */
  nan: number;
  /** Number of +Infinity elements. */
  posInf: number;
  /** Number of -Infinity elements. */
  negInf: number;
}

export function tensorStats(t: Tensor, name?: string): TensorStats {
  const d = contiguousData(t);
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (v !== v) nan++;
    else if (v === Infinity) posInf++;
    else if (v === -Infinity) negInf++;
    else {
      if (v === 0) zeros++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const s: TensorStats = {
    shape: [...t.shape],
    dtype: t.dtype,
    numel: d.length,
    min: min === Infinity ? null : min,
    max: max === -Infinity ? null : max,
    zeros,
    nan,
    posInf,
    negInf,
  };
  const n = name ?? t.name;
  if (n) s.name = n;
  return s;
}


export { allFinite } from "../tensor/layout.js";

export function hasNaN(t: Tensor): boolean {
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return true;
  return false;
}

export function formatStats(s: TensorStats): string {
  const fmt = (v: number | null): string => (v === null ? "-" : Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(+v.toFixed(4)));
  const bad = [s.nan ? `${s.nan} NaN` : "", s.posInf ? `${s.posInf} +Inf` : "", s.negInf ? `${s.negInf} -Inf` : ""].filter(Boolean).join(", ");
  // No finite element: no min or max to print (this read "min -, max -, 0 zeros, ...").
  const values = s.min === null || s.max === null ? (s.numel === 0 ? "empty" : `no finite value (${bad})`) : `min ${fmt(s.min)}, max ${fmt(s.max)}, ${s.zeros} zeros${bad ? ", " + bad : ""}`;
  return `${s.name ? `"${s.name}" ` : ""}${shapeStr(s.shape)} ${s.dtype}: ${values}`;
}

