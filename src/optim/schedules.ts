/**
 * Learning-rate schedules as pure functions of the step count.
 *
 * A {@link Schedule} maps the scheduler step `t` (0 before the first `scheduler.step()`, i.e.
 * PyTorch's `last_epoch`) to the ABSOLUTE learning rate. Every schedule is written in closed form
 * from `t`; none multiplies "the previous lr", so schedules compose (see {@link sequentialLR}) and
 * resume from any step without drift.
 *
 * NOTE: PyTorch 1.13 computes most of these recursively (`lr_t = lr_{t-1} * ratio`). Both forms
 * agree to rounding (relative differences around 1e-15 over hundreds of steps); the fixture tests
 * in test/optim check this against torch within 1e-6 relative.
 */
import { checkFinite, checkNonNegative } from "./optimizer.js";
import { fail, OptimizerError, withDefaults } from "./types.js";

/**
 * Absolute learning rate at scheduler step `t` (an integer >= 0): what the schedule functions
 * return and `LambdaLR`-style code can write by hand.
 * @example
 * const warmCos: Schedule = (t) => (t < 10 ? 0.1 * (t + 1) / 10 : 0.1 * 0.5 * (1 + Math.cos((Math.PI * (t - 10)) / 90)));
 * warmCos(0); // 0.01
 */
export type Schedule = (t: number) => number;

function positiveInt(who: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) fail(who, name, v, "a positive integer");
}
function unit(who: string, name: string, v: number): void {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) fail(who, name, v, "a number in [0, 1]");
}

/** Options of {@link stepLR}. */
export interface StepLROptions {
  /** Decay every this many steps (an integer >= 1). */
  stepSize: number;
  /** Multiplicative factor of each decay (default 0.1). */
  gamma?: number;
}

/**
 * `baseLr * gamma^floor(t / stepSize)` (PyTorch `StepLR`).
 *
 * @example
 * const s = stepLR(0.1, { stepSize: 30 }); s(29); // 0.1   s(30); // ≈ 0.01
 */
export function stepLR(baseLr: number, { stepSize, gamma = 0.1 }: StepLROptions): Schedule {
  positiveInt("StepLR", "stepSize", stepSize);
  checkFinite("StepLR", "gamma", gamma);
  return (t) => baseLr * gamma ** Math.floor(t / stepSize);
}

/** Options of {@link multiStepLR}. */
export interface MultiStepLROptions {
  /** Steps at which the rate is multiplied by gamma (ascending; a repeated milestone multiplies twice). */
  milestones: readonly number[];
  /** Multiplicative factor at each milestone (default 0.1). */
  gamma?: number;
}

/**
 * `baseLr * gamma^(number of milestones <= t)` (PyTorch `MultiStepLR`).
 *
 * @example
 * const s = multiStepLR(0.05, { milestones: [30, 80] }); s(50); // ≈ 0.005
 */
export function multiStepLR(baseLr: number, { milestones, gamma = 0.1 }: MultiStepLROptions): Schedule {
  for (const m of milestones) if (!Number.isInteger(m) || m < 0) fail("MultiStepLR", "milestone", m, "an integer >= 0");
  checkFinite("MultiStepLR", "gamma", gamma);
  const sorted = [...milestones].sort((a, b) => a - b);
  return (t) => baseLr * gamma ** countAtMost(sorted, t);
}

