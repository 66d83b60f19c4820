/**
 * What `Trainer.fit` reports (per-epoch logs, the history) and the callbacks it calls: the
 * {@link Callback} hooks, and the built-in {@link earlyStopping} and {@link modelCheckpoint}.
 * Browser-safe: saving to a file is a function you pass.
 */
import { ValueError } from "../errors.js";
import type { StateDict } from "../layers/module.js";
import { contiguousData } from "../tensor/layout.js";
import { Tensor } from "../tensor/tensor.js";
import { markModified } from "../tensor/version.js";
import type { Callback, EpochLogs, FitInfo, TrainableModel } from "./training.js";


/** @internal A copy of the model's weights: `stateDict()` (parameters and buffers) when it has one, else its parameters. */
export function captureState(model: TrainableModel): StateDict {
  if (typeof model.stateDict === "function") return model.stateDict();
  return new Map(model.namedParameters().map(([n, p]) => [n, new Tensor(p.toTypedArray(), p.shape)]));
}

/** @internal Load a {@link captureState} copy back into the model. */
export function restoreState(model: TrainableModel, state: StateDict): void {
  if (typeof model.loadStateDict === "function") {
    model.loadStateDict(state);
    return;
  }
  for (const [n, p] of model.namedParameters()) {
    const s = state.get(n);
    if (!s) continue;
    if (!p.isContiguous()) throw new ValueError("restoreState", `parameter "${n}" is not contiguous; give the model stateDict() and loadStateDict()`);
    p.storage.set(contiguousData(s), p.offset);
    markModified(p);
  }
}

type Mode = "min" | "max";

