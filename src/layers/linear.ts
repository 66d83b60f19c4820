import { ValueError } from "../errors.js";
import { zeros } from "../tensor/create.js";
import { getDefaultDtype, type FloatDType } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import * as init from "./init.js";
import { Module } from "./module.js";

/** Options shared by layers that own parameters. */
export interface LayerOptions {
  /** Parameter dtype (default: `getDefaultDtype()`, "float32" unless `setDefaultDtype` changed it). */
  dtype?: FloatDType;
  /** Generator for the default initialisation (default: the seeded default generator). */
  generator?: Generator;
}

/** @internal */
export function checkSize(op: string, name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new ValueError(op, `${name} must be an integer >= ${min}, got ${v}`);
}

/** Options of the `Linear` layer. */
export interface LinearOptions extends LayerOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * y = x Wᵀ + b. weight [out, in] and bias [out] start as PyTorch's: kaiming_uniform(a = √5),
 * i.e. U(-1/√in, 1/√in), for both.
 * @example
 * const fc = new Linear(4, 3);
 * fc.forward(randn([2, 4])).shape; // [2, 3]
 */
export class Linear extends Module {
  /** Size of each input sample (the last dim of the input). */
  declare readonly inFeatures: number;
  /** Size of each output sample. */
  declare readonly outFeatures: number;
  /** The weight [outFeatures, inFeatures]. */
  declare readonly weight: Tensor;
  /** The bias [outFeatures], or null with `bias: false`. */
  declare readonly bias: Tensor | null;

  /**
   * @param inFeatures - size of each input sample
   * @param outFeatures - size of each output sample
   * @param options - `bias` (default true), `dtype` (default float32), `generator` for the initialisation
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkSize("Linear", "inFeatures", inFeatures);
    checkSize("Linear", "outFeatures", outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const dtype = options.dtype ?? getDefaultDtype();
    this.weight = this.registerParameter("weight", zeros([outFeatures, inFeatures], { dtype }));
    this.bias = this.registerParameter("bias", options.bias === false ? null : zeros([outFeatures], { dtype }));
    this.resetParameters(options.generator);
  }

  /**
   * Re-draw the parameters with PyTorch's default initialisation.
   * @example
   * const fc = new Linear(4, 2);
   * fc.resetParameters(new Generator(0)); // reproducible weights
   */
  resetParameters(generator?: Generator): void {
    init.kaimingUniform(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      init.uniform(this.bias, { a: -bound, b: bound, generator });
    }
  }

  /**
   * x [..., inFeatures] → [..., outFeatures].
   * @example
   * new Linear(4, 3).forward(x).shape; // [2, 3]
   */
  forward(x: Tensor): Tensor {
    return LF.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Returns its input.
 * @example
 * new Identity().forward(x) === x; // true
 */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * Flattens dims startDim..endDim (default 1..-1: everything but the batch dim).
 * @example
 * new Flatten().forward(zeros([2, 3, 4])).shape; // [2, 12]
 */
export class Flatten extends Module {
  constructor(
    /** First dim to flatten (default 1: keep the batch dim). */
    readonly startDim = 1,
    /** Last dim to flatten (default -1). */
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
