/**
 * The always-on training guard and a Trainer loop built on it.
 *
 * The guard checks the loss and the global gradient norm every step (the norm is computed anyway
 * for clipping, in the same pass as the per-parameter norms and non-finite counts), and applies a
 * recovery policy when either is non-finite. It costs nothing more until something fails: then it
 * re-runs the same batch once with anomaly detection on, to say where the NaN was born.
 */
import { SafegradError, ValueError } from "../errors.js";
import { gradNormStats, scaleGradients, type GradNormStats } from "../optim/clip-grad.js";
import { scheduledLr, setLrScale } from "../optim/lr.js";
import { ReduceLROnPlateau } from "../optim/reduce-lr-on-plateau.js";
import { withDefaults, type OptimizerStateDict } from "../optim/types.js";
import { defaultGenerator } from "../tensor/random.js";
import { detectAnomaly } from "./anomaly.js";
import { audit, type AuditInput, type AuditOptions, type AuditReport } from "./audit.js";
import { explodingGradientHint } from "./hints.js";
import { AnomalyError, AnomalyReport } from "./report.js";
import { markModified } from "../tensor/version.js";
import { noGrad } from "../autograd/grad-mode.js";
import type { Batch } from "../data/loader.js";
import type { LabelArray } from "../data/dataset.js";
import type { StateDict } from "../layers/module.js";
import { cat } from "../ops/shape.js";
import type { FloatArray } from "../tensor/dtype.js";
import { shapeStr } from "../tensor/shape.js";
import { Tensor, isTensor } from "../tensor/tensor.js";
import type { GuardEvent, NonFinitePolicy, StepResult } from "./events.js";

export type { GuardEvent, NonFinitePolicy, StepResult } from "./events.js";
import { MetricAccumulator, type Metrics } from "./metrics.js";
import { Progress, defaultWriter, type ProgressWriter } from "./progress.js";


/** What the guard needs of an optimizer (every safegrad optimizer has it). */
export interface GuardedOptimizer {
  /** The groups whose `lr` backoff scales (through their `lrScale`, owned by the guard). */
  paramGroups: { lr: number; lrScale?: number }[];
  /** Update the parameters. */
  step(): void;
  /** Drop the gradients (after a skipped step). */
  zeroGrad(): void;
  /** Snapshot the state (for rollback). */
  stateDict(): OptimizerStateDict;
  /** Restore a snapshot (for rollback). */
  loadStateDict(sd: OptimizerStateDict): void;
}
/** What the guard needs of a scheduler (every safegrad scheduler has it, `ReduceLROnPlateau` included). */
export interface GuardedScheduler {
  /**
   * Advance the schedule (after each good step): `step()`, or `step(loss)` for a scheduler
   * stepped with a metric (see `GuardOptions.schedulerStep`).
   */
  step(metric?: number): void;
  /** The scheduled learning rates, one per group, before the guard's scale (backoff scales them). */
  getLastLr(): number[];
  /** Snapshot the state (for rollback). */
  stateDict(): unknown;
  /** Restore a snapshot (for rollback). */
  loadStateDict(sd: any): void;
}

/** Options of {@link TrainingGuard} (and of {@link Trainer}, which passes them on). */
export interface GuardOptions {
  /** What to do on a non-finite loss or gradient (default "throw"). */
  onNonFinite?: NonFinitePolicy;
  /** Clip the global gradient norm to this (default: no clipping). */
  maxNorm?: number;
  /** Order of the gradient norm that is checked and clipped (default 2). */
  normType?: number;
  /** backoff/rollback: multiply the guard's `lrScale` by this on each failure (default 0.5)... */
  backoffFactor?: number;
  /** ...but never below this fraction of the scheduled lr (default 1e-6; in (0, 1]). */
  minLrScale?: number;
  /**
   * When and how `scheduler` is stepped. Per batch (after each good optimizer step; a skipped
   * step does not advance it): "step" calls `scheduler.step()`; "loss" calls
   * `scheduler.step(loss)` with the step's loss as the metric (a `ReduceLROnPlateau` fed the
   * training loss, once per optimizer step). Per epoch: "epoch" steps it once at the end of each
   * epoch, through {@link TrainingGuard.endEpoch} (`Trainer.fit` calls it): a `ReduceLROnPlateau`
   * with the epoch's validation loss (or the value `TrainerOptions.schedulerMonitor` names),
   * any other scheduler with `step()` (a schedule counted in epochs, as PyTorch's usual
   * `scheduler.step()` after each epoch). "manual" never steps it (step it yourself: the guard
   * still rolls it back with the model, and its lr still respects the guard's scale).
   * Default: "loss" for a {@link ReduceLROnPlateau}, "step" (per batch) for every other
   * scheduler; pass "epoch" for the usual per-epoch plateau.
   */
  schedulerStep?: SchedulerStep;
  /**
   * rollback/backoff: snapshot parameters and optimizer state every N good steps (default 1 for
   * rollback, 10 for backoff).
   */
  snapshotEvery?: number;
  /**
   * rollback/backoff: a state is snapshotted only while its loss is at most this multiple of the
   * lowest loss snapshotted so far (default 2): a finite but diverging state is no place to roll
   * back to.
   */
  snapshotMaxLossRatio?: number;
  /**
   * backoff: after this many non-finite steps in a row the weights themselves are broken (skipping
   * cannot help when the forward pass already overflows), so restore the last snapshot (default 3).
   */
  escalateAfter?: number;
  /** Give up (throw) after this many non-finite steps in a row (default 20). */
  maxConsecutiveFailures?: number;
  /** Early warning: a gradient norm more than k standard deviations above its running mean (default 6). */
  spikeStdDevs?: number;
  /** Steps before spike warnings start (default 10). */
  spikeWarmup?: number;
  /** Re-run the failing batch with anomaly detection for a report (default true). */
  diagnose?: boolean;
  /** Seed recorded in reports (default: none; the guard does not seed anything). */
  seed?: number;
  /** Called with every step, warning, non-finite and rollback event (default: none). */
  onEvent?: (event: GuardEvent) => void;
}

