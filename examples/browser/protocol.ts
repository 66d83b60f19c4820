/** Messages between the page (main.ts) and the training worker (worker.ts). */

export type ModelKind = "mlp" | "cnn";

export interface TrainRequest {
  type: "train";
  model: ModelKind;
  epochs: number;
  lr: number;
  backend: string;
  seed: number;
}

export type ToWorker = TrainRequest | { type: "stop" } | { type: "classify"; id: number; pixels: Float32Array };

export type FromWorker =
  | { type: "ready"; backends: string[]; backend: string; train: number; test: number; params: number; model: ModelKind }
  /** The first test images, for the grid: `images` holds `count * 64` values in [0, 1]. */
  | { type: "testImages"; images: Float32Array; labels: Int32Array }
  | { type: "step"; step: number; epoch: number; loss: number; gradNorm: number; lr: number; skipped: boolean }
  | { type: "epoch"; epoch: number; epochs: number; trainLoss: number; testAccuracy: number; predictions: Int32Array; seconds: number }
  | { type: "done"; testAccuracy: number; stopped: boolean }
  | { type: "classified"; id: number; probs: Float32Array }
  | { type: "error"; message: string };
