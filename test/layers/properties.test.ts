/**
 * Property tests over adversarial values (0, -0, ±1e30, 1e-30, the subnormal 5e-324, ±1, huge
 * logits ±1000, doubles in [-1e6, 1e6]) with constant rows and ties: every safe layer and loss
 * must return finite values and finite gradients, in float64 and, where the true value fits,
 * in float32. Each property runs 1000 cases on shapes up to 4 x 6.
 *
 * Domain: the doubles are bounded by 1e6 and the specials by 1e30; arbitrary doubles up to 1.8e308
 * make even (x - t)² overflow, which no formula can represent. mseLoss is not run in float32 with
 * the specials ((2e30)² exceeds float32's range).
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { tensor, zeros, ones, type FloatDType, type Tensor } from "../../src/index.js";
import { functional as LF } from "../../src/layers/index.js";
import { allFinite, firstNonFinite } from "./helpers.js";

const RUNS = { numRuns: 1000 };
const special = fc.constantFrom(0, -0, 1e30, -1e30, 1e-30, 5e-324, 1, -1);
const value = fc.oneof(special, fc.double({ min: -1e6, max: 1e6, noNaN: true }));
const logit = fc.oneof(value, fc.constantFrom(1000, -1000));
const prob = fc.oneof(fc.constantFrom(0, 1, 0.5, 5e-324, 1e-30, 1 - 2 ** -53), fc.double({ min: 0, max: 1, noNaN: true }));

interface Mat {
  rows: number;
  cols: number;
  data: number[];
}

/** A rows x cols matrix whose rows are free, constant, or ties between two values. */
function matrix(v: fc.Arbitrary<number> = value, minRows = 1, minCols = 1): fc.Arbitrary<Mat> {
  return fc.record({ rows: fc.integer({ min: minRows, max: 4 }), cols: fc.integer({ min: minCols, max: 6 }) }).chain(({ rows, cols }) => {
    const row = fc.oneof(
      fc.array(v, { minLength: cols, maxLength: cols }),
      v.map((c) => new Array<number>(cols).fill(c)),
      fc.tuple(v, v).chain(([a, b]) => fc.array(fc.constantFrom(a, b), { minLength: cols, maxLength: cols })),
    );
    return fc.array(row, { minLength: rows, maxLength: rows }).map((r) => ({ rows, cols, data: r.flat() }));
  });
}

/** A second array of the same size as m. */
function sameSize(m: Mat, v: fc.Arbitrary<number>): fc.Arbitrary<number[]> {
  return fc.array(v, { minLength: m.data.length, maxLength: m.data.length });
}

function leaf(data: number[], shape: number[], dtype: FloatDType, grad = true): Tensor {
  const t = tensor(Float64Array.from(data), { shape, dtype });
  return grad ? t.requiresGrad_() : t;
}

/** Runs fn, backpropagates sum(out), and asserts out and every input gradient are finite. */
function expectSafe(what: string, inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor): void {
  const out = fn(...inputs);
  if (!allFinite(out)) throw new Error(`${what}: non-finite output (${firstNonFinite(out)}) for inputs ${inputs.map((t) => JSON.stringify(t.toArray())).join(", ")}`);
  out.sum().backward();
  inputs.forEach((x, i) => {
    if (x.requiresGrad && !allFinite(x.grad)) {
      throw new Error(`${what}: non-finite gradient of input ${i} (${firstNonFinite(x.grad)}) for inputs ${inputs.map((t) => JSON.stringify(t.toArray())).join(", ")}`);
    }
  });
}

const dtypes: FloatDType[] = ["float64", "float32"];

