/**
 * The WASM SIMD kernels, written with the emitter in emit.ts. All pointers are byte
 * addresses into the one imported memory; all element counts are float32 elements.
 *
 * Exports:
 * - `gemm(ap, aK, aP, bp, bK, bP, c, ldc, mp, np, kc, beta)`: C[mp x np] = beta * C + A * B with
 *   A and B addressed by byte strides (packed panels or read in place, see gemmKernel); mp and np
 *   are multiples of MR and NR, ldc is C's row stride in bytes, beta is 0 or 1.
 * - `gemmNT(a, lda, b, ldb, c, ldc, mp, np, kc, beta)`: C[mp x np] = beta * C + A B^T, A [mp, kc]
 *   and B [np, kc] row-major (byte row strides), mp a multiple of NT_MR, np of NT_NR, kc of 4,
 *   beta 0 or 1 (0: C is not read, so it need not be cleared).
 * - `im2col` / `col2im`: one image's column matrix and its adjoint (see im2colKernel).
 * - `add|sub|mul|div|maximum|minimum(a, b, out, n)`: contiguous float32 binary ops, exported under
 *   the Backend op names (see ELEMENTWISE).
 * - `neg|abs|sqrt|relu|square(x, out, n)`: contiguous float32 unary ops.
 * - `sum(x, n) -> f64`: float32 sum accumulated in float64 (as the reference).
 */
import { F64, FuncBuilder, I32, ModuleBuilder, V128, type MemoryImport } from "./emit.js";

/** Emit acc += a * b (v128 locals); with `fma`, as relaxed SIMD's `f32x4.relaxed_madd` (a * b + acc). */
function madd(f: FuncBuilder, fma: boolean, acc: number, a: number, b: number): void {
  if (fma) f.get(a).get(b).get(acc).simd(0x105).set(acc);
  else f.get(acc).get(a).get(b).f32x4Mul().f32x4Add().set(acc);
}

/** Rows of the micro-kernel (broadcast A values). */
export const MR = 4;
/** Columns of the micro-kernel: NV vectors of 4 floats. */
export const NV = 2;
export const NR = 4 * NV;

