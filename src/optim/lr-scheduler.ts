/**
 * Scheduler classes: thin wrappers that evaluate a pure {@link Schedule} per parameter group at
 * the current step count and set the result as the group's scheduled lr ({@link setScheduledLr}:
 * `group.lr = scheduled * lrScale`, the training guard's scale). They never read the previous lr.
 */
import {
  constantLR,
  cosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  exponentialLR,
  lambdaLR,
  linearLR,
  multiStepLR,
  oneCycleLR,
  oneCycleMomentum,
  polynomialLR,
  sequentialLR,
  stepLR,
} from "./schedules.js";
import type {
  ConstantLROptions,
  CosineAnnealingLROptions,
  CosineAnnealingWarmRestartsOptions,
  ExponentialLROptions,
  LinearLROptions,
  LrLambda,
  MultiStepLROptions,
  OneCycleOptions,
  PolynomialLROptions,
  Schedule,
  StepLROptions,
} from "./schedules.js";
import { setScheduledLr } from "./lr.js";
import { fail, OptimizerError } from "./types.js";

/**
 * The largest step count (`last_epoch`) a scheduler state dict may hold: 2^31 - 1, about two
 * billion steps. Larger values are refused by `loadStateDict` (they come from a corrupt or
 * hostile file, and schedules evaluated there give no meaningful rate).
 * @internal
 */
export const MAX_SCHEDULER_STEP = 2 ** 31 - 1;

/** `v` is an array of `n` finite numbers >= 0, or throw naming `who`, the field and the value. @internal */
export function checkRates(who: string, name: string, v: unknown, n: number): asserts v is number[] {
  if (!Array.isArray(v) || v.length !== n) {
    throw new OptimizerError(`${who}: ${name} must be ${n} numbers (one per parameter group), got ${describe(v)}`);
  }
  v.forEach((x: unknown, i) => {
    if (typeof x !== "number" || !(Number.isFinite(x) && x >= 0)) fail(who, `${name}[${i}]`, x, "a finite number >= 0");
  });
}

/** `v` is an integer in [0, max], or throw naming `who`, the field and the value. @internal */
export function checkCount(who: string, name: string, v: unknown, max = MAX_SCHEDULER_STEP): asserts v is number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) fail(who, name, v, `an integer in [0, ${max}]`);
}

/** A short rendering of a state-dict value for an error message. */
function describe(v: unknown): string {
  return Array.isArray(v) ? `[${v.map(String).join(", ")}]` : String(v);
}

/** What a scheduler needs from a parameter group. Every optimizer's groups satisfy it. */
export interface SchedulableGroup {
  /** The learning rate: the scheduled rate times `lrScale`, written by the scheduler through {@link setScheduledLr}. */
  lr: number;
  /** The training guard's multiplier of the scheduled rate, in (0, 1]; absent means 1. */
  lrScale?: number;
  /** The group's rate at creation: the schedule's base rate. */
  readonly initialLr: number;
  /** SGD / RMSprop momentum, which `OneCycleLR` cycles. */
  momentum?: number;
  /** Adam betas; `OneCycleLR` cycles beta1. */
  betas?: [number, number];
}

/**
 * What a scheduler needs from an optimizer: every safegrad optimizer has it.
 * @example
 * const target: SchedulableOptimizer = opt;
 * new LRScheduler(target, (base) => () => base);
 */
export interface SchedulableOptimizer {
  /** The groups whose `lr` the scheduler sets. */
  readonly paramGroups: readonly SchedulableGroup[];
}

/**
 * Builds the schedule of one group from its base rate (the group's `initialLr`) and index.
 * @example
 * const halfEvery10: ScheduleFactory = (base) => (t) => base * 0.5 ** Math.floor(t / 10);
 * new LRScheduler(opt, halfEvery10);
 */
export type ScheduleFactory = (baseLr: number, groupIndex: number) => Schedule;

/**
 * Scheduler state, a subset of PyTorch's `scheduler.state_dict()` with the same keys:
 * `last_epoch` (the step count, an integer in [0, 2^31 - 1]), `base_lrs` and
 * `_last_lr` (one finite rate >= 0 per group; `_last_lr` holds the scheduled rates, before the
 * training guard's `lrScale`).
 * @example
 * const ssd: SchedulerStateDict = sched.stateDict();
 * ssd.last_epoch; // 0
 */
export interface SchedulerStateDict {
  /** Number of `step()` calls so far. */
  last_epoch: number;
  /** Each group's base rate. */
  base_lrs: number[];
  /** The scheduled rates set last, one per group. */
  _last_lr: number[];
}

