/**
 * js-fast's softmax (plain, log, masked, causal) and its fused backward, for dense float32 /
 * float64 rows along the last axis: one pass for the max, one for exp and its sum (into the output),
 * one to scale; float64 arithmetic, no per-element index computation. Other layouts return null
 * (the reference runs them).
 */
import { allocArray, type TypedArray } from "../../tensor/dtype.js";
import { offsetsOf } from "../../tensor/layout.js";
import { numel } from "../../tensor/shape.js";
import type { Backend, View } from "../backend.js";
import { completeBackend } from "../registry.js";
import { isDense } from "./runs.js";

/** The rows of a call (dense views along the last axis), or null. */
function rowsOf(axis: number, mask: View | null, ...vs: View[]): { rows: number; cols: number; maskAt: Int32Array | null; maskStep: number } | null {
  const x = vs[0]!;
  const nd = x.shape.length;
  if (axis !== nd - 1 || !vs.every((v) => isDense(v.shape, v) && v.dtype === x.dtype)) return null;
  const cols = x.shape[axis]!;
  if (numel(x.shape) === 0) return null;
  return {
    rows: numel(x.shape) / cols,
    cols,
    maskAt: mask ? offsetsOf(x.shape.map((s, d) => (d === axis ? 1 : s)), mask.strides, mask.offset) : null,
    maskStep: mask ? mask.strides[axis]! : 0,
  };
}

/** Writes into `on` whether each entry of row r takes part; returns the number of leading entries to scan. */
function rowMask(on: Uint8Array, mask: View | null, at: Int32Array | null, step: number, r: number, cols: number, L: number): number {
  const a = L ? Math.min(cols, (r % L) + 1) : cols;
  if (!mask) return a;
  const M = mask.storage;
  for (let j = 0, mo = at![r]!; j < a; j++, mo += step) on[j] = M[mo] === 0 ? 0 : 1;
  return a;
}

/** Masked softmax / log-softmax along the last axis of a dense float x; null for other layouts. */
export function maskedSoftmaxJs(x: View, axis: number, log: boolean, mask: View | null, causal: boolean): TypedArray | null {
  const p = rowsOf(axis, mask, x);
  if (!p) return null;
  const { rows, cols } = p;
  const X = x.storage;
  const o0 = x.offset;
  const out = allocArray(x.dtype, rows * cols);
  const L = causal ? x.shape[x.shape.length - 2]! : 0;
  const on = new Uint8Array(cols).fill(1);
  const dead = log ? -Infinity : 0;
  for (let r = 0; r < rows; r++) {
    const b = o0 + r * cols;
    const ob = r * cols;
    const a = rowMask(on, mask, p.maskAt, p.maskStep, r, cols, L);
    let m = -Infinity;
    for (let j = 0; j < a; j++) {
      const v = X[b + j]!;
      if (on[j] && (v > m || v !== v)) m = v;
    }
    const shift = m === Infinity || m === -Infinity ? 0 : m;
    let sum = 0;
    for (let j = 0; j < a; j++) {
      const e = on[j] ? Math.exp(X[b + j]! - shift) : 0;
      out[ob + j] = e;
      sum += e;
    }
    if (sum === 0) {
      out.fill(dead, ob, ob + cols);
      continue;
    }
    if (log) {
      const ls = Math.log(sum);
      for (let j = 0; j < a; j++) out[ob + j] = on[j] ? X[b + j]! - shift - ls : -Infinity;
    } else {
      const f = 1 / sum;
      for (let j = 0; j < a; j++) out[ob + j] = on[j] ? out[ob + j]! * f : 0;
    }
    out.fill(dead, ob + a, ob + cols);
  }
  return out;
}

/** The fused softmax / log-softmax backward along the last axis of dense float g and y; null for other layouts. */
export function softmaxBackwardJs(g: View, y: View, axis: number, log: boolean, mask: View | null, causal: boolean): TypedArray | null {
  const p = rowsOf(axis, mask, y, g);
  if (!p) return null;
  const { rows, cols } = p;
  const [G, Y] = [g.storage, y.storage];
  const [go, yo] = [g.offset, y.offset];
  const out = allocArray(y.dtype, rows * cols);
  const L = causal ? y.shape[y.shape.length - 2]! : 0;
  const on = new Uint8Array(cols).fill(1);
  const dead = log ? -Infinity : 0;
  for (let r = 0; r < rows; r++) {
    const [gb, yb, ob] = [go + r * cols, yo + r * cols, r * cols];
    const a = rowMask(on, mask, p.maskAt, p.maskStep, r, cols, L);
    let sum = 0;
    let live = false;
    for (let j = 0; j < a; j++) {
      if (!on[j]) continue;
      const yj = Y[yb + j]!;
      sum += log ? G[gb + j]! : G[gb + j]! * yj;
      if (yj !== dead) live = true;
    }
    // out is allocated zero: dead rows and entries that take no part stay 0
    if (!live) continue;
    if (log) for (let j = 0; j < a; j++) out[ob + j] = on[j] ? G[gb + j]! - Math.exp(Y[yb + j]!) * sum : 0;
    else for (let j = 0; j < a; j++) out[ob + j] = on[j] ? Y[yb + j]! * (G[gb + j]! - sum) : 0;
  }
  return out;
}

// other layouts are delegated to the reference through completeBackend (a fast backend never
// imports the oracle itself: test/architecture/layers.test.ts)
const fallback = completeBackend({ name: "js-softmax-fallback" });

/** The Backend methods: the loops above, or the reference for other layouts. */
export const softmaxMethods: Pick<Backend, "softmax" | "maskedSoftmax" | "softmaxBackward"> = {
  softmax: (x, axis, log) => maskedSoftmaxJs(x, axis, log, null, false) ?? fallback.softmax(x, axis, log),
  maskedSoftmax: (x, axis, log, mask, causal) => maskedSoftmaxJs(x, axis, log, mask, causal) ?? fallback.maskedSoftmax(x, axis, log, mask, causal),
  softmaxBackward: (g, y, axis, log, mask, causal) => softmaxBackwardJs(g, y, axis, log, mask, causal) ?? fallback.softmaxBackward(g, y, axis, log, mask, causal),
};