describe.each(dtypes)("normalisations stay finite (%s)", (dtype) => {
  it("normalize", () => {
    fc.assert(fc.property(matrix(), (m) => expectSafe("normalize", [leaf(m.data, [m.rows, m.cols], dtype)], (x) => LF.normalize(x))), RUNS);
  });
  it("stdPool", () => {
    fc.assert(fc.property(matrix(), (m) => expectSafe("stdPool", [leaf(m.data, [m.rows, m.cols], dtype)], (x) => LF.stdPool(x, { dim: 1 }))), RUNS);
  });
  it("layerNorm (affine)", () => {
    fc.assert(
      fc.property(matrix(), (m) => {
        const w = leaf(Array.from({ length: m.cols }, (_, i) => 0.5 + i / 4), [m.cols], dtype);
        const b = leaf(Array.from({ length: m.cols }, (_, i) => i - 2), [m.cols], dtype);
        expectSafe("layerNorm", [leaf(m.data, [m.rows, m.cols], dtype), w, b], (x, ww, bb) => LF.layerNorm(x, [m.cols], { weight: ww, bias: bb }));
      }),
      RUNS,
    );
  });
  it("rmsNorm (affine)", () => {
    fc.assert(
      fc.property(matrix(), (m) => {
        const w = leaf(Array.from({ length: m.cols }, (_, i) => 0.5 + i / 4), [m.cols], dtype);
        expectSafe("rmsNorm", [leaf(m.data, [m.rows, m.cols], dtype), w], (x, ww) => LF.rmsNorm(x, [m.cols], { weight: ww }));
      }),
      RUNS,
    );
  });
  it("batchNorm (training, running stats stay finite)", () => {
    fc.assert(
      fc.property(matrix(value, 2), (m) => {
        const rm = zeros([m.cols], { dtype });
        const rv = ones([m.cols], { dtype });
        const w = leaf(new Array<number>(m.cols).fill(1.5), [m.cols], dtype);
        expectSafe("batchNorm", [leaf(m.data, [m.rows, m.cols], dtype), w], (x, ww) => LF.batchNorm(x, rm, rv, { training: true, weight: ww }));
        if (!allFinite(rm) || !allFinite(rv)) throw new Error(`batchNorm: running stats ${rm.toArray()} / ${rv.toArray()}`);
      }),
      RUNS,
    );
  });
  it("cosineSimilarity", () => {
    fc.assert(
      fc.property(matrix().chain((m) => sameSize(m, value).map((d2) => [m, d2] as const)), ([m, d2]) =>
        expectSafe("cosineSimilarity", [leaf(m.data, [m.rows, m.cols], dtype), leaf(d2, [m.rows, m.cols], dtype)], (a, b) => LF.cosineSimilarity(a, b)),
      ),
      RUNS,
    );
  });
});

const reduction = fc.constantFrom("mean" as const, "sum" as const, "none" as const);

