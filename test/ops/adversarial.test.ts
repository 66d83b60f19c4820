/**
 * Ops that must stay finite (value and gradient) for every finite input, including adversarial
 * values: 0, -0, ±1e30, ±1e-30, subnormals, ties (repeated values) and huge logits.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { Tensor, tensor } from "../../src/index.js";

const adversarial = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, -0, 1e30, -1e30, 1e-30, -1e-30, 5e-324, -5e-324, 1, -1, 1000, -1000) },
  { weight: 2, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
);
const rows = fc.array(fc.array(adversarial, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }).map((r) => {
  const w = r[0]!.length;
  return r.map((row) => Array.from({ length: w }, (_, i) => row[i % row.length]!));
});

const allFinite = (t: Tensor | null): boolean => !t || Array.from(t.toTypedArray()).every(Number.isFinite);

const ops: [string, (x: Tensor) => Tensor][] = [
  ["sigmoid", (x) => x.sigmoid()],
  ["tanh", (x) => x.tanh()],
  ["softmax", (x) => x.softmax(-1)],
  ["logSoftmax", (x) => x.logSoftmax(-1)],
  ["logsumexp", (x) => x.logsumexp(-1)],
  ["softplus", (x) => x.softplus()],
  ["relu", (x) => x.relu()],
  ["leakyRelu", (x) => x.leakyRelu(0.1)],
  ["abs", (x) => x.abs()],
  ["clamp", (x) => x.clamp(-1, 1)],
  ["norm p=1", (x) => x.norm(1, -1)],
  ["norm p=2", (x) => x.norm(2, -1)],
  ["norm p=inf", (x) => x.norm(Infinity, -1)],
  ["amax (ties split)", (x) => x.amax(-1)],
  ["max(dim)", (x) => x.max(-1).values],
  ["maximum", (x) => x.maximum(flip0(x))],
];

/** A second operand with ties against x: x reversed along its first dim. */
function flip0(x: Tensor): Tensor {
  const n = x.shape[0]!;
  return sg.indexSelect(x, 0, tensor(Int32Array.from({ length: n }, (_, i) => n - 1 - i)));
}

describe("ops that are finite for every finite input, value and gradient", () => {
  for (const dtype of ["float64", "float32"] as const) {
    for (const [name, f] of ops) {
      it(`${name} (${dtype})`, () => {
        fc.assert(
          fc.property(rows, (data) => {
            const x = tensor(data, { dtype, requiresGrad: true });
            const y = f(x);
            expect(allFinite(y), `${name} value of ${JSON.stringify(data)}`).toBe(true);
            // A weighted sum so every output element gets a distinct gradient.
            const w = tensor(Array.from({ length: y.numel }, (_, i) => (i % 3) - 1), { dtype, shape: [...y.shape] });
            y.mul(w).sum().backward();
            expect(allFinite(x.grad), `${name} gradient at ${JSON.stringify(data)}`).toBe(true);
          }),
          { numRuns: 300 },
        );
      });
    }
  }

  it("softmax and logsumexp of rows with -Infinity mask entries are finite where a row has a finite entry", () => {
    const x = tensor([[1e30, -Infinity, 0], [-Infinity, -1000, -1000]], { requiresGrad: true });
    const s = x.softmax(-1);
    expect(s.toArray()).toEqual([[1, 0, 0], [0, 0.5, 0.5]]);
    const l = x.logsumexp(-1);
    expect(allFinite(l)).toBe(true);
    s.mul(tensor([[1, 2, 3], [3, 2, 1]])).sum().add(l.sum()).backward();
    expect(allFinite(x.grad)).toBe(true);
  });
});
