/**
 * Fuzzing deserialize with mutated valid files. Every case must either throw SafetensorsError or
 * return tensors that agree with what the (possibly mutated) header claims, checked by an
 * independent decoder (helpers.checkMatchesHeader). Anything else, any other error type, fails.
 *
 * Cases: STRUCTURED_RUNS + BYTE_RUNS + RANDOM_RUNS (see the constants; 13,000 in all).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deserialize, SafetensorsError, serialize, type TensorRecord } from "../../src/io/index.js";
import { checkMatchesHeader, headerText, ITEM_SIZE, rawFile } from "./helpers.js";

const STRUCTURED_RUNS = 8_000;
const BYTE_RUNS = 3_000;
const RANDOM_RUNS = 2_000;

const FILE_DTYPES = Object.keys(ITEM_SIZE);

/** Deserialize; rethrow anything that is not a SafetensorsError, check successes against the header. */
function mustBehave(bytes: Uint8Array, counts?: { ok: number; rejected: number }): void {
  let result;
  try {
    result = deserialize(bytes, { maxHeaderBytes: 1 << 20 });
  } catch (e) {
    if (e instanceof SafetensorsError) {
      if (counts) counts.rejected++;
      return;
    }
    throw e;
  }
  if (counts) counts.ok++;
  checkMatchesHeader(bytes, result);
}

// ---------------------------------------------------------------------------------------------
// Valid base files with every readable dtype, laid out in an order other than header order.

interface BaseTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

function valuesToBytes(dtype: string, values: bigint[]): Uint8Array {
  const size = ITEM_SIZE[dtype]!;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (size === 8) dv.setBigUint64(8 * i, BigInt.asUintN(64, v), true);
    else if (size === 4) dv.setUint32(4 * i, Number(BigInt.asUintN(32, v)), true);
    else if (size === 2) dv.setUint16(2 * i, Number(BigInt.asUintN(16, v)), true);
    else dv.setUint8(i, Number(BigInt.asUintN(8, v)));
  });
  return out;
}

const nameArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }),
  fc.constantFrom("__proto__", "constructor", "toString", "w", "b", "0", "layer.1.weight"),
).filter((n) => n !== "__metadata__");

const tensorArb: fc.Arbitrary<BaseTensor> = fc
  .record({ name: nameArb, dtype: fc.constantFrom(...FILE_DTYPES), shape: fc.array(fc.nat({ max: 3 }), { maxLength: 3 }) })
  .chain(({ name, dtype, shape }) => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const size = ITEM_SIZE[dtype]!;
    const raw = fc.uint8Array({ minLength: numel * size, maxLength: numel * size });
    // Integer and bool tensors mostly hold values the reader accepts, so mutations reach deeper.
    const inRange =
      dtype === "BOOL"
        ? fc.array(fc.constantFrom(0n, 1n), { minLength: numel, maxLength: numel })
        : fc.array(fc.bigInt({ min: dtype.startsWith("U") ? 0n : -(2n ** 31n), max: 2n ** 31n - 1n }), { minLength: numel, maxLength: numel });
    const bytes = ["BOOL", "I64", "U64", "U32"].includes(dtype)
      ? fc.oneof({ weight: 4, arbitrary: inRange.map((v) => valuesToBytes(dtype, v)) }, { weight: 1, arbitrary: raw })
      : raw;
    return bytes.map((b) => ({ name, dtype, shape, bytes: b }));
  });

interface Base {
  entries: [string, unknown][];
  data: Uint8Array;
  pad: boolean;
}

const baseArb: fc.Arbitrary<Base> = fc
  .record({
    tensors: fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 5 }),
    headerOrder: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }), { nil: undefined }),
    pad: fc.boolean(),
  })
  .map(({ tensors, headerOrder, metadata, pad }) => {
    let offset = 0;
    const placed = tensors.map((t, i) => {
      const e = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
      offset += t.bytes.length;
      return { key: headerOrder[i] ?? 0, entry: [t.name, e] as [string, unknown] };
    });
    const data = new Uint8Array(offset);
    let at = 0;
    for (const t of tensors) {
      data.set(t.bytes, at);
      at += t.bytes.length;
    }
    const entries = placed.sort((a, b) => a.key - b.key).map((p) => p.entry);
    if (metadata !== undefined) entries.unshift(["__metadata__", metadata]);
    return { entries, data, pad };
  });

