/**
 * The public op functions, by family (each op's table entry sits beside its function in the
 * family file), and the graph entry points the Tensor methods call.
 */
export {
  neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, square, sin, cos, tanh, sigmoid, relu, erf,
  leakyRelu, gelu, silu, softplus, clamp, add, sub, mul, div, pow, maximum, minimum,
} from "./elementwise.js";
export type { GeluOptions, SoftplusOptions } from "./elementwise.js";
export { eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalNot, where } from "./compare.js";
export {
  cast, contiguous, clone, reshape, view, flatten, permute, transpose, expand, squeeze, unsqueeze, narrow, select,
  pad, cat, stack, split, chunk,
} from "./shape.js";
export { gather, scatterAdd, indexSelect, oneHot } from "./indexing.js";
export { sum, mean, amax, amin, argmax, argmin, max, min, variance, std, logsumexp, norm } from "./reduce.js";
export type { Dims, ValuesIndices, VarOptions } from "./reduce.js";
export { softmax, logSoftmax } from "./softmax.js";
export { matmul } from "./linalg.js";
export { conv2d } from "./conv.js";
export type { Conv2dOptions } from "./conv.js";
export { maxPool2d, maxPool2dWithIndices, avgPool2d } from "./pool.js";
export type { Pool2dOptions, AvgPool2dOptions } from "./pool.js";
export { backward } from "../autograd/engine.js";
