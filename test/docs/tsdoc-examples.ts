/**
 * The `@example` blocks of the TSDoc comments in src/, extracted and run.
 *
 * Examples are often fragments ("model.forward(x)"): they run inside a scope that holds every
 * export of "safegrad/node" plus a few conventional fixtures (`model`, `x`, `y`, `opt`, ...,
 * see FIXTURES), each example in its own block so it may redeclare them. Import lines are
 * dropped (everything is in scope, and the members of `nn` too), TypeScript is stripped with esbuild, and file names
 * ("model.safetensors") resolve inside a temporary working directory.
 *
 * `npx tsx test/docs/tsdoc-examples.ts` lists every example with its result.
 */
import { transform } from "esbuild";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as sg from "../../src/node.js";
import { setDetectAnomaly } from "../../src/guard/anomaly.js";
import { root } from "./snippets.js";

export interface TsdocExample {
  /** "src/file.ts:line" of the @example tag. */
  where: string;
  /** The declaration the comment documents (its first line), for humans. */
  owner: string;
  code: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every @example in the TSDoc comments under src/. */
export function extractTsdocExamples(srcDir = join(root, "src")): TsdocExample[] {
  const out: TsdocExample[] = [];
  for (const file of walk(srcDir).sort()) {
    const text = readFileSync(file, "utf8");
    const re = /\/\*\*([\s\S]*?)\*\//g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const body = m[1]!.split("\n").map((l) => l.replace(/^\s*\* ?/, ""));
      const startLine = text.slice(0, m.index).split("\n").length;
      const after = text.slice(m.index + m[0].length).split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
      for (let i = 0; i < body.length; i++) {
        if (!/^@example\b/.test(body[i]!.trim())) continue;
        const lines: string[] = [];
        let j = i + 1;
        for (; j < body.length && !/^@\w/.test(body[j]!.trim()); j++) lines.push(body[j]!);
        const code = lines
          .filter((l) => !/^```/.test(l.trim()))
          .join("\n")
          .trim();
        if (code) out.push({ where: `${relative(root, file)}:${startLine + i}`, owner: after.slice(0, 90), code });
        i = j - 1;
      }
    }
  }
  return out;
}

/** Conventional names that fragments use; each example gets fresh ones. */
export const FIXTURES = `
const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
const net = model;
const x = randn([2, 4], { requiresGrad: true });
const input = x;
const y = tensor([0, 2], { dtype: "int32" });
const logits = randn([2, 3], { requiresGrad: true });
const pred = randn([2, 3], { requiresGrad: true });
const target = randn([2, 3]);
const targets = rand([2, 3]);
const opt = new SGD(model.parameters(), { lr: 0.1 });
const optimizer = opt;
const sched = new StepLR(opt, { stepSize: 10 });
const scheduler = sched;
const loss = crossEntropy(model.forward(x), y);
const a = randn([2, 3], { requiresGrad: true });
const b = randn([2, 3], { requiresGrad: true });
const t = randn([2, 3], { requiresGrad: true });
const batches = [{ x, y }];
const weight = randn([3, 4], { requiresGrad: true });
const bias = randn([3], { requiresGrad: true });
const w = randn([3, 4]);
const runningMean = zeros([4]);
const runningVar = ones([4]);
const labels = y;
const probs = rand([2, 3]);
const p = softmax(randn([2, 3]), 1);
const logq = logSoftmax(randn([2, 3], { requiresGrad: true }), 1);
const embeddings = randn([2, 4], { requiresGrad: true });
const frames = randn([2, 5], { requiresGrad: true });
const other = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
const checkpoint = model.stateDict();
const partial = new Map();
const opt2 = new SGD(model.parameters(), { lr: 0.1 });
const lossFn = crossEntropy;
const bytes = serialize({ w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } });
const epochs = [0, 1, 2];
const batchesPerEpoch = 10;
const train = () => {};
const validationLoss = () => 1;
const report = (() => {
  try {
    detectAnomaly(() => tensor([-1, 4]).sqrt());
  } catch (e) {
    if (e instanceof AnomalyError) return e.report;
  }
  throw new Error("fixture: no anomaly report");
})();
`;

/**
 * Where each public name is declared: "src/file.ts#name" for every export of the entry points
 * (src/node.ts, which re-exports src/index.ts) and of the namespaces they export (`nn`, `nn.init`,
 * `nn.functional`, `io`), type-only exports included, found by following the `export ... from`
 * statements to the file that declares the name. Two files may declare the same name (the
 * tensor `zerosLike` is public, the optimizers' array helper of that name is not): the site tells
 * them apart.
 */
const PUBLIC_SITES: ReadonlySet<string> = (() => {
  const sites = new Set<string>();
  const texts = new Map<string, string>();
  const text = (file: string): string => {
    if (!texts.has(file)) texts.set(file, readFileSync(join(root, file), "utf8"));
    return texts.get(file)!;
  };
  const target = (from: string, spec: string): string => relative(root, resolve(root, from, "..", spec.replace(/\.js$/, ".ts"))).split("\\").join("/");
  const declares = (file: string, name: string): boolean =>
    new RegExp(`^export\\s+(?:declare\\s+)?(?:async\\s+)?(?:abstract\\s+)?(?:function\\*?|class|const|let|var|interface|type)\\s+${name.replace(/\$/g, "\\$")}\\b`, "m").test(text(file));
  /** The file declaring `name` as exported by `file`, or undefined. */
  const site = (file: string, name: string, depth = 0): string | undefined => {
    if (depth > 20) return undefined;
    if (declares(file, name)) return file;
    const src = text(file);
    for (const m of src.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/g)) {
      for (const item of m[1]!.split(",")) {
        const [orig, alias] = item.trim().replace(/^type\s+/, "").split(/\s+as\s+/);
        if (orig && (alias ?? orig) === name) return site(target(file, m[2]!), orig, depth + 1);
      }
    }
    for (const m of src.matchAll(/export\s+\*\s+from\s*["']([^"']+)["']/g)) {
      const found = site(target(file, m[1]!), name, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const scopes: [string, Record<string, unknown>][] = [["src/node.ts", sg]];
  const nn = sg.nn as unknown as Record<string, Record<string, unknown>>;
  scopes.push(["src/layers/index.ts", sg.nn], ["src/io/index.ts", sg.io], ["src/layers/init.ts", nn["init"]!], ["src/layers/functional.ts", nn["functional"]!]);
  for (const [file, scope] of scopes) {
    for (const name of Object.keys(scope)) {
      const f = site(file, name);
      if (f) sites.add(`${f}#${name}`);
    }
  }
  // Type-only exports of the entry points (`export type { Node }`): public, though absent at run time.
  for (const file of ["src/index.ts", "src/node.ts", "src/layers/index.ts", "src/io/index.ts"]) {
    for (const m of text(file).matchAll(/export\s+type\s*\{([^}]*)\}/g)) {
      for (const item of m[1]!.split(",")) {
        const name = item.trim().split(/\s+as\s+/).pop();
        const f = name ? site(file, name) : undefined;
        if (f && name) sites.add(`${f}#${name}`);
      }
    }
  }
  return sites;
})();

