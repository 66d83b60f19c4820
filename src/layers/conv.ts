import { ShapeError, ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import { nTuple, one, two, type Size1d } from "../ops/conv.js";
import { zeros } from "../tensor/create.js";
import { getDefaultDtype } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import { shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import * as init from "./init.js";
import { checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";

/**
 * A size for both spatial dims (height, width): one number for both, or a pair.
 * @inline
 */
type Pair = number | readonly [number, number];


/** Options of the `Conv2d` layer. */
export interface Conv2dLayerOptions extends LayerOptions {
  /** Step between output positions (default 1). */
  stride?: Pair;
  /** Zero padding per side, or "valid" (none) or "same" (output size = input size; stride 1 only). Default 0. */
  padding?: Pair | "same" | "valid";
  /** What the padding holds: "zeros" (default), "reflect", "replicate" or "circular" (as PyTorch's padding_mode). */
  paddingMode?: PaddingMode;
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
  /** Split the channels into independent groups (default 1); in and out channels must divide by it. */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/** PyTorch's _ConvNd.reset_parameters: kaiming_uniform(a = √5), bias U(-1/√fanIn, 1/√fanIn). */
function convReset(weight: Tensor, bias: Tensor | null, generator: Generator | undefined): void {
  init.kaimingUniform(weight, { a: Math.sqrt(5), generator });
  if (bias) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform(bias, { a: -bound, b: bound, generator });
  }
}

/** The channel checks every convolution layer makes. */
function checkChannels(op: string, inChannels: number, outChannels: number, groups: number): void {
  checkSize(op, "inChannels", inChannels, 1);
  checkSize(op, "outChannels", outChannels, 1);
  checkSize(op, "groups", groups, 1);
  if (inChannels % groups !== 0) throw new ValueError(op, `inChannels ${inChannels} must be divisible by groups ${groups}`);
  if (outChannels % groups !== 0) throw new ValueError(op, `outChannels ${outChannels} must be divisible by groups ${groups}`);
}

/** The input's channel count (dim -nd-1) checked against the layer's. */
function checkInput(op: string, x: Tensor, nd: number, inChannels: number, layout: string): void {
  if (x.ndim !== nd + 1 && x.ndim !== nd + 2) throw new ShapeError(op, `expects input [N, C, ${layout}] or [C, ${layout}], got ${shapeStr(x.shape)}`);
  if (x.shape[x.ndim - nd - 1] !== inChannels) throw new ShapeError(op, `expected ${inChannels} input channels, got shape ${shapeStr(x.shape)}`);
}

/** How a convolution layer pads its input, as PyTorch's padding_mode. */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

/** A padding mode checked (ValueError naming the layer otherwise). */
function paddingModeOf(op: string, v: PaddingMode | undefined): PaddingMode {
  const m = v ?? "zeros";
  if (!["zeros", "reflect", "replicate", "circular"].includes(m)) throw new ValueError(op, `paddingMode must be "zeros", "reflect", "replicate" or "circular", got ${JSON.stringify(v)}`);
  return m;
}

/**
 * For a padding mode other than "zeros": x padded explicitly (as PyTorch's
 * _reversed_padding_repeated_twice: per dim [p, p], or for "same" [floor(t / 2), t - floor(t / 2)]
 * with t = dilation (k - 1)), then the convolution runs unpadded.
 */
function modePadded(x: Tensor, mode: PaddingMode, padding: readonly number[] | "same", kernel: readonly number[], dilation: readonly number[]): Tensor {
  const per = kernel.map((k, i) => {
    if (padding !== "same") return [padding[i]!, padding[i]!];
    const t = dilation[i]! * (k - 1);
    return [Math.floor(t / 2), t - Math.floor(t / 2)];
  });
  const pads: number[] = [];
  for (let i = per.length - 1; i >= 0; i--) pads.push(per[i]![0]!, per[i]![1]!);
  return F.pad(x, pads, mode === "zeros" ? "constant" : mode);
}

const modeRepr = (m: PaddingMode): string => (m === "zeros" ? "" : `, padding_mode=${JSON.stringify(m)}`);

const tuple = (v: readonly number[] | "same"): string => (v === "same" ? `"same"` : `(${v.join(", ")})`);

/**
 * 2-D convolution over NCHW (or unbatched CHW) input. weight [out, in/groups, kH, kW]; default init
 * as PyTorch: kaiming_uniform(a = √5) for the weight, U(-1/√fanIn, 1/√fanIn) for the bias.
 * @example
 * const conv = new Conv2d(3, 8, 3, { padding: 1 });
 * conv.forward(randn([2, 3, 16, 16])).shape; // [2, 8, 16, 16]
 */
export class Conv2d extends Module {
  /** Channels of the input (dim 1 of NCHW). */
  declare readonly inChannels: number;
  /** Channels of the output. */
  declare readonly outChannels: number;
  /** The kernel's [height, width]. */
  declare readonly kernelSize: [number, number];
  /** Step between output positions, [height, width]. */
  declare readonly stride: [number, number];
  /** Zeros per side, [height, width], or "same" (computed per forward). */
  declare readonly padding: [number, number] | "same";
  /** What the padding holds ("zeros", "reflect", "replicate" or "circular"). */
  declare readonly paddingMode: PaddingMode;
  /** Spacing between kernel elements, [height, width]. */
  declare readonly dilation: [number, number];
  /** Number of channel groups. */
  declare readonly groups: number;
  /** The weight [outChannels, inChannels / groups, kH, kW]. */
  declare readonly weight: Tensor;
  /** The bias [outChannels], or null with `bias: false`. */
  declare readonly bias: Tensor | null;

  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - one number for a square kernel, or [height, width]
   * @param options - stride, padding, paddingMode, dilation, groups, bias, dtype, generator
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: Conv2dLayerOptions = {}) {
    super();
    const op = "Conv2d";
    checkSize(op, "inChannels", inChannels, 1);
    checkSize(op, "outChannels", outChannels, 1);
    const groups = options.groups ?? 1;
    checkSize(op, "groups", groups, 1);
    if (inChannels % groups !== 0) throw new ValueError(op, `inChannels ${inChannels} must be divisible by groups ${groups}`);
    if (outChannels % groups !== 0) throw new ValueError(op, `outChannels ${outChannels} must be divisible by groups ${groups}`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = two(op, "kernelSize", kernelSize, 1, 1);
    this.stride = two(op, "stride", options.stride ?? 1, 1, 1);
    this.dilation = two(op, "dilation", options.dilation ?? 1, 1, 1);
    this.groups = groups;
    const padding = options.padding ?? 0;
    if (padding === "same") {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new ValueError(op, `padding "same" is not supported when strided (stride ${JSON.stringify(this.stride)})`);
      this.padding = "same";
    } else this.padding = padding === "valid" ? [0, 0] : two(op, "padding", padding, 0, 0);
    this.paddingMode = paddingModeOf(op, options.paddingMode);
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", zeros([outChannels, inChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outChannels], { dtype }));
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw the parameters with PyTorch's default initialisation.
   * @example
   * new Conv2d(3, 8, 3).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    convReset(this.weight, this.bias, generator);
  }

  /**
   * x [N, inChannels, H, W] (or unbatched [inChannels, H, W]) → [N, outChannels, Ho, Wo].
   * @example
   * new Conv2d(3, 8, 3, { padding: "same" }).forward(randn([2, 3, 10, 10])).shape; // [2, 8, 10, 10]
   */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4) throw new ShapeError("Conv2d", `expects input [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
    const c = x.shape[x.ndim - 3]!;
    if (c !== this.inChannels) throw new ShapeError("Conv2d", `expected ${this.inChannels} input channels, got shape ${shapeStr(x.shape)}`);
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== "zeros") return F.conv2d(modePadded(x, this.paddingMode, this.padding, this.kernelSize, this.dilation), this.weight, this.bias, opts);
    if (this.padding !== "same") return F.conv2d(x, this.weight, this.bias, { ...opts, padding: this.padding });
    // "same": total padding d (k - 1) per dim, the odd extra one on the bottom/right (as PyTorch).
    const total = [0, 1].map((i) => this.dilation[i]! * (this.kernelSize[i]! - 1)) as [number, number];
    const left = total.map((t) => Math.floor(t / 2)) as [number, number];
    const xp = F.pad(x, [0, total[1] % 2, 0, total[0] % 2]); // x itself when both totals are even
    return F.conv2d(xp, this.weight, this.bias, { ...opts, padding: left });
  }
  override extraRepr(): string {
    const pad = this.padding === "same" ? `"same"` : `(${this.padding.join(", ")})`;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(", ")}), stride=(${this.stride.join(", ")}), padding=${pad}${this.groups !== 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"}${modeRepr(this.paddingMode)}`;
  }
}

/** Options of the `Conv1d` layer (PyTorch's nn.Conv1d keywords, camelCase). */
export interface Conv1dLayerOptions extends LayerOptions {
  /** Step between output positions (default 1). */
  stride?: Size1d;
  /** Zero padding per side, or "valid" (none) or "same" (output length = input length; stride 1 only). Default 0. */
  padding?: Size1d | "same" | "valid";
  /** What the padding holds: "zeros" (default), "reflect", "replicate" or "circular" (as PyTorch's padding_mode). */
  paddingMode?: PaddingMode;
  /** Spacing between kernel elements (default 1). */
  dilation?: Size1d;
  /** Split the channels into independent groups (default 1); in and out channels must divide by it. */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * 1-D convolution over [N, C, L] (or unbatched [C, L]) input, as torch.nn.Conv1d: weight
 * [out, in/groups, k], bias [out] (state-dict keys "weight", "bias"); PyTorch's default init.
 * @example
 * const conv = new Conv1d(4, 8, 3, { padding: "same" });
 * conv.forward(randn([2, 4, 20])).shape; // [2, 8, 20]
 * new Conv1d(4, 8, 5, { padding: 2, paddingMode: "reflect" }).forward(randn([2, 4, 20])).shape; // [2, 8, 20]
 * conv.weight.shape; // [8, 4, 3]
 */
export class Conv1d extends Module {
  /** Channels of the input (dim 1 of [N, C, L]). */
  declare readonly inChannels: number;
  /** Channels of the output. */
  declare readonly outChannels: number;
  /** The kernel's [length]. */
  declare readonly kernelSize: [number];
  /** Step between output positions, [length]. */
  declare readonly stride: [number];
  /** Zeros per side, [length], or "same". */
  declare readonly padding: [number] | "same";
  /** What the padding holds ("zeros", "reflect", "replicate" or "circular"). */
  declare readonly paddingMode: PaddingMode;
  /** Spacing between kernel elements, [length]. */
  declare readonly dilation: [number];
  /** Number of channel groups. */
  declare readonly groups: number;
  /** The weight [outChannels, inChannels / groups, k]. */
  declare readonly weight: Tensor;
  /** The bias [outChannels], or null with `bias: false`. */
  declare readonly bias: Tensor | null;

  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - the kernel length (a number or a 1-tuple)
   * @param options - stride, padding, paddingMode, dilation, groups, bias, dtype, generator
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Size1d, options: Conv1dLayerOptions = {}) {
    super();
    const op = "Conv1d";
    const groups = options.groups ?? 1;
    checkChannels(op, inChannels, outChannels, groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    const size = (name: string, v: Size1d | undefined, dflt: number, min: number): [number] => [nTuple(op, name, one(op, name, v), 1, dflt, min)[0]!];
    this.kernelSize = size("kernelSize", kernelSize, 1, 1);
    this.stride = size("stride", options.stride, 1, 1);
    this.dilation = size("dilation", options.dilation, 1, 1);
    const padding = options.padding ?? 0;
    if (padding === "same" && this.stride[0] !== 1) throw new ValueError(op, `padding "same" is not supported when strided (stride ${this.stride[0]})`);
    this.padding = padding === "same" ? "same" : padding === "valid" ? [0] : size("padding", padding, 0, 0);
    this.paddingMode = paddingModeOf(op, options.paddingMode);
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", zeros([outChannels, inChannels / groups, this.kernelSize[0]], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outChannels], { dtype }));
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw the parameters with PyTorch's default initialisation.
   * @example
   * new Conv1d(3, 8, 3).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    convReset(this.weight, this.bias, generator);
  }

  /**
   * x [N, inChannels, L] (or unbatched [inChannels, L]) → [N, outChannels, Lo].
   * @example
   * new Conv1d(2, 4, 5, { stride: 2 }).forward(randn([3, 2, 21])).shape; // [3, 4, 9]
   */
  forward(x: Tensor): Tensor {
    checkInput("Conv1d", x, 1, this.inChannels, "L");
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== "zeros") return F.conv1d(modePadded(x, this.paddingMode, this.padding, this.kernelSize, this.dilation), this.weight, this.bias, opts);
    return F.conv1d(x, this.weight, this.bias, { ...opts, padding: this.padding === "same" ? "same" : this.padding });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize[0]},), stride=(${this.stride[0]},), padding=${this.padding === "same" ? `"same"` : `(${this.padding[0]},)`}${this.groups !== 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"}${modeRepr(this.paddingMode)}`;
  }
}

/**
 * A size for the three spatial dims (depth, height, width): one number for all, or a triple.
 * @inline
 */
type Triple = number | readonly [number, number, number];

/** Options of the `Conv3d` layer. */
export interface Conv3dLayerOptions extends LayerOptions {
  /** Step between output positions (default 1). */
  stride?: Triple;
  /** Zero padding per side, or "valid" or "same" (stride 1 only). Default 0. */
  padding?: Triple | "same" | "valid";
  /** What the padding holds: "zeros" (default), "reflect", "replicate" or "circular" (as PyTorch's padding_mode). */
  paddingMode?: PaddingMode;
  /** Spacing between kernel elements (default 1). */
  dilation?: Triple;
  /** Split the channels into independent groups (default 1). */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * 3-D convolution over [N, C, D, H, W] (or unbatched [C, D, H, W]) input, as torch.nn.Conv3d:
 * weight [out, in/groups, kD, kH, kW], bias [out]; PyTorch's default init. Runs as one conv2d over
 * the gathered depth slices (see `conv3d`).
 * @example
 * new Conv3d(2, 4, 3, { padding: 1 }).forward(randn([1, 2, 4, 6, 6])).shape; // [1, 4, 4, 6, 6]
 */
export class Conv3d extends Module {
  /** Channels of the input. */
  declare readonly inChannels: number;
  /** Channels of the output. */
  declare readonly outChannels: number;
  /** The kernel's [depth, height, width]. */
  declare readonly kernelSize: [number, number, number];
  /** Step between output positions. */
  declare readonly stride: [number, number, number];
  /** Zeros per side, or "same". */
  declare readonly padding: [number, number, number] | "same";
  /** What the padding holds ("zeros", "reflect", "replicate" or "circular"). */
  declare readonly paddingMode: PaddingMode;
  /** Spacing between kernel elements. */
  declare readonly dilation: [number, number, number];
  /** Number of channel groups. */
  declare readonly groups: number;
  /** The weight [outChannels, inChannels / groups, kD, kH, kW]. */
  declare readonly weight: Tensor;
  /** The bias [outChannels], or null with `bias: false`. */
  declare readonly bias: Tensor | null;

  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - one number for a cubic kernel, or [depth, height, width]
   * @param options - stride, padding, paddingMode, dilation, groups, bias, dtype, generator
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Triple, options: Conv3dLayerOptions = {}) {
    super();
    const op = "Conv3d";
    const groups = options.groups ?? 1;
    checkChannels(op, inChannels, outChannels, groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    const t3 = (name: string, v: Triple | undefined, dflt: number, min: number) => nTuple(op, name, v, 3, dflt, min) as [number, number, number];
    this.kernelSize = t3("kernelSize", kernelSize, 1, 1);
    this.stride = t3("stride", options.stride, 1, 1);
    this.dilation = t3("dilation", options.dilation, 1, 1);
    const padding = options.padding ?? 0;
    if (padding === "same" && this.stride.some((v) => v !== 1)) throw new ValueError(op, `padding "same" is not supported when strided (stride ${JSON.stringify(this.stride)})`);
    this.padding = padding === "same" ? "same" : padding === "valid" ? [0, 0, 0] : t3("padding", padding, 0, 0);
    this.paddingMode = paddingModeOf(op, options.paddingMode);
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", zeros([outChannels, inChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outChannels], { dtype }));
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw the parameters with PyTorch's default initialisation.
   * @example
   * new Conv3d(3, 8, 3).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    convReset(this.weight, this.bias, generator);
  }

  /**
   * x [N, inChannels, D, H, W] (or unbatched) → [N, outChannels, Do, Ho, Wo].
   * @example
   * new Conv3d(1, 2, [1, 3, 3]).forward(randn([1, 1, 2, 5, 5])).shape; // [1, 2, 2, 3, 3]
   */
  forward(x: Tensor): Tensor {
    checkInput("Conv3d", x, 3, this.inChannels, "D, H, W");
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== "zeros") return F.conv3d(modePadded(x, this.paddingMode, this.padding, this.kernelSize, this.dilation), this.weight, this.bias, opts);
    return F.conv3d(x, this.weight, this.bias, { ...opts, padding: this.padding });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}, padding=${tuple(this.padding)}${this.groups !== 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"}${modeRepr(this.paddingMode)}`;
  }
}

/** Options of the `ConvTranspose2d` layer (PyTorch's nn.ConvTranspose2d keywords, camelCase). */
export interface ConvTranspose2dLayerOptions extends LayerOptions {
  /** Step between input positions in the output (default 1). */
  stride?: Pair;
  /** The output loses this many rows/columns on each side (default 0). */
  padding?: Pair;
  /** Extra size at the bottom/right of the output, smaller than the stride or the dilation (default 0). */
  outputPadding?: Pair;
  /** Split the channels into independent groups (default 1). */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
}

/** outputPadding for a requested output size, as PyTorch's _ConvTransposeNd._output_padding. */
function outputPaddingFor(op: string, x: Tensor, nd: number, outputSize: readonly number[], k: readonly number[], s: readonly number[], p: readonly number[], d: readonly number[]): number[] {
  const want = outputSize.length === nd + 2 || outputSize.length === nd + 1 ? outputSize.slice(outputSize.length - nd) : [...outputSize];
  if (want.length !== nd) throw new ValueError(op, `outputSize must have ${nd}, ${nd + 1} or ${nd + 2} entries, got ${JSON.stringify(outputSize)}`);
  const sizes = x.shape.slice(x.ndim - nd);
  return want.map((w, i) => {
    const min = (sizes[i]! - 1) * s[i]! - 2 * p[i]! + d[i]! * (k[i]! - 1) + 1;
    const max = min + s[i]! - 1;
    if (!Number.isInteger(w) || w < min || w > max) throw new ValueError(op, `requested an output size of ${JSON.stringify(outputSize)}, but valid sizes range from ${min} to ${max} (for an input of ${shapeStr(x.shape)})`);
    return w - min;
  });
}

/**
 * 2-D transposed convolution over NCHW (or unbatched CHW) input, as torch.nn.ConvTranspose2d:
 * weight [in, out/groups, kH, kW], bias [out]; PyTorch's default init (fan-in from the weight's
 * dim 1). `forward(x, outputSize)` picks the outputPadding that gives that size.
 * @example
 * const up = new ConvTranspose2d(8, 4, 2, { stride: 2 });
 * up.forward(randn([1, 8, 5, 5])).shape; // [1, 4, 10, 10]
 * new ConvTranspose2d(8, 4, 3, { stride: 2, padding: 1 }).forward(randn([1, 8, 5, 5]), [10, 10]).shape; // [1, 4, 10, 10]
 */
export class ConvTranspose2d extends Module<[Tensor, (readonly number[])?]> {
  /** Channels of the input. */
  declare readonly inChannels: number;
  /** Channels of the output. */
  declare readonly outChannels: number;
  /** The kernel's [height, width]. */
  declare readonly kernelSize: [number, number];
  /** Step between input positions in the output. */
  declare readonly stride: [number, number];
  /** Rows/columns cropped on each side. */
  declare readonly padding: [number, number];
  /** Extra size at the bottom/right. */
  declare readonly outputPadding: [number, number];
  /** Spacing between kernel elements. */
  declare readonly dilation: [number, number];
  /** Number of channel groups. */
  declare readonly groups: number;
  /** The weight [inChannels, outChannels / groups, kH, kW]. */
  declare readonly weight: Tensor;
  /** The bias [outChannels], or null with `bias: false`. */
  declare readonly bias: Tensor | null;

  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - one number for a square kernel, or [height, width]
   * @param options - stride, padding, outputPadding, groups, bias, dilation, dtype, generator
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: ConvTranspose2dLayerOptions = {}) {
    super();
    const op = "ConvTranspose2d";
    const groups = options.groups ?? 1;
    checkChannels(op, inChannels, outChannels, groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.kernelSize = two(op, "kernelSize", kernelSize, 1, 1);
    this.stride = two(op, "stride", options.stride, 1, 1);
    this.padding = two(op, "padding", options.padding, 0, 0);
    this.outputPadding = two(op, "outputPadding", options.outputPadding, 0, 0);
    this.dilation = two(op, "dilation", options.dilation, 1, 1);
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", zeros([inChannels, outChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outChannels], { dtype }));
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw the parameters with PyTorch's default initialisation.
   * @example
   * new ConvTranspose2d(8, 4, 2).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    convReset(this.weight, this.bias, generator);
  }

  /**
   * x [N, inChannels, H, W] (or unbatched) → [N, outChannels, Ho, Wo]; `outputSize` ([Ho, Wo] or
   * the whole shape) replaces the layer's outputPadding for this call.
   * @example
   * new ConvTranspose2d(3, 3, 3, { stride: 2 }).forward(randn([1, 3, 4, 4])).shape; // [1, 3, 9, 9]
   */
  forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    const op = "ConvTranspose2d";
    checkInput(op, x, 2, this.inChannels, "H, W");
    const outputPadding = outputSize ? outputPaddingFor(op, x, 2, outputSize, this.kernelSize, this.stride, this.padding, this.dilation) as [number, number] : this.outputPadding;
    return F.convTranspose2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, outputPadding, groups: this.groups, dilation: this.dilation });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}${this.padding.some((v) => v) ? `, padding=${tuple(this.padding)}` : ""}${this.outputPadding.some((v) => v) ? `, output_padding=${tuple(this.outputPadding)}` : ""}${this.groups !== 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"}`;
  }
}

