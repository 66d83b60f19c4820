/**
 * The wasm backend's softmax: forward (plain, log, masked, causal) and the fused backward, on rows
 * of float32 along the last axis. A third module (beside kernels.ts and math.ts, which are at
 * Chrome's 4 KB limit for synchronous compilation), instantiated on the runtime's memory at first
 * use.
 *
 * Forward, per block of rows (about CHUNK floats): the rows are copied into wasm memory once (a
 * masked entry is written as -Infinity there, so it takes no part: NaN or Infinity under a mask
 * reads nothing), then one kernel call does, per row, the max and min (four accumulators each),
 * exp(x - max) with its sum in one pass (emitExp2: XNNPACK's rr1-p5 polynomial in log2 units, 2^n
 * (1 + f q(f)), f = (x - max) log2(e) - n; 0 below 2^-126 where the result is subnormal; about 2 to
 * 4 ulp), and the scale by 1 / sum, and the block is copied out once. At 1024 x 1024, one thread,
 * recycled outputs: the copies in and out cost about 0.30 ns/elem (L3 bandwidth), the kernel 0.57
 * (max 0.06, exp 0.44: 18 f32x4 ops a vector, no FMA; scale 0.05). Causal rows run only their first ceil((i + 1) / 4) vectors
 * (zeros after). Log-softmax scales by subtracting shift + log(sum) (math.ts rowAffine). Rows whose
 * max is +Infinity (a NaN result) are computed again in JS, as the reference does.
 *
 * Backward: softmax y (g - sum(g y)), log g - exp(y) sum(g), the same way (two passes over a row
 * in L1, two vectors a step; the sum in float64, of g y products rounded to float32 once); masked
 * entries are zeroed in the copy. A row that is dead (its active y all 0, log all
 * -Infinity) or whose sum is not finite is computed again in JS by the reference's rule (exact
 * zeros where the entries take no part).
 */
import type { TypedArray } from "../../tensor/dtype.js";
import { offsetsOf } from "../../tensor/layout.js";
// every output here is written whole (each row block is copied out): it may come from the pool of recycled gradients
import { takeUninit } from "../../tensor/pool.js";
import { numel } from "../../tensor/shape.js";
import type { View } from "../backend.js";
import { isDense } from "../js/runs.js";
import { CHUNK, ELEMENTWISE_MIN } from "./elementwise.js";
import { countdown, F32, FuncBuilder, I32, V128 } from "./emit.js";
import { lazyModule, type WasmRuntime } from "./runtime.js";

const SPLAT = 0x13;
const F = { abs: 0xe0, add: 0xe4, sub: 0xe5, mul: 0xe6, lt: 0x43, pmin: 0xea, pmax: 0xeb };
const SHL = 0xab;
const ANDNOT = 0x4f;
const SHR_U = 0x76;
const PROMOTE = 0x5f;
const F64_ADD = 0xf0;
const F64_MUL = 0xf2;

/** 0x1.HHHHHHpE as a number: m = 0x1HHHHHH, e = E - 24. */
const hexf = (m: number, e: number): number => m * 2 ** e;

/**
 * The exp constants (XNNPACK's f32 rr1-p5): log2(e), the magic bias 1.5 2^23 + 127 (the add
 * rounds n into the low bits, with the exponent bias), -ln2 (and an unused slot), c5..c1, the cutoff below
 * which the result is flushed to 0, and a clamp from above (88.3: 2^n stays normal).
 */
const EXP_C = [hexf(0x10f9f9c, -31), hexf(0x1573a1a, -29), hexf(0x1555a80, -27), hexf(0x1fffdc6, -26), hexf(0x1fffff6, -25)];
export const SOFTMAX_EXP = [
  hexf(0x1715476, -24), 12583039, -Math.LN2, 0,
  ...EXP_C,
  -hexf(0x15d589e, -18), 88.3,
  // 11-15: the same polynomial for 2^f (c_i ln2^i, c5 first: e^r = 2^f with r = f ln2), and 16: the
  // cutoff in log2 units (2^-126), for emitExp2
  ...EXP_C.map((c, i) => c * Math.LN2 ** (5 - i)),
  -126,
];

