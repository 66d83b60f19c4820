/**
 * The reference backend's masked softmax and fused softmax backward (plain loops over lanes, in
 * float64): the oracle for the fast kernels of the same methods (js/softmax.ts, wasm/softmax.ts).
 *
 * An entry "takes part" where the mask (a bool view of x's shape, stride 0 where it broadcasts) is
 * true and, with `causal`, where its index j along the last axis is at most its index i along the
 * one before (x [..., L, S], axis the last). Entries that take no part are skipped: they read
 * nothing, give 0 (log: -Infinity) and a zero gradient. A lane with no entry that takes part, or
 * whose entries that do are all -Infinity, is dead: zeros (log: -Infinity), zero gradient.
 */
import { allocArray, type TypedArray } from "../tensor/dtype.js";
import { contiguousStrides, offsetsOf } from "../tensor/layout.js";
import { numel } from "../tensor/shape.js";
import type { View } from "./backend.js";

/** Per lane of `axis`: the storage offset of its first element in each view, and the row index i (causal). */
function lanes(shape: readonly number[], axis: number, views: readonly (View | null)[]): { starts: (number[] | null)[]; steps: number[]; rows: number } {
  const laneShape = shape.map((s, d) => (d === axis ? 1 : s));
  const starts = views.map((v) => (v ? Array.from(offsetsOf(laneShape, v.strides, v.offset)) : null));
  const steps = views.map((v) => (v ? v.strides[axis]! : 0));
  return { starts, steps, rows: shape.length >= 2 ? shape[shape.length - 2]! : 1 };
}

/** Whether entry k of lane l takes part (mask at offset mb + k ms; causal: k <= the lane's row). */
const takesPart = (mask: View | null, mb: number, ms: number, causal: boolean, row: number, k: number): boolean =>
  (!mask || mask.storage[mb + k * ms] !== 0) && (!causal || k <= row);

/** Masked softmax (log: log-softmax) along `axis`; see the file header. */
export function maskedSoftmaxReference(x: View, axis: number, log: boolean, mask: View | null, causal: boolean): TypedArray {
  const shape = x.shape;
  const len = shape[axis]!;
  const out = allocArray(x.dtype, numel(shape));
  const os = contiguousStrides(shape);
  const { starts, steps, rows } = lanes(shape, axis, [x, { ...x, strides: os, offset: 0 }, mask]);
  const [xs, ot, ms] = steps as [number, number, number];
  const s = x.storage;
  const e = new Float64Array(len);
  const dead = log ? -Infinity : 0;
  for (let l = 0; l < starts[0]!.length; l++) {
    const [b, ob, mb] = [starts[0]![l]!, starts[1]![l]!, starts[2]?.[l] ?? 0];
    const row = l % rows;
    const on = (k: number): boolean => takesPart(mask, mb, ms, causal, row, k);
    let m = -Infinity;
    for (let k = 0; k < len; k++) {
      if (!on(k)) continue;
      const v = s[b + k * xs]!;
      if (v > m || v !== v) m = v;
      if (m !== m) break;
    }
    const shift = Math.abs(m) === Infinity ? 0 : m;
    let sum = 0;
    for (let k = 0; k < len; k++) sum += e[k] = on(k) ? Math.exp(s[b + k * xs]! - shift) : 0;
    const ls = Math.log(sum);
    for (let k = 0; k < len; k++) {
      const o = ob + k * ot;
      if (sum === 0 || !on(k)) out[o] = dead;
      else out[o] = log ? s[b + k * xs]! - shift - ls : e[k]! / sum;
    }
  }
  return out;
}

/**
 * The gradient of (masked) softmax along `axis` from its output y and the output's gradient g:
 * softmax: y (g - sum(g y)); log-softmax: g - exp(y) sum(g); sums over the entries that take
 * part, zero elsewhere and in dead lanes (softmax: y all 0; log: y all -Infinity).
 */
export function softmaxBackwardReference(g: View, y: View, axis: number, log: boolean, mask: View | null, causal: boolean): TypedArray {
  const shape = y.shape;
  const len = shape[axis]!;
  const out = allocArray(y.dtype, numel(shape));
  const os = contiguousStrides(shape);
  const { starts, steps, rows } = lanes(shape, axis, [g, y, { ...y, strides: os, offset: 0 }, mask]);
  const [gs, ys, ot, ms] = steps as [number, number, number, number];
  const G = g.storage;
  const Y = y.storage;
  for (let l = 0; l < starts[0]!.length; l++) {
    const [gb, yb, ob, mb] = [starts[0]![l]!, starts[1]![l]!, starts[2]![l]!, starts[3]?.[l] ?? 0];
    const row = l % rows;
    const on = (k: number): boolean => takesPart(mask, mb, ms, causal, row, k);
    let sum = 0;
    let live = false;
    for (let k = 0; k < len; k++) {
      if (!on(k)) continue;
      const yk = Y[yb + k * ys]!;
      sum += log ? G[gb + k * gs]! : G[gb + k * gs]! * yk;
      if (yk !== (log ? -Infinity : 0)) live = true;
    }
    for (let k = 0; k < len; k++) {
      const o = ob + k * ot;
      if (!live || !on(k)) {
        out[o] = 0;
        continue;
      }
      const [gk, yk] = [G[gb + k * gs]!, Y[yb + k * ys]!];
      out[o] = log ? gk - Math.exp(yk) * sum : yk * (gk - sum);
    }
  }
  return out;
}
