/**
 * The WASM SIMD kernels, written with the emitter in wasm-emit.ts. All pointers are byte
 * addresses into the one imported memory; all element counts are float32 elements.
 *
 * Exports:
 * - `gemm(ap, bp, c, mp, np, kc, ldc)`: C[mp x np] += Ap * Bp for packed panels (see wasm.ts);
 *   mp and np are multiples of MR and NR, kc >= 1, ldc is C's row stride in bytes.
 * - `add|sub|mul|div|max|min(a, b, out, n)`: contiguous float32 binary ops.
 * - `neg|abs|sqrt|relu|square(x, out, n)`: contiguous float32 unary ops.
 * - `sum(x, n) -> f64`: float32 sum accumulated in float64 (as the reference).
 */
import { F64, FuncBuilder, I32, ModuleBuilder, V128, type MemoryImport } from "./wasm-emit.js";

/** Rows of the micro-kernel (broadcast A values). */
export const MR = 4;
/** Columns of the micro-kernel: NV vectors of 4 floats. */
export const NV = 2;
export const NR = 4 * NV;
/** k steps per loop iteration of the micro-kernel. */
export const UNROLL = 1;

// NOTE: a 4 x 8 tile needs 8 v128 accumulators + 2 B vectors + 1 broadcast A = 11 of the 16 XMM
// registers V8 allocates on x86-64 (one is its scratch), so the loop runs without spills. 6 x 8
// (15 live) spilled in measurements; FMA is not in the fixed-width SIMD spec, so mul + add.
export function gemmKernel(f: FuncBuilder, MR: number, NV: number, unroll = 1): void {
  const NR = 4 * NV;
  const [ap, bp, c, mp, np, kc, ldc] = [0, 1, 2, 3, 4, 5, 6];
  const jr = f.local(I32);
  const ir = f.local(I32);
  const k = f.local(I32);
  const pa = f.local(I32);
  const pb = f.local(I32);
  const pc = f.local(I32);
  const row = f.local(I32);
  const acc: number[] = [];
  for (let i = 0; i < MR * NV; i++) acc.push(f.local(V128));
  const bv: number[] = [];
  for (let v = 0; v < NV; v++) bv.push(f.local(V128));
  const av = f.local(V128);

  f.i32(0).set(jr);
  f.loop(); // jr
  f.i32(0).set(ir);
  f.loop(); // ir
  // pc = c + ir * ldc + jr * 4
  f.get(c).get(ir).get(ldc).i32Mul().i32Add().get(jr).i32(2).i32Shl().i32Add().set(pc);
  f.get(pc).set(row);
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) f.get(row).v128Load(v * 16).set(acc[r * NV + v]!);
    if (r < MR - 1) f.get(row).get(ldc).i32Add().set(row);
  }
  // pa = ap + ir * kc * 4; pb = bp + jr * kc * 4
  f.get(ap).get(ir).get(kc).i32Mul().i32(2).i32Shl().i32Add().set(pa);
  f.get(bp).get(jr).get(kc).i32Mul().i32(2).i32Shl().i32Add().set(pb);
  const step = (u: number): void => {
    for (let v = 0; v < NV; v++) f.get(pb).v128Load(u * NR * 4 + v * 16).set(bv[v]!);
    for (let r = 0; r < MR; r++) {
      f.get(pa).v128Load32Splat(u * MR * 4 + r * 4).set(av);
      for (let v = 0; v < NV; v++) {
        const a = acc[r * NV + v]!;
        f.get(a).get(av).get(bv[v]!).f32x4Mul().f32x4Add().set(a);
      }
    }
  };
  // k loop, `unroll` steps per iteration, then the remainder one step at a time
  f.get(kc).set(k);
  if (unroll > 1) {
    f.block().loop();
    f.get(k).i32(unroll).i32LtU().brIf(1);
    for (let u = 0; u < unroll; u++) step(u);
    f.get(pa).i32(unroll * MR * 4).i32Add().set(pa);
    f.get(pb).i32(unroll * NR * 4).i32Add().set(pb);
    f.get(k).i32(unroll).i32Sub().set(k).br(0);
    f.end().end();
  }
  f.block().loop();
  f.get(k).i32Eqz().brIf(1);
  step(0);
  f.get(pa).i32(MR * 4).i32Add().set(pa);
  f.get(pb).i32(NR * 4).i32Add().set(pb);
  f.get(k).i32(1).i32Sub().set(k).br(0);
  f.end().end(); // k
  f.get(pc).set(row);
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) f.get(row).get(acc[r * NV + v]!).v128Store(v * 16);
    if (r < MR - 1) f.get(row).get(ldc).i32Add().set(row);
  }
  f.get(ir).i32(MR).i32Add().tee(ir).get(mp).i32LtU().brIf(0);
  f.end(); // ir
  f.get(jr).i32(NR).i32Add().tee(jr).get(np).i32LtU().brIf(0);
  f.end(); // jr
}

