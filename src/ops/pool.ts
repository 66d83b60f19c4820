/**
 * 2-D pooling (NCHW): max pooling (the gradient goes to the first maximum of each window, through
 * a gather of the kernel's indices) and average pooling (a depthwise conv2d with a ones kernel).
 */
import { ShapeError, ValueError } from "../errors.js";
import type { Conv2dParams, Pool2dParams } from "../kernels/backend.js";
import { convOutShape } from "../kernels/layout.js";
import { getBackend } from "../kernels/registry.js";
import { allocArray } from "../tensor/dtype.js";
import { shapeStr } from "../tensor/shape.js";
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
  const p = poolParams("maxPool2d", x, kernelSize, options);
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
  const p = poolParams("avgPool2d", x, kernelSize, { stride: options.stride, padding: options.padding, ceilMode: options.ceilMode });
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const ones = new Tensor(allocArray(x.dtype, p.kernel[0] * p.kernel[1]).fill(1), [1, 1, p.kernel[0], p.kernel[1]]);
  const cp: Conv2dParams = { stride: p.stride, padding: p.padding, dilation: [1, 1], groups: 1 };
  const summed = reshape(conv2dRaw(reshape(x, [N * C, 1, H, W]), ones, cp), [N, C, p.Ho, p.Wo]);
  if (options.divisorOverride !== undefined) return summed.div(options.divisorOverride);
  if (options.countIncludePad ?? true) return summed.div(p.kernel[0] * p.kernel[1]);
  const count = conv2dRaw(new Tensor(allocArray(x.dtype, H * W).fill(1), [1, 1, H, W]), ones, cp);
  return summed.div(reshape(count, [1, 1, p.Ho, p.Wo]));
}
