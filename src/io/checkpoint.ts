/**
 * Checkpoints: everything needed to resume a run (model, optimizer, scheduler, step, random
 * generators, extra JSON) in ONE safetensors file, written atomically. Tensors go in the data
 * section (model weights and optimizer buffers, bit-exact); the rest is JSON in `__metadata__`.
 */
import { Tensor } from "../tensor/tensor.js";
import type { Generator } from "../tensor/random.js";
import { dtypeOfArray, type TypedArray } from "../tensor/dtype.js";
import { deserialize, serialize, type Deserialized, type DeserializeOptions } from "./safetensors.js";
import type { TensorRecord } from "./types.js";

const META_KEY = "safegrad.checkpoint";
const VERSION = 1;

/** What a checkpoint needs of a model (every Module has it). */
export interface CheckpointModel {
  /** The tensors to save, as copies (a failed restore puts them back). */
  stateDict(): Map<string, Tensor>;
  /** Load saved tensors back (strictly; non-finite values only when allowed). */
  loadStateDict(sd: Map<string, Tensor>, options?: { allowNonFinite?: boolean }): unknown;
}
/** What a checkpoint needs of an optimizer (every Optimizer has it). */
export interface CheckpointOptimizer {
  /** The state to save; typed-array buffers go in the data section, the rest in JSON. */
  stateDict(): { state: Record<number, Record<string, unknown>>; param_groups: unknown[] };
  /** Restore saved state. */
  loadStateDict(sd: any): void;
}
/** What a checkpoint needs of a scheduler (every LR scheduler has it). */
export interface CheckpointScheduler {
  /** The state to save (JSON-serializable). */
  stateDict(): unknown;
  /** Restore saved state. */
  loadStateDict(sd: any): void;
}

/** What goes into (and is restored from) a checkpoint. */
export interface CheckpointParts {
  /** The model (required). */
  model: CheckpointModel;
  /** The optimizer, whose state is saved (default: none). */
  optimizer?: CheckpointOptimizer | null;
  /** The LR scheduler, whose state is saved (default: none). */
  scheduler?: CheckpointScheduler | null;
  /** The step (or epoch) to resume from (default: none). */
  step?: number;
  /** Random generators to save and restore, by name (e.g. { default: defaultGenerator, loader: loader.generator }). */
  rng?: Record<string, Generator>;
  /** Anything JSON-serializable (epoch, metrics, config). */
  extra?: unknown;
}

/** What `restoreCheckpoint` / `loadCheckpoint` return besides restoring the parts. */
export interface LoadedCheckpoint {
  /** The saved step, if one was saved. */
  step: number | undefined;
  /** The saved `extra` value (null if none). */
  extra: unknown;
}

/**
 * Thrown when a file is a valid safetensors file but not a safegrad checkpoint (or of another
 * version), or lacks a part that restoring asks for.
 * @example
 * try {
 *   restoreCheckpoint(bytes, { model }); // `bytes` holds plain tensors, not a checkpoint
 * } catch (e) {
 *   e instanceof CheckpointError; // true
 * }
 */
export class CheckpointError extends Error {
  /** Always "CheckpointError". */
  override readonly name = "CheckpointError";
}

function isTyped(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function recordOf(a: TypedArray): TensorRecord {
  return { dtype: dtypeOfArray(a), shape: [a.length], data: a.slice() };
}

/**
 * Checkpoint contents as bytes (browser-safe; `saveCheckpoint` writes them atomically): the model's
 * tensors and the optimizer's buffers as tensors, everything else as JSON metadata.
 * @example
 * const ckpt = serializeCheckpoint({ model, optimizer: opt, scheduler: sched, step: 7, extra: { note: "best" } });
 * // in a browser: store `ckpt` in IndexedDB, or download it
 */
export function serializeCheckpoint(parts: CheckpointParts): Uint8Array {
  const tensors = new Map<string, TensorRecord | Tensor>();
  for (const [k, t] of parts.model.stateDict()) tensors.set(`model/${k}`, t);
  let optimizerMeta: unknown = null;
  if (parts.optimizer) {
    const sd = parts.optimizer.stateDict();
    const state: Record<string, Record<string, unknown>> = {};
    for (const [i, entry] of Object.entries(sd.state)) {
      const scalars: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(entry)) {
        if (isTyped(v)) tensors.set(`optimizer/${i}/${key}`, recordOf(v));
        else scalars[key] = v;
      }
      state[i] = scalars;
    }
    optimizerMeta = { param_groups: sd.param_groups, state };
  }
  const rng: Record<string, (number | null)[]> = {};
  for (const [name, g] of Object.entries(parts.rng ?? {})) rng[name] = g.getState().map((v) => (Number.isNaN(v) ? null : v));
  const meta = {
    version: VERSION,
    step: parts.step ?? null,
    optimizer: optimizerMeta,
    scheduler: parts.scheduler ? parts.scheduler.stateDict() : null,
    rng,
    extra: parts.extra ?? null,
  };
  return serialize(tensors, { metadata: { [META_KEY]: JSON.stringify(meta) } });
}

