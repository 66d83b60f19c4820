/**
 * Sorting along one dim: sort, argsort, topk (as torch.sort / torch.argsort / torch.topk).
 *
 * The order is computed once (not differentiable) and the values are `gather`ed from x, so the
 * gradient flows to the selected entries only, each getting the gradient of the place it went to.
 *
 * Ties (written down and tested): the sort is stable in both directions, so among equal values the
 * lower index comes first, ascending or descending (torch.sort(stable=True) does the same); topk
 * picks by the same order, so among tied values the lower index wins (and takes the gradient).
 * NaN sorts as larger than every number (as PyTorch); -0 and 0 are equal.
 */
import { DTypeError, ValueError } from "../errors.js";
import { contiguousData } from "../tensor/layout.js";
import { normDim, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { gather } from "./indexing.js";
import type { ValuesIndices } from "./reduce.js";
import { narrow, reshape } from "./shape.js";

/** Options of `topk` (`Tensor.topk`). */
export interface TopkOptions {
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
  /** Return them in sorted order (default true; safegrad always sorts, so false changes nothing). */
  sorted?: boolean;
}

/** Ascending comparison with NaN after every number. */
function ascending(a: number, b: number): number {
  const na = a !== a;
  const nb = b !== b;
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function order(op: string, x: Tensor, dim: number, descending: boolean): [Tensor, number] {
  if (!(x instanceof Tensor)) throw new DTypeError(op, `input must be a Tensor, got ${typeof x}`);
  const d = normDim(op, dim, x.ndim);
  const data = contiguousData(x);
  const out = new Int32Array(data.length);
  const n = x.shape[d] ?? 1;
  const inner = x.shape.slice(d + 1).reduce((a, s) => a * s, 1);
  const outer = n === 0 || inner === 0 ? 0 : data.length / (n * inner);
  const idx = Array.from({ length: n }, (_, i) => i);
  const cmp = descending ? (i: number, j: number, base: number) => ascending(data[base + j * inner]!, data[base + i * inner]!) : (i: number, j: number, base: number) => ascending(data[base + i * inner]!, data[base + j * inner]!);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let k = 0; k < n; k++) idx[k] = k;
      // Array.prototype.sort is stable (ES2019): ties keep their index order.
      idx.sort((p, q) => cmp(p, q, base));
      for (let k = 0; k < n; k++) out[base + k * inner] = idx[k]!;
    }
  }
  return [new Tensor(out, x.shape), d];
}

/**
 * The int32 indices that sort x along `dim` (default the last), ascending or descending; stable
 * (ties keep their index order), NaN last ascending and first descending. Not differentiable.
 * @example
 * argsort(tensor([3, 1, 2]), 0).toArray(); // [1, 2, 0]
 * argsort(tensor([[1, 3, 1]]), -1, true).toArray(); // [[1, 0, 2]]
 */
export function argsort(x: Tensor, dim = -1, descending = false): Tensor {
  return order("argsort", x, dim, descending)[0];
}

/**
 * Sort along `dim` (default the last): the sorted values (differentiable: each entry's gradient
 * goes back to where it came from) and their int32 indices. Stable: ties keep their index order.
 * @example
 * const { values, indices } = sort(tensor([3, 1, 2]));
 * values.toArray(); // [1, 2, 3]
 * indices.toArray(); // [1, 2, 0]
 * sort(tensor([[2, 5, 1]]), 1, true).values.toArray(); // [[5, 2, 1]]
 */
export function sort(x: Tensor, dim = -1, descending = false): ValuesIndices {
  if (x instanceof Tensor && x.ndim === 0) return scalarResult(sort(reshape(x, [1]), dim, descending));
  const [indices, d] = order("sort", x, dim, descending);
  return { values: gather(x, d, indices), indices };
}

/**
 * The `k` largest (or smallest) entries along `dim` (default the last), sorted, with their int32
 * indices (as torch.topk). The gradient goes to the selected entries; among tied values the lower
 * index is selected first.
 * @example
 * const { values, indices } = topk(tensor([1, 5, 3, 4]), 2);
 * values.toArray(); // [5, 4]
 * indices.toArray(); // [1, 3]
 * topk(tensor([[1, 5, 3]]), 1, -1, { largest: false }).indices.toArray(); // [[0]]
 */
export function topk(x: Tensor, k: number, dim = -1, options: TopkOptions = {}): ValuesIndices {
  if (x instanceof Tensor && x.ndim === 0) {
    const r = topk(reshape(x, [1]), k, dim, options);
    return k === 1 ? scalarResult(r) : r;
  }
  const [idx, d] = order("topk", x, dim, options.largest ?? true);
  const n = x.shape[d] ?? 1;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new ValueError("topk", `k = ${k} is out of range for dim ${dim} of size ${n} (shape ${shapeStr(x.shape)})`);
  const indices = narrow(idx, d, 0, k);
  return { values: gather(x, d, indices), indices };
}

/** A 0-d input's result: the [1]-shaped values and indices made 0-d again. */
function scalarResult(r: ValuesIndices): ValuesIndices {
  return { values: reshape(r.values, []), indices: reshape(r.indices, []) };
}
