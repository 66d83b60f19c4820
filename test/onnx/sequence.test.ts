/**
 * The sequence layers: RNN, LSTM and GRU (unrolled over the example's sequence length: the graph's
 * time dim is fixed, its batch dim dynamic; the zero initial state follows the batch size) and a
 * pre-norm transformer block (MultiheadAttention with a causal mask and a key padding mask given as
 * a second, bool input; LayerNorm; a GELU MLP), in ONNX Runtime at batch sizes 1 and 17.
 */
import { describe, expect, it } from "vitest";
import { GELU, Generator, GRU, LayerNorm, Linear, LSTM, Module, randn, RNN, Tensor, TransformerEncoder, TransformerEncoderLayer, type Tensor as T } from "../../src/index.js";
import { MultiheadAttention } from "../../src/layers/attention.js";
import { exportAndCompare, summarize } from "./helpers.js";

const rn = (shape: number[], seed: number): T => randn(shape, { generator: new Generator(seed) });

class Block extends Module<[T, T], T> {
  readonly ln1 = this.registerModule("ln1", new LayerNorm(8));
  readonly attn = this.registerModule("attn", new MultiheadAttention(8, 2, { batchFirst: true }));
  readonly ln2 = this.registerModule("ln2", new LayerNorm(8));
  readonly fc1 = this.registerModule("fc1", new Linear(8, 16));
  readonly act = this.registerModule("act", new GELU());
  readonly fc2 = this.registerModule("fc2", new Linear(16, 8));
  forward(x: T, padding: T): T {
    const h = this.ln1.forward(x);
    const [a] = this.attn.forward(h, h, h, { isCausal: true, keyPaddingMask: padding, needWeights: false });
    const y = x.add(a);
    return y.add(this.fc2.forward(this.act.forward(this.fc1.forward(this.ln2.forward(y)))));
  }
}

/** A key padding mask: the last `i % 3` positions of sample i are padding (true). */
function paddingMask(n: number, t: number): T {
  const data = new Uint8Array(n * t);
  for (let i = 0; i < n; i++) for (let j = t - (i % 3); j < t; j++) data[i * t + j] = 1;
  return new Tensor(data, [n, t]);
}

describe("sequence layers in ONNX Runtime", () => {
  it("LSTM, 2 layers, batchFirst: output and final (h, c)", async () => {
    const { worst, bytes } = await exportAndCompare(new LSTM(4, 6, { batchFirst: true, numLayers: 2 }), (n) => [rn([n, 5, 4], n)]);
    const s = summarize(bytes);
    expect(s.outputs.map((o) => o.dims)).toEqual([["batch", 5, 6], [2, "batch", 6], [2, "batch", 6]]);
    console.log(`LSTM worst relative difference ${worst.toExponential(2)}`);
  });

  it("GRU, bidirectional", async () => {
    await exportAndCompare(new GRU(4, 6, { batchFirst: true, bidirectional: true }), (n) => [rn([n, 5, 4], n)]);
  });

  it("RNN (tanh), sequence-first, with an initial state given as a second input", async () => {
    await exportAndCompare(new RNN(3, 5), (n) => [rn([4, n, 3], n), rn([1, n, 5], n + 1)], { inputNames: ["x", "h0"], batchAxes: [1, 1] });
  });

  it("a transformer block: causal self-attention with a key padding mask (a bool input), LayerNorm, GELU MLP", async () => {
    const block = new Block();
    const { worst, bytes } = await exportAndCompare(block, (n) => [rn([n, 6, 8], n), paddingMask(n, 6)], { inputNames: ["x", "padding"] });
    expect(summarize(bytes).inputs).toEqual([
      { name: "x", elemType: 1, dims: ["batch", 6, 8] },
      { name: "padding", elemType: 9, dims: ["batch", 6] },
    ]);
    console.log(`transformer block worst relative difference ${worst.toExponential(2)}`);
  });

  it("TransformerEncoder (2 post-norm layers, GELU) with a key padding mask, and a causal pre-norm TransformerEncoderLayer", async () => {
    class Encoder extends Module<[T, T], T> {
      readonly enc = this.registerModule("enc", new TransformerEncoder(new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, activation: "gelu" }), 2));
      forward(x: T, padding: T): T {
        return this.enc.forward(x, { srcKeyPaddingMask: padding });
      }
    }
    const enc = await exportAndCompare(new Encoder(), (n) => [rn([n, 6, 8], n), paddingMask(n, 6)]);
    class Causal extends Module<[T], T> {
      readonly layer = this.registerModule("layer", new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, normFirst: true }));
      forward(x: T): T {
        return this.layer.forward(x, { isCausal: true });
      }
    }
    const causal = await exportAndCompare(new Causal(), (n) => [rn([n, 5, 8], n)]);
    console.log(`TransformerEncoder worst relative difference ${enc.worst.toExponential(2)}, causal layer ${causal.worst.toExponential(2)}`);
  });
});
