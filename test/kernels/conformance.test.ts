/**
 * Every fast backend is property-tested against the reference backend (the living spec): same
 * results on random strided views (permuted, narrowed with offsets, expanded with stride 0), exact
 * for elementwise kernels and extremes, within float rounding for sums and GEMM-based kernels.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  conv2d, Generator, randint, randn, referenceBackend, registerBackend, setBackend, tensor, type Backend, type BinaryOp, type Conv2dParams,
  type DType, type Tensor, type UnaryOp,
} from "../../src/index.js";
import type { UnaryParams } from "../../src/kernels/backend.js";
import { referenceUnary } from "../../src/kernels/reference.js";
import { fastJsBackend } from "../../src/kernels/js/backend.js";
import { expectClose, numelOf, permArb, seedArb, shapeArb } from "../helpers.js";

// Every fast backend available here. The WASM one exists only where WebAssembly SIMD validates;
// it is loaded dynamically so that an environment without it still runs the rest.
const wasmModule = await import("../../src/kernels/wasm/backend.js").catch(() => null);
const wasmBackend = wasmModule?.createWasmBackend() ?? null;
const BACKENDS: Backend[] = [fastJsBackend, ...(wasmBackend ? [wasmBackend] : [])];

interface ViewSpec {
  shape: number[];
  perm: number[];
  narrowDim: number;
  narrowStart: number;
  expandLead: number;
  seed: number;
}
const viewSpecArb = (minDims = 0, maxDims = 4): fc.Arbitrary<ViewSpec> =>
  shapeArb(minDims, maxDims, 1, 5).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      perm: permArb(shape.length),
      narrowDim: fc.integer({ min: 0, max: Math.max(0, shape.length - 1) }),
      narrowStart: fc.integer({ min: 0, max: 2 }),
      expandLead: fc.integer({ min: 0, max: 2 }),
      seed: seedArb,
    }),
  );

/** Values with zeros, ties, NaN and infinities mixed in. */
function spicy(shape: number[], seed: number, dtype: DType): Tensor {
  const g = new Generator(seed);
  const t = randn(shape, { dtype: dtype === "int32" || dtype === "bool" ? "float64" : dtype, generator: g });
  const s = t.storage;
  for (let i = 0; i < s.length; i++) {
    const r = g.random();
    if (r < 0.05) s[i] = 0;
    else if (r < 0.08) s[i] = NaN;
    else if (r < 0.1) s[i] = r < 0.09 ? Infinity : -Infinity;
    else if (r < 0.25) s[i] = Math.round(s[i]! * 2) / 2;
  }
  if (dtype === "int32") return randint(-3, 4, shape, { generator: g });
  if (dtype === "bool") return randint(0, 2, shape, { generator: g }).to("bool");
  return t;
}

/** A strided view of a fresh tensor: permuted, narrowed (offset) and maybe expanded (stride 0). */
function makeView(spec: ViewSpec, dtype: DType = "float64"): Tensor {
  let t = spicy(spec.shape, spec.seed, dtype).permute(spec.perm);
  if (t.ndim > 0) {
    const n = t.shape[spec.narrowDim]!;
    const start = Math.min(spec.narrowStart, n - 1);
    t = t.narrow(spec.narrowDim, start, n - start);
  }
  if (spec.expandLead > 0) t = t.unsqueeze(0).expand([spec.expandLead, ...t.shape]);
  return t;
}

/** A second view of the same logical shape as `like`, with an independent layout. */
function viewLike(like: readonly number[], seed: number, dtype: DType, transposed: boolean): Tensor {
  const shape = [...like];
  if (transposed && shape.length >= 2) {
    const rev = [...shape].reverse();
    return spicy(rev, seed, dtype).permute([...shape.keys()].reverse());
  }
  return spicy(shape, seed, dtype);
}

const arr = (a: ArrayLike<number>): number[] => Array.from(a);

