/**
 * Four training runs that fail the classic ways, and the same runs done safely. Used by
 * `npm run doctor` (examples/doctor.ts) and by test/guard/doctor.test.ts.
 */
import {
  Adam, Conv2d, Linear, Module, NonFiniteError, ReLU, SGD, Sequential, Trainer, crossEntropy, l1Loss, loadDigits, manualSeed, normalize, stdPool,
  tensor, type AnomalyReport, type Tensor,
} from "../src/node.js";

export interface ScenarioResult {
  /** The diagnosis of the failing run (null if it did not fail). */
  report: AnomalyReport | null;
  failedAtStep: number | null;
  /** Losses of the safe run, every step. */
  safeLosses: number[];
}

export interface Scenario {
  name: string;
  /** The op the report must name and the hazard its hint must give. */
  expectOp: string;
  expectHazard: string;
  run(): ScenarioResult;
}

function digitsBatch(n: number, offset = 0): { x: Tensor; y: Tensor; raw: Float32Array } {
  const d = loadDigits();
  const raw = d.x.slice(offset * 64, (offset + n) * 64);
  return { x: tensor(raw, { shape: [n, 64] }), y: tensor(d.y.slice(offset, offset + n)), raw };
}

/** Run `steps` guarded steps with the "throw" policy; return the report of the first failure. */
function failing(trainer: Trainer, x: Tensor, y: Tensor, steps: number): { report: AnomalyReport | null; step: number | null } {
  try {
    for (let i = 0; i < steps; i++) trainer.trainStep(x, y);
  } catch (e) {
    if (e instanceof NonFiniteError) return { report: e.report, step: e.step };
    throw e;
  }
  return { report: null, step: null };
}

function train(trainer: Trainer, x: Tensor, y: Tensor, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(trainer.trainStep(x, y).loss);
  return losses;
}

/** A module built from a function of its input plus some layers. */
class Net extends Module {
  constructor(
    readonly body: Sequential,
    readonly head: Linear,
    readonly middle: (h: Tensor) => Tensor,
  ) {
    super();
    this.registerModule("body", body);
    this.registerModule("head", head);
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.middle(this.body.forward(x)));
  }
}

