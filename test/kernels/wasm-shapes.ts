/** Medium conv and matmul shapes that reach the wasm paths' blocking, padding and thread splits. */
import fc from "fast-check";
import { describe, it } from "vitest";
import type { Backend, Conv2dParams, View } from "../../src/kernels/backend.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import { numel } from "../../src/tensor/shape.js";
import { contiguousStrides } from "../../src/tensor/layout.js";
import { expectClose } from "./suite.js";

// NOTE: the generic suite's conv cases are tiny; these reach the wasm paths' blocking and padding:
// K = Cg*kH*kW > 256 (two k blocks), Og not a multiple of 4, L = Ho*Wo not a multiple of 8,
// groups, strides and dilation, and matmuls through the dot-product (x @ W^T; with k <= 256 a multiple of 4, B^T packed by 4 x 4 transposes) and the
// transposed-A (x^T @ gy) paths with sizes that are not multiples of the tiles.
export function mediumShapeSuite(wasm: Backend, label = "wasm backend"): void {
  describe(`${label}: medium conv and matmul shapes against the reference`, () => {
    const ref = referenceBackend;
    const view = (shape: number[], seed: number): View => ({
      storage: Float32Array.from({ length: numel(shape) }, (_, i) => Math.sin(i * 0.37 + seed) * (1 + (i % 3))),
      shape, strides: contiguousStrides(shape), offset: 0, dtype: "float32",
    });
    const maxAbs = (a: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };
    const close = (got: ArrayLike<number>, want: ArrayLike<number>, terms: number, what: string): void =>
      expectClose(got, want, 0, 2e-7 * terms * 9 * Math.max(1, maxAbs(want)) + 1e-30, what);

    it("conv2d and both gradients", () => {
      fc.assert(
        fc.property(
          fc.record({
            N: fc.integer({ min: 1, max: 3 }), groups: fc.constantFrom(1, 2), Cg: fc.constantFrom(1, 3, 5, 33),
            Og: fc.constantFrom(1, 3, 6, 13), H: fc.integer({ min: 3, max: 13 }), W: fc.integer({ min: 3, max: 13 }),
            k: fc.constantFrom(1, 3), s: fc.constantFrom(1, 2), pad: fc.constantFrom(0, 1), d: fc.constantFrom(1, 2),
          }).filter((c) => c.H + 2 * c.pad >= c.d * (c.k - 1) + 1 && c.W + 2 * c.pad >= c.d * (c.k - 1) + 1),
          (c) => {
            const p: Conv2dParams = { stride: [c.s, 1], padding: [c.pad, c.pad], dilation: [c.d, c.d], groups: c.groups };
            const Ho = Math.floor((c.H + 2 * c.pad - c.d * (c.k - 1) - 1) / c.s) + 1;
            const Wo = c.W + 2 * c.pad - c.d * (c.k - 1);
            const O = c.Og * c.groups;
            const x = view([c.N, c.Cg * c.groups, c.H, c.W], 1);
            const w = view([O, c.Cg, c.k, c.k], 2);
            const gy = view([c.N, O, Ho, Wo], 3);
            const K = c.Cg * c.k * c.k;
            const tag = JSON.stringify(c);
            close(wasm.conv2d(x, w, p), ref.conv2d(x, w, p), K * 9, `${tag} forward`);
            close(wasm.conv2dInputGrad(gy, w, x.shape, p), ref.conv2dInputGrad(gy, w, x.shape, p), c.Og * K * 9, `${tag} input grad`);
            close(wasm.conv2dWeightGrad(x, gy, w.shape, p), ref.conv2dWeightGrad(x, gy, w.shape, p), c.N * Ho * Wo * 9, `${tag} weight grad`);
          },
        ),
        { numRuns: 30 },
      );
    });

    it("matmul: row-major, transposed A (x^T @ gy) and transposed B (x @ W^T)", () => {
      fc.assert(
        fc.property(fc.constantFrom(1, 5, 33, 130), fc.constantFrom(1, 7, 64, 257), fc.constantFrom(3, 66, 128, 517, 1030), fc.boolean(), fc.boolean(), (M, N, K, ta, tb) => {
          const a0 = view(ta ? [K, M] : [M, K], 4);
          const b0 = view(tb ? [N, K] : [K, N], 5);
          const t = (v: View): View => ({ ...v, shape: [v.shape[1]!, v.shape[0]!], strides: [v.strides[1]!, v.strides[0]!] });
          const a = ta ? t(a0) : a0;
          const b = tb ? t(b0) : b0;
          close(wasm.matmul(a, b), ref.matmul(a, b), K, `matmul ${M}x${K}x${N} ta=${ta} tb=${tb}`);
        }),
        { numRuns: 40 },
      );
    });
  });
}
