/**
 * Dtype and layout: casts, copies, views (reshape, permute, expand, narrow, ...), padding and
 * concatenation. Views share storage with their input; `contiguous` and `clone` copy.
 */
import { DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { full } from "../tensor/create.js";
import { allocArray, type DType } from "../tensor/dtype.js";
import { contiguousData, expandStrides, viewStrides } from "../tensor/layout.js";
import { normDim, numel, sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, OpFamily } from "./define.js";
import { monotone } from "./interval.js";

/** @internal The shape family's op-table entries. */
export const shapeOps = new OpFamily("shape");

// ------------------------------------------------------------------ dtype and copies
const castOp = shapeOps.define<[Tensor], { dtype: DType }>({
  name: "cast",
  forward: ([x], a) => new Tensor(getBackend().copy(x, a.dtype), x.shape),
  vjp: ({ g, inputs: [x] }) => [g.to(x.dtype)],
  saved: [], // only shapes and dtypes
  // monotone, except to bool (x != 0)
  interval: { forward: (c) => (c.attrs.dtype === "bool" ? { lo: c.bounds[0]!.lo.gt(0).logicalOr(c.bounds[0]!.hi.lt(0)), hi: c.bounds[0]!.lo.ne(0).logicalOr(c.bounds[0]!.hi.ne(0)) } : monotone<[Tensor], { dtype: DType }>().forward(c)) },
});
/**
 * Convert to `dtype` (differentiable between float dtypes; x itself when it already has it).
 * @example
 * cast(tensor([1.5]), "int32").toArray(); // [1]
 * cast(a, "float64").dtype; // "float64"
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return call(castOp, [x], { dtype });
}

const contiguousOp = shapeOps.define<[Tensor]>({
  name: "contiguous",
  forward: ([x]) => new Tensor(getBackend().copy(x, x.dtype), x.shape),
  vjp: ({ g }) => [g],
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * A contiguous tensor with the same values (x itself when already contiguous).
 * @example
 * const tt = transpose(a, 0, 1);
 * contiguous(tt).isContiguous(); // true
 */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : call(contiguousOp, [x], null);
}

/**
 * A copy of x with its own contiguous storage (differentiable, as torch.clone).
 * @example
 * const c = clone(a);
 * c.storage === a.storage; // false
 */
export function clone(x: Tensor): Tensor {
  return call(contiguousOp, [x], null);
}

// ------------------------------------------------------------------ views
function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const neg = out.filter((s) => s === -1).length;
  if (neg > 1) throw new ShapeError(op, `only one dim may be -1, got ${shapeStr(shape)}`);
  for (const s of out) if (!Number.isInteger(s) || s < -1) throw new ShapeError(op, `invalid size ${s} in ${shapeStr(shape)}`);
  if (neg === 1) {
    const known = out.reduce((a, s) => (s === -1 ? a : a * s), 1);
    // NaN (no fit, or known = 0: x % 0 is NaN) fails the size check below.
    out[out.indexOf(-1)] = x.numel % known ? NaN : x.numel / known;
  }
  if (numel(out) !== x.numel) throw new ShapeError(op, `shape ${shapeStr(shape)} is invalid for input of size ${x.numel} (shape ${shapeStr(x.shape)})`);
  return out;
}

const reshapeOp = shapeOps.define<[Tensor], { shape: number[] }>({
  name: "reshape",
  forward: ([x], a) => {
    const strides = viewStrides(x, a.shape);
    if (strides) return new Tensor(x.storage, a.shape, strides, x.offset);
    return new Tensor(getBackend().copy(x, x.dtype), a.shape);
  },
  vjp: ({ g, inputs: [x] }) => [g.reshape(x.shape)],
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * The same elements with a new shape (-1 infers one size); a view when the layout allows, else a copy.
 * @example
 * reshape(arange(6), [2, -1]).shape; // [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape("reshape", x, shape);
  if (sameShape(s, x.shape)) return x;
  return call(reshapeOp, [x], { shape: s });
}

/**
 * Like reshape, but throws instead of copying when the layout does not allow a view.
 * @example
 * view(a, [3, 2]).storage === a.storage; // true
 */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape("view", x, shape);
  const r = sameShape(s, x.shape) ? x : call(reshapeOp, [x], { shape: s });
  if (r.storage !== x.storage) throw new ShapeError("view", `cannot view shape ${shapeStr(x.shape)} (strides ${shapeStr(x.strides)}) as ${shapeStr(s)}: use reshape() or contiguous() first`);
  return r;
}

