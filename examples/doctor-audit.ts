/**
 * The static audit of the four doctor scenarios (examples/doctor-scenarios.ts), before any of them
 * runs: the same models and losses, audited on digit images with pixels anywhere in [0, 16] and any
 * class (or any target in [0, 16]). `npm run doctor -- --audit` prints them first, and
 * test/guard/audit.test.ts checks that each static failure is predicted at the op the guard later
 * names, and that the safe versions are silent.
 */
import { Conv2d, Linear, Module, ReLU, Sequential, audit, crossEntropy, l1Loss, manualSeed, normalize, stdPool, type AuditInput, type AuditReport, type Tensor } from "../src/node.js";

export interface ScenarioAudit {
  /** The scenario's name, as in doctor-scenarios.ts. */
  name: string;
  /** The op the audit must flag in the failing version (null: no static hazard). */
  expectOp: string | null;
  /** The audits of the failing and the safe version. */
  run(): { bad: AuditReport; safe: AuditReport };
  /** The models built, the two audits' functions and inputs, not yet run (bench/audit.ts times each audit). */
  cases(): { bad: AuditCase; safe: AuditCase };
}

/** What one audit is given: fn (a model and its loss) and its inputs. */
export interface AuditCase {
  fn: (...args: Tensor[]) => Tensor;
  inputs: AuditInput[];
}

/** A scenario from its cases: run() builds the models and runs both audits. */
const scenario = (name: string, expectOp: string | null, cases: ScenarioAudit["cases"]): ScenarioAudit => ({
  name,
  expectOp,
  cases,
  run() {
    const c = cases();
    const bad = audit(c.bad.fn, c.bad.inputs);
    return { bad, safe: c.safe === c.bad ? bad : audit(c.safe.fn, c.safe.inputs) };
  },
});

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

const images = (shape: number[]): AuditInput => ({ shape, low: 0, high: 16 });
const classes: AuditInput = { shape: [8], low: 0, high: 9, dtype: "int32" };

export const scenarioAudits: ScenarioAudit[] = [
  // The step size is not in one pass: a static audit sees a safe model (crossEntropy from logits).
  scenario("too high a learning rate in a deep net", null, () => {
    manualSeed(1);
    const layers: Module[] = [new Linear(64, 128), new ReLU()];
    for (let i = 0; i < 3; i++) layers.push(new Linear(128, 128), new ReLU());
    layers.push(new Linear(128, 10));
    const m = new Sequential(...(layers as [Module]));
    const one: AuditCase = { fn: (x, y) => crossEntropy(m.forward(x), y), inputs: [images([8, 64]), classes] };
    return { bad: one, safe: one };
  }),
  scenario("a hand-written L2 normalization of a vector that becomes zero", "div", () => {
    const make = (middle: (h: Tensor) => Tensor): Net => {
      manualSeed(2);
      return new Net(new Sequential(new Linear(64, 32, { bias: false }), new ReLU()), new Linear(32, 10), middle);
    };
    const bad = make((h) => h.div(h.norm(2, 1, true)));
    const safe = make((h) => normalize(h, { dim: 1 }));
    return {
      bad: { fn: (x, y) => crossEntropy(bad.forward(x), y), inputs: [images([8, 64]), classes] },
      safe: { fn: (x, y) => crossEntropy(safe.forward(x), y), inputs: [images([8, 64]), classes] },
    };
  }),
  scenario("a hand-written std-pooling of a constant vector", "sqrt", () => {
    const make = (pool: (h: Tensor) => Tensor): Net => {
      manualSeed(3);
      return new Net(new Sequential(new Conv2d(1, 1, 1)), new Linear(8, 10), (h) => pool(h.reshape([-1, 8, 8])));
    };
    const bad = make((h) => h.sub(h.mean(2, true)).square().mean(2).sqrt());
    const safe = make((h) => stdPool(h, { dim: 2 }));
    return {
      bad: { fn: (x, y) => crossEntropy(bad.forward(x), y), inputs: [images([8, 1, 8, 8]), classes] },
      safe: { fn: (x, y) => crossEntropy(safe.forward(x), y), inputs: [images([8, 1, 8, 8]), classes] },
    };
  }),
  scenario("a hand-written MAE as sqrt((y - t)²)", "sqrt", () => {
    const make = (): Linear => {
      const m = new Linear(64, 1);
      m.weight.storage.fill(0);
      m.bias!.storage.fill(0);
      return m;
    };
    const bad = make();
    const safe = make();
    const targets: AuditInput = { shape: [8, 1], low: 0, high: 16 };
    return {
      bad: { fn: (x, t) => bad.forward(x).sub(t).square().sqrt().mean(), inputs: [images([8, 64]), targets] },
      safe: { fn: (x, t) => l1Loss(safe.forward(x), t), inputs: [images([8, 64]), targets] },
    };
  }),
];
