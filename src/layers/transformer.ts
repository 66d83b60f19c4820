/**
 * Transformer blocks as torch.nn: `TransformerEncoderLayer` (post-norm by default, pre-norm
 * with `normFirst`, ReLU or GELU) and `TransformerEncoder` (a stack of copies of one layer and an
 * optional final norm), `TransformerDecoderLayer` / `TransformerDecoder` likewise, with PyTorch's
 * parameter names and state-dict keys.
 */
import { ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import { getDefaultDtype, type FloatDType } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { MultiheadAttention } from "./attention.js";
import { ModuleList } from "./container.js";
import { Dropout } from "./dropout.js";
import { Linear, checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";
import { LayerNorm } from "./norm.js";

/** Options of `TransformerEncoderLayer`. */
export interface TransformerEncoderLayerOptions extends LayerOptions {
  /** Width of the feed-forward block (default 2048, as torch). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block (default 0.1, as torch). */
  dropout?: number;
  /** The feed-forward activation: "relu" (default), "gelu" (exact, erf) or a function. */
  activation?: "relu" | "gelu" | ((x: Tensor) => Tensor);
  /** eps of both LayerNorms (default 1e-5). */
  layerNormEps?: number;
  /** Input and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
  /** Pre-norm: x + attn(norm1(x)), x + ff(norm2(x)) (default false: post-norm, norm1(x + attn(x)), ...). */
  normFirst?: boolean;
}

/** Options of `TransformerEncoderLayer.forward` and `TransformerEncoder.forward`. */
export interface TransformerEncoderForwardOptions {
  /** [S, S] or [batch · heads, S, S]: bool (true = NOT allowed, torch's convention) or additive float. */
  srcMask?: Tensor | null;
  /** [batch, S]: bool (true = padding, ignored) or additive float. */
  srcKeyPaddingMask?: Tensor | null;
  /** Add a causal mask (position i sees positions j <= i). */
  isCausal?: boolean;
}

/** The feed-forward activation of a transformer layer: "relu", "gelu" or a function. */
function activationOf(op: string, act: TransformerEncoderLayerOptions["activation"]): (x: Tensor) => Tensor {
  if (act === "relu") return (x) => F.relu(x);
  if (act === "gelu") return (x) => F.gelu(x);
  if (typeof act === "function") return act;
  throw new ValueError(op, `activation must be "relu", "gelu" or a function, got ${String(act)}`);
}

/**
 * One transformer encoder block (torch.nn.TransformerEncoderLayer): self-attention and a
 * feed-forward block, each with a residual connection, LayerNorm and dropout. Parameters:
 * self_attn.*, linear1.*, linear2.*, norm1.*, norm2.*.
 * @example
 * const layer = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true, normFirst: true, activation: "gelu" });
 * layer.forward(randn([2, 5, 16]), { isCausal: true }).shape; // [2, 5, 16]
 */
export class TransformerEncoderLayer extends Module<[Tensor, TransformerEncoderForwardOptions?], Tensor> {
  /** Model width. */
  declare readonly dModel: number;
  /** Number of attention heads. */
  declare readonly nhead: number;
  /** Whether the norms come first (pre-norm). */
  declare readonly normFirst: boolean;
  /** Whether input and output are [batch, seq, feature]. */
  declare readonly batchFirst: boolean;
  /** The self-attention. */
  declare readonly self_attn: MultiheadAttention;
  /** Feed-forward input projection [dimFeedforward, dModel]. */
  declare readonly linear1: Linear;
  /** Dropout inside the feed-forward block. */
  declare readonly dropout: Dropout;
  /** Feed-forward output projection [dModel, dimFeedforward]. */
  declare readonly linear2: Linear;
  /** The norm around the attention. */
  declare readonly norm1: LayerNorm;
  /** The norm around the feed-forward block. */
  declare readonly norm2: LayerNorm;
  /** Dropout after the attention. */
  declare readonly dropout1: Dropout;
  /** Dropout after the feed-forward block. */
  declare readonly dropout2: Dropout;
  readonly #activation: (x: Tensor) => Tensor;
  readonly #options: TransformerEncoderLayerOptions;

  /**
   * @param dModel - model width
   * @param nhead - number of heads (dModel must be divisible by it)
   * @param options - dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, dtype, generator
   */
  constructor(dModel: number, nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const op = "TransformerEncoderLayer";
    checkSize(op, "dModel", dModel, 1);
    const ff = options.dimFeedforward ?? 2048;
    checkSize(op, "dimFeedforward", ff, 1);
    const p = options.dropout ?? 0.1;
    this.#activation = activationOf(op, options.activation ?? "relu");
    this.#options = { ...options };
    this.dModel = dModel;
    this.nhead = nhead;
    this.normFirst = options.normFirst === true;
    this.batchFirst = options.batchFirst === true;
    const dtype: FloatDType = options.dtype ?? getDefaultDtype();
    const generator: Generator | undefined = options.generator;
    const eps = options.layerNormEps ?? 1e-5;
    this.self_attn = this.registerModule("self_attn", new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst: this.batchFirst, dtype, generator }));
    this.linear1 = this.registerModule("linear1", new Linear(dModel, ff, { dtype, generator }));
    this.dropout = this.registerModule("dropout", new Dropout(p, { generator }));
    this.linear2 = this.registerModule("linear2", new Linear(ff, dModel, { dtype, generator }));
    this.norm1 = this.registerModule("norm1", new LayerNorm(dModel, { eps, dtype }));
    this.norm2 = this.registerModule("norm2", new LayerNorm(dModel, { eps, dtype }));
    this.dropout1 = this.registerModule("dropout1", new Dropout(p, { generator }));
    this.dropout2 = this.registerModule("dropout2", new Dropout(p, { generator }));
  }

  /**
   * A new layer with the same options and a copy of this one's parameters (what torch's
   * TransformerEncoder does with deepcopy).
   * @example
   * const a = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
   * const b = a.clone(); // same values, separate tensors
   */
  clone(): TransformerEncoderLayer {
    const c = new TransformerEncoderLayer(this.dModel, this.nhead, this.#options);
    c.loadStateDict(new Map([...this.stateDict()].map(([k, t]) => [k, t.detach().contiguous()])));
    c.train(this.training);
    return c;
  }

  /**
   * src [S, N, dModel] ([N, S, dModel] with batchFirst; [S, dModel] unbatched) → same shape.
   * @example
   * const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
   * layer.forward(randn([5, 3, 8])).shape; // [5, 3, 8]
   */
  forward(src: Tensor, options: TransformerEncoderForwardOptions = {}): Tensor {
    const sa = (x: Tensor): Tensor =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, { attnMask: options.srcMask ?? null, keyPaddingMask: options.srcKeyPaddingMask ?? null, isCausal: options.isCausal, needWeights: false })[0],
      );
    const ff = (x: Tensor): Tensor => this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.#activation(this.linear1.forward(x)))));
    let x = src;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      x = x.add(ff(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(x.add(sa(x)));
      x = this.norm2.forward(x.add(ff(x)));
    }
    return x;
  }
}

