import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { load, SafetensorsError, save, serialize, writeFileAtomic, type TensorRecord } from "../../src/io/index.js";
import { rawFileFromBytes } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "safegrad-io-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weights = (v: number): Record<string, TensorRecord> => ({
  w: { dtype: "float32", shape: [2, 2], data: new Float32Array([v, v + 1, v + 2, v + 3]) },
  steps: { dtype: "int32", shape: [], data: new Int32Array([v]) },
});

describe("save and load", () => {
  it("round-trips tensors and metadata through a file", async () => {
    const path = join(dir, "model.safetensors");
    await save(weights(1), path, { metadata: { format: "pt" } });
    const out = await load(path);
    expect(Array.from(out.tensors["w"]!.data)).toEqual([1, 2, 3, 4]);
    expect(out.tensors["steps"]!.shape).toEqual([]);
    expect(out.metadata["format"]).toBe("pt");
    expect(new Uint8Array(await readFile(path))).toEqual(serialize(weights(1), { metadata: { format: "pt" } }));
  });

  it("replaces an existing file, keeps its permissions and leaves no temp files", async () => {
    const path = join(dir, "model.safetensors");
    await writeFile(path, "old contents");
    await chmod(path, 0o600);
    await save(weights(5), path);
    expect(new Uint8Array(await readFile(path))).toEqual(serialize(weights(5)));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });

  it("leaves one complete file after concurrent saves to the same path", async () => {
    const path = join(dir, "model.safetensors");
    await Promise.all(Array.from({ length: 8 }, (_, i) => save(weights(i), path)));
    const bytes = new Uint8Array(await readFile(path));
    const candidates = Array.from({ length: 8 }, (_, i) => serialize(weights(i)));
    expect(candidates.some((c) => c.length === bytes.length && c.every((b, j) => b === bytes[j]))).toBe(true);
    expect(await readdir(dir)).toEqual(["model.safetensors"]);
  });

  it("works for a file name near the 255-byte limit", async () => {
    const path = join(dir, "m".repeat(240) + ".safetensors");
    await save(weights(2), path);
    expect(Array.from((await load(path)).tensors["w"]!.data)).toEqual([2, 3, 4, 5]);
    expect(await readdir(dir)).toHaveLength(1);
  });

  it("throws and creates nothing when the folder does not exist", async () => {
    const path = join(dir, "missing", "model.safetensors");
    await expect(save(weights(1), path)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("removes its temp file and keeps the target when the rename fails", async () => {
    const target = join(dir, "occupied");
    await mkdir(target);
    await writeFile(join(target, "keep"), "x"); // a non-empty folder cannot be renamed over
    await expect(writeFileAtomic(target, new Uint8Array([1, 2, 3]))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["occupied"]);
    expect(await readdir(target)).toEqual(["keep"]);
  });

  it("throws SafetensorsError on bad input before touching the disk", async () => {
    const path = join(dir, "model.safetensors");
    const bad = { w: { dtype: "float32" as const, shape: [3], data: new Float32Array(2) } };
    await expect(save(bad, path)).rejects.toBeInstanceOf(SafetensorsError);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("load rejects hostile files", () => {
  it("checks the header length from the first 8 bytes, before reading the rest", async () => {
    const path = join(dir, "huge-header.safetensors");
    await writeFile(path, rawFileFromBytes(new Uint8Array(0), [], 2n ** 63n));
    await expect(load(path)).rejects.toMatchObject({ code: "header-too-large" });
    await writeFile(path, rawFileFromBytes(new Uint8Array(0), [], 1000n));
    await expect(load(path)).rejects.toMatchObject({ code: "header-beyond-file" });
    await writeFile(path, serialize(weights(1)));
    await expect(load(path, { maxHeaderBytes: 16 })).rejects.toMatchObject({ code: "header-too-large" });
  });

  it("rejects short and empty files", async () => {
    const path = join(dir, "short.safetensors");
    for (const n of [0, 3, 7]) {
      await writeFile(path, new Uint8Array(n));
      await expect(load(path)).rejects.toMatchObject({ name: "SafetensorsError", code: "file-too-short" });
    }
  });

  it("passes I/O errors through unchanged", async () => {
    await expect(load(join(dir, "nope.safetensors"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(load(dir)).rejects.toMatchObject({ code: "EISDIR" });
  });
});
