/**
 * Trainer.fit / evaluate / predict (issue 14, item 7): training on real data through the
 * DataLoader, metrics, callbacks (early stopping, the best-model checkpoint, guard events),
 * per-batch or per-epoch scheduler stepping, and the progress output.
 */
import { describe, expect, it } from "vitest";
import { Adam, BatchNorm1d, Dropout, Linear, ReLU, ReduceLROnPlateau, SGD, Sequential, StepLR, Tensor, Trainer, ValueError, accuracy, crossEntropy, earlyStopping, manualSeed, modelCheckpoint, mseLoss, randn, tensor, type Callback, type EpochLogs, type GuardEvent, type Metric } from "../../src/index.js";
import { DataLoader, Subset, TensorDataset, toTensorDataset, trainTestSplit } from "../../src/data.js";
import type { StateDict } from "../../src/layers/module.js";
import { loadDigits, loadIris } from "../../src/node.js";
import { defaultGenerator } from "../../src/tensor/random.js";

function irisLoaders(seed = 0) {
  const d = loadIris({ standardize: true });
  const ds = toTensorDataset(d);
  const { train, test } = trainTestSplit(d.n, { testFraction: 0.2, seed, labels: d.y });
  return {
    train: new DataLoader(new Subset(ds, train), { batchSize: 16, shuffle: true, seed }),
    test: new DataLoader(new Subset(ds, test), { batchSize: 64 }),
  };
}

function irisTrainer(lr = 0.02) {
  manualSeed(0);
  const model = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
  const optimizer = new Adam(model.parameters(), { lr });
  return { model, optimizer, trainer: new Trainer({ model, loss: crossEntropy, optimizer }) };
}

const copy = (sd: StateDict): Map<string, number[]> => new Map([...sd].map(([k, t]) => [k, Array.from(t.toTypedArray())]));

/** A callback that replaces the monitored value by a scripted one (so the best epoch is known). */
function scripted(key: string, values: number[]): Callback {
  return { onEpochEnd: (logs) => void (logs[key] = values[logs.epoch - 1]) };
}

/** Keeps a copy of the weights at the end of every epoch. */
function weightsPerEpoch(model: Sequential): { cb: Callback; at: Map<number, Map<string, number[]>> } {
  const at = new Map<number, Map<string, number[]>>();
  return { at, cb: { onEpochEnd: (logs) => void at.set(logs.epoch, copy(model.stateDict())) } };
}

