/**
 * The interval domain of the static hazard audit (guard/audit.ts), and the builders the op
 * families use to declare their interval rules beside each `define`. Bounds are tensors of the
 * value's shape and dtype, computed with the same kernels as the values (so a float32 exp
 * overflows to Infinity in its bound exactly where the real one would). Rounding is the kernels'
 * round-to-nearest, not outward: a bound can be one ulp tight.
 *
 * NOTE: this file uses Tensor methods and the tensor layer only (no import of a family file), so
 * the families can import it without a loop.
 */
import type { Bounds, IntervalContext, IntervalRules, IntervalVjpContext } from "../autograd/node.js";
import { full } from "../tensor/create.js";
import { allocArray } from "../tensor/dtype.js";
import { contiguousData } from "../tensor/layout.js";
// NOTE: the Tensor class itself only inside rules (it imports the op families, which import this file).
import { Tensor } from "../tensor/tensor.js";

export type { Bounds, IntervalRules } from "../autograd/node.js";

/** @internal The bounds [t, t] of a known value. */
export const point = (t: Tensor): Bounds => ({ lo: t, hi: t });

/** @internal Bounds [lo, hi] of t's shape and dtype with the same two numbers everywhere. */
export function constBounds(like: Tensor, lo: number, hi: number): Bounds {
  return { lo: full(like.shape, lo, { dtype: like.dtype }), hi: full(like.shape, hi, { dtype: like.dtype }) };
}

/** @internal Elementwise min and max of several tensors (NaN propagates). */
export function hull(ts: readonly Tensor[]): Bounds {
  let lo = ts[0]!;
  let hi = ts[0]!;
  for (const t of ts.slice(1)) {
    lo = lo.minimum(t);
    hi = hi.maximum(t);
  }
  return { lo, hi };
}

/**
 * @internal The elements a view reads as one contiguous 1-D view of its storage, when they are a
 * dense block (permuted or not, broadcast dims repeating it), or null. NOTE: an elementwise op, a
 * max or a finiteness test over it is the view's own, without the strided loop or copy (the
 * transposed and sliced bounds of attention: q, k^T, v).
 */
export function denseView(t: Tensor): Tensor | null {
  const dims: number[][] = [];
  t.shape.forEach((n, i) => n > 1 && t.strides[i] && dims.push([t.strides[i]!, n]));
  dims.sort((a, b) => a[0]! - b[0]!);
  let len = 1;
  for (const [stride, n] of dims) {
    if (stride !== len) return null;
    len *= n!;
  }
  return t.numel ? new Tensor(t.storage, [len], [1], t.offset) : null;
}

/** Both bounds as 1-D views of the elements they read, when they are two strided views of one layout each element once, else null. */
function sharedViews({ lo, hi }: Bounds): [Tensor, Tensor] | null {
  const v = lo.isContiguous() || `${lo.shape}|${lo.strides}|${lo.offset}` !== `${hi.shape}|${hi.strides}|${hi.offset}` ? null : denseView(lo);
  return v && v.numel === lo.numel ? [v, new Tensor(hi.storage, v.shape, [1], v.offset)] : null;
}

/** @internal Whether every element of the bounds is a point (lo == hi); reads contiguous bounds in place, stops at the first difference. */
export function isPoint(b: Bounds): boolean {
  if (b.lo === b.hi) return true;
  const v = sharedViews(b) ?? [b.lo, b.hi];
  const l = contiguousData(v[0]);
  const h = contiguousData(v[1]);
  for (let i = 0; i < l.length; i++) if (l[i] !== h[i]) return false;
  return true;
}

/** f(lo, hi) of elementwise tensor ops, contiguous; two strided bounds of one layout are read as their dense 1-D views and the result copied into place once. */
function elementwise(b: Bounds, f: (lo: Tensor, hi: Tensor) => Tensor): Tensor {
  const v = sharedViews(b);
  if (!v) return f(b.lo, b.hi);
  const r = f(...v);
  return new Tensor(r.storage, b.lo.shape, b.lo.strides, b.lo.offset - v[0].offset).contiguous();
}

