import { ValueError } from "../errors.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import { dropout1d, dropout2d, dropout3d, type ChannelDropoutOptions } from "./functional-spatial.js";
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

/**
 * The base of the channel dropout layers (PyTorch's _DropoutNd): p, the generator, and the
 * function each calls in training mode.
 * @example
 * new Dropout2d(0.1) instanceof DropoutNd; // true
 */
export abstract class DropoutNd extends Module {
  /** Probability of zeroing a whole channel. */
  declare readonly p: number;
  readonly #generator: Generator | undefined;
  constructor(op: string, p: number, options: DropoutLayerOptions) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(op, `p must be in [0, 1], got ${p}`);
    this.p = p;
    this.#generator = options.generator;
  }
  /** The channel dropout function of this layer. */
  protected abstract drop(x: Tensor, o: ChannelDropoutOptions): Tensor;
  forward(x: Tensor): Tensor {
    return this.drop(x, { p: this.p, training: this.training, generator: this.#generator });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/**
 * Channel dropout for [N, C, L] (or [C, L]) input, as torch.nn.Dropout1d: in training mode each
 * whole channel is zeroed with probability p and the rest scaled by 1 / (1 - p); the identity in
 * evaluation mode.
 * @example
 * new Dropout1d(0.3, { generator: new Generator(1) }).forward(randn([2, 4, 10])).shape; // [2, 4, 10]
 */
export class Dropout1d extends DropoutNd {
  /**
   * @param p - probability of zeroing a channel, in [0, 1] (default 0.5)
   * @param options - generator
   */
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super("Dropout1d", p, options);
  }
  protected drop(x: Tensor, o: ChannelDropoutOptions): Tensor {
    return dropout1d(x, o);
  }
}

/**
 * Channel dropout for [N, C, H, W] (or unbatched [C, H, W]) input, as torch.nn.Dropout2d: in
 * training mode each whole feature map is zeroed with probability p and the rest scaled by
 * 1 / (1 - p); the identity in evaluation mode. (A 3-D input is one unbatched sample, as in
 * PyTorch 2; torch 1.13 treats it as [N, C, L] with a warning.)
 * @example
 * const maps = randn([2, 4, 5, 5]);
 * new Dropout2d(0.2).eval().forward(maps) === maps; // true
 */
export class Dropout2d extends DropoutNd {
  /**
   * @param p - probability of zeroing a channel, in [0, 1] (default 0.5)
   * @param options - generator
   */
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super("Dropout2d", p, options);
  }
  protected drop(x: Tensor, o: ChannelDropoutOptions): Tensor {
    return dropout2d(x, o);
  }
}

/**
 * Channel dropout for [N, C, D, H, W] (or unbatched [C, D, H, W]) input, as torch.nn.Dropout3d.
 * @example
 * new Dropout3d(0.5, { generator: new Generator(2) }).forward(randn([1, 4, 2, 3, 3])).shape; // [1, 4, 2, 3, 3]
 */
export class Dropout3d extends DropoutNd {
  /**
   * @param p - probability of zeroing a channel, in [0, 1] (default 0.5)
   * @param options - generator
   */
  constructor(p = 0.5, options: DropoutLayerOptions = {}) {
    super("Dropout3d", p, options);
  }
  protected drop(x: Tensor, o: ChannelDropoutOptions): Tensor {
    return dropout3d(x, o);
  }
}