/** Splat the constants from `tbl` into v128 locals (V8 keeps them in registers or as memory operands; see contributing). */
function constants(f: FuncBuilder, tbl: number): number[] {
  return SOFTMAX_EXP.map((_, i) => {
    const l = f.local(V128);
    f.get(tbl).v128Load32Splat(4 * i).set(l);
    return l;
  });
}

/** exp of the f32x4 on the stack (left on the stack); z, t, s, r are v128 scratch locals. */
function emitExp(f: FuncBuilder, k: number[], z: number, t: number, s: number, r: number, clamp: boolean, cutoff = true): void {
  const c = (i: number): FuncBuilder => f.get(k[i]!);
  if (clamp) c(10).simd(F.pmin);
  f.tee(z);
  c(0).simd(F.mul);
  c(1).simd(F.add).tee(t).i32(23).simd(SHL).set(s); // s = 2^n
  f.get(t);
  c(1).simd(F.sub).set(t); // t = n
  // r = z - n ln2 with ln2 in one float32 (XNNPACK's rr1): |n| ln2's error is below 1e-7 relative for
  // every result above 2^-20 (smaller ones are within the kit's absolute tolerance)
  f.get(z).get(t);
  c(2).simd(F.mul).simd(F.add).set(r);
  c(4).get(r).simd(F.mul);
  for (let i = 5; i <= 8; i++) {
    c(i).simd(F.add);
    if (i < 8) f.get(r).simd(F.mul);
  }
  // p on the stack: f = (r s) p + s, 0 where z < cutoff (the caller may know there is none)
  f.get(r).get(s).simd(F.mul).simd(F.mul).get(s).simd(F.add);
  if (cutoff) f.get(z), c(9).simd(F.lt).simd(ANDNOT);
}

/**
 * `count` (an i32 local, may be 0) steps of `bytes` bytes over the pointers `ptrs` (locals),
 * advanced after each body, as a do-while loop that tests only ptrs[0] against `end` (a scratch
 * local): one compare and branch a step where countdown has a counter, a test and two branches
 * (scalar ops that take the vector ports' turns in the exp and scale loops).
 */
function steps(f: FuncBuilder, count: number, ptrs: number[], bytes: number, end: number, body: () => void): void {
  const p0 = ptrs[0]!;
  f.get(count).if_();
  f.get(p0).get(count).i32(bytes).i32Mul().i32Add().set(end);
  f.loop();
  body();
  for (const p of ptrs) f.get(p).i32(bytes).i32Add().set(p);
  f.get(p0).get(end).i32LtU().brIf(0);
  f.end();
  f.end();
}

/**
 * exp of the f32x4 z on the stack (left on the stack), in log2 units: y = z log2(e), n = nearest(y)
 * (the magic-bias add, which also leaves 2^n's exponent bits in t), f = y - n (exact), 2^n (1 + f
 * q(f)), q the rr1-p5 polynomial in f (c_i ln2^i); 0 where y < -126 with `cutoff`. One op fewer
 * than {@link emitExp} (f = y - n against r = z - n ln2 from z: a mul and an add): 18 ops a
 * vector with the shift and the sum, against 19 (the exp pass 8% faster). The price: y's rounding,
 * |y| 2^-25 absolute, where emitExp rounds n ln2: at most 8e-7 relative against 4e-7 for rows
 * within [-4, 4] (simulated against Math.exp, x - max rounded as here), well inside softmax's
 * tolerances. y, t, s, r are v128 scratch locals.
 */
function emitExp2(f: FuncBuilder, k: number[], y: number, t: number, s: number, r: number, cutoff: boolean): void {
  const c = (i: number): FuncBuilder => f.get(k[i]!);
  c(0).simd(F.mul).tee(y);
  c(1).simd(F.add).tee(t).i32(23).simd(SHL).set(s); // s = 2^n
  f.get(y).get(t);
  c(1).simd(F.sub).simd(F.sub).set(r); // f = y - n
  c(11).get(r).simd(F.mul);
  for (let i = 12; i <= 15; i++) {
    c(i).simd(F.add);
    if (i < 15) f.get(r).simd(F.mul);
  }
  f.get(r).get(s).simd(F.mul).simd(F.mul).get(s).simd(F.add);
  if (cutoff) f.get(y), c(16).simd(F.lt).simd(ANDNOT);
}

