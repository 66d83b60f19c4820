/**
 * `loadStateDict` with a real file (written with `io.save` or by hand, read with `io.loadTensors`)
 * whose names, shapes, dtypes or values do not fit the model throws a StateDictError before
 * changing anything: every parameter and buffer keeps its exact bytes. The valid tensors of a bad
 * file are not applied either (no half-loaded model).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential, StateDictError, io, manualSeed, randn, type Tensor, type TensorRecord } from "../../src/node.js";
import { buildFile } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "safegrad-statedict-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeModel(seed: number): Sequential {
  manualSeed(seed);
  const m = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new ReLU(), new Flatten(), new Linear(8, 3));
  // One training-mode batch: non-default running statistics and batch count, so a partial load of
  // the buffers would show too.
  m.forward(randn([4, 1, 4, 4]));
  return m;
}

const hex = (t: Tensor): string => {
  const a = t.toTypedArray();
  return `${t.dtype}${JSON.stringify(t.shape)}:${Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex")}`;
};
const snapshot = (m: Sequential): Array<[string, string]> => [...m.stateDict()].map(([k, t]) => [k, hex(t)]);

/** The source model's state dict as plain records, to edit before writing. */
function records(m: Sequential): Map<string, TensorRecord> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, { dtype: t.dtype, shape: [...t.shape], data: t.toTypedArray() }]));
}

let fileNo = 0;
async function write(tensors: Map<string, TensorRecord>): Promise<string> {
  const path = join(dir, `f${fileNo++}.safetensors`);
  await io.save(tensors, path);
  return path;
}

/** Loads `path` into a fresh model and expects a StateDictError with the model unchanged. */
async function expectRefused(path: string, pattern: RegExp, options?: { strict?: boolean }): Promise<StateDictError> {
  const target = makeModel(2);
  const before = snapshot(target);
  const sd = await io.loadTensors(path);
  let caught: unknown;
  try {
    target.loadStateDict(sd, options);
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a StateDictError").toBeInstanceOf(StateDictError);
  expect((caught as Error).message).toMatch(pattern);
  expect((caught as Error).message).toMatch(/nothing was loaded/);
  expect(snapshot(target)).toEqual(before);
  return caught as StateDictError;
}

describe("loadStateDict with a file that does not fit leaves the model untouched", () => {
  const source = makeModel(1);

  it("a matching file loads every tensor exactly (the baseline)", async () => {
    const path = await write(records(source));
    const target = makeModel(2);
    expect(snapshot(target)).not.toEqual(snapshot(source));
    target.loadStateDict(await io.loadTensors(path));
    expect(snapshot(target)).toEqual(snapshot(source));
  });

  it("a renamed tensor (missing + unexpected key)", async () => {
    const r = records(source);
    const w = r.get("4.weight")!;
    r.delete("4.weight");
    r.set("fc.weight", w);
    const err = await expectRefused(await write(r), /missing keys: 4\.weight[\s\S]*unexpected keys: fc\.weight/);
    expect(err.missingKeys).toEqual(["4.weight"]);
    expect(err.unexpectedKeys).toEqual(["fc.weight"]);
  });

  it("a missing buffer", async () => {
    const r = records(source);
    r.delete("1.running_var");
    await expectRefused(await write(r), /missing keys: 1\.running_var/);
  });

  it("an extra tensor", async () => {
    const r = records(source);
    r.set("5.weight", { dtype: "float32", shape: [1], data: new Float32Array([1]) });
    await expectRefused(await write(r), /unexpected keys: 5\.weight/);
  });

  it("a wrong shape (same number of elements), after valid tensors in the file", async () => {
    const r = records(source);
    const w = r.get("4.weight")!; // [3, 8]
    r.set("4.weight", { ...w, shape: [8, 3] });
    const err = await expectRefused(await write(r), /"4\.weight": shape \[8, 3\] in the state dict, \[3, 8\] in the module/);
    expect(err.mismatches.length).toBe(1);
  });

  it("a wrong shape is refused even when loading non-strictly", async () => {
    const r = records(source);
    r.set("0.bias", { dtype: "float32", shape: [3], data: new Float32Array([1, 2, 3]) });
    r.delete("1.running_mean");
    await expectRefused(await write(r), /"0\.bias": shape \[3\]/, { strict: false });
  });

  it("a wrong dtype (float64 in the file, float32 in the model)", async () => {
    const r = records(source);
    const w = r.get("0.weight")!;
    r.set("0.weight", { dtype: "float64", shape: w.shape, data: Float64Array.from(w.data) });
    await expectRefused(await write(r), /"0\.weight": dtype float64 in the state dict, float32 in the module/);
  });

  it("non-finite values", async () => {
    const r = records(source);
    const b = r.get("1.bias")!;
    const data = Float32Array.from(b.data);
    data[1] = NaN;
    r.set("1.bias", { ...b, data });
    await expectRefused(await write(r), /"1\.bias": 1 non-finite value/);
  });

  it("every problem at once is listed in one error", async () => {
    const r = records(source);
    r.delete("0.bias");
    r.set("extra", { dtype: "float32", shape: [], data: new Float32Array([0]) });
    r.set("4.bias", { dtype: "float32", shape: [4], data: new Float32Array(4) });
    const err = await expectRefused(await write(r), /missing keys: 0\.bias/);
    expect(err.unexpectedKeys).toEqual(["extra"]);
    expect(err.mismatches).toEqual([expect.stringMatching(/"4\.bias": shape \[4\]/)]);
  });

  it("a file with PyTorch's dtypes (int64 num_batches_tracked) loads; an out-of-range one is refused by the reader", async () => {
    // torch writes num_batches_tracked as I64; the reader narrows it to int32 when it fits.
    const sd = source.stateDict();
    const raw = [...sd].map(([name, t]) => {
      if (!name.endsWith("num_batches_tracked")) {
        const a = t.toTypedArray();
        return { name, dtype: "F32", shape: [...t.shape], bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) };
      }
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, BigInt(t.item()), true);
      return { name, dtype: "I64", shape: [], bytes: b };
    });
    const ok = join(dir, "torch-dtypes.safetensors");
    await io.writeFileAtomic(ok, buildFile(raw, { format: "pt" }));
    const target = makeModel(2);
    target.loadStateDict(await io.loadTensors(ok));
    expect(snapshot(target)).toEqual(snapshot(source));

    const big = raw.map((e) => {
      if (e.dtype !== "I64") return e;
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, 2n ** 40n, true);
      return { ...e, bytes: b };
    });
    const bad = join(dir, "torch-big.safetensors");
    await io.writeFileAtomic(bad, buildFile(big));
    await expect(io.loadTensors(bad)).rejects.toThrow(/num_batches_tracked/);
  });
});
