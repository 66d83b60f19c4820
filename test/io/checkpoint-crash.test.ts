import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, existsSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { load, saveCheckpoint, writeFileAtomic } from "../../src/io/fs.js";
import { Tensor } from "../../src/tensor/tensor.js";

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

function trial(n: number, killAfterMs: number, target = join(dir, `ckpt-${n}.safetensors`)): Promise<number> {
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

describe("temp files of killed saves", () => {
  const temps = (folder: string) => readdirSync(folder).filter((f) => f.endsWith(".tmp")).sort();
  const model = { stateDict: () => new Map([["a", new Tensor(new Float32Array(10), [10])]]), loadStateDict: () => undefined };

  it("the next save to the same path removes the temp file a killed save left behind", async () => {
    // Issue 13 item 5: before, each kill mid-write left a .tmp file that nothing removed (29 of 60).
    const sub = mkdtempSync(join(dir, "orphans-"));
    const target = join(sub, "ckpt.safetensors");
    let orphans = 0;
    for (let n = 0; n < 40 && orphans < 3; n++) {
      await trial(n, Math.floor(Math.random() * 40), target);
      const left = temps(sub);
      // each writer removed the temp file of the one killed before it: never more than one
      expect(left.length, left.join(", ")).toBeLessThanOrEqual(1);
      orphans += left.length;
    }
    expect(orphans, "no kill landed mid-write, so this test checked nothing").toBeGreaterThan(0);
    await saveCheckpoint(target, { model, step: 1 });
    expect(temps(sub)).toEqual([]);
    expect(readdirSync(sub)).toEqual(["ckpt.safetensors"]);
  }, 120_000);

  it("keeps the temp files of live writers (other processes, other threads) and of other targets", async () => {
    const sub = mkdtempSync(join(dir, "live-"));
    const target = join(sub, "m.safetensors");
    const hex = "0123456789abcdef";
    // a process that is surely alive (it is waiting for us), and one that surely is not
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    const dead = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((r) => dead.on("exit", r));
    const name = (who: string) => `.m.safetensors.${who}.${hex}.tmp`;
    const files = {
      liveProcess: name(`${sleeper.pid}-0`),
      liveOldFormat: name(`${sleeper.pid}`),
      otherThread: name(`${process.pid}-9999`),
      deadProcess: name(`${dead.pid}-0`),
      deadOldFormat: name(`${dead.pid}`),
      thisThreadNotWriting: name(`${process.pid}-0`), // left by an earlier run with our pid (a restarted container)
      liveButOld: name(`${sleeper.pid}-1`),
      otherTarget: `.other.safetensors.${dead.pid}-0.${hex}.tmp`,
      notOurs: `.m.safetensors.${dead.pid}-0.${hex}.tmp.bak`,
    };
    try {
      for (const f of Object.values(files)) writeFileSync(join(sub, f), "partial");
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
      utimesSync(join(sub, files.liveButOld), twoHoursAgo, twoHoursAgo);
      await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    } finally {
      sleeper.kill("SIGKILL");
    }
    const kept = [files.liveProcess, files.liveOldFormat, files.otherThread, files.otherTarget, files.notOurs];
    expect(readdirSync(sub).sort()).toEqual([...kept, "m.safetensors"].sort());
  });
});
