/**
 * GELU in the JS fast backend (issue 18): the forward loops of `unary` "gelu" / "geluTanh" and the
 * fused backward `geluBackward`. NOTE: not the reference's algorithms (reference-gelu.ts), so the
 * conformance kit tests something: float64 builds Φ from js/math.ts's erf and a fixed-depth
 * continued fraction; float32 results from one exp and a polynomial, {@link GELU_Q}, which the wasm
 * kernel (wasm/gelu.ts) evaluates the same way in float32 SIMD.
 *
 * The tails are exact: Φ(x) below 0 is erfc(|x| / √2) / 2 (never 1 + erf, which cancels), gelu(x)
 * is -0 below -40 (-Infinity included) and gelu'(±Infinity) is 1 and -0, as the reference.
 */
import { allocArray, type TypedArray } from "../../tensor/dtype.js";
import { contiguousData, isContiguous } from "../../tensor/layout.js";
import { numel } from "../../tensor/shape.js";
import type { View } from "../backend.js";
import { erf } from "./math.js";

const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;

/**
 * Q(t) ≈ erfc(z) e^(z²) for t = 1 / (1 + z / 2), z = |x| / √2 <= 16 / √2 (t in [0.15, 1]): the
 * coefficients of a degree-10 polynomial in t, highest first, fitted for relative error (8.6e-9 in
 * float64 arithmetic, 2.5e-7 evaluated in float32; scripts/fixtures/gelu.py checks it against
 * math.erfc). So Φ(-|x|) = Q(t) e^(-x²/2) / 2 and φ(x) = e^(-x²/2) / √(2π) share one exp.
 */
export const GELU_Q = [
  0.024092762254798644, -0.18917159937633077, 0.5893460638920328, -0.8935749198894207, 0.6182955849245696, -0.21275037460880666,
  0.2697874909859389, 0.2274243878058368, 0.2846401135890244, 0.28190430255444787, 6.17926824323517e-6,
];

/** erfc(z) for z >= 0 to about 1e-14 relative: 1 - erf(z) below 2, the Laplace continued fraction at depth 40 from 2 on. */
function erfcPos(z: number): number {
  if (z < 2) return 1 - erf(z);
  let f = z;
  for (let n = 40; n >= 1; n--) f = z + n / 2 / f;
  return (Math.exp(-z * z) * INV_SQRT_PI) / f;
}

/** Φ(x) in float64. */
function phi64(x: number): number {
  const e = 0.5 * erfcPos(Math.abs(x) * Math.SQRT1_2);
  return x < 0 ? e : 1 - e;
}

/** gelu(x) = x Φ(x) in float64. */
function gelu64(x: number): number {
  return x < -40 ? -0 : x * phi64(x);
}

/** -0 for a derivative that underflowed below its root (the true value's sign), as the reference. */
const signed = (d: number, x: number): number => (d === 0 && x < 0 ? -0 : d);

/** gelu'(x) = Φ(x) + x φ(x) in float64 (1 / -0 beyond ±40). */
function geluDeriv64(x: number): number {
  if (x > 40) return 1;
  if (x < -40) return -0;
  return signed(phi64(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI, x);
}

const [Q0, Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8, Q9, Q10] = GELU_Q as [number, number, number, number, number, number, number, number, number, number, number];
/** t = 1 / (1 + a / (2√2)): the variable of {@link GELU_Q}. */
const T1 = 0.5 * Math.SQRT1_2;

/** Φ(-a) for a >= 0 from {@link GELU_Q}, in float64 arithmetic (for float32 results). */
function phiNeg32(a: number): number {
  const t = 1 / (1 + T1 * a);
  const q = (((((((((Q0 * t + Q1) * t + Q2) * t + Q3) * t + Q4) * t + Q5) * t + Q6) * t + Q7) * t + Q8) * t + Q9) * t + Q10;
  return 0.5 * Math.exp(-0.5 * a * a) * q;
}

/** gelu(x) for a float32 result: x / 2 below 2^-24 in magnitude. */
function gelu32(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -24) return x * 0.5;
  if (x < -40) return -0;
  const p = phiNeg32(a);
  return x * (x < 0 ? p : 1 - p);
}