const EXPORTED = /^export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/;

/**
 * The name of a runtime export documented by this example, when that declaration is not part of
 * the public API (not reachable from "safegrad/node", `nn`, `nn.init`, `nn.functional` or `io`,
 * type-only exports included): such examples document internals and are not run. Methods, types
 * and public exports give undefined.
 */
export function internalOwner(ex: TsdocExample): string | undefined {
  const name = EXPORTED.exec(ex.owner)?.[1];
  if (!name) return undefined;
  const file = ex.where.slice(0, ex.where.lastIndexOf(":"));
  return PUBLIC_SITES.has(`${file}#${name}`) ? undefined : name;
}

export interface ExampleResult {
  ok: boolean;
  error?: string;
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
const ident = (k: string): boolean => /^[A-Za-z_$][\w$]*$/.test(k);
const names = Object.keys(sg).filter(ident);
// torch.nn-style names (L1Loss, init, functional) that live only in the `nn` namespace.
const nnNames = Object.keys(sg.nn).filter((k) => ident(k) && !names.includes(k));
// save/load/... that the Node entry exports as io.save, io.load.
const ioNames = Object.keys(sg.io).filter((k) => ident(k) && !names.includes(k) && !nnNames.includes(k));

/** Run one example in the fixture scope, in a temporary working directory. */
export async function runTsdocExample(code: string): Promise<ExampleResult> {
  const body = code
    .split("\n")
    .filter((l) => !/^\s*import\s.*from\s+["']safegrad(\/[a-z]+)?["'];?\s*$/.test(l))
    .join("\n");
  const cwd = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), "safegrad-tsdoc-"));
  try {
    const js = (await transform(`${FIXTURES}\n{\n${body}\n}`, { loader: "ts", format: "esm", target: "es2022" })).code;
    const fn = new AsyncFunction("__sg", `const { ${names.join(", ")} } = __sg;\nconst { ${nnNames.join(", ")} } = __sg.nn;\nconst { ${ioNames.join(", ")} } = __sg.io;\n${js}`);
    sg.setBackend("js");
    sg.manualSeed(0);
    setDetectAnomaly(false);
    process.chdir(dir);
    await fn(sg);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message.split("\n")[0]}` : String(e) };
  } finally {
    process.chdir(cwd);
    setDetectAnomaly(false);
    sg.setBackend("js");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const examples = extractTsdocExamples();
  let ok = 0;
  for (const ex of examples) {
    const internal = internalOwner(ex);
    if (internal) {
      console.log(`skip ${ex.where}  (documents ${internal}, not a public export)`);
      continue;
    }
    const r = await runTsdocExample(ex.code);
    if (r.ok) ok++;
    console.log(`${r.ok ? "ok  " : "FAIL"} ${ex.where}  ${r.ok ? "" : r.error}`);
  }
  console.log(`\n${ok} of ${examples.length - examples.filter((e) => internalOwner(e)).length} public examples run`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main();
}
