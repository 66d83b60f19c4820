import type { FloatArray, ParamLike } from "./types.js";
import { floatStorage, OptimizerError } from "./types.js";

/**
 * Parameters, plain (`model.parameters()`) or named (`model.namedParameters()`); named ones
 * let errors and statistics name the parameter.
 * @example
 * const named: ParamsInput = model.namedParameters();
 * gradNormStats(named).names; // ["0.weight", "0.bias", "2.weight", "2.bias"]
 */
export type ParamsInput = Iterable<ParamLike> | Iterable<readonly [string, ParamLike]>;

/** Gradient norms gathered in one pass over the data by {@link gradNormStats}. */
export interface GradNormStats {
  /** Norm of all gradients together (NaN if any element is NaN, Infinity if any is infinite). */
  totalNorm: number;
  /** Norm of each parameter's gradient, in input order; 0 for a parameter whose grad is null. */
  norms: number[];
  /** Number of non-finite (NaN or ±Infinity) gradient elements of each parameter. */
  nonFinite: number[];
  /** Each parameter's name, or its index as a string when the input was not named. */
  names: string[];
}

/** {@link GradNormStats} plus the clamped coefficient the gradients were multiplied by. */
export interface ClipGradNormResult extends GradNormStats {
  /** `min(maxNorm / (totalNorm + 1e-6), 1)`: 1 when nothing was clipped. */
  clipCoef: number;
}

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Order of the norm: any p > 0, or Infinity (max-abs). Default 2. */
  normType?: number;
  /** Throw if the total norm is NaN or infinite (naming the first offending parameter). Default false. */
  errorIfNonfinite?: boolean;
  /** Accepted for PyTorch signature compatibility and ignored; there is a single implementation. */
  foreach?: boolean;
}

interface Entry {
  name: string;
  named: boolean;
  param: ParamLike;
}

function entries(params: ParamsInput): Entry[] {
  const out: Entry[] = [];
  for (const item of params as Iterable<ParamLike | readonly [string, ParamLike]>) {
    if (Array.isArray(item)) {
      const [name, param] = item as readonly [string, ParamLike];
      out.push({ name, named: true, param });
    } else {
      out.push({ name: String(out.length), named: false, param: item as ParamLike });
    }
  }
  return out;
}

/**
 * Scaled accumulator for one array, LAPACK-`dnrm2` style: the p-norm is `scale * ssq^(1/p)` where
 * `scale` is the largest |x| seen so far and `ssq = Σ (|x|/scale)^p`.
 *
 * NOTE: rescaling while streaming keeps every term <= 1, so the norm neither overflows (float32
 * gradients around 1e30 square to 1e60, fine in float64, but float64 gradients around 1e200 do not)
 * nor underflows to 0 for tiny gradients, and it needs only one pass over the data.
 */
interface Acc {
  scale: number;
  ssq: number;
  nonFinite: number;
  nan: boolean;
  inf: boolean;
}

function accumulate(x: FloatArray, p: number): Acc {
  if (p === 2 || p === 1) {
    const fast = (p === 2 && x instanceof Float32Array && sumSquares(x)) || accumulatePlain(x, p);
    if (fast) return fast;
  }
  return accumulateScaled(x, p);
}

/**
 * The L2 norm of float32 gradients as a float64 sum of squares with no branch per element (a
 * float32 square cannot overflow float64), as scale = norm, ssq = 1. Null when the sum is not
 * finite (a NaN or an infinity: the counting loop then finds them).
 */
function sumSquares(x: Float32Array): Acc | null {
  const s = sumSq(x);
  return s - s === 0 ? { scale: Math.sqrt(s), ssq: +(s > 0), nonFinite: 0, nan: false, inf: false } : null;
}

/**
 * NOTE: 4 sums, so V8's loop is not one chain of dependent adds. The remainder goes first: with
 * code after the loop, V8's on-stack-replaced loop deoptimized there on every call of a training
 * step (no type feedback yet when it was compiled), and each call ran much of the loop in the
 * interpreter: 1.3 ms instead of 0.3 for W4's gradients.
 */
