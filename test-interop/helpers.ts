/**
 * Shared tools of the PyTorch interop tests: the torch check, the runner for
 * scripts/interop/torch_side.py, the layer spec both sides build their `Sequential` from, and the
 * difference measures the tests report.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, Tanh, io, loadDigits, type FloatDType, type Tensor,
} from "../src/node.js";

/** Debian's python3-torch installs for the system python; CI runs exactly this interpreter. */
export const PYTHON = process.env["SAFEGRAD_INTEROP_PYTHON"] ?? "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../scripts/interop/torch_side.py", import.meta.url));
// -B and PYTHONDONTWRITEBYTECODE: no __pycache__ folder left in scripts/interop.
const PY_ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: "1" };

let torchCheck: { version: string } | { error: string } | undefined;

/**
 * The torch version, or an Error that says what failed and how to fix it. Every interop test
 * calls this first, so a machine without torch FAILS the suite loudly instead of skipping it.
 */
export function requireTorch(): string {
  if (torchCheck === undefined) {
    const r = spawnSync(PYTHON, ["-B", "-c", "import torch; print(torch.__version__)"], { encoding: "utf8", env: PY_ENV, timeout: 120_000 });
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : `exit code ${r.status}: ${(r.stderr || "").trim().split("\n").slice(-3).join(" | ")}`;
      torchCheck = {
        error:
          `PyTorch is required by npm run test:interop, but \`${PYTHON} -c "import torch"\` failed (${why}). ` +
          `Install it with \`apt-get update && apt-get install -y python3-torch\` (Debian), or point SAFEGRAD_INTEROP_PYTHON at a python that has torch.`,
      };
    } else torchCheck = { version: r.stdout.trim() };
  }
  if ("error" in torchCheck) throw new Error(torchCheck.error);
  return torchCheck.version;
}

/** A temp folder for one test file's exchange files; `cleanup` removes it. */
export function exchangeDir(prefix: string): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `safegrad-interop-${prefix}-`));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `torch_side.py <command> <request.json>` and returns its result JSON. The request is
 * written next to the other exchange files; on failure the error carries python's stderr.
 */
export async function runTorch<R>(dir: string, command: "logits" | "train" | "trajectory", request: Record<string, unknown>, name: string): Promise<R & { torch: string }> {
  requireTorch();
  const reqPath = join(dir, `${name}.request.json`);
  const resultPath = join(dir, `${name}.result.json`);
  writeFileSync(reqPath, JSON.stringify({ ...request, result: resultPath }));
  await new Promise<void>((resolve, reject) => {
    execFile(PYTHON, ["-B", SCRIPT, command, reqPath], { env: PY_ENV, maxBuffer: 64 << 20, timeout: 300_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${PYTHON} ${SCRIPT} ${command} failed: ${error.message}\n${stderr}`));
      else resolve();
    });
  });
  return JSON.parse(readFileSync(resultPath, "utf8")) as R & { torch: string };
}

// ---------------------------------------------------------------- models

/** One layer, in the form torch_side.py reads too (same order, so the state-dict keys agree). */
export type LayerSpec =
  | ["linear", number, number]
  | ["conv2d", number, number, number, number]
  | ["batchnorm2d", number]
  | ["relu"]
  | ["tanh"]
  | ["dropout", number]
  | ["maxpool2d", number]
  | ["flatten"];

/** Builds the safegrad `Sequential` of a spec; parameters come from the default generator. */
export function buildModel(spec: readonly LayerSpec[], dtype: FloatDType): Sequential {
  const layers = spec.map((l) => {
    switch (l[0]) {
      case "linear":
        return new Linear(l[1], l[2], { dtype });
      case "conv2d":
        return new Conv2d(l[1], l[2], l[3], { padding: l[4], dtype });
      case "batchnorm2d":
        return new BatchNorm2d(l[1], { dtype });
      case "relu":
        return new ReLU();
      case "tanh":
        return new Tanh();
      case "dropout":
        return new Dropout(l[1]);
      case "maxpool2d":
        return new MaxPool2d(l[1]);
      case "flatten":
        return new Flatten();
    }
  });
  return new Sequential(...layers);
}

/** 64-32-16-10 on flat 8x8 digits, with a Dropout in the middle (the keys skip its index). */
export const MLP_DROPOUT: LayerSpec[] = [["linear", 64, 32], ["relu"], ["dropout", 0.2], ["linear", 32, 16], ["tanh"], ["linear", 16, 10]];
/** The same without Dropout (torch and we draw masks from different generators). */
export const MLP: LayerSpec[] = [["linear", 64, 32], ["relu"], ["linear", 32, 16], ["tanh"], ["linear", 16, 10]];
/** Two conv blocks with BatchNorm2d on 1x8x8 digits. */
export const CNN: LayerSpec[] = [
  ["conv2d", 1, 8, 3, 1], ["batchnorm2d", 8], ["relu"], ["maxpool2d", 2], // 8 x 4 x 4
  ["conv2d", 8, 16, 3, 1], ["batchnorm2d", 16], ["relu"], ["maxpool2d", 2], // 16 x 2 x 2
  ["flatten"], ["linear", 64, 10],
];

export const isImage = (spec: readonly LayerSpec[]): boolean => spec[0]![0] === "conv2d";

let digitsCache: ReturnType<typeof loadDigits> | undefined;
/** The embedded digits set (1,797 images, float32 in [0, 1]). */
export function digits(): ReturnType<typeof loadDigits> {
  return (digitsCache ??= loadDigits());
}

/** Rows [from, to) of the digits, shaped for the spec: [n, 64] or [n, 1, 8, 8]. */
export function digitRows(spec: readonly LayerSpec[], from: number, to: number, dtype: FloatDType): { x: Float32Array | Float64Array; y: Int32Array; shape: number[] } {
  const d = digits();
  const x32 = d.x.subarray(from * 64, to * 64);
  const x = dtype === "float64" ? Float64Array.from(x32) : Float32Array.from(x32);
  return { x, y: d.y.slice(from, to), shape: isImage(spec) ? [to - from, 1, 8, 8] : [to - from, 64] };
}

/** Writes tensors as a safetensors file with our own writer (what users would do). */
export async function saveRecords(path: string, tensors: Record<string, { data: Float32Array | Float64Array | Int32Array; shape: number[] }>): Promise<void> {
  const recs = new Map(
    Object.entries(tensors).map(([k, t]) => [k, { dtype: t.data instanceof Float64Array ? "float64" : t.data instanceof Float32Array ? "float32" : "int32", shape: t.shape, data: t.data } as const]),
  );
  await io.save(recs, path);
}

// ---------------------------------------------------------------- differences

/** max |a - b| and max |a - b| / max(|b|, tiny) over all elements. */
export function differences(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; maxRel: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return { maxAbs: NaN, maxRel: NaN }; // a NaN on one side only, or both: never "close"
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(b[i]!), Number.MIN_VALUE));
  }
  return { maxAbs, maxRel };
}

/** The values of a tensor as plain numbers. */
export const values = (t: Tensor): number[] => Array.from(t.toTypedArray() as ArrayLike<number>);
