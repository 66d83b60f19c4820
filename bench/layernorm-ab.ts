/**
 * In-process interleaved A/B of layerNorm forward + backward (issue 18): the composite
 * standardisation (layers/standardize.ts + weight mul + bias add, as before the fused op) against
 * the fused op (ops/norm.ts), alternated round by round in the same process so that the machine's
 * load hits both alike. Reports the median and minimum per-call time of each and the median of the
 * per-round ratios, plus process CPU time per call.
 *   npx tsx bench/layernorm-ab.ts [wasm|js-fast|js] [rounds] [reps per round] [shape, e.g. 32x64x128]
 */
import * as sg from "../src/index.js";
import { registerFastBackends } from "../src/kernels/fast.js";
import { standardize } from "../src/layers/standardize.js";

const [name = "wasm", roundsS = "30", repsS = "5", shapeS = "32x64x128"] = process.argv.slice(2);
registerFastBackends();
sg.setBackend(name);
const shape = shapeS.split("x").map(Number);
const d = shape[shape.length - 1]!;
const gen = new sg.Generator(1);
const x0 = sg.randn(shape, { generator: gen });
const w = sg.randn([d], { generator: gen }).requiresGrad_();
const b = sg.randn([d], { generator: gen }).requiresGrad_();
const g = sg.randn(shape, { generator: gen });

function composite(x: sg.Tensor): sg.Tensor {
  return standardize(x, [x.ndim - 1], 1e-5).y.mul(w).add(b);
}
const fused = (x: sg.Tensor): sg.Tensor => sg.nn.functional.layerNorm(x, [d], { weight: w, bias: b });

function step(f: (x: sg.Tensor) => sg.Tensor): void {
  const x = x0.detach().requiresGrad_();
  f(x).backward(g);
  w.grad = null;
  b.grad = null;
}

function time(f: (x: sg.Tensor) => sg.Tensor, reps: number): [number, number] {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) step(f);
  const c = process.cpuUsage(c0);
  return [(performance.now() - t0) / reps, (c.user + c.system) / 1000 / reps];
}

// same numbers first
{
  const xa = x0.detach().requiresGrad_();
  const ya = composite(xa);
  ya.backward(g);
  const [ga, wa, ba] = [xa.grad!, w.grad!, b.grad!];
  w.grad = b.grad = null;
  const xb = x0.detach().requiresGrad_();
  const yb = fused(xb);
  yb.backward(g);
  const diff = (p: sg.Tensor, q: sg.Tensor): number => p.sub(q).abs().max().item() / Math.max(1e-30, q.abs().max().item());
  console.log(`max rel diff fused vs composite: y ${diff(yb, ya).toExponential(2)} dx ${diff(xb.grad!, ga).toExponential(2)} dw ${diff(w.grad!, wa).toExponential(2)} db ${diff(b.grad!, ba).toExponential(2)}`);
  w.grad = b.grad = null;
}
const rounds = Number(roundsS);
const reps = Number(repsS);
for (let i = 0; i < 3; i++) time(composite, reps), time(fused, reps);
const A: number[] = [], B: number[] = [], R: number[] = [], CA: number[] = [], CB: number[] = [];
for (let r = 0; r < rounds; r++) {
  const first = r % 2 === 0;
  const [ta, ca] = first ? time(composite, reps) : [0, 0];
  const [tb, cb] = time(fused, reps);
  const [ta2, ca2] = first ? [ta, ca] : time(composite, reps);
  A.push(ta2), B.push(tb), R.push(ta2 / tb), CA.push(ca2), CB.push(cb);
}
const med = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const min = (v: number[]): number => Math.min(...v);
console.log(`${name} layerNorm [${shape}] float32, weight+bias, forward+backward, ${rounds} rounds x ${reps} reps, interleaved`);
console.log(`composite: median ${med(A).toFixed(2)} ms, min ${min(A).toFixed(2)} ms, cpu median ${med(CA).toFixed(2)} ms`);
console.log(`fused:     median ${med(B).toFixed(2)} ms, min ${min(B).toFixed(2)} ms, cpu median ${med(CB).toFixed(2)} ms`);
console.log(`per-round ratio composite/fused: median ${med(R).toFixed(2)}x`);