function sumSq(x: Float32Array): number {
  const n = x.length;
  let s = 0, t = 0, u = 0, v = 0, i = n % 4;
  for (let j = 0; j < i; j++) s += x[j]! * x[j]!;
  for (; i < n; i += 4) {
    s += x[i]! * x[i]!;
    t += x[i + 1]! * x[i + 1]!;
    u += x[i + 2]! * x[i + 2]!;
    v += x[i + 3]! * x[i + 3]!;
  }
  return s + t + u + v;
}

function accumulatePlain(x: FloatArray, p: number): Acc | null {
  let sum = 0;
  let max = 0;
  let nonFinite = 0;
  let nan = false;
  let inf = false;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]!);
    if (a - a !== 0) {
      nonFinite++;
      if (a !== a) nan = true;
      else inf = true;
      continue;
    }
    sum += p === 2 ? a * a : a;
    max = a > max ? a : max;
  }
  if (max === 0) return { scale: 0, ssq: 0, nonFinite, nan, inf };
  if (!(x instanceof Float32Array) && !(sum < 1e300 && sum > 1e-290)) return null;
  const den = p === 2 ? max * max : max;
  return { scale: max, ssq: sum / den, nonFinite, nan, inf };
}

function accumulateScaled(x: FloatArray, p: number): Acc {
  let scale = 0;
  let ssq = 0;
  let nonFinite = 0;
  let nan = false;
  let inf = false;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]!);
    if (!(a < Infinity)) {
      nonFinite++;
      if (a !== a) nan = true;
      else inf = true;
      continue;
    }
    if (p === Infinity) {
      if (a > scale) scale = a;
    } else if (a > scale) {
      const r = scale / a;
      ssq = 1 + ssq * (p === 2 ? r * r : p === 1 ? r : r ** p);
      scale = a;
    } else if (a > 0) {
      const r = a / scale;
      ssq += p === 2 ? r * r : p === 1 ? r : r ** p;
    }
  }
  if (p === Infinity && scale > 0) ssq = 1;
  return { scale, ssq, nonFinite, nan, inf };
}

function finish(acc: Acc, p: number): number {
  if (acc.nan) return NaN;
  if (acc.inf) return Infinity;
  if (acc.scale === 0) return 0;
  if (p === Infinity) return acc.scale;
  return acc.scale * (p === 2 ? Math.sqrt(acc.ssq) : p === 1 ? acc.ssq : acc.ssq ** (1 / p));
}

function checkNormType(who: string, normType: number): void {
  if (typeof normType !== "number" || !(normType > 0)) {
    throw new OptimizerError(`${who}: invalid normType ${String(normType)}: expected a number > 0`);
  }
}

function statsOf(list: Entry[], normType: number): GradNormStats {
  const accs = list.map(({ param }) =>
    param.grad === null ? { scale: 0, ssq: 0, nonFinite: 0, nan: false, inf: false } : accumulate(floatStorage(param.grad.storage, "clipGradNorm"), normType),
  );
  let scale = 0;
  for (const a of accs) if (a.scale > scale) scale = a.scale;
  const total: Acc = { scale, ssq: 0, nonFinite: 0, nan: false, inf: false };
  for (const a of accs) {
    total.nan ||= a.nan;
    total.inf ||= a.inf;
    total.nonFinite += a.nonFinite;
    if (a.scale === 0) continue;
    if (normType === Infinity) total.ssq = 1;
    else {
      const r = a.scale / scale;
      total.ssq += a.ssq * (normType === 2 ? r * r : normType === 1 ? r : r ** normType);
    }
  }
  return {
    totalNorm: finish(total, normType),
    norms: accs.map((a) => finish(a, normType)),
    nonFinite: accs.map((a) => a.nonFinite),
    names: list.map((e) => e.name),
  };
}

/**
 * Gradient norms of `params` in one pass: the total norm (as `torch.nn.utils.clip_grad_norm_`
 * computes it), the norm of each parameter's gradient and its count of non-finite elements.
 * Computed in float64 with scaling, so it does not overflow or underflow. Parameters whose grad
 * is null contribute 0.
 *
 * @example
 * const { totalNorm, norms, nonFinite, names } = gradNormStats(model.namedParameters(), 2);
 * names.forEach((n, i) => { if (nonFinite[i]! > 0) console.warn(`${n}: ${nonFinite[i]} bad grads`); });
 */
export function gradNormStats(params: ParamsInput, normType = 2): GradNormStats {
  checkNormType("gradNormStats", normType);
  return statsOf(entries(params), normType);
}

