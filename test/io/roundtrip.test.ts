import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DType, TypedArray } from "../../src/tensor/dtype.js";
import { deserialize, serialize, type TensorRecord, type TensorSource } from "../../src/io/index.js";
import { expectProblem, rawFile } from "./helpers.js";

const enc = (s: string) => new TextEncoder().encode(s);

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(Array.from(p), at);
    at += p.length;
  }
  return out;
}

function u64(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return Array.from(b);
}

const ARRAY: Record<DType, { size: number; make: (buf: ArrayBuffer) => TypedArray }> = {
  float32: { size: 4, make: (b) => new Float32Array(b) },
  float64: { size: 8, make: (b) => new Float64Array(b) },
  int32: { size: 4, make: (b) => new Int32Array(b) },
  bool: { size: 1, make: (b) => new Uint8Array(b) },
};

/** A record whose data covers every bit pattern (NaN payloads, -0, subnormals) for its dtype. */
const recordArb: fc.Arbitrary<TensorRecord> = fc
  .record({
    dtype: fc.constantFrom<DType>("float32", "float64", "int32", "bool"),
    shape: fc.array(fc.nat({ max: 3 }), { maxLength: 4 }),
  })
  .chain(({ dtype, shape }) => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const { size, make } = ARRAY[dtype];
    const bytes =
      dtype === "bool"
        ? fc.array(fc.constantFrom(0, 1), { minLength: numel, maxLength: numel }).map((a) => Uint8Array.from(a))
        : fc.uint8Array({ minLength: numel * size, maxLength: numel * size });
    return bytes.map((b) => ({ dtype, shape, data: make(b.slice().buffer) }));
  });

const nameArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "", "0", "01", "a.b.c", "__metadata"),
).filter((s) => s !== "__metadata__");

const metadataArb = fc
  .array(fc.tuple(fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("__proto__", "format")), fc.string({ unit: "binary" })), { maxLength: 4 })
  .map((pairs) => new Map(pairs));

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe("serialize/deserialize round trip", () => {
  it("keeps names, dtypes, shapes and every bit of random tensors", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(nameArb, recordArb), { selector: ([n]) => n, maxLength: 6 }), metadataArb, (pairs, metadata) => {
        const input = new Map(pairs);
        const bytes = serialize(input, { metadata });
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0);
        const out = deserialize(bytes);
        expect(Object.getPrototypeOf(out.tensors)).toBe(null);
        expect(Object.keys(out.tensors).sort()).toEqual([...input.keys()].sort());
        for (const [name, rec] of input) {
          expect(Object.hasOwn(out.tensors, name)).toBe(true);
          const got = out.tensors[name]!;
          expect(got.dtype).toBe(rec.dtype);
          expect(got.shape).toEqual(rec.shape);
          expect(got.data.constructor).toBe(rec.data.constructor);
          expect(bytesOf(got.data)).toEqual(bytesOf(rec.data));
        }
        expect(Object.getPrototypeOf(out.metadata)).toBe(null);
        expect(Object.entries(out.metadata).sort()).toEqual([...metadata].sort());
      }),
      { numRuns: 400 },
    );
  });

  it("accepts a plain record, a null-prototype record and TensorSource objects", () => {
    const src: TensorSource = { dtype: "float64", shape: [2], toTypedArray: () => new Float64Array([1.5, -2]) };
    const rec = Object.create(null) as Record<string, TensorRecord | TensorSource>;
    rec["__proto__"] = { dtype: "int32", shape: [], data: new Int32Array([7]) };
    rec["constructor"] = src;
    const out = deserialize(serialize(rec));
    expect(Array.from(out.tensors["__proto__"]!.data)).toEqual([7]);
    expect(out.tensors["__proto__"]!.shape).toEqual([]);
    expect(Array.from(out.tensors["constructor"]!.data)).toEqual([1.5, -2]);
    const plain = deserialize(serialize({ w: src }));
    expect(Array.from(plain.tensors["w"]!.data)).toEqual([1.5, -2]);
  });

  it("reads data from a subarray view and from a Uint8Array at a non-zero byteOffset", () => {
    const backing = new Float32Array([9, 1, 2, 3, 9]);
    const bytes = serialize({ x: { dtype: "float32", shape: [3], data: backing.subarray(1, 4) } });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const out = deserialize(shifted.subarray(3));
    expect(Array.from(out.tensors["x"]!.data)).toEqual([1, 2, 3]);
  });
});

