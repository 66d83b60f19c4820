/**
 * The W6 training step (bench/impl-ours.ts's model: 2 pre-LN causal transformer layers, exact GELU,
 * Adam) with the fused GELU against the same model with the old composite GELU
 * x · 0.5 · (1 + erf(x / √2)) passed as the layers' activation function (issue 18). Two models with
 * identical weights step in the same process, alternating (ABBA), so a busy machine slows both
 * alike; per step: wall time and process CPU time (process.cpuUsage: every thread, so a GEMM worker
 * counts too). Also checks that both give the same losses.
 *   npx tsx bench/gelu-w6.ts [wasm|js-fast] [steps per model]
 */
import * as sg from "../src/index.js";
import { Embedding, LayerNorm, Linear, Module, Tensor, TransformerEncoder, TransformerEncoderLayer, crossEntropy } from "../src/index.js";
import { registerFastBackends } from "../src/kernels/fast.js";
import { Adam } from "../src/optim/index.js";
import { W6, w6Params, w6Tokens } from "./common.js";

const [backend = "wasm", stepsS = "12"] = process.argv.slice(2);
registerFastBackends();
sg.setBackend(backend);

const composite = (x: Tensor): Tensor => x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));

class W6Model extends Module<[Tensor], Tensor> {
  declare readonly tok: Embedding;
  declare readonly pos: Tensor;
  declare readonly encoder: TransformerEncoder;
  declare readonly head: Linear;
  constructor(activation: "gelu" | ((x: Tensor) => Tensor)) {
    super();
    this.tok = this.registerModule("tok", new Embedding(W6.vocab, W6.d));
    this.pos = this.registerParameter("pos", sg.zeros([W6.seq, W6.d]));
    const layer = new TransformerEncoderLayer(W6.d, W6.heads, { dimFeedforward: W6.ff, dropout: 0, activation, batchFirst: true, normFirst: true });
    this.encoder = this.registerModule("encoder", new TransformerEncoder(layer, W6.layers, { norm: new LayerNorm(W6.d) }));
    this.head = this.registerModule("head", new Linear(W6.d, W6.vocab));
  }
  forward(ids: Tensor): Tensor {
    const h = this.tok.forward(ids).add(this.pos);
    return this.head.forward(this.encoder.forward(h, { isCausal: true }));
  }
}

function stepper(activation: "gelu" | ((x: Tensor) => Tensor)): () => number {
  const model = new W6Model(activation);
  model.loadStateDict(new Map(w6Params().map((p) => [p.name, sg.tensor(p.data, { shape: [...p.shape] })])));
  const { x, y } = w6Tokens(W6.batch);
  const ids = sg.tensor(x, { shape: [W6.batch, W6.seq], dtype: "int32" });
  const target = sg.tensor(y, { shape: [W6.batch * W6.seq], dtype: "int32" });
  const adam = new Adam(model.parameters(), { lr: W6.lr });
  return () => {
    adam.zeroGrad();
    const loss = crossEntropy(model.forward(ids).reshape(W6.batch * W6.seq, W6.vocab), target);
    loss.backward();
    adam.step();
    return loss.item();
  };
}

const runs = { composite: stepper(composite), fused: stepper("gelu") };
const stats = { composite: { wall: [] as number[], cpu: [] as number[], loss: [] as number[] }, fused: { wall: [] as number[], cpu: [] as number[], loss: [] as number[] } };
const steps = Number(stepsS);
for (let i = 0; i < 2; i++) (runs.composite(), runs.fused());
for (let r = 0; r < steps; r++) {
  for (const k of r % 2 ? (["fused", "composite"] as const) : (["composite", "fused"] as const)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const loss = runs[k]();
    stats[k].wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    stats[k].cpu.push((c.user + c.system) / 1000);
    stats[k].loss.push(loss);
  }
}
const med = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
console.log(`W6 step on ${backend}, ${steps} steps per model, interleaved; losses ${stats.composite.loss.map((l) => l.toFixed(4)).slice(-2).join(", ")} (composite) / ${stats.fused.loss.map((l) => l.toFixed(4)).slice(-2).join(", ")} (fused)`);
for (const k of ["composite", "fused"] as const) {
  console.log(`  ${k.padEnd(9)} wall median ${med(stats[k].wall).toFixed(1)} ms, min ${Math.min(...stats[k].wall).toFixed(1)} ms; cpu median ${med(stats[k].cpu).toFixed(1)} ms, min ${Math.min(...stats[k].cpu).toFixed(1)} ms`);
}
console.log(`  saved per step: cpu median ${(med(stats.composite.cpu) - med(stats.fused.cpu)).toFixed(1)} ms, wall median ${(med(stats.composite.wall) - med(stats.fused.wall)).toFixed(1)} ms`);
process.exit(0);
