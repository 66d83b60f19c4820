import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  clipGradNorm,
  clipGradNormWithStats,
  clipGradValue,
  gradNormStats,
  OptimizerError,
} from "../../src/optim/index.js";
import type { ParamLike } from "../../src/optim/index.js";
import { expectClose, fixture, param, setGrad } from "./helpers.js";

interface ClipCase {
  name: string;
  fn: "norm" | "value";
  max_norm?: number;
  norm_type?: number | "inf";
  clip_value?: number;
  shapes: number[][];
  grads: Array<number[] | null>;
  total_norm?: number;
  after: Array<number[] | null>;
}
const clipCases = (fixture as unknown as { clip: ClipCase[] }).clip;

function withGrads(grads: Array<ArrayLike<number> | null>, f32 = false): ParamLike[] {
  return grads.map((g, i) => {
    const p = param(new Float64Array(g?.length ?? i + 1), [g?.length ?? i + 1], f32);
    setGrad(p, g);
    return p;
  });
}

describe("clipGradNorm / clipGradValue match torch.nn.utils (fixture)", () => {
  for (const c of clipCases) {
    it(c.name, () => {
      const ps = withGrads(c.grads);
      if (c.fn === "norm") {
        const normType = c.norm_type === "inf" ? Infinity : c.norm_type!;
        const total = clipGradNorm(ps, c.max_norm!, { normType });
        expect(total).toBeCloseTo(c.total_norm!, 12);
      } else {
        clipGradValue(ps, c.clip_value!);
      }
      ps.forEach((p, i) => {
        const expected = c.after[i];
        if (expected === null || expected === undefined) expect(p.grad).toBeNull();
        else expectClose(p.grad!.storage, expected, `${c.name} grad ${i}`, 1e-12, 1e-15);
      });
    });
  }
});

describe("clipGradNorm", () => {
  it("returns the norm and scales to maxNorm for 2, 1 and Infinity", () => {
    const cases: Array<[number, number]> = [
      [2, 13], // sqrt(9 + 16 + 144)
      [1, 19],
      [Infinity, 12],
    ];
    for (const [normType, expected] of cases) {
      const ps = withGrads([[3, -4], [12]]);
      const total = clipGradNorm(ps, 1, { normType });
      expect(total).toBeCloseTo(expected, 12);
      expect(gradNormStats(ps, normType).totalNorm).toBeCloseTo(1 / (1 + 1e-6 / expected), 9);
    }
  });

  it("leaves gradients untouched when the norm is below maxNorm", () => {
    const ps = withGrads([[0.3, -0.4]]);
    expect(clipGradNorm(ps, 1)).toBeCloseTo(0.5, 15);
    expect(Array.from(ps[0]!.grad!.storage)).toEqual([0.3, -0.4]);
  });

  it("returns 0 when no parameter has a gradient", () => {
    expect(clipGradNorm(withGrads([null, null]), 1)).toBe(0);
  });

  it("does not overflow for float32 gradients around 1e30 (nor float64 around 1e200)", () => {
    const big = withGrads([new Array(1000).fill(1e30), [-3e30]], true);
    const total = clipGradNorm(big, 1);
    expect(total / Math.sqrt(1009e60)).toBeCloseTo(1, 6);
    const after = gradNormStats(big).totalNorm;
    expect(after).toBeGreaterThan(0.99);
    expect(after).toBeLessThanOrEqual(1 + 1e-6);
    const huge = withGrads([[3e200, 4e200]]);
    expect(clipGradNorm(huge, 1) / 5e200).toBeCloseTo(1, 12);
    const tiny = withGrads([[3e-200, 4e-200]]);
    expect(gradNormStats(tiny).totalNorm / 5e-200).toBeCloseTo(1, 12);
  });

  it("accepts named parameters and reports per-parameter stats in one pass", () => {
    const [a, b, c] = withGrads([[3, 4], [NaN, 1, Infinity], null]);
    const stats = gradNormStats(
      [
        ["fc.weight", a!],
        ["fc.bias", b!],
        ["frozen", c!],
      ],
      2,
    );
    expect(stats.names).toEqual(["fc.weight", "fc.bias", "frozen"]);
    expect(stats.norms[0]).toBeCloseTo(5, 15);
    expect(stats.norms[1]).toBeNaN();
    expect(stats.norms[2]).toBe(0);
    expect(stats.nonFinite).toEqual([0, 2, 0]);
    expect(stats.totalNorm).toBeNaN();
    expect(gradNormStats([a!, c!]).names).toEqual(["0", "1"]);
  });

  it("errorIfNonfinite names the first parameter holding a non-finite gradient", () => {
    const [a, b, c] = withGrads([[1, 2], [3, Infinity, -Infinity], [NaN]]);
    const named: Array<[string, ParamLike]> = [
      ["encoder.weight", a!],
      ["decoder.bias", b!],
      ["head.weight", c!],
    ];
    expect(() => clipGradNorm(named, 1, { errorIfNonfinite: true })).toThrow(OptimizerError);
    expect(() => clipGradNorm(named, 1, { errorIfNonfinite: true })).toThrow(
      /non-finite.*"decoder\.bias" \(index 1\), 2 of 3 elements/,
    );
    expect(() => clipGradNorm([a!, b!], 1, { errorIfNonfinite: true, normType: Infinity })).toThrow(/index 1/);
    // nothing was scaled
    expect(Array.from(a!.grad!.storage)).toEqual([1, 2]);
  });

  it("without errorIfNonfinite behaves as PyTorch: an infinite norm zeroes the finite elements", () => {
    const [a] = withGrads([[1, Infinity]]);
    const { totalNorm, clipCoef } = clipGradNormWithStats([a!], 1);
    expect(totalNorm).toBe(Infinity);
    expect(clipCoef).toBe(0);
    expect(a!.grad!.storage[0]).toBe(0);
  });

  it("clipGradNormWithStats returns the coefficient", () => {
    const ps = withGrads([[6, 8]]);
    const r = clipGradNormWithStats(ps, 5);
    expect(r.totalNorm).toBe(10);
    expect(r.clipCoef).toBeCloseTo(0.5, 6);
    expect(r.norms).toEqual([10]);
  });

  it("validates its arguments", () => {
    const ps = withGrads([[1]]);
    expect(() => clipGradNorm(ps, -1)).toThrow(/clipGradNorm.*maxNorm -1/);
    expect(() => clipGradNorm(ps, 1, { normType: 0 })).toThrow(/clipGradNorm.*normType 0/);
    expect(() => clipGradValue(ps, NaN)).toThrow(/clipGradValue.*clipValue NaN/);
  });

  // Values below 1e-50 are flushed to 0 so the naive oracle (x ** p) does not underflow.
  const gradArrays = fc.array(
    fc.array(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => (Math.abs(x) < 1e-50 ? 0 : x)),
      { minLength: 1, maxLength: 20 },
    ),
    { minLength: 1, maxLength: 5 },
  );

  it("property: the clipped norm is <= maxNorm * (1 + 1e-6), for L2, L1 and Linf", () => {
    fc.assert(
      fc.property(
        gradArrays,
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        fc.constantFrom(1, 2, Infinity),
        (gs, maxNorm, normType) => {
          const ps = withGrads(gs);
          clipGradNorm(ps, maxNorm, { normType });
          expect(gradNormStats(ps, normType).totalNorm).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
        },
      ),
    );
  });

  it("property: the total norm equals the norm of the per-parameter norms and a naive float64 sum", () => {
    fc.assert(
      fc.property(gradArrays, fc.constantFrom(1, 2, 3, Infinity), (gs, p) => {
        const stats = gradNormStats(withGrads(gs), p);
        const all = gs.flat().map(Math.abs);
        const naive = p === Infinity ? Math.max(...all) : all.reduce((s, x) => s + x ** p, 0) ** (1 / p);
        const fromNorms =
          p === Infinity ? Math.max(...stats.norms) : stats.norms.reduce((s, x) => s + x ** p, 0) ** (1 / p);
        expect(Math.abs(stats.totalNorm - naive)).toBeLessThanOrEqual(1e-9 * naive + 1e-300);
        expect(Math.abs(stats.totalNorm - fromNorms)).toBeLessThanOrEqual(1e-9 * naive + 1e-300);
      }),
    );
  });
});