/** The sum of the 4 lanes of a v128 local, as an f32 on the stack. */
function lanesSum(f: FuncBuilder, v: number): void {
  f.get(v).f32x4ExtractLane(0).get(v).f32x4ExtractLane(1).f32Add().get(v).f32x4ExtractLane(2).get(v).f32x4ExtractLane(3).f32Add().f32Add();
}

/**
 * fwd(x, out, rows, ld4, lens, stats, tbl, scale): per row (ld4 vectors apart) over its first
 * lens[row] (int32) vectors: m = the max, shift = m (0 where infinite), out = exp(x - shift), and
 * with `scale` out *= 1 / sum (0 for a sum of 0) and zeros over the rest of the row; stats (f32
 * pairs) = [m, sum].
 */
function fwdKernel(f: FuncBuilder): void {
  const [x, o, rows, ld4, lens, stats, tbl, scale] = [0, 1, 2, 3, 4, 5, 6, 7];
  const k = constants(f, tbl);
  const [z, t, s, r, m0, m1, acc, sv] = f.locals(V128, 8) as [number, number, number, number, number, number, number, number];
  const [n, c, px, po] = f.locals(I32, 4) as [number, number, number, number];
  const [m, sum] = f.locals(F32, 2) as [number, number];
  const acc2 = f.local(V128);
  const sc2 = f.locals(V128, 4);
  const [n0, n1] = f.locals(V128, 2) as [number, number];
  const [m2, m3, n2, n3] = f.locals(V128, 4) as [number, number, number, number];
  const lo = f.local(F32);
  const end = f.local(I32);
  const bad = f.local(I32);
  countdown(f, rows, [[lens, 4], [stats, 8]], () => {
    f.get(lens).i32Load().set(n);
    // the max, four accumulators (pmax: a NaN element is skipped here and makes the sum NaN)
    // and the min (a row within 87 of its max needs no cutoff in its exp). NOTE: four chains, not
    // two: pmax's latency (4 cycles) bound the pass (0.12 ns/elem against 0.06)
    f.f32Const(-Infinity).simd(SPLAT).tee(m0).tee(m1).tee(m2).set(m3);
    f.f32Const(Infinity).simd(SPLAT).tee(n0).tee(n1).tee(n2).set(n3);
    f.get(x).set(px).get(n).i32(2).op(SHR_U).set(c);
    const minMax = (off: number, mx: number, mn: number): void => void f.get(px).v128Load(off).tee(z).get(mx).simd(F.pmax).set(mx).get(z).get(mn).simd(F.pmin).set(mn);
    steps(f, c, [px], 64, end, () => {
      minMax(0, m0, n0);
      minMax(16, m1, n1);
      minMax(32, m2, n2);
      minMax(48, m3, n3);
    });
    // the last n % 4 vectors
    f.get(n).i32(3).op(0x71).set(c); // i32.and
    countdown(f, c, [[px, 16]], () => minMax(0, m0, n0));
    f.get(m0).get(m1).simd(F.pmax).get(m2).get(m3).simd(F.pmax).simd(F.pmax).set(m0);
    f.get(n0).get(n1).simd(F.pmin).get(n2).get(n3).simd(F.pmin).simd(F.pmin).set(n0);
    f.get(n0).f32x4ExtractLane(0).get(n0).f32x4ExtractLane(1).op(0x96).get(n0).f32x4ExtractLane(2).get(n0).f32x4ExtractLane(3).op(0x96).op(0x96).set(lo); // f32.min
    f.get(m0).f32x4ExtractLane(0).get(m0).f32x4ExtractLane(1).op(0x97).get(m0).f32x4ExtractLane(2).get(m0).f32x4ExtractLane(3).op(0x97).op(0x97).set(m); // f32.max
    f.get(stats).get(m).f32Store();
    // shift = |m| == Infinity ? 0 : m
    f.f32Const(0).get(m).get(m).op(0x8b).f32Const(Infinity).op(0x5b).op(0x1b).simd(SPLAT).set(sv);
    f.v128Const(new Array<number>(16).fill(0)).set(acc);
    f.get(x).set(px).get(o).set(po);
    const expStore = (off: number, a: number, sc: number[], cut: boolean): void => {
      f.get(po).get(px).v128Load(off).get(sv).simd(F.sub);
      emitExp2(f, k, sc[0]!, sc[1]!, sc[2]!, sc[3]!, cut);
      f.tee(sc[0]!).v128Store(off).get(a).get(sc[0]!).simd(F.add).set(a);
    };
    // two vectors a step (two exp chains in flight, two sums), then an odd one
    const expLoop = (cut: boolean): void => {
      f.get(n).i32(1).op(SHR_U).set(c);
      steps(f, c, [px, po], 32, end, () => {
        expStore(0, acc, [z, t, s, r], cut);
        expStore(16, acc2, sc2, cut);
      });
      f.get(n).i32(1).op(0x71).if_(); // i32.and
      expStore(0, acc, [z, t, s, r], cut);
      f.end();
    };
    f.v128Const(new Array<number>(16).fill(0)).set(acc2);
    // min - shift >= -87 (false for NaN, an infinite shift or a -Infinity entry): no cutoff
    f.get(lo).get(sv).f32x4ExtractLane(0).op(0x93).f32Const(-87).op(0x60).if_(); // f32.sub, f32.ge
    expLoop(false);
    f.else_();
    expLoop(true);
    f.end();
    f.get(acc).get(acc2).simd(F.add).set(acc);
    lanesSum(f, acc);
    f.tee(sum);
    f.get(stats).get(sum).f32Store(4);
    f.set(sum);
    // rows JS must compute again (max +Infinity, sum NaN): counted, so JS reads stats only when some are
    f.get(bad).get(m).f32Const(Infinity).op(0x5b).get(sum).get(sum).op(0x5c).op(0x72).i32Add().set(bad); // f32.eq, f32.ne, i32.or
    f.get(scale).if_();
    // 1 / sum, or 0 for a sum of 0 (a dead row)
    f.f32Const(0).f32Const(1).get(sum).op(0x95).get(sum).f32Const(0).op(0x5b).op(0x1b).simd(SPLAT).set(sv); // f32.div, f32.eq, select
    // four vectors a step, then the last n % 4
    f.get(o).set(po).get(n).i32(2).op(SHR_U).set(c);
    steps(f, c, [po], 64, end, () => {
      for (let off = 0; off < 64; off += 16) f.get(po).get(po).v128Load(off).get(sv).simd(F.mul).v128Store(off);
    });
    f.get(n).i32(3).op(0x71).set(c); // i32.and
    countdown(f, c, [[po, 16]], () => void f.get(po).get(po).v128Load().get(sv).simd(F.mul).v128Store());
    f.get(ld4).get(n).i32Sub().set(c);
    countdown(f, c, [[po, 16]], () => void f.get(po).v128Const(new Array<number>(16).fill(0)).v128Store());
    f.end();
    const next = (p: number): void => void f.get(p).get(ld4).i32(4).i32Shl().i32Add().set(p);
    next(x);
    next(o);
  });
  f.get(bad);
}

