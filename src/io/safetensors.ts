/**
 * The safetensors format (https://github.com/huggingface/safetensors), without the file system.
 *
 * Layout: an 8-byte little-endian u64 `N`, then `N` bytes of UTF-8 JSON header, then the data
 * buffer. The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }`, with
 * offsets relative to the start of the data buffer, plus an optional `__metadata__` object of
 * string to string. Data is little-endian and row-major.
 *
 * Every file is treated as hostile: `deserialize` checks every number in the header against the
 * real length of the bytes before it allocates anything, and every problem is reported as a
 * {@link SafetensorsError} naming the tensor and the problem. It never reads out of bounds, never
 * allocates more than a small multiple of the input length, and runs in time linear in the input
 * (plus a sort of the tensor list); the header is bounded in size (16 MiB by default), nesting and
 * density before it is parsed.
 *
 * This file must stay free of Node built-ins so browsers can use it; see `fs.ts` for save/load.
 */
import { SafegradError, ValueError } from "../errors.js";
import { allocArray, type DType, type TypedArray } from "../tensor/dtype.js";
import { bfloat16BitsToFloat32Bits, float16BitsToFloat32Bits } from "./half.js";
import type { NamedTensors, TensorRecord, TensorSource } from "./types.js";

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Machine-readable kind of a {@link SafetensorsError}; `problem` is the human-readable detail.
 * @example
 * let code: SafetensorsProblemCode | undefined;
 * try {
 *   deserialize(new Uint8Array(3));
 * } catch (e) {
 *   if (e instanceof SafetensorsError) code = e.code;
 * }
 */
export type SafetensorsProblemCode =
  | "file-too-short"
  | "file-too-large"
  | "header-too-large"
  | "header-too-deep"
  | "header-too-dense"
  | "header-beyond-file"
  | "header-not-utf8"
  | "header-not-json"
  | "header-not-object"
  | "duplicate-key"
  | "entry-not-object"
  | "unknown-dtype"
  | "unsupported-dtype"
  | "bad-shape"
  | "shape-overflow"
  | "bad-offsets"
  | "offsets-beyond-data"
  | "size-mismatch"
  | "overlap"
  | "hole"
  | "trailing-bytes"
  | "bad-metadata"
  | "value-out-of-range"
  | "bad-bool"
  | "bad-input";

/**
 * A file (or, for `serialize`, an input) that breaks the safetensors rules.
 *
 * `tensor` names the offending tensor when there is one; `problem` says what is wrong; `code`
 * is a stable identifier for programs: unlike the other {@link SafegradError}s, whose codes are
 * one per class, it is the finer {@link SafetensorsProblemCode}. The message combines both, with
 * the name quoted and cut to a readable length (a hostile name can be megabytes long); `op` is
 * always "safetensors".
 * @example
 * try {
 *   deserialize(bytes.subarray(0, 20)); // truncated
 * } catch (e) {
 *   if (e instanceof SafetensorsError) e.code; // a SafetensorsProblemCode
 * }
 */
export class SafetensorsError extends SafegradError {
  /** Stable identifier of the kind of problem. */
  declare readonly code: SafetensorsProblemCode;
  /** What is wrong, for humans. */
  declare readonly problem: string;
  /** The offending tensor's name, when there is one. */
  declare readonly tensor?: string;

  /**
   * @param code - the kind of problem
   * @param problem - what is wrong
   * @param tensor - the offending tensor's name, if any
   */
  constructor(code: SafetensorsProblemCode, problem: string, tensor?: string) {
    super("safetensors", tensor === undefined ? problem : `tensor ${quoteName(tensor)}: ${problem}`);
    this.name = "SafetensorsError";
    this.code = code;
    this.problem = problem;
    if (tensor !== undefined) this.tensor = tensor;
  }
}

const MAX_NAME_IN_MESSAGE = 120;

function quoteName(name: string): string {
  const quoted = JSON.stringify(name);
  return quoted.length <= MAX_NAME_IN_MESSAGE
    ? quoted
    : `${quoted.slice(0, MAX_NAME_IN_MESSAGE)}…(${name.length} chars)`;
}

// ---------------------------------------------------------------------------------------------
// Dtypes

interface FileDType {
  /** Bytes per element. */
  readonly size: number;
  /** What we decode it to. */
  readonly to: DType;
}