// NOTE: a 4 x 8 tile needs 8 v128 accumulators + 2 B vectors + 1 broadcast A = 11 of the 16 XMM
// registers V8 allocates on x86-64 (one is its scratch), so the loop runs without spills. 6 x 8
// (15 live) spilled in measurements; FMA is not in the fixed-width SIMD spec, so mul + add (relaxed
// SIMD's FMA is behind a flag in Node 20). Measured in Node 20 on x86-64 (Zen 4), from L1: 4 x 8
// ~44 GFLOP/s of a ~57 mul + add peak; 2 x 16 the same; 5 x 8, 3 x 12 and a k loop unrolled by 2
// at half to two thirds of that (V8 11.3 register allocation).
//
// Operands are addressed by two byte strides each, so one kernel serves packed panels and
// operands read in place: A's MR rows at step k start at `ap + panel * aP + k * aK` (MR
// consecutive floats), B's NR columns at `bp + panel * bP + k * bK` (NR consecutive floats).
// Packed A: aK = 4 MR, aP = 4 MR kc. A^T stored row-major [K, Mp]: aK = 4 Mp, aP = 4 MR.
// Packed B: bK = 4 NR, bP = 4 NR kc. B stored row-major [K, Np]: bK = 4 Np, bP = 4 NR.
export function gemmKernel(f: FuncBuilder, MR: number, NV: number, fma = false): void {
  const NR = 4 * NV;
  const [ap, aK, aP, bp, bK, bP, c, ldc, mp, np, kc, beta] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const jr = f.local(I32);
  const ir = f.local(I32);
  const k = f.local(I32);
  const pa = f.local(I32);
  const pb = f.local(I32);
  const pc = f.local(I32);
  const row = f.local(I32);
  const aPanel = f.local(I32);
  const bPanel = f.local(I32);
  const acc = f.locals(V128, MR * NV);
  const bv = f.locals(V128, NV);
  const av = f.local(V128);
  const zero = f.local(V128); // never set: locals start at 0

  f.i32(0).set(jr);
  f.get(bp).set(bPanel);
  f.loop(); // jr
  f.i32(0).set(ir);
  f.get(ap).set(aPanel);
  f.loop(); // ir
  // pc = c + ir * ldc + jr * 4
  f.get(c).get(ir).get(ldc).i32Mul().i32Add().get(jr).i32(2).i32Shl().i32Add().set(pc);
  f.get(beta).if_();
  f.get(pc).set(row);
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) f.get(row).v128Load(v * 16).set(acc[r * NV + v]!);
    if (r < MR - 1) f.get(row).get(ldc).i32Add().set(row);
  }
  f.else_();
  for (const x of acc) f.get(zero).set(x);
  f.end();
  f.get(aPanel).set(pa);
  f.get(bPanel).set(pb);
  f.get(kc).set(k);
  f.block().loop();
  f.get(k).i32Eqz().brIf(1);
  for (let v = 0; v < NV; v++) f.get(pb).v128Load(v * 16).set(bv[v]!);
  for (let r = 0; r < MR; r++) {
    f.get(pa).v128Load32Splat(r * 4).set(av);
    for (let v = 0; v < NV; v++) {
      const a = acc[r * NV + v]!;
      madd(f, fma, a, av, bv[v]!);
    }
  }
  f.get(pa).get(aK).i32Add().set(pa);
  f.get(pb).get(bK).i32Add().set(pb);
  f.get(k).i32(1).i32Sub().set(k).br(0);
  f.end().end(); // k
  f.get(pc).set(row);
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) f.get(row).get(acc[r * NV + v]!).v128Store(v * 16);
    if (r < MR - 1) f.get(row).get(ldc).i32Add().set(row);
  }
  f.get(aPanel).get(aP).i32Add().set(aPanel);
  f.get(ir).i32(MR).i32Add().tee(ir).get(mp).i32LtU().brIf(0);
  f.end(); // ir
  f.get(bPanel).get(bP).i32Add().set(bPanel);
  f.get(jr).i32(NR).i32Add().tee(jr).get(np).i32LtU().brIf(0);
  f.end(); // jr
}

/** Rows and columns of the dot-product (NT) micro-kernel's tile. */
export const NT_MR = 4;
export const NT_NR = 2;

// NOTE: C[i, j] += sum_k A[i, k] B[j, k] with both operands row-major along k (x @ W^T in a
// linear layer, gy @ col^T in the conv weight gradient): no packing at all. A 4 x 2 tile keeps 8
// accumulators + 2 B vectors + 1 A vector in registers; each accumulator holds 4 partial sums
// that are added horizontally once per tile. kc must be a multiple of 4. The k loop advances one
// pointer per row rather than indexing each row by k: V8 (11.3, x64) then folds the addresses
// into the loads, 30 -> 40 GFLOP/s.
function gemmNTKernel(f: FuncBuilder, fma: boolean): void {
  const [a, lda, b, ldb, c, ldc, mp, np, kc, beta] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ir = f.local(I32);
  const jr = f.local(I32);
  const end = f.local(I32);
  const pc = f.local(I32);
  const rows = f.locals(I32, NT_NR + NT_MR); // NT_NR rows of B, then NT_MR rows of A
  const acc = f.locals(V128, NT_MR * NT_NR);
  const bv = f.locals(V128, NT_NR);
  const av = f.local(V128);
  const zero = f.local(V128); // never set: locals start at 0
  f.i32(0).set(jr);
  f.loop(); // jr
  f.i32(0).set(ir);
  f.loop(); // ir
  for (let v = 0; v < NT_NR; v++) f.get(b).get(jr).i32(v).i32Add().get(ldb).i32Mul().i32Add().set(rows[v]!);
  for (let r = 0; r < NT_MR; r++) f.get(a).get(ir).i32(r).i32Add().get(lda).i32Mul().i32Add().set(rows[NT_NR + r]!);
  for (const x of acc) f.get(zero).set(x);
  f.get(rows[0]!).get(kc).i32(2).i32Shl().i32Add().set(end);
  // B's NT_NR vectors first, then one A row at a time: 8 accumulators + 2 B + 1 A live
  f.block().loop();
  f.get(rows[0]!).get(end).i32GeU().brIf(1);
  for (let v = 0; v < NT_NR; v++) f.get(rows[v]!).v128Load().set(bv[v]!);
  for (let r = 0; r < NT_MR; r++) {
    f.get(rows[NT_NR + r]!).v128Load().set(av);
    for (let v = 0; v < NT_NR; v++) {
      const x = acc[r * NT_NR + v]!;
      madd(f, fma, x, av, bv[v]!);
    }
  }
  for (const p of rows) f.get(p).i32(16).i32Add().set(p);
  f.br(0);
  f.end().end();
  // C[ir + r, jr + v] = (beta ? C : 0) + horizontal sum of acc[r][v]
  for (let r = 0; r < NT_MR; r++) {
    f.get(c).get(ir).i32(r).i32Add().get(ldc).i32Mul().i32Add().get(jr).i32(2).i32Shl().i32Add().set(pc);
    for (let v = 0; v < NT_NR; v++) {
      const x = acc[r * NT_NR + v]!;
      f.get(pc);
      f.get(pc).f32Load(v * 4).f32Const(0).get(beta).op(0x1b); // select
      f.get(x).f32x4ExtractLane(0).get(x).f32x4ExtractLane(1).f32Add();
      f.get(x).f32x4ExtractLane(2).get(x).f32x4ExtractLane(3).f32Add();
      f.f32Add().f32Add().f32Store(v * 4);
    }
  }
  f.get(ir).i32(NT_MR).i32Add().tee(ir).get(mp).i32LtU().brIf(0);
  f.end(); // ir
  f.get(jr).i32(NT_NR).i32Add().tee(jr).get(np).i32LtU().brIf(0);
  f.end(); // jr
}

