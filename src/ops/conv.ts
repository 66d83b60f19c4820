/**
 * Convolution: 2-D (NCHW) and its two gradients, each a primitive with its kernel; 1-D and 3-D
 * convolution and the transposed convolutions are composites of them:
 * - conv1d is conv2d over a unit height ([N, C, L] viewed as [N, C, 1, L], the kernel [O, C/g, 1, k]);
 * - conv3d unfolds the depth: the kD depth slices each output depth reads are gathered into the
 *   channels ([N * Do, C * kD, H, W]) and one conv2d with the kernel [O, C/g * kD, kH, kW] runs;
 * - convTranspose2d is conv2d's input gradient (a primitive, so its own gradients are conv2d and
 *   the weight gradient); convTranspose1d is it over a unit height.
 * padding "same" (stride 1) pads d (k - 1) in total per dim, the odd extra one at the end (as PyTorch).
 */
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import type { Conv2dParams } from "../kernels/backend.js";
import { convOut, convOutShape } from "../kernels/layout.js";
import { getBackend } from "../kernels/registry.js";
import { shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, call, OpFamily } from "./define.js";
import { bilinear } from "./interval.js";
import { indexSelect } from "./indexing.js";
import { narrow, padDims, permute, reshape, squeeze, unsqueeze } from "./shape.js";

/** @internal The conv family's op-table entries. */
export const convOps = new OpFamily("conv");

/** Options of `conv2d` (and, with the sizes, of the `Conv2d` layer). */
export interface Conv2dOptions {
  /** Step between windows, one number for both dims or [height, width] (default 1). */
  stride?: number | readonly [number, number];
  /**
   * Zeros added on each side of the input, one number or [height, width] (default 0); or "valid"
   * (none) or "same" (output size = input size, stride 1 only; an odd total puts the extra zero at
   * the bottom/right, as PyTorch).
   */
  padding?: number | readonly [number, number] | "same" | "valid";
  /** Spacing between kernel elements, one number or [height, width] (default 1). */
  dilation?: number | readonly [number, number];
  /** Split the channels into this many independent groups (default 1; depthwise = in channels). */
  groups?: number;
}

