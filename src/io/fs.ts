/**
 * Saving and loading safetensors files with Node's file system. The format itself lives in
 * `safetensors.ts`, which has no Node imports, so browsers can use it without this file.
 */
import { Tensor } from "../tensor/tensor.js";
import { restoreCheckpoint, serializeCheckpoint, type CheckpointParts, type LoadedCheckpoint } from "./checkpoint.js";
import { constants as bufferConstants } from "node:buffer";
import { randomBytes } from "node:crypto";
import { open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { threadId } from "node:worker_threads";
import {
  deserialize,
  readHeaderLength,
  resolveMaxHeaderBytes,
  SafetensorsError,
  serialize,
  type DeserializeOptions,
  type Deserialized,
  type SerializeOptions,
} from "./safetensors.js";
import type { NamedTensors } from "./types.js";

/**
 * Writes `bytes` to `path` so that readers see either the old file or the whole new one, never a
 * torn write, even if the process or machine dies midway.
 *
 * Steps: write a uniquely named temp file in the same folder (created exclusively, so it never
 * clobbers anything), fsync it, rename it over `path` (atomic within one file system), then fsync
 * the folder so the rename itself is durable (best effort: not every platform can fsync a folder).
 * On failure the temp file is removed and the error (a Node system error such as ENOENT) rethrown;
 * the target is untouched. An existing target's permission bits are kept (best effort). If `path`
 * is a symbolic link, the link itself is replaced.
 *
 * A process killed mid-write leaves its temp file behind (`.<name>.<pid>-<thread>.<random>.tmp`,
 * next to the target). Each write first removes the temp files of the same target left by writers
 * that are gone (best effort): those of a pid that no longer runs on this machine, those of this
 * thread that it is not writing now (a restarted container reuses pids), and any older than an
 * hour. A temp file that a live process or thread is writing is left alone. NOTE: a pid is checked
 * on this machine only; writers on several machines sharing a folder are protected by the hour.
 *
 * @example
 * ```ts
 * await writeFileAtomic("step-100.bin", bytes);
 * ```
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  // Same folder (so rename is atomic), unique, and short enough for NAME_MAX even for long names.
  const prefix = `.${basename(path).slice(0, 100)}.`;
  const tmp = join(dir, `${prefix}${process.pid}-${threadId}.${randomBytes(8).toString("hex")}.tmp`);
  writing.add(tmp);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    await removeStaleTemps(dir, prefix);
    handle = await open(tmp, "wx", 0o666);
    created = true;
    const mode = await existingMode(path);
    if (mode !== undefined) await handle.chmod(mode).catch(() => undefined);
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
    created = false;
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    if (created) await unlink(tmp).catch(() => undefined);
    throw error;
  } finally {
    writing.delete(tmp);
  }
  await syncDirectory(dir);
}

/** Temp files this thread is writing now. */
const writing = new Set<string>();

/** A temp file whose writer is alive but that is older than this is removed anyway. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Removes the temp files named `<prefix><pid>-<thread>.<16 hex>.tmp` in `dir` whose writer is gone
 * (best effort; also `<prefix><pid>.<16 hex>.tmp`, the name of earlier versions).
 */
async function removeStaleTemps(dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d{1,10})(?:-(\d{1,10}))?\.[0-9a-f]{16}\.tmp$/.exec(name.slice(prefix.length)) : null;
    const file = join(dir, name);
    if (!m || writing.has(file)) continue;
    const mine = Number(m[1]) === process.pid && Number(m[2] ?? 0) === threadId; // and not being written: ours, left by a dead run
    if (!mine && isRunning(Number(m[1]))) {
      const s = await stat(file).catch(() => undefined);
      if (s === undefined || Date.now() - s.mtimeMs < STALE_TEMP_MS) continue;
    }
    await unlink(file).catch(() => undefined);
  }
}

