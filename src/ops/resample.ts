/**
 * Resampling: `interpolate` (torch.nn.functional.interpolate) in the nearest, nearest-exact,
 * linear / bilinear / trilinear and area modes, composed from gathers along one spatial dim at a
 * time (the last dim first, as PyTorch's kernels nest the weights), so its gradients (and their
 * gradients) come from the op table.
 *
 * Source positions are PyTorch 1.13's, computed in the input's precision (float32 rounding for
 * float32 input): nearest floor(dst * scale), nearest-exact floor((dst + 0.5) * scale), linear
 * (dst + 0.5) * scale - 0.5 clamped at 0 (alignCorners: dst * (in - 1) / (out - 1)), where scale
 * is 1 / scaleFactor when a scale factor is given (and not recomputed), else in / out.
 * NOTE: a linear weight of exactly 0 contributes an exact 0 (through where), so an infinite
 * neighbour it does not reach gives no 0 * inf = NaN (PyTorch: NaN).
 *
 * Speed: along a dim of at most DENSE_MAX entries whose input is all finite, the resampling is a
 * matmul with the [out, in] weight matrix (the gather's backward, a scatter, is much slower than a
 * matmul there); an input with an infinite or NaN value takes the gather path, where a zero weight
 * never meets it.
 */
import { ShapeError, ValueError } from "../errors.js";
import { allocArray } from "../tensor/dtype.js";
import { allFinite } from "../tensor/layout.js";
import { shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { where } from "./compare.js";
import { assertFloat } from "./define.js";
import { indexSelect } from "./indexing.js";
import { adaptiveAvgPool1d, adaptiveAvgPool2d, mixAlong } from "./pool.js";

/** How `interpolate` computes each output value. */
export type InterpolateMode = "nearest" | "nearest-exact" | "linear" | "bilinear" | "trilinear" | "area";

/** Options of `interpolate` (and the `Upsample` layer), as torch.nn.functional.interpolate's. */
export interface InterpolateOptions {
  /** The output's spatial size: one number for every spatial dim, or one per dim. Give this or scaleFactor. */
  size?: number | readonly number[];
  /** Multiplier of each spatial size (output floor(in * scaleFactor)). Give this or size. */
  scaleFactor?: number | readonly number[];
  /** "nearest" (default), "nearest-exact", "linear" (3-D input), "bilinear" (4-D), "trilinear" (5-D) or "area". */
  mode?: InterpolateMode;
  /** Linear modes only: map the corner pixels' centres onto each other (default false). */
  alignCorners?: boolean;
  /** With scaleFactor: compute the positions from in / out instead of 1 / scaleFactor (default false). */
  recomputeScaleFactor?: boolean;
}

const LINEAR_DIMS: Partial<Record<InterpolateMode, number>> = { linear: 1, bilinear: 2, trilinear: 3 };

/**
 * Resize the spatial dims of x [N, C, ...spatial] (1 to 3 spatial dims), as
 * torch.nn.functional.interpolate: nearest, nearest-exact, linear (3-D input), bilinear (4-D),
 * trilinear (5-D) with or without alignCorners, and area (adaptive average pooling; 3-D and 4-D).
 * Give the output `size` or a `scaleFactor`. Differentiable in x (twice as well).
 * @example
 * const img = tensor([[[[1, 2], [3, 4]]]]);
 * interpolate(img, { scaleFactor: 2 }).toArray(); // [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]
 * interpolate(img, { size: [3, 3], mode: "bilinear", alignCorners: true }).toArray(); // [[[[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]]]]
 * interpolate(randn([2, 4, 10]), { size: 15, mode: "linear" }).shape; // [2, 4, 15]
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const op = "interpolate";
  assertFloat(op, x);
  const mode = options.mode ?? "nearest";
  if (!["nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area"].includes(mode)) {
    throw new ValueError(op, `mode must be "nearest", "nearest-exact", "linear", "bilinear", "trilinear" or "area", got ${JSON.stringify(mode)}`);
  }
  if (x.ndim < 3 || x.ndim > 5) throw new ShapeError(op, `expects input [N, C, ...] with 1 to 3 spatial dims, got ${shapeStr(x.shape)}`);
  const nd = x.ndim - 2;
  const linear = LINEAR_DIMS[mode];
  if (linear !== undefined && linear !== nd) throw new ShapeError(op, `mode "${mode}" needs ${linear + 2}-D input [N, C, ...], got ${shapeStr(x.shape)}`);
  if (mode === "area" && nd === 3) throw new ShapeError(op, `mode "area" supports 3-D and 4-D input, got ${shapeStr(x.shape)}`);
  if (options.alignCorners !== undefined && linear === undefined) throw new ValueError(op, `alignCorners can only be set with the linear modes, not "${mode}"`);
  const alignCorners = options.alignCorners ?? false;
  const { size, scaleFactor } = options;
  if ((size === undefined) === (scaleFactor === undefined)) throw new ValueError(op, "give exactly one of size and scaleFactor");
  const inSizes = x.shape.slice(2);
  const perDim = (v: number | readonly number[], name: string): number[] => {
    const r = typeof v === "number" ? Array<number>(nd).fill(v) : [...v];
    if (r.length !== nd) throw new ValueError(op, `${name} must be one number or ${nd} (one per spatial dim of ${shapeStr(x.shape)}), got ${JSON.stringify(v)}`);
    return r;
  };
  let outSizes: number[];
  let scales: (number | undefined)[] = Array<undefined>(nd).fill(undefined);
  if (size !== undefined) {
    outSizes = perDim(size, "size");
    for (const s of outSizes) if (!Number.isInteger(s) || s < 1) throw new ValueError(op, `size must be integers >= 1, got ${JSON.stringify(size)}`);
  } else {
    const sf = perDim(scaleFactor!, "scaleFactor");
    for (const s of sf) if (!(s > 0) || !Number.isFinite(s)) throw new ValueError(op, `scaleFactor must be finite numbers > 0, got ${JSON.stringify(scaleFactor)}`);
    outSizes = inSizes.map((n, i) => Math.floor(n * sf[i]!));
    outSizes.forEach((o, i) => {
      if (o < 1) throw new ShapeError(op, `scaleFactor ${sf[i]} gives an empty output from size ${inSizes[i]}`);
    });
    if (!options.recomputeScaleFactor) scales = sf;
  }
  if (inSizes.some((s) => s === 0)) throw new ShapeError(op, `input ${shapeStr(x.shape)} has an empty spatial dim`);
  if (mode === "area") return nd === 1 ? adaptiveAvgPool1d(x, outSizes[0]!) : adaptiveAvgPool2d(x, [outSizes[0]!, outSizes[1]!]);
  const f32 = x.dtype === "float32";
  const r = (v: number): number => (f32 ? Math.fround(v) : v);
  const dense = allFinite(x);
  let y = x;
  for (let i = nd - 1; i >= 0; i--) {
    const dim = i + 2;
    const n = inSizes[i]!;
    const o = outSizes[i]!;
    if (linear === undefined) y = nearestAlong(y, dim, n, o, scales[i], mode === "nearest-exact", r, dense);
    else y = linearAlong(y, dim, n, o, scales[i], alignCorners, r, dense);
  }
  return y;
}

/** 1 / scale when a scale factor is used, else in / out (PyTorch's compute_scales_value). */
const scaleOf = (n: number, o: number, sf: number | undefined, r: (v: number) => number): number => (sf !== undefined && sf > 0 ? r(1 / sf) : r(n / o));

/** Entries along a dim up to which a finite input is resampled by a matmul. */
const DENSE_MAX = 512;

function nearestAlong(x: Tensor, dim: number, n: number, o: number, sf: number | undefined, exact: boolean, r: (v: number) => number, dense: boolean): Tensor {
  if (n === o && !exact) return x;
  const scale = scaleOf(n, o, sf, r);
  const idx = new Int32Array(o);
  for (let d = 0; d < o; d++) {
    if (!exact && o === 2 * n) idx[d] = d >> 1;
    else if (!exact && n === o) idx[d] = d;
    else idx[d] = Math.min(Math.floor(r((exact ? d + 0.5 : d) * scale)), n - 1);
  }
  if (dense && n <= DENSE_MAX) {
    const m = new Float64Array(o * n);
    for (let d = 0; d < o; d++) m[d * n + idx[d]!] = 1;
    return mixAlong(x, dim, m, o);
  }
  return indexSelect(x, dim, new Tensor(idx, [o]));
}

function linearAlong(x: Tensor, dim: number, n: number, o: number, sf: number | undefined, alignCorners: boolean, r: (v: number) => number, dense: boolean): Tensor {
  const scale = alignCorners ? (o > 1 ? r((n - 1) / (o - 1)) : 0) : scaleOf(n, o, sf, r);
  const i0 = new Int32Array(o);
  const i1 = new Int32Array(o);
  const l0 = allocArray(x.dtype, o);
  const l1 = allocArray(x.dtype, o);
  const m0 = new Uint8Array(o);
  const m1 = new Uint8Array(o);
  for (let d = 0; d < o; d++) {
    let src = alignCorners ? r(scale * d) : r(r(scale * r(d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const k = Math.floor(src);
    i0[d] = k;
    i1[d] = k < n - 1 ? k + 1 : k;
    const lam = Math.min(Math.max(r(src - k), 0), 1);
    l1[d] = lam;
    l0[d] = r(1 - lam);
    m0[d] = l0[d] !== 0 ? 1 : 0;
    m1[d] = l1[d] !== 0 ? 1 : 0;
  }
  if (dense && n <= DENSE_MAX) {
    const m = new Float64Array(o * n);
    for (let d = 0; d < o; d++) {
      m[d * n + i0[d]!] = m[d * n + i0[d]!]! + l0[d]!;
      m[d * n + i1[d]!] = m[d * n + i1[d]!]! + l1[d]!;
    }
    return mixAlong(x, dim, m, o);
  }
  const bshape = [o, ...x.shape.slice(dim + 1).map(() => 1)];
  const t0 = indexSelect(x, dim, new Tensor(i0, [o])).mul(new Tensor(l0, bshape));
  const t1 = indexSelect(x, dim, new Tensor(i1, [o])).mul(new Tensor(l1, bshape));
  // A zero weight gives an exact 0 (an infinite value it multiplies would give NaN).
  const safe = (t: Tensor, m: Uint8Array): Tensor => (m.every((v) => v === 1) ? t : where(new Tensor(m, bshape), t, 0));
  return safe(t0, m0).add(safe(t1, m1));
}