// NOTE: a Map, not an object literal, so hostile dtype strings such as "constructor" or
// "__proto__" cannot find anything through the prototype chain.
const READABLE = new Map<string, FileDType>([
  ["BOOL", { size: 1, to: "bool" }],
  ["U8", { size: 1, to: "int32" }],
  ["I8", { size: 1, to: "int32" }],
  ["I16", { size: 2, to: "int32" }],
  ["U16", { size: 2, to: "int32" }],
  ["F16", { size: 2, to: "float32" }],
  ["BF16", { size: 2, to: "float32" }],
  ["I32", { size: 4, to: "int32" }],
  ["U32", { size: 4, to: "int32" }],
  ["F32", { size: 4, to: "float32" }],
  ["F64", { size: 8, to: "float64" }],
  ["I64", { size: 8, to: "int32" }],
  ["U64", { size: 8, to: "int32" }],
]);

/** Dtypes other writers use that we recognise but cannot represent. */
const KNOWN_UNREADABLE = new Set(["F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"]);

const WRITTEN: Readonly<Record<DType, string>> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  bool: "BOOL",
};

/** Position of each written dtype in the reference implementation's `Dtype` enum (ascending alignment). */
const WRITTEN_RANK: Readonly<Record<DType, number>> = { bool: 0, int32: 9, float32: 11, float64: 12 };

function arrayMatches(dtype: DType, data: unknown): data is TypedArray {
  return data instanceof (allocArray(dtype, 0).constructor as new () => TypedArray);
}