/**
 * {@link clipGradNorm} that also returns the per-parameter statistics and the applied coefficient.
 *
 * @example
 * const { totalNorm, clipCoef } = clipGradNormWithStats(model.parameters(), 1.0);
 */
export function clipGradNormWithStats(
  params: ParamsInput,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): ClipGradNormResult {
  const who = "clipGradNorm";
  const normType = options.normType ?? 2;
  checkNormType(who, normType);
  if (typeof maxNorm !== "number" || !(maxNorm >= 0)) {
    throw new OptimizerError(`${who}: invalid maxNorm ${String(maxNorm)}: expected a number >= 0`);
  }
  const list = entries(params);
  const stats = statsOf(list, normType);
  const total = stats.totalNorm;
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    const i = stats.nonFinite.findIndex((c) => c > 0);
    const e = list[i];
    const where =
      e === undefined
        ? "the norm overflowed float64"
        : `first non-finite gradient: ${e.named ? `"${e.name}" (index ${i})` : `index ${i}`}, ${stats.nonFinite[i]} of ${e.param.storage.length} elements`;
    throw new OptimizerError(`${who}: the gradients' total ${normType}-norm is ${total}; ${where}. Set errorIfNonfinite: false to clip anyway`);
  }
  // Same coefficient as PyTorch (including NaN for a NaN norm and 0 for an infinite one).
  const clipCoef = Math.min(maxNorm / (total + 1e-6), 1);
  if (clipCoef !== 1) scaleGradients(list.map((e) => e.param), clipCoef);
  return { ...stats, clipCoef };
}

/** @internal Multiply every gradient by `coef` in place (the clipping step of clipGradNorm). */
export function scaleGradients(params: Iterable<ParamLike>, coef: number): void {
  for (const param of params) {
    const g = param.grad?.storage;
    if (g instanceof Float32Array) scaleF32(g, coef);
    else if (g) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  }
}

/**
 * NOTE: a loop of its own sees one array type (V8 keeps it monomorphic), unrolled by 4: 3x faster.
 * The remainder goes first, as in {@link sumSq}.
 */
function scaleF32(g: Float32Array, c: number): void {
  const n = g.length;
  let i = n % 4;
  for (let j = 0; j < i; j++) g[j] = g[j]! * c;
  for (; i < n; i += 4) {
    g[i] = g[i]! * c;
    g[i + 1] = g[i + 1]! * c;
    g[i + 2] = g[i + 2]! * c;
    g[i + 3] = g[i + 3]! * c;
  }
}

/**
 * Scale gradients in place so that their total norm is at most `maxNorm`, as
 * `torch.nn.utils.clip_grad_norm_`: coefficient `min(maxNorm / (total + 1e-6), 1)`.
 * Returns the total norm before clipping (0 when no parameter has a gradient).
 *
 * As in PyTorch, with `errorIfNonfinite: false` a NaN total norm makes every gradient NaN and an
 * infinite one makes the finite elements 0; with `errorIfNonfinite: true` an {@link OptimizerError}
 * names the first parameter (by name if `params` is named, else by index) holding a bad gradient.
 *
 * @example
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);            // L2
 * clipGradNorm(model.namedParameters(), 5, { normType: Infinity, errorIfNonfinite: true });
 * opt.step();
 */
export function clipGradNorm(params: ParamsInput, maxNorm: number, options: ClipGradNormOptions = {}): number {
  return clipGradNormWithStats(params, maxNorm, options).totalNorm;
}

/**
 * Clamp every gradient element into `[-clipValue, clipValue]` in place, as
 * `torch.nn.utils.clip_grad_value_` (NaN stays NaN).
 *
 * @example
 * clipGradValue(model.parameters(), 0.5);
 */
export function clipGradValue(params: ParamsInput, clipValue: number): void {
  if (typeof clipValue !== "number" || !(clipValue >= 0)) {
    throw new OptimizerError(`clipGradValue: invalid clipValue ${String(clipValue)}: expected a number >= 0`);
  }
  for (const { param } of entries(params)) {
    const g = param.grad?.storage;
    if (g === undefined) continue;
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      if (v > clipValue) g[i] = clipValue;
      else if (v < -clipValue) g[i] = -clipValue;
    }
  }
}
