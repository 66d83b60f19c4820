import type { DType, TypedArray } from "../tensor/dtype.js";
import type { View } from "../tensor/layout.js";
import type { Shape } from "../tensor/shape.js";

export type { View } from "../tensor/layout.js";

/**
 * The elementwise ops a backend's `unary` implements. The reference backend's table of scalar
 * functions (`referenceUnary`) must have one entry per name (the compiler checks it); fast
 * backends may implement a subset (see `completeBackend`).
 * @example
 * const op: UnaryOp = "tanh";
 * getBackend().unary(op, a);
 */
export type UnaryOp =
  | "neg" | "abs" | "sign" | "exp" | "log" | "log1p" | "expm1" | "sqrt" | "rsqrt" | "square"
  | "sin" | "cos" | "tanh" | "atan" | "acos" | "asin" | "sigmoid" | "logSigmoid" | "relu" | "erf" | "leakyRelu"
  | "softplus" | "clamp" | "logicalNot"
  | "tan" | "sinh" | "cosh" | "asinh" | "acosh" | "atanh" | "log2" | "log10" | "exp2"
  | "floor" | "ceil" | "round" | "trunc" | "bitwiseNot" | "elu" | "hardtanh" | "hardsigmoid" | "hardswish"
  | "gelu" | "geluTanh";

/**
 * The defaults of the parametrized unary ops, as PyTorch's (`F.leaky_relu` slope 0.01, `F.softplus`
 * beta 1 and threshold 20): the one place they are written; the ops, layers and kernels read them.
 * @example
 * UNARY_DEFAULTS.alpha; // 0.01
 */
export const UNARY_DEFAULTS = { alpha: 0.01, beta: 1, threshold: 20 } as const;

/** Parameters of the parametrized unary ops (omitted ones take {@link UNARY_DEFAULTS}). */
export interface UnaryParams {
  /** leakyRelu: the slope for x <= 0. */
  alpha?: number;
  /** softplus: the sharpness, `log(1 + exp(beta x)) / beta`. */
  beta?: number;
  /** softplus: above `beta x > threshold` the result is x. */
  threshold?: number;
  /** clamp: the lower bound (-Infinity for none). */
  min?: number;
  /** clamp: the upper bound (Infinity for none). */
  max?: number;
  /** elu: the factor of the whole output (selu's scale; default 1). elu's alpha is `alpha` (default 1 there). */
  scale?: number;
  /** elu: the factor of x inside the exponential for x <= 0 (celu's 1 / alpha; default 1). */
  inputScale?: number;
}

/**
 * The elementwise two-input ops a backend's `binary` implements (comparisons and logical ops
 * produce bool).
 * @example
 * const op: BinaryOp = "add";
 * getBackend().binary(op, a, b, "float32");
 */
export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "atan2" | "hypot"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr";

/**
 * The elementwise two-input ops a backend's `binaryMath` implements (issue 20): float and int32
 * remainders and rounded divisions, copysign, logaddexp, and the bitwise ops on int32 and bool.
 * Integer division by zero is the caller's to refuse (the ops throw before calling the kernel).
 * @example
 * const op: BinaryMathOp = "remainder";
 * getBackend().binaryMath(op, a, b, "float32");
 */
export type BinaryMathOp =
  | "copysign" | "fmod" | "remainder" | "divTrunc" | "divFloor" | "logaddexp" | "bitwiseAnd" | "bitwiseOr" | "bitwiseXor";

/**
 * The reductions a backend's `reduce` implements.
 * @example
 * const op: ReduceOp = "sum";
 * getBackend().reduce(op, a, [1]); // row sums, as a Float32Array of 2
 */
export type ReduceOp = "sum" | "max" | "min";

/** The validated hyper-parameters a backend's conv2d kernels receive (pairs are [height, width]). */
export interface Conv2dParams {
  /** Step between output positions. */
  stride: readonly [number, number];
  /** Zeros on each side of the input. */
  padding: readonly [number, number];
  /** Spacing between kernel elements. */
  dilation: readonly [number, number];
  /** Number of channel groups (in and out channels are divisible by it). */
  groups: number;
}

/** The validated hyper-parameters a backend's `maxPool2dIndices` receives (pairs are [height, width]). */
export interface Pool2dParams {
  /** The window size. */
  kernel: readonly [number, number];
  /** Step between windows. */
  stride: readonly [number, number];
  /** Implicit padding on each side (never selected as a maximum). */
  padding: readonly [number, number];
  /** Spacing between window elements. */
  dilation: readonly [number, number];
  /** Keep a last partial window (PyTorch's ceil_mode; see `poolOut` in kernels/layout.ts). Default false. */
  ceilMode?: boolean;
}

/**
 * The kernel interface. Every method returns a fresh contiguous (row-major) array and never
 * mutates its inputs, except `assign`, which writes into `dst`.
 *
 * Shapes are validated by the caller (the autograd engine); a backend may assume them valid.
 * See the "Backends" guide (docs/backends.md) for how to write, register and benchmark one.
 * @example
 * // a backend that counts matmuls and delegates everything to the reference
 * let matmuls = 0;
 * const counting: Backend = {
 *   ...referenceBackend,
 *   name: "counting",
 *   matmul(p, q) {
 *     matmuls++;
 *     return referenceBackend.matmul(p, q);
 *   },
 * };
 * registerBackend(counting);
 * setBackend("counting");
 * model.forward(x); // matmuls === 2
 */
