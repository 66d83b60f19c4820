/**
 * `npm run test:package`: does the published package work for a new user?
 *
 * 1. a fresh `git clone` of this repository (HEAD: committed files only, no `dist/`), `npm ci` there
 *    (`--prefer-offline --ignore-scripts`; `--link-node-modules` links this checkout's instead),
 *    then `npm pack`, whose `prepack` script must build `dist/` by itself;
 * 2. the tarball holds the code and the data, nothing else, and every target of `main`, `types`
 *    and the `exports` map;
 * 3. a fresh project, `npm install <tarball>` (offline: safegrad has no runtime dependencies);
 * 4. Node ESM: a plain JavaScript script imports every subpath export, and runs "safegrad" (tensor →
 *    backward → gradcheck, a layer, the NaN guard) and "safegrad/node" (loadDigits, io.save /
 *    io.load);
 * 5. CommonJS: a `"type": "commonjs"` project imports every subpath export with dynamic `import()`
 *    and trains a step (and `require()` fails only as Node's ESM rule says, never "not exported");
 * 6. a bundler: esbuild bundles an entry importing "safegrad" for the browser (no `node:` import
 *    may survive) and one importing every subpath for Node; both bundles run;
 * 7. a strict TypeScript file using both entries is type-checked with this repository's `tsc`,
 *    once with `moduleResolution: "NodeNext"` and once with `"Bundler"`.
 *
 * Exits non-zero with a message naming the failed step. `--keep` leaves the temporary folder.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { parseCli } from "./cli.js";

const { values: cli } = parseCli({
  command: "npm run test:package --",
  description: `Does the published package work for a new user? Packs a fresh clone of this repository (HEAD, no
prior build), installs the tarball in new projects and uses every subpath export from Node ESM,
from CommonJS (dynamic import), through esbuild (browser and Node bundles) and from strict
TypeScript. Uncommitted changes are not in the clone.`,
  options: {
    keep: { type: "boolean", help: "keep the temporary folder" },
    "link-node-modules": { type: "boolean", help: "link this checkout's node_modules into the clone instead of npm ci there (faster)" },
  },
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

class StepError extends Error {}

function run(step: string, cmd: string, args: string[], cwd: string): string {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, npm_config_update_notifier: "false" } });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.error || r.status !== 0) {
    throw new StepError(`step "${step}" failed: ${cmd} ${args.join(" ")} (in ${cwd}) exited with ${r.error ? r.error.message : `code ${r.status}`}\n${out}`);
  }
  console.log(`ok   ${step} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r.stdout ?? "";
}

async function step<T>(name: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  let r: T;
  try {
    r = await f();
  } catch (e) {
    throw new StepError(`step "${name}" failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r;
}

/** The names each subpath export must provide (a subpath not listed here needs only a non-empty module). */
const EXPECTED_EXPORTS: Record<string, string[]> = {
  ".": ["tensor", "grad", "Linear", "Adam", "Trainer", "detectAnomaly", "serialize", "deserialize", "ready", "getBackend"],
  "./fast": ["registerFastBackends", "chooseFastBackend", "createWasmBackend", "fastJsBackend"],
  "./data": ["DataLoader", "TensorDataset", "toTensorDataset", "trainTestSplit"],
  "./node": ["tensor", "io", "loadDigits", "loadIris", "DataLoader", "exportOnnx", "saveOnnx"],
  "./onnx": ["exportOnnx", "OnnxExportError"],
  "./testing": ["checkBackend", "formatReport", "runGradchecks", "DEFAULT_TOLERANCES"],
};

/** `import("safegrad/…")` of every subpath, checking its exports (JavaScript source, for the consumers). */
function importEverySubpath(subpaths: string[]): string {
  return `for (const [spec, names] of ${JSON.stringify(subpaths.map((s) => [s === "." ? "safegrad" : `safegrad${s.slice(1)}`, EXPECTED_EXPORTS[s] ?? []]))}) {
  const ns = await import(spec);
  if (Object.keys(ns).length === 0) throw new Error(spec + " exports nothing");
  const missing = names.filter((n) => ns[n] === undefined);
  if (missing.length) throw new Error(spec + " lacks " + missing.join(", "));
}`;
}

