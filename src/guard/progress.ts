/**
 * Progress output of `Trainer.fit`: on a terminal a line rewritten in place (epoch, step/steps,
 * running loss and metrics, rate, ETA) and one summary line per epoch; elsewhere one JSON line per
 * epoch. Everything goes through a {@link ProgressWriter}, so it works in the browser and can be
 * captured.
 */
import type { GuardEvent } from "./events.js";

/**
 * Where `Trainer.fit` writes its progress: `write` gets text as it is (each line ends with "\n";
 * on a terminal the in-place line starts with "\r"). `process.stdout` is one.
 * @example
 * const lines: string[] = [];
 * const writer: ProgressWriter = { write: (s) => lines.push(s), isTTY: false }; // JSON lines
 */
export interface ProgressWriter {
  /** Write the text (no newline is added). */
  write(text: string): void;
  /** A terminal: the progress line is rewritten in place with "\r" (default false: JSON lines). */
  readonly isTTY?: boolean;
}

interface StdoutLike {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * @internal `process.stdout` where there is one (Node), else `console.log` line by line (a
 * browser: never a TTY, so JSON lines).
 */
export function defaultWriter(): ProgressWriter {
  const stdout = (globalThis as { process?: { stdout?: StdoutLike } }).process?.stdout;
  if (stdout && typeof stdout.write === "function") return { write: (s) => void stdout.write(s), isTTY: stdout.isTTY === true };
  let pending = "";
  return {
    write(s: string): void {
      pending += s;
      for (let i = pending.indexOf("\n"); i >= 0; i = pending.indexOf("\n")) {
        console.log(pending.slice(0, i).replace(/^.*\r/, ""));
        pending = pending.slice(i + 1);
      }
    },
    isTTY: false,
  };
}

const clock = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** @internal A value for a progress line: 4 decimals in a readable range, else 3 significant digits. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a === 0 || (a >= 1e-3 && a < 1e5) ? v.toFixed(4) : v.toExponential(2);
}

/** @internal Seconds as "35ms", "12.3s", "3m05s", "1h02m". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** @internal One line about a guard event (not "step" events). */
export function describeEvent(e: GuardEvent): string {
  switch (e.type) {
    case "warning":
      return `step ${e.step}: warning: ${e.message}`;
    case "rollback":
      return `step ${e.step}: rolled back to the state of step ${e.toStep}`;
    case "nonFinite": {
      const num = (v: number): string => (Number.isFinite(v) ? v.toPrecision(3) : String(v));
      const what = `${Number.isFinite(e.loss) ? "" : `loss ${e.loss}, `}gradient norm ${num(e.gradNorm)}`;
      const lr = e.lrScale < 1 ? `, lr scale ${e.lrScale}` : "";
      const where = e.report ? `; ${e.report.kind} first in the ${e.report.phase} pass of ${e.report.op}` : "";
      return `step ${e.step}: ${what}: skipped (${e.policy}${lr})${where}`;
    }
    default:
      return `step ${e.step}: ${e.type}`;
  }
}

/** @internal The progress output of one fit. */
export class Progress {
  readonly #writer: ProgressWriter;
  readonly #epochs: number;
  readonly #inPlace: boolean;
  readonly #json: boolean;
  readonly #now: () => number;
  #width = 0;
  #lineOpen = false;
  #lastWrite = -Infinity;
  #t0 = 0;

  constructor(writer: ProgressWriter, verbose: 1 | 2, epochs: number, now: () => number = clock) {
    this.#writer = writer;
    this.#epochs = epochs;
    this.#inPlace = verbose === 1 && writer.isTTY === true;
    this.#json = verbose === 1 && writer.isTTY !== true;
    this.#now = now;
  }

  #epochLabel(epoch: number): string {
    return `epoch ${String(epoch).padStart(String(this.#epochs).length)}/${this.#epochs}`;
  }

  #rewrite(line: string, end = ""): void {
    this.#writer.write(`\r${line.padEnd(this.#width)}${end}`);
    this.#width = end ? 0 : line.length;
    this.#lineOpen = !end;
  }

  epochStart(): void {
    this.#t0 = this.#now();
    this.#lastWrite = -Infinity;
  }

  /** After each step: rewrite the line (at most every 100 ms, and always on the last step). */
  step(epoch: number, done: number, steps: number | undefined, values: Record<string, number>): void {
    if (!this.#inPlace) return;
    const t = this.#now();
    if (done !== steps && t - this.#lastWrite < 100) return;
    this.#lastWrite = t;
    const elapsed = (t - this.#t0) / 1000;
    const rate = elapsed > 0 ? done / elapsed : NaN;
    const parts = [this.#epochLabel(epoch), `${done}/${steps ?? "?"}`, ...Object.entries(values).map(([k, v]) => `${k} ${formatValue(v)}`)];
    if (Number.isFinite(rate)) parts.push(`${rate >= 100 ? Math.round(rate) : rate.toPrecision(3)} steps/s`);
    if (steps !== undefined && Number.isFinite(rate)) parts.push(`ETA ${formatSeconds((steps - done) / rate)}`);
    this.#rewrite(parts.join("  "));
  }

  /** A guard event: its own line (text output only). */
  event(e: GuardEvent): void {
    if (this.#json) return;
    const line = `  ${describeEvent(e)}`;
    if (this.#lineOpen) this.#rewrite(line, "\n");
    else this.#writer.write(`${line}\n`);
  }

  epochEnd(logs: Readonly<Record<string, number | undefined>>): void {
    const { epoch, steps, seconds, lr, skipped, ...values } = logs;
    if (this.#json) {
      this.#writer.write(`${JSON.stringify({ epoch, epochs: this.#epochs, ...logs })}\n`);
      return;
    }
    const parts = [this.#epochLabel(epoch ?? 0), `${steps}/${steps}`];
    for (const [k, v] of Object.entries(values)) if (v !== undefined) parts.push(`${k} ${formatValue(v)}`);
    if (lr !== undefined) parts.push(`lr ${lr.toExponential(2)}`);
    if (skipped) parts.push(`skipped ${skipped}`);
    parts.push(formatSeconds(seconds ?? NaN));
    const line = parts.join("  ");
    if (this.#inPlace) this.#rewrite(line, "\n");
    else this.#writer.write(`${line}\n`);
  }

  /** End a line left open (training stopped by an error). */
  close(): void {
    if (this.#lineOpen) this.#writer.write("\n");
    this.#lineOpen = false;
  }
}