/**
 * bwd(g, y, out, rows, ld4, lens, stats, tbl, log): per row over its first lens[row] vectors:
 * softmax: S = sum(g y), out = y (g - S), stats = [S, sum |y|]; log: S = sum(g), out = g - exp(y) S,
 * stats = [S, max y]. Zeros over the rest of the row.
 */
function bwdKernel(f: FuncBuilder): void {
  const [g, y, o, rows, ld4, lens, stats, tbl, log] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const k = constants(f, tbl);
  const [z, t, s, r, acc0, acc1, aux, sv, v, w] = f.locals(V128, 10) as [number, number, number, number, number, number, number, number, number, number];
  const [n, c, pg, py, po] = f.locals(I32, 5) as [number, number, number, number, number];
  const zero = new Array<number>(16).fill(0);
  const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  const [acc2, acc3, aux2, end] = [f.local(V128), f.local(V128), f.local(V128), f.local(I32)];
  const A = [[acc0, acc1], [acc2, acc3]] as const;
  const X = [aux, aux2] as const;
  const rewind = (): void => void f.get(g).set(pg).get(y).set(py).get(o).set(po);
  // the row's vectors two a step (two sets of accumulators: the float64 adds' latency, not their
  // count, bound a one-vector loop), then an odd one; body(byte offset, accumulator set)
  const pairs = (body: (off: number, u: 0 | 1) => void): void => {
    rewind();
    f.get(n).i32(1).op(SHR_U).set(c);
    steps(f, c, [pg, py, po], 32, end, () => {
      body(0, 0);
      body(16, 1);
    });
    f.get(n).i32(1).op(0x71).if_(); // i32.and
    body(0, 0);
    // past it: the zeros over the rest of the row start at po
    for (const p of [pg, py, po]) f.get(p).i32(16).i32Add().set(p);
    f.end();
  };
  // A[u] += the low two lanes of w and the high two, in float64
  const accumulate = (u: 0 | 1): void => {
    f.get(A[u][0]).get(w).simd(PROMOTE).simd(F64_ADD).set(A[u][0]);
    f.get(A[u][1]).get(w).get(w).i8x16Shuffle(HIGH).simd(PROMOTE).simd(F64_ADD).set(A[u][1]);
  };
  countdown(f, rows, [[lens, 4], [stats, 8]], () => {
    f.get(lens).i32Load().set(n);
    f.v128Const(zero).tee(acc0).tee(acc1).tee(acc2).set(acc3);
    f.get(log).if_();
    f.f32Const(-Infinity).simd(SPLAT).tee(aux).set(aux2);
    pairs((off, u) => {
      f.get(pg).v128Load(off).set(w);
      accumulate(u);
      f.get(X[u]).get(py).v128Load(off).simd(F.pmax).set(X[u]);
    });
    f.get(aux).get(aux2).simd(F.pmax).set(aux);
    f.get(stats);
    f.get(aux).f32x4ExtractLane(0).get(aux).f32x4ExtractLane(1).op(0x97).get(aux).f32x4ExtractLane(2).get(aux).f32x4ExtractLane(3).op(0x97).op(0x97); // f32.max
    f.f32Store(4);
    f.else_();
    f.v128Const(zero).tee(aux).set(aux2);
    // g y in float32 (one rounding, 2^-24 relative, against the kit's bound of 4 rtol times the
    // row's sum of |g y|), summed in float64: 8 ops a vector, not 12
    pairs((off, u) => {
      f.get(py).v128Load(off).tee(v).get(pg).v128Load(off).simd(F.mul).set(w);
      accumulate(u);
      f.get(X[u]).get(v).simd(F.abs).simd(F.add).set(X[u]);
    });
    f.get(aux).get(aux2).simd(F.add).set(aux);
    f.get(stats);
    lanesSum(f, aux);
    f.f32Store(4);
    f.end();
    f.get(acc0).get(acc2).simd(F64_ADD).set(acc0);
    f.get(acc1).get(acc3).simd(F64_ADD).set(acc1);
    // S = the float64 sum, rounded to float32
    f.get(stats).get(acc0).get(acc1).simd(F64_ADD).tee(acc0).f64x2ExtractLane(0).get(acc0).f64x2ExtractLane(1).f64Add().op(0xb6).f32Store(); // f32.demote_f64
    f.get(stats).v128Load32Splat(0).set(sv);
    f.get(log).if_();
    pairs((off) => {
      f.get(po).get(pg).v128Load(off).get(py).v128Load(off);
      emitExp(f, k, z, t, s, r, true);
      f.get(sv).simd(F.mul).simd(F.sub).v128Store(off);
    });
    f.else_();
    pairs((off) => void f.get(po).get(py).v128Load(off).get(pg).v128Load(off).get(sv).simd(F.sub).simd(F.mul).v128Store(off));
    f.end();
    f.get(ld4).get(n).i32Sub().set(c);
    countdown(f, c, [[po, 16]], () => void f.get(po).v128Const(zero).v128Store());
    const next = (p: number): void => void f.get(p).get(ld4).i32(4).i32Shl().i32Add().set(p);
    next(g);
    next(y);
    next(o);
  });
}

