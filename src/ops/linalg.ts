/**
 * Matrix products: matmul with torch.matmul's rules (1-D, 2-D, batched with broadcasting); pairwise
 * distances (cdist).
 *
 * Singular points (written down and tested): cdist's gradient is 0 for a pair of identical points
 * (as PyTorch), for every p; with p = Infinity, coordinates tied for the largest difference split the
 * gradient evenly (as norm and torch.linalg.vector_norm; torch.cdist gives each the whole gradient).
 */
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { stridesInOrder } from "../kernels/layout.js";
import { broadcastShapes, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, call, expandView, OpFamily } from "./define.js";
import { bilinear } from "./interval.js";
import { norm } from "./reduce.js";
import { squeeze, unsqueeze } from "./shape.js";

/** @internal The linalg family's op-table entries. */
export const linalgOps = new OpFamily("linalg");

/** True when the last two dims of t are stored column by column (a transposed matrix). */
function colMajor(t: Tensor): boolean {
  const n = t.ndim;
  return t.strides[n - 2] === 1 && t.shape[n - 2]! > 1 && t.shape[n - 1]! > 1;
}

/**
 * The dim order in which a batched product stores its result [...batch, M, N] when b is a
 * permuted view with unit column stride: the order of b's own dims (batch dims by b's strides,
 * M where b's k dim is, N innermost), or null when that is the row-major order, b is broadcast
 * (a zero stride) or not batched. Heads of attention, v [N, H, S, D] viewed on [N, S, H, D]
 * storage, then give p @ v stored as [N, L, H, D]: merging the heads (transpose(1, 2).reshape)
 * is a view, and so is splitting the gradients of q, k and v back into their projections.
 */
function orderLike(bStrides: readonly number[]): number[] | null {
  const n = bStrides.length;
  if (n < 3 || bStrides[n - 1] !== 1 || bStrides.some((s) => s === 0)) return null;
  // stable: a tie keeps the row-major order
  const order = Array.from({ length: n - 1 }, (_, d) => d).sort((x, y) => bStrides[y]! - bStrides[x]!);
  if (order.every((d, i) => d === i)) return null;
  return [...order, n - 1];
}

