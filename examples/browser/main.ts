/**
 * The page: starts the training worker, draws the loss and gradient-norm curves as steps arrive
 * (with a moving median, and markers where the guard skipped a step, backed off the lr, rolled
 * back or warned of a gradient spike), shows test digits with the current predictions, warns when
 * the run diverges or test accuracy stays at chance, and classifies what the user draws.
 * (No safegrad import here: all the numerics run in worker.ts.)
 *
 * The form's fields can be preset from the URL: ?model=cnn&lr=50&epochs=1&backend=js-fast.
 */
import { DEFAULT_LR, MovingMedian, chanceWarning, formatNumber, formatTicks, logTicks, type GuardNote } from "./display.js";
import type { FromWorker, ModelKind, ToWorker } from "./protocol.js";

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};
const ctx2d = (c: HTMLCanvasElement): CanvasRenderingContext2D => {
  const g = c.getContext("2d");
  if (!g) throw new Error("no 2d context");
  return g;
};

const worker = new Worker(new URL("worker.js", location.href), { type: "module" });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

// ------------------------------------------------------------------ state shown on the page
const losses: number[] = [];
const norms: number[] = [];
const lossMedian: number[] = [];
const normMedian: number[] = [];
const lossSmoother = new MovingMedian(25);
const normSmoother = new MovingMedian(25);
const epochMarks: number[] = [];
/** Every guard note of the run (and the page's own "diverging" note), in order. */
const notes: GuardNote[] = [];
let testImages: Float32Array = new Float32Array(0);
let testLabels: Int32Array = new Int32Array(0);
let predictions: Int32Array | null = null;
let info = "";
let progress = "";
let classes = 10;
let runLr = DEFAULT_LR;
let firstLoss = Number.NaN;
let maxLoss = Number.NaN;
let lrScale = 1;
let atChance = false;
const warnings = { diverging: "", chance: "" };

const count = (kind: GuardNote["kind"]): number => notes.reduce((a, n) => a + (n.kind === kind ? 1 : 0), 0);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** "guard: 3 skipped steps, 1 rollback, 3 lr backoffs (lr ×0.125 of the schedule), 1 gradient spike" (empty when nothing happened). */
function guardSummary(): string {
  const skipped = count("skipped");
  const backoffs = count("backoff");
  const rollbacks = count("rollback");
  const spikes = count("spike");
  const parts = [
    skipped ? plural(skipped, "skipped step") : "",
    rollbacks ? plural(rollbacks, "rollback") : "",
    backoffs ? `${plural(backoffs, "lr backoff")} (lr ×${formatNumber(lrScale)} of the schedule)` : "",
    spikes ? plural(spikes, "gradient spike") : "",
  ].filter(Boolean);
  return parts.length ? `⚠ guard: ${parts.join(", ")}` : "";
}

const setStatus = (): void => {
  const guard = guardSummary();
  $("statusText").textContent = [info, progress].filter(Boolean).join(" · ");
  $("guard").textContent = guard ? ` · ${guard}` : "";
  const last = notes.filter((n) => n.kind !== "diverging").at(-1);
  $("lastEvent").textContent = last ? `last guard event: ${last.message}` : "";
  const w = [warnings.diverging, warnings.chance].filter(Boolean);
  const box = $<HTMLDivElement>("warning");
  box.hidden = w.length === 0;
  box.replaceChildren(...w.map((t) => Object.assign(document.createElement("div"), { textContent: `⚠ ${t}` })));
  const d = document.body.dataset;
  d.skipped = String(count("skipped"));
  d.backoffs = String(count("backoff"));
  d.rollbacks = String(count("rollback"));
  d.spikes = String(count("spike"));
};

// ------------------------------------------------------------------ charts
interface Series {
  values: number[];
  color: string;
  width: number;
}

