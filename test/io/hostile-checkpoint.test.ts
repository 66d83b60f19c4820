/**
 * Hostile checkpoints (issue 13, items 1-3): names that reach a prototype, poisoned generator
 * states and malformed metadata are refused with typed errors, and a refused restore changes
 * nothing. (Items 4 and 5 are in hostile.test.ts and checkpoint-crash.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  Adam, CheckpointError, Generator, Linear, SafegradError, Sequential, StepLR, Tanh, ValueError, deserialize, restoreCheckpoint, serialize,
  serializeCheckpoint, tensor, type TensorRecord,
} from "../../src/index.js";

const META = "safegrad.checkpoint";

function setup(seed: number) {
  const g = new Generator(seed);
  const model = new Sequential(new Linear(3, 4, { generator: g }), new Tanh(), new Linear(4, 2, { generator: g }));
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
  model.forward(tensor([[1, 2, 3]])).sum().backward();
  opt.step();
  sched.step();
  g.normal(); // a cached second normal in the state
  return { model, opt, sched, g, parts: { model, optimizer: opt, scheduler: sched, rng: { g } } };
}

type Parts = ReturnType<typeof setup>;
/** Everything a restore could change, as plain data. */
const snapshot = (p: Parts) =>
  JSON.stringify({
    model: [...p.model.stateDict()].map(([k, t]) => [k, Array.from(t.storage)]),
    opt: p.opt.stateDict(),
    lrs: p.opt.paramGroups.map((gr) => gr.lr),
    sched: p.sched.stateDict(),
    g: p.g.getState(),
  }, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));

/** A real checkpoint, rewritten: `edit` may change the tensors and the parsed metadata in place, or return new metadata text. */
function rewrite(edit: (tensors: Map<string, TensorRecord>, meta: any) => string | void): Uint8Array {
  const a = setup(1);
  const file = deserialize(serializeCheckpoint({ ...a.parts, step: 3, extra: { note: "x" } }));
  const tensors = new Map(Object.entries(file.tensors));
  const meta = JSON.parse(file.metadata[META]!);
  const text = edit(tensors, meta) ?? JSON.stringify(meta);
  return serialize(tensors, { metadata: { [META]: text } });
}

