/** Messages between the page (main.ts) and the training worker (worker.ts). */
import type { ModelKind } from "../digits-models.js";
import type { GuardNote } from "./display.js";

export type { GuardNote, ModelKind };

export interface TrainRequest {
  type: "train";
  /** The page's id of this run: every message about it carries it (the page ignores a superseded run's last messages). */
  run: number;
  model: ModelKind;
  epochs: number;
  lr: number;
  backend: string;
  seed: number;
}

export type ToWorker = TrainRequest | { type: "stop" } | { type: "classify"; id: number; pixels: Float32Array };

export type FromWorker =
  /** `params`: the model's parameter count (the CLI's model, from examples/digits-models.ts); `description`: "cnn 16-32". */
  | { type: "ready"; run: number; backends: string[]; backend: string; train: number; test: number; params: number; model: ModelKind; description: string; classes: number }
  /** The first test images, for the grid: `images` holds `count * 64` values in [0, 1]. */
  | { type: "testImages"; run: number; images: Float32Array; labels: Int32Array }
  /**
   * One step (`step` counts every step, skipped ones too). `events`: what the guard reported during
   * it (skipped step, lr backoff, rollback, gradient-norm spike); `lrScale`: the guard's multiplier
   * of the scheduled lr (1 until a backoff).
   */
  | { type: "step"; run: number; step: number; epoch: number; loss: number; gradNorm: number; lr: number; skipped: boolean; lrScale: number; events: GuardNote[] }
  | { type: "epoch"; run: number; epoch: number; epochs: number; trainLoss: number; testAccuracy: number; predictions: Int32Array; seconds: number }
  | { type: "done"; run: number; testAccuracy: number; stopped: boolean }
  | { type: "classified"; id: number; probs: Float32Array }
  | { type: "error"; run?: number; message: string };
