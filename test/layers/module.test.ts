import { describe, expect, it } from "vitest";
import { Generator, IndexError, Tensor, ValueError, randn, tensor, zeros, ShapeError } from "../../src/index.js";
import {
  BCEWithLogitsLoss, BatchNorm1d, BatchNorm2d, Conv2d, CrossEntropyLoss, Dropout, Embedding, LayerNorm, Linear, Module, ModuleDict, ModuleList,
  ReLU, Sequential, StateDictError, Tanh, parameter, functional as LF,
} from "../../src/layers/index.js";

class Block extends Module {
  readonly fc1 = this.registerModule("fc1", new Linear(3, 4, { dtype: "float64" }));
  readonly act = this.registerModule("act", new ReLU());
  readonly fc2 = this.registerModule("fc2", new Linear(4, 2, { dtype: "float64" }));
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

class Net extends Module {
  readonly encoder = this.registerModule("encoder", new Block());
  readonly norm = this.registerModule("norm", new BatchNorm1d(2, { dtype: "float64" }));
  readonly scale = this.registerParameter("scale", parameter(tensor([2], { dtype: "float64" })));
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.encoder.forward(x)).mul(this.scale);
  }
}

function snapshot(m: Module<never[], unknown>): Record<string, number[]> {
  return Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, Array.from(t.toTypedArray())]));
}

describe("names", () => {
  it("nested Sequential uses PyTorch's dotted names and sets tensor names", () => {
    const m = new Sequential(new Linear(4, 8), new ReLU(), new Sequential(new Linear(8, 8), new Tanh()), new Linear(8, 2, { bias: false }));
    const named = m.namedParameters();
    expect(named.map(([n]) => n)).toEqual(["0.weight", "0.bias", "2.0.weight", "2.0.bias", "3.weight"]);
    for (const [n, p] of named) expect(p.name).toBe(n);
    expect(m.children().length).toBe(4);
    expect(m.namedChildren().map(([n]) => n)).toEqual(["0", "1", "2", "3"]);
    expect(m.namedModules().map(([n]) => n)).toEqual(["", "0", "1", "2", "2.0", "2.1", "3"]);
  });

  it("custom modules name parameters by registration order, buffers kept apart", () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      "scale", "encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight", "encoder.fc2.bias", "norm.weight", "norm.bias",
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(["norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]);
    expect([...net.stateDict().keys()]).toEqual([
      "scale", "encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight", "encoder.fc2.bias",
      "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
    ]);
  });

  it("parameters are contiguous trainable leaves at offset 0", () => {
    const m = new Sequential(new Conv2d(2, 3, 3), new LayerNorm([3, 2, 2]), new Embedding(5, 2), new Linear(2, 2));
    for (const p of m.parameters()) {
      expect(p.isLeaf && p.requiresGrad && p.isContiguous() && p.offset === 0 && p.storage.length === p.numel).toBe(true);
    }
  });

  it("a shared parameter is listed once; ModuleList names its items", () => {
    const a = new Linear(2, 2);
    const list = new ModuleList([a, a, new Linear(2, 3)]);
    expect(list.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "2.weight", "2.bias"]);
    expect(list.length).toBe(3);
    expect(() => list.forward()).toThrow(ValueError);
  });

  it("ModuleDict: children by name in insertion order, PyTorch state-dict keys, replacement in place, clear errors", () => {
    class TwoHeads extends Module {
      readonly trunk = this.registerModule("trunk", new Linear(3, 4));
      readonly heads = this.registerModule("heads", new ModuleDict({ cls: new Linear(4, 5), box: new Linear(4, 2) }));
      forward(x: Tensor): Tensor {
        return this.heads.get("box").forward(this.trunk.forward(x));
      }
    }
    const m = new TwoHeads();
    expect([...m.stateDict().keys()]).toEqual(["trunk.weight", "trunk.bias", "heads.cls.weight", "heads.cls.bias", "heads.box.weight", "heads.box.bias"]);
    expect(m.forward(randn([2, 3])).shape).toEqual([2, 2]);
    // the optimizer sees the heads' parameters
    expect(m.parameters()).toHaveLength(6);
    // replacing keeps the position; a Map gives the order too
    m.heads.set("cls", new Linear(4, 7));
    expect([...m.heads].map(([k, h]) => [k, (h as Linear).outFeatures])).toEqual([["cls", 7], ["box", 2]]);
    const d = new ModuleDict(new Map([["b", new ReLU()], ["a", new Tanh()]]));
    expect([...d].map(([k]) => k)).toEqual(["b", "a"]);
    expect(d.size).toBe(2);
    expect(d.has("a") && !d.has("c")).toBe(true);
    expect(() => d.get("c")).toThrow(IndexError);
    expect(() => d.get("c")).toThrow(/no module "c"; it has \["b","a"\]/);
    expect(() => d.set("x.y", new ReLU())).toThrow(/without "."/);
    expect(() => d.set("z", {} as ReLU)).toThrow(ValueError);
    expect(() => d.forward()).toThrow(/no forward/);
    // a state dict saved from one loads into another built the same way
    const other = new TwoHeads();
    other.heads.set("cls", new Linear(4, 7));
    other.loadStateDict(m.stateDict());
    expect(Array.from(other.heads.get("box").weight.storage)).toEqual(Array.from(m.heads.get("box").weight.storage));
  });

  it("loss modules register class weights as PyTorch-named buffers", () => {
    expect([...new CrossEntropyLoss({ weight: tensor([1, 2]) }).stateDict().keys()]).toEqual(["weight"]);
    expect([...new CrossEntropyLoss().stateDict().keys()]).toEqual([]);
    expect([...new BCEWithLogitsLoss({ weight: tensor([1]), posWeight: tensor([3]) }).stateDict().keys()]).toEqual(["weight", "pos_weight"]);
  });

  it("toString shows the tree", () => {
    expect(String(new Sequential(new Linear(2, 3), new ReLU()))).toBe(
      "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=true)\n  (1): ReLU()\n)",
    );
  });
});