/** Marker colours, by note kind (the legend under the charts uses the same). */
const MARK: Record<GuardNote["kind"], string> = { skipped: "#d0453b", backoff: "#d0453b", rollback: "#7c3aed", spike: "#d97706", diverging: "#9f1239" };

/** A log-scale chart of step series, with epoch lines, an optional dashed line and event markers. */
function drawChart(canvas: HTMLCanvasElement, series: Series[], opts: { hline?: number; marks?: number[]; events?: GuardNote[] }): void {
  const g = ctx2d(canvas);
  const W = canvas.width;
  const H = canvas.height;
  const L = 46;
  const R = 8;
  const T = 12;
  const B = 26;
  g.clearRect(0, 0, W, H);
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0);
  if (opts.hline !== undefined) all.push(opts.hline);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  canvas.dataset.ticks = "[]";
  canvas.dataset.markers = "0";
  if (all.length === 0) return;
  let lo = Math.log10(Math.min(...all));
  let hi = Math.log10(Math.max(...all));
  if (hi - lo < 1) {
    // At least a decade, so there are two ticks or more (1-2-5 steps).
    const mid = (lo + hi) / 2;
    lo = mid - 0.5;
    hi = mid + 0.5;
  }
  const x = (i: number): number => L + ((W - L - R) * i) / (n - 1);
  const y = (v: number): number => T + (H - T - B) * (1 - (Math.log10(v) - lo) / (hi - lo));
  // grid and y labels: one number style per axis (see formatTicks)
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#687086";
  g.strokeStyle = "#eceef3";
  g.lineWidth = 1;
  const ticks = logTicks(lo, hi);
  const labels = formatTicks(ticks);
  canvas.dataset.ticks = JSON.stringify(labels);
  ticks.forEach((t, k) => {
    const yy = y(t);
    g.beginPath();
    g.moveTo(L, yy);
    g.lineTo(W - R, yy);
    g.stroke();
    g.fillText(labels[k]!, 4, yy + 4);
  });
  for (const m of opts.marks ?? []) {
    g.strokeStyle = "#f0f1f5";
    g.beginPath();
    g.moveTo(x(m), T);
    g.lineTo(x(m), H - B);
    g.stroke();
  }
  g.fillText("step 0", L, H - 6);
  g.textAlign = "right";
  g.fillText(String(n - 1), W - R, H - 6);
  g.textAlign = "left";
  if (opts.hline !== undefined) {
    g.strokeStyle = "#d0453b";
    g.setLineDash([5, 4]);
    g.beginPath();
    g.moveTo(L, y(opts.hline));
    g.lineTo(W - R, y(opts.hline));
    g.stroke();
    g.setLineDash([]);
  }
  const ok = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
  for (const s of series) {
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = s.width;
    g.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (!ok(v)) {
        pen = false;
        return;
      }
      if (pen) g.lineTo(x(i), y(v));
      else g.moveTo(x(i), y(v));
      pen = true;
      // A good step between skipped ones has no line to draw: a dot instead.
      if (!ok(s.values[i - 1]) && !ok(s.values[i + 1])) g.fillRect(x(i) - 1.5, y(v) - 1.5, 3, 3);
    });
    g.stroke();
  }
  // Event markers: a thin line down the plot and a triangle, at the top (a rollback's at the bottom).
  const events = opts.events ?? [];
  for (const e of events) {
    const xx = x(e.step - 1);
    g.strokeStyle = MARK[e.kind];
    g.globalAlpha = 0.35;
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(xx, T);
    g.lineTo(xx, H - B);
    g.stroke();
    g.globalAlpha = 1;
    g.fillStyle = MARK[e.kind];
    g.beginPath();
    if (e.kind === "rollback") {
      g.moveTo(xx - 4, H - B + 8);
      g.lineTo(xx + 4, H - B + 8);
      g.lineTo(xx, H - B + 1);
    } else {
      g.moveTo(xx - 4, 2);
      g.lineTo(xx + 4, 2);
      g.lineTo(xx, T - 1);
    }
    g.closePath();
    g.fill();
  }
  canvas.dataset.markers = String(events.length);
}

