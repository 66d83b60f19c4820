/**
 * The library in a real browser: esbuild bundles test-browser/page.ts (which imports the main
 * entry) into one ES module, a node:http server on 127.0.0.1 serves it, and headless Chromium
 * (Debian's package, driven by playwright-core) runs it. On every backend the page offers ("js",
 * "js-fast", "wasm"), a small MLP trains for 50 steps; the loss must stay finite and fall, and the
 * NaN guard must report planted NaNs with the right op.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { join } from "node:path";
import { bundleScript, launchChromium, root, serve, type RunningServer } from "./harness.js";
import type { SuiteResult } from "./page.js";

const HTML = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>safegrad browser test</title></head>
<body><script type="module" src="/page.js"></script></body></html>`;

let server: RunningServer | undefined;
let browser: Browser | undefined;
let page: Page;
let result: SuiteResult;
const pageErrors: string[] = [];

beforeAll(async () => {
  const js = await bundleScript(join(root, "test-browser", "page.ts"));
  server = await serve((path) =>
    path === "/" ? { type: "text/html; charset=utf-8", body: HTML } : path === "/page.js" ? { type: "text/javascript; charset=utf-8", body: js } : undefined,
  );
  browser = await launchChromium();
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") pageErrors.push(`console.error: ${m.text()}`);
  });
  await page.goto(server.url);
  await page.waitForFunction(() => "safegradBrowserSuite" in globalThis, null, { timeout: 30_000 }).catch(() => {
    throw new Error(`the page did not load the bundle:\n${pageErrors.join("\n")}`);
  });
  result = await page.evaluate(() => (globalThis as unknown as { safegradBrowserSuite: () => Promise<SuiteResult> }).safegradBrowserSuite());
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("safegrad in headless Chromium", () => {
  it("loads without page errors and registers every backend (WebAssembly SIMD is available)", () => {
    expect(pageErrors).toEqual([]);
    expect(result.userAgent).toMatch(/Chrome\//);
    expect(result.simd).toBe(true);
    expect(result.backends).toEqual(["js", "js-fast", "wasm"]);
  });

  it("is fast by default with no call: the first op starts loading the fast kernels, ready() resolves to wasm", () => {
    expect(result.defaultBackend.afterReady).toBe("wasm");
    // The chunk loads asynchronously: the op that triggered the load ran on the reference backend.
    expect(result.defaultBackend.firstOp).toBe("js");
  });

  it.each(["js", "js-fast", "wasm"])("trains an MLP for 50 steps on %s: the loss is finite and falls", (name) => {
    const t = result.train.find((r) => r.backend === name);
    expect(t, `no training result for ${name}`).toBeDefined();
    const { losses, activeBackend, accuracy } = t!;
    expect(activeBackend).toBe(name);
    expect(losses).toHaveLength(50);
    expect(losses.every(Number.isFinite), `non-finite loss on ${name}: ${losses.join(", ")}`).toBe(true);
    const first = losses[0]!;
    const last = losses[losses.length - 1]!;
    expect(last, `loss on ${name} went ${first} -> ${last}`).toBeLessThan(first * 0.25);
    expect(accuracy).toBeGreaterThan(0.9);
  });

  it("gives the same losses on every backend, within float32 rounding", () => {
    const ref = result.train.find((r) => r.backend === "js")!.losses;
    for (const t of result.train) {
      t.losses.forEach((l, i) => expect(Math.abs(l - ref[i]!), `${t.backend} step ${i}`).toBeLessThan(1e-3 * Math.max(1, Math.abs(ref[i]!))));
    }
  });

  it.each(["js", "js-fast", "wasm"])("the NaN guard reports planted NaNs on %s", (name) => {
    const g = result.guard.filter((r) => r.backend === name);
    const by = (n: string) => g.find((r) => r.name === n)!;
    for (const r of g) expect(r.isAnomalyError, `${name} / ${r.name}: ${r.text ?? "nothing reported"}`).toBe(true);
    expect(by("forward sqrt(-1)")).toMatchObject({ phase: "forward", op: "sqrt", created: true });
    expect(by("forward sqrt(-1)").text).toMatch(/NaN in the forward pass, at op sqrt/);
    expect(by("backward sqrt'(0)")).toMatchObject({ phase: "backward", op: "sqrt", created: true });
    expect(by("NaN weight")).toMatchObject({ phase: "forward", op: "matmul", created: false, originKind: "input" });
    expect(by("NaN weight").text).toMatch(/"0\.weight"/);
  });
});