/**
 * im2col of one image (one group): col[r, oh * Wo + ow] = x[ci, ih, iw] (0 outside), row r =
 * (ci * kH + kh) * kW + kw at `col + r * ldcol` bytes. `tbl` holds int32 pairs (owLo, owHi) per kw:
 * the output columns whose input column is inside the image. With `add` = 1 it is col2im instead:
 * x[ci, ih, iw] += col[r, ...] (the adjoint; inside-the-image entries only).
 */
function im2colKernel(f: FuncBuilder, add: boolean): void {
  const [x, col, ldcol, Cg, H, W, kH, kW, Ho, Wo, sh, sw, ph, pw, dh, dw, tbl] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const ci = f.local(I32);
  const kh = f.local(I32);
  const kw = f.local(I32);
  const oh = f.local(I32);
  const ow = f.local(I32);
  const ih = f.local(I32);
  const lo = f.local(I32);
  const hi = f.local(I32);
  const hi4 = f.local(I32);
  const dst = f.local(I32); // start of row r of col
  const d = f.local(I32); // start of row oh inside it
  const src = f.local(I32); // x element (ci, ih, shift)
  const swB = f.local(I32);
  f.get(sw).i32(2).i32Shl().set(swB);
  f.get(col).set(dst);
  // for (; ow < end; ow++) row[ow] = 0
  const zerosTo = (end: number): void => {
    f.block().loop();
    f.get(ow).get(end).i32GeS().brIf(1);
    f.get(d).get(ow).i32(2).i32Shl().i32Add().f32Const(0).f32Store();
    f.get(ow).i32(1).i32Add().set(ow).br(0);
    f.end().end();
  };
  const forUp = (i: number, n: number, body: () => void): void => {
    // for (i = 0; i < n; i++) body — n may be 0
    f.i32(0).set(i);
    f.block().loop();
    f.get(i).get(n).i32GeS().brIf(1);
    body();
    f.get(i).i32(1).i32Add().set(i).br(0);
    f.end().end();
  };
  forUp(ci, Cg, () => {
    forUp(kh, kH, () => {
      forUp(kw, kW, () => {
        f.get(tbl).get(kw).i32(3).i32Shl().i32Add().i32Load().set(lo);
        f.get(tbl).get(kw).i32(3).i32Shl().i32Add().i32Load(4).set(hi);
        f.get(hi).i32(3).i32Sub().set(hi4);
        f.get(dst).set(d);
        forUp(oh, Ho, () => {
          // ih = oh * sh - ph + kh * dh
          f.get(oh).get(sh).i32Mul().get(ph).i32Sub().get(kh).get(dh).i32Mul().i32Add().set(ih);
          f.get(ih).get(H).i32LtU().if_();
          // src = x + ((ci * H + ih) * W + kw * dw - pw) * 4
          f.get(x).get(ci).get(H).i32Mul().get(ih).i32Add().get(W).i32Mul().get(kw).get(dw).i32Mul().i32Add().get(pw).i32Sub().i32(2).i32Shl().i32Add().set(src);
          if (!add) {
            // zeros before lo
            f.i32(0).set(ow);
            zerosTo(lo);
          } else f.get(lo).set(ow);
          // the inside run: 4 at a time when sw == 1
          f.get(sw).i32(1).i32Ne().i32Eqz().if_(); // sw == 1
          f.block().loop();
          f.get(ow).get(hi4).i32GeS().brIf(1);
          if (!add) {
            f.get(d).get(ow).i32(2).i32Shl().i32Add();
            f.get(src).get(ow).i32(2).i32Shl().i32Add().v128Load();
            f.v128Store();
          } else {
            f.get(src).get(ow).i32(2).i32Shl().i32Add();
            f.get(src).get(ow).i32(2).i32Shl().i32Add().v128Load();
            f.get(d).get(ow).i32(2).i32Shl().i32Add().v128Load();
            f.f32x4Add().v128Store();
          }
          f.get(ow).i32(4).i32Add().set(ow).br(0);
          f.end().end();
          f.end(); // if sw == 1
          f.block().loop();
          f.get(ow).get(hi).i32GeS().brIf(1);
          if (!add) {
            f.get(d).get(ow).i32(2).i32Shl().i32Add();
            f.get(src).get(ow).get(swB).i32Mul().i32Add().f32Load();
            f.f32Store();
          } else {
            f.get(src).get(ow).get(swB).i32Mul().i32Add();
            f.get(src).get(ow).get(swB).i32Mul().i32Add().f32Load();
            f.get(d).get(ow).i32(2).i32Shl().i32Add().f32Load();
            f.f32Add().f32Store();
          }
          f.get(ow).i32(1).i32Add().set(ow).br(0);
          f.end().end();
          if (!add) {
            zerosTo(Wo);
            f.else_();
            // the whole output row reads the padding
            f.i32(0).set(ow);
            zerosTo(Wo);
          }
          f.end(); // if ih inside
          f.get(d).get(Wo).i32(2).i32Shl().i32Add().set(d);
        });
        f.get(dst).get(ldcol).i32Add().set(dst);
      });
    });
  });
}