/** Number of entries of the ascending array `xs` that are <= t (Python's `bisect_right`). */
function countAtMost(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Options of {@link exponentialLR}. */
export interface ExponentialLROptions {
  /** Multiplicative factor per step (required). */
  gamma: number;
}

/**
 * `baseLr * gamma^t` (PyTorch `ExponentialLR`).
 *
 * A rate that leaves the float range is an {@link OptimizerError} at the step that would reach it,
 * not a silent Infinity or 0 (PyTorch gives either): with gamma > 1 the rate overflows to Infinity
 * (the next optimizer step would destroy the weights), with 0 < gamma < 1 it underflows to 0 after
 * some thousands of steps (training silently stops; the scheduler is probably stepped per batch
 * where per epoch was meant). A scheduler stepped into either refuses the step and changes nothing.
 * (gamma = 0 or baseLr = 0 give 0 on purpose and are allowed.)
 *
 * @example
 * const s = exponentialLR(1, { gamma: 0.9 }); s(2); // ≈ 0.81
 * try {
 *   exponentialLR(0.1, { gamma: 0.5 })(2000);
 * } catch (e) {
 *   e instanceof OptimizerError; // true: "ExponentialLR: the lr 0.1 * 0.5^2000 underflows to 0 at step 2000: ..."
 * }
 */
export function exponentialLR(baseLr: number, { gamma }: ExponentialLROptions): Schedule {
  checkNonNegative("ExponentialLR", "gamma", gamma);
  return (t) => {
    const lr = baseLr * gamma ** t;
    if (!Number.isFinite(lr) || (lr === 0 && baseLr !== 0 && gamma !== 0)) {
      throw new OptimizerError(
        `ExponentialLR: the lr ${baseLr} * ${gamma}^${t} ${lr === 0 ? "underflows to 0" : `is ${lr}`} at step ${t}: step the scheduler less often or choose gamma closer to 1`,
      );
    }
    return lr;
  };
}

/** Options of {@link constantLR}. */
export interface ConstantLROptions {
  /** The rate is baseLr * factor until totalIters (default 1/3). */
  factor?: number;
  /** Steps at the reduced rate (default 5). */
  totalIters?: number;
}

/**
 * `baseLr * factor` for `t < totalIters`, then `baseLr` (PyTorch `ConstantLR`).
 *
 * @example
 * const s = constantLR(0.1, { factor: 0.5, totalIters: 4 }); s(3); // 0.05   s(4); // 0.1
 */
export function constantLR(baseLr: number, { factor = 1 / 3, totalIters = 5 }: ConstantLROptions = {}): Schedule {
  unit("ConstantLR", "factor", factor);
  positiveInt("ConstantLR", "totalIters", totalIters);
  return (t) => (t >= totalIters ? baseLr : baseLr * factor);
}

/** Options of {@link linearLR}. */
export interface LinearLROptions {
  /** Factor at t = 0 (default 1/3). */
  startFactor?: number;
  /** Factor from t = totalIters on (default 1). */
  endFactor?: number;
  /** Steps of the linear ramp (default 5). */
  totalIters?: number;
}

/**
 * `baseLr * (start + (end - start) * min(t, totalIters) / totalIters)` (PyTorch `LinearLR`),
 * the usual warm-up. `startFactor` must be in (0, 1] and `endFactor` in [0, 1], as PyTorch
 * requires (since 2.0; 1.13 accepted a start factor of 0 and then divided by zero at the first step).
 *
 * @example
 * const s = linearLR(0.05, { startFactor: 0.5, totalIters: 4 }); s(1); // 0.03125
 */
export function linearLR(
  baseLr: number,
  { startFactor = 1 / 3, endFactor = 1, totalIters = 5 }: LinearLROptions = {},
): Schedule {
  if (typeof startFactor !== "number" || !(startFactor > 0 && startFactor <= 1)) fail("LinearLR", "startFactor", startFactor, "a number in (0, 1]");
  unit("LinearLR", "endFactor", endFactor);
  positiveInt("LinearLR", "totalIters", totalIters);
  return (t) => baseLr * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, t)) / totalIters);
}

/** Options of {@link polynomialLR}. */
export interface PolynomialLROptions {
  /** Steps until the rate reaches 0 (default 5). */
  totalIters?: number;
  /** Exponent of the decay (default 1: linear). */
  power?: number;
}

/**
 * `baseLr * (1 - min(t, totalIters) / totalIters)^power` (PyTorch `PolynomialLR`).
 *
 * @example
 * const s = polynomialLR(0.001, { totalIters: 4 }); s(1); // 0.00075
 */
export function polynomialLR(baseLr: number, { totalIters = 5, power = 1 }: PolynomialLROptions = {}): Schedule {
  positiveInt("PolynomialLR", "totalIters", totalIters);
  checkFinite("PolynomialLR", "power", power);
  return (t) => baseLr * (1 - Math.min(totalIters, t) / totalIters) ** power;
}

/** Options of {@link cosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Half-period in steps: the rate reaches etaMin at tMax. */
  tMax: number;
  /** Minimum rate (default 0). */
  etaMin?: number;
}

/**
 * `etaMin + (baseLr - etaMin) * (1 + cos(pi * t / tMax)) / 2` (PyTorch `CosineAnnealingLR`; like
 * PyTorch's, it keeps following the cosine after tMax, rising back to baseLr at 2 * tMax).
 *
 * @example
 * const s = cosineAnnealingLR(0.1, { tMax: 10 }); s(5); // ≈ 0.05   s(10); // 0
 */
export function cosineAnnealingLR(baseLr: number, { tMax, etaMin = 0 }: CosineAnnealingLROptions): Schedule {
  if (!(Number.isFinite(tMax) && tMax > 0)) {
    fail("CosineAnnealingLR", "tMax", tMax, "a finite number > 0");
  }
  checkFinite("CosineAnnealingLR", "etaMin", etaMin);
  return (t) => etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/** Options of {@link cosineAnnealingWarmRestarts}. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Length of the first period, in steps (an integer >= 1). */
  t0: number;
  /** Each period is tMult times longer than the previous one (integer >= 1, default 1). */
  tMult?: number;
  /** Minimum rate (default 0). */
  etaMin?: number;
}

