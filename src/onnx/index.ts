/**
 * ONNX export (browser-safe): `exportOnnx` traces a module and returns the `.onnx` bytes.
 * @module
 */
export { exportOnnx, ONNX_OPSET, ONNX_IR_VERSION } from "./export.js";
export type { ExportOnnxOptions } from "./export.js";
export { OnnxExportError } from "./errors.js";
export { ONNX_SUPPORTED_OPS } from "./ops.js";
