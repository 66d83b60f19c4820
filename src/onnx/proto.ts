/**
 * The subset of ONNX's protobuf messages the exporter writes (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto), encoded with protobuf's wire format by hand: varints
 * (wire type 0), 32-bit floats (wire type 5) and length-delimited fields (wire type 2: strings,
 * bytes, nested messages and packed repeated numbers). No runtime dependency.
 *
 * Field numbers are those of onnx/onnx.proto (IR version 8). Repeated numeric fields are written
 * packed, which every conforming parser accepts (proto2 parsers read both forms).
 */
import type { DType } from "../tensor/dtype.js";

/** ONNX TensorProto.DataType values of the dtypes a safegrad tensor can hold (and int64 for shapes). */
export const ONNX_DTYPE = { float32: 1, bool: 9, int32: 6, int64: 7, float64: 11 } as const;

/** The ONNX element type of a safegrad dtype, or int64. */
export type OnnxElemType = DType | "int64";

/** An initializer or a tensor attribute: a name, dims and little-endian data. */
export interface TensorProtoSpec {
  name: string;
  dtype: OnnxElemType;
  dims: readonly number[];
  /** The elements, row-major; an int64 tensor takes numbers (exact below 2^53). */
  data: ArrayLike<number> | ArrayLike<bigint>;
}

/** A dim of a value's type: a size, a symbolic name, or unknown (null). */
export type DimSpec = number | string | null;

/** A graph input or output: a name, an element type and a shape. */
export interface ValueInfoSpec {
  name: string;
  dtype: OnnxElemType;
  shape: readonly DimSpec[];
}

/** An attribute value: a number is an int unless `float` says otherwise. */
export type AttrValue =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "tensor"; value: TensorProtoSpec };

/** A node: an op type, input and output value names ("" for an absent optional input), attributes. */
export interface NodeSpec {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  attrs: ReadonlyArray<readonly [string, AttrValue]>;
  docString?: string;
}

/** A graph. */
export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorProtoSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  docString?: string;
}

/** A model: the graph, the opset, who made it and free-form metadata. */
export interface ModelSpec {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  graph: GraphSpec;
  docString?: string;
  metadata?: ReadonlyArray<readonly [string, string]>;
}

const utf8 = new TextEncoder();

/** A growable byte buffer with protobuf's primitive encodings. */
export class ProtoWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }

  /** An unsigned varint; a negative number is written as its 64-bit two's complement (10 bytes). */
  varint(v: number | bigint): void {
    let x = typeof v === "bigint" ? v : BigInt(v);
    if (x < 0n) x = BigInt.asUintN(64, x);
    if (x < 0x80n) {
      this.#reserve(1);
      this.#buf[this.#len++] = Number(x);
      return;
    }
    this.#reserve(10);
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }

  /** A field key: (field << 3) | wire type. */
  tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  /** Raw bytes, without a length. */
  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** A varint field (int32, int64, enum). */
  intField(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  /** A 32-bit float field. */
  floatField(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.raw(b);
  }

  /** A length-delimited field holding bytes. */
  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, 2);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** A string field (UTF-8). */
  stringField(field: number, s: string): void {
    this.bytesField(field, utf8.encode(s));
  }

  /** A nested message field, written by `body` into its own buffer first (its length precedes it). */
  messageField(field: number, body: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    body(inner);
    this.bytesField(field, inner.finish());
  }

  /** A packed repeated varint field (int64s). */
  packedVarints(field: number, values: readonly number[]): void {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.bytesField(field, inner.finish());
  }

  /** A packed repeated 32-bit float field. */
  packedFloats(field: number, values: readonly number[]): void {
    const b = new Uint8Array(4 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    this.bytesField(field, b);
  }
}

