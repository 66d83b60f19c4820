/**
 * The browser example (examples/browser/, `npm run example:browser`) in headless Chromium, and its
 * display helpers in Node. Three short runs of the page, preset from the URL:
 *   - the CNN at lr 50 (one epoch): the parameter count the page shows is the CLI's (`npm start --
 *     --model cnn`); the divergence (marked on the loss chart) and the at-chance warning naming the
 *     learning rate are shown (Adam with clipping keeps every step finite here, so the guard itself
 *     may report nothing);
 *   - the MLP at lr 1e20 (one epoch): the guard skips steps, backs off the lr and rolls back; the
 *     status line counts them and the charts mark them;
 *   - the MLP at the default lr (one epoch): it learns, and the page warns of nothing.
 * On every run, each chart's axis labels are in one number style, short and distinct.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chanceWarning, formatNumber, formatTicks, guardNotes, logTicks, movingMedian } from "../examples/browser/display.js";
import { startExampleServer, type ExampleServer } from "../examples/browser/serve.js";
import { launchChromium, root } from "./harness.js";

// ------------------------------------------------------------------ the display helpers (Node)

/** Every label of an axis in one style: all plain decimals or all scientific, at most 6 characters, no duplicates. */
function expectOneStyle(labels: readonly string[], what: string): void {
  const plain = /^-?\d+(\.\d+)?$/;
  const sci = /^-?\d(\.\d+)?e-?\d+$/;
  const styled = labels.filter((l) => l !== "0");
  expect(styled.every((l) => plain.test(l)) || styled.every((l) => sci.test(l)), `${what}: mixed styles ${labels.join(", ")}`).toBe(true);
  for (const l of labels) expect(l.length, `${what}: "${l}" is too long`).toBeLessThanOrEqual(6);
  expect(new Set(labels).size, `${what}: duplicate labels ${labels.join(", ")}`).toBe(labels.length);
}

