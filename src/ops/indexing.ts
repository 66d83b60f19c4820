/**
 * Indexing by int32 index tensors: gather, scatterAdd, scatter, scatterReduce, indexSelect, oneHot,
 * nonzero. Index values are
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
import { full, onesLike, zerosLike } from "../tensor/create.js";
import { allocArray, toDtype } from "../tensor/dtype.js";
import { contiguousData, contiguousStrides } from "../tensor/layout.js";
import { broadcastShapes, normDim, normDims, sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, type OpDef, OpFamily } from "./define.js";
import { type Bounds, isPoint, maxAbs, monotone, symmetric } from "./interval.js";
import { cat, expand, normalFinite, padDims, prodOfOthers, reshape } from "./shape.js";
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
  // A known index gathers the bounds; an unknown one (computed from bounds) any entry of the line.
  interval: {
    forward: (c) => (isPoint(c.bounds[1]!) ? monotone<[Tensor, Tensor], { dim: number }>([1, 0]).forward(c) : {
      lo: c.bounds[0]!.lo.amin(c.attrs.dim, true).expand(c.out.shape),
      hi: c.bounds[0]!.hi.amax(c.attrs.dim, true).expand(c.out.shape),
    }),
  },
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
  // A known index adds the bounds; an unknown one may add any of src's entries anywhere.
  interval: {
    forward: (c) => {
      if (isPoint(c.bounds[1]!)) return monotone<[Tensor, Tensor, Tensor], { dim: number }>([1, 0, 1]).forward(c);
      const [base, , src] = c.bounds;
      return { lo: base!.lo.add(src!.lo.minimum(0).sum()), hi: base!.hi.add(src!.hi.maximum(0).sum()) };
    },
  },
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

// ------------------------------------------------------------------ scatter, scatterReduce, nonzero
/** How {@link scatterReduce} combines the values sent to one place (torch.scatter_reduce's `reduce`). */
export type ScatterReduceMode = "sum" | "prod" | "mean" | "amax" | "amin";
/** Options of {@link scatterReduce}. */
export interface ScatterReduceOptions {
  /** Whether x's own value takes part in the reduction where something is scattered (default true). */
  includeSelf?: boolean;
}
const REDUCE_MODES: readonly string[] = ["sum", "prod", "mean", "amax", "amin"];

/** Shapes, dtypes and index values of a scatter (index values checked against x's dim d). */
function checkScatter(op: string, x: Tensor, dim: number, index: Tensor, src: Tensor | null): number {
  if (!(x instanceof Tensor)) throw new DTypeError(op, `input must be a Tensor, got ${typeof x}`);
  if (!(index instanceof Tensor)) throw new DTypeError(op, `index must be an int32 Tensor, got ${typeof index}`);
  const d = normDim(op, dim, x.ndim);
  if (index.ndim !== x.ndim || (src && src.ndim !== x.ndim)) throw new ShapeError(op, `input ${shapeStr(x.shape)}, index ${shapeStr(index.shape)}${src ? ` and src ${shapeStr(src.shape)}` : ""} must have the same number of dims`);
  index.shape.forEach((s, i) => {
    if ((src && s > src.shape[i]!) || (i !== d && s > x.shape[i]!)) throw new ShapeError(op, `index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)}${src ? ` or src ${shapeStr(src.shape)}` : ""} at dim ${i}`);
  });
  if (src && src.dtype !== x.dtype) throw new DTypeError(op, `src has dtype ${src.dtype}, input ${x.dtype}: they must match`);
  checkIndex(op, index, x, d, dim);
  return d;
}

/** For each entry of index (row-major): the flat place in a contiguous x-shaped output it names. */
function scatterPlaces(x: Tensor, d: number, index: Tensor): Int32Array {
  const idx = contiguousData(index);
  const places = new Int32Array(idx.length);
  const outStrides = contiguousStrides(x.shape);
  const shape = index.shape;
  const pos = new Array<number>(shape.length).fill(0);
  for (let p = 0; p < idx.length; p++) {
    let off = 0;
    for (let i = 0; i < shape.length; i++) off += (i === d ? idx[p]! : pos[i]!) * outStrides[i]!;
    places[p] = off;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++pos[i]! < shape[i]!) break;
      pos[i] = 0;
    }
  }
  return places;
}