// NOTE: safetensors data is little-endian. Typed arrays use the host order, which is little-endian
// on every platform Node and browsers ship on, but we still swap on a big-endian host rather than
// silently write a wrong file.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapInPlace(bytes: Uint8Array, itemSize: number): void {
  if (HOST_LITTLE_ENDIAN || itemSize === 1) return;
  for (let i = 0; i + itemSize <= bytes.length; i += itemSize) {
    bytes.subarray(i, i + itemSize).reverse();
  }
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Reads an own property only, never one inherited from a (possibly polluted) prototype. */
function own(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

function isPlainObject(v: unknown): v is object {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSize(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/**
 * A short rendering of a header value for messages. NOTE: bounded in depth and width on purpose:
 * JSON.stringify or String() on a hostile 200,000-deep array overflows the stack.
 */
function describe(v: unknown, depth = 0): string {
  if (v === undefined) return "missing";
  let s: string;
  if (typeof v === "string") s = JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  else if (typeof v !== "object" || v === null) s = String(v);
  else if (Array.isArray(v)) {
    const items = (v as unknown[]).slice(0, 8).map((x) => (depth >= 2 ? "…" : describe(x, depth + 1)));
    s = `[${items.join(",")}${v.length > 8 ? ",…" : ""}]`;
  } else {
    const keys = Object.keys(v);
    const items = keys.slice(0, 4).map((k) => `${quoteName(k.slice(0, 30))}:${depth >= 2 ? "…" : describe(own(v, k), depth + 1)}`);
    s = `{${items.join(",")}${keys.length > 4 ? ",…" : ""}}`;
  }
  return s.length <= 80 ? s : `${s.slice(0, 80)}…`;
}

/** Unicode code point order, as used by Rust's `str` comparison (JS `<` compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  // A surrogate (0xD800-0xDFFF) encodes a code point above 0xFFFF, so it sorts above every other unit.
  const rank = (u: number): number => ((u & 0xf800) === 0xd800 ? u + 0x10000 : u);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.charCodeAt(i)) - rank(b.charCodeAt(i));
    if (d) return d;
  }
  return a.length - b.length;
}

const LONE_SURROGATE = /\p{Surrogate}/u;

// ---------------------------------------------------------------------------------------------
// serialize

/** Options of `serialize` and `io.save`. */
export interface SerializeOptions {
  /** Free-form string to string metadata, written as `__metadata__` (default: none). */
  metadata?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
}

interface Prepared {
  name: string;
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

function isSource(v: TensorRecord | TensorSource): v is TensorSource {
  return typeof (v as Partial<TensorSource>).toTypedArray === "function";
}

function checkWritableName(name: unknown): asserts name is string {
  if (typeof name !== "string") {
    throw new SafetensorsError("bad-input", `tensor names must be strings, got ${describe(name)}`);
  }
  if (name === "__metadata__") {
    throw new SafetensorsError("bad-input", `the name "__metadata__" is reserved`, name);
  }
  if (LONE_SURROGATE.test(name)) {
    throw new SafetensorsError("bad-input", "name has a lone surrogate", name);
  }
}

function prepare(name: string, value: TensorRecord | TensorSource | undefined): Prepared {
  if (typeof value !== "object" || value === null) {
    throw new SafetensorsError("bad-input", `expected a tensor record, got ${describe(value)}`, name);
  }
  const dtype = value.dtype;
  if (typeof dtype !== "string" || !Object.hasOwn(WRITTEN, dtype)) {
    throw new SafetensorsError("bad-input", `unsupported dtype ${describe(dtype)}`, name);
  }
  const data = isSource(value) ? value.toTypedArray() : value.data;
  if (!arrayMatches(dtype, data)) {
    throw new SafetensorsError("bad-input", `data is not a ${dtype} typed array`, name);
  }
  const shape = value.shape;
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    throw new SafetensorsError(
      "bad-input",
      `shape must be non-negative integers, got ${describe(shape)}`,
      name,
    );
  }
  let numel = shape.includes(0) ? 0 : 1;
  // Inexact once past 2^53, but then it cannot equal data.length anyway.
  for (const d of shape) numel *= d;
  if (numel !== data.length) {
    throw new SafetensorsError(
      "bad-input",
      `shape [${shape.join(", ")}] holds ${numel} elements, data has ${data.length}`,
      name,
    );
  }
  if (dtype === "bool") {
    const idx = (data as Uint8Array).findIndex((b) => b > 1);
    if (idx >= 0) {
      throw new SafetensorsError("bad-input", `bool element ${idx} is ${data[idx]}, not 0 or 1`, name);
    }
  }
  return { name, dtype, shape: shape.map((d) => d + 0), data }; // `+ 0` turns -0 into 0
}

/** The entries of a Map, or the own enumerable string-keyed entries of a record. */
function entriesOf(x: ReadonlyMap<unknown, unknown> | Readonly<Record<string, unknown>>): [unknown, unknown][] {
  return x instanceof Map ? [...x] : Object.keys(x).map((k) => [k, own(x, k)]);
}

function metadataEntries(metadata: SerializeOptions["metadata"]): [string, string][] {
  if (metadata === undefined) return [];
  const entries = entriesOf(metadata);
  for (const [k, v] of entries) {
    if (typeof k !== "string" || typeof v !== "string" || LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
      throw new SafetensorsError("bad-input", `metadata must map strings to strings, got ${describe(k)}: ${describe(v)}`);
    }
  }
  return entries as [string, string][];
}

/**
 * Encodes tensors as a safetensors file.
 *
 * Tensors are laid out as the reference implementation does: by descending dtype alignment, then
 * by name (in code point order), so files written here are byte-identical to
 * `safetensors.torch.save_file` for the same float32/float64/int32/bool tensors and at most one
 * metadata key (the reference keeps metadata in a hash map, so it orders several keys at random;
 * we keep insertion order). The header is padded with spaces to a multiple of 8 bytes so the data
 * buffer starts aligned. Names and shapes are written exactly as given.
 *
 * @example
 * ```ts
 * const bytes = serialize(
 *   { w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } },
 *   { metadata: { format: "pt" } },
 * );
 * ```
 * @throws {SafetensorsError} with code `"bad-input"` for a record whose data does not match its
 *   dtype or shape, a `bool` byte other than 0/1, the reserved name `__metadata__`, or a name
 *   that is not valid Unicode.
 */
export function serialize(tensors: NamedTensors, options: SerializeOptions = {}): Uint8Array {
  const items: Prepared[] = [];
  for (const [name, value] of entriesOf(tensors)) {
    checkWritableName(name);
    items.push(prepare(name, value as TensorRecord | TensorSource | undefined));
  }
  items.sort((a, b) => WRITTEN_RANK[b.dtype] - WRITTEN_RANK[a.dtype] || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  const meta = metadataEntries(options.metadata);
  if (meta.length > 0) {
    const body = meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",");
    parts.push(`"__metadata__":{${body}}`);
  }
  let offset = 0;
  for (const t of items) {
    const end = offset + t.data.byteLength;
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${WRITTEN[t.dtype]}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of items) {
    const region = out.subarray(at, at + t.data.byteLength);
    region.set(bytesOf(t.data));
    swapInPlace(region, t.data.BYTES_PER_ELEMENT);
    at += t.data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// deserialize

/**
 * The default `maxHeaderBytes`: 16 MiB. The reference implementation allows 100 MB, but a header
 * that large takes 10 s or more to parse; real headers are rarely above 1 MB (about 100 bytes per
 * tensor), and a hostile 16 MiB one parses in about 2 s and a few hundred MB at most. Raise it for
 * a file that needs it.
 * @example
 * deserialize(bytes, { maxHeaderBytes: DEFAULT_MAX_HEADER_BYTES * 8 }); // a trusted file with a huge header
 */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 2 ** 20;

/** Options of `deserialize`, `io.load` and the other readers. */
export interface DeserializeOptions {
  /**
   * Largest accepted JSON header, in bytes; larger ones are rejected (`"header-too-large"`) before
   * any decoding. Default {@link DEFAULT_MAX_HEADER_BYTES} (16 MiB). NOTE: parsing a header can
   * take several times its size in memory (up to about 15x for the densest header accepted), so
   * lower this for untrusted input in a constrained process.
   */
  maxHeaderBytes?: number;
}

/** What `deserialize` and `io.load` return. */
export interface Deserialized {
  /** Tensors by name, in data-offset order. A null-prototype object: every name is a plain key. */
  tensors: Record<string, TensorRecord>;
  /** The `__metadata__` object (empty if absent). A null-prototype object. */
  metadata: Record<string, string>;
}

interface Entry {
  name: string;
  fileDtype: string;
  info: FileDType;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

/** Validates `maxHeaderBytes` from user options (a programming error: a ValueError, not a SafetensorsError). */
export function resolveMaxHeaderBytes(options: DeserializeOptions | undefined): number {
  const max = options?.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!isSize(max)) throw new ValueError("safetensors", `maxHeaderBytes must be a non-negative integer, got ${max}`);
  return max;
}

/**
 * Reads and checks the 8-byte header length: against `maxHeaderBytes` first, then against the
 * length of the whole file. `prefix` needs only the first 8 bytes of the file. Shared with `load`
 * so it can refuse a bad file before reading all of it.
 */
export function readHeaderLength(prefix: Uint8Array, fileLength: number, maxHeaderBytes: number): number {
  if (fileLength < 8 || prefix.length < 8) {
    throw new SafetensorsError(
      "file-too-short",
      `file is ${fileLength} bytes, under 8`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32; // inexact above 2^53, but then far above any limit
  if (n > maxHeaderBytes) {
    throw new SafetensorsError(
      "header-too-large",
      `header length ${view.getBigUint64(0, true)} > maxHeaderBytes ${maxHeaderBytes}`,
    );
  }
  if (8 + n > fileLength) {
    throw new SafetensorsError(
      "header-beyond-file",
      `header length ${n} runs past the ${fileLength}-byte file`,
    );
  }
  return n;
}

function parseHeader(headerBytes: Uint8Array): object {
  // NOTE: every writer starts the header with "{"; the reference implementation defines an
  // InvalidHeaderStart error for anything else (0.8 still skips leading whitespace; we do not).
  if (headerBytes[0] !== 0x7b) { // also an empty header
    throw new SafetensorsError("header-not-object", `header must start with "{"`);
  }
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where JSON.parse then rejects it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError("header-not-utf8", "header is not valid UTF-8");
  }
  const duplicate = scanHeader(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.slice(0, 200) : "parse failed";
    throw new SafetensorsError("header-not-json", `header is not valid JSON (${why})`);
  }
  if (!isPlainObject(parsed)) {
    throw new SafetensorsError("header-not-object", `header must be an object, got ${describe(parsed)}`);
  }
  if (duplicate !== undefined) {
    throw new SafetensorsError(
      "duplicate-key",
      duplicate.tensor === duplicate.key
        ? "name repeated in the header"
        : `key ${quoteName(duplicate.key)} repeated in one object`,
      duplicate.tensor,
    );
  }
  return parsed;
}

/**
 * Deepest nesting of objects and arrays accepted in a header: the reference reader's (serde_json's
 * recursion limit). A valid header needs 3 (header, entry, shape); deeper ones can only sit in
 * keys that readers ignore.
 */
const MAX_HEADER_DEPTH = 128;

/**
 * Bytes of header per object or array, at least, on average. The smallest valid entry,
 * `"":{"dtype":"F32","shape":[],"data_offsets":[0,0]},`, has 3 in 50 bytes; an unknown key in an
 * entry (ignored, as by the reference) still fits easily.
 */
const MIN_BYTES_PER_CONTAINER = 8;

/**
 * Runs before JSON.parse, whose time and memory grow with the number of objects and arrays (an
 * empty array is 3 bytes of text but about 40 of memory and 200 ns of parsing): refuses a header
 * nested deeper than {@link MAX_HEADER_DEPTH} or with more than one object or array per
 * {@link MIN_BYTES_PER_CONTAINER} bytes, and returns the first key repeated within one JSON object
 * (meaningful only once `text` is known to be valid JSON).
 *
 * NOTE: JSON.parse keeps the last of duplicate keys without looking at the others, while other
 * readers may keep the first or validate all; a file that means different things to different
 * readers is a classic smuggling trick, so we refuse duplicates anywhere. One linear pass over the
 * text with a stack of key sets; no recursion, so nesting depth cannot overflow the stack.
 * `tensor` is the top-level key the duplicate sits under (the duplicate itself at the top level).
 */
function scanHeader(text: string): { key: string; tensor: string | undefined } | undefined {
  const stack: (Set<string> | null)[] = []; // a key set per open object, null per open array
  let topKey: string | undefined;
  let expectKey = false;
  let containers = 0;
  const maxContainers = 2 + text.length / MIN_BYTES_PER_CONTAINER;
  let duplicate: { key: string; tensor: string | undefined } | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; ; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22 || Number.isNaN(d)) break;
      }
      if (!expectKey) continue;
      expectKey = false;
      const raw = text.slice(start, i + 1);
      let key = raw.slice(1, -1);
      try {
        if (escaped) key = JSON.parse(raw) as string;
      } catch {
        // a bad escape: the JSON.parse of the whole header reports it
      }
      const keys = stack[stack.length - 1];
      if (!keys || duplicate) continue; // no key set: only in invalid JSON
      if (keys.has(key)) duplicate = { key, tensor: stack.length === 1 ? key : topKey };
      keys.add(key);
      if (stack.length === 1) topKey = key;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
      if (stack.length > MAX_HEADER_DEPTH) {
        throw new SafetensorsError("header-too-deep", `header nests objects and arrays deeper than ${MAX_HEADER_DEPTH}`);
      }
      if (++containers > maxContainers) {
        throw new SafetensorsError(
          "header-too-dense",
          `header has over ${containers - 1} objects and arrays in ${text.length} bytes, more than one per ${MIN_BYTES_PER_CONTAINER} bytes`,
        );
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return duplicate;
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === null) return Object.create(null); // the reference reader accepts null as "no metadata"
  if (!isPlainObject(value)) {
    throw new SafetensorsError("bad-metadata", `__metadata__ must be an object, got ${describe(value)}`);
  }
  // NOTE: Object.keys, not Object.entries: much faster on an object with a million keys.
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k]; // an own key (even "__proto__": JSON.parse makes it a plain one)
    if (typeof v !== "string") {
      throw new SafetensorsError(
        "bad-metadata",
        `__metadata__ values must be strings, got ${quoteName(k)}: ${describe(v)}`,
      );
    }
  }
  // The object JSON.parse made, now without a prototype: nothing inherited, no __proto__ setter.
  return Object.setPrototypeOf(value, null) as Record<string, string>;
}

function parseEntry(name: string, value: unknown, dataLength: number): Entry {
  if (!isPlainObject(value)) {
    throw new SafetensorsError("entry-not-object", `entry must be an object, got ${describe(value)}`, name);
  }
  const dtype = own(value, "dtype");
  const info = typeof dtype === "string" ? READABLE.get(dtype) : undefined;
  if (info === undefined) {
    if (typeof dtype === "string" && KNOWN_UNREADABLE.has(dtype)) {
      throw new SafetensorsError("unsupported-dtype", `dtype ${dtype} is not supported`, name);
    }
    throw new SafetensorsError("unknown-dtype", `unknown dtype ${describe(dtype)}`, name);
  }
  const dt = dtype as string;

  const shape = own(value, "shape");
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    throw new SafetensorsError(
      "bad-shape",
      `shape must be non-negative integers, got ${describe(shape)}`,
      name,
    );
  }
  // NOTE: overflow-safe element count. With no zero dimension the running product only grows, so
  // we stop as soon as the byte count passes 2^53: while below, every product is exact. With a
  // zero dimension it stays 0.
  const limit = Number.MAX_SAFE_INTEGER / info.size;
  let numel = shape.includes(0) ? 0 : 1;
  for (const d of shape as number[]) {
    numel *= d;
    if (numel > limit) {
      throw new SafetensorsError(
        "shape-overflow",
        `shape ${describe(shape)} of ${dt} needs over 2^53 bytes`,
        name,
      );
    }
  }

  const offsets = own(value, "data_offsets");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isSize(offsets[0]) || !isSize(offsets[1])) {
    throw new SafetensorsError(
      "bad-offsets",
      `data_offsets must be [begin, end], got ${describe(offsets)}`,
      name,
    );
  }
  const begin = offsets[0] + 0;
  const end = offsets[1] + 0;
  if (begin > end) {
    throw new SafetensorsError("bad-offsets", `data_offsets [${begin}, ${end}]: end < begin`, name);
  }
  if (end > dataLength) {
    throw new SafetensorsError(
      "offsets-beyond-data",
      `data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data`,
      name,
    );
  }
  const nbytes = numel * info.size;
  if (end - begin !== nbytes) {
    throw new SafetensorsError(
      "size-mismatch",
      `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, ${dt} shape ${describe(shape)} needs ${nbytes}`,
      name,
    );
  }
  return { name, fileDtype: dt, info, shape: (shape as number[]).map((d) => d + 0), numel, begin, end };
}

