/**
 * The models of the sequence examples (`npm run sequence`), built from the library's layers:
 * a character-level causal transformer language model, and classifiers that read an 8x8 digit
 * row by row (8 steps of 8 pixels) with an LSTM, a GRU or a transformer encoder.
 */
import { Embedding, GRU, LSTM, LayerNorm, Linear, Module, TransformerEncoder, TransformerEncoderLayer, arange, type Tensor } from "../src/index.js";

/** Sizes of the character-level language model. */
export interface CharLmConfig {
  vocab: number;
  context: number;
  dModel: number;
  heads: number;
  layers: number;
  ff: number;
}

/**
 * GPT-style: token + learned position embeddings, pre-norm causal encoder blocks (GELU), a final
 * LayerNorm and a linear head. forward(ids [B, T] int32) -> logits [B, T, vocab].
 */
export class CharTransformer extends Module {
  readonly tok: Embedding;
  readonly pos: Embedding;
  readonly encoder: TransformerEncoder;
  readonly norm: LayerNorm;
  readonly head: Linear;
  constructor(readonly config: CharLmConfig) {
    super();
    const { vocab, context, dModel, heads, layers, ff } = config;
    this.tok = this.registerModule("tok", new Embedding(vocab, dModel));
    this.pos = this.registerModule("pos", new Embedding(context, dModel));
    const layer = new TransformerEncoderLayer(dModel, heads, { dimFeedforward: ff, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true });
    this.encoder = this.registerModule("encoder", new TransformerEncoder(layer, layers));
    this.norm = this.registerModule("norm", new LayerNorm(dModel));
    this.head = this.registerModule("head", new Linear(dModel, vocab));
  }
  forward(ids: Tensor): Tensor {
    const t = ids.shape[1]!;
    const x = this.tok.forward(ids).add(this.pos.forward(arange(t)));
    return this.head.forward(this.norm.forward(this.encoder.forward(x, { isCausal: true })));
  }
}

export const SEQ_MODELS = ["lstm", "gru", "transformer"] as const;
export type SeqModelKind = (typeof SEQ_MODELS)[number];

/** Reads x [B, 8, 8] as 8 steps of 8 features; the last hidden state goes to a linear head. */
export class RecurrentClassifier extends Module {
  readonly rnn: LSTM | GRU;
  readonly head: Linear;
  constructor(kind: "lstm" | "gru", input: number, hidden: number, classes: number) {
    super();
    this.rnn = this.registerModule("rnn", kind === "lstm" ? new LSTM(input, hidden, { batchFirst: true }) : new GRU(input, hidden, { batchFirst: true }));
    this.head = this.registerModule("head", new Linear(hidden, classes));
  }
  forward(x: Tensor): Tensor {
    const [out] = this.rnn.forward(x) as [Tensor, unknown];
    const last = out.select(1, out.shape[1]! - 1); // [B, hidden]
    return this.head.forward(last);
  }
}

/** Reads x [B, 8, 8] as 8 tokens: a linear embedding + learned positions, pre-norm encoder blocks, a final LayerNorm, then the 8 token vectors flattened into a linear head. */
export class TransformerClassifier extends Module {
  readonly embed: Linear;
  readonly pos: Embedding;
  readonly encoder: TransformerEncoder;
  readonly norm: LayerNorm;
  readonly head: Linear;
  constructor(input: number, steps: number, dModel: number, heads: number, layers: number, classes: number) {
    super();
    this.embed = this.registerModule("embed", new Linear(input, dModel));
    this.pos = this.registerModule("pos", new Embedding(steps, dModel));
    const layer = new TransformerEncoderLayer(dModel, heads, { dimFeedforward: 2 * dModel, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true });
    this.encoder = this.registerModule("encoder", new TransformerEncoder(layer, layers));
    this.norm = this.registerModule("norm", new LayerNorm(dModel));
    this.head = this.registerModule("head", new Linear(steps * dModel, classes));
  }
  forward(x: Tensor): Tensor {
    const h = this.embed.forward(x).add(this.pos.forward(arange(x.shape[1]!)));
    return this.head.forward(this.norm.forward(this.encoder.forward(h)).reshape([x.shape[0]!, -1]));
  }
}

export function buildSequenceClassifier(kind: SeqModelKind): Module {
  return kind === "transformer" ? new TransformerClassifier(8, 8, 32, 4, 2, 10) : new RecurrentClassifier(kind, 8, 64, 10);
}
