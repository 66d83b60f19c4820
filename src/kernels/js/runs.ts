/**
 * Layout planning shared by the fast backends: several views of one shape are walked together as
 * `outer` runs of `inner` elements, each run with a constant stride per view. Adjacent dims that
 * are contiguous in every view are merged first, so a contiguous tensor is one run and a
 * broadcast bias `[B, N] + [N]` is B runs whose second stride is 1 (and a row-broadcast one 0).
 *
 * The hot loops then live in the callers as plain `for` loops over one run: no per-element
 * closures and no per-element index arithmetic.
 */
import type { Shape } from "../../tensor/shape.js";
import { isContiguous, offsetsOf } from "../../tensor/layout.js";

export interface Layout {
  readonly strides: readonly number[];
  readonly offset: number;
}

export interface RunPlan {
  /** Number of runs. */
  readonly outer: number;
  /** Elements per run. */
  readonly inner: number;
  /** Per view: the stride inside a run. */
  readonly step: number[];
  /** Per view: the storage offset of each run's first element (length `outer`). */
  readonly base: Int32Array[];
}

/** Merge dims that are contiguous together in every layout; size-1 dims are dropped. */
export function coalesce(shape: Shape, layouts: readonly Layout[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = layouts.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const s = shape[d]!;
    if (s === 1) continue;
    const last = outShape.length - 1;
    let merge = last >= 0;
    if (merge) {
      for (let v = 0; v < layouts.length; v++) {
        // dims (last, d) merge when stride[last] == stride[d] * size[d]
        if (outStrides[v]![last] !== layouts[v]!.strides[d]! * s) {
          merge = false;
          break;
        }
      }
    }
    if (merge) {
      outShape[last] = outShape[last]! * s;
      for (let v = 0; v < layouts.length; v++) outStrides[v]![last] = layouts[v]!.strides[d]!;
    } else {
      outShape.push(s);
      for (let v = 0; v < layouts.length; v++) outStrides[v]!.push(layouts[v]!.strides[d]!);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Plan a joint walk of `layouts` (all of `shape`) in row-major order of `shape`. */
export function planRuns(shape: Shape, layouts: readonly Layout[]): RunPlan {
  const c = coalesce(shape, layouts);
  const nd = c.shape.length;
  if (nd === 0) {
    // a scalar, or every dim has size 1 (or the shape has a 0: then numel is 0)
    const n = shape.includes(0) ? 0 : 1;
    return { outer: n, inner: 1, step: layouts.map(() => 0), base: layouts.map((l) => Int32Array.of(l.offset)) };
  }
  const inner = c.shape[nd - 1]!;
  const outerShape = c.shape.slice(0, nd - 1);
  let outer = 1;
  for (const s of outerShape) outer *= s;
  // (one run when nd is 1: offsetsOf of the empty outer shape is [offset])
  const base = layouts.map((l, v) => offsetsOf(outerShape, c.strides[v]!.slice(0, nd - 1), l.offset));
  return { outer, inner, step: c.strides.map((s) => s[nd - 1]!), base };
}

/** True when a view of this shape/layout is storage[offset .. offset + numel) in row-major order. */
export function isDense(shape: Shape, l: Layout): boolean {
  return isContiguous({ shape, strides: l.strides });
}
