/** One test (or more) per validation rule: each must raise SafetensorsError naming the tensor and problem. */
import { describe, expect, it } from "vitest";
import { ValueError } from "../../src/errors.js";
import { DEFAULT_MAX_HEADER_BYTES, deserialize, serialize, type DeserializeOptions } from "../../src/io/index.js";
import { buildFile, expectProblem, headerText, rawFile, rawFileFromBytes } from "./helpers.js";

const f32 = (n: number) => new Uint8Array(4 * n);
const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const read = (bytes: Uint8Array, opts?: DeserializeOptions) => () => deserialize(bytes, opts);
const valid = () => serialize({ a: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } });

describe("file and header length", () => {
  it("rejects files shorter than 8 bytes", () => {
    for (let n = 0; n < 8; n++) expectProblem(read(new Uint8Array(n)), "file-too-short");
  });

  it("rejects a header length above maxHeaderBytes before looking at the header", () => {
    expectProblem(read(rawFileFromBytes(new Uint8Array(0), [], 2n ** 64n - 1n)), "header-too-large");
    expectProblem(read(rawFileFromBytes(new Uint8Array(0), [], 100_000_001n)), "header-too-large");
    // The header is garbage (invalid UTF-8) and larger than the limit: the limit must win.
    const garbage = rawFileFromBytes(new Uint8Array(64).fill(0xff), []);
    const err = expectProblem(read(garbage, { maxHeaderBytes: 63 }), "header-too-large");
    expect(err.problem).toContain("64");
    expectProblem(read(valid(), { maxHeaderBytes: 8 }), "header-too-large");
    expect(() => deserialize(valid(), { maxHeaderBytes: -1 })).toThrow(ValueError);
  });

  it("refuses by default a header over 16 MiB, valid or not, before decoding it", () => {
    // The old default (100 MB, the reference's) let a 95 MB header take 10 s to parse.
    const header = `{"__metadata__":{"big":"${"x".repeat(DEFAULT_MAX_HEADER_BYTES)}"}}`;
    expect(DEFAULT_MAX_HEADER_BYTES).toBe(16 * 2 ** 20);
    const big = rawFile(header);
    const err = expectProblem(read(big), "header-too-large");
    expect(err.problem).toContain(String(DEFAULT_MAX_HEADER_BYTES));
    // the option raises it for a trusted file
    expect(deserialize(big, { maxHeaderBytes: 2 * DEFAULT_MAX_HEADER_BYTES }).metadata["big"]).toHaveLength(DEFAULT_MAX_HEADER_BYTES);
  });

  it("rejects a header length that runs past the file", () => {
    const bytes = valid();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length - 7), true);
    expectProblem(read(bytes), "header-beyond-file");
    expectProblem(read(rawFileFromBytes(new Uint8Array(0), [], 1n)), "header-beyond-file");
  });
});

