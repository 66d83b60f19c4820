import * as F from "../ops/index.js";
import { ValueError } from "../errors.js";
import { UNARY_DEFAULTS } from "../kernels/backend.js";
import type { Tensor } from "../tensor/tensor.js";
import { Module } from "./module.js";

function checkDim(op: string, dim: number): void {
  if (!Number.isInteger(dim)) throw new ValueError(op, `dim must be an integer, got ${dim}`);
}

/**
 * max(x, 0), with gradient 0 at 0.
 * @example
 * new ReLU().forward(tensor([-1, 2])).toArray(); // [0, 2]
 */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * x for x > 0, negativeSlope * x otherwise (default slope 0.01).
 * @example
 * new LeakyReLU(0.2).forward(tensor([-1])).toArray(); // [-0.2]
 */
export class LeakyReLU extends Module {
  /**
   * @param negativeSlope - the slope for x <= 0 (default 0.01)
   */
  constructor(readonly negativeSlope: number = UNARY_DEFAULTS.alpha) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/**
 * Gaussian error linear unit, exact (default) or the "tanh" approximation.
 * @example
 * new GELU({ approximate: "tanh" }).forward(x);
 */
export class GELU extends Module {
  /**
   * @param options - approximate: "none" (default) or "tanh"
   */
  constructor(readonly options: F.GeluOptions = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.gelu(this.options);
  }
}

/**
 * Sigmoid linear unit (swish): x σ(x) ({@link F.silu}).
 * @example
 * new SiLU().forward(tensor([0, 1])).toArray(); // [0, 0.7310...]
 */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

/**
 * Hyperbolic tangent.
 * @example
 * new Tanh().forward(x);
 */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/**
 * Logistic sigmoid (stable for large |x|).
 * @example
 * new Sigmoid().forward(x);
 */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/**
 * Softmax along `dim` (required: PyTorch's implicit dim is deprecated for being a trap).
 * @example
 * new Softmax(1).forward(logits); // rows sum to 1
 */
export class Softmax extends Module {
  /**
   * @param dim - the dim the probabilities sum to 1 along
   */
  constructor(readonly dim: number) {
    super();
    checkDim("Softmax", dim);
  }
  forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * log(softmax(x)) along `dim`, computed stably as x - logsumexp(x).
 * @example
 * new LogSoftmax(1).forward(logits);
 */
export class LogSoftmax extends Module {
  /**
   * @param dim - the dim of the softmax
   */
  constructor(readonly dim: number) {
    super();
    checkDim("LogSoftmax", dim);
  }
  forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

// ------------------------------------------------------------------ issue 20 activations
/**
 * Exponential linear unit: x for x > 0, `alpha (e^x - 1)` otherwise ({@link F.elu}).
 * @example
 * new ELU().forward(tensor([-1000, 2])).toArray(); // [-1, 2]
 */
export class ELU extends Module {
  /**
   * @param alpha - the limit -alpha for x → -Infinity (default 1)
   */
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Continuously differentiable ELU: `max(0, x) + min(0, alpha (e^(x / alpha) - 1))` ({@link F.celu}).
 * @example
 * new CELU(2).forward(tensor([-1000, 2])).toArray(); // [-2, 2]
 */
export class CELU extends Module {
  /**
   * @param alpha - not 0 (default 1)
   */
  constructor(readonly alpha = 1) {
    super();
    if (alpha === 0) throw new ValueError("CELU", "alpha must not be 0 (it divides x)");
  }
  forward(x: Tensor): Tensor {
    return F.celu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Scaled ELU with the fixed self-normalizing constants ({@link F.selu}).
 * @example
 * new SELU().forward(tensor([0, 1])).toArray(); // [0, 1.0507...]
 */
export class SELU extends Module {
  forward(x: Tensor): Tensor {
    return F.selu(x);
  }
}

/**
 * `x tanh(softplus(x))` ({@link F.mish}).
 * @example
 * new Mish().forward(tensor([0, 1])).toArray(); // [0, 0.8650...]
 */
export class Mish extends Module {
  forward(x: Tensor): Tensor {
    return F.mish(x);
  }
}

/**
 * `min(max(x, 0), 6)` ({@link F.relu6}; gradient 0 at 0 and 6).
 * @example
 * new ReLU6().forward(tensor([-1, 3, 9])).toArray(); // [0, 3, 6]
 */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return F.relu6(x);
  }
}

/**
 * x clamped to [minVal, maxVal] ({@link F.hardtanh}; no gradient at the bounds themselves).
 * @example
 * new Hardtanh(-2, 2).forward(tensor([-3, 1, 3])).toArray(); // [-2, 1, 2]
 */
export class Hardtanh extends Module {
  /**
   * @param minVal - the lower bound (default -1)
   * @param maxVal - the upper bound (default 1), not below minVal
   */
  constructor(readonly minVal = -1, readonly maxVal = 1) {
    super();
    if (!(minVal <= maxVal)) throw new ValueError("Hardtanh", `minVal (${minVal}) must not be greater than maxVal (${maxVal})`);
  }
  forward(x: Tensor): Tensor {
    return F.hardtanh(x, this.minVal, this.maxVal);
  }
  override extraRepr(): string {
    return `min_val=${this.minVal}, max_val=${this.maxVal}`;
  }
}

/**
 * Piecewise-linear sigmoid ({@link F.hardsigmoid}).
 * @example
 * new Hardsigmoid().forward(tensor([-4, 0, 4])).toArray(); // [0, 0.5, 1]
 */
export class Hardsigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.hardsigmoid(x);
  }
}

/**
 * `x hardsigmoid(x)` ({@link F.hardswish}).
 * @example
 * new Hardswish().forward(tensor([-4, 4])).toArray(); // [0, 4]
 */
export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return F.hardswish(x);
  }
}

/**
 * `x / (1 + |x|)` ({@link F.softsign}).
 * @example
 * new Softsign().forward(tensor([-1, 3])).toArray(); // [-0.5, 0.75]
 */
export class Softsign extends Module {
  forward(x: Tensor): Tensor {
    return F.softsign(x);
  }
}

/**
 * Softmin along `dim` (required, as {@link Softmax}): `softmax(-x)`.
 * @example
 * new Softmin(0).forward(tensor([0, Math.log(3)])).toArray(); // [0.75, 0.25]
 */
export class Softmin extends Module {
  /**
   * @param dim - the dim the weights sum to 1 along
   */
  constructor(readonly dim: number) {
    super();
    checkDim("Softmin", dim);
  }
  forward(x: Tensor): Tensor {
    return F.softmin(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