/**
 * When the guard steps its scheduler (see {@link GuardOptions.schedulerStep}): per batch
 * ("step", "loss"), per epoch ("epoch"), or never ("manual").
 * @example
 * const when: SchedulerStep = "epoch";
 * new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: new ReduceLROnPlateau(opt), schedulerStep: when });
 */
export type SchedulerStep = "step" | "loss" | "epoch" | "manual";



/**
 * Thrown by the "throw" policy (and when recovery gives up); `report` says where the NaN was born.
 * @example
 * const guard = new TrainingGuard(model.namedParameters(), opt); // policy "throw"
 * try {
 *   guard.step(NaN);
 * } catch (e) {
 *   if (e instanceof NonFiniteError) e.step; // 0
 * }
 */
export class NonFiniteError extends SafegradError {
  override readonly code: string = "NON_FINITE";
  /** The diagnosis (null when the failing batch could not be re-run). */
  declare readonly report: AnomalyReport | null;
  /** The guard's step count when it failed. */
  declare readonly step: number;
  constructor(step: number, message: string, report: AnomalyReport | null) {
    super("guard", `${message}${report ? "\n" + report.toString() : ""}`);
    this.report = report;
    this.step = step;
  }
}

interface Snapshot {
  step: number;
  params: Float32Array[] | Float64Array[];
  optimizer: OptimizerStateDict;
  scheduler: unknown;
}

/**
 * Guards optimizer steps: call `guard.step(loss, rerun)` after `loss.backward()` instead of
 * `optimizer.step()`. It checks the loss and the global gradient norm, clips, steps the optimizer
 * and scheduler, warns on gradient-norm spikes, and applies the {@link NonFinitePolicy} when
 * something is non-finite.
 * @example
 * const guard = new TrainingGuard(model.namedParameters(), opt, sched, { onNonFinite: "backoff", maxNorm: 1 });
 * const l = lossFn(model.forward(x), y);
 * l.backward();
 * guard.step(l.item()); // clips, checks, steps optimizer and scheduler, or recovers
 */
export class TrainingGuard {
  /** The options with their defaults filled in. */
  declare readonly options: Required<Omit<GuardOptions, "maxNorm" | "onEvent" | "seed">> & Pick<GuardOptions, "maxNorm" | "onEvent" | "seed">;
  /** Optimizer steps taken (skipped steps excluded). */
  stepCount = 0;
  /** Calls to step(), including skipped ones. */
  attempts = 0;
  /** Steps skipped because of a non-finite loss or gradient. */
  skipped = 0;
  /** Non-finite steps in a row (0 after a good step). */
  consecutiveFailures = 0;
  /** Recent global gradient norms, oldest first. */
  readonly normHistory: number[] = [];
  #lrScale: number;
  #snapshot: Snapshot | null = null;
  #bestSnapshotLoss = Infinity;
  #mean = 0;
  #m2 = 0;
  #nGood = 0;
  #paramMeans: number[] = [];

  constructor(
    /** The named parameters checked and clipped (`model.namedParameters()`). */
    readonly params: readonly (readonly [string, Tensor])[],
    /** The optimizer stepped on good steps. */
    readonly optimizer: GuardedOptimizer,
    /** The scheduler stepped after each good step, or null. */
    readonly scheduler: GuardedScheduler | null = null,
    options: GuardOptions = {},
  ) {
    this.options = {
      ...withDefaults<Required<Omit<GuardOptions, "maxNorm" | "onEvent" | "seed">>>(options, {
        onNonFinite: "throw",
        normType: 2,
        backoffFactor: 0.5,
        minLrScale: 1e-6,
        snapshotEvery: options.onNonFinite === "backoff" ? 10 : 1,
        escalateAfter: 3,
        snapshotMaxLossRatio: 2,
        maxConsecutiveFailures: 20,
        spikeStdDevs: 6,
        spikeWarmup: 10,
        diagnose: true,
        schedulerStep: scheduler instanceof ReduceLROnPlateau ? "loss" : "step",
      }),
      maxNorm: options.maxNorm,
      onEvent: options.onEvent,
      seed: options.seed,
    };
    const o = this.options;
    if (!(o.backoffFactor > 0 && o.backoffFactor < 1)) throw new SafegradError("TrainingGuard", `backoffFactor must be in (0, 1), got ${o.backoffFactor}`);
    if (!(o.minLrScale > 0 && o.minLrScale <= 1)) throw new SafegradError("TrainingGuard", `minLrScale must be in (0, 1], got ${o.minLrScale}`);
    if (!["step", "loss", "epoch", "manual"].includes(o.schedulerStep)) {
      throw new SafegradError("TrainingGuard", `schedulerStep must be "step", "loss", "epoch" or "manual", got ${String(o.schedulerStep)}`);
    }
    // A guard taking over groups that an earlier guard scaled continues from that scale.
    this.#lrScale = Math.min(1, ...optimizer.paramGroups.map((g) => g.lrScale ?? 1));
    if (this.#keepsSnapshots()) this.#takeSnapshot();
  }

  /**
   * The guard's multiplier of the scheduled learning rate, in (0, 1]: 1 until a non-finite step,
   * then multiplied by `backoffFactor` on each failure ("backoff", "rollback"), never below
   * `minLrScale`. It is stored on every parameter group as `group.lrScale`, and every group's
   * lr is `scheduled lr * lrScale`, whoever steps the schedule: the guard, `Trainer`, or you by
   * hand (every safegrad scheduler, `ReduceLROnPlateau` included, writes the lr through
   * `setScheduledLr`). Without a scheduler the scheduled lr is the lr the group had when the
   * guard took over, or the one you set since. So a recovery never raises the lr above the
   * schedule. Assigning it (a number in (0, 1]) rewrites the lrs at once: `guard.lrScale = 1`
   * undoes the backoff.
   */
  get lrScale(): number {
    return this.#lrScale;
  }
  set lrScale(scale: number) {
    this.#applyScale(scale);
  }

  /** The scheduled lr of each group: the scheduler's, or what the groups hold (see lrScale). */
  #scheduledLrs(): number[] {
    return this.scheduler ? this.scheduler.getLastLr() : this.optimizer.paramGroups.map(scheduledLr);
  }

