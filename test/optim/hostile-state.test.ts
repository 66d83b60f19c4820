/**
 * Issue 13, items 2 (scheduler and optimizer parts) and 9: poisoned state dicts are refused with
 * a typed error naming the field and the value, and a refused load changes nothing; settings
 * PyTorch rejects are rejected; a schedule whose rate leaves the float range is an error, not a
 * silent Infinity or 0; a non-leaf tensor cannot be optimized.
 */
import { describe, expect, it } from "vitest";
import { restoreCheckpoint, serializeCheckpoint, tensor, Linear } from "../../src/index.js";
import {
  Adagrad,
  Adam,
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  exponentialLR,
  LambdaLR,
  LinearLR,
  linearLR,
  MultiStepLR,
  OneCycleLR,
  OptimizerError,
  PolynomialLR,
  ReduceLROnPlateau,
  RMSprop,
  SequentialLR,
  SGD,
  StepLR,
} from "../../src/optim/index.js";
import type { OptimizerStateDict, ParamLike } from "../../src/optim/index.js";
import { param, setGrad } from "./helpers.js";

const sgd = (lrs = [0.1, 0.05]): SGD =>
  new SGD(
    lrs.map((lr) => ({ params: [param([0, 1])], lr })),
    { lr: 0.1, momentum: 0.9 },
  );

interface AnyScheduler {
  step(metric?: number): void;
  stateDict(): object;
  loadStateDict(sd: any): void;
}

/** Every scheduler, built over a two-group SGD. */
const SCHEDULERS: Array<[string, (opt: SGD) => AnyScheduler]> = [
  ["StepLR", (o) => new StepLR(o, { stepSize: 3 })],
  ["MultiStepLR", (o) => new MultiStepLR(o, { milestones: [2, 5] })],
  ["ExponentialLR", (o) => new ExponentialLR(o, { gamma: 0.9 })],
  ["ConstantLR", (o) => new ConstantLR(o)],
  ["LinearLR", (o) => new LinearLR(o, { startFactor: 0.2 })],
  ["PolynomialLR", (o) => new PolynomialLR(o, { totalIters: 50 })],
  ["CosineAnnealingLR", (o) => new CosineAnnealingLR(o, { tMax: 10 })],
  ["CosineAnnealingWarmRestarts", (o) => new CosineAnnealingWarmRestarts(o, { t0: 3, tMult: 2 })],
  ["LambdaLR", (o) => new LambdaLR(o, (t) => 1 / (1 + t))],
  ["SequentialLR", (o) => new SequentialLR(o, { schedulers: [new LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new StepLR(o, { stepSize: 2 })], milestones: [2] })],
  ["OneCycleLR", (o) => new OneCycleLR(o, { maxLr: 1, totalSteps: 20 })],
];

/** Poisoned variants of an LR scheduler state dict: [what, sd, message]. */
function poisonedLR(sd: Record<string, unknown>): Array<[string, unknown, RegExp]> {
  return [
    ["base_lrs [-5]", { ...sd, base_lrs: [-5, 0.05] }, /invalid base_lrs\[0\] -5/],
    ["base_lrs [NaN]", { ...sd, base_lrs: [0.1, NaN] }, /invalid base_lrs\[1\] NaN/],
    ["base_lrs [Infinity]", { ...sd, base_lrs: [Infinity, 0.1] }, /invalid base_lrs\[0\] Infinity/],
    ["base_lrs ['0.1']", { ...sd, base_lrs: ["0.1", 0.1] }, /invalid base_lrs\[0\] 0.1/],
    ["base_lrs too short", { ...sd, base_lrs: [0.1] }, /base_lrs must be 2 numbers/],
    ["base_lrs an object", { ...sd, base_lrs: { 0: 0.1, 1: 0.1 } }, /base_lrs must be 2 numbers/],
    ["last_epoch 1e308", { ...sd, last_epoch: 1e308 }, /invalid last_epoch 1e\+308/],
    ["last_epoch 2^31", { ...sd, last_epoch: 2 ** 31 }, /invalid last_epoch 2147483648/],
    ["last_epoch 1.5", { ...sd, last_epoch: 1.5 }, /invalid last_epoch 1.5/],
    ["last_epoch -1", { ...sd, last_epoch: -1 }, /invalid last_epoch -1/],
    ["last_epoch NaN", { ...sd, last_epoch: NaN }, /invalid last_epoch NaN/],
    ["last_epoch '3'", { ...sd, last_epoch: "3" }, /invalid last_epoch 3/],
    ["_last_lr [-1, 0]", { ...sd, _last_lr: [-1, 0] }, /invalid _last_lr\[0\] -1/],
    ["_last_lr of 3", { ...sd, _last_lr: [0.1, 0.1, 0.1] }, /_last_lr must be 2 numbers/],
    ["an array", [], /expected an object/],
    ["null", null, /expected an object/],
  ];
}

