/**
 * The wasm backend's layer norm, forward and backward, on dense float32 rows whose length is a
 * multiple of 4 (the rest, and float64, run on js-fast's kernels/js/norm.ts). A module of its own
 * (beside kernels.ts and math.ts, which are at Chrome's 4 KB limit for synchronous compilation),
 * instantiated on the runtime's memory at first use.
 *
 * The statistics are accumulated in float64 (each f32x4 promoted to two f64x2), as the reference:
 * per row, x0 = the first entry, mean of (x - x0), var of (x - x0 - mean), r = 1 / sqrt(var + eps),
 * xhat = (x - x0 - mean) r in float64, rounded to float32 once. So a constant row gives exactly 0,
 * and float32 rows cannot overflow a float64 accumulator (no scaling needed); for a row with
 * max |x| >= 2^32 eps is floored at s² 2^-64 (s the power of two at or below max |x|), which is what
 * the reference's (and the composite's) scaling of such rows amounts to. The forward's affine
 * (xhat w + b) runs in float32. The backward computes, per row, gw = g w (exact in float64),
 * m1 = mean(gw), m2 = mean(gw xhat) and dx = r (gw - m1 - xhat m2), and accumulates dweight
 * (g xhat) and dbias (g) over the rows in float64 in wasm memory.
 *
 * Rows are processed in blocks of about CHUNK floats, copied in and out once (the operands and the
 * result of a block stay in L2).
 */
import type { TypedArray } from "../../tensor/dtype.js";
import { numel } from "../../tensor/shape.js";
import type { View } from "../backend.js";
import { isDense } from "../js/runs.js";
import { CHUNK, ELEMENTWISE_MIN } from "./elementwise.js";
import { countdown, F32, F64, FuncBuilder, I32, V128 } from "./emit.js";
import { lazyModule, type WasmRuntime } from "./runtime.js";
// outputs are written whole: they may come from the pool of recycled gradients
import { takeUninit } from "../../tensor/pool.js";

// SIMD opcodes (after the 0xfd prefix) and scalar ones
const F64X2_SPLAT = 0x14;
const PROMOTE = 0x5f;
const DEMOTE = 0x5e;
const F32X4 = { add: 0xe4, mul: 0xe6, abs: 0xe0, pmax: 0xeb };
const F32_MAX = 0x97;
const F32_GE = 0x60;
const F32_LT = 0x5d;
const F64_MUL = 0xa2;
const F64_MAX = 0xa5;
const I32_AND = 0x71;
const I32_REINTERPRET_F32 = 0xbc;
const F32_REINTERPRET_I32 = 0xbe;
const SELECT = 0x1b;
const F64X2 = { add: 0xf0, sub: 0xf1, mul: 0xf2 };
const F64_DIV = 0xa3;
const F64_SQRT = 0x9f;
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
/** Lanes 0-1 of the first operand then lanes 0-1 of the second (two demoted f64x2 into one f32x4). */
const JOIN = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
const ZERO = new Array<number>(16).fill(0);

/** The two f64x2 halves (low lanes, high lanes) of the f32x4 in local v, promoted, into locals lo and hi. */
function promote(f: FuncBuilder, v: number, lo: number, hi: number): void {
  f.get(v).simd(PROMOTE).set(lo);
  f.get(v).get(v).i8x16Shuffle(HIGH).simd(PROMOTE).set(hi);
}

/** The sum of the two lanes of f64x2 local a plus those of b, as an f64 on the stack. */
function lanes(f: FuncBuilder, a: number, b: number): void {
  f.get(a).get(b).simd(F64X2.add).set(a);
  f.get(a).f64x2ExtractLane(0).get(a).f64x2ExtractLane(1).f64Add();
}

/** Locals shared by both kernels. */
interface RowLocals {
  mx: number;
  e: number;
  px: number;
  c: number;
  s0: number;
  mv: number;
  rv: number;
  acc0: number;
  acc1: number;
  v: number;
  lo: number;
  hi: number;
}