/**
 * Merge dims `startDim..endDim` (default: all dims) into one.
 * @example
 * flatten(zeros([2, 3, 4]), 1).shape; // [2, 12]
 * flatten(a).shape; // [6]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim("flatten", startDim, x.ndim);
  const e = normDim("flatten", endDim, x.ndim);
  if (s > e) throw new ShapeError("flatten", `startDim ${startDim} > endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

const permuteOp = shapeOps.define<[Tensor], { dims: number[] }>({
  name: "permute",
  forward: ([x], a) => new Tensor(x.storage, a.dims.map((d) => x.shape[d]!), a.dims.map((d) => x.strides[d]!), x.offset),
  vjp: ({ g, attrs }) => {
    const inv = new Array<number>(attrs.dims.length);
    attrs.dims.forEach((d, i) => (inv[d] = i));
    return [g.permute(inv)];
  },
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * Reorder the dims: output dim i is input dim `dims[i]` (a view).
 * @example
 * permute(zeros([2, 3, 4]), [2, 0, 1]).shape; // [4, 2, 3]
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new ShapeError("permute", `expected ${x.ndim} dims for shape ${shapeStr(x.shape)}, got ${JSON.stringify(dims)}`);
  const d = dims.map((v) => normDim("permute", v, x.ndim));
  if (new Set(d).size !== d.length) throw new ShapeError("permute", `repeated dim in ${JSON.stringify(dims)}`);
  if (d.every((v, i) => v === i)) return x;
  return call(permuteOp, [x], { dims: d });
}

/**
 * Swap two dims (a view).
 * @example
 * transpose(a, 0, 1).shape; // [3, 2]
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (x.ndim < 2 && dim0 === dim1) return x;
  const a = normDim("transpose", dim0, x.ndim);
  const b = normDim("transpose", dim1, x.ndim);
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

const expandOp = shapeOps.define<[Tensor], { shape: number[] }>({
  name: "expand",
  forward: ([x], a) => new Tensor(x.storage, a.shape, expandStrides(x, a.shape), x.offset),
  vjp: ({ g }) => [g], // the engine sums it back to the input's shape
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * Broadcast to a larger shape without copying (-1 keeps a size).
 * @example
 * expand(tensor([[1], [2]]), [2, 3]).toArray(); // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new ShapeError("expand", `cannot expand ${shapeStr(x.shape)} to fewer dims ${shapeStr(shape)}`);
  const s = shape.map((v, i) => (v === -1 && i >= lead ? x.shape[i - lead]! : v));
  s.forEach((v, i) => {
    const own = i >= lead ? x.shape[i - lead]! : 1;
    if (!(v === own || own === 1) || v < 0) throw new ShapeError("expand", `cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)} (dim ${i})`);
  });
  if (sameShape(s, x.shape)) return x;
  return call(expandOp, [x], { shape: s });
}

/**
 * Remove every size-1 dim, or only `dim` (when its size is 1).
 * @example
 * squeeze(zeros([2, 1, 3])).shape; // [2, 3]
 * squeeze(zeros([1, 3]), 0).shape; // [3]
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((s) => s !== 1));
  const d = normDim("squeeze", dim, x.ndim);
  if (x.shape[d] !== 1) return x; // a 0-d x has no size at d = 0
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/**
 * Insert a size-1 dim at `dim` (negative counts from the end of the result).
 * @example
 * unsqueeze(zeros([3]), 0).shape; // [1, 3]
 * unsqueeze(zeros([3]), -1).shape; // [3, 1]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

const narrowOp = shapeOps.define<[Tensor], { dim: number; start: number; length: number }>({
  name: "narrow",
  forward: ([x], a) => {
    const shape = [...x.shape];
    shape[a.dim] = a.length;
    return new Tensor(x.storage, shape, x.strides, x.offset + a.start * x.strides[a.dim]!);
  },
  vjp: ({ g, inputs: [x], attrs }) => {
    const pads = x.shape.map((s, d) => (d === attrs.dim ? [attrs.start, s - attrs.start - attrs.length] : [0, 0]) as [number, number]);
    return [padDims(g, pads, 0)];
  },
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * The slice [start, start + length) of one dim, as a view.
 * @example
 * narrow(arange(5), 0, 1, 3).toArray(); // [1, 2, 3]
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim("narrow", dim, x.ndim);
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new IndexError("narrow", `start ${start} and length ${length} out of range for dim ${dim} of size ${size} (shape ${shapeStr(x.shape)})`);
  }
  if (s === 0 && length === size) return x;
  return call(narrowOp, [x], { dim: d, start: s, length });
}

/**
 * The slice at `index` of one dim (negative counts from the end), with that dim removed.
 * @example
 * select(tensor([[1, 2], [3, 4]]), 0, -1).toArray(); // [3, 4]
 */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim("select", dim, x.ndim);
  const size = x.shape[d]!;
  const i = index < 0 ? index + size : index;
  if (!Number.isInteger(i) || i < 0 || i >= size) throw new IndexError("select", `index ${index} out of range for dim ${dim} of size ${size}`);
  return squeeze(narrow(x, d, i, 1), d);
}

