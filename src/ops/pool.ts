/**
 * 2-D pooling (NCHW): max pooling (the gradient goes to the first maximum of each window, through
 * a gather of the kernel's indices) and average pooling (a depthwise conv2d with a ones kernel).
 * 1-D pooling ([N, C, L] or [C, L]) is the 2-D pooling of [N, C, 1, L] with a [1, k] window.
 *
 * Ties (written down and tested): max pooling sends a window's whole gradient to its first maximum
 * (the returned index; as PyTorch), average pooling splits it evenly over the window (1 / divisor
 * to each element it averages).
 */
import { ShapeError, ValueError } from "../errors.js";
import type { Conv2dParams, Pool2dParams } from "../kernels/backend.js";
import { convOutShape } from "../kernels/layout.js";
import { getBackend } from "../kernels/registry.js";
import { allocArray } from "../tensor/dtype.js";
import { shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { conv2dRaw, outSize, two } from "./conv.js";
import { call, nonDifferentiable, OpFamily } from "./define.js";
import { gatherOp } from "./indexing.js";
import type { ValuesIndices } from "./reduce.js";
import { reshape } from "./shape.js";

/** @internal The pool family's op-table entries. */
export const poolOps = new OpFamily("pool");

/** Options of `maxPool2d` / `maxPool2dWithIndices` (and the `MaxPool2d` layer). */
export interface Pool2dOptions {
  /** Step between windows, one number or [height, width] (default: the kernel size). */
  stride?: number | readonly [number, number];
  /** Not supported: passing true throws a ValueError (windows are always floor-sized). */
  ceilMode?: boolean;
  /** Implicit -Infinity padding on each side, at most half the kernel (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between window elements, one number or [height, width] (default 1). */
  dilation?: number | readonly [number, number];
}

function poolParams(op: string, x: Tensor, kernelSize: number | readonly [number, number], o: Pool2dOptions) {
  if (x.ndim !== 4) throw new ShapeError(op, `expects input [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (o.ceilMode) throw new ValueError(op, "ceilMode is not supported; pad the input");
  const kernel = two(op, "kernelSize", kernelSize, 1, 1);
  const stride = o.stride === undefined ? kernel : two(op, "stride", o.stride, 1, 1);
  const padding = two(op, "padding", o.padding, 0, 0);
  const dilation = two(op, "dilation", o.dilation, 1, 1);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new ValueError(op, `padding ${JSON.stringify(padding)} must be at most half the kernel size ${JSON.stringify(kernel)}`);
  }
  const dims = [0, 1].map((i) => [x.shape[i + 2]!, kernel[i]!, stride[i]!, padding[i]!, dilation[i]!, i ? "width" : "height"] as const);
  const [Ho, Wo] = dims.map(([size, k, s, p, d, what]) => outSize(op, size, k, s, p, d, what)) as [number, number];
  // A dilated window can fall entirely into the padding: it would have no element to pool.
  dims.forEach(([size, k, s, p, d, what], i) => {
    for (let o = 0; o < [Ho, Wo][i]!; o++) {
      let hit = false;
      for (let j = 0; j < k; j++) hit ||= o * s - p + j * d >= 0 && o * s - p + j * d < size;
      if (!hit) throw new ValueError(op, `output ${what} ${o}: window entirely in the padding (input ${size}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
    }
  });
  return { kernel, stride, padding, dilation, Ho, Wo };
}

/**
 * Max pooling (NCHW); the gradient goes to the first maximum of each window.
 * @example
 * maxPool2d(randn([1, 3, 8, 8]), 2).shape; // [1, 3, 4, 4]
 * maxPool2d(randn([1, 3, 8, 8]), 3, { stride: 1, padding: 1 }).shape; // [1, 3, 8, 8]
 */
export function maxPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: Pool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, options).values;
}

const maxPool2dIndicesOp = poolOps.define<[Tensor], Pool2dParams>({
  name: "maxPool2dIndices",
  forward: ([x], p) => new Tensor(getBackend().maxPool2dIndices(x, p), convOutShape(x.shape, [x.shape[1]!, 1, ...p.kernel], p)),
  vjp: nonDifferentiable,
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
  /** Divide every window sum by this instead of the window size (default: not set). */
  divisorOverride?: number;
  /** Not supported: passing true throws a ValueError. */
  ceilMode?: boolean;
}

/**
 * Average pooling (NCHW), composed from a depthwise conv2d with a ones kernel.
 * @example
 * avgPool2d(tensor([[[[1, 2], [3, 4]]]]), 2).item(); // 2.5
 * avgPool2d(randn([1, 3, 8, 8]), 2, { stride: 2 }).shape; // [1, 3, 4, 4]
 */
export function avgPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}): Tensor {
  return avgPoolNCHW("avgPool2d", x, kernelSize, options);
}

