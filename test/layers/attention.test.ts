/**
 * scaledDotProductAttention and MultiheadAttention against PyTorch 1.13 (fixtures/sequence.json,
 * written by scripts/fixtures/sequence.py): outputs, weights, input and parameter gradients and
 * state-dict keys, float64 to 1e-10; and the fully masked query (zeros, never NaN).
 */
import { describe, expect, it } from "vitest";
import { MultiheadAttention, causalMask, scaledDotProductAttention, randn, tensor, Generator, full, type Tensor } from "../../src/index.js";
import { allFinite, expectClose, type EncTensor } from "./helpers.js";
import { dec, seqFixture, type SeqTensor } from "./sequence-helpers.js";

const close = (a: Tensor | null | undefined, e: SeqTensor, what: string): void => expectClose(a, e as EncTensor, what, 1e-10, 1e-12);

describe("scaledDotProductAttention matches torch", () => {
  it("has cases", () => expect(seqFixture.attention!.length).toBeGreaterThanOrEqual(7));
  for (const c of seqFixture.attention ?? []) {
    it(c.name, () => {
      const [q, k, v] = [dec(c.q, true), dec(c.k, true), dec(c.v, true)];
      const out = scaledDotProductAttention(q, k, v, { ...c.options, attnMask: c.attn_mask ? dec(c.attn_mask) : null });
      close(out, c.out, "output");
      out.mul(dec(c.grad_output)).sum().backward();
      [q, k, v].forEach((t, i) => close(t.grad, c.grads[i]!, `grad ${"qkv"[i]}`));
    });
  }
});

describe("MultiheadAttention matches torch", () => {
  it("has cases", () => expect(seqFixture.mha!.length).toBeGreaterThanOrEqual(9));
  for (const c of seqFixture.mha ?? []) {
    it(c.name, () => {
      const m = new MultiheadAttention(c.args[0], c.args[1], { ...c.options, dtype: "float64" });
      expect([...m.stateDict().keys()]).toEqual(c.state_dict_keys);
      m.loadStateDict(new Map(c.state_dict.map(([k, t]) => [k, dec(t)])));
      m.eval();
      const q = dec(c.query, true);
      const k = c.key ? dec(c.key, true) : q;
      const v = c.value ? dec(c.value, true) : q;
      const [out, w] = m.forward(q, k, v, {
        keyPaddingMask: c.key_padding_mask ? dec(c.key_padding_mask) : null,
        attnMask: c.attn_mask ? dec(c.attn_mask) : null,
        needWeights: c.need_weights,
        averageAttnWeights: c.average_attn_weights,
      });
      close(out, c.out, "output");
      if (c.weights) close(w, c.weights, "weights");
      else expect(w).toBeNull();
      out.mul(dec(c.grad_output)).sum().backward();
      close(q.grad, c.grads[0]!, "query grad");
      if (c.grads[1]) close(k.grad, c.grads[1], "key grad");
      if (c.grads[2]) close(v.grad, c.grads[2], "value grad");
      for (const [name, p] of m.namedParameters()) close(p.grad, c.param_grads[name]!, `grad of ${name}`);
    });
  }
});