/** @internal One number or a [height, width] pair, validated as integers >= min. */
export function two(op: string, name: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  const r: [number, number] = v === undefined ? [dflt, dflt] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  for (const x of r) if (!Number.isInteger(x) || x < min) throw new ValueError(op, `${name} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return r;
}

/** @internal The output size of a window along one dim, or a ShapeError naming the op when it is not positive. */
export function outSize(op: string, size: number, k: number, s: number, p: number, d: number, what: string): number {
  const o = convOut(size, k, s, p, d);
  if (o <= 0) throw new ShapeError(op, `output ${what} would be ${o} (input ${size}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
  return o;
}

interface ConvGradAttrs {
  p: Conv2dParams;
  shape: Shape;
}

const conv2dOp = convOps.define<[Tensor, Tensor], Conv2dParams>({
  name: "conv2d",
  forward: ([x, w], p) => new Tensor(getBackend().conv2d(x, w, p), convOutShape(x.shape, w.shape, p)),
  vjp: ({ g, inputs: [x, w], attrs, needs }) => [
    needs[0] ? conv2dInputGrad(g, w, x.shape, attrs) : null,
    needs[1] ? conv2dWeightGrad(x, g, w.shape, attrs) : null,
  ],
  interval: bilinear(),
});
/** @internal conv2d without bias or validation (used by VJPs and pooling). */
export const conv2dRaw = (x: Tensor, w: Tensor, p: Conv2dParams): Tensor => call(conv2dOp, [x, w], p);

const conv2dInputGradOp = convOps.define<[Tensor, Tensor], ConvGradAttrs>({
  name: "conv2dInputGrad",
  forward: ([gy, w], a) => new Tensor(getBackend().conv2dInputGrad(gy, w, a.shape, a.p), a.shape),
  // gx = convT(gy, w) is bilinear: its adjoints are conv2d and the weight gradient.
  vjp: ({ g, inputs: [gy, w], attrs, needs }) => [
    needs[0] ? conv2dRaw(g, w, attrs.p) : null,
    needs[1] ? conv2dWeightGrad(g, gy, w.shape, attrs.p) : null,
  ],
  interval: bilinear(),
});
/** @internal The input gradient of conv2d (a transposed convolution). */
export const conv2dInputGrad = (gy: Tensor, w: Tensor, xShape: Shape, p: Conv2dParams): Tensor =>
  call(conv2dInputGradOp, [gy, w], { p, shape: xShape });

const conv2dWeightGradOp = convOps.define<[Tensor, Tensor], ConvGradAttrs>({
  name: "conv2dWeightGrad",
  forward: ([x, gy], a) => new Tensor(getBackend().conv2dWeightGrad(x, gy, a.shape, a.p), a.shape),
  vjp: ({ g, inputs: [x, gy], attrs, needs }) => [
    needs[0] ? conv2dInputGrad(gy, g, x.shape, attrs.p) : null,
    needs[1] ? conv2dRaw(x, g, attrs.p) : null,
  ],
  interval: bilinear(),
});
/** @internal The weight gradient of conv2d. */
export const conv2dWeightGrad = (x: Tensor, gy: Tensor, wShape: Shape, p: Conv2dParams): Tensor =>
  call(conv2dWeightGradOp, [x, gy], { p, shape: wShape });

/** One size of a 1-D window: a number or a 1-tuple (as PyTorch's `int` or `(int,)`). */
export type Size1d = number | readonly [number];

/** @internal A 1-D size as a number (undefined stays undefined; a tuple must have one entry). */
export function one(op: string, name: string, v: Size1d | undefined): number | undefined {
  if (v === undefined || typeof v === "number") return v;
  if (!Array.isArray(v) || v.length !== 1) throw new ValueError(op, `${name} must be a number or a 1-tuple, got ${JSON.stringify(v)}`);
  return v[0];
}

/** @internal One number or an n-tuple, validated as integers >= min. */
export function nTuple(op: string, name: string, v: number | readonly number[] | undefined, n: number, dflt: number, min: number): number[] {
  const r = v === undefined ? Array<number>(n).fill(dflt) : typeof v === "number" ? Array<number>(n).fill(v) : [...v];
  if (r.length !== n || r.some((x) => !Number.isInteger(x) || x < min)) {
    throw new ValueError(op, `${name} must be one integer >= ${min} or ${n} of them, got ${JSON.stringify(v)}`);
  }
  return r;
}

const DIM_NAMES: Record<number, readonly string[]> = { 1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"] };

/**
 * The checks every convolution shares, then the padding resolved: x and weight have 2 + nd dims
 * (batched), "same" becomes symmetric padding plus the odd extra zero padded at the end of x.
 */
function convSetup(
  op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, nd: number,
  o: { stride?: number | readonly number[]; padding?: number | readonly number[] | "same" | "valid"; dilation?: number | readonly number[]; groups?: number },
): { x: Tensor; stride: number[]; padding: number[]; dilation: number[]; groups: number; out: number[] } {
  if (x.dtype !== weight.dtype) throw new DTypeError(op, `mixed dtypes ${x.dtype} and ${weight.dtype}`);
  assertFloat(op, x);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(op, `groups must be a positive integer, got ${groups}`);
  const stride = nTuple(op, "stride", o.stride, nd, 1, 1);
  const dilation = nTuple(op, "dilation", o.dilation, nd, 1, 1);
  const k = weight.shape.slice(2);
  const sizes = x.shape.slice(2);
  const [O, Cg] = weight.shape as [number, number];
  const C = x.shape[1]!;
  if (C !== Cg * groups) throw new ShapeError(op, `input has ${C} channels, weight ${shapeStr(weight.shape)} with groups=${groups} expects ${Cg * groups}`);
  if (O % groups !== 0) throw new ShapeError(op, `out channels ${O} not divisible by groups ${groups}`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) throw new ShapeError(op, `bias must have shape [${O}], got ${shapeStr(bias.shape)}`);
  let padding: number[];
  let xx = x;
  if (o.padding === "same") {
    if (stride.some((s) => s !== 1)) throw new ValueError(op, `padding "same" needs stride 1, got ${JSON.stringify(o.stride)}`);
    const total = k.map((kk, i) => dilation[i]! * (kk - 1));
    padding = total.map((t) => Math.floor(t / 2));
    xx = padDims(x, [[0, 0], [0, 0], ...total.map((t) => [0, t % 2] as [number, number])], 0); // x itself when every total is even
  } else padding = o.padding === "valid" ? Array<number>(nd).fill(0) : nTuple(op, "padding", o.padding, nd, 0, 0);
  const out = sizes.map((size, i) => outSize(op, size + (xx.shape[i + 2]! - size), k[i]!, stride[i]!, padding[i]!, dilation[i]!, DIM_NAMES[nd]![i]!));
  return { x: xx, stride, padding, dilation, groups, out };
}

const addBias = (y: Tensor, bias: Tensor | null | undefined, nd: number): Tensor =>
  bias ? y.add(reshape(bias, [1, bias.shape[0]!, ...Array<number>(nd).fill(1)])) : y;

/** [N, C, ...] or unbatched [C, ...] with nd spatial dims: the batched tensor and how to undo it. */
function batchedInput(op: string, x: Tensor, weight: Tensor, nd: number, layout: string, wLayout: string): [Tensor, (y: Tensor) => Tensor] {
  assertFloat(op, x);
  if (x.ndim !== nd + 1 && x.ndim !== nd + 2) throw new ShapeError(op, `expects input [N, C, ${layout}] or [C, ${layout}], got ${shapeStr(x.shape)}`);
  if (!(weight instanceof Tensor) || weight.ndim !== nd + 2) throw new ShapeError(op, `expects weight ${wLayout}, got ${weight instanceof Tensor ? shapeStr(weight.shape) : String(weight)}`);
  return x.ndim === nd + 1 ? [unsqueeze(x, 0), (y) => squeeze(y, 0)] : [x, (y) => y];
}

/**
 * 2-D convolution (cross-correlation) in NCHW, as torch.nn.functional.conv2d. Input [N, C, H, W]
 * (or unbatched [C, H, W]), weight [O, C / groups, kH, kW], bias [O] or null.
 * @example
 * const img = randn([1, 3, 8, 8]);
 * const kernel = randn([4, 3, 3, 3], { requiresGrad: true });
 * const out = conv2d(img, kernel, zeros([4]), { stride: 1, padding: 1 });
 * out.shape; // [1, 4, 8, 8]
 * conv2d(img, kernel, null, { padding: "same" }).shape; // [1, 4, 8, 8]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const [xx, unbatch] = batchedInput("conv2d", x, weight, 2, "H, W", "[O, C/groups, kH, kW]");
  const s = convSetup("conv2d", xx, weight, bias, 2, options);
  const p: Conv2dParams = { stride: s.stride as [number, number], padding: s.padding as [number, number], dilation: s.dilation as [number, number], groups: s.groups };
  return unbatch(addBias(conv2dRaw(s.x, weight, p), bias, 2));
}

/** Options of `conv1d` (and, with the sizes, of the `Conv1d` layer), as torch.nn.functional.conv1d's. */
export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: Size1d;
  /**
   * Zeros added on each side (default 0); or "valid" (none) or "same" (output length = input
   * length, stride 1 only; an odd total puts the extra zero at the end, as PyTorch).
   */
  padding?: Size1d | "same" | "valid";
  /** Spacing between kernel elements (default 1). */
  dilation?: Size1d;
  /** Split the channels into this many independent groups (default 1; depthwise = in channels). */
  groups?: number;
}

/**
 * 1-D convolution (cross-correlation) over the last dim, as torch.nn.functional.conv1d: input
 * [N, C, L] (or unbatched [C, L]), weight [O, C / groups, k], bias [O] or null. It runs as conv2d
 * over a unit height, on the same kernels.
 * @example
 * const seq = randn([2, 4, 16]);
 * conv1d(seq, randn([8, 4, 3]), zeros([8]), { padding: 1 }).shape; // [2, 8, 16]
 * conv1d(seq, randn([8, 2, 4]), null, { padding: "same", dilation: 2, groups: 2 }).shape; // [2, 8, 16]
 * conv1d(seq, randn([8, 4, 3]), null, { stride: 2 }).shape; // [2, 8, 7]
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  const op = "conv1d";
  const [xx, unbatch] = batchedInput(op, x, weight, 1, "L", "[O, C/groups, k]");
  const pad = options.padding;
  const s = convSetup(op, xx, weight, bias, 1, {
    stride: one(op, "stride", options.stride),
    padding: pad === "same" || pad === "valid" ? pad : one(op, "padding", pad),
    dilation: one(op, "dilation", options.dilation),
    groups: options.groups,
  });
  const [N, C, L] = s.x.shape as [number, number, number];
  const [O, Cg, k] = weight.shape as [number, number, number];
  const p: Conv2dParams = { stride: [1, s.stride[0]!], padding: [0, s.padding[0]!], dilation: [1, s.dilation[0]!], groups: s.groups };
  const y = conv2dRaw(reshape(s.x, [N, C, 1, L]), reshape(weight, [O, Cg, 1, k]), p);
  return unbatch(addBias(reshape(y, [N, O, s.out[0]!]), bias, 1));
}

/** Options of `conv3d` (and the `Conv3d` layer): one number for every dim or [depth, height, width]. */
export interface Conv3dOptions {
  /** Step between windows (default 1). */
  stride?: number | readonly [number, number, number];
  /** Zeros added on each side (default 0); or "valid" (none) or "same" (stride 1 only). */
  padding?: number | readonly [number, number, number] | "same" | "valid";
  /** Spacing between kernel elements (default 1). */
  dilation?: number | readonly [number, number, number];
  /** Split the channels into this many independent groups (default 1). */
  groups?: number;
}

/**
 * 3-D convolution in NCDHW, as torch.nn.functional.conv3d: input [N, C, D, H, W] (or unbatched
 * [C, D, H, W]), weight [O, C / groups, kD, kH, kW], bias [O] or null. It gathers the kD depth
 * slices each output depth reads into the channels and runs one conv2d (memory: kD x the input).
 * @example
 * const vol = randn([1, 2, 5, 6, 6]);
 * conv3d(vol, randn([4, 2, 3, 3, 3]), zeros([4]), { padding: 1 }).shape; // [1, 4, 5, 6, 6]
 * conv3d(vol, randn([4, 2, 3, 3, 3]), null, { stride: [2, 1, 1] }).shape; // [1, 4, 2, 4, 4]
 */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv3dOptions = {}): Tensor {
  const op = "conv3d";
  const [xx, unbatch] = batchedInput(op, x, weight, 3, "D, H, W", "[O, C/groups, kD, kH, kW]");
  const s = convSetup(op, xx, weight, bias, 3, options);
  const [N, C, D, H, W] = s.x.shape as [number, number, number, number, number];
  const [O, Cg, kD, kH, kW] = weight.shape as [number, number, number, number, number];
  const [Do, Ho, Wo] = s.out as [number, number, number];
  const [sd, pd, dd] = [s.stride[0]!, s.padding[0]!, s.dilation[0]!];
  const xd = padDims(s.x, [[0, 0], [0, 0], [pd, pd], [0, 0], [0, 0]], 0);
  const idx = new Int32Array(Do * kD);
  for (let od = 0; od < Do; od++) for (let kd = 0; kd < kD; kd++) idx[od * kD + kd] = od * sd + kd * dd;
  // [N, C, Do * kD, H, W] -> [N, Do, C, kD, H, W] -> [N * Do, C * kD, H, W]: channel c * kD + kd, so
  // each group's channels stay together and match the weight [O, Cg * kD, kH, kW].
  const slices = reshape(permute(reshape(indexSelect(xd, 2, new Tensor(idx, [Do * kD])), [N, C, Do, kD, H, W]), [0, 2, 1, 3, 4, 5]), [N * Do, C * kD, H, W]);
  const p: Conv2dParams = { stride: [s.stride[1]!, s.stride[2]!], padding: [s.padding[1]!, s.padding[2]!], dilation: [s.dilation[1]!, s.dilation[2]!], groups: s.groups };
  const y = conv2dRaw(slices, reshape(weight, [O, Cg * kD, kH, kW]), p);
  return unbatch(addBias(permute(reshape(y, [N, Do, O, Ho, Wo]), [0, 2, 1, 3, 4]), bias, 3));
}

/** Options of `convTranspose2d` (and the `ConvTranspose2d` layer), as torch.nn.functional.conv_transpose2d's. */
export interface ConvTranspose2dOptions {
  /** Step between input positions in the output (default 1). */
  stride?: number | readonly [number, number];
  /** `dilation * (k - 1) - padding` zeros are cropped... i.e. the output loses `padding` on each side (default 0). */
  padding?: number | readonly [number, number];
  /** Extra size added to one side of the output, smaller than the stride or the dilation (default 0). */
  outputPadding?: number | readonly [number, number];
  /** Split the channels into this many independent groups (default 1). */
  groups?: number;
  /** Spacing between kernel elements (default 1). */
  dilation?: number | readonly [number, number];
}

/** @internal The output size of a transposed convolution along one dim. */
export function convTransposeOut(size: number, k: number, s: number, p: number, d: number, outputPadding: number): number {
  return (size - 1) * s - 2 * p + d * (k - 1) + outputPadding + 1;
}

/**
 * The transposed convolution of batched x [N, Cin, ...sizes] with nd = 1 or 2 spatial dims, as
 * conv2d's input gradient (x 4-D, w 4-D here; conv1d's callers reshape).
 */
function convTranspose2dCore(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, o: { stride: number[]; padding: number[]; outputPadding: number[]; dilation: number[]; groups: number }, names: readonly string[]): Tensor {
  if (x.dtype !== weight.dtype) throw new DTypeError(op, `mixed dtypes ${x.dtype} and ${weight.dtype}`);
  const { stride, padding, outputPadding, dilation, groups } = o;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(op, `groups must be a positive integer, got ${groups}`);
  const [N, Cin, H, W] = x.shape as [number, number, number, number];
  const [Wi, Cog, kH, kW] = weight.shape as [number, number, number, number];
  if (Wi !== Cin) throw new ShapeError(op, `input has ${Cin} channels, weight ${shapeStr(weight.shape)} expects ${Wi} (weight [Cin, Cout/groups, ...])`);
  if (Cin % groups !== 0) throw new ShapeError(op, `in channels ${Cin} not divisible by groups ${groups}`);
  const Cout = Cog * groups;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== Cout)) throw new ShapeError(op, `bias must have shape [${Cout}], got ${shapeStr(bias.shape)}`);
  const ks = [kH, kW];
  const sizes = [H, W];
  for (let i = 0; i < 2; i++) {
    if (outputPadding[i]! >= stride[i]! && outputPadding[i]! >= dilation[i]!) {
      throw new ValueError(op, `outputPadding ${outputPadding[i]} must be smaller than the stride ${stride[i]} or the dilation ${dilation[i]} (${names[i]})`);
    }
  }
  const out = [0, 1].map((i) => convTransposeOut(sizes[i]!, ks[i]!, stride[i]!, padding[i]!, dilation[i]!, outputPadding[i]!));
  out.forEach((v, i) => {
    if (v <= 0) throw new ShapeError(op, `output ${names[i]} would be ${v} (input ${sizes[i]}, kernel ${ks[i]}, stride ${stride[i]}, padding ${padding[i]}, dilation ${dilation[i]}, outputPadding ${outputPadding[i]})`);
  });
  const p: Conv2dParams = { stride: [stride[0]!, stride[1]!], padding: [padding[0]!, padding[1]!], dilation: [dilation[0]!, dilation[1]!], groups };
  let y: Tensor;
  if (out.every((v, i) => convOut(v, ks[i]!, stride[i]!, padding[i]!, dilation[i]!) === sizes[i])) {
    y = conv2dInputGrad(x, weight, [N, Cout, out[0]!, out[1]!], p);
  } else {
    // outputPadding >= stride (allowed when below the dilation): the full unpadded output, then
    // cropped by padding at the start and cut or zero-extended to the output size at the end.
    const full = [0, 1].map((i) => (sizes[i]! - 1) * stride[i]! + dilation[i]! * (ks[i]! - 1) + 1);
    y = conv2dInputGrad(x, weight, [N, Cout, full[0]!, full[1]!], { ...p, padding: [0, 0] });
    for (let i = 0; i < 2; i++) {
      const avail = Math.min(out[i]!, full[i]! - padding[i]!);
      y = narrow(y, i + 2, padding[i]!, avail);
      if (avail < out[i]!) y = padDims(y, [[0, 0], [0, 0], i === 0 ? [0, out[i]! - avail] : [0, 0], i === 1 ? [0, out[i]! - avail] : [0, 0]], 0);
    }
  }
  return addBias(y, bias, 2);
}