// ------------------------------------------------------------------ padding and concatenation
const padOp = shapeOps.define<[Tensor], { pads: [number, number][]; value: number }>({
  name: "pad",
  forward: ([x], a) => {
    const shape = x.shape.map((s, d) => s + a.pads[d]![0] + a.pads[d]![1]);
    const out = full(shape, a.value, { dtype: x.dtype });
    // x goes into the view of out that starts after the leading pads.
    const offset = out.strides.reduce((o, st, d) => o + a.pads[d]![0] * st, 0);
    getBackend().assign(new Tensor(out.storage, x.shape, out.strides, offset), x);
    return out;
  },
  // narrow returns its input itself for an unpadded dim
  vjp: ({ g, inputs: [x], attrs }) => [x.shape.reduce((r, s, d) => r.narrow(d, attrs.pads[d]![0], s), g)],
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/** @internal pad with one [before, after] pair per dim. */
export function padDims(x: Tensor, pads: [number, number][], value: number): Tensor {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return call(padOp, [x], { pads, value });
}

/**
 * @internal The product of the other entries of each line along dim d, without division: the
 * exclusive cumulative product from the left times the one from the right (exact with zeros, and
 * so are its own gradients: prod's and scatterReduce's "prod" gradients).
 */
export function prodOfOthers(x: Tensor, d: number): Tensor {
  const n = x.shape[d]!;
  const pads = (before: boolean): [number, number][] => x.shape.map((_, j) => (j === d ? (before ? [1, 0] : [0, 1]) : [0, 0]));
  const left = padDims(narrow(x, d, 0, n - 1), pads(true), 1).cumprod(d);
  const right = padDims(narrow(x, d, 1, n - 1), pads(false), 1).flip(d).cumprod(d).flip(d);
  return left.mul(right);
}

/**
 * @internal Whether every entry of a float tensor is finite and normal: a product that underflowed (to 0 or a
 * subnormal) or overflowed has lost the digits prod / x needs, so the gradient divides only then.
 */
export function normalFinite(t: Tensor): boolean {
  const d = contiguousData(t);
  const tiny = t.dtype === "float32" ? 1.1754943508222875e-38 : 2.2250738585072014e-308;
  for (let i = 0; i < d.length; i++) {
    const a = Math.abs(d[i]!);
    if (!(a >= tiny && a < Infinity)) return false;
  }
  return true;
}

/** The modes of {@link pad}, as torch.nn.functional.pad's. */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";
const PAD_MODES: readonly string[] = ["constant", "reflect", "replicate", "circular"];

/** For one padded dim of size n: the source index of each output position (non-constant modes). */
function padIndex(mode: PadMode, n: number, before: number, after: number, what: () => string): Int32Array {
  const len = n + before + after;
  const idx = new Int32Array(len);
  if (mode === "reflect") {
    if (before >= n || after >= n) throw new ValueError("pad", `reflect padding (${before}, ${after}) must be less than the size ${n} of ${what()}`);
    for (let o = 0; o < len; o++) {
      const p = o - before;
      idx[o] = p < 0 ? -p : p > n - 1 ? 2 * (n - 1) - p : p;
    }
  } else if (mode === "replicate") {
    if (n === 0) throw new ValueError("pad", `replicate padding (${before}, ${after}) of an empty ${what()}`);
    for (let o = 0; o < len; o++) idx[o] = Math.min(n - 1, Math.max(0, o - before));
  } else {
    // circular (as torch 1.13): crop first, then wrap around the cropped core, at most once.
    const start = Math.max(-before, 0);
    const core = n - start - Math.max(-after, 0);
    if (before > core || after > core || core <= 0) throw new ValueError("pad", `circular padding (${before}, ${after}) wraps around more than once: at most the size ${core} of the (cropped) ${what()}`);
    const lead = Math.max(before, 0);
    for (let o = 0; o < len; o++) idx[o] = start + ((((o - lead) % core) + core) % core);
  }
  return idx;
}

/**
 * Padding, in torch.nn.functional.pad order: `[left, right]` for the last dim, then
 * `[top, bottom]` for the one before, and so on. `mode` is "constant" (default; `value`, or pass
 * the value as the third argument), "reflect" (mirror without repeating the edge; each pad must be
 * less than the dim's size), "replicate" (repeat the edge) or "circular" (wrap around; each pad at
 * most the size). A negative pad removes entries (crops), in every mode. The gradient of the
 * non-constant modes sums the copies back into their source entries (as PyTorch).
 * @example
 * pad(tensor([[1, 2]]), [1, 0]).toArray(); // [[0, 1, 2]]
 * pad(zeros([1, 1, 4, 4]), [1, 1, 1, 1]).shape; // [1, 1, 6, 6]
 * pad(tensor([[1, 2, 3]]), [2, 1], "reflect").toArray(); // [[3, 2, 1, 2, 3, 2]]
 * pad(tensor([[1, 2, 3]]), [1, 1], "replicate").toArray(); // [[1, 1, 2, 3, 3]]
 * pad(tensor([[1, 2, 3]]), [1, -1], "circular").toArray(); // [[2, 1, 2]]
 * pad(tensor([[1, 2, 3]]), [-1, 0]).toArray(); // [[2, 3]]
 */
export function pad(x: Tensor, pads: readonly number[], modeOrValue: PadMode | number = "constant", value = 0): Tensor {
  const mode = typeof modeOrValue === "number" ? "constant" : modeOrValue;
  const fill = typeof modeOrValue === "number" ? modeOrValue : value;
  if (!PAD_MODES.includes(mode)) throw new ValueError("pad", `mode must be one of ${PAD_MODES.join(", ")}, got ${JSON.stringify(mode)}`);
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new ShapeError("pad", `padding length ${Array.isArray(pads) ? pads.length : typeof pads} must be even and <= ${2 * x.ndim} for shape ${shapeStr(x.shape)}`);
  }
  for (const p of pads) if (!Number.isInteger(p)) throw new ValueError("pad", `pads must be integers, got ${JSON.stringify(pads)}`);
  const per: [number, number][] = x.shape.map(() => [0, 0]);
  for (let i = 0; i < pads.length / 2; i++) per[x.ndim - 1 - i] = [pads[2 * i]!, pads[2 * i + 1]!];
  per.forEach(([a, b], d) => {
    if (x.shape[d]! + a + b < 0) throw new ShapeError("pad", `pads (${a}, ${b}) leave a negative size ${x.shape[d]! + a + b} at dim ${d} of shape ${shapeStr(x.shape)}`);
  });
  if (mode === "constant") {
    // Crop the negative pads with narrow, then pad the positive ones.
    const cropped = per.reduce((r, [a, b], d) => (a < 0 || b < 0 ? narrow(r, d, Math.max(-a, 0), x.shape[d]! - Math.max(-a, 0) - Math.max(-b, 0)) : r), x);
    return padDims(cropped, per.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)]), fill);
  }
  return per.reduce((r, [a, b], d) => {
    if (a === 0 && b === 0) return r;
    const idx = padIndex(mode, x.shape[d]!, a, b, () => `dim ${d} of input shape ${shapeStr(x.shape)}`);
    return r.indexSelect(d, new Tensor(idx, [idx.length]));
  }, x);
}

