/**
 * Output sizes of windowed ops (convolution, pooling), shared by the kernels and the ops that
 * allocate their outputs, and the strides of an output stored in another dim order
 * (`Backend.matmulOrdered`). The element layout itself (strides, offsets, contiguity) is the
 * tensor's: see tensor/layout.ts.
 */
import type { Shape } from "../tensor/shape.js";
import type { Conv2dParams, Pool2dParams } from "./backend.js";

/** The output size along one dim of a convolution (or pooling) window: size, kernel, stride, padding, dilation. */
export function convOut(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** [N, O, Ho, Wo] for an input [N, C, H, W] and a kernel [O, *, kH, kW] (pooling: [C, 1, kH, kW]). */
export function convOutShape(xShape: Shape, wShape: Shape, p: Pick<Conv2dParams, "stride" | "padding" | "dilation">): number[] {
  const [N, , H, W] = xShape as [number, number, number, number];
  const [O, , kH, kW] = wShape as [number, number, number, number];
  return [N, O, convOut(H, kH, p.stride[0], p.padding[0], p.dilation[0]), convOut(W, kW, p.stride[1], p.padding[1], p.dilation[1])];
}

/**
 * The output size along one dim of a pooling window, as PyTorch's `pooling_output_shape`: with
 * `ceil`, the last partial window is kept when it starts inside the input or its left padding.
 */
export function poolOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  if (!ceil) return convOut(size, k, s, p, d);
  let o = Math.ceil((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  if ((o - 1) * s >= size + p) o--;
  return o;
}

/** [N, C, Ho, Wo] for max pooling of x [N, C, H, W] (with `ceilMode`: PyTorch's ceil-mode sizes). */
export function poolOutShape(xShape: Shape, p: Pool2dParams): number[] {
  const [N, C, H, W] = xShape as [number, number, number, number];
  const c = p.ceilMode ?? false;
  return [N, C, poolOut(H, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0], c), poolOut(W, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1], c)];
}

/**
 * The strides of a dense tensor of `shape` whose dims are stored in `order` (outermost first): the
 * last dim of `order` has stride 1. With order 0, 1, ..., n - 1 these are the row-major strides.
 * @example
 * stridesInOrder([2, 3, 4], [1, 0, 2]); // [4, 8, 1]
 */
export function stridesInOrder(shape: Shape, order: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let acc = 1;
  for (let i = order.length - 1; i >= 0; i--) {
    strides[order[i]!] = acc;
    acc *= shape[order[i]!]!;
  }
  return strides;
}