/** gelu'(x) for a float32 result. */
function geluDeriv32(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -24) return 0.5;
  if (x > 40) return 1;
  if (x < -40) return -0;
  const p = phiNeg32(a);
  const s = a * Math.exp(-0.5 * a * a) * INV_SQRT_2PI;
  return x < 0 ? signed(p - s, x) : 1 - p + s;
}

/** σ(y) without overflow. */
function sigmoid(y: number): number {
  const e = Math.exp(-Math.abs(y));
  return y >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** The tanh approximation x σ(2u), u = √(2/π) (x + 0.044715 x³); -0 below -30. */
function geluTanh(x: number): number {
  return x < -30 ? -0 : x * sigmoid(2 * K * (x + C * x * x * x));
}

/** Its derivative σ(2u) (1 + 2 x u' σ(-2u)); 1 / -0 beyond ±30. */
function geluTanhDeriv(x: number): number {
  if (x > 30) return 1;
  if (x < -30) return -0;
  const u2 = 2 * K * (x + C * x * x * x);
  return signed(sigmoid(u2) * (1 + 2 * x * K * (1 + 3 * C * x * x) * sigmoid(-u2)), x);
}

/**
 * O[oi + i] = gelu(X[xi + i xs]) for i < n (exact, or the tanh approximation). NOTE: one loop per
 * function and dtype, each calling one function (inlined by V8), with its arrays of one type.
 */
export function geluRun(tanh: boolean, X: TypedArray, xi: number, xs: number, O: TypedArray, oi: number, n: number): void {
  if (X instanceof Float32Array && O instanceof Float32Array) {
    if (tanh) loopTanh32(X, xi, xs, O, oi, n);
    else loop32(X, xi, xs, O, oi, n);
  } else if (tanh) loopAny(geluTanh, X, xi, xs, O, oi, n);
  else loopAny(gelu64, X, xi, xs, O, oi, n);
}

function loop32(X: Float32Array, xi: number, xs: number, O: Float32Array, oi: number, n: number): void {
  for (const end = oi + n; oi < end; oi++, xi += xs) O[oi] = gelu32(X[xi]!);
}

function loopTanh32(X: Float32Array, xi: number, xs: number, O: Float32Array, oi: number, n: number): void {
  for (const end = oi + n; oi < end; oi++, xi += xs) O[oi] = geluTanh(X[xi]!);
}

function loopAny(f: (x: number) => number, X: TypedArray, xi: number, xs: number, O: TypedArray, oi: number, n: number): void {
  for (const end = oi + n; oi < end; oi++, xi += xs) O[oi] = f(X[xi]!);
}

/** The elements of a view, without a copy when it is contiguous. */
function dense(v: View): TypedArray {
  return isContiguous(v) ? v.storage.subarray(v.offset, v.offset + numel(v.shape)) : contiguousData(v);
}

/** js-fast's `geluBackward`: g gelu'(x). */
export function geluBackwardJs(x: View, g: View, approximate: "none" | "tanh"): TypedArray {
  const xs = dense(x);
  const gs = dense(g);
  const out = allocArray(x.dtype, xs.length);
  if (xs instanceof Float32Array && gs instanceof Float32Array && out instanceof Float32Array) {
    if (approximate === "tanh") backTanh32(xs, gs, out);
    else back32(xs, gs, out);
  } else backAny(approximate === "tanh" ? geluTanhDeriv : geluDeriv64, xs, gs, out);
  return out;
}

function back32(X: Float32Array, G: Float32Array, O: Float32Array): void {
  for (let i = 0; i < X.length; i++) O[i] = G[i]! * geluDeriv32(X[i]!);
}

function backTanh32(X: Float32Array, G: Float32Array, O: Float32Array): void {
  for (let i = 0; i < X.length; i++) O[i] = G[i]! * geluTanhDeriv(X[i]!);
}

function backAny(d: (x: number) => number, X: TypedArray, G: TypedArray, O: TypedArray): void {
  for (let i = 0; i < X.length; i++) O[i] = G[i]! * d(X[i]!);
}
