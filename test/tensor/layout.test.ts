/**
 * allFinite (the engine's where()-trap scan, issue 18) and contiguousData (row by row, no offsets
 * array): the 8-accumulator loop and the strided copy agree with naive element-by-element oracles on
 * any view (transposed, broadcast, narrowed, stepped, offset) of float32 and float64 storages.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allFinite, contiguousData, contiguousStrides, type View } from "../../src/tensor/layout.js";
import { numel } from "../../src/tensor/shape.js";

const HOSTILE = [0, -0, 1, -1, 1e30, -1e30, 3e38, 1e-45, 5e-324, NaN, Infinity, -Infinity];

/** Every element of a view, read one by one (the oracle). */
function naive(v: View): boolean {
  const n = numel(v.shape);
  const idx = new Array<number>(v.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = v.offset;
    for (let d = 0; d < idx.length; d++) off += idx[d]! * v.strides[d]!;
    if (!Number.isFinite(v.storage[off]!)) return false;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < v.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return true;
}

const viewArb = fc
  .record({
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }),
    dtype: fc.constantFrom("float32" as const, "float64" as const),
    perm: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    bcast: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    step: fc.integer({ min: 1, max: 3 }),
    offset: fc.integer({ min: 0, max: 7 }),
    bad: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...HOSTILE)), { maxLength: 3 }),
  })
  .map(({ shape, dtype, perm, bcast, step, offset, bad }): View => {
    // a storage large enough for a stepped, permuted layout of `shape`, then broadcast dims
    const base = contiguousStrides(shape.map((n) => n * step));
    const order = shape.map((_, i) => i).sort((a, b) => (perm[a]! % 7) - (perm[b]! % 7));
    const strides = order.map((d, i) => (bcast[i] ? 0 : base[d]! * step));
    const vshape = order.map((d) => shape[d]!);
    const len = offset + Math.max(1, numel(shape) * step ** Math.max(1, shape.length)) + 1;
    const storage = dtype === "float32" ? new Float32Array(len) : new Float64Array(len);
    for (let i = 0; i < len; i++) storage[i] = Math.sin(i) * 10;
    for (const [at, x] of bad) storage[at % len] = x;
    return { storage, shape: vshape, strides, offset, dtype };
  });

describe("allFinite", () => {
  it("agrees with an element-by-element check on strided, broadcast and offset views", () => {
    fc.assert(fc.property(viewArb, (v) => {
      expect(allFinite(v)).toBe(naive(v));
    }), { numRuns: 2000 });
  });
  it("finds one non-finite value anywhere in long contiguous runs (all 8 accumulators and the tail)", () => {
    for (const n of [1, 7, 8, 9, 63, 64, 65, 1000]) {
      for (const Ctor of [Float32Array, Float64Array]) {
        for (let at = 0; at < n; at++) {
          for (const x of [NaN, Infinity, -Infinity]) {
            const s = new Ctor(n + 2).fill(1);
            s[at + 1] = x;
            const v: View = { storage: s, shape: [n], strides: [1], offset: 1, dtype: Ctor === Float32Array ? "float32" : "float64" };
            expect(allFinite(v)).toBe(false);
          }
          if (n > 100 && at > 70) break;
        }
        const ok = new Ctor(n).fill(3e38);
        expect(allFinite({ storage: ok, shape: [n], strides: [1], offset: 0, dtype: Ctor === Float32Array ? "float32" : "float64" })).toBe(true);
      }
    }
  });
  it("non-float views are finite", () => {
    expect(allFinite({ storage: new Int32Array(3), shape: [3], strides: [1], offset: 0, dtype: "int32" })).toBe(true);
  });
});

describe("contiguousData", () => {
  it("reads any strided, broadcast or offset view in row-major order", () => {
    fc.assert(fc.property(viewArb, (v) => {
      const n = numel(v.shape);
      const want: number[] = [];
      const idx = new Array<number>(v.shape.length).fill(0);
      for (let i = 0; i < n; i++) {
        let off = v.offset;
        for (let d = 0; d < idx.length; d++) off += idx[d]! * v.strides[d]!;
        want.push(v.storage[off]!);
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d]! < v.shape[d]!) break;
          idx[d] = 0;
        }
      }
      const got = contiguousData(v);
      expect(got.constructor).toBe(v.storage.constructor);
      expect(Array.from(got)).toEqual(want);
    }), { numRuns: 1000 });
  });
});