/** Restores `bytes` into fresh parts: expects a refusal of type `type`, and every part as it was. */
function expectRefused(bytes: Uint8Array, type: new (...a: never[]) => Error = CheckpointError, message?: RegExp): Error {
  const b = setup(2);
  const before = snapshot(b);
  let caught: unknown;
  try {
    restoreCheckpoint(bytes, b.parts);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(type);
  expect(caught).toBeInstanceOf(SafegradError);
  if (message) expect((caught as Error).message).toMatch(message);
  expect(snapshot(b)).toBe(before);
  return caught as Error;
}

const realAssign = Object.assign;
const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort().join(",");
const cleanProtoKeys = protoKeys();

afterEach(() => {
  // Undo any pollution (before the fix), so one failure does not break the rest of the suite.
  for (const k of Object.getOwnPropertyNames(Object.prototype)) if (!cleanProtoKeys.split(",").includes(k)) delete (Object.prototype as any)[k];
  Object.assign = realAssign;
});

describe("item 1: names that could reach a prototype", () => {
  const data = (): TensorRecord => ({ dtype: "float32", shape: [1], data: new Float32Array([1]) });

  it("optimizer/__proto__/isAdmin is refused, naming the key, and pollutes nothing", () => {
    const bytes = rewrite((t) => void t.set("optimizer/__proto__/isAdmin", data()));
    expectRefused(bytes, CheckpointError, /optimizer\/__proto__\/isAdmin.*"__proto__" is not allowed/);
    expect(({} as any).isAdmin).toBeUndefined();
    expect(protoKeys()).toBe(cleanProtoKeys);
  });

  it("optimizer/constructor/assign is refused and Object.assign stays the real one", () => {
    const bytes = rewrite((t) => void t.set("optimizer/constructor/assign", data()));
    expectRefused(bytes, CheckpointError, /"constructor" is not allowed/);
    expect(Object.assign).toBe(realAssign);
    expect(Object.assign({}, { a: 1 })).toEqual({ a: 1 });
  });

  it("refuses __proto__, constructor and prototype at every level of a tensor name", () => {
    for (const bad of ["__proto__", "constructor", "prototype"]) {
      for (const name of [`optimizer/0/${bad}`, `optimizer/${bad}/exp_avg`, `${bad}/0/exp_avg`, `model/${bad}`, `optimizer/0/${bad}/x`]) {
        expectRefused(rewrite((t) => void t.set(name, data())), CheckpointError, new RegExp(`"${bad}" is not allowed`));
      }
    }
    expect(protoKeys()).toBe(cleanProtoKeys);
    expect(Object.assign).toBe(realAssign);
  });

  it("refuses such keys in the metadata JSON too (optimizer state, scheduler, generators, extra)", () => {
    const cases: ((meta: any) => string | void)[] = [
      () => undefined, // control: the unedited checkpoint restores
      (m) => JSON.stringify(m).replace(`"state":{`, `"state":{"__proto__":{"isAdmin":true},`),
      (m) => JSON.stringify(m).replace(`"state":{"0":{`, `"state":{"0":{"__proto__":{"isAdmin":true},`),
      (m) => JSON.stringify(m).replace(`"scheduler":{`, `"scheduler":{"__proto__":{"last_epoch":5},`),
      (m) => JSON.stringify(m).replace(`"rng":{`, `"rng":{"constructor":[1,2,3,4,null],`),
      (m) => JSON.stringify(m).replace(`"extra":{`, `"extra":{"prototype":1,`),
    ];
    cases.forEach((edit, i) => {
      const bytes = rewrite((_, m) => edit(m));
      if (i === 0) restoreCheckpoint(bytes, setup(2).parts);
      else expectRefused(bytes, CheckpointError, /is not allowed in checkpoint metadata/);
    });
    expect(({} as any).isAdmin).toBeUndefined();
    expect(protoKeys()).toBe(cleanProtoKeys);
  });

  it("serializeCheckpoint refuses to write what restoreCheckpoint would refuse", () => {
    const a = setup(1);
    expect(() => serializeCheckpoint({ model: a.model, extra: JSON.parse(`{"__proto__":{"x":1}}`) })).toThrow(CheckpointError);
    expect(() => serializeCheckpoint({ model: a.model, extra: { constructor: 1 } })).toThrow(CheckpointError);
  });
});

describe("item 2: poisoned generator states", () => {
  it("Generator.setState refuses invalid states with a ValueError and keeps its state", () => {
    const g = new Generator(5);
    const before = g.getState();
    const bad: unknown[] = [
      [0, 0, 0, 0, NaN], // all zero: xoshiro would give 0 forever and normal() looped forever
      [0, 0, 0, 0, 0.5],
      [NaN, 1, 2, 3, NaN],
      [1.5, 1, 2, 3, NaN],
      [-1, 1, 2, 3, NaN],
      [2 ** 32, 1, 2, 3, NaN],
      [Infinity, 1, 2, 3, NaN],
      ["1", 1, 2, 3, NaN],
      [1, 2, 3, 4],
      [1, 2, 3, 4, NaN, 6],
      [1, 2, 3, 4, Infinity],
      [1, 2, 3, 4, 1e300],
      [1, 2, 3, 4, "0.5"],
      [1, 2, 3, 4, null],
      null,
      "12345",
    ];
    for (const s of bad) {
      expect(() => g.setState(s as number[]), JSON.stringify(s)).toThrow(ValueError);
      expect(g.getState()).toEqual(before);
    }
    g.setState([1, 0, 0, 0, NaN]); // one non-zero word is a valid state
    expect(Number.isFinite(g.normal())).toBe(true);
  });

  it("a checkpoint with an all-zero (or otherwise invalid) generator state is refused, changing nothing", () => {
    for (const st of [[0, 0, 0, 0, null], [0, 0, 0, 0, 0.25], [1, 2, 3, 4.5, null], [1, 2, 3, -4, null], [1, 2, 3, 2 ** 32, null], [1, 2, 3, 4, 1e9]]) {
      const bytes = rewrite((_, m) => void (m.rng.g = st));
      expectRefused(bytes, ValueError, /Generator\.setState/);
    }
  });
});

describe("item 3: malformed metadata gives a CheckpointError, never a bare TypeError", () => {
  const malformed: [string, (m: any) => string | void][] = [
    ["optimizer {}", (m) => void (m.optimizer = {})],
    ["optimizer []", (m) => void (m.optimizer = [])],
    ["optimizer a string", (m) => void (m.optimizer = "adam")],
    ["optimizer a number", (m) => void (m.optimizer = 5)],
    ["optimizer null", (m) => void (m.optimizer = null)],
    ["optimizer.state an array", (m) => void (m.optimizer.state = [])],
    ["optimizer.state null", (m) => void (m.optimizer.state = null)],
    ["optimizer.state[0] a number", (m) => void (m.optimizer.state["0"] = 5)],
    ["optimizer.state[0] null", (m) => void (m.optimizer.state["0"] = null)],
    ["optimizer.param_groups an object", (m) => void (m.optimizer.param_groups = {})],
    ["optimizer.param_groups missing", (m) => void delete m.optimizer.param_groups],
    ["scheduler a number", (m) => void (m.scheduler = 5)],
    ["scheduler an array", (m) => void (m.scheduler = [])],
    ["scheduler null", (m) => void (m.scheduler = null)],
    ["rng an array", (m) => void (m.rng = [])],
    ["rng missing", (m) => void delete m.rng],
    ["rng.g a string", (m) => void (m.rng.g = "12345")],
    ["rng.g too short", (m) => void (m.rng.g = [1, 2, 3, 4])],
    ["step a string", (m) => void (m.step = "3")],
    ["version missing", (m) => void delete m.version],
    ["metadata an array", () => "[1]"],
    ["metadata a string", () => `"checkpoint"`],
    ["metadata null", () => "null"],
    ["metadata a number", () => "1"],
    ["metadata not JSON", () => "{"],
    ["metadata nested 100,000 deep", (m) => JSON.stringify(m).replace(`"extra":{"note":"x"}`, `"extra":${"[".repeat(100_000)}${"]".repeat(100_000)}`)],
    ["a tensor outside model/ and optimizer/", () => undefined],
  ];
  for (const [what, edit] of malformed) {
    it(what, () => {
      const bytes = rewrite((t, m) => {
        if (what.startsWith("a tensor outside")) t.set("other/x", { dtype: "float32", shape: [1], data: new Float32Array(1) });
        return edit(m);
      });
      expectRefused(bytes, CheckpointError);
    });
  }

  it("optimizer tensors with a bad index or path are refused", () => {
    for (const name of ["optimizer/x/exp_avg", "optimizer/0", "optimizer/-1/exp_avg", "optimizer/0/a/b", "optimizer//exp_avg"]) {
      expectRefused(rewrite((t) => void t.set(name, { dtype: "float32", shape: [1], data: new Float32Array(1) })), CheckpointError);
    }
  });
});
