import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { Tensor, tensor } from "../../src/index.js";
import { currentVjp } from "../../src/autograd/engine.js";
import type { Node } from "../../src/autograd/node.js";
import { detectAnomaly, isAnomalyEnabled, setDetectAnomaly } from "../../src/guard/anomaly.js";
import { AnomalyError } from "../../src/guard/report.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import type { Backend } from "../../src/kernels/backend.js";
import type { TypedArray } from "../../src/tensor/dtype.js";

function report(fn: () => void) {
  try {
    detectAnomaly(fn);
  } catch (e) {
    if (e instanceof AnomalyError) return e.report;
    throw e;
  }
  throw new Error("no anomaly was reported");
}

afterEach(() => {
  setDetectAnomaly(false);
  sg.setBackend("js");
});

describe("anomaly detection: reports", () => {
  it("names the op, the phase, the call site and whether the op created the value", () => {
    const r = report(() => {
      const x = tensor([1, 104], { requiresGrad: true });
      x.exp().sum().backward();
    });
    expect(r.phase).toBe("forward");
    expect(r.op).toBe("exp");
    expect(r.created).toBe(true);
    expect(r.kind).toBe("+Inf");
    expect(r.callSite).toMatch(/anomaly\.test\.ts/);
    expect(r.inputs[0]!.max).toBe(104);
    const text = r.toString();
    expect(text).toMatch(/\+Inf in the forward pass, at op exp/);
    const json = r.toJSON();
    expect(json.op).toBe("exp");
    expect(JSON.stringify(json)).toContain("exp overflow");
  });

  it("follows a value that was passed on back to the leaf that held it", () => {
    const w = tensor([1, NaN], { requiresGrad: true });
    w.name = "fc1.weight";
    const r = report(() => w.mul(2).sum().backward());
    expect(r.created).toBe(false);
    expect(r.origin).toMatchObject({ kind: "input", name: '"fc1.weight"' });
    expect(r.hint?.hazard).toBe("non-finite input");
  });

  it("follows a value created while detection was off back to the op that created it", () => {
    const x = tensor([0, 1], { requiresGrad: true });
    const y = x.log(); // -inf, not checked: detection is off
    const r = report(() => y.mul(2).sum().backward());
    expect(r.created).toBe(false);
    expect(r.origin).toMatchObject({ kind: "op", op: "log" });
  });

  it("checks Inf as well as NaN, and the backward pass", () => {
    const r = report(() => {
      const x = tensor([0, 1], { requiresGrad: true });
      x.sqrt().sum().backward();
    });
    expect(r.phase).toBe("backward");
    expect(r.op).toBe("sqrt");
    expect(r.kind).toBe("+Inf");
    // The forward input of sqrt (the 0 that makes its derivative infinite) is in the report.
    expect(r.forwardInputs?.[0]?.zeros).toBe(1);
    expect(r.toString()).toMatch(/forward inputs of sqrt:\n    0: \[2\] float32: min 0, max 1, 1 zeros/);
  });

  it("stays silent for a -Infinity attention mask fed to softmax and logsumexp", () => {
    detectAnomaly(() => {
      const scores = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
      const mask = tensor([[0, -Infinity, 0], [-Infinity, 0, 0]]).markAllowNonFinite();
      const s = scores.add(mask);
      s.softmax(-1).mul(tensor([[1, 2, 3]])).sum().add(s.logsumexp(-1).sum()).backward();
      expect(scores.grad!.toTypedArray().every(Number.isFinite)).toBe(true);
    });
  });

  it("still reports a NaN made from an allowed infinity (an all-masked row)", () => {
    const r = report(() => {
      const mask = tensor([-Infinity, -Infinity]).markAllowNonFinite();
      mask.sub(mask);
    });
    expect(r.kind).toBe("NaN");
    expect(r.op).toBe("sub");
  });

  it("setDetectAnomaly toggles globally and detectAnomaly restores the state", () => {
    expect(isAnomalyEnabled()).toBe(false);
    setDetectAnomaly(true);
    expect(() => tensor([-1]).log()).toThrow(AnomalyError);
    setDetectAnomaly(false);
    expect(tensor([-1]).log().toTypedArray()[0]).toBeNaN();
    expect(() => detectAnomaly(() => { throw new Error("x"); })).toThrow("x");
    expect(isAnomalyEnabled()).toBe(false);
  });

  it("draws the graph around the birth as Graphviz text and SVG", () => {
    const r = report(() => {
      const x = tensor([2, 2, 2], { requiresGrad: true });
      x.name = "x";
      x.sub(x.mean()).square().mean().sqrt().mul(3).sum().backward();
    });
    const dot = r.toDot();
    expect(dot).toMatch(/^digraph anomaly \{/);
    expect(dot).toContain("sqrt backward (div)");
    expect(dot).toContain("(loss)");
    const svg = r.toSVG();
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("#cc0000");
    expect(svg.match(/<rect/g)!.length).toBeGreaterThanOrEqual(3);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
  });
});

describe("hint rules: each triggers on its hazard", () => {
  const cases: [string, () => void, RegExp][] = [
    ["sqrt backward at 0", () => { const x = tensor([2, 2, 2], { requiresGrad: true }); x.sub(x.mean()).square().mean().sqrt().backward(); }, /put eps inside the sqrt/],
    ["division by zero", () => { const x = tensor([0, 0], { requiresGrad: true }); x.div(x.norm()).sum().backward(); }, /normalize\(x, \{ eps \}\)/],
    ["exp overflow", () => tensor([104]).exp(), /input 104 > 88\.7 for float32/],
    ["exp overflow", () => tensor([710], { dtype: "float64" }).exp(), /> 709\.8 for float64/],
    ["log(0)", () => tensor([0, 1]).log(), /use logSoftmax/],
    ["log of a negative number", () => tensor([-1, 1]).log(), /negative/],
    ["sqrt of a negative number", () => tensor([-1]).sqrt(), /clamp/],
    ["overflow", () => tensor([3e38]).mul(10), /exceed the largest float32/],
    ["non-finite input", () => tensor([NaN]).mul(1), /already held NaN/],
    ["sqrt backward at 0", () => { const y = tensor([1, 2], { requiresGrad: true }); y.sub(tensor([1, 2])).square().sqrt().mean().backward(); }, /\(MAE\) written as sqrt\(d²\).*use abs\(\) or l1Loss/],
  ];
  it("the where() trap is no longer an anomaly: the engine gives the unselected lane a zero gradient", () => {
    const x = tensor([0, 4], { requiresGrad: true });
    detectAnomaly(() => sg.where(x.gt(0), x.sqrt(), 0).sum().backward());
    expect(x.grad!.toArray()).toEqual([0, 0.25]);
  });
  for (const [hazard, fn, text] of cases) {
    it(`${hazard}: ${text.source}`, () => {
      const r = report(fn);
      expect(r.hint?.hazard).toBe(hazard);
      expect(r.hint?.fix).toMatch(text);
    });
  }
});

// ---------------------------------------------------------------- fault injection
/** A backend that poisons the output of one kernel call when armed. */
function poisoningBackend(): Backend & { arm(pred: () => boolean, value: number, seed: number): void; fired: boolean } {
  let pred: (() => boolean) | null = null;
  let value = NaN;
  let seed = 0;
  const state = { fired: false };
  const poison = <T extends TypedArray>(a: T): T => {
    if (pred && pred() && a instanceof Float32Array || pred && pred() && a instanceof Float64Array) {
      if (a.length > 0) {
        a[seed % a.length] = value;
        pred = null;
        state.fired = true;
      }
    }
    return a;
  };
  const b: any = { name: "poison" };
  for (const k of Object.keys(referenceBackend) as (keyof Backend)[]) {
    const f = (referenceBackend as any)[k];
    if (typeof f === "function") b[k] = (...args: unknown[]) => {
      const r = f.apply(referenceBackend, args);
      return r && ArrayBuffer.isView(r) ? poison(r as TypedArray) : r;
    };
  }
  b.arm = (p: () => boolean, v: number, s: number) => { pred = p; value = v; seed = s; state.fired = false; };
  Object.defineProperty(b, "fired", { get: () => state.fired });
  return b;
}

type Step = { name: string; apply: (x: Tensor, w: Tensor) => Tensor };
// Primitive ops only: each issues its kernel call first, so a poisoned call belongs to that op.
const STEPS: Step[] = [
  { name: "exp", apply: (x) => x.tanh().exp() },
  { name: "tanh", apply: (x) => x.tanh() },
  { name: "sin", apply: (x) => x.sin() },
  { name: "sigmoid", apply: (x) => x.sigmoid() },
  { name: "square", apply: (x) => x.tanh().square() },
  { name: "mul", apply: (x, w) => x.mul(w) },
  { name: "add", apply: (x, w) => x.add(w) },
  { name: "sub", apply: (x, w) => x.sub(w) },
  { name: "matmul", apply: (x, w) => x.matmul(w.transpose(0, 1)).div(4) },
  { name: "relu", apply: (x) => x.relu() },
  { name: "softplus", apply: (x) => x.softplus() },
  { name: "maximum", apply: (x, w) => x.maximum(w) },
];

describe("fault injection: the detector names the op where a NaN/Inf was planted", () => {
  const caseArb = fc.record({
    ops: fc.array(fc.integer({ min: 0, max: STEPS.length - 1 }), { minLength: 1, maxLength: 6 }),
    at: fc.nat(),
    backward: fc.boolean(),
    value: fc.constantFrom(NaN, Infinity, -Infinity),
    seed: fc.nat(1000),
  });

  it("names the planted op in every one of at least 1,000 random graphs with a planted fault (forward and backward)", () => {
    const backend = poisoningBackend();
    sg.registerBackend(backend);
    let checked = 0;
    fc.assert(
      fc.property(caseArb, ({ ops, at, backward, value, seed }) => {
        sg.setBackend("poison");
        const k = at % ops.length;
        const gen = new sg.Generator(seed);
        const x0 = sg.randn([4, 4], { generator: gen, requiresGrad: true });
        const w = sg.randn([4, 4], { generator: gen, requiresGrad: true });
        let planted: Node | null = null;
        let x = x0;
        try {
          detectAnomaly(() => {
            ops.forEach((o, i) => {
              const step = STEPS[o]!;
              if (!backward && i === k) {
                // Poison the op's own kernel: skip the helper calls some steps make first.
                const pre = step.name === "exp" || step.name === "square" ? x.tanh() : null;
                const inp = pre ?? x;
                backend.arm(() => true, value, seed);
                x = step.name === "exp" ? inp.exp() : step.name === "square" ? inp.square() : step.name === "matmul" ? inp.matmul(w.transpose(0, 1)) : step.apply(inp, w);
                if (step.name === "matmul") x = x.div(4);
              } else {
                x = step.apply(x, w);
                if (backward && i === k) {
                  planted = (step.name === "matmul" ? x.gradFn!.inputs[0]!.gradFn : x.gradFn) as Node;
                }
              }
            });
            if (backward) {
              const target = planted!;
              backend.arm(() => currentVjp()?.node === target, value, seed);
            }
            x.sum().backward();
          });
        } catch (e) {
          if (!(e instanceof AnomalyError)) throw e;
          const r = e.report;
          const want = backward ? planted!.op : STEPS[ops[k]!]!.name;
          expect(backend.fired).toBe(true);
          expect(r.phase).toBe(backward ? "backward" : "forward");
          expect(r.op).toBe(want);
          checked++;
          return;
        } finally {
          sg.setBackend("js");
        }
        // No exception: then nothing may have been planted (some VJPs, e.g. add's, call no kernel),
        // or the fault sat only in lanes of an elementwise op whose incoming gradient is 0, which the
        // engine masks to an exact 0 (the where() trap rule): then every gradient is finite.
        const masked = backward && planted !== null && (planted as Node).def.elementwise === true;
        expect(!backend.fired || masked).toBe(true);
        expect(allFiniteGrads([x0, w])).toBe(true);
      }),
      { numRuns: 1200, seed: 42 },
    );
    // Every planted fault was named (a miss fails above); at least 1,000 were planted.
    expect(checked).toBeGreaterThanOrEqual(1000);
  });

  it("reports nothing on 1,000 random graphs without a planted fault", () => {
    fc.assert(
      fc.property(caseArb, ({ ops, seed }) => {
        const gen = new sg.Generator(seed);
        const x0 = sg.randn([4, 4], { generator: gen, requiresGrad: true });
        const w = sg.randn([4, 4], { generator: gen, requiresGrad: true });
        const mask = tensor([0, -Infinity, 0, 0]).markAllowNonFinite();
        detectAnomaly(() => {
          let x = x0;
          for (const o of ops) x = STEPS[o]!.apply(x, w);
          x.add(mask).softmax(-1).sum().add(x.add(mask).logsumexp(-1).sum()).backward();
        });
        expect(allFiniteGrads([x0, w])).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

function allFiniteGrads(ts: Tensor[]): boolean {
  return ts.every((t) => !t.grad || Array.from(t.grad.toTypedArray()).every(Number.isFinite));
}