/** The spec requires the tensors to tile the data buffer exactly: no overlap, no hole, no tail. */
function checkCoverage(entries: Entry[], dataLength: number): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < covered) { // covered > 0: there is a previous entry
      throw new SafetensorsError(
        "overlap",
        `data_offsets [${e.begin}, ${e.end}] overlap tensor ${quoteName(previous!.name)} at [${previous!.begin}, ${previous!.end}]`,
        e.name,
      );
    }
    if (e.begin > covered) {
      throw new SafetensorsError(
        "hole",
        `data bytes [${covered}, ${e.begin}) before it belong to no tensor`,
        e.name,
      );
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw new SafetensorsError(
      "trailing-bytes",
      `data is ${dataLength} bytes, tensors cover ${covered}`,
    );
  }
}

function decode(e: Entry, bytes: Uint8Array): TensorRecord {
  const src = bytes.subarray(e.begin, e.end);
  const view = (): DataView => new DataView(src.buffer, src.byteOffset, src.byteLength); // only when needed: a header can list a million tensors
  const n = e.numel;
  const shape = e.shape;
  switch (e.fileDtype) {
    case "F32":
    case "F64":
    case "I32": {
      const data = allocArray(e.info.to, n);
      const raw = bytesOf(data);
      raw.set(src);
      swapInPlace(raw, e.info.size);
      return { dtype: e.info.to, shape, data };
    }
    case "BOOL": {
      const data = src.slice();
      const bad = data.findIndex((b) => b > 1);
      if (bad >= 0) {
        throw new SafetensorsError("bad-bool", `BOOL element ${bad} is ${data[bad]}, not 0 or 1`, e.name);
      }
      return { dtype: "bool", shape, data };
    }
    case "F16":
    case "BF16": {
      const data = new Float32Array(n);
      const bits = new Uint32Array(data.buffer);
      const widen = e.fileDtype === "F16" ? float16BitsToFloat32Bits : bfloat16BitsToFloat32Bits;
      const v = view();
      for (let i = 0; i < n; i++) bits[i] = widen(v.getUint16(2 * i, true));
      return { dtype: "float32", shape, data };
    }
    default:
      return { dtype: "int32", shape, data: decodeInteger(e, src, view()) };
  }
}