/**
 * The contiguous float32 elementwise kernels: name (the Backend op's), f32x4 opcode (after 0xfd), f32 opcode, and the
 * second operand: 2 = a second array (a, b, out, n), 1 = none (x, out, n), 0 = the constant +0
 * (relu = max(x, +0): NaN stays NaN and relu(-0) = +0), 3 = x itself (square = x * x).
 */
const ELEMENTWISE: [string, number, number, number][] = [
  ["add", 0xe4, 0x92, 2], ["sub", 0xe5, 0x93, 2], ["mul", 0xe6, 0x94, 2], ["div", 0xe7, 0x95, 2], ["maximum", 0xe9, 0x97, 2], ["minimum", 0xe8, 0x96, 2],
  ["neg", 0xe1, 0x8c, 1], ["abs", 0xe0, 0x8b, 1], ["sqrt", 0xe3, 0x91, 1], ["relu", 0xe9, 0x97, 0], ["square", 0xe6, 0x94, 3],
];

/** out[i] = op(a[i], b[i]) (or op(x[i])): 4 lanes at a time, then a scalar tail. */
function elementwiseKernel(f: FuncBuilder, vop: number, sop: number, second: number): void {
  const [a, b, o, n] = second === 2 ? [0, 1, 2, 3] : [0, 0, 1, 2];
  for (const w of [4, 1]) {
    const v = w === 4;
    const load = (): FuncBuilder => (v ? f.v128Load() : f.f32Load());
    f.block().loop();
    f.get(n).i32(w).i32LtU().brIf(1);
    f.get(o).get(a);
    load();
    if (second > 1) load.call(f.get(b));
    else if (second === 0) (v ? f.v128Const(new Array<number>(16).fill(0)) : f.f32Const(0));
    (v ? f.simd(vop) : f.op(sop));
    (v ? f.v128Store() : f.f32Store());
    for (const p of second === 2 ? [a, b, o] : [a, o]) f.get(p).i32(4 * w).i32Add().set(p);
    f.get(n).i32(w).i32Sub().set(n).br(0);
    f.end().end();
  }
}

