/**
 * safegrad: typed-array tensors, reverse-mode autograd and a training toolkit whose gradients
 * stay finite. This file is the whole public API.
 */
export { Tensor, isTensor } from "./tensor/tensor.js";
export type { GradHook, NestedArray } from "./tensor/tensor.js";
export type { DType, FloatDType, TypedArray, FloatArray } from "./tensor/dtype.js";
export { tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, rand, randn, randint } from "./tensor/create.js";
export type { CreateOptions, TensorOptions, RandomOptions } from "./tensor/create.js";
export { Generator, manualSeed, defaultGenerator } from "./tensor/random.js";
export { broadcastShapes } from "./tensor/shape.js";
export { SafegradError, ShapeError, DTypeError, AutogradError, IndexError, ValueError } from "./errors.js";

export {
  neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, square, sin, cos, tanh, sigmoid, relu, erf,
  leakyRelu, gelu, softplus, clamp, logicalNot,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, where,
  cast, contiguous, reshape, view, flatten, permute, transpose, expand, squeeze, unsqueeze, narrow, select,
  pad, cat, stack, split, chunk, gather, scatterAdd, indexSelect, oneHot,
  sum, mean, amax, amin, argmax, argmin, max, min, variance, std, logsumexp, softmax, logSoftmax, norm,
  matmul, conv2d, maxPool2d, maxPool2dWithIndices, avgPool2d,
} from "./autograd/functional.js";
export type { Dims, ValuesIndices, VarOptions, GeluOptions, SoftplusOptions, Conv2dOptions, Pool2dOptions, AvgPool2dOptions } from "./autograd/functional.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/grad-mode.js";
export { backward, grad } from "./autograd/engine.js";
export type { BackwardOptions, GradOptions } from "./autograd/engine.js";
export { gradcheck, GradcheckError } from "./autograd/gradcheck.js";
export type { GradcheckOptions, GradcheckFailure } from "./autograd/gradcheck.js";

export type { Backend, View, UnaryOp, BinaryOp, ReduceOp, Conv2dParams, Pool2dParams } from "./kernels/backend.js";
export { registerBackend, setBackend, getBackend, listBackends } from "./kernels/registry.js";
export { referenceBackend } from "./kernels/reference.js";