const catOp = shapeOps.define<readonly Tensor[], { dim: number }>({
  name: "cat",
  forward: (xs, a) => {
    const first = xs[0]!;
    const shape = [...first.shape];
    shape[a.dim] = xs.reduce((acc, t) => acc + t.shape[a.dim]!, 0);
    const out = new Tensor(allocArray(first.dtype, numel(shape)), shape);
    let off = 0;
    for (const t of xs) {
      const part = new Tensor(out.storage, t.shape, out.strides, off * out.strides[a.dim]!);
      getBackend().assign(part, t);
      off += t.shape[a.dim]!;
    }
    return out;
  },
  vjp: ({ g, inputs, attrs, needs }) => {
    let off = 0;
    return inputs.map((t, i) => {
      const len = t.shape[attrs.dim]!;
      const r = needs[i] ? g.narrow(attrs.dim, off, len) : null;
      off += len;
      return r;
    });
  },
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * Concatenate along an existing dim.
 * @example
 * cat([a, b], 0).shape; // [4, 3]
 * cat([a, b], 1).shape; // [2, 6]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError("cat", "got an empty list");
  const first = tensors[0]!;
  const d = normDim("cat", dim, first.ndim);
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new DTypeError("cat", `tensor ${i} has dtype ${t.dtype}, tensor 0 has ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new ShapeError("cat", `tensor ${i} has shape ${shapeStr(t.shape)}, tensor 0 has ${shapeStr(first.shape)} (outside dim ${dim})`);
    }
  });
  if (tensors.length === 1) return first;
  return call(catOp, tensors, { dim: d });
}

/**
 * Stack tensors of the same shape along a new dim.
 * @example
 * stack([a, b]).shape; // [2, 2, 3]
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError("stack", "got an empty list");
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape)) throw new ShapeError("stack", `tensor ${i} has shape ${shapeStr(t.shape)}, tensor 0 has ${shapeStr(first.shape)}`);
  });
  const d = normDim("stack", dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/**
 * Split into pieces of `size` (the last may be smaller) or of the given sizes. Views.
 * @example
 * split(arange(5), 2).map((p) => p.toArray()); // [[0, 1], [2, 3], [4]]
 * split(arange(5), [1, 4]).length; // 2
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim("split", dim, x.ndim);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === "number") {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) throw new ValueError("split", `size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
    if (n === 0) sizes.push(0);
  } else {
    sizes = [...sizeOrSections];
    if (sizes.reduce((a, b) => a + b, 0) !== n || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new ShapeError("split", `sizes ${JSON.stringify(sizes)} do not sum to ${n} (dim ${dim} of shape ${shapeStr(x.shape)})`);
    }
  }
  let off = 0;
  return sizes.map((s) => {
    const r = narrow(x, d, off, s);
    off += s;
    return r;
  });
}

/**
 * Split into `chunks` pieces of size ceil(n / chunks) (as torch.chunk; there may be fewer).
 * @example
 * chunk(arange(6), 3).map((p) => p.toArray()); // [[0, 1], [2, 3], [4, 5]]
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ValueError("chunk", `chunks must be a positive integer, got ${chunks}`);
  const d = normDim("chunk", dim, x.ndim);
  const size = Math.max(1, Math.ceil(x.shape[d]! / chunks));
  return split(x, size, d);
}

// ------------------------------------------------------------------ strided slices, rolls, repeats
const sliceOp = shapeOps.define<[Tensor], { dim: number; start: number; length: number; step: number }>({
  name: "slice",
  forward: ([x], a) => {
    const shape = [...x.shape];
    shape[a.dim] = a.length;
    const strides = [...x.strides];
    strides[a.dim] = x.strides[a.dim]! * a.step;
    return new Tensor(x.storage, shape, strides, x.offset + a.start * x.strides[a.dim]!);
  },
  // g's entries go to start, start + step, ...: interleave step - 1 zeros after each, then pad.
  vjp: ({ g, inputs: [x], attrs: { dim, start, length, step } }) => {
    const size = x.shape[dim]!;
    const spread = g.unsqueeze(dim + 1);
    const pads: [number, number][] = spread.shape.map((_, d) => (d === dim + 1 ? [0, step - 1] : [0, 0]));
    const flat = padDims(spread, pads, 0).reshape(x.shape.map((s, d) => (d === dim ? length * step : s)));
    const len = Math.min(length * step, size - start);
    return [padDims(flat.narrow(dim, 0, len), x.shape.map((_, d) => (d === dim ? [start, size - start - len] : [0, 0])), 0)];
  },
  saved: [], // only shapes and dtypes
  interval: monotone(),
});
/**
 * The entries start, start + step, ... before `end` of one dim, as Python's `x[start:end:step]`
 * (a view): negative start and end count from the end, both are clamped to the dim, end defaults
 * to the dim's size; step is an integer >= 1 (as PyTorch).
 * @example
 * slice(arange(6), 0, 1, 5, 2).toArray(); // [1, 3]
 * slice(arange(6), 0, -2).toArray(); // [4, 5]
 * slice(tensor([[1, 2, 3], [4, 5, 6]]), 1, 0, undefined, 2).toArray(); // [[1, 3], [4, 6]]
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normDim("slice", dim, x.ndim);
  const size = x.shape[d]!;
  if (!Number.isInteger(step) || step < 1) throw new ValueError("slice", `step must be an integer >= 1, got ${step}`);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) throw new IndexError("slice", `start ${start} and end ${end} must be integers`);
  const clampIdx = (i: number): number => Math.min(size, Math.max(0, i < 0 ? i + size : i));
  const s = clampIdx(start);
  const e = end === undefined ? size : clampIdx(end);
  const length = Math.max(0, Math.ceil((e - s) / step));
  if (step === 1 || length <= 1) return narrow(x, d, length === 0 ? 0 : s, length);
  return call(sliceOp, [x], { dim: d, start: s, length, step });
}

/**
 * Shift the entries along `dims` by `shifts` (as torch.roll: what falls off the end comes back at
 * the start); with no dims, x is flattened, rolled and reshaped back.
 * @example
 * roll(arange(5), 2).toArray(); // [3, 4, 0, 1, 2]
 * roll(tensor([[1, 2], [3, 4]]), [1, -1], [0, 1]).toArray(); // [[4, 3], [2, 1]]
 */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const sh = typeof shifts === "number" ? [shifts] : [...shifts];
  if (dims === undefined) {
    if (sh.length !== 1) throw new ValueError("roll", `without dims, shifts must be one number, got ${JSON.stringify(shifts)}`);
    return reshape(roll(flatten(x), sh[0]!, 0), x.shape);
  }
  const ds = typeof dims === "number" ? [dims] : [...dims];
  if (ds.length !== sh.length) throw new ValueError("roll", `shifts ${JSON.stringify(shifts)} and dims ${JSON.stringify(dims)} must have the same length`);
  let r = x;
  ds.forEach((dim, i) => {
    if (!Number.isInteger(sh[i])) throw new ValueError("roll", `shifts must be integers, got ${JSON.stringify(shifts)}`);
    const d = normDim("roll", dim, x.ndim);
    const n = x.shape[d] ?? 1;
    if (n === 0 || x.ndim === 0) return;
    const s = ((sh[i]! % n) + n) % n;
    if (s !== 0) r = cat([narrow(r, d, n - s, s), narrow(r, d, 0, n - s)], d);
  });
  return r;
}