// ---------------------------------------------------------------------------------------------
// Mutations

const hostileShape = fc.oneof(
  fc.constantFrom<unknown>([2 ** 53], [-1], [1.5], [1e308], [2 ** 26, 2 ** 26, 2 ** 26], [], [0], [2 ** 31, 2 ** 31], "3", null, {}, [[1]], [true], Array(40).fill(2)),
  fc.array(fc.integer({ min: -2, max: 9 }), { maxLength: 4 }),
  fc.array(fc.double(), { maxLength: 3 }),
  fc.array(fc.nat({ max: 2 ** 53 + 2 }), { maxLength: 3 }),
);
const hostileOffsets = fc.oneof(
  fc.tuple(fc.integer({ min: -5, max: 300 }), fc.integer({ min: -5, max: 300 })),
  fc.constantFrom<unknown>([0], [0, 1, 2], [1.5, 5.5], [2 ** 53, 2 ** 53 + 8], [5, 1], ["0", "4"], null, [1e20, 1e20], [0, 2 ** 64]),
  fc.tuple(fc.double(), fc.double()),
);
const hostileDtype = fc.constantFrom<unknown>(...FILE_DTYPES, "F8_E4M3", "f32", "", "__proto__", "constructor", 5, null, "F32 ", "I128", ["F32"]);
const hostileEntry = fc.constantFrom<unknown>(5, null, "x", [], {}, true, JSON.parse(`{"__proto__":{"dtype":"F32"}}`));
const hostileMetadata = fc.constantFrom<unknown>(null, "pt", 5, [], { a: 1 }, { a: "b", c: null }, JSON.parse(`{"__proto__":"x"}`), { n: { deep: "x" } }, {});

type HeaderMutation =
  | { kind: "field"; index: number; field: "dtype" | "shape" | "data_offsets"; value: unknown }
  | { kind: "delete"; index: number; field: "dtype" | "shape" | "data_offsets" }
  | { kind: "entry"; index: number; value: unknown }
  | { kind: "metadata"; value: unknown }
  | { kind: "rename"; index: number; name: string }
  | { kind: "duplicate"; index: number }
  | { kind: "swapOffsets"; i: number; j: number }
  | { kind: "shiftOffsets"; index: number; delta: number }
  | { kind: "extraField"; index: number };

type ByteMutation =
  | { kind: "flip"; flips: [number, number][] }
  | { kind: "truncate"; at: number }
  | { kind: "append"; junk: Uint8Array }
  | { kind: "headerLength"; value: bigint }
  | { kind: "headerLengthDelta"; delta: number }
  | { kind: "textSplice"; at: number; remove: number; insert: string };

