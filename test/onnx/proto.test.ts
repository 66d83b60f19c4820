/**
 * The hand-written protobuf encoding: varints (including 64-bit two's complement negatives), 32-bit
 * floats, length-delimited and nested fields, packed repeated numbers, raw tensor data, read back
 * with the test's own reader; and a ModelProto written from scratch that ONNX Runtime runs.
 */
import { describe, expect, it } from "vitest";
import { ProtoWriter, encodeModel, writeTensor, type ModelSpec } from "../../src/onnx/proto.js";
import { readMessage, runOnnx, summarize } from "./helpers.js";
import { tensor } from "../../src/index.js";

const bytesOf = (f: (w: ProtoWriter) => void): number[] => {
  const w = new ProtoWriter();
  f(w);
  return [...w.finish()];
};

describe("protobuf wire format", () => {
  it("varints: 7 bits a byte, low first; negatives as 10-byte two's complement", () => {
    expect(bytesOf((w) => w.varint(0))).toEqual([0]);
    expect(bytesOf((w) => w.varint(127))).toEqual([127]);
    expect(bytesOf((w) => w.varint(128))).toEqual([0x80, 1]);
    expect(bytesOf((w) => w.varint(300))).toEqual([0xac, 0x02]);
    expect(bytesOf((w) => w.varint(2 ** 35))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(bytesOf((w) => w.varint(-1))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(bytesOf((w) => w.varint(2n ** 63n - 1n))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
  });

  it("fields: key = field << 3 | wire type; floats little-endian; strings, nested messages and packed numbers length-prefixed", () => {
    expect(bytesOf((w) => w.intField(1, 8))).toEqual([0x08, 8]);
    expect(bytesOf((w) => w.floatField(2, 1))).toEqual([0x15, 0, 0, 0x80, 0x3f]);
    expect(bytesOf((w) => w.stringField(4, "Gemm"))).toEqual([0x22, 4, 0x47, 0x65, 0x6d, 0x6d]);
    expect(bytesOf((w) => w.messageField(7, (m) => m.intField(1, 1)))).toEqual([0x3a, 2, 0x08, 1]);
    expect(bytesOf((w) => w.packedVarints(8, [1, 300]))).toEqual([0x42, 3, 1, 0xac, 0x02]);
    expect(bytesOf((w) => w.packedFloats(7, [1, -2]))).toEqual([0x3a, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    // a buffer that grows past its first 256 bytes
    const long = "x".repeat(1000);
    const f = readMessage(new Uint8Array(bytesOf((w) => w.stringField(3, long))));
    expect(new TextDecoder().decode(f[0]!.value as Uint8Array)).toBe(long);
  });

  it("tensors: dims packed, the data type, the name, raw little-endian data (int64 from numbers, bool as bytes)", () => {
    const w = new ProtoWriter();
    writeTensor(w, { name: "shape", dtype: "int64", dims: [2], data: [-1, 3] });
    const f = readMessage(w.finish());
    expect(f.map((x) => x.field)).toEqual([1, 2, 8, 9]);
    expect([...(f[0]!.value as Uint8Array)]).toEqual([2]);
    expect(f[1]!.value).toBe(7n);
    const raw = f[3]!.value as Uint8Array;
    expect([...new BigInt64Array(raw.slice().buffer)]).toEqual([-1n, 3n]);
    const b = new ProtoWriter();
    writeTensor(b, { name: "", dtype: "bool", dims: [3], data: [1, 0, 1] });
    expect([...(readMessage(b.finish()).find((x) => x.field === 9)!.value as Uint8Array)]).toEqual([1, 0, 1]);
  });

  it("a ModelProto written from scratch (Add of an input and an initializer, a named dim) runs in ONNX Runtime", async () => {
    const spec: ModelSpec = {
      irVersion: 8,
      opset: 17,
      producerName: "test",
      producerVersion: "1",
      metadata: [["note", "héllo"]],
      graph: {
        name: "g",
        nodes: [{ opType: "Add", inputs: ["x", "b"], outputs: ["y"], name: "add", attrs: [] }],
        initializers: [{ name: "b", dtype: "float32", dims: [2], data: [10, 20] }],
        inputs: [{ name: "x", dtype: "float32", shape: ["n", 2] }],
        outputs: [{ name: "y", dtype: "float32", shape: ["n", 2] }],
      },
    };
    const bytes = encodeModel(spec);
    expect(summarize(bytes)).toMatchObject({ irVersion: 8, producer: "test", opset: 17, ops: ["Add"], initializers: ["b"] });
    const [y] = await runOnnx(bytes, { x: tensor([[1, 2], [3, 4], [5, 6]]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([11, 22, 13, 24, 15, 26]);
  });
});
