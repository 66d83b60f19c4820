/**
 * The Node.js entry point ("safegrad/node"): everything in the main entry, plus file access:
 * `io.save` / `io.load` / checkpoints (atomic writes) and the embedded data sets.
 * @example
 * import { io, loadDigits } from "safegrad/node";
 * await io.save(model.stateDict(), "model.safetensors");
 * const digits = loadDigits();
 * @module safegrad/node
 */
export * from "./index.node.js";
/**
 * safetensors files and checkpoints: `io.save`, `io.load`, `io.loadTensors`, `io.saveCheckpoint`,
 * `io.loadCheckpoint`, `io.writeFileAtomic`, and the browser-safe `io.serialize` / `io.deserialize`.
 * @example
 * await io.save(model.stateDict(), "model.safetensors");
 * model.loadStateDict(await io.loadTensors("model.safetensors"));
 */
export * as io from "./io/index.js";
export * from "./data.js";
// The fast backends, as in "safegrad/fast" (registerFastBackends, createWasmBackend, ...).
export * from "./fast.js";
export { loadDigits, loadIris } from "./data/index.js";
export type { LoadIrisOptions } from "./data/index.js";
// ONNX export, as in "safegrad/onnx" (exportOnnx, OnnxExportError, ...), and saveOnnx, which writes the file.
export * from "./onnx.js";
export { saveOnnx } from "./onnx/node.js";