describe("fully masked queries give zeros, not NaN (torch 1.13: NaN)", () => {
  const q0 = () => randn([2, 3, 4], { dtype: "float64", requiresGrad: true, generator: new Generator(1) });
  it("bool mask: zero output row and finite gradients; the other rows are unchanged", () => {
    const q = q0();
    const k = randn([2, 5, 4], { dtype: "float64", requiresGrad: true, generator: new Generator(2) });
    const v = randn([2, 5, 4], { dtype: "float64", requiresGrad: true, generator: new Generator(3) });
    const mask = tensor([[true, true, false, false, false], [false, false, false, false, false], [true, true, true, true, true]]);
    const out = scaledDotProductAttention(q, k, v, { attnMask: mask });
    out.sum().backward();
    expect(allFinite(out) && allFinite(q.grad) && allFinite(k.grad) && allFinite(v.grad)).toBe(true);
    const o = out.toArray() as number[][][];
    for (const b of [0, 1]) expect(o[b]![1]!.every((x) => x === 0)).toBe(true);
    const g = q.grad!.toArray() as number[][][];
    for (const b of [0, 1]) expect(g[b]![1]!.every((x) => x === 0)).toBe(true);
    // rows 0 and 2 equal the unmasked computation restricted to their keys
    const ref = scaledDotProductAttention(q.detach(), k.detach().narrow(1, 0, 2), v.detach().narrow(1, 0, 2));
    expectClose(out.narrow(1, 0, 1), { data: Array.from(ref.narrow(1, 0, 1).toTypedArray()), shape: [2, 1, 4], dtype: "float64" }, "row 0", 1e-12, 1e-14);
  });

  it("additive -Infinity mask and key padding in MultiheadAttention", () => {
    const q = q0();
    const minf = full([3, 5], 0, { dtype: "float64" }).add(tensor([[0, 0, 0, 0, 0], [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity], [0, 0, -Infinity, 0, 0]], { dtype: "float64" }));
    const k = randn([2, 5, 4], { dtype: "float64", requiresGrad: true, generator: new Generator(4) });
    const out = scaledDotProductAttention(q, k, k, { attnMask: minf });
    out.sum().backward();
    expect(allFinite(out) && allFinite(q.grad) && allFinite(k.grad)).toBe(true);
    const mha = new MultiheadAttention(4, 2, { batchFirst: true, dtype: "float64", generator: new Generator(5) });
    const x = randn([2, 3, 4], { dtype: "float64", requiresGrad: true, generator: new Generator(6) });
    const [y, w] = mha.forward(x, x, x, { keyPaddingMask: tensor([[true, true, true], [false, true, false]]) });
    y.sum().backward();
    expect(allFinite(y) && allFinite(w) && allFinite(x.grad)).toBe(true);
    for (const [, p] of mha.namedParameters()) expect(allFinite(p.grad)).toBe(true);
    // batch 0 has no keys: its attention weights are zero and its output is out_proj's bias
    const w0 = (w!.toArray() as number[][][])[0]!;
    expect(w0.flat().every((z) => z === 0)).toBe(true);
  });

  it("float32 with large logits stays finite", () => {
    const q = randn([1, 4, 8], { generator: new Generator(7) }).mul(1e4).requiresGrad_(true);
    const out = scaledDotProductAttention(q, q, q, { isCausal: true });
    out.sum().backward();
    expect(allFinite(out) && allFinite(q.grad)).toBe(true);
  });
});

describe("attention helpers", () => {
  it("causalMask is the lower triangle", () => {
    expect(causalMask(3).toArray()).toEqual([[true, false, false], [true, true, false], [true, true, true]]);
    expect(causalMask(2, 3).toArray()).toEqual([[true, false, false], [true, true, false]]);
  });
  it("isCausal equals the causal mask, and MultiheadAttention's isCausal its inverted bool mask", () => {
    const q = randn([2, 5, 4], { dtype: "float64", generator: new Generator(8) });
    const a = scaledDotProductAttention(q, q, q, { isCausal: true }).toArray();
    expect(scaledDotProductAttention(q, q, q, { attnMask: causalMask(5) }).toArray()).toEqual(a);
    const mha = new MultiheadAttention(4, 2, { batchFirst: true, dtype: "float64", generator: new Generator(9) });
    const [y1] = mha.forward(q, q, q, { isCausal: true });
    const [y2] = mha.forward(q, q, q, { attnMask: causalMask(5).logicalNot() });
    expect(y1.toArray()).toEqual(y2.toArray());
  });
  it("dropout on the weights is seeded and only in training mode for the layer", () => {
    const q = randn([1, 4, 4], { generator: new Generator(10) });
    const a = scaledDotProductAttention(q, q, q, { dropoutP: 0.5, generator: new Generator(1) }).toArray();
    expect(scaledDotProductAttention(q, q, q, { dropoutP: 0.5, generator: new Generator(1) }).toArray()).toEqual(a);
    const mha = new MultiheadAttention(4, 2, { dropout: 0.5, batchFirst: true });
    const e1 = mha.eval().forward(q, q, q)[0].toArray();
    expect(mha.forward(q, q, q)[0].toArray()).toEqual(e1);
  });
  it("refuses bad shapes and options", () => {
    const q = randn([2, 3, 4]);
    expect(() => scaledDotProductAttention(q, randn([2, 3, 5]), q)).toThrow(/last dim/);
    expect(() => scaledDotProductAttention(q, q, q, { isCausal: true, attnMask: causalMask(3) })).toThrow(/either/);
    expect(() => new MultiheadAttention(6, 4)).toThrow(/divisible/);
    expect(() => new MultiheadAttention(4, 2).forward(q, q, q, { keyPaddingMask: tensor([[true, false]]) })).toThrow(/keyPaddingMask/);
  });
});
