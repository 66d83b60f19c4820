/**
 * GELU in WASM SIMD (issue 18): a module of its own (built at first use on the runtime's memory,
 * under Chrome's 4 KB limit for synchronous compilation) with two float32 kernels, 4 lanes at a time:
 *
 * - `fwd(x, out, vectors, tbl)`: gelu(x) = x Φ(x) (the exact form);
 * - `bwd(x, g, out, vectors, tbl)`: g gelu'(x) = g (Φ(x) + x φ(x)).
 *
 * Both from one exp per lane: with a = min(|x|, 16), Φ(-a) = Q(t) e^(-a²/2) / 2 and
 * φ(a) = e^(-a²/2) / √(2π), t = 1 / (1 + a / (2√2)), Q the polynomial of js/gelu.ts (GELU_Q; erfc's
 * e^(z²) erfc(z) to 2.5e-7 in float32). a² is split exactly (Dekker: a = ah + al with 12-bit ah,
 * a² = hi + lo), so e^(-a²/2) = e^(-hi/2) (1 - lo/2) has an exact argument: no 1 + erf
 * cancellation and no rounded square in the exponent, so both tails keep float32's relative
 * accuracy down to the subnormals. Beyond |x| = 14.5 (where the results underflow) e^(-a²/2) is
 * taken as 0: gelu(x) is -0 below (-Infinity included) and x above, gelu' 0 and 1; |x| < 2^-24
 * gives x / 2 and 1 / 2 exactly. NaN stays NaN. The tanh form runs on js-fast.
 */
import type { View } from "../backend.js";
import { GELU_Q } from "../js/gelu.js";
import { countdown, FuncBuilder, I32, V128 } from "./emit.js";
import { denseF32, ELEMENTWISE_MIN } from "./elementwise.js";
import { emitExp, EXP_CONSTANTS } from "./math.js";
import { lazyModule, roundUp, type WasmRuntime } from "./runtime.js";
// outputs are written whole: they may come from the pool of recycled gradients (and the engine may
// recycle a gradient taken so: takeUninit records it as born in the backward pass)
import { takeUninit } from "../../tensor/pool.js";

// SIMD opcodes (after 0xfd)
const F = { abs: 0xe0, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, pmin: 0xea, pmax: 0xeb, eq: 0x41, lt: 0x43 };
const AND = 0x4e;
const ANDNOT = 0x4f;
const BITSELECT = 0x52;

/** The kernels' constants after exp's (float32 words of `tbl`); MASK is a bit pattern (written as an int). */
const K = { clamp: 0, mquarter: 1, half: 2, mhalf: 3, one: 4, c1: 5, invSqrt2Pi: 6, tiny: 7, mclamp: 8, mask: 9, zero: 10, q: 11 } as const;
const CONSTANTS = [18, -0.25, 0.5, -0.5, 1, 0.5 * Math.SQRT1_2, 1 / Math.sqrt(2 * Math.PI), 2 ** -24, -18, 0, 0, ...GELU_Q];
/** The 12 high bits of a float32's significand (the Dekker split). */
const MASK_BITS = 0xfffff000 | 0;

/** The constants as v128 locals: exp's 13, then {@link CONSTANTS}, splatted from `tbl` before the loop. */
function constants(f: FuncBuilder, tbl: number): { e: number[]; c: number[] } {
  const all = [...EXP_CONSTANTS, ...CONSTANTS].map((_, i) => {
    const l = f.local(V128);
    f.get(tbl).v128Load32Splat(4 * i).set(l);
    return l;
  });
  return { e: all.slice(0, EXP_CONSTANTS.length), c: all.slice(EXP_CONSTANTS.length) };
}

/**
 * From x (a v128 local), a = min(|x|, 18): e^(-a²/4) into `h` (0 where |x| >= 18), so that
 * e^(-a²/2) = h h (1 - lo/2) with each factor normal; W = Q(t) (1 - lo/2) / 2 into `w` (so
 * Φ(-a) = (W h) h); and for the backward V = a (1 - lo/2) / √(2π) into `vv` (a φ(a) = (V h) h).
 * The products are taken in that order, so only the last one can round into the subnormals.
 * `v` holds 7 scratch locals; `a` is left in v[0].
 */
