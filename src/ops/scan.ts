/**
 * Cumulative ops along one dim: cumsum, cumprod, logcumsumexp, cummax and cummin (as
 * torch.cumsum / cumprod / logcumsumexp / cummax / cummin).
 *
 * Gradients (written down and tested): cumsum's is the reverse cumulative sum of the upstream
 * gradient, so a -Infinity in x gives -Infinity in the output from there on and a finite gradient
 * everywhere. cumprod's is exact with zeros (as PyTorch): without a zero on a line it is
 * revcumsum(g · y) / x; a line with a zero takes the product-of-the-others form
 * dL/dx_i = prod_{j<i} x_j · sum_{k>=i} g_k prod_{i<j<=k} x_j, which never divides.
 * Bool and int32 inputs are summed (multiplied) as int32 (torch: int64) and are not differentiable.
 *
 * logcumsumexp runs log(exp(acc) + exp(v)) = max + log1p(exp(min - max)) along the line, so it
 * neither overflows (1e30) nor underflows; a prefix of only -Infinity is -Infinity. Its gradient
 * dL/dx_i = sum_{k>=i} g_k exp(x_i - out_k) is computed from the running max M and the normalized
 * running sums Z_k = sum_{j<=k} exp(x_j - M_k) (a linear recurrence), as exp(x_i - M_i) · S_i with
 * S_i = g_i / Z_i + exp(M_i - M_{i+1}) S_{i+1}: every exponent is <= 0 and the rounded output is
 * never used, so the gradient is right at 1e30 in float32 too (torch 1.13's log-space form adds
 * log|g| to out and there gives 1 for every g). A position whose prefix is all -Infinity gets
 * gradient 0 (torch: NaN), as logsumexp's fully masked rows.
 *
 * cummax/cummin (subgradients written down and tested): the running extreme moves to an entry
 * that ties it, so among ties the LAST index is returned and gets the gradient (torch 1.13 on CPU
 * does the same); a NaN becomes the running value from there on, with the index of the latest NaN
 * (as torch).
 */
import { ValueError } from "../errors.js";
import { allocArray, isFloat } from "../tensor/dtype.js";
import { contiguousData } from "../tensor/layout.js";
import { normDim } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, call, type OpDef, OpFamily } from "./define.js";
import { maxAbs, monotone, symmetric } from "./interval.js";
import { where } from "./compare.js";
import { gather } from "./indexing.js";
import type { ValuesIndices } from "./reduce.js";
import { cast, pad, padDims, reshape } from "./shape.js";

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
  interval: monotone(),
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
  // Monotone where every x >= 0, else within ± the products of |x|. The gradient of x_i is
  // sum_{k >= i} g_k prod_{j <= k, j != i} x_j: at most revCumsum(|g| cumprod(max(|x|, 1))) in size.
  interval: {
    forward: (c) => {
      const x = c.bounds[0]!;
      if (x.lo.ge(0).toTypedArray().every((v) => v)) return monotone<[Tensor], ScanAttrs>().forward(c);
      return symmetric(c.forward([maxAbs(x)], c.attrs));
    },
    vjp: ({ g, bounds: [x], attrs, forward }) => {
      const p = forward([maxAbs(x!).maximum(1)], attrs);
      return [symmetric(revCumsum(maxAbs(g).mul(p), attrs.dim))];
    },
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

// ------------------------------------------------------------------ a linear recurrence (internal)
/**
 * y_k = b_k + a_k · y_{k-1} along dim (y_{-1} = 0), from the end of the dim when `reverse`
 * (y_k = b_k + a_k · y_{k+1}). The gradient of logcumsumexp is one; its own gradient is another
 * one in the other direction, so gradients of gradients stay O(n).
 */
const linearScanOp: OpDef<[Tensor, Tensor], ScanAttrs> = scanOps.define<[Tensor, Tensor], ScanAttrs>({
  name: "linearScan",
  forward: ([a, b], { dim, reverse }) => {
    const ad = contiguousData(a);
    const bd = contiguousData(b);
    const out = allocArray(b.dtype, bd.length);
    const n = b.shape[dim] ?? 1;
    const inner = b.shape.slice(dim + 1).reduce((p, s) => p * s, 1);
    const outer = n === 0 || inner === 0 ? 0 : bd.length / (n * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let acc = 0;
        for (let k = 0; k < n; k++) {
          const p = base + (reverse ? n - 1 - k : k) * inner;
          // NOTE: a zero coefficient drops the carry exactly (0 · Infinity would be NaN).
          acc = ad[p] === 0 ? bd[p]! : bd[p]! + ad[p]! * acc;
          out[p] = acc;
        }
      }
    }
    return new Tensor(out, b.shape);
  },
  // The adjoint λ_k = gy_k + a_{k+1} λ_{k+1} runs the other way; da_k = λ_k · y_{k-1}, db = λ.
  vjp: ({ g, inputs: [a], out, attrs: { dim, reverse }, needs }) => {
    const n = a.shape[dim]!;
    if (n === 0) return [g, g];
    const next = (t: Tensor): Tensor => padDims(t.narrow(dim, reverse ? 0 : 1, n - 1), shiftPads(t, dim, !reverse), 0);
    const prev = (t: Tensor): Tensor => padDims(t.narrow(dim, reverse ? 1 : 0, n - 1), shiftPads(t, dim, reverse), 0);
    const lambda = call(linearScanOp, [next(a), g], { dim, reverse: !reverse });
    return [needs[0] ? lambda.mul(prev(out)) : null, lambda];
  },
  // |y_k| <= |b_k| + |a_k| |y_{k-1}|: the recurrence itself on the largest magnitudes.
  interval: { forward: ({ bounds: [a, b], attrs, forward }) => symmetric(forward([maxAbs(a!), maxAbs(b!)], attrs)) },
});

