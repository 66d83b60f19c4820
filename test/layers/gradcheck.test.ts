/**
 * float64 central-difference gradchecks of every layer and loss (inputs away from kinks), and
 * exact checks at the kinks.
 */
import { describe, expect, it } from "vitest";
import { Generator, Tensor, gradcheck, randn, rand, tensor, zeros } from "../../src/index.js";
import {
  AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Flatten, GELU, SiLU, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool2d, RMSNorm, ReLU,
  Sequential, Sigmoid, Softmax, Tanh, functional as LF,
} from "../../src/layers/index.js";
import type { AnyModule } from "../../src/layers/index.js";
import { forward } from "./helpers.js";

const gen = new Generator(1234);
/** -0 and 0 compare equal in these checks. */
const plain = (v: number): number => v + 0;

/** Gradient of sum(fn(x)) (or of a scalar loss) w.r.t. each input. */
function grads(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): number[][] {
  const xs = inputs.map((t) => t.detach().requiresGrad_());
  fn(...xs).sum().backward();
  return xs.map((x) => Array.from(x.grad!.toTypedArray(), plain));
}

const f64 = (shape: number[], scale = 1): Tensor => randn(shape, { dtype: "float64", generator: gen }).mul(scale).requiresGrad_();
const u64 = (shape: number[], lo = 0, hi = 1): Tensor => rand(shape, { dtype: "float64", generator: gen }).mul(hi - lo).add(lo).requiresGrad_();
const i32 = (v: number[] | number[][]): Tensor => tensor(v, { dtype: "int32" });
/** Away from the kinks of |d| = 0, beta, delta: |d| in [0.1, 0.4] U [0.6, 3]. */
const awayFromKinks = (shape: number[]): Tensor => {
  const d = rand(shape, { dtype: "float64", generator: gen }).toTypedArray();
  const s = d.map((v, i) => (i % 2 ? -1 : 1) * (v < 0.3 ? 0.1 + v : 0.6 + v * 2.4));
  return tensor(s, { shape }).requiresGrad_();
};