/** The module's exports. */
interface SoftmaxExports {
  /** Returns the number of rows whose max is +Infinity or whose sum is NaN (JS computes them again). */
  fwd(x: number, out: number, rows: number, ld4: number, lens: number, stats: number, tbl: number, scale: number): number;
  bwd(g: number, y: number, out: number, rows: number, ld4: number, lens: number, stats: number, tbl: number, log: number): void;
}

/** @internal The softmax module on a runtime's memory (built at first use; exported for the benches). */
export const softmaxModule = lazyModule<SoftmaxExports>((mb) => {
  mb.func("fwd", [I32, I32, I32, I32, I32, I32, I32, I32], [I32], fwdKernel);
  mb.func("bwd", [I32, I32, I32, I32, I32, I32, I32, I32, I32], [], bwdKernel);
});

/** Exposed for tests: the module's size in bytes (below Chrome's 4 KB limit for synchronous compilation). */
export function softmaxModuleBytes(): number {
  return softmaxModule.bytes();
}

/** The rows of a softmax call: dense float32 along the last axis, or null where the wasm path does not apply. */
interface Rows {
  rows: number;
  cols: number;
  /** Floats between rows in wasm memory (cols rounded up to whole vectors). */
  ld: number;
  /** Rows per block (about CHUNK floats). */
  br: number;
  /** The number of leading entries of row r that may take part (causal: min(cols, i + 1)). */
  active(r: number): number;
  /** The mask's storage offset of each row, and its step along the row (null: no mask). */
  maskAt: Int32Array | null;
  maskStep: number;
}

