import { ShapeError, ValueError } from "../errors.js";
import { full, ones, zeros } from "../tensor/create.js";
import { getDefaultDtype, type FloatDType } from "../tensor/dtype.js";
import { shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import { groupNorm } from "./functional-spatial.js";
import { checkSize } from "./linear.js";
import { Module } from "./module.js";

function shapeOf(op: string, s: number | readonly number[]): number[] {
  const r = typeof s === "number" ? [s] : [...s];
  if (r.length === 0) throw new ValueError(op, "normalizedShape must not be empty");
  for (const v of r) checkSize(op, "normalizedShape", v, 1);
  return r;
}

/** Options of the `LayerNorm` layer. */
export interface LayerNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-element weight (ones) and bias (zeros) (default true). */
  elementwiseAffine?: boolean;
  /** Learn the bias when elementwiseAffine (default true). */
  bias?: boolean;
  /** Parameter dtype (default: `getDefaultDtype()`). */
  dtype?: FloatDType;
}

/**
 * Layer normalisation over the trailing `normalizedShape` dims:
 * (x - mean) * rsqrt(var + eps) * weight + bias. A constant row gives `bias` with a finite gradient.
 * @example
 * new LayerNorm(8).forward(randn([2, 8])); // each row: mean 0, variance ~1
 * new LayerNorm([4, 4], { elementwiseAffine: false }).forward(randn([2, 4, 4]));
 */
export class LayerNorm extends Module {
  /** The trailing dims normalised over. */
  declare readonly normalizedShape: number[];
  /** Added to the variance inside the square root. */
  declare readonly eps: number;
  /** Per-element scale (ones at first) of shape `normalizedShape`, or null without `elementwiseAffine`. */
  declare readonly weight: Tensor | null;
  /** Per-element shift (zeros at first), or null. */
  declare readonly bias: Tensor | null;
  /**
   * @param normalizedShape - the size of the last dim, or of the last few dims
   * @param options - eps, elementwiseAffine, bias, dtype
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape = shapeOf("LayerNorm", normalizedShape);
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? getDefaultDtype();
    const affine = options.elementwiseAffine ?? true;
    this.weight = this.registerParameter("weight", affine ? ones(this.normalizedShape, { dtype }) : null);
    this.bias = this.registerParameter("bias", affine && options.bias !== false ? zeros(this.normalizedShape, { dtype }) : null);
  }
  forward(x: Tensor): Tensor {
    return LF.layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `(${this.normalizedShape.join(", ")}), eps=${this.eps}, elementwise_affine=${this.weight !== null}`;
  }
}

/** Options of the `RMSNorm` layer. */
export interface RMSNormLayerOptions {
  /** Added to mean(x²) inside the square root. Default 1e-6 (torch 2.4 defaults to the dtype's machine epsilon). */
  eps?: number;
  /** Learn a per-element weight (ones) (default true). */
  elementwiseAffine?: boolean;
  /** Parameter dtype (default: `getDefaultDtype()`). */
  dtype?: FloatDType;
}

/**
 * Root-mean-square normalisation over the trailing dims: x * rsqrt(mean(x²) + eps) * weight
 * (torch 2.4's nn.RMSNorm, state dict key "weight"). An all-zero row gives 0 with a finite gradient.
 * @example
 * new RMSNorm(8).forward(randn([2, 8]));
 */
export class RMSNorm extends Module {
  /** The trailing dims normalised over. */
  declare readonly normalizedShape: number[];
  /** Added to mean(x²) inside the square root. */
  declare readonly eps: number;
  /** Per-element scale (ones at first), or null without `elementwiseAffine`. */
  declare readonly weight: Tensor | null;
  /**
   * @param normalizedShape - the size of the last dim, or of the last few dims
   * @param options - eps, elementwiseAffine, dtype
   */
  constructor(normalizedShape: number | readonly number[], options: RMSNormLayerOptions = {}) {
    super();
    this.normalizedShape = shapeOf("RMSNorm", normalizedShape);
    this.eps = options.eps ?? 1e-6;
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", options.elementwiseAffine === false ? null : ones(this.normalizedShape, { dtype }));
  }
  forward(x: Tensor): Tensor {
    return LF.rmsNorm(x, this.normalizedShape, { weight: this.weight, eps: this.eps });
  }
  override extraRepr(): string {
    return `(${this.normalizedShape.join(", ")}), eps=${this.eps}, elementwise_affine=${this.weight !== null}`;
  }
}

/** Options of the `BatchNorm1d` / `BatchNorm2d` layers. */
export interface BatchNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1); null: cumulative average. */
  momentum?: number | null;
  /** Learn weight (ones) and bias (zeros) per channel (default true). */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked buffers (default true). */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype (default "float32"). */
  dtype?: FloatDType;
}