function toTensor(r: TensorRecord): Tensor {
  return new Tensor(r.data, r.shape);
}

/**
 * Restore a checkpoint into the given parts, all or nothing: each part validates its state before
 * changing anything (the model's loadStateDict is strict), and if a later part refuses its state
 * the earlier ones are put back, so on an error every part is as it was.
 * @example
 * const ckpt = serializeCheckpoint({ model, optimizer: opt, step: 7 });
 * const { step } = restoreCheckpoint(ckpt, { model: other, optimizer: opt2 }); // step === 7
 */
export function restoreCheckpoint(bytes: Uint8Array | Deserialized, parts: CheckpointParts, options?: DeserializeOptions): LoadedCheckpoint {
  const file = bytes instanceof Uint8Array ? deserialize(bytes, options) : bytes;
  const raw = file.metadata[META_KEY];
  if (raw === undefined) throw new CheckpointError(`not a safegrad checkpoint: no "${META_KEY}" metadata`);
  let meta: any;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new CheckpointError("checkpoint metadata is not valid JSON");
  }
  if (meta?.version !== VERSION) throw new CheckpointError(`unsupported checkpoint version ${String(meta?.version)}`);
  const model = new Map<string, Tensor>();
  const optBuffers = new Map<string, TypedArray>();
  for (const [name, rec] of Object.entries(file.tensors)) {
    if (name.startsWith("model/")) model.set(name.slice(6), toTensor(rec));
    else if (name.startsWith("optimizer/")) optBuffers.set(name.slice(10), rec.data);
    else throw new CheckpointError(`unexpected tensor "${name}" in checkpoint`);
  }
  let optSd: any = null;
  if (parts.optimizer) {
    if (!meta.optimizer) throw new CheckpointError("the checkpoint has no optimizer state");
    const state: Record<string, Record<string, unknown>> = {};
    for (const [i, scalars] of Object.entries(meta.optimizer.state as Record<string, Record<string, unknown>>)) state[i] = { ...scalars };
    for (const [key, data] of optBuffers) {
      const slash = key.indexOf("/");
      const i = key.slice(0, slash);
      (state[i] ??= {})[key.slice(slash + 1)] = data;
    }
    optSd = { param_groups: meta.optimizer.param_groups, state };
  }
  if (parts.scheduler && !meta.scheduler) throw new CheckpointError("the checkpoint has no scheduler state");
  for (const name of Object.keys(parts.rng ?? {})) {
    const st = meta.rng?.[name];
    if (!Array.isArray(st) || st.length !== 5) throw new CheckpointError(`the checkpoint has no state for generator "${name}"`);
  }
  // Each part validates everything before it changes anything; when a later part refuses its
  // state, the earlier ones are put back from these snapshots (stateDict() returns copies), so a
  // failed restore leaves every part as it was.
  const { model: m, optimizer: o, scheduler: s } = parts;
  const gens = Object.entries(parts.rng ?? {});
  const before = [m.stateDict(), o?.stateDict(), s?.stateDict(), gens.map(([, g]) => g.getState())] as const;
  try {
    m.loadStateDict(model);
    o?.loadStateDict(optSd);
    s?.loadStateDict(meta.scheduler);
    for (const [name, g] of gens) g.setState((meta.rng[name] as (number | null)[]).map((v) => (v === null ? NaN : v)));
  } catch (e) {
    // in reverse, so the optimizer's own learning rates win over the scheduler's
    gens.forEach(([, g], i) => g.setState(before[3][i]!));
    s?.loadStateDict(before[2]);
    o?.loadStateDict(before[1]);
    m.loadStateDict(before[0], { allowNonFinite: true }); // a diverged model is put back as it was
    throw e;
  }
  return { step: meta.step ?? undefined, extra: meta.extra };
}
