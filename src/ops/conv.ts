/** 2-D convolution (NCHW) and its two gradients, each a primitive with its kernel. */
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import type { Conv2dParams } from "../kernels/backend.js";
import { convOut, convOutShape } from "../kernels/layout.js";
import { getBackend } from "../kernels/registry.js";
import { shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, call, OpFamily } from "./define.js";
import { reshape, squeeze, unsqueeze } from "./shape.js";

/** @internal The conv family's op-table entries. */
export const convOps = new OpFamily("conv");

/** Options of `conv2d` (and, with the sizes, of the `Conv2d` layer). */
export interface Conv2dOptions {
  /** Step between windows, one number for both dims or [height, width] (default 1). */
  stride?: number | readonly [number, number];
  /** Zeros added on each side of the input, one number or [height, width] (default 0). */
  padding?: number | readonly [number, number];
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
});
/** @internal The weight gradient of conv2d. */
export const conv2dWeightGrad = (x: Tensor, gy: Tensor, wShape: Shape, p: Conv2dParams): Tensor =>
  call(conv2dWeightGradOp, [x, gy], { p, shape: wShape });

/**
 * 2-D convolution (cross-correlation) in NCHW, as torch.nn.functional.conv2d. Input [N, C, H, W]
 * (or unbatched [C, H, W]), weight [O, C / groups, kH, kW], bias [O] or null.
 * @example
 * const img = randn([1, 3, 8, 8]);
 * const kernel = randn([4, 3, 3, 3], { requiresGrad: true });
 * const out = conv2d(img, kernel, zeros([4]), { stride: 1, padding: 1 });
 * out.shape; // [1, 4, 8, 8]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const unbatched = x.ndim === 3;
  const xx = unbatched ? unsqueeze(x, 0) : x;
  if (xx.ndim !== 4) throw new ShapeError("conv2d", `expects input [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
  if (weight.ndim !== 4) throw new ShapeError("conv2d", `expects weight [O, C/groups, kH, kW], got ${shapeStr(weight.shape)}`);
  if (xx.dtype !== weight.dtype) throw new DTypeError("conv2d", `mixed dtypes ${xx.dtype} and ${weight.dtype}`);
  assertFloat("conv2d", x);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError("conv2d", `groups must be a positive integer, got ${groups}`);
  const p: Conv2dParams = {
    stride: two("conv2d", "stride", options.stride, 1, 1),
    padding: two("conv2d", "padding", options.padding, 0, 0),
    dilation: two("conv2d", "dilation", options.dilation, 1, 1),
    groups,
  };
  const [, C, H, W] = xx.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = weight.shape as [number, number, number, number];
  if (C !== Cg * groups) throw new ShapeError("conv2d", `input has ${C} channels, weight ${shapeStr(weight.shape)} with groups=${groups} expects ${Cg * groups}`);
  if (O % groups !== 0) throw new ShapeError("conv2d", `out channels ${O} not divisible by groups ${groups}`);
  [H, W].forEach((size, i) => outSize("conv2d", size, [kH, kW][i]!, p.stride[i]!, p.padding[i]!, p.dilation[i]!, i ? "width" : "height"));
  let y = conv2dRaw(xx, weight, p);
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== O) throw new ShapeError("conv2d", `bias must have shape [${O}], got ${shapeStr(bias.shape)}`);
    y = y.add(reshape(bias, [1, O, 1, 1]));
  }
  return unbatched ? squeeze(y, 0) : y;
}
