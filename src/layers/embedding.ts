import { IndexError } from "../errors.js";
import { zeros } from "../tensor/create.js";
import { getDefaultDtype } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import * as init from "./init.js";
import { checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";

/** Options of the `Embedding` layer. */
export interface EmbeddingLayerOptions extends LayerOptions {
  /** This row starts at zero and never receives a gradient (as PyTorch's padding_idx; default null: none). */
  paddingIdx?: number | null;
}

/**
 * A lookup table [numEmbeddings, embeddingDim] indexed by int32 tensors; initialised N(0, 1) as PyTorch.
 * @example
 * const emb = new Embedding(100, 16);
 * emb.forward(tensor([[1, 5, 7]], { dtype: "int32" })).shape; // [1, 3, 16]
 */
export class Embedding extends Module {
  /** Number of rows (the vocabulary size). */
  declare readonly numEmbeddings: number;
  /** Size of each row. */
  declare readonly embeddingDim: number;
  /** The row that stays zero and gets no gradient (normalised to >= 0), or null. */
  declare readonly paddingIdx: number | null;
  /** The table [numEmbeddings, embeddingDim]. */
  declare readonly weight: Tensor;
  /**
   * @param numEmbeddings - number of rows
   * @param embeddingDim - size of each row
   * @param options - paddingIdx, dtype, generator
   */
  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingLayerOptions = {}) {
    super();
    checkSize("Embedding", "numEmbeddings", numEmbeddings);
    checkSize("Embedding", "embeddingDim", embeddingDim);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = options.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        throw new IndexError("Embedding", `paddingIdx ${pad} must be within [-${numEmbeddings}, ${numEmbeddings})`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = this.registerParameter("weight", zeros([numEmbeddings, embeddingDim], { dtype: options.dtype ?? getDefaultDtype() }));
    this.resetParameters(options.generator);
  }
  /**
   * Re-draw N(0, 1) and zero the padding row.
   * @example
   * const emb = new Embedding(10, 4, { paddingIdx: 0 });
   * emb.resetParameters(new Generator(1));
   */
  resetParameters(generator?: Generator): void {
    init.normal(this.weight, { generator });
    if (this.paddingIdx !== null) this.weight.storage.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
  }
  /**
   * Look up rows: int32 indices of any shape [...] → [..., embeddingDim].
   * @example
   * new Embedding(10, 4).forward(tensor([1, 2, 1], { dtype: "int32" })).shape; // [3, 4]
   */
  forward(input: Tensor): Tensor {
    return LF.embedding(input, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ""}`;
  }
}
