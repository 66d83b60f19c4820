/**
 * The wasm backend's elementwise ops, Adam and dtype copies: each lays its operands out from
 * `rt.base` (the first byte after the control block, or higher while a terminated worker may still
 * write: see WasmRuntime.base), runs a kernel and copies the result out (the Backend contract:
 * fresh arrays).
 * Each returns null where its kernels do not apply (the caller falls back to js-fast).
 */
import type { DType, TypedArray } from "../../tensor/dtype.js";
import { numel } from "../../tensor/shape.js";
import type { AdamConstants, BinaryOp, ReduceOp, UnaryOp, View } from "../backend.js";
import { isDense } from "../js/runs.js";
import { COMPARE } from "./math.js";
import { roundUp, type WasmRuntime } from "./runtime.js";

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

export function unaryWasm(rt: WasmRuntime, op: UnaryOp, x: View): Float32Array | null {
  const fn = op === "exp" ? null : rt.k[op];
  const xs = fn || op === "exp" ? denseF32(x) : null;
  if (!xs || xs.length < ELEMENTWISE_MIN) return null;
  const n = xs.length;
  // exp runs on whole vectors: the output starts after the input rounded up to 4
  const np = roundUp(n, 4);
  const H = rt.heap(rt.base + 8 * np);
  H.set(xs, rt.base >> 2);
  if (fn) fn(rt.base, rt.base + 4 * np, n);
  else rt.math.exp(rt.base, rt.base + 4 * np, np / 4);
  return H.slice((rt.base >> 2) + np, (rt.base >> 2) + np + n);
}

export function binaryWasm(rt: WasmRuntime, op: BinaryOp, a: View, b: View, outDtype: DType): TypedArray | null {
  const cmp = COMPARE[op];
  const fn = cmp === undefined ? rt.k[op] : rt.math[op];
  if (!fn || outDtype !== (cmp === undefined ? "float32" : "bool")) return null;
  const as = denseF32(a);
  const p = period(b);
  const n = as?.length ?? 0;
  if (!as || p === 0 || n < ELEMENTWISE_MIN) return null;
  const row = b.storage.subarray(b.offset, b.offset + p) as Float32Array;
  // b's block, repeated to at least 1024 floats so each kernel call has some length
  const chunk = p === n ? n : p * Math.ceil(1024 / p);
  const o = rt.base >> 2;
  const H = rt.heap(rt.base + 4 * (n + chunk + n));
  H.set(as, o);
  for (let i = 0; i < chunk; i += p) H.set(row, o + n + i);
  const out = rt.base + 4 * (n + chunk);
  const w = cmp === undefined ? 4 : 1; // output bytes per element: float32 or bool
  for (let i = 0; i < n; i += chunk) fn(rt.base + 4 * i, rt.base + 4 * n, out + w * i, Math.min(chunk, n - i));
  return w === 4 ? H.slice(out >> 2, (out >> 2) + n) : new Uint8Array(rt.memory.buffer, out, n).slice();
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

/**
 * Softmax / log-softmax of a dense float32 tensor along its last axis (rows of whole vectors): one
 * pass for the max, one for exp and its sum, one to scale or subtract.
 */
export function softmaxWasm(rt: WasmRuntime, x: View, axis: number, log: boolean): Float32Array | null {
  const xs = denseF32(x);
  const n = xs?.length ?? 0;
  const cols = x.shape[axis]!;
  // rows of whole vectors (short rows, such as a 10-class head, stay in JS)
  if (!xs || axis !== x.shape.length - 1 || n < ELEMENTWISE_MIN || cols % 4 || cols < 32) return null;
  const rows = n / cols;
  const out = rt.base + 4 * n;
  const stats = out + 4 * n;
  const tbl = stats + 16 * rows;
  const H = rt.heap(tbl + 16 * rows);
  H.set(xs, rt.base >> 2);
  rt.math.softmax(rt.base, out, rows, cols, stats);
  const S = new Float64Array(rt.memory.buffer, stats, 2 * rows);
  // log-softmax: x - shift - log(sum), as PyTorch; softmax: exp(x - shift) * (1 / sum). A sum of 0
  // is a row of -Infinity (shift 0): (x - 0 - 0) * 1 keeps -Infinity, and exp * 0 gives zeros.
  for (let r = 0, t = tbl >> 2; r < rows; r++, t += 4) {
    const sum = S[2 * r + 1]!;
    H[t] = log ? S[2 * r]! : 0;
    H[t + 1] = log && sum !== 0 ? Math.log(sum) : 0;
    H[t + 2] = log ? 1 : sum !== 0 ? 1 / sum : 0;
  }
  rt.math.rowAffine(log ? rt.base : out, out, rows, cols, tbl);
  return H.slice(out >> 2, (out >> 2) + n);
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
