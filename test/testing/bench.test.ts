/**
 * The bench with a third-party backend (no timing asserted): `npm run bench -- --backend FILE`
 * runs the example backend beside ours and writes --json; `compare` reads two such files; a module
 * without a backend is refused in one line; the programmatic API (bench/api.ts) gives the same JSON.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fastExpBackend } from "../../examples/backend-fast-exp.js";
import { bench, formatBench } from "../../bench/api.js";
import { compareRuns, formatComparison, spread, type SavedRun } from "../../bench/compare.js";
import { opCases } from "../../bench/ops.js";
import { lines, root, runScript } from "../cli/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "safegrad-bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const example = resolve(root, "examples/backend-fast-exp.ts");

describe("npm run bench -- --backend FILE", () => {
  it("runs the example backend beside js-fast (--ops, one op, the smallest size), writes --json, and compare reads it", async () => {
    const file = join(dir, "a.json");
    const r = await runScript("bench/run.ts", ["--backend", example, "--backends", "js-fast", "--ops", "--max-size", "10", "--only", "exp", "--runs", "3", "--json", file], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| unary exp 2\^10 contiguous +\| ns\/elem \|/);
    expect(r.stdout).toContain("fast-exp/js-fast");
    const run = JSON.parse(readFileSync(file, "utf8")) as SavedRun;
    expect(run.results.map((x) => x.backend)).toEqual(["js-fast", "fast-exp"]);
    for (const res of run.results) {
      expect(res.cells.map((c) => c.id)).toEqual(["unary exp 2^10 contiguous", "unary exp 2^10 strided"]);
      for (const c of res.cells) expect(c.times!.length).toBe(c.runs);
    }
    const cmp = await runScript("bench/run.ts", ["compare", file, file], { cwd: dir, timeoutMs: 60_000 });
    expect(cmp.code, cmp.stderr).toBe(0);
    expect(cmp.stdout).toMatch(/\| unary exp 2\^10 contiguous \| fast-exp +\| .* ±[\d.]+% \| .* ±[\d.]+% \| +1\.00x ~ \|/);
    expect(cmp.stdout).toContain("4 cells, 0 outside the noise");
  }, 180_000);

  it("refuses a module that exports no backend, and compare without two files, in one line (exit 2)", async () => {
    const r = await runScript("bench/run.ts", ["--backend", resolve(root, "bench/common.ts"), "--ops"], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/--backend: .*common\.ts exports no backend/);
    const c = await runScript("bench/run.ts", ["compare", "only-one.json"], { cwd: dir });
    expect(c.code).toBe(2);
    expect(r.stdout).toBe("");
  }, 120_000);
});

describe("the programmatic API and compare", () => {
  it("bench() runs a backend object and a built-in one in the same rounds, as the CLI's JSON", async () => {
    const run = await bench({ backends: ["js-fast", fastExpBackend], ops: { maxLog: 10, only: ["exp", "sum"] }, runs: 3, budgetMs: 50, rounds: 2 });
    expect(run.results.map((r) => r.backend)).toEqual(["js-fast", "fast-exp"]);
    expect(run.cases.map((c) => c.id)).toEqual(opCases({ maxLog: 10, only: ["exp", "sum"] }).map((c) => c.id));
    for (const r of run.results) for (const c of r.cells) expect(c.ms).toBeGreaterThan(0);
    expect(formatBench(run)).toMatch(/\| reduce sum 2\^10 strided +\| +[\d.e-]+ \| +[\d.e-]+ \|/);
    const same = compareRuns(run, run);
    expect(same.length).toBe(8);
    expect(same.every((c) => c.speedup === 1 && c.insideNoise !== false)).toBe(true);
  }, 60_000);

  it("compare marks a difference inside the spreads as noise, and one outside as not", () => {
    const cell = (ms: number, times: number[]) => ({ id: "x", ms, runs: times.length, times });
    const run = (ms: number, times: number[]): SavedRun => ({ cases: [{ id: "x", unit: "ms" }], results: [{ backend: "b", cells: [cell(ms, times)] }] });
    expect(spread(cell(10, [9, 10, 11]))).toBeCloseTo(0.05);
    const noisy = compareRuns(run(10, [8, 9, 10, 11, 12]), run(9, [7, 8, 9, 10, 11]));
    expect(noisy[0]!.insideNoise).toBe(true);
    const clear = compareRuns(run(10, [9.9, 10, 10.1]), run(5, [4.9, 5, 5.1]));
    expect(clear[0]!.insideNoise).toBe(false);
    expect(clear[0]!.speedup).toBe(2);
    expect(formatComparison(clear)).toContain("1 cells, 1 outside the noise: 1 faster, 0 slower");
    expect(compareRuns(run(10, [10]), run(5, [5]))[0]!.insideNoise).toBeNull();
  });
});
