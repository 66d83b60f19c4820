/**
 * Module.summary (issue 14, item 7): the table of layers, output shapes and parameter counts of a
 * small CNN, against numbers computed by hand; and that the forward it runs leaves no trace.
 */
import { describe, expect, it } from "vitest";
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Embedding,
  Flatten,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  Tensor,
  manualSeed,
} from "../../src/index.js";
import type { AnyModule } from "../../src/layers/module.js";
import { defaultGenerator } from "../../src/tensor/random.js";
import { isGradEnabled } from "../../src/autograd/grad-mode.js";

class SmallCNN extends Module {
  readonly features = this.registerModule(
    "features",
    new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Conv2d(4, 8, 3), new ReLU()),
  );
  readonly flatten = this.registerModule("flatten", new Flatten());
  readonly drop = this.registerModule("drop", new Dropout(0.5));
  readonly head = this.registerModule("head", new Linear(8 * 2 * 2, 10));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.drop.forward(this.flatten.forward(this.features.forward(x))));
  }
}

const snapshot = (m: Module) => [...m.stateDict()].map(([k, t]) => [k, Array.from(t.toTypedArray())]);

describe("Module.summary", () => {
  it("a small CNN: each layer's output shape and parameter count, and the totals, as computed by hand", () => {
    manualSeed(0);
    const cnn = new SmallCNN();
    cnn.head.bias!.requiresGrad = false; // frozen: 10 non-trainable
    const s = cnn.summary([2, 1, 8, 8]);
    // conv1: 4*1*3*3 + 4 = 40; bn: 4 + 4 = 8; conv2 (no padding): 8*4*3*3 + 8 = 296; head: 32*10 + 10 = 330
    expect(s.rows.map((r) => [r.path, r.type, r.depth, r.outputShapes, r.params, r.trainableParams])).toEqual([
      ["", "SmallCNN", 0, [[2, 10]], 0, 0],
      ["features", "Sequential", 1, [[2, 8, 2, 2]], 0, 0],
      ["features.0", "Conv2d", 2, [[2, 4, 8, 8]], 40, 40],
      ["features.1", "BatchNorm2d", 2, [[2, 4, 8, 8]], 8, 8],
      ["features.2", "ReLU", 2, [[2, 4, 8, 8]], 0, 0],
      ["features.3", "MaxPool2d", 2, [[2, 4, 4, 4]], 0, 0],
      ["features.4", "Conv2d", 2, [[2, 8, 2, 2]], 296, 296],
      ["features.5", "ReLU", 2, [[2, 8, 2, 2]], 0, 0],
      ["flatten", "Flatten", 1, [[2, 32]], 0, 0],
      ["drop", "Dropout", 1, [[2, 32]], 0, 0],
      ["head", "Linear", 1, [[2, 10]], 330, 320],
    ]);
    expect(s.totalParams).toBe(40 + 8 + 296 + 330);
    expect(s.totalParams).toBe(cnn.parameters().reduce((n, p) => n + p.numel, 0));
    expect(s.trainableParams).toBe(664);
    expect(s.nonTrainableParams).toBe(10);
    expect(s.bufferElements).toBe(4 + 4 + 1); // running_mean, running_var, num_batches_tracked
    expect(s.inputShape).toEqual([2, 1, 8, 8]);
    expect(s.rows.every((r) => r.calls === 1)).toBe(true);
    const lines = String(s).split("\n");
    expect(lines[0]).toMatch(/^Layer \(type\) +Output shape +Param #$/);
    expect(lines[1]).toMatch(/^=+$/);
    expect(lines[2]).toMatch(/^SmallCNN +\[2, 10\] +-$/);
    expect(lines[3]).toMatch(/^ {2}features \(Sequential\) +\[2, 8, 2, 2\] +-$/);
    expect(lines[4]).toMatch(/^ {4}features\.0 \(Conv2d\) +\[2, 4, 8, 8\] +40$/);
    expect(lines[12]).toMatch(/^ {2}head \(Linear\) +\[2, 10\] +330$/);
    expect(lines.slice(-5)).toEqual([
      "Total params: 674",
      "Trainable params: 664",
      "Non-trainable params: 10",
      "Buffer elements (running statistics, not trained): 9",
      "Input shape: [2, 1, 8, 8]",
    ]);
    // The columns line up: every row has the same width.
    expect(new Set(lines.slice(0, 14).map((l) => l.length)).size).toBe(1);
  });

  it("leaves no trace: forward methods, modes, running statistics, the RNG and grad mode are as before", () => {
    manualSeed(1);
    const cnn = new SmallCNN();
    cnn.train();
    (cnn.features.children()[1] as AnyModule).training = false; // a BatchNorm left in eval mode
    const modes = cnn.modules().map((m) => m.training);
    const before = snapshot(cnn);
    const rng = defaultGenerator.getState();
    const forwards = cnn.modules().map((m) => Object.getOwnPropertyDescriptor(m, "forward"));
    cnn.summary([1, 1, 8, 8]);
    expect(cnn.modules().map((m) => Object.getOwnPropertyDescriptor(m, "forward"))).toEqual(forwards);
    expect(cnn.modules().map((m) => m.training)).toEqual(modes);
    expect(snapshot(cnn)).toEqual(before); // BatchNorm ran in eval mode: its statistics did not move
    expect(defaultGenerator.getState()).toEqual(rng); // Dropout drew nothing
    expect(cnn.parameters().every((p) => p.grad === null)).toBe(true);
    expect(isGradEnabled()).toBe(true);
  });

  it("an own forward (a field) is put back exactly, also when the forward throws", () => {
    const inner = new Linear(4, 3);
    const own = (x: Tensor): Tensor => x.mul(2);
    const lambda = new (class Lambda extends Module {
      forward = own;
    })();
    const model = new Sequential(inner, lambda);
    const descriptors = () => model.modules().map((m) => Object.getOwnPropertyDescriptor(m, "forward"));
    const before = descriptors();
    const s = model.summary([5, 4]);
    expect(s.rows.map((r) => r.outputShapes)).toEqual([[[5, 3]], [[5, 3]], [[5, 3]]]);
    expect(Object.getOwnPropertyDescriptor(lambda, "forward")!.value).toBe(own);
    expect(descriptors()).toEqual(before);
    const modes = model.modules().map((m) => m.training);
    expect(() => model.summary([5, 7])).toThrow(); // Linear(4, 3) on 7 features
    expect(Object.getOwnPropertyDescriptor(lambda, "forward")!.value).toBe(own);
    expect(descriptors()).toEqual(before);
    expect(model.modules().map((m) => m.training)).toEqual(modes);
  });

  it("a module called twice, one never called, a shared parameter counted once, int inputs, bad shapes", () => {
    const block = new Linear(4, 4);
    class Twice extends Module {
      readonly block = this.registerModule("block", block);
      readonly unused = this.registerModule("unused", new Linear(2, 2));
      forward(x: Tensor): Tensor {
        return this.block.forward(this.block.forward(x));
      }
    }
    const s = new Twice().summary([3, 4]);
    const row = s.rows.find((r) => r.path === "block")!;
    expect(row.calls).toBe(2);
    expect(String(s)).toMatch(/block \(Linear\) +\[3, 4\] x2 +20/);
    expect(String(s)).toMatch(/unused \(Linear\) +- +6/);
    expect(s.totalParams).toBe(26);

    const lin = new Linear(3, 3);
    const shared = new Sequential(lin, lin).summary([2, 3]);
    expect(shared.rows.map((r) => [r.path, r.calls])).toEqual([["", 1], ["0", 2]]);
    expect(shared.totalParams).toBe(12);

    expect(new Sequential(new Embedding(10, 3)).summary([2, 5], { dtype: "int32" }).rows[1]!.outputShapes).toEqual([[2, 5, 3]]);
    expect(() => shared && new Sequential(lin).summary([2, -1])).toThrow(/inputShape must be an array of sizes/);
  });
});
