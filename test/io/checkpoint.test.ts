/**
 * restoreCheckpoint: refused inputs name what is wrong, and a refused restore changes nothing
 * (model weights, optimizer state, scheduler, generators), even when the part that refuses comes
 * after parts that had already accepted theirs.
 */
import { describe, expect, it } from "vitest";
import {
  Adam, CheckpointError, Generator, Linear, OptimizerError, Sequential, StepLR, Tanh, restoreCheckpoint, serializeCheckpoint, serialize, tensor,
  type Module,
} from "../../src/index.js";
import type { CheckpointScheduler } from "../../src/io/index.js";

function setup(seed: number) {
  const g = new Generator(seed);
  const model = new Sequential(new Linear(3, 4, { generator: g }), new Tanh(), new Linear(4, 2, { generator: g }));
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
  // one real step, so the optimizer has moments and the scheduler has moved
  model.forward(tensor([[1, 2, 3]])).sum().backward();
  opt.step();
  sched.step();
  return { model, opt, sched, g };
}

const snapshot = (m: Module) => [...m.stateDict()].map(([k, t]) => [k, Array.from(t.storage)]);

describe("restoreCheckpoint", () => {
  it("restores model, optimizer, scheduler and generators", () => {
    const a = setup(1);
    const ckpt = serializeCheckpoint({ model: a.model, optimizer: a.opt, scheduler: a.sched, rng: { g: a.g }, step: 3 });
    const b = setup(2);
    const { step } = restoreCheckpoint(ckpt, { model: b.model, optimizer: b.opt, scheduler: b.sched, rng: { g: b.g } });
    expect(step).toBe(3);
    expect(snapshot(b.model)).toEqual(snapshot(a.model));
    expect(b.g.getState()).toEqual(a.g.getState());
    expect(b.sched.stateDict()).toEqual(a.sched.stateDict());
  });

  it("refuses what is not a checkpoint, and a checkpoint lacking a part it is asked for", () => {
    const a = setup(1);
    expect(() => restoreCheckpoint(serialize({ w: tensor([1]) }), { model: a.model })).toThrow(CheckpointError);
    expect(() => restoreCheckpoint(serialize({ w: tensor([1]) }), { model: a.model })).toThrow(/not a safegrad checkpoint/);
    const modelOnly = serializeCheckpoint({ model: a.model });
    expect(() => restoreCheckpoint(modelOnly, { model: a.model, optimizer: a.opt })).toThrow(/no optimizer state/);
    expect(() => restoreCheckpoint(modelOnly, { model: a.model, scheduler: a.sched })).toThrow(/no scheduler state/);
    expect(() => restoreCheckpoint(modelOnly, { model: a.model, rng: { g: a.g } })).toThrow(/no state for generator "g"/);
  });

  it("all or nothing: an optimizer that refuses its state leaves the model as it was", () => {
    const a = setup(1);
    const ckpt = serializeCheckpoint({ model: a.model, optimizer: a.opt });
    const b = setup(2);
    // an optimizer over two parameter groups cannot take the one-group state
    const ps = b.model.parameters();
    const opt2 = new Adam([{ params: ps.slice(0, 2) }, { params: ps.slice(2) }]);
    const before = snapshot(b.model);
    expect(() => restoreCheckpoint(ckpt, { model: b.model, optimizer: opt2 })).toThrow(OptimizerError);
    expect(snapshot(b.model)).toEqual(before);
    expect(snapshot(b.model)).not.toEqual(snapshot(a.model)); // so the check above can fail
  });

  it("all or nothing: a part that refuses last puts back the model, the optimizer and the generators", () => {
    const a = setup(1);
    const ckpt = serializeCheckpoint({ model: a.model, optimizer: a.opt, scheduler: a.sched, rng: { g: a.g } });
    const b = setup(2);
    const refusing: CheckpointScheduler = {
      stateDict: () => ({ mine: true }),
      loadStateDict: (sd: unknown) => {
        if (!(sd as { mine?: boolean }).mine) throw new Error("not my state");
      },
    };
    const model = snapshot(b.model);
    const opt = structuredClone(b.opt.stateDict());
    const g = b.g.getState();
    expect(() => restoreCheckpoint(ckpt, { model: b.model, optimizer: b.opt, scheduler: refusing, rng: { g: b.g } })).toThrow("not my state");
    expect(snapshot(b.model)).toEqual(model);
    expect(b.opt.stateDict()).toEqual(opt);
    expect(b.g.getState()).toEqual(g);
  });

  it("a diverged model (NaN weights) is put back as it was when the restore fails", () => {
    const a = setup(1);
    const ckpt = serializeCheckpoint({ model: a.model, optimizer: a.opt });
    const b = setup(2);
    b.model.parameters()[0]!.storage[0] = NaN;
    const ps = b.model.parameters();
    const opt2 = new Adam([{ params: ps.slice(0, 2) }, { params: ps.slice(2) }]);
    expect(() => restoreCheckpoint(ckpt, { model: b.model, optimizer: opt2 })).toThrow(OptimizerError);
    expect(b.model.parameters()[0]!.storage[0]).toBeNaN();
  });
});
