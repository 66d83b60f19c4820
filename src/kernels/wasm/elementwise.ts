/**
 * The wasm backend's elementwise ops, Adam and dtype copies: each lays its operands out from
 * `rt.base` (the first byte after the control block, or higher while a terminated worker may still
 * write: see WasmRuntime.base), runs a kernel and copies the result out (the Backend contract:
 * fresh arrays).
 * Each returns null where its kernels do not apply (the caller falls back to js-fast).
 */
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { numel } from "../../tensor/shape.js";
// every output below is written whole: it may come from the pool of recycled gradients
import { takeUninit } from "../../tensor/pool.js";
import type { AdamConstants, BinaryOp, ReduceOp, UnaryOp, View } from "../backend.js";
import { isDense } from "../js/runs.js";
import { FuncBuilder, I32 } from "./emit.js";
import { COMPARE, ERF_CONSTANTS, ROW_OPS } from "./math.js";
import { lazyModule, roundUp, type WasmRuntime } from "./runtime.js";

/** Below this many elements the copy-in/copy-out costs more than the kernel saves. */
export const ELEMENTWISE_MIN = 256;

export function denseF32(v: View): Float32Array | null {
  if (!(v.storage instanceof Float32Array) || !isDense(v.shape, v)) return null;
  return v.storage.subarray(v.offset, v.offset + numel(v.shape));
}

/**
 * The length p of the block that a float32 view repeats: its trailing dims are contiguous (p
 * elements) and its leading dims broadcast (stride 0). A bias [C] expanded to [N, C] has p = C,
 * a broadcast scalar p = 1, a dense view p = numel. 0 when the view is not laid out so.
 */
function period(v: View): number {
  if (!(v.storage instanceof Float32Array)) return 0;
  let p = 1;
  let d = v.shape.length - 1;
  for (; d >= 0 && (v.strides[d] === p || v.shape[d] === 1); d--) p *= v.shape[d]!;
  for (; d >= 0; d--) if (v.strides[d] !== 0 && v.shape[d] !== 1) return 0;
  return p;
}

/**
 * The streaming elementwise kernels (f32x4 opcode, arity): out = op(a, b) or op(x), 16 floats (four
 * vectors) a step, as a do-while loop with one compare a step; the caller pads to whole steps (the
 * padding's results are not copied out). kernels.ts's take a vector a step with a counter, a test
 * and two branches: 0.13 ns/elem for add on data in cache against 0.04 here, while the copies in
 * and out (L3 bandwidth) cost 0.42.
 * relu is pmax(x, +0) + +0: x < 0 ? +0 : x keeps NaN, and the add turns -0 into +0.
 */
const STREAM: Record<string, [number, number]> = {
  add: [0xe4, 2], sub: [0xe5, 2], mul: [0xe6, 2], div: [0xe7, 2],
  neg: [0xe1, 1], abs: [0xe0, 1], sqrt: [0xe3, 1], relu: [0xeb, 0], square: [0xe6, 3],
};

function streamKernel(f: FuncBuilder, vop: number, arity: number): void {
  const [a, b, o, n] = arity === 2 ? [0, 1, 2, 3] : [0, 0, 1, 2];
  const end = f.local(I32);
  const zero = new Array<number>(16).fill(0);
  f.get(a).get(n).i32(64).i32Mul().i32Add().set(end);
  f.loop();
  for (let off = 0; off < 64; off += 16) {
    f.get(o).get(a).v128Load(off);
    if (arity === 2) f.get(b).v128Load(off);
    if (arity === 3) f.get(a).v128Load(off);
    if (arity === 0) f.v128Const(zero);
    f.simd(vop);
    if (arity === 0) f.v128Const(zero).simd(0xe4);
    f.v128Store(off);
  }
  for (const p of arity === 2 ? [a, b, o] : [a, o]) f.get(p).i32(64).i32Add().set(p);
  f.get(a).get(end).i32LtU().brIf(0);
  f.end();
}

/** The streaming kernels' module, on a runtime's memory (built at first use). */
const streamModule = lazyModule<Record<string, (...args: number[]) => void>>((mb) => {
  for (const [name, [vop, arity]] of Object.entries(STREAM)) mb.func(name, arity === 2 ? [I32, I32, I32, I32] : [I32, I32, I32], [], (f) => streamKernel(f, vop, arity));
});

/** Exposed for tests: the streaming module's size in bytes (below Chrome's 4 KB limit for synchronous compilation). */
export function streamModuleBytes(): number {
  return streamModule.bytes();
}