/**
 * Shared BatchNorm logic (as torch's _BatchNorm): parameters weight/bias, buffers running_mean,
 * running_var and num_batches_tracked. Use `BatchNorm1d` or `BatchNorm2d`.
 * @example
 * const norms = model.modules().filter((m) => m instanceof BatchNormBase);
 */
export abstract class BatchNormBase extends Module {
  /** Channels C (dim 1 of the input). */
  declare readonly numFeatures: number;
  /** Added to the variance inside the square root. */
  declare readonly eps: number;
  /** Weight of each new batch in the running averages, or null for a cumulative average. */
  declare readonly momentum: number | null;
  /** Per-channel scale [C] (ones at first), or null without `affine`. */
  declare readonly weight: Tensor | null;
  /** Per-channel shift [C] (zeros at first), or null without `affine`. */
  declare readonly bias: Tensor | null;
  /** Buffer "running_mean" [C] (zeros at first), or null without `trackRunningStats`. */
  declare readonly runningMean: Tensor | null;
  /** Buffer "running_var" [C] (ones at first; unbiased batch variances), or null. */
  declare readonly runningVar: Tensor | null;
  /** Buffer "num_batches_tracked" (int32 scalar): training batches seen, or null. */
  declare readonly numBatchesTracked: Tensor | null;

