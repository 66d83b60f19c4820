/**
 * Issue 15, "Reports that name the right cause": one case per hint class, each asserting the
 * class and its fix. The cases marked "was" got a wrong hint (or none) before the hint rules were
 * reworked: pow(0, -1), log1p(-1) and rsqrt(0) in layerNorm(eps = 0) were called "overflow", var
 * with too few samples got the zero-norm hint, and a diverging run whose first non-finite value
 * appears in a matmul (a NaN from Inf - Inf in the float32 accumulation) got none.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { AnomalyError, detectAnomaly, Linear, logsumexp, Sequential, setBackend, softmax, tensor, type AnomalyReport } from "../../src/index.js";
import { registerFastBackends } from "../../src/fast.js";

function report(fn: () => void): AnomalyReport {
  try {
    detectAnomaly(fn);
  } catch (e) {
    if (e instanceof AnomalyError) return e.report;
    throw e;
  }
  throw new Error("no anomaly was reported");
}

afterEach(() => setBackend("js"));

const grad = (values: number[]) => tensor(values, { requiresGrad: true });

/** [what, the code, op named, hazard, fix] */
const cases: [string, () => void, string, string, RegExp][] = [
  // division by zero
  ["pow(0, -1) (was: overflow)", () => grad([0, 2]).pow(-1).sum().backward(), "pow", "division by zero", /pow\(0, p\) with p < 0 is 1 \/ 0.*add eps to the base/],
  ["x / ‖x‖ of a zero row", () => { const x = grad([0, 0]); x.div(x.norm()).sum().backward(); }, "div", "division by zero", /zero denominator.*normalize\(x, \{ eps \}\)/],
  ["1 / 0", () => tensor([1, 2]).div(tensor([0, 1])), "div", "division by zero", /1 zero denominator/],
  // log / log1p of 0 or a negative number
  ["log1p(-1) (was: overflow)", () => grad([-1, 2]).log1p().sum().backward(), "log1p", "log(0)", /log1p\(-1\) = log\(0\) = -∞.*logSigmoid/],
  ["log1p(-2) (was: none)", () => grad([-2, 2]).log1p().sum().backward(), "log1p", "log of a negative number", /log1p of 1 value\(s\) below -1/],
  ["log(0)", () => tensor([0, 1]).log(), "log", "log(0)", /use logSoftmax/],
  ["log(-1)", () => tensor([-1, 1]).log(), "log", "log of a negative number", /log of 1 negative value/],
  // an infinite value or derivative at 0: sqrt, rsqrt, pow
  ["rsqrt(0) in layerNorm(eps = 0) (was: overflow)", () => sg.layerNorm(grad([1, 1, 1, 1, 2, 3]).reshape([2, 3]), [3], { eps: 0 }).sum().backward(), "rsqrt", "rsqrt at 0", /rsqrt\(0\) = ∞.*eps = 0.*layerNorm/],
  ["sqrt of a hand-written variance of a constant", () => { const x = grad([2, 2, 2]); x.sub(x.mean()).square().mean().sqrt().backward(); }, "sqrt", "sqrt backward at 0", /put eps inside the sqrt.*std\(\)/],
  ["pow(x, 0.5) at 0", () => grad([0, 4]).pow(0.5).sum().backward(), "pow", "pow backward at 0", /derivative is infinite at 0/],
  // domain errors
  ["acos(2) (was: none)", () => grad([0.5, 2]).acos().sum().backward(), "acos", "domain error", /acos of 1 value\(s\) outside \[-1, 1\].*clamp\(-1, 1\)/],
  ["asin(-1.5) (was: none)", () => grad([-1.5, 0]).asin().sum().backward(), "asin", "domain error", /asin of 1 value\(s\) outside \[-1, 1\]/],
  ["pow(-8, 1/3) (was: none)", () => tensor([-8, 8]).pow(1 / 3), "pow", "domain error", /negative base.*non-integer power/],
  ["sqrt(-1)", () => tensor([-1]).sqrt(), "sqrt", "sqrt of a negative number", /clamp/],
  // overflow: the Inf comes first
  ["exp(100)", () => tensor([100]).exp(), "exp", "exp overflow", /input 100 > 88\.7 for float32/],
  ["pow(10, 40) in float32", () => tensor([10, 2]).pow(40), "pow", "overflow", /10\^40 would exceed the largest float32/],
  ["a sum of large values", () => tensor([3e38, 3e38]).sum(), "sum", "overflow", /sum of values up to 3\.00e\+38: the result would exceed the largest float32/],
  ["3e38 · 10", () => tensor([3e38]).mul(10), "mul", "overflow", /exceed the largest float32/],
  // too few samples
  ["var over one sample (was: the zero-norm hint)", () => sg.variance(grad([3, 4]).reshape([2, 1]), 1).sum().backward(), "var", "too few samples", /var over 1 element\(s\) with correction 1: n - correction = 0 <= 0.*correction: 0/],
  ["std with correction 2 of two samples", () => sg.std(grad([1, 3]), 0, { correction: 2 }).backward(), "std", "too few samples", /std over 2 element\(s\) with correction 2/],
  // a non-finite input
  ["NaN in the data", () => tensor([NaN]).mul(1), "mul", "non-finite input", /already held NaN/],
];

