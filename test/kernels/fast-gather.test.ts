/**
 * js-fast's gather and scatterAdd (by runs; also the wasm backend's): the same bits as the reference
 * on random shapes, dims and dtypes, with index views that are expanded (stride 0, as embedding's
 * index and its gradient), transposed or offset, and repeated indices (scatterAdd sums them in the
 * reference's order), including special values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { View } from "../../src/kernels/backend.js";
import { fastJsBackend } from "../../src/kernels/js/backend.js";
import { referenceBackend as ref } from "../../src/kernels/reference.js";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";

const wasm = createWasmBackend()!;
const SPECIALS = [NaN, 0, -0, Infinity, -Infinity, 1e-40, 1e30, 1];
const rowMajor = (shape: number[]): number[] => shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));

type Setup = { x: View; src: View; index: View; dim: number };
const setup = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
    dimSeed: fc.nat(),
    extent: fc.integer({ min: 1, max: 7 }),
    dtype: fc.constantFrom("float32", "float64", "int32"),
    expand: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    transpose: fc.boolean(),
    off: fc.integer({ min: 0, max: 2 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  })
  .map(({ shape, dimSeed, extent, dtype, expand, transpose, off, seed }): Setup => {
    let s = seed;
    const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const dim = dimSeed % shape.length;
    // x has `extent` along dim, the index's shape elsewhere (gather reads within it)
    const xShape = shape.map((v, d) => (d === dim ? extent : v));
    const make = (sh: number[], o: number): View => {
      const n = sh.reduce((a, b) => a * b, 1) + o;
      const storage =
        dtype === "int32" ? Int32Array.from({ length: n }, () => Math.floor(rnd() * 200 - 100)) : (dtype === "float32" ? Float32Array : Float64Array).from(Array.from({ length: n }, () => (rnd() < 0.1 ? SPECIALS[Math.floor(rnd() * SPECIALS.length)]! : rnd() * 8 - 4)));
      return { storage, shape: sh, strides: rowMajor(sh), offset: o, dtype };
    };
    // the index: values in [0, extent), each dim expanded (stride 0) or not, optionally its last two dims transposed
    const kept = shape.map((v, d) => (expand[d] ? 1 : v));
    const order = kept.map((_, d) => d);
    if (transpose && kept.length >= 2) [order[kept.length - 1], order[kept.length - 2]] = [order[kept.length - 2]!, order[kept.length - 1]!];
    const strides = new Array<number>(kept.length).fill(0);
    let st = 1;
    for (let i = order.length - 1; i >= 0; i--) {
      const d = order[i]!;
      strides[d] = expand[d] ? 0 : st;
      st *= kept[d]!;
    }
    const idx = Int32Array.from({ length: st + off }, () => Math.floor(rnd() * extent));
    return { x: make(xShape, off), src: make(shape, 0), index: { storage: idx, shape, strides, offset: off, dtype: "int32" }, dim };
  });

const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what} [${i}]: got ${got[i]}, want ${want[i]}`);
};

describe("js-fast gather and scatterAdd", () => {
  for (const [name, b] of [["js-fast", fastJsBackend], ["wasm", wasm]] as const) {
    it(`${name}: gather equals the reference bit for bit`, () => {
      fc.assert(fc.property(setup, ({ x, index, dim }) => same(b.gather(x, dim, index), ref.gather(x, dim, index), `gather dim ${dim} ${x.shape} idx ${index.strides}`)), { numRuns: 300 });
    });
    it(`${name}: scatterAdd equals the reference bit for bit (repeated indices summed in the same order)`, () => {
      fc.assert(fc.property(setup, ({ x, src, index, dim }) => same(b.scatterAdd(x, dim, index, src), ref.scatterAdd(x, dim, index, src), `scatterAdd dim ${dim} ${x.shape} idx ${index.strides}`)), { numRuns: 300 });
    });
  }
});