/** Everything observable about a scheduler and its optimizer's groups. */
function observe(s: AnyScheduler, opt: SGD): string {
  return JSON.stringify({ sd: s.stateDict(), groups: opt.paramGroups.map((g) => [g.lr, g.momentum]) });
}

describe("scheduler loadStateDict refuses poisoned state and changes nothing", () => {
  for (const [name, make] of SCHEDULERS) {
    it(name, () => {
      const opt = sgd();
      const s = make(opt);
      for (let i = 0; i < 4; i++) s.step();
      const good = s.stateDict() as Record<string, unknown>;
      const before = observe(s, opt);
      for (const [what, sd, message] of poisonedLR(good)) {
        let err: unknown;
        try {
          s.loadStateDict(sd);
        } catch (e) {
          err = e;
        }
        expect(err, `${name}: ${what} was accepted`).toBeInstanceOf(OptimizerError);
        expect((err as Error).message, `${name}: ${what}`).toMatch(message);
        expect((err as Error).message, `${name}: ${what}`).toMatch(new RegExp(`^${name}\\.loadStateDict: `));
        expect(observe(s, opt), `${name}: ${what} changed the scheduler`).toBe(before);
      }
      s.loadStateDict(JSON.parse(JSON.stringify(good))); // the good state still loads
      expect(observe(s, opt)).toBe(before);
    });
  }

  it("a last_epoch whose rate is out of range is refused, naming last_epoch", () => {
    const opt = sgd();
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 20 });
    const before = observe(s, opt);
    expect(() => s.loadStateDict({ ...s.stateDict(), last_epoch: 21 })).toThrow(/OneCycleLR.loadStateDict: last_epoch 21 .*tried to step 22 times/);
    const exp = new ExponentialLR(opt, { gamma: 1.5 });
    const before2 = observe(exp, opt);
    expect(() => exp.loadStateDict({ ...exp.stateDict(), last_epoch: 5000 })).toThrow(OptimizerError);
    expect(() => exp.loadStateDict({ ...exp.stateDict(), last_epoch: 5000 })).toThrow(/last_epoch 5000 .*Infinity/);
    expect(observe(exp, opt)).toBe(before2);
    const poly = new PolynomialLR(opt, { totalIters: 10, power: -1 }); // (1 - t/10)^-1: Infinity at t = 10
    expect(() => poly.loadStateDict({ ...poly.stateDict(), last_epoch: 10 })).toThrow(/last_epoch 10 .*lr Infinity/);
    expect(observe(s, opt)).not.toBe(before); // (the later schedulers set the lr at construction)
  });

  it("a poisoned scheduler state in a checkpoint is refused and the restore changes nothing", () => {
    const model = new Linear(2, 1);
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const sched = new StepLR(opt, { stepSize: 2 });
    const bytes = serializeCheckpoint({ model, optimizer: opt, scheduler: sched, step: 3 });
    // Rewrite the scheduler's base_lrs in the JSON metadata (same length: the header stays valid).
    const text = Buffer.from(bytes).toString("latin1");
    expect(text).toContain('\\"base_lrs\\":[0.1]');
    const poisoned = new Uint8Array(Buffer.from(text.replace('\\"base_lrs\\":[0.1]', '\\"base_lrs\\":[-5 ]'), "latin1"));
    expect(poisoned.length).toBe(bytes.length);
    const other = new Linear(2, 1);
    const opt2 = new SGD(other.parameters(), { lr: 0.3 });
    const sched2 = new StepLR(opt2, { stepSize: 2 });
    const before = [JSON.stringify(sched2.stateDict()), opt2.paramGroups[0]!.lr, [...other.stateDict()].map(([, t]) => t.toArray())];
    expect(() => restoreCheckpoint(poisoned, { model: other, optimizer: opt2, scheduler: sched2 })).toThrow(/StepLR.loadStateDict: invalid base_lrs\[0\] -5/);
    expect([JSON.stringify(sched2.stateDict()), opt2.paramGroups[0]!.lr, [...other.stateDict()].map(([, t]) => t.toArray())]).toEqual(before);
  });
});