/** Options of `TransformerEncoder`. */
export interface TransformerEncoderOptions {
  /** A final norm applied to the output (state-dict keys norm.*; default none). */
  norm?: Module | null;
}

/**
 * A stack of `numLayers` copies of `encoderLayer` (torch.nn.TransformerEncoder; keys layers.0.*,
 * ..., and norm.* with a final norm). Every copy starts from the given layer's values, as torch's
 * deepcopy.
 * @example
 * const layer = new TransformerEncoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true, normFirst: true });
 * const enc = new TransformerEncoder(layer, 2, { norm: new LayerNorm(16) });
 * enc.forward(randn([2, 5, 16]), { isCausal: true }).shape; // [2, 5, 16]
 */
export class TransformerEncoder extends Module<[Tensor, TransformerEncoderForwardOptions?], Tensor> {
  /** The layers. */
  declare readonly layers: ModuleList<TransformerEncoderLayer>;
  /** The final norm, or null. */
  declare readonly norm: Module | null;
  /** Number of layers. */
  declare readonly numLayers: number;

  /**
   * @param encoderLayer - the layer to copy (it is not itself part of the stack)
   * @param numLayers - number of copies
   * @param options - norm
   */
  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, options: TransformerEncoderOptions = {}) {
    super();
    checkSize("TransformerEncoder", "numLayers", numLayers, 1);
    this.numLayers = numLayers;
    this.layers = this.registerModule("layers", new ModuleList(Array.from({ length: numLayers }, () => encoderLayer.clone())));
    this.norm = this.registerModule("norm", options.norm ?? null);
  }

  /**
   * Run every layer in turn, then the final norm.
   * @example
   * const enc = new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), 2);
   * enc.forward(randn([5, 3, 8])).shape; // [5, 3, 8]
   */
  forward(src: Tensor, options: TransformerEncoderForwardOptions = {}): Tensor {
    let x = src;
    for (const layer of this.layers) x = layer.forward(x, options);
    return this.norm ? (this.norm as unknown as { forward(x: Tensor): Tensor }).forward(x) : x;
  }
}

