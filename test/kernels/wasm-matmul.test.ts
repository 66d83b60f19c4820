/**
 * The wasm backend's batched matmul (src/kernels/wasm/matmul.ts): which calls take it, its results
 * against the reference on the layouts of attention (permuted heads, transposed keys and weights,
 * broadcast batch dims, sizes that are not multiples of the micro-kernel's tile), and the same
 * bits on two threads as on one; and `matmulOrdered` (the result stored in another dim order) on the
 * wasm and js-fast backends. The conformance kit (suite.ts) runs the same layouts as fixed matmul
 * cases on every backend.
 */
import { describe, expect, it } from "vitest";
import type { View } from "../../src/kernels/backend.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import { contiguousStrides } from "../../src/tensor/layout.js";
import { batchedMatmulWasm } from "../../src/kernels/wasm/matmul.js";
import { WasmRuntime } from "../../src/kernels/wasm/runtime.js";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";
import { fastJsBackend } from "../../src/kernels/js/backend.js";
import { stridesInOrder } from "../../src/kernels/layout.js";

const rt = new WasmRuntime();

/** float32 storage of `storageShape` (contiguous), seen with its dims in the order `perm`. */
function permuted(storageShape: number[], perm: number[], seed: number, dtype: "float32" | "float64" = "float32"): View {
  const n = storageShape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed) * 2);
  const storage = dtype === "float32" ? Float32Array.from(data) : Float64Array.from(data);
  const st = contiguousStrides(storageShape);
  return { storage, shape: perm.map((d) => storageShape[d]!), strides: perm.map((d) => st[d]!), offset: 0, dtype };
}
const heads = (B: number, T: number, H: number, D: number, seed: number): View => permuted([B, T, H, D], [0, 2, 1, 3], seed);
const keysT = (B: number, T: number, H: number, D: number, seed: number): View => permuted([B, T, H, D], [0, 2, 3, 1], seed);

/** |got - reference| within K eps (|A| |B|)_ij per element (the kit's float32 dot bound). */
function checkAgainstReference(got: ArrayLike<number>, a: View, b: View, what: string): void {
  const want = referenceBackend.matmul(a, b);
  const abs = (v: View): View => ({ ...v, storage: v.storage.map(Math.abs) });
  const bound = referenceBackend.matmul(abs(a), abs(b));
  const K = a.shape[a.shape.length - 1]!;
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= 2e-7 * K * bound[i]! + 1e-30)) expect.fail(`${what}: element ${i} got ${got[i]}, want ${want[i]}`);
  }
}

// name, A, B: the W6 attention products (scaled down) and the edge cases of packing
const cases: [string, View, View][] = [
  ["q @ k^T (A packed by 4 x 4 transposes, B packed)", heads(2, 16, 3, 8, 0), keysT(2, 16, 3, 8, 1)],
  ["p @ v (A packed, B in place)", permuted([2, 3, 16, 16], [0, 1, 2, 3], 2), heads(2, 16, 3, 8, 3)],
  ["p^T @ v (A and B in place)", permuted([2, 3, 16, 16], [0, 1, 3, 2], 4), heads(2, 16, 3, 8, 5)],
  ["g @ v^T (k not a multiple of 4)", heads(4, 12, 3, 7, 6), keysT(4, 12, 3, 7, 7)],
  ["odd sizes: partial panels of A and B", heads(3, 13, 3, 9, 8), permuted([3, 3, 9, 11], [0, 1, 2, 3], 9)],
  ["A broadcast over the batch", { ...permuted([12, 16], [0, 1], 10), shape: [5, 12, 16], strides: [0, 16, 1] }, permuted([5, 16, 16], [0, 1, 2], 11)],
  ["B broadcast over the batch, transposed", heads(3, 12, 2, 16, 12), { ...permuted([8, 16], [1, 0], 13), shape: [3, 2, 16, 8], strides: [0, 0, 1, 16] }],
  ["batch dims permuted", permuted([3, 4, 8, 16], [1, 0, 2, 3], 14), permuted([4, 3, 16, 8], [0, 1, 2, 3], 15)],
  ["narrowed (an offset, padded rows)", { ...permuted([6, 10, 20], [0, 1, 2], 16), shape: [6, 8, 16], offset: 21 }, permuted([6, 16, 16], [0, 1, 2], 17)],
];

describe("wasm batched matmul", () => {
  for (const [name, a, b] of cases)
    it(`takes and matches the reference: ${name}`, () => {
      const got = batchedMatmulWasm(rt, a, b);
      expect(got, name).not.toBeNull();
      checkAgainstReference(got!, a, b, name);
    });

  it("leaves other calls to the per-matrix path", () => {
    const m = (shape: number[]): View => permuted(shape, shape.map((_, i) => i), 1);
    expect(batchedMatmulWasm(rt, m([64, 32]), m([32, 64]))).toBeNull(); // one matrix
    expect(batchedMatmulWasm(rt, m([2, 64, 600]), m([2, 600, 8]))).toBeNull(); // k past K_MAX
    expect(batchedMatmulWasm(rt, m([2, 256, 128]), m([2, 128, 256]))).toBeNull(); // large products
    expect(batchedMatmulWasm(rt, m([1000, 4, 4]), m([1000, 4, 4]))).toBeNull(); // tiny products
    expect(batchedMatmulWasm(rt, permuted([2, 8, 8], [0, 1, 2], 1, "float64"), permuted([2, 8, 8], [0, 1, 2], 2, "float64"))).toBeNull();
    const neg = m([3, 8, 8]);
    expect(batchedMatmulWasm(rt, { ...neg, strides: [-64, 8, 1], offset: 128 }, m([3, 8, 8]))).toBeNull();
  });

  it("gives the same bits on two threads (split by batches) as on one", async () => {
    const rt2 = new WasmRuntime(2);
    rt2.splitMin = 0;
    for (let i = 0; i < 1000 && !rt2.ready; i++) await new Promise((r) => setTimeout(r, 5));
    for (const [name, a, b] of cases) {
      const one = batchedMatmulWasm(rt, a, b)!;
      const two = batchedMatmulWasm(rt2, a, b)!;
      expect([...two], name).toEqual([...one]);
    }
    rt2.terminateWorker();
  });

  it("matches the reference at W6's attention sizes", () => {
    const a = heads(4, 64, 4, 32, 20);
    const b = keysT(4, 64, 4, 32, 21);
    checkAgainstReference(batchedMatmulWasm(rt, a, b)!, a, b, "q @ k^T [4, 4, 64, 32]");
    const p = permuted([4, 4, 64, 64], [0, 1, 2, 3], 22);
    const v = heads(4, 64, 4, 32, 23);
    checkAgainstReference(batchedMatmulWasm(rt, p, v)!, p, v, "p @ v [4, 4, 64, 64] @ [4, 4, 64, 32]");
  });
});

