/**
 * Time of the static hazard audit (issue 17, target: under 100 ms each) on the digits MLP and CNN
 * (as `npm start` trains them, a batch of 64 images with pixels anywhere in [0, 16] and any class),
 * a transformer block (TransformerEncoderLayer d 128, 4 heads, ff 512, causal, batch 8 of 32
 * positions in [-1, 1], a linear head to 64 classes and crossEntropy) and each audit of the doctor
 * scenarios (examples/doctor-audit.ts): `npm run bench:audit` (or `npx tsx bench/audit.ts [case...]`).
 *
 * Each case runs in fresh Node processes (safegrad as Node loads it, fast kernels): "first call"
 * is the first audit of a process, after building the model (its init ops load the kernels), JIT
 * warm-up of everything it runs included; "after a step" is the first audit of another process
 * after one plain forward and backward of the same function (the library's code warm, the audit's
 * own not: what Trainer's audit option meets after a first batch elsewhere, or an audit in a
 * notebook); "warm" is the median of 7 more audits in the first process. CPU time is the process's
 * (process.cpuUsage, user + system: JIT and GC threads count too), which the other processes on a
 * loaded machine inflate less than the wall time; the load average is printed before and after.
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { audit, crossEntropy, Linear, manualSeed, rand, randint, TransformerEncoderLayer, type AuditInput, type AuditRange, type AuditReport, type Tensor } from "../src/index.node.js";
import { buildModel, defaultModelConfig, featureShape } from "../examples/digits-models.js";
import type { AuditCase } from "../examples/doctor-audit.js";
import { parseCli, usageError } from "../scripts/cli.js";

type Case = () => AuditCase;

function digits(kind: "mlp" | "cnn"): Case {
  return () => {
    manualSeed(1);
    const c = defaultModelConfig(kind);
    const model = buildModel(c);
    return {
      fn: (xb, yb) => crossEntropy(model.forward(xb), yb),
      inputs: [{ shape: [64, ...featureShape(c)], low: 0, high: 16 }, { shape: [64], low: 0, high: 9, dtype: "int32" }],
    };
  };
}

const transformer: Case = () => {
  manualSeed(1);
  const layer = new TransformerEncoderLayer(128, 4, { dimFeedforward: 512, dropout: 0, batchFirst: true });
  const head = new Linear(128, 64);
  return {
    fn: (xb, yb) => crossEntropy(head.forward(layer.forward(xb, { isCausal: true })).reshape([-1, 64]), yb),
    inputs: [{ shape: [8, 32, 128], low: -1, high: 1 }, { shape: [8 * 32], low: 0, high: 63, dtype: "int32" }],
  };
};

async function cases(): Promise<Map<string, Case>> {
  const m = new Map<string, Case>([
    ["digits MLP", digits("mlp")],
    ["digits CNN", digits("cnn")],
    ["transformer block", transformer],
  ]);
  const { scenarioAudits } = await import("../examples/doctor-audit.js");
  scenarioAudits.forEach((s, i) => {
    const short = `doctor ${i + 1}`;
    m.set(`${short} bad`, () => s.cases().bad);
    // the learning-rate scenario has one model (bad and safe are the same audit)
    if (s.expectOp !== null) m.set(`${short} safe`, () => s.cases().safe);
  });
  return m;
}

interface Row {
  name: string;
  findings: number;
  ops: number;
  runs: number;
  /** The first audit of a fresh process. */
  firstCpu: number;
  firstWall: number;
  /** The first audit after one plain forward and backward of fn (the library's own code warm, the audit's not). */
  primedCpu: number;
  primedWall: number;
  /** The median of 7 more audits. */
  warmCpu: number;
  warmWall: number;
}

function timeOne(f: () => AuditReport): { r: AuditReport; cpu: number; wall: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  const r = f();
  const wall = performance.now() - t;
  const dc = process.cpuUsage(c);
  return { r, cpu: (dc.user + dc.system) / 1000, wall };
}