let chartQueued = false;
function queueCharts(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    // One marker per step and kind is enough (a skipped step's backoff shares its marker).
    const marked = notes.filter((e) => e.kind !== "backoff");
    drawChart($("loss"), [{ values: losses, color: "rgba(47,111,222,0.25)", width: 1 }, { values: lossMedian, color: "#2f6fde", width: 2 }], { marks: epochMarks, events: marked });
    drawChart($("gnorm"), [{ values: norms, color: "rgba(217,119,6,0.3)", width: 1 }, { values: normMedian, color: "#d97706", width: 2 }], {
      hline: 1,
      marks: epochMarks,
      events: marked.filter((e) => e.kind !== "diverging"),
    });
  });
}

// ------------------------------------------------------------------ digits
/** Draw an 8x8 image with values in [0, 1] as white ink on black. */
function drawDigit(g: CanvasRenderingContext2D, pixels: ArrayLike<number>, x0: number, y0: number, size: number): void {
  const cell = size / 8;
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, pixels[r * 8 + c]!)));
      g.fillStyle = `rgb(${v},${v},${v})`;
      g.fillRect(x0 + c * cell, y0 + r * cell, Math.ceil(cell), Math.ceil(cell));
    }
  }
}

function drawGrid(): void {
  const canvas = $<HTMLCanvasElement>("grid");
  const g = ctx2d(canvas);
  g.clearRect(0, 0, canvas.width, canvas.height);
  const cols = 12;
  const cw = canvas.width / cols;
  const ch = 78;
  const size = 52;
  g.font = "600 14px system-ui, sans-serif";
  g.textAlign = "center";
  for (let i = 0; i < testLabels.length; i++) {
    const cx = (i % cols) * cw + cw / 2;
    const cy = Math.floor(i / cols) * ch;
    drawDigit(g, testImages.subarray(i * 64, i * 64 + 64), cx - size / 2, cy + 4, size);
    const truth = testLabels[i]!;
    if (predictions) {
      const p = predictions[i]!;
      g.fillStyle = p === truth ? "#1f9d55" : "#d0453b";
      g.fillText(p === truth ? String(p) : `${p} (${truth})`, cx, cy + size + 20);
    } else {
      g.fillStyle = "#687086";
      g.fillText("?", cx, cy + size + 20);
    }
  }
}

// ------------------------------------------------------------------ the drawing pad
const pad = $<HTMLCanvasElement>("pad");
const pg = ctx2d(pad);
function clearPad(): void {
  pg.fillStyle = "#000";
  pg.fillRect(0, 0, pad.width, pad.height);
  $("guess").textContent = "?";
  ctx2d($("probs")).clearRect(0, 0, 220, 90);
  ctx2d($("seen")).clearRect(0, 0, 64, 64);
  inked = false;
}
let drawing = false;
let inked = false;
let last: [number, number] | null = null;
const padPoint = (e: PointerEvent): [number, number] => {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
};
pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  last = padPoint(e);
  stroke(last, last);
});
pad.addEventListener("pointermove", (e) => {
  if (!drawing || !last) return;
  const p = padPoint(e);
  stroke(last, p);
  last = p;
  queueClassify();
});
const endStroke = (): void => {
  drawing = false;
  last = null;
  queueClassify();
};
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);
function stroke(a: [number, number], b: [number, number]): void {
  inked = true;
  pg.strokeStyle = "#fff";
  pg.lineWidth = 22;
  pg.lineCap = "round";
  pg.lineJoin = "round";
  pg.beginPath();
  pg.moveTo(a[0], a[1]);
  pg.lineTo(b[0], b[1]);
  pg.stroke();
}

/**
 * Turn the drawing into what the data set looks like. The UCI images were made by scaling each
 * digit to a 32x32 bitmap and counting the "on" pixels in each 4x4 block (0..16, which the
 * loader divides by 16): crop to the ink, scale the longer side to 32, centre, threshold, count.
 */