  /** Set the scale on every group and rewrite their lr as scheduled lr * scale. */
  #applyScale(scale: number, scheduled: readonly number[] = this.#scheduledLrs()): void {
    this.optimizer.paramGroups.forEach((g, i) => setLrScale(g, scale, scheduled[i] ?? scheduledLr(g)));
    this.#lrScale = scale;
  }

  #keepsSnapshots(): boolean {
    return this.options.onNonFinite === "rollback" || this.options.onNonFinite === "backoff";
  }

  #emit(e: GuardEvent): void {
    this.options.onEvent?.(e);
  }

  #takeSnapshot(): void {
    this.#snapshot = {
      step: this.stepCount,
      params: this.params.map(([, p]) => p.storage.slice()) as Float32Array[],
      optimizer: structuredClone(this.optimizer.stateDict()),
      scheduler: this.scheduler ? structuredClone(this.scheduler.stateDict()) : null,
    };
  }

  #restoreSnapshot(): void {
    const s = this.#snapshot;
    if (!s) return;
    this.params.forEach(([, p], i) => {
      p.storage.set(s.params[i]!);
      markModified(p);
    });
    this.optimizer.loadStateDict(structuredClone(s.optimizer));
    if (this.scheduler && s.scheduler) this.scheduler.loadStateDict(structuredClone(s.scheduler));
    this.#emit({ type: "rollback", step: this.stepCount, toStep: s.step });
    this.stepCount = s.step;
  }

  #diagnose(rerun: (() => void) | undefined): AnomalyReport | null {
    let report: AnomalyReport | null = null;
    if (rerun && this.options.diagnose) {
      try {
        detectAnomaly(rerun);
      } catch (e) {
        if (!(e instanceof AnomalyError)) throw e;
        report = e.report;
      }
    }
    const hist = this.normHistory.slice(-4);
    const exploding = explodingGradientHint(hist);
    if (report) {
      report.step = this.stepCount;
      if (this.options.seed !== undefined) report.seed = this.options.seed;
      report.gradNormHistory = hist;
      if (exploding && (!report.hint || report.hint.hazard === "overflow" || report.hint.hazard === "divergence" || report.hint.hazard === "non-finite input")) report.hint = exploding;
    }
    return report;
  }

  /**
   * Check the step's loss and gradients, clip, and step the optimizer and scheduler; or apply
   * the recovery policy. `rerun` re-computes the same batch's loss and backward (the Trainer
   * passes it); it is called only on the first failure, with anomaly detection on.
   * `context.batch` is recorded in the report.
   * @example
   * const guard = new TrainingGuard(model.namedParameters(), opt, null, { onNonFinite: "skip", maxNorm: 1 });
   * const run = () => lossFn(model.forward(x), y).backward();
   * opt.zeroGrad();
   * run();
   * const r = guard.step(loss.item(), () => {
   *   opt.zeroGrad();
   *   run();
   * });
   * r.status; // "ok"
   */
  step(loss: number, rerun?: () => void, context: { batch?: unknown } = {}): StepResult {
    this.attempts++;
    const stats = gradNormStats(this.params, this.options.normType);
    const norm = stats.totalNorm;
    this.normHistory.push(norm);
    if (this.normHistory.length > 50) this.normHistory.shift();
    if (Number.isFinite(loss) && Number.isFinite(norm)) return this.#goodStep(loss, stats);

    // ---------------- non-finite
    this.consecutiveFailures++;
    const policy = this.options.onNonFinite;
    const report = this.consecutiveFailures === 1 || policy === "throw" ? this.#diagnose(rerun) : null;
    if (report && context.batch !== undefined) report.batch = context.batch;
    const failedAt = this.stepCount;
    const what = `step ${this.stepCount}: ${Number.isFinite(loss) ? "" : `loss is ${loss}; `}gradient norm is ${norm}`;
    if (policy === "throw") throw new NonFiniteError(this.stepCount, what, report);
    if (this.consecutiveFailures > this.options.maxConsecutiveFailures) {
      throw new NonFiniteError(this.stepCount, `${what}; giving up after ${this.consecutiveFailures} non-finite steps in a row`, report);
    }
    this.optimizer.zeroGrad();
    this.skipped++;
    // The schedule as it stands: a restore below puts back the optimizer's lr of the snapshot, but
    // a schedule the guard does not roll back (none given, stepped by hand) has moved on since.
    const scheduled = this.#scheduledLrs();
    if (policy === "rollback" || (policy === "backoff" && this.consecutiveFailures % this.options.escalateAfter === 0)) this.#restoreSnapshot();
    if (this.#keepsSnapshots()) {
      const scale = Math.max(this.#lrScale * this.options.backoffFactor, this.options.minLrScale);
      // With a scheduler, its (possibly rolled back) rates; otherwise the rates from before the restore.
      this.#applyScale(scale, this.scheduler ? this.#scheduledLrs() : scheduled);
    }
    this.#emit({ type: "nonFinite", step: failedAt, loss, gradNorm: norm, policy, report, lrScale: this.#lrScale });
    return { status: "skipped", step: this.stepCount, loss, gradNorm: norm, stats, report };
  }

  #goodStep(loss: number, stats: GradNormStats): StepResult {
    const norm = stats.totalNorm;
    this.consecutiveFailures = 0;
    const spiking = this.#checkSpike(stats);
    const maxNorm = this.options.maxNorm;
    let clipped = false;
    if (maxNorm !== undefined && norm > maxNorm) {
      // The same coefficient as clipGradNorm; the norm was computed once, by gradNormStats above.
      scaleGradients(this.params.map(([, p]) => p), maxNorm / (norm + 1e-6));
      clipped = true;
    }
    // NOTE: the snapshot is of the state whose loss and gradients were just verified finite, taken
    // before the update: the state after an update is not known to be good until the next step.
    // A state whose gradient norm spikes is finite but already exploding: it is not snapshotted.
    const lossOk = loss <= this.options.snapshotMaxLossRatio * this.#bestSnapshotLoss || !Number.isFinite(this.#bestSnapshotLoss);
    if (this.#keepsSnapshots() && !spiking && lossOk && this.stepCount % this.options.snapshotEvery === 0) {
      this.#takeSnapshot();
      this.#bestSnapshotLoss = Math.min(this.#bestSnapshotLoss, Math.abs(loss));
    }
    this.optimizer.step();
    this.stepCount++;
    const how = this.options.schedulerStep;
    if (how === "loss") this.#stepScheduler(loss);
    else if (how === "step") this.#stepScheduler();
    this.#emit({ type: "step", step: this.stepCount, loss, gradNorm: norm, lr: this.optimizer.paramGroups[0]?.lr ?? NaN, clipped });
    return { status: "ok", step: this.stepCount, loss, gradNorm: norm, stats };
  }

  #stepScheduler(metric?: number): void {
    if (!this.scheduler) return;
    if (metric === undefined) this.scheduler.step();
    else this.scheduler.step(metric);
    // safegrad's schedulers already applied the scale (setScheduledLr); this covers one of your
    // own that writes group.lr itself.
    if (this.#lrScale !== 1) this.#applyScale(this.#lrScale);
  }

  /**
   * The end of an epoch: with `schedulerStep: "epoch"`, step the scheduler once, a
   * `ReduceLROnPlateau` with `metric` (the epoch's validation loss, say; required), any other
   * with `step()`. Otherwise it does nothing. `Trainer.fit` calls it; call it yourself in your own
   * loop. Returns whether the scheduler was stepped.
   * @example
   * const plateau = new ReduceLROnPlateau(opt, { patience: 2 });
   * const guard = new TrainingGuard(model.namedParameters(), opt, plateau, { schedulerStep: "epoch" });
   * for (const epoch of epochs) {
   *   // the epoch's steps:
   *   opt.zeroGrad();
   *   const l = crossEntropy(model.forward(x), y);
   *   l.backward();
   *   guard.step(l.item());
   *   // then once:
   *   guard.endEpoch(validationLoss());
   * }
   * plateau.lastEpoch; // 3: once per epoch
   */
  endEpoch(metric?: number): boolean {
    if (this.options.schedulerStep !== "epoch" || !this.scheduler) return false;
    if (this.scheduler instanceof ReduceLROnPlateau) {
      if (typeof metric !== "number") throw new ValueError("TrainingGuard.endEpoch", "a ReduceLROnPlateau stepped per epoch needs the epoch's metric (the validation loss, say)");
      this.#stepScheduler(metric);
    } else this.#stepScheduler();
    return true;
  }

  /** Welford running mean/variance of the gradient norm; warn on a spike, naming the layer that grew most. */
  #checkSpike(stats: GradNormStats): boolean {
    const x = stats.totalNorm;
    const k = this.options.spikeStdDevs;
    let spiking = false;
    if (this.#nGood >= this.options.spikeWarmup) {
      const std = Math.sqrt(this.#m2 / (this.#nGood - 1));
      if (x > this.#mean + k * std && std > 0) {
        spiking = true;
        let best = 0;
        let growth = 0;
        stats.norms.forEach((n, i) => {
          const g = n / Math.max(this.#paramMeans[i] ?? 0, 1e-30);
          if (g > growth) {
            growth = g;
            best = i;
          }
        });
        const layer = stats.names[best] ?? String(best);
        this.#emit({
          type: "warning",
          step: this.stepCount,
          gradNorm: x,
          mean: this.#mean,
          std,
          layer,
          growth,
          message: `gradient norm ${x.toPrecision(3)} is ${((x - this.#mean) / std).toFixed(1)} standard deviations above its mean ${this.#mean.toPrecision(3)}; ${layer} grew most (×${growth.toPrecision(3)})`,
        });
      }
    }
    this.#nGood++;
    const d = x - this.#mean;
    this.#mean += d / this.#nGood;
    this.#m2 += d * (x - this.#mean);
    stats.norms.forEach((n, i) => (this.#paramMeans[i] = (this.#paramMeans[i] ?? n) * 0.9 + n * 0.1));
    return spiking;
  }
}