/**
 * Repeat x `repeats[i]` times along each dim (as torch.Tensor.repeat: repeats may have more
 * entries than x has dims, which adds leading dims).
 * @example
 * repeat(tensor([1, 2]), [2, 2]).toArray(); // [[1, 2, 1, 2], [1, 2, 1, 2]]
 * repeat(zeros([2, 3]), [1, 2, 1]).shape; // [1, 4, 3]
 */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) throw new ShapeError("repeat", `needs at least ${x.ndim} repeats for shape ${shapeStr(x.shape)}, got ${JSON.stringify(repeats)}`);
  for (const r of repeats) if (!Number.isInteger(r) || r < 0) throw new ValueError("repeat", `repeats must be non-negative integers, got ${JSON.stringify(repeats)}`);
  const shape = [...new Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  // [s0, s1] -> [1, s0, 1, s1] -> expand [r0, s0, r1, s1] -> reshape [r0 s0, r1 s1]
  const inter = reshape(x, shape.flatMap((s) => [1, s]));
  const big = expand(inter, shape.flatMap((s, i) => [repeats[i]!, s]));
  return reshape(big, shape.map((s, i) => s * repeats[i]!));
}

/**
 * Repeat x along its dims (as torch.tile): like `repeat`, but `reps` shorter than x's dims is
 * filled with leading 1s.
 * @example
 * tile(tensor([[1, 2]]), [2]).toArray(); // [[1, 2, 1, 2]]
 */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const full = reps.length < x.ndim ? [...new Array<number>(x.ndim - reps.length).fill(1), ...reps] : reps;
  return repeat(x, full);
}

