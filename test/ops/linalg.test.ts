import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DTypeError, Generator, gradcheck, matmul, randn, setBackend, ShapeError, tensor, zeros, type Tensor } from "../../src/index.js";
import { registerFastBackends } from "../../src/kernels/fast.js";
import { expectClose, numelOf, ravel, rnd, seedArb, unravel, vals } from "../helpers.js";

/** C[i, j] = sum_k A[i, k] B[k, j] over row-major flat arrays. */
function tripleLoop(a: readonly number[], b: readonly number[], M: number, K: number, N: number): number[] {
  const c = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a[i * K + k]! * b[k * N + j]!;
      c[i * N + j] = acc;
    }
  return c;
}

/** Naive batched matmul with broadcasting of the batch dims (inputs at least 2-D). */
function naiveBatched(a: Tensor, b: Tensor): { shape: number[]; data: number[] } {
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const nd = Math.max(ba.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < nd; i++) {
    const x = ba[ba.length - nd + i] ?? 1;
    const y = bb[bb.length - nd + i] ?? 1;
    batch.push(x === 1 ? y : x);
  }
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape[b.ndim - 1]!;
  const av = vals(a);
  const bv = vals(b);
  const data: number[] = [];
  for (let bi = 0; bi < numelOf(batch); bi++) {
    const idx = unravel(bi, batch);
    const pick = (bs: readonly number[]): number => ravel(idx.slice(nd - bs.length).map((v, d) => (bs[d] === 1 ? 0 : v)), bs);
    const ao = pick(ba) * M * K;
    const bo = pick(bb) * K * N;
    data.push(...tripleLoop(av.slice(ao, ao + M * K), bv.slice(bo, bo + K * N), M, K, N));
  }
  return { shape: [...batch, M, N], data };
}

const sizeArb = fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 9 }), fc.constantFrom(7, 13, 17, 31));