describe("Trainer.fit on real data", () => {
  it("iris through toTensorDataset and a shuffled DataLoader: over 90% validation accuracy, with the history of every epoch", async () => {
    const { train, test } = irisLoaders();
    const { trainer, model } = irisTrainer();
    const before = copy(model.stateDict());
    const history = await trainer.fit(train, { epochs: 15, valLoader: test, metrics: { accuracy }, verbose: 0 });
    expect(history.epochs).toHaveLength(15);
    expect(history.stoppedEarly).toBe(false);
    const last = history.epochs[14]!;
    expect(Object.keys(last)).toEqual(["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "skipped", "steps", "seconds"]);
    expect(last.epoch).toBe(15);
    expect(last.steps).toBe(train.length); // 120 rows / 16 = 8 batches
    expect(last.skipped).toBe(0);
    expect(last.lr).toBe(0.02);
    expect(last.val_accuracy).toBeGreaterThan(0.9);
    expect(last.accuracy).toBeGreaterThan(0.9);
    const losses = history.series("loss");
    expect(losses[14]!).toBeLessThan(losses[0]! / 3);
    expect(history.series("val_loss").every(Number.isFinite)).toBe(true);
    // The last val_* values are evaluate()'s on the same loader, with the same weights.
    const ev = trainer.evaluate(test, { metrics: { accuracy } });
    expect(ev.loss).toBeCloseTo(last.val_loss!, 6);
    expect(ev.accuracy).toBe(last.val_accuracy);
    expect(copy(model.stateDict())).not.toEqual(before);
  });

  it("digits as 8x8 images: an MLP passes 85% test accuracy in 3 epochs, and accuracy matches predict's argmax", async () => {
    const d = loadDigits();
    const ds = toTensorDataset(d);
    const { train, test } = trainTestSplit(d.n, { testFraction: 0.2, seed: 0, labels: d.y });
    manualSeed(1);
    const model = new Sequential(new Linear(64, 64), new ReLU(), new Linear(64, 10));
    const trainer = new Trainer({ model, loss: crossEntropy, optimizer: new Adam(model.parameters(), { lr: 0.01 }), maxNorm: 1 });
    const testLoader = new DataLoader(new Subset(ds, test), { batchSize: 100 });
    const history = await trainer.fit(new DataLoader(new Subset(ds, train), { batchSize: 32, shuffle: true, seed: 1 }), { epochs: 3, valLoader: testLoader, metrics: { accuracy }, verbose: 0 });
    const acc = history.epochs[2]!.val_accuracy!;
    expect(acc).toBeGreaterThan(0.85);
    const pred = trainer.predict(testLoader).argmax(1).toArray() as number[];
    const labels = Array.from(test, (i) => d.y[i]!);
    expect(pred).toHaveLength(test.length);
    expect(pred.filter((p, i) => p === labels[i]).length / labels.length).toBeCloseTo(acc, 12);
  });

  it("takes any re-iterable of [x, y] pairs or { x, y } batches; a one-shot iterator fails in epoch 2 with a clear error", async () => {
    const { trainer } = irisTrainer();
    const x = randn([8, 4]);
    const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: "int32" });
    const h = await trainer.fit([[x, y], { x, y }], { epochs: 2, verbose: 0 });
    expect(h.epochs.map((e) => e.steps)).toEqual([2, 2]);
    function* once() {
      yield [x, y] as [Tensor, Tensor];
    }
    await expect(trainer.fit(once(), { epochs: 2, verbose: 0 })).rejects.toThrow(/no batch in epoch 2.*one-shot iterator/);
    await expect(trainer.fit([[x]] as never, { verbose: 0 })).rejects.toThrow(ValueError);
    await expect(trainer.fit([], { verbose: 0 })).rejects.toThrow(/gave no batch/);
    await expect(trainer.fit([[x, y]], { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
  });

  it("metrics: an object metric and a function metric are exact over uneven batches", async () => {
    manualSeed(3);
    const model = new Linear(3, 1);
    const trainer = new Trainer({ model, loss: mseLoss, optimizer: new SGD(model.parameters(), { lr: 0 }) });
    const x = randn([10, 3]);
    const t = randn([10, 1]);
    const loader = new DataLoader(new TensorDataset(x, t), { batchSize: 4 }); // 4, 4, 2
    const mae: Metric = { batch: (o, tt) => [o.sub(tt).abs().sum().item(), tt.numel] };
    const r = trainer.evaluate(loader, { metrics: { mae, mse: (o, tt) => o.sub(tt).square().mean().item() } });
    const out = model.forward(x);
    expect(r.mae).toBeCloseTo(out.sub(t).abs().mean().item(), 6);
    expect(r.mse).toBeCloseTo(out.sub(t).square().mean().item(), 6);
    expect(r.loss).toBeCloseTo(r.mse!, 6);
    // lr 0: fit's training metrics are those of the same fixed weights.
    const h = await trainer.fit(loader, { metrics: { mae }, verbose: 0 });
    expect(h.epochs[0]!.mae).toBeCloseTo(r.mae!, 6);
    expect(() => trainer.evaluate(loader, { metrics: { val_x: mae } })).toThrow(/reserved/);
  });

  it("accuracy: argmax of logits against int targets, one-hot targets, ignored targets, binary logits", () => {
    const logits = tensor([[2, 1, 0], [0, 1, 2], [0, 3, 1], [1, 0, 0]]);
    expect(accuracy.batch(logits, tensor([0, 2, 0, -100], { dtype: "int32" }))).toEqual([2, 3]);
    expect(accuracy.batch(logits, tensor([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]))).toEqual([3, 4]);
    expect(accuracy.batch(tensor([[2], [-1], [0.5]]), tensor([1, 1, 1]))).toEqual([2, 3]);
    expect(() => accuracy.batch(logits, tensor([0, 1], { dtype: "int32" }))).toThrow(/needs a target/);
  });
});

describe("evaluate and predict", () => {
  function bnModel() {
    manualSeed(4);
    const model = new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Dropout(0.5), new Linear(8, 3));
    const trainer = new Trainer({ model, loss: crossEntropy, optimizer: new SGD(model.parameters(), { lr: 0.1 }) });
    const x = randn([12, 4]);
    const y = tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], { dtype: "int32" });
    return { model, trainer, loader: [[x, y]] as [Tensor, Tensor][], x };
  }

  it("evaluate changes no weight and no BatchNorm running statistic, uses eval mode (no dropout), and restores each module's mode", () => {
    const { model, trainer, loader } = bnModel();
    model.train();
    model.modules()[3]!.training = false; // a submodule (the ReLU) left in eval mode on purpose
    const modes = model.modules().map((m) => m.training);
    const before = copy(model.stateDict()); // parameters and running_mean, running_var, num_batches_tracked
    const rng = defaultGenerator.getState();
    const a = trainer.evaluate(loader, { metrics: { accuracy } });
    const b = trainer.evaluate(loader, { metrics: { accuracy } });
    expect(b).toEqual(a); // deterministic: Dropout is off
    expect(copy(model.stateDict())).toEqual(before);
    expect(model.modules().map((m) => m.training)).toEqual(modes);
    expect(defaultGenerator.getState()).toEqual(rng);
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
    // In train mode BatchNorm would have moved its statistics: the check above can fail.
    model.forward(loader[0]![0]);
    expect(copy(model.stateDict())).not.toEqual(before);
  });

  it("evaluate restores the mode when the loss throws", () => {
    const { model, loader } = bnModel();
    const trainer = new Trainer({ model, loss: () => { throw new ValueError("loss", "boom"); }, optimizer: new SGD(model.parameters(), { lr: 0.1 }) });
    model.train();
    expect(() => trainer.evaluate(loader)).toThrow(/boom/);
    expect(model.modules().every((m) => m.training)).toBe(true);
  });

  it("predict: eval mode, no graph, slices equal the whole, loaders concatenate, the mode comes back", () => {
    const { model, trainer, x } = bnModel();
    model.train();
    const whole = trainer.predict(x);
    expect(whole.shape).toEqual([12, 3]);
    expect(whole.requiresGrad).toBe(false);
    expect(trainer.predict(x, { batchSize: 5 }).toArray()).toEqual(whole.toArray());
    const fromLoader = trainer.predict(new DataLoader(new TensorDataset(x), { batchSize: 5 }));
    expect(fromLoader.toArray()).toEqual(whole.toArray());
    expect(model.training).toBe(true);
    expect(() => trainer.predict(x, { batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe("callbacks", () => {
  it("earlyStopping stops after `patience` epochs without improvement and restores the best epoch's weights", async () => {
    const { train } = irisLoaders();
    const { trainer, model } = irisTrainer();
    const w = weightsPerEpoch(model);
    // loss as logged: best at epoch 4 (2.5); 2.45 at epoch 6 is within minDelta 0.1: no improvement.
    const stop = earlyStopping({ monitor: "loss", patience: 3, minDelta: 0.1, restoreBest: true });
    const seen: number[] = [];
    const history = await trainer.fit(train, {
      epochs: 50,
      callbacks: [scripted("loss", [5, 3, 4, 2.5, 2.6, 2.45, 2.7, 1, 1]), w.cb, stop, { onEpochEnd: (l) => void seen.push(l.epoch) }],
      verbose: 0,
    });
    expect(stop.bestEpoch).toBe(4);
    expect(stop.best).toBe(2.5);
    expect(stop.stoppedEpoch).toBe(7);
    expect(history.epochs).toHaveLength(7);
    expect(history.stoppedEarly).toBe(true);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(copy(model.stateDict())).toEqual(w.at.get(4));
    expect(copy(model.stateDict())).not.toEqual(w.at.get(7));
  });

  it("earlyStopping on val_accuracy maximizes; without restoreBest the last weights stay; a monitor that is not logged fails before training", async () => {
    const { train, test } = irisLoaders();
    const { trainer, model } = irisTrainer();
    const w = weightsPerEpoch(model);
    const stop = earlyStopping({ monitor: "val_accuracy", patience: 1 });
    const h = await trainer.fit(train, { epochs: 10, valLoader: test, metrics: { accuracy }, callbacks: [scripted("val_accuracy", [0.5, 0.7, 0.6, 0.9]), w.cb, stop], verbose: 0 });
    expect(stop.mode).toBe("max");
    expect(stop.bestEpoch).toBe(2);
    expect(h.epochs).toHaveLength(3);
    expect(copy(model.stateDict())).toEqual(w.at.get(3));

    const before = copy(model.stateDict());
    await expect(trainer.fit(train, { epochs: 2, callbacks: [earlyStopping()], verbose: 0 })).resolves.toBeDefined(); // default monitor: loss without validation
    const after = copy(model.stateDict());
    await expect(trainer.fit(train, { epochs: 2, callbacks: [earlyStopping({ monitor: "val_loss" })], verbose: 0 })).rejects.toThrow(/"val_loss" is not in the epoch logs \(pass a valLoader to fit\)/);
    expect(copy(model.stateDict())).toEqual(after);
    expect(after).not.toEqual(before);
  });

  it("modelCheckpoint keeps the best weights in memory, calls save on each new best (awaited), and restore() loads them", async () => {
    const { train, test } = irisLoaders();
    const { trainer, model } = irisTrainer();
    const w = weightsPerEpoch(model);
    const saves: { epoch: number; value: number; best: boolean; weights: Map<string, number[]> }[] = [];
    let pending = 0;
    const ckpt = modelCheckpoint({
      save: async (sd, info) => {
        pending++;
        await new Promise((r) => setTimeout(r, 5));
        saves.push({ epoch: info.epoch, value: info.value, best: info.best, weights: copy(sd) });
        pending--;
      },
    });
    const values = [0.9, 0.5, 0.7, 0.4, 0.45, 0.6];
    const order: string[] = [];
    await trainer.fit(train, {
      epochs: 6,
      valLoader: test,
      callbacks: [scripted("val_loss", values), w.cb, ckpt, { onEpochEnd: (l) => void order.push(`end ${l.epoch} pending ${pending}`) }],
      verbose: 0,
    });
    expect(ckpt.monitor).toBe("val_loss");
    expect(ckpt.bestEpoch).toBe(4);
    expect(ckpt.best).toBe(0.4);
    expect(saves.map((s) => [s.epoch, s.value])).toEqual([[1, 0.9], [2, 0.5], [4, 0.4]]);
    expect(order.every((o) => o.endsWith("pending 0"))).toBe(true); // each save finished before the next callback
    expect(saves[2]!.weights).toEqual(w.at.get(4));
    expect(copy(ckpt.bestState!)).toEqual(w.at.get(4));
    expect(copy(model.stateDict())).toEqual(w.at.get(6));
    ckpt.restore();
    expect(copy(model.stateDict())).toEqual(w.at.get(4));

    const every: number[] = [];
    const all = modelCheckpoint({ monitor: "loss", saveBestOnly: false, save: (_sd, info) => void every.push(info.epoch) });
    await trainer.fit(train, { epochs: 3, callbacks: [all], verbose: 0 });
    expect(every).toEqual([1, 2, 3]);
    expect(() => modelCheckpoint().restore()).toThrow(/no best weights yet/);
  });

  it("guard events reach onGuardEvent after their step (NaN planted by a huge lr), and the epoch logs count the skipped steps", async () => {
    manualSeed(1);
    const model = new Linear(8, 1);
    const x = randn([64, 8]).mul(3);
    const y = x.matmul(randn([8, 1]));
    const all: GuardEvent[] = [];
    const seen: GuardEvent[] = [];
    const sequence: string[] = [];
    // lr 0.4 is ~4x the stable limit for this problem: it diverges to Inf; the backoff halves it until it is stable.
    const trainer = new Trainer({
      model,
      loss: mseLoss,
      optimizer: new SGD(model.parameters(), { lr: 0.4 }),
      onNonFinite: "rollback",
      maxConsecutiveFailures: 60,
      onEvent: (e) => all.push(e),
    });
    const lines: string[] = [];
    const history = await trainer.fit(new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 0 }), {
      epochs: 40,
      verbose: 2,
      writer: { write: (s) => void lines.push(s) },
      callbacks: [
        {
          onGuardEvent: (e) => {
            seen.push(e);
            sequence.push(e.type);
          },
          onStepEnd: (s) => void sequence.push(`step ${s.status}`),
        },
      ],
    });
    const nonFinite = seen.filter((e) => e.type === "nonFinite") as Extract<GuardEvent, { type: "nonFinite" }>[];
    expect(nonFinite.length).toBeGreaterThan(0);
    expect(seen.some((e) => e.type === "rollback")).toBe(true);
    expect(seen.some((e) => e.type === "step")).toBe(false); // good steps are onStepEnd's
    // Every non-step event of the guard arrived, in order (onEvent still gets every event).
    expect(seen).toEqual(all.filter((e) => e.type !== "step"));
    expect(all.some((e) => e.type === "step")).toBe(true);
    expect(nonFinite[0]!.policy).toBe("rollback");
    expect(nonFinite[0]!.lrScale).toBe(0.5);
    expect(nonFinite[0]!.report).not.toBeNull(); // the first failure is diagnosed
    // Each event arrives right after its step, before that step's onStepEnd: a skipped one.
    sequence.forEach((k, i) => {
      if (k === "nonFinite") expect(sequence.slice(i + 1).find((n) => n.startsWith("step "))).toBe("step skipped");
    });
    expect(history.epochs.reduce((n, e) => n + e.skipped, 0)).toBe(trainer.guard.skipped);
    expect(history.epochs.some((e) => e.skipped > 0)).toBe(true);
    expect(history.epochs[39]!.loss).toBeLessThan(history.epochs[0]!.loss);
    expect(Number.isFinite(history.epochs[39]!.loss)).toBe(true);
    // The text output has a line per event and the epoch's skipped count.
    const text = lines.join("");
    const failure = / {2}step (\d+): rolled back to the state of step \d+\n {2}step (\d+): loss (NaN|Infinity), gradient norm \S+: skipped \(rollback, lr scale 0\.5\); \S+ first in the (forward|backward) pass of \w+\n/.exec(text);
    expect(failure).not.toBeNull();
    expect(failure![1]).toBe(failure![2]); // the step that failed
    expect(Number(failure![1])).toBe(nonFinite[0]!.step);
    expect(text).toMatch(/^epoch +\d+\/40 .* skipped \d+ /m);
  });

  it("a callback stopping from onStepEnd ends the epoch early, which still validates and logs", async () => {
    const { train, test } = irisLoaders();
    const { trainer } = irisTrainer();
    const h = await trainer.fit(train, {
      epochs: 5,
      valLoader: test,
      callbacks: [{ onStepEnd: (s, t) => void (s.epoch === 2 && s.batch === 3 && (t.stopTraining = true)) }],
      verbose: 0,
    });
    expect(h.epochs.map((e) => e.steps)).toEqual([8, 3]);
    expect(h.epochs[1]!.val_loss).toBeTypeOf("number");
    expect(h.stoppedEarly).toBe(true);
    expect(trainer.stopTraining).toBe(true);
    await trainer.fit(train, { epochs: 1, verbose: 0 });
    expect(trainer.stopTraining).toBe(false);
  });

  it("callbacks are called in order with the fit's shape; async hooks are awaited", async () => {
    const { train, test } = irisLoaders();
    const { trainer } = irisTrainer();
    const calls: string[] = [];
    const cb: Callback = {
      onFitStart: async (info) => {
        await new Promise((r) => setTimeout(r, 1));
        calls.push(`start ${info.epochs} ${info.steps} ${info.validation} ${info.logKeys.join(",")}`);
      },
      onEpochStart: (e) => void calls.push(`epoch ${e}`),
      onStepEnd: (s) => void (s.batch === s.steps && calls.push(`step ${s.epoch}.${s.batch} ${s.status} ${s.size}`)),
      onEpochEnd: (l: EpochLogs) => void calls.push(`end ${l.epoch}`),
      onFitEnd: (h) => void calls.push(`fit end ${h.epochs.length}`),
    };
    await trainer.fit(train, { epochs: 2, valLoader: test, metrics: { accuracy }, callbacks: [cb], verbose: 0 });
    expect(calls).toEqual([
      "start 2 8 true loss,accuracy,val_loss,val_accuracy,lr,skipped,steps,seconds",
      "epoch 1",
      "step 1.8 ok 8",
      "end 1",
      "epoch 2",
      "step 2.8 ok 8",
      "end 2",
      "fit end 2",
    ]);
  });
});

describe("scheduler stepping, per batch or per epoch", () => {
  it('default: a StepLR steps after every good batch; schedulerStep "epoch": once per epoch', async () => {
    const { train } = irisLoaders();
    for (const [how, expected] of [[undefined, 3 * 8], ["epoch", 3]] as const) {
      const { model } = irisTrainer();
      const opt = new SGD(model.parameters(), { lr: 0.1 });
      const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
      const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: sched, schedulerStep: how });
      const h = await trainer.fit(train, { epochs: 3, verbose: 0 });
      expect(sched.lastEpoch).toBe(expected);
      // The logged lr is the one used in the epoch's last step.
      if (how === "epoch") expect(h.series("lr")).toEqual([0.1, 0.1, 0.05]);
    }
  });

  it('a ReduceLROnPlateau with schedulerStep "epoch" is stepped once per epoch with val_loss (or schedulerMonitor)', async () => {
    const { train, test } = irisLoaders();
    const { model } = irisTrainer();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const plateau = new ReduceLROnPlateau(opt, { patience: 0 });
    const metrics: number[] = [];
    const step = plateau.step.bind(plateau);
    plateau.step = (m: number) => {
      metrics.push(m);
      step(m);
    };
    const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: plateau, schedulerStep: "epoch" });
    const h = await trainer.fit(train, { epochs: 4, valLoader: test, verbose: 0 });
    expect(plateau.lastEpoch).toBe(4);
    expect(metrics).toEqual(h.series("val_loss"));

    const trainer2 = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: plateau, schedulerStep: "epoch", schedulerMonitor: "loss" });
    metrics.length = 0;
    const h2 = await trainer2.fit(train, { epochs: 2, valLoader: test, verbose: 0 });
    expect(metrics).toEqual(h2.series("loss"));
    const trainer3 = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: plateau, schedulerStep: "epoch" });
    await expect(trainer3.fit(train, { epochs: 1, valLoader: test, metrics: { accuracy }, verbose: 0 })).resolves.toBeDefined();
    const trainer4 = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: plateau, schedulerStep: "epoch", schedulerMonitor: "val_accuracy" });
    await expect(trainer4.fit(train, { epochs: 1, valLoader: test, verbose: 0 })).rejects.toThrow(/schedulerMonitor "val_accuracy" is not in the epoch logs/);
  });

  it("TrainingGuard.endEpoch steps only in epoch mode, and a per-epoch plateau needs its metric", () => {
    const { model } = irisTrainer();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const plateau = new ReduceLROnPlateau(opt);
    const perBatch = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: plateau });
    expect(perBatch.guard.endEpoch(1)).toBe(false);
    const perEpoch = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: plateau, schedulerStep: "epoch" });
    expect(() => perEpoch.guard.endEpoch()).toThrow(/needs the epoch's metric/);
    expect(perEpoch.guard.endEpoch(1)).toBe(true);
    expect(plateau.lastEpoch).toBe(1);
    expect(() => new Trainer({ model, loss: crossEntropy, optimizer: opt, schedulerStep: "batch" as never })).toThrow(/"step", "loss", "epoch" or "manual"/);
  });
});