function padToPixels(): Float32Array | null {
  const { width: W, height: H } = pad;
  const img = pg.getImageData(0, 0, W, H).data;
  let x0 = W;
  let y0 = H;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (img[(y * W + x) * 4]! > 40) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = 32 / Math.max(bw, bh);
  const small = document.createElement("canvas");
  small.width = 32;
  small.height = 32;
  const sg = ctx2d(small);
  sg.fillStyle = "#000";
  sg.fillRect(0, 0, 32, 32);
  sg.imageSmoothingQuality = "high";
  sg.drawImage(pad, x0, y0, bw, bh, (32 - bw * scale) / 2, (32 - bh * scale) / 2, bw * scale, bh * scale);
  const s = sg.getImageData(0, 0, 32, 32).data;
  const out = new Float32Array(64);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) if (s[(y * 32 + x) * 4]! > 110) out[(y >> 2) * 8 + (x >> 2)]! += 1 / 16;
  return out;
}

let classifyId = 0;
let classifyQueued = false;
function queueClassify(): void {
  if (classifyQueued || !inked) return;
  classifyQueued = true;
  setTimeout(() => {
    classifyQueued = false;
    const pixels = padToPixels();
    if (!pixels) return;
    const sctx = ctx2d($("seen"));
    drawDigit(sctx, pixels, 0, 0, 64);
    send({ type: "classify", id: ++classifyId, pixels }, [pixels.buffer]);
  }, 60);
}

function showProbs(probs: Float32Array): void {
  let best = 0;
  for (let k = 1; k < 10; k++) if (probs[k]! > probs[best]!) best = k;
  $("guess").textContent = String(best);
  const c = $<HTMLCanvasElement>("probs");
  const g = ctx2d(c);
  g.clearRect(0, 0, c.width, c.height);
  const bw = c.width / 10;
  g.font = "11px system-ui, sans-serif";
  g.textAlign = "center";
  for (let k = 0; k < 10; k++) {
    const h = (c.height - 16) * probs[k]!;
    g.fillStyle = k === best ? "#2f6fde" : "#c9d3e6";
    g.fillRect(k * bw + 3, c.height - 16 - h, bw - 6, h);
    g.fillStyle = "#687086";
    g.fillText(String(k), k * bw + bw / 2, c.height - 3);
  }
}

// ------------------------------------------------------------------ wiring
/** The id of the current run: messages of an earlier one (its last step, "stopped") are ignored. */
let currentRun = 0;

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if ("run" in m && m.run !== undefined && m.run !== currentRun) return;
  switch (m.type) {
    case "ready":
      info = `${m.description.toUpperCase()}, ${m.params.toLocaleString("en")} parameters · ${m.train} train / ${m.test} test images · backend ${m.backend}`;
      classes = m.classes;
      document.body.dataset.params = String(m.params);
      setStatus();
      break;
    case "testImages":
      testImages = m.images;
      testLabels = m.labels;
      drawGrid();
      break;
    case "step":
      onStep(m);
      break;
    case "epoch":
      epochMarks.push(losses.length - 1);
      predictions = m.predictions;
      drawGrid();
      progress = `epoch ${m.epoch}/${m.epochs} · train loss ${formatNumber(m.trainLoss)} · test accuracy ${(100 * m.testAccuracy).toFixed(1)}% · ${m.seconds.toFixed(2)} s/epoch`;
      warnings.chance =
        chanceWarning({ epoch: m.epoch, testAccuracy: m.testAccuracy, classes, lr: runLr, skipped: count("skipped"), spikes: count("spike"), lossRise: maxLoss / firstLoss }) ?? "";
      atChance = warnings.chance !== "";
      setStatus();
      document.body.dataset.epoch = String(m.epoch);
      document.body.dataset.accuracy = m.testAccuracy.toFixed(4);
      queueClassify();
      break;
    case "done":
      progress = `${m.stopped ? "stopped" : "done"} · test accuracy ${(100 * m.testAccuracy).toFixed(1)}%${atChance ? " (at chance: see the warning)" : ""}`;
      setStatus();
      document.body.dataset.done = "1";
      break;
    case "classified":
      if (m.id === classifyId) showProbs(m.probs);
      break;
    case "error":
      progress = `error: ${m.message}`;
      setStatus();
      document.body.dataset.error = m.message;
      break;
  }
};
worker.onerror = (e) => {
  progress = `worker error: ${e.message}`;
  setStatus();
  document.body.dataset.error = e.message;
};