function rowsOf(x: View, axis: number, mask: View | null, causal: boolean, ...others: View[]): Rows | null {
  const nd = x.shape.length;
  if (axis !== nd - 1 || ![x, ...others].every((v) => v.storage instanceof Float32Array && isDense(v.shape, v))) return null;
  const n = numel(x.shape);
  if (n < ELEMENTWISE_MIN) return null;
  const cols = x.shape[axis]!;
  const ld = Math.ceil(cols / 4) * 4;
  const L = causal ? x.shape[nd - 2]! : 0;
  return {
    rows: n / cols,
    cols,
    ld,
    br: Math.max(1, Math.floor(CHUNK / ld)),
    active: causal ? (r) => Math.min(cols, (r % L) + 1) : () => cols,
    maskAt: mask ? offsetsOf(x.shape.map((s, d) => (d === axis ? 1 : s)), mask.strides, mask.offset) : null,
    maskStep: mask ? mask.strides[axis]! : 0,
  };
}

/**
 * Per row of a block copied into wasm memory (rows `ld` floats apart from float index `at` in each
 * buffer): write `fill[b]` into buffer b where an entry takes no part (masked; past the active
 * entries up to whole vectors, and up to ld where `whole`), and the vectors each row runs as int32
 * at `lens`.
 */
function maskRows(H: Float32Array, I: Int32Array, p: Rows, mask: View | null, r0: number, nr: number, at: readonly number[], fill: readonly number[], lens: number, whole: boolean): void {
  const { ld, maskAt, maskStep } = p;
  const M = mask?.storage;
  for (let i = 0; i < nr; i++) {
    const a = p.active(r0 + i);
    const nv = Math.ceil(a / 4);
    I[lens + i] = nv;
    for (let b = 0; b < at.length; b++) {
      const row = at[b]! + i * ld;
      const v = fill[b]!;
      if (M) for (let j = 0, mo = maskAt![r0 + i]!; j < a; j++, mo += maskStep) if (M[mo] === 0) H[row + j] = v;
      const to = row + (whole ? ld : 4 * nv);
      // NOTE: a loop for the few floats of a partial vector (a fill call per row cost more than the kernel on causal rows of 64)
      if (to - a - row < 8) for (let j = row + a; j < to; j++) H[j] = v;
      else H.fill(v, row + a, to);
    }
  }
}

/** Copy rows r0 .. r0 + nr of src into wasm memory at float index `at`, `ld` floats apart. */
function copyIn(H: Float32Array, p: Rows, src: Float32Array, r0: number, nr: number, at: number): void {
  const { cols, ld } = p;
  if (ld === cols) H.set(src.subarray(r0 * cols, (r0 + nr) * cols), at);
  else for (let i = 0; i < nr; i++) H.set(src.subarray((r0 + i) * cols, (r0 + i + 1) * cols), at + i * ld);
}

