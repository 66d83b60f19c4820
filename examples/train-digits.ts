/**
 * The main job (`npm start`): train a network on the embedded digits set (1,797 8×8 images) with
 * Adam, a warm-up + cosine learning-rate schedule, gradient-norm clipping and the NaN guard; print
 * a progress line per epoch; report test accuracy; save the weights as safetensors and a
 * checkpoint every epoch (resume with --resume).
 *
 *   npm start -- --help
 */
import { parseArgs } from "node:util";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  Adam, BatchNorm2d, Conv2d, CosineAnnealingLR, DataLoader, Flatten, LinearLR, Linear, MaxPool2d, ReLU, SequentialLR, Sequential, Dropout,
  Trainer, crossEntropy, registerFastBackends, getBackend, defaultGenerator, io, loadDigits, manualSeed, noGrad, tensor, trainTestSplit, type GuardEvent, type Tensor,
} from "../src/node.js";

const { values: opts } = parseArgs({
  options: {
    epochs: { type: "string", default: "30" },
    lr: { type: "string", default: "0.003" },
    seed: { type: "string", default: "0" },
    model: { type: "string", default: "mlp" },
    "batch-size": { type: "string", default: "32" },
    "max-norm": { type: "string", default: "1" },
    out: { type: "string", default: "runs/digits" },
    resume: { type: "boolean", default: false },
    "stop-after": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help) {
  console.log(`Train a classifier on the embedded digits data set (UCI, CC BY 4.0).

Usage: npm start -- [options]

  --epochs N        training epochs (default 30)
  --lr X            peak learning rate of Adam (default 0.003)
  --seed N          seed for initialisation, split and shuffling (default 0)
  --model mlp|cnn   a 64-128-64-10 MLP or a small CNN on the 8x8 images (default mlp)
  --batch-size N    batch size (default 32)
  --max-norm X      clip the global gradient norm to X (default 1)
  --out DIR         where the weights and the checkpoint go (default runs/digits)
  --resume          continue from DIR/checkpoint.safetensors
  --stop-after N    stop after epoch N (as if interrupted; resume later with --resume)
  -h, --help        this text`);
  process.exit(0);
}

const num = (name: string, v: string, integer = false): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0) {
    console.error(`--${name}: expected a ${integer ? "non-negative integer" : "non-negative number"}, got "${v}"`);
    process.exit(2);
  }
  return n;
};
const epochs = num("epochs", opts.epochs!, true);
const lr = num("lr", opts.lr!);
const seed = num("seed", opts.seed!, true);
const batchSize = Math.max(1, num("batch-size", opts["batch-size"]!, true));
const maxNorm = num("max-norm", opts["max-norm"]!);
const kind = opts.model!;
if (kind !== "mlp" && kind !== "cnn") {
  console.error(`--model: expected mlp or cnn, got "${kind}"`);
  process.exit(2);
}
const outDir = opts.out!;
const stopAfter = opts["stop-after"] === undefined ? epochs : Math.min(epochs, num("stop-after", opts["stop-after"], true));

// Fast kernels when available (WASM SIMD, else the fast JS backend); SAFEGRAD_BACKEND=js|js-fast|wasm picks one.
registerFastBackends({ select: true });
manualSeed(seed);
const data = loadDigits();
const { train, test } = trainTestSplit(data.n, { testFraction: 0.2, seed, labels: data.y });
const featureShape = kind === "cnn" ? [1, 8, 8] : [64];
const dataset = { x: data.x, y: data.y, featureShape };
const loader = new DataLoader(dataset, train, { batchSize, shuffle: true, seed: seed + 1 });
const testLoader = new DataLoader(dataset, test, { batchSize: 512 });

const model =
  kind === "mlp"
    ? new Sequential(new Linear(64, 128), new ReLU(), new Dropout(0.1), new Linear(128, 64), new ReLU(), new Linear(64, 10))
    : new Sequential(
        new Conv2d(1, 16, 3, { padding: 1 }), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2), // 16 x 4 x 4
        new Conv2d(16, 32, 3, { padding: 1 }), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2), // 32 x 2 x 2
        new Flatten(), new Linear(128, 10),
      );
