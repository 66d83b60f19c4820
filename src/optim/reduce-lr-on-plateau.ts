import { checkCount, checkRates, perGroup, type SchedulableOptimizer } from "./lr-scheduler.js";
import { scheduledLr, setScheduledLr } from "./lr.js";
import { fail, OptimizerError, withDefaults } from "./types.js";

/** Options of {@link ReduceLROnPlateau}; defaults as in PyTorch. */
export interface ReduceLROnPlateauOptions {
  /** "min": the metric should decrease (a loss); "max": it should increase (an accuracy). Default "min". */
  mode?: "min" | "max";
  /** new lr = lr * factor, must be < 1. Default 0.1. */
  factor?: number;
  /** Steps without improvement tolerated before reducing. Default 10. */
  patience?: number;
  /** Minimum significant improvement. Default 1e-4. */
  threshold?: number;
  /** "rel": best * (1 ∓ threshold); "abs": best ∓ threshold. Default "rel". */
  thresholdMode?: "rel" | "abs";
  /** Steps to wait after a reduction before counting bad steps again. Default 0. */
  cooldown?: number;
  /** Lower bound on the lr, one for all groups or one per group. Default 0. */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped. Default 1e-8. */
  eps?: number;
}

/** State of {@link ReduceLROnPlateau}, with the keys of PyTorch's `state_dict()`. */
export interface ReduceLROnPlateauStateDict {
  /** The `mode` setting. */
  mode: "min" | "max";
  /** The `factor` setting. */
  factor: number;
  /** The `patience` setting. */
  patience: number;
  /** The `threshold` setting. */
  threshold: number;
  /** The `thresholdMode` setting. */
  threshold_mode: "rel" | "abs";
  /** The `cooldown` setting. */
  cooldown: number;
  /** The lower bound of each group's lr. */
  min_lrs: number[];
  /** The `eps` setting. */
  eps: number;
  /** Best metric so far. */
  best: number;
  /** Steps since the last significant improvement. */
  num_bad_epochs: number;
  /** Steps of cooldown left. */
  cooldown_counter: number;
  /** Number of `step()` calls so far. */
  last_epoch: number;
  /** The groups' scheduled rates after the last step (before the training guard's `lrScale`). */
  _last_lr: number[];
}

/**
 * Reduce each group's lr by `factor` when a metric has stopped improving for more than
 * `patience` steps, exactly as PyTorch's `ReduceLROnPlateau`.
 *
 * Like every scheduler it sets the groups' *scheduled* lr ({@link setScheduledLr}), so the
 * training guard's backoff scale applies on top: a reduction multiplies the scheduled lr (the
 * one it set last, or the one you or another scheduler set since; never the lr the guard scaled
 * down) and the group's lr becomes that times `lrScale`. Give it to `Trainer` / `TrainingGuard`
 * to have it stepped with each step's loss, or step it yourself (e.g. once per epoch with a
 * validation loss): either way the guard's scale holds.
 *
 * @example
 * const sched = new ReduceLROnPlateau(opt, { mode: "min", patience: 5 });
 * for (const epoch of epochs) { train(); sched.step(validationLoss()); }
 */
export class ReduceLROnPlateau {
  /** "min": the metric should decrease; "max": it should increase. */
  declare readonly mode: "min" | "max";
  /** Multiplier applied to the lr on a plateau (< 1). */
  declare readonly factor: number;
  /** Steps without improvement tolerated before reducing. */
  declare readonly patience: number;
  /** Minimum significant improvement. */
  declare readonly threshold: number;
  /** Whether `threshold` is relative to `best` or absolute. */
  declare readonly thresholdMode: "rel" | "abs";
  /** Steps to wait after a reduction before counting bad steps again. */
  declare readonly cooldown: number;
  /** Lower bound of each group's lr. */
  declare readonly minLrs: number[];
  /** Reductions smaller than this are skipped. */
  declare readonly eps: number;
  /** Best metric so far (±Infinity before the first step). */
  declare best: number;
  /** Steps since the last significant improvement (PyTorch's `num_bad_epochs`). */
  numBadEpochs = 0;
  /** Steps of cooldown left. */
  cooldownCounter = 0;
  /** Number of `step()` calls so far. */
  lastEpoch = 0;
  #lastLr: number[];

  constructor(
    /** The optimizer whose groups' `lr` this scheduler reduces. */
    readonly optimizer: SchedulableOptimizer,
    options: ReduceLROnPlateauOptions = {},
  ) {
    const who = "ReduceLROnPlateau";
    const s: Settings = {
      ...withDefaults<Omit<Settings, "minLrs" | "eps">>(options, { mode: "min", factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: "rel", cooldown: 0 }),
      minLrs: perGroup(who, "minLr", options.minLr ?? 0, optimizer.paramGroups.length),
      eps: options.eps ?? 1e-8,
    };
    checkSettings(who, s);
    Object.assign(this, s);
    this.best = this.mode === "min" ? Infinity : -Infinity;
    this.#lastLr = optimizer.paramGroups.map(scheduledLr);
  }