describe("ReduceLROnPlateau loadStateDict refuses poisoned state and changes nothing", () => {
  it("every field", () => {
    const opt = sgd();
    const s = new ReduceLROnPlateau(opt, { patience: 2, cooldown: 3, minLr: [0.001, 0.002] });
    for (const m of [1, 0.5, 0.6, 0.7, 0.8]) s.step(m);
    const good = s.stateDict();
    const before = observe(s, opt);
    const cases: Array<[string, unknown, RegExp]> = [
      ["mode", { ...good, mode: "up" }, /invalid mode up/],
      ["factor 1", { ...good, factor: 1 }, /invalid factor 1/],
      ["factor NaN", { ...good, factor: NaN }, /invalid factor NaN/],
      ["patience 1.5", { ...good, patience: 1.5 }, /invalid patience 1.5/],
      ["patience -1", { ...good, patience: -1 }, /invalid patience -1/],
      ["threshold NaN", { ...good, threshold: NaN }, /invalid threshold NaN/],
      ["threshold Infinity", { ...good, threshold: Infinity }, /invalid threshold Infinity/],
      ["threshold_mode", { ...good, threshold_mode: "pct" }, /invalid thresholdMode pct/],
      ["cooldown 1e308 + 0.5", { ...good, cooldown: 0.5 }, /invalid cooldown 0.5/],
      ["min_lrs [-1]", { ...good, min_lrs: [-1, 0] }, /invalid min_lrs\[0\] -1/],
      ["min_lrs [NaN]", { ...good, min_lrs: [0, NaN] }, /invalid min_lrs\[1\] NaN/],
      ["min_lrs too short", { ...good, min_lrs: [0] }, /min_lrs must be 2 numbers/],
      ["eps Infinity", { ...good, eps: Infinity }, /invalid eps Infinity/],
      ["best NaN", { ...good, best: NaN }, /invalid best NaN/],
      ["best -Infinity in min mode", { ...good, best: -Infinity }, /invalid best -Infinity/],
      ["best '0.5'", { ...good, best: "0.5" }, /invalid best 0.5/],
      ["num_bad_epochs > patience", { ...good, num_bad_epochs: 3 }, /invalid num_bad_epochs 3/],
      ["num_bad_epochs 1e308", { ...good, num_bad_epochs: 1e308 }, /invalid num_bad_epochs 1e\+308/],
      ["cooldown_counter > cooldown", { ...good, cooldown_counter: 4 }, /invalid cooldown_counter 4/],
      ["last_epoch 1e308", { ...good, last_epoch: 1e308 }, /invalid last_epoch 1e\+308/],
      ["last_epoch -1", { ...good, last_epoch: -1 }, /invalid last_epoch -1/],
      ["_last_lr [NaN]", { ...good, _last_lr: [NaN, 0.1] }, /invalid _last_lr\[0\] NaN/],
      ["_last_lr [-2]", { ...good, _last_lr: [0.1, -2] }, /invalid _last_lr\[1\] -2/],
      ["_last_lr of 1", { ...good, _last_lr: [0.1] }, /_last_lr must be 2 numbers/],
      ["an array", [], /expected an object/],
    ];
    for (const [what, sd, message] of cases) {
      let err: unknown;
      try {
        s.loadStateDict(sd as never);
      } catch (e) {
        err = e;
      }
      expect(err, `${what} was accepted`).toBeInstanceOf(OptimizerError);
      expect((err as Error).message, what).toMatch(message);
      expect(observe(s, opt), `${what} changed the scheduler`).toBe(before);
    }
    // JSON round trip (best: Infinity -> null) still loads.
    const fresh = new ReduceLROnPlateau(sgd());
    fresh.loadStateDict(JSON.parse(JSON.stringify(new ReduceLROnPlateau(sgd()).stateDict())));
    expect(fresh.best).toBe(Infinity);
    s.loadStateDict(JSON.parse(JSON.stringify(good)));
    expect(observe(s, opt)).toBe(before);
  });
});