describe("progress output", () => {
  const capture = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, writer: { write: (s: string) => void chunks.push(s), isTTY } };
  };

  it("on a TTY: a progress line rewritten in place with \\r (epoch, step/steps, loss, rate, ETA), then a summary line per epoch", async () => {
    const { train, test } = irisLoaders();
    const { trainer } = irisTrainer();
    const { chunks, writer } = capture(true);
    await trainer.fit(train, { epochs: 2, valLoader: test, metrics: { accuracy }, writer });
    const progress = chunks.filter((c) => !c.endsWith("\n"));
    const summaries = chunks.filter((c) => c.endsWith("\n"));
    expect(progress.length).toBeGreaterThanOrEqual(4); // at least the first and last step of each epoch
    for (const p of progress) {
      expect(p.startsWith("\r")).toBe(true);
      expect(p).toMatch(/^\repoch [12]\/2 {2}\d\/8 {2}loss \d+\.\d{4} {2}accuracy \d\.\d{4} {2}[\d.e+]+ steps\/s {2}ETA (\d+ms|\d+\.\ds)/);
    }
    expect(progress.some((p) => p.includes(" 8/8 "))).toBe(true);
    expect(summaries).toHaveLength(2);
    summaries.forEach((s, i) => {
      expect(s).toMatch(new RegExp(`^\\repoch ${i + 1}/2 {2}8/8 {2}loss \\d\\.\\d{4} {2}accuracy \\d\\.\\d{4} {2}val_loss \\d\\.\\d{4} {2}val_accuracy \\d\\.\\d{4} {2}lr 2\\.00e-2 {2}(\\d+ms|\\d+\\.\\ds) *\\n$`));
      expect(s).not.toMatch(/ETA/);
    });
    // The summary overwrites the whole progress line: it is padded to at least its length.
    const lastProgress = chunks[chunks.indexOf(summaries[0]!) - 1]!;
    expect(summaries[0]!.length - 1).toBeGreaterThanOrEqual(lastProgress.length);
  });

  it("not a TTY: exactly one JSON line per epoch with the logs; verbose 2: plain text lines; verbose 0: nothing", async () => {
    const { train, test } = irisLoaders();
    const { trainer } = irisTrainer();
    const json = capture(false);
    const h = await trainer.fit(train, { epochs: 3, valLoader: test, metrics: { accuracy }, writer: json.writer });
    expect(json.chunks).toHaveLength(3);
    json.chunks.forEach((c, i) => {
      expect(c.endsWith("\n")).toBe(true);
      expect(c.slice(0, -1)).not.toMatch(/[\r\n]/);
      const obj = JSON.parse(c) as Record<string, number>;
      expect(obj).toEqual({ ...h.epochs[i], epochs: 3 });
      expect(Object.keys(obj).slice(0, 3)).toEqual(["epoch", "epochs", "loss"]);
    });
    const text = capture(true);
    await trainer.fit(train, { epochs: 2, writer: text.writer, verbose: 2 });
    expect(text.chunks).toHaveLength(2);
    expect(text.chunks.every((c) => /^epoch [12]\/2 {2}8\/8 {2}loss .*\n$/.test(c))).toBe(true);
    const none = capture(true);
    await trainer.fit(train, { epochs: 1, writer: none.writer, verbose: 0 });
    expect(none.chunks).toEqual([]);
  });

  it("the default writer is process.stdout in Node", async () => {
    const { trainer } = irisTrainer();
    const write = process.stdout.write;
    const got: string[] = [];
    process.stdout.write = ((s: string) => (got.push(s), true)) as typeof process.stdout.write;
    try {
      await trainer.fit([[randn([4, 4]), tensor([0, 1, 2, 0], { dtype: "int32" })]], { epochs: 1 });
    } finally {
      process.stdout.write = write;
    }
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(process.stdout.isTTY ? /^\repoch 1\/1/ : /^\{"epoch":1,"epochs":1,"loss":/);
  });
});