const jsScript = (subpaths: string[]): string => `// Plain JavaScript ESM, as a user would write it.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rmSync, mkdtempSync } from "node:fs";
import { tensor, gradcheck, Linear, crossEntropy, detectAnomaly, AnomalyError, getBackend } from "safegrad";
import { io, loadDigits, Tensor } from "safegrad/node";

// every subpath export
${importEverySubpath(subpaths)}

// tensor -> backward
const x = tensor([1, 2, 3], { requiresGrad: true });
x.square().sum().backward();
assert.deepEqual(x.grad.toArray(), [2, 4, 6]);
// fast by default in Node: the first op chose the WASM SIMD backend, with no call
assert.equal(getBackend().name, "wasm");

// a float64 gradient check
const a = tensor([0.3, -1.2, 2.5], { dtype: "float64", requiresGrad: true });
assert.equal(gradcheck((t) => t.tanh().mul(t).sum(), [a]), true);

// a layer and a loss
const fc = new Linear(4, 3);
const loss = crossEntropy(fc.forward(tensor([[1, 2, 3, 4]])), tensor([2], { dtype: "int32" }));
loss.backward();
assert.ok(Number.isFinite(loss.item()));
assert.ok(fc.weight.grad instanceof Tensor);

// the NaN guard
let reported;
try {
  detectAnomaly(() => tensor([-1], { requiresGrad: true }).log().sum().backward());
} catch (e) {
  if (e instanceof AnomalyError) reported = e.report.op;
  else throw e;
}
assert.equal(reported, "log");

// the Node entry: the embedded data (read from the installed package's data/ folder)
const digits = loadDigits();
assert.equal(digits.n, 1797);
assert.equal(digits.x.length, 1797 * 64);

// io.save / io.load round trip
const dir = mkdtempSync(join(tmpdir(), "safegrad-consumer-"));
try {
  const path = join(dir, "model.safetensors");
  await io.save(fc.stateDict(), path);
  const { tensors } = await io.load(path);
  assert.deepEqual(Object.keys(tensors).sort(), ["bias", "weight"]);
  assert.deepEqual(Array.from(tensors.weight.data), Array.from(fc.weight.toTypedArray()));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log("consumer.mjs: all checks passed");
`;

/** A CommonJS project: dynamic import() of every subpath export, a training step, and require(). */
const cjsScript = (subpaths: string[]): string => `// CommonJS ("type": "commonjs"), as in an older project.
"use strict";
const assert = require("node:assert/strict");

(async () => {
  ${importEverySubpath(subpaths).replace(/\n/g, "\n  ")}

  const { tensor, Linear, SGD, mseLoss } = await import("safegrad");
  const fc = new Linear(3, 1);
  const opt = new SGD(fc.parameters(), { lr: 0.1 });
  const x = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]);
  const y = tensor([[1], [2], [3], [6]]);
  const losses = [];
  for (let i = 0; i < 20; i++) {
    opt.zeroGrad();
    const loss = mseLoss(fc.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  assert.ok(losses[19] < losses[0] / 4, "the loss did not fall: " + losses.join(", "));

  const { loadDigits } = await import("safegrad/node");
  assert.equal(loadDigits().n, 1797);

  // require() of an ES module: Node >= 20.19 / 22.12 loads it, older Node refuses with ERR_REQUIRE_ESM;
  // never ERR_PACKAGE_PATH_NOT_EXPORTED (an exports map without a fallback condition).
  for (const spec of ["safegrad", "safegrad/node"]) {
    try {
      assert.equal(typeof require(spec).tensor, "function");
    } catch (e) {
      if (e.code !== "ERR_REQUIRE_ESM" && e.code !== "ERR_REQUIRE_ASYNC_MODULE") throw e;
    }
  }
  console.log("consumer (CommonJS): all checks passed");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
`;

/** Bundled for the browser: no Node module may be pulled in. Runs under Node too (no DOM needed). */
const BROWSER_ENTRY = `import { tensor, Linear, crossEntropy, serialize, deserialize, Adam, ready, getBackend } from "safegrad";
// Fast by default with no call: the browser entry loads the fast kernels on first use.
if ((await ready()) !== "wasm" || getBackend().name !== "wasm") throw new Error("not fast by default: " + getBackend().name);
const x = tensor([1, 2, 3], { requiresGrad: true });
x.square().sum().backward();
if (JSON.stringify(x.grad.toArray()) !== "[2,4,6]") throw new Error("wrong gradient " + x.grad.toArray());
const fc = new Linear(4, 3);
const opt = new Adam(fc.parameters(), { lr: 0.01 });
const loss = crossEntropy(fc.forward(tensor([[1, 2, 3, 4]])), tensor([2], { dtype: "int32" }));
loss.backward();
opt.step();
const back = deserialize(serialize(fc.stateDict()));
if (Object.keys(back.tensors).sort().join() !== "bias,weight") throw new Error("safetensors round trip: " + Object.keys(back.tensors));
console.log("browser bundle: all checks passed");
`;