/** A sample inside the ranges (what a training step would see). */
function sample(inputs: readonly AuditInput[]): Tensor[] {
  return inputs.map((inp) => {
    const r = inp as AuditRange;
    if (!r.shape) throw new Error("bench cases give ranges with shapes");
    if (r.dtype === "int32") return randint(r.low ?? 0, (r.high ?? 0) + 1, r.shape);
    return rand(r.shape).mul((r.high ?? 1) - (r.low ?? 0)).add(r.low ?? 0);
  });
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

async function child(name: string, primed: boolean): Promise<void> {
  const make = (await cases()).get(name);
  if (!make) throw new Error(`no case ${name}`);
  const c = make();
  const f = (): AuditReport => audit(c.fn, c.inputs);
  if (primed) c.fn(...sample(c.inputs)).backward();
  const first = timeOne(f);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < (primed ? 0 : 7); i++) {
    const t = timeOne(f);
    cpu.push(t.cpu);
    wall.push(t.wall);
  }
  const med = (v: number[]): number => (v.length ? median(v) : NaN);
  const row = { name, findings: first.r.findings.length, ops: first.r.ops, runs: first.r.runs, cpu: first.cpu, wall: first.wall, warmCpu: med(cpu), warmWall: med(wall) };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  if (process.env.AUDIT_BENCH_VERBOSE) console.error(first.r.toString());
}

async function main(): Promise<void> {
  const { values, positionals } = parseCli({
    command: "npm run bench:audit --",
    description: `Times audit() on the issue-17 cases (the digits MLP and CNN, a transformer block, each doctor
audit), each in fresh child processes: the first call, the first call after one plain step, and warm
(median of 7); CPU time (process.cpuUsage) and wall time, with the load average.`,
    options: {
      child: { type: "string", help: "run one case in this process (the parent passes it)", hidden: true },
      primed: { type: "boolean", help: "with --child: one plain step before the audit", hidden: true },
    },
    positionals: [{ name: "CASES", help: "comma-separated parts of case names to run (default all)" }],
  });
  if (values.child !== undefined) return child(values.child, values.primed);
  const wanted = positionals[0] ? positionals[0].split(",").filter((w) => w) : [];
  const all = [...(await cases()).keys()];
  for (const w of wanted) if (!all.some((n) => n.includes(w))) usageError(`CASES: no case name contains "${w}" (cases: ${all.join(", ")})`);
  const names = all.filter((n) => wanted.length === 0 || wanted.some((w) => n.includes(w)));
  const load0 = loadavg();
  const rows: Row[] = [];
  const runChild = (name: string, primed: boolean): { findings: number; ops: number; runs: number; cpu: number; wall: number; warmCpu: number; warmWall: number } => {
    const args = [...process.execArgv, fileURLToPath(import.meta.url), "--child", name, ...(primed ? ["--primed"] : [])];
    const p = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const line = p.stdout.trim().split("\n").pop() ?? "";
    if (p.status !== 0 || !line.startsWith("{")) throw new Error(`${name}: the child failed (${p.status})\n${p.stdout}`);
    return JSON.parse(line);
  };
  for (const name of names) {
    const cold = runChild(name, false);
    const primed = runChild(name, true);
    rows.push({ name, findings: cold.findings, ops: cold.ops, runs: cold.runs, firstCpu: cold.cpu, firstWall: cold.wall, primedCpu: primed.cpu, primedWall: primed.wall, warmCpu: cold.warmCpu, warmWall: cold.warmWall });
  }
  const load1 = loadavg();
  const f = (v: number): string => v.toFixed(0).padStart(6);
  console.log("audit time in ms: CPU time of the process (process.cpuUsage) and wall time");
  console.log(`${"case".padEnd(18)} findings  ops runs | first call: CPU   wall | after a step: CPU   wall | warm: CPU   wall`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(18)} ${String(r.findings).padStart(8)} ${String(r.ops).padStart(4)} ${String(r.runs).padStart(4)} |          ${f(r.firstCpu)} ${f(r.firstWall)} |            ${f(r.primedCpu)} ${f(r.primedWall)} |    ${f(r.warmCpu)} ${f(r.warmWall)}`);
  }
  const la = (l: number[]): string => l.map((v) => v.toFixed(2)).join(" ");
  console.log(`load average (1, 5, 15 min): ${la(load0)} before, ${la(load1)} after; ${process.version}`);
}

await main();