export const scenarios: Scenario[] = [
  {
    name: "too high a learning rate in a deep net",
    expectOp: "matmul",
    expectHazard: "exploding gradients",
    run() {
      const { x, y } = digitsBatch(128);
      const deep = (): Sequential => {
        manualSeed(1);
        const layers: Module[] = [new Linear(64, 128), new ReLU()];
        for (let i = 0; i < 3; i++) layers.push(new Linear(128, 128), new ReLU());
        layers.push(new Linear(128, 10));
        return new Sequential(...(layers as [Module]));
      };
      const m1 = deep();
      const bad = new Trainer({ model: m1, loss: (o, t) => crossEntropy(o, t), optimizer: new SGD(m1.parameters(), { lr: 0.7, momentum: 0.9 }), onNonFinite: "throw", seed: 1 });
      const { report, step } = failing(bad, x, y, 150);
      // Safe: the same lr, with the global gradient norm clipped to 1 and the guard ready to roll back.
      const m2 = deep();
      const safe = new Trainer({ model: m2, loss: (o, t) => crossEntropy(o, t), optimizer: new SGD(m2.parameters(), { lr: 0.7, momentum: 0.9 }), onNonFinite: "rollback", maxNorm: 1, seed: 1 });
      return { report, failedAtStep: step, safeLosses: train(safe, x, y, 80) };
    },
  },
  {
    name: "a hand-written L2 normalization of a vector that becomes zero",
    expectOp: "div",
    expectHazard: "division by zero",
    run() {
      const { x, y } = digitsBatch(64);
      const xs = x.toTypedArray() as Float32Array;
      xs.fill(0, 5 * 64, 6 * 64); // a blank image in the batch: its features are all zero
      const x2 = tensor(xs, { shape: [64, 64] });
      const make = (middle: (h: Tensor) => Tensor): Net => {
        manualSeed(2);
        return new Net(new Sequential(new Linear(64, 32, { bias: false }), new ReLU()), new Linear(32, 10), middle);
      };
      const m1 = make((h) => h.div(h.norm(2, 1, true)));
      const bad = new Trainer({ model: m1, loss: (o, t) => crossEntropy(o, t), optimizer: new Adam(m1.parameters(), { lr: 1e-2 }), onNonFinite: "throw" });
      const { report, step } = failing(bad, x2, y, 20);
      const m2 = make((h) => normalize(h, { dim: 1 }));
      const safe = new Trainer({ model: m2, loss: (o, t) => crossEntropy(o, t), optimizer: new Adam(m2.parameters(), { lr: 1e-2 }), onNonFinite: "throw" });
      return { report, failedAtStep: step, safeLosses: train(safe, x2, y, 60) };
    },
  },
  {
    name: "a hand-written std-pooling of a constant vector",
    expectOp: "sqrt",
    expectHazard: "sqrt backward at 0",
    run() {
      const { x, y } = digitsBatch(64);
      const xs = x.toTypedArray() as Float32Array;
      xs.fill(0.5, 9 * 64, 10 * 64); // a constant image
      const x2 = tensor(xs, { shape: [64, 1, 8, 8] });
      // Features: a learned per-pixel gain (1x1 conv), then the std of each row of 8 pixels (a
      // texture statistic), then a linear head. A constant image row has std 0.
      const make = (pool: (h: Tensor) => Tensor): Net => {
        manualSeed(3);
        return new Net(new Sequential(new Conv2d(1, 1, 1)), new Linear(8, 10), (h) => pool(h.reshape([-1, 8, 8])));
      };
      const m1 = make((h) => h.sub(h.mean(2, true)).square().mean(2).sqrt());
      const bad = new Trainer({ model: m1, loss: (o, t) => crossEntropy(o, t), optimizer: new Adam(m1.parameters(), { lr: 1e-2 }), onNonFinite: "throw" });
      const { report, step } = failing(bad, x2, y, 20);
      const m2 = make((h) => stdPool(h, { dim: 2 }));
      const safe = new Trainer({ model: m2, loss: (o, t) => crossEntropy(o, t), optimizer: new Adam(m2.parameters(), { lr: 1e-2 }), onNonFinite: "throw" });
      return { report, failedAtStep: step, safeLosses: train(safe, x2, y, 60) };
    },
  },
  {
    name: "a hand-written MAE as sqrt((y - t)²)",
    expectOp: "sqrt",
    expectHazard: "sqrt backward at 0",
    run() {
      // Regress the mean pixel intensity; targets of 0 meet a model whose output starts at exactly 0.
      const { x, raw } = digitsBatch(64);
      const t = new Float32Array(64);
      for (let i = 0; i < 64; i++) t[i] = i % 8 === 0 ? 0 : raw.subarray(i * 64, (i + 1) * 64).reduce((a, b) => a + b, 0) / 64;
      const target = tensor(t, { shape: [64, 1] });
      const make = (): Linear => {
        const m = new Linear(64, 1);
        m.weight.storage.fill(0);
        m.bias!.storage.fill(0);
        return m;
      };
      const m1 = make();
      const bad = new Trainer({ model: m1, loss: (o, tt) => o.sub(tt).square().sqrt().mean(), optimizer: new SGD(m1.parameters(), { lr: 0.05 }), onNonFinite: "throw" });
      const { report, step } = failing(bad, x, target, 20);
      const m2 = make();
      const safe = new Trainer({ model: m2, loss: (o, tt) => l1Loss(o, tt), optimizer: new SGD(m2.parameters(), { lr: 0.05 }), onNonFinite: "throw" });
      return { report, failedAtStep: step, safeLosses: train(safe, x, target, 60) };
    },
  },
];