/**
 * SGDR: cosine from baseLr to etaMin over periods of length t0, t0*tMult, t0*tMult², ...,
 * restarting at baseLr (PyTorch `CosineAnnealingWarmRestarts` stepped without an epoch argument).
 *
 * @example
 * const s = cosineAnnealingWarmRestarts(0.1, { t0: 5, tMult: 2 }); s(5); // 0.1 (restart)
 */
export function cosineAnnealingWarmRestarts(
  baseLr: number,
  { t0, tMult = 1, etaMin = 0 }: CosineAnnealingWarmRestartsOptions,
): Schedule {
  positiveInt("CosineAnnealingWarmRestarts", "t0", t0);
  positiveInt("CosineAnnealingWarmRestarts", "tMult", tMult);
  checkFinite("CosineAnnealingWarmRestarts", "etaMin", etaMin);
  return (t) => {
    let tCur = t;
    let tI = t0;
    if (tMult === 1) tCur = t % t0;
    else {
      // Integer walk over the periods (O(log t)); PyTorch's closed form with log() can be off
      // by one period at exact restart steps because of rounding.
      while (tCur >= tI) {
        tCur -= tI;
        tI *= tMult;
      }
    }
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  };
}

/**
 * Multiplicative factor as a function of the step, for {@link lambdaLR}.
 * @example
 * const decay: LrLambda = (t) => 1 / (1 + 0.01 * t);
 * lambdaLR(0.1, decay)(100); // 0.05
 */
export type LrLambda = (t: number) => number;

/**
 * `baseLr * lrLambda(t)` (PyTorch `LambdaLR`).
 *
 * @example
 * const s = lambdaLR(0.1, (t) => 0.95 ** t);
 */
export function lambdaLR(baseLr: number, lrLambda: LrLambda): Schedule {
  if (typeof lrLambda !== "function") fail("LambdaLR", "lrLambda", lrLambda, "a function");
  return (t) => baseLr * lrLambda(t);
}

/**
 * Run `schedules[0]` until `milestones[0]`, then `schedules[1]` restarted from its step 0, and so
 * on (PyTorch `SequentialLR`). `milestones` must be ascending, one fewer than the schedules.
 *
 * @example
 * const warm = linearLR(0.1, { startFactor: 0.1, totalIters: 5 });
 * const cos = cosineAnnealingLR(0.1, { tMax: 95 });
 * const s = sequentialLR([warm, cos], [5]); s(5); // 0.1 = cos(0)
 */
export function sequentialLR(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  if (schedules.length === 0) fail("SequentialLR", "schedules", "[]", "at least one schedule");
  if (milestones.length !== schedules.length - 1) {
    fail("SequentialLR", "milestones", `[${milestones.join(", ")}]`, `${schedules.length - 1} milestones`);
  }
  milestones.forEach((m, i) => {
    if (!Number.isInteger(m) || m < 0 || (i > 0 && m < milestones[i - 1]!)) {
      fail("SequentialLR", "milestones", `[${milestones.join(", ")}]`, "ascending integers >= 0");
    }
  });
  const ms = [...milestones];
  const ss = [...schedules];
  return (t) => {
    const idx = countAtMost(ms, t);
    return ss[idx]!(idx === 0 ? t : t - ms[idx - 1]!);
  };
}

/** Options shared by {@link oneCycleLR} and {@link oneCycleMomentum}. */
export interface OneCycleOptions {
  /** Number of scheduler steps in the cycle; valid steps are 0..totalSteps. */
  totalSteps: number;
  /** Fraction of the cycle spent increasing the rate, default 0.3. */
  pctStart?: number;
  /** How each phase moves between its rates: "cos" (default) or "linear". */
  annealStrategy?: "cos" | "linear";
  /** Initial rate = maxLr / divFactor, default 25. */
  divFactor?: number;
  /** Minimum rate = initial rate / finalDivFactor, default 1e4. */
  finalDivFactor?: number;
  /** Use PyTorch's three-phase variant (up, down to initial, annihilate), default false. */
  threePhase?: boolean;
}

type PhaseValue = "initial" | "max" | "min";
interface Phase {
  end: number;
  from: PhaseValue;
  to: PhaseValue;
}

/**
 * PyTorch's OneCycleLR phase table: where each phase ends, and which lr it goes from/to. The
 * momentum goes the opposite way in each phase (max ↔ base), and stays at max in the last phase
 * of the three-phase variant.
 */
