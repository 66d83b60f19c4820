/**
 * The static hazard audit (issue 17): planted bugs are found, in the right phase, at the user's
 * line, with a triggering input confirmed by a real run with anomaly detection on and the NaN
 * report's hint; the library's safe functions give no finding for any input range.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { audit, isAnomalyEnabled, Linear, logSigmoid, ReLU, Sequential, tensor, type AuditFinding, type AuditInput, type Tensor } from "../../src/index.js";
import * as F from "../../src/layers/functional.js";

const range = (shape: number[], low: number, high: number): AuditInput => ({ shape, low, high });
const only = (fs: AuditFinding[], phase: string, op: string): AuditFinding => {
  const f = fs.find((x) => x.phase === phase && x.op === op);
  if (!f) throw new Error(`no ${phase} finding at ${op}; got ${fs.map((x) => `${x.phase}:${x.op}`).join(", ")}`);
  return f;
};
const within = (t: Tensor, low: number, high: number): boolean => Array.from(t.toTypedArray() as Float32Array).every((v) => v >= low && v <= high);

describe("audit: planted bugs", () => {
  it("sqrt(variance) without eps: infinite gradient where a row is constant", () => {
    const r = audit((x) => x.var(1).sqrt().sum(), [range([4, 6], -3, 3)]);
    const f = only(r.findings, "backward", "sqrt");
    expect(f.innerOp).toBe("div");
    expect(f.intervals[1]![0]).toBe(0); // sqrt's output can be 0
    expect(f.callSite).toContain("audit.test.ts");
    expect(f.witness).not.toBeNull();
    expect(f.witness!.report.phase).toBe("backward");
    expect(within(f.witness!.inputs[0]!, -3, 3)).toBe(true);
    expect(f.hint?.hazard).toBe("sqrt backward at 0");
    expect(r.findings.some((x) => x.phase === "forward")).toBe(false);
  });

  it("log(softmax(x)): softmax underflows to 0 in float32", () => {
    const r = audit((x) => x.softmax(1).log().sum(), [range([2, 5], -60, 60)]);
    const f = only(r.findings, "forward", "log");
    expect(f.kind).toContain("-Inf");
    expect(f.intervals[0]![0]).toBe(0);
    expect(f.witness?.report.op).toBe("log");
    expect(f.hint?.hazard).toBe("log(0)");
    expect(f.hint?.fix).toContain("logSoftmax");
  });

  it("division by a norm without eps", () => {
    const r = audit((x) => x.div(x.norm(2, 1, true)).sum(), [range([3, 4], -1, 1)]);
    const f = only(r.findings, "forward", "div");
    expect(f.intervals[1]![0]).toBe(0);
    expect(f.witness?.report.op).toBe("div");
    expect(f.hint?.hazard).toBe("division by zero");
  });

  it("exp overflow in float32 (not in float64)", () => {
    const r = audit((x) => x.exp().sum(), [range([3], 0, 100)]);
    const f = only(r.findings, "forward", "exp");
    expect(f.kind).toBe("+Inf");
    expect(f.witness?.report.kind).toContain("Inf");
    expect(f.hint?.hazard).toBe("exp overflow");
    expect(audit((x) => x.exp().sum(), [{ shape: [3], low: 0, high: 100, dtype: "float64" }]).findings).toEqual([]);
  });

  it("acos of a cosine similarity: the cosine rounds past 1 (NaN); acos's gradient at ±1 is finite", () => {
    const r = audit((a, b) => F.cosineSimilarity(a, b).acos().sum(), [range([3, 8], -1, 1), range([3, 8], -1, 1)]);
    const f = only(r.findings, "forward", "acos");
    expect(f.kind).toBe("NaN");
    expect(f.intervals[0]![1]).toBeGreaterThan(1);
    expect(f.witness?.report.op).toBe("acos");
    expect(f.hint?.hazard).toBe("domain error");
    // clamped first: safe, also in the gradient (acos'(±1) is 0 in safegrad)
    expect(audit((a, b) => F.cosineSimilarity(a, b).clamp(-1, 1).acos().sum(), [range([3, 8], -1, 1), range([3, 8], -1, 1)]).findings).toEqual([]);
  });

  it("every singular op at its singular point", () => {
    const cases: [string, (x: Tensor) => Tensor, number, number, string][] = [
      ["log", (x) => x.log(), 0, 2, "forward"],
      ["log1p", (x) => x.log1p(), -1, 2, "forward"],
      ["sqrt", (x) => x.sqrt(), -1, 2, "forward"],
      ["rsqrt", (x) => x.rsqrt(), 0, 2, "forward"],
      ["sqrt", (x) => x.sqrt(), 0, 2, "backward"],
      ["pow", (x) => x.pow(-1), 0, 2, "forward"],
      ["pow", (x) => x.pow(0.5), 0, 2, "backward"],
      ["acos", (x) => x.acos(), -2, 0, "forward"],
      ["asin", (x) => x.asin(), 0, 1.5, "forward"],
      ["exp", (x) => x.exp(), 0, 90, "forward"],
      ["div", (x) => tensor([1]).div(x), -1, 1, "forward"],
      ["var", (x) => x.var(1), 0, 1, "forward"],
    ];
    for (const [op, f, low, high, phase] of cases) {
      const shape = op === "var" ? [2, 1] : [3];
      const r = audit((x) => f(x).sum(), [range(shape, low, high)], { witness: false });
      only(r.findings, phase, op);
    }
    // and not away from it
    for (const [op, f, , high, phase] of cases) {
      if (op === "var" || op === "exp" || op === "acos") continue;
      const r = audit((x) => f(x).sum(), [range([3], 0.5, Math.max(0.9, Math.min(high, 0.9)))], { witness: false });
      expect(r.findings, `${op} ${phase}`).toEqual([]);
    }
  });
});

describe("audit: the safe functions are silent on any range", () => {
  const safe: Record<string, { fn: (...a: Tensor[]) => Tensor; args: (shape: number[], low: number, high: number) => AuditInput[] }> = {
    normalize: { fn: (x) => F.normalize(x).sum(), args: (s, l, h) => [range(s, l, h)] },
    stdPool: { fn: (x) => F.stdPool(x, { dim: 1 }).sum(), args: (s, l, h) => [range(s, l, h)] },
    l1Loss: { fn: (x, y) => F.l1Loss(x, y), args: (s, l, h) => [range(s, l, h), range(s, l, h)] },
    logSoftmax: { fn: (x) => x.logSoftmax(1).sum(), args: (s, l, h) => [range(s, l, h)] },
    crossEntropy: { fn: (x, y) => F.crossEntropy(x, y), args: (s, l, h) => [range(s, l, h), { shape: [s[0]!], low: 0, high: s[1]! - 1, dtype: "int32" }] },
    binaryCrossEntropyWithLogits: { fn: (x, y) => F.binaryCrossEntropyWithLogits(x, y), args: (s, l, h) => [range(s, l, h), range(s, 0, 1)] },
    layerNorm: { fn: (x) => F.layerNorm(x, [x.shape[1]!]).sum(), args: (s, l, h) => [range(s, l, h)] },
    cosineSimilarity: { fn: (a, b) => F.cosineSimilarity(a, b).sum(), args: (s, l, h) => [range(s, l, h), range(s, l, h)] },
    maskedSoftmax: {
      fn: (x) => x.maskedFill(tensor(Array.from({ length: x.numel }, (_, i) => i % 3 === 1 || i < x.shape[1]!), { shape: x.shape, dtype: "bool" }), -Infinity).softmax(1).sum(),
      args: (s, l, h) => [range(s, l, h)],
    },
    std: { fn: (x) => x.std(1).sum(), args: (s, l, h) => [range(s, l, h)] },
    norm: { fn: (x) => x.norm(2, 1).sum(), args: (s, l, h) => [range(s, l, h)] },
    logSigmoid: { fn: (x) => logSigmoid(x).sum(), args: (s, l, h) => [range(s, l, h)] },
  };
  const ranges = fc.record({
    rows: fc.integer({ min: 1, max: 4 }),
    cols: fc.integer({ min: 2, max: 6 }),
    low: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
    width: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e4, noNaN: true })),
  });
  for (const [name, { fn, args }] of Object.entries(safe)) {
    it(`${name}: no finding, forward or backward`, () => {
      fc.assert(
        fc.property(ranges, ({ rows, cols, low, width }) => {
          const r = audit(fn, args([rows, cols], low, low + width), { witness: false });
          if (r.findings.length) throw new Error(`${name} on [${low}, ${low + width}] (${rows}x${cols}):\n${r.toString()}`);
        }),
        { numRuns: 12, seed: name.length },
      );
    });
  }

  it("a classifier (MLP) trained with crossEntropy: no finding", () => {
    const model = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 4));
    const r = audit((x, y) => F.crossEntropy(model.forward(x), y), [range([5, 8], 0, 16), { shape: [5], low: 0, high: 3, dtype: "int32" }]);
    expect(r.findings).toEqual([]);
    expect(r.ops).toBeGreaterThan(10);
  });
});

describe("audit: inputs, options and state", () => {
  it("restores the engine's observer (anomaly mode stays as it was) and leaves parameters' .grad alone", () => {
    const model = new Linear(3, 2);
    audit((x) => model.forward(x).log().sum(), [range([2, 3], -1, 1)]);
    expect(isAnomalyEnabled()).toBe(false);
    expect(model.weight.grad).toBeNull();
  });

  it("a tensor argument is taken as it is; an example with a margin is a range around it", () => {
    const r1 = audit((x) => x.log().sum(), [tensor([1, 2, 3])]);
    expect(r1.findings).toEqual([]);
    const r2 = audit((x) => x.log().sum(), [{ example: tensor([1, 2, 3]), margin: 1 }], { witness: false });
    expect(only(r2.findings, "forward", "log").intervals[0]).toEqual([0, 4]);
  });

  it("parameters within a margin", () => {
    const lin = new Linear(2, 1);
    lin.weight.storage.fill(1);
    lin.bias!.storage.fill(1);
    const fn = (x: Tensor): Tensor => lin.forward(x).sqrt().sum();
    expect(audit(fn, [range([1, 2], 0, 1)], { witness: false }).findings).toEqual([]);
    only(audit(fn, [range([1, 2], 0, 1)], { parameterMargin: 2, witness: false }).findings, "forward", "sqrt");
  });

  it("toString names the op, the line, the interval, the witness and the hint", () => {
    const s = audit((x) => x.exp().sum(), [range([2], 0, 100)]).toString();
    expect(s).toMatch(/1 hazard/);
    expect(s).toMatch(/exp: can give \+Inf at .*audit\.test\.ts/);
    expect(s).toMatch(/inputs in \[0, 100\]/);
    expect(s).toMatch(/confirmed: \+Inf in a real run/);
    expect(s).toMatch(/hint: exp overflow/);
  });
});

describe("audit: the doctor scenarios, before they run", () => {
  it("predicts each static failure at the op the guard later names; the safe versions and the lr scenario are silent", async () => {
    const { scenarioAudits } = await import("../../examples/doctor-audit.js");
    for (const s of scenarioAudits) {
      const { bad, safe } = s.run();
      expect(safe.findings, s.name).toEqual([]);
      if (s.expectOp === null) expect(bad.findings, s.name).toEqual([]);
      else {
        const f = bad.findings.find((x) => x.op === s.expectOp);
        expect(f, s.name).toBeDefined();
        expect(f!.witness, s.name).not.toBeNull();
      }
    }
  });
});

describe("audit: Trainer's audit option", () => {
  it("audits the first batch's range before its step, puts back the RNG and the running statistics", async () => {
    const { Trainer, SGD, BatchNorm1d, Dropout, Module, manualSeed, randn, tensor: t } = await import("../../src/index.js");
    class Hand extends Module {
      lin = new Linear(4, 3);
      bn = new BatchNorm1d(3);
      drop = new Dropout(0.5);
      constructor() {
        super();
        this.registerModule("lin", this.lin);
        this.registerModule("bn", this.bn);
        this.registerModule("drop", this.drop);
      }
      forward(x: Tensor): Tensor {
        const h = this.drop.forward(this.bn.forward(this.lin.forward(x)));
        return h.sub(h.mean(1, true)).square().mean(1).sqrt().unsqueeze(1).mul(h); // a hand-written std
      }
    }
    manualSeed(5);
    const model = new Hand();
    const x = randn([6, 4]);
    const y = t([0, 1, 2, 0, 1, 2], { dtype: "int32" });
    const trainer = new Trainer({ model, loss: (o, tt) => F.crossEntropy(o, tt), optimizer: new SGD(model.parameters(), { lr: 0.1 }), audit: { quiet: true } });
    const before = Array.from(model.bn.runningMean!.toTypedArray() as Float32Array);
    // the same step without the audit, from the same seed: the same loss (the RNG was put back)
    manualSeed(9);
    const withAudit = trainer.trainStep(x, y).loss;
    expect(trainer.auditReport).not.toBeNull();
    only(trainer.auditReport!.findings, "backward", "sqrt");
    manualSeed(5);
    const model2 = new Hand();
    const plain = new Trainer({ model: model2, loss: (o, tt) => F.crossEntropy(o, tt), optimizer: new SGD(model2.parameters(), { lr: 0.1 }) });
    expect(Array.from(model2.bn.runningMean!.toTypedArray() as Float32Array)).toEqual(before);
    manualSeed(9);
    expect(plain.trainStep(x, y).loss).toBe(withAudit);
    expect(plain.auditReport).toBeNull();
    // one step's update of the running statistics each, not more for the audit's runs
    expect(Array.from(model.bn.runningMean!.toTypedArray() as Float32Array)).toEqual(Array.from(model2.bn.runningMean!.toTypedArray() as Float32Array));
  });
});

describe("audit: lanes beside intended infinities", () => {
  it("an elementwise op is checked lane by lane when some input lanes are -Infinity (a mask)", () => {
    const mask = tensor([[false, true, false]], { dtype: "bool" });
    const r = audit((x) => x.maskedFill(mask, -Infinity).add(0).log().sum(), [range([2, 3], 0, 1)], { witness: false });
    only(r.findings, "forward", "log");
    expect(audit((x) => x.maskedFill(mask, -Infinity).add(0).exp().sum(), [range([2, 3], 0, 1)], { witness: false }).findings).toEqual([]);
  });
});