/**
 * Floats per operand that one chunk of an elementwise call lays out in wasm memory: 64 KB each, so
 * a chunk's operands and result stay in L2 between the copy in, the kernel and the copy out (whole
 * arrays of 4 MB went through memory three times).
 */
export const CHUNK = 16384;

export function unaryWasm(rt: WasmRuntime, op: UnaryOp, x: View): Float32Array | null {
  const vec = op === "exp" || op === "erf";
  const st = STREAM[op] ? streamModule.on(rt)[op] : undefined;
  const fn = vec || st ? null : rt.k[op];
  const xs = fn || vec || st ? denseF32(x) : null;
  if (!xs || xs.length < ELEMENTWISE_MIN) return null;
  const n = xs.length;
  // chunks of CHUNK floats (whole steps of 16: the kernels run on them; the last one's padding is discarded)
  const c = Math.min(CHUNK, roundUp(n, 16));
  const o = rt.base + 4 * c;
  const tbl = o + 4 * c;
  const H = rt.heap(tbl + 4 * ERF_CONSTANTS.length);
  if (op === "erf") H.set(ERF_CONSTANTS, tbl >> 2);
  const out = takeUninit("float32", n);
  for (let i = 0; i < n; i += c) {
    const m = Math.min(c, n - i);
    H.set(xs.subarray(i, i + m), rt.base >> 2);
    if (st) st(rt.base, o, roundUp(m, 16) / 16);
    else if (fn) fn(rt.base, o, m);
    else if (op === "exp") rt.math.exp(rt.base, o, roundUp(m, 4) / 4);
    else rt.math.erf(rt.base, o, roundUp(m, 4) / 4, tbl);
    out.set(H.subarray(o >> 2, (o >> 2) + m), i);
  }
  return out;
}

/**
 * For a float32 view that is one value per row (its trailing dims broadcast, stride 0: a mean, a
 * row sum expanded to the row), the row length; 0 otherwise. Its leading dims must be a dense
 * vector of the row values.
 */
function rowLength(v: View): number {
  if (!(v.storage instanceof Float32Array)) return 0;
  let cols = 1;
  let d = v.shape.length - 1;
  for (; d >= 0 && (v.strides[d] === 0 || v.shape[d] === 1); d--) cols *= v.shape[d]!;
  if (cols === 1) return 0;
  let p = 1;
  for (; d >= 0; d--) {
    if (v.shape[d] === 1) continue;
    if (v.strides[d] !== p) return 0;
    p *= v.shape[d]!;
  }
  // one row (a broadcast scalar) is binaryWasm's period 1
  return p > 1 ? cols : 0;
}

/** a op b for b one value per row (see rowLength), rows of whole vectors, in row blocks of about CHUNK floats. */
function rowBinaryWasm(rt: WasmRuntime, op: keyof typeof ROW_OPS, as: Float32Array, b: View, cols: number): Float32Array {
  const n = as.length;
  const rows = n / cols;
  const br = Math.max(1, Math.floor(CHUNK / cols));
  const at = rt.base;
  const ot = at + 4 * br * cols;
  const rt0 = ot + 4 * br * cols;
  const H = rt.heap(rt0 + 4 * rows);
  H.set(b.storage.subarray(b.offset, b.offset + rows) as Float32Array, rt0 >> 2);
  const out = takeUninit("float32", n);
  const fn = rt.math[`row_${op}`]!;
  for (let r0 = 0; r0 < rows; r0 += br) {
    const m = Math.min(br, rows - r0) * cols;
    H.set(as.subarray(r0 * cols, r0 * cols + m), at >> 2);
    fn(at, rt0 + 4 * r0, ot, m / cols, cols / 4);
    out.set(H.subarray(ot >> 2, (ot >> 2) + m), r0 * cols);
  }
  return out;
}

