import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  avgPool2d, conv2d, DTypeError, grad, maxPool2d, maxPool2dWithIndices, ShapeError, tensor, ValueError, zeros, type Tensor,
} from "../../src/index.js";
import { expectClose, rnd, seedArb, vals } from "../helpers.js";

interface ConvCase {
  N: number; Cg: number; groups: number; Og: number; H: number; W: number; kH: number; kW: number;
  stride: [number, number]; padding: [number, number]; dilation: [number, number]; bias: boolean; unbatched: boolean; seed: number;
}

/** Naive NCHW cross-correlation with zero padding, stride, dilation and groups. */
function naiveConv(x: number[], w: number[], b: number[] | null, c: ConvCase): { shape: number[]; data: number[] } {
  const C = c.Cg * c.groups;
  const O = c.Og * c.groups;
  const Ho = Math.floor((c.H + 2 * c.padding[0] - c.dilation[0] * (c.kH - 1) - 1) / c.stride[0]) + 1;
  const Wo = Math.floor((c.W + 2 * c.padding[1] - c.dilation[1] * (c.kW - 1) - 1) / c.stride[1]) + 1;
  const X = (n: number, ch: number, h: number, ww: number): number =>
    h < 0 || h >= c.H || ww < 0 || ww >= c.W ? 0 : x[((n * C + ch) * c.H + h) * c.W + ww]!;
  const data: number[] = [];
  for (let n = 0; n < c.N; n++)
    for (let o = 0; o < O; o++)
      for (let oh = 0; oh < Ho; oh++)
        for (let ow = 0; ow < Wo; ow++) {
          let acc = b ? b[o]! : 0;
          const g = Math.floor(o / c.Og);
          for (let ci = 0; ci < c.Cg; ci++)
            for (let kh = 0; kh < c.kH; kh++)
              for (let kw = 0; kw < c.kW; kw++)
                acc += X(n, g * c.Cg + ci, oh * c.stride[0] - c.padding[0] + kh * c.dilation[0], ow * c.stride[1] - c.padding[1] + kw * c.dilation[1]) *
                  w[((o * c.Cg + ci) * c.kH + kh) * c.kW + kw]!;
          data.push(acc);
        }
  return { shape: [c.N, O, Ho, Wo], data };
}

const pair = (min: number, max: number): fc.Arbitrary<[number, number]> => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));
const convArb: fc.Arbitrary<ConvCase> = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    Cg: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    Og: fc.integer({ min: 1, max: 2 }),
    H: fc.integer({ min: 1, max: 7 }),
    W: fc.integer({ min: 1, max: 7 }),
    kH: fc.integer({ min: 1, max: 3 }),
    kW: fc.integer({ min: 1, max: 3 }),
    stride: pair(1, 3),
    padding: pair(0, 2),
    dilation: pair(1, 2),
    bias: fc.boolean(),
    unbatched: fc.boolean(),
    seed: seedArb,
  })
  .filter((c) => c.H + 2 * c.padding[0] >= c.dilation[0] * (c.kH - 1) + 1 && c.W + 2 * c.padding[1] >= c.dilation[1] * (c.kW - 1) + 1)
  .map((c) => ({ ...c, N: c.unbatched ? 1 : c.N }));