/** Bundled for Node: every subpath export in one bundle. */
const nodeEntry = (subpaths: string[]): string => `import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
${subpaths.map((s, i) => `import * as m${i} from ${JSON.stringify(s === "." ? "safegrad" : `safegrad${s.slice(1)}`)};`).join("\n")}
const modules = [${subpaths.map((_, i) => `m${i}`).join(", ")}];
if (modules.some((m) => Object.keys(m).length === 0)) throw new Error("a subpath exports nothing");
const { tensor, io, Linear } = await import("safegrad/node");
const dir = mkdtempSync(join(tmpdir(), "safegrad-bundle-"));
try {
  const fc = new Linear(2, 2);
  await io.save(fc.stateDict(), join(dir, "m.safetensors"));
  const t = await io.loadTensors(join(dir, "m.safetensors"));
  if (t.size !== 2 || tensor([1]).add(1).item() !== 2) throw new Error("io round trip failed");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log("node bundle: all checks passed");
`;

async function bundleAndRun(name: string, app: string, contents: string, platform: "browser" | "node"): Promise<void> {
  await step(`esbuild: ${name}`, async () => {
    const r = await build({
      stdin: { contents, resolveDir: app, sourcefile: `${name}.mjs`, loader: "js" },
      absWorkingDir: app,
      bundle: true,
      platform,
      format: "esm",
      target: "es2022",
      write: false,
      metafile: true,
      logLevel: "silent",
    }).catch((e: unknown) => {
      const errors = (e as { errors?: { text: string }[] }).errors;
      throw new Error(errors?.length ? errors.map((x) => x.text).join("; ") : String(e));
    });
    const inputs = Object.keys(r.metafile.inputs);
    if (!inputs.some((i) => i.includes("node_modules/safegrad/dist/"))) throw new Error(`the bundle holds nothing from node_modules/safegrad/dist: ${inputs.join(", ")}`);
    const output = Object.values(r.metafile.outputs)[0];
    const nodeImports = (output?.imports ?? []).map((i) => i.path).filter((p) => p.startsWith("node:") || p === "fs" || p === "path");
    if (platform === "browser" && nodeImports.length) throw new Error(`the browser bundle imports ${[...new Set(nodeImports)].join(", ")}`);
    writeFileSync(join(app, `${name}.bundle.mjs`), r.outputFiles[0]!.text);
  });
  const out = run(`node ${name}.bundle.mjs`, process.execPath, [`${name}.bundle.mjs`], app);
  if (!out.includes("all checks passed")) throw new StepError(`${name}.bundle.mjs did not finish:\n${out}`);
}

const TS_FILE = `// Strict TypeScript against the published declarations.
import { tensor, grad, zeros, Linear, Sequential, ReLU, Adam, crossEntropy, detectAnomaly, AnomalyError, nn } from "safegrad";
import type { Tensor, DType, AnomalyReport, Backend } from "safegrad";
import { io, loadDigits, type DigitsData } from "safegrad/node";

const x: Tensor = tensor([1, 2, 3], { requiresGrad: true });
const y: Tensor = x.square().sum();
y.backward();
const g: number[] | undefined = x.grad?.toArray() as number[] | undefined;
const [d1] = grad([x.pow(3).sum()], [x], { createGraph: true });
const dt: DType = zeros([2]).dtype;

const model = new Sequential(new Linear(64, 16), new ReLU(), new Linear(16, 10));
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const data: DigitsData = loadDigits();
const logits: Tensor = model.forward(tensor(data.x.slice(0, 64 * 4), { dtype: "float32" }).reshape([4, 64]));
const loss: Tensor = crossEntropy(logits, tensor(data.y.slice(0, 4), { dtype: "int32" }));
loss.backward();
opt.step();
const l1: Tensor = nn.functional.l1Loss(logits, logits.detach());

let report: AnomalyReport | undefined;
try {
  detectAnomaly(() => tensor([-1], { requiresGrad: true }).log().sum().backward());
} catch (e) {
  if (e instanceof AnomalyError) report = e.report;
}
const op: string | undefined = report?.op;

async function roundTrip(path: string): Promise<number> {
  await io.save(model.stateDict(), path);
  const { tensors } = await io.load(path);
  return Object.keys(tensors).length;
}
declare const backend: Backend;
export { g, d1, dt, l1, op, roundTrip, backend };
`;

function tsconfig(moduleResolution: "NodeNext" | "Bundler"): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module: moduleResolution === "NodeNext" ? "NodeNext" : "ESNext",
        moduleResolution,
        lib: ["ES2022"],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        // NOTE: our own .d.ts files are checked too (skipLibCheck off), so a broken declaration fails here.
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        noEmit: true,
      },
      files: ["consumer.ts"],
    },
    null,
    2,
  );
}