/** The leading index-shaped block of src (each dim narrowed to index's size). */
function srcBlock(src: Tensor, index: Tensor): Tensor {
  return new Tensor(src.storage, index.shape, src.strides, src.offset);
}

/** A gradient computed for srcBlock (index's shape) padded with zeros to src's shape. */
function toSrcShape(gBlock: Tensor, src: Tensor): Tensor {
  return padDims(gBlock, src.shape.map((s, i) => [0, s - gBlock.shape[i]!] as [number, number]), 0);
}

/** 1 (in x's dtype) where index sends something, else 0: not differentiable. */
function scatteredMask(x: Tensor, d: number, index: Tensor, dtype = x.dtype): Tensor {
  const m = allocArray(dtype, x.numel);
  for (const p of scatterPlaces(x, d, index)) m[p] = 1;
  return new Tensor(m, x.shape);
}

const scatterOp: OpDef<[Tensor, Tensor, Tensor], { dim: number }> = indexingOps.define<[Tensor, Tensor, Tensor], { dim: number }>({
  name: "scatter",
  forward: ([x, index, src], { dim }) => {
    const out = getBackend().copy(x, x.dtype);
    const values = contiguousData(srcBlock(src, index));
    const places = scatterPlaces(x, dim, index);
    for (let p = 0; p < places.length; p++) out[places[p]!] = values[p]!;
    return new Tensor(out, x.shape);
  },
  // As torch: x's gradient is g with the written places zeroed, src's is g gathered at index (a
  // duplicate index gives every src entry that went there the gradient, as PyTorch).
  vjp: ({ g, inputs: [x, index, src], attrs: { dim }, needs }) => [
    needs[0] ? call(scatterOp, [g, index, zerosLike(srcBlock(src, index)).to(g.dtype)], { dim }) : null,
    null,
    needs[2] ? toSrcShape(g.gather(dim, index), src) : null,
  ],
  saved: [1], // the index
  // A known index writes the bounds; an unknown one may write any of src's entries anywhere.
  interval: { forward: (c) => (isPoint(c.bounds[1]!) ? monotone<[Tensor, Tensor, Tensor], { dim: number }>([1, 0, 1]).forward(c) : hullWithSrc(c.bounds[0]!, c.bounds[2]!)) },
});

/** x's bounds widened by the whole range of src's (where any src entry may land anywhere). */
function hullWithSrc(x: Bounds, src: Bounds): Bounds {
  if (src.lo.numel === 0) return x;
  return { lo: x.lo.minimum(src.lo.amin()), hi: x.hi.maximum(src.hi.amax()) };
}

