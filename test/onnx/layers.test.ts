/**
 * Every supported layer alone: exported at batch size 1, run in ONNX Runtime (graph optimizations
 * on) at batch sizes 1 and 17 on random inputs, compared with safegrad's eval forward (float32
 * within 1e-5 of the sample's largest output; float64, where ONNX Runtime has the kernels, within
 * 1e-12). The graph's op types are checked too, so a layer meant to be one ONNX op stays one.
 */
import { describe, expect, it } from "vitest";
import {
  AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Generator, GELU, Identity, LayerNorm, LeakyReLU, Linear, LogSoftmax,
  MaxPool2d, ReLU, RMSNorm, Sequential, Sigmoid, SiLU, Softmax, Tanh, nn, randint, randn, type DType, type FloatDType, type Module, type Tensor,
} from "../../src/index.js";
import { exportOnnx } from "../../src/onnx.js";
import { exportAndCompare, Fn, summarize, type AnyModel, type OrtOptions } from "./helpers.js";

const gen = (seed: number) => new Generator(seed);
const rn = (shape: number[], seed: number, dtype: DType = "float32"): Tensor => randn(shape, { generator: gen(seed), dtype });

/** Random running statistics, so BatchNorm in evaluation is not the identity. */
function withStats<M extends Module>(bn: M & { runningMean: Tensor | null; runningVar: Tensor | null; weight: Tensor | null; bias: Tensor | null }, seed: number): M {
  const g = gen(seed);
  const fill = (t: Tensor | null, f: () => number) => {
    if (t) for (let i = 0; i < t.storage.length; i++) t.storage[i] = f();
  };
  fill(bn.runningMean, () => g.random() * 2 - 1);
  fill(bn.runningVar, () => 0.2 + g.random() * 2);
  fill(bn.weight, () => 0.5 + g.random());
  fill(bn.bias, () => g.random() - 0.5);
  return bn;
}

const worst: Record<string, number> = {};

interface Case {
  name: string;
  model: (dtype: FloatDType) => AnyModel;
  input: (n: number, seed: number) => Tensor[];
  /** ONNX op types the graph must hold (in order, as a subsequence) */
  ops?: string[];
  float64?: boolean;
  dynamicBatch?: boolean;
  /** ONNX Runtime session options for the float64 run */
  ort64?: OrtOptions;
}

const img = (c: number, h: number, w: number, dtype: DType = "float32") => (n: number, seed: number) => [rn([n, c, h, w], seed, dtype)];
const vec = (f: number, dtype: DType = "float32") => (n: number, seed: number) => [rn([n, f], seed, dtype)];

const CASES: Case[] = [
  { name: "Linear", model: (dtype) => new Linear(6, 5, { dtype }), input: vec(6), ops: ["Gemm"], float64: true },
  { name: "Linear without bias", model: () => new Linear(6, 5, { bias: false }), input: vec(6), ops: ["Gemm"] },
  { name: "Linear on [N, T, F] (MatMul + Add)", model: (dtype) => new Linear(6, 5, { dtype }), input: (n, s) => [rn([n, 3, 6], s)], ops: ["Transpose", "MatMul", "Add"], float64: true },
  { name: "Conv2d", model: () => new Conv2d(3, 4, 3, { padding: 1 }), input: img(3, 7, 6), ops: ["Conv"] },
  { name: "Conv2d stride 2, dilation 2, groups 2, no bias", model: () => new Conv2d(4, 6, [3, 2], { stride: 2, dilation: [2, 1], groups: 2, bias: false }), input: img(4, 9, 8), ops: ["Conv"] },
  { name: 'Conv2d padding "same" (even kernel)', model: () => new Conv2d(2, 3, 4, { padding: "same" }), input: img(2, 6, 5), ops: ["Pad", "Conv", "Add"] },
  { name: "MaxPool2d", model: () => new MaxPool2d(2), input: img(3, 6, 7), ops: ["MaxPool"], float64: true },
  { name: "MaxPool2d kernel 3, stride 1, padding 1, dilation 2", model: () => new MaxPool2d(3, { stride: 1, padding: 1, dilation: 2 }), input: img(2, 8, 8), ops: ["MaxPool"] },
  { name: "AvgPool2d", model: () => new AvgPool2d(2), input: img(3, 6, 7), ops: ["AveragePool"] },
  { name: "AvgPool2d padding 1, countIncludePad false", model: () => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), input: img(2, 7, 6), ops: ["AveragePool"] },
  { name: "AvgPool2d divisorOverride", model: () => new AvgPool2d(2, { divisorOverride: 3 }), input: img(2, 4, 4), ops: ["AveragePool", "Mul"] },
  { name: "BatchNorm2d (eval)", model: (dtype) => withStats(new BatchNorm2d(3, { dtype }), 1), input: img(3, 4, 5), ops: ["BatchNormalization"], float64: true },
  { name: "BatchNorm1d (eval), no affine", model: () => withStats(new BatchNorm1d(5, { affine: false }), 2), input: vec(5), ops: ["BatchNormalization"] },
  { name: "LayerNorm", model: (dtype) => new LayerNorm(6, { dtype }), input: vec(6), ops: ["LayerNormalization"], float64: true },
  { name: "LayerNorm over 2 dims, no affine", model: () => new LayerNorm([3, 4], { elementwiseAffine: false }), input: (n, s) => [rn([n, 2, 3, 4], s)], ops: ["LayerNormalization"] },
  { name: "RMSNorm", model: (dtype) => new RMSNorm(6, { dtype }), input: vec(6), float64: true },
  { name: "ReLU", model: () => new ReLU(), input: vec(7), ops: ["Relu"], float64: true },
  { name: "GELU", model: () => new GELU(), input: vec(7), ops: ["Erf"] },
  { name: "GELU tanh", model: () => new GELU({ approximate: "tanh" }), input: vec(7), ops: ["Tanh"], float64: true },
  // ONNX Runtime fuses x·σ(x) into QuickGelu, which has no float64 kernel: float64 runs without that fusion
  { name: "SiLU", model: () => new SiLU(), input: vec(7), ops: ["Sigmoid", "Mul"], float64: true, ort64: { graphOptimizationLevel: "basic" } },
  { name: "Tanh", model: () => new Tanh(), input: vec(7), ops: ["Tanh"], float64: true },
  { name: "Sigmoid", model: () => new Sigmoid(), input: vec(7), ops: ["Sigmoid"], float64: true },
  { name: "LeakyReLU", model: () => new LeakyReLU(0.2), input: vec(7), ops: ["LeakyRelu"], float64: true },
  { name: "Softplus", model: () => new Fn((x) => nn.functional.softplus(x.mul(10))), input: vec(7), ops: ["Softplus", "Where"] },
  { name: "Softplus beta 2, threshold 5", model: () => new Fn((x) => nn.functional.softplus(x.mul(4), { beta: 2, threshold: 5 })), input: vec(7), ops: ["Softplus"] },
  { name: "Softmax", model: () => new Softmax(1), input: vec(7), ops: ["Softmax"], float64: true },
  { name: "LogSoftmax", model: () => new LogSoftmax(-1), input: (n, s) => [rn([n, 3, 7], s)], ops: ["LogSoftmax"], float64: true },
  { name: "Dropout (the identity in evaluation)", model: () => new Sequential(new Dropout(0.5), new Linear(4, 3)), input: vec(4), ops: ["Gemm"] },
  { name: "Flatten", model: (dtype) => new Sequential(new Flatten(), new Linear(12, 2, { dtype })), input: img(3, 2, 2), ops: ["Reshape", "Gemm"], float64: true },
  { name: "Identity", model: () => new Identity(), input: vec(3), ops: ["Identity"] },
  {
    name: "Embedding",
    model: () => new Embedding(11, 4),
    input: (n, s) => [randint(0, 11, [n, 5], { generator: gen(s) })],
    ops: ["Gather"],
  },
  { name: "Embedding with paddingIdx", model: () => new Embedding(11, 4, { paddingIdx: 0 }), input: (n, s) => [randint(0, 11, [n, 5], { generator: gen(s) })], ops: ["Gather"] },
];

