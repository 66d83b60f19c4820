/**
 * The public op functions, by family: everything a family file exports that is not marked
 * `@internal` is public API (src/index.ts re-exports this module whole), so a new op is public
 * where it is defined. Also the graph entry point the Tensor methods call.
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
export { backward } from "../autograd/engine.js";
