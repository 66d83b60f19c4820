import { describe, expect, it } from "vitest";
import {
  Adagrad,
  adagradStep,
  Adam,
  adamStep,
  AdamW,
  adamwStep,
  checkNonNegative,
  Optimizer,
  OptimizerError,
  RMSprop,
  rmspropStep,
  SGD,
  sgdStep,
} from "../../src/optim/index.js";
import type { Algorithm, OptimizerStateDict, ParamLike } from "../../src/optim/index.js";
import { param, setGrad } from "./helpers.js";

interface AnyOptimizer {
  step(): void;
  zeroGrad(): void;
  stateDict(): OptimizerStateDict;
  loadStateDict(sd: OptimizerStateDict): void;
}

/** Every optimizer with a configuration that exercises all of its state. */
const configs: Array<[string, (ps: ParamLike[]) => AnyOptimizer]> = [
  ["SGD nesterov", (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ["Adam amsgrad", (ps) => new Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
  ["AdamW", (ps) => new AdamW(ps, { lr: 0.01 })],
  ["RMSprop centered momentum", (ps) => new RMSprop(ps, { centered: true, momentum: 0.5 })],
  ["Adagrad", (ps) => new Adagrad(ps, { lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
];

/** Deterministic pseudo-gradient for step k of parameter i. */
function gradAt(k: number, i: number, n: number): number[] {
  return Array.from({ length: n }, (_, j) => Math.sin(1.3 * k + 0.7 * j + 2.1 * i) * (1 + (j % 3)));
}

function makeParams(): ParamLike[] {
  return [param([0.5, -1, 2, 0.25, -0.75, 1.5], [2, 3]), param([1, -2, 0.1, 3], [4])];
}

function run(opt: AnyOptimizer, ps: ParamLike[], from: number, to: number): void {
  for (let k = from; k < to; k++) {
    ps.forEach((p, i) => setGrad(p, k % 5 === 3 && i === 1 ? null : gradAt(k, i, p.storage.length)));
    opt.step();
  }
}

describe("hyper-parameter validation", () => {
  const ps = (): ParamLike[] => makeParams();
  const cases: Array<[string, () => unknown, RegExp]> = [
    ["SGD negative lr", () => new SGD(ps(), { lr: -0.1 }), /SGD.*lr -0\.1/],
    ["SGD NaN lr", () => new SGD(ps(), { lr: NaN }), /SGD.*lr NaN/],
    ["SGD negative momentum", () => new SGD(ps(), { lr: 0.1, momentum: -0.5 }), /SGD.*momentum -0\.5/],
    ["SGD negative weight decay", () => new SGD(ps(), { lr: 0.1, weightDecay: -1 }), /SGD.*weightDecay -1/],
    ["SGD nesterov without momentum", () => new SGD(ps(), { lr: 0.1, nesterov: true }), /SGD.*nesterov.*momentum 0/],
    [
      "SGD nesterov with dampening",
      () => new SGD(ps(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      /SGD.*nesterov.*dampening 0\.1/,
    ],
    ["Adam beta1 = 1", () => new Adam(ps(), { betas: [1, 0.999] }), /Adam.*betas\[0\] 1/],
    ["Adam beta2 < 0", () => new Adam(ps(), { betas: [0.9, -0.1] }), /Adam.*betas\[1\] -0\.1/],
    ["Adam negative eps", () => new Adam(ps(), { eps: -1e-8 }), /Adam.*eps -1e-8/],
    ["Adam negative lr", () => new Adam(ps(), { lr: -1 }), /Adam.*lr -1/],
    ["AdamW negative weight decay", () => new AdamW(ps(), { weightDecay: -0.01 }), /AdamW.*weightDecay -0\.01/],
    ["RMSprop negative alpha", () => new RMSprop(ps(), { alpha: -0.9 }), /RMSprop.*alpha -0\.9/],
    ["RMSprop negative momentum", () => new RMSprop(ps(), { momentum: -0.1 }), /RMSprop.*momentum -0\.1/],
    ["RMSprop negative eps", () => new RMSprop(ps(), { eps: -1 }), /RMSprop.*eps -1/],
    ["Adagrad negative lrDecay", () => new Adagrad(ps(), { lrDecay: -1 }), /Adagrad.*lrDecay -1/],
    [
      "Adagrad negative initial accumulator",
      () => new Adagrad(ps(), { initialAccumulatorValue: -1 }),
      /Adagrad.*initialAccumulatorValue -1/,
    ],
    [
      "group override is validated too",
      () => {
        const [a, b] = ps();
        return new Adam([{ params: [a!] }, { params: [b!], lr: -3 }]);
      },
      /Adam param group 1.*lr -3/,
    ],
    ["empty parameter list", () => new Adam([]), /Adam.*empty parameter list/],
    [
      "parameter in two groups",
      () => {
        const [a] = ps();
        return new SGD([{ params: [a!] }, { params: [a!] }], { lr: 0.1 });
      },
      /more than one parameter group/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      expect(make).toThrow(OptimizerError);
      expect(make).toThrow(message);
    });
  }

  it("accepts the boundary values PyTorch accepts", () => {
    expect(() => new SGD(makeParams(), { lr: 0, momentum: 0, weightDecay: 0 })).not.toThrow();
    expect(() => new Adam(makeParams(), { betas: [0, 0], eps: 0 })).not.toThrow();
    expect(() => new SGD(makeParams(), { lr: 0.1, momentum: 0.9, nesterov: true })).not.toThrow();
  });
});

describe("zeroGrad and null gradients", () => {
  it("zeroGrad sets every grad to null", () => {
    const ps = makeParams();
    const opt = new Adam([{ params: [ps[0]!] }, { params: [ps[1]!], lr: 0.1 }]);
    ps.forEach((p) => setGrad(p, new Array(p.storage.length).fill(1)));
    opt.zeroGrad();
    for (const p of ps) expect(p.grad).toBeNull();
  });

  it("a parameter whose grad is null is not updated and gets no state (as PyTorch)", () => {
    const ps = makeParams();
    const before = ps[1]!.storage.slice();
    const opt = new Adam(ps, { lr: 0.1 });
    setGrad(ps[0]!, gradAt(0, 0, 6));
    opt.step();
    expect(ps[1]!.storage).toEqual(before);
    expect(Object.keys(opt.stateDict().state)).toEqual(["0"]);
    expect(opt.stateDict().state[0]!["step"]).toBe(1);
  });
});

describe("stateDict / loadStateDict", () => {
  for (const [name, make] of configs) {
    it(`${name}: resuming mid-way from a stateDict gives bit-identical results`, () => {
      const straight = makeParams();
      const a = make(straight);
      run(a, straight, 0, 20);

      const first = makeParams();
      const b = make(first);
      run(b, first, 0, 8);
      const snapshot = structuredClone(b.stateDict());
      const resumed = first.map((p) => param(p.storage.slice(), p.shape)); // checkpoint the params
      run(b, first, 8, 12); // keep going: the snapshot must not change

      const c = make(resumed);
      c.loadStateDict(snapshot);
      run(c, resumed, 8, 20);
      resumed.forEach((p, i) => expect(Array.from(p.storage)).toEqual(Array.from(straight[i]!.storage)));
    });

    it(`${name}: stateDict buffers are copies`, () => {
      const ps = makeParams();
      const opt = make(ps);
      run(opt, ps, 0, 3);
      const sd = opt.stateDict();
      const copy = structuredClone(sd);
      run(opt, ps, 3, 6);
      expect(sd).toEqual(copy);
    });
  }

  it("uses PyTorch key names and layout", () => {
    const ps = makeParams();
    const opt = new Adam([{ params: [ps[0]!] }, { params: [ps[1]!], lr: 0.5 }], { amsgrad: true });
    run(opt, ps, 0, 1);
    const sd = opt.stateDict();
    expect(sd.param_groups).toEqual([
      { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: true, maximize: false, initial_lr: 0.001, params: [0] },
      { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: true, maximize: false, initial_lr: 0.5, params: [1] },
    ]);
    expect(Object.keys(sd.state[0]!).sort()).toEqual(["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]);
    expect(sd.state[0]!["exp_avg"]).toBeInstanceOf(Float64Array);
  });

  it("loads hyper-parameters (e.g. a changed lr) and buffers from plain arrays", () => {
    const ps = makeParams();
    const opt = new SGD(ps, { lr: 0.1, momentum: 0.9 });
    opt.loadStateDict({
      state: { 1: { momentum_buffer: [1, 2, 3, 4] } },
      param_groups: [
        { lr: 0.5, momentum: 0.9, dampening: 0, weight_decay: 0, nesterov: false, maximize: false, foreach: null, params: [0, 1] },
      ],
    });
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
    expect(opt.paramGroups[0]!.initialLr).toBe(0.1); // absent initial_lr keeps the current one
    const sd = opt.stateDict();
    expect(Array.from(sd.state[1]!["momentum_buffer"] as Float64Array)).toEqual([1, 2, 3, 4]);
  });

  const bad: Array<[string, (sd: OptimizerStateDict) => void, RegExp]> = [
    ["wrong group count", (sd) => sd.param_groups.push({ ...sd.param_groups[0]!, params: [] }), /2 parameter groups.*has 1/],
    ["wrong parameter count", (sd) => sd.param_groups[0]!.params.pop(), /has 1 parameters.*has 2/],
    ["wrong buffer length", (sd) => (sd.state[0]!["exp_avg"] = new Float64Array(5)), /state\[0\]\.exp_avg.*5 elements.*6/],
    ["invalid hyper-parameter", (sd) => (sd.param_groups[0]!["lr"] = -1), /param_groups\[0\].*lr -1/],
    ["invalid betas", (sd) => (sd.param_groups[0]!["betas"] = [0.9, 1.5]), /betas\[1\] 1\.5/],
    ["missing hyper-parameter", (sd) => delete sd.param_groups[0]!["eps"], /missing 'eps'/],
    ["unknown state key", (sd) => (sd.state[0]!["momentum"] = 3), /unknown state key 'momentum'/],
    ["missing buffer", (sd) => delete sd.state[1]!["exp_avg_sq"], /state\[1\]: missing 'exp_avg_sq'/],
    ["unknown parameter index", (sd) => (sd.state[7] = {}), /no parameter has index 7/],
    ["negative step", (sd) => (sd.state[0]!["step"] = -2), /step.*-2/],
  ];
  for (const [name, corrupt, message] of bad) {
    it(`rejects ${name} with a clear error and changes nothing`, () => {
      const ps = makeParams();
      const opt = new Adam(ps, { lr: 0.01 });
      run(opt, ps, 0, 3);
      const before = structuredClone(opt.stateDict());
      const sd = structuredClone(opt.stateDict());
      run(opt, ps, 3, 4);
      const current = structuredClone(opt.stateDict());
      corrupt(sd);
      expect(() => opt.loadStateDict(sd)).toThrow(OptimizerError);
      expect(() => opt.loadStateDict(sd)).toThrow(message);
      expect(opt.stateDict()).toEqual(current);
      expect(opt.stateDict()).not.toEqual(before);
    });
  }
});

describe("eps = 0 with zero gradients stays finite (safety difference from PyTorch, which gives 0/0 = NaN)", () => {
  const makers: Array<[string, (ps: ParamLike[]) => AnyOptimizer]> = [
    ["Adam", (ps) => new Adam(ps, { eps: 0 })],
    ["Adam amsgrad", (ps) => new Adam(ps, { eps: 0, amsgrad: true })],
    ["AdamW", (ps) => new AdamW(ps, { eps: 0 })],
    ["RMSprop", (ps) => new RMSprop(ps, { eps: 0 })],
    ["RMSprop centered momentum", (ps) => new RMSprop(ps, { eps: 0, centered: true, momentum: 0.9 })],
    ["Adagrad", (ps) => new Adagrad(ps, { eps: 0 })],
  ];
  for (const [name, make] of makers) {
    it(name, () => {
      const ps = makeParams();
      const opt = make(ps);
      for (let k = 0; k < 3; k++) {
        ps.forEach((p) => setGrad(p, new Array(p.storage.length).fill(0)));
        opt.step();
      }
      for (const p of ps) for (const v of p.storage) expect(Number.isFinite(v)).toBe(true);
      // Adam/RMSprop/Adagrad without weight decay leave the parameter unchanged
      if (name !== "AdamW") expect(Array.from(ps[1]!.storage)).toEqual([1, -2, 0.1, 3]);
    });
  }

  it("centered RMSprop with a constant gradient stays finite (PyTorch hits sqrt(<0) = NaN here)", () => {
    const n = 2000;
    const values = Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 100 + 0.01);
    const p = param(new Float64Array(n));
    const opt = new RMSprop([p], { lr: 0.01, alpha: 0.9, centered: true });
    for (let k = 0; k < 400; k++) {
      setGrad(p, values);
      opt.step();
    }
    for (const v of p.storage) expect(Number.isNaN(v)).toBe(false);
  });
});

describe("parameter groups", () => {
  it("each group uses its own hyper-parameters, falling back to the defaults", () => {
    const [a, b] = makeParams();
    const opt = new SGD(
      [
        { params: [a!], lr: 1 },
        { params: [b!], momentum: 0.5 },
      ],
      { lr: 0.1, momentum: 0.9 },
    );
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum, g.initialLr])).toEqual([
      [1, 0.9, 1],
      [0.1, 0.5, 0.1],
    ]);
    setGrad(a!, [1, 1, 1, 1, 1, 1]);
    setGrad(b!, [1, 1, 1, 1]);
    opt.step();
    expect(a!.storage[0]).toBeCloseTo(0.5 - 1, 15);
    expect(b!.storage[0]).toBeCloseTo(1 - 0.1, 15);
  });

  it("changing group.lr between steps takes effect (what schedulers do)", () => {
    const p = param([0]);
    const opt = new SGD([p], { lr: 0.1 });
    opt.paramGroups[0]!.lr = 0.5;
    setGrad(p, [1]);
    opt.step();
    expect(p.storage[0]).toBe(-0.5);
    expect(opt.paramGroups[0]!.initialLr).toBe(0.1);
  });

  it("addParamGroup adds a group with defaults and rejects duplicates", () => {
    const [a, b] = makeParams();
    const opt = new Adam([a!], { lr: 0.01 });
    opt.addParamGroup({ params: [b!], lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.1]);
    expect(() => opt.addParamGroup({ params: [a!] })).toThrow(/more than one parameter group/);
  });

  it("groups do not share mutable hyper-parameter arrays", () => {
    const [a, b] = makeParams();
    const opt = new Adam([{ params: [a!] }, { params: [b!] }]);
    expect(opt.paramGroups[0]!.betas).not.toBe(opt.paramGroups[1]!.betas);
    expect(opt.paramGroups[0]!.betas).not.toBe(opt.defaults.betas);
  });
});

describe("float32 parameters", () => {
  it("Adam on Float32Array keeps float32 state and tracks the float64 result", () => {
    const p32 = param([0.5, -1, 2], [3], true);
    const p64 = param([0.5, -1, 2], [3]);
    const o32 = new Adam([p32], { lr: 0.01 });
    const o64 = new Adam([p64], { lr: 0.01 });
    for (let k = 0; k < 50; k++) {
      setGrad(p32, gradAt(k, 0, 3));
      setGrad(p64, gradAt(k, 0, 3));
      o32.step();
      o64.step();
    }
    expect(p32.storage).toBeInstanceOf(Float32Array);
    expect(o32.stateDict().state[0]!["exp_avg"]).toBeInstanceOf(Float32Array);
    p32.storage.forEach((v, i) => expect(v).toBeCloseTo(p64.storage[i]!, 5));
  });

  it("loadStateDict converts buffers to the parameter's dtype", () => {
    const p = param([1, 2], [2], true);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    opt.loadStateDict({
      state: { 0: { momentum_buffer: new Float64Array([0.1, 0.2]) } },
      param_groups: [{ lr: 0.1, momentum: 0.9, dampening: 0, weight_decay: 0, nesterov: false, maximize: false, params: [0] }],
    });
    expect(opt.stateDict().state[0]!["momentum_buffer"]).toBeInstanceOf(Float32Array);
  });
});

describe("pure step functions (TSDoc examples)", () => {
  it("sgdStep", () => {
    const p = new Float64Array([1, 2]);
    sgdStep(p, new Float64Array([0.5, -1]), { momentumBuffer: null }, {
      lr: 0.1,
      momentum: 0.9,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
      maximize: false,
    });
    expect(Array.from(p)).toEqual([0.95, 2.1]);
  });

  it("adamStep moves by lr on the first step", () => {
    const p = new Float64Array([1]);
    const s = { step: 0, expAvg: new Float64Array(1), expAvgSq: new Float64Array(1), maxExpAvgSq: null };
    adamStep(p, new Float64Array([2]), s, {
      lr: 0.1,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
    });
    expect(p[0]).toBeCloseTo(0.9, 7);
    expect(s.step).toBe(1);
  });

  it("adamwStep decays the parameter", () => {
    const p = new Float64Array([1]);
    const s = { step: 0, expAvg: new Float64Array(1), expAvgSq: new Float64Array(1), maxExpAvgSq: null };
    adamwStep(p, new Float64Array([0]), s, {
      lr: 0.1,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.5,
      amsgrad: false,
      maximize: false,
    });
    expect(p[0]).toBe(0.95);
  });

  it("rmspropStep and adagradStep", () => {
    const p = new Float64Array([1]);
    rmspropStep(p, new Float64Array([1]), { step: 0, squareAvg: new Float64Array(1), momentumBuffer: null, gradAvg: null }, {
      lr: 0.01,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
    });
    expect(p[0]).toBeCloseTo(0.9, 6);
    const q = new Float64Array([1]);
    adagradStep(q, new Float64Array([3]), { step: 0, sum: new Float64Array(1) }, {
      lr: 0.1,
      lrDecay: 0,
      weightDecay: 0,
      initialAccumulatorValue: 0,
      eps: 1e-10,
      maximize: false,
    });
    expect(q[0]).toBeCloseTo(0.9, 9);
  });
});

describe("custom algorithms through the generic Optimizer", () => {
  it("the TSDoc SignSGD example works, including validation and stateDict", () => {
    const signSgd: Algorithm<{ lr: number }, Record<string, never>> = {
      name: "SignSGD",
      hyperKeys: { lr: "lr" },
      stateKeys: {},
      validate: (h, who) => checkNonNegative(who, "lr", h.lr),
      initState: () => ({}),
      step: (p, g, _s, h) => {
        for (let i = 0; i < p.length; i++) p[i] = p[i]! - h.lr * Math.sign(g[i]!);
      },
    };
    const p = param([1, 1, 1]);
    const opt = new Optimizer(signSgd, [p], { lr: 0.25 });
    setGrad(p, [-3, 0, 7]);
    opt.step();
    expect(Array.from(p.storage)).toEqual([1.25, 1, 0.75]);
    expect(opt.stateDict()).toEqual({ state: { 0: {} }, param_groups: [{ lr: 0.25, initial_lr: 0.25, params: [0] }] });
    expect(() => new Optimizer(signSgd, [p], { lr: -1 })).toThrow(/SignSGD: invalid lr -1/);
  });
});