describe("each layer alone, in ONNX Runtime", () => {
  for (const c of CASES) {
    it(`${c.name}: float32, batch 1 and 17`, async () => {
      const model = c.model("float32");
      const { worst: w, bytes } = await exportAndCompare(model, (n) => c.input(n, n));
      worst[c.name] = w;
      const s = summarize(bytes);
      if (c.ops) {
        let i = 0;
        for (const op of s.ops) if (op === c.ops[i]) i++;
        expect(i, `ops ${s.ops.join(", ")} should contain ${c.ops.join(", ")}`).toBe(c.ops.length);
      }
      expect(s.inputs[0]!.dims[0]).toBe("batch");
    });
    if (c.float64) {
      it(`${c.name}: float64`, async () => {
        await exportAndCompare(c.model("float64"), (n) => c.input(n, n).map((t) => (t.dtype === "float32" ? t.to("float64") : t)), { ort: c.ort64 });
      });
    }
  }

  it("unbatched input with dynamicBatch false (MaxPool2d, AvgPool2d and Conv2d on [C, H, W])", async () => {
    for (const model of [new MaxPool2d(2), new AvgPool2d(2), new Conv2d(3, 2, 3)]) {
      await exportAndCompare(model, () => [rn([3, 6, 6], 5)], { dynamicBatch: false });
    }
  });

  it("Conv2d with a padding mode other than zeros exports op by op (its padding kept), never as a zero-padded Conv", async () => {
    for (const paddingMode of ["reflect", "replicate", "circular"] as const) {
      const { bytes } = await exportAndCompare(new Conv2d(3, 2, 3, { padding: 1, paddingMode }), (n) => [rn([n, 3, 6, 6], 7)], { dynamicBatch: false });
      expect(summarize(bytes).ops).not.toContain("Pad"); // the non-constant modes are gathers
    }
  });

  it("pools in ceilMode: AvgPool2d exports op by op and matches; MaxPool2d is refused, not exported without ceil_mode", async () => {
    await exportAndCompare(new AvgPool2d(2, { ceilMode: true }), () => [rn([1, 3, 5, 5], 8)], { dynamicBatch: false });
    expect(() => exportOnnx(new MaxPool2d(2, { ceilMode: true }), [rn([1, 3, 5, 5], 8)])).toThrow(/ceilMode/);
  });

  it("prints the worst difference per layer", () => {
    const lines = Object.entries(worst).map(([k, v]) => `${k.padEnd(52)} ${v.toExponential(2)}`);
    console.log(`worst relative difference, float32, ONNX Runtime vs safegrad:\n${lines.join("\n")}`);
    expect(Object.keys(worst).length).toBe(CASES.length);
  });
});
