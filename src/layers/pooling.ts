/**
 * Pooling and resampling layers beyond MaxPool2d / AvgPool2d (layers/conv.ts): 1-D pooling,
 * adaptive (and so global) pooling, unpooling and upsampling, each a thin module over its function
 * in ops/pool.ts or ops/resample.ts. None has parameters or buffers (empty state dicts, as PyTorch).
 */
import * as F from "../ops/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { Module } from "./module.js";

const repr = (v: unknown): string => JSON.stringify(v);

/**
 * 1-D max pooling over [N, C, L] (or [C, L]), as torch.nn.MaxPool1d: stride (default: the kernel
 * size), -Infinity padding, dilation, ceilMode. The gradient goes to the first maximum of each window.
 * @example
 * new MaxPool1d(2).forward(randn([2, 3, 9])).shape; // [2, 3, 4]
 * new MaxPool1d(2, { ceilMode: true }).forward(randn([2, 3, 9])).shape; // [2, 3, 5]
 */
export class MaxPool1d extends Module {
  constructor(
    /** The window length. */
    readonly kernelSize: F.Size1d,
    /** stride (default: the kernel size), padding, dilation, ceilMode. */
    readonly options: F.Pool1dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool1d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `kernel_size=${repr(this.kernelSize)}, stride=${repr(this.options.stride ?? this.kernelSize)}, padding=${repr(this.options.padding ?? 0)}, dilation=${repr(this.options.dilation ?? 1)}, ceil_mode=${this.options.ceilMode ?? false}`;
  }
}

/**
 * 1-D average pooling over [N, C, L] (or [C, L]), as torch.nn.AvgPool1d: stride (default: the
 * kernel size), zero padding, countIncludePad (default true), ceilMode.
 * @example
 * new AvgPool1d(3, { stride: 1, padding: 1 }).forward(randn([2, 3, 9])).shape; // [2, 3, 9]
 */
export class AvgPool1d extends Module {
  constructor(
    /** The window length. */
    readonly kernelSize: F.Size1d,
    /** stride (default: the kernel size), padding, countIncludePad, ceilMode. */
    readonly options: F.AvgPool1dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool1d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `kernel_size=${repr(this.kernelSize)}, stride=${repr(this.options.stride ?? this.kernelSize)}, padding=${repr(this.options.padding ?? 0)}`;
  }
}

/**
 * 3-D max pooling over [N, C, D, H, W] (or [C, D, H, W]), as torch.nn.MaxPool3d: stride (default:
 * the kernel size), -Infinity padding, dilation, ceilMode. The gradient goes to the first maximum.
 * @example
 * new MaxPool3d(2).forward(randn([1, 2, 4, 6, 6])).shape; // [1, 2, 2, 3, 3]
 */
export class MaxPool3d extends Module {
  constructor(
    /** The window size: one number or [depth, height, width]. */
    readonly kernelSize: F.Size3d,
    /** stride (default: the kernel size), padding, dilation, ceilMode. */
    readonly options: F.Pool3dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool3d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `kernel_size=${repr(this.kernelSize)}, stride=${repr(this.options.stride ?? this.kernelSize)}, padding=${repr(this.options.padding ?? 0)}, dilation=${repr(this.options.dilation ?? 1)}, ceil_mode=${this.options.ceilMode ?? false}`;
  }
}

/**
 * 3-D average pooling over [N, C, D, H, W] (or [C, D, H, W]), as torch.nn.AvgPool3d: stride
 * (default: the kernel size), zero padding, countIncludePad (default true), divisorOverride, ceilMode.
 * @example
 * new AvgPool3d(3, { stride: 2, padding: 1 }).forward(randn([1, 2, 5, 5, 5])).shape; // [1, 2, 3, 3, 3]
 */
export class AvgPool3d extends Module {
  constructor(
    /** The window size: one number or [depth, height, width]. */
    readonly kernelSize: F.Size3d,
    /** stride (default: the kernel size), padding, countIncludePad, divisorOverride, ceilMode. */
    readonly options: F.AvgPool3dOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool3d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `kernel_size=${repr(this.kernelSize)}, stride=${repr(this.options.stride ?? this.kernelSize)}, padding=${repr(this.options.padding ?? 0)}`;
  }
}

