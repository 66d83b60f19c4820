/**
 * Indexing by int32 index tensors: gather, scatterAdd, indexSelect, oneHot. Index values are
 * checked before any kernel runs (an IndexError naming the op, the value and the shape).
 * Indexing by masks and positions, written with `where` and `gather` (their gradients are those
 * ops'): triu, tril, maskedFill, maskedSelect, flip.
 *
 * maskedFill(x, mask, value) is `where(mask, value, x)`: the gradient to x is 0 where masked, also
 * for value = -Infinity (an attention mask), and a -Infinity or NaN of x under the mask is gone
 * from the output and from the gradient.
 */
import { DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { zerosLike } from "../tensor/create.js";
import { broadcastShapes, normDim, normDims, sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, OpFamily } from "./define.js";
import { expand, reshape } from "./shape.js";
import { where } from "./compare.js";

/** @internal The indexing family's op-table entries. */
export const indexingOps = new OpFamily("indexing");

/** Index values must lie in [0, size of dim d of x) (`dim` as the caller gave it, for the message). */
function checkIndex(op: string, index: Tensor, x: Tensor, d: number, dim: number): void {
  if (index.dtype !== "int32") throw new DTypeError(op, `index must be int32, got ${index.dtype}`);
  const size = x.shape[d]!;
  const data = index.toTypedArray();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= size) throw new IndexError(op, `index ${v} is out of range for dim ${dim} of input shape ${shapeStr(x.shape)} of size ${size}`);
  }
}

/** @internal gather without the index check (pooling gathers indices its kernel made). */
export const gatherOp = indexingOps.define<[Tensor, Tensor], { dim: number }>({
  name: "gather",
  forward: ([x, index], a) => new Tensor(getBackend().gather(x, a.dim, index), index.shape),
  vjp: ({ g, inputs: [x, index], attrs }) => [zerosLike(x).scatterAdd(attrs.dim, index, g), null],
  saved: [1], // the index
});
/**
 * out[i][j] = x[index[i][j]][j] (dim 0), as torch.gather; index is int32 with x's ndim.
 * @example
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]], { dtype: "int32" })).toArray(); // [[2], [3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("gather", dim, x.ndim);
  if (index.ndim !== x.ndim) throw new ShapeError("gather", `index ${shapeStr(index.shape)} and input ${shapeStr(x.shape)} must have the same number of dims`);
  index.shape.forEach((s, i) => {
    if (i !== d && s > x.shape[i]!) throw new ShapeError("gather", `index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)} at dim ${i}`);
  });
  checkIndex("gather", index, x, d, dim);
  return call(gatherOp, [x, index], { dim: d });
}

const scatterAddOp = indexingOps.define<[Tensor, Tensor, Tensor], { dim: number }>({
  name: "scatterAdd",
  forward: ([base, index, src], a) => new Tensor(getBackend().scatterAdd(base, a.dim, index, src), base.shape),
  vjp: ({ g, inputs: [, index], attrs, needs }) => [needs[0] ? g : null, null, needs[2] ? g.gather(attrs.dim, index) : null],
  saved: [1], // the index
});
/**
 * A copy of x with src added at the positions index names along dim (as torch.scatter_add).
 * @example
 * const idx = tensor([0, 0, 2], { dtype: "int32" });
 * scatterAdd(zeros([3]), 0, idx, tensor([1, 2, 3])).toArray(); // [3, 0, 3]
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normDim("scatterAdd", dim, x.ndim);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) throw new ShapeError("scatterAdd", `input ${shapeStr(x.shape)}, index ${shapeStr(index.shape)} and src ${shapeStr(src.shape)} must have the same number of dims`);
  index.shape.forEach((s, i) => {
    if (s > src.shape[i]! || (i !== d && s > x.shape[i]!)) throw new ShapeError("scatterAdd", `index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)} or src ${shapeStr(src.shape)} at dim ${i}`);
  });
  if (src.dtype !== x.dtype) throw new DTypeError("scatterAdd", `mixed dtypes: input ${x.dtype}, src ${src.dtype}`);
  checkIndex("scatterAdd", index, x, d, dim);
  return call(scatterAddOp, [x, index, src], { dim: d });
}

/**
 * Rows (or slices along dim) picked by a 1-D int32 index.
 * @example
 * indexSelect(tensor([[1, 2], [3, 4], [5, 6]]), 0, tensor([2, 0], { dtype: "int32" })).toArray(); // [[5, 6], [1, 2]]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("indexSelect", dim, x.ndim);
  if (index.ndim > 1) throw new ShapeError("indexSelect", `index must be 1-D, got shape ${shapeStr(index.shape)}`);
  const idx = index.ndim === 0 ? reshape(index, [1]) : index;
  checkIndex("indexSelect", idx, x, d, dim);
  const outShape = x.shape.map((s, i) => (i === d ? idx.shape[0]! : s));
  const viewShape = x.shape.map((_, i) => (i === d ? idx.shape[0]! : 1));
  return call(gatherOp, [x, expand(reshape(idx, viewShape), outShape)], { dim: d });
}

/**
 * One-hot encoding of an int32 tensor, as int32 with a new last dim of numClasses (default:
 * the largest value + 1). Not differentiable.
 * @example
 * oneHot(tensor([0, 2], { dtype: "int32" }), 3).toArray(); // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(x: Tensor, numClasses = -1): Tensor {
  if (x.dtype !== "int32") throw new DTypeError("oneHot", `expects an int32 tensor, got ${x.dtype}`);
  const data = x.toTypedArray();
  let max = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0) throw new IndexError("oneHot", `classes must be >= 0, got ${v}`);
    if (v > max) max = v;
  }
  const n = numClasses === -1 ? max + 1 : numClasses;
  if (max >= n) throw new IndexError("oneHot", `class value ${max} is out of range for numClasses ${n}`);
  const out = new Int32Array(data.length * n);
  for (let i = 0; i < data.length; i++) out[i * n + data[i]!] = 1;
  return new Tensor(out, [...x.shape, n]);
}

// ------------------------------------------------------------------ masks and positions
/** The bool [rows, cols] mask of the entries with col - row >= k (upper) or <= k (lower). */
function triMask(rows: number, cols: number, k: number, upper: boolean): Tensor {
  const m = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i * cols + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  return new Tensor(m, [rows, cols]);
}