/** Options of the `ConvTranspose1d` layer. */
export interface ConvTranspose1dLayerOptions extends LayerOptions {
  /** Step between input positions in the output (default 1). */
  stride?: Size1d;
  /** The output loses this many positions on each side (default 0). */
  padding?: Size1d;
  /** Extra length at the end of the output, smaller than the stride or the dilation (default 0). */
  outputPadding?: Size1d;
  /** Split the channels into independent groups (default 1). */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Spacing between kernel elements (default 1). */
  dilation?: Size1d;
}

/**
 * 1-D transposed convolution over [N, C, L] (or unbatched [C, L]) input, as
 * torch.nn.ConvTranspose1d: weight [in, out/groups, k], bias [out]; PyTorch's default init.
 * @example
 * new ConvTranspose1d(4, 2, 4, { stride: 2, padding: 1 }).forward(randn([3, 4, 8])).shape; // [3, 2, 16]
 */
export class ConvTranspose1d extends Module<[Tensor, (readonly number[])?]> {
  /** Channels of the input. */
  declare readonly inChannels: number;
  /** Channels of the output. */
  declare readonly outChannels: number;
  /** The kernel's [length]. */
  declare readonly kernelSize: [number];
  /** Step between input positions in the output. */
  declare readonly stride: [number];
  /** Positions cropped on each side. */
  declare readonly padding: [number];
  /** Extra length at the end. */
  declare readonly outputPadding: [number];
  /** Spacing between kernel elements. */
  declare readonly dilation: [number];
  /** Number of channel groups. */
  declare readonly groups: number;
  /** The weight [inChannels, outChannels / groups, k]. */
  declare readonly weight: Tensor;
  /** The bias [outChannels], or null with `bias: false`. */
  declare readonly bias: Tensor | null;

