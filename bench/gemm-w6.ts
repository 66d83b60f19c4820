/**
 * The matmuls of one W6 step (bench/common.ts: batch 32, seq 64, d 128, 4 heads, ff 512, vocab 256)
 * through the wasm backend's `matmul`, each timed alone with the layouts the step passes (x @ W^T
 * on a transposed weight view, gy^T @ x weight gradients, the batched attention products on
 * permuted heads). A diagnostic, not part of the table:
 *   npx tsx bench/gemm-w6.ts [ROUNDS] [--threads 2] [--baseline FILE]
 * Each shape runs ROUNDS samples of >= 4 ms of process CPU time; the minimum per call is printed
 * with its GFLOP/s, and `per step` weights it by the calls a step makes. With `--baseline FILE`
 * (a module exporting `createWasmBackend`, e.g. an older copy of src/kernels/wasm/backend.ts) the
 * two backends alternate sample by sample in this process (an interleaved A/B: on a loaded machine
 * both see the same load) and the ratio of their minima is printed.
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { createWasmBackend } from "../src/kernels/wasm/backend.js";
import type { Backend, View } from "../src/kernels/backend.js";
import { parseCli, usageError } from "../scripts/cli.js";
import { data, W6 } from "./common.js";

const { values, positionals } = parseCli({
  command: "npx tsx bench/gemm-w6.ts",
  description: `The matmuls of one W6 step on the wasm backend, each timed alone with the step's layouts:
the minimum per call over ROUNDS samples of >= 4 ms of CPU time, GFLOP/s, and the total per step.`,
  options: {
    threads: { type: "integer", default: 1, min: 1, max: 2, help: "threads of the wasm backend" },
    baseline: { type: "string", value: "FILE", help: "a module exporting createWasmBackend, timed interleaved with this one" },
  },
  positionals: [{ name: "ROUNDS", help: "samples per shape (default 20)" }],
});
const rounds = positionals[0] === undefined ? 20 : Number(positionals[0]);
if (!Number.isInteger(rounds) || rounds < 1) usageError(`ROUNDS: expected an integer >= 1, got "${positionals[0]}"`);

type Make = (o: { threads?: number }) => Backend | null;
const backends: [string, Backend][] = [];
const mine = createWasmBackend({ threads: values.threads });
if (!mine) throw new Error("no WebAssembly SIMD here");
backends.push(["new", mine]);
if (values.baseline) {
  const mod = (await import(pathToFileURL(resolve(values.baseline)).href)) as { createWasmBackend: Make };
  const old = mod.createWasmBackend({ threads: values.threads });
  if (!old) throw new Error("the baseline made no backend");
  backends.unshift(["old", old]);
}
// let a worker start
if (values.threads > 1) await new Promise((r) => setTimeout(r, 300));

const { batch: Bt, seq: T, d: D, heads: Hh, ff: F, vocab: V } = W6;
const Dh = D / Hh;
const R = Bt * T;
/** A view of `shape` over fresh storage of `n` elements with the given strides. */
const view = (shape: number[], strides: number[], n: number, seed: number): View => ({ storage: data(n, seed), shape, strides, offset: 0, dtype: "float32" });
const dense = (shape: number[], seed: number): View => {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  return view(shape, strides, shape.reduce((x, y) => x * y, 1), seed);
};
/** A [rows, cols] matrix stored transposed (a weight W [cols, rows] seen as W^T, or gy^T). */
const trans = (rows: number, cols: number, seed: number): View => view([rows, cols], [1, rows], rows * cols, seed);
/** Heads [Bt, Hh, T, Dh] of a contiguous [Bt, T, D] tensor (reshape + transpose(1, 2)). */
const heads = (seed: number): View => view([Bt, Hh, T, Dh], [T * D, Dh, D, 1], R * D, seed);
/** Keys transposed: heads(...).transpose(-2, -1), [Bt, Hh, Dh, T]. */
const headsT = (seed: number): View => view([Bt, Hh, Dh, T], [T * D, Dh, 1, D], R * D, seed);
/** Attention weights transposed: a contiguous [Bt, Hh, T, T] seen as [.., T, T]^T. */
const probsT = (seed: number): View => view([Bt, Hh, T, T], [Hh * T * T, T * T, 1, T], Bt * Hh * T * T, seed);

