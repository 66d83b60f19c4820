/**
 * One property-test suite for every Backend method, run against the reference backend on random
 * shapes (sizes 1, primes, 257), random layouts (contiguous, transposed, expanded with stride 0,
 * narrowed with an offset) and broadcasting. Each fast backend calls `backendSuite`.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Backend, BinaryOp, Conv2dParams, ReduceOp, UnaryOp, UnaryParams, View } from "../../src/kernels/backend.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import { allocArray, type DType, type TypedArray } from "../../src/tensor/dtype.js";
import { numel } from "../../src/tensor/shape.js";
import { contiguousStrides } from "../../src/tensor/layout.js";

const RUNS = Number(process.env.KERNEL_RUNS ?? 40);

export type Kind = "contiguous" | "transposed" | "expanded" | "narrowed";
const kindArb: fc.Arbitrary<Kind> = fc.constantFrom("contiguous", "transposed", "expanded", "narrowed");

/** Sizes: mostly small, with 1, primes and (rarely) 257. */
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<number>(1, 2, 3, 5, 7) },
  { weight: 2, arbitrary: fc.constantFrom(11, 13, 17, 31) },
  { weight: 1, arbitrary: fc.constant(257) },
  { weight: 1, arbitrary: fc.constant(0) },
);

/** Shapes of 0..4 dims with at most `max` elements (large sizes are scaled down). */
export function shapeArb(maxDims = 4, max = 3000): fc.Arbitrary<number[]> {
  return fc.array(sizeArb, { minLength: 0, maxLength: maxDims }).map((s) => {
    const out = [...s];
    while (numel(out) > max) {
      const i = out.indexOf(Math.max(...out));
      out[i] = Math.max(1, Math.floor(out[i]! / 4));
    }
    return out;
  });
}

/** Deterministic values in [-3, 3] (int32: -5..5; bool: 0/1), with a few exact zeros. */
function fill(dtype: DType, n: number, seed: number): TypedArray {
  const a = allocArray(dtype, n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const u = s / 4294967296;
    if (dtype === "bool") a[i] = u < 0.5 ? 1 : 0;
    else if (dtype === "int32") a[i] = Math.floor(u * 11) - 5;
    else a[i] = u < 0.03 ? 0 : (u - 0.5) * 6;
  }
  return a;
}

export interface ViewSpec {
  kind: Kind;
  seed: number;
  /** permutation / dims to expand / narrowing pads, all derived from this. */
  pick: number;
}
export const viewSpecArb: fc.Arbitrary<ViewSpec> = fc.record({ kind: kindArb, seed: fc.integer({ min: 1, max: 2 ** 30 }), pick: fc.nat(1 << 20) });