describe("regression losses stay finite", () => {
  const pair = matrix().chain((m) => fc.tuple(sameSize(m, value), reduction).map(([t, r]) => ({ m, t, r })));
  for (const dtype of dtypes) {
    it(`l1Loss, huberLoss, smoothL1Loss (${dtype})`, () => {
      fc.assert(
        fc.property(pair, fc.constantFrom(0, 0.5, 1, 2), ({ m, t, r }, k) => {
          const shape = [m.rows, m.cols];
          expectSafe("l1Loss", [leaf(m.data, shape, dtype), leaf(t, shape, dtype)], (a, b) => LF.l1Loss(a, b, { reduction: r }));
          expectSafe("huberLoss", [leaf(m.data, shape, dtype), leaf(t, shape, dtype)], (a, b) => LF.huberLoss(a, b, { reduction: r, delta: k || 1 }));
          expectSafe("smoothL1Loss", [leaf(m.data, shape, dtype), leaf(t, shape, dtype)], (a, b) => LF.smoothL1Loss(a, b, { reduction: r, beta: k }));
        }),
        RUNS,
      );
    });
  }
  it("mseLoss (float64)", () => {
    fc.assert(
      fc.property(pair, ({ m, t, r }) => expectSafe("mseLoss", [leaf(m.data, [m.rows, m.cols], "float64"), leaf(t, [m.rows, m.cols], "float64")], (a, b) => LF.mseLoss(a, b, { reduction: r }))),
      RUNS,
    );
  });
  it("mseLoss (float32, |x| <= 1e15)", () => {
    const v32 = fc.oneof(fc.constantFrom(0, -0, 1e15, -1e15, 1e-30, 1, -1), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
    const pair32 = matrix(v32).chain((m) => fc.tuple(sameSize(m, v32), reduction).map(([t, r]) => ({ m, t, r })));
    fc.assert(
      fc.property(pair32, ({ m, t, r }) => expectSafe("mseLoss", [leaf(m.data, [m.rows, m.cols], "float32"), leaf(t, [m.rows, m.cols], "float32")], (a, b) => LF.mseLoss(a, b, { reduction: r }))),
      RUNS,
    );
  });
});

describe.each(dtypes)("classification losses stay finite (%s)", (dtype) => {
  /** Logits [N, C] with class targets in [0, C) or ignored (-100), sometimes all ignored. */
  const classification = matrix(logit).chain((m) =>
    fc.record({
      targets: fc.array(fc.integer({ min: -1, max: m.cols - 1 }), { minLength: m.rows, maxLength: m.rows }),
      smoothing: fc.constantFrom(0, 0.1, 1),
      weighted: fc.boolean(),
      r: reduction,
    }).map((o) => ({ m, ...o })),
  );
  it("crossEntropy (class indices, weights, ignoreIndex, label smoothing)", () => {
    fc.assert(
      fc.property(classification, ({ m, targets, smoothing, weighted, r }) => {
        const t = tensor(targets.map((v) => (v < 0 ? -100 : v)), { dtype: "int32" });
        const weight = weighted ? tensor(Array.from({ length: m.cols }, (_, i) => (i % 3) * 0.5), { dtype }) : null;
        expectSafe("crossEntropy", [leaf(m.data, [m.rows, m.cols], dtype)], (x) => LF.crossEntropy(x, t, { weight, labelSmoothing: smoothing, reduction: r }));
        expectSafe("nllLoss", [leaf(m.data, [m.rows, m.cols], dtype)], (x) => LF.nllLoss(x, t, { weight, reduction: r }));
      }),
      RUNS,
    );
  });
  it("crossEntropy (probability targets)", () => {
    fc.assert(
      fc.property(matrix(logit).chain((m) => sameSize(m, prob).map((p) => [m, p] as const)), fc.constantFrom(0, 0.2), ([m, p], smoothing) => {
        const shape = [m.rows, m.cols];
        expectSafe("crossEntropy", [leaf(m.data, shape, dtype), leaf(p, shape, dtype)], (x, q) => LF.crossEntropy(x, q, { labelSmoothing: smoothing }));
      }),
      RUNS,
    );
  });
  it("binaryCrossEntropyWithLogits (weights, posWeight)", () => {
    fc.assert(
      fc.property(matrix(logit).chain((m) => fc.tuple(sameSize(m, prob), reduction, fc.boolean()).map(([p, r, pw]) => ({ m, p, r, pw }))), ({ m, p, r, pw }) => {
        const shape = [m.rows, m.cols];
        const posWeight = pw ? leaf(Array.from({ length: m.cols }, (_, i) => i * 2), [m.cols], dtype) : null;
        expectSafe("binaryCrossEntropyWithLogits", [leaf(m.data, shape, dtype), leaf(p, shape, dtype)], (x, t) =>
          LF.binaryCrossEntropyWithLogits(x, t, { reduction: r, posWeight, weight: tensor(Array.from({ length: m.cols }, () => 0.5), { dtype }) }),
        );
      }),
      RUNS,
    );
  });
  it("binaryCrossEntropy (probabilities incl. exactly 0 and 1)", () => {
    fc.assert(
      fc.property(matrix(prob).chain((m) => fc.tuple(sameSize(m, prob), reduction).map(([t, r]) => ({ m, t, r }))), ({ m, t, r }) => {
        const shape = [m.rows, m.cols];
        expectSafe("binaryCrossEntropy", [leaf(m.data, shape, dtype), leaf(t, shape, dtype)], (p, y) => LF.binaryCrossEntropy(p, y, { reduction: r }));
      }),
      RUNS,
    );
  });
  it("klDiv (probability and log-probability targets, incl. zeros)", () => {
    const logProb = fc.oneof(fc.constantFrom(0, -1, -1000, -1e30, -Infinity), fc.double({ min: -50, max: 0, noNaN: true }));
    const red = fc.constantFrom("mean" as const, "batchmean" as const, "sum" as const, "none" as const);
    fc.assert(
      fc.property(matrix().chain((m) => fc.tuple(sameSize(m, prob), sameSize(m, logProb), red).map(([p, lp, r]) => ({ m, p, lp, r }))), ({ m, p, lp, r }) => {
        const shape = [m.rows, m.cols];
        expectSafe("klDiv", [leaf(m.data, shape, dtype), leaf(p, shape, dtype)], (x, t) => LF.klDiv(x, t, { reduction: r }));
        // A log target of -inf (zero probability) carries no gradient of its own: only the input is differentiated.
        expectSafe("klDiv logTarget", [leaf(m.data, shape, dtype), leaf(lp, shape, dtype, false)], (x, t) => LF.klDiv(x, t, { reduction: r, logTarget: true }));
      }),
      RUNS,
    );
  });
});

describe.each(dtypes)("silu stays finite (%s)", (dtype) => {
  it("finite output and gradient for every finite input, and x / (1 + e^-x) (PyTorch's form) in float64", () => {
    fc.assert(
      fc.property(fc.array(logit, { minLength: 1, maxLength: 8 }), (xs) => {
        const x = leaf(xs, [xs.length], dtype);
        expectSafe("silu", [x], (t) => LF.silu(t));
        if (dtype === "float64") {
          const got = LF.silu(x.detach()).toArray() as number[];
          xs.forEach((v, i) => {
            const want = v / (1 + Math.exp(-v));
            if (!(Math.abs(got[i]! - want) <= 1e-15 * Math.abs(want) + 1e-300)) throw new Error(`silu(${v}) = ${got[i]}, expected ${want}`);
          });
        }
      }),
      RUNS,
    );
  });
});
