/**
 * The public op functions, by family: everything a family file exports that is not tagged
 * internal (the TSDoc tag) is public API (src/index.ts re-exports this module whole), so a new op
 * is public where it is defined. Also the graph entry point the Tensor methods call.
 *
 * NOTE: this header must not contain the internal tag itself: with stripInternal, TypeScript would
 * drop the first export below from the .d.ts.
 */
export * from "./elementwise.js";
export * from "./compare.js";
export * from "./shape.js";
export * from "./indexing.js";
export * from "./reduce.js";
export * from "./softmax.js";
export * from "./linalg.js";
export * from "./conv.js";
export * from "./pool.js";
export * from "./resample.js";
export * from "./scan.js";
export * from "./sort.js";
export * from "./einsum.js";
export { backward } from "../autograd/engine.js";