  /**
   * @param numFeatures - channels C
   * @param options - eps, momentum, affine, trackRunningStats, dtype
   */
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    checkSize(this.constructor.name, "numFeatures", numFeatures, 1);
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(this.constructor.name, `momentum must be in [0, 1] or null, got ${this.momentum}`);
    const dtype = options.dtype ?? getDefaultDtype();
    const affine = options.affine ?? true;
    this.weight = this.registerParameter("weight", affine ? ones([numFeatures], { dtype }) : null);
    this.bias = this.registerParameter("bias", affine ? zeros([numFeatures], { dtype }) : null);
    const track = options.trackRunningStats ?? true;
    this.runningMean = this.registerBuffer("running_mean", track ? zeros([numFeatures], { dtype }) : null);
    this.runningVar = this.registerBuffer("running_var", track ? ones([numFeatures], { dtype }) : null);
    this.numBatchesTracked = this.registerBuffer("num_batches_tracked", track ? full([], 0, { dtype: "int32" }) : null);
  }

  /** Throws unless the input has a dimensionality this layer accepts. */
  protected abstract checkInputDim(x: Tensor): void;

  /**
   * Reset the running statistics to mean 0, variance 1, 0 batches.
   * @example
   * const bn = new BatchNorm1d(3);
   * bn.forward(randn([8, 3]));
   * bn.resetRunningStats();
   * bn.numBatchesTracked!.item(); // 0
   */
  resetRunningStats(): void {
    this.runningMean?.storage.fill(0);
    this.runningVar?.storage.fill(1);
    this.numBatchesTracked?.storage.fill(0);
  }

  /**
   * Normalise per channel: with the batch's statistics in training mode (updating the running
   * ones), with the running statistics in evaluation mode.
   * @example
   * const bn = new BatchNorm1d(4);
   * bn.forward(randn([8, 4])); // training
   * bn.eval().forward(randn([2, 4])); // evaluation
   */
  forward(x: Tensor): Tensor {
    const op = this.constructor.name;
    this.checkInputDim(x);
    if (x.shape[1] !== this.numFeatures) throw new ShapeError(op, `expected ${this.numFeatures} channels in dim 1, got shape ${shapeStr(x.shape)}`);
    // NOTE: validated before num_batches_tracked is incremented (PyTorch increments first), so a
    // rejected batch leaves the running state untouched.
    if (this.training && x.numel / this.numFeatures <= 1) {
      throw new ValueError(op, `Expected more than 1 value per channel when training, got input size ${shapeStr(x.shape)}`);
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      const n = ++this.numBatchesTracked.storage[0]!;
      factor = this.momentum === null ? 1 / n : this.momentum;
    }
    const useBatchStats = this.training || this.runningMean === null;
    const stats = !this.training || this.runningMean !== null;
    return LF.batchNorm(x, stats ? this.runningMean : null, stats ? this.runningVar : null, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: factor,
      eps: this.eps,
    });
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, track_running_stats=${this.runningMean !== null}`;
  }
}

/**
 * Batch normalisation of [N, C] or [N, C, L] input per channel C.
 * @example
 * const bn = new BatchNorm1d(3);
 * bn.forward(randn([8, 3])); // training: batch stats, running stats updated
 * bn.eval().forward(randn([1, 3])); // evaluation: running stats
 */
export class BatchNorm1d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError("BatchNorm1d", `expected 2D or 3D input, got shape ${shapeStr(x.shape)}`);
  }
}

/**
 * Batch normalisation of [N, C, H, W] input per channel C.
 * @example
 * new BatchNorm2d(16).forward(randn([4, 16, 8, 8]));
 */
export class BatchNorm2d extends BatchNormBase {
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError("BatchNorm2d", `expected 4D input, got shape ${shapeStr(x.shape)}`);
  }
}

/**
 * x / max(||x||_p, eps) along `dim` (module form of {@link LF.normalize}); finite value and gradient at x = 0.
 * @example
 * new L2Normalize({ dim: -1 }).forward(embeddings);
 */
export class L2Normalize extends Module {
  /**
   * @param options - p (default 2), dim (default 1), eps (default 1e-12)
   */
  constructor(readonly options: LF.NormalizeOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return LF.normalize(x, this.options);
  }
}

/**
 * sqrt(var(x) + eps) over `dim` (module form of {@link LF.stdPool}); finite gradient for a constant input.
 * @example
 * new StdPool({ dim: 1 }).forward(frames); // [N, T] -> [N]
 */
export class StdPool extends Module {
  /**
   * @param options - dim (required), correction, keepdim, eps
   */
  constructor(readonly options: LF.StdPoolOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return LF.stdPool(x, this.options);
  }
}

/** Options of the `GroupNorm` layer (PyTorch's nn.GroupNorm keywords, camelCase). */
export interface GroupNormLayerOptions {
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-channel weight (ones) and bias (zeros) (default true). */
  affine?: boolean;
  /** Parameter dtype (default: `getDefaultDtype()`). */
  dtype?: FloatDType;
}

/**
 * Group normalisation, as torch.nn.GroupNorm: the channels of x [N, C, ...] split into numGroups
 * groups, each (sample, group) normalised by its own mean and biased variance, then a per-channel
 * weight and bias (state-dict keys "weight", "bias"). Independent of the batch size (no running
 * statistics). A constant group gives `bias` with a finite gradient.
 * @example
 * const gn = new GroupNorm(2, 6);
 * gn.forward(randn([4, 6, 8, 8])).shape; // [4, 6, 8, 8]
 * gn.weight!.shape; // [6]
 */
export class GroupNorm extends Module {
  /** Number of channel groups. */
  declare readonly numGroups: number;
  /** Number of channels (dim 1 of the input). */
  declare readonly numChannels: number;
  /** Added to the variance inside the square root. */
  declare readonly eps: number;
  /** Per-channel scale (ones at first), or null without `affine`. */
  declare readonly weight: Tensor | null;
  /** Per-channel shift (zeros at first), or null without `affine`. */
  declare readonly bias: Tensor | null;
  /**
   * @param numGroups - groups to split the channels into (must divide numChannels)
   * @param numChannels - channels of the input
   * @param options - eps, affine, dtype
   */
  constructor(numGroups: number, numChannels: number, options: GroupNormLayerOptions = {}) {
    super();
    checkSize("GroupNorm", "numGroups", numGroups, 1);
    checkSize("GroupNorm", "numChannels", numChannels, 1);
    if (numChannels % numGroups !== 0) throw new ValueError("GroupNorm", `numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    const eps = options.eps ?? 1e-5;
    if (!(eps >= 0) || !Number.isFinite(eps)) throw new ValueError("GroupNorm", `eps must be a finite number >= 0, got ${eps}`);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = eps;
    const dtype = options.dtype ?? getDefaultDtype();
    const affine = options.affine ?? true;
    this.weight = this.registerParameter("weight", affine ? ones([numChannels], { dtype }) : null);
    this.bias = this.registerParameter("bias", affine ? zeros([numChannels], { dtype }) : null);
  }
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) throw new ShapeError("GroupNorm", `expected input [N, ${this.numChannels}, ...], got ${shapeStr(x.shape)}`);
    return groupNorm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}
