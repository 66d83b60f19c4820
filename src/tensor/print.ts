import { contiguousData, contiguousStrides } from "./layout.js";
import { shapeStr } from "./shape.js";
import type { Tensor } from "./tensor.js";

const MAX_ELEMS = 1000;
const EDGE = 3;

function fmtNumber(v: number, isInt: boolean, sci: boolean): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (isInt) return String(v);
  // As torch: at least two exponent digits (1.0000e+00).
  return sci ? v.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2") : v.toFixed(4);
}

/** Print like torch: `tensor([[1.0000, 2.0000], ...], dtype=float64, requiresGrad=true)`. */
export function formatTensor(t: Tensor): string {
  const data = contiguousData(t);
  const isInt = t.dtype === "int32";
  const isBool = t.dtype === "bool";
  let maxAbs = 0;
  let minAbs = Infinity;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]!);
    if (Number.isFinite(a)) {
      if (a > maxAbs) maxAbs = a;
      if (a > 0 && a < minAbs) minAbs = a;
    }
  }
  const sci = !isInt && (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity));
  const cell = (v: number): string => (isBool ? (v ? "true" : "false") : fmtNumber(v, isInt, sci));
  const summarize = data.length > MAX_ELEMS;
  let width = 0;
  for (let i = 0; i < data.length; i++) width = Math.max(width, cell(data[i]!).length);
  const pad = (s: string): string => s.padStart(width);
  const strides = contiguousStrides(t.shape);
  const indent = "tensor(".length;
  const rec = (dim: number, off: number): string => {
    if (dim === t.ndim) return pad(cell(data[off]!));
    const n = t.shape[dim]!;
    const idx: (number | null)[] = [];
    if (summarize && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    const parts = idx.map((i) => (i === null ? "..." : rec(dim + 1, off + i * strides[dim]!)));
    const sep = dim === t.ndim - 1 ? ", " : "," + "\n".repeat(t.ndim - dim - 1) + " ".repeat(indent + dim + 1);
    return "[" + parts.join(sep) + "]";
  };
  const body = t.ndim === 0 ? cell(data[0]!) : rec(0, 0);
  const extras: string[] = [];
  if (t.numel === 0) extras.push(`size=${shapeStr(t.shape)}`);
  if (t.dtype !== "float32") extras.push(`dtype=${t.dtype}`);
  if (t.gradFn) extras.push(`gradFn=${t.gradFn.op}`);
  else if (t.requiresGrad) extras.push("requiresGrad=true");
  return `tensor(${body}${extras.length ? ", " + extras.join(", ") : ""})`;
}