// ------------------------------------------------------------------ Trainer

/** What the Trainer needs of a model (every safegrad Module has it). */
export interface TrainableModel {
  /** The model's output for a batch. */
  forward(x: Tensor): Tensor;
  /** The parameters the guard checks and clips. */
  namedParameters(): [string, Tensor][];
  /** Switch to training mode. */
  train(mode?: boolean): unknown;
  /** Switch to evaluation mode. */
  eval(): unknown;
  /** Training mode (a Module's flag): `evaluate` and `predict` put it back as it was. */
  training?: boolean;
  /** The model and its submodules (a Module's): `evaluate` and `predict` restore each one's mode exactly. */
  modules?(): { training: boolean }[];
  /** A copy of the weights (a Module's: parameters and buffers); without it, callbacks copy the parameters. */
  stateDict?(): StateDict;
  /** Load weights (a Module's); without it, callbacks write the parameters back. */
  loadStateDict?(state: StateDict): unknown;
}

/** Options of {@link Trainer}: the parts to wire together, plus the guard's options. */
export interface TrainerOptions extends GuardOptions {
  /** The model to train. */
  model: TrainableModel;
  /** loss(output, target) -> scalar tensor. */
  loss: (output: Tensor, target: Tensor) => Tensor;
  /** The optimizer. */
  optimizer: GuardedOptimizer;
  /**
   * A scheduler (default: none): any safegrad scheduler. When it is stepped is
   * `schedulerStep`'s choice, explicit: by default per batch, after every good step (a
   * `ReduceLROnPlateau` with the step's loss); `schedulerStep: "epoch"` steps it once per epoch
   * in `fit` (a `ReduceLROnPlateau` with the validation loss); "manual" leaves it to you (see
   * {@link GuardOptions.schedulerStep}).
   */
  scheduler?: GuardedScheduler | null;
  /**
   * With `schedulerStep: "epoch"`, the epoch log a `ReduceLROnPlateau` is stepped with (default
   * `"val_loss"` when `fit` has a validation loader, else `"loss"`, the training loss).
   */
  schedulerMonitor?: string;
  /**
   * Audit the model and the loss statically (see `audit`) on the first training batch, before
   * its step: every input anywhere between the batch's smallest and largest value, the targets as
   * given. The report is `trainer.auditReport`; its findings are printed with console.warn unless
   * `quiet`. The random state and the model's buffers (running statistics) are put back after it.
   * Default: off.
   */
  audit?: boolean | (AuditOptions & { quiet?: boolean });
}

