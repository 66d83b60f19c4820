import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Adagrad,
  Adam,
  constantLR,
  cosineAnnealingLR,
  CosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  exponentialLR,
  ExponentialLR,
  lambdaLR,
  LambdaLR,
  linearLR,
  LinearLR,
  LRScheduler,
  multiStepLR,
  oneCycleLR,
  OneCycleLR,
  oneCycleMomentum,
  OptimizerError,
  polynomialLR,
  ReduceLROnPlateau,
  sequentialLR,
  SequentialLR,
  SGD,
  stepLR,
  StepLR,
} from "../../src/optim/index.js";
import { param } from "./helpers.js";

const sgd = (lrs = [0.1]): SGD =>
  new SGD(
    lrs.map((lr) => ({ params: [param([0])], lr })),
    { lr: 0.1, momentum: 0.9 },
  );

describe("pure schedules (TSDoc examples)", () => {
  it("closed forms", () => {
    expect(stepLR(0.1, { stepSize: 30 })(29)).toBe(0.1);
    expect(stepLR(0.1, { stepSize: 30 })(30)).toBeCloseTo(0.01, 15);
    expect(multiStepLR(0.05, { milestones: [30, 80] })(50)).toBeCloseTo(0.005, 15);
    expect(multiStepLR(1, { milestones: [80, 30, 30] })(30)).toBeCloseTo(0.01, 15); // unsorted, repeated
    expect(exponentialLR(1, { gamma: 0.9 })(2)).toBeCloseTo(0.81, 15);
    expect(constantLR(0.1, { factor: 0.5, totalIters: 4 })(3)).toBe(0.05);
    expect(constantLR(0.1, { factor: 0.5, totalIters: 4 })(4)).toBe(0.1);
    expect(linearLR(0.05, { startFactor: 0.5, totalIters: 4 })(1)).toBeCloseTo(0.03125, 15);
    expect(polynomialLR(0.001, { totalIters: 4 })(1)).toBeCloseTo(0.00075, 15);
    expect(polynomialLR(0.001, { totalIters: 4 })(9)).toBe(0);
    expect(cosineAnnealingLR(0.1, { tMax: 10 })(5)).toBeCloseTo(0.05, 15);
    expect(cosineAnnealingLR(0.1, { tMax: 10 })(10)).toBe(0);
    expect(cosineAnnealingWarmRestarts(0.1, { t0: 5, tMult: 2 })(5)).toBe(0.1);
    expect(cosineAnnealingWarmRestarts(0.1, { t0: 5, tMult: 2 })(15)).toBe(0.1);
    expect(cosineAnnealingWarmRestarts(0.1, { t0: 5 })(10)).toBe(0.1);
    expect(lambdaLR(0.1, (t) => 0.5 ** t)(3)).toBeCloseTo(0.0125, 15);
    expect(oneCycleLR(0.1, { totalSteps: 100 })(0)).toBeCloseTo(0.004, 15);
    expect(oneCycleLR(0.1, { totalSteps: 100 })(29)).toBeCloseTo(0.1, 15);
    expect(oneCycleMomentum({ totalSteps: 100 })(0)).toBeCloseTo(0.95, 15);
    expect(oneCycleMomentum({ totalSteps: 100 })(29)).toBeCloseTo(0.85, 15);
  });

  it("sequentialLR restarts each schedule at its milestone", () => {
    const warm = linearLR(0.1, { startFactor: 0.1, totalIters: 5 });
    const cos = cosineAnnealingLR(0.1, { tMax: 95 });
    const s = sequentialLR([warm, cos], [5]);
    expect(s(0)).toBeCloseTo(0.01, 15);
    expect(s(4)).toBe(warm(4));
    expect(s(5)).toBe(cos(0));
    expect(s(50)).toBe(cos(45));
  });

  it("oneCycleLR refuses steps past totalSteps, as PyTorch", () => {
    const s = oneCycleLR(1, { totalSteps: 10 });
    expect(() => s(10)).not.toThrow();
    expect(() => s(11)).toThrow(/OneCycleLR.*total steps is 10/);
  });

  it("validates options with messages naming the schedule and setting", () => {
    expect(() => stepLR(0.1, { stepSize: 0 })).toThrow(/StepLR.*stepSize 0/);
    expect(() => cosineAnnealingLR(0.1, { tMax: 0 })).toThrow(/CosineAnnealingLR.*tMax 0/);
    expect(() => cosineAnnealingWarmRestarts(0.1, { t0: 5, tMult: 1.5 })).toThrow(/tMult 1\.5/);
    expect(() => linearLR(0.1, { startFactor: 2 })).toThrow(/LinearLR.*startFactor 2/);
    expect(() => sequentialLR([stepLR(1, { stepSize: 1 })], [3])).toThrow(/SequentialLR.*milestones/);
    expect(() => oneCycleLR(1, { totalSteps: 10, annealStrategy: "exp" as "cos" })).toThrow(/annealStrategy exp/);
    expect(() => new ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow(OptimizerError);
    expect(() => new ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow(/ReduceLROnPlateau.*factor 1/);
  });

  it("property: cosine schedules stay within [etaMin, baseLr]", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (base, frac, tMax, tMult, t) => {
          const etaMin = base * frac;
          for (const s of [
            cosineAnnealingLR(base, { tMax, etaMin }),
            cosineAnnealingWarmRestarts(base, { t0: tMax, tMult, etaMin }),
          ]) {
            const lr = s(t);
            expect(lr).toBeGreaterThanOrEqual(etaMin - 1e-12 * base);
            expect(lr).toBeLessThanOrEqual(base * (1 + 1e-12));
          }
        },
      ),
    );
  });

  it("property: oneCycleLR stays within [min lr, maxLr]", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 500 }),
        fc.double({ min: 0.05, max: 0.45, noNaN: true }),
        fc.constantFrom<"cos" | "linear">("cos", "linear"),
        fc.boolean(),
        (totalSteps, pctStart, annealStrategy, threePhase) => {
          const s = oneCycleLR(1, { totalSteps, pctStart, annealStrategy, threePhase });
          for (let t = 0; t < totalSteps; t++) {
            expect(s(t)).toBeLessThanOrEqual(1 + 1e-12);
            expect(s(t)).toBeGreaterThanOrEqual(1 / 25 / 1e4 - 1e-15);
          }
        },
      ),
    );
  });
});

