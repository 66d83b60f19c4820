import { ShapeError, ValueError } from "../errors.js";
import { MAX_NUMEL } from "./dtype.js";

/**
 * The sizes of a tensor's dims, outermost first (`[]` for a scalar).
 * @example
 * const s: Shape = [2, 3];
 * zeros(s);
 */
export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * NumPy/PyTorch broadcasting of any number of shapes; `op` names the caller in the error.
 * @throws {@link ShapeError} when the shapes cannot be broadcast
 * @example
 * broadcastShapes("add", [2, 1], [3]); // [2, 3]
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = nd - s.length + i;
      const d = s[i]!;
      const cur = out[o]!;
      if (cur === d || d === 1) continue;
      if (cur === 1) out[o] = d;
      else
        throw new ShapeError(
          op,
          `shapes ${shapes.map(shapeStr).join(" and ")} cannot be broadcast (dim ${o - nd}: ${cur} vs ${d})`,
        );
    }
  }
  return out;
}

/** Normalize a possibly negative dim against ndim. */
export function normDim(op: string, dim: number, ndim: number): number {
  if (!Number.isInteger(dim)) throw new ShapeError(op, `dim must be an integer, got ${dim}`);
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi) throw new ShapeError(op, `dim ${dim} out of range for a tensor of ${ndim} dims (expected ${lo}..${hi})`);
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** Normalize a dim list (undefined = all dims), sorted, no duplicates. */
export function normDims(op: string, dims: number | readonly number[] | undefined | null, ndim: number): number[] {
  if (dims == null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === "number" ? [dims] : dims;
  // A 0-d tensor has no dim to reduce: its dims 0 and -1 are dropped.
  const out = list.map((d) => normDim(op, d, ndim)).filter((d) => d < ndim);
  const set = new Set(out);
  if (set.size !== out.length) throw new ShapeError(op, `dim ${JSON.stringify(dims)} repeats a dim`);
  return [...set].sort((a, b) => a - b);
}

export function checkShape(op: string, shape: Shape): number[] {
  if (!Array.isArray(shape)) throw new ShapeError(op, `shape must be an array of sizes, got ${typeof shape}`);
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new ShapeError(op, `invalid shape ${shapeStr(shape)}: sizes must be integers >= 0`);
  }
  const n = numel(shape);
  if (n > MAX_NUMEL) throw new ValueError(op, `shape ${shapeStr(shape)} holds ${n} elements, more than a tensor can (${MAX_NUMEL})`);
  return [...shape];
}
