/**
 * What the page shows, as pure functions (no DOM, no safegrad; unit-tested in
 * test-browser/example.test.ts): number and axis-label formatting, log-axis ticks, the moving
 * median drawn over the per-step curves, the text of guard events, and the at-chance warning.
 */

/** The page's default learning rate (the form's value), suggested when a run diverges. */
export const DEFAULT_LR = 0.003;

/** "1e6", "-2.5e-3": scientific notation with up to 3 significant digits, no "+" and no trailing zeros. */
export function sci(v: number): string {
  const [m, e] = v.toExponential(2).split("e");
  return `${+m!}e${+e!}`;
}

/**
 * One number in running text (the status line, event messages): plain with up to 4 significant
 * digits in [0.001, 10000), scientific outside; NaN and ±Infinity spelled out.
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e4 ? String(+v.toPrecision(4)) : sci(v);
}

/**
 * The labels of one axis, all in one style: plain decimals ("0.01", "2", "1000") when every
 * non-zero tick is in [0.01, 10000), otherwise scientific for every tick ("1e-3", "1e0", "1e6").
 */
export function formatTicks(values: readonly number[]): string[] {
  const plain = values.every((v) => v === 0 || (Math.abs(v) >= 0.01 && Math.abs(v) < 1e4));
  return values.map((v) => (v === 0 ? "0" : plain ? String(+v.toPrecision(3)) : sci(v)));
}

/**
 * Ticks of a log axis spanning 10^lo..10^hi (lo, hi in decades): the powers of ten inside it, every
 * k-th one when there are more than `maxTicks`; within less than two decades, 1-2-5 steps instead.
 */
export function logTicks(lo: number, hi: number, maxTicks = 6): number[] {
  const a = Math.ceil(lo - 1e-9);
  const b = Math.floor(hi + 1e-9);
  if (b - a >= 1) {
    const stride = Math.ceil((b - a + 1) / maxTicks);
    const out: number[] = [];
    for (let k = a; k <= b; k += stride) out.push(Number(`1e${k}`));
    return out;
  }
  const out: number[] = [];
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) {
      const v = Number(`${m}e${k}`);
      const d = Math.log10(v);
      if (d >= lo - 1e-9 && d <= hi + 1e-9) out.push(v);
    }
  }
  return out;
}

/**
 * A trailing moving median over the last `window` good steps: a skipped or non-finite step is
 * left out (and has no smoothed value, so the line breaks there), and `restart()` (after a
 * rollback, when the weights jump back) forgets the steps before it. Unlike an exponential moving
 * average, one spike of a million does not drag the curve up for the next hundred steps.
 */
export class MovingMedian {
  #buf: number[] = [];
  constructor(readonly window = 25) {}

  restart(): void {
    this.#buf = [];
  }