/**
 * One batch for `fit` and `evaluate`: `[x, y]` (what a `DataLoader` ("safegrad/data") over a
 * `TensorDataset` of inputs and targets yields; further fields are ignored), `{ x, y }` of
 * tensors, or a typed-array {@link Batch} of the DataLoader's array form.
 * @example
 * const batch: TrainBatch = [randn([8, 4]), tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: "int32" })];
 */
export type TrainBatch = readonly [Tensor, Tensor, ...unknown[]] | { readonly x: Tensor; readonly y: Tensor } | Batch<FloatArray, LabelArray>;

/**
 * One batch of inputs for `predict`: a tensor, a tuple whose first field is the input (`[x]`,
 * `[x, y]`), `{ x }`, or a typed-array {@link Batch}.
 * @example
 * const inputs: PredictBatch[] = [randn([8, 4]), [randn([8, 4])]];
 */
export type PredictBatch = Tensor | readonly [Tensor, ...unknown[]] | { readonly x: Tensor } | Batch<FloatArray, LabelArray>;

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  /** Passes over the loader (default 1). */
  epochs?: number;
  /** Evaluated after each epoch (`evaluate`: eval mode, no gradients), logged as `val_loss`, `val_<metric>`. */
  valLoader?: Iterable<TrainBatch>;
  /** Metrics computed on the training batches (on the outputs of each good step) and on `valLoader`. */
  metrics?: Metrics;
  /** Callbacks, called in order: your own hooks, {@link earlyStopping}, {@link modelCheckpoint}. */
  callbacks?: readonly Callback[];
  /**
   * 0: silent. 1 (default): on a terminal (`writer.isTTY`) a progress line rewritten in place
   * (epoch, step/steps, running loss and metrics, steps/s, ETA), then one summary line per epoch;
   * elsewhere (a pipe, a file, a browser) one JSON line per epoch (the {@link EpochLogs} and
   * `epochs`). 2: one summary line per epoch, no progress line. Text output also prints a line
   * per guard event (warning, skipped step, rollback).
   */
  verbose?: 0 | 1 | 2;
  /** Where the progress goes (default `process.stdout` in Node, `console.log` line by line elsewhere). */
  writer?: ProgressWriter;
}

/** Options of {@link Trainer.evaluate}. */
export interface EvaluateOptions {
  /** Metrics to compute besides the loss (default none). */
  metrics?: Metrics;
}

/**
 * What {@link Trainer.evaluate} returns: the mean loss and each metric, by name.
 * @example
 * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
 * const r: EvaluateResult = trainer.evaluate([[x, y]], { metrics: { accuracy } });
 * r.loss; r.accuracy;
 */
export interface EvaluateResult {
  /** The loss over every sample (each batch's loss weighted by its size: the exact mean for a mean-reduced loss). */
  loss: number;
  /** Each metric's value. */
  [metric: string]: number;
}

/** Options of {@link Trainer.predict}. */
export interface PredictOptions {
  /** For a tensor input: run the model on slices of this many rows (default: all at once). */
  batchSize?: number;
}