// name, calls per step, A, B (as the profile of `npx tsx bench/profile-detail.ts wasm W6` lists them)
const shapes: [string, number, View, View][] = [
  [`x @ W^T     d[${R},${D}] s[${D},${F}]`, 2, dense([R, D], 1), trans(D, F, 2)],
  [`gy^T @ x    s[${D},${R}] d[${R},${D}]`, 8, trans(D, R, 3), dense([R, D], 4)],
  [`gy @ W      d[${R},${D}] d[${D},${F}]`, 2, dense([R, D], 5), dense([D, F], 6)],
  [`gy @ W      d[${R},${F}] d[${F},${D}]`, 2, dense([R, F], 7), dense([F, D], 8)],
  [`x @ W^T     d[${R},${D}] s[${D},${D}]`, 8, dense([R, D], 9), trans(D, D, 10)],
  [`gy^T @ x    s[${D},${R}] d[${R},${F}]`, 2, trans(D, R, 11), dense([R, F], 12)],
  [`gy @ W      d[${R},${D}] d[${D},${D}]`, 8, dense([R, D], 13), dense([D, D], 14)],
  [`x @ W^T     d[${R},${F}] s[${F},${D}]`, 2, dense([R, F], 15), trans(F, D, 16)],
  [`gy^T @ x    s[${F},${R}] d[${R},${D}]`, 2, trans(F, R, 17), dense([R, D], 18)],
  [`gy @ W      d[${R},${V}] d[${V},${D}]`, 1, dense([R, V], 19), dense([V, D], 20)],
  [`x @ W^T     d[${R},${D}] s[${D},${V}]`, 1, dense([R, D], 21), trans(D, V, 22)],
  [`gy^T @ x    s[${V},${R}] d[${R},${D}]`, 1, trans(V, R, 23), dense([R, D], 24)],
  [`q @ k^T     s[${Bt},${Hh},${T},${Dh}] s[..,${Dh},${T}]`, 4, heads(25), headsT(26)],
  [`g^T @ q     s[${Bt},${Hh},${T},${T}] s[..,${T},${Dh}]`, 4, probsT(27), heads(28)],
  [`p @ v       d[${Bt},${Hh},${T},${T}] s[..,${T},${Dh}]`, 4, dense([Bt, Hh, T, T], 29), heads(30)],
];

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const flops = (a: View, b: View): number => {
  const n = a.shape.length;
  return 2 * a.shape.slice(0, n - 1).reduce((x, y) => x * y, 1) * a.shape[n - 1]! * b.shape[n - 1]!;
};
const totals = backends.map(() => 0);
const names = backends.map(([n]) => n);
console.log(`wasm matmul, ${values.threads} thread(s), min of ${rounds} samples per shape${backends.length > 1 ? ` (interleaved: ${names.join(" / ")})` : ""}`);
for (const [name, perStep, a, b] of shapes) {
  const calls = backends.map(([, be]) => (): unknown => be.matmul(a, b));
  let reps = 0;
  for (const t0 = cpuMs(); cpuMs() - t0 < 4; reps++) for (const c of calls) c();
  const best = calls.map(() => Infinity);
  for (let r = 0; r < rounds; r++)
    calls.forEach((c, i) => {
      const t0 = cpuMs();
      for (let q = 0; q < reps; q++) c();
      best[i] = Math.min(best[i]!, (cpuMs() - t0) / reps);
    });
  const f = flops(a, b);
  best.forEach((t, i) => (totals[i]! += t * perStep));
  const cells = best.map((t, i) => `${names[i]} ${(t * 1000).toFixed(0).padStart(5)} us ${(f / t / 1e6).toFixed(1).padStart(5)} GFLOP/s`);
  const ratio = best.length > 1 ? `  x${(best[0]! / best[1]!).toFixed(2)}` : "";
  console.log(`${name.padEnd(40)} ${perStep}x  ${cells.join("  |  ")}${ratio}`);
}
console.log(`per step (calls x min): ${totals.map((t, i) => `${names[i]} ${t.toFixed(1)} ms`).join(", ")}`);
