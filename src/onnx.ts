/**
 * The ONNX entry point ("safegrad/onnx"): `exportOnnx(model, exampleInputs, options)` writes a
 * model as ONNX (opset 17) bytes that ONNX Runtime runs, in Node or in the browser; it is kept out
 * of the main entry, so a bundle that does not export pays nothing for it. "safegrad/node" exports
 * the same names and `saveOnnx`, which writes the file.
 * @example
 * // import { exportOnnx } from "safegrad/onnx";
 * const bytes = exportOnnx(model, randn([1, 4])); // model.forward takes [batch, 4]
 * @module safegrad/onnx
 */
export * from "./onnx/index.js";
