import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { Tensor, tensor } from "../../src/index.js";
import { SGD } from "../../src/optim/sgd.js";
import { LRScheduler, StepLR } from "../../src/optim/lr-scheduler.js";
import { NonFiniteError, Trainer, TrainingGuard, type GuardEvent, type TrainableModel } from "../../src/guard/training.js";

/** y = x W^T + b on a fixed regression problem whose loss explodes at a high lr. */
function regression(seed: number) {
  const gen = new sg.Generator(seed);
  const W = sg.randn([1, 8], { generator: gen, requiresGrad: true });
  const b = sg.zeros([1], { requiresGrad: true });
  W.name = "fc.weight";
  b.name = "fc.bias";
  const model: TrainableModel = {
    forward: (x) => x.matmul(W.transpose(0, 1)).add(b),
    namedParameters: () => [["fc.weight", W], ["fc.bias", b]],
    train: () => undefined,
    eval: () => undefined,
  };
  const x = sg.randn([64, 8], { generator: gen }).mul(3);
  const trueW = sg.randn([8, 1], { generator: gen });
  const y = x.matmul(trueW);
  const loss = (out: Tensor, t: Tensor) => out.sub(t).square().mean();
  return { model, W, b, x, y, loss };
}

function run(policy: "backoff" | "rollback", steps: number, events: GuardEvent[]) {
  const { model, x, y, loss } = regression(1);
  // 0.4 is ~6x the stable limit (about 2/30 for this problem): it diverges to Inf; three halvings make it stable.
  const opt = new SGD(model.namedParameters().map(([, p]) => p), { lr: 0.4 });
  const trainer = new Trainer({ model, loss, optimizer: opt, onNonFinite: policy, onEvent: (e) => events.push(e), maxConsecutiveFailures: 60 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(trainer.trainStep(x, y).loss);
  return { losses, trainer, opt };
}

describe("always-on guard: recovery policies", () => {
  for (const policy of ["backoff", "rollback"] as const) {
    it(`"${policy}" recovers from an exploding lr and reaches a finite, decreasing loss`, () => {
      const events: GuardEvent[] = [];
      const { losses, trainer, opt } = run(policy, 400, events);
      const failures = events.filter((e) => e.type === "nonFinite");
      expect(failures.length).toBeGreaterThan(0); // it did explode
      expect(trainer.guard.lrScale).toBeLessThan(1);
      expect(opt.paramGroups[0]!.lr).toBeLessThan(0.4);
      const tail = losses.slice(-50);
      expect(tail.every(Number.isFinite)).toBe(true);
      expect(tail[tail.length - 1]!).toBeLessThan(tail[0]!);
      // rollback restores the last verified state, so it gets back below the starting loss;
      // backoff restores a snapshot only every 10 steps (after 3 failures in a row), from further out.
      if (policy === "rollback") expect(tail[tail.length - 1]!).toBeLessThan(losses[0]!);
      else expect(tail[tail.length - 1]!).toBeLessThan(Math.max(...losses.filter(Number.isFinite)) * 1e-6);
      // The first failure was diagnosed by re-running the batch with anomaly detection.
      const first = failures[0] as Extract<GuardEvent, { type: "nonFinite" }>;
      expect(first.report).not.toBeNull();
      expect(first.report!.step).toBeTypeOf("number");
      if (policy === "rollback") expect(events.some((e) => e.type === "rollback")).toBe(true);
    });
  }

  it('"skip" leaves parameters bit-identical across the skipped step and does not advance the schedule', () => {
    const { model, W, b, x, y, loss } = regression(2);
    const opt = new SGD([W, b], { lr: 0.01 });
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const guard = new TrainingGuard(model.namedParameters(), opt, sched, { onNonFinite: "skip" });
    // One good step.
    opt.zeroGrad();
    loss(model.forward(x), y).backward();
    expect(guard.step(1).status).toBe("ok");
    const lrAfterGood = opt.paramGroups[0]!.lr;
    const epochAfterGood = (sched as LRScheduler).lastEpoch;
    const before = [W.toTypedArray(), b.toTypedArray()];
    // A step whose gradient holds NaN.
    opt.zeroGrad();
    loss(model.forward(x), y).backward();
    W.grad!.storage[3] = NaN;
    const r = guard.step(1);
    expect(r.status).toBe("skipped");
    expect(W.toTypedArray()).toEqual(before[0]);
    expect(b.toTypedArray()).toEqual(before[1]);
    expect(Array.from(W.toTypedArray()).map((v) => Object.is(v, v))).toEqual(Array.from(before[0]!).map(() => true));
    expect(opt.paramGroups[0]!.lr).toBe(lrAfterGood);
    expect((sched as LRScheduler).lastEpoch).toBe(epochAfterGood);
    expect(guard.skipped).toBe(1);
    expect(W.grad).toBeNull();
  });

  it('"throw" stops with a report naming the step and the exploding gradients', () => {
    const { model, x, y, loss } = regression(3);
    const opt = new SGD(model.namedParameters().map(([, p]) => p), { lr: 0.5 });
    const trainer = new Trainer({ model, loss, optimizer: opt, onNonFinite: "throw", seed: 3 });
    let err: unknown;
    try {
      for (let i = 0; i < 500; i++) trainer.trainStep(x, y);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteError);
    const e = err as NonFiniteError;
    expect(e.step).toBeGreaterThan(3);
    expect(e.report).not.toBeNull();
    expect(e.report!.seed).toBe(3);
    expect(e.report!.batch).toMatchObject({ shape: [64, 8] });
    expect(e.report!.hint?.hazard).toBe("exploding gradients");
    expect(e.report!.hint?.fix).toMatch(/gradient norm grew .* over \d steps: exploding gradients: lower the lr, add a schedule/);
    expect(e.message).toMatch(/step \d+/);
  });

  it("clips the global norm and warns on a gradient-norm spike, naming the layer that grew most", () => {
    const { model, W, b, x, y, loss } = regression(4);
    const events: GuardEvent[] = [];
    const opt = new SGD([W, b], { lr: 1e-4 });
    const guard = new TrainingGuard(model.namedParameters(), opt, null, { maxNorm: 1e9, spikeStdDevs: 4, spikeWarmup: 10, onEvent: (e) => events.push(e) });
    for (let i = 0; i < 15; i++) {
      opt.zeroGrad();
      loss(model.forward(x), y).backward();
      guard.step(1);
    }
    expect(events.filter((e) => e.type === "warning")).toHaveLength(0);
    opt.zeroGrad();
    loss(model.forward(x), y).backward();
    b.grad!.storage[0] = 1e6; // the bias gradient spikes
    guard.step(1);
    const warn = events.find((e) => e.type === "warning") as Extract<GuardEvent, { type: "warning" }>;
    expect(warn).toBeDefined();
    expect(warn.layer).toBe("fc.bias");
    // maxNorm clips.
    const g2 = new TrainingGuard(model.namedParameters(), opt, null, { maxNorm: 0.5 });
    opt.zeroGrad();
    loss(model.forward(x), y).backward();
    const r = g2.step(1);
    expect(r.gradNorm).toBeGreaterThan(0.5);
    expect(sg.norm(sg.cat([W.grad!.reshape([-1]), b.grad!.reshape([-1])])).item()).toBeCloseTo(0.5, 4);
  });

  it("backoff never goes below the floor and gives up after too many failures in a row", () => {
    const { model, W, b } = regression(5);
    const opt = new SGD([W, b], { lr: 1 });
    const guard = new TrainingGuard(model.namedParameters(), opt, null, { onNonFinite: "backoff", minLrScale: 0.25, maxConsecutiveFailures: 5 });
    const fail = () => {
      W.grad = tensor(new Float32Array(8).fill(NaN), { shape: [1, 8] });
      return guard.step(1);
    };
    for (let i = 0; i < 5; i++) fail();
    expect(opt.paramGroups[0]!.lr).toBe(0.25);
    expect(() => fail()).toThrow(/giving up after 6 non-finite steps/);
  });
});
