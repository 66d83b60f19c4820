/**
 * `npm run test:package`: does the published package work for a new user?
 *
 * 1. `npm run build` (a clean `dist/`), then `npm pack` into a temporary folder;
 * 2. a fresh project there, `npm install <tarball>` (offline: safegrad has no runtime dependencies);
 * 3. a plain JavaScript ESM script imports "safegrad" (tensor → backward → gradcheck) and
 *    "safegrad/node" (loadDigits, io.save / io.load round trip) and runs under Node;
 * 4. a strict TypeScript file using both entries is type-checked with this repository's `tsc`,
 *    once with `moduleResolution: "NodeNext"` and once with `"Bundler"`.
 *
 * Exits non-zero with a message naming the failed step. `--keep` leaves the temporary folder.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

class StepError extends Error {}

function run(step: string, cmd: string, args: string[], cwd: string): string {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.error || r.status !== 0) {
    throw new StepError(`step "${step}" failed: ${cmd} ${args.join(" ")} (in ${cwd}) exited with ${r.error ? r.error.message : `code ${r.status}`}\n${out}`);
  }
  console.log(`ok   ${step} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r.stdout ?? "";
}

const JS_SCRIPT = `// Plain JavaScript ESM, as a user would write it.
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rmSync, mkdtempSync } from "node:fs";
import { tensor, gradcheck, Linear, crossEntropy, detectAnomaly, AnomalyError } from "safegrad";
import { io, loadDigits, Tensor } from "safegrad/node";

// tensor -> backward
const x = tensor([1, 2, 3], { requiresGrad: true });
x.square().sum().backward();
assert.deepEqual(x.grad.toArray(), [2, 4, 6]);

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

function main(): void {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), "safegrad-package-test-"));
  console.log(`working in ${work}`);
  try {
    rmSync(join(root, "dist"), { recursive: true, force: true });
    run("npm run build", npm, ["run", "build", "--silent"], root);

    const packJson = run("npm pack", npm, ["pack", "--json", "--pack-destination", work], root);
    const packed = JSON.parse(packJson) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    const info = packed[0];
    if (!info) throw new StepError("npm pack printed no package");
    const tarball = join(work, info.filename);
    const files = info.files.map((f) => f.path);
    for (const need of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/node.js", "dist/node.d.ts", "data/digits.csv.gz"]) {
      if (!files.includes(need)) throw new StepError(`the tarball lacks ${need}`);
    }
    const stray = files.filter((f) => /^(src|test|test-browser|scripts|bench|examples|fixtures|runs)\//.test(f));
    if (stray.length) throw new StepError(`the tarball holds files users do not need: ${stray.slice(0, 5).join(", ")}`);
    console.log(`     ${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(1)} KB packed, ${(info.unpackedSize / 1024).toFixed(1)} KB unpacked`);

    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "safegrad-consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
    run("npm install <tarball> (offline)", npm, ["install", tarball, "--offline", "--no-audit", "--no-fund", "--no-package-lock"], app);
    const installed = JSON.parse(readFileSync(join(app, "node_modules", "safegrad", "package.json"), "utf8")) as { dependencies?: object };
    if (installed.dependencies && Object.keys(installed.dependencies).length) throw new StepError("safegrad declares runtime dependencies");

    writeFileSync(join(app, "consumer.mjs"), JS_SCRIPT);
    const out = run("node consumer.mjs (plain JavaScript ESM)", process.execPath, ["consumer.mjs"], app);
    if (!out.includes("all checks passed")) throw new StepError(`consumer.mjs did not finish:\n${out}`);

    writeFileSync(join(app, "consumer.ts"), TS_FILE);
    for (const mr of ["NodeNext", "Bundler"] as const) {
      writeFileSync(join(app, "tsconfig.json"), tsconfig(mr));
      run(`tsc --noEmit, strict, moduleResolution ${mr}`, process.execPath, [tsc, "-p", "tsconfig.json"], app);
    }
    console.log(`package test passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    if (keep) console.log(`kept ${work}`);
    else if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  console.error(`\npackage test FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