function outOfRange(e: Entry, i: number, value: bigint): SafetensorsError {
  return new SafetensorsError(
    "value-out-of-range",
    `${e.fileDtype} element ${i} is ${value}, outside int32`,
    e.name,
  );
}

function decodeInteger(e: Entry, src: Uint8Array, view: DataView): Int32Array {
  const n = e.numel;
  const data = new Int32Array(n);
  switch (e.fileDtype) {
    case "U8":
      data.set(src);
      break;
    case "I8":
      for (let i = 0; i < n; i++) data[i] = view.getInt8(i);
      break;
    case "I16":
      for (let i = 0; i < n; i++) data[i] = view.getInt16(2 * i, true);
      break;
    case "U16":
      for (let i = 0; i < n; i++) data[i] = view.getUint16(2 * i, true);
      break;
    case "U32":
      for (let i = 0; i < n; i++) {
        const v = view.getUint32(4 * i, true);
        if (v > 0x7fffffff) throw outOfRange(e, i, BigInt(v));
        data[i] = v;
      }
      break;
    case "I64":
    case "U64": {
      const signed = e.fileDtype === "I64";
      for (let i = 0; i < n; i++) {
        const lo = view.getInt32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        // Fits in int32 iff the high word is the sign extension of the low word (and, unsigned, is 0).
        if (hi !== lo >> 31 || (!signed && hi !== 0)) {
          throw outOfRange(e, i, signed ? view.getBigInt64(8 * i, true) : view.getBigUint64(8 * i, true));
        }
        data[i] = lo;
      }
      break;
    }
  }
  return data;
}

