import { describe, expect, it } from "vitest";
import { Generator, Tensor, manualSeed, randn, zeros } from "../../src/index.js";
import { BatchNorm2d, Conv2d, Embedding, LayerNorm, Linear, RMSNorm, init } from "../../src/layers/index.js";

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const d = Array.from(t.toTypedArray());
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
  return { mean, std, min: Math.min(...d), max: Math.max(...d) };
}

describe("calculateGain and fans (as torch.nn.init)", () => {
  it("gains", () => {
    expect(init.calculateGain("linear")).toBe(1);
    expect(init.calculateGain("conv2d")).toBe(1);
    expect(init.calculateGain("sigmoid")).toBe(1);
    expect(init.calculateGain("tanh")).toBeCloseTo(5 / 3, 15);
    expect(init.calculateGain("relu")).toBe(Math.SQRT2);
    expect(init.calculateGain("leakyRelu")).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(init.calculateGain("leakyRelu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain("selu")).toBe(0.75);
    expect(() => init.calculateGain("swish" as never)).toThrow(/unsupported/);
  });
  it("fans", () => {
    expect(init.calculateFanInAndFanOut(zeros([8, 4, 3, 2]))).toEqual([24, 48]);
    expect(init.calculateFanInAndFanOut(zeros([5, 7]))).toEqual([7, 5]);
    expect(() => init.calculateFanInAndFanOut(zeros([5]))).toThrow(/at least 2 dims/);
  });
});

describe("initialisers", () => {
  const big = (): Tensor => zeros([200, 300], { dtype: "float64" });

  it("uniform, normal, constant, zeros, ones", () => {
    const u = stats(init.uniform(big(), { a: -2, b: 3, generator: new Generator(1) }));
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(0.5, 1);
    const n = stats(init.normal(big(), { mean: 1, std: 2, generator: new Generator(2) }));
    expect(n.mean).toBeCloseTo(1, 1);
    expect(n.std).toBeCloseTo(2, 1);
    expect(stats(init.constant(big(), 0.25))).toEqual({ mean: 0.25, std: 0, min: 0.25, max: 0.25 });
    expect(stats(init.ones(big())).mean).toBe(1);
    expect(stats(init.zeros(randn([3, 3]))).max).toBe(0);
    expect(() => init.uniform(big(), { a: 1, b: 0 })).toThrow(/a <= b/);
    expect(() => init.normal(big(), { std: -1 })).toThrow(/std/);
  });

  it("kaiming and xavier bounds and spreads", () => {
    const w = zeros([200, 300], { dtype: "float64" });
    const fanIn = 300;
    const fanOut = 200;
    const ku = stats(init.kaimingUniform(w, { nonlinearity: "relu", generator: new Generator(3) }));
    const kb = Math.sqrt(3) * Math.SQRT2 / Math.sqrt(fanIn);
    expect(ku.max).toBeLessThanOrEqual(kb);
    expect(ku.min).toBeGreaterThanOrEqual(-kb);
    expect(ku.std).toBeCloseTo(kb / Math.sqrt(3), 3);
    const kuOut = stats(init.kaimingUniform(w, { mode: "fanOut", nonlinearity: "relu", generator: new Generator(3) }));
    expect(kuOut.std).toBeCloseTo(Math.SQRT2 / Math.sqrt(fanOut), 3);
    const kn = stats(init.kaimingNormal(w, { a: 0.2, generator: new Generator(4) }));
    expect(kn.std).toBeCloseTo(Math.sqrt(2 / (1 + 0.04)) / Math.sqrt(fanIn), 3);
    const xu = stats(init.xavierUniform(w, { gain: 2, generator: new Generator(5) }));
    const xb = 2 * Math.sqrt(6 / (fanIn + fanOut));
    expect(xu.max).toBeLessThanOrEqual(xb);
    expect(xu.std).toBeCloseTo(xb / Math.sqrt(3), 3);
    const xn = stats(init.xavierNormal(w, { generator: new Generator(6) }));
    expect(xn.std).toBeCloseTo(Math.sqrt(2 / (fanIn + fanOut)), 3);
    expect(() => init.kaimingUniform(w, { mode: "fan_in" as never })).toThrow(/mode/);
  });

  it("are seeded, write in place without a graph, and respect strides", () => {
    const a = init.kaimingNormal(zeros([4, 5]), { generator: new Generator(9) });
    const b = init.kaimingNormal(zeros([4, 5]), { generator: new Generator(9) });
    expect(a.toArray()).toEqual(b.toArray());
    const p = zeros([3, 2]).requiresGrad_();
    expect(init.ones(p)).toBe(p);
    expect(p.gradFn).toBeNull();
    const base = zeros([3, 4]);
    init.constant(base.narrow(1, 1, 2), 7);
    expect(base.toArray()).toEqual([[0, 7, 7, 0], [0, 7, 7, 0], [0, 7, 7, 0]]);
    manualSeed(11);
    const c = init.uniform(zeros([6]));
    manualSeed(11);
    expect(init.uniform(zeros([6])).toArray()).toEqual(c.toArray());
  });
});

describe("default layer initialisation (as PyTorch)", () => {
  it("Linear and Conv2d: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weight and bias", () => {
    const fc = new Linear(400, 300, { dtype: "float64", generator: new Generator(1) });
    const bound = 1 / Math.sqrt(400);
    const w = stats(fc.weight);
    expect(w.max).toBeLessThanOrEqual(bound);
    expect(w.min).toBeGreaterThanOrEqual(-bound);
    expect(w.std).toBeCloseTo(bound / Math.sqrt(3), 3);
    const b = stats(fc.bias!);
    expect(b.max).toBeLessThanOrEqual(bound);
    expect(b.max).toBeGreaterThan(bound * 0.9);
    const conv = new Conv2d(8, 64, 3, { dtype: "float64", groups: 2, generator: new Generator(2) });
    const cb = 1 / Math.sqrt(4 * 9);
    expect(stats(conv.weight).max).toBeLessThanOrEqual(cb);
    expect(stats(conv.weight).std).toBeCloseTo(cb / Math.sqrt(3), 2);
    expect(stats(conv.bias!).max).toBeLessThanOrEqual(cb);
    expect(conv.weight.shape).toEqual([64, 4, 3, 3]);
  });

  it("Embedding N(0, 1) with a zero padding row; norms ones/zeros and fresh running stats", () => {
    const e = stats(new Embedding(1000, 50, { dtype: "float64", generator: new Generator(3) }).weight);
    expect(e.mean).toBeCloseTo(0, 1);
    expect(e.std).toBeCloseTo(1, 1);
    const padded = new Embedding(4, 3, { paddingIdx: -1 });
    expect(padded.paddingIdx).toBe(3);
    expect((padded.weight.toArray() as number[][])[3]).toEqual([0, 0, 0]);
    const ln = new LayerNorm([2, 3]);
    expect(ln.weight!.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(ln.bias!.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(new LayerNorm(3, { bias: false }).bias).toBeNull();
    expect(new RMSNorm(3).weight!.toArray()).toEqual([1, 1, 1]);
    expect(new RMSNorm(3).eps).toBe(1e-6);
    const bn = new BatchNorm2d(2);
    expect([bn.weight!.toArray(), bn.bias!.toArray(), bn.runningMean!.toArray(), bn.runningVar!.toArray(), bn.numBatchesTracked!.item()]).toEqual([[1, 1], [0, 0], [0, 0], [1, 1], 0]);
    expect(bn.numBatchesTracked!.dtype).toBe("int32");
  });

  it("the default generator makes construction reproducible", () => {
    manualSeed(42);
    const a = new Linear(3, 2);
    manualSeed(42);
    const b = new Linear(3, 2);
    expect(b.weight.toArray()).toEqual(a.weight.toArray());
    expect(b.bias!.toArray()).toEqual(a.bias!.toArray());
  });
});
