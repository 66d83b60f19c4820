/**
 * Issue 15, "Fully masked rows and degenerate reductions": softmax / logSoftmax / logsumexp of rows
 * that are entirely -Infinity (padding rows of an attention mask), on every backend, and var/std of
 * a constant input. Before the change each of these gave NaN (values or gradients).
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { detectAnomaly, Generator, getBackend, listBackends, logSoftmax, logsumexp, randn, setBackend, softmax, std, tensor, variance, type DType, type Tensor } from "../../src/index.js";
import { registerFastBackends } from "../../src/fast.js";

registerFastBackends();
const BACKENDS = ["js", ...["js-fast", "wasm"].filter((b) => listBackends().includes(b))];
afterEach(() => setBackend("js"));

const vals = (t: Tensor): number[] => Array.from(t.toTypedArray() as ArrayLike<number>);

/** A [rows, cols] batch of scores and its -Infinity mask: each row fully masked, partly or not at all. */
function masked(rows: number, cols: number, seed: number, dtype: DType) {
  const g = new Generator(seed);
  const scores = randn([rows, cols], { generator: g, dtype }).mul(3).requiresGrad_(true);
  const m = new Float64Array(rows * cols);
  const full: boolean[] = [];
  for (let r = 0; r < rows; r++) {
    const kind = g.randint(0, 3); // 0: fully masked, 1: partly, 2: not masked
    full.push(kind === 0);
    for (let c = 0; c < cols; c++) if (kind === 0 || (kind === 1 && c > 0 && g.random() < 0.5)) m[r * cols + c] = -Infinity;
  }
  const mask = tensor(m, { shape: [rows, cols], dtype }).markAllowNonFinite();
  return { scores, mask, full, x: scores.add(mask) };
}

/** Softmax of one row in float64, with the rows and entries that are masked set to 0. */
function refSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  if (m === -Infinity) return row.map(() => 0);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const caseArb = fc.record({
  rows: fc.integer({ min: 1, max: 12 }),
  // 32, 36, 64: long rows of whole vectors (the wasm kernel); the others stay in JS
  cols: fc.constantFrom(1, 3, 7, 32, 36, 64),
  seed: fc.nat(1e6),
  dtype: fc.constantFrom<DType>("float32", "float64"),
  backend: fc.constantFrom(...BACKENDS),
});

describe("fully masked rows: softmax / logSoftmax / logsumexp (property, every backend)", () => {
  it(`backends under test: ${BACKENDS.join(", ")}`, () => {
    expect(BACKENDS).toContain("js");
    expect(BACKENDS.length).toBeGreaterThanOrEqual(2);
  });

  it("values: a fully masked row is a zero row (softmax), a -Infinity row (logSoftmax), -Infinity (logsumexp); the other rows as usual", () => {
    fc.assert(
      fc.property(caseArb, ({ rows, cols, seed, dtype, backend }) => {
        setBackend(backend);
        const { x, full } = masked(Math.max(rows, cols < 32 ? rows : 8), cols, seed, dtype);
        const n = x.shape[0]!;
        const xv = vals(x);
        const s = vals(softmax(x, 1));
        const ls = vals(logSoftmax(x, -1));
        const lse = vals(logsumexp(x, 1));
        const tol = dtype === "float32" ? 2e-6 : 1e-12;
        for (let r = 0; r < n; r++) {
          const row = xv.slice(r * cols, (r + 1) * cols);
          const want = refSoftmax(row);
          for (let c = 0; c < cols; c++) {
            const i = r * cols + c;
            expect(Math.abs(s[i]! - want[c]!), `softmax [${r}, ${c}] on ${getBackend().name}`).toBeLessThanOrEqual(tol);
            if (row[c] === -Infinity) {
              expect(s[i]).toBe(0);
              expect(ls[i]).toBe(-Infinity);
            } else expect(Math.abs(ls[i]! - Math.log(want[c]!))).toBeLessThanOrEqual(tol * 10 * Math.max(1, Math.abs(ls[i]!)));
          }
          if (full[r]) expect(lse[r]).toBe(-Infinity);
          else expect(Number.isFinite(lse[r])).toBe(true);
        }
      }),
      { numRuns: 300, seed: 15 },
    );
  });

  it("gradients: exactly 0 in a fully masked row, finite everywhere, the usual gradient elsewhere", () => {
    fc.assert(
      fc.property(caseArb, ({ rows, cols, seed, dtype, backend }) => {
        setBackend(backend);
        const { scores, x, full } = masked(Math.max(rows, cols < 32 ? rows : 8), cols, seed, dtype);
        const n = x.shape[0]!;
        const gOut = randn([n, cols], { generator: new Generator(seed + 1), dtype });
        const p = vals(softmax(x.detach(), 1));
        const gv = vals(gOut);
        const tol = dtype === "float32" ? 1e-5 : 1e-11;
        for (const which of ["softmax", "logSoftmax", "logsumexp"] as const) {
          scores.grad = null;
          if (which === "softmax") softmax(x, 1).backward(gOut, { retainGraph: true });
          else if (which === "logSoftmax") logSoftmax(x, 1).backward(gOut, { retainGraph: true });
          else logsumexp(x, 1).backward(gOut.narrow(1, 0, 1).reshape([n]), { retainGraph: true });
          const gr = vals(scores.grad!);
          for (let r = 0; r < n; r++) {
            const row = (a: number[]) => a.slice(r * cols, (r + 1) * cols);
            const pr = row(p);
            const gr0 = row(gv);
            const dot = pr.reduce((a, v, c) => a + v * gr0[c]!, 0);
            const gsum = gr0.reduce((a, v) => a + v, 0);
            const want = full[r]
              ? pr.map(() => 0)
              : which === "softmax"
                ? pr.map((v, c) => v * (gr0[c]! - dot))
                : which === "logSoftmax"
                  ? pr.map((v, c) => gr0[c]! - v * gsum)
                  : pr.map((v) => v * gv[r * cols]!);
            row(gr).forEach((v, c) => {
              const what = `${which} grad [${r}, ${c}] (${full[r] ? "fully masked" : "row"}) on ${backend}`;
              if (full[r]) expect(Object.is(v, 0) || Object.is(v, -0), what).toBe(true);
              else expect(Math.abs(v - want[c]!), what).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[c]!)));
            });
          }
        }
      }),
      { numRuns: 200, seed: 16 },
    );
  });

  it("the NaN guard stays silent for a padding mask with fully masked rows (forward and backward)", () => {
    for (const backend of BACKENDS) {
      setBackend(backend);
      const { scores, mask } = masked(16, 32, 3, "float32");
      detectAnomaly(() => {
        const x = scores.add(mask);
        const attn = softmax(x, -1);
        const lsm = logSoftmax(x, -1).where(x.ne(-Infinity), 0);
        attn.mul(2).sum().add(lsm.sum()).add(logsumexp(x, -1).where(x.amax(-1).ne(-Infinity), 0).sum()).backward();
      });
      expect(vals(scores.grad!).every(Number.isFinite)).toBe(true);
    }
  });

  it("one fully masked row, by hand: zero row, -Infinity row, -Infinity and zero gradients (torch 1.13 gives NaN)", () => {
    const x = tensor([[-Infinity, -Infinity, -Infinity], [0, 1, -Infinity]], { requiresGrad: true });
    const s = softmax(x, 1);
    expect(vals(s).slice(0, 3)).toEqual([0, 0, 0]);
    s.mul(tensor([[1, 2, 3], [1, 2, 3]])).sum().backward();
    expect(vals(x.grad!).slice(0, 3)).toEqual([0, 0, 0]);
    x.grad = null;
    const l = logSoftmax(x, 1);
    expect(vals(l).slice(0, 3)).toEqual([-Infinity, -Infinity, -Infinity]);
    l.backward(tensor([[1, 2, 3], [1, 2, 3]]));
    expect(vals(x.grad!).slice(0, 3)).toEqual([0, 0, 0]);
    x.grad = null;
    const e = logsumexp(x, 1);
    expect(vals(e)[0]).toBe(-Infinity);
    e.sum().backward();
    expect(vals(x.grad!).slice(0, 3)).toEqual([0, 0, 0]);
    expect(vals(x.grad!).slice(3).every(Number.isFinite)).toBe(true);
  });
});