const UNARY: [UnaryOp, UnaryParams][] = [
  ["neg", {}], ["abs", {}], ["sign", {}], ["exp", {}], ["log", {}], ["log1p", {}], ["expm1", {}], ["sqrt", {}], ["rsqrt", {}], ["square", {}],
  ["sin", {}], ["cos", {}], ["tanh", {}], ["atan", {}], ["acos", {}], ["asin", {}], ["sigmoid", {}], ["logSigmoid", {}], ["relu", {}], ["erf", {}], ["leakyRelu", { alpha: 0.3 }], ["leakyRelu", {}],
  ["softplus", { beta: 2, threshold: 3 }], ["softplus", {}], ["clamp", { min: -0.5, max: 0.7 }], ["clamp", {}], ["logicalNot", {}],
  ["tan", {}], ["sinh", {}], ["cosh", {}], ["asinh", {}], ["acosh", {}], ["atanh", {}], ["log2", {}], ["log10", {}], ["exp2", {}], ["floor", {}], ["ceil", {}], ["round", {}], ["trunc", {}],
  ["bitwiseNot", {}], ["elu", {}], ["elu", { alpha: 1.6, scale: 1.05, inputScale: 0.5 }], ["hardtanh", {}], ["hardtanh", { min: 0, max: 6 }], ["hardsigmoid", {}], ["hardswish", {}],
  ["gelu", {}], ["geluTanh", {}],
];
describe("the conformance lists cover the contract", () => {
  it("every unary op of the reference's table is checked", () => {
    expect(new Set(UNARY.map(([op]) => op))).toEqual(new Set(Object.keys(referenceUnary)));
  });
});

