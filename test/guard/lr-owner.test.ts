/**
 * One owner of the learning rate (issue 12): schedules compute it, the guard's backoff is a scale
 * on top (`group.lr = scheduled * lrScale`, written only by setScheduledLr), whoever steps the
 * schedule, and a recovery never lifts the lr above what the schedule alone would give.
 */
import { describe, expect, it } from "vitest";
import { Tensor, tensor } from "../../src/index.js";
import { SGD } from "../../src/optim/sgd.js";
import { scheduledLr, setScheduledLr } from "../../src/optim/lr.js";
import {
  CosineAnnealingLR,
  LinearLR,
  LRScheduler,
  OneCycleLR,
  SequentialLR,
  StepLR,
} from "../../src/optim/lr-scheduler.js";
import { ReduceLROnPlateau } from "../../src/optim/reduce-lr-on-plateau.js";
import { Trainer, TrainingGuard, type GuardedScheduler, type NonFinitePolicy, type TrainableModel } from "../../src/guard/training.js";

/** A parameter with a finite gradient, as after a good backward. */
function withGrad(w: Tensor, g = 0.1): void {
  w.grad = tensor(new Float32Array(w.storage.length).fill(g), { shape: [...w.shape] });
}

describe("the guard's backoff with a ReduceLROnPlateau (the case of issue 12)", () => {
  it("scheduler null, plateau stepped by hand: a non-finite step lowers the lr from 0.01, never raises it", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const plateau = new ReduceLROnPlateau(opt, { patience: 0 }); // factor 0.1
    const guard = new TrainingGuard([["w", w]], opt, null, { onNonFinite: "backoff" });
    for (const metric of [1, 1]) {
      withGrad(w);
      expect(guard.step(metric).status).toBe("ok");
      plateau.step(metric);
    }
    const before = opt.paramGroups[0]!.lr;
    expect(before).toBeCloseTo(0.01, 15); // the plateau reduced it once (to 0.1 * 0.1 = 0.010000000000000002)
    withGrad(w);
    expect(guard.step(NaN).status).toBe("skipped");
    const lr = opt.paramGroups[0]!.lr;
    expect(lr).toBeGreaterThan(0);
    // It was 0.05: the guard rescaled the lr it had started with, not the plateau's.
    expect(lr).toBeLessThanOrEqual(before / 2);
    expect(lr).toBeCloseTo(0.005, 15);
    expect(lr).toBe(plateau.getLastLr()[0]! * guard.lrScale);
    // The plateau keeps reducing its own scheduled lr (0.01 -> 0.001), and the scale stays on top.
    withGrad(w);
    guard.step(1);
    plateau.step(1);
    expect(plateau.getLastLr()[0]).toBeCloseTo(0.001, 15);
    expect(opt.paramGroups[0]!.lr).toBe(plateau.getLastLr()[0]! * 0.5);
  });

  it("Trainer takes the ReduceLROnPlateau and steps it with each step's loss; the scale composes, it does not compound", () => {
    const W = tensor([[0.5, -0.25]], { requiresGrad: true });
    const model: TrainableModel = {
      forward: (x) => x.matmul(W.transpose(0, 1)),
      namedParameters: () => [["w", W]],
      train: () => undefined,
      eval: () => undefined,
    };
    let poison = false;
    const loss = (out: Tensor, t: Tensor) => {
      const l = out.sub(t).square().mean();
      return poison ? l.mul(NaN) : l;
    };
    const opt = new SGD([W], { lr: 0.1 });
    // "abs" with a huge threshold: after the first metric none is better, so it reduces on the 4th
    // step, then every patience + 1 = 3 steps.
    const plateau = new ReduceLROnPlateau(opt, { patience: 2, threshold: 1e9, thresholdMode: "abs" });
    const trainer = new Trainer({ model, loss, optimizer: opt, scheduler: plateau, onNonFinite: "backoff", diagnose: false });
    const x = tensor([[1, 2], [3, 4]]);
    const y = tensor([[1], [2]]);
    for (let i = 0; i < 4; i++) expect(trainer.trainStep(x, y).status).toBe("ok");
    expect(plateau.lastEpoch).toBe(4); // stepped by the Trainer, once per good step
    const before = opt.paramGroups[0]!.lr;
    expect(before).toBeCloseTo(0.01, 15);
    poison = true;
    expect(trainer.trainStep(x, y).status).toBe("skipped");
    poison = false;
    expect(plateau.lastEpoch).toBe(4); // not stepped on a skipped step
    expect(opt.paramGroups[0]!.lr).toBeGreaterThan(0);
    expect(opt.paramGroups[0]!.lr).toBeLessThanOrEqual(before / 2);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.005, 15);
    for (let i = 0; i < 3; i++) trainer.trainStep(x, y);
    // Reduced again from its own 0.01 (not from the backed-off 0.005), then scaled once.
    expect(plateau.getLastLr()[0]).toBeCloseTo(0.001, 15);
    expect(opt.paramGroups[0]!.lr).toBe(plateau.getLastLr()[0]! * 0.5);
  });

  it('schedulerStep "manual": the guard rolls the plateau back but you step it (e.g. per epoch)', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const plateau = new ReduceLROnPlateau(opt, { patience: 0 });
    const guard = new TrainingGuard([["w", w]], opt, plateau, { onNonFinite: "rollback", schedulerStep: "manual" });
    withGrad(w);
    guard.step(1);
    expect(plateau.lastEpoch).toBe(0);
    plateau.step(1);
    plateau.step(1);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.01, 15);
    withGrad(w);
    guard.step(1); // snapshot of the plateau at lr 0.01
    withGrad(w);
    guard.step(NaN);
    expect(opt.paramGroups[0]!.lr).toBe(plateau.getLastLr()[0]! * 0.5);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.005, 15);
  });

  it("guard.lrScale = 1 undoes the backoff; a hand-set lr becomes the scheduled lr", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const guard = new TrainingGuard([["w", w]], opt, null, { onNonFinite: "backoff" });
    withGrad(w);
    guard.step(NaN);
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
    expect(opt.paramGroups[0]!.lrScale).toBe(0.5);
    opt.paramGroups[0]!.lr = 0.02; // by hand
    expect(scheduledLr(opt.paramGroups[0]!)).toBe(0.02);
    withGrad(w);
    guard.step(NaN);
    expect(opt.paramGroups[0]!.lr).toBe(0.02 * 0.25);
    guard.lrScale = 1;
    expect(opt.paramGroups[0]!.lr).toBe(0.02);
    expect(() => (guard.lrScale = 2)).toThrow(/lrScale 2/);
    expect(opt.paramGroups[0]!.lr).toBe(0.02);
  });

  it("setScheduledLr writes scheduled * lrScale; every scheduler goes through it", () => {
    const w = tensor([1], { requiresGrad: true });
    const opt = new SGD([w], { lr: 0.1 });
    const g = opt.paramGroups[0]!;
    g.lrScale = 0.25;
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    expect(g.lr).toBe(0.1 * 0.25);
    sched.step();
    expect(g.lr).toBe(0.05 * 0.25);
    expect(sched.getLastLr()).toEqual([0.05]); // the schedule's rate, before the scale
    setScheduledLr(g, 0.4);
    expect(g.lr).toBe(0.1);
  });
});