// ------------------------------------------------------------------ diagonals, windows, repeats
/**
 * The diagonal of the dims `dim1` and `dim2` at `offset` (above the main diagonal for offset > 0,
 * below for < 0), as the last dim of the result (as torch.diagonal). A copy (torch: a view); the
 * gradient goes back to the diagonal entries.
 * @example
 * diagonal(tensor([[1, 2, 3], [4, 5, 6]])).toArray(); // [1, 5]
 * diagonal(tensor([[1, 2, 3], [4, 5, 6]]), 1).toArray(); // [2, 6]
 * diagonal(zeros([2, 3, 4]), 0, 1, 2).shape; // [2, 3]
 */
export function diagonal(x: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  if (x.ndim < 2) throw new ShapeError("diagonal", `needs at least 2 dims, got shape ${shapeStr(x.shape)}`);
  const d1 = normDim("diagonal", dim1, x.ndim);
  const d2 = normDim("diagonal", dim2, x.ndim);
  if (d1 === d2) throw new ShapeError("diagonal", `dim1 and dim2 must differ, got ${dim1} and ${dim2} (shape ${shapeStr(x.shape)})`);
  if (!Number.isInteger(offset)) throw new ValueError("diagonal", `offset must be an integer, got ${offset}`);
  const n1 = x.shape[d1]!;
  const n2 = x.shape[d2]!;
  const len = Math.max(0, offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2));
  const rest = x.shape.map((_, i) => i).filter((i) => i !== d1 && i !== d2);
  const flat = reshape(permute(x, [...rest, d1, d2]), [...rest.map((i) => x.shape[i]!), n1 * n2]);
  const idx = Int32Array.from({ length: len }, (_, k) => (k + Math.max(-offset, 0)) * n2 + k + Math.max(offset, 0));
  return flat.indexSelect(-1, new Tensor(idx, [len]));
}