function emitPhi(f: FuncBuilder, k: { e: number[]; c: number[] }, x: number, h: number, w: number, vv: number | null, v: number[]): void {
  const c = (i: number): FuncBuilder => f.get(k.c[i]!);
  const [a, ah, al, lo, r, t, e] = v as [number, number, number, number, number, number, number];
  // a = min(|x|, 18) (pmin keeps a NaN); a = ah + al exactly; a² = hi + lo
  f.get(x).simd(F.abs);
  c(K.clamp).simd(F.pmin).tee(a);
  c(K.mask).simd(AND).set(ah);
  f.get(a).get(ah).simd(F.sub).set(al);
  f.get(ah).get(ah).simd(F.mul).get(a).get(a).simd(F.mul).tee(h).simd(F.sub);
  f.get(ah).get(ah).simd(F.add).get(al).simd(F.mul).simd(F.add);
  f.get(al).get(al).simd(F.mul).simd(F.add);
  // lo = 1 - lo / 2 (the correction factor)
  c(K.mhalf).simd(F.mul);
  c(K.one).simd(F.add).set(lo);
  // h = e^(-hi/4) (an exact argument), 0 where a reached the clamp
  f.get(h);
  c(K.mquarter).simd(F.mul);
  emitExp(f, k.e, r, t, e, true); // y in [-81, 0] or NaN: no clamps, one scale
  f.get(a);
  c(K.clamp).simd(F.eq).simd(ANDNOT).set(h);
  // t = 1 / (1 + a / (2√2)); W = Q(t) lo / 2 (Q by Horner)
  c(K.one);
  f.get(a);
  c(K.c1).simd(F.mul);
  c(K.one).simd(F.add).simd(F.div).set(t);
  c(K.q);
  for (let i = 1; i < GELU_Q.length; i++) {
    f.get(t).simd(F.mul);
    c(K.q + i).simd(F.add);
  }
  f.get(lo).simd(F.mul);
  c(K.half).simd(F.mul).set(w);
  if (vv !== null) {
    f.get(a).get(lo).simd(F.mul);
    c(K.invSqrt2Pi).simd(F.mul).set(vv);
  }
}

/** (v h) h for the value v on the stack. */
const scaleHH = (f: FuncBuilder, h: number): void => void f.get(h).simd(F.mul).get(h).simd(F.mul);

/** fwd(x, out, vectors, tbl): out = x Φ(x). */
function fwdKernel(f: FuncBuilder): void {
  const [px, po, n, tbl] = [0, 1, 2, 3];
  const k = constants(f, tbl);
  const c = (i: number): FuncBuilder => f.get(k.c[i]!);
  const [x, h, w, ...v] = f.locals(V128, 10) as [number, number, number, ...number[]];
  countdown(f, n, [[px, 16], [po, 16]], () => {
    f.get(po);
    f.get(px).v128Load().set(x);
    emitPhi(f, k, x, h, w, null, v);
    // |x| < 2^-24: x / 2; x < 0: ((max(x, -18) W) h) h; else x (1 - (W h) h)
    f.get(x);
    c(K.half).simd(F.mul);
    f.get(x);
    c(K.mclamp).simd(F.pmax).get(w).simd(F.mul);
    scaleHH(f, h);
    c(K.one).get(w);
    scaleHH(f, h);
    f.simd(F.sub).get(x).simd(F.mul);
    f.get(x);
    c(K.zero).simd(F.lt).simd(BITSELECT);
    f.get(x).simd(F.abs);
    c(K.tiny).simd(F.lt).simd(BITSELECT);
    f.v128Store();
  });
}

/** bwd(x, g, out, vectors, tbl): out = g (Φ(x) + x φ(x)). */
function bwdKernel(f: FuncBuilder): void {
  const [px, pg, po, n, tbl] = [0, 1, 2, 3, 4];
  const k = constants(f, tbl);
  const c = (i: number): FuncBuilder => f.get(k.c[i]!);
  const [x, g, h, w, vv, ...v] = f.locals(V128, 12) as [number, number, number, number, number, ...number[]];
  countdown(f, n, [[px, 16], [pg, 16], [po, 16]], () => {
    f.get(po);
    f.get(px).v128Load().set(x);
    f.get(pg).v128Load().set(g);
    emitPhi(f, k, x, h, w, vv, v);
    // |x| < 2^-24: g / 2; x < 0: ((g (W - V)) h) h; else g ((1 - (W h) h) + (V h) h)
    f.get(g);
    c(K.half).simd(F.mul);
    f.get(g).get(w).get(vv).simd(F.sub).simd(F.mul);
    scaleHH(f, h);
    c(K.one).get(w);
    scaleHH(f, h);
    f.simd(F.sub).get(vv);
    scaleHH(f, h);
    f.simd(F.add).get(g).simd(F.mul);
    f.get(x);
    c(K.zero).simd(F.lt).simd(BITSELECT);
    f.get(x).simd(F.abs);
    c(K.tiny).simd(F.lt).simd(BITSELECT);
    f.v128Store();
  });
}

