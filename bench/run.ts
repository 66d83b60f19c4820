/**
 * The benchmark suite: workloads W1-W5 on our backends and on TF.js (cpu, wasm) and jax-js (wasm)
 * in one run, printed as one table with ratios (or JSON).
 *
 *   npm run bench -- [--workloads W1,W4] [--backends js-fast,wasm,wasm-2t,tfjs-wasm] [--threads 1|2]
 *                    [--quick] [--json FILE] [--runs 7] [--budget-ms 25000] [--rounds 1]   (--help lists them)
 *                    [--relaxed-simd]
 *   npm run bench -- --backend ./my-backend.ts [--ops [--max-size 16] [--only exp,add]]
 *   npm run bench -- compare A.json B.json
 *
 * `--backend FILE` loads a module exporting a Backend (or a partial one, or a factory: see
 * backend-module.ts) and runs it as one more implementation, in its own child, in the same rounds,
 * with ratio columns against our built-in backends. `--ops` times Backend methods one by one
 * instead of the workloads (ops.ts). `--json FILE` writes the results (every timed run included,
 * for the spread); `compare` (compare.ts) reads two such files.
 *
 * `wasm-2t` is the wasm backend on two threads (a worker sharing its memory) whatever `--threads`
 * says, so `--backends wasm,wasm-2t,tfjs-wasm` compares one and two threads in one run.
 *
 * `--relaxed-simd` runs the children with `--experimental-wasm-relaxed-simd` (Node 20), so the wasm
 * GEMM kernels multiply-add with `f32x4.relaxed_madd` (`fmaSupported()`); the table says which
 * mode the wasm children ran in.
 *
 * `--quick` is a ~10 s smoke version: small sizes, 3 runs, js-fast/wasm/tfjs-wasm/jax only.
 *
 * Each implementation runs in its own child process (sequentially, never concurrently), so JIT
 * state and memory do not leak between them and the W4 peak RSS (W4 runs first in each child) is
 * that implementation's own. Each cell: warm-up (up to 10 runs or 1 s), then the median of `--runs` (>= 7) timed runs;
 * a cell whose single run exceeds the per-cell budget runs fewer times and is marked `*`.
 *
 * The children run compiled JS, not tsx: the parent bundles this script once with esbuild into
 * node_modules/.cache/safegrad-bench (packages stay external) and runs the bundle, so the W4 peak
 * RSS is the workload's and not tsx's loader (a wasm child: 136 MiB under tsx, 86 bundled). Without
 * esbuild, with --backend (a .ts module needs tsx's loader) or with SAFEGRAD_BENCH_TSX=1 they run
 * under tsx as the parent; the table says which.
 *
 * `--rounds N` runs the whole sequence of children N times, round-robin, and keeps each cell's
 * best median (and the highest RSS). On a shared machine whose speed moves by tens of percent
 * within minutes, one child can land in a slow phase and skew a same-run ratio; the best of
 * three rounds treats every implementation alike and is much steadier.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseCli, usageError } from "../scripts/cli.js";
import { buildCases, median, NotAvailable, type Case, type Impl } from "./common.js";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fmaSupported } from "../src/kernels/wasm/emit.js";
import { registerBackend, getBackend, type Backend } from "../src/index.js";
import { BackendModuleError, loadBackendModule } from "./backend-module.js";
import { opCases, runOps } from "./ops.js";

const ALL_BACKENDS = ["js", "js-fast", "wasm", "wasm-2t", "tfjs-cpu", "tfjs-wasm", "jax", "jax-jit", "torch"];
const ALL_WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6"];

interface Options {
  workloads: string[];
  backends: string[];
  threads: number;
  quick: boolean;
  json: string | undefined;
  runs: number;
  budgetMs: number;
  rounds: number;
  /** --relaxed-simd: the children run with --experimental-wasm-relaxed-simd. */
  relaxedSimd: boolean;
  /** --backend: the module of a third-party backend. */
  backendFile: string | undefined;
  /** --ops and its sizes (log2) and op filter. */
  ops: boolean;
  minSize: number;
  maxSize: number;
  only: string[] | undefined;
}