/**
 * A 1-d tensor as the `diagonal` of a square matrix (zeros elsewhere), or the diagonal of a 2-d
 * tensor as 1-d (as torch.diag); `diagonal` > 0 is above the main diagonal.
 * @example
 * diag(tensor([1, 2])).toArray(); // [[1, 0], [0, 2]]
 * diag(tensor([1, 2]), -1).toArray(); // [[0, 0, 0], [1, 0, 0], [0, 2, 0]]
 * diag(tensor([[1, 2], [3, 4]])).toArray(); // [1, 4]
 */
export function diag(x: Tensor, diagonalOffset = 0): Tensor {
  if (!Number.isInteger(diagonalOffset)) throw new ValueError("diag", `diagonal must be an integer, got ${diagonalOffset}`);
  if (x.ndim === 2) return diagonal(x, diagonalOffset, 0, 1);
  if (x.ndim !== 1) throw new ShapeError("diag", `expects a 1-d or 2-d tensor, got shape ${shapeStr(x.shape)}`);
  const n = x.shape[0]!;
  const k = diagonalOffset;
  const size = n + Math.abs(k);
  // Entry 0 of [0, ...x] fills the off-diagonal places; x[i] goes to (i, i + k) or (i - k, i).
  const idx = new Int32Array(size * size);
  for (let i = 0; i < n; i++) idx[k >= 0 ? i * size + i + k : (i - k) * size + i] = i + 1;
  return cat([full([1], 0, { dtype: x.dtype }), x]).indexSelect(0, new Tensor(idx, [idx.length])).reshape([size, size]);
}

/**
 * The windows of `size` entries along `dim`, every `step` entries, as a new last dim (as
 * torch.Tensor.unfold): dim `dim` becomes the number of windows, floor((n - size) / step) + 1.
 * A copy (torch: a view); overlapping windows sum their gradients.
 * @example
 * unfold(arange(5), 0, 2, 1).toArray(); // [[0, 1], [1, 2], [2, 3], [3, 4]]
 * unfold(arange(7), 0, 3, 2).toArray(); // [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
 * unfold(zeros([2, 6]), 1, 3, 3).shape; // [2, 2, 3]
 */
