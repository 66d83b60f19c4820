/**
 * Shared by the ONNX export tests: run an exported model in ONNX Runtime (onnxruntime-node, CPU)
 * and compare it with safegrad's eval forward; a small protobuf reader to look inside the bytes.
 */
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import { Module, noGrad, Tensor, type DType } from "../../src/index.js";
import { exportOnnx, type ExportOnnxOptions } from "../../src/onnx.js";

/** A module whose forward is a function (for ops and functional layers). */
export class Fn extends Module<Tensor[], Tensor> {
  readonly #f: (...xs: Tensor[]) => Tensor;
  constructor(f: (...xs: Tensor[]) => Tensor) {
    super();
    this.#f = f;
  }
  forward(...xs: Tensor[]): Tensor {
    return this.#f(...xs);
  }
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" };

export function toOrt(t: Tensor): ort.Tensor {
  const data = t.toTypedArray();
  if (t.dtype === "bool") return new ort.Tensor("bool", Uint8Array.from(data), [...t.shape]);
  return new ort.Tensor(ORT_TYPE[t.dtype] as "float32", data as Float32Array, [...t.shape]);
}

export type OrtOptions = ort.InferenceSession.SessionOptions;

/** A session on the bytes (graph optimizations "all", ONNX Runtime's default, unless told). */
export function session(bytes: Uint8Array, options: OrtOptions = {}): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", logSeverityLevel: 3, ...options });
}

/** Run the bytes on named inputs; the outputs in the graph's order. */
export async function runOnnx(bytes: Uint8Array | ort.InferenceSession, feeds: Record<string, Tensor>): Promise<ort.Tensor[]> {
  const s = bytes instanceof Uint8Array ? await session(bytes) : bytes;
  const r = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
  return s.outputNames.map((n) => r[n]!);
}

/**
 * The worst difference of `got` from `ref`, relative to the largest magnitude of `ref` in the same
 * sample (row of dim 0; the whole tensor for a 0-d or 1-D output): an elementwise relative error is
 * meaningless for outputs near 0, whose float32 rounding is relative to the terms summed.
 */
export function worstRelative(ref: Tensor, got: ArrayLike<number>): number {
  const r = ref.toTypedArray() as ArrayLike<number>;
  expect(got.length).toBe(r.length);
  const rows = ref.ndim >= 2 ? ref.shape[0]! : 1;
  const per = rows === 0 ? 0 : r.length / rows;
  let worst = 0;
  for (let s = 0; s < rows; s++) {
    let scale = 0;
    let diff = 0;
    for (let i = s * per; i < (s + 1) * per; i++) {
      const a = Number(r[i]!);
      const b = Number(got[i]!);
      if (Number.isNaN(a) || Number.isNaN(b)) {
        if (!(Number.isNaN(a) && Number.isNaN(b))) return Infinity;
        continue;
      }
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        if (a !== b) return Infinity;
        continue;
      }
      scale = Math.max(scale, Math.abs(a));
      diff = Math.max(diff, Math.abs(a - b));
    }
    if (diff > 0) worst = Math.max(worst, diff / (scale || 1));
  }
  return worst;
}

/** Any module, whatever its forward's arguments. */
export type AnyModel = Module<never[], unknown>;

/** The tensors of a forward's result, nested arrays and records flattened in order, nulls skipped (as the exporter). */
export function flatTensors(v: unknown): Tensor[] {
  if (v instanceof Tensor) return [v];
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.flatMap(flatTensors);
  return Object.values(v as Record<string, unknown>).flatMap(flatTensors);
}