describe("gradcheck: layers (input and parameters)", () => {
  it("linear", () => {
    expect(gradcheck((x, w, b) => LF.linear(x, w, b), [f64([3, 4]), f64([2, 4]), f64([2])])).toBe(true);
    expect(gradcheck((x, w) => LF.linear(x, w), [f64([2, 2, 3]), f64([2, 3])])).toBe(true);
  });
  it("layerNorm, rmsNorm, batchNorm (train and eval)", () => {
    expect(gradcheck((x, w, b) => LF.layerNorm(x, [4], { weight: w, bias: b }), [f64([3, 4]), u64([4], 0.5, 1.5), f64([4])])).toBe(true);
    expect(gradcheck((x) => LF.layerNorm(x, [2, 3]), [f64([2, 2, 3])])).toBe(true);
    expect(gradcheck((x, w) => LF.rmsNorm(x, [4], { weight: w }), [f64([3, 4]), u64([4], 0.5, 1.5)])).toBe(true);
    expect(gradcheck((x, w, b) => LF.batchNorm(x, null, null, { training: true, weight: w, bias: b }), [f64([4, 3]), u64([3], 0.5, 1.5), f64([3])])).toBe(true);
    expect(gradcheck((x) => LF.batchNorm(x, null, null, { training: true }), [f64([2, 2, 2, 2])])).toBe(true);
    const rm = randn([3], { dtype: "float64", generator: gen });
    const rv = rand([3], { dtype: "float64", generator: gen }).add(0.5);
    expect(gradcheck((x, w, b) => LF.batchNorm(x, rm, rv, { weight: w, bias: b }), [f64([2, 3, 2]), f64([3]), f64([3])])).toBe(true);
  });
  it("embedding (weight); the padding row gets exactly no gradient", () => {
    const idx = i32([[0, 2, 2], [3, 1, 0]]);
    expect(gradcheck((w) => LF.embedding(idx, w), [f64([4, 3])])).toBe(true);
    const w = f64([4, 3]);
    const go = randn([2, 3, 3], { dtype: "float64", generator: gen });
    const [noPad] = grads((v) => LF.embedding(idx, v).mul(go), [w]);
    const [padded] = grads((v) => LF.embedding(idx, v, { paddingIdx: 2 }).mul(go), [w]);
    expect(padded).toEqual(noPad!.map((v, i) => (i >= 6 && i < 9 ? 0 : v)));
    expect(LF.embedding(idx, w, { paddingIdx: 2 }).toArray()).toEqual(LF.embedding(idx, w).toArray());
  });
  it("dropout with a fixed mask", () => {
    expect(gradcheck((x) => LF.dropout(x, { p: 0.4, generator: new Generator(5) }), [f64([3, 4])])).toBe(true);
  });
  it("normalize and stdPool", () => {
    expect(gradcheck((x) => LF.normalize(x), [f64([3, 4])])).toBe(true);
    expect(gradcheck((x) => LF.normalize(x, { p: 3, dim: 0 }), [f64([3, 4])])).toBe(true);
    expect(gradcheck((x) => LF.stdPool(x, { dim: 1 }), [f64([3, 5])])).toBe(true);
    expect(gradcheck((x) => LF.stdPool(x, { dim: [0, 2], correction: 1, keepdim: true }), [f64([2, 3, 2])])).toBe(true);
  });
  it("every module with respect to its input", () => {
    const o = { dtype: "float64" as const };
    const cases: Array<[AnyModule, number[]]> = [
      [new Linear(3, 2, o), [2, 3]],
      [new Conv2d(2, 2, 3, { ...o, padding: 1, stride: 2 }), [1, 2, 5, 5]],
      [new Conv2d(2, 2, 2, { ...o, padding: "same", dilation: 1 }), [1, 2, 3, 3]],
      [new MaxPool2d(2), [1, 1, 4, 4]],
      [new AvgPool2d(2, { stride: 1 }), [1, 1, 3, 3]],
      [new LayerNorm(4, o), [2, 4]],
      [new RMSNorm(4, o), [2, 4]],
      [new BatchNorm1d(3, o), [4, 3]],
      [new BatchNorm2d(2, o), [2, 2, 2, 2]],
      [new BatchNorm2d(2, o).eval(), [1, 2, 2, 2]],
      [new Sequential(new Linear(3, 4, o), new Tanh(), new Linear(4, 2, o), new Sigmoid()), [2, 3]],
      [new Sequential(new GELU(), new LeakyReLU(0.1), new Softmax(1), new Flatten()), [2, 3]],
      [new Sequential(new GELU({ approximate: "tanh" }), new LogSoftmax(-1)), [2, 3]],
      [new SiLU(), [2, 3]],
    ];
    for (const [m, shape] of cases) {
      // NOTE: BatchNorm in training mode updates its running stats on every call; that does not change outputs.
      expect(gradcheck((x) => forward(m, x), [f64(shape)], { name: m.constructor.name })).toBe(true);
    }
    const relu = new ReLU();
    expect(gradcheck((x) => forward(relu, x), [u64([5], 0.1, 1)])).toBe(true);
  });
});