function makeConv(c: ConvCase): { x: Tensor; w: Tensor; b: Tensor | null } {
  const C = c.Cg * c.groups;
  const O = c.Og * c.groups;
  const x = rnd(c.unbatched ? [C, c.H, c.W] : [c.N, C, c.H, c.W], c.seed);
  const w = rnd([O, c.Cg, c.kH, c.kW], c.seed + 1);
  const b = c.bias ? rnd([O], c.seed + 2) : null;
  return { x, w, b };
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe("conv2d vs a naive loop", () => {
  it("random shapes with stride, padding, dilation, groups, bias and unbatched input", () => {
    fc.assert(
      fc.property(convArb, (c) => {
        const { x, w, b } = makeConv(c);
        const y = conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
        const { shape, data } = naiveConv(vals(x), vals(w), b ? vals(b) : null, c);
        expect(y.shape).toEqual(c.unbatched ? shape.slice(1) : shape);
        expectClose(vals(y), data, 1e-12, 1e-12);
      }),
      { numRuns: 120 },
    );
  });

  it("input and weight gradients are the adjoints of the convolution (<conv(x, w), G> = <x, gx> = <w, gw>)", () => {
    fc.assert(
      fc.property(convArb, (c) => {
        const { x, w } = makeConv({ ...c, unbatched: false });
        x.requiresGrad_();
        w.requiresGrad_();
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const y = conv2d(x, w, null, opts);
        const G = rnd(y.shape, c.seed + 3);
        const [gx, gw] = grad([y], [x, w], { gradOutputs: [G] });
        const lhs = dot(vals(y), vals(G));
        expect(gx!.shape).toEqual(x.shape);
        expect(gw!.shape).toEqual(w.shape);
        expect(Math.abs(dot(vals(x), vals(gx!)) - lhs)).toBeLessThan(1e-9 * (1 + Math.abs(lhs)));
        expect(Math.abs(dot(vals(w), vals(gw!)) - lhs)).toBeLessThan(1e-9 * (1 + Math.abs(lhs)));
      }),
      { numRuns: 60 },
    );
  });

  it("second-order gradients through conv2d agree with the bilinear identities", () => {
    const c: ConvCase = { N: 2, Cg: 2, groups: 2, Og: 1, H: 5, W: 4, kH: 3, kW: 2, stride: [2, 1], padding: [1, 1], dilation: [1, 2], bias: false, unbatched: false, seed: 9 };
    const { x, w } = makeConv(c);
    x.requiresGrad_();
    w.requiresGrad_();
    const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
    const y = conv2d(x, w, null, opts);
    const G = rnd(y.shape, 10).requiresGrad_();
    const [gx, gw] = grad([y], [x, w], { gradOutputs: [G], createGraph: true });
    // <gx, H> = <G, conv(H, w)>, so d<gx, H>/dw = gradW(H, G) = d<conv(H, w), G>/dw, and d/dG = conv(H, w).
    const Hx = rnd(x.shape, 11);
    const [dw, dG] = grad([gx!.mul(Hx).sum()], [w, G]);
    const wAlt = w.detach().requiresGrad_();
    const [dwRef] = grad([conv2d(Hx, wAlt, null, opts).mul(G.detach()).sum()], [wAlt]);
    expectClose(vals(dw!), vals(dwRef!), 1e-10, 1e-10);
    expectClose(vals(dG!), vals(conv2d(Hx, w.detach(), null, opts)), 1e-10, 1e-10);
    // <gw, K> = <G, conv(x, K)>: d/dx = gradX(G, K), d/dG = conv(x, K).
    const K = rnd(w.shape, 12);
    const [dx, dG2] = grad([gw!.mul(K).sum()], [x, G]);
    const xAlt = x.detach().requiresGrad_();
    const [dxRef] = grad([conv2d(xAlt, K, null, opts).mul(G.detach()).sum()], [xAlt]);
    expectClose(vals(dx!), vals(dxRef!), 1e-10, 1e-10);
    expectClose(vals(dG2!), vals(conv2d(x.detach(), K, null, opts)), 1e-10, 1e-10);
  });

  it("bias gradient is the sum of the output gradient over N, H, W", () => {
    const x = rnd([2, 3, 4, 4], 1);
    const w = rnd([5, 3, 3, 3], 2);
    const b = rnd([5], 3).requiresGrad_();
    conv2d(x, w, b, { padding: 1 }).sum().backward();
    expect(vals(b.grad!)).toEqual([32, 32, 32, 32, 32]);
  });

  it("invalid arguments throw typed errors", () => {
    const x = zeros([1, 4, 5, 5]);
    const w = zeros([2, 4, 3, 3]);
    expect(() => conv2d(zeros([4, 5]), w)).toThrow(ShapeError);
    expect(() => conv2d(x, zeros([2, 4, 3]))).toThrow(/weight/);
    expect(() => conv2d(x, zeros([2, 3, 3, 3]))).toThrow(/4 channels/);
    expect(() => conv2d(x, zeros([3, 2, 3, 3]), null, { groups: 2 })).toThrow(/not divisible by groups/);
    expect(() => conv2d(x, w, null, { groups: 0 })).toThrow(ValueError);
    expect(() => conv2d(x, w, null, { stride: 0 })).toThrow(ValueError);
    expect(() => conv2d(x, w, null, { padding: -1 })).toThrow(ValueError);
    expect(() => conv2d(x, w, null, { dilation: [1, 1.5] })).toThrow(ValueError);
    expect(() => conv2d(x, zeros([2, 4, 7, 3]))).toThrow(/output height would be -1/);
    expect(() => conv2d(x, w, zeros([3]))).toThrow(/bias must have shape \[2\]/);
    expect(() => conv2d(x, zeros([2, 4, 3, 3], { dtype: "float64" }))).toThrow(DTypeError);
    expect(() => conv2d(zeros([1, 4, 5, 5], { dtype: "int32" }), zeros([2, 4, 3, 3], { dtype: "int32" }))).toThrow(DTypeError);
  });
});

interface PoolCase {
  N: number; C: number; H: number; W: number; k: [number, number]; stride: [number, number]; padding: [number, number]; dilation: [number, number]; seed: number;
}
const poolArb: fc.Arbitrary<PoolCase> = fc
  .record({
    N: fc.integer({ min: 1, max: 2 }),
    C: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 1, max: 7 }),
    W: fc.integer({ min: 1, max: 7 }),
    k: pair(1, 3),
    stride: pair(1, 3),
    padding: pair(0, 1),
    dilation: pair(1, 2),
    seed: seedArb,
  })
  .filter((p) => 2 * p.padding[0] <= p.k[0] && 2 * p.padding[1] <= p.k[1])
  .filter((p) => p.H + 2 * p.padding[0] >= p.dilation[0] * (p.k[0] - 1) + 1 && p.W + 2 * p.padding[1] >= p.dilation[1] * (p.k[1] - 1) + 1)
  // A dilated window can lie entirely in the padding: that case has its own test below.
  .filter((p) => windows(new Array(p.N * p.C * p.H * p.W).fill(0), p, p.dilation).wins.every((w) => w.cells.length > 0));

