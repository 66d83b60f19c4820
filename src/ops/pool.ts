/**
 * 2-D pooling (NCHW): max pooling (the gradient goes to the first maximum of each window, through
 * a gather of the kernel's indices) and average pooling (a depthwise conv2d with a ones kernel).
 * 1-D pooling ([N, C, L] or [C, L]) is the 2-D pooling of [N, C, 1, L] with a [1, k] window.
 * `ceilMode` (every pool) keeps a last partial window as PyTorch does (it starts inside the input
 * or its left padding); average pooling divides such a window by the part of it inside the padded
 * input (or, without countIncludePad, inside the input), as PyTorch.
 * Adaptive pooling: window i of an output of o over an input of L is [floor(i L / o), ceil((i + 1) L / o)).
 * Adaptive average pooling averages along each dim in turn (a reshape and mean when o divides L;
 * else a matmul with the averaging matrix when the input is finite, or a gather of the windows
 * with the padding masked by where, so an infinite input never meets a zero weight); adaptive max pooling is max pooling when o divides L, else a gather of each
 * window's elements whose argmax picks the index (the first maximum, NaN counting as the maximum).
 * maxUnpool writes each value at its index; where indices repeat the last write wins (as PyTorch's
 * CPU loop) and only that value gets the gradient (PyTorch sends every duplicate the gradient).
 *
 * Ties (written down and tested): max pooling sends a window's whole gradient to its first maximum
 * (the returned index; as PyTorch), average pooling splits it evenly over the window (1 / divisor
 * to each element it averages).
 */
import { DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import type { Conv2dParams, Pool2dParams } from "../kernels/backend.js";
import { poolOut, poolOutShape } from "../kernels/layout.js";
import { getBackend } from "../kernels/registry.js";
import { allocArray } from "../tensor/dtype.js";
import { shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { conv2dRaw, one, two, type Size1d } from "./conv.js";
import { call, nonDifferentiable, OpFamily } from "./define.js";
import { constBounds, isPoint, point } from "./interval.js";
import { where } from "./compare.js";
import { gather, gatherOp, indexSelect, scatterAdd } from "./indexing.js";
import { argmax, type ValuesIndices } from "./reduce.js";
import { matmul } from "./linalg.js";
import { expand, padDims, reshape, transpose, unsqueeze } from "./shape.js";
import { allFinite, contiguousData } from "../tensor/layout.js";

/** @internal The pool family's op-table entries. */
export const poolOps = new OpFamily("pool");

/** Options of `maxPool2d` / `maxPool2dWithIndices` (and the `MaxPool2d` layer). */
export interface Pool2dOptions {
  /** Step between windows, one number or [height, width] (default: the kernel size). */
  stride?: number | readonly [number, number];
  /** Keep a last partial window that starts inside the input or its left padding (default false). */
  ceilMode?: boolean;
  /** Implicit -Infinity padding on each side, at most half the kernel (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between window elements, one number or [height, width] (default 1). */
  dilation?: number | readonly [number, number];
}

function poolParams(op: string, x: Tensor, kernelSize: number | readonly [number, number], o: Pool2dOptions) {
  if (x.ndim !== 4) throw new ShapeError(op, `expects input [N, C, H, W], got ${shapeStr(x.shape)}`);
  const kernel = two(op, "kernelSize", kernelSize, 1, 1);
  const ceilMode = o.ceilMode === true;
  const stride = o.stride === undefined ? kernel : two(op, "stride", o.stride, 1, 1);
  const padding = two(op, "padding", o.padding, 0, 0);
  const dilation = two(op, "dilation", o.dilation, 1, 1);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new ValueError(op, `padding ${JSON.stringify(padding)} must be at most half the kernel size ${JSON.stringify(kernel)}`);
  }
  const dims = [0, 1].map((i) => [x.shape[i + 2]!, kernel[i]!, stride[i]!, padding[i]!, dilation[i]!, i ? "width" : "height"] as const);
  const [Ho, Wo] = dims.map(([size, k, s, p, d, what]) => {
    const out = poolOut(size, k, s, p, d, ceilMode);
    if (out <= 0) throw new ShapeError(op, `output ${what} would be ${out} (input ${size}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
    return out;
  }) as [number, number];
  // A dilated window can fall entirely into the padding: it would have no element to pool.
  dims.forEach(([size, k, s, p, d, what], i) => {
    for (let o = 0; o < [Ho, Wo][i]!; o++) {
      let hit = false;
      for (let j = 0; j < k; j++) hit ||= o * s - p + j * d >= 0 && o * s - p + j * d < size;
      if (!hit) throw new ValueError(op, `output ${what} ${o}: window entirely in the padding (input ${size}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
    }
  });
  // ceilMode only where it changes a size, so the kernel's params stay the plain ones otherwise.
  const ceil = ceilMode && dims.some(([size, k, s, p, d]) => poolOut(size, k, s, p, d, true) !== poolOut(size, k, s, p, d, false));
  return { kernel, stride, padding, dilation, Ho, Wo, ...(ceil ? { ceilMode: true } : {}) };
}

/**
 * Max pooling (NCHW); the gradient goes to the first maximum of each window.
 * @example
 * maxPool2d(randn([1, 3, 8, 8]), 2).shape; // [1, 3, 4, 4]
 * maxPool2d(randn([1, 3, 8, 8]), 3, { stride: 1, padding: 1 }).shape; // [1, 3, 8, 8]
 * maxPool2d(randn([1, 3, 7, 7]), 2, { ceilMode: true }).shape; // [1, 3, 4, 4]
 */
export function maxPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: Pool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, options).values;
}