function parseArgs(argv: string[]): Options & { child?: string } {
  const { values: v } = parseCli(
    {
      command: "npm run bench --",
      description: `The benchmark suite: workloads W1-W5 (W1 matmul, W2 elementwise, W3 sum and softmax, W4 an MLP
train step, W5 conv2d forward and gradients) on our backends and on TF.js (cpu, wasm) and jax-js
(wasm), each implementation in its own child process, printed as one table with speedup ratios (or
JSON). The full run takes several minutes; --quick is a ~10 s smoke version.`,
      epilog: `A backend of your own: --backend ./mine.ts (a module exporting a Backend, a partial one or a factory).
Two runs written with --json: npm run bench -- compare A.json B.json (speedups with their spread).`,
      options: {
        workloads: { type: "string", value: "LIST", help: `comma-separated workloads (default all: ${ALL_WORKLOADS.join(",")})` },
        backends: { type: "string", value: "LIST", help: `comma-separated implementations (default all: ${ALL_BACKENDS.join(",")}; --quick: js-fast,wasm,tfjs-wasm,jax)` },
        threads: { type: "integer", default: 1, min: 1, max: 2, value: "1|2", help: "threads of the wasm backend (wasm-2t always uses 2)" },
        quick: { type: "boolean", help: "small sizes, 3 runs, a 300 ms cell budget" },
        json: { type: "string", value: "FILE", help: "write the results as JSON to FILE (- prints them instead of the table); compare two with: npm run bench -- compare A.json B.json" },
        backend: { type: "string", value: "FILE", help: "a module exporting a Backend (or a partial one, or a factory): run it beside the others, in the same rounds" },
        ops: { type: "boolean", help: "time Backend methods one by one (every unary, binary and reduce op, 2^10..2^22 elements, contiguous and strided) instead of the workloads" },
        "max-size": { type: "integer", min: 10, max: 22, value: "LOG2", help: "--ops: the largest size, 2^LOG2 elements (default 22; --quick: 16)" },
        "min-size": { type: "integer", min: 10, max: 22, value: "LOG2", help: "--ops: the smallest size (default 10)" },
        only: { type: "string", value: "LIST", help: "--ops: only these ops (comma-separated, e.g. exp,add,sum)" },
        runs: { type: "integer", min: 1, value: "N", help: "timed runs per cell after warm-up (default 7, at least 7 unless --quick; --quick: 3)" },
        "budget-ms": { type: "number", min: 1, value: "MS", help: "per-cell time budget; a slower cell runs fewer times (default 25000; --quick: 300)" },
        rounds: { type: "integer", default: 1, min: 1, value: "N", help: "run the implementations round-robin N times, keep each cell's best median" },
        "relaxed-simd": { type: "boolean", help: "run the children with --experimental-wasm-relaxed-simd (Node 20): the wasm GEMMs use relaxed SIMD's FMA" },
        child: { type: "string", hidden: true, help: "(internal) run one implementation and print its results" },
      },
    },
    argv,
  );
  const list = (s: string | undefined, all: string[]): string[] => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : all);
  const quick = v.quick;
  const o = {
    workloads: list(v.workloads, ALL_WORKLOADS).map((w) => w.toUpperCase()),
    // NOTE: the smoke version skips the slow pure-JS incumbents unless asked for explicitly.
    backends: list(v.backends, quick ? ["js-fast", "wasm", "tfjs-wasm", "jax"] : ALL_BACKENDS),
    threads: v.threads,
    quick,
    json: v.json,
    runs: quick ? (v.runs ?? 3) : Math.max(7, v.runs ?? 7),
    budgetMs: v["budget-ms"] ?? (quick ? 300 : 25000),
    rounds: v.rounds,
    relaxedSimd: v["relaxed-simd"],
    ...(v.child === undefined ? {} : { child: v.child }),
    backendFile: v.backend,
    ops: v.ops,
    minSize: v["min-size"] ?? 10,
    maxSize: v["max-size"] ?? (quick ? 16 : 22),
    only: v.only === undefined ? undefined : list(v.only, []),
  };
  // --ops times Backend methods: ours by default (the peers have none), at most 2 s per cell
  if (o.ops && v.backends === undefined) o.backends = ["js-fast", "wasm"];
  if (o.ops) o.budgetMs = Math.min(o.budgetMs, 2000);
  if (o.minSize > o.maxSize) usageError(`--min-size ${o.minSize} is above --max-size ${o.maxSize}`);
  // the --backend module's name is known once it is loaded (main checks a child's name then)
  for (const b of [...o.backends, ...(o.child === undefined || o.backendFile ? [] : [o.child])]) {
    // with --backend, one more name is the module's (checked once it is loaded)
    if (!ALL_BACKENDS.includes(b) && !o.backendFile) usageError(`--backends: unknown implementation "${b}" (known: ${ALL_BACKENDS.join(", ")})`);
  }
  for (const w of o.workloads) if (!ALL_WORKLOADS.includes(w)) usageError(`--workloads: unknown workload "${w}" (known: ${ALL_WORKLOADS.join(", ")})`);
  return o;
}

