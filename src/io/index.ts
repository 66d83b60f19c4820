/**
 * Tensor serialization. `safetensors.ts` (serialize/deserialize) is browser-safe; `fs.ts`
 * (save/load/writeFileAtomic) needs Node. A browser entry point should re-export only the former.
 * @module
 */
export {
  DEFAULT_MAX_HEADER_BYTES,
  deserialize,
  SafetensorsError,
  serialize,
  type Deserialized,
  type DeserializeOptions,
  type SafetensorsProblemCode,
  type SerializeOptions,
} from "./safetensors.js";
export { load, save, writeFileAtomic, saveCheckpoint, loadCheckpoint, loadTensors } from "./fs.js";
export { serializeCheckpoint, restoreCheckpoint, CheckpointError } from "./checkpoint.js";
export type { CheckpointParts, CheckpointModel, CheckpointOptimizer, CheckpointScheduler, LoadedCheckpoint } from "./checkpoint.js";
export type { NamedTensors, TensorRecord, TensorSource } from "./types.js";
