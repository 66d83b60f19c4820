/**
 * softmax / logSoftmax with { mask, causal } and the fused softmaxBackward: adversarial properties on
 * every backend, in float32 and float64, with sizes that reach the fast kernels. Entries that take
 * no part give exactly 0 (log -Infinity) and a zero gradient whatever x holds there (NaN,
 * ±Infinity, 1e30); a row with none taking part, or whose entries that do are all -Infinity, gives
 * zeros with zero gradient (torch 1.13: NaN); rows of 1e30, ties, subnormals and -0 stay finite
 * and sum to 1; the masked form equals the plain softmax of x filled with -Infinity where entries
 * take no part; bad options throw typed errors.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { grad, logSoftmax, setBackend, softmax, softmaxBackward, tensor, where, type DType, type Tensor } from "../../src/index.js";
import { DTypeError, ShapeError, ValueError } from "../../src/errors.js";
import { registerFastBackends } from "../../src/kernels/fast.js";

const backends = ["js", ...registerFastBackends()];
afterAll(() => setBackend("js"));

const SPECIAL = [-Infinity, Infinity, NaN, 1e30, -1e30, 1e-40, -0, 0, 2, 2];
/** Values that may sit where an entry takes part without making its row NaN. */
const FINITE_SPECIAL = [-Infinity, 1e30, -1e30, 1e-40, -0, 0, 2, 2];