interface Cell {
  id: string;
  /** median milliseconds per run, or null */
  ms: number | null;
  runs: number;
  /** every timed run (ms), for the spread (`compare`) */
  times?: number[];
  note?: string;
}
interface ChildResult {
  backend: string;
  cells: Cell[];
  /** peak RSS after W4 (MiB) */
  w4RssMiB?: number;
  error?: string;
  /** The child's wasm kernels multiply-add with relaxed SIMD's FMA (fmaSupported()). */
  fma?: boolean;
}

/** The --backend module's backend (loaded by main, in the parent and in its child). */
let custom: Backend | null = null;
/** Ratio columns of the --backend backend against our built-in ones. */
const extraRatios: [string, string][] = [];

/** The --backend backend as an implementation: our workloads (impl-ours.ts) with it registered and selected. */
async function customImpl(b: Backend): Promise<Impl> {
  const ours = (await import("./impl-ours.js")).oursImpl(b.name);
  return {
    ...ours,
    async init(threads) {
      if (threads !== 1) throw new NotAvailable(`${b.name} runs one thread`);
      registerBackend(b);
      await ours.init(1);
    },
  };
}

/** Our implementations, which have Backend methods for --ops. */
const OURS = ["js", "js-fast", "wasm", "wasm-2t"];

/** --ops in the child: the Backend methods of one implementation, one cell per op, size and layout. */
async function childOps(name: string, o: Options): Promise<ChildResult> {
  const res: ChildResult = { backend: name, cells: [] };
  if (!OURS.includes(name) && !(custom && name === custom.name)) return { ...res, error: "--ops times Backend methods: ours and --backend only" };
  try {
    await (await loadImpl(name)).init(o.threads);
  } catch (e) {
    return { ...res, error: reason(e) };
  }
  res.cells = runOps(getBackend(), opCases({ minLog: o.minSize, maxLog: o.maxSize, ...(o.only ? { only: o.only } : {}) }), o.runs, o.budgetMs);
  return res;
}

async function loadImpl(name: string): Promise<Impl> {
  if (custom && name === custom.name) return customImpl(custom);
  if (name === "tfjs-cpu" || name === "tfjs-wasm") return (await import("./impl-tfjs.js")).tfjsImpl(name === "tfjs-cpu" ? "cpu" : "wasm");
  if (name === "jax" || name === "jax-jit") return (await import("./impl-jax.js")).jaxImpl(name === "jax" ? "eager" : "jit");
  if (name === "torch") return (await import("./impl-torch.js")).torchImpl();
  return (await import("./impl-ours.js")).oursImpl(name);
}

const reason = (e: unknown): string => (e instanceof NotAvailable ? e.message : `error: ${(e as Error).message?.split("\n")[0] ?? String(e)}`);

/** Runs inside the child process: every case on one implementation. */
async function child(name: string, o: Options): Promise<ChildResult> {
  const res: ChildResult = { backend: name, cells: [], fma: fmaSupported() };
  const impl = await loadImpl(name);
  const cases = buildCases(o.workloads, o.quick);
  try {
    await impl.init(o.threads);
  } catch (e) {
    res.error = reason(e);
    return res;
  }
  for (const c of cases) {
    try {
      if (impl.measure) {
        // an implementation in another process (torch) times itself, with the same rule
        const m = await impl.measure(c, o.runs, o.budgetMs);
        res.cells.push({ id: c.id, ms: m.ms, runs: m.runs, ...(m.runs < o.runs ? { note: `${m.runs} runs` } : {}) });
        if (c.workload === "W4" && m.rssMiB) res.w4RssMiB = m.rssMiB;
        continue;
      }
      const run = await impl.prepare(c);
      // warm-up (JIT tiers, wasm tier-up, caches, lazy compilation): up to 10 runs or 1 s, at least
      // 2 runs unless one run takes a third of the cell budget; the same for every implementation
      let once = Infinity;
      const w0 = performance.now();
      for (let w = 0; w < 10 && (w < 2 || performance.now() - w0 < 1000) && (w < 1 || once * 3 < o.budgetMs); w++) {
        const t0 = performance.now();
        await run();
        once = Math.min(once, performance.now() - t0);
      }
      const runs = Math.max(1, Math.min(o.runs, Math.floor(o.budgetMs / Math.max(once, 1e-3))));
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t = performance.now();
        await run();
        times.push(performance.now() - t);
      }
      res.cells.push({ id: c.id, ms: median(times), runs, times, ...(runs < o.runs ? { note: `${runs} runs` } : {}) });
    } catch (e) {
      res.cells.push({ id: c.id, ms: null, runs: 0, note: reason(e) });
    }
    if (c.workload === "W4" && !impl.measure) res.w4RssMiB = process.resourceUsage().maxRSS / 1024;
  }
  return res;
}