const matmulOp = linalgOps.define<[Tensor, Tensor]>({
  name: "matmul",
  // Inputs are at least 2-D here (matmul() handles 1-D); batch dims broadcast.
  forward: ([a, b]) => {
    const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
    const M = a.shape[a.ndim - 2]!;
    const K = a.shape[a.ndim - 1]!;
    const N = b.shape[b.ndim - 1]!;
    const av = expandView(a, [...batch, M, K]);
    const bv = expandView(b, [...batch, K, N]);
    const shape = [...batch, M, N];
    const be = getBackend();
    const order = be.matmulOrdered ? orderLike(bv.strides) : null;
    const out = order ? be.matmulOrdered!(av, bv, order) : null;
    return out ? new Tensor(out, shape, stridesInOrder(shape, order!)) : new Tensor(be.matmul(av, bv), shape);
  },
  // NOTE: a gradient comes out in its input's layout. For y = x W^T (a Linear layer) the
  // weight gradient is computed as (g^T x)^T, whose transpose back to W is contiguous: no copy.
  vjp: ({ g, inputs: [a, b], needs }) => [
    needs[0] ? (colMajor(a) ? b.matmul(g.transpose(-1, -2)).transpose(-1, -2) : g.matmul(b.transpose(-1, -2))) : null,
    needs[1] ? (colMajor(b) ? g.transpose(-1, -2).matmul(a).transpose(-1, -2) : a.transpose(-1, -2).matmul(g)) : null,
  ],
  interval: bilinear(),
});
/**
 * Matrix product with torch.matmul's rules: 1-D vectors, 2-D matrices, batched with broadcasting.
 * @example
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray(); // [[11]]
 * matmul(randn([5, 2, 3]), randn([3, 4])).shape; // [5, 2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError("matmul", `needs at least 1 dim, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  if (a.dtype !== b.dtype) throw new DTypeError("matmul", `mixed dtypes ${a.dtype} and ${b.dtype}`);
  assertFloat("matmul", a);
  const ka = a.shape[a.ndim - 1]!;
  const kb = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (ka !== kb) throw new ShapeError("matmul", `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be multiplied (${ka} != ${kb})`);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  let r = call(matmulOp, [a2, b2], null);
  if (a.ndim === 1) r = squeeze(r, -2);
  if (b.ndim === 1) r = squeeze(r, -1);
  return r;
}

/**
 * The p-norm distance between every row of a [..., P, M] and every row of b [..., R, M]:
 * [..., P, R] (batch dims broadcast), as `torch.cdist` (p = 1, 2, Infinity, or any p >= 1;
 * default 2). Composed as `norm(a[..., :, None, :] - b[..., None, :, :], p, -1)`, so it takes
 * P·R·M memory, and its gradient is `norm`'s: 0, not NaN, for identical points (as PyTorch).
 * @example
 * cdist(tensor([[0, 0], [1, 1]]), tensor([[3, 4]])).toArray(); // [[5], [3.6055...]]
 * cdist(tensor([[0, 0]]), tensor([[3, 4]]), 1).item(); // 7
 * cdist(randn([2, 5, 3]), randn([2, 4, 3]), Infinity).shape; // [2, 5, 4]
 */
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor {
  assertFloat("cdist", a, "a");
  assertFloat("cdist", b, "b");
  if (a.dtype !== b.dtype) throw new DTypeError("cdist", `mixed dtypes ${a.dtype} and ${b.dtype}`);
  if (a.ndim < 2 || b.ndim < 2 || a.shape[a.ndim - 1] !== b.shape[b.ndim - 1]) {
    throw new ShapeError("cdist", `expects a [..., P, M] and b [..., R, M], got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  if (!(p >= 1)) throw new ValueError("cdist", `p must be >= 1 or Infinity, got ${p}`);
  broadcastShapes("cdist", a.shape.slice(0, -2), b.shape.slice(0, -2));
  const diff = unsqueeze(a, -2).sub(unsqueeze(b, -3));
  // NOTE: with M = 0 every distance is 0 (as PyTorch); the inf-norm of an empty dim is refused, the 1-norm is 0.
  return norm(diff, a.shape[a.ndim - 1] === 0 ? 1 : p, -1);
}

/**
 * Batched matrix product of a [B, N, M] and b [B, M, P]: [B, N, P] (as torch.bmm; no broadcasting).
 * @example
 * bmm(randn([4, 2, 3]), randn([4, 3, 5])).shape; // [4, 2, 5]
 */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) throw new ShapeError("bmm", `expects [B, N, M] and [B, M, P], got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  return matmul(a, b);
}

/** Options of `baddbmm` (`Tensor.baddbmm`). */
export interface BaddbmmOptions {
  /** The factor of the input (default 1; with 0 the input is ignored, NaN included, as PyTorch). */
  beta?: number;
  /** The factor of the product (default 1). */
  alpha?: number;
}
/**
 * beta · input + alpha · bmm(b1, b2) (as torch.baddbmm); input broadcasts to [B, N, P].
 * @example
 * baddbmm(zeros([1, 2, 5]), randn([4, 2, 3]), randn([4, 3, 5]), { alpha: 0.5 }).shape; // [4, 2, 5]
 */
export function baddbmm(input: Tensor, b1: Tensor, b2: Tensor, options: BaddbmmOptions = {}): Tensor {
  const { beta = 1, alpha = 1 } = options;
  const prod = bmm(b1, b2);
  const out = broadcastShapes("baddbmm", input.shape, prod.shape);
  if (out.length !== prod.ndim || out.some((s, i) => s !== prod.shape[i])) throw new ShapeError("baddbmm", `input ${shapeStr(input.shape)} does not broadcast to ${shapeStr(prod.shape)}`);
  const scaled = alpha === 1 ? prod : prod.mul(alpha);
  if (beta === 0) return scaled;
  return (beta === 1 ? input : input.mul(beta)).add(scaled);
}