/** A view of `shape` with the layout of `spec`. */
export function makeView(shape: readonly number[], dtype: DType, spec: ViewSpec): View {
  const nd = shape.length;
  let p = spec.pick;
  const next = (m: number): number => {
    const r = p % m;
    p = Math.floor(p / m) + 7 * r + 1;
    return r;
  };
  switch (spec.kind) {
    case "contiguous":
      return { storage: fill(dtype, numel(shape), spec.seed), shape, strides: contiguousStrides(shape), offset: 0, dtype };
    case "transposed": {
      const perm = Array.from({ length: nd }, (_, i) => i);
      for (let i = nd - 1; i > 0; i--) {
        const j = next(i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      // if the permutation is the identity, reverse it so the view really is transposed
      if (perm.every((d, i) => d === i)) perm.reverse();
      const baseShape = perm.map((d) => shape[d]!);
      const bs = contiguousStrides(baseShape);
      const strides = new Array<number>(nd).fill(0);
      perm.forEach((d, j) => (strides[d] = bs[j]!));
      return { storage: fill(dtype, numel(shape), spec.seed), shape, strides, offset: 0, dtype };
    }
    case "expanded": {
      const small = shape.map((s) => (next(2) === 0 ? 1 : s));
      const ss = contiguousStrides(small);
      const strides = shape.map((s, d) => (small[d] === 1 && s !== 1 ? 0 : ss[d]!));
      return { storage: fill(dtype, numel(small), spec.seed), shape, strides, offset: 0, dtype };
    }
    case "narrowed": {
      const starts = shape.map(() => next(3));
      const baseShape = shape.map((s, d) => s + starts[d]! + next(2));
      const bs = contiguousStrides(baseShape);
      const offset = starts.reduce((acc, st, d) => acc + st * bs[d]!, 0);
      return { storage: fill(dtype, numel(baseShape), spec.seed), shape, strides: bs, offset, dtype };
    }
  }
}

/** Elementwise comparison with NaN == NaN, and |a - b| <= atol + rtol |b|. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g))) expect.fail(`${what}: at ${i} got ${g}, want ${w}`);
      continue;
    }
    if (g === w) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what}: at ${i} got ${g}, want ${w} (|diff| ${Math.abs(g - w)})`);
  }
}

export interface Tolerance {
  /** relative tolerance for float32 elementwise / reductions */
  rtol32: number;
  /** per-term tolerance for float32 dot products (scaled by K * max|a| * max|b|) */
  dot32: number;
}
export const defaultTolerance: Tolerance = { rtol32: 2e-6, dot32: 2e-7 };

const unaryOps: UnaryOp[] = [
  "neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "sin", "cos", "tanh", "atan", "acos", "asin", "sigmoid",
  "logSigmoid", "relu", "erf", "leakyRelu", "softplus", "clamp",
];
const binaryOps: BinaryOp[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2", "hypot", "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"];
const floatDtypeArb = fc.constantFrom<DType>("float32", "float64");

function rtolFor(dtype: DType, t: Tolerance): number {
  return dtype === "float32" ? t.rtol32 : 1e-12;
}

/** Random conv geometry with groups, stride, padding and dilation. */
const convArb = fc
  .record({
    N: fc.integer({ min: 1, max: 3 }),
    groups: fc.constantFrom(1, 1, 2),
    Cg: fc.integer({ min: 1, max: 3 }),
    Og: fc.integer({ min: 1, max: 5 }),
    H: fc.integer({ min: 1, max: 9 }),
    W: fc.integer({ min: 1, max: 11 }),
    kH: fc.integer({ min: 1, max: 3 }),
    kW: fc.integer({ min: 1, max: 3 }),
    sh: fc.integer({ min: 1, max: 2 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    dtype: floatDtypeArb,
    sx: viewSpecArb,
    sw2: viewSpecArb,
  })
  .filter((c) => c.H + 2 * c.ph >= c.dh * (c.kH - 1) + 1 && c.W + 2 * c.pw >= c.dw * (c.kW - 1) + 1);

interface ConvCase {
  N: number; groups: number; Cg: number; Og: number; H: number; W: number; kH: number; kW: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}
function convShapes(c: ConvCase): { x: number[]; w: number[]; y: number[]; p: Conv2dParams } {
  const Ho = Math.floor((c.H + 2 * c.ph - c.dh * (c.kH - 1) - 1) / c.sh) + 1;
  const Wo = Math.floor((c.W + 2 * c.pw - c.dw * (c.kW - 1) - 1) / c.sw) + 1;
  const O = c.Og * c.groups;
  return {
    x: [c.N, c.Cg * c.groups, c.H, c.W],
    w: [O, c.Cg, c.kH, c.kW],
    y: [c.N, O, Ho, Wo],
    p: { stride: [c.sh, c.sw], padding: [c.ph, c.pw], dilation: [c.dh, c.dw], groups: c.groups },
  };
}

function maxAbs(v: View): number {
  let m = 0;
  for (let i = 0; i < v.storage.length; i++) m = Math.max(m, Math.abs(v.storage[i]!));
  return m;
}

/** The whole property suite for one backend. */
export function backendSuite(backend: Backend, tol: Tolerance = defaultTolerance): void {
  const tol0 = tol;
  const ref = referenceBackend;
  describe(`backend "${backend.name}" against the reference`, () => {
    it("unary: every op, every layout, float32 and float64", () => {
      fc.assert(
        fc.property(shapeArb(), viewSpecArb, fc.constantFrom(...unaryOps), floatDtypeArb, (shape, vs, op, dtype) => {
          const x = makeView(shape, dtype, vs);
          const params: UnaryParams = op === "leakyRelu" ? { alpha: 0.2 } : op === "softplus" ? { beta: 2, threshold: 3 } : op === "clamp" ? { min: -1, max: 0.5 } : {};
          expectClose(backend.unary(op, x, params), ref.unary(op, x, params), rtolFor(dtype, tol), 0, `${op} ${dtype} ${vs.kind} [${shape}]`);
        }),
        { numRuns: RUNS * 4 },
      );
    });

    it("unary: logicalNot on bool, relu/neg/abs of special values", () => {
      fc.assert(
        fc.property(shapeArb(), viewSpecArb, (shape, vs) => {
          const x = makeView(shape, "bool", vs);
          expect(Array.from(backend.unary("logicalNot", x))).toEqual(Array.from(ref.unary("logicalNot", x)));
        }),
        { numRuns: RUNS },
      );
      for (const dtype of ["float32", "float64"] as const) {
        const vals = [NaN, -0, 0, Infinity, -Infinity, 1e-40, -1e-40, 3, -3];
        const n = 37; // odd length: exercises SIMD tails
        const st = allocArray(dtype, n);
        for (let i = 0; i < n; i++) st[i] = vals[i % vals.length]!;
        const x: View = { storage: st, shape: [n], strides: [1], offset: 0, dtype };
        for (const op of unaryOps) {
          const got = backend.unary(op, x, {});
          const want = ref.unary(op, x, {});
          expectClose(got, want, rtolFor(dtype, tol), 0, `${op} specials ${dtype}`);
          if (op === "relu" || op === "abs") for (let i = 0; i < n; i++) expect(Object.is(got[i], want[i]), `${op}(${st[i]})`).toBe(true);
        }
      }
    });

    it("binary: every op, broadcasting and strided layouts", () => {
      fc.assert(
        fc.property(shapeArb(), viewSpecArb, viewSpecArb, fc.constantFrom(...binaryOps), fc.constantFrom<DType>("float32", "float64", "int32"), (shape, va, vb, op, dtype) => {
          const a = makeView(shape, dtype, va);
          const b = makeView(shape, dtype, vb);
          const cmp = ["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"].includes(op);
          const outDtype: DType = cmp ? "bool" : dtype;
          expectClose(backend.binary(op, a, b, outDtype), ref.binary(op, a, b, outDtype), rtolFor(dtype, tol), 0, `${op} ${dtype} ${va.kind}/${vb.kind} [${shape}]`);
        }),
        { numRuns: RUNS * 4 },
      );
    });

    it("binary: ties and special values exactly", () => {
      for (const dtype of ["float32", "float64"] as const) {
        const vals = [NaN, -0, 0, 1, 1, Infinity, -Infinity, 2];
        const n = vals.length * vals.length + 3;
        const a = allocArray(dtype, n);
        const b = allocArray(dtype, n);
        for (let i = 0; i < n; i++) {
          a[i] = vals[i % vals.length]!;
          b[i] = vals[Math.floor(i / vals.length) % vals.length]!;
        }
        const va: View = { storage: a, shape: [n], strides: [1], offset: 0, dtype };
        const vb: View = { storage: b, shape: [n], strides: [1], offset: 0, dtype };
        for (const op of binaryOps) {
          const cmp = ["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"].includes(op);
          const od: DType = cmp ? "bool" : dtype;
          const got = backend.binary(op, va, vb, od);
          const want = ref.binary(op, va, vb, od);
          for (let i = 0; i < n; i++) expect(Object.is(got[i], want[i]), `${op}(${a[i]}, ${b[i]}) ${dtype}: ${got[i]} vs ${want[i]}`).toBe(true);
        }
      }
    });

    it("where, copy (with dtype conversion) and assign", () => {
      fc.assert(
        fc.property(shapeArb(), viewSpecArb, viewSpecArb, viewSpecArb, floatDtypeArb, fc.constantFrom<DType>("float32", "float64", "int32", "bool"), (shape, vc, va, vb, dtype, to) => {
          const c = makeView(shape, "bool", vc);
          const a = makeView(shape, dtype, va);
          const b = makeView(shape, dtype, vb);
          expectClose(backend.where(c, a, b), ref.where(c, a, b), 0, 0, "where");
          expectClose(backend.copy(a, to), ref.copy(a, to), 0, 0, `copy ${dtype}->${to}`);
          // assign into a strided destination: compare the whole destination storage
          const d1 = makeView(shape, dtype, vc);
          const d2: View = { ...d1, storage: d1.storage.slice() };
          backend.assign(d1, b);
          ref.assign(d2, b);
          expectClose(d1.storage, d2.storage, 0, 0, "assign");
        }),
        { numRuns: RUNS * 2 },
      );
    });

    it("reduce: sum/max/min over random axes", () => {
      fc.assert(
        fc.property(shapeArb(), viewSpecArb, fc.constantFrom<ReduceOp>("sum", "max", "min"), floatDtypeArb, fc.nat(15), (shape, vs, op, dtype, mask) => {
          const x = makeView(shape, dtype, vs);
          const axes = shape.map((_, d) => d).filter((d) => (mask >> d) & 1);
          const n = numel(shape);
          expectClose(backend.reduce(op, x, axes), ref.reduce(op, x, axes), rtolFor(dtype, tol), rtolFor(dtype, tol) * 3 * Math.sqrt(n + 1), `${op} axes ${axes} [${shape}] ${vs.kind}`);
        }),
        { numRuns: RUNS * 3 },
      );
    });

    it("reduce: a long contiguous sum (2^16 + 3 elements)", () => {
      for (const dtype of ["float32", "float64"] as const) {
        const x = makeView([65539], dtype, { kind: "contiguous", seed: 5, pick: 0 });
        expectClose(backend.reduce("sum", x, [0]), ref.reduce("sum", x, [0]), 1e-5, 1e-3, `long sum ${dtype}`);
        expectClose(backend.reduce("max", x, [0]), ref.reduce("max", x, [0]), 0, 0, `long max ${dtype}`);
      }
    });

    it("softmax / log-softmax along a random axis, any layout", () => {
      fc.assert(
        fc.property(shapeArb().filter((s) => s.length > 0), viewSpecArb, floatDtypeArb, fc.nat(), fc.boolean(), (shape, vs, dtype, axisSeed, log) => {
          const x = makeView(shape, dtype, vs);
          const axis = axisSeed % shape.length;
          const tol = rtolFor(dtype, tol0) * 4;
          expectClose(backend.softmax(x, axis, log), ref.softmax(x, axis, log), tol, tol, `${log ? "logSoftmax" : "softmax"} axis ${axis} [${shape}] ${vs.kind}`);
        }),
        { numRuns: RUNS * 2 },
      );
    });

    it("argReduce, gather, scatterAdd, maxPool2dIndices", () => {
      fc.assert(
        fc.property(shapeArb(3, 2000).filter((s) => s.length > 0 && numel(s) > 0), viewSpecArb, fc.nat(), fc.boolean(), (shape, vs, dimSeed, isMax) => {
          const x = makeView(shape, "float32", vs);
          const dim = dimSeed % shape.length;
          const op = isMax ? "argmax" : "argmin";
          expect(Array.from(backend.argReduce(op, x, dim))).toEqual(Array.from(ref.argReduce(op, x, dim)));
          const idx = makeView(shape, "int32", { kind: "contiguous", seed: vs.seed, pick: 0 });
          for (let i = 0; i < idx.storage.length; i++) idx.storage[i] = Math.abs(idx.storage[i]!) % shape[dim]!;
          expectClose(backend.gather(x, dim, idx), ref.gather(x, dim, idx), 0, 0, "gather");
          const src = makeView(shape, "float32", { kind: "contiguous", seed: vs.seed + 1, pick: 0 });
          expectClose(backend.scatterAdd(x, dim, idx, src), ref.scatterAdd(x, dim, idx, src), 1e-6, 1e-6, "scatterAdd");
        }),
        { numRuns: RUNS },
      );
      const x = makeView([2, 3, 7, 5], "float32", { kind: "narrowed", seed: 3, pick: 11 });
      const pp = { kernel: [3, 2] as const, stride: [2, 1] as const, padding: [1, 1] as const, dilation: [1, 2] as const };
      expect(Array.from(backend.maxPool2dIndices(x, pp))).toEqual(Array.from(ref.maxPool2dIndices(x, pp)));
    });

    it("matmul: batched, transposed/expanded/narrowed operands, sizes 1, primes and 257", () => {
      const dimArb = fc.oneof({ weight: 5, arbitrary: fc.constantFrom<number>(1, 2, 3, 4, 5, 7, 8, 13, 17) }, { weight: 2, arbitrary: fc.constantFrom(31, 64, 67) }, { weight: 1, arbitrary: fc.constant(257) });
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), dimArb, dimArb, dimArb, viewSpecArb, viewSpecArb, floatDtypeArb,
          (batch, M, K, N, va, vb, dtype) => {
            // keep it quick: at most ~2^21 multiply-adds
            while (numel(batch) * M * K * N > 1 << 21) {
              if (batch.length) batch = batch.slice(1);
              else M = Math.max(1, M >> 1);
            }
            const a = makeView([...batch, M, K], dtype, va);
            const b = makeView([...batch, K, N], dtype, vb);
            const got = backend.matmul(a, b);
            const want = ref.matmul(a, b);
            const t = dtype === "float32" ? tol.dot32 : 1e-14;
            // NOTE: the float32 accumulation bound is K eps (|A| |B|)_ij per element (Higham,
            // "Accuracy and Stability of Numerical Algorithms", 3.5). A bound on K max|a| max|b|
            // fails when all K products are equal (expanded operands): the error then grows with K^2.
            const absOf = (v: View): View => ({ ...v, storage: v.storage.map(Math.abs), dtype: v.dtype });
            const bound = ref.matmul(absOf(a), absOf(b));
            const what = `matmul ${dtype} [${batch}] ${M}x${K}x${N} ${va.kind}/${vb.kind}`;
            expect(got.length, what).toBe(want.length);
            for (let i = 0; i < want.length; i++) {
              const g = got[i]!;
              const w = want[i]!;
              if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
              if (!(Math.abs(g - w) <= t * K * bound[i]! + 1e-30)) expect.fail(`${what}: at ${i} got ${g}, want ${w} (bound ${t * K * bound[i]!})`);
            }
          },
        ),
        { numRuns: RUNS * 2 },
      );
    });

    it("matmul: 257 x 257 x 257 (several cache blocks)", () => {
      const a = makeView([257, 257], "float32", { kind: "contiguous", seed: 1, pick: 0 });
      const b = makeView([257, 257], "float32", { kind: "transposed", seed: 2, pick: 0 });
      expectClose(backend.matmul(a, b), ref.matmul(a, b), 0, tol.dot32 * 257 * 9, "matmul 257");
    });

    it("conv2d and both gradients: groups, stride, padding, dilation", () => {
      fc.assert(
        fc.property(convArb, (c) => {
          const s = convShapes(c);
          const x = makeView(s.x, c.dtype, c.sx);
          const w = makeView(s.w, c.dtype, c.sw2);
          const gy = makeView(s.y, c.dtype, { ...c.sx, seed: c.sx.seed + 9 });
          const K = c.Cg * c.kH * c.kW;
          const t = c.dtype === "float32" ? tol.dot32 : 1e-14;
          const tag = `conv ${c.dtype} ${JSON.stringify(s)}`;
          expectClose(backend.conv2d(x, w, s.p), ref.conv2d(x, w, s.p), 0, t * K * 9 + 1e-30, `${tag} forward`);
          expectClose(backend.conv2dInputGrad(gy, w, s.x, s.p), ref.conv2dInputGrad(gy, w, s.x, s.p), 0, t * c.Og * K * 9 + 1e-30, `${tag} input grad`);
          expectClose(backend.conv2dWeightGrad(x, gy, s.w, s.p), ref.conv2dWeightGrad(x, gy, s.w, s.p), 0, t * numel(s.y) * 9 + 1e-30, `${tag} weight grad`);
        }),
        { numRuns: RUNS * 2 },
      );
    });
  });
}