/**
 * @internal The rule of an op monotone in each input: sign +1 non-decreasing, -1 non-increasing,
 * 0 an input read only for its shape or exact value (its lower bound is used). The op's own
 * forward computes both bounds. Structural ops (reshape, permute, slices, sums, max) are +1.
 */
export function monotone<I extends readonly Tensor[], A>(signs: readonly (1 | -1 | 0)[] | 1 = 1): IntervalRules<I, A> {
  return {
    forward: ({ bounds, attrs, forward }) => {
      // points in, a point out: one run of the op
      if (bounds.every((b) => b.lo === b.hi)) {
        const v = forward(bounds.map((b) => b.lo) as unknown as I, attrs);
        return { lo: v, hi: v };
      }
      const s = (i: number): number => (signs === 1 ? 1 : (signs[i] ?? 1));
      const lo = bounds.map((b, i) => (s(i) < 0 ? b.hi : b.lo)) as unknown as I;
      const hi = bounds.map((b, i) => (s(i) > 0 ? b.hi : b.lo)) as unknown as I;
      return { lo: forward(lo, attrs), hi: forward(hi, attrs) };
    },
  };
}

/**
 * @internal The rule of a unary op decreasing then increasing around `c` (or the reverse): the
 * extremes are at the ends, or f(c) when c lies inside. NOTE: f runs on the two ends; the hull and
 * f(c) are one loop (min and max as the minimum and maximum ops: NaN propagates).
 */
export function unimodal<A>(c = 0): IntervalRules<[Tensor], A> {
  return {
    forward: ({ bounds: [x], attrs, forward }) => {
      const f = (t: Tensor): Tensor => forward([t], attrs);
      if (x!.lo === x!.hi) return point(f(x!.lo));
      const a = f(x!.lo);
      const b = f(x!.hi);
      const fc = contiguousData(f(full([], c, { dtype: x!.lo.dtype })))[0]!;
      const ad = contiguousData(a);
      const bd = contiguousData(b);
      const l = contiguousData(x!.lo);
      const h = contiguousData(x!.hi);
      const lo = allocArray(a.dtype, ad.length);
      const hi = allocArray(a.dtype, ad.length);
      for (let i = 0; i < ad.length; i++) {
        let u = Math.min(ad[i]!, bd[i]!);
        let v = Math.max(ad[i]!, bd[i]!);
        if (l[i]! < c && h[i]! > c) {
          u = Math.min(u, fc);
          v = Math.max(v, fc);
        }
        lo[i] = u;
        hi[i] = v;
      }
      return { lo: new Tensor(lo, a.shape), hi: new Tensor(hi, a.shape) };
    },
  };
}

/** @internal The rule of an op whose output lies in [lo, hi] whatever its (finite) input. */
export function bounded<I extends readonly Tensor[], A>(lo: number, hi: number): IntervalRules<I, A> {
  return {
    forward: ({ bounds, out }) => {
      const b = constBounds(out, lo, hi);
      // A NaN input stays NaN, an infinite one (sin(Infinity)) gives NaN.
      const bad = bounds[0]!.lo.sub(bounds[0]!.lo).add(bounds[0]!.hi.sub(bounds[0]!.hi));
      return { lo: b.lo.add(bad), hi: b.hi.add(bad) };
    },
  };
}

/**
 * @internal Interval product of a and b (the four corner products; NaN for 0 · ∞). NOTE: when one
 * side is a point, its corners are two products, not four. (Tensor ops, not a loop: the wasm
 * kernels' SIMD beats a scalar loop here, copies included.)
 */