describe("registration safety", () => {
  it("an unregistered child module or trainable tensor is reported", () => {
    class Forgot extends Module {
      readonly fc = new Linear(2, 2);
      forward(x: Tensor): Tensor {
        return this.fc.forward(x);
      }
    }
    expect(() => new Forgot().parameters()).toThrow(/field "fc" holds a Linear that is not registered/);
    class ForgotParam extends Module {
      readonly w = randn([2]).requiresGrad_();
      forward(x: Tensor): Tensor {
        return x.mul(this.w);
      }
    }
    expect(() => new ForgotParam().stateDict()).toThrow(/field "w" holds a trainable tensor/);
    class Arr extends Module {
      readonly layers = [new Linear(2, 2)];
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new Arr().parameters()).toThrow(/ModuleList/);
  });

  it("tied weights and #private fields are fine", () => {
    class Tied extends Module {
      readonly emb = this.registerModule("emb", new Embedding(4, 3));
      readonly tiedWeight = this.emb.weight;
      #cache = new Linear(1, 1);
      forward(x: Tensor): Tensor {
        return x.matmul(this.tiedWeight.T).add(this.#cache.weight.sum().detach());
      }
    }
    expect(new Tied().namedParameters().map(([n]) => n)).toEqual(["emb.weight"]);
  });

  it("registerParameter refuses non-leaves, views and int tensors; names are checked", () => {
    class M extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new M();
    const leaf = randn([4, 4]).requiresGrad_();
    expect(() => m.registerParameter("a", leaf.mul(2))).toThrow(/leaf/);
    expect(() => m.registerParameter("b", randn([4, 4]).T)).toThrow(/contiguous/);
    expect(() => m.registerParameter("c", randn([4, 4]).narrow(0, 1, 2))).toThrow(/offset 0/);
    expect(() => m.registerParameter("d", tensor([1], { dtype: "int32" }))).toThrow(/float/);
    expect(() => m.registerParameter("a.b", randn([1]))).toThrow(/without "."/);
    m.registerParameter("w", parameter(randn([4, 4]).T));
    expect(() => m.registerBuffer("w", zeros([1]))).toThrow(/already registered/);
  });
});

describe("stateDict / loadStateDict", () => {
  it("round trip reproduces the model's outputs and keeps the parameter storage", () => {
    const a = new Net();
    const b = new Net();
    const x = randn([5, 3], { dtype: "float64" });
    a.forward(x); // updates running stats
    const storages = b.parameters().map((p) => p.storage);
    b.loadStateDict(a.stateDict());
    expect(b.parameters().map((p) => p.storage)).toEqual(storages);
    expect(b.parameters().every((p, i) => p.storage === storages[i])).toBe(true);
    a.eval();
    b.eval();
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it("stateDict is a snapshot: later training does not change it", () => {
    const m = new Linear(2, 2);
    const sd = m.stateDict();
    const before = Array.from(sd.get("weight")!.toTypedArray());
    m.weight.storage[0] = 123;
    expect(Array.from(sd.get("weight")!.toTypedArray())).toEqual(before);
  });

  it("accepts a plain record", () => {
    const m = new Linear(2, 1);
    m.loadStateDict({ weight: tensor([[1, 2]]), bias: tensor([3]) });
    expect(m.forward(tensor([[1, 1]])).toArray()).toEqual([[6]]);
  });

  it("strict loading lists every problem and changes nothing", () => {
    const m = new Net();
    const before = snapshot(m);
    const sd = m.stateDict();
    sd.delete("encoder.fc1.bias");
    sd.set("extra.weight", zeros([1]));
    sd.set("encoder.fc2.weight", zeros([3, 3], { dtype: "float64" }));
    sd.set("scale", tensor([1], { dtype: "float32" }));
    sd.set("norm.weight", tensor([1, NaN], { dtype: "float64" }));
    sd.set("norm.running_mean", zeros([2], { dtype: "float64" })); // valid: must not be applied either
    sd.get("norm.running_mean")!.storage.fill(7);
    let err: unknown;
    try {
      m.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missingKeys).toEqual(["encoder.fc1.bias"]);
    expect(e.unexpectedKeys).toEqual(["extra.weight"]);
    expect(e.mismatches.length).toBe(3);
    expect(e.message).toMatch(/encoder\.fc2\.weight.*shape \[3, 3\].*\[2, 4\]/);
    expect(e.message).toMatch(/scale.*dtype float32/);
    expect(e.message).toMatch(/norm\.weight.*non-finite/);
    expect(snapshot(m)).toEqual(before);
  });

  it("non-strict loading reports missing/unexpected keys but still refuses bad shapes", () => {
    const m = new Linear(2, 2);
    const r = m.loadStateDict({ weight: zeros([2, 2]), other: zeros([1]) }, { strict: false });
    expect(r).toEqual({ missingKeys: ["bias"], unexpectedKeys: ["other"] });
    expect(m.weight.toTypedArray().every((v) => v === 0)).toBe(true);
    const before = snapshot(m);
    expect(() => m.loadStateDict({ weight: zeros([3, 2]) }, { strict: false })).toThrow(StateDictError);
    expect(snapshot(m)).toEqual(before);
    m.loadStateDict({ weight: tensor([[Infinity, 0], [0, 0]]) }, { strict: false, allowNonFinite: true });
    expect(m.weight.at(0, 0)).toBe(Infinity);
  });
});

describe("modes and gradients", () => {
  it("train()/eval() switch every descendant", () => {
    const m = new Sequential(new Linear(2, 2), new Sequential(new Dropout(0.5), new BatchNorm1d(2)));
    expect(m.modules().every((c) => c.training)).toBe(true);
    expect(m.eval()).toBe(m);
    expect(m.modules().every((c) => !c.training)).toBe(true);
    m.train();
    expect(m.modules().every((c) => c.training)).toBe(true);
  });

  it("zeroGrad sets every grad to null", () => {
    const m = new Sequential(new Linear(3, 2), new ReLU(), new Linear(2, 1));
    m.forward(randn([4, 3])).sum().backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it("Sequential only accepts one-tensor modules (a compile-time check)", () => {
    // @ts-expect-error a loss module takes (input, target)
    const s = new Sequential(new CrossEntropyLoss());
    expect(s.length).toBe(1);
  });

  it("call() is forward()", () => {
    const m = new Linear(2, 2);
    const x = randn([1, 2]);
    expect(m.call(x).toArray()).toEqual(m.forward(x).toArray());
  });
});

describe("Dropout", () => {
  it("is deterministic for a seeded generator and the identity in eval mode", () => {
    const x = randn([8, 16]);
    const y1 = new Dropout(0.3, { generator: new Generator(7) }).forward(x);
    const y2 = new Dropout(0.3, { generator: new Generator(7) }).forward(x);
    const y3 = new Dropout(0.3, { generator: new Generator(8) }).forward(x);
    expect(y1.toArray()).toEqual(y2.toArray());
    expect(y1.toArray()).not.toEqual(y3.toArray());
    const d = new Dropout(0.3).eval();
    expect(d.forward(x)).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
  });

  it("zeroes about p of the elements, scales the rest by 1/(1-p), and masks the gradient alike", () => {
    const x = randn([100, 100], { dtype: "float64", requiresGrad: true });
    const p = 0.25;
    const y = LF.dropout(x, { p, generator: new Generator(1) });
    y.sum().backward();
    const xs = x.toTypedArray();
    const ys = y.toTypedArray();
    const gs = x.grad!.toTypedArray();
    let zeros = 0;
    for (let i = 0; i < ys.length; i++) {
      if (ys[i] === 0) {
        zeros++;
        expect(gs[i]).toBe(0);
      } else {
        expect(ys[i]).toBeCloseTo(xs[i]! / (1 - p), 12);
        expect(gs[i]).toBeCloseTo(1 / (1 - p), 12);
      }
    }
    expect(Math.abs(zeros / ys.length - p)).toBeLessThan(0.02);
  });

  it("p = 1 drops everything (no 0 * inf), a dropped Infinity gives 0", () => {
    const x = tensor([1, Infinity, -2]);
    expect(LF.dropout(x, { p: 1 }).toArray()).toEqual([0, 0, 0]);
    expect(() => new Dropout(1.5)).toThrow(ValueError);
  });

  it("uses the default generator by default", async () => {
    const { manualSeed } = await import("../../src/index.js");
    const x = randn([4, 4]);
    manualSeed(3);
    const a = new Dropout(0.5).forward(x).toArray();
    manualSeed(3);
    const b = new Dropout(0.5).forward(x).toArray();
    expect(a).toEqual(b);
  });
});

describe("BatchNorm", () => {
  it("a single value per channel in training throws as PyTorch, leaving the state alone", () => {
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(randn([1, 3]))).toThrow("Expected more than 1 value per channel when training, got input size [1, 3]");
    expect(bn.numBatchesTracked!.item()).toBe(0);
    expect(() => new BatchNorm2d(2).forward(randn([1, 2, 1, 1]))).toThrow(/more than 1 value per channel/);
    bn.eval();
    expect(bn.forward(randn([1, 3])).shape).toEqual([1, 3]);
    expect(() => bn.forward(randn([2, 4]))).toThrow(ShapeError);
    expect(() => new BatchNorm2d(2).forward(randn([2, 2, 3]))).toThrow(/expected 4D input/);
  });

  it("uses running statistics in eval mode", () => {
    const bn = new BatchNorm1d(2, { dtype: "float64", affine: false });
    bn.loadStateDict({ running_mean: tensor([1, -1], { dtype: "float64" }), running_var: tensor([4, 0.25], { dtype: "float64" }), num_batches_tracked: tensor(5, { dtype: "int32" }) }, { strict: true });
    bn.eval();
    const y = bn.forward(tensor([[3, 0]], { dtype: "float64" }));
    const e = 1e-5;
    expect((y.toArray() as number[][])[0]![0]).toBeCloseTo(2 / Math.sqrt(4 + e), 12);
    expect((y.toArray() as number[][])[0]![1]).toBeCloseTo(1 / Math.sqrt(0.25 + e), 12);
  });
});