/** Every window of a pool, as lists of [value, flatIndex] (padding excluded) plus its padded size. */
function windows(x: number[], p: PoolCase, dil: [number, number]): { shape: number[]; wins: { cells: [number, number][]; size: number }[] } {
  const Ho = Math.floor((p.H + 2 * p.padding[0] - dil[0] * (p.k[0] - 1) - 1) / p.stride[0]) + 1;
  const Wo = Math.floor((p.W + 2 * p.padding[1] - dil[1] * (p.k[1] - 1) - 1) / p.stride[1]) + 1;
  const wins: { cells: [number, number][]; size: number }[] = [];
  for (let nc = 0; nc < p.N * p.C; nc++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++) {
        const cells: [number, number][] = [];
        for (let kh = 0; kh < p.k[0]; kh++)
          for (let kw = 0; kw < p.k[1]; kw++) {
            const ih = oh * p.stride[0] - p.padding[0] + kh * dil[0];
            const iw = ow * p.stride[1] - p.padding[1] + kw * dil[1];
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) cells.push([x[(nc * p.H + ih) * p.W + iw]!, ih * p.W + iw]);
          }
        // torch's padded window size (clipped at H + pad, W + pad)
        const hEnd = Math.min(oh * p.stride[0] - p.padding[0] + p.k[0], p.H + p.padding[0]);
        const wEnd = Math.min(ow * p.stride[1] - p.padding[1] + p.k[1], p.W + p.padding[1]);
        wins.push({ cells, size: (hEnd - (oh * p.stride[0] - p.padding[0])) * (wEnd - (ow * p.stride[1] - p.padding[1])) });
      }
  return { shape: [p.N, p.C, Ho, Wo], wins };
}

