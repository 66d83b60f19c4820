/** Argument validation: every misuse throws a typed error naming the op and the offending value. */
import { describe, expect, it } from "vitest";
import { DTypeError, IndexError, ShapeError, ValueError, randn, tensor, zeros } from "../../src/index.js";
import { Conv2d, Embedding, Linear, Softmax, Sequential, functional as LF } from "../../src/layers/index.js";

const i32 = (v: number[]) => tensor(v, { dtype: "int32" });

describe("losses", () => {
  it("refuse input/target shape mismatches instead of broadcasting ([N] vs [N, 1])", () => {
    const x = randn([4, 1]);
    const t = randn([4]);
    for (const f of [LF.l1Loss, LF.mseLoss, LF.huberLoss, LF.smoothL1Loss, LF.binaryCrossEntropyWithLogits, LF.klDiv]) {
      expect(() => f(x, t), f.name).toThrow(ShapeError);
      expect(() => f(x, t), f.name).toThrow(/target shape \[4\] differs from input shape \[4, 1\]/);
    }
    expect(() => LF.mseLoss(randn([2]), randn([2], { dtype: "float64" }))).toThrow(DTypeError);
    expect(() => LF.mseLoss(randn([2]), i32([1, 2]))).toThrow(DTypeError);
  });

  it("check their options", () => {
    const x = randn([3]);
    expect(() => LF.mseLoss(x, x, { reduction: "avg" as never })).toThrow(/reduction must be/);
    expect(() => LF.huberLoss(x, x, { delta: 0 })).toThrow(ValueError);
    expect(() => LF.smoothL1Loss(x, x, { beta: -1 })).toThrow(ValueError);
    expect(() => LF.binaryCrossEntropy(tensor([0.5, 1.5]), tensor([0, 1]))).toThrow(/between 0 and 1, got 1.5/);
    expect(() => LF.binaryCrossEntropy(tensor([0.5, NaN]), tensor([0, 1]))).toThrow(/between 0 and 1/);
    expect(() => LF.klDiv(x, tensor([0.5, -0.1, 0.6]))).toThrow(/logTarget/);
    expect(() => LF.binaryCrossEntropyWithLogits(randn([2, 3]), randn([2, 3]), { posWeight: randn([2]) })).toThrow(ShapeError);
  });

  it("crossEntropy / nllLoss validate targets, weights and smoothing", () => {
    const logits = randn([3, 4]);
    expect(() => LF.crossEntropy(logits, i32([0, 4, 1]))).toThrow(IndexError);
    expect(() => LF.crossEntropy(logits, i32([0, 4, 1]))).toThrow(/target 4 is out of bounds for 4 classes/);
    expect(() => LF.crossEntropy(logits, i32([0, -1, 1]))).toThrow(/target -1/);
    expect(LF.crossEntropy(logits, i32([0, -1, 1]), { ignoreIndex: -1 }).item()).toBeGreaterThan(0);
    expect(() => LF.crossEntropy(logits, i32([0, 1]))).toThrow(/expected \[3\]/);
    expect(() => LF.crossEntropy(logits, randn([3]))).toThrow(/probability targets must have the input's shape/);
    expect(() => LF.crossEntropy(logits, i32([0, 1, 2]), { weight: tensor([1, 1, 1]) })).toThrow(/weight must have shape \[4\]/);
    expect(() => LF.crossEntropy(logits, i32([0, 1, 2]), { weight: tensor([1, NaN, 1, 1]) })).toThrow(/must be finite/);
    // negative class weights are allowed, as torch (issue 20)
    expect(LF.crossEntropy(logits, i32([0, 1, 2]), { weight: tensor([1, -1, 1, 1]) }).dtype).toBe("float32");
    expect(() => LF.crossEntropy(logits, i32([0, 1, 2]), { labelSmoothing: 1.5 })).toThrow(/labelSmoothing/);
    expect(() => LF.nllLoss(zeros([]), i32([0]))).toThrow(ShapeError);
  });

  it("a mean over zero elements is 0, not NaN", () => {
    const e = zeros([0, 3], { requiresGrad: true });
    expect(LF.mseLoss(e, zeros([0, 3])).item()).toBe(0);
    expect(LF.crossEntropy(zeros([0, 3]), tensor(new Int32Array(0), { shape: [0] })).item()).toBe(0);
    expect(LF.klDiv(e, zeros([0, 3]), { reduction: "batchmean" }).item()).toBe(0);
  });
});

describe("layers", () => {
  it("linear and Linear", () => {
    expect(() => LF.linear(randn([2, 3]), randn([4, 2]))).toThrow(/does not end with in_features 2/);
    expect(() => LF.linear(randn([2, 3]), randn([4, 3]), randn([3]))).toThrow(/bias must have shape \[4\]/);
    expect(() => new Linear(2.5, 3)).toThrow(ValueError);
    expect(() => new Linear(2, 3).forward(randn([2, 2], { dtype: "float64" }))).toThrow(DTypeError);
  });

  it("norms", () => {
    expect(() => LF.layerNorm(randn([2, 3]), [4])).toThrow(/expected input of shape \[\*, 4\], got \[2, 3\]/);
    expect(() => LF.layerNorm(randn([2, 3]), [3], { weight: randn([4]) })).toThrow(/weight must have shape \[3\]/);
    expect(() => LF.layerNorm(randn([2, 3]), [3], { eps: -1 })).toThrow(/eps/);
    expect(() => LF.batchNorm(randn([2, 3]), null, null)).toThrow(/evaluation mode/);
    expect(() => LF.batchNorm(randn([1, 3]), null, null, { training: true })).toThrow(/Expected more than 1 value per channel/);
    expect(() => LF.batchNorm(randn([2, 3]), zeros([3]).T, zeros([3]), { training: true })).not.toThrow();
    expect(() => LF.stdPool(randn([2, 3]), { dim: 1, correction: 3 })).toThrow(/correction=3/);
    expect(() => LF.normalize(randn([3]))).toThrow(ShapeError);
  });

  it("embedding", () => {
    const w = randn([5, 2]);
    expect(() => LF.embedding(i32([1, 5]), w)).toThrow(/index 5 is out of range for an embedding of 5 rows/);
    expect(() => LF.embedding(tensor([1, 2]), w)).toThrow(DTypeError);
    expect(() => new Embedding(5, 2, { paddingIdx: 5 })).toThrow(IndexError);
  });

  it("Conv2d", () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups/);
    expect(() => new Conv2d(3, 4, 3, { padding: "same", stride: 2 })).toThrow(/strided/);
    expect(() => new Conv2d(3, 4, 3).forward(randn([1, 2, 5, 5]))).toThrow(/expected 3 input channels/);
    expect(new Conv2d(3, 4, [3, 2], { padding: "same" }).forward(randn([2, 3, 5, 6])).shape).toEqual([2, 4, 5, 6]);
    expect(new Conv2d(3, 4, 3, { padding: "valid" }).forward(randn([3, 5, 6])).shape).toEqual([4, 3, 4]);
  });

  it("activations and containers", () => {
    expect(() => new Softmax(0.5)).toThrow(ValueError);
    const s = new Sequential(new Linear(2, 2));
    expect(() => s.at(3)).toThrow(IndexError);
    expect(s.at(-1)).toBe(s.at(0));
    expect([...s].length).toBe(1);
    expect(() => s.append({} as never)).toThrow(/expects modules/);
  });
});
