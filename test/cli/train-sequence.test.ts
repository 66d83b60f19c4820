/**
 * The sequence jobs (`npm run sequence`, examples/train-sequence.ts) run briefly as users run them:
 * each task exits 0 and learns something (the language model's validation loss falls below the
 * untrained one, every digits model is above chance, the clipped RNN stays finite where the
 * unclipped one does not). The full runs' figures are in the README.
 */
import { describe, expect, it } from "vitest";
import { runScript } from "./helpers.js";

const SCRIPT = "examples/train-sequence.ts";
const num = (s: string | undefined): number => Number(s);

describe.concurrent("npm run sequence (short runs)", () => {
  it("--task text: validation loss falls from the untrained model's, a sample is printed", async () => {
    const r = await runScript(SCRIPT, ["--task", "text", "--epochs", "2", "--steps", "4", "--batch-size", "8", "--samples", "1"], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    const unigram = num(/unigram baseline: validation loss ([\d.]+)/.exec(r.stdout)?.[1]);
    const losses = [...r.stdout.matchAll(/^epoch +(\d+) .*?validation loss ([\d.]+)/gm)].map((m) => num(m[2]));
    expect(losses, r.stdout).toHaveLength(3);
    expect(unigram).toBeGreaterThan(1);
    expect(losses[2]!, r.stdout).toBeLessThan(losses[0]!);
    expect(r.stdout).toMatch(/^sample 1: /m);
  }, 300_000);

  it("--task digits: each of the LSTM, GRU and transformer is above chance after a few steps", async () => {
    const r = await runScript(SCRIPT, ["--task", "digits", "--epochs", "1", "--steps", "40"], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    const accs = Object.fromEntries([...r.stdout.matchAll(/^(\w+): test accuracy ([\d.]+)%/gm)].map((m) => [m[1], num(m[2])]));
    expect(Object.keys(accs), r.stdout).toEqual(["lstm", "gru", "transformer"]);
    for (const [k, a] of Object.entries(accs)) expect(a, `${k}\n${r.stdout}`).toBeGreaterThan(20); // chance: 10%
  }, 300_000);

  it("--task clip: the unclipped RNN goes non-finite, the clipped one stays finite", async () => {
    const r = await runScript(SCRIPT, ["--task", "clip", "--steps", "60"], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    const runs = [...r.stdout.matchAll(/non-finite steps (\d+).*held-out loss (\S+)/g)].map((m) => ({ nonFinite: num(m[1]), loss: num(m[2]) }));
    expect(runs, r.stdout).toHaveLength(2);
    expect(runs[0]!.nonFinite, r.stdout).toBeGreaterThan(0);
    expect(Number.isNaN(runs[0]!.loss), r.stdout).toBe(true);
    expect(runs[1]!.nonFinite, r.stdout).toBe(0);
    expect(Number.isFinite(runs[1]!.loss), r.stdout).toBe(true);
  }, 300_000);

  it("refuses flags of another task", async () => {
    const r = await runScript(SCRIPT, ["--task", "clip", "--model", "lstm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--model applies to --task digits only");
  });
});
