/**
 * The second wasm module (wasm-math.ts) and the wasm backend paths that use it: exp, comparisons,
 * broadcast binary ops, bool -> float32 copies and the fused Adam step, each against the
 * reference backend (or the optimizer's own JS loop) on arrays long enough to take the wasm path.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { BinaryOp, View } from "../../src/kernels/backend.js";
import { referenceBackend as ref } from "../../src/kernels/reference.js";
import { registerBackend, setBackend } from "../../src/kernels/registry.js";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";
import { buildMathModule, type MathExports } from "../../src/kernels/wasm/math.js";
import { adamStep, type AdamState } from "../../src/optim/adam.js";
import { expectClose } from "./suite.js";

const wasm = createWasmBackend()!;
const view = (storage: Float32Array | Uint8Array, shape: number[], strides?: number[], offset = 0): View => ({
  storage,
  shape,
  strides: strides ?? shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1)),
  offset,
  dtype: storage instanceof Uint8Array ? "bool" : "float32",
});
const SPECIALS = [NaN, -0, 0, 1, -1, 1e-40, -1e-40, 1e30, -1e30, Infinity, -Infinity, 88.7, 89, -87.5, -103.5, -150, 0.5, 2];

function floats(n: number, seed: number, scale = 6): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, (_, i) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return i % 7 === 3 ? SPECIALS[(s >>> 3) % SPECIALS.length]! : (s / 2 ** 32 - 0.5) * scale;
  });
}

const same = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect(`${what} [${i}]: ${got[i]}`).toBe(`${what} [${i}]: ${want[i]}`);
};

describe("wasm math module", () => {
  it("stays under Chrome's 4 KB limit for synchronous compilation, shared or not", () => {
    expect(buildMathModule({ module: "env", name: "mem", initialPages: 1 }).length).toBeLessThanOrEqual(4096);
    expect(buildMathModule({ module: "env", name: "mem", initialPages: 1, maximumPages: 32768, shared: true }).length).toBeLessThanOrEqual(4096);
  });

  it("exp: within 2 ulp of the correctly rounded result, specials exact, any length", () => {
    for (const n of [256, 257, 1023, 4099]) {
      const x = floats(n, n, 220);
      const got = wasm.unary("exp", view(x, [n]));
      const want = ref.unary("exp", view(x, [n]));
      for (let i = 0; i < n; i++) {
        const w = want[i]!;
        const g = got[i]!;
        if (!Number.isFinite(w) || w === 0) expect(Object.is(g, w), `exp(${x[i]}) = ${g}, want ${w}`).toBe(true);
        // one float32 ulp of w (subnormal results: the smallest ulp)
        else expect(Math.abs(g - w), `exp(${x[i]}) = ${g}, want ${w}`).toBeLessThanOrEqual(2 * Math.max(Math.abs(w) * 2 ** -23, 2 ** -149));
      }
    }
  });

  it("comparisons: dense, broadcast scalar and broadcast row operands, exact", () => {
    for (const op of ["eq", "ne", "lt", "le", "gt", "ge"] as BinaryOp[]) {
      const a = floats(600, 3);
      a[5] = a[6]!; // a tie
      const b = floats(600, 4);
      b.set(a.subarray(0, 40), 100); // more ties
      const av = view(a, [20, 30]);
      for (const bv of [view(b, [20, 30]), view(b, [20, 30], [0, 0], 7), view(b, [20, 30], [0, 1], 100), view(new Float32Array([NaN]), [20, 30], [0, 0])]) {
        same(wasm.binary(op, av, bv, "bool"), ref.binary(op, av, bv, "bool"), `${op} strides [${bv.strides}]`);
      }
    }
  });

  it("arithmetic with a broadcast operand on either side (a bias, a scalar), exact", () => {
    fc.assert(
      fc.property(fc.constantFrom<BinaryOp>("add", "sub", "mul", "div", "maximum", "minimum"), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.nat(), (op, rows, cols, swap, seed) => {
        if (rows * cols < 256) rows = Math.ceil(256 / cols);
        const a = view(floats(rows * cols, seed), [rows, cols]);
        for (const b of [view(floats(cols, seed + 1), [rows, cols], [0, 1]), view(floats(3, seed + 2), [rows, cols], [0, 0], 1)]) {
          const [x, y] = swap ? [b, a] : [a, b];
          same(wasm.binary(op, x, y, "float32"), ref.binary(op, x, y, "float32"), `${op} [${x.strides}] [${y.strides}]`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("sums over leading axes (bias gradients) and trailing axes: float64 accumulation, as the reference", () => {
    for (const shape of [[128, 256], [257, 3], [3, 5, 31], [300, 1], [2, 129]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = view(floats(n, n), shape);
      for (const axes of [[0], shape.length === 3 ? [0, 1] : [1], shape.map((_, d) => d)]) {
        const want = ref.reduce("sum", x, axes);
        const got = wasm.reduce("sum", x, axes);
        // both accumulate in float64, row after row: the same sums
        same(got, want, `sum [${shape}] axes [${axes}]`);
      }
    }
  });

  it("softmax / log-softmax rows: padding, -Infinity masks, NaN, +Infinity and all -Infinity rows", () => {
    for (const cols of [32, 36, 64, 260]) {
      const rows = Math.ceil(600 / cols);
      // NOTE: only row 2 holds +Infinity (the shift is then 0): float32 exp overflows above 88.7
      // where the float64 reference does not, so that row holds small values besides.
      const x = floats(rows * cols, cols, 40).map((v) => (Number.isFinite(v) ? v : 0));
      x.fill(0.5, 2 * cols, 3 * cols);
      // row 0 all -Infinity, row 1 a NaN, row 2 a +Infinity, row 3 half masked
      for (let j = 0; j < cols; j++) {
        x[j] = -Infinity;
        x[3 * cols + j] = j % 2 ? -Infinity : x[3 * cols + j]!;
      }
      x[cols] = NaN;
      x[2 * cols + cols - 1] = Infinity;
      const v = view(x, [rows, cols]);
      for (const log of [false, true]) {
        const got = wasm.softmax(v, 1, log);
        const want = ref.softmax(v, 1, log);
        for (let i = 0; i < want.length; i++) {
          const [g, w] = [got[i]!, want[i]!];
          const what = `${log ? "logSoftmax" : "softmax"} cols ${cols} [${i}] of ${x[i]}: ${g} vs ${w}`;
          if (!Number.isFinite(w)) expect(Object.is(g, w), what).toBe(true);
          else expect(Math.abs(g - w), what).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w)));
        }
      }
    }
  });

  it("bool -> float32 copies (js-fast), exact", () => {
    const bits = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 3 === 0 ? 1 : 0);
    same(wasm.copy(view(bits, [1000]), "float32"), ref.copy(view(bits, [1000]), "float32"), "bool->float32");
    same(wasm.copy(view(bits, [10, 99], undefined, 1), "float32"), ref.copy(view(bits, [10, 99], undefined, 1), "float32"), "narrowed");
  });
});

describe("fused Adam step on wasm", () => {
  afterEach(() => setBackend("js"));
  const hp = (o: Partial<{ lr: number; eps: number; maximize: boolean; weightDecay: number }> = {}) => ({
    lr: 1e-2, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...o,
  });

  it("matches the optimizer's JS loop over 20 steps (float32 arithmetic vs float64: within float rounding)", () => {
    registerBackend(wasm);
    for (const o of [{}, { maximize: true }, { eps: 0 }, { lr: 1 }]) {
      const n = 1027;
      const p0 = floats(n, 11, 2).map((x) => (Number.isFinite(x) && Math.abs(x) < 10 ? x : 0.5));
      const grads = Array.from({ length: 20 }, (_, t) => floats(n, 100 + t, 2).map((x, i) => (Number.isFinite(x) && Math.abs(x) < 10 ? x : i % 5 === 0 ? 0 : 1e-3)));
      const run = (backend: string) => {
        setBackend(backend);
        const p = p0.slice();
        const s: AdamState = { step: 0, expAvg: new Float32Array(n), expAvgSq: new Float32Array(n), maxExpAvgSq: null };
        for (const g of grads) adamStep(p, g, s, hp(o));
        return [p, s.expAvg, s.expAvgSq] as const;
      };
      const [pw, mw, vw] = run("wasm");
      const [pj, mj, vj] = run("js");
      expect(pw.every(Number.isFinite), `finite params ${JSON.stringify(o)}`).toBe(true);
      // the moments are running sums of terms up to |g| = 10 (|g|^2 = 100): absolute rounding of that scale
      expectClose(mw, mj, 1e-5, 1e-5, `m ${JSON.stringify(o)}`);
      expectClose(vw, vj, 1e-5, 1e-4, `v ${JSON.stringify(o)}`);
      expectClose(pw, pj, 1e-5, 1e-5, `param ${JSON.stringify(o)}`);
    }
  });

  it("eps = 0 with a zero second moment makes no update (no NaN), as the JS loop", () => {
    registerBackend(wasm);
    setBackend("wasm");
    const n = 300;
    const p = new Float32Array(n).fill(1);
    const s: AdamState = { step: 0, expAvg: new Float32Array(n), expAvgSq: new Float32Array(n), maxExpAvgSq: null };
    adamStep(p, new Float32Array(n), s, hp({ eps: 0 }));
    same(p, new Float32Array(n).fill(1), "param");
  });

  it("declines float64, amsgrad and short arrays (the JS loop runs)", () => {
    const c = { beta1: 0.9, beta2: 0.999, bias2Sqrt: 1, eps: 1e-8, negStep: -1, decay: 1, sign: 1 };
    const f64 = new Float64Array(1000);
    expect(wasm.adamUpdate!(f64, f64, f64, f64, c)).toBe(false);
    const short = new Float32Array(10);
    expect(wasm.adamUpdate!(short, short, short, short, c)).toBe(false);
  });
});

describe("GEMM packing kernels (pack, packT) lay panels out as the definition says", () => {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const m = new WebAssembly.Instance(new WebAssembly.Module(buildMathModule({ module: "env", name: "mem", initialPages: 1 })), { env: { mem: memory } }).exports as unknown as MathExports;
  const SRC = 65536;
  const DST = 65536 * 8;

  it("property: pack (any strides; w = 4 or 8; vector copies where the run is contiguous) and packT (row-major, 4 x 4 transposes; 4 wide, and 8 wide in two halves)", () => {
    fc.assert(
      fc.property(
        fc.record({ panels: fc.integer({ min: 1, max: 5 }), kc: fc.integer({ min: 1, max: 40 }), w: fc.constantFrom(4, 8), layout: fc.constantFrom("kq", "qk", "pad"), seed: fc.integer() }),
        ({ panels, kc, w, layout, seed }) => {
          const rows = panels * w; // q runs over rows (A) or columns (B) of the panels
          // element (q, k) at q * qS + k * kS (floats): "kq" q contiguous, "qk" k contiguous, "pad" k contiguous with a padded stride
          const [qS, kS] = layout === "kq" ? [1, rows] : layout === "qk" ? [kc, 1] : [kc + 3, 1];
          const span = (rows - 1) * qS + (kc - 1) * kS + 1;
          const H = new Float32Array(memory.buffer);
          H.set(floats(span, seed), SRC / 4);
          const want: number[] = [];
          for (let p = 0; p < panels; p++) for (let k = 0; k < kc; k++) for (let q = 0; q < w; q++) want.push(H[SRC / 4 + (p * w + q) * qS + k * kS]!);
          m.pack(SRC, 4 * kS, 4 * qS, 4 * w * qS, DST, kc, panels, w);
          same(H.subarray(DST / 4, DST / 4 + want.length), want, `pack ${layout} w=${w}`);
          if (kS === 1 && kc % 4 === 0) {
            // 4 wide: one call; 8 wide (B^T): rows 0-3 and 4-7 of each panel, interleaved 32 bytes per k
            H.fill(NaN, DST / 4, DST / 4 + want.length);
            for (let h = 0; h < w / 4; h++) m.packT(SRC + 16 * h * qS, 4 * qS, DST + 16 * h, kc / 4, panels, 4 * w * qS, 4 * w);
            same(H.subarray(DST / 4, DST / 4 + want.length), want, `packT ${layout} w=${w}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