/**
 * @internal y_k = b_k + a_k · y_{k-1} along dim (from the end when `reverse`), as a graph op: a
 * and b have the same shape.
 */
export function linearScan(a: Tensor, b: Tensor, dim: number, reverse = false): Tensor {
  return call(linearScanOp, [a, b], { dim: normDim("linearScan", dim, b.ndim), reverse });
}

/** Pads of one zero at the end (`atEnd`) or the start of dim. */
function shiftPads(t: Tensor, dim: number, atEnd: boolean): [number, number][] {
  return t.shape.map((_, j) => (j === dim ? (atEnd ? [0, 1] : [1, 0]) : [0, 0]));
}

// ------------------------------------------------------------------ logcumsumexp
/** log(exp(a) + exp(b)) without overflow; two equal infinities give themselves. */
function logAddExp(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo !== hi || Number.isFinite(lo)) return hi + Math.log1p(Math.exp(lo - hi));
  return a;
}

const logcumsumexpOp = scanOps.define<[Tensor], ScanAttrs>({
  name: "logcumsumexp",
  forward: ([x], a) => scan(x, a.dim, false, -Infinity, logAddExp),
  vjp: ({ g, inputs: [x], attrs: { dim } }) => {
    const n = x.shape[dim]!;
    if (n === 0) return [g];
    // M = the running max, Z_k = sum_{j<=k} exp(x_j - M_k) in [1, k + 1] (a linear recurrence), and
    // exp(x_i - out_k) = exp(x_i - M_i) · exp(M_i - M_k) / Z_k, every exponent <= 0. The rounded
    // output is never used: at 1e30 in float32, out = M + log Z has lost log Z, x - M has not.
    // A prefix of only -Infinity (M = -Infinity, Z = 0) is shifted by 0 and gets gradient 0.
    const m = cumExtreme("cummax", x, dim).values;
    const masked = m.eq(-Infinity);
    const ms = where(masked, 0, m);
    const e = x.sub(ms).exp();
    // ratio_k = exp(M_{k-1} - M_k) for k >= 1 (0 after a masked prefix), ratio_0 = 0
    const prevMasked = masked.narrow(dim, 0, n - 1);
    const steps = where(prevMasked, 0, ms.narrow(dim, 0, n - 1).sub(ms.narrow(dim, 1, n - 1)).exp());
    const ratio = padDims(steps, shiftPads(x, dim, false), 0);
    const z = call(linearScanOp, [ratio, e], { dim, reverse: false });
    const gz = where(z.eq(0), 0, g.div(where(z.eq(0), 1, z)));
    const back = padDims(steps, shiftPads(x, dim, true), 0);
    return [e.mul(call(linearScanOp, [back, gz], { dim, reverse: true }))];
  },
  saved: [0], // x only (not the rounded output)
  // Non-decreasing in every entry. The gradient of x_i is sum_{k>=i} g_k exp(x_i - out_k), with
  // every exp(x_i - out_k) in [0, 1]: at most revCumsum(|g|) in size.
  interval: {
    ...monotone(),
    vjp: ({ g, attrs }) => [symmetric(revCumsum(maxAbs(g), attrs.dim))],
  },
});