function avgPoolNCHW(op: string, x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions): Tensor {
  const p = poolParams(op, x, kernelSize, { stride: options.stride, padding: options.padding, ceilMode: options.ceilMode });
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const ones = new Tensor(allocArray(x.dtype, p.kernel[0] * p.kernel[1]).fill(1), [1, 1, p.kernel[0], p.kernel[1]]);
  const cp: Conv2dParams = { stride: p.stride, padding: p.padding, dilation: [1, 1], groups: 1 };
  const summed = reshape(conv2dRaw(reshape(x, [N * C, 1, H, W]), ones, cp), [N, C, p.Ho, p.Wo]);
  if (options.divisorOverride !== undefined) return summed.div(options.divisorOverride);
  if (options.countIncludePad ?? true) return summed.div(p.kernel[0] * p.kernel[1]);
  const count = conv2dRaw(new Tensor(allocArray(x.dtype, H * W).fill(1), [1, 1, H, W]), ones, cp);
  return summed.div(reshape(count, [1, 1, p.Ho, p.Wo]));
}

// ------------------------------------------------------------------ 1-D

/** One size of a 1-D pooling window: a number or a 1-tuple (as PyTorch's `int` or `(int,)`). */
export type Size1d = number | readonly [number];

/** Options of `maxPool1d` / `maxPool1dWithIndices`, as `torch.nn.functional.max_pool1d`'s. */
export interface Pool1dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size1d;
  /** Implicit -Infinity padding on each side, at most half the kernel (default 0). */
  padding?: Size1d;
  /** Spacing between window elements (default 1). */
  dilation?: Size1d;
  /** Not supported: passing true throws a ValueError (windows are always floor-sized). */
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
  /** Not supported: passing true throws a ValueError. */
  ceilMode?: boolean;
}

/** A 1-D size as a number (undefined stays undefined; a tuple must have one entry). */
function one(op: string, name: string, v: Size1d | undefined): number | undefined {
  if (v === undefined || typeof v === "number") return v;
  if (!Array.isArray(v) || v.length !== 1) throw new ValueError(op, `${name} must be a number or a 1-tuple, got ${JSON.stringify(v)}`);
  return v[0];
}

/**
 * A 1-D pooling as the 2-D one: x [N, C, L] (or [C, L]) viewed as [N, C, 1, L], the window [1, k].
 * Sizes are checked here so that errors speak of the length, not of a height of 1.
 */
function pool1d(op: string, x: Tensor, kernelSize: Size1d, o: { stride?: Size1d; padding?: Size1d; dilation?: Size1d; ceilMode?: boolean }, run: (x4: Tensor, k: [number, number], o2: Pool2dOptions) => Tensor): Tensor {
  if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(op, `expects input [N, C, L] or [C, L], got ${shapeStr(x.shape)}`);
  if (o.ceilMode) throw new ValueError(op, "ceilMode is not supported; pad the input");
  const [k] = two(op, "kernelSize", one(op, "kernelSize", kernelSize), 1, 1);
  const [s] = o.stride === undefined ? [k] : two(op, "stride", one(op, "stride", o.stride), 1, 1);
  const [p] = two(op, "padding", one(op, "padding", o.padding), 0, 0);
  const [d] = two(op, "dilation", one(op, "dilation", o.dilation), 1, 1);
  if (p > k / 2) throw new ValueError(op, `padding ${p} must be at most half the kernel size ${k}`);
  const L = x.shape[x.ndim - 1]!;
  const Lo = outSize(op, L, k, s, p, d, "length");
  const x4 = reshape(x, x.ndim === 3 ? [x.shape[0]!, x.shape[1]!, 1, L] : [1, x.shape[0]!, 1, L]);
  const y = run(x4, [1, k], { stride: [1, s], padding: [0, p], dilation: [1, d] });
  const outShape: Shape = x.ndim === 3 ? [x.shape[0]!, x.shape[1]!, Lo] : [x.shape[0]!, Lo];
  return reshape(y, outShape);
}

/**
 * Max pooling over the last dim of x [N, C, L] (or [C, L]), as `torch.nn.functional.max_pool1d`:
 * kernelSize, stride (default: the kernel size), -Infinity padding (at most half the kernel) and
 * dilation; ceilMode is not supported. On ties the whole gradient of a window goes to its first
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
 * most half the kernel) and countIncludePad (default true: padded zeros count in the divisor);
 * ceilMode is not supported. Each window's gradient is split evenly over the elements it averages.
 * @example
 * avgPool1d(tensor([[[1, 2, 3, 4]]]), 2).toArray(); // [[[1.5, 3.5]]]
 * avgPool1d(tensor([[1, 2, 3]]), 3, { stride: 1, padding: 1, countIncludePad: false }).toArray(); // [[1.5, 2, 2.5]]
 */
export function avgPool1d(x: Tensor, kernelSize: Size1d, options: AvgPool1dOptions = {}): Tensor {
  return pool1d("avgPool1d", x, kernelSize, options, (x4, k, o2) =>
    avgPoolNCHW("avgPool1d", x4, k, { stride: o2.stride, padding: o2.padding, countIncludePad: options.countIncludePad }),
  );
}