/** (x, n) -> f64: two f64x2 accumulators over promoted low/high halves of each f32x4. */
function sumKernel(f: FuncBuilder): void {
  const [x, n] = [0, 1];
  const acc0 = f.local(V128);
  const acc1 = f.local(V128);
  const v = f.local(V128);
  const s = f.local(F64);
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  f.block().loop();
  f.get(n).i32(4).i32LtU().brIf(1);
  f.get(x).v128Load().set(v);
  f.get(acc0).get(v).f64x2PromoteLowF32x4().f64x2Add().set(acc0);
  f.get(acc1).get(v).get(v).i8x16Shuffle(high).f64x2PromoteLowF32x4().f64x2Add().set(acc1);
  f.get(x).i32(16).i32Add().set(x);
  f.get(n).i32(4).i32Sub().set(n).br(0);
  f.end().end();
  f.get(acc0).get(acc1).f64x2Add().set(acc0);
  f.get(acc0).f64x2ExtractLane(0).get(acc0).f64x2ExtractLane(1).f64Add().set(s);
  f.block().loop();
  f.get(n).i32Eqz().brIf(1);
  f.get(s).get(x).f32Load().f64PromoteF32().f64Add().set(s);
  f.get(x).i32(4).i32Add().set(x);
  f.get(n).i32(1).i32Sub().set(n).br(0);
  f.end().end();
  f.get(s);
}

/** The module bytes. */
/**
 * The GEMM module. With `fma` (where {@link fmaSupported}) the micro-kernels multiply-add with
 * relaxed SIMD's `f32x4.relaxed_madd`: one instruction instead of two and a shorter dependency
 * chain. It may round once (fused) or twice, by platform, as its specification allows; results
 * stay within the float32 tolerance every backend is held to.
 */
export function buildKernelModule(memory: MemoryImport, fma = false): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder(memory);
  m.func("gemm", new Array<typeof I32>(12).fill(I32), [], (f) => gemmKernel(f, MR, NV, fma));
  m.func("gemmNT", new Array<typeof I32>(10).fill(I32), [], (f) => gemmNTKernel(f, fma));
  m.func("im2col", new Array<typeof I32>(17).fill(I32), [], (f) => im2colKernel(f, false));
  m.func("col2im", new Array<typeof I32>(17).fill(I32), [], (f) => im2colKernel(f, true));
  for (const [name, vop, sop, second] of ELEMENTWISE) m.func(name, new Array<typeof I32>(second === 2 ? 4 : 3).fill(I32), [], (f) => elementwiseKernel(f, vop, sop, second));
  m.func("sum", [I32, I32], [F64], sumKernel);
  return m.bytes();
}

export interface KernelExports {
  gemm(ap: number, aK: number, aP: number, bp: number, bK: number, bP: number, c: number, ldc: number, mp: number, np: number, kc: number, beta: number): void;
  gemmNT(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, mp: number, np: number, kc: number, beta: number): void;
  im2col(x: number, col: number, ldcol: number, Cg: number, H: number, W: number, kH: number, kW: number, Ho: number, Wo: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, tbl: number): void;
  col2im(x: number, col: number, ldcol: number, Cg: number, H: number, W: number, kH: number, kW: number, Ho: number, Wo: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number, tbl: number): void;
  sum(x: number, n: number): number;
  [op: string]: (...args: number[]) => number | void;
}
