/**
 * Restoring weights in the browser (issue 14, item 6): what deserialize() returns loads as is;
 * an optimizer state dict survives a JSON round trip; grad/backward take single tensors.
 */
import { describe, expect, it } from "vitest";
import { Adam, backward, deserialize, grad, Linear, Sequential, ReLU, serialize, StateDictError, tensor, Generator, randn } from "../../src/index.js";

describe("loadStateDict takes what deserialize() returns", () => {
  it("a model round-trips through serialize/deserialize without io.loadTensors (before: 'not a Tensor')", () => {
    const a = new Sequential(new Linear(3, 4, { generator: new Generator(1) }), new ReLU(), new Linear(4, 2, { generator: new Generator(2) }));
    const b = new Sequential(new Linear(3, 4, { generator: new Generator(3) }), new ReLU(), new Linear(4, 2, { generator: new Generator(4) }));
    b.loadStateDict(deserialize(serialize(a.stateDict())));
    for (const [k, t] of a.stateDict()) expect(b.stateDict().get(k)!.toArray(), k).toEqual(t.toArray());
    // the records themselves, and a plain record of records
    const c = new Sequential(new Linear(3, 4), new ReLU(), new Linear(4, 2));
    c.loadStateDict(deserialize(serialize(a.stateDict())).tensors);
    expect(c.stateDict().get("2.bias")!.toArray()).toEqual(a.stateDict().get("2.bias")!.toArray());
  });

  it("a record of the wrong dtype class or shape is a StateDictError naming the key", () => {
    const m = new Linear(2, 2);
    const sd = { weight: { dtype: "float32", shape: [2, 2], data: new Float64Array(4) }, bias: { dtype: "float32", shape: [2], data: new Float32Array(2) } };
    expect(() => m.loadStateDict(sd)).toThrow(StateDictError);
    expect(() => m.loadStateDict({ ...sd, weight: { dtype: "float32", shape: [9, 9], data: new Float32Array(4) } })).toThrow(/"weight"/);
  });
});

describe("an optimizer state dict survives JSON", () => {
  it("Adam's buffers come back from JSON.parse(JSON.stringify(sd)) (typed arrays as index objects)", () => {
    const m = new Linear(3, 2, { generator: new Generator(5) });
    const opt = new Adam(m.parameters(), { lr: 0.01 });
    const x = randn([4, 3], { generator: new Generator(6) });
    m.forward(x).square().mean().backward();
    opt.step();
    const sd = opt.stateDict();
    const opt2 = new Adam(new Linear(3, 2).parameters(), { lr: 0.5 });
    opt2.loadStateDict(JSON.parse(JSON.stringify(sd)));
    const back = opt2.stateDict();
    expect(back.param_groups[0]!.lr).toBe(0.01);
    const s0 = sd.state[0] as Record<string, unknown>;
    const b0 = back.state[0] as Record<string, unknown>;
    expect(Array.from(b0.exp_avg_sq as Float32Array)).toEqual(Array.from(s0.exp_avg_sq as Float32Array));
    expect(b0.step).toBe(s0.step);
  });
});

describe("grad and backward take single tensors, as PyTorch", () => {
  it("grad(y, x) and backward(y) (before: roots.map is not a function)", () => {
    const x = tensor([3], { dtype: "float64", requiresGrad: true });
    const [g] = grad(x.pow(3).sum(), x);
    expect(g!.item()).toBe(27);
    backward(x.square().sum());
    expect(x.grad!.item()).toBe(6);
  });
});