describe("optimizer loadStateDict refuses poisoned state and changes nothing", () => {
  /** An optimizer after two steps, its parameters, and a deep copy of its state dict. */
  function trained(make: (ps: ParamLike[]) => { step(): void; stateDict(): OptimizerStateDict; loadStateDict(sd: OptimizerStateDict): void }, f32 = false) {
    const ps = [param([1, 2, 3], [3], f32), param([0.5, -0.5], [2], f32)];
    const opt = make(ps);
    for (let k = 0; k < 2; k++) {
      setGrad(ps[0]!, [0.1 * k, -0.2, 0.3]);
      setGrad(ps[1]!, [0.2, 0.1 * k]);
      opt.step();
    }
    const sd = structuredClone(opt.stateDict());
    return { opt, ps, sd };
  }
  const snapshot = (opt: { stateDict(): OptimizerStateDict }, ps: ParamLike[]) =>
    JSON.stringify({ sd: opt.stateDict(), groups: (opt as unknown as SGD).paramGroups.map((g) => ({ ...g, params: undefined })), ps: ps.map((p) => Array.from(p.storage)) }, (_k, v) =>
      ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v,
    );

  const group = (sd: OptimizerStateDict, patch: Record<string, unknown>): OptimizerStateDict => ({
    ...sd,
    param_groups: sd.param_groups.map((g, i) => (i === 0 ? { ...g, ...patch } : g)),
  });
  const state = (sd: OptimizerStateDict, patch: Record<string, unknown>): OptimizerStateDict => ({
    ...sd,
    state: { ...sd.state, 0: { ...sd.state[0], ...patch } as OptimizerStateDict["state"][number] },
  });

  it("Adam: hyper-parameters, step counts and buffers", () => {
    const { opt, ps, sd } = trained((p) => new Adam(p, { lr: 0.01, amsgrad: true }));
    const before = snapshot(opt, ps);
    const cases: Array<[string, OptimizerStateDict, RegExp]> = [
      ["lr -1", group(sd, { lr: -1 }), /param_groups\[0\]: invalid lr -1/],
      ["lr NaN", group(sd, { lr: NaN }), /invalid lr NaN/],
      ["lr Infinity", group(sd, { lr: Infinity }), /invalid lr Infinity/],
      ["betas [1, 0.999]", group(sd, { betas: [1, 0.999] }), /invalid betas\[0\] 1/],
      ["betas [0.9]", group(sd, { betas: [0.9] }), /invalid betas 0.9/],
      ["eps -1", group(sd, { eps: -1 }), /invalid eps -1/],
      ["eps Infinity", group(sd, { eps: Infinity }), /invalid eps Infinity/],
      ["weight_decay NaN", group(sd, { weight_decay: NaN }), /invalid weightDecay NaN/],
      ["initial_lr NaN", group(sd, { initial_lr: NaN }), /invalid initial_lr NaN/],
      ["initial_lr -1", group(sd, { initial_lr: -1 }), /invalid initial_lr -1/],
      ["step 1.5", state(sd, { step: 1.5 }), /state\[0\]\.step: expected an integer .* got 1.5/],
      ["step -1", state(sd, { step: -1 }), /state\[0\]\.step: .* got -1/],
      ["step 1e300", state(sd, { step: 1e300 }), /state\[0\]\.step: .* got 1e\+300/],
      ["step NaN", state(sd, { step: NaN }), /state\[0\]\.step: .* got NaN/],
      ["exp_avg too short", state(sd, { exp_avg: [0, 0] }), /exp_avg: buffer has 2 elements, parameter 3/],
      ["exp_avg NaN", state(sd, { exp_avg: [0, NaN, 0] }), /exp_avg: element 1 is NaN: expected finite numbers/],
      ["exp_avg_sq -1", state(sd, { exp_avg_sq: [0, 0, -1] }), /exp_avg_sq: element 2 is -1: expected finite numbers >= 0/],
      ["max_exp_avg_sq Infinity", state(sd, { max_exp_avg_sq: [Infinity, 0, 0] }), /max_exp_avg_sq: element 0 is Infinity/],
      ["exp_avg Int32Array", state(sd, { exp_avg: new Int32Array(3) as never }), /exp_avg: expected a number array or null/],
      ["exp_avg strings", state(sd, { exp_avg: ["0", "0", "0"] as never }), /exp_avg: expected a number array or null/],
      ["unknown key", state(sd, { momentum_buffer: [0, 0, 0] }), /unknown state key 'momentum_buffer'/],
      ["unknown index", { ...sd, state: { ...sd.state, 7: sd.state[0]! } }, /no parameter has index 7/],
    ];
    for (const [what, bad, message] of cases) {
      let err: unknown;
      try {
        opt.loadStateDict(bad);
      } catch (e) {
        err = e;
      }
      expect(err, `${what} was accepted`).toBeInstanceOf(OptimizerError);
      expect((err as Error).message, what).toMatch(message);
      expect(snapshot(opt, ps), `${what} changed the optimizer`).toBe(before);
    }
    opt.loadStateDict(structuredClone(sd)); // the good state still loads
    expect(snapshot(opt, ps)).toBe(before);
  });

  it("a float64 buffer value that overflows float32 is refused for a float32 parameter", () => {
    const { opt, ps, sd } = trained((p) => new Adam(p), true);
    const before = snapshot(opt, ps);
    expect(() => opt.loadStateDict(state(sd, { exp_avg: new Float64Array([0, 1e300, 0]) }))).toThrow(/element 1 is 1e\+300 \(Infinity as float32\)/);
    expect(snapshot(opt, ps)).toBe(before);
  });

  it("RMSprop square_avg and Adagrad sum must be >= 0", () => {
    const r = trained((p) => new RMSprop(p, { centered: true }));
    expect(() => r.opt.loadStateDict(state(r.sd, { square_avg: [0, -1e-3, 0] }))).toThrow(/square_avg: element 1 is -0.001/);
    expect(() => r.opt.loadStateDict(state(r.sd, { grad_avg: [0, -1e-3, 0] }))).not.toThrow(); // a mean of gradients: any sign
    const a = trained((p) => new Adagrad(p));
    expect(() => a.opt.loadStateDict(state(a.sd, { sum: [-1, 0, 0] }))).toThrow(/sum: element 0 is -1/);
    const s = trained((p) => new SGD(p, { lr: 0.1, momentum: 0.9 }));
    expect(() => s.opt.loadStateDict(state(s.sd, { momentum_buffer: [0, NaN, 0] }))).toThrow(/momentum_buffer: element 1 is NaN/);
  });
});

