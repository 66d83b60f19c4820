/**
 * Indexing by int32 index tensors: gather, scatterAdd, indexSelect, oneHot. Index values are
 * checked before any kernel runs (an IndexError naming the op, the value and the shape).
 */
import { DTypeError, IndexError, ShapeError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { zerosLike } from "../tensor/create.js";
import { normDim, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, OpFamily } from "./define.js";
import { expand, reshape } from "./shape.js";

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