const maxPool2dIndicesOp = poolOps.define<[Tensor], Pool2dParams>({
  name: "maxPool2dIndices",
  forward: ([x], p) => new Tensor(getBackend().maxPool2dIndices(x, p), poolOutShape(x.shape, p)),
  vjp: nonDifferentiable,
  // The index of the max is known only when x is: else any flat index of the plane.
  interval: { forward: ({ bounds: [x], out }) => (isPoint(x!) ? point(out) : constBounds(out, 0, x!.lo.shape[2]! * x!.lo.shape[3]! - 1)) },
});

/**
 * Max pooling that also returns the flat (h * W + w) index of each maximum, as int32.
 * @example
 * const { values, indices } = maxPool2dWithIndices(tensor([[[[1, 2], [4, 3]]]]), 2);
 * indices.toArray(); // [[[[2]]]]
 */
export function maxPool2dWithIndices(x: Tensor, kernelSize: number | readonly [number, number], options: Pool2dOptions = {}): ValuesIndices {
  return maxPoolNCHW("maxPool2d", x, kernelSize, options);
}

function maxPoolNCHW(op: string, x: Tensor, kernelSize: number | readonly [number, number], options: Pool2dOptions): ValuesIndices {
  const p = poolParams(op, x, kernelSize, options);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const indices = call(maxPool2dIndicesOp, [x], p);
  const flatIdx = reshape(indices, [N, C, p.Ho * p.Wo]);
  const values = reshape(call(gatherOp, [reshape(x, [N, C, H * W]), flatIdx], { dim: 2 }), [N, C, p.Ho, p.Wo]);
  return { values, indices };
}

/** Options of `avgPool2d` (and the `AvgPool2d` layer). */
export interface AvgPool2dOptions {
  /** Step between windows, one number or [height, width] (default: the kernel size). */
  stride?: number | readonly [number, number];
  /** Zero padding on each side, at most half the kernel (default 0). */
  padding?: number | readonly [number, number];
  /** Count zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead of the window size (default: not set; not 0). */
  divisorOverride?: number;
  /** Keep a last partial window that starts inside the input or its left padding (default false). */
  ceilMode?: boolean;
}

/**
 * Average pooling (NCHW), composed from a depthwise conv2d with a ones kernel.
 * @example
 * avgPool2d(tensor([[[[1, 2], [3, 4]]]]), 2).item(); // 2.5
 * avgPool2d(randn([1, 3, 8, 8]), 2, { stride: 2 }).shape; // [1, 3, 4, 4]
 * avgPool2d(tensor([[[[1, 2, 3]]]]), [1, 2], { ceilMode: true }).toArray(); // [[[[1.5, 3]]]]
 */
export function avgPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}): Tensor {
  return avgPoolNCHW("avgPool2d", x, kernelSize, options);
}

function avgPoolNCHW(op: string, x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions): Tensor {
  const p = poolParams(op, x, kernelSize, { stride: options.stride, padding: options.padding, ceilMode: options.ceilMode });
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const { Ho, Wo, kernel: k, stride: st, padding: pd } = p;
  const dv = options.divisorOverride;
  if (dv !== undefined && (typeof dv !== "number" || !Number.isFinite(dv) || dv === 0)) throw new ValueError(op, `divisorOverride must be a finite non-zero number, got ${dv}`);
  // ceilMode: zeros at the bottom/right so the last partial windows exist for the conv.
  const ext = [H, W].map((size, i) => Math.max(0, ([Ho, Wo][i]! - 1) * st[i]! + k[i]! - (size + 2 * pd[i]!)));
  const xe = ext[0] || ext[1] ? padDims(x, [[0, 0], [0, 0], [0, ext[0]!], [0, ext[1]!]], 0) : x;
  const ones = new Tensor(allocArray(x.dtype, k[0] * k[1]).fill(1), [1, 1, k[0], k[1]]);
  const cp: Conv2dParams = { stride: st, padding: pd, dilation: [1, 1], groups: 1 };
  const summed = reshape(conv2dRaw(reshape(xe, [N * C, 1, H + ext[0]!, W + ext[1]!]), ones, cp), [N, C, Ho, Wo]);
  if (dv !== undefined) return summed.div(dv);
  // PyTorch's divisor: the window clipped to the padded input, or (countIncludePad false) to the input.
  const include = options.countIncludePad ?? true;
  const counts = [H, W].map((size, i) => Array.from({ length: [Ho, Wo][i]! }, (_, o) => {
    const start = o * st[i]! - pd[i]!;
    const end = Math.min(start + k[i]!, size + pd[i]!);
    return include ? end - start : Math.min(end, size) - Math.max(start, 0);
  }));
  if (counts.every((c) => c.every((v) => v === c[0]))) return summed.div(counts[0]![0]! * counts[1]![0]!);
  const div = allocArray(x.dtype, Ho * Wo);
  for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) div[i * Wo + j] = counts[0]![i]! * counts[1]![j]!;
  return summed.div(new Tensor(div, [Ho, Wo]));
}

// ------------------------------------------------------------------ 1-D

/** Options of `maxPool1d` / `maxPool1dWithIndices`, as `torch.nn.functional.max_pool1d`'s. */
export interface Pool1dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size1d;
  /** Implicit -Infinity padding on each side, at most half the kernel (default 0). */
  padding?: Size1d;
  /** Spacing between window elements (default 1). */
  dilation?: Size1d;
  /** Keep a last partial window that starts inside the input or its left padding (default false). */
  ceilMode?: boolean;
}

/** Options of `avgPool1d`, as `torch.nn.functional.avg_pool1d`'s. */
export interface AvgPool1dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size1d;
  /** Zero padding on each side, at most half the kernel (default 0). */
  padding?: Size1d;
  /** Count zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Keep a last partial window that starts inside the input or its left padding (default false). */
  ceilMode?: boolean;
}