function oneCyclePhases(o: Required<OneCycleOptions>): Phase[] {
  const { totalSteps: n, pctStart: pct } = o;
  return o.threePhase
    ? [
        { end: pct * n - 1, from: "initial", to: "max" },
        { end: 2 * pct * n - 2, from: "max", to: "initial" },
        { end: n - 1, from: "initial", to: "min" },
      ]
    : [
        { end: pct * n - 1, from: "initial", to: "max" },
        { end: n - 1, from: "max", to: "min" },
      ];
}

function oneCycleDefaults(o: OneCycleOptions): Required<OneCycleOptions> {
  const who = "OneCycleLR";
  const full = {
    totalSteps: o.totalSteps,
    ...withDefaults<Omit<Required<OneCycleOptions>, "totalSteps">>(o, { pctStart: 0.3, annealStrategy: "cos", divFactor: 25, finalDivFactor: 1e4, threePhase: false }),
  };
  positiveInt(who, "totalSteps", full.totalSteps);
  unit(who, "pctStart", full.pctStart);
  if (full.annealStrategy !== "cos" && full.annealStrategy !== "linear") {
    fail(who, "annealStrategy", full.annealStrategy, '"cos" or "linear"');
  }
  for (const k of ["divFactor", "finalDivFactor"] as const) if (!(full[k] > 0) || !Number.isFinite(full[k])) fail(who, k, full[k], "a number > 0");
  return full;
}

/** Locate step t in the phase table: the phase index and the fraction of it done (PyTorch's pct). */
function oneCycleLocate(phases: Phase[], o: Required<OneCycleOptions>, t: number): { i: number; pct: number } {
  if (t > o.totalSteps) {
    throw new OptimizerError(
      `OneCycleLR: tried to step ${t + 1} times; the specified number of total steps is ${o.totalSteps}`,
    );
  }
  let start = 0;
  for (let i = 0; ; i++) {
    const end = phases[i]!.end;
    if (t <= end || i === phases.length - 1) {
      // NOTE: a zero-length phase (e.g. pctStart * totalSteps = 1) divides by zero in PyTorch;
      // it counts as completed here.
      return { i, pct: end === start ? 1 : (t - start) / (end - start) };
    }
    start = end;
  }
}

/** The 1cycle schedule moving between the phase values `value` (already validated options). */
function oneCycle(o: Required<OneCycleOptions>, value: Record<PhaseValue, number>): Schedule {
  const phases = oneCyclePhases(o);
  return (t) => {
    const { i, pct } = oneCycleLocate(phases, o, t);
    const ph = phases[i]!;
    return anneal(o.annealStrategy, value[ph.from], value[ph.to], pct);
  };
}

function anneal(strategy: "cos" | "linear", start: number, end: number, pct: number): number {
  return strategy === "cos" ? end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1) : (end - start) * pct + start;
}

/**
 * The 1cycle learning rate (PyTorch `OneCycleLR`): from `maxLr / divFactor` up to `maxLr` during
 * the first `pctStart` of the cycle, then down to `maxLr / divFactor / finalDivFactor`.
 *
 * @example
 * const s = oneCycleLR(0.1, { totalSteps: 100 }); s(0); // 0.004   s(29); // 0.1
 */
export function oneCycleLR(maxLr: number, options: OneCycleOptions): Schedule {
  checkFinite("OneCycleLR", "maxLr", maxLr);
  const o = oneCycleDefaults(options);
  const initial = maxLr / o.divFactor;
  return oneCycle(o, { initial, max: maxLr, min: initial / o.finalDivFactor });
}

/** Options of {@link oneCycleMomentum}. */
export interface OneCycleMomentumOptions extends OneCycleOptions {
  /** Momentum at the peak of the rate (default 0.85). */
  baseMomentum?: number;
  /** Momentum at the start and end of the cycle (default 0.95). */
  maxMomentum?: number;
}

/**
 * The momentum (or Adam beta1) that PyTorch's `OneCycleLR` sets alongside the rate (cycle_momentum):
 * maxMomentum → baseMomentum while the rate rises, back to maxMomentum while it falls.
 *
 * @example
 * const m = oneCycleMomentum({ totalSteps: 100 }); m(0); // 0.95
 */
export function oneCycleMomentum(options: OneCycleMomentumOptions): Schedule {
  const o = oneCycleDefaults(options);
  const base = options.baseMomentum ?? 0.85;
  const max = options.maxMomentum ?? 0.95;
  checkFinite("OneCycleLR", "baseMomentum", base);
  checkFinite("OneCycleLR", "maxMomentum", max);
  // Momentum moves opposite to the rate: lr "initial"/"min" ↔ max momentum, lr "max" ↔ base.
  return oneCycle(o, { initial: max, max: base, min: max });
}