/**
 * A copy of x with `src` (a tensor, or one number) written at the places index names along dim
 * (as torch.scatter): for dim 0, out[index[i][j]][j] = src[i][j]. index is int32 with x's ndim.
 * With `reduce` "add" or "multiply" the values are combined with x's instead (as
 * `scatterReduce(..., "sum" | "prod")`, which also has gradients; torch 1.13 has none there).
 * Where an index repeats, the last write wins. Gradients: x gets g with the written places zeroed,
 * src gets g gathered at index.
 * @example
 * const idx = tensor([[1], [0]], { dtype: "int32" });
 * scatter(zeros([2, 3]), 1, idx, tensor([[5], [7]])).toArray(); // [[0, 5, 0], [7, 0, 0]]
 * scatter(zeros([3]), 0, tensor([0, 2], { dtype: "int32" }), 1).toArray(); // [1, 0, 1]
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number, reduce?: "add" | "multiply"): Tensor {
  const srcT = typeof src === "number" ? null : src;
  const d = checkScatter("scatter", x, dim, index, srcT);
  if (reduce !== undefined && reduce !== "add" && reduce !== "multiply") throw new ValueError("scatter", `reduce must be "add" or "multiply", got ${JSON.stringify(reduce)}`);
  const s = srcT ?? new Tensor(allocArray(x.dtype, index.numel).fill(src as number), index.shape);
  if (reduce) return call(scatterReduceOp, [x, index, s], { dim: d, reduce: reduce === "add" ? "sum" : "prod", includeSelf: true });
  return call(scatterOp, [x, index, s], { dim: d });
}

interface ScatterReduceAttrs {
  dim: number;
  reduce: ScatterReduceMode;
  includeSelf: boolean;
}

const scatterReduceOp: OpDef<[Tensor, Tensor, Tensor], ScatterReduceAttrs> = indexingOps.define<[Tensor, Tensor, Tensor], ScatterReduceAttrs>({
  name: "scatterReduce",
  forward: ([x, index, src], { dim, reduce, includeSelf }) => {
    const acc = Float64Array.from(contiguousData(x));
    const count = new Int32Array(acc.length).fill(includeSelf ? 1 : 0);
    const values = contiguousData(srcBlock(src, index));
    const places = scatterPlaces(x, dim, index);
    for (let p = 0; p < places.length; p++) {
      const q = places[p]!;
      const v = values[p]!;
      const a = acc[q]!;
      if (count[q] === 0) acc[q] = v;
      else if (reduce === "sum" || reduce === "mean") acc[q] = a + v;
      else if (reduce === "prod") acc[q] = a * v;
      // amax/amin: a NaN wins (as torch).
      else if (reduce === "amax") acc[q] = a !== a || a >= v ? a : v;
      else acc[q] = a !== a || a <= v ? a : v;
      count[q]!++;
    }
    if (reduce === "mean") {
      const int = x.dtype === "int32";
      for (let q = 0; q < acc.length; q++) if (count[q]! > 1) acc[q] = int ? Math.floor(acc[q]! / count[q]!) : acc[q]! / count[q]!;
    }
    return new Tensor(toDtype(acc, x.dtype), x.shape);
  },
  vjp: ({ g, inputs: [x, index, src], out, attrs, needs }) => {
    const { dim, reduce, includeSelf } = attrs;
    // Narrowed with graph ops (not srcBlock's raw view), so gradients of gradients reach src.
    const s = index.shape.reduce((t, n, i) => t.narrow(i, 0, n), src);
    const hit = scatteredMask(x, dim, index);
    // Left out of the reduction, x keeps (and gets the gradient of) only the places nothing is sent to.
    const selfShare = (gx: Tensor): Tensor => (includeSelf ? gx : where(hit.gt(0), 0, g));
    let gx: Tensor;
    let gs: Tensor;
    if (reduce === "sum") {
      gx = g;
      gs = g.gather(dim, index);
    } else if (reduce === "mean") {
      const n = scatterAdd(zerosLike(x).add(includeSelf ? 1 : 0), dim, index, onesLike(s));
      const gn = g.div(where(n.eq(0), 1, n));
      gx = gn;
      gs = gn.gather(dim, index);
    } else if (reduce === "amax" || reduce === "amin") {
      // Ties share the gradient evenly (as torch.scatter_reduce).
      const selfIs = includeSelf ? x.eq(out).to(x.dtype) : x.eq(out).to(x.dtype).mul(hit.neg().add(1));
      const srcIs = s.eq(out.gather(dim, index)).to(x.dtype);
      const n = scatterAdd(selfIs, dim, index, srcIs);
      const gn = g.div(where(n.eq(0), 1, n));
      gx = selfIs.mul(gn);
      gs = srcIs.mul(gn.gather(dim, index));
    } else {
      // prod: g · result / v without a zero; with zeros, each contributor gets the product of the
      // others, from a dense [places, contributors] table (exact, also in gradients of gradients).
      if (!hasZero(includeSelf ? x : null) && !hasZero(s) && normalFinite(out)) {
        const r = g.mul(out);
        gx = r.div(x);
        gs = r.gather(dim, index).div(s);
      } else [gx, gs] = prodGradWithZeros(g, x, s, index, dim, includeSelf);
    }
    return [needs[0] ? selfShare(gx) : null, null, needs[2] ? toSrcShape(gs, src) : null];
  },
  // With a known index: sum, mean, amax and amin are monotone in x and src, prod too on
  // non-negative bounds and else within ± the product of the magnitudes. With an unknown index any
  // src entry may land anywhere: the sums of src's negative and positive parts, src's whole range,
  // or for prod ± max(|x|, 1) · prod(max(|src|, 1)).
  interval: {
    forward: (c) => {
      const [x, idx, src] = c.bounds as [Bounds, Bounds, Bounds];
      const { reduce } = c.attrs;
      const nonNegative = reduce === "prod" && [x, src].every((b) => b.lo.ge(0).toTypedArray().every((v) => v));
      if (isPoint(idx)) {
        if (reduce !== "prod" || nonNegative) return monotone<[Tensor, Tensor, Tensor], ScatterReduceAttrs>([1, 0, 1]).forward(c);
        return symmetric(c.forward([maxAbs(x), idx.lo, maxAbs(src)], c.attrs));
      }
      if (reduce === "sum") return { lo: x.lo.minimum(0).add(src.lo.minimum(0).sum()), hi: x.hi.maximum(0).add(src.hi.maximum(0).sum()) };
      if (reduce === "prod") return symmetric(maxAbs(x).maximum(1).mul(maxAbs(src).maximum(1).prod()));
      return hullWithSrc(x, src);
    },
    // Every contributor's gradient is g times a factor in [0, 1] (sum, mean, amax, amin), or for
    // prod the product of the others: at most max(|x|, 1) · prod(max(|src|, 1)) of its place.
    vjp: ({ g, bounds, inputs: [, , srcValue], attrs, forward }) => {
      const [x, idx, src] = bounds as [Bounds, Bounds, Bounds];
      let scale = maxAbs(g);
      if (attrs.reduce === "prod") {
        const big = (b: Bounds): Tensor => maxAbs(b).maximum(1);
        scale = scale.mul(isPoint(idx) ? forward([big(x), idx.lo, big(src)], attrs) : big(x).mul(big(src).prod()));
      }
      const toSrc = isPoint(idx) ? toSrcShape(scale.gather(attrs.dim, idx.lo), srcValue) : scale.amax().expand(srcValue.shape);
      return [symmetric(scale), null, symmetric(toSrc)];
    },
  },
});

/** Whether t (when given) holds a zero. */
function hasZero(t: Tensor | null): boolean {
  if (!t) return false;
  const d = contiguousData(t);
  for (let i = 0; i < d.length; i++) if (d[i] === 0) return true;
  return false;
}

