/**
 * A resumed run is bit-identical to an uninterrupted one (float32, same seed).
 *
 * Reference: train 4 epochs straight. Resumed: train 2 epochs, `io.saveCheckpoint` (model,
 * optimizer, scheduler, step, both generators), then build EVERYTHING again from a different
 * seed (so nothing carries over in memory: other initial weights, other generator states),
 * `io.loadCheckpoint`, train 2 more epochs. Every state-dict tensor, every optimizer buffer and
 * scalar, the scheduler state, the generators and the per-step losses must agree byte for byte.
 *
 * The randomness that must survive the restart: Dropout masks (the default generator), the
 * DataLoader's shuffled epoch order (its own generator), Adam's moments and step count, the
 * warm-up + cosine schedule position, and BatchNorm's running statistics and batch counter.
 * Control cases show the test would notice a missing piece: resuming without the generators
 * gives a different run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  Adam, BatchNorm2d, Conv2d, CosineAnnealingLR, DataLoader, Dropout, Flatten, Generator, Linear, LinearLR, MaxPool2d, ReLU, Sequential, SequentialLR, Tanh,
  crossEntropy, defaultGenerator, io, manualSeed, tensor, type Dataset,
} from "../../src/node.js";

const dir = mkdtempSync(join(tmpdir(), "safegrad-resume-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPOCHS = 4;
const SPLIT = 2;
const BATCH = 16;

/** A learnable synthetic task: the label is the argmax of a fixed random projection. */
function makeDataset(rows: number, featureShape: number[], classes: number): Dataset<Float32Array> {
  const g = new Generator(12345);
  const f = featureShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(rows * f);
  for (let i = 0; i < x.length; i++) x[i] = g.normal();
  const proj = Float64Array.from({ length: f * classes }, () => g.normal());
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += x[r * f + j]! * proj[j * classes + c]!;
      if (s > best) [best, y[r]] = [s, c];
    }
  }
  return { x, y, featureShape };
}

interface Case {
  name: string;
  dataset: Dataset<Float32Array>;
  /** Builds the model from the default generator (call after manualSeed). */
  model: () => Sequential;
}

const cases: Case[] = [
  {
    name: "MLP with Dropout",
    dataset: makeDataset(100, [12], 4), // 100 rows / 16: a partial last batch every epoch
    model: () => new Sequential(new Linear(12, 32), new ReLU(), new Dropout(0.25), new Linear(32, 16), new Tanh(), new Dropout(0.1), new Linear(16, 4)),
  },
  {
    name: "CNN with BatchNorm2d",
    dataset: makeDataset(96, [1, 6, 6], 3),
    model: () =>
      new Sequential(
        new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), // 4 x 3 x 3
        new Conv2d(4, 6, 3, { padding: 1 }), new BatchNorm2d(6), new ReLU(), new Dropout(0.2),
        new Flatten(), new Linear(54, 3),
      ),
  },
];

/** Everything a run owns; built from scratch for a given seed, as a fresh process would. */
function setup(c: Case, seed: number) {
  manualSeed(seed);
  const model = c.model();
  const loader = new DataLoader(c.dataset, null, { batchSize: BATCH, shuffle: true, seed: seed + 1 });
  const optimizer = new Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-4 });
  const total = EPOCHS * loader.length;
  const warmup = 5;
  const scheduler = new SequentialLR(optimizer, {
    schedulers: [
      new LinearLR(optimizer, { startFactor: 0.1, endFactor: 1, totalIters: warmup }),
      new CosineAnnealingLR(optimizer, { tMax: total - warmup, etaMin: 1e-4 }),
    ],
    milestones: [warmup],
  });
  return { model, loader, optimizer, scheduler };
}
type Run = ReturnType<typeof setup>;

/** Train whole epochs; returns the loss of every step (float32 values, compared exactly). */
function trainEpochs(run: Run, epochs: number): number[] {
  const { model, loader, optimizer, scheduler } = run;
  const losses: number[] = [];
  model.train();
  for (let e = 0; e < epochs; e++) {
    for (const b of loader) {
      optimizer.zeroGrad();
      const loss = crossEntropy(model.forward(tensor(b.x, { shape: b.shape })), tensor(b.y));
      loss.backward();
      optimizer.step();
      scheduler.step();
      losses.push(loss.item());
    }
  }
  return losses;
}