export interface Backend {
  /** The name `setBackend` selects it by ("js", "js-fast", "wasm", ...). */
  readonly name: string;
  /** Elementwise op; output has x's shape and dtype (logicalNot: bool). */
  unary(op: UnaryOp, x: View, params?: UnaryParams): TypedArray;
  /** Elementwise op on two views of the same shape (the caller expands for broadcasting). */
  binary(op: BinaryOp, a: View, b: View, outDtype: DType): TypedArray;
  /**
   * A {@link BinaryMathOp} on two views of the same shape, computed in `outDtype` (both operands
   * have it). Fast backends built with `completeBackend` get the reference's.
   */
  binaryMath(op: BinaryMathOp, a: View, b: View, outDtype: DType): TypedArray;
  /**
   * GELU's backward: g gelu'(x) for float views x and g of the same shape, in x's dtype; gelu' is the
   * exact (erf) one, or with `approximate` "tanh" the tanh approximation's. Its limits at ±Infinity
   * (1 and -0; PyTorch gives NaN). Fast backends built with `completeBackend` get the reference's.
   */
  geluBackward(x: View, g: View, approximate: "none" | "tanh"): TypedArray;
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
  /**
   * Optional: {@link Backend.matmul}'s result stored in another dim order, `order` listing the
   * output dims [...batch, M, N] from outermost to innermost (a permutation ending with N's):
   * element (..., i, j) at sum over dims of index × the stride of `stridesInOrder(shape, order)`.
   * The same values as matmul; null where the backend has no cheaper way than matmul and a copy
   * (the caller then calls matmul). Heads of attention come out merged this way (ops/linalg.ts).
   */
  matmulOrdered?(a: View, b: View, order: readonly number[]): TypedArray | null;
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
  /**
   * Softmax (or, with `log`, log-softmax) of float x along `axis`, shifted by each lane's max; a
   * lane whose max is ±Infinity is shifted by 0, and an all -Infinity lane (a fully masked row)
   * gives zeros (log: -Infinity), not NaN, as PyTorch >= 2.5's `_safe_softmax`.
   */
  softmax(x: View, axis: number, log: boolean): TypedArray;
  /**
   * Softmax (log: log-softmax) of float x along `axis` over the entries that take part: where
   * `mask` (bool, x's shape, stride 0 where it broadcasts; null: all) is true and, with `causal`
   * (axis the last of x [..., L, S]), where j <= i. The others read nothing and give 0 (log:
   * -Infinity); a lane with no finite entry taking part gives zeros (log: -Infinity).
   */
  maskedSoftmax(x: View, axis: number, log: boolean, mask: View | null, causal: boolean): TypedArray;
  /**
   * Layer normalisation of the rows of float x: x read row-major as rows of its last `n` elements,
   * y = (x - mean) / sqrt(var + eps) (biased variance, eps > 0 inside the root), times `weight` and
   * plus `bias` (n elements each, or null), with the statistics accumulated in float64. Each row is
   * shifted by its first entry (a constant row gives exactly 0, then the bias), and a row with
   * max |x| >= 2^32 (float32) or 2^256 (float64) is divided by s, the power of two at or below it,
   * eps by s² and floored at 2^-64 (float32) or 2^-512 (float64), as the composite standardisation:
   * nothing overflows and the gradient of a constant row stays finite.
   */
  layerNorm(x: View, weight: View | null, bias: View | null, n: number, eps: number): TypedArray;
  /**
   * The gradients of {@link Backend.layerNorm} given the output's gradient `g` (x's shape): dx
   * (x's shape), dweight = sum over rows of g xhat and dbias = sum over rows of g (n elements each),
   * with the row statistics recomputed from x exactly as the forward does.
   */
  layerNormBackward(x: View, weight: View | null, g: View, n: number, eps: number): [TypedArray, TypedArray, TypedArray];
  /**
   * The gradient of softmax (log: log-softmax) along `axis`, from its output y and the output's
   * gradient g (same shape): y (g - sum(g y)), log: g - exp(y) sum(g), the sums over the entries
   * that take part (`mask`, `causal` as {@link Backend.maskedSoftmax}); zero at the others and in a
   * lane whose y is all 0 (log: all -Infinity) there.
   */
  softmaxBackward(g: View, y: View, axis: number, log: boolean, mask: View | null, causal: boolean): TypedArray;
  /**
   * Optional fused Adam step, in place on `param`, `m` and `v` (same-length arrays), equal within
   * float rounding to the optimizer's own loop (optim/adam.ts), which runs wherever this is absent
   * or returns false.
   */
  adamUpdate?(param: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray, c: AdamConstants): boolean;
}

/**
 * The per-step constants of {@link Backend.adamUpdate}, as optim/adam.ts computes them.
 * @example
 * // Adam's first step (t = 1) with lr 0.001 and the default betas
 * const c: AdamConstants = { beta1: 0.9, beta2: 0.999, bias2Sqrt: Math.sqrt(1 - 0.999), eps: 1e-8, negStep: -0.001 / (1 - 0.9), decay: 1, sign: 1 };
 * getBackend().adamUpdate?.(param, grad, m, v, c); // false or absent: the optimizer's loop runs
 */
export interface AdamConstants {
  /** Decay of the first moment. */
  beta1: number;
  /** Decay of the second moment. */
  beta2: number;
  /** sqrt(1 - beta2^t). */
  bias2Sqrt: number;
  /** Added to the denominator. */
  eps: number;
  /** -lr / (1 - beta1^t). */
  negStep: number;
  /** The parameter's factor before the step (AdamW's 1 - lr weightDecay; 1 for Adam). */
  decay: number;
  /** -1 to maximize, else 1. */
  sign: number;
}