/** The monitor and mode of a monitoring callback, resolved when the fit starts. */
class Monitor {
  monitor: string;
  mode: Mode;
  best: number;
  constructor(
    readonly op: string,
    readonly requested: string | undefined,
    readonly requestedMode: Mode | undefined,
    readonly minDelta: number,
  ) {
    if (requestedMode !== undefined && requestedMode !== "min" && requestedMode !== "max") throw new ValueError(op, `mode must be "min" or "max", got ${String(requestedMode)}`);
    if (!(minDelta >= 0)) throw new ValueError(op, `minDelta must be >= 0, got ${minDelta}`);
    this.monitor = requested ?? "val_loss";
    this.mode = requestedMode ?? modeOf(this.monitor);
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  start(info: FitInfo): void {
    this.monitor = this.requested ?? (info.validation ? "val_loss" : "loss");
    this.mode = this.requestedMode ?? modeOf(this.monitor);
    this.best = this.mode === "min" ? Infinity : -Infinity;
    if (!info.logKeys.includes(this.monitor)) {
      const hint = this.monitor.startsWith("val_") && !info.validation ? " (pass a valLoader to fit)" : "";
      throw new ValueError(this.op, `monitor "${this.monitor}" is not in the epoch logs${hint}; they hold ${info.logKeys.join(", ")}`);
    }
  }

  /** Whether the epoch improves on the best; if so it becomes the best. NaN never improves. */
  update(logs: EpochLogs): boolean {
    const v = logs[this.monitor] ?? NaN;
    const better = this.mode === "min" ? v < this.best - this.minDelta : v > this.best + this.minDelta;
    if (better) this.best = v;
    return better;
  }
}

const modeOf = (monitor: string): Mode => (/acc(uracy)?$/.test(monitor) ? "max" : "min");

/** Options of {@link earlyStopping}. */
export interface EarlyStoppingOptions {
  /** The log key watched (default `"val_loss"` when fit has a validation loader, else `"loss"`). */
  monitor?: string;
  /** Epochs without improvement after which training stops (default 0: the first one stops it, as Keras). */
  patience?: number;
  /** An improvement smaller than this does not count (default 0). */
  minDelta?: number;
  /** "min" (a loss) or "max" (default "max" for a monitor ending in "acc" or "accuracy", else "min"). */
  mode?: "min" | "max";
  /** At the end of fit (stopped early or not), load the weights of the best epoch (default false). */
  restoreBest?: boolean;
}

/**
 * The callback {@link earlyStopping} returns, with its state.
 * @example
 * const stop: EarlyStopping = earlyStopping({ patience: 2 });
 * stop.bestEpoch; // null until a fit has run
 */
export interface EarlyStopping extends Callback {
  /** The log key watched (resolved when the fit starts). */
  readonly monitor: string;
  /** Whether lower ("min") or higher ("max") is better. */
  readonly mode: "min" | "max";
  /** The best value seen (±Infinity before the first epoch). */
  readonly best: number;
  /** The epoch that had it (null before the first improvement). */
  readonly bestEpoch: number | null;
  /** Epochs since the last improvement. */
  readonly wait: number;
  /** The epoch at which it stopped training (null if it did not). */
  readonly stoppedEpoch: number | null;
}

/**
 * Stop training when a logged value stops improving, as Keras' `EarlyStopping`: after `patience`
 * epochs in a row without an improvement of more than `minDelta`, it sets
 * `trainer.stopTraining`. With `restoreBest`, it keeps a copy of the weights (parameters and
 * buffers) of the best epoch and loads it when fit ends. A NaN value never counts as an
 * improvement.
 * @example
 * const m = new Linear(4, 1);
 * const trainer = new Trainer({ model: m, loss: mseLoss, optimizer: new SGD(m.parameters(), { lr: 0.05 }) });
 * const data: [Tensor, Tensor][] = [[randn([16, 4]), randn([16, 1])]];
 * const stop = earlyStopping({ monitor: "val_loss", patience: 3, restoreBest: true });
 * const history = await trainer.fit(data, { epochs: 100, valLoader: data, callbacks: [stop], verbose: 0 });
 * history.epochs.length <= 100; // true; stop.bestEpoch is the epoch whose weights m now holds
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStopping {
  const op = "earlyStopping";
  const patience = options.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw new ValueError(op, `patience must be a non-negative integer, got ${String(patience)}`);
  const m = new Monitor(op, options.monitor, options.mode, options.minDelta ?? 0);
  let bestEpoch: number | null = null;
  let wait = 0;
  let stoppedEpoch: number | null = null;
  let bestState: StateDict | null = null;
  let lastEpoch = 0;
  return {
    get monitor() {
      return m.monitor;
    },
    get mode() {
      return m.mode;
    },
    get best() {
      return m.best;
    },
    get bestEpoch() {
      return bestEpoch;
    },
    get wait() {
      return wait;
    },
    get stoppedEpoch() {
      return stoppedEpoch;
    },
    onFitStart(info) {
      m.start(info);
      bestEpoch = stoppedEpoch = bestState = null;
      wait = 0;
    },
    onEpochEnd(logs, trainer) {
      lastEpoch = logs.epoch;
      if (m.update(logs)) {
        bestEpoch = logs.epoch;
        wait = 0;
        if (options.restoreBest) bestState = captureState(trainer.options.model);
        return;
      }
      wait++;
      if (wait >= patience) {
        trainer.stopTraining = true;
        stoppedEpoch = logs.epoch;
      }
    },
    onFitEnd(_history, trainer) {
      if (bestState && bestEpoch !== lastEpoch) restoreState(trainer.options.model, bestState);
    },
  };
}

/** What {@link ModelCheckpointOptions.save} gets besides the weights. */
export interface CheckpointInfo {
  /** The epoch the weights are from. */
  epoch: number;
  /** The monitored value at that epoch. */
  value: number;
  /** Whether it is the best so far. */
  best: boolean;
  /** The epoch's logs. */
  logs: EpochLogs;
}

/** Options of {@link modelCheckpoint}. */
export interface ModelCheckpointOptions {
  /** The log key watched (default `"val_loss"` when fit has a validation loader, else `"loss"`). */
  monitor?: string;
  /** "min" (a loss) or "max" (default "max" for a monitor ending in "acc" or "accuracy", else "min"). */
  mode?: "min" | "max";
  /**
   * Called with a copy of the weights (`model.stateDict()`: parameters and buffers, PyTorch's
   * names) on each new best epoch (or every epoch, see `saveBestOnly`); fit awaits a returned
   * promise. In Node: `(sd) => io.save(sd, "best.safetensors")` from "safegrad/node"; in a
   * browser: `serialize(...)` into IndexedDB, a download, ... Default: none (the best weights are
   * only kept in memory).
   */
  save?: (state: StateDict, info: CheckpointInfo) => void | Promise<void>;
  /** Call `save` only on a new best (default true); false: every epoch. */
  saveBestOnly?: boolean;
}

/**
 * The callback {@link modelCheckpoint} returns: the best weights in memory, and their epoch.
 * @example
 * const ckpt: ModelCheckpoint = modelCheckpoint();
 * ckpt.bestState; // null until a fit has run
 */
export interface ModelCheckpoint extends Callback {
  /** The log key watched (resolved when the fit starts). */
  readonly monitor: string;
  /** Whether lower ("min") or higher ("max") is better. */
  readonly mode: "min" | "max";
  /** The best value seen (±Infinity before the first epoch). */
  readonly best: number;
  /** The epoch that had it (null before the first epoch). */
  readonly bestEpoch: number | null;
  /** A copy of that epoch's weights (parameters and buffers), or null. */
  readonly bestState: StateDict | null;
  /** Load the best weights into `model` (default: the model of the last fit). */
  restore(model?: TrainableModel): void;
}

/**
 * Keep the best model of a fit, as Keras' `ModelCheckpoint` with `save_best_only`: after each
 * epoch whose monitored value is the best so far, a copy of the weights is kept in memory
 * (`bestState`) and passed to your `save` function, if any. `restore()` loads it back. It works
 * the same in the browser: writing a file is up to `save`.
 * @example
 * const m = new Linear(4, 1);
 * const trainer = new Trainer({ model: m, loss: mseLoss, optimizer: new SGD(m.parameters(), { lr: 0.05 }) });
 * const data: [Tensor, Tensor][] = [[randn([16, 4]), randn([16, 1])]];
 * const ckpt = modelCheckpoint({ monitor: "val_loss", save: (sd) => io.save(sd, "best.safetensors") });
 * await trainer.fit(data, { epochs: 5, valLoader: data, callbacks: [ckpt], verbose: 0 });
 * ckpt.restore(); // m now holds the weights of epoch ckpt.bestEpoch
 */
export function modelCheckpoint(options: ModelCheckpointOptions = {}): ModelCheckpoint {
  const op = "modelCheckpoint";
  if (options.save !== undefined && typeof options.save !== "function") throw new ValueError(op, `save must be a function (state, info) => void | Promise<void>`);
  const m = new Monitor(op, options.monitor, options.mode, 0);
  const bestOnly = options.saveBestOnly ?? true;
  let bestEpoch: number | null = null;
  let bestState: StateDict | null = null;
  let model: TrainableModel | null = null;
  return {
    get monitor() {
      return m.monitor;
    },
    get mode() {
      return m.mode;
    },
    get best() {
      return m.best;
    },
    get bestEpoch() {
      return bestEpoch;
    },
    get bestState() {
      return bestState;
    },
    restore(target?: TrainableModel): void {
      const into = target ?? model;
      if (!bestState || !into) throw new ValueError(op, "no best weights yet: restore() needs a fit that ran an epoch");
      restoreState(into, bestState);
    },
    onFitStart(info, trainer) {
      m.start(info);
      model = trainer.options.model;
      bestEpoch = bestState = null;
    },
    async onEpochEnd(logs, trainer) {
      const best = m.update(logs);
      if (best) {
        bestEpoch = logs.epoch;
        bestState = captureState(trainer.options.model);
      }
      if (options.save && (best || !bestOnly)) {
        const state = best ? bestState! : captureState(trainer.options.model);
        await options.save(state, { epoch: logs.epoch, value: logs[m.monitor] ?? NaN, best, logs });
      }
    },
  };
}