export function unfold(x: Tensor, dim: number, size: number, step: number): Tensor {
  const d = normDim("unfold", dim, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[d]!;
  if (!Number.isInteger(size) || size < 0 || size > n) throw new ValueError("unfold", `size ${size} must be an integer in 0..${n} (dim ${dim} of shape ${shapeStr(x.shape)})`);
  if (!Number.isInteger(step) || step < 1) throw new ValueError("unfold", `step must be an integer >= 1, got ${step}`);
  if (x.ndim === 0) return reshape(x, [size]);
  const windows = Math.floor((n - size) / step) + 1;
  const idx = Int32Array.from({ length: windows * size }, (_, p) => Math.floor(p / size) * step + (p % size));
  const picked = x.indexSelect(d, new Tensor(idx, [idx.length]));
  const split = reshape(picked, [...x.shape.slice(0, d), windows, size, ...x.shape.slice(d + 1)]);
  const order = split.shape.map((_, i) => i).filter((i) => i !== d + 1);
  return permute(split, [...order, d + 1]);
}

/**
 * Split one dim into several (as torch.unflatten): `sizes` multiply to the dim's size; one may be -1.
 * @example
 * unflatten(zeros([2, 12]), 1, [3, 4]).shape; // [2, 3, 4]
 * unflatten(arange(6), 0, [-1, 2]).toArray(); // [[0, 1], [2, 3], [4, 5]]
 */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normDim("unflatten", dim, x.ndim);
  if (x.ndim === 0) throw new ShapeError("unflatten", "a 0-d tensor has no dim to unflatten");
  if (!Array.isArray(sizes) || sizes.length === 0) throw new ShapeError("unflatten", `sizes must be a non-empty list, got ${JSON.stringify(sizes)}`);
  const n = x.shape[d]!;
  const known = sizes.reduce((a, s) => (s === -1 ? a : a * s), 1);
  const neg = sizes.filter((s) => s === -1).length;
  const bad = sizes.some((s) => !Number.isInteger(s) || s < -1) || neg > 1 || (neg === 0 ? known !== n : known === 0 || n % known !== 0);
  if (bad) throw new ShapeError("unflatten", `sizes ${JSON.stringify(sizes)} do not multiply to ${n}, the size of dim ${dim} of shape ${shapeStr(x.shape)}`);
  const resolved = sizes.map((s) => (s === -1 ? n / known : s));
  return reshape(x, [...x.shape.slice(0, d), ...resolved, ...x.shape.slice(d + 1)]);
}

/**
 * Repeat each entry along `dim` (of the flattened x when `dim` is omitted) `repeats` times, or
 * `repeats[i]` times for entry i with an int32 tensor of repeats (as torch.repeat_interleave).
 * @example
 * repeatInterleave(tensor([1, 2]), 2).toArray(); // [1, 1, 2, 2]
 * repeatInterleave(tensor([[1, 2], [3, 4]]), tensor([1, 2], { dtype: "int32" }), 0).toArray(); // [[1, 2], [3, 4], [3, 4]]
 */
export function repeatInterleave(x: Tensor, repeats: number | Tensor, dim?: number): Tensor {
  const src = dim === undefined ? flatten(x) : x;
  const d = dim === undefined ? 0 : normDim("repeatInterleave", dim, x.ndim);
  const n = src.ndim === 0 ? 1 : src.shape[d]!;
  let counts: ArrayLike<number>;
  if (typeof repeats === "number") {
    if (!Number.isInteger(repeats) || repeats < 0) throw new ValueError("repeatInterleave", `repeats must be a non-negative integer, got ${repeats}`);
    counts = new Array<number>(n).fill(repeats);
  } else {
    if (!(repeats instanceof Tensor) || repeats.dtype !== "int32") throw new DTypeError("repeatInterleave", `repeats must be a number or an int32 tensor, got ${repeats instanceof Tensor ? repeats.dtype : typeof repeats}`);
    if (repeats.ndim > 1 || (repeats.numel !== n && repeats.numel !== 1)) throw new ShapeError("repeatInterleave", `repeats of shape ${shapeStr(repeats.shape)} must have 1 or ${n} entries (dim ${dim ?? 0} of shape ${shapeStr(src.shape)})`);
    const r = repeats.toTypedArray();
    for (let i = 0; i < r.length; i++) if (r[i]! < 0) throw new ValueError("repeatInterleave", `repeats must be >= 0, got ${r[i]} at ${i}`);
    counts = r.length === 1 ? new Array<number>(n).fill(r[0]!) : r;
  }
  const idx: number[] = [];
  for (let i = 0; i < n; i++) for (let k = 0; k < counts[i]!; k++) idx.push(i);
  return (src.ndim === 0 ? reshape(src, [1]) : src).indexSelect(d, new Tensor(Int32Array.from(idx), [idx.length]));
}