/**
 * A 1-D pooling as the 2-D one: x [N, C, L] (or [C, L]) viewed as [N, C, 1, L], the window [1, k].
 * Sizes are checked here so that errors speak of the length, not of a height of 1.
 */
function pool1d(op: string, x: Tensor, kernelSize: Size1d, o: { stride?: Size1d; padding?: Size1d; dilation?: Size1d; ceilMode?: boolean }, run: (x4: Tensor, k: [number, number], o2: Pool2dOptions) => Tensor): Tensor {
  if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(op, `expects input [N, C, L] or [C, L], got ${shapeStr(x.shape)}`);
  const [k] = two(op, "kernelSize", one(op, "kernelSize", kernelSize), 1, 1);
  const [s] = o.stride === undefined ? [k] : two(op, "stride", one(op, "stride", o.stride), 1, 1);
  const [p] = two(op, "padding", one(op, "padding", o.padding), 0, 0);
  const [d] = two(op, "dilation", one(op, "dilation", o.dilation), 1, 1);
  if (p > k / 2) throw new ValueError(op, `padding ${p} must be at most half the kernel size ${k}`);
  const L = x.shape[x.ndim - 1]!;
  const Lo = poolOut(L, k, s, p, d, o.ceilMode === true);
  if (Lo <= 0) throw new ShapeError(op, `output length would be ${Lo} (input ${L}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
  const x4 = reshape(x, x.ndim === 3 ? [x.shape[0]!, x.shape[1]!, 1, L] : [1, x.shape[0]!, 1, L]);
  const y = run(x4, [1, k], { stride: [1, s], padding: [0, p], dilation: [1, d], ceilMode: o.ceilMode });
  const outShape: Shape = x.ndim === 3 ? [x.shape[0]!, x.shape[1]!, Lo] : [x.shape[0]!, Lo];
  return reshape(y, outShape);
}

/**
 * Max pooling over the last dim of x [N, C, L] (or [C, L]), as `torch.nn.functional.max_pool1d`:
 * kernelSize, stride (default: the kernel size), -Infinity padding (at most half the kernel),
 * dilation and ceilMode. On ties the whole gradient of a window goes to its first
 * maximum (as PyTorch).
 * @example
 * maxPool1d(tensor([[[1, 3, 2, 5, 4]]]), 2).toArray(); // [[[3, 5]]]
 * maxPool1d(randn([2, 3, 8]), 3, { stride: 1, padding: 1 }).shape; // [2, 3, 8]
 */
export function maxPool1d(x: Tensor, kernelSize: Size1d, options: Pool1dOptions = {}): Tensor {
  return maxPool1dWithIndices(x, kernelSize, options).values;
}

/**
 * Max pooling over the last dim that also returns the index (along L) of each window's maximum, as
 * int32 (`max_pool1d(..., return_indices=True)`).
 * @example
 * const { values, indices } = maxPool1dWithIndices(tensor([[4, 1, 1, 7]]), 2);
 * values.toArray(); // [[4, 7]]
 * indices.toArray(); // [[0, 3]]
 */
export function maxPool1dWithIndices(x: Tensor, kernelSize: Size1d, options: Pool1dOptions = {}): ValuesIndices {
  let indices: Tensor | undefined;
  const values = pool1d("maxPool1d", x, kernelSize, options, (x4, k, o2) => {
    const r = maxPoolNCHW("maxPool1d", x4, k, o2);
    indices = r.indices;
    return r.values;
  });
  return { values, indices: reshape(indices!, values.shape) };
}

/**
 * Average pooling over the last dim of x [N, C, L] (or [C, L]), as
 * `torch.nn.functional.avg_pool1d`: kernelSize, stride (default: the kernel size), zero padding (at
 * most half the kernel), countIncludePad (default true: padded zeros count in the divisor) and
 * ceilMode. Each window's gradient is split evenly over the elements it averages.
 * @example
 * avgPool1d(tensor([[[1, 2, 3, 4]]]), 2).toArray(); // [[[1.5, 3.5]]]
 * avgPool1d(tensor([[1, 2, 3]]), 3, { stride: 1, padding: 1, countIncludePad: false }).toArray(); // [[1.5, 2, 2.5]]
 */
export function avgPool1d(x: Tensor, kernelSize: Size1d, options: AvgPool1dOptions = {}): Tensor {
  return pool1d("avgPool1d", x, kernelSize, options, (x4, k, o2) =>
    avgPoolNCHW("avgPool1d", x4, k, { stride: o2.stride, padding: o2.padding, countIncludePad: options.countIncludePad, ceilMode: o2.ceilMode }),
  );
}

// ------------------------------------------------------------------ adaptive

/** An adaptive output size: one number, or one per dim where null keeps the input's size. */
export type AdaptiveSize2d = number | readonly [number | null, number | null];

/** [start, length] of each window of an adaptive pooling of L into o. */
function adaptiveWindows(L: number, o: number): [number, number][] {
  return Array.from({ length: o }, (_, i) => {
    const start = Math.floor((i * L) / o);
    return [start, Math.ceil(((i + 1) * L) / o) - start] as [number, number];
  });
}

function adaptiveSizes(op: string, x: Tensor, outputSize: AdaptiveSize2d | Size1d, nd: 1 | 2): { x4: Tensor; out: [number, number]; unbatch: (y: Tensor) => Tensor } {
  const layout = nd === 1 ? "L" : "H, W";
  if (!(x instanceof Tensor) || (x.ndim !== nd + 1 && x.ndim !== nd + 2)) throw new ShapeError(op, `expects input [N, C, ${layout}] or [C, ${layout}], got ${x instanceof Tensor ? shapeStr(x.shape) : String(x)}`);
  const raw: (number | null)[] = nd === 1 ? [one(op, "outputSize", outputSize as Size1d) ?? NaN] : typeof outputSize === "number" ? [outputSize, outputSize] : [...(outputSize as readonly (number | null)[])];
  const sizes = x.shape.slice(x.ndim - nd);
  if (raw.length !== nd) throw new ValueError(op, `outputSize must be a number or ${nd} of them, got ${JSON.stringify(outputSize)}`);
  const out = raw.map((v, i) => (v === null ? sizes[i]! : v));
  for (const v of out) if (!Number.isInteger(v) || v < 1) throw new ValueError(op, `outputSize must be integers >= 1 (or null to keep a size), got ${JSON.stringify(outputSize)}`);
  if (sizes.some((v) => v === 0)) throw new ShapeError(op, `input ${shapeStr(x.shape)} has an empty spatial dim`);
  const batched = x.ndim === nd + 2;
  const [N, C] = batched ? [x.shape[0]!, x.shape[1]!] : [1, x.shape[0]!];
  const hw = nd === 1 ? [1, sizes[0]!] : sizes;
  const o2: [number, number] = nd === 1 ? [1, out[0]!] : [out[0]!, out[1]!];
  const outShape = batched ? [N, C, ...out] : [C, ...out];
  return { x4: reshape(x, [N, C, hw[0]!, hw[1]!]), out: o2, unbatch: (y) => reshape(y, outShape) };
}

/**
 * @internal y[..., i, ...] = sum_j m[i][j] x[..., j, ...] along `dim`, as a matmul with the
 * [o, n] matrix m (row-major, x's dtype). Only for finite x: a zero weight times an infinite value
 * would be NaN.
 */
export function mixAlong(x: Tensor, dim: number, m: ArrayLike<number>, o: number): Tensor {
  const n = x.shape[dim]!;
  const mt = allocArray(x.dtype, n * o);
  for (let i = 0; i < o; i++) for (let j = 0; j < n; j++) mt[j * o + i] = m[i * n + j]!;
  const last = x.ndim - 1;
  if (dim === last) return matmul(x, new Tensor(mt, [n, o]));
  return transpose(matmul(transpose(x, dim, last), new Tensor(mt, [n, o])), dim, last);
}

/** Adaptive average along one dim of x: o windows over its L entries. */
function adaptiveAvgAlong(x: Tensor, dim: number, o: number): Tensor {
  const L = x.shape[dim]!;
  if (o === L) return x;
  const split = (k: number): number[] => [...x.shape.slice(0, dim), o, k, ...x.shape.slice(dim + 1)];
  if (L % o === 0) return reshape(x, split(L / o)).mean(dim + 1);
  const wins = adaptiveWindows(L, o);
  if (L <= 512 && allFinite(x)) {
    // finite input: a matmul with the averaging matrix (faster than the gather's scatter backward)
    const m = new Float64Array(o * L);
    wins.forEach(([start, len], i) => m.fill(1 / len, i * L + start, i * L + start + len));
    return mixAlong(x, dim, m, o);
  }
  const K = Math.max(...wins.map(([, len]) => len));
  const idx = new Int32Array(o * K);
  const mask = new Uint8Array(o * K);
  const lens = allocArray(x.dtype, o);
  wins.forEach(([start, len], i) => {
    lens[i] = len;
    for (let k = 0; k < K; k++) {
      idx[i * K + k] = start + Math.min(k, len - 1);
      mask[i * K + k] = k < len ? 1 : 0;
    }
  });
  const ones = x.shape.slice(dim + 1).map(() => 1);
  // NOTE: where, not a 0/1 weight: a masked-out infinite entry adds 0, not 0 * inf = NaN.
  const xg = where(new Tensor(mask, [o, K, ...ones]), reshape(indexSelect(x, dim, new Tensor(idx, [o * K])), split(K)), 0);
  return xg.sum(dim + 1).div(new Tensor(lens, [o, ...ones]));
}

/**
 * Adaptive average pooling to a fixed output size, as torch.nn.functional.adaptive_avg_pool2d:
 * input [N, C, H, W] or [C, H, W]; window i spans [floor(i H / Ho), ceil((i + 1) H / Ho)) (and so
 * for the width). `adaptiveAvgPool2d(x, 1)` is global average pooling.
 * @example
 * adaptiveAvgPool2d(randn([2, 8, 7, 9]), [3, 4]).shape; // [2, 8, 3, 4]
 * adaptiveAvgPool2d(tensor([[[1, 2, 3], [4, 5, 6]]]), [1, 2]).toArray(); // [[[3, 4]]]
 * adaptiveAvgPool2d(randn([2, 8, 7, 7]), 1).shape; // [2, 8, 1, 1]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize2d): Tensor {
  const { x4, out, unbatch } = adaptiveSizes("adaptiveAvgPool2d", x, outputSize, 2);
  return unbatch(adaptiveAvgAlong(adaptiveAvgAlong(x4, 2, out[0]), 3, out[1]));
}

/**
 * Adaptive average pooling over the last dim, as torch.nn.functional.adaptive_avg_pool1d: input
 * [N, C, L] or [C, L]; window i spans [floor(i L / o), ceil((i + 1) L / o)).
 * @example
 * adaptiveAvgPool1d(tensor([[[1, 2, 3, 4, 5]]]), 2).toArray(); // [[[2, 4]]]
 */
export function adaptiveAvgPool1d(x: Tensor, outputSize: Size1d): Tensor {
  const { x4, out, unbatch } = adaptiveSizes("adaptiveAvgPool1d", x, outputSize, 1);
  return unbatch(adaptiveAvgAlong(x4, 3, out[1]));
}

function adaptiveMaxNCHW(op: string, x: Tensor, Ho: number, Wo: number): ValuesIndices {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (H % Ho === 0 && W % Wo === 0) return maxPoolNCHW(op, x, [H / Ho, W / Wo], {});
  const rows = adaptiveWindows(H, Ho);
  const cols = adaptiveWindows(W, Wo);
  const K = Math.max(...rows.map(([, l]) => l)) * Math.max(...cols.map(([, l]) => l));
  const table = new Int32Array(Ho * Wo * K);
  const mask = new Uint8Array(Ho * Wo * K);
  rows.forEach(([h0, hl], i) =>
    cols.forEach(([w0, wl], j) => {
      const base = (i * Wo + j) * K;
      for (let k = 0; k < K; k++) {
        const inside = k < hl * wl;
        table[base + k] = inside ? (h0 + Math.floor(k / wl)) * W + w0 + (k % wl) : h0 * W + w0;
        mask[base + k] = inside ? 1 : 0;
      }
    }),
  );
  const flat = reshape(x, [N, C, H * W]);
  // The argmax is found on a detached copy (it is an index, not a value of the graph); padding
  // entries are -Infinity and come after the window's own, so the first maximum is always real.
  const cand = where(new Tensor(mask, [Ho * Wo, K]), reshape(indexSelect(flat.detach(), 2, new Tensor(table, [Ho * Wo * K])), [N, C, Ho * Wo, K]), -Infinity);
  const pick = unsqueeze(argmax(cand, 3), 3);
  const idx = reshape(gather(expand(new Tensor(table, [1, 1, Ho * Wo, K]), [N, C, Ho * Wo, K]), 3, pick), [N, C, Ho * Wo]);
  const values = reshape(call(gatherOp, [flat, idx], { dim: 2 }), [N, C, Ho, Wo]);
  return { values, indices: reshape(idx, [N, C, Ho, Wo]) };
}

/**
 * Adaptive max pooling that also returns the flat (h * W + w) index of each maximum, as int32
 * (`adaptive_max_pool2d(..., return_indices=True)`). The gradient goes to that element.
 * @example
 * const { values, indices } = adaptiveMaxPool2dWithIndices(tensor([[[[1, 9, 2], [3, 4, 8]]]]), [1, 2]);
 * values.toArray(); // [[[[9, 8]]]]
 * indices.toArray(); // [[[[1, 5]]]]
 */
export function adaptiveMaxPool2dWithIndices(x: Tensor, outputSize: AdaptiveSize2d): ValuesIndices {
  const op = "adaptiveMaxPool2d";
  const { x4, out, unbatch } = adaptiveSizes(op, x, outputSize, 2);
  const r = adaptiveMaxNCHW(op, x4, out[0], out[1]);
  return { values: unbatch(r.values), indices: unbatch(r.indices) };
}

/**
 * Adaptive max pooling to a fixed output size, as torch.nn.functional.adaptive_max_pool2d: input
 * [N, C, H, W] or [C, H, W]; window i spans [floor(i H / Ho), ceil((i + 1) H / Ho)). The gradient
 * goes to the first maximum of each window. `adaptiveMaxPool2d(x, 1)` is global max pooling.
 * @example
 * adaptiveMaxPool2d(randn([2, 8, 7, 9]), [3, 4]).shape; // [2, 8, 3, 4]
 * adaptiveMaxPool2d(tensor([[[1, 9, 2], [3, 4, 8]]]), 1).toArray(); // [[[9]]]
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize2d): Tensor {
  return adaptiveMaxPool2dWithIndices(x, outputSize).values;
}

/**
 * Adaptive max pooling over the last dim with the index (along L) of each maximum, as int32.
 * @example
 * const { values, indices } = adaptiveMaxPool1dWithIndices(tensor([[[5, 1, 2, 7, 3]]]), 2);
 * values.toArray(); // [[[5, 7]]]
 * indices.toArray(); // [[[0, 3]]]
 */
export function adaptiveMaxPool1dWithIndices(x: Tensor, outputSize: Size1d): ValuesIndices {
  const op = "adaptiveMaxPool1d";
  const { x4, out, unbatch } = adaptiveSizes(op, x, outputSize, 1);
  const r = adaptiveMaxNCHW(op, x4, out[0], out[1]);
  return { values: unbatch(r.values), indices: unbatch(r.indices) };
}

/**
 * Adaptive max pooling over the last dim, as torch.nn.functional.adaptive_max_pool1d: input
 * [N, C, L] or [C, L].
 * @example
 * adaptiveMaxPool1d(tensor([[[5, 1, 2, 7, 3]]]), 2).toArray(); // [[[5, 7]]]
 */
export function adaptiveMaxPool1d(x: Tensor, outputSize: Size1d): Tensor {
  return adaptiveMaxPool1dWithIndices(x, outputSize).values;
}

// ------------------------------------------------------------------ unpooling

/** Options of `maxUnpool2d` (and the `MaxUnpool2d` layer). */
export interface MaxUnpool2dOptions {
  /** The stride of the max pooling undone (default: the kernel size). */
  stride?: number | readonly [number, number];
  /** The padding of the max pooling undone (default 0). */
  padding?: number | readonly [number, number];
  /**
   * The output's [H, W] (or its whole shape), within a stride of the default
   * (in - 1) stride - 2 padding + kernel, as PyTorch's output_size.
   */
  outputSize?: readonly number[];
}

function unpool(op: string, x: Tensor, indices: Tensor, kernel: number[], stride: number[], padding: number[], outputSize: readonly number[] | undefined, nd: 1 | 2): Tensor {
  const layout = nd === 1 ? "L" : "H, W";
  if (!(x instanceof Tensor) || (x.ndim !== nd + 1 && x.ndim !== nd + 2)) throw new ShapeError(op, `expects input [N, C, ${layout}] or [C, ${layout}], got ${x instanceof Tensor ? shapeStr(x.shape) : String(x)}`);
  if (!(indices instanceof Tensor) || indices.dtype !== "int32") throw new DTypeError(op, `indices must be an int32 tensor (as max pooling returns them), got ${indices instanceof Tensor ? indices.dtype : typeof indices}`);
  if (shapeStr(indices.shape) !== shapeStr(x.shape)) throw new ShapeError(op, `indices ${shapeStr(indices.shape)} must have the input's shape ${shapeStr(x.shape)}`);
  const sizes = x.shape.slice(x.ndim - nd);
  const dflt = sizes.map((v, i) => (v - 1) * stride[i]! - 2 * padding[i]! + kernel[i]!);
  let out = dflt;
  if (outputSize !== undefined) {
    const os = outputSize.length === nd + 2 || outputSize.length === nd + 1 ? outputSize.slice(outputSize.length - nd) : [...outputSize];
    if (os.length !== nd) throw new ValueError(op, `outputSize must have ${nd}, ${nd + 1} or ${nd + 2} entries, got ${JSON.stringify(outputSize)}`);
    os.forEach((v, i) => {
      if (!Number.isInteger(v) || !(v > dflt[i]! - stride[i]! && v < dflt[i]! + stride[i]!)) {
        throw new ValueError(op, `outputSize ${JSON.stringify(outputSize)}: size ${i} must be an integer strictly between ${dflt[i]! - stride[i]!} and ${dflt[i]! + stride[i]!}`);
      }
    });
    out = os;
  }
  if (out.some((v) => v <= 0)) throw new ShapeError(op, `output size would be ${JSON.stringify(out)} (input ${shapeStr(x.shape)}, kernel ${kernel}, stride ${stride}, padding ${padding})`);
  const batched = x.ndim === nd + 2;
  const [N, C] = batched ? [x.shape[0]!, x.shape[1]!] : [1, x.shape[0]!];
  const P = sizes.reduce((a, b) => a * b, 1);
  const Q = out.reduce((a, b) => a * b, 1);
  const idx = contiguousData(indices);
  // The last write wins (as PyTorch's CPU loop): earlier duplicates are masked out.
  const keep = new Uint8Array(idx.length);
  const last = new Int32Array(Q);
  for (let plane = 0; plane < N * C; plane++) {
    last.fill(-1);
    for (let i = 0; i < P; i++) {
      const v = idx[plane * P + i]!;
      if (v < 0 || v >= Q) throw new IndexError(op, `index ${v} is out of range for an output of ${JSON.stringify(out)} (${Q} positions)`);
      last[v] = plane * P + i;
    }
    for (let i = 0; i < P; i++) if (last[idx[plane * P + i]!] === plane * P + i) keep[plane * P + i] = 1;
  }
  const src = where(new Tensor(keep, [N, C, P]), reshape(x, [N, C, P]), 0);
  const y = scatterAdd(new Tensor(allocArray(x.dtype, N * C * Q), [N, C, Q]), 2, reshape(indices, [N, C, P]), src);
  return reshape(y, batched ? [N, C, ...out] : [C, ...out]);
}

/**
 * The partial inverse of max pooling, as torch.nn.functional.max_unpool2d: each value of x
 * [N, C, H, W] (or [C, H, W]) goes to its flat index (h * Wout + w, as `maxPool2dWithIndices`
 * returns it) in a zero output of (H - 1) stride - 2 padding + kernel (or `outputSize`).
 * Repeated indices: the last one wins (PyTorch's CPU behaviour); it alone gets the gradient.
 * @example
 * const { values, indices } = maxPool2dWithIndices(tensor([[[[1, 2], [4, 3]]]]), 2);
 * maxUnpool2d(values, indices, 2).toArray(); // [[[[0, 0], [4, 0]]]]
 */
export function maxUnpool2d(x: Tensor, indices: Tensor, kernelSize: number | readonly [number, number], options: MaxUnpool2dOptions = {}): Tensor {
  const op = "maxUnpool2d";
  const kernel = two(op, "kernelSize", kernelSize, 1, 1);
  const stride = options.stride === undefined ? kernel : two(op, "stride", options.stride, 1, 1);
  return unpool(op, x, indices, kernel, stride, two(op, "padding", options.padding, 0, 0), options.outputSize, 2);
}

/** Options of `maxUnpool1d` (and the `MaxUnpool1d` layer). */
export interface MaxUnpool1dOptions {
  /** The stride of the max pooling undone (default: the kernel size). */
  stride?: Size1d;
  /** The padding of the max pooling undone (default 0). */
  padding?: Size1d;
  /** The output length (or the whole shape), within a stride of the default (L - 1) stride - 2 padding + kernel. */
  outputSize?: readonly number[];
}

/**
 * The partial inverse of 1-D max pooling, as torch.nn.functional.max_unpool1d: each value of x
 * [N, C, L] (or [C, L]) goes to its index in a zero output of (L - 1) stride - 2 padding + kernel.
 * @example
 * const { values, indices } = maxPool1dWithIndices(tensor([[4, 1, 1, 7]]), 2);
 * maxUnpool1d(values, indices, 2).toArray(); // [[4, 0, 0, 7]]
 */
export function maxUnpool1d(x: Tensor, indices: Tensor, kernelSize: Size1d, options: MaxUnpool1dOptions = {}): Tensor {
  const op = "maxUnpool1d";
  const [k] = two(op, "kernelSize", one(op, "kernelSize", kernelSize), 1, 1);
  const [s] = options.stride === undefined ? [k] : two(op, "stride", one(op, "stride", options.stride), 1, 1);
  const [p] = two(op, "padding", one(op, "padding", options.padding), 0, 0);
  return unpool(op, x, indices, [k], [s], [p], options.outputSize, 1);
}

// ------------------------------------------------------------------ 3-D

/** A size for the three spatial dims (depth, height, width): one number for all, or a triple. */
export type Size3d = number | readonly [number, number, number];

/** Options of `maxPool3d` / `maxPool3dWithIndices` (and the `MaxPool3d` layer). */
export interface Pool3dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size3d;
  /** Implicit -Infinity padding on each side, at most half the kernel (default 0). */
  padding?: Size3d;
  /** Spacing between window elements (default 1). */
  dilation?: Size3d;
  /** Keep a last partial window that starts inside the input or its left padding (default false). */
  ceilMode?: boolean;
}

