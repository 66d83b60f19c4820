/**
 * How a tensor's elements sit in its storage: strides, offsets, contiguity, and the strides of a
 * view (reshape without copying, broadcast). Pure index arithmetic on (shape, strides, offset):
 * it knows nothing of the Tensor class, so the Tensor, the kernels (reference and fast alike) and
 * the ops share it.
 */
import { ShapeError } from "../errors.js";
import { allocArray, type DType, type TypedArray } from "./dtype.js";
import { numel, shapeStr, type Shape } from "./shape.js";

/**
 * What a kernel sees of a tensor: storage plus layout. Kernels know nothing about autograd.
 * A view may be non-contiguous (transposed, expanded with stride 0, narrowed with an offset).
 * Every Tensor is a View.
 * @example
 * const v: View = a.transpose(0, 1);
 * v.strides; // [1, 3]
 */
export interface View {
  /** The typed array holding the elements (shared between views). */
  readonly storage: TypedArray;
  /** The size of each dim. */
  readonly shape: Shape;
  /** Storage elements to skip per step along each dim (0 for a broadcast dim). */
  readonly strides: readonly number[];
  /** Storage index of the first element. */
  readonly offset: number;
  /** The element type, matching the storage's class. */
  readonly dtype: DType;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  return strides;
}

/** True when the view's elements are storage[offset .. offset + numel) in row-major order. */
export function isContiguous(v: { shape: Shape; strides: readonly number[] }): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const s = v.shape[i]!;
    if (s !== 1 && v.strides[i] !== expected) return false;
    expected *= s;
  }
  return true;
}

/** Storage index of every element of a strided layout, in row-major order. */
export function offsetsOf(shape: Shape, strides: readonly number[], offset: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Read every element of a view into a fresh contiguous array of the same dtype (or the storage itself when it already is one). */
export function contiguousData(v: View): TypedArray {
  const n = numel(v.shape);
  if (isContiguous(v)) return v.offset === 0 && v.storage.length === n ? v.storage : v.storage.slice(v.offset, v.offset + n);
  const out = allocArray(v.dtype, n);
  if (n === 0) return out;
  // NOTE: row by row along the innermost dim (an odometer over the outer ones), without the
  // Int32Array of n offsets that offsetsOf builds (4 bytes more per element, and a second pass)
  const s = v.storage;
  const nd = v.shape.length;
  const len = v.shape[nd - 1]!;
  const step = v.strides[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let off = v.offset;
  for (let o = 0; ; ) {
    if (step === 0) out.fill(s[off]!, o, o + len);
    else for (let j = 0, k = off; j < len; j++, k += step) out[o + j] = s[k]!;
    o += len;
    let d = nd - 2;
    for (; d >= 0; d--) {
      idx[d]!++;
      off += v.strides[d]!;
      if (idx[d]! < v.shape[d]!) break;
      off -= v.strides[d]! * v.shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return out;
  }
}

/** Strides of `v` broadcast to `shape`: 0 on new and size-1 dims (no copy). */
export function expandStrides(v: { shape: Shape; strides: readonly number[] }, shape: Shape): number[] {
  const nd = shape.length;
  const vd = v.shape.length;
  if (nd < vd) throw new ShapeError("expand", `cannot expand ${shapeStr(v.shape)} to fewer dims ${shapeStr(shape)}`);
  const strides = new Array<number>(nd);
  for (let i = 0; i < nd; i++) {
    const j = i - (nd - vd);
    const target = shape[i]!;
    if (j < 0) {
      strides[i] = 0;
      continue;
    }
    const s = v.shape[j]!;
    if (s === target) strides[i] = v.strides[j]!;
    else if (s === 1) strides[i] = 0;
    else throw new ShapeError("expand", `cannot expand ${shapeStr(v.shape)} to ${shapeStr(shape)} (dim ${i}: ${s} vs ${target})`);
  }
  return strides;
}

/**
 * Strides for viewing `v` with a new shape without copying, or null when the layout does not allow
 * it (the algorithm of torch's `computeStride`: merge runs of dims that are contiguous together).
 */
export function viewStrides(v: { shape: Shape; strides: readonly number[] }, shape: Shape): number[] | null {
  const oldShape = v.shape;
  const oldStrides = v.strides;
  const n = numel(shape);
  if (n === 0) return shape.map(() => 1);
  const out = new Array<number>(shape.length).fill(0);
  let viewD = shape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  // Remaining leading size-1 dims.
  for (; viewD >= 0; viewD--) {
    if (shape[viewD] !== 1) return null;
    out[viewD] = 1;
  }
  return out;
}

/**
 * True when every element of a float view is finite (non-float views always are). NOTE: one pass,
 * summing v * 0 (0 unless some v is NaN or ±Infinity); float32 into 8 independent accumulators (one
 * chain of adds ran at the add's latency, 1.5x slower on a 1M gradient). A strided view is read
 * through a contiguous copy (the engine's where()-trap scan rarely sees one).
 */
export function allFinite(v: View): boolean {
  const s = v.storage;
  if (!(s instanceof Float32Array || s instanceof Float64Array)) return true;
  const dense = isContiguous(v);
  const d = dense ? s : contiguousData(v);
  const start = dense ? v.offset : 0;
  const end = start + numel(v.shape);
  return d instanceof Float32Array ? finite32(d, start, end) : finite64(d as Float64Array, start, end);
}

function finite32(s: Float32Array, start: number, end: number): boolean {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  let i = start;
  for (; i + 7 < end; i += 8) {
    a0 += s[i]! * 0; a1 += s[i + 1]! * 0; a2 += s[i + 2]! * 0; a3 += s[i + 3]! * 0;
    a4 += s[i + 4]! * 0; a5 += s[i + 5]! * 0; a6 += s[i + 6]! * 0; a7 += s[i + 7]! * 0;
  }
  for (; i < end; i++) a0 += s[i]! * 0;
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 === 0;
}
// NOTE: float64 (tests, gradcheck) keeps the plain loop: the unrolled one is for float32 training
function finite64(s: Float64Array, start: number, end: number): boolean {
  let acc = 0;
  for (let i = start; i < end; i++) acc += s[i]! * 0;
  return acc === 0;
}
