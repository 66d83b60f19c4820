/**
 * The guard's events and step results: plain types, shared by the trainer (training.ts), its
 * progress output (progress.ts) and callbacks (callbacks.ts), so none of them imports another's
 * types back.
 */
import type { GradNormStats } from "../optim/clip-grad.js";
import type { AnomalyReport } from "./report.js";

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

/**
 * An event reported to `GuardOptions.onEvent`: a good step, a gradient-norm spike warning,
 * a non-finite step (with its report and the policy applied), or a rollback. `step` is the
 * guard's step count when it happened (a non-finite step's is the one that failed, before a
 * rollback restores `toStep`; the "rollback" event comes first). `Trainer.fit` passes every event
 * but "step" to `Callback.onGuardEvent`.
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
