/**
 * The float32 GEMMs of one W4 step (MLP 784-256-256-10, batch 128) on the wasm GEMM, one thread,
 * each timed alone (a diagnostic, not part of the table):
 *   npx tsx bench/gemm-w4.ts [rounds]   (--help)
 * Operands have the strides the step passes (W^T and x^T are transposed views). Each shape is run
 * `rounds` times in samples of >= 4 ms of process CPU time; the minimum and the median per call
 * are printed (on a shared machine the minimum is the steadier figure).
 */
import { createWasmGemm } from "../src/kernels/wasm/backend.js";
import { parseCli, usageError } from "../scripts/cli.js";
import { MLP } from "./common.js";

const { positionals } = parseCli({
  command: "npx tsx bench/gemm-w4.ts",
  description: `The float32 GEMMs of one W4 step (MLP 784-256-256-10, batch 128) on the wasm GEMM, one thread,
each timed alone: the minimum and the median per call over ROUNDS samples of >= 4 ms of CPU time.`,
  options: {},
  positionals: [{ name: "ROUNDS", help: "samples per shape (default 30)" }],
});
const rounds = positionals[0] === undefined ? 30 : Number(positionals[0]);
if (!Number.isInteger(rounds) || rounds < 1) usageError(`ROUNDS: expected an integer >= 1, got "${positionals[0]}"`);
const gemm = createWasmGemm();
if (!gemm) throw new Error("no WebAssembly SIMD here");
const B = MLP.batch;
const [i, h1, h2, o] = MLP.sizes;
// name, M, N, K, A transposed (a.rs = 1), B transposed (b.rs = 1)
const shapes: [string, number, number, number, boolean, boolean][] = [];
for (const [k, n, first] of [[i, h1, true], [h1, h2, false], [h2, o, false]] as const) {
  shapes.push([`x @ W^T     ${B}x${k} @ ${k}x${n}`, B, n, k, false, true]);
  if (!first) shapes.push([`gy @ W      ${B}x${n} @ ${n}x${k}`, B, k, n, false, false]);
  shapes.push([`gy^T @ x    ${n}x${B} @ ${B}x${k}`, n, k, B, true, false]);
}
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const fill = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37 + seed));
let sumMin = 0;
let sumMed = 0;
for (const [name, M, N, K, aT, bT] of shapes) {
  const a = { data: fill(M * K, 1), off: 0, rs: aT ? 1 : K, cs: aT ? M : 1 };
  const b = { data: fill(K * N, 2), off: 0, rs: bT ? 1 : N, cs: bT ? K : 1 };
  const out = new Float32Array(M * N);
  const call = (): void => gemm(M, N, K, a, b, out, 0, N);
  let reps = 0;
  for (const t0 = cpuMs(); cpuMs() - t0 < 4; reps++) call();
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = cpuMs();
    for (let q = 0; q < reps; q++) call();
    t.push((cpuMs() - t0) / reps);
  }
  t.sort((x, y) => x - y);
  const [min, med] = [t[0]!, t[t.length >> 1]!];
  sumMin += min;
  sumMed += med;
  console.log(`${name.padEnd(32)} ${(min * 1000).toFixed(0).padStart(6)} us min ${(med * 1000).toFixed(0).padStart(6)} us median  ${((2 * M * N * K) / min / 1e6).toFixed(1).padStart(5)} GFLOP/s`);
}
console.log(`all ${shapes.length}: ${sumMin.toFixed(2)} ms (sum of minima), ${sumMed.toFixed(2)} ms (sum of medians)`);