describe("pooling vs naive loops", () => {
  it("maxPool2d values and first-max indices (stride, padding, dilation, ties)", () => {
    fc.assert(
      fc.property(poolArb, fc.boolean(), (p, ties) => {
        let x = rnd([p.N, p.C, p.H, p.W], p.seed);
        if (ties) x = x.mul(0.7).add(0.5).clamp(0, 1); // many exact ties at 0 and 1... of the clamped range
        const { values, indices } = maxPool2dWithIndices(x, p.k, { stride: p.stride, padding: p.padding, dilation: p.dilation });
        const { shape, wins } = windows(vals(x), p, p.dilation);
        expect(values.shape).toEqual(shape);
        expect(indices.dtype).toBe("int32");
        const expV: number[] = [];
        const expI: number[] = [];
        for (const w of wins) {
          let best = w.cells[0]!;
          for (const c of w.cells) if (c[0] > best[0]) best = c;
          expV.push(best[0]);
          expI.push(best[1]);
        }
        expect(vals(values)).toEqual(expV);
        expect(vals(indices)).toEqual(expI);
        expect(vals(maxPool2d(x, p.k, { stride: p.stride, padding: p.padding, dilation: p.dilation }))).toEqual(expV);
      }),
      { numRuns: 120 },
    );
  });

  it("avgPool2d with countIncludePad true/false and divisorOverride", () => {
    fc.assert(
      fc.property(poolArb, fc.constantFrom<"include" | "exclude" | "override">("include", "exclude", "override"), (p, mode) => {
        const x = rnd([p.N, p.C, p.H, p.W], p.seed);
        const opts = { stride: p.stride, padding: p.padding, countIncludePad: mode !== "exclude", ...(mode === "override" ? { divisorOverride: 3 } : {}) };
        const y = avgPool2d(x, p.k, opts);
        const { shape, wins } = windows(vals(x), p, [1, 1]);
        expect(y.shape).toEqual(shape);
        const expected = wins.map((w) => {
          const s = w.cells.reduce((a, c) => a + c[0], 0);
          if (mode === "override") return s / 3;
          if (mode === "include") return s / (p.k[0] * p.k[1]);
          return s / w.cells.length;
        });
        expectClose(vals(y), expected, 1e-12, 1e-12);
      }),
      { numRuns: 120 },
    );
  });

  it("maxPool2d gradient goes to the first maximum of each window; NaN wins", () => {
    const x = tensor([[[[1, 5, 5], [5, 2, 0], [0, 0, 0]]]], { dtype: "float64", requiresGrad: true });
    maxPool2d(x, 2, { stride: 1 }).sum().backward();
    expect(x.grad!.toArray()).toEqual([[[[0, 2, 0], [1, 1, 0], [0, 0, 0]]]]);
    const n = tensor([[[[1, NaN], [3, 4]]]]);
    const r = maxPool2dWithIndices(n, 2);
    expect(r.values.item()).toBeNaN();
    expect(r.indices.item()).toBe(1);
    const g = tensor([[[[1, 2], [3, 4]]]], { requiresGrad: true });
    avgPool2d(g, 2).sum().backward();
    expect(g.grad!.toArray()).toEqual([[[[0.25, 0.25], [0.25, 0.25]]]]);
  });

  it("maxPool2d never reads outside its input when a dilated window lies entirely in the padding", () => {
    // H = 1, kernel 2, dilation 2, padding 1: the only window's taps are rows -1 and 1, both padding.
    const x = tensor([[[[3]]]], { requiresGrad: true });
    const opts = { stride: 1, padding: [1, 0] as [number, number], dilation: [2, 1] as [number, number] };
    let r: ReturnType<typeof maxPool2dWithIndices> | null = null;
    try {
      r = maxPool2dWithIndices(x, [2, 1], opts);
    } catch (e) {
      expect(e).toBeInstanceOf(ValueError); // rejecting the configuration is fine
    }
    if (r) {
      // otherwise every index must point into the input and the value must not be garbage
      for (const i of vals(r.indices)) expect(i >= 0 && i < 1).toBe(true);
      expect(vals(r.values).some(Number.isNaN)).toBe(false);
    }
  });

  it("invalid pooling arguments throw typed errors", () => {
    const x = zeros([1, 1, 4, 4]);
    expect(() => maxPool2d(zeros([1, 4, 4]), 2)).toThrow(ShapeError);
    expect(() => maxPool2d(x, 0)).toThrow(ValueError);
    expect(() => maxPool2d(x, 2, { padding: 2 })).toThrow(/at most half the kernel size/);
    expect(() => avgPool2d(x, 2, { stride: [1, 0] })).toThrow(ValueError);
    expect(() => maxPool2d(x, 5)).toThrow(/output height would be 0/);
    expect(() => maxPool2d(x, 2, { dilation: 0 })).toThrow(ValueError);
  });
});
