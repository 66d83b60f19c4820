/**
 * The workloads on PyTorch (CPU, one thread; with OpenBLAS where the system's BLAS is OpenBLAS:
 * `apt-get install libopenblas0-openmp` on Debian), for the distance-to-native columns. PyTorch
 * runs in a Python child process (bench/impl_torch.py, the system python, or SAFEGRAD_BENCH_PYTHON)
 * that times each case itself with the harness's rule (warm-up, then the median of the runs): a
 * round trip through a pipe per run would cost more than a small op. Inputs are the same
 * deterministic arrays, written to a scratch file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { data, labels, MLP, NotAvailable, W6, w6Params, w6Tokens, type Case, type Impl, type Measured } from "./common.js";

const PYTHON = process.env["SAFEGRAD_BENCH_PYTHON"] ?? "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./impl_torch.py", import.meta.url));

type Arr = Float32Array | Int32Array;

/** The named input arrays of one case (the same values the other implementations build). */
function inputs(c: Case): Record<string, [Arr, number[]]> {
  const p = c.params;
  const t = (shape: number[], seed: number, scale = 1): [Arr, number[]] => [data(shape.reduce((a, b) => a * b, 1), seed, scale), shape];
  switch (c.workload) {
    case "W1": {
      const n = p.n as number;
      return { a: t([n, n], 1), b: t([n, n], 2) };
    }
    case "W2":
      return { a: t([p.n as number], 3), b: t([p.n as number], 4) };
    case "W3":
      return p.op === "sum" ? { a: t([p.n as number], 5) } : { x: t([p.n as number, p.n as number], 6, 4) };
    case "W4": {
      const [inF, h1, h2, out] = MLP.sizes;
      const dims: [number, number][] = [[inF, h1], [h1, h2], [h2, out]];
      const r: Record<string, [Arr, number[]]> = { x: t([MLP.batch, inF], 10), y: [labels(MLP.batch), [MLP.batch]] };
      dims.forEach(([i, o], l) => {
        r[`p${2 * l}`] = t([o, i], 20 + l, 1 / Math.sqrt(i));
        r[`p${2 * l + 1}`] = t([o], 30 + l, 1 / Math.sqrt(i));
      });
      return r;
    }
    case "W5": {
      const N = p.batch as number;
      return { x: t([N, 16, 28, 28], 7), w: t([32, 16, 3, 3], 8, 0.2), gy: t([N, 32, 28, 28], 9) };
    }
    case "W6": {
      const B = p.batch as number;
      const { x, y } = w6Tokens(B);
      const r: Record<string, [Arr, number[]]> = { x: [x, [B, W6.seq]], y: [y, [B, W6.seq]] };
      for (const q of w6Params()) r[`param:${q.name}`] = [q.data, [...q.shape]];
      return r;
    }
  }
}

export function torchImpl(): Impl {
  let py: ChildProcessWithoutNullStreams;
  let lines: Interface;
  let dir: string;
  const pending: ((line: string) => void)[] = [];
  /** The python child and its pipes keep this process alive only while a command is out. */
  const hold = (on: boolean): void => {
    for (const h of [py, py.stdin, py.stdout, py.stderr] as unknown as { ref?: () => void; unref?: () => void }[]) (on ? h.ref : h.unref)?.call(h);
  };
  const ask = (cmd: unknown): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      hold(true);
      pending.push((l) => {
        hold(false);
        resolve(JSON.parse(l) as Record<string, unknown>);
      });
      py.stdin.write(`${JSON.stringify(cmd)}\n`);
    });
  /** Writes a case's inputs to one scratch file; the command that names them. */
  const staged = (c: Case): Record<string, unknown> => {
    const arrays: Record<string, [number, number[], string]> = {};
    const parts: Buffer[] = [];
    let off = 0;
    for (const [name, [a, shape]] of Object.entries(inputs(c))) {
      arrays[name] = [off, shape, a instanceof Int32Array ? "int32" : "float32"];
      parts.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      off += a.byteLength;
    }
    const file = join(dir, "inputs.bin");
    writeFileSync(file, Buffer.concat(parts));
    return { case: { ...c, params: c.workload === "W6" ? { ...W6, ...c.params } : c.params }, file, arrays };
  };
  return {
    name: "torch",
    async init(threads) {
      if (threads !== 1) throw new NotAvailable("torch column: one thread");
      dir = mkdtempSync(join(tmpdir(), "safegrad-bench-torch-"));
      process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
      py = spawn(PYTHON, ["-B", SCRIPT], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
      let err = "";
      py.stderr.on("data", (d: Buffer) => (err += d.toString()));
      lines = createInterface({ input: py.stdout });
      lines.on("line", (l) => pending.shift()?.(l));
      const ready = await new Promise<string | null>((resolve) => {
        pending.push((l) => resolve(l));
        py.on("error", () => resolve(null));
        py.on("exit", () => resolve(null));
      });
      if (!ready) throw new NotAvailable(`no PyTorch at ${PYTHON} (${err.trim().split("\n").slice(-1)[0] ?? ""})`);
      // NOTE: between commands, neither the child nor its pipes keep this process alive; at its exit python reads EOF and ends
      hold(false);
    },
    prepare() {
      throw new NotAvailable("torch measures itself (see measure)");
    },
    async measure(c, runs, budgetMs): Promise<Measured> {
      const r = await ask({ ...staged(c), runs, budgetMs });
      if (typeof r.error === "string") throw new NotAvailable(`torch: ${r.error}`);
      return { ms: r.ms as number, runs: r.runs as number, rssMiB: r.rssMiB as number };
    },
    async losses(c, steps) {
      const r = await ask({ ...staged(c), losses: steps });
      if (typeof r.error === "string") throw new NotAvailable(`torch: ${r.error}`);
      return r.losses as number[];
    },
  };
}
