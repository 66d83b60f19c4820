/**
 * The sequence jobs (`npm run sequence`), with the library's recurrent and transformer layers:
 *
 *   --task text    a character-level transformer language model (2 pre-norm causal blocks, d = 128,
 *                  4 heads, context 64) on the project's own documentation (README.md and docs/*.md,
 *                  MIT like the project): validation loss and perplexity per epoch against a unigram
 *                  baseline, then a few sampled lines;
 *   --task digits  the embedded digits read row by row (8 steps of 8 pixels) by an LSTM, a GRU or a
 *                  transformer encoder (--model), test accuracy per epoch;
 *   --task clip    a ReLU RNN over 40 steps whose gradients explode, trained the same way without
 *                  and with clipGradNorm (the classic fix).
 *
 *   npm run sequence -- --help
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Adam, CosineAnnealingLR, DataLoader, LinearLR, SequentialLR, RNN, Linear, Module, Trainer, clipGradNorm, crossEntropy, getBackend, loadDigits, manualSeed, noGrad, registerFastBackends, tensor, trainTestSplit,
  Generator, SGD, markModified, mseLoss, type Tensor,
} from "../src/node.js";
import { fail, parseCli } from "../scripts/cli.js";
import { CharTransformer, SEQ_MODELS, buildSequenceClassifier, type SeqModelKind } from "./sequence-models.js";

const TASKS = ["text", "digits", "clip"] as const;
const { values: opts, given } = parseCli({
  command: "npm run sequence --",
  description: `Sequence models on embedded data: a character-level transformer language model on the
project's own docs (--task text), the digits read row by row by an LSTM, GRU or transformer
(--task digits), and gradient clipping fixing an exploding RNN (--task clip). Writes no files.`,
  options: {
    task: { type: "string", choices: TASKS, default: "text", help: "which job" },
    model: { type: "string", choices: [...SEQ_MODELS, "all"], default: "all", help: "--task digits: the sequence model (all: each in turn)" },
    epochs: { type: "integer", min: 1, value: "N", help: "epochs (default: text 5, digits 10 per model; not for clip)" },
    steps: { type: "integer", min: 1, value: "N", help: "steps per epoch (text: default 50; clip: default 400; digits: a full pass)" },
    lr: { type: "number", min: 0, value: "X", help: "Adam's learning rate (default: text 0.006, digits 0.01 for the LSTM/GRU and 0.005 for the transformer; clip: plain SGD, 0.02)" },
    "batch-size": { type: "integer", min: 1, value: "N", help: "batch size (default: text 8, digits 32, clip 16)" },
    samples: { type: "integer", default: 3, min: 0, value: "N", help: "--task text: sampled lines at the end" },
    seed: { type: "integer", default: 0, min: 0, value: "N", help: "seed for initialisation, batches and sampling" },
  },
});

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (opts.task !== "digits" && given.has("model")) fail(`--model applies to --task digits only`);
if (opts.task !== "text" && given.has("samples")) fail(`--samples applies to --task text only`);
if (opts.task === "clip" && given.has("epochs")) fail(`--epochs does not apply to --task clip (give --steps)`);

// Fast kernels when available (WASM SIMD, else the fast JS backend); SAFEGRAD_BACKEND=js|js-fast|wasm picks one.
registerFastBackends({ select: true });
manualSeed(opts.seed);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const secs = (since = t0): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
/** Wall time since the start, and the CPU time of this process (the wall time on an idle machine: the job runs on one thread). */
const total = (): string => {
  const c = process.cpuUsage(cpu0);
  return `${secs()} (CPU ${((c.user + c.system) / 1e6).toFixed(1)} s)`;
};


