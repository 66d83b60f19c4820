/**
 * `npm start -- --resume` rebuilds the model the checkpoint holds (issue 14: after a `--model cnn`
 * run it crashed with a raw StateDictError stack, and without a checkpoint with a raw ENOENT
 * stack). The checkpoint records the model's config and the run's settings; a flag that
 * contradicts it, and a missing checkpoint, are one-line errors with exit code 2.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io } from "../../src/node.js";
import { lines, runScript } from "./helpers.js";

const SCRIPT = "examples/train-digits.ts";
const dir = mkdtempSync(join(tmpdir(), "safegrad-resume-cli-"));
const out = join(dir, "run");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expectOneLineError = (r: { code: number | null; stdout: string; stderr: string }, ...needles: string[]): void => {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  for (const n of needles) expect(r.stderr).toContain(n);
};

describe("npm start -- --resume", () => {
  beforeAll(async () => {
    // a cnn run of 2 epochs, interrupted after the first
    const r = await runScript(SCRIPT, ["--model", "cnn", "--epochs", "2", "--stop-after", "1", "--batch-size", "128", "--out", out], { timeoutMs: 110_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("epoch  1/2");
  }, 120_000);

  it("the checkpoint records the model's config and the run's settings", async () => {
    const file = await io.load(join(out, "checkpoint.safetensors"));
    const { extra } = io.restoreCheckpoint(file, { model: { stateDict: () => new Map(), loadStateDict: () => undefined } });
    expect(extra).toMatchObject({
      epoch: 1,
      model: { kind: "cnn", inputShape: [1, 8, 8], channels: [16, 32], classes: 10 },
      run: { epochs: 2, lr: 0.003, seed: 0, batchSize: 128, maxNorm: 1 },
    });
  });

  it("a flag that contradicts the checkpoint is one line, exit 2", async () => {
    const [model, epochs] = await Promise.all([
      runScript(SCRIPT, ["--resume", "--model", "mlp", "--out", out]),
      runScript(SCRIPT, ["--resume", "--epochs", "5", "--out", out]),
    ]);
    expectOneLineError(model, "--model mlp", "holds a cnn model");
    expectOneLineError(epochs, "--epochs 5", "--epochs 2");
  }, 60_000);

  it("a missing checkpoint is one line, exit 2", async () => {
    const missing = join(dir, "nothing-here");
    const r = await runScript(SCRIPT, ["--resume", "--out", missing]);
    expectOneLineError(r, "--resume", join(missing, "checkpoint.safetensors"));
    expect(existsSync(missing), "a failed resume created the folder").toBe(false);
  }, 60_000);

  it("needs no flags: rebuilds the cnn and finishes the run with its settings", async () => {
    const r = await runScript(SCRIPT, ["--resume", "--out", out], { timeoutMs: 110_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("resumed from");
    expect(r.stdout).toMatch(/model cnn \(6186 parameters\)/);
    expect(r.stdout).toContain("epoch  2/2"); // 2 epochs as saved, not the default 30
    expect(r.stdout).not.toContain("epoch  1/2");
    expect(r.stdout).toMatch(/test accuracy \d+\.\d+%/);
  }, 120_000);
});