const field = fc.constantFrom("dtype" as const, "shape" as const, "data_offsets" as const);
const headerMutationArb: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc.record({ kind: fc.constant("field" as const), index: fc.nat(), field: fc.constant("dtype" as const), value: hostileDtype }),
  fc.record({ kind: fc.constant("field" as const), index: fc.nat(), field: fc.constant("shape" as const), value: hostileShape }),
  fc.record({ kind: fc.constant("field" as const), index: fc.nat(), field: fc.constant("data_offsets" as const), value: hostileOffsets }),
  fc.record({ kind: fc.constant("delete" as const), index: fc.nat(), field }),
  fc.record({ kind: fc.constant("entry" as const), index: fc.nat(), value: hostileEntry }),
  fc.record({ kind: fc.constant("metadata" as const), value: hostileMetadata }),
  fc.record({ kind: fc.constant("rename" as const), index: fc.nat(), name: fc.constantFrom("__proto__", "__metadata__", "constructor", "") }),
  fc.record({ kind: fc.constant("duplicate" as const), index: fc.nat() }),
  fc.record({ kind: fc.constant("swapOffsets" as const), i: fc.nat(), j: fc.nat() }),
  fc.record({ kind: fc.constant("shiftOffsets" as const), index: fc.nat(), delta: fc.integer({ min: -9, max: 9 }) }),
  fc.record({ kind: fc.constant("extraField" as const), index: fc.nat() }),
);
const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), flips: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 })), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), junk: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("headerLength" as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ kind: fc.constant("headerLengthDelta" as const), delta: fc.integer({ min: -16, max: 16 }) }),
  fc.record({
    kind: fc.constant("textSplice" as const),
    at: fc.nat(),
    remove: fc.nat({ max: 4 }),
    insert: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom("{", "}", "[", "]", ",", '"', ":", "-", "1e400", "\\", "\u0000", "\uFFFF", "é")),
  }),
);

function tensorEntries(entries: [string, unknown][]): number[] {
  return entries.flatMap(([k, v], i) => (k !== "__metadata__" && typeof v === "object" && v !== null && !Array.isArray(v) ? [i] : []));
}

function applyHeader(entries: [string, unknown][], m: HeaderMutation): void {
  const idx = tensorEntries(entries);
  const pick = (n: number): [string, unknown] | undefined => (idx.length === 0 ? undefined : entries[idx[n % idx.length]!]);
  const obj = (e: [string, unknown] | undefined) => e?.[1] as Record<string, unknown> | undefined;
  switch (m.kind) {
    case "field": {
      const o = obj(pick(m.index));
      if (o) o[m.field] = m.value;
      break;
    }
    case "delete": {
      const o = obj(pick(m.index));
      if (o) delete o[m.field];
      break;
    }
    case "entry": {
      const e = pick(m.index);
      if (e) e[1] = m.value;
      break;
    }
    case "metadata": {
      const at = entries.findIndex(([k]) => k === "__metadata__");
      if (at >= 0) entries[at]![1] = m.value;
      else entries.push(["__metadata__", m.value]);
      break;
    }
    case "rename": {
      const e = pick(m.index);
      if (e) e[0] = m.name;
      break;
    }
    case "duplicate": {
      const e = pick(m.index);
      if (e) entries.push([e[0], structuredClone(e[1])]); // duplicate key in the JSON text
      break;
    }
    case "swapOffsets": {
      const a = obj(pick(m.i));
      const b = obj(pick(m.j));
      if (a && b) [a["data_offsets"], b["data_offsets"]] = [b["data_offsets"], a["data_offsets"]];
      break;
    }
    case "shiftOffsets": {
      const o = obj(pick(m.index));
      const off = o?.["data_offsets"];
      if (o && Array.isArray(off)) o["data_offsets"] = off.map((x) => (typeof x === "number" ? x + m.delta : x));
      break;
    }
    case "extraField": {
      const o = obj(pick(m.index));
      if (o) o["extra"] = { nested: [1, 2, 3] };
      break;
    }
  }
}

function applyBytes(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  switch (m.kind) {
    case "flip": {
      const out = bytes.slice();
      if (out.length === 0) return out;
      for (const [pos, bit] of m.flips) out[pos % out.length]! ^= 1 << bit;
      return out;
    }
    case "truncate":
      return bytes.slice(0, m.at % (bytes.length + 1));
    case "append": {
      const out = new Uint8Array(bytes.length + m.junk.length);
      out.set(bytes);
      out.set(m.junk, bytes.length);
      return out;
    }
    case "headerLength":
    case "headerLengthDelta": {
      if (bytes.length < 8) return bytes;
      const out = bytes.slice();
      const dv = new DataView(out.buffer);
      const v = m.kind === "headerLength" ? m.value : BigInt.asUintN(64, dv.getBigUint64(0, true) + BigInt(m.delta));
      dv.setBigUint64(0, v, true);
      return out;
    }
    case "textSplice": {
      if (bytes.length < 8) return bytes;
      const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
      if (8 + n > bytes.length) return bytes;
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      const at = m.at % (text.length + 1);
      const edited = new TextEncoder().encode(text.slice(0, at) + m.insert + text.slice(at + m.remove));
      const out = new Uint8Array(8 + edited.length + (bytes.length - 8 - n));
      new DataView(out.buffer).setBigUint64(0, BigInt(edited.length), true);
      out.set(edited, 8);
      out.set(bytes.subarray(8 + n), 8 + edited.length);
      return out;
    }
  }
}