// ------------------------------------------------------------------------------------------------
// --task text
function runText(): void {
  const files = ["README.md", "docs/contributing.md", "docs/nan-guide.md", "docs/backends.md", "docs/onnx.md"].filter((f) => existsSync(join(root, f)));
  if (files.length === 0) fail("the project's docs (README.md, docs/*.md) are not there: run from a clone of the repository");
  const text = files.map((f) => readFileSync(join(root, f), "utf8")).join("\n\n");
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c)!);
  const V = chars.length;
  const context = 64;
  const split = Math.floor(ids.length * 0.9);
  const trainIds = ids.subarray(0, split);
  const valIds = ids.subarray(split);

  // The unigram baseline: each character predicted by its frequency in the training text (add-one).
  const counts = new Float64Array(V).fill(1);
  for (const c of trainIds) counts[c]!++;
  const countSum = counts.reduce((a, b) => a + b, 0);
  let uni = 0;
  for (const c of valIds) uni -= Math.log(counts[c]! / countSum);
  uni /= valIds.length;

  const batchSize = opts["batch-size"] ?? 8;
  const epochs = opts.epochs ?? 5;
  const steps = opts.steps ?? 50;
  const lr = opts.lr ?? 6e-3;
  const gen = new Generator(opts.seed + 1);
  const model = new CharTransformer({ vocab: V, context, dModel: 128, heads: 4, layers: 2, ff: 512 });
  const optimizer = new Adam(model.parameters(), { lr });
  // A short linear warm-up, then cosine decay to 5% over the run (stepped by the Trainer each step).
  const totalSteps = epochs * steps;
  const warmup = Math.max(1, Math.min(20, Math.floor(totalSteps / 5)));
  const scheduler = new SequentialLR(optimizer, {
    schedulers: [
      new LinearLR(optimizer, { startFactor: 0.1, endFactor: 1, totalIters: warmup }),
      new CosineAnnealingLR(optimizer, { tMax: Math.max(1, totalSteps - warmup), etaMin: lr * 0.05 }),
    ],
    milestones: [warmup],
  });
  const trainer = new Trainer({
    model,
    loss: (logits, y) => crossEntropy(logits.reshape([-1, V]), y.reshape([-1])),
    optimizer,
    scheduler,
    maxNorm: 1,
    onNonFinite: "backoff",
    seed: opts.seed,
  });
  const window = (src: Int32Array, starts: number[]): [Tensor, Tensor] => {
    const x = new Int32Array(starts.length * context);
    const y = new Int32Array(starts.length * context);
    starts.forEach((s, b) => {
      x.set(src.subarray(s, s + context), b * context);
      y.set(src.subarray(s + 1, s + 1 + context), b * context);
    });
    return [tensor(x, { shape: [starts.length, context] }), tensor(y, { shape: [starts.length, context] })];
  };
  // Validation: up to 24 fixed windows spread over the held-out text (every position scored).
  const nVal = Math.min(24, Math.floor((valIds.length - 1) / context));
  const valStarts = Array.from({ length: nVal }, (_, i) => Math.floor((i * (valIds.length - context - 1)) / Math.max(1, nVal - 1)));
  const [vx, vy] = window(valIds, valStarts);
  const validate = (): number => {
    model.eval();
    const l = noGrad(() => crossEntropy(model.forward(vx).reshape([-1, V]), vy.reshape([-1])).item());
    model.train();
    return l;
  };

  console.log(
    `text: ${files.join(", ")} (the project's docs, MIT): ${ids.length} characters, vocabulary ${V}, ${trainIds.length} train / ${valIds.length} validation\n` +
      `model: char transformer, 2 pre-norm causal blocks, d 128, 4 heads, ff 512, context ${context} (${model.parametersCount()} parameters), Adam lr ${lr} (warm-up ${warmup} steps, cosine), clip 1, batch ${batchSize}, backend ${getBackend().name}\n` +
      `unigram baseline: validation loss ${uni.toFixed(3)} nats/char, perplexity ${Math.exp(uni).toFixed(2)}`,
  );
  const v0 = validate();
  console.log(`epoch  0  validation loss ${v0.toFixed(3)}  perplexity ${Math.exp(v0).toFixed(2)}  (untrained; ln ${V} = ${Math.log(V).toFixed(3)})`);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    let sum = 0;
    let n = 0;
    for (let s = 0; s < steps; s++) {
      const starts = Array.from({ length: batchSize }, () => Math.floor(gen.random() * (trainIds.length - context - 1)));
      const r = trainer.trainStep(...window(trainIds, starts));
      if (r.status !== "ok") continue;
      sum += r.loss;
      n++;
    }
    const v = validate();
    console.log(
      `epoch ${String(epoch).padStart(2)}  train loss ${(sum / Math.max(1, n)).toFixed(3)}  validation loss ${v.toFixed(3)}  perplexity ${Math.exp(v).toFixed(2)}  ` +
        `(unigram ${Math.exp(uni).toFixed(2)}: ${v < uni ? `${(uni - v).toFixed(3)} nats/char better` : "not better yet"})  ${secs(te)}`,
    );
  }
  // Samples: from a newline, temperature 0.8, each line up to 100 characters.
  model.eval();
  const sampleGen = new Generator(opts.seed + 2);
  for (let k = 0; k < opts.samples; k++) {
    const out: number[] = [index.get("\n") ?? 0];
    let line = "";
    for (let i = 0; i < 100; i++) {
      const ctx = out.slice(-context);
      const logits = noGrad(() => model.forward(tensor(Int32Array.from(ctx), { shape: [1, ctx.length] })).select(1, ctx.length - 1).reshape([-1]));
      const p = logits.div(0.8).softmax(0).toTypedArray();
      let u = sampleGen.random();
      let c = 0;
      while (c < V - 1 && (u -= p[c]!) > 0) c++;
      if (chars[c] === "\n" && line.trim() !== "") break;
      out.push(c);
      if (chars[c] !== "\n") line += chars[c];
    }
    console.log(`sample ${k + 1}: ${line}`);
  }
  console.log(`done in ${total()}`);
}

