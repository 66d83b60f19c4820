/**
 * TransformerEncoderLayer and TransformerEncoder against PyTorch 1.13 (fixtures/sequence.json,
 * written by scripts/fixtures/sequence.py): state-dict keys, outputs, input and parameter
 * gradients, float64 to 1e-10 (relative).
 */
import { describe, expect, it } from "vitest";
import { LayerNorm, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer, Generator, causalMask, randn, type Tensor } from "../../src/index.js";
import { allFinite, expectClose, type EncTensor } from "./helpers.js";
import { dec, seqFixture, type SeqTensor, type TransformerCase, type DecoderCase } from "./sequence-helpers.js";

const close = (a: Tensor | null | undefined, e: SeqTensor, what: string): void => expectClose(a, e as EncTensor, what, 1e-10, 1e-12);

function build(c: TransformerCase): TransformerEncoderLayer | TransformerEncoder {
  const [d, h, n] = c.args as number[];
  const layer = new TransformerEncoderLayer(d!, h!, { ...(c.options as object), dtype: "float64" });
  if (c.cls === "TransformerEncoderLayer") return layer;
  return new TransformerEncoder(layer, n!, { norm: c.final_norm ? new LayerNorm(d!, { dtype: "float64" }) : null });
}

describe("transformer encoder matches torch", () => {
  it("has cases", () => expect(seqFixture.transformer!.length).toBeGreaterThanOrEqual(4));
  for (const c of seqFixture.transformer ?? []) {
    it(c.name, () => {
      const m = build(c);
      expect([...m.stateDict().keys()]).toEqual(c.state_dict_keys);
      m.loadStateDict(new Map(c.state_dict.map(([k, t]) => [k, dec(t)])));
      m.eval();
      const src = dec(c.src, true);
      const out = m.forward(src, { srcMask: c.mask ? dec(c.mask) : null, srcKeyPaddingMask: c.src_key_padding_mask ? dec(c.src_key_padding_mask) : null });
      close(out, c.out, "output");
      out.mul(dec(c.grad_output)).sum().backward();
      close(src.grad, c.input_grad, "input grad");
      for (const [name, p] of m.namedParameters()) close(p.grad, c.param_grads[name]!, `grad of ${name}`);
    });
  }
});

function buildDecoder(c: DecoderCase): TransformerDecoderLayer | TransformerDecoder {
  const [d, h, n] = c.args;
  const layer = new TransformerDecoderLayer(d!, h!, { ...(c.options as object), dtype: "float64" });
  if (c.cls === "TransformerDecoderLayer") return layer;
  return new TransformerDecoder(layer, n!, { norm: c.final_norm ? new LayerNorm(d!, { dtype: "float64" }) : null });
}

describe("transformer decoder matches torch", () => {
  it("has cases", () => expect(seqFixture.decoder!.length).toBeGreaterThanOrEqual(3));
  for (const c of seqFixture.decoder ?? []) {
    it(c.name, () => {
      const m = buildDecoder(c);
      expect([...m.stateDict().keys()]).toEqual(c.state_dict_keys);
      m.loadStateDict(new Map(c.state_dict.map(([k, t]) => [k, dec(t)])));
      m.eval();
      const tgt = dec(c.tgt, true);
      const mem = dec(c.memory, true);
      const opt = (t: typeof c.tgt_mask) => (t ? dec(t) : null);
      const out = m.forward(tgt, mem, {
        tgtMask: opt(c.tgt_mask),
        memoryMask: opt(c.memory_mask),
        tgtKeyPaddingMask: opt(c.tgt_key_padding_mask),
        memoryKeyPaddingMask: opt(c.memory_key_padding_mask),
      });
      close(out, c.out, "output");
      out.mul(dec(c.grad_output)).sum().backward();
      close(tgt.grad, c.tgt_grad, "tgt grad");
      close(mem.grad, c.memory_grad, "memory grad");
      for (const [name, p] of m.namedParameters()) close(p.grad, c.param_grads[name]!, `grad of ${name}`);
    });
  }
});

describe("transformer encoder", () => {
  it("isCausal equals the inverted causal mask", () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, dtype: "float64", generator: new Generator(1) }).eval();
    const x = randn([2, 5, 8], { dtype: "float64", generator: new Generator(2) });
    expect(layer.forward(x, { isCausal: true }).toArray()).toEqual(layer.forward(x, { srcMask: causalMask(5).logicalNot() }).toArray());
  });
  it("copies start equal and are separate tensors; a padded sequence stays finite", () => {
    const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, generator: new Generator(3) });
    const enc = new TransformerEncoder(layer, 2);
    const p0 = enc.layers.at(0).linear1.weight;
    const p1 = enc.layers.at(1).linear1.weight;
    expect(p0).not.toBe(p1);
    expect(p0.toArray()).toEqual(p1.toArray());
    expect(p0.toArray()).toEqual(layer.linear1.weight.toArray());
    const x = randn([3, 2, 8], { requiresGrad: true, generator: new Generator(4) });
    const kpm = causalMask(2, 3).logicalNot(); // [2, 3]: batch 0 sees only key 0
    const y = enc.eval().forward(x, { srcKeyPaddingMask: kpm });
    y.sum().backward();
    expect(allFinite(y) && allFinite(x.grad)).toBe(true);
  });
});