/**
 * scatterReduce "prod"'s gradients where zeros take part: the contributors of each place (x's own
 * value when included, then the src entries sent there) are gathered into one row of a table padded
 * with 1s, prodOfOthers runs along the rows, and the rows' gradients go back where they came from.
 */
function prodGradWithZeros(g: Tensor, x: Tensor, s: Tensor, index: Tensor, dim: number, includeSelf: boolean): [Tensor, Tensor] {
  const places = scatterPlaces(x, dim, index);
  const nx = x.numel;
  const rows: number[][] = Array.from({ length: nx }, (_, q) => (includeSelf ? [1 + q] : []));
  for (let p = 0; p < places.length; p++) rows[places[p]!]!.push(1 + nx + p);
  const k = Math.max(1, ...rows.map((r) => r.length));
  const table = new Int32Array(nx * k); // 0 picks the leading 1
  rows.forEach((r, q) => r.forEach((v, j) => (table[q * k + j] = v)));
  const t = new Tensor(table, [nx * k]);
  const all = cat([full([1], 1, { dtype: x.dtype }), x.reshape([-1]), s.reshape([-1])]);
  const others = prodOfOthers(all.indexSelect(0, t).reshape([nx, k]), 1);
  const back = zerosLike(all).scatterAdd(0, t, others.mul(g.reshape([nx, 1])).reshape([-1]));
  return [back.narrow(0, 1, nx).reshape(x.shape), back.narrow(0, 1 + nx, s.numel).reshape(s.shape)];
}