/** Options of `avgPool3d` (and the `AvgPool3d` layer). */
export interface AvgPool3dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size3d;
  /** Zero padding on each side, at most half the kernel (default 0). */
  padding?: Size3d;
  /** Count zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead of the window size (default: not set; not 0). */
  divisorOverride?: number;
  /** Keep a last partial window that starts inside the input or its left padding (default false). */
  ceilMode?: boolean;
}

function triple(op: string, name: string, v: Size3d | undefined, dflt: number, min: number): [number, number, number] {
  const r: number[] = v === undefined ? [dflt, dflt, dflt] : typeof v === "number" ? [v, v, v] : [...v];
  if (r.length !== 3 || r.some((x) => !Number.isInteger(x) || x < min)) throw new ValueError(op, `${name} must be one integer >= ${min} or 3 of them, got ${JSON.stringify(v)}`);
  return r as [number, number, number];
}

/**
 * The shared setup of the 3-D pools: sizes checked, then the kD depth slices each output depth
 * reads gathered (padded with `fill`) into [N, C, Do * kD, H, W]; the height/width pooling runs
 * as the 2-D one on them.
 */
function pool3dSetup(op: string, x: Tensor, kernelSize: Size3d, o: { stride?: Size3d; padding?: Size3d; dilation?: Size3d; ceilMode?: boolean }, fill: number) {
  if (!(x instanceof Tensor) || (x.ndim !== 4 && x.ndim !== 5)) throw new ShapeError(op, `expects input [N, C, D, H, W] or [C, D, H, W], got ${x instanceof Tensor ? shapeStr(x.shape) : String(x)}`);
  const x5 = x.ndim === 4 ? unsqueeze(x, 0) : x;
  const k = triple(op, "kernelSize", kernelSize, 1, 1);
  const s = o.stride === undefined ? k : triple(op, "stride", o.stride, 1, 1);
  const p = triple(op, "padding", o.padding, 0, 0);
  const d = triple(op, "dilation", o.dilation, 1, 1);
  if (p.some((v, i) => v > k[i]! / 2)) throw new ValueError(op, `padding ${JSON.stringify(p)} must be at most half the kernel size ${JSON.stringify(k)}`);
  const [N, C, D, H, W] = x5.shape as [number, number, number, number, number];
  const ceil = o.ceilMode === true;
  const out = [D, H, W].map((size, i) => {
    const v = poolOut(size, k[i]!, s[i]!, p[i]!, d[i]!, ceil);
    if (v <= 0) throw new ShapeError(op, `output ${["depth", "height", "width"][i]} would be ${v} (input ${size}, kernel ${k[i]}, stride ${s[i]}, padding ${p[i]}, dilation ${d[i]})`);
    return v;
  }) as [number, number, number];
  const Do = out[0];
  const [kD, sd, pd, dd] = [k[0], s[0], p[0], d[0]];
  const ext = Math.max(0, (Do - 1) * sd + dd * (kD - 1) + 1 - (D + 2 * pd));
  const xd = padDims(x5, [[0, 0], [0, 0], [pd, pd + ext], [0, 0], [0, 0]], fill);
  const idx = new Int32Array(Do * kD);
  const real = new Uint8Array(Do * kD);
  for (let od = 0; od < Do; od++)
    for (let kd = 0; kd < kD; kd++) {
      idx[od * kD + kd] = od * sd + kd * dd;
      const id = od * sd - pd + kd * dd;
      real[od * kD + kd] = id >= 0 && id < D ? 1 : 0;
    }
  for (let od = 0; od < Do; od++) {
    if (!real.subarray(od * kD, (od + 1) * kD).some((v) => v === 1)) throw new ValueError(op, `output depth ${od}: window entirely in the padding (input ${D}, kernel ${kD}, stride ${sd}, padding ${pd}, dilation ${dd})`);
  }
  const slices = indexSelect(xd, 2, new Tensor(idx, [Do * kD]));
  return { x5, N, C, D, H, W, k, s, p, d, out, slices, real, unbatch: (y: Tensor) => (x.ndim === 4 ? reshape(y, y.shape.slice(1)) : y) };
}

