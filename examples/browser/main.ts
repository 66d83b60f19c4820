/**
 * The page: starts the training worker, draws the loss and gradient-norm curves as steps arrive,
 * shows test digits with the current predictions, and classifies what the user draws.
 * (No safegrad import here: all the numerics run in worker.ts.)
 */
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
const epochMarks: number[] = [];
let testImages: Float32Array = new Float32Array(0);
let testLabels: Int32Array = new Int32Array(0);
let predictions: Int32Array | null = null;
let info = "";
let progress = "";
const status = $<HTMLDivElement>("status");
const setStatus = (): void => {
  status.textContent = [info, progress].filter(Boolean).join(" · ");
};

// ------------------------------------------------------------------ charts
interface Series {
  values: number[];
  color: string;
  width: number;
}

function drawChart(canvas: HTMLCanvasElement, series: Series[], opts: { log?: boolean; hline?: number; marks?: number[] }): void {
  const g = ctx2d(canvas);
  const W = canvas.width;
  const H = canvas.height;
  const L = 46;
  const R = 8;
  const T = 8;
  const B = 22;
  g.clearRect(0, 0, W, H);
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && (!opts.log || v > 0));
  if (opts.hline !== undefined) all.push(opts.hline);
  const n = Math.max(2, ...series.map((s) => s.values.length));
  if (all.length === 0) return;
  const f = (v: number): number => (opts.log ? Math.log10(v) : v);
  let lo = Math.min(...all.map(f));
  let hi = Math.max(...all.map(f));
  if (!opts.log) lo = Math.min(0, lo);
  if (hi - lo < 1e-9) hi = lo + 1;
  const x = (i: number): number => L + ((W - L - R) * i) / (n - 1);
  const y = (v: number): number => T + (H - T - B) * (1 - (f(v) - lo) / (hi - lo));
  // grid and y labels
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#687086";
  g.strokeStyle = "#eceef3";
  g.lineWidth = 1;
  const ticks = opts.log ? Array.from({ length: Math.floor(hi) - Math.ceil(lo) + 1 }, (_, k) => 10 ** (Math.ceil(lo) + k)) : [lo, (lo + hi) / 2, hi];
  for (const t of ticks) {
    const yy = y(opts.log ? t : t);
    g.beginPath();
    g.moveTo(L, yy);
    g.lineTo(W - R, yy);
    g.stroke();
    g.fillText(opts.log ? String(t >= 1 ? t : t.toExponential(0)) : t.toFixed(2), 4, yy + 4);
  }
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
  for (const s of series) {
    g.strokeStyle = s.color;
    g.lineWidth = s.width;
    g.beginPath();
    let pen = false;
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v) || (opts.log && v <= 0)) {
        pen = false;
        return;
      }
      if (pen) g.lineTo(x(i), y(v));
      else g.moveTo(x(i), y(v));
      pen = true;
    });
    g.stroke();
  }
}

function ema(values: number[], alpha = 0.05): number[] {
  const out: number[] = [];
  let m = Number.NaN;
  for (const v of values) {
    if (Number.isFinite(v)) m = Number.isFinite(m) ? m + alpha * (v - m) : v;
    out.push(m);
  }
  return out;
}

let chartQueued = false;
function queueCharts(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawChart($("loss"), [{ values: losses, color: "rgba(47,111,222,0.25)", width: 1 }, { values: ema(losses), color: "#2f6fde", width: 2 }], { log: true, marks: epochMarks });
    drawChart($("gnorm"), [{ values: norms, color: "rgba(217,119,6,0.3)", width: 1 }, { values: ema(norms), color: "#d97706", width: 2 }], { hline: 1, marks: epochMarks });
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
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "ready":
      info = `${m.model.toUpperCase()}, ${m.params.toLocaleString("en")} parameters · ${m.train} train / ${m.test} test images · backend ${m.backend}`;
      setStatus();
      break;
    case "testImages":
      testImages = m.images;
      testLabels = m.labels;
      drawGrid();
      break;
    case "step":
      losses.push(m.loss);
      norms.push(m.gradNorm);
      progress = `epoch ${m.epoch} · step ${m.step} · loss ${m.loss.toFixed(4)} · grad norm ${m.gradNorm.toFixed(3)} · lr ${m.lr.toExponential(2)}`;
      setStatus();
      queueCharts();
      break;
    case "epoch":
      epochMarks.push(losses.length - 1);
      predictions = m.predictions;
      drawGrid();
      progress = `epoch ${m.epoch}/${m.epochs} · train loss ${m.trainLoss.toFixed(4)} · test accuracy ${(100 * m.testAccuracy).toFixed(1)}% · ${m.seconds.toFixed(2)} s/epoch`;
      setStatus();
      document.body.dataset.epoch = String(m.epoch);
      document.body.dataset.accuracy = m.testAccuracy.toFixed(4);
      queueClassify();
      break;
    case "done":
      progress = `${m.stopped ? "stopped" : "done"} · test accuracy ${(100 * m.testAccuracy).toFixed(1)}%`;
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

function start(): void {
  losses.length = 0;
  norms.length = 0;
  epochMarks.length = 0;
  predictions = null;
  delete document.body.dataset.done;
  delete document.body.dataset.epoch;
  progress = "fetching data…";
  setStatus();
  send({
    type: "train",
    model: $<HTMLSelectElement>("model").value as ModelKind,
    backend: $<HTMLSelectElement>("backend").value,
    epochs: Math.max(1, Math.floor(Number($<HTMLInputElement>("epochs").value) || 15)),
    lr: Number($<HTMLInputElement>("lr").value) || 0.003,
    seed: 0,
  });
  queueCharts();
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  start();
});
$("stop").addEventListener("click", () => send({ type: "stop" }));
$("clear").addEventListener("click", clearPad);
clearPad();
start();