describe("gradcheck: losses", () => {
  it("l1, mse, huber, smoothL1 (input and target)", () => {
    for (const reduction of ["mean", "sum", "none"] as const) {
      const d = awayFromKinks([3, 4]);
      const t = f64([3, 4]);
      const x = () => d.detach().add(t.detach()).requiresGrad_();
      expect(gradcheck((a, b) => LF.l1Loss(a, b, { reduction }), [x(), t])).toBe(true);
      expect(gradcheck((a, b) => LF.mseLoss(a, b, { reduction }), [x(), t])).toBe(true);
      expect(gradcheck((a, b) => LF.huberLoss(a, b, { reduction, delta: 0.5 }), [x(), t])).toBe(true);
      expect(gradcheck((a, b) => LF.smoothL1Loss(a, b, { reduction, beta: 0.5 }), [x(), t])).toBe(true);
      expect(gradcheck((a, b) => LF.smoothL1Loss(a, b, { reduction, beta: 0 }), [x(), t])).toBe(true);
    }
  });
  it("crossEntropy: indices, weights, ignoreIndex, label smoothing, k-dim, probabilities", () => {
    const t = i32([2, 0, -100, 1]);
    const w = tensor([0.5, 2, 1], { dtype: "float64" });
    for (const reduction of ["mean", "sum", "none"] as const) {
      expect(gradcheck((x) => LF.crossEntropy(x, t, { reduction, weight: w, labelSmoothing: 0.2 }), [f64([4, 3], 2)])).toBe(true);
      expect(gradcheck((x) => LF.crossEntropy(x, t, { reduction }), [f64([4, 3], 2)])).toBe(true);
    }
    expect(gradcheck((x) => LF.crossEntropy(x, i32([[0, 2], [1, 1]]), { ignoreIndex: 1 }), [f64([2, 3, 2])])).toBe(true);
    expect(gradcheck((x, wt) => LF.crossEntropy(x, i32([0, 2, 2]), { weight: wt }), [f64([3, 3]), u64([3], 0.5, 2)])).toBe(true);
    const p = f64([3, 4]).detach().softmax(1).requiresGrad_();
    expect(gradcheck((x, q) => LF.crossEntropy(x, q, { labelSmoothing: 0.1, weight: tensor([1, 2, 1, 0.5], { dtype: "float64" }) }), [f64([3, 4]), p])).toBe(true);
    expect(gradcheck((x) => LF.crossEntropy(x, tensor(1, { dtype: "int32" })), [f64([4])])).toBe(true);
  });
  it("nllLoss", () => {
    expect(gradcheck((x) => LF.nllLoss(x, i32([1, 0, 2]), { weight: tensor([1, 2, 3], { dtype: "float64" }) }), [f64([3, 3])])).toBe(true);
  });
  it("binaryCrossEntropyWithLogits and binaryCrossEntropy", () => {
    const t = u64([3, 4]);
    expect(gradcheck((x, y) => LF.binaryCrossEntropyWithLogits(x, y), [f64([3, 4], 3), t])).toBe(true);
    expect(gradcheck((x, pw, w) => LF.binaryCrossEntropyWithLogits(x, t.detach(), { posWeight: pw, weight: w, reduction: "sum" }), [f64([3, 4]), u64([4], 0.5, 3), u64([3, 1])])).toBe(true);
    expect(gradcheck((x, y) => LF.binaryCrossEntropy(x, y, { weight: tensor([1, 2, 3, 4], { dtype: "float64" }) }), [u64([3, 4], 0.05, 0.95), t])).toBe(true);
  });
  it("cosineSimilarity (incl. broadcasting and a norm below eps) and klDiv", () => {
    expect(gradcheck((a, b) => LF.cosineSimilarity(a, b), [f64([3, 4]), f64([3, 4])])).toBe(true);
    expect(gradcheck((a, b) => LF.cosineSimilarity(a, b, { dim: 0 }), [f64([3, 4]), f64([3, 1])])).toBe(true);
    // Below eps the value is a / eps (smooth there) with torch 1.13's gradient, which is not the
    // derivative of that value; only the right side is gradchecked.
    const tiny = f64([2, 3], 1e-10).detach();
    expect(gradcheck((b) => LF.cosineSimilarity(tiny, b, { dim: 1 }), [f64([2, 3])])).toBe(true);
    const q = f64([3, 4]).detach().logSoftmax(1).requiresGrad_();
    const p = f64([3, 4]).detach().softmax(1).requiresGrad_();
    for (const reduction of ["mean", "batchmean", "sum", "none"] as const) {
      expect(gradcheck((a, b) => LF.klDiv(a, b, { reduction }), [q, p])).toBe(true);
      expect(gradcheck((a, b) => LF.klDiv(a, b, { reduction, logTarget: true }), [q, q.detach().mul(1.1).requiresGrad_()])).toBe(true);
    }
  });
});