/**
 * 3-D max pooling that also returns the flat (d * H * W + h * W + w) index of each maximum, as
 * int32 (`max_pool3d(..., return_indices=True)`). The gradient goes to the first maximum of each
 * window (in depth, height, width order).
 * @example
 * const { values, indices } = maxPool3dWithIndices(randn([1, 2, 4, 4, 4]), 2);
 * values.shape; // [1, 2, 2, 2, 2]
 * indices.dtype; // "int32"
 */
export function maxPool3dWithIndices(x: Tensor, kernelSize: Size3d, options: Pool3dOptions = {}): ValuesIndices {
  const op = "maxPool3d";
  const st = pool3dSetup(op, x, kernelSize, options, -Infinity);
  const { N, C, D, H, W, k, s, p, d, out, real } = st;
  const [Do, Ho, Wo] = out;
  const kD = k[0];
  // height and width: the 2-D max pooling of every gathered depth slice (detached: only indices are used)
  const planes = reshape(st.slices.detach(), [N, C * Do * kD, H, W]);
  const r2 = maxPoolNCHW(op, planes, [k[1], k[2]], { stride: [s[1], s[2]], padding: [p[1], p[2]], dilation: [d[1], d[2]], ceilMode: options.ceilMode });
  const v2 = contiguousData(r2.values);
  const i2 = contiguousData(r2.indices);
  // depth: the first real slice holding the maximum (NaN counts as the maximum, as the 2-D kernel)
  const HW = Ho * Wo;
  const flat = new Int32Array(N * C * Do * HW);
  for (let nc = 0; nc < N * C; nc++)
    for (let od = 0; od < Do; od++)
      for (let q = 0; q < HW; q++) {
        let best = -1;
        let bv = -Infinity;
        for (let kd = 0; kd < kD; kd++) {
          if (!real[od * kD + kd]) continue;
          const at = ((nc * Do + od) * kD + kd) * HW + q;
          const v = v2[at]!;
          if (best < 0 || v > bv || (v !== v && bv === bv)) {
            best = at;
            bv = v;
          }
        }
        const kd = Math.floor(best / HW) % kD;
        flat[(nc * Do + od) * HW + q] = (od * s[0] - p[0] + kd * d[0]) * H * W + i2[best]!;
      }
  const indices = new Tensor(flat, [N, C, Do * HW]);
  const values = reshape(call(gatherOp, [reshape(st.x5, [N, C, D * H * W]), indices], { dim: 2 }), [N, C, Do, Ho, Wo]);
  return { values: st.unbatch(values), indices: st.unbatch(reshape(indices, [N, C, Do, Ho, Wo])) };
}

