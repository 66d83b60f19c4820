/** Every scheduler of fixtures/optim.json, replayed through our classes and compared with torch 1.13. */
import { describe, expect, it } from "vitest";
import {
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  PolynomialLR,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
} from "../../src/optim/index.js";
import type { LRScheduler, LrLambda, SchedulableOptimizer } from "../../src/optim/index.js";
import { camelKeys, expectClose, fixture, param } from "./helpers.js";
import type { SchedulerSpec } from "./helpers.js";

/** The fixture's LambdaLR expressions, written out in TypeScript. */
const lambdas: Record<string, LrLambda> = {
  "0.95 ** t": (t) => 0.95 ** t,
  "1 / (1 + 0.05 * t)": (t) => 1 / (1 + 0.05 * t),
};

function makeSGD(baseLrs: number[]): SGD {
  return new SGD(
    baseLrs.map((lr, i) => ({ params: [param(new Float64Array(i + 2))], lr })),
    { lr: 0.1, momentum: 0.9 },
  );
}

type Ctor = new (opt: SchedulableOptimizer, options: never) => LRScheduler;
const simple: Record<string, Ctor> = {
  StepLR,
  MultiStepLR,
  ExponentialLR,
  ConstantLR,
  LinearLR,
  PolynomialLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  OneCycleLR,
} as unknown as Record<string, Ctor>;

function build(opt: SGD, spec: SchedulerSpec): LRScheduler {
  if (spec.scheduler === "SequentialLR") {
    const schedulers = spec.children!.map((c) => build(opt, c));
    return new SequentialLR(opt, { schedulers, milestones: spec.milestones! });
  }
  if (spec.scheduler === "LambdaLR") {
    return new LambdaLR(
      opt,
      spec.lambdas!.map((e) => {
        const f = lambdas[e];
        if (f === undefined) throw new Error(`no TypeScript version of lambda ${e}`);
        return f;
      }),
    );
  }
  const C = simple[spec.scheduler];
  if (C === undefined) throw new Error(`unknown scheduler ${spec.scheduler}`);
  return new C(opt, camelKeys(spec.kwargs ?? {}) as never);
}

describe("schedulers match torch 1.13", () => {
  const cases = fixture.schedulers.filter((c) => c.scheduler !== "ReduceLROnPlateau");
  it("fixture covers every scheduler", () => {
    const names = new Set(fixture.schedulers.map((c) => c.scheduler));
    for (const n of [...Object.keys(simple), "LambdaLR", "SequentialLR", "ReduceLROnPlateau"]) {
      expect(names.has(n), n).toBe(true);
    }
  });

  for (const c of cases) {
    it(`${c.name}: ${c.scheduler} over ${c.lrs.length} steps`, () => {
      const opt = makeSGD(c.base_lrs);
      const sched = build(opt, c);
      c.lrs.forEach((expected, k) => {
        if (k > 0) {
          opt.step();
          sched.step();
        }
        expectClose(sched.getLastLr(), expected, `${c.name} getLastLr at step ${k}`, 1e-6, 1e-15);
        expectClose(
          opt.paramGroups.map((g) => g.lr),
          expected,
          `${c.name} group lr at step ${k}`,
          1e-6,
          1e-15,
        );
        if (c.momentum !== undefined) {
          expectClose(
            opt.paramGroups.map((g) => g.momentum),
            c.momentum[k]!,
            `${c.name} momentum at step ${k}`,
          );
        }
      });
      expect(sched.lastEpoch).toBe(c.lrs.length - 1);
    });

    it(`${c.name}: resuming from stateDict mid-way gives the same rates`, () => {
      const opt = makeSGD(c.base_lrs);
      const sched = build(opt, c);
      const half = Math.floor(c.lrs.length / 2);
      for (let k = 1; k <= half; k++) sched.step();
      const sd = JSON.parse(JSON.stringify(sched.stateDict())) as ReturnType<LRScheduler["stateDict"]>;
      const opt2 = makeSGD(c.base_lrs);
      const sched2 = build(opt2, c);
      sched2.loadStateDict(sd);
      expectClose(sched2.getLastLr(), c.lrs[half]!, `${c.name} after load`, 1e-6, 1e-15);
      for (let k = half + 1; k < c.lrs.length; k++) {
        sched2.step();
        expectClose(sched2.getLastLr(), c.lrs[k]!, `${c.name} resumed step ${k}`, 1e-6, 1e-15);
      }
    });
  }

  for (const c of fixture.schedulers.filter((x) => x.scheduler === "ReduceLROnPlateau")) {
    it(`${c.name}: ReduceLROnPlateau(${JSON.stringify(c.kwargs)})`, () => {
      const opt = makeSGD(c.base_lrs);
      const sched = new ReduceLROnPlateau(opt, camelKeys(c.kwargs ?? {}));
      c.metrics!.forEach((m, k) => {
        sched.step(m);
        expectClose(sched.getLastLr(), c.lrs[k]!, `${c.name} after metric ${k}`, 1e-12, 0);
      });
      // the sequences were chosen so that the lr actually drops
      expect(c.lrs.at(-1)![0]).toBeLessThan(c.base_lrs[0]!);
    });

    it(`${c.name}: stateDict round trip mid-way continues identically`, () => {
      const opt = makeSGD(c.base_lrs);
      const sched = new ReduceLROnPlateau(opt, camelKeys(c.kwargs ?? {}));
      const half = 13;
      c.metrics!.slice(0, half).forEach((m) => sched.step(m));
      const sd = sched.stateDict();
      const opt2 = makeSGD(c.base_lrs);
      opt2.paramGroups.forEach((g, i) => (g.lr = opt.paramGroups[i]!.lr));
      const sched2 = new ReduceLROnPlateau(opt2, {});
      sched2.loadStateDict(sd);
      c.metrics!.slice(half).forEach((m, j) => {
        sched2.step(m);
        expectClose(sched2.getLastLr(), c.lrs[half + j]!, `${c.name} resumed ${half + j}`, 1e-12, 0);
      });
    });
  }
});