describe("var / std of a constant input and of too few samples", () => {
  it("a constant row: value exactly 0 and gradient exactly 0, for var and std, float32 and float64, any correction", () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 2, max: 40 }), fc.constantFrom<DType>("float32", "float64"), fc.constantFrom(0, 1), (c, n, dtype, correction) => {
        const x = tensor(new Array<number>(n).fill(c), { dtype, requiresGrad: true });
        for (const f of [variance, std]) {
          x.grad = null;
          const v = f(x, 0, { correction });
          expect(v.item()).toBe(0);
          v.backward();
          expect(vals(x.grad!).every((g) => g === 0)).toBe(true);
        }
      }),
      { numRuns: 300, seed: 17 },
    );
  });

  it("var masks an infinite upstream gradient at a constant row too: sqrt(var(x)) has gradient 0 there", () => {
    const x = tensor([[2, 2, 2], [1, 2, 4]], { requiresGrad: true });
    variance(x, 1).sqrt().sum().backward();
    const g = vals(x.grad!);
    expect(g.slice(0, 3)).toEqual([0, 0, 0]);
    expect(g.slice(3).every(Number.isFinite)).toBe(true);
  });

  it("std: a constant row among others has gradient 0 there and torch's gradient elsewhere", () => {
    // torch 1.13: x.std(1).sum().backward() for [[2, 2, 2, 2], [1, 2, 3, 4]]
    const x = tensor([[2, 2, 2, 2], [1, 2, 3, 4]], { requiresGrad: true });
    std(x, 1).sum().backward();
    const g = vals(x.grad!);
    expect(g.slice(0, 4)).toEqual([0, 0, 0, 0]);
    [-0.3873, -0.1291, 0.1291, 0.3873].forEach((w, i) => expect(g[4 + i]).toBeCloseTo(w, 4));
  });

  it("n - correction <= 0: the value is IEEE NaN (0/0) or Infinity (s/0), as PyTorch", () => {
    expect(variance(tensor([3])).item()).toBeNaN();
    expect(std(tensor([3])).item()).toBeNaN();
    expect(variance(tensor([1, 3]), null, { correction: 2 }).item()).toBe(Infinity);
    expect(variance(tensor([3]), null, { correction: 0 }).item()).toBe(0);
  });

  it("is computed in float64: the variance of 1e4 + small noise in float32 keeps its digits", () => {
    const x = tensor([10000.5, 10001.5, 10002.5, 10003.5]);
    expect(variance(x).item()).toBeCloseTo(5 / 3, 6);
    expect(std(x, 0, { correction: 0 }).item()).toBeCloseTo(Math.sqrt(1.25), 6);
  });
});
