/**
 * Loss modules: thin wrappers holding the options of the functions in functional.ts. Class weights
 * are registered as buffers named as PyTorch's ("weight", "pos_weight"), so state dicts match.
 */
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import { Module, parameter } from "./module.js";

/**
 * A module taking (input, target) and returning the loss; the base of the loss modules.
 * @example
 * const criterion: Loss = new MSELoss();
 * criterion.forward(pred, target).backward();
 */
export abstract class Loss extends Module<[Tensor, Tensor], Tensor> {}

/** A private copy that owns its storage, detached from any graph (buffers are not trained). */
function ownBuffer(t: Tensor | null | undefined): Tensor | null {
  return t ? parameter(t).requiresGrad_(false) : null;
}

/**
 * Mean absolute error (see {@link LF.l1Loss}).
 * @example
 * new L1Loss().forward(pred, target);
 */
export class L1Loss extends Loss {
  /**
   * @param options - reduction (default "mean")
   */
  constructor(readonly options: LF.ReductionOptions = {}) {
    super();
  }
  /**
   * The mean (or sum, or per-element) |input - target|; shapes must match.
   * @example
   * new L1Loss().forward(pred, target).item();
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.l1Loss(input, target, this.options);
  }
}

/**
 * Mean squared error (see {@link LF.mseLoss}).
 * @example
 * new MSELoss({ reduction: "sum" }).forward(pred, target);
 */
export class MSELoss extends Loss {
  /**
   * @param options - reduction (default "mean")
   */
  constructor(readonly options: LF.ReductionOptions = {}) {
    super();
  }
  /**
   * The mean (or sum, or per-element) (input - target)²; shapes must match.
   * @example
   * new MSELoss().forward(pred, target).backward();
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.mseLoss(input, target, this.options);
  }
}

/**
 * Huber loss (see {@link LF.huberLoss}).
 * @example
 * new HuberLoss({ delta: 0.5 }).forward(pred, target);
 */
export class HuberLoss extends Loss {
  /**
   * @param options - delta (default 1), reduction
   */
  constructor(readonly options: LF.HuberOptions = {}) {
    super();
  }
  /**
   * The Huber loss of input against target; shapes must match.
   * @example
   * new HuberLoss().forward(pred, target);
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.huberLoss(input, target, this.options);
  }
}

/**
 * Smooth L1 loss (see {@link LF.smoothL1Loss}).
 * @example
 * new SmoothL1Loss({ beta: 0.5 }).forward(pred, target);
 */
export class SmoothL1Loss extends Loss {
  /**
   * @param options - beta (default 1), reduction
   */
  constructor(readonly options: LF.SmoothL1Options = {}) {
    super();
  }
  /**
   * The smooth L1 loss of input against target; shapes must match.
   * @example
   * new SmoothL1Loss().forward(pred, target);
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.smoothL1Loss(input, target, this.options);
  }
}

/**
 * Cross-entropy from logits (see {@link LF.crossEntropy}); `weight` is a buffer.
 * @example
 * new CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, labels);
 */
export class CrossEntropyLoss extends Loss {
  /** Per-class weights [C] (buffer "weight"), or null. */
  declare readonly weight: Tensor | null;
  /** The other options: ignoreIndex, labelSmoothing, reduction. */
  declare readonly options: Omit<LF.CrossEntropyOptions, "weight">;
  /**
   * @param options - weight (copied into a buffer), ignoreIndex (default -100), labelSmoothing (default 0), reduction
   */
  constructor(options: LF.CrossEntropyOptions = {}) {
    super();
    const { weight, ...rest } = options;
    this.weight = this.registerBuffer("weight", ownBuffer(weight));
    this.options = rest;
  }
  /**
   * The cross-entropy of logits [N, C, ...] against int32 classes [N, ...] or class probabilities.
   * @example
   * new CrossEntropyLoss().forward(logits, y).backward();
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.crossEntropy(input, target, { ...this.options, weight: this.weight });
  }
}

/**
 * Negative log-likelihood of log-probabilities (see {@link LF.nllLoss}); `weight` is a buffer.
 * @example
 * new NLLLoss().forward(logits.logSoftmax(1), labels);
 */
export class NLLLoss extends Loss {
  /** Per-class weights [C] (buffer "weight"), or null. */
  declare readonly weight: Tensor | null;
  /** The other options: ignoreIndex, reduction. */
  declare readonly options: Omit<LF.NllLossOptions, "weight">;
  /**
   * @param options - weight (copied into a buffer), ignoreIndex (default -100), reduction
   */
  constructor(options: LF.NllLossOptions = {}) {
    super();
    const { weight, ...rest } = options;
    this.weight = this.registerBuffer("weight", ownBuffer(weight));
    this.options = rest;
  }
  /**
   * The negative log-likelihood of log-probabilities [N, C, ...] at int32 classes [N, ...].
   * @example
   * new NLLLoss().forward(logits.logSoftmax(1), y);
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.nllLoss(input, target, { ...this.options, weight: this.weight });
  }
}

/**
 * Binary cross-entropy from logits (see {@link LF.binaryCrossEntropyWithLogits}); `weight` and
 * `pos_weight` are buffers.
 * @example
 * new BCEWithLogitsLoss({ posWeight: tensor([2]) }).forward(logits, targets);
 */
export class BCEWithLogitsLoss extends Loss {
  /** Per-element weight (buffer "weight"), or null. */
  declare readonly weight: Tensor | null;
  /** Weight of the positive term (buffer "pos_weight"), or null. */
  declare readonly posWeight: Tensor | null;
  /** "mean" (when undefined), "sum" or "none". */
  declare readonly reduction: LF.Reduction | undefined;
  /**
   * @param options - weight, posWeight (both copied into buffers), reduction
   */
  constructor(options: LF.BceWithLogitsOptions = {}) {
    super();
    this.weight = this.registerBuffer("weight", ownBuffer(options.weight));
    this.posWeight = this.registerBuffer("pos_weight", ownBuffer(options.posWeight));
    this.reduction = options.reduction;
  }
  /**
   * The binary cross-entropy of logits against targets in [0, 1] of the same shape.
   * @example
   * new BCEWithLogitsLoss().forward(logits, targets);
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}

/**
 * Binary cross-entropy of probabilities (see {@link LF.binaryCrossEntropy}); `weight` is a buffer.
 * @example
 * new BCELoss().forward(probs, targets);
 */
export class BCELoss extends Loss {
  /** Per-element weight (buffer "weight"), or null. */
  declare readonly weight: Tensor | null;
  /** "mean" (when undefined), "sum" or "none". */
  declare readonly reduction: LF.Reduction | undefined;
  /**
   * @param options - weight (copied into a buffer), reduction
   */
  constructor(options: LF.BceOptions = {}) {
    super();
    this.weight = this.registerBuffer("weight", ownBuffer(options.weight));
    this.reduction = options.reduction;
  }
  /**
   * The binary cross-entropy of probabilities against targets in [0, 1] of the same shape.
   * @example
   * new BCELoss().forward(probs, targets);
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * Kullback-Leibler divergence (see {@link LF.klDiv}).
 * @example
 * new KLDivLoss({ reduction: "batchmean" }).forward(logq, p);
 */
export class KLDivLoss extends Loss {
  /**
   * @param options - reduction (default "mean"; "batchmean" is the true KL), logTarget
   */
  constructor(readonly options: LF.KlDivOptions = {}) {
    super();
  }
  /**
   * The KL divergence of the target distribution from the log-probabilities `input`.
   * @example
   * new KLDivLoss({ reduction: "batchmean" }).forward(logq, p);
   */
  forward(input: Tensor, target: Tensor): Tensor {
    return LF.klDiv(input, target, this.options);
  }
}

/**
 * Cosine similarity along `dim` (see {@link LF.cosineSimilarity}); as torch's nn.CosineSimilarity.
 * @example
 * new CosineSimilarity({ dim: 1 }).forward(a, b);
 */
export class CosineSimilarity extends Module<[Tensor, Tensor], Tensor> {
  /**
   * @param options - dim (default 1), eps (default 1e-8)
   */
  constructor(readonly options: LF.CosineSimilarityOptions = {}) {
    super();
  }
  /**
   * The cosine similarity of `a` and `b` (broadcast) along `dim`.
   * @example
   * new CosineSimilarity().forward(a, b).shape; // [2]
   */
  forward(a: Tensor, b: Tensor): Tensor {
    return LF.cosineSimilarity(a, b, this.options);
  }
}