/**
 * A copy of x where the values of `src` sent to one place by `index` along dim are combined with
 * `reduce` (as torch.scatter_reduce): "sum", "prod", "mean", "amax" or "amin", with x's own
 * value included unless `includeSelf` is false (then a place that receives nothing keeps x's
 * value). Gradients as PyTorch's: "prod" gives each contributor the product of the others (exact
 * with zeros), "amax"/"amin" share it evenly among the tied extremes, "mean" divides it by the count.
 * @example
 * const idx = tensor([0, 0, 2], { dtype: "int32" });
 * scatterReduce(tensor([1, 1, 1]), 0, idx, tensor([2, 3, 4]), "prod").toArray(); // [6, 1, 4]
 * scatterReduce(tensor([1, 1, 1]), 0, idx, tensor([2, 3, 4]), "amax", { includeSelf: false }).toArray(); // [3, 1, 4]
 * scatterReduce(tensor([0, 0, 0]), 0, idx, tensor([2, 3, 4]), "mean").toArray(); // [1.666..., 0, 2]
 */
export function scatterReduce(x: Tensor, dim: number, index: Tensor, src: Tensor, reduce: ScatterReduceMode, options: ScatterReduceOptions = {}): Tensor {
  if (!REDUCE_MODES.includes(reduce)) throw new ValueError("scatterReduce", `reduce must be one of ${REDUCE_MODES.join(", ")}, got ${JSON.stringify(reduce)}`);
  if (!(src instanceof Tensor)) throw new DTypeError("scatterReduce", `src must be a Tensor, got ${typeof src}`);
  const d = checkScatter("scatterReduce", x, dim, index, src);
  return call(scatterReduceOp, [x, index, src], { dim: d, reduce, includeSelf: options.includeSelf ?? true });
}

/**
 * The int32 indices of the non-zero entries (NaN counts as non-zero) in row-major order, one row
 * per entry ([count, ndim], as torch.nonzero), or with `{ asTuple: true }` one 1-d tensor per dim.
 * Not differentiable.
 * @example
 * nonzero(tensor([[1, 0], [0, 3]])).toArray(); // [[0, 0], [1, 1]]
 * nonzero(tensor([0, 5, 7]), { asTuple: true })[0]!.toArray(); // [1, 2]
 */
export function nonzero(x: Tensor): Tensor;
export function nonzero(x: Tensor, options: { asTuple: true }): Tensor[];
export function nonzero(x: Tensor, options: { asTuple?: boolean } = {}): Tensor | Tensor[] {
  if (!(x instanceof Tensor)) throw new DTypeError("nonzero", `input must be a Tensor, got ${typeof x}`);
  const data = contiguousData(x);
  const nd = x.ndim;
  const rows: number[] = [];
  const pos = new Array<number>(nd).fill(0);
  for (let p = 0; p < data.length; p++) {
    if (data[p] !== 0) rows.push(...pos);
    for (let i = nd - 1; i >= 0; i--) {
      if (++pos[i]! < x.shape[i]!) break;
      pos[i] = 0;
    }
  }
  const count = nd === 0 ? (data[0] !== 0 ? 1 : 0) : rows.length / nd;
  if (!options.asTuple) return new Tensor(Int32Array.from(rows), [count, nd]);
  if (nd === 0) return [new Tensor(new Int32Array(count), [count])];
  return Array.from({ length: nd }, (_, i) => new Tensor(Int32Array.from({ length: count }, (_, k) => rows[k * nd + i]!), [count]));
}