describe("scheduler classes", () => {
  it("set every group's lr from its initialLr at construction and on step()", () => {
    const opt = sgd([0.1, 0.02]);
    const sched = new ExponentialLR(opt, { gamma: 0.5 });
    expect(sched.getLastLr()).toEqual([0.1, 0.02]);
    sched.step();
    sched.step();
    expect(sched.lastEpoch).toBe(2);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.025, 0.005]);
    expect(sched.getLastLr()).toEqual([0.025, 0.005]);
  });

  it("compute from the step count: an outside lr change does not compound (unlike PyTorch's chaining)", () => {
    const opt = sgd();
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    opt.paramGroups[0]!.lr = 123;
    sched.step();
    expect(opt.paramGroups[0]!.lr).toBe(0.05);
  });

  it("a custom LRScheduler takes any (baseLr) => schedule factory", () => {
    const opt = sgd([1, 2]);
    const sched = new LRScheduler(opt, (base) => (t) => base / (1 + t));
    sched.step();
    expect(sched.getLastLr()).toEqual([0.5, 1]);
    expect(sched.lrsAt(3)).toEqual([0.25, 0.5]);
  });

  it("SequentialLR uses its children's schedules (warm-up then cosine)", () => {
    const opt = sgd();
    const warm = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
    const cos = new CosineAnnealingLR(opt, { tMax: 20 });
    const sched = new SequentialLR(opt, { schedulers: [warm, cos], milestones: [5] });
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.01, 15);
    for (let k = 0; k < 5; k++) sched.step();
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
    expect(() => new SequentialLR(sgd(), { schedulers: [warm], milestones: [] })).toThrow(/different optimizer/);
  });

  it("LambdaLR takes one lambda per group and checks the count", () => {
    const opt = sgd([1, 1]);
    const sched = new LambdaLR(opt, [(t) => t, (t) => 2 * t]);
    sched.step();
    expect(sched.getLastLr()).toEqual([1, 2]);
    expect(() => new LambdaLR(opt, [(t) => t])).toThrow(/expected 2 lrLambdas/);
  });

  it("OneCycleLR cycles Adam's beta1 and refuses optimizers without momentum", () => {
    const p = param([0]);
    const adam = new Adam([p], { betas: [0.9, 0.99] });
    const sched = new OneCycleLR(adam, { maxLr: 0.01, totalSteps: 10 });
    expect(adam.paramGroups[0]!.betas).toEqual([0.95, 0.99]);
    sched.step();
    sched.step();
    expect(adam.paramGroups[0]!.betas[0]).toBeCloseTo(0.85, 12); // end of the warm-up phase (t = 2)
    expect(adam.paramGroups[0]!.lr).toBeCloseTo(0.01, 12);
    expect(() => new OneCycleLR(new Adagrad([param([0])]), { maxLr: 1, totalSteps: 10 })).toThrow(
      /neither momentum nor betas/,
    );
    expect(() => new OneCycleLR(new Adagrad([param([0])]), { maxLr: 1, totalSteps: 10, cycleMomentum: false })).not.toThrow();
  });

  it("a failed step (OneCycleLR past totalSteps) changes nothing", () => {
    const opt = sgd();
    const sched = new OneCycleLR(opt, { maxLr: 1, totalSteps: 2 });
    sched.step();
    sched.step();
    const lr = opt.paramGroups[0]!.lr;
    expect(() => sched.step()).toThrow(OptimizerError);
    expect(sched.lastEpoch).toBe(2);
    expect(opt.paramGroups[0]!.lr).toBe(lr);
  });

  it("stateDict has PyTorch's keys; loadStateDict validates", () => {
    const opt = sgd([0.1, 0.2]);
    const sched = new CosineAnnealingLR(opt, { tMax: 10 });
    sched.step();
    expect(sched.stateDict()).toEqual({ last_epoch: 1, base_lrs: [0.1, 0.2], _last_lr: sched.getLastLr() });
    expect(() => sched.loadStateDict({ last_epoch: -1, base_lrs: [0.1, 0.2], _last_lr: [] })).toThrow(/last_epoch -1/);
    expect(() => sched.loadStateDict({ last_epoch: 1, base_lrs: [0.1], _last_lr: [] })).toThrow(/base_lrs must be 2/);
    expect(sched.lastEpoch).toBe(1);
  });
});