describe("header text", () => {
  it("rejects invalid UTF-8", () => {
    const head = new TextEncoder().encode(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`);
    head[3] = 0xc3; // a lone lead byte inside the name
    expectProblem(read(rawFileFromBytes(head, f32(1))), "header-not-utf8");
    const overlong = Uint8Array.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]); // {"<overlong />>":1}
    expectProblem(read(rawFileFromBytes(overlong, [])), "header-not-utf8");
  });

  it("rejects text that is not JSON, including a byte-order mark and NUL padding", () => {
    expectProblem(read(rawFile(`{"a":`)), "header-not-json");
    expectProblem(read(rawFile(`{"a":1,}`)), "header-not-json");
    expectProblem(read(rawFile(`{} {}`)), "header-not-json");
    expectProblem(read(rawFile(`{}\u0000\u0000\u0000\u0000\u0000\u0000`, [], { pad: false })), "header-not-json");
    expectProblem(read(rawFile(`{"a":NaN}`)), "header-not-json");
    const bom = rawFileFromBytes(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), []);
    expectProblem(read(bom), "header-not-object"); // does not start with "{"
  });

  it("rejects a header that is not a JSON object", () => {
    for (const h of [`[]`, `null`, `1`, `"{}"`, `  {}`, `\n{}`]) expectProblem(read(rawFile(h)), "header-not-object");
    expectProblem(read(rawFileFromBytes(new Uint8Array(0), [])), "header-not-object"); // empty header
  });

  it("rejects a key repeated in one object, at any depth, naming the tensor", () => {
    const e = (o: number[]) => JSON.stringify(entry("F32", [1], o));
    // A first, invalid entry that JSON.parse alone would silently drop.
    expectProblem(read(rawFile(`{"a":5,"a":${e([0, 4])}}`, f32(1))), "duplicate-key", "a");
    expectProblem(read(rawFile(`{"a":${e([0, 4])},"a":${e([0, 4])}}`, f32(1))), "duplicate-key", "a");
    expectProblem(read(rawFile(`{"\u0061":${e([0, 4])},"a":${e([0, 4])}}`, f32(1))), "duplicate-key", "a"); // escaped spelling
    const err = expectProblem(read(rawFile(`{"w":{"dtype":"F16","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32(1))), "duplicate-key", "w");
    expect(err.problem).toContain(`"dtype"`);
    expectProblem(read(rawFile(`{"__metadata__":{"k":"1","k":"2"}}`)), "duplicate-key", "__metadata__");
    // The same key in different objects, or as a string value, is fine.
    const ok = `{"__metadata__":{"a":"a","x":"[{\\\"a\\\":1}]"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":[{"a":1},{"a":2}]}}`;
    expect(Object.keys(deserialize(rawFile(ok, f32(1))).tensors)).toEqual(["a"]);
  });

  it("refuses JSON nested deeper than 128 (the reference's limit) before parsing it", () => {
    const deep = `{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    expectProblem(read(rawFile(deep)), "header-too-deep");
    const deepObjects = `{"a":${'{"b":'.repeat(100_000)}1${"}".repeat(100_000)}}`;
    expectProblem(read(rawFile(deepObjects)), "header-too-deep");
    // header, entry and 126 arrays in a key readers ignore: 128 levels are read, 129 are not
    const pad = `"__metadata__":{"pad":"${" ".repeat(4000)}"}`;
    const nested = (n: number) => `{${pad},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":${"[".repeat(n)}${"]".repeat(n)}}}`;
    expect(Object.keys(deserialize(rawFile(nested(126), f32(1))).tensors)).toEqual(["a"]);
    expectProblem(read(rawFile(nested(127), f32(1))), "header-too-deep");
  });

  it("refuses a header with more than one object or array per 8 bytes before parsing it", () => {
    // 3 bytes of text per array, 40 of memory and about 200 ns of JSON.parse each: slow and big
    const dense = (n: number) => `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":[${Array(n).fill("[]").join(",")}]}}`;
    const err = expectProblem(read(rawFile(dense(100_000), f32(1))), "header-too-dense");
    expect(err.problem).toMatch(/more than one per 8 bytes/);
    expect(Object.keys(deserialize(rawFile(dense(3), f32(1))).tensors)).toEqual(["a"]);
    // the smallest valid entries (3 containers in about 50 bytes) are nowhere near the limit
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [String(i), entry("BOOL", [], [i, i + 1])]));
    expect(Object.keys(deserialize(rawFile(many, new Uint8Array(2000))).tensors)).toHaveLength(2000);
  });
});

describe("entries", () => {
  it("rejects an entry that is not an object", () => {
    for (const v of [5, "x", null, [1, 2], true]) expectProblem(read(rawFile({ t: v })), "entry-not-object", "t");
  });

  it("rejects unknown dtypes and names the unsupported ones", () => {
    for (const d of ["F31", "f32", "float32", "", "__proto__", "constructor", "toString", 5, null, ["F32"]]) {
      const err = expectProblem(read(rawFile({ t: entry(d as string, [1], [0, 4]) }, f32(1))), "unknown-dtype", "t");
      expect(err.problem).toContain("dtype");
    }
    expectProblem(read(rawFile({ t: { shape: [1], data_offsets: [0, 4] } }, f32(1))), "unknown-dtype", "t");
    expectProblem(read(rawFile({ t: entry("F8_E4M3", [1], [0, 1]) }, [0])), "unsupported-dtype", "t");
  });

  it("rejects a shape that is not an array of non-negative safe integers", () => {
    const shapes: unknown[] = [undefined, null, 4, "4", {}, [-1], [1.5], ["2"], [null], [2 ** 53], [1e308], [[2]], [true]];
    for (const s of shapes) expectProblem(read(rawFile({ t: entry("F32", s, [0, 4]) }, f32(1))), "bad-shape", "t");
  });

  it("rejects a shape whose byte size passes 2^53 without overflowing", () => {
    for (const s of [[2 ** 26, 2 ** 26, 2 ** 26], [2 ** 53 - 1, 2], [2 ** 52, 2 ** 52, 2 ** 52, 2 ** 52], Array(64).fill(2 ** 20)]) {
      expectProblem(read(rawFile({ t: entry("F64", s, [0, 8]) }, new Uint8Array(8))), "shape-overflow", "t");
    }
    // A zero dimension makes the product 0, however large the others: that is a valid empty tensor.
    const ok = deserialize(rawFile({ t: entry("F32", [2 ** 53 - 1, 0, 2 ** 53 - 1], [0, 0]) }));
    expect(ok.tensors["t"]!.data.length).toBe(0);
  });

  it("normalises -0 in shapes and offsets to 0", () => {
    const out = deserialize(rawFile(`{"t":{"dtype":"F32","shape":[-0,3],"data_offsets":[-0,0]}}`));
    expect(Object.is(out.tensors["t"]!.shape[0], 0)).toBe(true);
  });

  it("rejects data_offsets that are not two non-negative safe integers with begin <= end", () => {
    const bad: unknown[] = [undefined, null, 4, [0], [0, 4, 8], [-4, 0], [0, -4], [0.5, 4.5], ["0", "4"], [0, 2 ** 53], [4, 0], [null, 4]];
    for (const o of bad) expectProblem(read(rawFile({ t: entry("F32", [1], o) }, f32(1))), "bad-offsets", "t");
  });

  it("rejects data_offsets that run past the data buffer", () => {
    expectProblem(read(rawFile({ t: entry("F32", [2], [0, 8]) }, f32(1))), "offsets-beyond-data", "t");
    expectProblem(read(rawFile({ t: entry("F32", [2], [2 ** 40, 2 ** 40 + 8]) }, f32(2))), "offsets-beyond-data", "t");
  });

  it("rejects a byte range whose length is not numel * itemsize", () => {
    expectProblem(read(rawFile({ t: entry("F32", [3], [0, 8]) }, f32(2))), "size-mismatch", "t");
    expectProblem(read(rawFile({ t: entry("F64", [1], [0, 4]) }, f32(1))), "size-mismatch", "t");
    expectProblem(read(rawFile({ t: entry("F32", [], [0, 0]) })), "size-mismatch", "t"); // a scalar has one element
  });
});

describe("coverage of the data buffer", () => {
  it("rejects overlapping tensors and names both", () => {
    const err = expectProblem(
      read(rawFile(headerText([["a", entry("F32", [2], [0, 8])], ["b", entry("F32", [2], [4, 12])]]), f32(3))),
      "overlap",
      "b",
    );
    expect(err.message).toContain(`"a"`);
    // Two names for the same bytes.
    expectProblem(read(rawFile(headerText([["a", entry("F32", [1], [0, 4])], ["b", entry("F32", [1], [0, 4])]]), f32(1))), "overlap");
    // An empty tensor placed strictly inside another one.
    expectProblem(read(rawFile(headerText([["a", entry("F32", [2], [0, 8])], ["z", entry("F32", [0], [4, 4])]]), f32(2))), "overlap", "z");
  });

  it("accepts empty tensors at a tensor boundary", () => {
    const out = deserialize(rawFile(headerText([["a", entry("F32", [1], [0, 4])], ["z", entry("F32", [0], [4, 4])], ["y", entry("BOOL", [0], [0, 0])]]), f32(1)));
    expect(Object.keys(out.tensors).sort()).toEqual(["a", "y", "z"]);
  });

  it("rejects holes between or before tensors", () => {
    expectProblem(read(rawFile(headerText([["a", entry("F32", [1], [0, 4])], ["b", entry("F32", [1], [8, 12])]]), f32(3))), "hole", "b");
    expectProblem(read(rawFile({ a: entry("F32", [1], [4, 8]) }, f32(2))), "hole", "a");
  });

  it("rejects bytes after the last tensor", () => {
    const bytes = valid();
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expectProblem(read(longer), "trailing-bytes");
    expectProblem(read(rawFile({}, [0])), "trailing-bytes");
    expectProblem(read(rawFile({ __metadata__: {} }, [1, 2, 3])), "trailing-bytes");
  });
});

describe("metadata", () => {
  it("rejects __metadata__ that is not an object of strings", () => {
    for (const m of ["pt", 5, [], ["a"], true]) expectProblem(read(rawFile({ __metadata__: m })), "bad-metadata");
    for (const v of [1, null, { nested: "x" }, ["x"], true]) {
      const err = expectProblem(read(rawFile({ __metadata__: { format: "pt", key: v } })), "bad-metadata");
      expect(err.problem).toContain(`"key"`);
    }
  });

  it("keeps metadata keys such as __proto__ as plain keys", () => {
    const out = deserialize(rawFile(`{"__metadata__":{"__proto__":"x","constructor":"y"}}`));
    expect(Object.getPrototypeOf(out.metadata)).toBe(null);
    expect(out.metadata["__proto__"]).toBe("x");
    expect(out.metadata["constructor"]).toBe("y");
  });
});

describe("values", () => {
  const i64 = (values: bigint[], dtype = "I64") => {
    const data = new Uint8Array(8 * values.length);
    const dv = new DataView(data.buffer);
    values.forEach((v, i) => (dtype === "I64" ? dv.setBigInt64(8 * i, v, true) : dv.setBigUint64(8 * i, v, true)));
    return rawFile({ big: entry(dtype, [values.length], [0, data.length]) }, data);
  };

  it("narrows I64/U64/U32 to int32 when every value fits, else names the tensor and value", () => {
    expect(Array.from(deserialize(i64([0n, -1n, 2147483647n, -2147483648n])).tensors["big"]!.data)).toEqual([0, -1, 2147483647, -2147483648]);
    for (const v of [2147483648n, -2147483649n, 2n ** 62n, -(2n ** 63n), 4294967295n]) {
      const err = expectProblem(read(i64([1n, v])), "value-out-of-range", "big");
      expect(err.problem).toContain(`${v}`);
      expect(err.problem).toContain("element 1");
    }
    expect(Array.from(deserialize(i64([5n, 2147483647n], "U64")).tensors["big"]!.data)).toEqual([5, 2147483647]);
    expectProblem(read(i64([2n ** 64n - 1n], "U64")), "value-out-of-range", "big");
    expectProblem(read(i64([2n ** 31n], "U64")), "value-out-of-range", "big");
    const u32 = new Uint8Array(8);
    new DataView(u32.buffer).setUint32(4, 2 ** 31, true);
    expectProblem(read(rawFile({ u: entry("U32", [2], [0, 8]) }, u32)), "value-out-of-range", "u");
  });

  it("rejects BOOL bytes other than 0 and 1", () => {
    expectProblem(read(rawFile({ m: entry("BOOL", [3], [0, 3]) }, [1, 0, 2])), "bad-bool", "m");
  });
});

describe("names", () => {
  it("treats __proto__, constructor and toString as plain tensor names", () => {
    const bytes = buildFile([
      { name: "__proto__", dtype: "F32", shape: [1], bytes: new Uint8Array(new Float32Array([1]).buffer) },
      { name: "constructor", dtype: "I32", shape: [1], bytes: new Uint8Array(new Int32Array([2]).buffer) },
      { name: "toString", dtype: "U8", shape: [1], bytes: Uint8Array.from([3]) },
    ]);
    const { tensors } = deserialize(bytes);
    expect(Object.getPrototypeOf(tensors)).toBe(null);
    expect(Object.keys(tensors).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(tensors["__proto__"]!.data[0]).toBe(1);
    expect(tensors["constructor"]!.data[0]).toBe(2);
    expect(tensors["toString"]!.data[0]).toBe(3);
    expect(({} as Record<string, unknown>)["shape"]).toBeUndefined(); // no prototype was polluted
  });

  it("ignores a polluted Object.prototype when reading entries", () => {
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto["data_offsets"] = [0, 4];
    try {
      expectProblem(read(rawFile({ t: { dtype: "F32", shape: [1] } }, f32(1))), "bad-offsets", "t");
    } finally {
      delete proto["data_offsets"];
    }
  });

  it("cuts a huge hostile name in the message but keeps it whole in .tensor", () => {
    const name = "x".repeat(100_000);
    const err = expectProblem(read(rawFile({ [name]: 5 })), "entry-not-object");
    expect(err.tensor).toBe(name);
    expect(err.message.length).toBeLessThan(400);
  });
});