type BinOp = "add" | "sub" | "mul" | "div" | "max" | "min";
type UnOp = "neg" | "abs" | "sqrt" | "relu" | "square";

function vecBin(f: FuncBuilder, op: BinOp): void {
  if (op === "add") f.f32x4Add();
  else if (op === "sub") f.f32x4Sub();
  else if (op === "mul") f.f32x4Mul();
  else if (op === "div") f.f32x4Div();
  else if (op === "max") f.f32x4Max();
  else f.f32x4Min();
}
function scalarBin(f: FuncBuilder, op: BinOp): void {
  if (op === "add") f.f32Add();
  else if (op === "sub") f.f32Sub();
  else if (op === "mul") f.f32Mul();
  else if (op === "div") f.f32Div();
  else if (op === "max") f.f32Max();
  else f.f32Min();
}

/** (a, b, out, n): out[i] = a[i] op b[i], 4 lanes at a time then a scalar tail. */
function binaryKernel(f: FuncBuilder, op: BinOp): void {
  const [a, b, o, n] = [0, 1, 2, 3];
  f.block().loop();
  f.get(n).i32(4).i32LtU().brIf(1);
  f.get(o).get(a).v128Load().get(b).v128Load();
  vecBin(f, op);
  f.v128Store();
  f.get(a).i32(16).i32Add().set(a).get(b).i32(16).i32Add().set(b).get(o).i32(16).i32Add().set(o);
  f.get(n).i32(4).i32Sub().set(n).br(0);
  f.end().end();
  f.block().loop();
  f.get(n).i32Eqz().brIf(1);
  f.get(o).get(a).f32Load().get(b).f32Load();
  scalarBin(f, op);
  f.f32Store();
  f.get(a).i32(4).i32Add().set(a).get(b).i32(4).i32Add().set(b).get(o).i32(4).i32Add().set(o);
  f.get(n).i32(1).i32Sub().set(n).br(0);
  f.end().end();
}

/** (x, out, n): out[i] = op(x[i]). relu is max(x, +0): NaN stays NaN and relu(-0) = +0. */
function unaryKernel(f: FuncBuilder, op: UnOp): void {
  const [x, o, n] = [0, 1, 2];
  const vec = (): void => {
    if (op === "neg") f.f32x4Neg();
    else if (op === "abs") f.f32x4Abs();
    else if (op === "sqrt") f.f32x4Sqrt();
    else if (op === "relu") f.v128Const(new Array<number>(16).fill(0)).f32x4Max();
  };
  const scalar = (): void => {
    if (op === "neg") f.f32Neg();
    else if (op === "abs") f.f32Abs();
    else if (op === "sqrt") f.f32Sqrt();
    else if (op === "relu") f.f32Const(0).f32Max();
  };
  f.block().loop();
  f.get(n).i32(4).i32LtU().brIf(1);
  f.get(o).get(x).v128Load();
  if (op === "square") f.get(x).v128Load().f32x4Mul();
  else vec();
  f.v128Store();
  f.get(x).i32(16).i32Add().set(x).get(o).i32(16).i32Add().set(o);
  f.get(n).i32(4).i32Sub().set(n).br(0);
  f.end().end();
  f.block().loop();
  f.get(n).i32Eqz().brIf(1);
  f.get(o).get(x).f32Load();
  if (op === "square") f.get(x).f32Load().f32Mul();
  else scalar();
  f.f32Store();
  f.get(x).i32(4).i32Add().set(x).get(o).i32(4).i32Add().set(o);
  f.get(n).i32(1).i32Sub().set(n).br(0);
  f.end().end();
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

export const binaryKernelOps: readonly BinOp[] = ["add", "sub", "mul", "div", "max", "min"];
export const unaryKernelOps: readonly UnOp[] = ["neg", "abs", "sqrt", "relu", "square"];

/** The module bytes. */
export function buildKernelModule(memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder(memory);
  m.func("gemm", [I32, I32, I32, I32, I32, I32, I32], [], (f) => gemmKernel(f, MR, NV, UNROLL));
  for (const op of binaryKernelOps) m.func(op, [I32, I32, I32, I32], [], (f) => binaryKernel(f, op));
  for (const op of unaryKernelOps) m.func(op, [I32, I32, I32], [], (f) => unaryKernel(f, op));
  m.func("sum", [I32, I32], [F64], sumKernel);
  return m.bytes();
}

export interface KernelExports {
  gemm(ap: number, bp: number, c: number, mp: number, np: number, kc: number, ldc: number): void;
  sum(x: number, n: number): number;
  [op: string]: (...args: number[]) => number | void;
}
