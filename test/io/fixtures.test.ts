/**
 * Files written from real PyTorch tensors by scripts/fixtures/safetensors.py (its header layout was
 * checked byte for byte against the official `safetensors` writer; see expected.json).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { deserialize, load, SafetensorsError, serialize } from "../../src/io/index.js";
import { checkMatchesHeader, expectProblem } from "./helpers.js";

const DIR = fileURLToPath(new URL("../../fixtures/safetensors/", import.meta.url));

interface ExpectedTensor {
  fileDtype: string;
  dtype: string;
  shape: number[];
  values: (number | string)[];
}
interface Expected {
  files: Record<
    string,
    { metadata?: Record<string, string>; tensors?: Record<string, ExpectedTensor>; error?: { tensor: string; code: string } }
  >;
}

const expected = JSON.parse(readFileSync(DIR + "expected.json", "utf8")) as Expected;

function toNumber(v: number | string): number {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return v as number;
}

describe.each(Object.entries(expected.files).filter(([, f]) => f.tensors !== undefined))("PyTorch fixture %s", (file, spec) => {
  it("decodes every tensor to the values PyTorch wrote", async () => {
    const out = await load(DIR + file);
    expect({ ...out.metadata }).toEqual(spec.metadata);
    expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(spec.tensors!).sort());
    for (const [name, want] of Object.entries(spec.tensors!)) {
      const t = out.tensors[name]!;
      expect(t.dtype, name).toBe(want.dtype);
      expect(t.shape, name).toEqual(want.shape);
      expect(t.data.length, name).toBe(want.values.length);
      want.values.forEach((v, i) => {
        const w = want.dtype === "float32" ? Math.fround(toNumber(v)) : toNumber(v);
        const got = t.data[i]!;
        expect(Number.isNaN(w) ? Number.isNaN(got) : Object.is(got, w), `${name}[${i}] = ${got}, want ${w}`).toBe(true);
      });
    }
  });

  it("matches the independent header decoder", () => {
    const bytes = new Uint8Array(readFileSync(DIR + file));
    checkMatchesHeader(bytes, deserialize(bytes));
  });
});

describe("PyTorch fixtures: compatibility details", () => {
  it("re-serializing the native-dtype file reproduces it byte for byte", () => {
    const bytes = new Uint8Array(readFileSync(DIR + "torch_native.safetensors"));
    const { tensors, metadata } = deserialize(bytes);
    expect(serialize(tensors, { metadata })).toEqual(bytes);
  });

  it("refuses an I64 tensor whose values do not fit int32, naming it and the value", () => {
    const bytes = new Uint8Array(readFileSync(DIR + "torch_i64_big.safetensors"));
    const err = expectProblem(() => deserialize(bytes), "value-out-of-range", "too_big");
    expect(err.problem).toContain("1099511627776");
    expect(err).toBeInstanceOf(SafetensorsError);
  });

  it("keeps float16 edge cases exact: subnormal, max, signed zero, NaN", async () => {
    const { tensors } = await load(DIR + "torch_mixed.safetensors");
    const half = tensors["half"]!.data;
    expect(half[4]).toBe(65504);
    expect(half[5]).toBe(2 ** -24); // 6e-8 rounds to the smallest float16 subnormal
    expect(Object.is(half[1], -0)).toBe(true);
    expect(Number.isNaN(half[9]!)).toBe(true);
  });
});
