/**
 * softmax / logSoftmax with { mask, causal } and softmaxBackward against PyTorch 1.13, on every
 * backend: fixtures/softmax.json is written by scripts/fixtures/softmax.py (torch's softmax of x
 * with the entries that take no part filled with -inf, its autograd gradient, and
 * torch._softmax_backward_data / _log_softmax_backward_data). Rows where no entry takes part (or
 * all that do are -inf) are NaN in torch 1.13; safegrad gives zeros (log -inf) and a zero gradient
 * there, checked exactly. This test only reads the fixture.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { grad, logSoftmax, setBackend, softmax, softmaxBackward, tensor, type DType, type Tensor } from "../../src/index.js";
import { registerFastBackends } from "../../src/kernels/fast.js";

type Enc = number | string;
interface TRec { data: Enc[]; shape: number[]; dtype: string }
interface Case { x: TRec; mask: { data: boolean[]; shape: number[] } | null; causal: boolean; log: boolean; g: TRec; out: TRec; grad: TRec; plain: TRec; backward: TRec }
const fixture = JSON.parse(readFileSync(new URL("../../fixtures/softmax.json", import.meta.url), "utf8")) as { torch: string; cases: Case[] };

const num = (v: Enc): number => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "-0" ? -0 : (v as number));
const values = (r: TRec): number[] => r.data.map(num);
const toTensor = (r: TRec, requiresGrad = false): Tensor => tensor(values(r), { shape: r.shape, dtype: r.dtype as DType, requiresGrad });

/** |got - want| <= tol (|want| + the row's largest |want|), NaN only where torch has NaN. */
function expectRowsClose(got: ArrayLike<number>, want: number[], cols: number, tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let r0 = 0; r0 < want.length; r0 += cols) {
    let scale = 0;
    for (let j = r0; j < r0 + cols; j++) if (Number.isFinite(want[j]!)) scale = Math.max(scale, Math.abs(want[j]!));
    for (let j = r0; j < r0 + cols; j++) {
      const [a, b] = [got[j]!, want[j]!];
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      if (!(Math.abs(a - b) <= tol * (Math.abs(b) + scale))) expect.fail(`${what}: element ${j}: got ${a}, torch ${b}`);
    }
  }
}

/**
 * The backward within tol times its condition: |y| (|g| + sum |g y|), log |g| + exp(y) sum |g| (a sum of
 * terms of both signs: torch sums in float32, the reference in float64).
 */
function expectBackwardClose(got: ArrayLike<number>, want: number[], g: number[], y: number[], cols: number, log: boolean, tol: number, what: string): void {
  for (let r0 = 0; r0 < want.length; r0 += cols) {
    let s = 0;
    for (let j = r0; j < r0 + cols; j++) s += Math.abs(log ? g[j]! : g[j]! * y[j]!);
    for (let j = r0; j < r0 + cols; j++) {
      const [a, b] = [got[j]!, want[j]!];
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      const bound = tol * (Math.abs(b) + (log ? Math.abs(g[j]!) + Math.exp(y[j]!) * s : Math.abs(y[j]!) * (Math.abs(g[j]!) + s)));
      if (!(Math.abs(a - b) <= bound)) expect.fail(`${what}: element ${j}: got ${a}, torch ${b}`);
    }
  }
}

const backends = ["js", ...registerFastBackends()];
afterAll(() => setBackend("js"));

describe(`masked softmax and softmaxBackward against torch ${fixture.torch}`, () => {
  for (const backend of backends)
    it(`${fixture.cases.length} cases on backend "${backend}": values, gradients, fused backward; torch's NaN rows are zeros with zero gradient`, () => {
      setBackend(backend);
      for (const [k, c] of fixture.cases.entries()) {
        const what = `case ${k} (${c.x.dtype} [${c.x.shape}] mask ${c.mask ? `[${c.mask.shape}]` : "none"} causal ${c.causal} log ${c.log}) on ${backend}`;
        const tol = c.x.dtype === "float32" ? 2e-5 : 1e-12;
        const cols = c.x.shape[2]!;
        const x = toTensor(c.x, true);
        const g = toTensor(c.g);
        const mask = c.mask ? tensor(Uint8Array.from(c.mask.data, Number), { shape: c.mask.shape, dtype: "bool" }) : null;
        const opts = { mask, causal: c.causal };
        const out = (c.log ? logSoftmax : softmax)(x, -1, opts);
        const [gx] = grad(out.mul(g).sum(), x);
        const want = values(c.out);
        const wantGrad = values(c.grad);
        // torch's NaN rows (no finite entry taking part): safegrad's zeros (log -inf) and zero gradient
        for (let i = 0; i < want.length; i++)
          if (Number.isNaN(want[i]!)) {
            want[i] = c.log ? -Infinity : 0;
            wantGrad[i] = 0;
          }
        expectRowsClose(out.toTypedArray(), want, cols, tol, `${what}: output`);
        expectBackwardClose(gx!.toTypedArray(), wantGrad, values(c.g), want, cols, c.log, tol, `${what}: gradient`);
        expect(gx!.toTypedArray().every(Number.isFinite), `${what}: finite gradient`).toBe(true);
        // the fused backward on torch's own (unmasked) output, NaN rows included
        const bwd = softmaxBackward(g, toTensor(c.plain), -1, { log: c.log }).toTypedArray();
        expectBackwardClose(bwd, values(c.backward), values(c.g), values(c.plain), cols, c.log, tol, `${what}: softmaxBackward`);
      }
    });
});
