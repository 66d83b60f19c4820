/**
 * `npm run bench -- compare A.json B.json` (or `npx tsx bench/compare.ts A.json B.json`): two
 * runs written by `npm run bench -- --json FILE`, cell by cell (same case, same implementation):
 * each side's median with its spread (half the interquartile range of its timed runs, relative to
 * the median: one run slowed by another process does not widen it),
 * and the speedup of B over A (A's time / B's: above 1, B is faster). A difference smaller than
 * the two spreads together is marked "~" (inside the noise): on this shared machine a cell moves
 * by tens of percent between runs, and such a ratio says nothing.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { fail, parseCli } from "../scripts/cli.js";

/** A cell as run.ts writes it. */
export interface SavedCell {
  id: string;
  ms: number | null;
  runs: number;
  /** Every timed run (ms); absent in files written before they were kept. */
  times?: number[];
  note?: string;
}
/** A run as run.ts writes it with `--json FILE`. */
export interface SavedRun {
  options?: unknown;
  cases: { id: string; unit: string }[];
  results: { backend: string; cells: SavedCell[]; error?: string }[];
}

/** Half the interquartile range of a cell's timed runs, relative to its median (null with fewer than 3 runs). */
export function spread(c: SavedCell): number | null {
  if (!c.times || c.times.length < 3 || !c.ms) return null;
  const t = [...c.times].sort((x, y) => x - y);
  const q = (p: number): number => {
    const i = p * (t.length - 1);
    const lo = Math.floor(i);
    return t[lo]! + (t[Math.min(lo + 1, t.length - 1)]! - t[lo]!) * (i - lo);
  };
  return (q(0.75) - q(0.25)) / 2 / c.ms;
}

/** One compared cell. */
export interface ComparedCell {
  id: string;
  backend: string;
  a: SavedCell;
  b: SavedCell;
  /** A's time / B's time: above 1, B is faster. */
  speedup: number;
  /** The difference is smaller than the two spreads together (or a spread is unknown: null). */
  insideNoise: boolean | null;
}

/** Every cell present, with a time, in both runs. */
export function compareRuns(a: SavedRun, b: SavedRun): ComparedCell[] {
  const out: ComparedCell[] = [];
  for (const ra of a.results) {
    const rb = b.results.find((r) => r.backend === ra.backend);
    if (!rb) continue;
    for (const ca of ra.cells) {
      const cb = rb.cells.find((c) => c.id === ca.id);
      if (!cb || !ca.ms || !cb.ms) continue;
      const sa = spread(ca);
      const sb = spread(cb);
      const speedup = ca.ms / cb.ms;
      const insideNoise = sa === null || sb === null ? null : Math.abs(Math.log(speedup)) <= Math.log1p(sa) + Math.log1p(sb);
      out.push({ id: ca.id, backend: ra.backend, a: ca, b: cb, speedup, insideNoise });
    }
  }
  return out;
}

const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toPrecision(3));
const fmtSpread = (s: number | null): string => (s === null ? "±?" : `±${(s * 100).toFixed(s < 0.1 ? 1 : 0)}%`);

/** The comparison as a table, with a summary line. */
export function formatComparison(cells: readonly ComparedCell[], names: [string, string] = ["A", "B"]): string {
  if (!cells.length) return "no cell is in both runs (same case and implementation, with a time)";
  const header = ["case", "implementation", `${names[0]} ms`, `${names[1]} ms`, `${names[1]} vs ${names[0]}`];
  const rows = cells.map((c) => [
    c.id,
    c.backend,
    `${fmtMs(c.a.ms!)} ${fmtSpread(spread(c.a))}`,
    `${fmtMs(c.b.ms!)} ${fmtSpread(spread(c.b))}`,
    `${c.speedup.toFixed(2)}x${c.insideNoise === true ? " ~" : c.insideNoise === null ? " ?" : ""}`,
  ]);
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => `| ${r.map((s, i) => (i < 2 ? s.padEnd(w[i]!) : s.padStart(w[i]!))).join(" | ")} |`;
  const outside = cells.filter((c) => c.insideNoise === false);
  return [
    line(header),
    `|${w.map((x, i) => (i < 2 ? "-".repeat(x + 2) : "-".repeat(x + 1) + ":")).join("|")}|`,
    ...rows.map(line),
    "",
    `${names[1]} vs ${names[0]} = ${names[0]}'s median / ${names[1]}'s (above 1: ${names[1]} is faster); ± is half the interquartile range of a cell's timed runs, relative to its median.`,
    `~ = inside the noise (the difference is smaller than the two spreads together); ? = a spread is unknown (too few runs).`,
    `${cells.length} cells, ${outside.length} outside the noise${outside.length ? `: ${outside.filter((c) => c.speedup > 1).length} faster, ${outside.filter((c) => c.speedup < 1).length} slower` : ""}.`,
  ].join("\n");
}

/** Read a run written by `npm run bench -- --json FILE`. */
export function readRun(path: string): SavedRun {
  let j: SavedRun;
  try {
    j = JSON.parse(readFileSync(path, "utf8")) as SavedRun;
  } catch (e) {
    fail(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (!j || !Array.isArray(j.results)) fail(`${path} is not a file written by npm run bench -- --json FILE (no "results")`);
  return j;
}

/** The command line: `compare A.json B.json`. */
export function main(argv: string[]): void {
  const { positionals } = parseCli(
    {
      command: "npm run bench -- compare",
      description: `Compare two runs written by npm run bench -- --json FILE, cell by cell: medians with their
spread, the speedup of the second over the first, and "~" where the difference is inside the noise.`,
      options: {},
      positionals: [
        { name: "A.json", help: "the first run (the baseline)" },
        { name: "B.json", help: "the second run" },
      ],
    },
    argv,
  );
  if (positionals.length !== 2) fail("compare needs two files: npm run bench -- compare A.json B.json");
  const [pa, pb] = positionals as [string, string];
  process.stdout.write(`A = ${pa}, B = ${pb}\n\n${formatComparison(compareRuns(readRun(pa), readRun(pb)))}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