const BINARY: BinaryOp[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2", "hypot", "eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"];
const isCmp = (op: BinaryOp): boolean => ["eq", "ne", "lt", "le", "gt", "ge", "logicalAnd", "logicalOr"].includes(op);

for (const backend of BACKENDS) {
  describe(`backend "${backend.name}" conforms to the reference backend`, () => {
    it("unary: every op and parameter set, exact, on strided views (float32 and float64)", () => {
      fc.assert(
        fc.property(viewSpecArb(), fc.constantFrom<DType>("float32", "float64"), (spec, dtype) => {
          const x = makeView(spec, dtype);
          for (const [op, p] of UNARY) {
            const got = arr(backend.unary(op, x, p));
            const want = arr(referenceBackend.unary(op, x, p));
            // NOTE: a dense float32 exp of 256+ elements runs a SIMD polynomial on wasm: within 2 ulp
            if (op === "exp" && dtype === "float32") expectClose(got, want, 2.4e-7, 3e-45);
            // NOTE: js-fast's erf is its own algorithm (an oracle must not test itself): within 4e-15
            // relative in float64; a float32 result is a rational approximation (js/math.ts's
            // erfFloat32, wasm's SIMD erf in float32 arithmetic): within 4 ulp (test/kernels/fast-erf.test.ts).
            else if (op === "erf") expectClose(got, want, dtype === "float32" ? 4.8e-7 : 4e-15, 1e-300);
            // NOTE: gelu is the fast backends' own algorithm too (js/gelu.ts, wasm/gelu.ts): within 1e-6
            // relative in float32 (test/ops/gelu.test.ts checks any float32), 1e-12 in float64 (js-fast's
            // 1 + erf(x / √2) near x = -2.6 keeps ~1e-13: a random case was 1.7e-13 off)
            else if (op === "gelu" || op === "geluTanh") expectClose(got, want, dtype === "float32" ? 1e-6 : 1e-12, dtype === "float32" ? 3e-45 : 1e-300);
            else expect(got, op).toEqual(want);
          }
          expect(arr(backend.unary("neg", x))).toEqual(arr(referenceBackend.unary("neg", x)));
        }),
        { numRuns: 60 },
      );
    });

    it("binary: every op, exact, two independent layouts (and broadcast stride-0 operands)", () => {
      fc.assert(
        fc.property(viewSpecArb(), seedArb, fc.boolean(), fc.constantFrom<DType>("float32", "float64", "int32"), (spec, seed, tr, dtype) => {
          const a = makeView(spec, dtype);
          const b = viewLike(a.shape, seed, dtype, tr);
          const row = a.ndim > 0 ? viewLike(a.shape.slice(-1), seed + 1, dtype, false).expand([...a.shape]) : b;
          for (const op of BINARY) {
            const out: DType = isCmp(op) ? "bool" : dtype;
            expect(arr(backend.binary(op, a, b, out)), op).toEqual(arr(referenceBackend.binary(op, a, b, out)));
            expect(arr(backend.binary(op, row, a, out)), op).toEqual(arr(referenceBackend.binary(op, row, a, out)));
          }
        }),
        { numRuns: 60 },
      );
    });

    it("where / copy (every dtype pair) / assign into a strided destination", () => {
      fc.assert(
        fc.property(viewSpecArb(), seedArb, fc.boolean(), (spec, seed, tr) => {
          const a = makeView(spec, "float64");
          const b = viewLike(a.shape, seed, "float64", tr);
          const c = viewLike(a.shape, seed + 2, "bool", !tr);
          expect(arr(backend.where(c, a, b))).toEqual(arr(referenceBackend.where(c, a, b)));
          for (const from of ["float32", "float64", "int32", "bool"] as DType[]) {
            const x = makeView(spec, from);
            for (const to of ["float32", "float64", "int32", "bool"] as DType[]) {
              const got = backend.copy(x, to);
              const want = referenceBackend.copy(x, to);
              expect(got.constructor).toBe(want.constructor);
              expect(arr(got), `${from}->${to}`).toEqual(arr(want));
            }
          }
          // assign: destination is a transposed/narrowed view into a bigger buffer
          const dstBase1 = viewLike([...a.shape].reverse(), seed + 3, "float64", false);
          const dstBase2 = tensor(dstBase1.toTypedArray(), { shape: [...dstBase1.shape] });
          const perm = [...a.shape.keys()].reverse();
          const src = b.ndim > 0 ? b : a;
          backend.assign(dstBase1.permute(perm), src);
          referenceBackend.assign(dstBase2.permute(perm), src);
          expect(arr(dstBase1.storage)).toEqual(arr(dstBase2.storage));
          if (a.ndim > 0) {
            const d1 = tensor(new Float32Array(numelOf(a.shape)), { shape: [...a.shape] });
            const d2 = tensor(new Float32Array(numelOf(a.shape)), { shape: [...a.shape] });
            const s32 = makeView(spec, "float32");
            backend.assign(d1, s32);
            referenceBackend.assign(d2, s32);
            expect(arr(d1.storage)).toEqual(arr(d2.storage));
          }
        }),
        { numRuns: 60 },
      );
    });

    it("reduce (sum within rounding; max/min exact, NaN-propagating) and argReduce over random axes", () => {
      const arb = viewSpecArb().chain((spec) => {
        const nd = spec.shape.length + (spec.expandLead > 0 ? 1 : 0);
        return fc.tuple(fc.constant(spec), fc.subarray([...Array(nd).keys()]), fc.integer({ min: 0, max: Math.max(0, nd - 1) }), fc.constantFrom<DType>("float32", "float64", "int32"));
      });
      fc.assert(
        fc.property(arb, ([spec, axes, axis, dtype]) => {
          const x = makeView(spec, dtype);
          const xs = dtype === "int32" ? x : x.where(x.abs().lt(Infinity).logicalOr(x.ne(x)), 1); // sums: no inf - inf
          expectClose(arr(backend.reduce("sum", xs, axes)), arr(referenceBackend.reduce("sum", xs, axes)), 1e-6, 1e-6);
          for (const op of ["max", "min"] as const) expect(arr(backend.reduce(op, x, axes)), op).toEqual(arr(referenceBackend.reduce(op, x, axes)));
          if (x.ndim > 0) {
            for (const op of ["argmax", "argmin"] as const) expect(arr(backend.argReduce(op, x, axis))).toEqual(arr(referenceBackend.argReduce(op, x, axis)));
          }
        }),
        { numRuns: 80 },
      );
    });

    it("matmul on batched strided views (transposed, stride-0 batches), float32 and float64, odd and large sizes", () => {
      const size = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 4, 5, 17, 33, 65));
      const arb = fc.record({
        batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        M: size,
        K: fc.oneof(size, fc.integer({ min: 250, max: 300 })),
        N: size,
        ta: fc.boolean(),
        tb: fc.boolean(),
        bcast: fc.boolean(),
        dtype: fc.constantFrom<DType>("float32", "float64"),
        seed: seedArb,
      });
      fc.assert(
        fc.property(arb, ({ batch, M, K, N, ta, tb, bcast, dtype, seed }) => {
          const g = new Generator(seed);
          const mk = (r: number, c: number, t: boolean): Tensor => {
            const m = t ? randn([...batch, c, r], { dtype, generator: g }).transpose(-1, -2) : randn([...batch, r, c], { dtype, generator: g });
            return m;
          };
          const a = mk(M, K, ta);
          let b = mk(K, N, tb);
          if (bcast && batch.length > 0) b = randn([K, N], { dtype, generator: g }).expand([...batch, K, N]);
          const got = backend.matmul(a, b);
          const want = referenceBackend.matmul(a, b);
          expect(got.constructor).toBe(want.constructor);
          const tol = dtype === "float32" ? 1e-4 : 1e-11;
          expectClose(arr(got), arr(want), tol, tol * Math.sqrt(K));
        }),
        { numRuns: 60 },
      );
    });

    it("conv2d and its two gradient kernels (stride, padding, dilation, groups)", () => {
      const arb = fc
        .record({
          N: fc.integer({ min: 1, max: 2 }),
          Cg: fc.integer({ min: 1, max: 3 }),
          groups: fc.integer({ min: 1, max: 2 }),
          Og: fc.integer({ min: 1, max: 3 }),
          H: fc.integer({ min: 1, max: 8 }),
          W: fc.integer({ min: 1, max: 8 }),
          kH: fc.integer({ min: 1, max: 3 }),
          kW: fc.integer({ min: 1, max: 3 }),
          s: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 })),
          p: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
          d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          dtype: fc.constantFrom<DType>("float32", "float64"),
          strided: fc.boolean(),
          seed: seedArb,
        })
        .filter((c) => c.H + 2 * c.p[0] >= c.d[0] * (c.kH - 1) + 1 && c.W + 2 * c.p[1] >= c.d[1] * (c.kW - 1) + 1);
      fc.assert(
        fc.property(arb, (c) => {
          const g = new Generator(c.seed);
          const C = c.Cg * c.groups;
          const O = c.Og * c.groups;
          const x = c.strided
            ? randn([c.N, C, c.W, c.H], { dtype: c.dtype, generator: g }).transpose(2, 3)
            : randn([c.N, C, c.H, c.W], { dtype: c.dtype, generator: g });
          const w = randn([O, c.Cg, c.kH, c.kW], { dtype: c.dtype, generator: g });
          const p: Conv2dParams = { stride: c.s, padding: c.p, dilation: c.d, groups: c.groups };
          const tol = c.dtype === "float32" ? 1e-4 : 1e-11;
          const y = referenceBackend.conv2d(x, w, p);
          expectClose(arr(backend.conv2d(x, w, p)), arr(y), tol, tol * 10);
          const yShape = [...conv2dShape(x.shape, w.shape, p)];
          const gy = randn(yShape, { dtype: c.dtype, generator: g });
          expectClose(arr(backend.conv2dInputGrad(gy, w, x.shape, p)), arr(referenceBackend.conv2dInputGrad(gy, w, x.shape, p)), tol, tol * 10);
          expectClose(arr(backend.conv2dWeightGrad(x, gy, w.shape, p)), arr(referenceBackend.conv2dWeightGrad(x, gy, w.shape, p)), tol, tol * 10);
        }),
        { numRuns: 60 },
      );
    });

    it("conv2d kernels on a batch whose column buffer is split into chunks (partial weight-gradient sums)", () => {
      // K * Ho * Wo = 9 * 1000 * 1000 passes the 2^23 column limit, so each image is its own chunk.
      const g = new Generator(21);
      const x = randn([3, 1, 1000, 1000], { dtype: "float64", generator: g });
      const w = randn([2, 1, 3, 3], { dtype: "float64", generator: g });
      const p: Conv2dParams = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
      const gy = randn([3, 2, 1000, 1000], { dtype: "float64", generator: g });
      expectClose(arr(backend.conv2dWeightGrad(x, gy, w.shape, p)), arr(referenceBackend.conv2dWeightGrad(x, gy, w.shape, p)), 1e-9, 1e-9);
      const y = backend.conv2d(x, w, p);
      const yr = referenceBackend.conv2d(x, w, p);
      for (const i of [0, 1, 999_999, 2_000_000, 5_999_999]) expect(Math.abs(y[i]! - yr[i]!)).toBeLessThan(1e-12);
    });

    it("large dense float32 inputs (the sizes where SIMD kernels take over)", () => {
      const g = new Generator(8);
      const a = randn([33, 40], { generator: g });
      const b = randn([33, 40], { generator: g });
      const pos = a.abs();
      for (const op of ["neg", "abs", "sqrt", "relu", "square"] as UnaryOp[]) {
        const x = op === "sqrt" ? pos : a;
        expect(arr(backend.unary(op, x)), op).toEqual(arr(referenceBackend.unary(op, x)));
      }
      // exp: a SIMD polynomial may be 2 float32 ulp from the correctly rounded Math.exp
      expectClose(arr(backend.unary("exp", a)), arr(referenceBackend.unary("exp", a)), 2.4e-7, 0);
      expectClose(arr(backend.softmax(a, 1, false)), arr(referenceBackend.softmax(a, 1, false)), 1e-6, 1e-7);
      expectClose(arr(backend.softmax(a, 1, true)), arr(referenceBackend.softmax(a, 1, true)), 1e-6, 1e-6);
      for (const op of ["add", "sub", "mul", "div", "maximum", "minimum", "lt"] as BinaryOp[]) {
        const out: DType = op === "lt" ? "bool" : "float32";
        expect(arr(backend.binary(op, a, b, out)), op).toEqual(arr(referenceBackend.binary(op, a, b, out)));
      }
      for (const axes of [[1], [0, 1], [0]]) {
        expectClose(arr(backend.reduce("sum", a, axes)), arr(referenceBackend.reduce("sum", a, axes)), 1e-5, 1e-4);
      }
      expectClose(arr(backend.reduce("sum", randn([3, 0], { generator: g }), [1])), [0, 0, 0]);
      const big = randn([300, 200], { generator: g });
      const w = randn([200, 70], { generator: g });
      expectClose(arr(backend.matmul(big, w)), arr(referenceBackend.matmul(big, w)), 1e-4, 1e-3);
      expectClose(arr(backend.matmul(big.T.contiguous().T, w.T.contiguous().T)), arr(referenceBackend.matmul(big, w)), 1e-4, 1e-3);
    });

    it("maxPool2dIndices, gather and scatterAdd", () => {
      const g = new Generator(3);
      const x = randn([2, 3, 5, 6], { dtype: "float64", generator: g });
      const pp = { kernel: [2, 3] as const, stride: [2, 1] as const, padding: [1, 1] as const, dilation: [1, 2] as const };
      expect(arr(backend.maxPool2dIndices(x, pp))).toEqual(arr(referenceBackend.maxPool2dIndices(x, pp)));
      const src = randn([4, 5], { dtype: "float64", generator: g }).T; // [5, 4] strided
      const index = randint(0, 5, [3, 4], { generator: g });
      expect(arr(backend.gather(src, 0, index))).toEqual(arr(referenceBackend.gather(src, 0, index)));
      const base = randn([5, 4], { dtype: "float64", generator: g });
      const vals = randn([3, 4], { dtype: "float64", generator: g });
      expect(arr(backend.scatterAdd(base, 0, index, vals))).toEqual(arr(referenceBackend.scatterAdd(base, 0, index, vals)));
    });

    it("empty tensors", () => {
      const e = randn([2, 0, 3], { dtype: "float64" });
      expect(backend.unary("exp", e).length).toBe(0);
      expect(backend.binary("add", e, e, "float64").length).toBe(0);
      expect(backend.copy(e, "int32").length).toBe(0);
      expect(arr(backend.reduce("sum", e, [1]))).toEqual(new Array(6).fill(0));
      expect(arr(backend.reduce("max", e, [1]))).toEqual(new Array(6).fill(-Infinity));
      expect(backend.where(e.gt(0), e, e).length).toBe(0);
      backend.assign(e, e);
      expect(arr(backend.matmul(randn([2, 0], { dtype: "float64" }), randn([0, 3], { dtype: "float64" })))).toEqual(new Array(6).fill(0));
    });

    describe("end to end through setBackend", () => {
      afterEach(() => {
        setBackend("js");
      });
      it("a small conv + MLP forward/backward gives the same values and gradients as 'js'", () => {
        registerBackend(backend);
        const run = (): number[] => {
          const g = new Generator(11);
          const x = randn([2, 3, 8, 8], { dtype: "float64", generator: g });
          const w = randn([4, 3, 3, 3], { dtype: "float64", generator: g }).requiresGrad_();
          const b = randn([4], { dtype: "float64", generator: g }).requiresGrad_();
          const W2 = randn([4 * 8 * 8, 5], { dtype: "float64", generator: g }).requiresGrad_();
          const h = conv2d(x, w, b, { padding: 1 }).relu().reshape(2, -1);
          const loss = h.matmul(W2).logSoftmax(1).mean().neg();
          loss.backward();
          return [loss.item(), ...arr(w.grad!.storage), ...arr(b.grad!.storage), ...arr(W2.grad!.storage)];
        };
        const ref = run();
        setBackend(backend.name);
        expectClose(run(), ref, 1e-9, 1e-12);
      });
    });
  });
}

function conv2dShape(x: readonly number[], w: readonly number[], p: Conv2dParams): number[] {
  const [N, , H, W] = x as [number, number, number, number];
  const [O, , kH, kW] = w as [number, number, number, number];
  const Ho = Math.floor((H + 2 * p.padding[0] - p.dilation[0] * (kH - 1) - 1) / p.stride[0]) + 1;
  const Wo = Math.floor((W + 2 * p.padding[1] - p.dilation[1] * (kW - 1) - 1) / p.stride[1]) + 1;
  return [N, O, Ho, Wo];
}