describe("each hint class names its cause", () => {
  for (const [what, fn, op, hazard, fix] of cases) {
    it(`${what}: ${hazard}`, () => {
      const r = report(fn);
      expect(r.op).toBe(op);
      expect(r.hint?.hazard).toBe(hazard);
      expect(r.hint?.fix).toMatch(fix);
      expect(r.toString()).toContain(`hint (${hazard})`);
    });
  }

  it("no wrong guess: a NaN no rule explains gets no hint (not 'overflow')", () => {
    // sign of NaN-free values never makes a NaN; a hand-made op output stands in for an unexplained one
    const r = sg.findHint({ phase: "forward", op: "sin", created: true, inputs: [tensor([1, 2])], output: tensor([NaN, 1]) });
    expect(r).toBeNull();
  });
});

describe("divergence: weights that grew over the steps", () => {
  /** A deep-ish MLP trained with far too large an lr, each step under detectAnomaly, until the first report. */
  function divergingRun(): AnomalyReport {
    sg.manualSeed(0);
    const model = new Sequential(new Linear(8, 32), new sg.Tanh(), new Linear(32, 32), new Linear(32, 1));
    const x = sg.randn([64, 8]).mul(3);
    const y = x.matmul(sg.randn([8, 1]));
    const opt = new sg.SGD(model.parameters(), { lr: 0.5 });
    for (let step = 0; step < 100; step++) {
      try {
        detectAnomaly(() => {
          opt.zeroGrad();
          sg.mseLoss(model.forward(x), y).backward();
        });
      } catch (e) {
        if (e instanceof AnomalyError) return e.report;
        throw e;
      }
      opt.step();
    }
    throw new Error("the run did not diverge");
  }

  it("the first non-finite value is in a matmul: divergence, naming the weight and the exploding-gradient advice", () => {
    const r = divergingRun();
    expect(r.op).toBe("matmul");
    expect(r.hint?.hazard).toBe("divergence");
    expect(r.hint?.fix).toMatch(/parameter "\d\.weight" holds values up to \d\.\d+e\+\d+: the weights grew over the steps.*lower the lr.*warm-up.*clip the gradient norm/);
    expect(r.module?.type).toBe("Linear");
  });

  it("a matmul whose float32 accumulation gives NaN (Inf - Inf) from huge weights (was: no hint)", () => {
    // the wasm GEMM accumulates in float32 (the reference in float64, where these sums are 0)
    registerFastBackends();
    setBackend("wasm");
    const layer = new Linear(64, 16, { bias: false });
    layer.weight.storage.set(Float32Array.from({ length: 64 * 16 }, (_, i) => (i % 2 ? 3e19 : -3e19)));
    const r = report(() => layer.forward(sg.full([16, 64], 3e19)).sum().backward());
    expect(r.op).toBe("matmul");
    expect(r.kind).toBe("NaN");
    expect(r.hint?.hazard).toBe("divergence");
    expect(r.hint?.fix).toMatch(/parameter "weight" holds values up to 3\.00e\+19/);
  });

  it("under a Trainer with a gradient-norm history, the history's exploding-gradients hint wins", () => {
    sg.manualSeed(0);
    const model = new Sequential(new Linear(8, 32), new sg.Tanh(), new Linear(32, 32), new Linear(32, 1));
    const x = sg.randn([64, 8]).mul(3);
    const y = x.matmul(sg.randn([8, 1]));
    const trainer = new sg.Trainer({ model, loss: sg.mseLoss, optimizer: new sg.SGD(model.parameters(), { lr: 0.5 }), onNonFinite: "throw" });
    let r: AnomalyReport | undefined;
    try {
      for (let i = 0; i < 100; i++) trainer.trainStep(x, y);
    } catch (e) {
      if (!(e instanceof sg.NonFiniteError)) throw e;
      r = e.report ?? undefined;
    }
    expect(r?.hint?.hazard).toBe("exploding gradients");
  });
});

describe("an allowed -Infinity mask keeps its mark through the library's own ops", () => {
  it("logsumexp and softmax of fully masked rows: no report blaming the data (was: a report at the detached max)", () => {
    detectAnomaly(() => {
      const scores = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
      const mask = tensor([[0, -Infinity, 0], [-Infinity, -Infinity, -Infinity]]).markAllowNonFinite();
      const s = scores.add(mask);
      const lse = logsumexp(s, -1);
      softmax(s, -1).sum().add(lse.where(lse.ne(-Infinity), 0).sum()).backward();
      expect(Array.from(scores.grad!.toTypedArray()).every(Number.isFinite)).toBe(true);
    });
  });

  it("through views and detach() of the mask", () => {
    detectAnomaly(() => {
      const mask = tensor([0, -Infinity, 0, -Infinity]).markAllowNonFinite();
      const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      const m2 = mask.reshape([2, 2]);
      const y = x.add(m2).add(mask.detach().reshape([2, 2]));
      softmax(y, 1).sum().backward();
    });
  });

  it("a NaN made from the mask is still reported", () => {
    const r = report(() => {
      const mask = tensor([-Infinity, -Infinity]).markAllowNonFinite();
      mask.detach().sub(mask);
    });
    expect(r.kind).toBe("NaN");
  });
});
