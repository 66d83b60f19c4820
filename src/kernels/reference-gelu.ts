/**
 * The reference backend's GELU (issue 18): the forward as two entries of its unary table and the
 * backward `geluBackward`, in float64 from the definitions, with no cancellation in either tail:
 * Φ(x) = erfc(-x / √2) / 2 (not (1 + erf(x / √2)) / 2, which loses every digit below x = -8), and
 * the tanh approximation's (1 + tanh(u)) / 2 as σ(2u). The oracle the fast kernels are tested
 * against (shares no code with js/ and wasm/).
 *
 * Tails: gelu(x) is -0 below x = -40 (exact) / -30 (tanh), where x Φ(x) underflows float64, so
 * gelu(-Infinity) = -0 (PyTorch gives NaN); gelu'(x) is 1 above 40 / 30 and -0 below -40 / -30, so
 * gelu'(±Infinity) = 1 and -0 (PyTorch: NaN); a gelu'(x) below the root that underflows is -0.
 */
import { allocArray, type TypedArray } from "../tensor/dtype.js";
import { contiguousData, type View } from "../tensor/layout.js";

const SQRT_PI = Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** √(2/π) and the cubic's coefficient of the tanh approximation (as PyTorch's). */
const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;

/**
 * erf(x) by its series of positive terms 2/√π e^-x² Σ 2^n x^(2n+1) / (1·3···(2n+1)) (no
 * cancellation; the reference's erf below |x| = 3 and erfc's below 2).
 */
export function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  const x2 = 2 * x * x;
  for (let n = 1; n < 300; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/**
 * erfc(x) for x >= 2 by its continued fraction e^-x² / √π / (x + (1/2) / (x + 1 / (x + (3/2) /
 * ...))), modified Lentz.
 */
export function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = d === 0 ? tiny : d;
    c = x + an / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / SQRT_PI / f;
}

/**
 * erfc(x) to about 1e-14 relative: 1 - erf(x) below 2 (erfc(x) is then at least 0.0047, so the
 * subtraction costs under 3 digits), the continued fraction from 2 on.
 */
export function erfcReference(x: number): number {
  if (x !== x) return NaN;
  if (x <= -6) return 2;
  if (x < 2) return 1 - erfSeries(x);
  if (x === Infinity) return 0;
  return erfcFraction(x);
}

/** The standard normal CDF Φ(x) = erfc(-x / √2) / 2. */
const Phi = (x: number): number => 0.5 * erfcReference(-x * Math.SQRT1_2);
/** The logistic function without overflow. */
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** gelu(x) = x Φ(x); -0 below -40 (so -Infinity gives -0, not -Infinity · 0). */
export const geluReference = (x: number): number => (x < -40 ? -0 : x * Phi(x));

/** The tanh approximation x (1 + tanh(u)) / 2 = x σ(2u), u = √(2/π) (x + 0.044715 x³); -0 below -30. */
export const geluTanhReference = (x: number): number => (x < -30 ? -0 : x * sigmoid(2 * K * (x + C * x * x * x)));

/** A derivative that underflowed to 0 below its root is -0 (the sign of the true value, as float64 rounds it). */
const signed = (d: number, x: number): number => (d === 0 && x < 0 ? -0 : d);

/** gelu'(x) = Φ(x) + x φ(x): 1 above 40, -0 below -40 (the limits, also at ±Infinity). */
function geluDerivative(x: number): number {
  if (x > 40) return 1;
  if (x < -40) return -0;
  return signed(Phi(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI, x);
}

/** The tanh approximation's derivative σ(2u) + 2 x u' σ(2u) σ(-2u), u' = √(2/π) (1 + 3 · 0.044715 x²); 1 / -0 beyond ±30. */
function geluTanhDerivative(x: number): number {
  if (x > 30) return 1;
  if (x < -30) return -0;
  const u = K * (x + C * x * x * x);
  const du = K * (1 + 3 * C * x * x);
  return signed(sigmoid(2 * u) + 2 * x * du * sigmoid(2 * u) * sigmoid(-2 * u), x);
}

/** The reference's `geluBackward`: g gelu'(x) elementwise, in x's dtype. */
export function geluBackwardReference(x: View, g: View, approximate: "none" | "tanh"): TypedArray {
  const xs = contiguousData(x);
  const gs = contiguousData(g);
  const d = approximate === "tanh" ? geluTanhDerivative : geluDerivative;
  const out = allocArray(x.dtype, xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = gs[i]! * d(xs[i]!);
  return out;
}
