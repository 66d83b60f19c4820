/**
 * Checkpoints: everything needed to resume a run (model, optimizer, scheduler, step, random
 * generators, extra JSON) in ONE safetensors file, written atomically. Tensors go in the data
 * section (model weights and optimizer buffers, bit-exact); the rest is JSON in `__metadata__`.
 */
import { SafegradError } from "../errors.js";
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
 * version), is malformed (metadata of the wrong shape, a tensor or key named `__proto__`,
 * `constructor` or `prototype`), or lacks a part that restoring asks for. Code `"CHECKPOINT"`;
 * `op` is "checkpoint", and the message says what is wrong without a prefix.
 * @example
 * try {
 *   restoreCheckpoint(bytes, { model }); // `bytes` holds plain tensors, not a checkpoint
 * } catch (e) {
 *   e instanceof CheckpointError; // true
 * }
 */
export class CheckpointError extends SafegradError {
  /** Always "CheckpointError". */
  override readonly name = "CheckpointError";
  override readonly code: string = "CHECKPOINT";
  /** @param message - what is wrong (the whole message) */
  constructor(message: string) {
    super("checkpoint", message, true);
  }
}

/** Names that could reach a prototype if used as a key: refused in tensor names and metadata keys. */
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

function fail(message: string): never {
  throw new CheckpointError(message);
}

/** Refuses a forbidden key; returns the value (a JSON.parse reviver and JSON.stringify replacer). */
function checkKey(key: string, value: unknown): unknown {
  return FORBIDDEN.has(key) ? fail(`the key "${key}" is not allowed in checkpoint metadata`) : value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An own property of a parsed JSON object (never one inherited from a prototype). */
function own(o: unknown, key: string): unknown {
  return isObject(o) && Object.hasOwn(o, key) ? o[key] : undefined;
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
  // the replacer refuses keys that restoreCheckpoint would refuse
  return serialize(tensors, { metadata: { [META_KEY]: JSON.stringify(meta, checkKey) } });
}

function toTensor(r: TensorRecord): Tensor {
  return new Tensor(r.data, r.shape);
}

/**
 * Restore a checkpoint into the given parts, all or nothing: each part validates its state before
 * changing anything (the model's loadStateDict is strict), and if a later part refuses its state
 * the earlier ones are put back, so on an error every part is as it was.
 *
 * The file is treated as hostile: besides the checks of `deserialize`, a metadata JSON of the wrong
 * shape throws a {@link CheckpointError}, as does a tensor name or JSON key `__proto__`,
 * `constructor` or `prototype` (state is built in null-prototype objects, so no name can reach a
 * prototype); generator states are checked by `Generator.setState`, optimizer and scheduler state
 * by their `loadStateDict`.
 * @example
 * const ckpt = serializeCheckpoint({ model, optimizer: opt, step: 7 });
 * const { step } = restoreCheckpoint(ckpt, { model: other, optimizer: opt2 }); // step === 7
 */
export function restoreCheckpoint(bytes: Uint8Array | Deserialized, parts: CheckpointParts, options?: DeserializeOptions): LoadedCheckpoint {
  const file = bytes instanceof Uint8Array ? deserialize(bytes, options) : bytes;
  const raw = file.metadata[META_KEY];
  if (raw === undefined) fail(`not a safegrad checkpoint: no "${META_KEY}" metadata`);
  let meta: unknown;
  try {
    meta = JSON.parse(raw, checkKey);
  } catch (e) {
    // NOTE: a reviver recurses, so JSON nested thousands deep overflows the stack (a RangeError).
    throw e instanceof CheckpointError ? e : new CheckpointError("checkpoint metadata is not valid JSON (or is nested too deeply)");
  }
  if (own(meta, "version") !== VERSION) fail(`unsupported checkpoint version ${String(own(meta, "version"))}`);
  const step = own(meta, "step") ?? null;
  if (step !== null && typeof step !== "number") fail(`the checkpoint's step is not a number`);
  const model = new Map<string, Tensor>();
  const optBuffers: [string, string, TypedArray][] = [];
  for (const [name, rec] of Object.entries(file.tensors)) {
    const path = name.split("/");
    const bad = path.find((p) => FORBIDDEN.has(p));
    if (bad !== undefined) fail(`tensor "${name.slice(0, 200)}": the name "${bad}" is not allowed`);
    if (path[0] === "model" && path.length > 1) model.set(name.slice(6), toTensor(rec));
    // optimizer/<parameter index>/<state key>
    else if (path[0] === "optimizer" && path.length === 3 && /^\d+$/.test(path[1]!)) optBuffers.push([path[1]!, path[2]!, rec.data]);
    else fail(`unexpected tensor "${name.slice(0, 200)}" in checkpoint`);
  }
  let optSd: { state: Record<string, Record<string, unknown>>; param_groups: unknown[] } | null = null;
  if (parts.optimizer) {
    const o = own(meta, "optimizer");
    if (!o) fail("the checkpoint has no optimizer state");
    const saved = own(o, "state");
    const groups = own(o, "param_groups");
    if (!isObject(saved) || !Array.isArray(groups)) fail("the checkpoint's optimizer state is not { state, param_groups }");
    // NOTE: null-prototype objects: no key, whatever it is, can reach Object.prototype.
    const state = Object.create(null) as Record<string, Record<string, unknown>>;
    for (const [i, scalars] of Object.entries(saved)) {
      if (!isObject(scalars)) fail(`the checkpoint's optimizer state ${i} is not an object`);
      state[i] = Object.assign(Object.create(null) as Record<string, unknown>, scalars);
    }
    for (const [i, key, data] of optBuffers) {
      const entry = (state[i] ??= Object.create(null) as Record<string, unknown>);
      if (key in entry) fail(`optimizer state ${i} has "${key.slice(0, 200)}" twice (as a tensor and in the metadata)`);
      entry[key] = data;
    }
    optSd = { param_groups: groups, state };
  }
  const sched = own(meta, "scheduler");
  if (parts.scheduler && !isObject(sched)) fail("the checkpoint has no scheduler state");
  const rng = own(meta, "rng");
  const gens = Object.entries(parts.rng ?? {});
  const states = gens.map(([name]) => {
    const st = own(rng, name);
    if (!Array.isArray(st) || st.length !== 5) fail(`the checkpoint has no state for generator "${name}"`);
    return st.map((v) => (v === null ? NaN : v)) as number[];
  });
  // Each part validates everything before it changes anything; when a later part refuses its
  // state, the earlier ones are put back from these snapshots (stateDict() returns copies), so a
  // failed restore leaves every part as it was.
  const { model: m, optimizer: o, scheduler: s } = parts;
  const before = [m.stateDict(), o?.stateDict(), s?.stateDict(), gens.map(([, g]) => g.getState())] as const;
  try {
    m.loadStateDict(model);
    o?.loadStateDict(optSd);
    s?.loadStateDict(sched);
    gens.forEach(([, g], i) => g.setState(states[i]!));
  } catch (e) {
    // in reverse, so the optimizer's own learning rates win over the scheduler's
    gens.forEach(([, g], i) => g.setState(before[3][i]!));
    s?.loadStateDict(before[2]);
    o?.loadStateDict(before[1]);
    m.loadStateDict(before[0], { allowNonFinite: true }); // a diverged model is put back as it was
    throw e;
  }
  return { step: step ?? undefined, extra: own(meta, "extra") ?? null };
}