/** safegrad's eval forward (the model's training flag restored), its outputs flattened. */
export function evalForward(model: AnyModel, inputs: readonly Tensor[]): Tensor[] {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    return flatTensors(noGrad(() => (model.forward as (...a: Tensor[]) => unknown)(...inputs)));
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

export interface CompareOptions extends ExportOnnxOptions {
  /** Batch sizes to run (default [1, 17]). */
  batches?: readonly number[];
  /** Allowed worst relative difference (default 1e-5 for float32, 1e-12 for float64). */
  tol?: number;
  /** ONNX Runtime session options (default: graph optimizations "all"). */
  ort?: OrtOptions | undefined;
}

/**
 * Export `model` (at the example batch size 1 from `make(1)`), run it in ONNX Runtime at each batch
 * size on `make(n)`, compare every output with safegrad's, and return the worst relative
 * difference seen (checked against the tolerance).
 */
export async function exportAndCompare(
  model: AnyModel,
  make: (n: number) => Tensor[],
  options: CompareOptions = {},
): Promise<{ worst: number; bytes: Uint8Array }> {
  const { batches = [1, 17], tol, ort: ortOptions, ...exportOptions } = options;
  const bytes = exportOnnx(model, make(1), exportOptions);
  const s = await session(bytes, ortOptions);
  let worst = 0;
  for (const n of exportOptions.dynamicBatch === false ? [1] : batches) {
    const inputs = make(n);
    const want = evalForward(model, inputs);
    const got = await runOnnx(s, Object.fromEntries(s.inputNames.map((name, i) => [name, inputs[i]!])));
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => {
      expect([...got[i]!.dims]).toEqual([...w.shape]);
      const d = worstRelative(w, got[i]!.data as ArrayLike<number>);
      const limit = tol ?? (w.dtype === "float64" ? 1e-12 : 1e-5);
      expect(d, `output ${i} at batch ${n}: worst relative difference ${d}`).toBeLessThanOrEqual(limit);
      worst = Math.max(worst, d);
    });
  }
  return { worst, bytes };
}

// ------------------------------------------------------------------ a protobuf reader

export interface Field {
  field: number;
  wire: number;
  /** varint (as bigint), fixed32/fixed64 raw bytes, or the bytes of a length-delimited field */
  value: bigint | Uint8Array;
}

/** The fields of one protobuf message, in order (a test-side reader, independent of the writer). */
export function readMessage(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[p++];
      if (b === undefined) throw new Error("truncated varint");
      r |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return r;
      shift += 7n;
    }
  };
  while (p < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const n = Number(varint());
      if (p + n > bytes.length) throw new Error("truncated field");
      out.push({ field, wire, value: bytes.subarray(p, p + n) });
      p += n;
    } else if (wire === 5) {
      out.push({ field, wire, value: bytes.subarray(p, p + 4) });
      p += 4;
    } else if (wire === 1) {
      out.push({ field, wire, value: bytes.subarray(p, p + 8) });
      p += 8;
    } else throw new Error(`wire type ${wire}`);
  }
  return out;
}

const text = new TextDecoder();
export const str = (f: Field | undefined): string => text.decode(f?.value as Uint8Array);
export const all = (fs: Field[], n: number): Field[] => fs.filter((f) => f.field === n);
export const one = (fs: Field[], n: number): Field | undefined => fs.find((f) => f.field === n);
export const sub = (f: Field | undefined): Field[] => readMessage(f!.value as Uint8Array);

/** A summary of a ModelProto: opset, IR version, node op types, initializer names, input/output names and dims. */
export function summarize(bytes: Uint8Array) {
  const model = readMessage(bytes);
  const graph = sub(one(model, 7));
  const opset = sub(one(model, 8));
  const valueInfo = (f: Field) => {
    const v = sub(f);
    const tensorType = sub(one(sub(one(v, 2)), 1));
    const dims = all(sub(one(tensorType, 2)), 1).map((d) => {
      const fs = sub(d);
      const value = one(fs, 1);
      return value ? Number(value.value as bigint) : one(fs, 2) ? str(one(fs, 2)) : null;
    });
    return { name: str(one(v, 1)), elemType: Number(one(tensorType, 1)!.value as bigint), dims };
  };
  return {
    irVersion: Number(one(model, 1)!.value as bigint),
    producer: str(one(model, 2)),
    opsetDomain: str(one(opset, 1)),
    opset: Number(one(opset, 2)!.value as bigint),
    ops: all(graph, 1).map((n) => str(one(sub(n), 4))),
    initializers: all(graph, 5).map((t) => str(one(sub(t), 8))),
    inputs: all(graph, 11).map(valueInfo),
    outputs: all(graph, 12).map(valueInfo),
  };
}
