/**
 * Layout helpers used by the engine and the op table. Views made here carry no graph: they are
 * either used inside a forward (which never records) or wrapped by a recorded op.
 */
import { ShapeError } from "../errors.js";
import { allocArray } from "../tensor/dtype.js";
import { numel, shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

/** A stride-0 view of t broadcast to `shape` (no copy). */
export function expandView(t: Tensor, shape: Shape): Tensor {
  const nd = shape.length;
  if (nd < t.ndim) throw new ShapeError("expand", `cannot expand ${shapeStr(t.shape)} to fewer dims ${shapeStr(shape)}`);
  const strides = new Array<number>(nd);
  for (let i = 0; i < nd; i++) {
    const j = i - (nd - t.ndim);
    const target = shape[i]!;
    if (j < 0) {
      strides[i] = 0;
      continue;
    }
    const s = t.shape[j]!;
    if (s === target) strides[i] = t.strides[j]!;
    else if (s === 1) strides[i] = 0;
    else throw new ShapeError("expand", `cannot expand ${shapeStr(t.shape)} to ${shapeStr(shape)} (dim ${i}: ${s} vs ${target})`);
  }
  return new Tensor(t.storage, shape, strides, t.offset);
}

/**
 * Strides for viewing t with a new shape without copying, or null when the layout does not allow
 * it (the algorithm of torch's `computeStride`: merge runs of dims that are contiguous together).
 */
export function viewStrides(t: Tensor, shape: Shape): number[] | null {
  const oldShape = t.shape;
  const oldStrides = t.strides;
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

export function scalarLike(value: number, like: Tensor): Tensor {
  const a = allocArray(like.dtype, 1);
  a[0] = value;
  return new Tensor(a, []);
}

export function fullLike(like: { shape: Shape; dtype: Tensor["dtype"] }, value: number): Tensor {
  const a = allocArray(like.dtype, numel(like.shape));
  if (value !== 0) a.fill(value);
  return new Tensor(a, like.shape);
}

export function onesLike(t: Tensor): Tensor {
  return fullLike(t, 1);
}

export function zerosLike(t: Tensor): Tensor {
  return fullLike(t, 0);
}

/** Sum a broadcast gradient back to `shape` (differentiable: it uses the sum op). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead) dims.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) dims.push(i);
  }
  let r = dims.length ? g.sum(dims, true) : g;
  if (lead > 0 || r.ndim !== shape.length) r = r.reshape(shape);
  return r;
}