/** Push an f64 constant. */
function f64Const(f: FuncBuilder, x: number): void {
  f.op(0x44, ...new Uint8Array(new Float64Array([x]).buffer));
}

/**
 * Per row at `x` (n4 vectors), in float64 (two passes): s0 = splat(x[0]), mv = splat(mean(x - x0)),
 * rv = splat(1 / sqrt(var + eps)).
 */
function rowStats(f: FuncBuilder, L: RowLocals, x: number, n4: number, eps: number, nf: number): void {
  const { mx, e, px, c, s0, mv, rv, acc0, acc1, v, lo, hi } = L;
  f.get(x).f32Load().f64PromoteF32().simd(F64X2_SPLAT).set(s0);
  f.v128Const(ZERO).set(mx);
  // pass 0: sum of (x - x0); pass 1: sum of (x - x0 - mean)²
  for (const pass of [0, 1]) {
    f.v128Const(ZERO).tee(acc0).set(acc1);
    f.get(x).set(px).get(n4).set(c);
    countdown(f, c, [[px, 16]], () => {
      f.get(px).v128Load().set(v);
      if (pass === 0) f.get(mx).get(v).simd(F32X4.abs).simd(F32X4.pmax).set(mx);
      promote(f, v, lo, hi);
      for (const [h, a] of [[lo, acc0], [hi, acc1]] as const) {
        f.get(a).get(h).get(s0).simd(F64X2.sub);
        if (pass === 1) f.get(mv).simd(F64X2.sub).tee(h).get(h).simd(F64X2.mul);
        f.simd(F64X2.add).set(a);
      }
    });
    if (pass === 1) f64Const(f, 1);
    lanes(f, acc0, acc1);
    f.get(nf).op(F64_DIV);
    if (pass === 0) {
      f.simd(F64X2_SPLAT).set(mv);
      effectiveEps(f, mx, e, eps);
    } else f.get(e).f64Add().op(F64_SQRT).op(F64_DIV).simd(F64X2_SPLAT).set(rv);
  }
}

function rowLocals(f: FuncBuilder): RowLocals {
  const [px, c] = f.locals(I32, 2) as [number, number];
  const [s0, mv, rv, acc0, acc1, v, lo, hi, mx] = f.locals(V128, 9) as [number, number, number, number, number, number, number, number, number];
  const e = f.local(F64);
  return { mx, e, px, c, s0, mv, rv, acc0, acc1, v, lo, hi };
}

/**
 * e = eps, or max(eps, (s 2^-32)²) = max(eps, s² 2^-64) for a row whose max |x| m (the lanes of
 * local mx) is in [2^32, Infinity), s = m with its mantissa cleared (the power of two at or below it).
 */
function effectiveEps(f: FuncBuilder, mx: number, e: number, eps: number): void {
  const m = f.local(F32);
  f.get(mx).f32x4ExtractLane(0).get(mx).f32x4ExtractLane(1).op(F32_MAX).get(mx).f32x4ExtractLane(2).get(mx).f32x4ExtractLane(3).op(F32_MAX).op(F32_MAX).set(m);
  // select(candidate, eps, in range)
  f.get(m).op(I32_REINTERPRET_F32).i32(0x7f800000).op(I32_AND).op(F32_REINTERPRET_I32).f64PromoteF32();
  f64Const(f, 2 ** -32);
  f.op(F64_MUL).tee(e).get(e).op(F64_MUL).get(eps).op(F64_MAX);
  f.get(eps);
  f.get(m).f32Const(2 ** 32).op(F32_GE).get(m).f32Const(Infinity).op(F32_LT).op(I32_AND);
  f.op(SELECT).set(e);
}