describe("the browser page's display helpers", () => {
  it("formats the ticks of one axis in one style (no '1000000' next to '1e-1')", () => {
    expect(formatTicks([0.01, 0.1, 1, 10, 100, 1000])).toEqual(["0.01", "0.1", "1", "10", "100", "1000"]);
    expect(formatTicks([0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6])).toEqual(["1e-1", "1e0", "1e1", "1e2", "1e3", "1e4", "1e5", "1e6"]);
    expect(formatTicks([1e-3, 0.1])).toEqual(["1e-3", "1e-1"]);
    expect(formatTicks([0.2, 0.5, 1, 2])).toEqual(["0.2", "0.5", "1", "2"]);
    // (the page widens a chart's range to a decade at least)
    for (const [lo, hi] of [[-1, 6], [-3, 0.4], [-0.7, 0.4], [0.1, 1.1], [-8, 38], [2, 3], [-40, -39]] as const) {
      const ticks = logTicks(lo, hi);
      expect(ticks.length, `${lo}..${hi}: ${ticks.join(", ")}`).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(7);
      for (const t of ticks) {
        expect(Math.log10(t)).toBeGreaterThanOrEqual(lo - 1e-9);
        expect(Math.log10(t)).toBeLessThanOrEqual(hi + 1e-9);
      }
      expectOneStyle(formatTicks(ticks), `${lo}..${hi}`);
    }
    expect(logTicks(-0.7, 0.4)).toEqual([0.2, 0.5, 1, 2]);
    expect(formatNumber(12345678)).toBe("1.23e7");
    expect(formatNumber(0.0001234)).toBe("1.23e-4");
    expect(formatNumber(2.302585)).toBe("2.303");
    expect(formatNumber(Number.NaN)).toBe("NaN");
  });

  it("the moving median leaves out skipped and non-finite steps, shrugs off a spike and restarts after a rollback", () => {
    const flat = Array.from({ length: 40 }, () => 0.5);
    // One finite spike: an exponential moving average (alpha 0.05) would sit near 5e4 for the next steps.
    const spiked = [...flat.slice(0, 20), 1e6, ...flat.slice(21)];
    const m = movingMedian(spiked);
    expect(m.slice(21).every((v) => v === 0.5)).toBe(true);
    // Skipped and non-finite steps have no smoothed value and do not count.
    const withSkips = [...flat.slice(0, 10), Number.NaN, Infinity, 1e9, ...flat.slice(13)];
    const skipped = withSkips.map((_, i) => i === 12);
    const s = movingMedian(withSkips, skipped);
    expect(s.slice(10, 13).every(Number.isNaN)).toBe(true);
    expect(s.slice(13).every((v) => v === 0.5)).toBe(true);
    // After a rollback (at step 20) the curve starts again from the steps after it.
    const jump = [...Array.from({ length: 20 }, () => 100), ...Array.from({ length: 5 }, () => 1)];
    expect(movingMedian(jump, [], [20])[20]).toBe(1);
    expect(movingMedian(jump)[22]).toBe(100);
  });

  it("turns guard events into notes: skipped step, lr backoff, rollback, gradient spike", () => {
    const report = { op: "matmul", hint: { hazard: "divergence" } };
    const skipped = guardNotes({ type: "nonFinite", loss: Number.NaN, gradNorm: Infinity, policy: "backoff", lrScale: 0.5, report }, 7, 1);
    expect(skipped.map((n) => n.kind)).toEqual(["skipped", "backoff"]);
    expect(skipped[0]!.message).toBe("step 7: loss NaN, gradient norm Infinity: step skipped; traced to op matmul (divergence)");
    expect(skipped[1]!.message).toMatch(/lr backed off to ×0\.5/);
    expect(guardNotes({ type: "rollback", step: 3, toStep: 0 }, 9, 1)[0]).toMatchObject({ kind: "rollback", step: 9 });
    expect(guardNotes({ type: "warning", message: "gradient norm 296 is 7.9 standard deviations above its mean" }, 12, 1)[0]!.kind).toBe("spike");
    expect(guardNotes({ type: "step" }, 1, 1)).toEqual([]);
  });

  it("warns when test accuracy stays at chance, naming the likely cause", () => {
    const base = { epoch: 1, classes: 10, skipped: 0, spikes: 0, lossRise: 1 };
    expect(chanceWarning({ ...base, testAccuracy: 0.9, lr: 50 })).toBeNull();
    expect(chanceWarning({ ...base, testAccuracy: 0.16, lr: 50 })).toBeNull();
    expect(chanceWarning({ ...base, testAccuracy: 0.1, lr: 50, lossRise: 5e6 })).toMatch(/at chance .*learning rate 50 is too high \(the training loss rose to 5e6× its first value\): try 0\.003/);
    expect(chanceWarning({ ...base, testAccuracy: 0.1, lr: 0.003, skipped: 4 })).toMatch(/learning rate 0\.003 is too high \(the guard skipped 4 steps/);
    expect(chanceWarning({ ...base, testAccuracy: 0.1, lr: 1e-7 })).toMatch(/learning rate 1e-7 is too low/);
    expect(chanceWarning({ ...base, testAccuracy: 0.12, lr: 0.003 })).toMatch(/at chance/);
  });
});

// ------------------------------------------------------------------ the page (Chromium)

interface PageState {
  error?: string;
  statusText: string;
  guard: string;
  lastEvent: string;
  /** The warning box's text, or null while it is hidden. */
  warning: string | null;
  /** The parameter count the status line shows. */
  params: number;
  accuracy: number;
  skipped: number;
  backoffs: number;
  rollbacks: number;
  spikes: number;
  charts: { id: string; ticks: string[]; markers: number }[];
}

let server: ExampleServer | undefined;
let browser: Browser | undefined;
let cliParams: Promise<number>;
let outDir: string | undefined;
const runs = new Map<string, PageState>();
const pageErrors: string[] = [];

async function runPage(query: string): Promise<PageState> {
  const page = await browser!.newPage({ viewport: { width: 1360, height: 820 } });
  page.on("pageerror", (e) => pageErrors.push(`${query}: pageerror: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(`${query}: console.error: ${m.text()}`));
  try {
    await page.goto(`${server!.url}?${query}`);
    await page.waitForFunction(() => document.body.dataset.done === "1" || document.body.dataset.error !== undefined, null, { timeout: 120_000 });
    // Let the last queued chart frame draw.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    return await page.evaluate((): PageState => {
      const d = document.body.dataset;
      const text = (id: string): string => document.getElementById(id)?.textContent ?? "";
      const box = document.getElementById("warning");
      const state: PageState = {
        statusText: text("status"),
        guard: text("guard"),
        lastEvent: text("lastEvent"),
        warning: !box || box.hidden || getComputedStyle(box).display === "none" ? null : box.textContent,
        params: Number((/([\d,]+) parameters/.exec(text("status"))?.[1] ?? "NaN").replace(/,/g, "")),
        accuracy: Number(d.accuracy),
        skipped: Number(d.skipped),
        backoffs: Number(d.backoffs),
        rollbacks: Number(d.rollbacks),
        spikes: Number(d.spikes),
        charts: ["loss", "gnorm"].map((id) => {
          const c = document.getElementById(id)!;
          return { id, ticks: JSON.parse(c.dataset.ticks ?? "[]") as string[], markers: Number(c.dataset.markers) };
        }),
      };
      if (d.error !== undefined) state.error = d.error;
      return state;
    });
  } finally {
    await page.close();
  }
}

beforeAll(async () => {
  // The CLI's parameter count, from its own output (run alongside the browser).
  outDir = mkdtempSync(join(tmpdir(), "safegrad-example-"));
  cliParams = promisify(execFile)(join(root, "node_modules", ".bin", "tsx"), ["examples/train-digits.ts", "--model", "cnn", "--stop-after", "0", "--out", outDir], {
    cwd: root,
    timeout: 120_000,
  }).then(({ stdout }) => {
    const m = /model cnn \((\d[\d,]*) parameters\)/.exec(stdout);
    if (!m) throw new Error(`no parameter count in the CLI's output:\n${stdout}`);
    return Number(m[1]!.replace(/,/g, ""));
  });
  cliParams.catch(() => undefined); // awaited in its test
  server = await startExampleServer(0);
  browser = await launchChromium();
  // One after the other: the worker of each run has a core to itself (CI has two).
  for (const q of ["model=cnn&lr=50&epochs=1", "model=mlp&lr=1e20&epochs=1", "model=mlp&epochs=1"]) runs.set(q, await runPage(q));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe("the browser example in headless Chromium", () => {
  const run = (q: string): PageState => {
    const r = runs.get(q);
    if (!r) throw new Error(`no result for ?${q}`);
    expect(r.error, `?${q}: the page reported an error`).toBeUndefined();
    return r;
  };

  it("runs without page errors", () => {
    expect(pageErrors).toEqual([]);
  });

  it("shows the CLI's parameter count for the CNN (one model definition: examples/digits-models.ts)", async () => {
    const r = run("model=cnn&lr=50&epochs=1");
    const cli = await cliParams;
    expect(r.params, r.statusText).toBe(cli);
  });

  it("an lr = 50 run warns that the loss diverged and accuracy is at chance, naming the learning rate, and marks the divergence", () => {
    const r = run("model=cnn&lr=50&epochs=1");
    expect(r.accuracy).toBeLessThanOrEqual(0.15);
    expect(r.warning).toMatch(/the training loss is diverging: .* \(learning rate 50\)/);
    expect(r.warning).toMatch(/at chance \(10 classes: 10\.0%\): the network is not learning\. Likely cause: the learning rate 50 is too high/);
    expect(r.statusText).toMatch(/done · test accuracy \d+\.\d% \(at chance: see the warning\)/);
    // Adam with clipping keeps every step finite at lr 50: the guard may have nothing to report, so
    // the page marks the divergence itself (on the loss chart), besides any guard event.
    expect(r.charts[0]!.markers).toBeGreaterThanOrEqual(1 + r.spikes + r.skipped + r.rollbacks);
    if (r.spikes) expect(r.guard).toMatch(/gradient spikes?/);
  });

  it("skipped steps, lr backoffs and rollbacks are counted in the status line and marked on both charts", () => {
    const r = run("model=mlp&lr=1e20&epochs=1");
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.backoffs).toBeGreaterThan(0);
    expect(r.rollbacks).toBeGreaterThan(0);
    expect(r.guard).toContain(`${r.skipped} skipped step`);
    expect(r.guard).toContain(`${r.rollbacks} rollback`);
    expect(r.guard).toMatch(/lr backoffs? \(lr ×\S+ of the schedule\)/);
    expect(r.lastEvent).toMatch(/^last guard event: step \d+: /);
    for (const c of r.charts) expect(c.markers, c.id).toBeGreaterThanOrEqual(r.skipped);
    expect(r.warning).toMatch(/at chance.*learning rate 1e20 is too high \(.*the guard skipped \d+ steps with a non-finite loss or gradient/);
  });

  it("a run at the default lr learns and warns of nothing", () => {
    const r = run("model=mlp&epochs=1");
    expect(r.accuracy).toBeGreaterThan(0.5);
    expect(r.warning).toBeNull();
    expect(r.guard).toBe("");
    expect(r.statusText).toMatch(/done · test accuracy \d+\.\d%$/);
  });

  it("labels each chart's axis in one number style (short, distinct, at least two ticks)", () => {
    for (const [q, r] of runs) {
      for (const c of r.charts) {
        expect(c.ticks.length, `?${q} ${c.id}: ${c.ticks.join(", ")}`).toBeGreaterThanOrEqual(2);
        expectOneStyle(c.ticks, `?${q} ${c.id}`);
      }
    }
  });
});
