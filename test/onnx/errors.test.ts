/**
 * What the exporter refuses, and how: an op with no ONNX mapping is an OnnxExportError naming the op
 * and the module that applied it (only when an output needs it); a forward that cannot be written
 * for every batch size (a divisor that is the batch size, ops that change with it, a tensor computed
 * outside the op table from the input) is refused, and exports with { dynamicBatch: false }; bad
 * inputs and names. Whatever happens, the model, its modules and the engine's observer are left as
 * they were. Also: names, record outputs, a static export.
 */
import { describe, expect, it } from "vitest";
import {
  AnomalyError, Conv2d, detectAnomaly, enableGrad, grad, Identity, Linear, Module, oneHot, randn, ReLU, Sequential, tensor, ValueError, type Tensor,
} from "../../src/index.js";
import { exportOnnx, OnnxExportError } from "../../src/onnx.js";
import { Fn, runOnnx, summarize, worstRelative, evalForward } from "./helpers.js";

/** A forward that returns the gradient of its conv's output sum with respect to the conv's weight. */
class WeightSaliency extends Module {
  readonly conv = this.registerModule("conv", new Conv2d(1, 1, 3));
  constructor(readonly returnGradient = true) {
    super();
  }
  forward(v: Tensor): Tensor {
    const [g] = enableGrad(() => grad(this.conv.forward(v).sum(), [this.conv.weight]));
    return this.returnGradient ? g! : this.conv.forward(v).relu();
  }
}

function thrown(f: () => unknown): OnnxExportError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxExportError);
    return e as OnnxExportError;
  }
  throw new Error("no error thrown");
}

describe("refusals", () => {
  it("an op with no ONNX mapping: an OnnxExportError with the op and the module path", () => {
    const model = new Sequential(new Identity(), new Sequential(new ReLU(), new WeightSaliency()));
    const e = thrown(() => exportOnnx(model, randn([1, 1, 5, 5])));
    expect(e.code).toBe("ONNX_EXPORT");
    expect(e.op).toBe("exportOnnx");
    expect(e.unsupportedOp).toBe("conv2dWeightGrad");
    expect(e.modulePath).toBe("1.1");
    expect(e.message).toMatch(/op "conv2dWeightGrad" \(applied by module "1\.1"\) has no ONNX mapping/);
  });

  it("an unsupported op whose result no output needs does not stop the export", async () => {
    const model = new WeightSaliency(false);
    const x = randn([3, 1, 5, 5]);
    const [got] = await runOnnx(exportOnnx(model, x), { input: x });
    expect(worstRelative(evalForward(model, [x])[0]!, got!.data as Float32Array)).toBeLessThan(1e-5);
  });

  it("a divisor that is the batch size (a mean over the batch): refused with a dynamic batch, exported without", async () => {
    const model = new Fn((x) => x.sub(x.mean(0)));
    const e = thrown(() => exportOnnx(model, randn([4, 3])));
    expect(e.message).toMatch(/dynamicBatch: false/);
    const x = randn([4, 3]);
    const bytes = exportOnnx(model, x, { dynamicBatch: false });
    expect(summarize(bytes).inputs[0]!.dims).toEqual([4, 3]);
    const [got] = await runOnnx(bytes, { input: x });
    expect(worstRelative(evalForward(model, [x])[0]!, got!.data as Float32Array)).toBeLessThan(1e-5);
    await expect(runOnnx(bytes, { input: randn([5, 3]) })).rejects.toThrow();
  });

  it("a tensor computed outside the op table from the input is refused (it would be a constant of the graph)", () => {
    const model = new Fn((x) => oneHot(x.argmax(1), 3).to("float32").mul(x));
    const e = thrown(() => exportOnnx(model, randn([2, 3])));
    expect(e.message).toMatch(/made outside the op table .* compute it with tensor ops/);
    expect(e.unsupportedOp).toBeNull();
    expect(e.modulePath).toBe("");
  });

  it("a forward whose ops change with the batch size is refused", () => {
    const e = thrown(() => exportOnnx(new Fn((x) => (x.shape[0]! > 2 ? x.relu() : x.neg())), randn([1, 3])));
    expect(e.message).toMatch(/depend on the batch size/);
  });

  it("bad inputs, options and names", () => {
    const fc = new Sequential(new Linear(3, 2));
    expect(thrown(() => exportOnnx(fc, [])).message).toMatch(/at least one example input/);
    expect(thrown(() => exportOnnx(fc, [1 as unknown as Tensor])).message).toMatch(/not a Tensor/);
    expect(thrown(() => exportOnnx({} as never, randn([1, 3]))).message).toMatch(/expects a Module/);
    expect(thrown(() => exportOnnx(new Fn((a, b) => a.add(b!)), [randn([2, 3]), randn([3, 3])])).message).toMatch(/different batch sizes/);
    expect(thrown(() => exportOnnx(fc, tensor(1))).message).toMatch(/no batch dim 0/);
    expect(thrown(() => exportOnnx(fc, randn([1, 3]), { batchAxes: [2] })).message).toMatch(/no batch dim 2/);
    expect(thrown(() => exportOnnx(fc, randn([1, 3]), { inputNames: ["a", "b"] })).message).toMatch(/2 input names for 1 inputs/);
    expect(thrown(() => exportOnnx(fc, randn([1, 3]), { outputNames: [] })).message).toMatch(/0 output names for 1 outputs/);
    expect(thrown(() => exportOnnx(fc, randn([1, 3]), { inputNames: ["0.weight"] })).message).toMatch(/"0\.weight" is used twice/);
    expect(thrown(() => exportOnnx(new Fn(() => 3 as unknown as Tensor), randn([1, 3]))).message).toMatch(/must return tensors/);
  });
});