const optimizer = new Adam(model.parameters(), { lr });
const stepsPerEpoch = loader.length;
const warmup = Math.min(stepsPerEpoch * 2, Math.max(1, Math.floor((epochs * stepsPerEpoch) / 5)));
const scheduler = new SequentialLR(optimizer, {
  schedulers: [
    new LinearLR(optimizer, { startFactor: 0.05, endFactor: 1, totalIters: warmup }),
    new CosineAnnealingLR(optimizer, { tMax: Math.max(1, epochs * stepsPerEpoch - warmup), etaMin: lr * 0.01 }),
  ],
  milestones: [warmup],
});

let lastNorm = 0;
const trainer = new Trainer({
  model,
  loss: (out, y) => crossEntropy(out, y),
  optimizer,
  scheduler,
  maxNorm,
  onNonFinite: "backoff",
  seed,
  onEvent: (e: GuardEvent) => {
    if (e.type === "step") lastNorm = e.gradNorm;
    if (e.type === "warning") console.log(`  warning: ${e.message}`);
    if (e.type === "nonFinite") console.log(`  step ${e.step}: non-finite (${e.policy}), lr scale now ${e.lrScale}${e.report ? "\n" + e.report.toString() : ""}`);
  },
});

const toTensors = (b: { x: Float32Array; y: Int32Array; shape: number[] }): [Tensor, Tensor] => [tensor(b.x, { shape: b.shape }), tensor(b.y)];

function evaluate(): { loss: number; accuracy: number } {
  model.eval();
  let correct = 0;
  let total = 0;
  let lossSum = 0;
  noGrad(() => {
    for (const b of testLoader) {
      const [x, y] = toTensors(b);
      const out = model.forward(x);
      lossSum += crossEntropy(out, y, { reduction: "sum" }).item();
      const pred = out.argmax(1).toTypedArray();
      for (let i = 0; i < b.size; i++) if (pred[i] === b.y[i]) correct++;
      total += b.size;
    }
  });
  model.train();
  return { loss: lossSum / total, accuracy: correct / total };
}

mkdirSync(outDir, { recursive: true });
const ckptPath = join(outDir, "checkpoint.safetensors");
const parts = () => ({ model, optimizer, scheduler, rng: { default: defaultGenerator, loader: loader.generator! } });
let startEpoch = 0;
if (opts.resume) {
  const { extra } = await io.loadCheckpoint(ckptPath, parts());
  startEpoch = (extra as { epoch: number }).epoch;
  console.log(`resumed from ${ckptPath} after epoch ${startEpoch}`);
}

const params = model.parameters().reduce((a, p) => a + p.numel, 0);
console.log(`digits: ${train.length} train / ${test.length} test images, model ${kind} (${params} parameters), Adam lr ${lr}, warm-up ${warmup} steps then cosine, clip ${maxNorm}, seed ${seed}, backend ${getBackend().name}`);
const t0 = performance.now();
for (let epoch = startEpoch; epoch < stopAfter; epoch++) {
  const te = performance.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  for (const b of loader) {
    const [x, y] = toTensors(b);
    const r = trainer.trainStep(x, y);
    if (r.status !== "ok") continue;
    lossSum += r.loss * b.size;
    const pred = r.output.argmax(1).toTypedArray();
    for (let i = 0; i < b.size; i++) if (pred[i] === b.y[i]) correct++;
    seen += b.size;
  }
  const ev = evaluate();
  const secs = (performance.now() - te) / 1000;
  console.log(
    `epoch ${String(epoch + 1).padStart(2)}/${epochs}  loss ${(lossSum / Math.max(1, seen)).toFixed(4)}  train acc ${((100 * correct) / Math.max(1, seen)).toFixed(1)}%  ` +
      `test acc ${(100 * ev.accuracy).toFixed(1)}%  lr ${optimizer.paramGroups[0]!.lr.toExponential(2)}  grad norm ${lastNorm.toFixed(3)}  ${secs.toFixed(2)}s`,
  );
  await io.saveCheckpoint(ckptPath, { ...parts(), step: trainer.guard.stepCount, extra: { epoch: epoch + 1, testAccuracy: ev.accuracy } });
}
const final = evaluate();
const weights = join(outDir, "model.safetensors");
await io.save(model.stateDict(), weights, { metadata: { model: kind, seed: String(seed), testAccuracy: final.accuracy.toFixed(4) } });
console.log(`test accuracy ${(100 * final.accuracy).toFixed(2)}% (${test.length} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s; skipped steps ${trainer.guard.skipped}`);
console.log(`saved ${weights} and ${ckptPath}`);
