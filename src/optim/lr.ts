/**
 * The one writer of a parameter group's learning rate.
 *
 * A group's lr is `scheduled lr * lrScale`:
 * - the *scheduled lr* is what a schedule says: an {@link LRScheduler} evaluates its schedule, a
 *   `ReduceLROnPlateau` multiplies its own last scheduled lr by `factor`; without a scheduler it
 *   is the lr the group was created with, set to by hand, or restored by `Optimizer.loadStateDict`;
 * - `lrScale` (absent means 1) belongs to the training guard, which lowers it on a non-finite step
 *   ("backoff", "rollback") and never raises it above 1.
 *
 * {@link setScheduledLr} is the only function that writes `group.lr` on behalf of a schedule or of
 * the guard: every scheduler calls it, so a scheduler stepped by hand, by the guard or by
 * `Trainer` respects the guard's scale, and the guard can never lift the lr above the schedule.
 * {@link scheduledLr} reads the scheduled lr back without dividing by the scale.
 */
import { fail } from "./types.js";

/**
 * What the lr writer needs of a parameter group (every optimizer's groups have it).
 * @example
 * const g: LrGroup = opt.paramGroups[0]!;
 * g.lrScale ?? 1; // 1 until a training guard backs off
 */
export interface LrGroup {
  /** The lr the optimizer uses: the scheduled lr times `lrScale`. */
  lr: number;
  /** The training guard's multiplier of the scheduled lr, in (0, 1]; absent means 1. */
  lrScale?: number;
}

/** What setScheduledLr last wrote to each group: the scheduled lr, and the lr it gave. */
const written = new WeakMap<LrGroup, { scheduled: number; lr: number }>();

/**
 * Set a group's scheduled lr: writes `group.lr = lr * group.lrScale` (just `lr` while there is no
 * scale) and remembers `lr` for {@link scheduledLr}. Schedulers call this instead of assigning
 * `group.lr`; a scheduler of your own should too, so that the guard's backoff applies to it.
 * @example
 * const g = opt.paramGroups[0]!;
 * setScheduledLr(g, 0.05);
 * g.lr; // 0.05
 * g.lrScale = 0.5; // what a training guard does after a non-finite step
 * setScheduledLr(g, 0.02);
 * g.lr; // 0.01
 * scheduledLr(g); // 0.02
 */
export function setScheduledLr(group: LrGroup, lr: number): void {
  const scale = group.lrScale;
  const effective = scale === undefined || scale === 1 ? lr : lr * scale;
  group.lr = effective;
  written.set(group, { scheduled: lr, lr: effective });
}

/**
 * A group's scheduled lr: the lr last given to {@link setScheduledLr}, or `group.lr` itself when
 * something else has written it since (by hand, `Optimizer.loadStateDict`, or a group no
 * scheduler has touched yet): that value is then the schedule.
 * @example
 * const g = opt.paramGroups[0]!;
 * scheduledLr(g); // 0.1: the lr the group was created with
 * g.lrScale = 0.5;
 * setScheduledLr(g, 0.1);
 * g.lr; // 0.05
 * scheduledLr(g); // 0.1
 */
export function scheduledLr(group: LrGroup): number {
  const w = written.get(group);
  return w !== undefined && Object.is(w.lr, group.lr) ? w.scheduled : group.lr;
}

/**
 * Set a group's `lrScale` (in (0, 1]) and rewrite its lr from the scheduled lr: what the training
 * guard does when it backs off. `scheduled` defaults to {@link scheduledLr}.
 * @example
 * const g = opt.paramGroups[0]!; // lr 0.1
 * setLrScale(g, 0.5);
 * g.lr; // 0.05
 * setLrScale(g, 0.25);
 * g.lr; // 0.025: a quarter of the scheduled lr, not half of the lr before
 */
export function setLrScale(group: LrGroup, scale: number, scheduled: number = scheduledLr(group)): void {
  if (typeof scale !== "number" || !(scale > 0 && scale <= 1)) fail("setLrScale", "lrScale", scale, "a number in (0, 1]");
  group.lrScale = scale;
  setScheduledLr(group, scheduled);
}