/** Options of `TransformerDecoderLayer.forward` and `TransformerDecoder.forward`. */
export interface TransformerDecoderForwardOptions {
  /** Self-attention mask [T, T] or [batch · heads, T, T]: bool (true = NOT allowed) or additive float. */
  tgtMask?: Tensor | null;
  /** Cross-attention mask [T, S] or [batch · heads, T, S]: bool (true = NOT allowed) or additive float. */
  memoryMask?: Tensor | null;
  /** [batch, T]: bool (true = padding) or additive float. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [batch, S]: bool (true = padding) or additive float. */
  memoryKeyPaddingMask?: Tensor | null;
  /** Add a causal mask to the self-attention. */
  tgtIsCausal?: boolean;
}

/**
 * One transformer decoder block (torch.nn.TransformerDecoderLayer): self-attention, attention over
 * `memory` (the encoder's output) and a feed-forward block, each with a residual connection,
 * LayerNorm and dropout. Parameters: self_attn.*, multihead_attn.*, linear1.*, linear2.*,
 * norm1.*, norm2.*, norm3.*. Options as `TransformerEncoderLayer`.
 * @example
 * const layer = new TransformerDecoderLayer(16, 4, { dimFeedforward: 32, batchFirst: true });
 * layer.forward(randn([2, 5, 16]), randn([2, 7, 16]), { tgtIsCausal: true }).shape; // [2, 5, 16]
 */
export class TransformerDecoderLayer extends Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor> {
  /** Model width. */
  declare readonly dModel: number;
  /** Number of attention heads. */
  declare readonly nhead: number;
  /** Whether the norms come first (pre-norm). */
  declare readonly normFirst: boolean;
  /** The self-attention. */
  declare readonly self_attn: MultiheadAttention;
  /** The attention over the memory. */
  declare readonly multihead_attn: MultiheadAttention;
  /** Feed-forward input projection. */
  declare readonly linear1: Linear;
  /** Dropout inside the feed-forward block. */
  declare readonly dropout: Dropout;
  /** Feed-forward output projection. */
  declare readonly linear2: Linear;
  /** The norm around the self-attention. */
  declare readonly norm1: LayerNorm;
  /** The norm around the cross-attention. */
  declare readonly norm2: LayerNorm;
  /** The norm around the feed-forward block. */
  declare readonly norm3: LayerNorm;
  /** Dropout after the self-attention. */
  declare readonly dropout1: Dropout;
  /** Dropout after the cross-attention. */
  declare readonly dropout2: Dropout;
  /** Dropout after the feed-forward block. */
  declare readonly dropout3: Dropout;
  readonly #activation: (x: Tensor) => Tensor;
  readonly #options: TransformerEncoderLayerOptions;