describe("ReduceLROnPlateau", () => {
  it("reduces after patience bad steps, respects cooldown and minLr", () => {
    const opt = sgd([1]);
    const sched = new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5, cooldown: 1, minLr: 0.3 });
    const lrs = [1, 1, 1, 1, 1, 1, 1].map((m) => {
      sched.step(m);
      return opt.paramGroups[0]!.lr;
    });
    // step 1 improves (inf -> 1); 2, 3 bad -> reduce at 3; cooldown eats 4; 5, 6 bad -> reduce at 6 (clamped)
    expect(lrs).toEqual([1, 1, 0.5, 0.5, 0.5, 0.3, 0.3]);
  });

  it("max mode treats increases as improvements", () => {
    const opt = sgd([1]);
    const sched = new ReduceLROnPlateau(opt, { mode: "max", patience: 0 });
    [1, 2, 3].forEach((m) => sched.step(m));
    expect(opt.paramGroups[0]!.lr).toBe(1);
    sched.step(3);
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1, 15);
  });

  it("loadStateDict survives JSON (best: Infinity -> null) and validates", () => {
    const opt = sgd([1]);
    const sched = new ReduceLROnPlateau(opt, { patience: 0 });
    const sd = JSON.parse(JSON.stringify(sched.stateDict())) as ReturnType<ReduceLROnPlateau["stateDict"]>;
    const again = new ReduceLROnPlateau(sgd([1]));
    again.loadStateDict(sd);
    expect(again.best).toBe(Infinity);
    expect(again.patience).toBe(0);
    expect(() => again.loadStateDict({ ...sd, mode: "up" as "min" })).toThrow(/mode up/);
    expect(again.mode).toBe("min");
  });
});