/**
 * 2-D transposed convolution ("deconvolution") in NCHW, as torch.nn.functional.conv_transpose2d:
 * input [N, Cin, H, W] (or unbatched [Cin, H, W]), weight [Cin, Cout / groups, kH, kW], bias [Cout]
 * or null. Output size per dim: (in - 1) stride - 2 padding + dilation (k - 1) + outputPadding + 1.
 * It is the input gradient of conv2d, on the same kernels.
 * @example
 * const up = convTranspose2d(randn([1, 8, 4, 4]), randn([8, 3, 4, 4]), zeros([3]), { stride: 2, padding: 1 });
 * up.shape; // [1, 3, 8, 8]
 * convTranspose2d(randn([1, 8, 4, 4]), randn([8, 3, 3, 3]), null, { stride: 2, padding: 1, outputPadding: 1 }).shape; // [1, 3, 8, 8]
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {}): Tensor {
  const op = "convTranspose2d";
  const [xx, unbatch] = batchedInput(op, x, weight, 2, "H, W", "[Cin, Cout/groups, kH, kW]");
  return unbatch(convTranspose2dCore(op, xx, weight, bias, {
    stride: nTuple(op, "stride", options.stride, 2, 1, 1),
    padding: nTuple(op, "padding", options.padding, 2, 0, 0),
    outputPadding: nTuple(op, "outputPadding", options.outputPadding, 2, 0, 0),
    dilation: nTuple(op, "dilation", options.dilation, 2, 1, 1),
    groups: options.groups ?? 1,
  }, ["height", "width"]));
}

/** Options of `convTranspose1d` (and the `ConvTranspose1d` layer), as torch.nn.functional.conv_transpose1d's. */
export interface ConvTranspose1dOptions {
  /** Step between input positions in the output (default 1). */
  stride?: Size1d;
  /** The output loses this many positions on each side (default 0). */
  padding?: Size1d;
  /** Extra length added at the end of the output, smaller than the stride or the dilation (default 0). */
  outputPadding?: Size1d;
  /** Split the channels into this many independent groups (default 1). */
  groups?: number;
  /** Spacing between kernel elements (default 1). */
  dilation?: Size1d;
}

