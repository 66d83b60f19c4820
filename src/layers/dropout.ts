import { ValueError } from "../errors.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import { Module } from "./module.js";

/** Options of the `Dropout` layer. */
export interface DropoutLayerOptions {
  /** Source of randomness (default: the seeded default generator). */
  generator?: Generator;
}

/**
 * Inverted dropout in training mode (zero with probability p, scale the rest by 1 / (1 - p));
 * the identity in evaluation mode.
 * @example
 * const drop = new Dropout(0.2, { generator: new Generator(1) });
 * drop.eval().forward(x) === x; // true
 */
export class Dropout extends Module {
  /** Probability of zeroing an element. */
  declare readonly p: number;
  readonly #generator: Generator | undefined;
  /**
   * @param p - probability of zeroing an element, in [0, 1] (default 0.5)
   * @param options - generator
   */
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError("Dropout", `p must be in [0, 1], got ${p}`);
    this.p = p;
    this.#generator = options.generator;
  }
  forward(x: Tensor): Tensor {
    return LF.dropout(x, { p: this.p, training: this.training, generator: this.#generator });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