  /** Add a step; returns the smoothed value at it (NaN for a skipped or non-finite step). */
  push(value: number, skipped = false): number {
    if (skipped || !Number.isFinite(value)) return Number.NaN;
    this.#buf.push(value);
    if (this.#buf.length > this.window) this.#buf.shift();
    const s = [...this.#buf].sort((x, y) => x - y);
    const h = s.length >> 1;
    return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
  }
}

/** The moving median of a whole series (`restarts`: indices of steps whose rollback forgot the past). */
export function movingMedian(values: readonly number[], skipped: readonly boolean[] = [], restarts: readonly number[] = [], window = 25): number[] {
  const m = new MovingMedian(window);
  const rs = new Set(restarts);
  return values.map((v, i) => {
    if (rs.has(i)) m.restart();
    return m.push(v, skipped[i] ?? false);
  });
}

/** A guard event as the page shows it (GuardEvent without its AnomalyReport, which postMessage cannot carry). */
export interface GuardNote {
  /** skipped: a non-finite loss or gradient (the step was not taken); backoff: the guard lowered the lr; rollback: weights restored; spike: a gradient-norm spike warning; diverging: the loss rose 100× above its first value (seen by the page, not the guard). */
  kind: "skipped" | "backoff" | "rollback" | "spike" | "diverging";
  /** The page's step number (every step counted, skipped ones included). */
  step: number;
  message: string;
}

/** What the guard reported, in the shape the worker posts (fields of GuardEvent). */
export type GuardEventLike =
  | { type: "step" }
  | { type: "warning"; message: string }
  | { type: "nonFinite"; loss: number; gradNorm: number; policy: string; lrScale: number; report: { op: string; hint: { hazard: string } | null } | null }
  | { type: "rollback"; step: number; toStep: number };

/**
 * The notes for one guard event at page step `step` (`prevScale`: the guard's lr scale before it).
 * A non-finite step under "backoff"/"rollback" gives a "skipped" and a "backoff" note.
 */
export function guardNotes(e: GuardEventLike, step: number, prevScale: number): GuardNote[] {
  switch (e.type) {
    case "step":
      return [];
    case "warning":
      return [{ kind: "spike", step, message: `step ${step}: ${e.message}` }];
    case "rollback":
      return [{ kind: "rollback", step, message: `step ${step}: weights rolled back to the snapshot of good step ${e.toStep}` }];
    case "nonFinite": {
      const what = [Number.isFinite(e.loss) ? "" : `loss ${formatNumber(e.loss)}`, Number.isFinite(e.gradNorm) ? "" : `gradient norm ${formatNumber(e.gradNorm)}`].filter(Boolean).join(", ");
      const where = e.report ? `; traced to op ${e.report.op}${e.report.hint ? ` (${e.report.hint.hazard})` : ""}` : "";
      const notes: GuardNote[] = [{ kind: "skipped", step, message: `step ${step}: ${what || "non-finite value"}: step skipped${where}` }];
      if (e.lrScale < prevScale) notes.push({ kind: "backoff", step, message: `step ${step}: lr backed off to ×${formatNumber(e.lrScale)} of the schedule` });
      return notes;
    }
  }
}

/** What the page knows about a run when an epoch ends. */
export interface RunSummary {
  epoch: number;
  testAccuracy: number;
  classes: number;
  /** The peak learning rate the run was started with. */
  lr: number;
  skipped: number;
  spikes: number;
  /** The largest finite training loss so far divided by the first step's loss. */
  lossRise: number;
}

/** Accuracy at most this far above chance (1 / classes) counts as "at chance": 15% for 10 classes. */
export const CHANCE_MARGIN = 0.05;

/** A warning when test accuracy is at chance, naming the likely cause; null otherwise. */
export function chanceWarning(r: RunSummary): string | null {
  const chance = 1 / r.classes;
  if (!(r.testAccuracy <= chance + CHANCE_MARGIN)) return null;
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const evidence = [
    r.lossRise > 10 ? `the training loss rose to ${formatNumber(r.lossRise)}× its first value` : "",
    r.skipped ? `the guard skipped ${r.skipped} step${r.skipped === 1 ? "" : "s"} with a non-finite loss or gradient` : "",
    r.spikes ? `the guard warned of ${r.spikes} gradient-norm spike${r.spikes === 1 ? "" : "s"}` : "",
  ].filter(Boolean);
  let cause: string;
  if (r.lr >= 0.1 || evidence.length) {
    cause = `the learning rate ${formatNumber(r.lr)} is too high${evidence.length ? ` (${evidence.join("; ")})` : ""}: try ${DEFAULT_LR}`;
  } else if (r.lr < 1e-5) {
    cause = `the learning rate ${formatNumber(r.lr)} is too low for the network to move: try ${DEFAULT_LR}`;
  } else {
    cause = `not an obvious learning-rate problem (lr ${formatNumber(r.lr)}, no divergence seen): train longer, or check the model and the labels`;
  }
  return `Test accuracy ${pct(r.testAccuracy)} after epoch ${r.epoch} is at chance (${r.classes} classes: ${pct(chance)}): the network is not learning. Likely cause: ${cause}.`;
}
