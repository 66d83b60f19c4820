/**
 * The second WASM module: kernels that are not GEMM-shaped (the first module, kernels.ts, is
 * at Chrome's 4 KB limit for synchronous compilation). Same imported memory, byte addresses.
 *
 * Exports:
 * - `adam(p, g, m, v, vectors, beta1, 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps, -lr / (1 - beta1^t), decay, sign)`:
 *   Adam in place on float32 arrays, 4 lanes at a time, in float32 arithmetic as PyTorch's float32
 *   Adam (the JS loop in optim/adam.ts rounds to float32 only when it stores).
 * - `eq|ne|lt|le|gt|ge(a, b, out, n)`: float32 comparisons into bytes (bool).
 * - `colsum(x, acc, rows, pairs)`: float64 acc[j] += x[i][j] over rows of `pairs` float pairs.
 * - `erf(x, out, vectors, tbl)`: float32 erf of 4 lanes at a time (a rational approximation, at
 *   most 4 ulp; see js/math.ts's erfFloat32), constants from `tbl` ({@link ERF_CONSTANTS}).
 * - `row_add|row_sub|row_mul|row_div(a, r, out, rows, vecs)`: out[i][j] = a[i][j] op r[i] over rows
 *   of `vecs` f32x4 (a per-row value broadcast along the row).
 * - `exp(x, out, vectors)`: float32 exp of 4 lanes at a time (Cephes expf: range reduction to
 *   [-ln2/2, ln2/2] and a degree-6 polynomial, about 1 ulp; the caller pads to whole vectors).
 * - `rowAffine(x, out, rows, ld, tbl)`: out = (x - a - c) * b per row, (a, c, b, unused) float32
 *   in `tbl`: log-softmax's second pass (shift, log(sum), 1; softmax.ts).
 * - `pack(src, kStride, qStride, pStride, dst, kc, panels, w)`, `packT(src, rowStride, dst, kc / 4, panels, pStride, dk)`:
 *   GEMM micro-panels (see packKernel, packTKernel).
 */
import { countdown, F32, FuncBuilder, I32, ModuleBuilder, V128, type MemoryImport } from "./emit.js";
import { ERF_DEN, ERF_NUM } from "../js/math.js";

// SIMD opcodes (after 0xfd)
const F32X4_SPLAT = 0x13;
const F32X4 = { eq: 0x41, sqrt: 0xe3, add: 0xe4, sub: 0xe5, mul: 0xe6, div: 0xe7, min: 0xe8, max: 0xe9, pmin: 0xea, pmax: 0xeb };
const I32X4 = { shl: 0xab, shrS: 0xac, add: 0xae, sub: 0xb1 };
const ANDNOT = 0x4f;
const PROMOTE = 0x5f;

function adamKernel(f: FuncBuilder): void {
  const [p, g, m, v, n] = [0, 1, 2, 3, 4];
  // splat the parameters 5..13 into locals: b1 c1 b2 c2 bias2Sqrt eps negStep decay sign
  const c = f.locals(V128, 9);
  c.forEach((l, i) => f.get(5 + i).simd(F32X4_SPLAT).set(l));
  const [b1, c1, b2, c2, bs, eps, ns, decay, sign] = c as [number, number, number, number, number, number, number, number, number];
  const [G, M, V, D] = f.locals(V128, 4) as [number, number, number, number];
  countdown(f, n, [[p, 16], [g, 16], [m, 16], [v, 16]], () => {
    f.get(g).v128Load().get(sign).simd(F32X4.mul).set(G);
    f.get(m).get(m).v128Load().get(b1).simd(F32X4.mul).get(c1).get(G).simd(F32X4.mul).simd(F32X4.add).tee(M).v128Store();
    f.get(v).get(v).v128Load().get(b2).simd(F32X4.mul).get(c2).get(G).simd(F32X4.mul).get(G).simd(F32X4.mul).simd(F32X4.add).tee(V).v128Store();
    f.get(V).simd(F32X4.sqrt).get(bs).simd(F32X4.div).get(eps).simd(F32X4.add).set(D);
    // p = p decay + negStep ratio, ratio = m / denom, or +0 where denom == 0 (optim/adam.ts: no NaN from eps = 0)
    f.get(p).get(p).v128Load().get(decay).simd(F32X4.mul);
    f.get(ns).get(M).get(D).simd(F32X4.div).get(D).v128Const(new Array<number>(16).fill(0)).simd(F32X4.eq).simd(ANDNOT).simd(F32X4.mul).simd(F32X4.add).v128Store();
  });
}

/** Scalar f32 comparison opcodes, by Backend op name. */
export const COMPARE: Record<string, number> = { eq: 0x5b, ne: 0x5c, lt: 0x5d, gt: 0x5e, le: 0x5f, ge: 0x60 };