// ------------------------------------------------------------------ property test

/** mulberry32: a small seedable PRNG for the test's own choices. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ["none", "StepLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR"] as const;
type Kind = (typeof KINDS)[number];
type Sched = LRScheduler | ReduceLROnPlateau;

const LRS = [0.1, 0.03];

/** Two groups, SGD with momentum (OneCycleLR cycles it). */
function makeOpt(): { opt: SGD; params: Tensor[] } {
  const params = [tensor([1, -2, 3], { requiresGrad: true }), tensor([0.5, 0.25], { requiresGrad: true })];
  const opt = new SGD(params.map((p, i) => ({ params: [p], lr: LRS[i]! })), { lr: 0.1, momentum: 0.9 });
  return { opt, params };
}

function makeSched(kind: Kind, opt: SGD): Sched | null {
  switch (kind) {
    case "none":
      return null;
    case "StepLR":
      return new StepLR(opt, { stepSize: 7, gamma: 0.5 });
    case "CosineAnnealingLR":
      return new CosineAnnealingLR(opt, { tMax: 100 });
    case "LinearLR":
      return new LinearLR(opt, { startFactor: 0.1, totalIters: 20 });
    case "OneCycleLR":
      return new OneCycleLR(opt, { maxLr: [1, 0.3], totalSteps: 100 });
    case "ReduceLROnPlateau":
      return new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
    case "SequentialLR":
      return new SequentialLR(opt, {
        schedulers: [new LinearLR(opt, { startFactor: 0.1, totalIters: 5 }), new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-4 })],
        milestones: [5],
      });
  }
}