  /**
   * @param inChannels - channels of the input
   * @param outChannels - channels of the output
   * @param kernelSize - the kernel length
   * @param options - stride, padding, outputPadding, groups, bias, dilation, dtype, generator
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Size1d, options: ConvTranspose1dLayerOptions = {}) {
    super();
    const op = "ConvTranspose1d";
    const groups = options.groups ?? 1;
    checkChannels(op, inChannels, outChannels, groups);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    const size = (name: string, v: Size1d | undefined, dflt: number, min: number): [number] => [nTuple(op, name, one(op, name, v), 1, dflt, min)[0]!];
    this.kernelSize = size("kernelSize", kernelSize, 1, 1);
    this.stride = size("stride", options.stride, 1, 1);
    this.padding = size("padding", options.padding, 0, 0);
    this.outputPadding = size("outputPadding", options.outputPadding, 0, 0);
    this.dilation = size("dilation", options.dilation, 1, 1);
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", zeros([inChannels, outChannels / groups, this.kernelSize[0]], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outChannels], { dtype }));
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw the parameters with PyTorch's default initialisation.
   * @example
   * new ConvTranspose1d(8, 4, 2).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    convReset(this.weight, this.bias, generator);
  }

  /**
   * x [N, inChannels, L] (or unbatched) → [N, outChannels, Lo]; `outputSize` ([Lo] or the whole
   * shape) replaces the layer's outputPadding for this call.
   * @example
   * new ConvTranspose1d(2, 2, 3, { stride: 2 }).forward(randn([1, 2, 5]), [12]).shape; // [1, 2, 12]
   */
  forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    const op = "ConvTranspose1d";
    checkInput(op, x, 1, this.inChannels, "L");
    const outputPadding = outputSize ? outputPaddingFor(op, x, 1, outputSize, this.kernelSize, this.stride, this.padding, this.dilation)[0]! : this.outputPadding[0];
    return F.convTranspose1d(x, this.weight, this.bias, { stride: this.stride[0], padding: this.padding[0], outputPadding, groups: this.groups, dilation: this.dilation[0] });
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize[0]},), stride=(${this.stride[0]},)${this.padding[0] ? `, padding=(${this.padding[0]},)` : ""}${this.outputPadding[0] ? `, output_padding=(${this.outputPadding[0]},)` : ""}${this.groups !== 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"}`;
  }
}