/** The little-endian bytes of a tensor's elements in its ONNX element type. */
function rawData(t: TensorProtoSpec): Uint8Array {
  const n = t.data.length;
  let arr: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;
  switch (t.dtype) {
    case "float32":
      arr = Float32Array.from(t.data as ArrayLike<number>);
      break;
    case "float64":
      arr = Float64Array.from(t.data as ArrayLike<number>);
      break;
    case "int32":
      arr = Int32Array.from(t.data as ArrayLike<number>);
      break;
    case "bool":
      arr = Uint8Array.from(t.data as ArrayLike<number>, (v) => (v ? 1 : 0));
      break;
    case "int64":
      arr = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = t.data[i]!;
        arr[i] = typeof v === "bigint" ? v : BigInt(v);
      }
      break;
  }
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  // NOTE: typed arrays use the platform's byte order; ONNX raw_data is little-endian.
  if (!LITTLE_ENDIAN && arr.BYTES_PER_ELEMENT > 1) {
    const out = new Uint8Array(bytes.length);
    const k = arr.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += k) for (let j = 0; j < k; j++) out[i + j] = bytes[i + k - 1 - j]!;
    return out;
  }
  return bytes;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9. */
export function writeTensor(w: ProtoWriter, t: TensorProtoSpec): void {
  if (t.dims.length) w.packedVarints(1, t.dims);
  w.intField(2, ONNX_DTYPE[t.dtype]);
  if (t.name) w.stringField(8, t.name);
  w.bytesField(9, rawData(t));
}

/** ValueInfoProto: name = 1, type = 2 (TypeProto: tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } }). */
function writeValueInfo(w: ProtoWriter, v: ValueInfoSpec): void {
  w.stringField(1, v.name);
  w.messageField(2, (type) =>
    type.messageField(1, (tt) => {
      tt.intField(1, ONNX_DTYPE[v.dtype]);
      tt.messageField(2, (shape) => {
        for (const d of v.shape) {
          shape.messageField(1, (dim) => {
            if (typeof d === "number") dim.intField(1, d);
            else if (typeof d === "string") dim.stringField(2, d);
          });
        }
      });
    }),
  );
}

/** AttributeType enum values. */
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

/** AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, type = 20. */
function writeAttribute(w: ProtoWriter, name: string, a: AttrValue): void {
  w.stringField(1, name);
  switch (a.kind) {
    case "float":
      w.floatField(2, a.value);
      break;
    case "int":
      w.intField(3, a.value);
      break;
    case "string":
      w.stringField(4, a.value);
      break;
    case "tensor":
      w.messageField(5, (t) => writeTensor(t, a.value));
      break;
    case "floats":
      w.packedFloats(7, a.value);
      break;
    case "ints":
      w.packedVarints(8, a.value);
      break;
  }
  w.intField(20, ATTR_TYPE[a.kind]);
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, doc_string = 6. */
function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.stringField(1, i);
  for (const o of n.outputs) w.stringField(2, o);
  w.stringField(3, n.name);
  w.stringField(4, n.opType);
  for (const [name, a] of n.attrs) w.messageField(5, (aw) => writeAttribute(aw, name, a));
  if (n.docString) w.stringField(6, n.docString);
}

/** GraphProto: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12. */
function writeGraph(w: ProtoWriter, g: GraphSpec): void {
  for (const n of g.nodes) w.messageField(1, (nw) => writeNode(nw, n));
  w.stringField(2, g.name);
  for (const t of g.initializers) w.messageField(5, (tw) => writeTensor(tw, t));
  if (g.docString) w.stringField(10, g.docString);
  for (const v of g.inputs) w.messageField(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) w.messageField(12, (vw) => writeValueInfo(vw, v));
}

/**
 * ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6, graph = 7,
 * opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2), metadata_props = 14
 * (StringStringEntryProto: key = 1, value = 2).
 */
export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.intField(1, m.irVersion);
  w.stringField(2, m.producerName);
  w.stringField(3, m.producerVersion);
  if (m.docString) w.stringField(6, m.docString);
  w.messageField(7, (gw) => writeGraph(gw, m.graph));
  w.messageField(8, (ow) => {
    ow.stringField(1, "");
    ow.intField(2, m.opset);
  });
  for (const [k, v] of m.metadata ?? []) {
    w.messageField(14, (e) => {
      e.stringField(1, k);
      e.stringField(2, v);
    });
  }
  return w.finish();
}