export function mulBounds(a: Bounds, b: Bounds): Bounds {
  if (b.lo === b.hi) return hull([a.lo.mul(b.lo), a.hi.mul(b.lo)]);
  if (a.lo === a.hi) return hull([a.lo.mul(b.lo), a.lo.mul(b.hi)]);
  return hull([a.lo.mul(b.lo), a.lo.mul(b.hi), a.hi.mul(b.lo), a.hi.mul(b.hi)]);
}

/** @internal Interval sum. */
export const addBounds = (a: Bounds, b: Bounds): Bounds => ({ lo: a.lo.add(b.lo), hi: a.hi.add(b.hi) });

/** @internal Interval negation. */
export const negBounds = (a: Bounds): Bounds => ({ lo: a.hi.neg(), hi: a.lo.neg() });

/** @internal The largest |x| over the bounds, elementwise. */
export const maxAbs = (a: Bounds): Tensor => a.lo.abs().maximum(a.hi.abs());

/** @internal [-m, m]. */
export const symmetric = (m: Tensor): Bounds => ({ lo: m.neg(), hi: m });

/**
 * @internal The rule of a bilinear op f(a, b) (matmul, conv): midpoint-radius form, f(ma, mb) ±
 * (f(|ma|, rb) + f(ra, |mb|) + f(ra, rb)), from the op's own forward. NOTE: with both inputs
 * intervals the radius is f(|ma| + ra, rb) + f(ra, |mb|) (bilinearity): three products, not four;
 * with one a point, two. (Tensor ops for the midpoints and radii: plain loops measured no faster.)
 */
export function bilinear<A>(): IntervalRules<[Tensor, Tensor], A> {
  const rules: IntervalRules<[Tensor, Tensor], A> = {
    forward: ({ bounds: [a, b], attrs, forward }) => {
      const f = (x: Tensor, y: Tensor): Tensor => forward([x, y], attrs);
      const mid = (x: Bounds): Tensor => (x.lo === x.hi ? x.lo : elementwise(x, (lo, hi) => lo.add(hi).mul(0.5)));
      const rad = (x: Bounds): Tensor | null => (x.lo === x.hi || isPoint(x) ? null : elementwise(x, (lo, hi) => hi.sub(lo).mul(0.5)));
      const ma = mid(a!);
      const mb = mid(b!);
      const ra = rad(a!);
      const rb = rad(b!);
      const m = f(ma, mb);
      let r: Tensor | null = null;
      if (ra && rb) r = f(ma.abs().add(ra), rb).add(f(ra, mb.abs()));
      else if (rb) r = f(ma.abs(), rb);
      else if (ra) r = f(ra, mb.abs());
      return r ? { lo: m.sub(r), hi: m.add(r) } : point(m);
    },
  };
  // NOTE: a property, not a module-level set: the families call bilinear() while this module may
  // not have run yet (the import loop through the Tensor class).
  Object.defineProperty(rules, "bilinear", { value: true });
  return rules;
}

/** @internal Whether rules were made by bilinear() (the audit bounds |f(a, b)| <= min(numel a, numel b) max|a| max|b| for them). */
export function isBilinear(rules: IntervalRules): boolean {
  return (rules as { bilinear?: boolean }).bilinear === true;
}

/** @internal Elementwise where on bounds: cond's bounds are bool (lo surely true, hi possibly true). */
export function whereBounds(c: Bounds, a: Bounds, b: Bounds): Bounds {
  const sure = c.lo;
  const never = c.hi.logicalNot();
  // NOTE: t.where(cond, other) is cond ? t : other
  const pick = (x: Tensor, y: Tensor, both: Tensor): Tensor => x.where(sure, y.where(never, both));
  return { lo: pick(a.lo, b.lo, a.lo.minimum(b.lo)), hi: pick(a.hi, b.hi, a.hi.maximum(b.hi)) };
}

/** @internal The gradient bounds g · [lo, hi] of a VJP whose local derivative lies in [lo, hi]. */
export function scaleGrad(g: Bounds, slope: Bounds): Bounds {
  return mulBounds(g, slope);
}

export type { IntervalContext, IntervalVjpContext };
