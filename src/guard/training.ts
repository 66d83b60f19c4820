/**
 * The always-on training guard and a Trainer loop built on it.
 *
 * The guard checks the loss and the global gradient norm every step (the norm is computed anyway
 * for clipping, in the same pass as the per-parameter norms and non-finite counts), and applies a
 * recovery policy when either is non-finite. It costs nothing more until something fails: then it
 * re-runs the same batch once with anomaly detection on, to say where the NaN was born.
 */
import { SafegradError } from "../errors.js";
import { gradNormStats, scaleGradients, type GradNormStats } from "../optim/clip-grad.js";
import { scheduledLr, setLrScale } from "../optim/lr.js";
import { ReduceLROnPlateau } from "../optim/reduce-lr-on-plateau.js";
import { withDefaults, type OptimizerStateDict } from "../optim/types.js";
import { defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { detectAnomaly } from "./anomaly.js";
import { explodingGradientHint } from "./hints.js";
import { AnomalyError, AnomalyReport } from "./report.js";
import { markModified } from "../tensor/version.js";

/**
 * What the training guard does on a non-finite loss or gradient: "throw" a {@link NonFiniteError}
 * (with a diagnosis); "skip" the step; "backoff": skip and lower the lr (restoring a snapshot
 * after repeated failures); "rollback": restore the last good snapshot and lower the lr.
 * Lowering the lr means multiplying the guard's `lrScale` by `backoffFactor`: every group's lr is
 * its scheduled lr times that scale (see {@link TrainingGuard.lrScale}).
 * @example
 * const policy: NonFinitePolicy = "backoff";
 * new TrainingGuard(model.namedParameters(), opt, null, { onNonFinite: policy });
 */
export type NonFinitePolicy = "throw" | "skip" | "backoff" | "rollback";

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
   * How the guard steps `scheduler` after each good step: "step" calls `scheduler.step()`;
   * "loss" calls `scheduler.step(loss)` with the step's loss as the metric (PyTorch's
   * `ReduceLROnPlateau` fed the training loss, once per optimizer step); "manual" never steps it
   * (step it yourself, e.g. `plateau.step(validationLoss)` once per epoch: the guard still rolls
   * it back with the model, and its lr still respects the guard's scale). Default: "loss" for a
   * {@link ReduceLROnPlateau}, "step" for every other scheduler.
   */
  schedulerStep?: "step" | "loss" | "manual";
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
 * An event reported to `GuardOptions.onEvent`: a good step, a gradient-norm spike warning,
 * a non-finite step (with its report and the policy applied), or a rollback.
 * @example
 * const events: GuardEvent[] = [];
 * const guard = new TrainingGuard(model.namedParameters(), opt, null, { onEvent: (e) => events.push(e) });
 * loss.backward();
 * guard.step(loss.item());
 * events[0]!.type; // "step"
 */
export type GuardEvent =
  | { type: "step"; step: number; loss: number; gradNorm: number; lr: number; clipped: boolean }
  | { type: "warning"; step: number; gradNorm: number; mean: number; std: number; layer: string; growth: number; message: string }
  | { type: "nonFinite"; step: number; loss: number; gradNorm: number; policy: NonFinitePolicy; report: AnomalyReport | null; lrScale: number }
  | { type: "rollback"; step: number; toStep: number };

/** What `TrainingGuard.step` (and `Trainer.trainStep`) returns. */
export interface StepResult {
  /** "ok": the optimizer stepped; "skipped": the loss or gradient was non-finite. */
  status: "ok" | "skipped";
  /** Optimizer steps taken so far (skipped ones excluded). */
  step: number;
  /** The loss passed in. */
  loss: number;
  /** The global gradient norm before clipping. */
  gradNorm: number;
  /** Per-parameter gradient norms and non-finite counts. */
  stats: GradNormStats;
  /** Skipped steps: the diagnosis of the first failure in a row (null when not diagnosed). */
  report?: AnomalyReport | null;
}

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
    if (!["step", "loss", "manual"].includes(o.schedulerStep)) throw new SafegradError("TrainingGuard", `schedulerStep must be "step", "loss" or "manual", got ${String(o.schedulerStep)}`);
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
      if (exploding && (!report.hint || report.hint.hazard === "overflow" || report.hint.hazard === "non-finite input")) report.hint = exploding;
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
    this.#emit({ type: "nonFinite", step: this.stepCount, loss, gradNorm: norm, policy, report, lrScale: this.#lrScale });
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
    if (this.scheduler && how !== "manual") {
      if (how === "loss") this.scheduler.step(loss);
      else this.scheduler.step();
      // safegrad's schedulers already applied the scale (setScheduledLr); this covers one of your
      // own that writes group.lr itself.
      if (this.#lrScale !== 1) this.#applyScale(this.#lrScale);
    }
    this.#emit({ type: "step", step: this.stepCount, loss, gradNorm: norm, lr: this.optimizer.paramGroups[0]?.lr ?? NaN, clipped });
    return { status: "ok", step: this.stepCount, loss, gradNorm: norm, stats };
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
   * A scheduler stepped after every good step (default: none): any safegrad scheduler. A
   * `ReduceLROnPlateau` is stepped with the step's loss; to step it yourself with a validation
   * loss, pass `schedulerStep: "manual"` (see {@link GuardOptions.schedulerStep}).
   */
  scheduler?: GuardedScheduler | null;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  gradNorm: number;
  lr: number;
  seconds: number;
  skipped: number;
}

/**
 * A training loop wiring model, loss, optimizer, schedule, clipping and the guard together.
 * @example
 * const trainer = new Trainer({ model, loss: crossEntropy, optimizer: opt, scheduler: sched, maxNorm: 1, onNonFinite: "backoff" });
 * for (const batch of batches) trainer.trainStep(batch.x, batch.y);
 */
export class Trainer {
  /** The guard doing the checks (its counters and history are public). */
  declare readonly guard: TrainingGuard;
  /**
   * @param options - model, loss, optimizer, scheduler, and the guard's options
   */
  constructor(readonly options: TrainerOptions) {
    this.guard = new TrainingGuard(options.model.namedParameters(), options.optimizer, options.scheduler, options);
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
}