interface PackedFile {
  path: string;
}
interface PackInfo {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

/** Every file named by main, types and the exports map (all conditions), without "./". */
function exportTargets(pkg: { main?: string; types?: string; exports?: unknown }): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === "string") out.add(v.replace(/^\.\//, ""));
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(pkg.main);
  walk(pkg.types);
  walk(pkg.exports);
  return [...out];
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), "safegrad-package-test-"));
  console.log(`working in ${work}`);
  try {
    const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout?.trim();
    if (dirty) console.log("     note: packing the committed HEAD; uncommitted changes are not in the clone");
    const clone = join(work, "clone");
    run("git clone (HEAD, no dist/)", "git", ["clone", "--quiet", root, clone], work);
    if (existsSync(join(clone, "dist"))) throw new StepError("the fresh clone already has a dist/ folder (is dist/ committed?)");
    if (cli["link-node-modules"]) {
      symlinkSync(join(root, "node_modules"), join(clone, "node_modules"), "dir");
      console.log("     linked this checkout's node_modules into the clone");
    } else {
      run("npm ci in the clone", npm, ["ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], clone);
    }

    // npm pack runs the prepack script, which must build dist/ (stdout: only the JSON; scripts log to stderr)
    const packJson = run("npm pack in the clone (prepack builds dist/)", npm, ["pack", "--json", "--pack-destination", work], clone);
    const packed = JSON.parse(packJson) as PackInfo[];
    const info = packed[0];
    if (!info) throw new StepError("npm pack printed no package");
    const tarball = join(work, info.filename);
    const files = info.files.map((f) => f.path);
    const clonePkg = JSON.parse(readFileSync(join(clone, "package.json"), "utf8")) as { main?: string; types?: string; exports?: Record<string, unknown> };
    const subpaths = Object.keys(clonePkg.exports ?? { ".": null });
    const targets = exportTargets(clonePkg);
    for (const need of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/node.js", "dist/node.d.ts", "data/digits.csv.gz", ...targets]) {
      if (!files.includes(need)) throw new StepError(`the tarball lacks ${need}${targets.includes(need) ? " (named in package.json's main/types/exports)" : ""}`);
    }
    const stray = files.filter((f) => /^(src|test|test-browser|test-interop|scripts|bench|examples|fixtures|runs|docs|node_modules)\//.test(f));
    if (stray.length) throw new StepError(`the tarball holds files users do not need: ${stray.slice(0, 5).join(", ")}`);
    console.log(`     ${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(1)} KB packed, ${(info.unpackedSize / 1024).toFixed(1)} KB unpacked; subpath exports ${subpaths.join(", ")}`);

    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "safegrad-consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
    run("npm install <tarball> (offline)", npm, ["install", tarball, "--offline", "--no-audit", "--no-fund", "--no-package-lock"], app);
    const installed = JSON.parse(readFileSync(join(app, "node_modules", "safegrad", "package.json"), "utf8")) as { dependencies?: object };
    if (installed.dependencies && Object.keys(installed.dependencies).length) throw new StepError("safegrad declares runtime dependencies");

    writeFileSync(join(app, "consumer.mjs"), jsScript(subpaths));
    const out = run("node consumer.mjs (plain JavaScript ESM, every subpath)", process.execPath, ["consumer.mjs"], app);
    if (!out.includes("all checks passed")) throw new StepError(`consumer.mjs did not finish:\n${out}`);

    // a CommonJS project (its own package.json), resolving safegrad from the app's node_modules
    const cjs = join(app, "cjs");
    mkdirSync(cjs);
    writeFileSync(join(cjs, "package.json"), JSON.stringify({ name: "safegrad-cjs-consumer", version: "1.0.0", private: true, type: "commonjs" }, null, 2));
    writeFileSync(join(cjs, "index.js"), cjsScript(subpaths));
    const cjsOut = run("node cjs/index.js (CommonJS, dynamic import of every subpath)", process.execPath, ["--no-warnings", "index.js"], cjs);
    if (!cjsOut.includes("all checks passed")) throw new StepError(`cjs/index.js did not finish:\n${cjsOut}`);

    await bundleAndRun("browser", app, BROWSER_ENTRY, "browser");
    await bundleAndRun("node", app, nodeEntry(subpaths), "node");

    writeFileSync(join(app, "consumer.ts"), TS_FILE);
    for (const mr of ["NodeNext", "Bundler"] as const) {
      writeFileSync(join(app, "tsconfig.json"), tsconfig(mr));
      run(`tsc --noEmit, strict, moduleResolution ${mr}`, process.execPath, [tsc, "-p", "tsconfig.json"], app);
    }
    console.log(`package test passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    if (cli.keep) console.log(`kept ${work}`);
    else if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`\npackage test FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
