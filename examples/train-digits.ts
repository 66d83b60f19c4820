/**
 * The main job (`npm start`): train a network on the embedded digits set (1,797 8×8 images) with
 * Adam, a warm-up + cosine learning-rate schedule, gradient-norm clipping and the NaN guard; print
 * a progress line per epoch; report test accuracy; save the weights as safetensors and a
 * checkpoint every epoch (resume with --resume).
 *
 *   npm start -- --help
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  Adam, CosineAnnealingLR, DataLoader, LinearLR, SequentialLR, SafegradError,
  Trainer, crossEntropy, registerFastBackends, getBackend, defaultGenerator, io, loadDigits, manualSeed, noGrad, tensor, trainTestSplit, type GuardEvent, type Tensor,
} from "../src/node.js";
import { fail, parseCli } from "../scripts/cli.js";
import { buildModel, checkModelConfig, defaultModelConfig, describeModel, featureShape, MODEL_KINDS, type ModelConfig } from "./digits-models.js";
import { saveOnnx } from "../src/node.js";

const { values: opts, given } = parseCli({
  command: "npm start --",
  description: `Train a classifier on the embedded digits data set (UCI, CC BY 4.0) with Adam, a warm-up then
cosine learning-rate schedule, gradient-norm clipping and the NaN guard. Saves DIR/model.safetensors
and DIR/checkpoint.safetensors (every epoch); the checkpoint records the model and the settings, so
--resume needs no other flags.`,
  options: {
    epochs: { type: "integer", default: 30, min: 1, value: "N", help: "training epochs" },
    lr: { type: "number", default: 0.003, min: 0, value: "X", help: "peak learning rate of Adam" },
    seed: { type: "integer", default: 0, min: 0, value: "N", help: "seed for initialisation, split and shuffling" },
    model: { type: "string", choices: MODEL_KINDS, default: "mlp", help: "a 64-128-64-10 MLP or a small CNN on the 8x8 images" },
    "batch-size": { type: "integer", default: 32, min: 1, value: "N", help: "batch size" },
    "max-norm": { type: "number", default: 1, min: 0, value: "X", help: "clip the global gradient norm to X" },
    out: { type: "string", default: "runs/digits", value: "DIR", help: "where the weights and the checkpoint go" },
    resume: { type: "boolean", help: "continue the run saved in DIR/checkpoint.safetensors (its model and settings)" },
    "stop-after": { type: "integer", min: 0, value: "N", help: "stop after epoch N (as if interrupted; resume later with --resume)" },
  },
});

/** The settings a run's schedule, split and shuffling depend on: a resumed run keeps them. */
interface RunConfig {
  epochs: number;
  lr: number;
  seed: number;
  batchSize: number;
  maxNorm: number;
}
/** What the checkpoint's `extra` holds. */
interface SavedRun {
  epoch: number;
  testAccuracy: number;
  model: ModelConfig;
  run: RunConfig;
}
const RUN_FLAGS: [keyof RunConfig, "epochs" | "lr" | "seed" | "batch-size" | "max-norm"][] = [
  ["epochs", "epochs"], ["lr", "lr"], ["seed", "seed"], ["batchSize", "batch-size"], ["maxNorm", "max-norm"],
];

const outDir = opts.out;
const ckptPath = join(outDir, "checkpoint.safetensors");
const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