/** Whether a process with this pid runs on this machine (signal 0 checks without sending anything). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // it exists, owned by another user
  }
}

async function existingMode(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.mode & 0o7777 : undefined;
  } catch {
    return undefined;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // NOTE: best effort. Windows cannot open a folder for fsync, and some file systems refuse it.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Serializes tensors and writes them atomically to `path` (see {@link writeFileAtomic}).
 *
 * @example
 * ```ts
 * await save({ w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } }, "model.safetensors");
 * await save(model.stateDict(), "weights.safetensors", { metadata: { epoch: "3" } });
 * ```
 */
export async function save(tensors: NamedTensors, path: string, options: SerializeOptions = {}): Promise<void> {
  await writeFileAtomic(path, serialize(tensors, options));
}

/**
 * Reads and deserializes a safetensors file (see `deserialize` for every check).
 *
 * The header length is checked against `maxHeaderBytes` and the file size after reading only the
 * first 8 bytes, so a hostile file cannot make us read or allocate more than its own size.
 * Format problems throw {@link SafetensorsError}; I/O problems throw Node's system errors.
 *
 * @example
 * ```ts
 * await save(model.stateDict(), "model.safetensors");
 * const { tensors, metadata } = await load("model.safetensors");
 * tensors["0.weight"]!.shape; // [8, 4]
 * ```
 */
export async function load(path: string, options?: DeserializeOptions): Promise<Deserialized> {
  const maxHeaderBytes = resolveMaxHeaderBytes(options);
  const handle = await open(path, "r");
  let bytes: Uint8Array;
  try {
    const size = (await handle.stat()).size;
    const prefix = new Uint8Array(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    readHeaderLength(prefix.subarray(0, bytesRead), bytesRead < 8 ? bytesRead : size, maxHeaderBytes);
    if (size > bufferConstants.MAX_LENGTH) {
      throw new SafetensorsError(
        "file-too-large",
        `file is ${size} bytes, more than this runtime can hold in one buffer (${bufferConstants.MAX_LENGTH})`,
      );
    }
    bytes = await readAll(handle, size);
  } finally {
    await handle.close();
  }
  return deserialize(bytes, { maxHeaderBytes });
}

/** Reads `size` bytes from the start; stops early (returning fewer) if the file shrank meanwhile. */
async function readAll(handle: FileHandle, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await handle.read(bytes, at, size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === size ? bytes : bytes.subarray(0, at);
}

/**
 * Save a checkpoint (model, optimizer, scheduler, step, generators, extra) atomically: a crash
 * mid-write leaves the previous checkpoint intact.
 * @example
 * await saveCheckpoint("ckpt.safetensors", { model, optimizer: opt, scheduler: sched, step: 100, rng: { default: defaultGenerator } });
 */
export async function saveCheckpoint(path: string, parts: CheckpointParts): Promise<void> {
  await writeFileAtomic(path, serializeCheckpoint(parts));
}

/**
 * Load a checkpoint written by {@link saveCheckpoint} into the given parts; returns the step and extra.
 * @example
 * await saveCheckpoint("ckpt.safetensors", { model, optimizer: opt, scheduler: sched, step: 100, rng: { default: defaultGenerator } });
 * const { step } = await loadCheckpoint("ckpt.safetensors", { model, optimizer: opt, scheduler: sched, rng: { default: defaultGenerator } });
 * // step === 100
 */
export async function loadCheckpoint(path: string, parts: CheckpointParts, options?: DeserializeOptions): Promise<LoadedCheckpoint> {
  return restoreCheckpoint(await load(path, options), parts);
}

/**
 * Load a safetensors file as tensors (for `module.loadStateDict`).
 * @example
 * await save(other.stateDict(), "model.safetensors");
 * model.loadStateDict(await loadTensors("model.safetensors"));
 */
export async function loadTensors(path: string, options?: DeserializeOptions): Promise<Map<string, Tensor>> {
  const { tensors } = await load(path, options);
  return new Map(Object.entries(tensors).map(([k, r]) => [k, new Tensor(r.data, r.shape)]));
}