function value(c: Case, ms: number): number {
  if (c.unit === "GFLOP/s") return c.work / (ms * 1e6);
  if (c.unit === "ns/elem") return (ms * 1e6) / c.work;
  return ms;
}
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));

/** Speedup columns: ours over theirs (> 1 means ours is faster; for RSS, smaller). */
const RATIOS: [string, string][] = [
  ["wasm", "tfjs-wasm"],
  ["wasm-2t", "tfjs-wasm"],
  ["wasm-2t", "wasm"],
  ["wasm", "jax"],
  ["wasm", "jax-jit"],
  ["js-fast", "tfjs-cpu"],
  ["wasm", "tfjs-cpu"], // W5's target is against TF.js cpu (its wasm backend has no weight gradient)
  ["wasm", "torch"], // the distance to native: below 1, torch is faster
];

function table(o: Options, cases: Case[], results: ChildResult[]): string {
  const by = new Map(results.map((r) => [r.backend, r]));
  const backends = o.backends;
  const ratioCols = [...RATIOS, ...extraRatios].filter(([a, b]) => backends.includes(a) && backends.includes(b));
  const header = ["workload", "unit", ...backends, ...ratioCols.map(([a, b]) => `${a}/${b}`)];
  const rows: string[][] = [];
  const notes: string[] = [];
  const noteIndex = new Map<string, number>();
  const noteRef = (text: string): string => {
    if (!noteIndex.has(text)) {
      noteIndex.set(text, noteIndex.size + 1);
      notes.push(`[${noteIndex.size}] ${text}`);
    }
    return `n/a[${noteIndex.get(text)}]`;
  };
  const cellMs = (b: string, id: string): Cell | undefined => by.get(b)?.cells.find((c) => c.id === id);
  for (const c of cases) {
    const row = [c.id, c.unit];
    for (const b of backends) {
      const r = by.get(b);
      if (r?.error) row.push(noteRef(`${b}: ${r.error}`));
      else {
        const cell = cellMs(b, c.id);
        if (!cell || cell.ms === null) row.push(noteRef(`${b}: ${cell?.note ?? "not run"}`));
        else row.push(fmt(value(c, cell.ms)) + (cell.note ? "*" : ""));
      }
    }
    for (const [a, b] of ratioCols) {
      const x = cellMs(a, c.id)?.ms;
      const y = cellMs(b, c.id)?.ms;
      row.push(x && y ? `${fmt(y / x)}x` : "-");
    }
    rows.push(row);
    if (c.workload === "W4") {
      const rss = ["W4 peak RSS", "MiB"];
      for (const b of backends) {
        const m = by.get(b)?.w4RssMiB;
        rss.push(m && cellMs(b, c.id)?.ms ? fmt(m) : "-");
      }
      for (const [a, b] of ratioCols) {
        const x = by.get(a)?.w4RssMiB;
        const y = by.get(b)?.w4RssMiB;
        rss.push(x && y && cellMs(a, c.id)?.ms && cellMs(b, c.id)?.ms ? `${fmt(y / x)}x` : "-");
      }
      rows.push(rss);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((s, i) => (i < 2 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join(" | ")} |`;
  const out = [line(header), `|${widths.map((w, i) => (i < 2 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`, ...rows.map(line)];
  out.push("", `threads: ${o.threads}; median of ${o.runs} runs after warm-up (* = fewer runs: one run exceeds the ${o.budgetMs} ms cell budget)${o.rounds > 1 ? `; the best of ${o.rounds} rounds run round-robin (RSS: the highest)` : ""};`);
  const fma = results.some((r) => r.fma);
  out.push(`children: ${childMode};`);
  out.push(`wasm kernels: ${fma ? "relaxed SIMD FMA (f32x4.relaxed_madd)" : "f32x4 mul + add (no relaxed SIMD; --relaxed-simd turns its FMA on)"}${o.relaxedSimd ? "; children run with --experimental-wasm-relaxed-simd" : ""};`);
  out.push("ratios are speedups (time of the second / time of the first; for RSS, memory of the second / the first).");
  if (notes.length) out.push("", ...notes);
  return out.join("\n");
}

/** Two rounds of one implementation: each cell's faster median, the higher W4 RSS. */
function best(a: ChildResult, b: ChildResult): ChildResult {
  if (a.error || b.error) return a.error ? b : a;
  const cells = a.cells.map((c) => {
    const d = b.cells.find((x) => x.id === c.id);
    return d && d.ms !== null && (c.ms === null || d.ms < c.ms) ? d : c;
  });
  const rss = Math.max(a.w4RssMiB ?? 0, b.w4RssMiB ?? 0);
  return { ...a, cells, ...(rss > 0 && { w4RssMiB: rss }) };
}

/** How the children ran (the table's footnote). */
let childMode = "tsx";

/** The bundle the children run (see the header), or null to run them under tsx as the parent. */
async function childScript(self: string, o: Options): Promise<string | null> {
  if (o.backendFile || process.env.SAFEGRAD_BENCH_TSX === "1" || !self.endsWith(".ts")) return null;
  try {
    const esbuild = await import("esbuild");
    const dir = join(dirname(self), "..", "node_modules", ".cache", "safegrad-bench");
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `run-${process.pid}.mjs`);
    const node = process.versions.node.split(".")[0];
    await esbuild.build({ entryPoints: [self], bundle: true, platform: "node", format: "esm", target: `node${node}`, packages: "external", outfile: out, logLevel: "silent" });
    // impl-torch finds its Python script beside itself (import.meta.url is the bundle's)
    copyFileSync(join(dirname(self), "impl_torch.py"), join(dir, "impl_torch.py"));
    childMode = "compiled JS (an esbuild bundle; SAFEGRAD_BENCH_TSX=1 runs them under tsx)";
    return out;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "compare") return (await import("./compare.js")).main(process.argv.slice(3));
  const o = parseArgs(process.argv.slice(2));
  if (o.backendFile) {
    try {
      custom = await loadBackendModule(o.backendFile);
    } catch (e) {
      if (e instanceof BackendModuleError) usageError(`--backend: ${e.message}`);
      throw e;
    }
    if (!o.backends.includes(custom.name)) o.backends.push(custom.name);
    const unknown = o.backends.find((b) => !ALL_BACKENDS.includes(b) && b !== custom!.name);
    if (unknown) usageError(`--backends: unknown implementation "${unknown}" (known: ${[...ALL_BACKENDS, custom.name].join(", ")})`);
    for (const b of ["js-fast", "wasm", "js"]) if (o.backends.includes(b)) extraRatios.push([custom.name, b]);
    if (o.child !== undefined && o.child !== custom.name && !ALL_BACKENDS.includes(o.child)) usageError(`unknown implementation "${o.child}"`);
  }
  if (o.child) {
    const r = o.ops ? await childOps(o.child, o) : await child(o.child, o);
    process.stdout.write(`\n@@RESULT@@${JSON.stringify(r)}\n`);
    return;
  }
  // NOTE: the --ops cells have a Case's id, unit and work (all the table reads of them)
  const cases = o.ops ? (opCases({ minLog: o.minSize, maxLog: o.maxSize, ...(o.only ? { only: o.only } : {}) }) as unknown as Case[]) : buildCases(o.workloads, o.quick);
  if (o.ops && !cases.length) usageError(`--only: no op named ${o.only?.join(", ")}`);
  const self = fileURLToPath(import.meta.url);
  const results: ChildResult[] = [];
  const bundle = await childScript(self, o);
  const script = bundle ? [bundle] : [...process.execArgv, self];
  for (let round = 0; round < o.rounds; round++) {
    o.backends.forEach((b, i) => {
      if (o.json !== "-") process.stderr.write(`running ${b}${o.rounds > 1 ? ` (round ${round + 1} of ${o.rounds})` : ""} ...\n`);
      const flags = o.relaxedSimd ? ["--experimental-wasm-relaxed-simd"] : [];
      const p = spawnSync(process.execPath, [...flags, ...script, ...process.argv.slice(2), "--child", b], {
        encoding: "utf8",
        maxBuffer: 64 << 20,
        env: { ...process.env },
      });
      const m = /@@RESULT@@(.*)/.exec(p.stdout ?? "");
      const r: ChildResult = m
        ? (JSON.parse(m[1]!) as ChildResult)
        : { backend: b, cells: [], error: `child failed (status ${p.status}): ${(p.stderr ?? "").trim().split("\n").slice(-1)[0] ?? ""}` };
      results[i] = round === 0 ? r : best(results[i]!, r);
    });
  }
  if (bundle) rmSync(bundle, { force: true });
  const json = `${JSON.stringify({ options: o, cases, results }, null, 2)}\n`;
  if (o.json === "-") process.stdout.write(json);
  else {
    if (o.json) writeFileSync(o.json, json);
    process.stdout.write(`${table(o, cases, results)}\n`);
    if (o.json) process.stderr.write(`wrote ${o.json}\n`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
