import { ShapeError, ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import { two } from "../ops/conv.js";
import { zeros } from "../tensor/create.js";
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
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
  /** Split the channels into independent groups (default 1); in and out channels must divide by it. */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

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
   * @param options - stride, padding, dilation, groups, bias, dtype, generator
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
    const dtype = options.dtype ?? "float32";
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
    init.kaimingUniform(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform(this.bias, { a: -bound, b: bound, generator });
    }
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
    if (this.padding !== "same") return F.conv2d(x, this.weight, this.bias, { ...opts, padding: this.padding });
    // "same": total padding d (k - 1) per dim, the odd extra one on the bottom/right (as PyTorch).
    const total = [0, 1].map((i) => this.dilation[i]! * (this.kernelSize[i]! - 1)) as [number, number];
    const left = total.map((t) => Math.floor(t / 2)) as [number, number];
    const xp = F.pad(x, [0, total[1] % 2, 0, total[0] % 2]); // x itself when both totals are even
    return F.conv2d(xp, this.weight, this.bias, { ...opts, padding: left });
  }
  override extraRepr(): string {
    const pad = this.padding === "same" ? `"same"` : `(${this.padding.join(", ")})`;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(", ")}), stride=(${this.stride.join(", ")}), padding=${pad}${this.groups !== 1 ? `, groups=${this.groups}` : ""}${this.bias ? "" : ", bias=false"}`;
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
    /** stride (default: the kernel size), padding, dilation. */
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
    /** stride (default: the kernel size), padding, countIncludePad, divisorOverride. */
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