/**
 * Base scheduler: on construction (step 0) and after each `step()`, sets every group's scheduled
 * lr to `schedule_g(lastEpoch)`, where `schedule_g = makeSchedule(group.initialLr, g)`; the group's
 * `lr` becomes that times the training guard's `lrScale` ({@link setScheduledLr}). A schedule that
 * gives a rate that is not a finite number >= 0 (an `ExponentialLR` that overflows, a `LambdaLR`
 * returning NaN) is an {@link OptimizerError}, thrown before anything changes.
 *
 * @example
 * const sched = new LRScheduler(opt, (base) => (t) => base / (1 + t));
 * for (let epoch = 0; epoch < 10; epoch++) { train(); opt.step(); sched.step(); }
 */
export class LRScheduler {
  /** Number of `step()` calls so far (PyTorch's `last_epoch`). */
  lastEpoch = 0;
  #baseLrs: number[];
  #schedules: Schedule[];
  #lastLr: number[] = [];

  constructor(
    /** The optimizer whose groups' `lr` this scheduler sets. */
    readonly optimizer: SchedulableOptimizer,
    /** Builds each group's schedule from its base rate (used again by `loadStateDict` and `SequentialLR`). */
    readonly makeSchedule: ScheduleFactory,
  ) {
    this.#baseLrs = optimizer.paramGroups.map((g) => g.initialLr);
    this.#schedules = this.#baseLrs.map((b, i) => makeSchedule(b, i));
    this.#apply(this.#ratesAt(this.#schedules, 0, this.constructor.name));
  }

  /**
   * Learning rates the schedule gives each group at step `t` (no side effects).
   * @example
   * new StepLR(opt, { stepSize: 10 }).lrsAt(10); // [0.01] (lr 0.1, gamma 0.1)
   */
  lrsAt(t: number): number[] {
    this.#checkGroups();
    return this.#schedules.map((s) => s(t));
  }

  #checkGroups(): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.#schedules.length) {
      throw new OptimizerError(
        `${this.constructor.name}: the optimizer has ${groups.length} parameter groups, the scheduler was built for ${this.#schedules.length}`,
      );
    }
  }

  /**
   * Advance one step and set the groups' learning rates. Call it after `optimizer.step()`.
   * @example
   * opt.step();
   * sched.step();
   * sched.lastEpoch; // 1
   */
  step(): void {
    this.#checkGroups();
    const lrs = this.#ratesAt(this.#schedules, this.lastEpoch + 1, `${this.constructor.name}.step`);
    this.lastEpoch += 1;
    this.#apply(lrs);
  }

  /**
   * Scheduled learning rates set by the last construction / `step()` / `loadStateDict()`, one per
   * group: the rates of the schedule, before the training guard's `lrScale` (equal to the groups'
   * `lr` while no guard has backed off).
   * @example
   * sched.getLastLr(); // [0.1]
   */
  getLastLr(): number[] {
    return this.#lastLr.slice();
  }

  /**
   * `{ last_epoch, base_lrs, _last_lr }`, with PyTorch's key names.
   * @example
   * const saved = sched.stateDict();
   * JSON.stringify(saved); // plain numbers: safe to store as JSON
   */
  stateDict(): SchedulerStateDict {
    return { last_epoch: this.lastEpoch, base_lrs: this.#baseLrs.slice(), _last_lr: this.#lastLr.slice() };
  }

  /**
   * Resume from {@link stateDict} (extra keys of a PyTorch scheduler state are ignored). Rebuilds
   * the schedules from `base_lrs` and sets the groups' lr for `last_epoch`, so the optimizer's lr
   * is consistent even if its own state was not restored. Validates everything before changing
   * anything: `last_epoch` an integer in [0, 2^31 - 1], `base_lrs` and
   * `_last_lr` one finite number >= 0 per group, and the rates the schedules give at `last_epoch`
   * finite and >= 0; otherwise an {@link OptimizerError} names the field and its value.
   * @example
   * for (let i = 0; i < 10; i++) sched.step();
   * const resumed = new StepLR(opt2, { stepSize: 10 });
   * resumed.loadStateDict(sched.stateDict());
   * opt2.paramGroups[0]!.lr; // ≈ 0.01, as in the original run
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const who = `${this.constructor.name}.loadStateDict`;
    if (typeof sd !== "object" || sd === null || Array.isArray(sd)) throw new OptimizerError(`${who}: expected an object`);
    checkCount(who, "last_epoch", sd.last_epoch);
    const n = this.optimizer.paramGroups.length;
    const bases: unknown = sd.base_lrs ?? this.#baseLrs;
    checkRates(who, "base_lrs", bases, n);
    if (sd._last_lr !== undefined) checkRates(who, "_last_lr", sd._last_lr, n);
    const at = `${who}: last_epoch ${sd.last_epoch} with base_lrs ${describe(bases)}`;
    let schedules: Schedule[];
    let lrs: number[];
    try {
      schedules = bases.map((b, i) => this.makeSchedule(b, i));
      lrs = this.#ratesAt(schedules, sd.last_epoch, at);
    } catch (e) {
      if (e instanceof OptimizerError && !e.message.startsWith(at)) throw new OptimizerError(`${at}: ${e.message}`);
      throw e;
    }
    this.#baseLrs = bases.slice();
    this.#schedules = schedules;
    this.lastEpoch = sd.last_epoch;
    this.#apply(lrs);
  }

  /** The schedules' rates at step t, each a finite number >= 0, or an OptimizerError starting with `who`. */
  #ratesAt(schedules: readonly Schedule[], t: number, who: string): number[] {
    const lrs = schedules.map((s) => s(t));
    lrs.forEach((lr, i) => {
      if (typeof lr !== "number" || !(Number.isFinite(lr) && lr >= 0)) {
        throw new OptimizerError(`${who}: the schedule gives parameter group ${i} the lr ${String(lr)} at step ${t}: expected a finite number >= 0`);
      }
    });
    return lrs;
  }

  #apply(lrs: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => setScheduledLr(g, lrs[i]!));
    this.#lastLr = lrs;
  }
}