/**
 * 1-D transposed convolution, as torch.nn.functional.conv_transpose1d: input [N, Cin, L] (or
 * unbatched [Cin, L]), weight [Cin, Cout / groups, k], bias [Cout] or null; output length
 * (L - 1) stride - 2 padding + dilation (k - 1) + outputPadding + 1.
 * @example
 * convTranspose1d(randn([2, 4, 10]), randn([4, 6, 4]), zeros([6]), { stride: 2, padding: 1 }).shape; // [2, 6, 20]
 */
export function convTranspose1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose1dOptions = {}): Tensor {
  const op = "convTranspose1d";
  const [xx, unbatch] = batchedInput(op, x, weight, 1, "L", "[Cin, Cout/groups, k]");
  const [N, C, L] = xx.shape as [number, number, number];
  const [Ci, Cog, k] = weight.shape as [number, number, number];
  const pick = (name: string, v: Size1d | undefined, dflt: number, min: number): number[] => [dflt === 1 ? 1 : 0, nTuple(op, name, one(op, name, v), 1, dflt, min)[0]!];
  const y = convTranspose2dCore(op, reshape(xx, [N, C, 1, L]), reshape(weight, [Ci, Cog, 1, k]), null, {
    stride: pick("stride", options.stride, 1, 1),
    padding: pick("padding", options.padding, 0, 0),
    outputPadding: pick("outputPadding", options.outputPadding, 0, 0),
    dilation: pick("dilation", options.dilation, 1, 1),
    groups: options.groups ?? 1,
  }, ["height", "length"]);
  return unbatch(addBias(squeeze(y, 2), bias, 1));
}