/** The module's exports. */
interface GeluExports {
  fwd(x: number, out: number, vectors: number, tbl: number): void;
  bwd(x: number, g: number, out: number, vectors: number, tbl: number): void;
}

/** The gelu module on a runtime's memory (built at first use). */
const geluModule = lazyModule<GeluExports>((mb) => {
  mb.func("fwd", [I32, I32, I32, I32], [], fwdKernel);
  mb.func("bwd", [I32, I32, I32, I32, I32], [], bwdKernel);
});

/** Exposed for tests: the module's size in bytes, shared memory or not. */
export const geluModuleBytes = (shared: boolean): number => geluModule.bytes(shared);

/** Floats per operand of one chunk (64 KB: a chunk's operands and result stay in L2). */
const CHUNK = 16384;

/** Write the constants at byte `tbl` (the mask as its bits). */
function writeTable(rt: WasmRuntime, tbl: number): void {
  const H = rt.heap(tbl + 4 * (EXP_CONSTANTS.length + CONSTANTS.length));
  H.set(EXP_CONSTANTS, tbl >> 2);
  H.set(CONSTANTS, (tbl >> 2) + EXP_CONSTANTS.length);
  rt.ints()[(tbl >> 2) + EXP_CONSTANTS.length + K.mask] = MASK_BITS;
}

/** gelu (exact) of a dense float32 view of at least ELEMENTWISE_MIN elements; null otherwise. */
export function geluWasm(rt: WasmRuntime, x: View): Float32Array | null {
  const xs = denseF32(x);
  if (!xs || xs.length < ELEMENTWISE_MIN) return null;
  const m = geluModule.on(rt);
  const n = xs.length;
  const c = Math.min(CHUNK, roundUp(n, 4));
  const xa = rt.base;
  const oa = xa + 4 * c;
  const tbl = oa + 4 * c;
  writeTable(rt, tbl);
  const H = rt.heap(tbl + 4 * (EXP_CONSTANTS.length + CONSTANTS.length));
  const out = takeUninit("float32", n);
  for (let i = 0; i < n; i += c) {
    const len = Math.min(c, n - i);
    H.set(xs.subarray(i, i + len), xa >> 2);
    m.fwd(xa, oa, roundUp(len, 4) / 4, tbl);
    out.set(H.subarray(oa >> 2, (oa >> 2) + len), i);
  }
  return out;
}

/** g gelu'(x) (exact) for dense float32 views of at least ELEMENTWISE_MIN elements; null otherwise. */
export function geluBackwardWasm(rt: WasmRuntime, x: View, g: View): Float32Array | null {
  const xs = denseF32(x);
  const gs = denseF32(g);
  if (!xs || !gs || xs.length < ELEMENTWISE_MIN) return null;
  const m = geluModule.on(rt);
  const n = xs.length;
  const c = Math.min(CHUNK, roundUp(n, 4));
  const xa = rt.base;
  const ga = xa + 4 * c;
  const oa = ga + 4 * c;
  const tbl = oa + 4 * c;
  writeTable(rt, tbl);
  const H = rt.heap(tbl + 4 * (EXP_CONSTANTS.length + CONSTANTS.length));
  const out = takeUninit("float32", n);
  for (let i = 0; i < n; i += c) {
    const len = Math.min(c, n - i);
    H.set(xs.subarray(i, i + len), xa >> 2);
    H.set(gs.subarray(i, i + len), ga >> 2);
    m.bwd(xa, ga, oa, roundUp(len, 4) / 4, tbl);
    out.set(H.subarray(oa >> 2, (oa >> 2) + len), i);
  }
  return out;
}