function compareKernel(f: FuncBuilder, opcode: number): void {
  const [a, b, o, n] = [0, 1, 2, 3];
  countdown(f, n, [[a, 4], [b, 4], [o, 1]], () => {
    f.get(o).get(a).f32Load().get(b).f32Load().op(opcode).op(0x3a, 0, 0); // i32.store8
  });
}



/** acc[j] += x[i][j] for every row i: float64 accumulators, rows of `pairs` float pairs. */
function colsumKernel(f: FuncBuilder): void {
  const [x, acc, rows, pairs] = [0, 1, 2, 3];
  const [a, c] = f.locals(I32, 2) as [number, number];
  countdown(f, rows, [], () => {
    f.get(acc).set(a).get(pairs).set(c);
    countdown(f, c, [[a, 16], [x, 8]], () => {
      f.get(a).get(a).v128Load().get(x).simd(0x5d, 3, 0).simd(PROMOTE).simd(0xf0).v128Store(); // v128.load64_zero, f64x2.add
    });
  });
}

/**
 * Byte address of the exp constants (float32, {@link EXP_CONSTANTS}): words 3 to 15 of the control
 * block (threads.ts), which the threads leave alone; word 2 holds this address (see
 * {@link expConstants}).
 */
const EXP_AT = 12;

/** Cephes expf constants: clamp bounds, log2(e), 1.5 2^23 (rounds in an add), ln2 in two parts, the polynomial, then 1. */
export const EXP_CONSTANTS = [
  -104, 89, 1.442695, 12582912, 0.693359375, -2.1219444e-4,
  1.9875691e-4, 1.3981999e-3, 8.333452e-3, 4.1665796e-2, 0.16666666, 0.5, 1,
];

/**
 * The exp constants as v128 locals, for {@link emitExp}.
 * NOTE: splatted from memory, through an address read from memory (word 2), so that V8 knows
 * neither: locals set from constants it rematerializes inside the loop (3 instructions each per
 * use), and for constant addresses it keeps one register per address and spills them. So exp runs
 * 1.7x faster.
 */
function expConstants(f: FuncBuilder): number[] {
  EXP_CONSTANTS.forEach((c, i) => void f.i32(0).f32Const(c).f32Store(EXP_AT + 4 * i));
  const kb = f.local(I32);
  f.i32(8).i32(EXP_AT).op(0x36, 2, 0).i32(8).i32Load().set(kb); // i32.store
  return EXP_CONSTANTS.map((_, i) => {
    const l = f.local(V128);
    f.get(kb).v128Load32Splat(4 * i).set(l);
    return l;
  });
}

/**
 * Emit exp of the f32x4 on the stack (leaves the result on the stack); `r`, `t`, `e` are v128
 * scratch locals. `negative`: the caller guarantees x in [-81, 0] or NaN (GELU's exp), so no
 * clamps and one scale 2^e instead of two (e >= -117: 2^e and the result are normal); the same
 * bits, 8 vector ops fewer.
 */
export function emitExp(f: FuncBuilder, c: number[], r: number, t: number, e: number, negative = false): void {
  const k = (i: number): FuncBuilder => f.get(c[i]!);
  // x = clamp(x, -104, 89); t = x log2(e) + 1.5 2^23 rounds e = nearest(x log2(e)) into its low
  // bits; r = x - e ln2 (in two parts). NOTE: pmax(x, lo) is x < lo ? lo : x, so NaN stays NaN
  // (and is cheaper than the NaN-propagating max).
  if (!negative) k(0).simd(F32X4.pmax);
  if (!negative) k(1).simd(F32X4.pmin);
  f.tee(r);
  k(2).simd(F32X4.mul);
  k(3).simd(F32X4.add).tee(t);
  k(3).simd(F32X4.sub).set(e);
  f.get(r).get(e);
  k(4).simd(F32X4.mul).simd(F32X4.sub).get(e);
  k(5).simd(F32X4.mul).simd(F32X4.sub).set(r);
  // 1 + r + r^2 P(r), P by Horner
  k(6);
  for (let i = 7; i < 12; i++) {
    f.get(r).simd(F32X4.mul);
    k(i).simd(F32X4.add);
  }
  f.get(r).simd(F32X4.mul).get(r).simd(F32X4.mul).get(r).simd(F32X4.add);
  k(12).simd(F32X4.add);
  // times 2^e as 2^(e >> 1) 2^(e - (e >> 1)), both factors normal for e in [-150, 129]; e is the
  // integer bits(t) - bits(1.5 2^23), and the bits of 2^j are (j << 23) + the bits of 1
  f.get(t);
  if (negative) {
    k(3).simd(I32X4.sub).i32(23).simd(I32X4.shl);
    k(12).simd(I32X4.add).simd(F32X4.mul);
    return;
  }
  k(3).simd(I32X4.sub).tee(t).i32(1).simd(I32X4.shrS).tee(e).i32(23).simd(I32X4.shl);
  k(12).simd(I32X4.add).simd(F32X4.mul).get(t).get(e).simd(I32X4.sub).i32(23).simd(I32X4.shl);
  k(12).simd(I32X4.add).simd(F32X4.mul);
}