/**
 * 3-D max pooling of [N, C, D, H, W] (or [C, D, H, W]), as torch.nn.functional.max_pool3d:
 * stride (default: the kernel size), -Infinity padding (at most half the kernel), dilation,
 * ceilMode. The gradient goes to the first maximum of each window.
 * @example
 * maxPool3d(randn([1, 2, 5, 6, 6]), 2).shape; // [1, 2, 2, 3, 3]
 * maxPool3d(randn([1, 2, 5, 6, 6]), 2, { ceilMode: true }).shape; // [1, 2, 3, 3, 3]
 */
export function maxPool3d(x: Tensor, kernelSize: Size3d, options: Pool3dOptions = {}): Tensor {
  return maxPool3dWithIndices(x, kernelSize, options).values;
}

/**
 * 3-D average pooling of [N, C, D, H, W] (or [C, D, H, W]), as torch.nn.functional.avg_pool3d:
 * stride (default: the kernel size), zero padding (at most half the kernel), countIncludePad
 * (default true), divisorOverride, ceilMode. One conv2d with a ones kernel over the gathered depth
 * slices sums each window.
 * @example
 * avgPool3d(ones([1, 1, 4, 4, 4]), 2).shape; // [1, 1, 2, 2, 2]
 * avgPool3d(randn([2, 3, 5, 5, 5]), 3, { stride: 2, padding: 1, countIncludePad: false }).shape; // [2, 3, 3, 3, 3]
 */