/**
 * Decodes a safetensors file, validating everything before allocating tensor data.
 *
 * Dtypes read: F32, F64, I32 and BOOL as they are; F16 and BF16 widened exactly to float32;
 * U8, I8, I16, U16 widened to int32; I64, U32 and U64 narrowed to int32 when every value fits,
 * else a `"value-out-of-range"` error naming the tensor and the first value that does not.
 * Other dtypes (F8 variants and friends) are refused with `"unsupported-dtype"`.
 *
 * Rejected (each as a {@link SafetensorsError}): a file under 8 bytes; a header longer than
 * `maxHeaderBytes` (default 16 MiB; checked before anything is decoded) or than the file; a header
 * nested deeper than 128 (`"header-too-deep"`) or with more than one object or array per 8 bytes
 * (`"header-too-dense"`), both checked before JSON.parse, which such headers make slow; a header
 * that is not UTF-8, not JSON or not an object, or that repeats a key; an entry that is not an
 * object; an unknown dtype; a shape that
 * is not an array of non-negative safe integers or whose size passes 2^53 bytes; `data_offsets`
 * that are not two such integers with begin ≤ end, that run past the data, or whose length is not
 * numel × itemsize; tensors that overlap, leave holes, or leave bytes after the last one;
 * `__metadata__` that is not string to string; BOOL bytes other than 0/1.
 *
 * Compared with the reference reader (safetensors 0.8): stricter in rejecting a key repeated
 * within any JSON object (`"duplicate-key"`; the reference keeps the last tensor or metadata
 * entry), leading whitespace before the header's "{", headers over 16 MiB (the reference allows
 * 100 MB; `maxHeaderBytes` raises the limit) or dense in objects and arrays, and the value checks
 * above (I64 range, BOOL bytes, F8 dtypes). More lenient in reading `4.0`, `4e0` or `-0` as the integer they denote
 * and in accepting a shape with a zero dimension whatever its other dimensions (the reference
 * reports an overflow). Like the reference, unknown keys inside an entry are ignored.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = deserialize(bytes);
 * const w = tensors["w"]; // TensorRecord | undefined
 * ```
 */
export function deserialize(bytes: Uint8Array, options?: DeserializeOptions): Deserialized {
  if (!(bytes instanceof Uint8Array)) throw new ValueError("deserialize", "expects a Uint8Array");
  const maxHeaderBytes = resolveMaxHeaderBytes(options);
  const n = readHeaderLength(bytes, bytes.length, maxHeaderBytes);
  const header = parseHeader(bytes.subarray(8, 8 + n));
  const data = bytes.subarray(8 + n);

  let metadata = Object.create(null) as Record<string, string>;
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    const value = (header as Record<string, unknown>)[name]; // an own key, as in parseMetadata
    if (name === "__metadata__") metadata = parseMetadata(value);
    else entries.push(parseEntry(name, value, data.length));
  }
  checkCoverage(entries, data.length);

  const tensors = Object.create(null) as Record<string, TensorRecord>;
  for (const e of entries) tensors[e.name] = decode(e, data); // a plain key, as in parseMetadata
  return { tensors, metadata };
}
