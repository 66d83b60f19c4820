import { ShapeError, ValueError } from "../errors.js";
import * as F from "../autograd/functional.js";
import { zeros } from "../tensor/create.js";
import type { Generator } from "../tensor/random.js";
import { shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import * as init from "./init.js";
import { checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";

type Pair = number | readonly [number, number];

function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const r: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  for (const x of r) if (!Number.isInteger(x) || x < min) throw new ValueError(op, `${name} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return r;
}

export interface Conv2dLayerOptions extends LayerOptions {
  stride?: Pair;
  /** Zero padding per side, or "valid" (none) or "same" (output size = input size; stride 1 only). */
  padding?: Pair | "same" | "valid";
  dilation?: Pair;
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
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | "same";
  readonly dilation: [number, number];
  readonly groups: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

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
    this.kernelSize = pair(op, "kernelSize", kernelSize, 1);
    this.stride = pair(op, "stride", options.stride ?? 1, 1);
    this.dilation = pair(op, "dilation", options.dilation ?? 1, 1);
    this.groups = groups;
    const padding = options.padding ?? 0;
    if (padding === "same") {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new ValueError(op, `padding "same" is not supported for strided convolutions (stride ${JSON.stringify(this.stride)})`);
      this.padding = "same";
    } else this.padding = padding === "valid" ? [0, 0] : pair(op, "padding", padding, 0);
    const dtype = options.dtype ?? "float32";
    this.weight = this.registerParameter("weight", zeros([outChannels, inChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outChannels], { dtype }));
    this.resetParameters(options.generator);
  }

  /** Re-draw the parameters with PyTorch's default initialisation. */
  resetParameters(generator?: Generator): void {
    init.kaimingUniform(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform(this.bias, { a: -bound, b: bound, generator });
    }
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4) throw new ShapeError("Conv2d", `expects input [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
    const c = x.shape[x.ndim - 3]!;
    if (c !== this.inChannels) throw new ShapeError("Conv2d", `expected ${this.inChannels} input channels, got input of shape ${shapeStr(x.shape)}`);
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.padding !== "same") return F.conv2d(x, this.weight, this.bias, { ...opts, padding: this.padding });
    // "same": total padding d (k - 1) per dim, the odd extra one on the bottom/right (as PyTorch).
    const total = [0, 1].map((i) => this.dilation[i]! * (this.kernelSize[i]! - 1)) as [number, number];
    const left: [number, number] = [Math.floor(total[0] / 2), Math.floor(total[1] / 2)];
    const extraH = total[0] - 2 * left[0];
    const extraW = total[1] - 2 * left[1];
    const xp = extraH || extraW ? F.pad(x, [0, extraW, 0, extraH]) : x;
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
    readonly kernelSize: Pair,
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
    readonly kernelSize: Pair,
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
