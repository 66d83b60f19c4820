/**
 * The conformance kit's cases for the masked softmax and the fused softmax backward
 * (Backend.maskedSoftmax, Backend.softmaxBackward): fixed rows of special values (masked,
 * fully masked, infinite, NaN, 1e30, ties, subnormals, -0) with masks and causal rows, and random
 * ones (shapes, layouts, broadcast masks), large enough for the fast kernels to take them.
 */
import type { Backend, View } from "../kernels/backend.js";
import { referenceBackend } from "../kernels/reference.js";
import type { DType } from "../tensor/dtype.js";
import { contiguousStrides } from "../tensor/layout.js";
import { numel } from "../tensor/shape.js";
import type { CompareOptions, KitTolerances } from "./compare.js";
import { denseView, fillValues, KitRandom, LAYOUTS, randomView, specialValues, type Layout, type ValueKind } from "./generate.js";

/** The part of a kit case these build (cases.ts adds nothing else). */
interface SoftmaxKitCase {
  method: "maskedSoftmax" | "softmaxBackward";
  label: string;
  op?: string;
  dtype: DType;
  shape: number[];
  inputs: { name: string; view: View }[];
  elementwise: boolean;
  run(b: Backend): ArrayLike<number> | null;
  compare(want: ArrayLike<number>): CompareOptions;
}

const FLOATS: readonly DType[] = ["float32", "float64"];
const rtol = (t: KitTolerances, d: DType): number => (d === "float32" ? t.float32.rtol : t.float64.rtol);

/** A bool mask of `shape` from r (about a third false), its dims in `broadcast` of size 1 and expanded (stride 0). */
function maskView(r: KitRandom, shape: readonly number[], broadcast: readonly number[]): View {
  const own = shape.map((s, d) => (broadcast.includes(d) ? 1 : s));
  const data = new Uint8Array(numel(own)).map(() => (r.next() < 0.35 ? 0 : 1));
  const strides = contiguousStrides(own).map((s, d) => (own[d] === 1 && shape[d] !== 1 ? 0 : s));
  return { storage: data, shape: [...shape], strides, offset: 0, dtype: "bool" };
}

const describe = (mask: View | null, causal: boolean, log: boolean): string =>
  `${log ? "log " : ""}${mask ? `mask${mask.strides.includes(0) ? " (broadcast)" : ""} ` : ""}${causal ? "causal " : ""}`;