/**
 * Decay by `gamma` every `stepSize` steps ({@link stepLR}).
 *
 * @example
 * const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 });
 */
export class StepLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: StepLROptions) {
    super(optimizer, (base) => stepLR(base, options));
  }
}

/**
 * Decay by `gamma` at each milestone ({@link multiStepLR}).
 *
 * @example
 * const sched = new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 });
 */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: MultiStepLROptions) {
    super(optimizer, (base) => multiStepLR(base, options));
  }
}

/**
 * Decay by `gamma` every step ({@link exponentialLR}).
 *
 * @example
 * const sched = new ExponentialLR(opt, { gamma: 0.95 });
 */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: ExponentialLROptions) {
    super(optimizer, (base) => exponentialLR(base, options));
  }
}

/**
 * Constant factor for the first `totalIters` steps ({@link constantLR}).
 *
 * @example
 * const sched = new ConstantLR(opt, { factor: 0.5, totalIters: 4 });
 */
export class ConstantLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: ConstantLROptions = {}) {
    super(optimizer, (base) => constantLR(base, options));
  }
}

/**
 * Linear change of the factor, typically a warm-up ({@link linearLR}).
 *
 * @example
 * const sched = new LinearLR(opt, { startFactor: 0.1, totalIters: 10 });
 */
export class LinearLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: LinearLROptions = {}) {
    super(optimizer, (base) => linearLR(base, options));
  }
}

/**
 * Polynomial decay to 0 over `totalIters` steps ({@link polynomialLR}).
 *
 * @example
 * const sched = new PolynomialLR(opt, { totalIters: 100, power: 2 });
 */
export class PolynomialLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: PolynomialLROptions = {}) {
    super(optimizer, (base) => polynomialLR(base, options));
  }
}

/**
 * Cosine annealing ({@link cosineAnnealingLR}).
 *
 * @example
 * const sched = new CosineAnnealingLR(opt, { tMax: 100, etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer, (base) => cosineAnnealingLR(base, options));
  }
}

/**
 * Cosine annealing with warm restarts, SGDR ({@link cosineAnnealingWarmRestarts}).
 *
 * @example
 * const sched = new CosineAnnealingWarmRestarts(opt, { t0: 10, tMult: 2 });
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super(optimizer, (base) => cosineAnnealingWarmRestarts(base, options));
  }
}

/**
 * `initialLr * lrLambda(t)`, one lambda for all groups or one per group ({@link lambdaLR}).
 *
 * @example
 * const sched = new LambdaLR(opt, (t) => 1 / (1 + 0.1 * t));
 */
export class LambdaLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, lrLambda: LrLambda | readonly LrLambda[]) {
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== n) {
      throw new OptimizerError(`LambdaLR: expected ${n} lrLambdas, got ${lrLambda.length}`);
    }
    const pick = (i: number): LrLambda =>
      Array.isArray(lrLambda) ? (lrLambda as readonly LrLambda[])[i]! : (lrLambda as LrLambda);
    super(optimizer, (base, i) => lambdaLR(base, pick(i)));
  }
}

