/**
 * Output sizes of windowed ops (convolution, pooling), shared by the kernels and the ops that
 * allocate their outputs. The element layout itself (strides, offsets, contiguity) is the
 * tensor's: see tensor/layout.ts.
 */
import type { Shape } from "../tensor/shape.js";
import type { Conv2dParams } from "./backend.js";

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
