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