/** xhat of the low and high halves of v (promoted into lo, hi): ((x - x0) - mean) r, left in lo and hi. */
function standardized(f: FuncBuilder, L: RowLocals): void {
  const { s0, mv, rv, v, lo, hi } = L;
  promote(f, v, lo, hi);
  for (const h of [lo, hi]) f.get(h).get(s0).simd(F64X2.sub).get(mv).simd(F64X2.sub).get(rv).simd(F64X2.mul).set(h);
}

/** The f32x4 of the two f64x2 locals a (lanes 0, 1) and b (lanes 2, 3), each rounded once, on the stack. */
function demote2(f: FuncBuilder, a: number, b: number): void {
  f.get(a).simd(DEMOTE).get(b).simd(DEMOTE).i8x16Shuffle(JOIN);
}

/** fwd(x, out, rows, n4, w, b, eps, n): per row, out = xhat w + b (w, b: n floats each). */
function fwdKernel(f: FuncBuilder): void {
  const [x, o, rows, n4, w, b, eps, nf] = [0, 1, 2, 3, 4, 5, 6, 7];
  const L = rowLocals(f);
  const [po, pw, pb] = f.locals(I32, 3) as [number, number, number];
  countdown(f, rows, [], () => {
    rowStats(f, L, x, n4, eps, nf);
    f.get(x).set(L.px).get(o).set(po).get(w).set(pw).get(b).set(pb).get(n4).set(L.c);
    countdown(f, L.c, [[L.px, 16], [po, 16], [pw, 16], [pb, 16]], () => {
      f.get(L.px).v128Load().set(L.v);
      standardized(f, L);
      f.get(po);
      demote2(f, L.lo, L.hi);
      f.get(pw).v128Load().simd(F32X4.mul).get(pb).v128Load().simd(F32X4.add).v128Store();
    });
    for (const p of [x, o]) f.get(p).get(n4).i32(4).i32Shl().i32Add().set(p);
  });
}

/**
 * bwd(x, g, out, rows, n4, w, acc, s, eps, n): per row, out = r (gw - mean(gw) - xhat mean(gw xhat)),
 * gw = g w; acc (2n float64: dweight then dbias) += g xhat, g. The pass that sums the means keeps
 * xhat and gw (float64) of the row in s (4n float64) for the pass that writes out, which so reads
 * them instead of computing them again (the same values).
 */