/** A maskedSoftmax case: softmax's bounds (4 rtol, relative and absolute). */
function forwardCase(x: View, log: boolean, mask: View | null, causal: boolean, label: string, t: KitTolerances): SoftmaxKitCase {
  const axis = x.shape.length - 1;
  const k = 4 * rtol(t, x.dtype);
  return {
    method: "maskedSoftmax",
    op: log ? "logSoftmax" : "softmax",
    label: `${describe(mask, causal, log)}${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: [...x.shape],
    inputs: mask ? [{ name: "x", view: x }, { name: "mask", view: mask }] : [{ name: "x", view: x }],
    elementwise: false,
    run: (b) => b.maskedSoftmax(x, axis, log, mask, causal),
    compare: () => ({ rtol: k, atol: k, signedZeros: false }),
  };
}

/**
 * A softmaxBackward case, y the reference's softmax of x. Each element may be off by 4 rtol times
 * (|want| + |g y| + the row's sum of |g y| (log: of |g|) times y (log: exp(y))): the row sum's
 * condition, as a dot product's bound (a fast kernel may sum in another order).
 */
function backwardCase(x: View, g: View, log: boolean, mask: View | null, causal: boolean, label: string, t: KitTolerances): SoftmaxKitCase {
  const axis = x.shape.length - 1;
  const y = { ...x, storage: referenceBackend.maskedSoftmax(x, axis, log, mask, causal), strides: contiguousStrides(x.shape), offset: 0 };
  const k = 4 * rtol(t, x.dtype);
  return {
    method: "softmaxBackward",
    op: log ? "logSoftmax" : "softmax",
    label: `${describe(mask, causal, log)}${x.dtype} ${label}`,
    dtype: x.dtype,
    shape: [...x.shape],
    inputs: [{ name: "g", view: g }, { name: "y", view: y }, ...(mask ? [{ name: "mask", view: mask }] : [])],
    elementwise: false,
    run: (b) => b.softmaxBackward(g, y, axis, log, mask, causal),
    compare: (want) => {
      const G = referenceBackend.copy(g, "float64");
      const Y = y.storage;
      const cols = x.shape[axis]!;
      const bound = new Float64Array(want.length);
      for (let r0 = 0; r0 < want.length; r0 += cols) {
        let s = 0;
        for (let j = r0; j < r0 + cols; j++) if (Number.isFinite(G[j]!)) s += Math.abs(log ? G[j]! : G[j]! * Y[j]!);
        for (let j = r0; j < r0 + cols; j++) {
          const f = log ? Math.exp(Y[j]!) : Math.abs(Y[j]!);
          const b = k * (Math.abs(want[j]!) + Math.abs(G[j]! * (log ? 1 : Y[j]!)) + f * s);
          bound[j] = Number.isFinite(b) ? b : 0;
        }
      }
      return { atol: k, bound, signedZeros: false };
    },
  };
}

/**
 * Fixed cases: [3, 10, 33] and [2, 8, 64] rows (a W6 attention row) of random values with special
 * values planted (a fully -Infinity row, a NaN, +Infinity, 1e30, ties, subnormals, -0), plain,
 * masked (dense and broadcast), causal and both, softmax and log, both dtypes; the backward of each.
 */
export function softmaxKitFixed(method: "maskedSoftmax" | "softmaxBackward", t: KitTolerances): SoftmaxKitCase[] {
  const cases: SoftmaxKitCase[] = [];
  const r = new KitRandom(1801);
  for (const dtype of FLOATS)
    for (const shape of [[3, 10, 33], [2, 8, 64]]) {
      const n = numel(shape);
      const cols = shape[2]!;
      const v = Array.from(fillValues(r, dtype, n, "ordinary"), (a) => 4 * a);
      const sp = specialValues(dtype);
      // row 0 all -Infinity, row 1 with a NaN, row 2 with +Infinity, row 3 huge and ties, row 4 special values
      for (let j = 0; j < cols; j++) v[j] = -Infinity;
      v[cols + 5] = NaN;
      v[2 * cols + 1] = Infinity;
      for (let j = 0; j < cols; j++) v[3 * cols + j] = j % 3 ? 1e30 : -1e30;
      for (let j = 0; j < cols; j++) v[4 * cols + j] = sp[j % sp.length]!;
      for (let j = 0; j < cols; j += 2) v[5 * cols + j] = -Infinity;
      const x = denseView(v, dtype, shape);
      const g = denseView(Array.from(fillValues(r, dtype, n, "ordinary"), (a, i) => (i % 97 === 3 ? sp[i % sp.length]! : a)), dtype, shape);
      for (const [mask, causal] of [[null, false], [maskView(r, shape, []), false], [null, true], [maskView(r, shape, [1]), true]] as const)
        for (const log of [false, true])
          cases.push(method === "maskedSoftmax" ? forwardCase(x, log, mask, causal, `[${shape}] special rows`, t) : backwardCase(x, g, log, mask, causal, `[${shape}] special rows`, t));
    }
  return cases;
}

/** A random case: shape [a, b, c] (c up to 80), layouts, value kinds, a mask (maybe broadcast) and causal or not. */
export function softmaxKitRandom(method: "maskedSoftmax" | "softmaxBackward", r: KitRandom, t: KitTolerances, maxEl: number, i: number): SoftmaxKitCase {
  const cols = 1 + r.int(80);
  const shape = [1 + r.int(4), 1 + r.int(Math.max(1, Math.min(40, Math.floor(maxEl / cols / 4)))), cols];
  const dtype = r.pick(FLOATS);
  const layout: Layout = i % 2 ? "contiguous" : r.pick(LAYOUTS);
  const kind: ValueKind = i % 3 === 2 ? "adversarial" : "ordinary";
  const x = randomView(r, shape, dtype, layout, kind);
  const masked = r.int(3);
  const mask = masked === 0 ? null : maskView(r, shape, masked === 1 ? [] : [1]);
  const causal = r.int(2) === 1;
  const log = r.int(2) === 1;
  const label = `${layout}${kind === "ordinary" ? "" : ` ${kind}`} [${shape}]`;
  if (method === "maskedSoftmax") return forwardCase(x, log, mask, causal, label, t);
  const g = randomView(r, shape, dtype, r.pick(LAYOUTS), kind === "adversarial" ? "finite" : "ordinary");
  return backwardCase(x, g, log, mask, causal, label, t);
}
