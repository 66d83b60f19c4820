/**
 * In-process interleaved A/B of GELU forward + backward (issue 18): the old composite
 * x · 0.5 · (1 + erf(x / √2)) (5 ops forward, about 10 backward) against the fused op (one kernel
 * each way), on the W6 feed-forward activation [32, 64, 512] float32. The two alternate in the same
 * process (ABBA order), so a busy machine slows both alike; reported: the median and minimum wall
 * time of each, the median CPU time (process.cpuUsage, this thread's user + system), and the median
 * of the per-round ratios.
 *   npx tsx bench/gelu-ab.ts [wasm|js-fast|js] [rounds] [approximate: none|tanh]
 */
import * as sg from "../src/index.js";
import { registerFastBackends } from "../src/kernels/fast.js";

const [backend = "wasm", roundsS = "40", approximate = "none"] = process.argv.slice(2);
registerFastBackends();
sg.setBackend(backend);
const shape = [32, 64, 512];
const x = sg.randn(shape, { generator: new sg.Generator(1), requiresGrad: true });
const gOut = sg.randn(shape, { generator: new sg.Generator(2) });
const K = Math.sqrt(2 / Math.PI);
const composite = (t: sg.Tensor): sg.Tensor =>
  approximate === "tanh" ? t.mul(0.5).mul(t.add(t.pow(3).mul(0.044715)).mul(K).tanh().add(1)) : t.mul(0.5).mul(t.mul(Math.SQRT1_2).erf().add(1));
const fused = (t: sg.Tensor): sg.Tensor => sg.gelu(t, { approximate: approximate as "none" | "tanh" });

function once(f: (t: sg.Tensor) => sg.Tensor): { wall: number; cpu: number; dx: sg.Tensor } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const y = f(x);
  const [dx] = sg.grad([y], [x], { gradOutputs: [gOut] });
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, dx: dx! };
}

const a = once(composite).dx.toTypedArray();
const b = once(fused).dx.toTypedArray();
let maxDiff = 0;
for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
for (let i = 0; i < 3; i++) (once(composite), once(fused));

const rounds = Number(roundsS);
const res = { composite: [] as { wall: number; cpu: number }[], fused: [] as { wall: number; cpu: number }[] };
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 ? (["fused", "composite"] as const) : (["composite", "fused"] as const);
  const got: Record<string, number> = {};
  for (const k of order) {
    const { wall, cpu } = once(k === "fused" ? fused : composite);
    res[k].push({ wall, cpu });
    got[k] = wall;
  }
  ratios.push(got.composite! / got.fused!);
}
const med = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const fmt = (n: number): string => n.toFixed(2);
console.log(`GELU (${approximate}) forward + backward, [${shape}] float32 on ${backend}, ${rounds} interleaved rounds (max |dx difference| ${maxDiff.toExponential(2)})`);
for (const k of ["composite", "fused"] as const) {
  const w = res[k].map((s) => s.wall);
  console.log(`  ${k.padEnd(9)} wall median ${fmt(med(w))} ms, min ${fmt(Math.min(...w))} ms; cpu median ${fmt(med(res[k].map((s) => s.cpu)))} ms`);
}
console.log(`  composite / fused: median of per-round ratios ${fmt(med(ratios))}x`);