/**
 * log(cumsum(exp(x))) along `dim`, computed stably (as torch.logcumsumexp): no overflow for large
 * entries (1e30), and -Infinity entries (masks) are skipped; a prefix of only -Infinity is
 * -Infinity with gradient 0.
 * @example
 * logcumsumexp(tensor([0, 0, 0]), 0).toArray(); // [0, 0.693..., 1.0986...]
 * logcumsumexp(tensor([-Infinity, 1e30, 1e30]), 0).toArray(); // [-Infinity, 1e30, 1e30]
 */
export function logcumsumexp(x: Tensor, dim: number): Tensor {
  assertFloat("logcumsumexp", x);
  const d = normDim("logcumsumexp", dim, x.ndim);
  if (x.ndim === 0) return reshape(logcumsumexp(reshape(x, [1]), 0), []);
  return call(logcumsumexpOp, [x], { dim: d, reverse: false });
}

// ------------------------------------------------------------------ cummax, cummin
function cumExtreme(op: "cummax" | "cummin", x: Tensor, dim: number): ValuesIndices {
  if (!(x instanceof Tensor)) throw new ValueError(op, `input must be a Tensor, got ${typeof x}`);
  const d = normDim(op, dim, x.ndim);
  if (x.ndim === 0) {
    const r = cumExtreme(op, reshape(x, [1]), 0);
    return { values: reshape(r.values, []), indices: reshape(r.indices, []) };
  }
  const data = contiguousData(x);
  const idx = new Int32Array(data.length);
  const n = x.shape[d]!;
  const inner = x.shape.slice(d + 1).reduce((a, s) => a * s, 1);
  const outer = n === 0 || inner === 0 ? 0 : data.length / (n * inner);
  const max = op === "cummax";
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = data[base]!;
      let at = 0;
      for (let k = 0; k < n; k++) {
        const v = data[base + k * inner]!;
        // As torch: a NaN takes over (and keeps its place), a tie moves the index to the later entry.
        if (v !== v || (best === best && (max ? v >= best : v <= best))) {
          best = v;
          at = k;
        }
        idx[base + k * inner] = at;
      }
    }
  }
  const indices = new Tensor(idx, x.shape);
  return { values: gather(x, d, indices), indices };
}

/**
 * The running maximum along `dim` and the int32 index where each was found (as torch.cummax).
 * Among ties the later index wins (and takes the gradient); a NaN stays the maximum from there on.
 * @example
 * const { values, indices } = cummax(tensor([1, 3, 2, 3, 5]), 0);
 * values.toArray(); // [1, 3, 3, 3, 5]
 * indices.toArray(); // [0, 1, 1, 3, 4]
 */
export function cummax(x: Tensor, dim: number): ValuesIndices {
  return cumExtreme("cummax", x, dim);
}

/**
 * The running minimum along `dim` and the int32 index where each was found (as torch.cummin).
 * Among ties the later index wins (and takes the gradient); a NaN stays the minimum from there on.
 * @example
 * const { values, indices } = cummin(tensor([3, 1, 2, 1, 0]), 0);
 * values.toArray(); // [3, 1, 1, 1, 0]
 * indices.toArray(); // [0, 1, 1, 3, 4]
 */
export function cummin(x: Tensor, dim: number): ValuesIndices {
  return cumExtreme("cummin", x, dim);
}