function buildBase(base: Base, headerMutations: HeaderMutation[]): Uint8Array {
  const entries = structuredClone(base.entries);
  for (const m of headerMutations) applyHeader(entries, m);
  return rawFile(headerText(entries), base.data, { pad: base.pad });
}

// ---------------------------------------------------------------------------------------------

describe("deserialize fuzzing", () => {
  it("valid base files are all accepted and match their headers", () => {
    fc.assert(
      fc.property(baseArb, (base) => {
        const bytes = buildBase(base, []);
        // Base integer tensors may hold out-of-range raw bytes; everything else must load.
        try {
          checkMatchesHeader(bytes, deserialize(bytes));
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
          expect(["value-out-of-range", "bad-bool"]).toContain((e as SafetensorsError).code);
        }
      }),
      { numRuns: 300 },
    );
  });

  it(`survives ${STRUCTURED_RUNS} files with mutated headers and bytes`, () => {
    const counts = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(
        baseArb,
        fc.array(headerMutationArb, { maxLength: 3 }),
        fc.array(byteMutationArb, { maxLength: 2 }),
        (base, headerMutations, byteMutations) => {
          let bytes = buildBase(base, headerMutations);
          for (const m of byteMutations) bytes = applyBytes(bytes, m);
          mustBehave(bytes, counts);
        },
      ),
      { numRuns: STRUCTURED_RUNS },
    );
    // The fuzzer must exercise both outcomes, or it is testing nothing.
    expect(counts.ok).toBeGreaterThan(STRUCTURED_RUNS / 20);
    expect(counts.rejected).toBeGreaterThan(STRUCTURED_RUNS / 4);
  });

  it(`survives ${BYTE_RUNS} bit-flipped, truncated and extended serialize() outputs`, () => {
    const recordArb: fc.Arbitrary<TensorRecord> = fc.oneof(
      fc.float32Array({ maxLength: 6 }).map((d) => ({ dtype: "float32" as const, shape: [d.length], data: d })),
      fc.float64Array({ maxLength: 4 }).map((d) => ({ dtype: "float64" as const, shape: [1, d.length], data: d })),
      fc.int32Array({ maxLength: 6 }).map((d) => ({ dtype: "int32" as const, shape: [d.length, 1], data: d })),
      fc.array(fc.constantFrom(0, 1), { maxLength: 6 }).map((a) => ({ dtype: "bool" as const, shape: [a.length], data: Uint8Array.from(a) })),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 5 }), recordArb, { maxKeys: 4, noNullPrototype: true }),
        fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }),
        (tensors, mutations) => {
          let bytes = serialize(tensors);
          for (const m of mutations) bytes = applyBytes(bytes, m);
          mustBehave(bytes);
        },
      ),
      { numRuns: BYTE_RUNS },
    );
  });

  it(`survives ${RANDOM_RUNS} arbitrary JSON headers and random bytes`, () => {
    const header = fc.oneof(
      fc.json({ maxDepth: 3 }),
      fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })).map((d) => JSON.stringify(d)),
      fc.string({ unit: "binary", maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(header, fc.uint8Array({ maxLength: 32 })).map(([h, d]) => rawFile(h, d)),
          fc.uint8Array({ maxLength: 64 }),
        ),
        (bytes) => mustBehave(bytes),
      ),
      { numRuns: RANDOM_RUNS },
    );
  });
});