describe("settings PyTorch rejects, and rates out of the float range", () => {
  it("LinearLR: startFactor in (0, 1], endFactor in [0, 1]", () => {
    expect(() => new LinearLR(sgd(), { startFactor: 0 })).toThrow(OptimizerError);
    expect(() => new LinearLR(sgd(), { startFactor: 0 })).toThrow(/LinearLR: invalid startFactor 0: expected a number in \(0, 1\]/);
    expect(() => linearLR(0.1, { startFactor: -0.5 })).toThrow(/invalid startFactor -0.5/);
    expect(() => linearLR(0.1, { startFactor: 1.5 })).toThrow(/invalid startFactor 1.5/);
    expect(() => linearLR(0.1, { startFactor: NaN })).toThrow(/invalid startFactor NaN/);
    expect(() => linearLR(0.1, { endFactor: 1.5 })).toThrow(/invalid endFactor 1.5/);
    expect(linearLR(0.1, { startFactor: 1, endFactor: 0, totalIters: 4 })(4)).toBe(0); // endFactor 0 is fine
    expect(linearLR(0.1, { startFactor: 1e-6 })(0)).toBeCloseTo(1e-7, 20);
  });

  it("ExponentialLR: a step that would overflow the lr to Infinity is an error and changes nothing", () => {
    const opt = sgd([0.1, 0.1]);
    const s = new ExponentialLR(opt, { gamma: 2 });
    let err: unknown;
    let steps = 0;
    try {
      for (; steps < 2000; steps++) s.step();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptimizerError);
    expect((err as Error).message).toMatch(/^ExponentialLR: the lr 0.1 \* 2\^\d+ is Infinity at step \d+/);
    expect(s.lastEpoch).toBe(steps);
    expect(opt.paramGroups[0]!.lr).toBe(0.1 * 2 ** steps); // the last finite rate, not Infinity
    expect(Number.isFinite(opt.paramGroups[0]!.lr)).toBe(true);
  });

  it("ExponentialLR: a step that would underflow the lr to 0 is an error and changes nothing", () => {
    const opt = sgd([0.1, 0.1]);
    const s = new ExponentialLR(opt, { gamma: 0.5 });
    let err: unknown;
    try {
      for (let i = 0; i < 2000; i++) s.step();
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/the lr 0.1 \* 0.5\^\d+ underflows to 0/);
    expect(opt.paramGroups[0]!.lr).toBeGreaterThan(0);
    expect(opt.paramGroups[0]!.lr).toBe(s.getLastLr()[0]);
    expect(() => exponentialLR(0.1, { gamma: 0.5 })(2000)).toThrow(OptimizerError);
    // gamma 0 and a base rate of 0 give 0 on purpose.
    expect(exponentialLR(0.1, { gamma: 0 })(3)).toBe(0);
    expect(exponentialLR(0, { gamma: 0.5 })(3000)).toBe(0);
  });

  it("any schedule giving a non-finite or negative rate is an error at step(), not a NaN lr", () => {
    const opt = sgd();
    const s = new LambdaLR(opt, (t) => (t === 2 ? NaN : t === 3 ? -1 : 1));
    s.step();
    expect(() => s.step()).toThrow(/LambdaLR.step: the schedule gives parameter group 0 the lr NaN at step 2/);
    expect(s.lastEpoch).toBe(1);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.05]);
  });

  it("a non-leaf tensor cannot be optimized (as in PyTorch)", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const y = w.mul(2);
    expect(() => new SGD([y], { lr: 0.1 })).toThrow(OptimizerError);
    expect(() => new SGD([y], { lr: 0.1 })).toThrow(/SGD param group 0: can't optimize a non-leaf Tensor \(parameter 0/);
    expect(() => new Adam([{ params: [w] }, { params: [w.add(1)] }])).toThrow(/Adam param group 1: can't optimize a non-leaf Tensor/);
    const opt = new SGD([w], { lr: 0.1 });
    expect(() => opt.addParamGroup({ params: [y] })).toThrow(/can't optimize a non-leaf Tensor/);
    expect(opt.paramGroups).toHaveLength(1);
    expect(() => new SGD([y.detach()], { lr: 0.1 })).not.toThrow(); // a detached copy is a leaf
  });
});