// ------------------------------------------------------------------------------------------------
// --task digits
function runDigits(): void {
  const data = loadDigits();
  const { train, test } = trainTestSplit(data.n, { testFraction: 0.2, seed: opts.seed, labels: data.y });
  const dataset = { x: data.x, y: data.y, featureShape: [8, 8] };
  const kinds: SeqModelKind[] = opts.model === "all" ? [...SEQ_MODELS] : [opts.model as SeqModelKind];
  const batchSize = opts["batch-size"] ?? 32;
  console.log(`digits read row by row: ${train.length} train / ${test.length} test images as 8 steps of 8 pixels, Adam with cosine decay, batch ${batchSize}, backend ${getBackend().name}`);
  const toTensors = (b: { x: Float32Array; y: Int32Array; shape: number[] }): [Tensor, Tensor] => [tensor(b.x, { shape: b.shape }), tensor(b.y)];
  for (const kind of kinds) {
    const tk = performance.now();
    manualSeed(opts.seed);
    const epochs = opts.epochs ?? 10;
    const lr = opts.lr ?? (kind === "transformer" ? 5e-3 : 1e-2);
    const model = buildSequenceClassifier(kind);
    const loader = new DataLoader(dataset, train, { batchSize, shuffle: true, seed: opts.seed + 1 });
    const testLoader = new DataLoader(dataset, test, { batchSize: 512 });
    const optimizer = new Adam(model.parameters(), { lr });
    const stepsPerEpoch = Math.min(loader.length, opts.steps ?? Infinity);
    const scheduler = new CosineAnnealingLR(optimizer, { tMax: epochs * stepsPerEpoch, etaMin: lr * 0.01 });
    const trainer = new Trainer({ model, loss: (out, y) => crossEntropy(out, y), optimizer, scheduler, maxNorm: 1, onNonFinite: "backoff", seed: opts.seed });
    const accuracy = (): number => {
      model.eval();
      let correct = 0;
      noGrad(() => {
        for (const b of testLoader) {
          const pred = model.forward(toTensors(b)[0]).argmax(1).toTypedArray();
          for (let i = 0; i < b.size; i++) if (pred[i] === b.y[i]) correct++;
        }
      });
      model.train();
      return correct / test.length;
    };
    console.log(`${kind}: ${model.parametersCount()} parameters, ${epochs} epochs, lr ${lr}`);
    let acc = 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      let sum = 0;
      let n = 0;
      let s = 0;
      for (const b of loader) {
        if (opts.steps !== undefined && s++ >= opts.steps) break;
        const r = trainer.trainStep(...toTensors(b));
        if (r.status !== "ok") continue;
        sum += r.loss;
        n++;
      }
      acc = accuracy();
      console.log(`  epoch ${String(epoch).padStart(2)}/${epochs}  loss ${(sum / Math.max(1, n)).toFixed(4)}  test acc ${(100 * acc).toFixed(1)}%`);
    }
    console.log(`${kind}: test accuracy ${(100 * acc).toFixed(2)}% (${test.length} images) in ${secs(tk)}; total ${total()}`);
  }
}

// ------------------------------------------------------------------------------------------------
// --task clip
/** The recurrent gain of the clip task's RNN at initialisation. */
const GAIN = 1.05;
/** A ReLU RNN whose recurrent weights start at GAIN times the identity: gradients grow with the length. */
class SumRnn extends Module {
  readonly rnn = this.registerModule("rnn", new RNN(1, 32, { nonlinearity: "relu", batchFirst: true }));
  readonly head = this.registerModule("head", new Linear(32, 1));
  forward(x: Tensor): Tensor {
    const [out] = this.rnn.forward(x);
    return this.head.forward(out.select(1, out.shape[1]! - 1));
  }
}