/** Options of {@link SequentialLR}. */
export interface SequentialLROptions {
  /** Schedulers of the same optimizer; only their schedules are used, they need not be stepped. */
  schedulers: readonly LRScheduler[];
  /** Ascending steps at which the next scheduler takes over (restarted from its step 0). */
  milestones: readonly number[];
}

/**
 * Chain schedulers at milestones ({@link sequentialLR}), e.g. warm-up then cosine.
 *
 * @example
 * const warm = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cos = new CosineAnnealingLR(opt, { tMax: 95 });
 * const sched = new SequentialLR(opt, { schedulers: [warm, cos], milestones: [5] });
 */
export class SequentialLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, { schedulers, milestones }: SequentialLROptions) {
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new OptimizerError(`SequentialLR: schedulers[${i}] has a different optimizer`);
      }
    });
    const subs = [...schedulers];
    const ms = [...milestones];
    super(optimizer, (base, g) =>
      sequentialLR(
        subs.map((s) => s.makeSchedule(base, g)),
        ms,
      ),
    );
  }
}

/** Options of {@link OneCycleLR}. */
export interface OneCycleLROptions extends OneCycleOptions {
  /** Peak learning rate, one for all groups or one per group (required). */
  maxLr: number | readonly number[];
  /** Also cycle the momentum (SGD/RMSprop `momentum`, Adam `betas[0]`); default true as in PyTorch. */
  cycleMomentum?: boolean;
  /** Momentum at the peak of the rate, per group or one for all (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Momentum at the start and end of the cycle, per group or one for all (default 0.95). */
  maxMomentum?: number | readonly number[];
}

/** @internal One value per parameter group: a number for all n, or a list of exactly n. */
export function perGroup(who: string, name: string, v: number | readonly number[], n: number): number[] {
  if (typeof v === "number") return new Array<number>(n).fill(v);
  if (v.length !== n) throw new OptimizerError(`${who}: expected ${n} values for ${name}, got ${v.length}`);
  return [...v];
}

/**
 * The 1cycle policy ({@link oneCycleLR}); with `cycleMomentum` (default) it also sets each group's
 * momentum / beta1 from {@link oneCycleMomentum}, like PyTorch. The groups' `initialLr` is not
 * used: the cycle is defined by `maxLr`, `divFactor` and `finalDivFactor`.
 *
 * @example
 * const cycle = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: epochs.length * batchesPerEpoch });
 * // call cycle.step() after every batch
 * opt.paramGroups[0]!.lr; // 0.004 = maxLr / divFactor
 */
export class OneCycleLR extends LRScheduler {
  readonly #momentumSchedules: Schedule[] | null;

  constructor(optimizer: SchedulableOptimizer, options: OneCycleLROptions) {
    const n = optimizer.paramGroups.length;
    const maxLrs = perGroup("OneCycleLR", "maxLr", options.maxLr, n);
    super(optimizer, (_base, g) => oneCycleLR(maxLrs[g]!, options));
    if (options.cycleMomentum ?? true) {
      optimizer.paramGroups.forEach((group, g) => {
        if (typeof group.momentum !== "number" && !Array.isArray(group.betas)) {
          throw new OptimizerError(
            `OneCycleLR: parameter group ${g} has neither momentum nor betas; pass cycleMomentum: false`,
          );
        }
      });
      const base = perGroup("OneCycleLR", "baseMomentum", options.baseMomentum ?? 0.85, n);
      const max = perGroup("OneCycleLR", "maxMomentum", options.maxMomentum ?? 0.95, n);
      this.#momentumSchedules = base.map((b, g) =>
        oneCycleMomentum({ ...options, baseMomentum: b, maxMomentum: max[g]! }),
      );
      this.#applyMomentum();
    } else {
      this.#momentumSchedules = null;
    }
  }

  override step(): void {
    super.step();
    this.#applyMomentum();
  }

  override loadStateDict(sd: SchedulerStateDict): void {
    super.loadStateDict(sd);
    this.#applyMomentum();
  }

  #applyMomentum(): void {
    const schedules = this.#momentumSchedules;
    if (schedules === null) return;
    this.optimizer.paramGroups.forEach((group, g) => {
      const m = schedules[g]!(this.lastEpoch);
      if (Array.isArray(group.betas)) group.betas = [m, group.betas[1]];
      else group.momentum = m;
    });
  }
}