interface Case {
  shape: [number, number, number];
  x: number[];
  mask: number[] | null;
  maskShape: number[];
  causal: boolean;
  log: boolean;
  g: number[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({ B: fc.integer({ min: 1, max: 3 }), L: fc.integer({ min: 1, max: 12 }), S: fc.integer({ min: 1, max: 70 }), seed: fc.integer({ min: 0, max: 2 ** 30 }), masked: fc.integer({ min: 0, max: 2 }), causal: fc.boolean(), log: fc.boolean() })
  .map(({ B, L, S, seed, masked, causal, log }) => {
    let s = seed || 1;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const n = B * L * S;
    const maskShape = masked === 2 ? [B, 1, S] : [B, L, S];
    const mask = masked ? Array.from({ length: maskShape.reduce((a, b) => a * b) }, () => (rnd() < 0.3 ? 0 : 1)) : null;
    const x = Array.from({ length: n }, () => (rnd() < 0.15 ? FINITE_SPECIAL[Math.floor(rnd() * FINITE_SPECIAL.length)]! : (rnd() - 0.5) * 30));
    // whole rows of -Infinity, of 1e30 and of ties
    for (let r = 0; r < B * L; r++) {
      const k = rnd();
      if (k < 0.1) x.fill(-Infinity, r * S, (r + 1) * S);
      else if (k < 0.15) x.fill(1e30, r * S, (r + 1) * S);
      else if (k < 0.2) x.fill(-0, r * S, (r + 1) * S);
    }
    const g = Array.from({ length: n }, () => rnd() * 4 - 2);
    return { shape: [B, L, S] as [number, number, number], x, mask, maskShape, causal, log, g };
  });

/** Whether entry (row r, col j) takes part. */
function takesPart(c: Case, r: number, j: number): boolean {
  const [, L, S] = c.shape;
  const [b, i] = [Math.floor(r / L), r % L];
  if (c.causal && j > i) return false;
  if (!c.mask) return true;
  const mi = c.maskShape[1] === 1 ? b * S + j : r * S + j;
  return c.mask[mi] !== 0;
}

function check(c: Case, dtype: DType, what: string): void {
  const [B, L, S] = c.shape;
  // entries that take no part hold anything, NaN and +Infinity included
  const xs = c.x.map((v, k) => (takesPart(c, Math.floor(k / S), k % S) ? v : SPECIAL[k % SPECIAL.length]!));
  const x = tensor(xs, { shape: c.shape, dtype, requiresGrad: true });
  const mask = c.mask ? tensor(Uint8Array.from(c.mask), { shape: c.maskShape, dtype: "bool" }) : null;
  const f = c.log ? logSoftmax : softmax;
  const y = f(x, -1, { mask, causal: c.causal });
  const g = tensor(c.g, { shape: c.shape, dtype });
  const [gx] = grad(y.mul(g).where(y.ne(-Infinity), 0).sum(), x);
  const Y = y.toTypedArray();
  const GX = gx!.toTypedArray();
  const X = x.toTypedArray();
  const dead = c.log ? -Infinity : 0;
  const tol = dtype === "float32" ? 1e-5 : 1e-12;
  for (let r = 0; r < B * L; r++) {
    const on = Array.from({ length: S }, (_, j) => takesPart(c, r, j));
    const live = on.some((o, j) => o && X[r * S + j]! > -Infinity);
    let sum = 0;
    for (let j = 0; j < S; j++) {
      const k = r * S + j;
      expect(Number.isFinite(GX[k]!), `${what}: finite gradient at ${k}`).toBe(true);
      if (!on[j] || !live) {
        expect(Object.is(Y[k], dead) || (dead === 0 && Y[k] === 0), `${what}: entry ${k} that takes no part (or a dead row) gives ${dead}, got ${Y[k]}`).toBe(true);
        expect(GX[k] === 0, `${what}: zero gradient at ${k}, got ${GX[k]}`).toBe(true);
        continue;
      }
      const p = c.log ? Math.exp(Y[k]!) : Y[k]!;
      expect(p >= 0 && p <= 1 + tol, `${what}: probability at ${k} is ${p}`).toBe(true);
      sum += p;
    }
    if (live) expect(Math.abs(sum - 1) <= 10 * tol, `${what}: row ${r} sums to ${sum}`).toBe(true);
  }
  // the same as the plain op on x filled with -Infinity where entries take no part
  const active = tensor(Uint8Array.from({ length: B * L * S }, (_, k) => (takesPart(c, Math.floor(k / S), k % S) ? 1 : 0)), { shape: c.shape, dtype: "bool" });
  const plain = f(where(active, x.detach(), -Infinity), -1).toTypedArray();
  for (let k = 0; k < plain.length; k++) {
    const [a, b] = [Y[k]!, plain[k]!];
    if (a === b) continue;
    expect(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: ${k}: masked ${a}, plain on the filled x ${b}`).toBe(true);
  }
  // the fused backward with the same options is the gradient (up to rounding)
  const bw = softmaxBackward(g.where(y.ne(-Infinity), 0), y.detach(), -1, { mask, causal: c.causal, log: c.log }).toTypedArray();
  for (let k = 0; k < bw.length; k++) expect(Math.abs(bw[k]! - GX[k]!) <= 1e-6 * (1 + Math.abs(GX[k]!)), `${what}: softmaxBackward at ${k}`).toBe(true);
}

describe("masked softmax: adversarial properties on every backend", () => {
  for (const backend of backends)
    for (const dtype of ["float32", "float64"] as const)
      it(`${backend} ${dtype}: exact zeros and zero gradients where entries take no part and in dead rows; finite, normalised elsewhere; equal to the -Infinity-filled plain op`, () => {
        setBackend(backend);
        fc.assert(
          fc.property(caseArb, (c) => check(c, dtype, `${backend} ${dtype} [${c.shape}] mask ${c.mask ? `[${c.maskShape}]` : "none"} causal ${c.causal} log ${c.log}`)),
          { numRuns: 25, seed: 18 },
        );
      });
});

describe("plain softmax rows of -Infinity, 1e30, ties, subnormals and -0", () => {
  for (const backend of backends)
    for (const dtype of ["float32", "float64"] as const)
      it(`${backend} ${dtype}: a -Infinity row is zeros (log -Infinity) with zero gradient; the others are finite`, () => {
        setBackend(backend);
        const S = 64;
        const rows = [new Array<number>(S).fill(-Infinity), new Array<number>(S).fill(1e30), new Array<number>(S).fill(3), Array.from({ length: S }, (_, j) => (j % 2 ? 1e-40 : -0)), Array.from({ length: S }, (_, j) => (j % 3 ? -Infinity : 1e30))];
        const x = tensor(rows.flat(), { shape: [rows.length, S], dtype, requiresGrad: true });
        for (const f of [softmax, logSoftmax]) {
          const y = f(x, -1);
          const g = tensor(Array.from({ length: rows.length * S }, (_, k) => Math.sin(k)), { shape: [rows.length, S], dtype });
          const [gx] = grad(y.mul(g).where(y.ne(-Infinity), 0).sum(), x);
          const Y = y.toTypedArray();
          const GX = gx!.toTypedArray();
          expect(Array.from(Y.subarray(0, S)).every((v) => v === (f === softmax ? 0 : -Infinity))).toBe(true);
          expect(Array.from(GX.subarray(0, S)).every((v) => v === 0)).toBe(true); // +0 or -0
          expect(GX.every(Number.isFinite)).toBe(true);
          // ties: uniform rows
          const p = f === softmax ? Y[S]! : Math.exp(Y[S]!);
          expect(Math.abs(p - 1 / S) <= 1e-6).toBe(true);
          expect(Math.abs((f === softmax ? Y[3 * S]! : Math.exp(Y[3 * S]!)) - 1 / S) <= 1e-6).toBe(true);
        }
      });
});

describe("masked softmax: typed errors", () => {
  const x = tensor([[1, 2], [3, 4]]);
  it("a mask that is not bool, or does not broadcast to x; causal off the last dim or on a 1-d x", () => {
    expect(() => softmax(x, -1, { mask: tensor([1, 0]) })).toThrow(DTypeError);
    expect(() => softmax(x, -1, { mask: tensor([true, false, true], { dtype: "bool" }) })).toThrow(ShapeError);
    expect(() => softmax(x, -1, { mask: tensor([[[true]], [[false]]], { dtype: "bool" }) })).toThrow(ShapeError);
    expect(() => softmax(x, 0, { causal: true })).toThrow(ValueError);
    expect(() => logSoftmax(tensor([1, 2]), 0, { causal: true })).toThrow(ValueError);
    expect(() => softmaxBackward(tensor([1, 2, 3]), tensor([0.5, 0.5]), 0)).toThrow(ShapeError);
    expect(() => softmaxBackward(tensor([1, 2], { dtype: "float64" }), tensor([0.5, 0.5]), 0)).toThrow(DTypeError);
  });
  it("a mask of all true is the plain op; a 0-d x is a row of one", () => {
    const all = tensor([[true, true], [true, true]], { dtype: "bool" });
    expect(softmax(x, -1, { mask: all }).toArray()).toEqual(softmax(x, -1).toArray());
    expect(softmax(tensor(3), 0, { mask: tensor(true, { dtype: "bool" }) }).item()).toBe(1);
    expect(softmax(tensor(3), 0, { mask: tensor(false, { dtype: "bool" }) }).item()).toBe(0);
  });
});