function bwdKernel(f: FuncBuilder): void {
  const [x, g, o, rows, n4, w, acc, s, eps, nf] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const L = rowLocals(f);
  const [pg, po, pw, pa, pb, ps] = f.locals(I32, 6) as [number, number, number, number, number, number];
  const [gl, gh, m1a, m1b, m2a, m2b, t] = f.locals(V128, 7) as [number, number, number, number, number, number, number];
  const rewind = (): void => void f.get(x).set(L.px).get(g).set(pg).get(o).set(po).get(w).set(pw).get(acc).set(pa).get(n4).set(L.c);
  /** gl, gh = g w (float64, exact) of the current vector; g itself left in t's two halves via gl/gh first. */
  const gw = (): void => {
    f.get(pw).v128Load().set(t);
    f.get(gl).get(t).simd(PROMOTE).simd(F64X2.mul).set(gl);
    f.get(gh).get(t).get(t).i8x16Shuffle(HIGH).simd(PROMOTE).simd(F64X2.mul).set(gh);
  };
  countdown(f, rows, [], () => {
    rowStats(f, L, x, n4, eps, nf);
    // pass 3: m1, m2; dweight += g xhat, dbias += g (acc: 4 float64 per vector each)
    f.v128Const(ZERO).tee(m1a).tee(m1b).tee(m2a).set(m2b);
    rewind();
    f.get(acc).get(n4).i32(5).i32Shl().i32Add().set(pb);
    f.get(s).set(ps);
    countdown(f, L.c, [[L.px, 16], [pg, 16], [pw, 16], [pa, 32], [pb, 32], [ps, 64]], () => {
      f.get(L.px).v128Load().set(L.v);
      standardized(f, L);
      f.get(pg).v128Load().set(t);
      promote(f, t, gl, gh);
      // dweight, dbias
      f.get(pa).get(pa).v128Load().get(gl).get(L.lo).simd(F64X2.mul).simd(F64X2.add).v128Store();
      f.get(pa).get(pa).v128Load(16).get(gh).get(L.hi).simd(F64X2.mul).simd(F64X2.add).v128Store(16);
      f.get(pb).get(pb).v128Load().get(gl).simd(F64X2.add).v128Store();
      f.get(pb).get(pb).v128Load(16).get(gh).simd(F64X2.add).v128Store(16);
      gw();
      f.get(m1a).get(gl).simd(F64X2.add).set(m1a);
      f.get(m1b).get(gh).simd(F64X2.add).set(m1b);
      f.get(m2a).get(gl).get(L.lo).simd(F64X2.mul).simd(F64X2.add).set(m2a);
      f.get(m2b).get(gh).get(L.hi).simd(F64X2.mul).simd(F64X2.add).set(m2b);
      f.get(ps).get(L.lo).v128Store(0).get(ps).get(L.hi).v128Store(16).get(ps).get(gl).v128Store(32).get(ps).get(gh).v128Store(48);
    });
    lanes(f, m1a, m1b);
    f.get(nf).op(F64_DIV).simd(F64X2_SPLAT).set(m1a);
    lanes(f, m2a, m2b);
    f.get(nf).op(F64_DIV).simd(F64X2_SPLAT).set(m2a);
    // pass 4: dx = r ((gw - m1) - xhat m2), xhat and gw from s
    f.get(s).set(ps).get(o).set(po).get(n4).set(L.c);
    countdown(f, L.c, [[ps, 64], [po, 16]], () => {
      f.get(ps).v128Load(0).set(L.lo).get(ps).v128Load(16).set(L.hi).get(ps).v128Load(32).set(gl).get(ps).v128Load(48).set(gh);
      for (const [gg, h] of [[gl, L.lo], [gh, L.hi]] as const) f.get(gg).get(m1a).simd(F64X2.sub).get(h).get(m2a).simd(F64X2.mul).simd(F64X2.sub).get(L.rv).simd(F64X2.mul).set(h);
      f.get(po);
      demote2(f, L.lo, L.hi);
      f.v128Store();
    });
    for (const p of [x, g, o]) f.get(p).get(n4).i32(4).i32Shl().i32Add().set(p);
  });
}

/** The module's exports. */
interface NormExports {
  fwd(x: number, out: number, rows: number, n4: number, w: number, b: number, eps: number, n: number): void;
  bwd(x: number, g: number, out: number, rows: number, n4: number, w: number, acc: number, s: number, eps: number, n: number): void;
}

/** The layer-norm module on a runtime's memory (built at first use). */
const normModule = lazyModule<NormExports>((mb) => {
  mb.func("fwd", [I32, I32, I32, I32, I32, I32, F64, F64], [], fwdKernel);
  mb.func("bwd", [I32, I32, I32, I32, I32, I32, I32, I32, F64, F64], [], bwdKernel);
});

/** Exposed for tests: the module's size in bytes (below Chrome's 4 KB limit for synchronous compilation). */
export function normModuleBytes(): number {
  return normModule.bytes();
}

/** n floats of v (or `fill`) as a dense float32 array. */
function vec32(v: View | null, n: number, fill: number): Float32Array {
  const out = new Float32Array(n);
  if (!v) return out.fill(fill);
  if (isDense(v.shape, v)) out.set(v.storage.subarray(v.offset, v.offset + n));
  else {
    // a strided weight (rare): element by element in row-major order
    const sh = v.shape;
    const idx = new Array<number>(sh.length).fill(0);
    for (let i = 0; i < n; i++) {
      let off = v.offset;
      for (let d = 0; d < sh.length; d++) off += idx[d]! * v.strides[d]!;
      out[i] = v.storage[off]!;
      for (let d = sh.length - 1; d >= 0 && ++idx[d]! === sh[d]!; d--) idx[d] = 0;
    }
  }
  return out;
}