  /**
   * Whether `a` improves significantly on `best` (by `threshold`, in the direction of `mode`).
   * @example
   * const plateau = new ReduceLROnPlateau(opt);
   * plateau.isBetter(0.5, 1); // true
   * plateau.isBetter(0.99999, 1); // false: less than the relative threshold 1e-4
   */
  isBetter(a: number, best: number): boolean {
    if (this.mode === "min") {
      return this.thresholdMode === "rel" ? a < best * (1 - this.threshold) : a < best - this.threshold;
    }
    return this.thresholdMode === "rel" ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /**
   * Feed this step's metric; reduces the groups' scheduled lr when the plateau has lasted >
   * patience steps.
   * @example
   * const plateau = new ReduceLROnPlateau(opt, { patience: 1 });
   * for (const v of [1, 1, 1]) plateau.step(v);
   * opt.paramGroups[0]!.lr; // ≈ 0.01: reduced once
   */
  step(metric: number): void {
    const current = Number(metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const oldLr = scheduledLr(g);
        const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
        if (oldLr - newLr > this.eps) setScheduledLr(g, newLr);
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.#lastLr = this.optimizer.paramGroups.map(scheduledLr);
  }

  /**
   * The groups' scheduled learning rates after the last step (before any step: the rates they had
   * when it was built), before the training guard's `lrScale`.
   * @example
   * new ReduceLROnPlateau(opt).getLastLr(); // [0.1]
   */
  getLastLr(): number[] {
    return this.#lastLr.slice();
  }

  /**
   * Settings and counters with PyTorch's keys.
   * @example
   * const plateau = new ReduceLROnPlateau(opt);
   * plateau.step(0.5);
   * plateau.stateDict().best; // 0.5
   */
  stateDict(): ReduceLROnPlateauStateDict {
    return {
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      cooldown: this.cooldown,
      min_lrs: this.minLrs.slice(),
      eps: this.eps,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      cooldown_counter: this.cooldownCounter,
      last_epoch: this.lastEpoch,
      _last_lr: this.#lastLr.slice(),
    };
  }

  /**
   * Restore {@link stateDict}. Does not touch the groups' lr (as in PyTorch, the optimizer's state
   * restores it). Everything is validated first and nothing changes on an error (an
   * {@link OptimizerError} naming the field and its value): the settings as for the constructor,
   * with every number finite; `min_lrs` and `_last_lr` one finite number >= 0 per group; `best` a
   * finite number (or absent / null / the starting ±Infinity of the mode); `last_epoch` an integer
   * in [0, 2^31 - 1], `num_bad_epochs` in [0, patience], `cooldown_counter` in [0, cooldown].
   * @example
   * const plateau = new ReduceLROnPlateau(opt);
   * plateau.step(0.5);
   * const resumed = new ReduceLROnPlateau(opt2);
   * resumed.loadStateDict(plateau.stateDict());
   * resumed.best; // 0.5
   */
  loadStateDict(sd: ReduceLROnPlateauStateDict): void {
    const who = "ReduceLROnPlateau.loadStateDict";
    if (typeof sd !== "object" || sd === null || Array.isArray(sd)) throw new OptimizerError(`${who}: expected an object`);
    const n = this.optimizer.paramGroups.length;
    checkRates(who, "min_lrs", sd.min_lrs, n);
    const s: Settings = {
      mode: sd.mode,
      factor: sd.factor,
      patience: sd.patience,
      threshold: sd.threshold,
      thresholdMode: sd.threshold_mode,
      cooldown: sd.cooldown,
      minLrs: sd.min_lrs.slice(),
      eps: sd.eps,
    };
    checkSettings(who, s);
    // JSON turns ±Infinity into null: an absent best means "no metric seen yet".
    const start = sd.mode === "min" ? Infinity : -Infinity;
    const best: unknown = sd.best ?? start;
    if (typeof best !== "number" || !(Number.isFinite(best) || best === start)) {
      fail(who, "best", best, `a finite number (or ${start} before the first metric)`);
    }
    checkCount(who, "last_epoch", sd.last_epoch);
    checkCount(who, "num_bad_epochs", sd.num_bad_epochs, s.patience);
    checkCount(who, "cooldown_counter", sd.cooldown_counter, s.cooldown);
    if (sd._last_lr !== undefined) checkRates(who, "_last_lr", sd._last_lr, n);
    Object.assign(this, s);
    this.best = best;
    this.numBadEpochs = sd.num_bad_epochs;
    this.cooldownCounter = sd.cooldown_counter;
    this.lastEpoch = sd.last_epoch;
    this.#lastLr = sd._last_lr !== undefined ? sd._last_lr.slice() : this.optimizer.paramGroups.map(scheduledLr);
  }
}

/** The settings a state dict restores, by their field names. */
type Settings = Pick<ReduceLROnPlateau, "mode" | "factor" | "patience" | "threshold" | "thresholdMode" | "cooldown" | "minLrs" | "eps">;

function checkSettings(who: string, s: Settings): void {
  if (s.mode !== "min" && s.mode !== "max") fail(who, "mode", s.mode, '"min" or "max"');
  if (s.thresholdMode !== "rel" && s.thresholdMode !== "abs") fail(who, "thresholdMode", s.thresholdMode, '"rel" or "abs"');
  if (typeof s.factor !== "number" || !(s.factor >= 0 && s.factor < 1)) fail(who, "factor", s.factor, "a number in [0, 1)");
  checkCount(who, "patience", s.patience);
  checkCount(who, "cooldown", s.cooldown);
  if (typeof s.threshold !== "number" || !(Number.isFinite(s.threshold) && s.threshold >= 0)) fail(who, "threshold", s.threshold, "a finite number >= 0");
  if (typeof s.eps !== "number" || !(Number.isFinite(s.eps) && s.eps >= 0)) fail(who, "eps", s.eps, "a finite number >= 0");
  s.minLrs.forEach((m, i) => {
    if (typeof m !== "number" || !(Number.isFinite(m) && m >= 0)) fail(who, `minLr[${i}]`, m, "a finite number >= 0");
  });
}
