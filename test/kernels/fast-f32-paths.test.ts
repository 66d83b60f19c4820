/**
 * js-fast's float32 paths (binaryRunF32 for add/sub/mul/div, whereF32 with a bool condition; both
 * also run for the wasm backend's fallbacks): bit for bit the reference's results on random shapes
 * whose operands broadcast along any dims (a per-row statistic, a row mask, a scalar), are
 * transposed or offset, with special values (NaN, ±0, ±Infinity, subnormals).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BinaryOp, View } from "../../src/kernels/backend.js";
import { fastJsBackend } from "../../src/kernels/js/backend.js";
import { referenceBackend as ref } from "../../src/kernels/reference.js";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";

const wasm = createWasmBackend()!;
const SPECIALS = [NaN, 0, -0, Infinity, -Infinity, 1e-40, -1e-40, 1e30, -1e30, 1, -1];

/** A float32 (or bool) view of `shape` over fresh storage: each dim broadcast (stride 0) or not, optionally the last two dims transposed, at an offset. */
const viewOf = (shape: number[], dtype: "float32" | "bool") =>
  fc.tuple(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([bc, tr, off, seed]): View => {
    const kept = shape.map((s, d) => (bc[d] ? 1 : s));
    const order = kept.map((_, d) => d);
    if (tr && kept.length >= 2) [order[kept.length - 1], order[kept.length - 2]] = [order[kept.length - 2]!, order[kept.length - 1]!];
    // strides of a row-major layout of the dims in `order`, then 0 for the broadcast dims
    const strides = new Array<number>(kept.length).fill(0);
    let st = 1;
    for (let i = order.length - 1; i >= 0; i--) {
      const d = order[i]!;
      strides[d] = bc[d] ? 0 : st;
      st *= kept[d]!;
    }
    const n = kept.reduce((a, b) => a * b, 1) + off;
    let s = seed;
    const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const storage = dtype === "bool" ? Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0)) : Float32Array.from({ length: n }, () => (rnd() < 0.15 ? SPECIALS[Math.floor(rnd() * SPECIALS.length)]! : (rnd() - 0.5) * 8));
    return { storage, shape, strides, offset: off, dtype };
  });

const shapes = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 });
const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${what} [${i}]: got ${got[i]}, want ${want[i]}`);
};

describe("js-fast float32 paths", () => {
  for (const [name, b] of [["js-fast", fastJsBackend], ["wasm", wasm]] as const) {
    it(`${name}: add/sub/mul/div of broadcast, transposed and offset float32 views equal the reference bit for bit`, () => {
      fc.assert(
        fc.property(shapes.chain((sh) => fc.tuple(viewOf(sh, "float32"), viewOf(sh, "float32"), fc.constantFrom<BinaryOp>("add", "sub", "mul", "div"))), ([a, bv, op]) => {
          same(b.binary(op, a, bv, "float32"), ref.binary(op, a, bv, "float32"), `${op} ${a.shape} a ${a.strides} b ${bv.strides}`);
        }),
        { numRuns: 300 },
      );
    });

    it(`${name}: where with a bool condition (row masks: stride 0 along the last dim) equals the reference bit for bit`, () => {
      fc.assert(
        fc.property(shapes.chain((sh) => fc.tuple(viewOf(sh, "bool"), viewOf(sh, "float32"), viewOf(sh, "float32"))), ([c, a, bv]) => {
          same(b.where(c, a, bv), ref.where(c, a, bv), `where ${a.shape} c ${c.strides} a ${a.strides} b ${bv.strides}`);
        }),
        { numRuns: 300 },
      );
    });
  }
});