/** Whether the wasm path applies: dense float32 x (and g) in rows of a multiple of 4 floats, float32 weight/bias. */
function applies(n: number, ...vs: (View | null)[]): boolean {
  const x = vs[0]!;
  return n % 4 === 0 && n > 0 && numel(x.shape) >= ELEMENTWISE_MIN && vs.every((v) => !v || v.storage instanceof Float32Array) && isDense(x.shape, x);
}

/** See Backend.layerNorm; null where the wasm path does not apply. */
export function layerNormWasm(rt: WasmRuntime, x: View, weight: View | null, bias: View | null, n: number, eps: number): Float32Array | null {
  if (!applies(n, x, weight, bias)) return null;
  const total = numel(x.shape);
  const rows = total / n;
  const br = Math.max(1, Math.floor(CHUNK / n));
  const xb = rt.base;
  const ob = xb + 4 * br * n;
  const wb = ob + 4 * br * n;
  const bb = wb + 4 * n;
  const H = rt.heap(bb + 4 * n);
  H.set(vec32(weight, n, 1), wb >> 2);
  H.set(vec32(bias, n, 0), bb >> 2);
  const xs = (x.storage as Float32Array).subarray(x.offset, x.offset + total);
  const res = takeUninit("float32", total);
  const mod = normModule.on(rt);
  for (let r0 = 0; r0 < rows; r0 += br) {
    const nr = Math.min(br, rows - r0);
    H.set(xs.subarray(r0 * n, (r0 + nr) * n), xb >> 2);
    mod.fwd(xb, ob, nr, n / 4, wb, bb, eps, n);
    res.set(H.subarray(ob >> 2, (ob >> 2) + nr * n), r0 * n);
  }
  return res;
}

/** See Backend.layerNormBackward; null where the wasm path does not apply. */
export function layerNormBackwardWasm(rt: WasmRuntime, x: View, weight: View | null, g: View, n: number, eps: number): [TypedArray, TypedArray, TypedArray] | null {
  if (!applies(n, x, weight, g) || !isDense(g.shape, g)) return null;
  const total = numel(x.shape);
  const rows = total / n;
  const br = Math.max(1, Math.floor(CHUNK / n));
  const xb = rt.base;
  const gb = xb + 4 * br * n;
  const ob = gb + 4 * br * n;
  const wb = ob + 4 * br * n;
  const ab = wb + 4 * n;
  const sb = ab + 16 * n;
  const H = rt.heap(sb + 32 * n);
  H.set(vec32(weight, n, 1), wb >> 2);
  const A = new Float64Array(rt.memory.buffer, ab, 2 * n);
  A.fill(0);
  const xs = (x.storage as Float32Array).subarray(x.offset, x.offset + total);
  const gs = (g.storage as Float32Array).subarray(g.offset, g.offset + total);
  const dx = takeUninit("float32", total);
  const mod = normModule.on(rt);
  for (let r0 = 0; r0 < rows; r0 += br) {
    const nr = Math.min(br, rows - r0);
    H.set(xs.subarray(r0 * n, (r0 + nr) * n), xb >> 2);
    H.set(gs.subarray(r0 * n, (r0 + nr) * n), gb >> 2);
    mod.bwd(xb, gb, ob, nr, n / 4, wb, ab, sb, eps, n);
    dx.set(H.subarray(ob >> 2, (ob >> 2) + nr * n), r0 * n);
  }
  const D = new Float64Array(rt.memory.buffer, ab, 2 * n);
  return [dx, Float32Array.from(D.subarray(0, n)), Float32Array.from(D.subarray(n))];
}