/** The row-major copy of a result stored in `order` (read through stridesInOrder). */
function fromOrder(got: ArrayLike<number>, shape: number[], order: number[]): number[] {
  const st = stridesInOrder(shape, order);
  const n = shape.reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let r = i;
    let at = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      at += (r % shape[d]!) * st[d]!;
      r = Math.floor(r / shape[d]!);
    }
    out.push(got[at]!);
  }
  return out;
}

describe("matmulOrdered: the result stored in another dim order", () => {
  const wasm = createWasmBackend()!;
  // [B, H, L, D] stored as [B, L, H, D] (merged heads), and other orders ending with N's dim
  const orders: [string, View, View, number[]][] = [
    ["p @ v as [B, L, H, D] (tiles whole: written in place)", permuted([2, 3, 16, 16], [0, 1, 2, 3], 30), heads(2, 16, 3, 8, 31), [0, 2, 1, 3]],
    ["g @ k as [B, L, H, D] at W6's sizes", permuted([4, 4, 64, 64], [0, 1, 2, 3], 32), heads(4, 64, 4, 32, 33), [0, 2, 1, 3]],
    ["partial tiles (M 13, N 9): through scratch", permuted([3, 3, 13, 13], [0, 1, 2, 3], 34), heads(3, 13, 3, 9, 35), [0, 2, 1, 3]],
    ["seq-first heads: [L, B, H, D]", permuted([2, 3, 16, 16], [0, 1, 3, 2], 36), permuted([16, 2, 3, 8], [1, 2, 0, 3], 37), [2, 0, 1, 3]],
    ["batch dims swapped, rows outermost", permuted([2, 3, 8, 8], [0, 1, 2, 3], 38), permuted([8, 3, 2, 8], [2, 1, 0, 3], 39), [2, 1, 0, 3]],
    ["one big product per batch (the per-matrix path)", permuted([2, 2, 200, 96], [0, 1, 2, 3], 40), permuted([2, 96, 2, 136], [0, 2, 1, 3], 41), [0, 2, 1, 3]],
  ];
  for (const [be, name] of [[wasm, "wasm"], [fastJsBackend, "js-fast"]] as const)
    for (const [what, a, b, order] of orders)
      it(`${name}: ${what}`, () => {
        const got = be.matmulOrdered!(a, b, order);
        expect(got).not.toBeNull();
        const shape = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]!];
        checkAgainstReference(fromOrder(got!, shape, order), a, b, `${name} ${what}`);
      });

  it("declines an order that does not keep N's dim innermost", () => {
    const a = permuted([2, 3, 16, 16], [0, 1, 2, 3], 42);
    const b = heads(2, 16, 3, 8, 43);
    expect(wasm.matmulOrdered!(a, b, [0, 1, 3, 2])).toBeNull();
    expect(fastJsBackend.matmulOrdered!(a, b, [0, 1, 3, 2])).toBeNull();
  });
});

describe("matmul results taken uncleared from the pool", () => {
  it("write every element (poisoned pool: uncleared buffers are NaN) on wasm and js-fast", async () => {
    const { configurePool } = await import("../../src/tensor/pool.js");
    const prev = configurePool({ poison: true });
    try {
      const wasm = createWasmBackend()!;
      const m = (shape: number[], seed: number): View => permuted(shape, shape.map((_, i) => i), seed);
      // k = 0, the small JS path, the dot-product path, the packed path, batched, batched in another order
      const cases: [View, View, number[] | null][] = [
        [m([70, 0], 1), m([0, 90], 2), null], [m([64, 64], 3), m([64, 72], 4), null], [permuted([100, 300], [0, 1], 5), permuted([80, 300], [1, 0], 6), null],
        [m([100, 130], 7), m([130, 90], 8), null], [m([2, 3, 16, 16], 9), heads(2, 16, 3, 8, 10), null], [m([2, 3, 16, 16], 11), heads(2, 16, 3, 8, 12), [0, 2, 1, 3]],
      ];
      for (const be of [wasm, fastJsBackend])
        for (const [a, b, order] of cases) {
          const shape = [...a.shape.slice(0, -1), b.shape[b.shape.length - 1]!];
          const got = order ? fromOrder(be.matmulOrdered!(a, b, order)!, shape, order) : be.matmul(a, b);
          checkAgainstReference(got, a, b, `${be.name} ${shape.join("x")} k ${a.shape[a.shape.length - 1]}`);
        }
    } finally {
      configurePool(prev);
    }
  });
});