describe("matmul vs a triple loop", () => {
  it("2-D float64 on random shapes (1, odd sizes, K up to 300), contiguous or transposed inputs", () => {
    const arb = fc.record({
      M: sizeArb,
      K: fc.oneof(sizeArb, fc.integer({ min: 100, max: 300 })),
      N: sizeArb,
      seed: seedArb,
      ta: fc.boolean(),
      tb: fc.boolean(),
    });
    fc.assert(
      fc.property(arb, ({ M, K, N, seed, ta, tb }) => {
        const a = ta ? rnd([K, M], seed).T : rnd([M, K], seed);
        const b = tb ? rnd([N, K], seed + 1).T : rnd([K, N], seed + 1);
        expect(a.isContiguous()).toBe(!ta || M === 1 || K === 1);
        const c = matmul(a, b);
        expect(c.shape).toEqual([M, N]);
        expectClose(vals(c), tripleLoop(vals(a), vals(b), M, K, N), 1e-12, 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it("float32 stays float32 and is close to the float64 result", () => {
    const a = rnd([5, 300], 1, "float32");
    const b = rnd([300, 3], 2, "float32");
    const c = a.matmul(b);
    expect(c.dtype).toBe("float32");
    expectClose(vals(c), tripleLoop(vals(a), vals(b), 5, 300, 3), 1e-5, 1e-4);
  });

  it("batched with broadcasting of the batch dims (and non-contiguous batches)", () => {
    const dims = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 });
    const arb = fc
      .tuple(dims, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), seedArb, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.boolean())
      .map(([batch, M, K, N, seed, ones, perm]) => {
        const ba = batch.map((s, i) => (ones[i] ? 1 : s));
        const bb = batch.slice(ones[5] ? 1 : 0).map((s, i) => (ones[i + 3] ? 1 : s));
        return { ba, bb, M, K, N, seed, perm };
      });
    fc.assert(
      fc.property(arb, ({ ba, bb, M, K, N, seed, perm }) => {
        let a = rnd([...ba, M, K], seed);
        if (perm && ba.length >= 1) a = rnd([M, ...ba, K], seed).permute([...ba.map((_, i) => i + 1), 0, ba.length + 1]);
        const b = rnd([...bb, K, N], seed + 7);
        const { shape, data } = naiveBatched(a, b);
        const c = matmul(a, b);
        expect(c.shape).toEqual(shape);
        expectClose(vals(c), data, 1e-12, 1e-12);
      }),
      { numRuns: 80 },
    );
  });

  it("1-D operands follow torch.matmul (dot, vector-matrix, matrix-vector, batched)", () => {
    const v = tensor([1, 2, 3], { dtype: "float64" });
    const m = tensor([[1, 0], [0, 1], [1, 1]], { dtype: "float64" });
    const d = matmul(v, v);
    expect(d.shape).toEqual([]);
    expect(d.item()).toBe(14);
    expect(matmul(v, m).toArray()).toEqual([4, 5]);
    expect(matmul(m.T, v).toArray()).toEqual([4, 5]);
    const batch = rnd([4, 2, 3], 3);
    const r = matmul(batch, v);
    expect(r.shape).toEqual([4, 2]);
    expectClose(vals(r), vals(batch).reduce<number[]>((acc, x, i) => {
      acc[Math.floor(i / 3)] = (acc[Math.floor(i / 3)] ?? 0) + x * [1, 2, 3][i % 3]!;
      return acc;
    }, []));
    expect(matmul(tensor([1, 2]), zeros([4, 2, 5])).shape).toEqual([4, 5]);
  });

  it("empty dims give zeros of the right shape", () => {
    expect(matmul(zeros([2, 0]), zeros([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(matmul(zeros([0, 4]), zeros([4, 3])).shape).toEqual([0, 3]);
  });

  it("gradients of a batched, broadcast matmul are G Bᵀ and Aᵀ G summed over broadcast dims", () => {
    const a = rnd([2, 3, 4], 11).requiresGrad_();
    const b = rnd([4, 5], 12).requiresGrad_();
    const g = rnd([2, 3, 5], 13);
    matmul(a, b).backward(g);
    const gv = vals(g);
    const av = vals(a);
    const bv = vals(b);
    // dA[n] = G[n] Bᵀ
    const bt = vals(b.T);
    const da = [0, 1].flatMap((n) => tripleLoop(gv.slice(n * 15, n * 15 + 15), bt, 3, 5, 4));
    expectClose(vals(a.grad!), da);
    // dB = sum_n A[n]ᵀ G[n]
    const db = new Array<number>(20).fill(0);
    for (let n = 0; n < 2; n++) {
      const at = vals(tensor(av.slice(n * 12, n * 12 + 12), { dtype: "float64", shape: [3, 4] }).T);
      tripleLoop(at, gv.slice(n * 15, n * 15 + 15), 4, 3, 5).forEach((x, i) => (db[i] = db[i]! + x));
    }
    expectClose(vals(b.grad!), db);
    expect(bv.length).toBe(20);
  });
});

describe("matmul errors", () => {
  it("shape mismatch names both shapes", () => {
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(ShapeError);
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/\[2, 3\] and \[4, 5\]/);
    expect(() => matmul(zeros([3]), zeros([4]))).toThrow(/\[3\] and \[4\]/);
    expect(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 1]))).toThrow(/matmul.*\[2\] and \[3\]/);
  });

  it("0-d operands, mixed and non-float dtypes", () => {
    expect(() => matmul(tensor(1), zeros([1]))).toThrow(ShapeError);
    expect(() => matmul(zeros([1]), tensor(1))).toThrow(/at least 1 dim/);
    expect(() => matmul(zeros([2, 2]), zeros([2, 2], { dtype: "float64" }))).toThrow(DTypeError);
    expect(() => matmul(zeros([2, 2], { dtype: "int32" }), zeros([2, 2], { dtype: "int32" }))).toThrow(DTypeError);
  });
});

describe("matmul stores a product on permuted heads in their storage order (Backend.matmulOrdered)", () => {
  // p @ v with v [B, H, S, D] a view of [B, S, H, D] storage: the fast backends store the result as
  // [B, L, H, D], so merging the heads back is a view; the values and gradients are matmul's.
  const [B, H, L, D] = [2, 3, 8, 8];
  const names = registerFastBackends();
  afterAll(() => setBackend("js"));
  for (const be of ["js-fast", "wasm"].filter((n) => names.includes(n)))
    it(`${be}: merged heads are a view, values and gradients as the reference`, () => {
      const p = randn([B, H, L, L], { generator: new Generator(1) });
      const x = randn([B, L, H * D], { generator: new Generator(2) });
      const heads = (t: Tensor): Tensor => t.reshape(B, L, H, D).transpose(1, 2);
      setBackend("js");
      const want = p.matmul(heads(x)).transpose(1, 2).reshape(B, L, H * D);
      setBackend(be);
      const o = p.matmul(heads(x));
      expect(o.strides).toEqual([L * H * D, D, H * D, 1]);
      const merged = o.transpose(1, 2).reshape(B, L, H * D);
      expect(merged.storage).toBe(o.storage);
      expectClose(vals(merged), vals(want), 1e-5);
      if (be === "js-fast") {
        // float64 (the wasm batched path is float32): finite differences through the ordered path and its VJPs
        const f = (pp: Tensor, xx: Tensor): Tensor => pp.matmul(heads(xx)).transpose(1, 2).reshape(B, L, H * D).mul(xx);
        expect(gradcheck(f, [p.to("float64").requiresGrad_(true), x.to("float64").requiresGrad_(true)])).toBe(true);
      }
    });
});