function onStep(m: Extract<FromWorker, { type: "step" }>): void {
  losses.push(m.loss);
  norms.push(m.gradNorm);
  if (m.events.some((e) => e.kind === "rollback")) {
    // The weights jumped back: the steps before say nothing about the ones after.
    lossSmoother.restart();
    normSmoother.restart();
  }
  lossMedian.push(lossSmoother.push(m.loss, m.skipped));
  normMedian.push(normSmoother.push(m.gradNorm, m.skipped));
  notes.push(...m.events);
  lrScale = m.lrScale;
  if (!m.skipped && Number.isFinite(m.loss)) {
    if (Number.isNaN(firstLoss)) firstLoss = m.loss;
    maxLoss = Number.isNaN(maxLoss) ? m.loss : Math.max(maxLoss, m.loss);
    // Seen by the page, not the guard: a finite loss far above where it started (too high an lr, usually).
    if (!warnings.diverging && firstLoss > 0 && m.loss > 100 * firstLoss) {
      const message = `the training loss is diverging: ${formatNumber(m.loss)} at step ${m.step}, ${formatNumber(m.loss / firstLoss)}× the first step's ${formatNumber(firstLoss)} (learning rate ${formatNumber(runLr)})`;
      warnings.diverging = message;
      notes.push({ kind: "diverging", step: m.step, message });
    }
  }
  progress = `epoch ${m.epoch} · step ${m.step} · loss ${formatNumber(m.loss)} · grad norm ${formatNumber(m.gradNorm)} · lr ${formatNumber(m.lr)}`;
  setStatus();
  queueCharts();
}

function start(): void {
  for (const a of [losses, norms, lossMedian, normMedian, epochMarks, notes]) a.length = 0;
  lossSmoother.restart();
  normSmoother.restart();
  predictions = null;
  firstLoss = Number.NaN;
  maxLoss = Number.NaN;
  lrScale = 1;
  atChance = false;
  warnings.diverging = "";
  warnings.chance = "";
  delete document.body.dataset.done;
  delete document.body.dataset.epoch;
  progress = "fetching data…";
  setStatus();
  runLr = Number($<HTMLInputElement>("lr").value) || DEFAULT_LR;
  send({
    type: "train",
    run: ++currentRun,
    model: $<HTMLSelectElement>("model").value as ModelKind,
    backend: $<HTMLSelectElement>("backend").value,
    epochs: Math.max(1, Math.floor(Number($<HTMLInputElement>("epochs").value) || 15)),
    lr: runLr,
    seed: 0,
  });
  queueCharts();
}

// Preset the form from the URL (?model=cnn&lr=50&epochs=1&backend=js-fast): a link reproduces a run.
const query = new URLSearchParams(location.search);
for (const id of ["model", "backend", "epochs", "lr"]) {
  const v = query.get(id);
  const field = $<HTMLInputElement | HTMLSelectElement>(id);
  if (v !== null && (!(field instanceof HTMLSelectElement) || Array.from(field.options).some((o) => o.value === v))) field.value = v;
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  start();
});
$("stop").addEventListener("click", () => send({ type: "stop" }));
$("clear").addEventListener("click", clearPad);
clearPad();
start();