/** Copy rows r0 .. r0 + nr out of wasm memory (at float index `at`) into dst. */
function copyOut(H: Float32Array, p: Rows, dst: Float32Array, r0: number, nr: number, at: number): void {
  const { cols, ld } = p;
  if (ld === cols) dst.set(H.subarray(at, at + nr * cols), r0 * cols);
  else for (let i = 0; i < nr; i++) dst.set(H.subarray(at + i * ld, at + i * ld + cols), (r0 + i) * cols);
}

/**
 * Softmax / log-softmax of float32 x along its last axis, masked (`mask`: bool of x's shape, stride
 * 0 where broadcast) and causal as the reference's maskedSoftmax; null where the wasm path does not
 * apply (another axis, a strided view, a small tensor).
 */
export function maskedSoftmaxWasm(rt: WasmRuntime, x: View, axis: number, log: boolean, mask: View | null, causal: boolean): Float32Array | null {
  const p = rowsOf(x, axis, mask, causal);
  if (!p) return null;
  const { rows, cols, ld, br } = p;
  const xs = (x.storage as Float32Array).subarray(x.offset, x.offset + rows * cols);
  const mod = softmaxModule.on(rt);
  const xb = rt.base;
  // softmax runs in place (one buffer of the block in cache); log-softmax reads x again after the exp
  const ob = log ? xb + 4 * br * ld : xb;
  const lens = xb + 8 * br * ld;
  const stats = lens + 4 * br;
  const tbl = stats + 8 * br;
  const aff = tbl + 4 * SOFTMAX_EXP.length;
  const H = rt.heap(aff + 16 * br);
  const I = new Int32Array(rt.memory.buffer);
  H.set(SOFTMAX_EXP, tbl >> 2);
  const S = new Float32Array(rt.memory.buffer, stats, 2 * br);
  const res = takeUninit("float32", rows * cols);
  const whole = !(mask || causal || ld !== cols);
  // every row runs all its vectors: the lengths once for all blocks
  if (whole) I.fill(ld / 4, lens >> 2, (lens >> 2) + br);
  for (let r0 = 0; r0 < rows; r0 += br) {
    const nr = Math.min(br, rows - r0);
    copyIn(H, p, xs, r0, nr, xb >> 2);
    // log-softmax subtracts from every entry of the row (the rest must be -Infinity); softmax zeroes the rest
    if (!whole) maskRows(H, I, p, mask, r0, nr, [xb >> 2], [-Infinity], lens >> 2, log);
    const bad = mod.fwd(xb, ob, nr, ld / 4, lens, stats, tbl, log ? 0 : 1);
    if (log) {
      const A = new Float32Array(rt.memory.buffer, aff, 4 * nr);
      for (let i = 0; i < nr; i++) {
        const [m, sum] = [S[2 * i]!, S[2 * i + 1]!];
        A[4 * i] = Math.abs(m) === Infinity ? 0 : m;
        A[4 * i + 1] = sum !== 0 ? Math.log(sum) : 0;
        A[4 * i + 2] = 1;
      }
      rt.math.rowAffine(xb, ob, nr, ld, aff);
    }
    // a row whose max is +Infinity (the reference shifts by 0: exp overflows) or whose sum is NaN: the
    // reference's rule (NaN where entries take part, exact 0 / -Infinity where they do not)
    if (bad > 0) for (let i = 0; i < nr; i++)
      if (S[2 * i] === Infinity || S[2 * i + 1] !== S[2 * i + 1]) forwardRow(xs, (r0 + i) * cols, H, (ob >> 2) + i * ld, cols, log, onOf(p, mask, r0 + i));
    copyOut(H, p, res, r0, nr, ob >> 2);
  }
  return res;
}

/** Whether entry j of row r takes part. */
function onOf(p: Rows, mask: View | null, r: number): (j: number) => boolean {
  const a = p.active(r);
  const M = mask?.storage;
  const mo = p.maskAt?.[r] ?? 0;
  return (j) => j < a && (!M || M[mo + j * p.maskStep] !== 0);
}

