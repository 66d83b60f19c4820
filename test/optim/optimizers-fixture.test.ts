/**
 * Replays the gradients recorded by scripts/fixtures/optim.py through our optimizers on float64
 * parameters and compares every step with torch 1.13.
 */
import { describe, expect, it } from "vitest";
import { Adagrad, Adam, AdamW, RMSprop, SGD } from "../../src/optim/index.js";
import type { OptimizerStateDict, ParamLike } from "../../src/optim/index.js";
import { camelKeys, expectClose, fixture, param, setGrad } from "./helpers.js";
import type { OptimizerCase } from "./helpers.js";

interface AnyOptimizer {
  step(): void;
  loadStateDict(sd: OptimizerStateDict): void;
  stateDict(): OptimizerStateDict;
}

const classes = { SGD, Adam, AdamW, RMSprop, Adagrad } as const;

/** torch kwargs / group overrides → our options (camelCase keys; tuples are already arrays). */
function options(o: Record<string, unknown>): Record<string, unknown> {
  return camelKeys(o);
}

function build(c: OptimizerCase, ps: ParamLike[]): AnyOptimizer {
  const Ctor = classes[c.optimizer] as unknown as new (params: unknown, options: unknown) => AnyOptimizer;
  const spec =
    c.groups === undefined
      ? ps
      : c.groups.map(({ params, ...rest }) => ({ params: params.map((i) => ps[i]!), ...options(rest) }));
  return new Ctor(spec, options(c.kwargs));
}

function replay(c: OptimizerCase, opt: AnyOptimizer, ps: ParamLike[], from: number): void {
  for (let k = from; k < c.grads.length; k++) {
    c.grads[k]!.forEach((g, i) => setGrad(ps[i]!, g));
    opt.step();
    ps.forEach((p, i) => expectClose(p.storage, c.params[k]![i]!, `${c.name} step ${k + 1} param ${i}`));
  }
}

describe("optimizers match torch 1.13 (float64 fixture)", () => {
  it("fixture covers every variant", () => {
    expect(fixture.optimizers.length).toBeGreaterThanOrEqual(18);
    for (const c of fixture.optimizers) expect(c.grads).toHaveLength(25);
  });

  for (const c of fixture.optimizers) {
    it(`${c.name}: ${c.optimizer}(${JSON.stringify(c.kwargs)}) over ${c.grads.length} steps`, () => {
      const ps = c.init.map((v, i) => param(v, c.shapes[i]));
      replay(c, build(c, ps), ps, 0);
    });
  }

  for (const c of fixture.optimizers.filter((x) => x.state_dict !== undefined)) {
    it(`${c.name}: loads torch's state_dict at step ${c.state_dict!.at_step} and continues identically`, () => {
      const at = c.state_dict!.at_step;
      const ps = c.params[at - 1]!.map((v, i) => param(v, c.shapes[i]));
      const opt = build(c, ps);
      opt.loadStateDict(c.state_dict!.dict as unknown as OptimizerStateDict);
      replay(c, opt, ps, at);
    });

    it(`${c.name}: our stateDict at step ${c.state_dict!.at_step} equals torch's (keys and values)`, () => {
      const at = c.state_dict!.at_step;
      const ps = c.init.map((v, i) => param(v, c.shapes[i]));
      const opt = build(c, ps);
      for (let k = 0; k < at; k++) {
        c.grads[k]!.forEach((g, i) => setGrad(ps[i]!, g));
        opt.step();
      }
      const ours = opt.stateDict();
      const torch = c.state_dict!.dict;
      expect(Object.keys(ours.state).sort()).toEqual(Object.keys(torch.state).sort());
      for (const [idx, entry] of Object.entries(torch.state)) {
        const mine = (ours.state as Record<string, Record<string, unknown>>)[idx]!;
        expect(Object.keys(mine).sort(), `state[${idx}] keys`).toEqual(Object.keys(entry).sort());
        for (const [key, value] of Object.entries(entry)) {
          if (typeof value === "number") expect(mine[key], `state[${idx}].${key}`).toBe(value);
          else expectClose(mine[key] as Float64Array, value as number[], `state[${idx}].${key}`);
        }
      }
      torch.param_groups.forEach((raw, g) => {
        const mine = ours.param_groups[g]!;
        for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
          if (["foreach", "differentiable", "capturable", "fused"].includes(key)) continue;
          expect(mine[key], `param_groups[${g}].${key}`).toEqual(value);
        }
      });
    });
  }
});
