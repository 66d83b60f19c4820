/**
 * Properties of the spatial ops and layers (issues 16 and 20) beyond the torch fixtures: adjointness
 * of the transposed convolutions, "same" padding sizes, adaptive pooling against plain pooling,
 * unpooling round trips, and the adversarial finiteness properties (constant groups in GroupNorm
 * over 0, -0, 1e30, 1e-30 and subnormals; -Infinity windows and ties in max pooling; infinite
 * neighbours at zero interpolation weight; channel dropout of infinite channels).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { Generator, nn, tensor, type Tensor } from "../../src/index.js";
import { rnd, seedArb, vals } from "../helpers.js";

const allFinite = (t: Tensor | null): boolean => t !== null && vals(t).every((v) => Number.isFinite(v));
const dot = (a: Tensor, b: Tensor): number => vals(a).reduce((s, v, i) => s + v * vals(b)[i]!, 0);

describe("convolutions", () => {
  it("conv1d padding 'same' keeps the length for every kernel and dilation (odd totals padded at the end)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), seedArb, (k, d, L, seed) => {
        const x = rnd([2, 3, L], seed);
        const w = rnd([4, 3, k], seed + 1);
        const y = sg.conv1d(x, w, null, { padding: "same", dilation: d });
        expect(y.shape).toEqual([2, 4, L]);
        // the same as explicit padding: left floor(total / 2), right the rest
        const total = d * (k - 1);
        const ref = sg.conv1d(sg.pad(x, [Math.floor(total / 2), total - Math.floor(total / 2)]), w, null, { dilation: d });
        vals(y).forEach((v, i) => expect(v).toBeCloseTo(vals(ref)[i]!, 12));
      }),
      { numRuns: 60 },
    );
  });

  it("conv1d is conv2d over a unit height", () => {
    const x = rnd([2, 4, 9], 1);
    const w = rnd([6, 2, 3], 2);
    const b = rnd([6], 3);
    const y = sg.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2, groups: 2 });
    const y2 = sg.conv2d(x.unsqueeze(2), w.unsqueeze(2), b, { stride: [1, 2], padding: [0, 1], dilation: [1, 2], groups: 2 }).squeeze(2);
    expect(vals(y)).toEqual(vals(y2));
  });

  it("conv3d equals the sum over kernel depth of conv2d on depth slices", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 2 }), seedArb, (kD, sd, pd, dd, seed) => {
        const D = 5;
        const x = rnd([1, 2, D, 4, 4], seed);
        const w = rnd([3, 2, kD, 2, 2], seed + 1);
        const y = sg.conv3d(x, w, null, { stride: [sd, 1, 1], padding: [pd, 1, 0], dilation: [dd, 1, 1] });
        const Do = Math.floor((D + 2 * pd - dd * (kD - 1) - 1) / sd) + 1;
        expect(y.shape[2]).toBe(Do);
        for (let od = 0; od < Do; od++) {
          let acc: Tensor | null = null;
          for (let kd = 0; kd < kD; kd++) {
            const id = od * sd - pd + kd * dd;
            if (id < 0 || id >= D) continue;
            const part = sg.conv2d(x.select(2, id), w.select(2, kd), null, { padding: [1, 0] });
            acc = acc ? acc.add(part) : part;
          }
          const got = vals(y.select(2, od));
          const want = acc ? vals(acc) : got.map(() => 0);
          got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
        }
      }),
      { numRuns: 40 },
    );
  });

  it("convTranspose2d is the adjoint of conv2d: <convT(y, w), x> = <y, conv2d(x, w)> (outputPadding, groups, dilation)", () => {
    fc.assert(
      fc.property(
        fc.record({ k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), p: fc.integer({ min: 0, max: 2 }), d: fc.integer({ min: 1, max: 3 }), op: fc.integer({ min: 0, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), H: fc.integer({ min: 1, max: 4 }), seed: seedArb }),
        ({ k, s, p, d, op, groups, H, seed }) => {
          fc.pre(op < s || op < d);
          const Ho = (H - 1) * s - 2 * p + d * (k - 1) + op + 1;
          fc.pre(Ho > 0);
          const y = rnd([2, 2 * groups, H, 3], seed);
          const w = rnd([2 * groups, 1, k, 2], seed + 1);
          const xt = sg.convTranspose2d(y, w, null, { stride: [s, 1], padding: [p, 0], outputPadding: [op, 0], dilation: [d, 1], groups });
          expect(xt.shape).toEqual([2, groups, Ho, 4]);
          const x = rnd([...xt.shape], seed + 2);
          // conv2d of x gives back y's size (the transposed conv's defining property) when
          // outputPadding < stride; else its extra rows are beyond every window
          const cx = sg.conv2d(x, w, null, { stride: [s, 1], padding: [p, 0], dilation: [d, 1], groups });
          const rows = Math.min(cx.shape[2]!, H);
          const lhs = dot(xt, x);
          const rhs = dot(y.narrow(2, 0, rows), cx.narrow(2, 0, rows));
          expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * (1 + Math.abs(lhs)));
        },
      ),
      { numRuns: 80 },
    );
  });

  it("ConvTranspose2d.forward(x, outputSize) picks the outputPadding; out-of-range sizes are a ValueError", () => {
    const m = new nn.ConvTranspose2d(2, 3, 3, { stride: 3, padding: 1, dtype: "float64" });
    const x = rnd([1, 2, 4, 4], 5);
    expect(m.forward(x).shape).toEqual([1, 3, 10, 10]);
    expect(m.forward(x, [12, 11]).shape).toEqual([1, 3, 12, 11]);
    expect(() => m.forward(x, [13, 10])).toThrow(sg.ValueError);
    expect(() => m.forward(x, [9, 10])).toThrow(/valid sizes range from 10 to 12/);
  });

  it("bad arguments are typed errors naming the op", () => {
    const x = rnd([1, 2, 8], 1);
    expect(() => sg.conv1d(x, rnd([3, 2, 3], 2), null, { padding: "same", stride: 2 })).toThrow(sg.ValueError);
    expect(() => sg.conv1d(x, rnd([3, 3, 3], 2))).toThrow(/conv1d: input has 2 channels/);
    expect(() => sg.conv1d(x, rnd([3, 2, 9], 2))).toThrow(sg.ShapeError);
    expect(() => sg.conv1d(rnd([1, 2, 3, 4], 1), rnd([3, 2, 3], 2))).toThrow(/conv1d: expects input \[N, C, L\]/);
    expect(() => sg.convTranspose2d(rnd([1, 2, 3, 3], 1), rnd([2, 1, 3, 3], 2), null, { stride: 2, outputPadding: 2 })).toThrow(/outputPadding 2 must be smaller/);
    expect(sg.conv3d(rnd([2, 3, 3, 3], 1), rnd([3, 2, 1, 1, 1], 2)).shape).toEqual([3, 3, 3, 3]); // unbatched [C, D, H, W]
    expect(() => new nn.Conv1d(3, 4, 3, { groups: 2 })).toThrow(sg.ValueError);
    expect(() => new nn.Conv1d(4, 4, 3, { padding: "same", stride: 2 })).toThrow(sg.ValueError);
  });

  it("layers keep PyTorch's parameter shapes and state-dict keys", () => {
    expect([...new nn.Conv1d(4, 6, 3, { groups: 2 }).stateDict().entries()].map(([k, t]) => [k, t.shape])).toEqual([["weight", [6, 2, 3]], ["bias", [6]]]);
    expect(new nn.ConvTranspose2d(4, 6, [2, 3], { groups: 2 }).weight.shape).toEqual([4, 3, 2, 3]);
    expect(new nn.ConvTranspose1d(4, 6, 2, { bias: false }).stateDict().size).toBe(1);
    expect(new nn.Conv3d(2, 4, 3).weight.shape).toEqual([4, 2, 3, 3, 3]);
    expect([...new nn.GroupNorm(2, 6).stateDict().keys()]).toEqual(["weight", "bias"]);
    expect(new nn.GroupNorm(2, 6, { affine: false }).stateDict().size).toBe(0);
  });
});

describe("pooling", () => {
  it("max pooling with ceilMode: -Infinity windows give -Infinity, a real index and a finite gradient", () => {
    const x = tensor([[[-Infinity, -Infinity, 3, -Infinity, -Infinity]]], { dtype: "float64", requiresGrad: true });
    const { values, indices } = sg.maxPool1dWithIndices(x, 2, { ceilMode: true });
    expect(vals(values)).toEqual([-Infinity, 3, -Infinity]);
    expect(vals(indices)).toEqual([0, 2, 4]);
    values.sum().backward();
    expect(vals(x.grad!)).toEqual([1, 0, 1, 0, 1]);
  });

  it("3-D max pooling: -Infinity windows and padded depth give a real index; ties go to the first (depth, height, width) maximum", () => {
    const x = sg.full([1, 1, 3, 2, 2], -Infinity, { dtype: "float64" }).requiresGrad_();
    const { values, indices } = sg.maxPool3dWithIndices(x, 2, { padding: 1, stride: 2 });
    expect(vals(values).every((v) => v === -Infinity)).toBe(true);
    expect(vals(indices).every((v) => v >= 0 && v < 12)).toBe(true);
    values.sum().backward();
    expect(allFinite(x.grad)).toBe(true);
    const t = sg.full([1, 1, 2, 2, 2], 5, { dtype: "float64" }).requiresGrad_();
    const r = sg.maxPool3dWithIndices(t, 2);
    expect(vals(r.indices)).toEqual([0]);
    r.values.sum().backward();
    expect(vals(t.grad!)).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => sg.maxPool3d(rnd([1, 2, 3], 1), 2)).toThrow(sg.ShapeError);
  });

  it("ties: the whole gradient goes to the first maximum (ceilMode and adaptive max pooling)", () => {
    const x = tensor([[[[2, 2, 2], [2, 2, 1], [0, 2, 2]]]], { dtype: "float64", requiresGrad: true });
    sg.maxPool2d(x, 2, { ceilMode: true }).sum().backward();
    expect(vals(x.grad!)).toEqual([1, 0, 1, 0, 0, 0, 0, 1, 1]); // the last window is x[2][2] alone
    x.grad = null;
    sg.adaptiveMaxPool2d(x, [2, 2]).sum().backward(); // windows rows [0,2) [1,3), cols [0,2) [1,3)
    expect(vals(x.grad!)).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
  });

  it("adaptive max pooling of an all -Infinity input: -Infinity values, indices inside each window, finite gradient", () => {
    const x = sg.full([1, 2, 5, 7], -Infinity, { dtype: "float64" }).requiresGrad_();
    const { values, indices } = sg.adaptiveMaxPool2dWithIndices(x, [3, 4]);
    expect(vals(values).every((v) => v === -Infinity)).toBe(true);
    const idx = vals(indices);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++) {
        const v = idx[i * 4 + j]!;
        const [h, w] = [Math.floor(v / 7), v % 7];
        expect(h >= Math.floor((i * 5) / 3) && h < Math.ceil(((i + 1) * 5) / 3)).toBe(true);
        expect(w >= Math.floor((j * 7) / 4) && w < Math.ceil(((j + 1) * 7) / 4)).toBe(true);
      }
    values.sum().backward();
    expect(allFinite(x.grad)).toBe(true);
  });

  it("adaptive average pooling: an infinite value reaches only the windows that contain it (no 0 * inf = NaN)", () => {
    const data = new Float64Array(5 * 7).fill(1);
    data[0] = Infinity;
    const x = tensor(data, { shape: [1, 1, 5, 7], requiresGrad: true });
    const y = sg.adaptiveAvgPool2d(x, [3, 4]);
    const v = vals(y);
    expect(v[0]).toBe(Infinity);
    expect(v.slice(1).every((u) => u === 1)).toBe(true);
    y.sum().backward();
    expect(allFinite(x.grad)).toBe(true);
  });

  it("adaptive pooling equals plain pooling when the size divides, and mean/amax at output 1 (global pooling)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), seedArb, (ho, wo, kh, kw, seed) => {
        const x = rnd([2, 2, ho * kh, wo * kw], seed);
        expect(vals(sg.adaptiveAvgPool2d(x, [ho, wo])).map((v) => +v.toFixed(12))).toEqual(vals(sg.avgPool2d(x, [kh, kw])).map((v) => +v.toFixed(12)));
        expect(vals(sg.adaptiveMaxPool2d(x, [ho, wo]))).toEqual(vals(sg.maxPool2d(x, [kh, kw])));
        vals(sg.adaptiveAvgPool2d(x, 1)).forEach((v, i) => expect(v).toBeCloseTo(vals(x.mean([2, 3]))[i]!, 12));
        expect(vals(new nn.AdaptiveMaxPool2d(1).forward(x))).toEqual(vals(sg.amax(x, [2, 3])));
      }),
      { numRuns: 40 },
    );
  });

  it("average pooling with ceilMode: no window divides by 0, finite for finite input", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), seedArb, (k, s, p, L, include, seed) => {
        fc.pre(p <= k / 2 && L + 2 * p >= k);
        const x = rnd([1, 2, L], seed).requiresGrad_();
        const y = sg.avgPool1d(x, k, { stride: s, padding: p, ceilMode: true, countIncludePad: include });
        expect(allFinite(y)).toBe(true);
        y.sum().backward();
        expect(allFinite(x.grad)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("maxUnpool2d(maxPool2d(x)) keeps each maximum at its place and zeros elsewhere; repeated indices: the last wins", () => {
    const x = rnd([1, 2, 4, 6], 3);
    const { values, indices } = sg.maxPool2dWithIndices(x, 2);
    const u = sg.maxUnpool2d(values, indices, 2);
    const xv = vals(x);
    const kept = vals(u).filter((v) => v !== 0);
    expect(kept.length).toBe(12);
    vals(u).forEach((v, i) => expect(v === 0 || v === xv[i]).toBe(true));
    const dup = sg.maxUnpool1d(tensor([[[1, 2, 3]]], { dtype: "float64", requiresGrad: true }), tensor([[[1, 1, 0]]], { dtype: "int32" }), 1, { outputSize: [3] });
    expect(vals(dup)).toEqual([3, 2, 0]);
    expect(() => sg.maxUnpool2d(values, indices.add(100), 2)).toThrow(sg.IndexError);
    expect(() => sg.maxUnpool2d(values, indices.float(), 2)).toThrow(sg.DTypeError);
  });

  it("pooling layers: shapes, unbatched input, empty state dicts", () => {
    expect(new nn.MaxPool1d(3, { stride: 2, ceilMode: true }).forward(rnd([3, 10], 1)).shape).toEqual([3, 5]);
    expect(new nn.AvgPool1d(2).forward(rnd([2, 3, 7], 1)).shape).toEqual([2, 3, 3]);
    expect(new nn.AdaptiveAvgPool1d(3).forward(rnd([4, 10], 1)).shape).toEqual([4, 3]);
    expect(new nn.AdaptiveAvgPool2d([null, 2]).forward(rnd([4, 5, 6], 1)).shape).toEqual([4, 5, 2]);
    expect(new nn.MaxPool2d(2, { ceilMode: true }).forward(rnd([1, 5, 5], 1)).shape).toEqual([1, 3, 3]);
    for (const m of [new nn.MaxPool1d(2), new nn.AdaptiveMaxPool2d(2), new nn.Upsample({ scaleFactor: 2 }), new nn.MaxUnpool2d(2)]) expect(m.stateDict().size).toBe(0);
    expect(() => sg.adaptiveAvgPool2d(rnd([1, 2, 3], 1), [0, 2])).toThrow(sg.ValueError);
    expect(() => sg.adaptiveMaxPool1d(rnd([1, 2, 3, 4], 1), 2)).toThrow(sg.ShapeError);
    expect(() => sg.avgPool2d(rnd([1, 1, 4, 4], 1), 2, { divisorOverride: 0 })).toThrow(sg.ValueError);
  });
});

describe("interpolate", () => {
  it("an infinite neighbour at weight 0 gives no NaN (PyTorch: NaN), and the gradient stays finite", () => {
    const x = tensor([[[0, 0, Infinity]]], { dtype: "float64", requiresGrad: true });
    const y = sg.interpolate(x, { size: 5, mode: "linear", alignCorners: true });
    expect(vals(y)).toEqual([0, 0, 0, Infinity, Infinity]);
    y.sum().backward();
    expect(allFinite(x.grad)).toBe(true);
  });

  it("the gather path (non-finite input) and the matmul path (finite input) agree away from the non-finite value, gradients too", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom<"nearest" | "bilinear" | "nearest-exact" | "area">("nearest", "bilinear", "nearest-exact", "area"), fc.boolean(), seedArb, (h, w, mode, align, seed) => {
        const base = rnd([1, 2, 5, 6], seed);
        const opts = { size: [h, w], mode, ...(mode === "bilinear" ? { alignCorners: align } : {}) };
        // channel 1 holds a NaN; channel 0 is the same in both runs and must match exactly
        const data = Float64Array.from(vals(base));
        data[30 + 7] = NaN;
        const a = tensor(Float64Array.from(vals(base)), { shape: [1, 2, 5, 6], requiresGrad: true });
        const b = tensor(data, { shape: [1, 2, 5, 6], requiresGrad: true });
        const ya = sg.interpolate(a, opts);
        const yb = sg.interpolate(b, opts);
        const g = rnd([...ya.shape], seed + 1);
        ya.mul(g).sum().backward();
        yb.mul(g).sum().backward();
        const n = ya.numel / 2;
        vals(yb).slice(0, n).forEach((v, i) => expect(v).toBeCloseTo(vals(ya)[i]!, 12));
        vals(b.grad!).slice(0, 30).forEach((v, i) => expect(v).toBeCloseTo(vals(a.grad!)[i]!, 12));
      }),
      { numRuns: 60 },
    );
  });

  it("nearest upsampling by an integer factor repeats each pixel; alignCorners bilinear keeps the corners", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), seedArb, (H, W, f, seed) => {
        const x = rnd([1, 2, H, W], seed);
        const y = sg.interpolate(x, { scaleFactor: f });
        for (let i = 0; i < H * f; i++)
          for (let j = 0; j < W * f; j++) expect(y.select(2, i).select(2, j).toArray()).toEqual(x.select(2, Math.floor(i / f)).select(2, Math.floor(j / f)).toArray());
        const b = sg.interpolate(x, { size: [H * f + 1, W * f + 2], mode: "bilinear", alignCorners: true });
        for (const [i, j, si, sj] of [[0, 0, 0, 0], [H * f, W * f + 1, H - 1, W - 1]] as const) {
          vals(b.select(2, i).select(2, j)).forEach((v, c) => expect(v).toBeCloseTo(vals(x.select(2, si).select(2, sj))[c]!, 12));
        }
      }),
      { numRuns: 30 },
    );
  });

  it("bad options are typed errors", () => {
    const x = rnd([1, 1, 4, 4], 1);
    expect(() => sg.interpolate(x, { size: 3, scaleFactor: 2 })).toThrow(/exactly one of size and scaleFactor/);
    expect(() => sg.interpolate(x, {})).toThrow(sg.ValueError);
    expect(() => sg.interpolate(x, { size: 3, alignCorners: true })).toThrow(/linear modes/);
    expect(() => sg.interpolate(x, { size: 3, mode: "linear" })).toThrow(sg.ShapeError);
    expect(() => sg.interpolate(x, { size: [3, 3, 3] })).toThrow(sg.ValueError);
    expect(() => sg.interpolate(x, { scaleFactor: 0.1 })).toThrow(sg.ShapeError);
    expect(() => sg.interpolate(x, { size: 3, mode: "bicubic" as "nearest" })).toThrow(sg.ValueError);
  });
});

describe("GroupNorm and channel dropout", () => {
  const extremes = [0, -0, 1, 1e30, -1e30, 1e-30, 5e-324, 1e300, -1e300];
  // NOTE: a constant group whose mean is not exactly its value (rounding) has a tiny nonzero
  // deviation; with |x| large enough to be rescaled (>= 2^32 in float32, 2^256 in float64) eps is
  // scaled down with it, and that deviation is normalised like any other (finite, but not the bias).
  it("a constant group gives the bias with finite input and parameter gradients (0, -0, 1e30, 1e-30, subnormal, 1e300)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const c of extremes) {
        if (dtype === "float32" && Math.abs(c) > 3e38) continue;
        const x = sg.full([2, 4, 3], c, { dtype }).requiresGrad_();
        const weight = tensor([1, 2, -1, 0.5], { dtype, requiresGrad: true });
        const bias = tensor([0.5, -1, 2, 3], { dtype, requiresGrad: true });
        const y = nn.functional.groupNorm(x, 2, { weight, bias });
        expect(allFinite(y), `${dtype} ${c}`).toBe(true);
        const want = [0.5, 0.5, 0.5, -1, -1, -1, 2, 2, 2, 3, 3, 3, 0.5, 0.5, 0.5, -1, -1, -1, 2, 2, 2, 3, 3, 3];
        if (Math.abs(c) < (dtype === "float32" ? 2 ** 32 : 2 ** 256)) vals(y).forEach((v, i) => expect(Math.abs(v - want[i]!), `${dtype} ${c}`).toBeLessThan(1e-2));
        y.mul(rnd([2, 4, 3], 7, dtype)).sum().backward();
        expect(allFinite(x.grad), `${dtype} ${c} input grad`).toBe(true);
        expect(allFinite(weight.grad), `${dtype} ${c} weight grad`).toBe(true);
        expect(allFinite(bias.grad), `${dtype} ${c} bias grad`).toBe(true);
      }
    }
  });

  it("huge but finite groups are normalised without overflow (power-of-two rescaling)", () => {
    const x = tensor([[[1e200, -1e200, 3e200, 0]]], { dtype: "float64", requiresGrad: true });
    const y = nn.functional.groupNorm(x, 1);
    expect(allFinite(y)).toBe(true);
    const ref = nn.functional.groupNorm(tensor([[[1, -1, 3, 0]]], { dtype: "float64" }), 1, { eps: 0 });
    vals(y).forEach((v, i) => expect(v).toBeCloseTo(vals(ref)[i]!, 9));
    y.sum().backward();
    expect(allFinite(x.grad)).toBe(true);
  });

  it("groupNorm with numGroups 1 is layerNorm over [C, ...]; bad groups are a ValueError", () => {
    const x = rnd([2, 4, 3], 9);
    const a = vals(nn.functional.groupNorm(x, 1));
    const b = vals(nn.functional.layerNorm(x, [4, 3]));
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
    expect(() => nn.functional.groupNorm(x, 3)).toThrow(sg.ValueError);
    expect(() => new nn.GroupNorm(3, 4)).toThrow(sg.ValueError);
    expect(() => new nn.GroupNorm(2, 4).forward(rnd([2, 6, 3], 1, "float32"))).toThrow(sg.ShapeError);
  });

  it("channel dropout zeroes whole channels, scales the rest, maps dropped Infinity to 0, and is the identity in eval", () => {
    const x = sg.full([3, 5, 4], Infinity, { dtype: "float64" });
    const y = nn.functional.dropout1d(x, { p: 0.5, generator: new Generator(1) });
    const v = vals(y);
    let dropped = 0;
    for (let ch = 0; ch < 15; ch++) {
      const row = v.slice(ch * 4, ch * 4 + 4);
      expect(row.every((u) => u === 0) || row.every((u) => u === Infinity)).toBe(true);
      if (row[0] === 0) dropped++;
    }
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(15);
    const ones = sg.ones([2, 6, 3, 3], { dtype: "float64" });
    const z = vals(nn.functional.dropout2d(ones, { p: 0.25, generator: new Generator(2) }));
    expect(z.every((u) => u === 0 || Math.abs(u - 4 / 3) < 1e-15)).toBe(true);
    expect(vals(nn.functional.dropout2d(ones, { p: 1 })).every((u) => u === 0)).toBe(true);
    const m = new nn.Dropout2d(0.5);
    m.eval();
    expect(m.forward(ones)).toBe(ones);
    expect(() => nn.functional.dropout2d(sg.ones([2, 3]))).toThrow(sg.ShapeError);
    expect(() => new nn.Dropout1d(1.5)).toThrow(sg.ValueError);
  });
});
