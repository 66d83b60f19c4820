/**
 * Cumulative ops along one dim: cumsum and cumprod (as torch.cumsum / torch.cumprod).
 *
 * Gradients (written down and tested): cumsum's is the reverse cumulative sum of the upstream
 * gradient, so a -Infinity in x gives -Infinity in the output from there on and a finite gradient
 * everywhere. cumprod's is exact with zeros (as PyTorch): without a zero on a line it is
 * revcumsum(g · y) / x; a line with a zero takes the product-of-the-others form
 * dL/dx_i = prod_{j<i} x_j · sum_{k>=i} g_k prod_{i<j<=k} x_j, which never divides.
 * Bool and int32 inputs are summed (multiplied) as int32 (torch: int64) and are not differentiable.
 */
import { ValueError } from "../errors.js";
import { allocArray, isFloat } from "../tensor/dtype.js";
import { contiguousData } from "../tensor/layout.js";
import { normDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { call, type OpDef, OpFamily } from "./define.js";
import { where } from "./compare.js";
import { cast, pad } from "./shape.js";

/** @internal The scan family's op-table entries (cumulative ops). */
export const scanOps = new OpFamily("scan");

interface ScanAttrs {
  dim: number;
  /** Run from the end of the dim to its start (the gradient of cumsum). */
  reverse: boolean;
}

/** Run `step` along `dim` of x's row-major data, line by line (outer × inner lines of length n). */
function scan(x: Tensor, dim: number, reverse: boolean, init: number, step: (acc: number, v: number) => number): Tensor {
  const data = contiguousData(x);
  const out = allocArray(x.dtype, data.length);
  const n = x.shape[dim] ?? 1;
  const inner = x.shape.slice(dim + 1).reduce((a, s) => a * s, 1);
  const outer = n === 0 || inner === 0 ? 0 : data.length / (n * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = init;
      for (let k = 0; k < n; k++) {
        const p = base + (reverse ? n - 1 - k : k) * inner;
        acc = step(acc, data[p]!);
        out[p] = acc;
      }
    }
  }
  return new Tensor(out, x.shape);
}

const cumsumOp: OpDef<[Tensor], ScanAttrs> = scanOps.define<[Tensor], ScanAttrs>({
  name: "cumsum",
  forward: ([x], a) => scan(x, a.dim, a.reverse, 0, (acc, v) => acc + v),
  vjp: ({ g, attrs }) => [call(cumsumOp, [g], { dim: attrs.dim, reverse: !attrs.reverse })],
  saved: [], // only shapes and dtypes
});

function scanInput(op: string, x: Tensor, dim: number): [Tensor, number] {
  if (!(x instanceof Tensor)) throw new ValueError(op, `input must be a Tensor, got ${typeof x}`);
  const d = normDim(op, dim, x.ndim);
  return [isFloat(x.dtype) || x.dtype === "int32" ? x : cast(x, "int32"), d];
}

/**
 * Cumulative sum along `dim`: out[i] = x[0] + ... + x[i] (as torch.cumsum; bool sums as int32).
 * @example
 * cumsum(tensor([1, 2, 3, 4]), 0).toArray(); // [1, 3, 6, 10]
 * cumsum(tensor([[1, 2], [3, 4]]), -1).toArray(); // [[1, 3], [3, 7]]
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  const [t, d] = scanInput("cumsum", x, dim);
  return call(cumsumOp, [t], { dim: d, reverse: false });
}

/** The reverse cumulative sum along dim (sum from i to the end). */
function revCumsum(x: Tensor, dim: number): Tensor {
  return call(cumsumOp, [x], { dim, reverse: true });
}

/** cumprod's gradient for lines that may hold zeros: no division (see the header). */
function cumprodGradWithZeros(g: Tensor, x: Tensor, dim: number): Tensor {
  const n = x.shape[dim]!;
  const xt = x.transpose(dim, -1);
  const gt = g.transpose(dim, -1);
  // E_i = prod_{j<i} x_j: the exclusive cumulative product.
  const e = cumprod(pad(xt.narrow(-1, 0, n - 1), [1, 0], 1), -1);
  // C[i, k] = prod_{i<j<=k} x_j for k >= i (1 at k = i), 0 for k < i.
  const rows = Array.from({ length: n * n }, (_, p) => Math.floor(p / n));
  const cols = Array.from({ length: n * n }, (_, p) => p % n);
  const after = new Tensor(Uint8Array.from(rows.map((i, p) => (cols[p]! > i ? 1 : 0))), [n, n]);
  const onOrAfter = new Tensor(Uint8Array.from(rows.map((i, p) => (cols[p]! >= i ? 1 : 0))), [n, n]);
  const c = cumprod(where(after, xt.unsqueeze(-2), 1), -1);
  const s = where(onOrAfter, c, 0).mul(gt.unsqueeze(-2)).sum(-1);
  return e.mul(s).transpose(dim, -1);
}

const cumprodOp = scanOps.define<[Tensor], ScanAttrs>({
  name: "cumprod",
  forward: ([x], a) => scan(x, a.dim, false, 1, (acc, v) => acc * v),
  vjp: ({ g, inputs: [x], out, attrs }) => {
    if (x.numel === 0) return [g];
    const data = contiguousData(x);
    let hasZero = false;
    for (let i = 0; i < data.length && !hasZero; i++) hasZero = data[i] === 0;
    if (hasZero) return [cumprodGradWithZeros(g, x, attrs.dim)];
    return [revCumsum(g.mul(out), attrs.dim).div(x)];
  },
});

/**
 * Cumulative product along `dim`: out[i] = x[0] · ... · x[i] (as torch.cumprod). Its gradient is
 * exact where x holds zeros (no division by zero, as PyTorch).
 * @example
 * cumprod(tensor([1, 2, 3, 4]), 0).toArray(); // [1, 2, 6, 24]
 * const x = tensor([2, 0, 3], { requiresGrad: true });
 * cumprod(x, 0).sum().backward();
 * x.grad!.toArray(); // [1, 8, 0]
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  const [t, d] = scanInput("cumprod", x, dim);
  return call(cumprodOp, [t], { dim: d, reverse: false });
}