/**
 * Adaptive average pooling of [N, C, L] (or [C, L]) to a fixed length, as torch.nn.AdaptiveAvgPool1d.
 * @example
 * new AdaptiveAvgPool1d(4).forward(randn([2, 3, 10])).shape; // [2, 3, 4]
 */
export class AdaptiveAvgPool1d extends Module {
  constructor(
    /** The output length. */
    readonly outputSize: F.Size1d,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool1d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${repr(this.outputSize)}`;
  }
}

/**
 * Adaptive average pooling of [N, C, H, W] (or [C, H, W]) to a fixed size, as
 * torch.nn.AdaptiveAvgPool2d; `new AdaptiveAvgPool2d(1)` is global average pooling, and null in
 * the size keeps that dim.
 * @example
 * new AdaptiveAvgPool2d(1).forward(randn([2, 8, 7, 7])).shape; // [2, 8, 1, 1]
 * new AdaptiveAvgPool2d([3, null]).forward(randn([2, 8, 7, 5])).shape; // [2, 8, 3, 5]
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(
    /** The output size: one number, or [height, width] (null keeps the input's). */
    readonly outputSize: F.AdaptiveSize2d,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${repr(this.outputSize)}`;
  }
}

/**
 * Adaptive max pooling of [N, C, L] (or [C, L]) to a fixed length, as torch.nn.AdaptiveMaxPool1d
 * (for the indices, call `adaptiveMaxPool1dWithIndices`).
 * @example
 * new AdaptiveMaxPool1d(1).forward(randn([2, 3, 10])).shape; // [2, 3, 1]
 */
export class AdaptiveMaxPool1d extends Module {
  constructor(
    /** The output length. */
    readonly outputSize: F.Size1d,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool1d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${repr(this.outputSize)}`;
  }
}

/**
 * Adaptive max pooling of [N, C, H, W] (or [C, H, W]) to a fixed size, as
 * torch.nn.AdaptiveMaxPool2d; `new AdaptiveMaxPool2d(1)` is global max pooling. The gradient goes
 * to the first maximum of each window (for the indices, call `adaptiveMaxPool2dWithIndices`).
 * @example
 * new AdaptiveMaxPool2d([2, 3]).forward(randn([1, 4, 7, 8])).shape; // [1, 4, 2, 3]
 */
export class AdaptiveMaxPool2d extends Module {
  constructor(
    /** The output size: one number, or [height, width] (null keeps the input's). */
    readonly outputSize: F.AdaptiveSize2d,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveMaxPool2d(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${repr(this.outputSize)}`;
  }
}

/**
 * The partial inverse of MaxPool2d, as torch.nn.MaxUnpool2d: `forward(x, indices, outputSize?)`
 * puts each value at its index in a zero output.
 * @example
 * const { values, indices } = maxPool2dWithIndices(randn([1, 2, 4, 4]), 2);
 * new MaxUnpool2d(2).forward(values, indices).shape; // [1, 2, 4, 4]
 */
export class MaxUnpool2d extends Module<[Tensor, Tensor, (readonly number[])?]> {
  constructor(
    /** The kernel size of the max pooling undone. */
    readonly kernelSize: number | readonly [number, number],
    /** stride (default: the kernel size) and padding of the max pooling undone. */
    readonly options: Omit<F.MaxUnpool2dOptions, "outputSize"> = {},
  ) {
    super();
  }
  /**
   * Values x and the int32 indices max pooling returned with them, both [N, C, H, W] or [C, H, W].
   * @example
   * const { values, indices } = maxPool2dWithIndices(randn([1, 2, 5, 5]), 2);
   * new MaxUnpool2d(2).forward(values, indices, [5, 5]).shape; // [1, 2, 5, 5]
   */
  forward(x: Tensor, indices: Tensor, outputSize?: readonly number[]): Tensor {
    return F.maxUnpool2d(x, indices, this.kernelSize, { ...this.options, outputSize });
  }
  override extraRepr(): string {
    return `kernel_size=${repr(this.kernelSize)}, stride=${repr(this.options.stride ?? this.kernelSize)}, padding=${repr(this.options.padding ?? 0)}`;
  }
}