/** Pooling layers also accept unbatched [C, H, W] input. */
function batched4d(op: string, x: Tensor, fn: (x4: Tensor) => Tensor): Tensor {
  if (x.ndim === 3) return fn(x.unsqueeze(0)).squeeze(0);
  if (x.ndim !== 4) throw new ShapeError(op, `expects input [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
  return fn(x);
}

/**
 * Max pooling (NCHW); the gradient goes to the first maximum of each window.
 * @example
 * new MaxPool2d(2).forward(randn([1, 1, 4, 4])).shape; // [1, 1, 2, 2]
 */
export class MaxPool2d extends Module {
  constructor(
    /** The window size: one number or [height, width]. */
    readonly kernelSize: Pair,
    /** stride (default: the kernel size), padding, dilation, ceilMode. */
    readonly options: F.Pool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return batched4d("MaxPool2d", x, (x4) => F.maxPool2d(x4, this.kernelSize, this.options));
  }
  override extraRepr(): string {
    return `kernel_size=${JSON.stringify(this.kernelSize)}`;
  }
}

/**
 * Average pooling (NCHW). `countIncludePad` (default true) and `divisorOverride` as PyTorch.
 * @example
 * new AvgPool2d(2).forward(randn([1, 1, 4, 4])).shape; // [1, 1, 2, 2]
 */
export class AvgPool2d extends Module {
  constructor(
    /** The window size: one number or [height, width]. */
    readonly kernelSize: Pair,
    /** stride (default: the kernel size), padding, countIncludePad, divisorOverride, ceilMode. */
    readonly options: F.AvgPool2dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return batched4d("AvgPool2d", x, (x4) => F.avgPool2d(x4, this.kernelSize, this.options));
  }
  override extraRepr(): string {
    return `kernel_size=${JSON.stringify(this.kernelSize)}`;
  }
}