describe("serialize layout matches the reference implementation", () => {
  it("writes the documented example byte for byte (header of exactly 64 bytes: no padding)", () => {
    const bytes = serialize({ "attn.0": { dtype: "float32", shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    const header = `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`;
    expect(header.length).toBe(64);
    expect(bytes).toEqual(concat(u64(64), enc(header), new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer)));
  });

  it("pads the header with spaces to a multiple of 8", () => {
    expect(serialize({})).toEqual(concat(u64(8), enc("{}      ")));
    expect(serialize({}, { metadata: { framework: "pt" } })).toEqual(
      concat(u64(40), enc(`{"__metadata__":{"framework":"pt"}}     `)),
    );
    const bytes = serialize({ attn0: { dtype: "float32", shape: [1, 1, 2, 3], data: new Float32Array(6) } });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(72);
    expect(new TextDecoder().decode(bytes.subarray(8, 80)).endsWith("}}       ")).toBe(true);
  });

  it("orders tensors by descending alignment, then by code point", () => {
    const t = (dtype: DType): TensorRecord => ({ dtype, shape: [1], data: ARRAY[dtype].make(new ArrayBuffer(ARRAY[dtype].size)) });
    const bytes = serialize(new Map([["b", t("bool")], ["i", t("int32")], ["\u{1F600}", t("float32")], ["\uFFFD", t("float32")], ["d", t("float64")]]));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))))) as Record<string, { data_offsets: number[] }>;
    const order = Object.entries(header).sort((a, b) => a[1].data_offsets[0]! - b[1].data_offsets[0]!).map(([k]) => k);
    expect(order).toEqual(["d", "\uFFFD", "\u{1F600}", "i", "b"]); // U+FFFD < U+1F600 though "\uFFFD" > "\uD83D" in UTF-16
  });

  it("writes names and metadata with non-ASCII and control characters exactly", () => {
    const name = 'a"b\\c\n\u0000\u00e9\u{1F9EA}';
    const out = deserialize(serialize({ [name]: { dtype: "bool", shape: [0], data: new Uint8Array(0) } }, { metadata: { [name]: name } }));
    expect(Object.keys(out.tensors)).toEqual([name]);
    expect(out.metadata[name]).toBe(name);
  });

  it("reads a header whose padding is spaces and accepts `__metadata__: null`", () => {
    const out = deserialize(rawFile(`{"__metadata__":null,"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}   `, [3, 250], { pad: false }));
    expect(Array.from(out.tensors["x"]!.data)).toEqual([3, 250]);
    expect(Object.keys(out.metadata)).toEqual([]);
  });
});

describe("serialize rejects bad input", () => {
  it.each([
    ["data length differs from the shape", { x: { dtype: "float32", shape: [2, 2], data: new Float32Array(3) } }],
    ["typed array does not match dtype", { x: { dtype: "float32", shape: [2], data: new Float64Array(2) } }],
    ["int32 given as Uint8Array", { x: { dtype: "int32", shape: [2], data: new Uint8Array(2) } }],
    ["bool byte other than 0/1", { x: { dtype: "bool", shape: [2], data: new Uint8Array([1, 2]) } }],
    ["negative dimension", { x: { dtype: "float32", shape: [-1], data: new Float32Array(0) } }],
    ["fractional dimension", { x: { dtype: "float32", shape: [1.5], data: new Float32Array(1) } }],
    ["unknown dtype", { x: { dtype: "int64", shape: [1], data: new Int32Array(1) } }],
    ["not a record", { x: 5 }],
    ["reserved name", { __metadata__: { dtype: "float32", shape: [], data: new Float32Array(1) } }],
    ["lone surrogate in the name", { "\uD800": { dtype: "float32", shape: [], data: new Float32Array(1) } }],
  ])("%s", (_label, tensors) => {
    expectProblem(() => serialize(tensors as never), "bad-input");
  });

  it("rejects non-string metadata values", () => {
    expectProblem(() => serialize({}, { metadata: { a: 1 } as never }), "bad-input");
  });

  it("accepts a zero-size tensor with huge other dimensions", () => {
    const out = deserialize(serialize({ z: { dtype: "float32", shape: [2 ** 52, 0, 2 ** 52], data: new Float32Array(0) } }));
    expect(out.tensors["z"]!.shape).toEqual([2 ** 52, 0, 2 ** 52]);
    expect(out.tensors["z"]!.data.length).toBe(0);
  });
});