function tri(op: string, x: Tensor, diagonal: number, upper: boolean): Tensor {
  if (x.ndim < 2) throw new ShapeError(op, `needs at least 2 dims, got shape ${shapeStr(x.shape)}`);
  if (!Number.isInteger(diagonal)) throw new ValueError(op, `diagonal must be an integer, got ${diagonal}`);
  return where(triMask(x.shape[x.ndim - 2]!, x.shape[x.ndim - 1]!, diagonal, upper), x, 0);
}

/**
 * The upper triangle of the last two dims (entries with col - row >= diagonal; 0 elsewhere), as
 * torch.triu. The gradient below the triangle is 0.
 * @example
 * triu(ones([3, 3])).toArray(); // [[1, 1, 1], [0, 1, 1], [0, 0, 1]]
 * triu(ones([2, 3]), 1).toArray(); // [[0, 1, 1], [0, 0, 1]]
 */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return tri("triu", x, diagonal, true);
}

/**
 * The lower triangle of the last two dims (entries with col - row <= diagonal; 0 elsewhere), as
 * torch.tril: `tril(ones([n, n]))` is a causal mask.
 * @example
 * tril(ones([3, 3])).toArray(); // [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
 * tril(ones([2, 3]), -1).toArray(); // [[0, 0, 0], [1, 0, 0]]
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return tri("tril", x, diagonal, false);
}

function checkMask(op: string, x: Tensor, mask: Tensor): void {
  if (!(mask instanceof Tensor) || mask.dtype !== "bool") throw new DTypeError(op, `mask must be a bool tensor, got ${mask instanceof Tensor ? mask.dtype : typeof mask}`);
}

/**
 * x with `value` where `mask` is true (as torch.masked_fill; mask is bool and broadcasts to x's
 * shape; value is a number or a 0-d tensor, which then gets the masked entries' gradient). The
 * gradient to x is 0 where masked, also when value is -Infinity.
 * @example
 * maskedFill(tensor([1, 2, 3]), tensor([true, false, true]), 0).toArray(); // [0, 2, 0]
 * const scores = randn([2, 2]);
 * maskedFill(scores, triu(ones([2, 2]), 1).gt(0), -Infinity).softmax(-1); // a causal attention row
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  checkMask("maskedFill", x, mask);
  if (value instanceof Tensor && value.ndim !== 0) throw new ShapeError("maskedFill", `value must be a number or a 0-d tensor, got shape ${shapeStr(value.shape)}`);
  const shape = broadcastShapes("maskedFill", x.shape, mask.shape);
  if (!sameShape(shape, x.shape)) throw new ShapeError("maskedFill", `mask ${shapeStr(mask.shape)} does not broadcast to input ${shapeStr(x.shape)}`);
  return where(mask, value, x);
}

/**
 * The entries of x where `mask` is true, as a 1-D tensor in row-major order (as
 * torch.masked_select; x and mask broadcast). The gradient goes back to the selected entries.
 * @example
 * maskedSelect(tensor([[1, 2], [3, 4]]), tensor([[true, false], [false, true]])).toArray(); // [1, 4]
 */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  checkMask("maskedSelect", x, mask);
  const shape = broadcastShapes("maskedSelect", x.shape, mask.shape);
  const m = expand(mask, shape).toTypedArray();
  const idx: number[] = [];
  for (let i = 0; i < m.length; i++) if (m[i]) idx.push(i);
  return indexSelect(reshape(expand(x, shape), [-1]), 0, new Tensor(Int32Array.from(idx), [idx.length]));
}

/**
 * Reverse the order of the entries along `dims` (as torch.flip; a copy).
 * @example
 * flip(tensor([[1, 2], [3, 4]]), [1]).toArray(); // [[2, 1], [4, 3]]
 * flip(arange(3), 0).toArray(); // [2, 1, 0]
 */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const ds = normDims("flip", dims, x.ndim);
  if (new Set(ds).size !== ds.length) throw new ShapeError("flip", `repeated dim in ${JSON.stringify(dims)}`);
  return ds.reduce((r, d) => {
    const n = x.shape[d]!;
    if (n <= 1) return r;
    return indexSelect(r, d, new Tensor(Int32Array.from({ length: n }, (_, i) => n - 1 - i), [n]));
  }, x);
}