/** One row of the forward by the reference's rule, in float64. */
function forwardRow(X: Float32Array, b: number, H: Float32Array, o: number, cols: number, log: boolean, on: (j: number) => boolean): void {
  let m = -Infinity;
  for (let k = 0; k < cols && m === m; k++) if (on(k) && (X[b + k]! > m || X[b + k] !== X[b + k])) m = X[b + k]!;
  const shift = Math.abs(m) === Infinity ? 0 : m;
  let sum = 0;
  for (let k = 0; k < cols; k++) if (on(k)) sum += Math.exp(X[b + k]! - shift);
  const ls = Math.log(sum);
  for (let k = 0; k < cols; k++) H[o + k] = !on(k) || sum === 0 ? (log ? -Infinity : 0) : log ? X[b + k]! - shift - ls : Math.exp(X[b + k]! - shift) / sum;
}

/**
 * The gradient of (masked) softmax / log-softmax along the last axis, as the reference's
 * softmaxBackward, for dense float32 g and y; null where the wasm path does not apply.
 */
export function softmaxBackwardWasm(rt: WasmRuntime, g: View, y: View, axis: number, log: boolean, mask: View | null, causal: boolean): Float32Array | null {
  const p = rowsOf(y, axis, mask, causal, g);
  if (!p) return null;
  const { rows, cols, ld, br } = p;
  const gs = (g.storage as Float32Array).subarray(g.offset, g.offset + rows * cols);
  const ys = (y.storage as Float32Array).subarray(y.offset, y.offset + rows * cols);
  const mod = softmaxModule.on(rt);
  const gb = rt.base;
  const yb = gb + 4 * br * ld;
  const ob = yb + 4 * br * ld;
  const lens = ob + 4 * br * ld;
  const stats = lens + 4 * br;
  const tbl = stats + 8 * br;
  const H = rt.heap(tbl + 4 * SOFTMAX_EXP.length);
  const I = new Int32Array(rt.memory.buffer);
  H.set(SOFTMAX_EXP, tbl >> 2);
  const res = takeUninit("float32", rows * cols);
  const dead = log ? -Infinity : 0;
  for (let r0 = 0; r0 < rows; r0 += br) {
    const nr = Math.min(br, rows - r0);
    copyIn(H, p, gs, r0, nr, gb >> 2);
    copyIn(H, p, ys, r0, nr, yb >> 2);
    if (mask || causal || ld !== cols) maskRows(H, I, p, mask, r0, nr, [gb >> 2, yb >> 2], [0, dead], lens >> 2, false);
    else I.fill(ld / 4, lens >> 2, (lens >> 2) + nr);
    mod.bwd(gb, yb, ob, nr, ld / 4, lens, stats, tbl, log ? 1 : 0);
    const S = new Float32Array(rt.memory.buffer, stats, 2 * nr);
    // a dead row (y all 0, log: all -Infinity) or a sum that is not finite: the reference's rule,
    // which gives exact zeros where entries take no part
    for (let i = 0; i < nr; i++)
      if (!Number.isFinite(S[2 * i]!) || S[2 * i + 1] === dead) {
        backwardRow(gs, ys, (r0 + i) * cols, H, (ob >> 2) + i * ld, cols, log, onOf(p, mask, r0 + i));
      }
    copyOut(H, p, res, r0, nr, ob >> 2);
  }
  return res;
}

/** One row of the backward by the reference's rule (float64 sum; dead rows and inactive entries 0). */
function backwardRow(G: Float32Array, Y: Float32Array, b: number, H: Float32Array, o: number, cols: number, log: boolean, on: (j: number) => boolean): void {
  let sum = 0;
  let live = false;
  for (let k = 0; k < cols; k++) {
    if (!on(k)) continue;
    const yk = Y[b + k]!;
    sum += log ? G[b + k]! : G[b + k]! * yk;
    if (yk !== (log ? -Infinity : 0)) live = true;
  }
  for (let k = 0; k < cols; k++) H[o + k] = !live || !on(k) ? 0 : log ? G[b + k]! - Math.exp(Y[b + k]!) * sum : Y[b + k]! * (G[b + k]! - sum);
}
