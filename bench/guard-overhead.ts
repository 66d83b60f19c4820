/**
 * Overhead of the NaN guard on the W4 MLP train step (batch 128, 784-256-256-10, ReLU, softmax
 * cross-entropy, Adam): the plain step, the step with the always-on guard (loss + gradient-norm
 * check, computed in the clip pass), and the step under anomaly detection. Ratios are against the
 * plain step measured in the same run, alternating the variants so machine noise hits all alike.
 *
 *   npx tsx bench/guard-overhead.ts [--backend js|js-fast|wasm] [--runs 15]
 */
import * as sg from "../src/index.js";
import { Tensor } from "../src/index.js";
import { Adam } from "../src/optim/adam.js";
import { detectAnomaly } from "../src/guard/anomaly.js";
import { TrainingGuard } from "../src/guard/training.js";
import { clipGradNorm } from "../src/optim/clip-grad.js";
import { parseCli } from "../scripts/cli.js";

const { values } = parseCli({
  command: "npx tsx bench/guard-overhead.ts",
  description: `Overhead of the NaN guard on the W4 MLP train step (batch 128, 784-256-256-10, Adam): the plain
step, with clipping, with the always-on guard and under anomaly detection, alternated so machine
noise hits all alike; medians and ratios against the plain step.`,
  options: {
    backend: { type: "string", choices: ["js", "js-fast", "wasm"], default: "js", help: "the kernels" },
    runs: { type: "integer", default: 15, min: 1, value: "N", help: "timed runs of each variant" },
  },
});
const backend = values.backend;
const runs = values.runs;

async function selectBackend(): Promise<void> {
  if (backend !== "js") {
    // Fast backends register explicitly (no import side effects).
    const mod: any = await import("../src/kernels/index.js").catch(() => null);
    mod?.registerFastBackends?.();
  }
  sg.setBackend(backend);
}

function linear(inF: number, outF: number, gen: sg.Generator): [Tensor, Tensor] {
  const bound = 1 / Math.sqrt(inF);
  const w = sg.rand([outF, inF], { generator: gen }).mul(2 * bound).sub(bound).detach().requiresGrad_();
  const b = sg.rand([outF], { generator: gen }).mul(2 * bound).sub(bound).detach().requiresGrad_();
  return [w, b];
}

async function main(): Promise<void> {
  await selectBackend();
  const gen = new sg.Generator(0);
  const layers = [linear(784, 256, gen), linear(256, 256, gen), linear(256, 10, gen)];
  const params = layers.flat();
  const named = params.map((p, i) => [`p${i}`, p] as [string, Tensor]);
  const x = sg.randn([128, 784], { generator: gen });
  const y = sg.randint(0, 10, [128, 1], { generator: gen });
  const adam = new Adam(params, { lr: 1e-4 });
  // maxNorm 1: the clipping really happens (gradients of this model are larger than 1).
  const guard = new TrainingGuard(named, adam, null, { maxNorm: 1 });

  const forwardBackward = (): Tensor => {
    adam.zeroGrad();
    let h = x;
    layers.forEach(([w, b], i) => {
      h = h.matmul(w.transpose(0, 1)).add(b);
      if (i < layers.length - 1) h = h.relu();
    });
    const loss = h.logSoftmax(-1).gather(1, y).mean().neg();
    loss.backward();
    return loss;
  };
  const variants: Record<string, () => void> = {
    plain: () => {
      forwardBackward();
      adam.step();
    },
    // The baseline the guard is meant to be compared with: a step that clips (the norm is computed anyway).
    "plain + clip": () => {
      forwardBackward();
      clipGradNorm(named, 1);
      adam.step();
    },
    "always-on guard": () => {
      const loss = forwardBackward();
      guard.step(loss.item());
    },
    "anomaly mode": () => {
      detectAnomaly(() => forwardBackward());
      adam.step();
    },
  };
  for (const f of Object.values(variants)) f(); // warm-up
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) {
    for (const [k, f] of Object.entries(variants)) {
      const t0 = performance.now();
      f();
      times[k]!.push(performance.now() - t0);
    }
  }
  const median = (a: number[]): number => {
    const s = [...a].sort((p, q) => p - q);
    return s[Math.floor(s.length / 2)]!;
  };
  const base = median(times.plain!);
  const clipBase = median(times["plain + clip"]!);
  console.log(`W4 MLP step, backend ${backend}, median of ${runs} runs`);
  for (const k of Object.keys(variants)) {
    const m = median(times[k]!);
    console.log(`  ${k.padEnd(16)} ${m.toFixed(2).padStart(9)} ms   ${(m / base).toFixed(3)}x plain   ${(m / clipBase).toFixed(3)}x plain + clip`);
  }
  // Per-run paired ratios are less sensitive to machine noise than a ratio of medians.
  const paired = (k: string, b: string): number => median(times[k]!.map((t, i) => t / times[b]![i]!));
  console.log(`  paired medians: guard / (plain + clip) = ${paired("always-on guard", "plain + clip").toFixed(3)}, anomaly / plain = ${paired("anomaly mode", "plain").toFixed(3)}`);
}

void main();