/**
 * The partial inverse of MaxPool1d, as torch.nn.MaxUnpool1d.
 * @example
 * const { values, indices } = maxPool1dWithIndices(randn([1, 2, 8]), 2);
 * new MaxUnpool1d(2).forward(values, indices).shape; // [1, 2, 8]
 */
export class MaxUnpool1d extends Module<[Tensor, Tensor, (readonly number[])?]> {
  constructor(
    /** The kernel size of the max pooling undone. */
    readonly kernelSize: F.Size1d,
    /** stride (default: the kernel size) and padding of the max pooling undone. */
    readonly options: Omit<F.MaxUnpool1dOptions, "outputSize"> = {},
  ) {
    super();
  }
  /**
   * Values x and the int32 indices max pooling returned with them, both [N, C, L] or [C, L].
   * @example
   * const { values, indices } = maxPool1dWithIndices(randn([1, 2, 9]), 2);
   * new MaxUnpool1d(2).forward(values, indices, [9]).shape; // [1, 2, 9]
   */
  forward(x: Tensor, indices: Tensor, outputSize?: readonly number[]): Tensor {
    return F.maxUnpool1d(x, indices, this.kernelSize, { ...this.options, outputSize });
  }
  override extraRepr(): string {
    return `kernel_size=${repr(this.kernelSize)}, stride=${repr(this.options.stride ?? this.kernelSize)}, padding=${repr(this.options.padding ?? 0)}`;
  }
}

/**
 * Upsampling of [N, C, ...] input, as torch.nn.Upsample: a `size` or a `scaleFactor`, mode
 * "nearest" (default), "nearest-exact", "linear", "bilinear", "trilinear" or "area", alignCorners
 * for the linear modes (see `interpolate`).
 * @example
 * new Upsample({ scaleFactor: 2, mode: "bilinear" }).forward(randn([1, 3, 4, 4])).shape; // [1, 3, 8, 8]
 * new Upsample({ size: [5, 7] }).forward(randn([1, 3, 4, 4])).shape; // [1, 3, 5, 7]
 */
export class Upsample extends Module {
  constructor(
    /** size or scaleFactor, mode, alignCorners, recomputeScaleFactor. */
    readonly options: F.InterpolateOptions,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.interpolate(x, this.options);
  }
  override extraRepr(): string {
    const o = this.options;
    return `${o.size !== undefined ? `size=${repr(o.size)}` : `scale_factor=${repr(o.scaleFactor)}`}, mode=${repr(o.mode ?? "nearest")}`;
  }
}

/**
 * Nearest upsampling of [N, C, H, W], as torch.nn.UpsamplingNearest2d (= Upsample with mode "nearest").
 * @example
 * new UpsamplingNearest2d({ scaleFactor: 2 }).forward(randn([1, 1, 3, 3])).shape; // [1, 1, 6, 6]
 */
export class UpsamplingNearest2d extends Upsample {
  constructor(
    /** size or scaleFactor. */
    options: Pick<F.InterpolateOptions, "size" | "scaleFactor">,
  ) {
    super({ size: options.size, scaleFactor: options.scaleFactor, mode: "nearest" });
  }
}

/**
 * Bilinear upsampling of [N, C, H, W] with aligned corners, as torch.nn.UpsamplingBilinear2d
 * (= Upsample with mode "bilinear" and alignCorners true).
 * @example
 * new UpsamplingBilinear2d({ size: 5 }).forward(randn([1, 1, 3, 3])).shape; // [1, 1, 5, 5]
 */
export class UpsamplingBilinear2d extends Upsample {
  constructor(
    /** size or scaleFactor. */
    options: Pick<F.InterpolateOptions, "size" | "scaleFactor">,
  ) {
    super({ size: options.size, scaleFactor: options.scaleFactor, mode: "bilinear", alignCorners: true });
  }
}