let run: RunConfig = { epochs: opts.epochs, lr: opts.lr, seed: opts.seed, batchSize: opts["batch-size"], maxNorm: opts["max-norm"] };
let modelConfig: ModelConfig = defaultModelConfig(opts.model);
let startEpoch = 0;
/** The checkpoint file, read once: its config first, then its state into the rebuilt parts. */
let resumeFrom: io.Deserialized | undefined;
if (opts.resume) {
  if (!existsSync(ckptPath)) fail(`--resume: there is no checkpoint ${ckptPath} (train without --resume first, or give the run's folder with --out DIR)`);
  try {
    resumeFrom = await io.load(ckptPath);
  } catch (e) {
    fail(`--resume: cannot read ${ckptPath}: ${firstLine(e)}`);
  }
  // Read the saved config without restoring anything: a model that takes any state.
  let extra: unknown;
  try {
    ({ extra } = io.restoreCheckpoint(resumeFrom, { model: { stateDict: () => new Map(), loadStateDict: () => undefined } }));
  } catch (e) {
    fail(`--resume: ${ckptPath} is not a usable checkpoint: ${firstLine(e)}`);
  }
  const saved = (extra ?? {}) as Partial<Record<keyof SavedRun, unknown>>;
  const epoch = saved.epoch;
  if (!Number.isInteger(epoch) || (epoch as number) < 0) fail(`--resume: ${ckptPath} does not say which epoch it was saved after`);
  startEpoch = epoch as number;
  if (saved.model === undefined) {
    // Written before checkpoints recorded their config: the flags must say what it holds.
    if (!given.has("model")) fail(`--resume: ${ckptPath} does not record which model it holds (an older checkpoint): give --model mlp|cnn and the flags it was started with`);
  } else {
    const checked = checkModelConfig(saved.model);
    if (typeof checked === "string") fail(`--resume: ${ckptPath} has a damaged model config: ${checked}`);
    if (given.has("model") && opts.model !== checked.kind) {
      fail(`--model ${opts.model} does not match ${ckptPath}, which holds a ${checked.kind} model (resume without --model, or give another --out DIR)`);
    }
    modelConfig = checked;
    const r = (saved.run ?? {}) as Partial<Record<keyof RunConfig, unknown>>;
    const restored = { ...run };
    for (const [key, flag] of RUN_FLAGS) {
      const v = r[key];
      if (typeof v !== "number" || !Number.isFinite(v)) fail(`--resume: ${ckptPath} has a damaged run config (${key})`);
      if (given.has(flag) && opts[flag] !== v) fail(`--${flag} ${opts[flag]} does not match ${ckptPath}, saved with --${flag} ${v} (a resumed run keeps its settings: omit --${flag})`);
      restored[key] = v;
    }
    run = restored;
  }
  if (startEpoch > run.epochs) fail(`--resume: ${ckptPath} was saved after epoch ${startEpoch} of ${run.epochs}`);
}
const { epochs, lr, seed, batchSize, maxNorm } = run;
const kind = modelConfig.kind;
const stopAfter = opts["stop-after"] === undefined ? epochs : Math.min(epochs, opts["stop-after"]);

// Fast kernels when available (WASM SIMD, else the fast JS backend); SAFEGRAD_BACKEND=js|js-fast|wasm picks one.
registerFastBackends({ select: true });
manualSeed(seed);
const data = loadDigits();
const { train, test } = trainTestSplit(data.n, { testFraction: 0.2, seed, labels: data.y });
const dataset = { x: data.x, y: data.y, featureShape: featureShape(modelConfig) };
const loader = new DataLoader(dataset, train, { batchSize, shuffle: true, seed: seed + 1 });
const testLoader = new DataLoader(dataset, test, { batchSize: 512 });
const classes = modelConfig.kind === "mlp" ? modelConfig.sizes[modelConfig.sizes.length - 1] : modelConfig.classes;
if (dataset.featureShape.reduce((a, b) => a * b, 1) !== 64 || classes !== 10) fail(`the model ${describeModel(modelConfig)} does not take 8x8 images into 10 classes`);
const model = buildModel(modelConfig);
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
const parts = () => ({ model, optimizer, scheduler, rng: { default: defaultGenerator, loader: loader.generator! } });
if (resumeFrom) {
  try {
    io.restoreCheckpoint(resumeFrom, parts());
  } catch (e) {
    if (!(e instanceof SafegradError)) throw e;
    fail(`--resume: ${ckptPath} does not fit the ${describeModel(modelConfig)} model: ${firstLine(e)}`);
  }
  console.log(`resumed from ${ckptPath} after epoch ${startEpoch} (model ${describeModel(modelConfig)}, ${epochs} epochs, lr ${lr}, batch size ${batchSize}, seed ${seed})`);
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
  const extra: SavedRun = { epoch: epoch + 1, testAccuracy: ev.accuracy, model: modelConfig, run };
  await io.saveCheckpoint(ckptPath, { ...parts(), step: trainer.guard.stepCount, extra });
}
const final = evaluate();
const weights = join(outDir, "model.safetensors");
await io.save(model.stateDict(), weights, { metadata: { model: kind, modelConfig: JSON.stringify(modelConfig), seed: String(seed), testAccuracy: final.accuracy.toFixed(4) } });
console.log(`test accuracy ${(100 * final.accuracy).toFixed(2)}% (${test.length} images) in ${((performance.now() - t0) / 1000).toFixed(1)} s; skipped steps ${trainer.guard.skipped}`);
// The trained model as ONNX (runs in ONNX Runtime: docs/onnx.md), input "image" with a dynamic batch dim.
const onnx = join(outDir, "model.onnx");
await saveOnnx(onnx, model, tensor(data.x.slice(0, 64), { shape: [1, ...dataset.featureShape] }), { inputNames: ["image"], outputNames: ["logits"] });
console.log(`saved ${weights}, ${onnx} and ${ckptPath}`);
