import { IndexError } from "../errors.js";
import { zeros } from "../tensor/create.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import * as LF from "./functional.js";
import * as init from "./init.js";
import { checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";

export interface EmbeddingLayerOptions extends LayerOptions {
  /** This row starts at zero and never receives a gradient (as PyTorch's padding_idx). */
  paddingIdx?: number | null;
}

/**
 * A lookup table [numEmbeddings, embeddingDim] indexed by int32 tensors; initialised N(0, 1) as PyTorch.
 * @example
 * const emb = new Embedding(100, 16);
 * emb.forward(tensor([[1, 5, 7]], { dtype: "int32" })).shape; // [1, 3, 16]
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly weight: Tensor;
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
    this.weight = this.registerParameter("weight", zeros([numEmbeddings, embeddingDim], { dtype: options.dtype ?? "float32" }));
    this.resetParameters(options.generator);
  }
  /** Re-draw N(0, 1) and zero the padding row. */
  resetParameters(generator?: Generator): void {
    init.normal(this.weight, { generator });
    if (this.paddingIdx !== null) this.weight.storage.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
  }
  forward(input: Tensor): Tensor {
    return LF.embedding(input, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ""}`;
  }
}
