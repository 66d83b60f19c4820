/**
 * Checkpoint fuzzing (issue 13): CASES mutated real checkpoints (see checkpoint-fuzz-cases.ts for
 * the mutations and what each case must satisfy), with a fixed seed. The fuzzer runs in a worker
 * thread so that a case that never returns (a hang) fails this test after TIME_LIMIT_MS instead
 * of hanging the suite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import type { FuzzSummary } from "./checkpoint-fuzz-cases.js";

const CASES = 12_000;
const SEED = 20261207;
/** Far above the few seconds the run takes on a slow shared machine; only a hang gets near it. */
const TIME_LIMIT_MS = 100_000;

const dir = mkdtempSync(join(tmpdir(), "safegrad-ckpt-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runInWorker(seed: number, count: number): Promise<FuzzSummary> {
  const script = join(dir, "fuzz.mjs");
  await build({ entryPoints: [fileURLToPath(new URL("./checkpoint-fuzz-cases.ts", import.meta.url))], bundle: true, platform: "node", format: "esm", outfile: script, logLevel: "silent" });
  const worker = new Worker(script, { workerData: { checkpointFuzz: { seed, count } } });
  try {
    return await new Promise<FuzzSummary>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the fuzzer did not finish within ${TIME_LIMIT_MS} ms: a restore hangs`)), TIME_LIMIT_MS);
      worker.once("message", (s: FuzzSummary) => {
        clearTimeout(timer);
        resolve(s);
      });
      worker.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } finally {
    await worker.terminate();
  }
}

describe("checkpoint fuzzing", () => {
  it(`${CASES} mutated checkpoints: each restores what the file says or throws a SafegradError changing nothing; no pollution, no hang`, async () => {
    const s = await runInWorker(SEED, CASES);
    expect(s.cases).toBe(CASES);
    expect(s.failures.slice(0, 20), `${s.failures.length} failures`).toEqual([]);
    // the mutations reach both outcomes and many kinds of refusal
    expect(s.restored).toBeGreaterThan(CASES / 50);
    const refused = Object.values(s.refused).reduce((a, b) => a + b, 0);
    expect(refused).toBeGreaterThan(CASES / 2);
    for (const code of ["CHECKPOINT", "VALUE", "OPTIMIZER", "STATE_DICT"]) expect(s.refused[code], code).toBeGreaterThan(0);
    expect(Object.keys(s.refused).length).toBeGreaterThan(10);
  }, TIME_LIMIT_MS + 30_000);
});