const clock = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length} (${v.map((e) => (isTensor(e) ? `Tensor ${shapeStr(e.shape)}` : typeof e)).join(", ")})`;
  if (isTensor(v)) return `a Tensor ${shapeStr(v.shape)}`;
  return typeof v === "object" ? `an object with keys ${Object.keys(v).join(", ") || "(none)"}` : `${typeof v} ${String(v)}`;
}

function isTypedBatch(b: unknown): b is Batch<FloatArray, LabelArray> {
  const o = b as Partial<Batch<FloatArray, LabelArray>>;
  return typeof b === "object" && b !== null && ArrayBuffer.isView(o.x) && ArrayBuffer.isView(o.y) && Array.isArray(o.shape) && typeof o.size === "number";
}

/** The input and target of a batch. */
function trainPair(op: string, b: unknown): [Tensor, Tensor] {
  if (Array.isArray(b) && b.length >= 2 && isTensor(b[0]) && isTensor(b[1])) return [b[0], b[1]];
  if (typeof b === "object" && b !== null && !isTensor(b)) {
    const { x, y } = b as { x?: unknown; y?: unknown };
    if (isTensor(x) && isTensor(y)) return [x, y];
    if (isTypedBatch(b)) return [new Tensor(b.x, b.shape), new Tensor(b.y, [b.size])];
  }
  throw new ValueError(op, `a batch must be [x, y] tensors (what a DataLoader over a TensorDataset(x, y) yields), { x, y } tensors or a typed-array Batch; got ${describe(b)}`);
}

/** The input of a predict batch. */
function inputOf(op: string, b: unknown): Tensor {
  if (isTensor(b)) return b;
  if (Array.isArray(b) && isTensor(b[0])) return b[0];
  if (isTypedBatch(b)) return new Tensor(b.x, b.shape);
  if (typeof b === "object" && b !== null && isTensor((b as { x?: unknown }).x)) return (b as { x: Tensor }).x;
  throw new ValueError(op, `a batch must be a tensor, [x, ...] or { x }; got ${describe(b)}`);
}

function checkIterable(op: string, name: string, v: unknown): void {
  if (typeof v !== "object" || v === null || typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new ValueError(op, `${name} must be iterable (a DataLoader, an array of [x, y] batches), got ${describe(v)}`);
  }
}

/** Batches per epoch, when the loader says (a DataLoader's or an array's `length`). */
function lengthOf(loader: unknown): number | undefined {
  const n = (loader as { length?: unknown }).length;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Remember the model's modes (every submodule's, for a Module); the returned function restores them. */
function saveModes(model: TrainableModel): () => void {
  if (typeof model.modules === "function") {
    const mods = model.modules();
    const flags = mods.map((m) => m.training);
    return () => mods.forEach((m, i) => (m.training = flags[i]!));
  }
  const was = model.training;
  return () => void (was === false ? model.eval() : model.train());
}

// ------------------------------------------------------------------ what fit reports and calls
/**
 * What `Trainer.fit` logs for one epoch (what `onEpochEnd` gets, what the history holds, and what
 * a callback's `monitor` names). Metrics appear under their names (`accuracy`) and, on the
 * validation data, prefixed with `val_` (`val_accuracy`).
 * @example
 * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
 * const history = await trainer.fit([[x, y]], { epochs: 2, metrics: { accuracy }, verbose: 0 });
 * const last: EpochLogs = history.epochs[1]!;
 * last.epoch; // 2
 * last.accuracy; // a fraction in [0, 1]
 */
export interface EpochLogs {
  /** The epoch, counted from 1. */
  epoch: number;
  /** Mean training loss over the epoch's good steps, weighted by batch size (NaN if all were skipped). */
  loss: number;
  /** Mean loss on the validation loader (when `fit` has one). */
  val_loss?: number;
  /** The first parameter group's lr at the end of the epoch (before a per-epoch scheduler step). */
  lr: number;
  /** Steps the guard skipped in this epoch (non-finite loss or gradient). */
  skipped: number;
  /** Batches in this epoch, skipped ones included. */
  steps: number;
  /** Wall-clock seconds of the epoch, validation included. */
  seconds: number;
  /** Training metrics by name, validation ones as `val_<name>`. */
  [metric: string]: number | undefined;
}

/**
 * What `Trainer.fit` returns: the logs of every epoch it ran.
 * @example
 * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
 * const history = await trainer.fit([[x, y]], { epochs: 3, verbose: 0 });
 * history.epochs.length; // 3
 * history.series("loss"); // [loss of epoch 1, 2, 3]
 */
export class History {
  /** One entry per epoch run, in order. */
  readonly epochs: EpochLogs[] = [];
  /** Whether a callback stopped training before the last epoch (e.g. early stopping). */
  stoppedEarly = false;

  /**
   * The values of one log key, one per epoch (NaN where an epoch does not have it).
   * @example
   * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
   * const history = await trainer.fit([[x, y]], { epochs: 2, verbose: 0 });
   * history.series("lr"); // [0.1, 0.1]
   */
  series(key: string): number[] {
    return this.epochs.map((e) => e[key] ?? NaN);
  }
}

/**
 * What `onFitStart` gets: the run's shape, and the keys the epoch logs will have (a callback
 * checks its `monitor` against them before the first epoch).
 * @example
 * const names: Callback = { onFitStart: (info: FitInfo) => console.log(info.logKeys) };
 */
export interface FitInfo {
  /** Epochs to run. */
  epochs: number;
  /** Batches per epoch (the loader's `length`), or undefined when the loader does not say. */
  steps: number | undefined;
  /** Whether `fit` has a validation loader. */
  validation: boolean;
  /** The keys of the epoch logs (`loss`, the metrics, `val_loss`, ..., `lr`). */
  logKeys: string[];
}

/**
 * What `onStepEnd` gets: the guard's result for the step, where it falls in the epoch, and the lr.
 * @example
 * const printer: Callback = { onStepEnd: (s: StepEnd) => s.status === "skipped" && console.log(`skipped ${s.batch}`) };
 */
export interface StepEnd extends StepResult {
  /** The epoch, counted from 1. */
  epoch: number;
  /** The batch within the epoch, counted from 1. */
  batch: number;
  /** Batches per epoch, or undefined when the loader does not say. */
  steps: number | undefined;
  /** Samples in the batch (its first dim). */
  size: number;
  /** The first parameter group's lr after the step. */
  lr: number;
}

/**
 * Hooks `Trainer.fit` calls, all optional; each may return a promise, which fit awaits. The
 * trainer is passed along: set `trainer.stopTraining = true` to end training. Set in `onEpochEnd`
 * it stops before the next epoch; set in `onStepEnd` or `onGuardEvent` it skips the epoch's
 * remaining batches, then finishes the epoch (validation, logs, `onEpochEnd`). Guard events (spike
 * warnings, skipped non-finite steps with their policy and lr scale, rollbacks) arrive in
 * `onGuardEvent` right after the step that raised them; a good step is `onStepEnd`'s.
 * @example
 * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
 * const skipped: GuardEvent[] = [];
 * const log: Callback = {
 *   onEpochEnd: (logs) => console.log(`epoch ${logs.epoch}: loss ${logs.loss.toFixed(3)}`),
 *   onGuardEvent: (e) => void skipped.push(e),
 * };
 * await trainer.fit([[x, y]], { epochs: 2, callbacks: [log], verbose: 0 });
 */
export interface Callback {
  /** Before the first epoch. */
  onFitStart?(info: FitInfo, trainer: Trainer): void | Promise<void>;
  /** Before each epoch (counted from 1). */
  onEpochStart?(epoch: number, trainer: Trainer): void | Promise<void>;
  /** After each step, skipped ones included. */
  onStepEnd?(step: StepEnd, trainer: Trainer): void | Promise<void>;
  /** A guard event other than a good step: "warning", "nonFinite" (skipped, with policy and lr scale), "rollback". */
  onGuardEvent?(event: GuardEvent, trainer: Trainer): void | Promise<void>;
  /** After each epoch's validation, with its logs. */
  onEpochEnd?(logs: EpochLogs, trainer: Trainer): void | Promise<void>;
  /** After the last epoch (or the one training stopped at). */
  onFitEnd?(history: History, trainer: Trainer): void | Promise<void>;
}

/**
 * A training loop wiring model, loss, optimizer, schedule, clipping and the guard together, in
 * the spirit of Keras' `fit` and PyTorch Lightning but small: `fit` (epochs over a
 * `DataLoader` ("safegrad/data"), validation, metrics, callbacks, progress output), `evaluate`, `predict`,
 * and `trainStep` for a loop of your own. Every step goes through the {@link TrainingGuard}.
 *
 * The scheduler is stepped when `schedulerStep` says, explicitly: per batch by default (after
 * each good optimizer step), or once per epoch with `schedulerStep: "epoch"` (a
 * `ReduceLROnPlateau` with the validation loss).
 * @example
 * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt, maxNorm: 1, onNonFinite: "backoff" });
 * const history = await trainer.fit([[x, y]], { epochs: 3, metrics: { accuracy }, verbose: 0 });
 * history.series("loss"); // three losses
 * trainer.evaluate([[x, y]], { metrics: { accuracy } }); // { loss, accuracy }
 * trainer.predict(x).argmax(1); // predicted classes
 */
export class Trainer {
  /** The guard doing the checks (its counters and history are public). */
  declare readonly guard: TrainingGuard;
  /**
   * Set it to true (from a callback) to end `fit`: see {@link Callback}. `fit` sets it to false
   * when it starts.
   */
  stopTraining = false;
  /** The static audit of the first batch, with the `audit` option (null before it, or without it). */
  auditReport: AuditReport | null = null;
  #onGuardEvent: ((e: GuardEvent) => void) | null = null;

  /**
   * @param options - model, loss, optimizer, scheduler, and the guard's options
   */
  constructor(readonly options: TrainerOptions) {
    const onEvent = (e: GuardEvent): void => {
      options.onEvent?.(e);
      this.#onGuardEvent?.(e);
    };
    this.guard = new TrainingGuard(options.model.namedParameters(), options.optimizer, options.scheduler, { ...options, onEvent });
  }

  /**
   * One guarded step on a batch. Returns the guard's result and the output (for accuracy).
   * @example
   * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
   * const { loss: l, output } = trainer.trainStep(x, y);
   * output.argmax(1); // predictions
   */
  trainStep(x: Tensor, target: Tensor): StepResult & { output: Tensor } {
    const { model, loss, optimizer } = this.options;
    if (this.options.audit && !this.auditReport) this.#audit(x, target);
    model.train();
    // NOTE: the RNG state is saved so that a diagnostic re-run sees the same dropout masks.
    const rng = defaultGenerator.getState();
    optimizer.zeroGrad();
    const output = model.forward(x);
    const l = loss(output, target);
    l.backward();
    const rerun = (): void => {
      const after = defaultGenerator.getState();
      defaultGenerator.setState(rng);
      try {
        optimizer.zeroGrad();
        loss(model.forward(x), target).backward();
      } finally {
        defaultGenerator.setState(after);
      }
    };
    const r = this.guard.step(l.item(), rerun, { batch: { shape: [...x.shape], targetShape: [...target.shape] } });
    return { ...r, output };
  }

  /** The `audit` option: audit the first batch's range, putting back the RNG and the buffers. */
  #audit(x: Tensor, target: Tensor): void {
    const o = this.options.audit === true || !this.options.audit ? {} : this.options.audit;
    const { model, loss } = this.options;
    const rng = defaultGenerator.getState();
    const buffers = (model as { buffers?(): Tensor[] }).buffers?.() ?? [];
    const saved = buffers.map((b) => b.storage.slice());
    try {
      let lo = Infinity;
      let hi = -Infinity;
      const d = x.toTypedArray();
      for (let i = 0; i < d.length; i++) {
        const v = Number(d[i]);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const range: AuditInput = x.dtype === "float32" || x.dtype === "float64" ? { shape: [...x.shape], low: lo, high: hi, dtype: x.dtype } : x;
      this.auditReport = audit((xb, tb) => loss(model.forward(xb), tb), [range, target], o);
    } finally {
      defaultGenerator.setState(rng);
      buffers.forEach((b, i) => {
        (b.storage as Float32Array).set(saved[i] as Float32Array);
        markModified(b);
      });
    }
    if (this.auditReport.findings.length && !o.quiet) console.warn(this.auditReport.toString());
  }

  /**
   * Train for `epochs` passes over `loader` (a `DataLoader` ("safegrad/data") yielding `[x, y]`, or any
   * iterable of batches that can be iterated again each epoch), every step guarded
   * (`trainStep`). After each epoch: `valLoader` is evaluated (eval mode, no gradients; the mode
   * is restored), a per-epoch scheduler is stepped (`schedulerStep: "epoch"`), the epoch's
   * {@link EpochLogs} are printed (see `verbose`) and passed to the callbacks. Guard events reach
   * `onGuardEvent` after their step. Resolves to the {@link History} once the last epoch ends or
   * a callback stops training.
   * @example
   * const iris = toTensorDataset(loadIris());
   * const net = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
   * const trainer = new Trainer({ model: net, loss: crossEntropy, optimizer: new Adam(net.parameters(), { lr: 0.01 }) });
   * const loader = new DataLoader(iris, { batchSize: 16, shuffle: true, seed: 0 });
   * const lines: string[] = [];
   * const history = await trainer.fit(loader, { epochs: 5, metrics: { accuracy }, writer: { write: (s) => void lines.push(s) } });
   * lines[0]; // '{"epoch":1,"epochs":5,"loss":...,"accuracy":...,"lr":0.01,"skipped":0,"steps":10,"seconds":...}\n'
   * history.epochs[4]!.accuracy; // the training accuracy of epoch 5
   */
  async fit(loader: Iterable<TrainBatch>, options: FitOptions = {}): Promise<History> {
    const op = "Trainer.fit";
    const epochs = options.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(op, `epochs must be a positive integer, got ${String(epochs)}`);
    const verbose = options.verbose ?? 1;
    if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new ValueError(op, `verbose must be 0, 1 or 2, got ${String(verbose)}`);
    checkIterable(op, "loader", loader);
    const valLoader = options.valLoader;
    if (valLoader !== undefined) checkIterable(op, "valLoader", valLoader);
    const callbacks = [...(options.callbacks ?? [])];
    const names = new MetricAccumulator(options.metrics).names; // checks the metrics
    const validation = valLoader !== undefined;
    const steps = lengthOf(loader);
    const logKeys = ["loss", ...names, ...(validation ? ["val_loss", ...names.map((n) => `val_${n}`)] : []), "lr", "skipped", "steps", "seconds"];
    const perEpoch = this.guard.options.schedulerStep === "epoch";
    const monitor = this.options.schedulerMonitor ?? (validation ? "val_loss" : "loss");
    if (perEpoch && this.options.scheduler instanceof ReduceLROnPlateau && !logKeys.includes(monitor)) {
      throw new ValueError(op, `schedulerMonitor "${monitor}" is not in the epoch logs (${logKeys.join(", ")})`);
    }
    const progress = verbose === 0 ? null : new Progress(options.writer ?? defaultWriter(), verbose, epochs);
    const history = new History();
    const events: GuardEvent[] = [];
    const group = this.options.optimizer.paramGroups[0];
    this.stopTraining = false;
    this.#onGuardEvent = (e) => void (e.type !== "step" && events.push(e));
    try {
      const info: FitInfo = { epochs, steps, validation, logKeys };
      for (const cb of callbacks) await cb.onFitStart?.(info, this);
      for (let epoch = 1; epoch <= epochs; epoch++) {
        for (const cb of callbacks) await cb.onEpochStart?.(epoch, this);
        progress?.epochStart();
        const t0 = clock();
        const skipped0 = this.guard.skipped;
        const metrics = new MetricAccumulator(options.metrics);
        let lossSum = 0;
        let count = 0;
        let batch = 0;
        for (const raw of loader) {
          const [x, y] = trainPair(op, raw);
          const { output, ...r } = this.trainStep(x, y);
          const size = x.shape[0] ?? 1;
          batch++;
          if (r.status === "ok") {
            lossSum += r.loss * size;
            count += size;
            metrics.update(output, y);
          }
          progress?.step(epoch, batch, steps, { loss: lossSum / count, ...metrics.values() });
          for (const e of events.splice(0)) {
            progress?.event(e);
            for (const cb of callbacks) await cb.onGuardEvent?.(e, this);
          }
          const end: StepEnd = { ...r, epoch, batch, steps, size, lr: group?.lr ?? NaN };
          for (const cb of callbacks) await cb.onStepEnd?.(end, this);
          if (this.stopTraining) break;
        }
        if (batch === 0) {
          throw new ValueError(op, epoch === 1 ? "the loader gave no batch" : `the loader gave no batch in epoch ${epoch}: pass something that can be iterated again each epoch (a DataLoader, an array of batches), not a one-shot iterator`);
        }
        const val: Record<string, number> = {};
        if (valLoader !== undefined) {
          for (const [k, v] of Object.entries(this.evaluate(valLoader, { metrics: options.metrics }))) val[`val_${k}`] = v;
        }
        const logs: EpochLogs = {
          epoch,
          loss: count > 0 ? lossSum / count : NaN,
          ...metrics.values(),
          ...val,
          lr: group?.lr ?? NaN,
          skipped: this.guard.skipped - skipped0,
          steps: batch,
          seconds: (clock() - t0) / 1000,
        };
        if (perEpoch) this.guard.endEpoch(logs[monitor]);
        history.epochs.push(logs);
        progress?.epochEnd(logs);
        for (const cb of callbacks) await cb.onEpochEnd?.(logs, this);
        if (this.stopTraining) {
          history.stoppedEarly = epoch < epochs;
          break;
        }
      }
      for (const cb of callbacks) await cb.onFitEnd?.(history, this);
    } finally {
      this.#onGuardEvent = null;
      progress?.close();
    }
    return history;
  }

  /**
   * The mean loss and the metrics over `loader`, without gradients and in eval mode (Dropout off,
   * BatchNorm on its running statistics, which are not updated); the model's mode (each
   * submodule's) is restored after. Weights are not touched. Synchronous.
   * @example
   * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
   * const { loss: testLoss, accuracy: acc } = trainer.evaluate([[x, y]], { metrics: { accuracy } });
   */
  evaluate(loader: Iterable<TrainBatch>, options: EvaluateOptions = {}): EvaluateResult {
    const op = "Trainer.evaluate";
    checkIterable(op, "loader", loader);
    const metrics = new MetricAccumulator(options.metrics);
    const { model, loss } = this.options;
    let lossSum = 0;
    let count = 0;
    const restore = saveModes(model);
    model.eval();
    try {
      noGrad(() => {
        for (const raw of loader) {
          const [x, y] = trainPair(op, raw);
          const out = model.forward(x);
          const n = x.shape[0] ?? 1;
          lossSum += loss(out, y).item() * n;
          count += n;
          metrics.update(out, y);
        }
      });
    } finally {
      restore();
    }
    if (count === 0) throw new ValueError(op, "the loader gave no batch");
    return { loss: lossSum / count, ...metrics.values() };
  }

  /**
   * The model's outputs, without gradients and in eval mode (restored after), for a tensor
   * (optionally in slices of `batchSize` rows) or for every batch of a loader (its first field:
   * the input; targets are ignored), concatenated along dim 0.
   * @example
   * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt });
   * trainer.predict(randn([10, 4]), { batchSize: 4 }).shape; // [10, 3]
   * trainer.predict([[x, y], [x, y]]).shape; // [4, 3]
   */
  predict(input: Tensor | Iterable<PredictBatch>, options: PredictOptions = {}): Tensor {
    const op = "Trainer.predict";
    const { model } = this.options;
    const bs = options.batchSize;
    if (bs !== undefined && (!Number.isInteger(bs) || bs < 1)) throw new ValueError(op, `batchSize must be a positive integer, got ${String(bs)}`);
    if (!isTensor(input)) checkIterable(op, "input", input);
    const restore = saveModes(model);
    model.eval();
    try {
      return noGrad(() => {
        const outs: Tensor[] = [];
        if (isTensor(input)) {
          const n = input.shape[0] ?? 1;
          if (bs === undefined || input.ndim === 0 || bs >= n) return model.forward(input);
          for (let i = 0; i < n; i += bs) outs.push(model.forward(input.narrow(0, i, Math.min(bs, n - i))));
        } else {
          for (const b of input) outs.push(model.forward(inputOf(op, b)));
        }
        if (outs.length === 0) throw new ValueError(op, "the loader gave no batch");
        return outs.length === 1 ? outs[0]! : cat(outs, 0);
      });
    } finally {
      restore();
    }
  }
}