describe("the model is left as it was", () => {
  it("after a forward that throws: modes, forwards and the observer (the anomaly guard keeps working)", () => {
    class Broken extends Module {
      readonly fc = this.registerModule("fc", new Linear(3, 3));
      forward(x: Tensor): Tensor {
        this.fc.forward(x);
        throw new ValueError("Broken", "on purpose");
      }
    }
    const model = new Broken();
    const before = model.modules().map((m) => Object.getOwnPropertyDescriptor(m, "forward"));
    expect(() => exportOnnx(model, randn([1, 3]))).toThrow(/on purpose/);
    expect(model.modules().map((m) => Object.getOwnPropertyDescriptor(m, "forward"))).toEqual(before);
    expect(model.training && model.fc.training).toBe(true);
    // the anomaly guard's observer still sees every op, during and after an export
    expect(() =>
      detectAnomaly(() => {
        exportOnnx(new Sequential(new Linear(3, 2)), randn([1, 3]));
        tensor([-1]).sqrt();
      }),
    ).toThrow(AnomalyError);
  });
});

describe("names and shapes", () => {
  it("a record of outputs is named by its keys; inputs by inputNames", async () => {
    class Heads extends Module<[Tensor], Record<string, Tensor>> {
      readonly fc = this.registerModule("fc", new Linear(4, 3));
      forward(x: Tensor): Record<string, Tensor> {
        const logits = this.fc.forward(x);
        return { logits, probs: logits.softmax(1) };
      }
    }
    const bytes = exportOnnx(new Heads(), randn([2, 4]), { inputNames: ["features"] });
    const s = summarize(bytes);
    expect(s.inputs.map((i) => i.name)).toEqual(["features"]);
    expect(s.outputs).toEqual([
      { name: "logits", elemType: 1, dims: ["batch", 3] },
      { name: "probs", elemType: 1, dims: ["batch", 3] },
    ]);
    const [logits, probs] = await runOnnx(bytes, { features: randn([5, 4]) });
    expect(logits!.dims).toEqual([5, 3]);
    expect(probs!.dims).toEqual([5, 3]);
  });

  it("an output that is an input, twice the same output, a parameter as an output: Identity nodes", async () => {
    class Odd extends Module<[Tensor], Tensor[]> {
      readonly fc = this.registerModule("fc", new Linear(2, 2));
      forward(x: Tensor): Tensor[] {
        const y = this.fc.forward(x);
        return [x, y, y, this.fc.weight];
      }
    }
    const x = randn([3, 2]);
    const model = new Odd();
    const outs = await runOnnx(exportOnnx(model, x, { batchDimName: "n" }), { input: x });
    const want = evalForward(model, [x]);
    outs.forEach((o, i) => expect(Array.from(o.data as Float32Array)).toEqual(Array.from(want[i]!.toTypedArray())));
    expect(summarize(exportOnnx(model, x, { batchDimName: "n" })).outputs.map((o) => o.dims)).toEqual([["n", 2], ["n", 2], ["n", 2], [2, 2]]);
  });
});