export function avgPool3d(x: Tensor, kernelSize: Size3d, options: AvgPool3dOptions = {}): Tensor {
  const op = "avgPool3d";
  const dv = options.divisorOverride;
  if (dv !== undefined && (typeof dv !== "number" || !Number.isFinite(dv) || dv === 0)) throw new ValueError(op, `divisorOverride must be a finite non-zero number, got ${dv}`);
  const st = pool3dSetup(op, x, kernelSize, { stride: options.stride, padding: options.padding, ceilMode: options.ceilMode }, 0);
  const { N, C, D, H, W, k, s, p, out } = st;
  const [Do, Ho, Wo] = out;
  const ext = [1, 2].map((i) => Math.max(0, (out[i]! - 1) * s[i]! + k[i]! - ([D, H, W][i]! + 2 * p[i]!)));
  const planes = padDims(reshape(st.slices, [N * C * Do, k[0], H, W]), [[0, 0], [0, 0], [0, ext[0]!], [0, ext[1]!]], 0);
  const ones = new Tensor(allocArray(x.dtype, k[0] * k[1] * k[2]).fill(1), [1, k[0], k[1], k[2]]);
  const summed = reshape(conv2dRaw(planes, ones, { stride: [s[1], s[2]], padding: [p[1], p[2]], dilation: [1, 1], groups: 1 }), [N, C, Do, Ho, Wo]);
  if (dv !== undefined) return st.unbatch(summed.div(dv));
  const include = options.countIncludePad ?? true;
  const counts = [D, H, W].map((size, i) => Array.from({ length: out[i]! }, (_, o) => {
    const start = o * s[i]! - p[i]!;
    const end = Math.min(start + k[i]!, size + p[i]!);
    return include ? end - start : Math.min(end, size) - Math.max(start, 0);
  }));
  if (counts.every((c) => c.every((v) => v === c[0]))) return st.unbatch(summed.div(counts[0]![0]! * counts[1]![0]! * counts[2]![0]!));
  const div = allocArray(x.dtype, Do * Ho * Wo);
  for (let a = 0; a < Do; a++) for (let b = 0; b < Ho; b++) for (let c = 0; c < Wo; c++) div[(a * Ho + b) * Wo + c] = counts[0]![a]! * counts[1]![b]! * counts[2]![c]!;
  return st.unbatch(summed.div(new Tensor(div, [Do, Ho, Wo])));
}