describe("gradNormStats on float32 gradients (the branch-free sum) agrees with float64 (the scaled loop)", () => {
  // float32 values, adversarial ones included: the same numbers as float64 take the other path
  const f32 = fc.oneof(
    fc.float({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 1e30, -1e30, 1e-30, 1e-45, -1e-45, 3.4e38, 1, -1),
  );
  const f32Arrays = fc.array(fc.array(f32, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 });

  it("property: total and per-parameter norms within 1e-12 relative, no non-finite counts, for L1 and L2", () => {
    fc.assert(
      fc.property(f32Arrays, fc.constantFrom(1, 2), (gs, p) => {
        const a = gradNormStats(withGrads(gs, true), p);
        const b = gradNormStats(withGrads(gs.map((g) => Float32Array.from(g))), p);
        expect(Math.abs(a.totalNorm - b.totalNorm)).toBeLessThanOrEqual(1e-12 * b.totalNorm);
        a.norms.forEach((n, i) => expect(Math.abs(n - b.norms[i]!)).toBeLessThanOrEqual(1e-12 * b.norms[i]!));
        expect(a.nonFinite.every((c) => c === 0)).toBe(true);
      }),
    );
  });

  it("property: clipping float32 gradients multiplies each element by the coefficient (rounded to float32)", () => {
    fc.assert(
      fc.property(f32Arrays, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (gs, maxNorm) => {
        const ps = withGrads(gs, true);
        const { clipCoef } = clipGradNormWithStats(ps, maxNorm);
        ps.forEach((p, i) => expect(Array.from(p.grad!.storage)).toEqual(gs[i]!.map((x) => Math.fround(Math.fround(x) * clipCoef))));
      }),
    );
  });

  it("a NaN or an infinity falls back to the counting loop: NaN / Infinity norms and the counts", () => {
    const s = gradNormStats(withGrads([[1, NaN, 2, NaN, 3], [Infinity, -Infinity, 1, 2, 3, 4, 5], [3, 4]], true), 2);
    expect(s.norms[0]).toBeNaN();
    expect(s.norms[1]).toBe(Infinity);
    expect(s.norms[2]).toBe(5);
    expect(s.nonFinite).toEqual([2, 2, 0]);
    expect(s.totalNorm).toBeNaN();
  });
});

describe("clipGradValue", () => {
  it("clamps into [-clip, clip], keeps NaN, skips null grads, accepts named params", () => {
    const [a, b] = withGrads([[-3, -0.5, 0, 0.5, 3, NaN], null]);
    clipGradValue(
      [
        ["a", a!],
        ["b", b!],
      ],
      1,
    );
    expect(Array.from(a!.grad!.storage)).toEqual([-1, -0.5, 0, 0.5, 1, NaN]);
    expect(b!.grad).toBeNull();
  });

  it("property: every element ends up within the bound", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (g, clip) => {
          const ps = withGrads([g]);
          clipGradValue(ps, clip);
          for (const v of ps[0]!.grad!.storage) expect(Math.abs(v)).toBeLessThanOrEqual(clip);
        },
      ),
    );
  });
});