function expKernel(f: FuncBuilder): void {
  const [x, o, n] = [0, 1, 2];
  const c = expConstants(f);
  const [r, t, e] = f.locals(V128, 3) as [number, number, number];
  countdown(f, n, [[x, 16], [o, 16]], () => {
    f.get(o).get(x).v128Load();
    emitExp(f, c, r, t, e);
    f.v128Store();
  });
}

/**
 * The float32 erf's constants (see js/math.ts, erfFloat32), in the order the kernel reads them
 * from its table: the clamp bounds, the odd numerator by Horner from x^13, the even denominator
 * from x^8.
 */
export const ERF_CONSTANTS = [4, -4, ...ERF_NUM, ...ERF_DEN];

/**
 * erf of 4 lanes at a time: x clamped to [-4, 4] (erf is ±1 in float32 beyond; pmin/pmax keep a
 * NaN), then x (P(x^2) / Q(x^2)). The constants are splatted from `tbl` (a table the caller
 * writes), so V8 does not rematerialize them in the loop.
 */
function erfKernel(f: FuncBuilder): void {
  const [x, o, n, tbl] = [0, 1, 2, 3];
  const c = ERF_CONSTANTS.map((_, i) => {
    const l = f.local(V128);
    f.get(tbl).v128Load32Splat(4 * i).set(l);
    return l;
  });
  const [v, x2] = f.locals(V128, 2) as [number, number];
  const horner = (from: number, count: number): void => {
    f.get(c[from]!);
    for (let i = from + 1; i < from + count; i++) f.get(x2).simd(F32X4.mul).get(c[i]!).simd(F32X4.add);
  };
  countdown(f, n, [[x, 16], [o, 16]], () => {
    f.get(o);
    f.get(x).v128Load().get(c[0]!).simd(F32X4.pmin).get(c[1]!).simd(F32X4.pmax).tee(v).get(v).simd(F32X4.mul).set(x2);
    horner(2, ERF_NUM.length);
    horner(2 + ERF_NUM.length, ERF_DEN.length);
    // x times the ratio (not the numerator times x): a subnormal x is multiplied once, by about 1.13
    f.simd(F32X4.div).get(v).simd(F32X4.mul).v128Store();
  });
}

/** The row ops: out[i][j] = a[i][j] op r[i] (a per-row value, such as a mean or a softmax row sum). */
export const ROW_OPS = { add: F32X4.add, sub: F32X4.sub, mul: F32X4.mul, div: F32X4.div } as const;

/** out = a op r[row] over `rows` rows of `vecs` f32x4 each. */
function rowKernel(f: FuncBuilder, opcode: number): void {
  const [a, r, o, rows, vecs] = [0, 1, 2, 3, 4];
  const sv = f.local(V128);
  const c = f.local(I32);
  countdown(f, rows, [[r, 4]], () => {
    f.get(r).v128Load32Splat(0).set(sv).get(vecs).set(c);
    countdown(f, c, [[a, 16], [o, 16]], () => void f.get(o).get(a).v128Load().get(sv).simd(opcode).v128Store());
  });
}

/** out = (x - a - c) * b over rows of `ld` floats, with (a, c, b, unused) float32 per row in `tbl`. */
function rowAffineKernel(f: FuncBuilder): void {
  const [x, o, rows, ld, tbl] = [0, 1, 2, 3, 4];
  const [a, b, c] = f.locals(V128, 3) as [number, number, number];
  const n = f.local(I32);
  countdown(f, rows, [[tbl, 16]], () => {
    f.get(tbl).v128Load32Splat(0).set(a).get(tbl).v128Load32Splat(4).set(c).get(tbl).v128Load32Splat(8).set(b);
    f.get(ld).i32(2).op(0x76).set(n);
    countdown(f, n, [[x, 16], [o, 16]], () => {
      f.get(o).get(x).v128Load().get(a).simd(F32X4.sub).get(c).simd(F32X4.sub).get(b).simd(F32X4.mul).v128Store();
    });
  });
}

/**
 * GEMM micro-panels: dst (written in order) = src[p pS + k kS + q qS] for p < panels, k < kc,
 * q < w (byte strides, any layout): B's panels have w = NR columns per k, A's w = MR rows. Where
 * the q run is contiguous (qS = 4: a row-major B, a transposed A) it is copied as vectors.
 */