  /**
   * @param dModel - model width
   * @param nhead - number of heads (dModel must be divisible by it)
   * @param options - dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, dtype, generator
   */
  constructor(dModel: number, nhead: number, options: TransformerEncoderLayerOptions = {}) {
    super();
    const op = "TransformerDecoderLayer";
    checkSize(op, "dModel", dModel, 1);
    const ff = options.dimFeedforward ?? 2048;
    checkSize(op, "dimFeedforward", ff, 1);
    const p = options.dropout ?? 0.1;
    this.#activation = activationOf(op, options.activation ?? "relu");
    this.#options = { ...options };
    this.dModel = dModel;
    this.nhead = nhead;
    this.normFirst = options.normFirst === true;
    const dtype: FloatDType = options.dtype ?? getDefaultDtype();
    const generator = options.generator;
    const batchFirst = options.batchFirst === true;
    const eps = options.layerNormEps ?? 1e-5;
    this.self_attn = this.registerModule("self_attn", new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst, dtype, generator }));
    this.multihead_attn = this.registerModule("multihead_attn", new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst, dtype, generator }));
    this.linear1 = this.registerModule("linear1", new Linear(dModel, ff, { dtype, generator }));
    this.dropout = this.registerModule("dropout", new Dropout(p, { generator }));
    this.linear2 = this.registerModule("linear2", new Linear(ff, dModel, { dtype, generator }));
    this.norm1 = this.registerModule("norm1", new LayerNorm(dModel, { eps, dtype }));
    this.norm2 = this.registerModule("norm2", new LayerNorm(dModel, { eps, dtype }));
    this.norm3 = this.registerModule("norm3", new LayerNorm(dModel, { eps, dtype }));
    this.dropout1 = this.registerModule("dropout1", new Dropout(p, { generator }));
    this.dropout2 = this.registerModule("dropout2", new Dropout(p, { generator }));
    this.dropout3 = this.registerModule("dropout3", new Dropout(p, { generator }));
  }

  /**
   * A new layer with the same options and a copy of this one's parameters.
   * @example
   * const b = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }).clone();
   */
  clone(): TransformerDecoderLayer {
    const c = new TransformerDecoderLayer(this.dModel, this.nhead, this.#options);
    c.loadStateDict(new Map([...this.stateDict()].map(([k, t]) => [k, t.detach().contiguous()])));
    c.train(this.training);
    return c;
  }

  /**
   * tgt [T, N, dModel], memory [S, N, dModel] (batch first with batchFirst) → [T, N, dModel].
   * @example
   * const layer = new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
   * layer.forward(randn([5, 3, 8]), randn([6, 3, 8])).shape; // [5, 3, 8]
   */
  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderForwardOptions = {}): Tensor {
    const sa = (x: Tensor): Tensor =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, { attnMask: options.tgtMask ?? null, keyPaddingMask: options.tgtKeyPaddingMask ?? null, isCausal: options.tgtIsCausal, needWeights: false })[0],
      );
    const ca = (x: Tensor): Tensor =>
      this.dropout2.forward(this.multihead_attn.forward(x, memory, memory, { attnMask: options.memoryMask ?? null, keyPaddingMask: options.memoryKeyPaddingMask ?? null, needWeights: false })[0]);
    const ff = (x: Tensor): Tensor => this.dropout3.forward(this.linear2.forward(this.dropout.forward(this.#activation(this.linear1.forward(x)))));
    let x = tgt;
    if (this.normFirst) {
      x = x.add(sa(this.norm1.forward(x)));
      x = x.add(ca(this.norm2.forward(x)));
      x = x.add(ff(this.norm3.forward(x)));
    } else {
      x = this.norm1.forward(x.add(sa(x)));
      x = this.norm2.forward(x.add(ca(x)));
      x = this.norm3.forward(x.add(ff(x)));
    }
    return x;
  }
}

/**
 * A stack of `numLayers` copies of `decoderLayer` (torch.nn.TransformerDecoder; keys layers.0.*,
 * ..., and norm.* with a final norm).
 * @example
 * const dec = new TransformerDecoder(new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }), 2, { norm: new LayerNorm(8) });
 * dec.forward(randn([5, 3, 8]), randn([6, 3, 8]), { tgtIsCausal: true }).shape; // [5, 3, 8]
 */
export class TransformerDecoder extends Module<[Tensor, Tensor, TransformerDecoderForwardOptions?], Tensor> {
  /** The layers. */
  declare readonly layers: ModuleList<TransformerDecoderLayer>;
  /** The final norm, or null. */
  declare readonly norm: Module | null;
  /** Number of layers. */
  declare readonly numLayers: number;

  /**
   * @param decoderLayer - the layer to copy (it is not itself part of the stack)
   * @param numLayers - number of copies
   * @param options - norm
   */
  constructor(decoderLayer: TransformerDecoderLayer, numLayers: number, options: TransformerEncoderOptions = {}) {
    super();
    checkSize("TransformerDecoder", "numLayers", numLayers, 1);
    this.numLayers = numLayers;
    this.layers = this.registerModule("layers", new ModuleList(Array.from({ length: numLayers }, () => decoderLayer.clone())));
    this.norm = this.registerModule("norm", options.norm ?? null);
  }

  /**
   * Run every layer in turn on tgt (each attending to `memory`), then the final norm.
   * @example
   * const dec = new TransformerDecoder(new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }), 2);
   * dec.forward(randn([5, 3, 8]), randn([6, 3, 8])).shape; // [5, 3, 8]
   */
  forward(tgt: Tensor, memory: Tensor, options: TransformerDecoderForwardOptions = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers) x = layer.forward(x, memory, options);
    return this.norm ? (this.norm as unknown as { forward(x: Tensor): Tensor }).forward(x) : x;
  }
}