/** The lr each group would have from the schedule alone after `steps` steps (fed `metrics`). */
function scheduleAlone(kind: Kind, steps: number, metrics: readonly number[]): number[] {
  const { opt } = makeOpt();
  const s = makeSched(kind, opt);
  for (let t = 0; t < steps; t++) {
    if (s instanceof ReduceLROnPlateau) s.step(metrics[t]!);
    else s?.step();
  }
  return opt.paramGroups.map((g) => g.lr);
}

/**
 * Train 60 steps with random non-finite steps (probability 0.3); the schedule is stepped by the
 * guard or by hand. After every step, each group's lr must be the schedule's own rate times the
 * guard's scale: never above the schedule alone, and > 0.
 */
function runProperty(kind: Kind, policy: NonFinitePolicy, byHand: boolean, seed: number): void {
  const rand = rng(seed);
  const { opt, params } = makeOpt();
  const sched = makeSched(kind, opt);
  // The metrics the plateau has consumed, rewound with it when the guard rolls it back.
  const metrics: number[] = [];
  if (sched instanceof ReduceLROnPlateau) {
    const step = sched.step.bind(sched);
    sched.step = (m: number) => {
      metrics.length = sched.lastEpoch;
      metrics.push(m);
      step(m);
    };
  }
  const named = params.map((p, i) => [`p${i}`, p] as [string, Tensor]);
  const guard = new TrainingGuard(named, opt, byHand ? null : (sched as GuardedScheduler | null), {
    onNonFinite: policy,
    maxConsecutiveFailures: 1000,
    snapshotEvery: 3,
    diagnose: false,
  });
  for (let step = 0; step < 60; step++) {
    for (const p of params) withGrad(p, (rand() - 0.5) * 0.01);
    const fail = rand() < 0.3;
    const loss = 1 + 0.001 * Math.floor(rand() * 4); // plateaus now and then
    const r = guard.step(fail ? NaN : loss);
    expect(r.status).toBe(fail ? "skipped" : "ok");
    if (byHand && r.status === "ok") {
      if (sched instanceof ReduceLROnPlateau) sched.step(loss);
      else sched?.step();
    }
    const t = sched instanceof ReduceLROnPlateau ? sched.lastEpoch : sched ? sched.lastEpoch : 0;
    const alone = scheduleAlone(kind, t, metrics);
    const where = `${kind} ${byHand ? "by hand" : "by the guard"}, ${policy}, seed ${seed}, step ${step}`;
    opt.paramGroups.forEach((g, i) => {
      expect(g.lr, `${where}: group ${i}`).toBeGreaterThan(0);
      expect(g.lr, `${where}: group ${i}`).toBeLessThanOrEqual(alone[i]!);
      expect(g.lr, `${where}: group ${i}`).toBe(guard.lrScale === 1 ? alone[i] : alone[i]! * guard.lrScale);
    });
    if (policy === "skip") expect(guard.lrScale).toBe(1);
  }
  if (policy !== "skip") expect(guard.lrScale).toBeLessThan(1);
}

describe("property: with any scheduler and policy, the lr is the schedule's times the guard's scale", () => {
  for (const kind of KINDS) {
    for (const byHand of kind === "none" ? [false] : [false, true]) {
      for (const policy of ["skip", "backoff", "rollback"] as const) {
        it(`${kind} ${byHand ? "stepped by hand" : "stepped by the guard"}, policy ${policy}`, () => {
          for (const seed of [1, 2, 3, 4]) runProperty(kind, policy, byHand, seed);
        });
      }
    }
  }
});