function runClip(): void {
  const T = 40;
  const batchSize = opts["batch-size"] ?? 16;
  const steps = opts.steps ?? 400;
  const lr = opts.lr ?? 0.02;
  // The task: the sum of 40 numbers from [0, 1], standardised (mean 0, variance 1): the answer needs every step.
  const gen = new Generator(opts.seed + 1);
  const batch = (): [Tensor, Tensor] => {
    const x = new Float32Array(batchSize * T);
    const y = new Float32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += x[b * T + t] = gen.random();
      y[b] = (s - T / 2) / Math.sqrt(T / 12);
    }
    return [tensor(x, { shape: [batchSize, T, 1] }), tensor(y, { shape: [batchSize, 1] })];
  };
  const held = Array.from({ length: 4 }, batch);
  const heldLoss = (m: Module): number => noGrad(() => held.reduce((a, [x, y]) => a + mseLoss((m.forward as (x: Tensor) => Tensor)(x), y).item(), 0) / held.length);
  console.log(`clip: a ReLU RNN (hidden 32, recurrent weights ${GAIN} x identity) summing ${T} numbers, plain SGD lr ${lr}, ${steps} steps, batch ${batchSize}, backend ${getBackend().name}`);
  console.log(`(predicting 0 for every sequence has loss ${(heldLoss({ forward: (x: Tensor) => x.select(1, 0).mul(0) } as unknown as Module)).toFixed(3)})`);
  for (const maxNorm of [null, 1]) {
    manualSeed(opts.seed);
    const model = new SumRnn();
    // Identity recurrent weights times GAIN (an IRNN a little above 1): the state, and with it the
    // gradient, grows up to 1.05^40 ~ 7 times over the sequence; one plain SGD step on such a
    // gradient throws the weights where the next forward overflows.
    noGrad(() => {
      const w = new Map(model.rnn.namedParameters()).get("weight_hh_l0")!;
      const n = w.shape[0]!;
      w.storage.fill(0);
      for (let i = 0; i < n; i++) w.storage[i * n + i] = GAIN;
      markModified(w);
    });
    const sgd = new SGD(model.parameters(), { lr });
    let maxSeen = 0;
    let nonFinite = 0;
    let firstNonFinite = -1;
    const line: string[] = [];
    const tail: number[] = [];
    for (let step = 1; step <= steps; step++) {
      const [x, y] = batch();
      model.zeroGrad();
      const loss = mseLoss(model.forward(x), y);
      loss.backward();
      const norm = maxNorm === null ? gradNorm(model) : clipGradNorm(model.parameters(), maxNorm);
      if (!Number.isFinite(norm) || !Number.isFinite(loss.item())) {
        nonFinite++;
        if (firstNonFinite < 0) firstNonFinite = step;
      } else maxSeen = Math.max(maxSeen, norm);
      sgd.step();
      if (step > steps - 50) tail.push(loss.item());
      if (step % Math.max(1, Math.floor(steps / 5)) === 0) line.push(`step ${step}: loss ${fmt(loss.item())}, grad norm ${fmt(norm)}`);
    }
    const final = heldLoss(model);
    console.log(`${maxNorm === null ? "without clipping" : `clipGradNorm(params, ${maxNorm})`}:`);
    for (const l of line) console.log(`  ${l}`);
    console.log(
      `  largest finite grad norm ${fmt(maxSeen)}, non-finite steps ${nonFinite}${firstNonFinite > 0 ? ` (first at step ${firstNonFinite})` : ""}, ` +
        `mean loss of the last ${tail.length} steps ${fmt(tail.reduce((a, b) => a + b, 0) / tail.length)}, held-out loss ${fmt(final)}`,
    );
  }
  console.log(`done in ${total()}`);
}

const fmt = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(3)) : String(v));

/** The global L2 norm of the gradients (what clipGradNorm computes), without clipping. */
function gradNorm(m: Module): number {
  let s = 0;
  for (const p of m.parameters()) if (p.grad) for (const g of p.grad.toTypedArray()) s += g * g;
  return Math.sqrt(s);
}

// Run the job (at the end: the classes and helpers above are initialised by now).
if (opts.task === "text") runText();
else if (opts.task === "digits") runDigits();
else runClip();