const hex = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");

/** Typed arrays → "<constructor>:<hex bytes>", so toEqual compares bytes (NaN and -0 included). */
function bytewise(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}:${hex(v)}`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : Number.isNaN(v) ? "NaN" : v;
  if (Array.isArray(v)) return v.map(bytewise);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytewise(x)]));
  return v;
}

/**
 * NOTE: getState() may report a state word as a signed or an unsigned 32-bit number depending on
 * how it was produced (xor results are signed, setState stores unsigned); the bits are what count.
 */
function generatorState(g: Generator): string[] {
  const s = g.getState();
  return [...s.slice(0, 4).map((v) => (v >>> 0).toString(16)), Number.isNaN(s[4]!) ? "none" : hex(new Float64Array([s[4]!]))];
}

/** Everything that defines where a run stands, as bytes. */
function fingerprint(run: Run) {
  return {
    model: [...run.model.stateDict()].map(([k, t]) => [k, t.dtype, t.shape, hex(t.toTypedArray())]),
    optimizer: bytewise(run.optimizer.stateDict()),
    scheduler: bytewise(run.scheduler.stateDict()),
    lr: run.optimizer.paramGroups.map((g) => g.lr),
    rng: { default: generatorState(defaultGenerator), loader: generatorState(run.loader.generator!) },
  };
}

describe("resume from a checkpoint is bit-identical to an uninterrupted run", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const seed = 7;
      // Uninterrupted.
      const full = setup(c, seed);
      const fullLosses = trainEpochs(full, EPOCHS);
      const expected = fingerprint(full);

      // Interrupted after SPLIT epochs.
      const first = setup(c, seed);
      const firstLosses = trainEpochs(first, SPLIT);
      expect(firstLosses).toEqual(fullLosses.slice(0, firstLosses.length));
      const path = join(dir, `${c.name.replace(/\W+/g, "-")}.safetensors`);
      const rng = (r: Run) => ({ default: defaultGenerator, loader: r.loader.generator! });
      await io.saveCheckpoint(path, { model: first.model, optimizer: first.optimizer, scheduler: first.scheduler, step: firstLosses.length, rng: rng(first), extra: { epoch: SPLIT } });

      // A fresh "process": other seed, so other weights and generator states until the load.
      const resumed = setup(c, seed + 1000);
      expect(fingerprint(resumed).model).not.toEqual(fingerprint(first).model);
      const { step, extra } = await io.loadCheckpoint(path, { model: resumed.model, optimizer: resumed.optimizer, scheduler: resumed.scheduler, rng: rng(resumed) });
      expect(step).toBe(firstLosses.length);
      expect(extra).toEqual({ epoch: SPLIT });
      expect(fingerprint(resumed)).toEqual(fingerprint(first));
      const restLosses = trainEpochs(resumed, EPOCHS - SPLIT);

      expect(restLosses.length).toBe(fullLosses.length - firstLosses.length);
      expect(restLosses).toEqual(fullLosses.slice(firstLosses.length));
      const got = fingerprint(resumed);
      // Compare piece by piece first for a readable failure, then everything at once.
      expect(got.model.map(([k]) => k)).toEqual(expected.model.map(([k]) => k));
      for (let i = 0; i < got.model.length; i++) expect(got.model[i], `model tensor ${String(got.model[i]![0])}`).toEqual(expected.model[i]);
      expect(got.optimizer).toEqual(expected.optimizer);
      expect(got.scheduler).toEqual(expected.scheduler);
      expect(got).toEqual(expected);
    });
  }

  it("control: resuming without the generators gives a different run (so the test above can fail)", async () => {
    for (const c of cases) {
      const full = setup(c, 7);
      trainEpochs(full, EPOCHS);
      const first = setup(c, 7);
      trainEpochs(first, SPLIT);
      const path = join(dir, "no-rng.safetensors");
      await io.saveCheckpoint(path, { model: first.model, optimizer: first.optimizer, scheduler: first.scheduler });
      const resumed = setup(c, 1007);
      await io.loadCheckpoint(path, { model: resumed.model, optimizer: resumed.optimizer, scheduler: resumed.scheduler });
      trainEpochs(resumed, EPOCHS - SPLIT);
      expect(fingerprint(resumed).model, c.name).not.toEqual(fingerprint(full).model);
    }
  });
});