describe("exact values at the kinks", () => {
  it("l1 at zero error: gradient exactly 0 for input and target", () => {
    const x = tensor([1.5, -2, 0], { dtype: "float64" });
    const [gx, gt] = grads((a, b) => LF.l1Loss(a, b), [x, x]);
    expect(gx).toEqual([0, 0, 0]);
    expect(gt).toEqual([0, 0, 0]);
    expect(grads((a, b) => LF.l1Loss(a, b), [tensor([1, 1, 2], { dtype: "float64" }), tensor([1, 0, 3], { dtype: "float64" })])[0]).toEqual([0, 1 / 3, -1 / 3]);
  });

  it("smoothL1 at |d| = beta is continuous: gradient sign(d) (and d/beta = 1 from inside)", () => {
    const t = zeros([4], { dtype: "float64" });
    const x = tensor([0.5, -0.5, 0, 0.25], { dtype: "float64" });
    const [g] = grads((a, b) => LF.smoothL1Loss(a, b, { beta: 0.5, reduction: "sum" }), [x, t]);
    expect(g).toEqual([1, -1, 0, 0.5]);
    const v = LF.smoothL1Loss(x, t, { beta: 0.5, reduction: "none" }).toArray();
    expect(v).toEqual([0.25, 0.25, 0, 0.0625]);
    // beta = 0 is L1 exactly (no 0/0), also at d = 0.
    const [g0] = grads((a, b) => LF.smoothL1Loss(a, b, { beta: 0, reduction: "sum" }), [x, t]);
    expect(g0).toEqual([1, -1, 0, 1]);
  });

  it("huber at |d| = delta: gradient delta * sign(d); at 0: 0", () => {
    const t = tensor([1, 1, 1], { dtype: "float64" });
    const x = tensor([3, -1, 1], { dtype: "float64" });
    const [g] = grads((a, b) => LF.huberLoss(a, b, { delta: 2, reduction: "sum" }), [x, t]);
    expect(g).toEqual([2, -2, 0]);
    expect(LF.huberLoss(x, t, { delta: 2, reduction: "none" }).toArray()).toEqual([2, 2, 0]);
  });

  it("normalize at x = 0: value 0, gradient g / eps (finite), as torch", () => {
    const x = zeros([2, 3], { dtype: "float64" });
    const w = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
    expect(LF.normalize(x).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    const [g] = grads((a) => LF.normalize(a).mul(w), [x]);
    expect(g).toEqual([1, 2, 3, 4, 5, 6].map((v) => v / 1e-12));
  });

  it("stdPool on a constant vector: sqrt(eps) and an exactly zero gradient", () => {
    const x = tensor([[2.5, 2.5, 2.5, 2.5]], { dtype: "float64" });
    expect(LF.stdPool(x, { dim: 1 }).item()).toBeCloseTo(Math.sqrt(1e-5), 15);
    expect(grads((a) => LF.stdPool(a, { dim: 1 }), [x])[0]).toEqual([0, 0, 0, 0]);
    // std (and var) are 0 there with gradient 0 (as torch's fused std); a variance written by hand
    // under a sqrt is 0 * inf = NaN: the reason stdPool exists.
    expect(grads((a) => a.std(1), [x])[0]).toEqual([0, 0, 0, 0]);
    expect(grads((a) => a.sub(a.mean(1, true)).square().mean(1).sqrt(), [x])[0]!.every(Number.isNaN)).toBe(true);
  });

  it("layerNorm / rmsNorm / batchNorm of a constant row: finite output and gradient", () => {
    const x = tensor([[3, 3, 3, 3]], { dtype: "float64" });
    expect(LF.layerNorm(x, [4]).toArray()).toEqual([[0, 0, 0, 0]]);
    expect(grads((a) => LF.layerNorm(a, [4]).mul(tensor([1, 2, 3, 4], { dtype: "float64" })), [x])[0]!.every(Number.isFinite)).toBe(true);
    const z = zeros([1, 4], { dtype: "float64" });
    expect(LF.rmsNorm(z, [4]).toArray()).toEqual([[0, 0, 0, 0]]);
    expect(grads((a) => LF.rmsNorm(a, [4]), [z])[0]).toEqual([1e3, 1e3, 1e3, 1e3].map((v) => expect.closeTo(v, 9)));
    const c = tensor([[1, 2], [1, 3]], { dtype: "float64" });
    const [gb] = grads((a) => LF.batchNorm(a, null, null, { training: true }).mul(tensor([[1, 2], [3, 4]], { dtype: "float64" })), [c]);
    expect(gb!.every(Number.isFinite)).toBe(true);
  });

  it("binaryCrossEntropyWithLogits at x = 0: gradient sigmoid(0) - t exactly", () => {
    const t = tensor([0, 0.25, 1], { dtype: "float64" });
    const [g] = grads((a, b) => LF.binaryCrossEntropyWithLogits(a, b, { reduction: "sum" }), [zeros([3], { dtype: "float64" }), t]);
    expect(g).toEqual([0.5, 0.25, -0.5]);
    const [gp] = grads((a, b) => LF.binaryCrossEntropyWithLogits(a, b, { reduction: "sum", posWeight: tensor([3], { dtype: "float64" }) }), [zeros([3], { dtype: "float64" }), t]);
    // d/dx = sigmoid(x) (1 + (pw - 1) t) - pw t
    expect(gp).toEqual([0.5, 0.5 * 1.5 - 0.75, 0.5 * 3 - 3]);
  });

  it("crossEntropy with every target ignored: 0 and a zero gradient (PyTorch: NaN)", () => {
    const t = i32([-100, -100]);
    for (const o of [{}, { weight: tensor([1, 2, 3], { dtype: "float64" }) }, { labelSmoothing: 0.3 }]) {
      const x = randn([2, 3], { dtype: "float64" }).requiresGrad_();
      const l = LF.crossEntropy(x, t, o);
      expect(l.item()).toBe(0);
      l.backward();
      expect(Array.from(x.grad!.toTypedArray())).toEqual([0, 0, 0, 0, 0, 0]);
    }
    const x = randn([2, 3], { dtype: "float64" }).requiresGrad_();
    const l = LF.nllLoss(x, i32([1, 1]), { ignoreIndex: 1 });
    l.backward();
    expect([l.item(), ...x.grad!.toTypedArray()]).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it("binaryCrossEntropy at p = 0 and 1: logs clamped at -100, gradient bounded by 1e12 as PyTorch", () => {
    const p = tensor([0, 1, 0, 1], { dtype: "float64" });
    const t = tensor([0, 1, 1, 0], { dtype: "float64" });
    expect(Array.from(LF.binaryCrossEntropy(p, t, { reduction: "none" }).toTypedArray(), plain)).toEqual([0, 0, 100, 100]);
    const [gp, gt] = grads((a, b) => LF.binaryCrossEntropy(a, b, { reduction: "sum" }), [p, t]);
    // PyTorch: (p - t) / max(p (1 - p), 1e-12) = [0, 0, -1e12, 1e12]; the first two here are the
    // one-sided derivatives of the (clamped) loss, 1 and -1.
    expect(gp).toEqual([1, -1, -1e12, 1e12]);
    expect(gt).toEqual([100, -100, 100, -100]); // log(1 - p) - log(p), clamped
    // float32: p = 2.5e-43 (subnormal) would give 1/p = Infinity.
    const p32 = tensor([2.5e-43, 1e-20, 0.5], { dtype: "float32" });
    const [g32] = grads((a, b) => LF.binaryCrossEntropy(a, b), [p32, tensor([1, 1, 1], { dtype: "float32" })]);
    expect(g32!.map((v) => Math.fround(v))).toEqual([-1e12 / 3, -1e12 / 3, -2 / 3].map(Math.fround));
  });

  it("rescaled rows (huge magnitudes) give the float64 answer in float32", () => {
    const rows = [[1e30, -2e30, 3e29, 0], [3e38, 3e38, 3e38, 3e38], [1, 2, 3, 4]];
    const x32 = tensor(rows, { dtype: "float32" });
    const x64 = x32.to("float64");
    const pairs: Array<[string, (x: Tensor) => Tensor]> = [
      ["layerNorm", (x) => LF.layerNorm(x, [4])],
      ["rmsNorm", (x) => LF.rmsNorm(x, [4])],
      ["normalize", (x) => LF.normalize(x)],
      ["stdPool", (x) => LF.stdPool(x, { dim: 1 })],
      ["batchNorm", (x) => LF.batchNorm(x.narrow(0, 0, 2), null, null, { training: true })],
    ];
    for (const [name, f] of pairs) {
      const a = f(x32).toTypedArray();
      const b = f(x64).toTypedArray();
      a.forEach((v, i) => expect(Math.abs(v - b[i]!), `${name} element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(1e-6 * Math.abs(b[i]!) + 1e-6));
    }
    // A single huge element per row: std is sqrt(eps), with a zero gradient.
    const one = tensor([[1e30], [0]], { dtype: "float32" });
    expect(Array.from(LF.stdPool(one, { dim: 1 }).toTypedArray())).toEqual([Math.fround(Math.sqrt(1e-5)), Math.fround(Math.sqrt(1e-5))]);
    expect(grads((a) => LF.stdPool(a, { dim: 1 }), [one])[0]).toEqual([0, 0]);
  });

  it("klDiv with zero targets: 0 contribution even at input -inf", () => {
    const q = tensor([-Infinity, -1], { dtype: "float64" });
    const p = tensor([0, 1], { dtype: "float64" });
    expect(LF.klDiv(q, p, { reduction: "none" }).toArray()).toEqual([0, 1]);
    const [gq] = grads((a, b) => LF.klDiv(a, b, { reduction: "sum" }), [q, p]);
    expect(gq).toEqual([0, -1]);
    const lt = tensor([-Infinity, 0], { dtype: "float64" });
    expect(LF.klDiv(q, lt, { reduction: "none", logTarget: true }).toArray()).toEqual([0, 1]);
    const [gq2, gt2] = grads((a, b) => LF.klDiv(a, b, { reduction: "sum", logTarget: true }), [q, lt]);
    expect(gq2).toEqual([0, -1]);
    expect(gt2).toEqual([0, 2]);
  });
});