export function binaryWasm(rt: WasmRuntime, op: BinaryOp, a: View, b: View, outDtype: DType): TypedArray | null {
  if (op === "add" || op === "sub" || op === "mul" || op === "div") {
    const cols = rowLength(b);
    const as = cols > 0 && cols % 4 === 0 && outDtype === "float32" ? denseF32(a) : null;
    if (as && as.length >= ELEMENTWISE_MIN) return rowBinaryWasm(rt, op, as, b, cols);
  }
  const cmp = COMPARE[op];
  const st = STREAM[op] ? streamModule.on(rt)[op] : undefined;
  const fn = cmp === undefined ? rt.k[op] : rt.math[op];
  if (!fn || outDtype !== (cmp === undefined ? "float32" : "bool")) return null;
  const as = denseF32(a);
  const p = period(b);
  const n = as?.length ?? 0;
  if (!as || p === 0 || n < ELEMENTWISE_MIN) return null;
  const w = cmp === undefined ? 4 : 1; // output bytes per element: float32 or bool
  const out = w === 4 ? takeUninit("float32", n) : new Uint8Array(n);
  const dense = p === n;
  // chunks of about CHUNK floats; b's block repeated to a chunk once (a whole number of periods),
  // or, dense, copied chunk by chunk beside a's
  // (a broadcast b: no more periods than the output needs, so a scalar times 256 floats fills 256, not CHUNK)
  const c = dense ? Math.min(n, CHUNK) : p * Math.max(1, Math.min(Math.ceil(n / p), Math.floor(CHUNK / p)));
  const at = rt.base;
  const bt = at + 4 * c;
  const ot = bt + 4 * c;
  // the streaming kernels run whole steps of 16 floats: past c they read the next buffer's floats and write padding
  const H = rt.heap(ot + 4 * roundUp(c, 16));
  const bs = b.storage.subarray(b.offset, b.offset + p) as Float32Array;
  if (!dense) {
    // b's block repeated by doubling (one H.set per period cost 0.6-0.9 ms for a broadcast scalar)
    const B = bt >> 2;
    if (p === 1) H.fill(bs[0]!, B, B + c);
    else {
      H.set(bs, B);
      for (let k = p; k < c; k *= 2) H.copyWithin(B + k, B, B + Math.min(k, c - k));
    }
  }
  const O = w === 4 ? H.subarray(ot >> 2, (ot >> 2) + c) : new Uint8Array(rt.memory.buffer, ot, c);
  for (let i = 0; i < n; i += c) {
    const m = Math.min(c, n - i);
    H.set(as.subarray(i, i + m), at >> 2);
    if (dense) H.set(bs.subarray(i, i + m), bt >> 2);
    if (st) st(at, bt, ot, roundUp(m, 16) / 16);
    else fn(at, bt, ot, m);
    out.set(m === c ? O : O.subarray(0, m), i);
  }
  return out;
}

/**
 * Float32 sums over trailing axes (each output sums one contiguous row: the `sum` kernel, in
 * float64 as the reference) or over leading axes (each output sums a column, e.g. a bias gradient:
 * the `colsum` kernel, also in float64).
 */
export function reduceWasm(rt: WasmRuntime, op: ReduceOp, x: View, axes: readonly number[]): Float32Array | null {
  const xs = op === "sum" ? denseF32(x) : null;
  const nd = x.shape.length;
  const k = axes.length;
  const n = xs?.length ?? 0;
  if (!xs || n < ELEMENTWISE_MIN || k === 0) return null;
  const o = rt.base >> 2;
  if (axes.every((d, i) => d === nd - k + i)) {
    const rowLen = numel(x.shape.slice(nd - k));
    const rows = n / rowLen;
    rt.heap(rt.base + 4 * n).set(xs, o);
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) out[r] = rt.k.sum(rt.base + 4 * r * rowLen, rowLen);
    return out;
  }
  // a column sum (a bias gradient) of rows of whole float pairs, in float64 as the reference
  const cols = numel(x.shape.slice(k));
  if (!axes.every((d, i) => d === i) || cols % 2) return null;
  const acc = rt.base + 4 * n;
  rt.heap(acc + 8 * cols).set(xs, o);
  const A = new Float64Array(rt.memory.buffer, acc, cols).fill(0);
  rt.math.colsum(rt.base, acc, n / cols, cols / 2);
  return Float32Array.from(A);
}

/** Adam in place on float32 arrays; false where it does not apply. */
export function adamWasm(rt: WasmRuntime, p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, c: AdamConstants): boolean {
  const n = p.length;
  if (!(p instanceof Float32Array && g instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array) || n < ELEMENTWISE_MIN) return false;
  const np = roundUp(n, 4);
  const o = rt.base >> 2;
  const H = rt.heap(rt.base + 16 * np);
  H.set(p, o);
  H.set(g, o + np);
  H.set(m, o + 2 * np);
  H.set(v, o + 3 * np);
  rt.math.adam(rt.base, rt.base + 4 * np, rt.base + 8 * np, rt.base + 12 * np, np / 4, c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.bias2Sqrt, c.eps, c.negStep, c.decay, c.sign);
  p.set(H.subarray(o, o + n));
  m.set(H.subarray(o + 2 * np, o + 2 * np + n));
  v.set(H.subarray(o + 3 * np, o + 3 * np + n));
  return true;
}
