import type { DType, TypedArray } from "../tensor/dtype.js";
import type { Shape } from "../tensor/shape.js";

/**
 * What a kernel sees of a tensor: storage plus layout. Kernels know nothing about autograd.
 * A view may be non-contiguous (transposed, expanded with stride 0, narrowed with an offset).
 */
export interface View {
  readonly storage: TypedArray;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
}

export type UnaryOp =
  | "neg" | "abs" | "sign" | "exp" | "log" | "log1p" | "expm1" | "sqrt" | "rsqrt" | "square"
  | "sin" | "cos" | "tanh" | "sigmoid" | "relu" | "erf" | "leakyRelu" | "softplus" | "clamp"
  | "logicalNot";

/** Parameters of parametrised unary ops: leakyRelu (alpha), softplus (beta, threshold), clamp (min, max). */
export interface UnaryParams {
  alpha?: number;
  beta?: number;
  threshold?: number;
  min?: number;
  max?: number;
}

export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr";

export type ReduceOp = "sum" | "max" | "min";

export interface Conv2dParams {
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  groups: number;
}

export interface Pool2dParams {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
}

/**
 * The kernel interface. Every method returns a fresh contiguous (row-major) array and never
 * mutates its inputs, except `assign`, which writes into `dst`.
 *
 * Shapes are validated by the caller (the autograd engine); a backend may assume them valid.
 */
export interface Backend {
  readonly name: string;
  /** Elementwise op; output has x's shape and dtype (logicalNot: bool). */
  unary(op: UnaryOp, x: View, params?: UnaryParams): TypedArray;
  /** Elementwise op on two views of the same shape (the caller expands for broadcasting). */
  binary(op: BinaryOp, a: View, b: View, outDtype: DType): TypedArray;
  /** where(cond, a, b) on three views of the same shape. */
  where(cond: View, a: View, b: View): TypedArray;
  /** A contiguous copy of x, converted to dtype. */
  copy(x: View, dtype: DType): TypedArray;
  /** dst[...] = src[...] for two views of the same shape (dst may be strided). */
  assign(dst: View, src: View): void;
  /** Reduce over `axes` (sorted, unique); the result has x's shape with those axes set to 1. */
  reduce(op: ReduceOp, x: View, axes: readonly number[]): TypedArray;
  /** Index of the first max (argmax) / min (argmin) along one axis; NaN counts as the extreme. */
  argReduce(op: "argmax" | "argmin", x: View, axis: number): Int32Array;
  /** [...batch, M, K] @ [...batch, K, N] -> [...batch, M, N] (same batch shape). */
  matmul(a: View, b: View): TypedArray;
  /** x [N, C, H, W], w [O, C/groups, kH, kW] -> [N, O, Ho, Wo]. */
  conv2d(x: View, w: View, p: Conv2dParams): TypedArray;
  /** Gradient of conv2d with respect to x, from gy [N, O, Ho, Wo] and w. */
  conv2dInputGrad(gy: View, w: View, xShape: Shape, p: Conv2dParams): TypedArray;
  /** Gradient of conv2d with respect to w, from x and gy. */
  conv2dWeightGrad(x: View, gy: View, wShape: Shape, p: Conv2dParams): TypedArray;
  /** For max pooling of x [N, C, H, W]: the flat index (h * W + w) of each window's maximum. */
  maxPool2dIndices(x: View, p: Pool2dParams): Int32Array;
  /** out[i][j][k] = x[index[i][j][k]][j][k] (for dim 0); output has index's shape. */
  gather(x: View, dim: number, index: View): TypedArray;
  /** A copy of base with out[index[i][j]][j] += src[i][j] (for dim 0). */
  scatterAdd(base: View, dim: number, index: View, src: View): TypedArray;
}

