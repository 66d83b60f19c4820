/**
 * The bench as a function, for a kernel author's own scripts: `bench({ backends: ["wasm", mine] })`
 * runs the workloads (or, with `ops`, the per-op microbenchmark) on backend objects and built-in
 * implementations, round-robin in the same rounds, and returns the same JSON as
 * `npm run bench -- --json FILE` (so `compareRuns` / `npm run bench -- compare` read it).
 *
 * Unlike the command line, everything runs in this one process (a Backend object cannot be sent to
 * a child): JIT state and memory are shared, and the W4 RSS is not measured. For decisions, prefer
 * `npm run bench -- --backend FILE`, which gives each implementation its own process.
 *
 * ```ts
 * import { bench, formatBench } from "./bench/api.js";
 * const run = await bench({ backends: ["js-fast", myBackend], workloads: ["W2"], rounds: 3 });
 * console.log(formatBench(run));
 * ```
 */
import type { Backend, PartialBackend } from "../src/index.js";
import { getBackend } from "../src/index.js";
import { buildCases, median, NotAvailable, type Case, type Impl } from "./common.js";
import { toBackend } from "./backend-module.js";
import type { SavedCell, SavedRun } from "./compare.js";
import { opCases, runOps } from "./ops.js";

/** Options of {@link bench}. */
export interface BenchOptions {
  /** Implementations: built-in names ("js", "js-fast", "wasm", "tfjs-cpu", "tfjs-wasm", "jax", "jax-jit") or backends (partial ones and factories too). */
  backends: (string | Backend | PartialBackend | (() => unknown))[];
  /** Workloads (default W2, W3: the elementwise and reduction ones). */
  workloads?: string[];
  /** Small sizes (as --quick). */
  quick?: boolean;
  /** The per-op microbenchmark instead of the workloads (ours and backend objects only). */
  ops?: boolean | { minLog?: number; maxLog?: number; only?: string[] };
  /** Timed runs per cell (default 7). */
  runs?: number;
  /** Per-cell budget in ms (default 5000; ops: at most 2000). */
  budgetMs?: number;
  /** Round-robin rounds; each cell keeps its best median (default 1). */
  rounds?: number;
}

async function implFor(b: string | Backend): Promise<Impl> {
  if (typeof b !== "string") {
    const ours = (await import("./impl-ours.js")).oursImpl(b.name);
    const { registerBackend } = await import("../src/index.js");
    return { ...ours, init: async () => (registerBackend(b), ours.init(1)) };
  }
  if (b === "tfjs-cpu" || b === "tfjs-wasm") return (await import("./impl-tfjs.js")).tfjsImpl(b === "tfjs-cpu" ? "cpu" : "wasm");
  if (b === "jax" || b === "jax-jit") return (await import("./impl-jax.js")).jaxImpl(b === "jax" ? "eager" : "jit");
  return (await import("./impl-ours.js")).oursImpl(b);
}

async function timeCell(run: () => unknown, runs: number, budgetMs: number): Promise<Omit<SavedCell, "id">> {
  let once = Infinity;
  const w0 = performance.now();
  for (let w = 0; w < 10 && (w < 2 || performance.now() - w0 < 1000) && (w < 1 || once * 3 < budgetMs); w++) {
    const t0 = performance.now();
    await run();
    once = Math.min(once, performance.now() - t0);
  }
  const n = Math.max(1, Math.min(runs, Math.floor(budgetMs / Math.max(once, 1e-3))));
  const times: number[] = [];
  for (let r = 0; r < n; r++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return { ms: median(times), runs: n, times, ...(n < runs ? { note: `${n} runs` } : {}) };
}

/** Run the bench in this process (see the file's header); the result has the shape of `--json FILE`. */
export async function bench(o: BenchOptions): Promise<SavedRun> {
  const runs = o.runs ?? 7;
  const budgetMs = o.budgetMs ?? 5000;
  const names: (string | Backend)[] = [];
  for (const b of o.backends) names.push(typeof b === "string" ? b : await toBackend(b));
  const label = (b: string | Backend): string => (typeof b === "string" ? b : b.name);
  const ops = o.ops ? opCases(typeof o.ops === "object" ? { minLog: o.ops.minLog, maxLog: o.ops.maxLog ?? (o.quick ? 16 : 22), ...(o.ops.only ? { only: o.ops.only } : {}) } : { maxLog: o.quick ? 16 : 22 }) : null;
  const cases: { id: string; unit: string }[] = ops ?? buildCases(o.workloads ?? ["W2", "W3"], o.quick ?? false);
  const results: SavedRun["results"] = names.map((b) => ({ backend: label(b), cells: [] }));
  for (let round = 0; round < (o.rounds ?? 1); round++) {
    for (const [i, b] of names.entries()) {
      const res = results[i]!;
      let cells: SavedCell[] = [];
      try {
        const impl = await implFor(b);
        await impl.init(1);
        if (ops) {
          if (typeof b === "string" && !["js", "js-fast", "wasm"].includes(b)) throw new NotAvailable("ops: Backend methods are timed on ours and backend objects only");
          cells = runOps(getBackend(), ops, runs, Math.min(budgetMs, 2000));
        } else {
          for (const c of cases as Case[]) {
            try {
              cells.push({ id: c.id, ...(await timeCell(await impl.prepare(c), runs, budgetMs)) });
            } catch (e) {
              cells.push({ id: c.id, ms: null, runs: 0, note: (e as Error).message });
            }
          }
        }
      } catch (e) {
        res.error = (e as Error).message;
        continue;
      }
      // each cell keeps its best median over the rounds
      res.cells = round === 0 ? cells : res.cells.map((c) => {
        const d = cells.find((x) => x.id === c.id);
        return d && d.ms !== null && (c.ms === null || d.ms < c.ms) ? d : c;
      });
    }
  }
  return { options: { ...o, backends: names.map(label) }, cases, results };
}

/** A run as a table: one row per case, one column per implementation (median ms per run). */
export function formatBench(run: SavedRun): string {
  const cols = run.results.map((r) => r.backend);
  const rows = run.cases.map((c) => [c.id, ...run.results.map((r) => {
    if (r.error) return "n/a";
    const cell = r.cells.find((x) => x.id === c.id);
    return cell?.ms ? cell.ms.toPrecision(3) : "n/a";
  })]);
  const header = ["case (ms per run)", ...cols];
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((s, i) => (i ? s.padStart(w[i]!) : s.padEnd(w[i]!))).join(" | ")} |`;
  const errors = run.results.filter((r) => r.error).map((r) => `${r.backend}: ${r.error}`);
  return [line(header), `|${w.map((x, i) => (i ? "-".repeat(x + 1) + ":" : "-".repeat(x + 2))).join("|")}|`, ...rows.map(line), ...(errors.length ? ["", ...errors] : [])].join("\n");
}
