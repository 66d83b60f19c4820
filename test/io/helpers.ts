/**
 * Test-side safetensors tools, written independently of src/io so tests do not check the reader
 * against itself: a raw file builder and a reference decoder for "what the header claims".
 */
import { expect } from "vitest";
import { SafetensorsError, type Deserialized, type SafetensorsProblemCode } from "../../src/io/index.js";

export const ITEM_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** Our reader's output dtype per file dtype. */
export const READ_AS: Readonly<Record<string, string>> = {
  BOOL: "bool", U8: "int32", I8: "int32", I16: "int32", U16: "int32", F16: "float32", BF16: "float32",
  I32: "int32", U32: "int32", F32: "float32", F64: "float64", I64: "int32", U64: "int32",
};

/** A file from a header (JSON text or a value to stringify) and data bytes; headerLength overrides N. */
export function rawFile(
  header: string | object,
  data: ArrayLike<number> = [],
  opts: { headerLength?: bigint; pad?: boolean } = {},
): Uint8Array {
  let text = typeof header === "string" ? header : JSON.stringify(header);
  if (opts.pad ?? true) text += " ".repeat((8 - (new TextEncoder().encode(text).length % 8)) % 8);
  return rawFileFromBytes(new TextEncoder().encode(text), data, opts.headerLength);
}

export function rawFileFromBytes(headerBytes: Uint8Array, data: ArrayLike<number>, headerLength?: bigint): Uint8Array {
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(Array.from(data), 8 + headerBytes.length);
  return out;
}

export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** A valid file with tensors laid out contiguously in the given order (header order = this order). */
export function buildFile(tensors: RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: [string, unknown][] = [];
  if (metadata !== undefined) header.push(["__metadata__", metadata]);
  let offset = 0;
  for (const t of tensors) {
    header.push([t.name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] }]);
    offset += t.bytes.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const t of tensors) {
    data.set(t.bytes, at);
    at += t.bytes.length;
  }
  return rawFile(headerText(header), data);
}

/** JSON object text from ordered entries (so `__proto__` keys and order are kept literally). */
export function headerText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

/** Asserts that `fn` throws a SafetensorsError with this code whose message names the tensor. */
export function expectProblem(fn: () => unknown, code: SafetensorsProblemCode, tensor?: string): SafetensorsError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a SafetensorsError").toBeInstanceOf(SafetensorsError);
  const err = caught as SafetensorsError;
  expect(err.code).toBe(code);
  expect(err.problem.length).toBeGreaterThan(0);
  expect(err.message).toContain(err.problem);
  if (tensor !== undefined) {
    expect(err.tensor).toBe(tensor);
    expect(err.message).toContain(JSON.stringify(tensor).slice(0, 100));
  }
  return err;
}

function float16ToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function bfloat16ToNumber(h: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, h << 16);
  return v.getFloat32(0);
}

/**
 * Checks a successful deserialize result against the header of `bytes`, decoded independently:
 * same names, dtype per file dtype, same shapes, data length = product of the shape, and data equal
 * to the bytes at the claimed offsets (bit-exact for F32/F64/I32/BOOL, value-exact when widened).
 */
export function checkMatchesHeader(bytes: Uint8Array, result: Deserialized): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const dataStart = 8 + n;
  const names = Object.keys(header).filter((k) => k !== "__metadata__").sort();
  expect(Object.keys(result.tensors).sort()).toEqual(names);
  expect(Object.getPrototypeOf(result.tensors)).toBe(null);
  expect(Object.getPrototypeOf(result.metadata)).toBe(null);
  for (const name of names) {
    const entry = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const t = result.tensors[name]!;
    expect(t.dtype).toBe(READ_AS[entry.dtype]);
    expect(t.shape).toEqual(entry.shape.map((d) => d + 0));
    // + 0: a header may say -0 for a dim (JSON allows it), which the reader takes as 0
    const numel = entry.shape.reduce((a, b) => a * b, 1) + 0;
    expect(t.data.length).toBe(numel);
    const [begin, end] = entry.data_offsets;
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    const rv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = ITEM_SIZE[entry.dtype]!;
    expect(raw.length).toBe(numel * size);
    switch (entry.dtype) {
      case "F32":
      case "F64":
      case "I32":
      case "BOOL":
        expect(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(raw);
        break;
      default:
        for (let i = 0; i < numel; i++) {
          const got = t.data[i]!;
          const want = referenceValue(entry.dtype, rv, i);
          if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
          else expect(Object.is(got, want), `${name}[${i}]: ${got} vs ${want}`).toBe(true);
        }
    }
  }
}

function referenceValue(dtype: string, rv: DataView, i: number): number {
  switch (dtype) {
    case "U8": return rv.getUint8(i);
    case "I8": return rv.getInt8(i);
    case "I16": return rv.getInt16(2 * i, true);
    case "U16": return rv.getUint16(2 * i, true);
    case "F16": return float16ToNumber(rv.getUint16(2 * i, true));
    case "BF16": return bfloat16ToNumber(rv.getUint16(2 * i, true));
    case "U32": return rv.getUint32(4 * i, true);
    case "I64": return Number(rv.getBigInt64(8 * i, true));
    case "U64": return Number(rv.getBigUint64(8 * i, true));
    default: throw new Error(`no reference for ${dtype}`);
  }
}