function packKernel(f: FuncBuilder): void {
  const [src, kS, qS, pS, dst, kc, panels, w] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [a, b, k, q] = f.locals(I32, 4) as [number, number, number, number];
  countdown(f, panels, [], () => {
    f.get(src).set(a).get(kc).set(k);
    countdown(f, k, [], () => {
      f.get(a).set(b).get(w).set(q);
      f.get(qS).i32(4).op(0x46).if_(); // i32.eq
      f.get(w).i32(2).op(0x76).set(q); // i32.shr_u: vectors
      countdown(f, q, [[dst, 16], [b, 16]], () => void f.get(dst).get(b).v128Load().v128Store());
      f.else_();
      countdown(f, q, [[dst, 4]], () => void f.get(dst).get(b).f32Load().f32Store().get(b).get(qS).i32Add().set(b));
      f.end();
      f.get(a).get(kS).i32Add().set(a);
    });
    f.get(src).get(pS).i32Add().set(src);
  });
}

/**
 * Micro-panels of a row-major A (MR = 4 rows; row stride `rs` bytes), 4 k at a time by a 4 x 4
 * transpose in registers: for each panel (its first row `pS` bytes after the last's), for each k,
 * the panel's 4 rows at k, `dk` bytes after those of k - 1. A's panels: pS = 4 rs, dk = 16. Half of
 * an NR = 8 wide panel of B^T stored row-major (a transposed key, W^T): pS = 8 rs, dk = 32, called
 * for rows 0-3 at dst and rows 4-7 at dst + 16.
 */
function packTKernel(f: FuncBuilder): void {
  const [src, rs, dst, k4, panels, pS, dk] = [0, 1, 2, 3, 4, 5, 6];
  const [a, k] = f.locals(I32, 2) as [number, number];
  const r = f.locals(V128, 4);
  // float lanes of two vectors (0-3 the first, 4-7 the second) as byte indices
  const lanes = (...l: number[]): number[] => l.flatMap((i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3]);
  countdown(f, panels, [], () => {
    f.get(src).set(a).get(k4).set(k);
    countdown(f, k, [[a, 16]], () => {
      r.forEach((v, i) => void f.get(a).get(rs).i32(i).i32Mul().i32Add().v128Load().set(v));
      // rows 0, 1 and 2, 3 interleaved, then their halves paired: column j of the 4 rows
      const t = [[0, 1, 0, 4, 1, 5], [0, 1, 2, 6, 3, 7], [2, 3, 0, 4, 1, 5], [2, 3, 2, 6, 3, 7]].map(([x, y, ...l]) => () => f.get(r[x!]!).get(r[y!]!).i8x16Shuffle(lanes(...l)));
      [[0, 2, 0, 1, 4, 5], [0, 2, 2, 3, 6, 7], [1, 3, 0, 1, 4, 5], [1, 3, 2, 3, 6, 7]].forEach(([x, y, ...l], j) => {
        f.get(dst);
        t[x!]!();
        t[y!]!();
        f.i8x16Shuffle(lanes(...l)).v128Store();
        f.get(dst).get(dk).i32Add().set(dst);
      });
    });
    f.get(src).get(pS).i32Add().set(src);
  });
}

export function buildMathModule(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder(memory);
  m.func("adam", [I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32, F32], [], adamKernel);
  for (const [name, opcode] of Object.entries(COMPARE)) m.func(name, [I32, I32, I32, I32], [], (f) => compareKernel(f, opcode));
  m.func("colsum", [I32, I32, I32, I32], [], colsumKernel);
  m.func("exp", [I32, I32, I32], [], expKernel);
  m.func("erf", [I32, I32, I32, I32], [], erfKernel);
  for (const [name, opcode] of Object.entries(ROW_OPS)) m.func(`row_${name}`, [I32, I32, I32, I32, I32], [], (f) => rowKernel(f, opcode));
  m.func("rowAffine", [I32, I32, I32, I32, I32], [], rowAffineKernel);
  m.func("pack", [I32, I32, I32, I32, I32, I32, I32, I32], [], packKernel);
  m.func("packT", [I32, I32, I32, I32, I32, I32, I32], [], packTKernel);
  return m.bytes();
}

export interface MathExports {
  adam(p: number, g: number, m: number, v: number, pairs: number, b1: number, c1: number, b2: number, c2: number, bias2Sqrt: number, eps: number, negStep: number, decay: number, sign: number): void;
  colsum(x: number, acc: number, rows: number, pairs: number): void;
  exp(x: number, out: number, vectors: number): void;
  erf(x: number, out: number, vectors: number, tbl: number): void;
  rowAffine(x: number, out: number, rows: number, ld: number, tbl: number): void;
  pack(src: number, kStride: number, qStride: number, pStride: number, dst: number, kc: number, panels: number, w: number): void;
  packT(src: number, rowStride: number, dst: number, k4: number, panels: number, pStride: number, dk: number): void;
  [op: string]: (...args: number[]) => void;
}
