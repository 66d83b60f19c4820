/**
 * The wasm backend's elementwise, softmax and dtype paths on arrays of several chunks (elementwise.ts
 * lays out CHUNK floats per operand at a time): lengths around and across chunk boundaries, broadcast
 * periods that divide the chunk, do not, or exceed it, comparisons into bytes, softmax and log-softmax
 * row blocks with fully masked (-Infinity) rows; against the reference backend.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BinaryOp, UnaryOp, View } from "../../src/kernels/backend.js";
import { referenceBackend as ref } from "../../src/kernels/reference.js";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";
import { CHUNK, streamModuleBytes } from "../../src/kernels/wasm/elementwise.js";
import { expectClose } from "./suite.js";

const wasm = createWasmBackend()!;
const SPECIALS = [NaN, 0, -0, Infinity, -Infinity, 1e-40, 1e30, -1e30, 88, -100];
function floats(n: number, seed: number, scale = 6): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return i % 11 === 5 ? SPECIALS[s % SPECIALS.length]! : (s / 2 ** 32 - 0.5) * scale;
  });
}
const dense = (a: Float32Array, shape: number[] = [a.length]): View => ({ storage: a, shape, strides: shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1)), offset: 0, dtype: "float32" });
const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what} [${i}]: got ${got[i]}, want ${want[i]}`);
};
// 257 and 263: one chunk that is not whole steps of 16 floats (the streaming kernels pad it)
const LENGTHS = [257, 263, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3, 3 * CHUNK + 4097];

describe("wasm elementwise paths across chunks", () => {
  it("the streaming kernels' module is below Chrome's 4 KB limit for synchronous compilation", () => {
    expect(streamModuleBytes()).toBeLessThanOrEqual(4096);
  });
  it("binary ops, dense and broadcast (periods 1, 3, 128, 1000, CHUNK + 5), equal the reference bit for bit", () => {
    for (const n of LENGTHS) {
      const a = floats(n, n);
      for (const p of [n, 1, 3, 128, 1000, CHUNK + 5]) {
        const rows = Math.floor(n / p);
        if (rows < 1 || rows * p !== n) {
          // a period must divide the length: use the largest multiple of p below n
          const m = Math.floor(n / p) * p;
          if (m < 256) continue;
          const av = dense(a.subarray(0, m), [m / p, p]);
          const bv: View = { storage: floats(p, p + 7), shape: [m / p, p], strides: [0, 1], offset: 0, dtype: "float32" };
          for (const op of ["add", "sub", "mul", "div", "maximum", "lt", "eq"] as BinaryOp[]) {
            const dt = op === "lt" || op === "eq" ? "bool" : "float32";
            same(wasm.binary(op, av, bv, dt), ref.binary(op, av, bv, dt), `${op} n=${m} p=${p}`);
          }
          continue;
        }
        const av = dense(a, [rows, p]);
        const bv: View = p === n ? dense(floats(n, n + 1), [rows, p]) : { storage: floats(p, p + 7), shape: [rows, p], strides: [0, 1], offset: 0, dtype: "float32" };
        for (const op of ["add", "sub", "mul", "div", "minimum", "ge", "ne"] as BinaryOp[]) {
          const dt = op === "ge" || op === "ne" ? "bool" : "float32";
          same(wasm.binary(op, av, bv, dt), ref.binary(op, av, bv, dt), `${op} n=${n} p=${p}`);
        }
      }
    }
  });

  it("add/sub/mul/div by one value per row (trailing dims broadcast: a mean, a softmax row sum) equal the reference bit for bit", () => {
    fc.assert(
      fc.property(fc.constantFrom(4, 8, 64, 128, 1024, CHUNK + 4, 12), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom<BinaryOp>("add", "sub", "mul", "div"), fc.integer({ min: 1, max: 1e9 }), (cols, rows, split, op, seed) => {
        if (rows * cols < 256 || rows * cols > 4e6) return;
        // rows as [split, rows / split] when it divides (two leading dims), the row split as [cols / 4, 4] (two broadcast dims)
        const lead = rows % split === 0 ? [split, rows / split] : [rows];
        const a = dense(floats(rows * cols, seed, 10), [...lead, cols / 4, 4]);
        const r = floats(rows + 2, seed + 1, 3);
        const b: View = { storage: r, shape: a.shape, strides: [...(lead.length === 2 ? [lead[1]!, 1] : [1]), 0, 0], offset: 2, dtype: "float32" };
        same(wasm.binary(op, a, b, "float32"), ref.binary(op, a, b, "float32"), `${op} rows ${rows} cols ${cols}`);
      }),
      { numRuns: 60 },
    );
  });

  it("unary ops (exp and erf on whole vectors, the rest per element) within float32 rounding of the reference", () => {
    for (const n of LENGTHS) {
      const x = dense(floats(n, 3 * n));
      for (const op of ["exp", "erf", "neg", "abs", "sqrt", "relu", "square"] as UnaryOp[]) {
        const got = wasm.unary(op, x);
        const want = ref.unary(op, x);
        if (op === "exp" || op === "erf") expectClose(got, want, 4e-7, 0, `${op} n=${n}`);
        else same(got, want, `${op} n=${n}`);
      }
    }
  });

  it("softmax and log-softmax over row blocks (rows of 32 to 2048 floats; fully masked rows) within 2e-6 of the reference", () => {
    fc.assert(
      fc.property(fc.constantFrom(32, 64, 100, 1024, 2048, CHUNK + 4), fc.integer({ min: 1, max: 70 }), fc.boolean(), fc.integer({ min: 1, max: 1e9 }), (cols, rows, log, seed) => {
        if (cols % 4 || rows * cols < 256) return;
        const x = floats(rows * cols, seed, 20);
        for (let r = 0; r < rows; r += 7) x.fill(-Infinity, r * cols, (r + 1) * cols);
        const v = dense(x, [rows, cols]);
        expectClose(wasm.softmax(v, 1, log), ref.softmax(v, 1, log), 2e-6, 1e-7, `${log ? "log" : ""}softmax ${rows}x${cols}`);
      }),
      { numRuns: 25 },
    );
  });
});
