/**
 * Regenerate docs/browser-example.png: serve the example, open it in headless Chromium (Debian's,
 * through playwright-core), let it train a few epochs, draw a "7" on the pad with the mouse, and
 * take a screenshot. Also a smoke test of the example: fails if the page reports an error or shows
 * a warning, the test accuracy stays low, or the drawn digit is not classified.
 *
 *   npx tsx examples/browser/screenshot.ts [--epochs 8] [--out docs/browser-example.png] (--help)
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCli } from "../../scripts/cli.js";

const { values } = parseCli({
  command: "npx tsx examples/browser/screenshot.ts",
  description: `Regenerate docs/browser-example.png: serve the browser example, open it in headless Chromium, train
a few epochs, draw a 7 on the pad and take a screenshot. Fails if the page reports an error or
shows a warning, the test accuracy stays low or the drawn digit is not classified.`,
  options: {
    epochs: { type: "integer", default: 8, min: 1, value: "N", help: "epochs to train in the page" },
    out: { type: "string", value: "FILE", help: "where the screenshot goes (default docs/browser-example.png in the repository)" },
  },
});
const epochs = values.epochs;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outFile = values.out === undefined ? join(root, "docs", "browser-example.png") : resolve(values.out);

// loaded after the command line is checked (playwright takes a while to load)
const { launchChromium } = await import("../../test-browser/harness.js");
const { startExampleServer } = await import("./serve.js");

const server = await startExampleServer(0);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 820 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  // The URL presets the form: the run the page starts on load has the requested number of epochs.
  const t0 = Date.now();
  await page.goto(`${server.url}?epochs=${epochs}`);
  await page.waitForFunction(() => document.body.dataset.done === "1" || document.body.dataset.error !== undefined, null, { timeout: 300_000 });
  const { accuracy, error } = await page.evaluate(() => ({ accuracy: Number(document.body.dataset.accuracy), error: document.body.dataset.error }));
  if (error) throw new Error(`the example reported: ${error}`);
  console.log(`trained ${epochs} epochs in ${((Date.now() - t0) / 1000).toFixed(1)} s; test accuracy ${(100 * accuracy).toFixed(1)}%`);
  if (!(accuracy > 0.85)) throw new Error(`test accuracy ${accuracy} is too low`);
  const warning = await page.evaluate(() => {
    const box = document.getElementById("warning");
    return box && !box.hidden ? box.textContent : null;
  });
  if (warning) throw new Error(`the page warns on a default run: ${warning}`);

  // Draw a 7 with the mouse: the top bar, then the diagonal.
  const box = await page.locator("#pad").boundingBox();
  if (!box) throw new Error("no drawing pad");
  const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  const path: [number, number][] = [[0.3, 0.22], [0.72, 0.22], [0.6, 0.45], [0.5, 0.65], [0.44, 0.82]];
  await page.mouse.move(...at(...path[0]!));
  await page.mouse.down();
  for (const p of path.slice(1)) await page.mouse.move(...at(...p), { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById("guess")?.textContent !== "?", null, { timeout: 10_000 });
  await page.waitForTimeout(300);
  const guess = await page.textContent("#guess");
  console.log(`the drawn 7 was classified as ${guess}`);
  if (errors.length) throw new Error(`page errors:\n${errors.join("\n")}`);
  await page.screenshot({ path: outFile, fullPage: true });
  console.log(`wrote ${outFile}`);
} finally {
  await browser.close();
  await server.close();
}
