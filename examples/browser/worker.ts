/**
 * The training worker: fetches the digits set, trains with Adam + warm-up/cosine + clipping under
 * the NaN guard (`Trainer`), streams every step's loss and gradient norm, and every guard event
 * (skipped step, lr backoff, rollback, gradient-norm spike), to the page, and classifies the
 * digits the user draws with the current weights. The models are the CLI's (`npm start`), built by
 * examples/digits-models.ts.
 *
 * In your own project, import from "safegrad" instead of the relative path.
 */
import { Adam, CosineAnnealingLR, LinearLR, SequentialLR, Sequential, Trainer, crossEntropy, getBackend, listBackends, manualSeed, noGrad, setBackend, softmax, tensor, type GuardEvent } from "../../src/index.js";
import { registerFastBackends } from "../../src/fast.js";
import { DataLoader, parseDigitsCsv, trainTestSplit, type DigitsData } from "../../src/data.js";
import { buildModel, defaultModelConfig, describeModel, featureShape, type ModelConfig } from "../digits-models.js";
import { guardNotes, type GuardNote } from "./display.js";
import type { FromWorker, ToWorker, TrainRequest } from "./protocol.js";

/** How many test images the page shows in its grid. */
const GRID = 48;

const post = (m: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(m, transfer);

// Yield to the worker's event loop (to receive "stop" and "classify") without setTimeout's clamping.
const channel = new MessageChannel();
const yieldNow = (): Promise<void> =>
  new Promise((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(0);
  });

let dataPromise: Promise<DigitsData> | undefined;
async function loadData(): Promise<DigitsData> {
  const res = await fetch(new URL("data/digits.csv.gz", self.location.href));
  if (!res.ok || !res.body) throw new Error(`fetching data/digits.csv.gz: HTTP ${res.status}`);
  // The file is gzip-compressed on disk and served as-is; the browser's DecompressionStream inflates it.
  const text = await new Response(res.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return parseDigitsCsv(text, "digits.csv.gz");
}

let model: Sequential | undefined;
let config: ModelConfig = defaultModelConfig("mlp");
let running = 0; // id of the current run; a new "train" or a "stop" ends the previous one

function inputShape(n: number): number[] {
  return [n, ...featureShape(config)];
}

async function train(req: TrainRequest): Promise<void> {
  const run = ++running;
  registerFastBackends();
  const backends = listBackends();
  setBackend(backends.includes(req.backend) ? req.backend : "js");
  manualSeed(req.seed);
  dataPromise ??= loadData();
  const data = await dataPromise;
  const { train: trainIdx, test: testIdx } = trainTestSplit(data.n, { testFraction: 0.2, seed: req.seed, labels: data.y });
  // The same models as `npm start -- --model mlp|cnn` (so the parameter counts agree).
  config = defaultModelConfig(req.model);
  const dataset = { x: data.x, y: data.y, featureShape: featureShape(config) };
  const loader = new DataLoader(dataset, trainIdx, { batchSize: 32, shuffle: true, seed: req.seed + 1 });
  const net = buildModel(config);
  model = net;

  const images = new Float32Array(GRID * 64);
  const labels = new Int32Array(GRID);
  for (let i = 0; i < GRID; i++) {
    const row = testIdx[i]!;
    images.set(data.x.subarray(row * 64, row * 64 + 64), i * 64);
    labels[i] = data.y[row]!;
  }
  const params = net.parameters().reduce((a, p) => a + p.numel, 0);
  const classes = config.kind === "cnn" ? config.classes : config.sizes[config.sizes.length - 1]!;
  post({ type: "ready", run: req.run, backends, backend: getBackend().name, train: trainIdx.length, test: testIdx.length, params, model: config.kind, description: describeModel(config), classes });
  post({ type: "testImages", run: req.run, images, labels });

  const optimizer = new Adam(net.parameters(), { lr: req.lr });
  const total = req.epochs * loader.length;
  const warmup = Math.max(1, Math.floor(total / 10));
  const scheduler = new SequentialLR(optimizer, {
    schedulers: [
      new LinearLR(optimizer, { startFactor: 0.05, endFactor: 1, totalIters: warmup }),
      new CosineAnnealingLR(optimizer, { tMax: Math.max(1, total - warmup), etaMin: req.lr * 0.01 }),
    ],
    milestones: [warmup],
  });
  // The guard's events during a step, turned into notes for the page (an AnomalyReport cannot be posted).
  let step = 0;
  let lrScale = 1;
  let notes: GuardNote[] = [];
  const onEvent = (e: GuardEvent): void => {
    if (e.type === "step") return;
    notes.push(...guardNotes(e, step + 1, lrScale));
    if (e.type === "nonFinite") lrScale = e.lrScale;
  };
  const trainer = new Trainer({ model: net, loss: (out, y) => crossEntropy(out, y), optimizer, scheduler, maxNorm: 1, onNonFinite: "backoff", seed: req.seed, onEvent });

  // Test-set accuracy and the grid's predictions, without recording a graph.
  const evaluate = (): { accuracy: number; predictions: Int32Array } => {
    net.eval();
    const x = new Float32Array(testIdx.length * 64);
    testIdx.forEach((row, i) => x.set(data.x.subarray(row * 64, row * 64 + 64), i * 64));
    const pred = noGrad(() => net.forward(tensor(x, { shape: inputShape(testIdx.length) })).argmax(1).toTypedArray());
    net.train();
    let correct = 0;
    testIdx.forEach((row, i) => (correct += pred[i] === data.y[row] ? 1 : 0));
    return { accuracy: correct / testIdx.length, predictions: Int32Array.from(pred.subarray(0, GRID)) };
  };

  let acc = 0;
  for (let epoch = 1; epoch <= req.epochs; epoch++) {
    const t0 = performance.now();
    let lossSum = 0;
    let seen = 0;
    for (const b of loader) {
      const r = trainer.trainStep(tensor(b.x, { shape: b.shape }), tensor(b.y));
      step++;
      if (r.status === "ok") {
        lossSum += r.loss * b.size;
        seen += b.size;
      }
      post({ type: "step", run: req.run, step, epoch, loss: r.loss, gradNorm: r.gradNorm, lr: optimizer.paramGroups[0]!.lr, skipped: r.status !== "ok", lrScale, events: notes });
      notes = [];
      await yieldNow();
      if (run !== running) {
        post({ type: "done", run: req.run, testAccuracy: acc, stopped: true });
        return;
      }
    }
    const ev = evaluate();
    acc = ev.accuracy;
    const seconds = (performance.now() - t0) / 1000;
    post({ type: "epoch", run: req.run, epoch, epochs: req.epochs, trainLoss: lossSum / Math.max(1, seen), testAccuracy: ev.accuracy, predictions: ev.predictions, seconds });
  }
  if (run === running) post({ type: "done", run: req.run, testAccuracy: acc, stopped: false });
}

function classify(id: number, pixels: Float32Array): void {
  if (!model) return;
  const net = model;
  net.eval();
  const probs = noGrad(() => softmax(net.forward(tensor(pixels, { shape: inputShape(1) })), 1).toTypedArray());
  net.train();
  post({ type: "classified", id, probs: Float32Array.from(probs) });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === "train") {
    train(m).catch((err: unknown) => post({ type: "error", run: m.run, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }));
  } else if (m.type === "stop") {
    running++;
  } else if (m.type === "classify") {
    classify(m.id, m.pixels);
  }
};
