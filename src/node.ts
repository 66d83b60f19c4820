/**
 * The Node.js entry point ("safegrad/node"): everything in the main entry, plus file access:
 * `io.save` / `io.load` / checkpoints (atomic writes) and the embedded data sets.
 * @example
 * import { io, loadDigits } from "safegrad/node";
 * await io.save(model.stateDict(), "model.safetensors");
 */
export * from "./index.js";
/** safetensors files and checkpoints: `io.save`, `io.load`, `io.loadTensors`, `io.saveCheckpoint`, `io.loadCheckpoint`, ... */
export * as io from "./io/index.js";
export { loadDigits, loadIris } from "./data/index.js";
