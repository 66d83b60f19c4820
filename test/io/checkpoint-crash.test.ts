import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { load } from "../../src/io/fs.js";

const TRIALS = 50;
let dir = "";
let script = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "safegrad-crash-"));
  script = join(dir, "writer.mjs");
  // Bundle the writer once so each trial starts a plain node process quickly.
  await build({ entryPoints: [fileURLToPath(new URL("./crash/writer.ts", import.meta.url))], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "silent" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function trial(n: number, killAfterMs: number): Promise<number> {
  const target = join(dir, `ckpt-${n}.safetensors`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, target], { stdio: ["ignore", "pipe", "inherit"] });
    let last = 0;
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      for (const m of buf.matchAll(/saved (\d+)\n/g)) last = Math.max(last, Number(m[1]));
    });
    child.on("error", reject);
    // Kill only once at least one checkpoint exists, at a random moment after that.
    const poll = setInterval(() => {
      if (last >= 1) {
        clearInterval(poll);
        setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    }, 2);
    child.on("exit", () => {
      clearInterval(poll);
      resolve(last);
    });
  });
}

describe("crash-safe checkpoints", () => {
  it(`the last checkpoint always loads and is a complete one, over ${TRIALS} SIGKILL trials`, async () => {
    const killedMidWrite: number[] = [];
    for (let n = 0; n < TRIALS; n++) {
      const lastReported = await trial(n, Math.floor(Math.random() * 40));
      const target = join(dir, `ckpt-${n}.safetensors`);
      expect(existsSync(target)).toBe(true);
      const file = await load(target);
      const meta = JSON.parse(file.metadata["safegrad.checkpoint"]!);
      const i = meta.step as number;
      // The file is the last reported one, or one newer that completed just before the kill.
      expect(i === lastReported || i === lastReported + 1, `step ${i}, last reported ${lastReported}`).toBe(true);
      expect(meta.extra.i).toBe(i);
      const a = file.tensors["model/a"]!;
      const b = file.tensors["model/b"]!;
      expect(a.data.length).toBe(1000 + (i % 7) * 5000);
      expect((a.data as Float32Array).every((v) => v === i)).toBe(true);
      expect((b.data as Float64Array).every((v) => v === i)).toBe(true);
      if (i === lastReported + 1) killedMidWrite.push(n);
    }
    // No stray files other than the checkpoints and temp files of killed writes.
    const names = readdirSync(dir).filter((f) => f.startsWith("ckpt-") && f.endsWith(".safetensors"));
    expect(names).toHaveLength(TRIALS);
  }, 120_000);
});
