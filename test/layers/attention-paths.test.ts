/**
 * The attention layers' cheap paths against the plain-op path they replaced (issue 18): the scale
 * on q, k or the weights instead of the scores, no amax / where pass for fully masked rows (softmax
 * zeroes a row of -Infinity itself), cached causal masks. The reference below is the previous
 * implementation written in plain ops: scores · scale, the mask, rows without a finite score
 * replaced by zeros before the softmax and zeroed after it. Random shapes and masks (none, bool,
 * additive, causal, fully masked rows, key padding), float32 and float64: outputs, weights and every
 * gradient agree to rounding and are finite. Masked keys take no part whatever their score;
 * finite-difference gradients and gradients of gradients (float64).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Generator, MultiheadAttention, causalMask, enableGrad, full, grad, gradcheck, randn, scaledDotProductAttention, tensor, TransformerEncoderLayer, type FloatDType, type Tensor } from "../../src/index.js";
import * as F from "../../src/ops/index.js";
import { noGrad } from "../../src/autograd/grad-mode.js";
import { init } from "../../src/layers/index.js";
import { allFinite } from "./helpers.js";

const RUNS = { numRuns: 60 };
const dtypes: FloatDType[] = ["float64", "float32"];
// float32: two orders of summation differ by cancellation downstream of the softmax (a k gradient
// 2.5e-5 of the largest apart at scale 3, both 1e-7 from float64 on the same inputs), so 1e-4
const tol = (dtype: FloatDType): number => (dtype === "float64" ? 1e-12 : 1e-4);

/** The previous masked softmax: rows with no finite score are zeroed before and after the softmax. */
function refMaskedSoftmax(scores: Tensor, allowed: Tensor | null, additive: Tensor | null): Tensor {
  if (!allowed && !additive) return F.softmax(scores, -1);
  let s = scores;
  if (additive) s = s.add(additive);
  if (allowed) s = F.where(allowed, s, -Infinity);
  const rowAny = noGrad(() => F.amax(s, -1, true).gt(-Infinity));
  return F.where(rowAny, F.softmax(F.where(rowAny, s, 0), -1), 0);
}

/** The previous scaledDotProductAttention: [output, weights]. */
function refSdpa(q: Tensor, k: Tensor, v: Tensor, o: { attnMask?: Tensor | null; isCausal?: boolean; scale?: number } = {}): [Tensor, Tensor] {
  const E = q.shape[q.ndim - 1]!;
  const L = q.shape[q.ndim - 2]!;
  const S = k.shape[k.ndim - 2]!;
  const scores = q.matmul(k.transpose(-2, -1)).mul(o.scale ?? 1 / Math.sqrt(E));
  let allowed: Tensor | null = null;
  let additive: Tensor | null = null;
  if (o.isCausal) allowed = causalMask(L, S);
  else if (o.attnMask) {
    if (o.attnMask.dtype === "bool") allowed = o.attnMask;
    else additive = o.attnMask;
  }
  const p = refMaskedSoftmax(scores, allowed, additive);
  return [p.matmul(v), p];
}

/** The previous MultiheadAttention forward (batch first, packed projections), on m's parameters. */
function refMha(m: MultiheadAttention, x: Tensor, o: { keyPaddingMask?: Tensor | null; attnMask?: Tensor | null; isCausal?: boolean }): [Tensor, Tensor] {
  const [N, L, E] = x.shape as [number, number, number];
  const H = m.numHeads;
  const D = E / H;
  const w = m.in_proj_weight!;
  const b = m.in_proj_bias!;
  const proj = (i: number): Tensor =>
    x
      .matmul(w.narrow(0, i * E, E).transpose(0, 1))
      .add(b.narrow(0, i * E, E))
      .reshape(N, L, H, D)
      .transpose(1, 2);
  const dtype = x.dtype as FloatDType;
  const additive = (t: Tensor): Tensor => (t.dtype === "bool" ? F.where(t, full([], -Infinity, { dtype }), full([], 0, { dtype })) : t);
  let mask: Tensor | null = null;
  const addMask = (t: Tensor): void => void (mask = mask ? mask.add(t) : t);
  if (o.attnMask) addMask(o.attnMask.ndim === 3 ? additive(o.attnMask).reshape(N, H, L, L) : additive(o.attnMask));
  if (o.isCausal) addMask(additive(causalMask(L).logicalNot()));
  if (o.keyPaddingMask) addMask(additive(o.keyPaddingMask).reshape(N, 1, 1, L));
  const [a, p] = refSdpa(proj(0), proj(1), proj(2), { attnMask: mask });
  return [m.out_proj.forward(a.transpose(1, 2).reshape(N, L, E)), p.mean(1)];
}

/** max |a - b| / max(max |b|, 1e-30): 0 when both are the same, Infinity where only one is finite. */
function relDiff(a: Tensor | null, b: Tensor | null): number {
  if (!a || !b) return a === b ? 0 : Infinity;
  const x = a.toTypedArray() as Float64Array;
  const y = b.toTypedArray() as Float64Array;
  let d = 0;
  let s = 1e-30;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]!) !== Number.isNaN(y[i]!)) return Infinity;
    if (!Number.isNaN(x[i]!)) d = Math.max(d, Math.abs(x[i]! - y[i]!));
    s = Math.max(s, Math.abs(y[i]!));
  }
  return d / s;
}

type MaskKind = "none" | "bool" | "boolFullRows" | "additive" | "additiveFullRows" | "causal";
const maskKinds: MaskKind[] = ["none", "bool", "boolFullRows", "additive", "additiveFullRows", "causal"];

/** A mask [L, S] of the kind, from seed: bool true = takes part; additive 0 / -Infinity / finite. */
function makeMask(kind: MaskKind, L: number, S: number, seed: number, dtype: FloatDType): Tensor | null {
  if (kind === "none" || kind === "causal") return null;
  const g = new Generator(seed);
  const keep = Array.from({ length: L * S }, () => g.random() < 0.6);
  if (kind === "boolFullRows" || kind === "additiveFullRows") for (let j = 0; j < S; j++) keep[j] = false; // query 0 sees nothing
  else for (let i = 0; i < L; i++) keep[i * S + (i % S)] = true; // every query sees a key
  if (kind.startsWith("bool")) return tensor(keep, { shape: [L, S], dtype: "bool" });
  return tensor(
    keep.map((k) => (k ? g.random() - 0.5 : -Infinity)),
    { shape: [L, S], dtype },
  );
}

describe.each(dtypes)("scaledDotProductAttention equals the plain-op path (%s)", (dtype) => {
  it("outputs, weights and gradients for random shapes, scales and masks", () => {
    fc.assert(
      fc.property(
        fc.record({
          B: fc.integer({ min: 1, max: 3 }),
          L: fc.integer({ min: 1, max: 6 }),
          S: fc.integer({ min: 1, max: 7 }),
          E: fc.integer({ min: 1, max: 9 }),
          kind: fc.constantFrom(...maskKinds),
          scale: fc.option(fc.constantFrom(1, 0.5, 3, -0.7, 1e-3), { nil: undefined }),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        ({ B, L, S, E, kind, scale, seed }) => {
          const gen = (shape: number[], s: number): Tensor => randn(shape, { dtype, generator: new Generator(seed + s) });
          const leaves = () => [gen([B, L, E], 1), gen([B, S, E], 2), gen([B, S, E + 1], 3)].map((t) => t.requiresGrad_());
          const mask = makeMask(kind, L, S, seed, dtype);
          const opts = { attnMask: mask, isCausal: kind === "causal", scale };
          const gout = gen([B, L, E + 1], 4);
          const [q1, k1, v1] = leaves() as [Tensor, Tensor, Tensor];
          const out = scaledDotProductAttention(q1, k1, v1, opts);
          out.mul(gout).sum().backward();
          const [q2, k2, v2] = leaves() as [Tensor, Tensor, Tensor];
          const [ref] = refSdpa(q2, k2, v2, opts);
          ref.mul(gout).sum().backward();
          const t = tol(dtype);
          expect(allFinite(out) && allFinite(q1.grad) && allFinite(k1.grad) && allFinite(v1.grad)).toBe(true);
          expect(relDiff(out, ref)).toBeLessThanOrEqual(t);
          expect(relDiff(q1.grad, q2.grad)).toBeLessThanOrEqual(t);
          expect(relDiff(k1.grad, k2.grad)).toBeLessThanOrEqual(t);
          expect(relDiff(v1.grad, v2.grad)).toBeLessThanOrEqual(t);
          if (kind.endsWith("FullRows")) {
            // query 0 sees no key: zero output row and zero gradient of q there
            const o = out.narrow(1, 0, 1).toTypedArray();
            const gq = q1.grad!.narrow(1, 0, 1).toTypedArray();
            expect([...o, ...gq].every((z) => z === 0)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it("large scores: huge logits against a mask stay finite and equal the plain-op path", () => {
    for (const kind of maskKinds) {
      const q = randn([2, 5, 4], { dtype, generator: new Generator(11) }).mul(1e3);
      const k = randn([2, 6, 4], { dtype, generator: new Generator(12) }).mul(1e3);
      const v = randn([2, 6, 3], { dtype, generator: new Generator(13) });
      const opts = { attnMask: makeMask(kind, 5, 6, 14, dtype), isCausal: kind === "causal" };
      const [ql, kl, vl] = [q, k, v].map((t) => t.detach().requiresGrad_()) as [Tensor, Tensor, Tensor];
      const out = scaledDotProductAttention(ql, kl, vl, opts);
      out.sum().backward();
      expect(allFinite(out) && allFinite(ql.grad) && allFinite(kl.grad) && allFinite(vl.grad)).toBe(true);
      expect(relDiff(out, refSdpa(q, k, v, opts)[0])).toBeLessThanOrEqual(dtype === "float64" ? 1e-9 : 1e-3);
    }
  });

  it("a NaN score propagates to its query's row, masked or not (as without a mask)", () => {
    const q = randn([1, 3, 2], { dtype, generator: new Generator(15) });
    const qn = q.add(tensor([[[0, 0], [NaN, 0], [0, 0]]], { dtype }));
    for (const opts of [{}, { isCausal: true }, { attnMask: tensor([[true, true, true], [true, true, true], [true, true, true]]) }]) {
      const o = scaledDotProductAttention(qn, q, q, opts).toArray() as number[][][];
      expect(o[0]![1]!.every(Number.isNaN)).toBe(true);
      expect(o[0]![0]!.every(Number.isFinite) && o[0]![2]!.every(Number.isFinite)).toBe(true);
    }
  });
});

describe.each(dtypes)("masked keys take no part whatever their score (%s)", (dtype) => {
  it("a key with Infinity or NaN features, masked by a bool mask, isCausal or key padding, changes nothing", () => {
    const q = randn([2, 4, 3], { dtype, generator: new Generator(31) });
    const k = randn([2, 4, 3], { dtype, generator: new Generator(32) });
    const v = randn([2, 4, 3], { dtype, generator: new Generator(33) });
    for (const bad of [Infinity, -Infinity, NaN]) {
      // the last key is poisoned; only its score (through k) is, its value (v) stays finite
      const kb = k.add(tensor([0, 0, 0, bad].flatMap((z) => [z, 0, 0]), { shape: [1, 4, 3], dtype }).where(tensor([false, false, false, true], { shape: [1, 4, 1] }), 0));
      const noLast = tensor([true, true, true, false]);
      const clean = scaledDotProductAttention(q, k.narrow(1, 0, 3), v.narrow(1, 0, 3));
      const kl = kb.detach().requiresGrad_();
      const out = scaledDotProductAttention(q, kl, v, { attnMask: noLast });
      out.sum().backward();
      expect(relDiff(out, clean)).toBeLessThanOrEqual(tol(dtype));
      expect(allFinite(kl.grad)).toBe(true);
      // causal: query i < 3 never sees key 3; query 3 does (and its row is non-finite, as torch)
      const causal = scaledDotProductAttention(q, kb, v, { isCausal: true }).narrow(1, 0, 3);
      expect(relDiff(causal, scaledDotProductAttention(q.narrow(1, 0, 3), k.narrow(1, 0, 3), v.narrow(1, 0, 3), { isCausal: true }))).toBeLessThanOrEqual(tol(dtype));
    }
    const mha = new MultiheadAttention(3, 1, { batchFirst: true, dtype, generator: new Generator(34) });
    const key = randn([2, 4, 3], { dtype, generator: new Generator(35) });
    const keyBad = key.add(tensor([0, 0, 0, Infinity].flatMap((z) => [z, z, z]), { shape: [1, 4, 3], dtype }).where(tensor([false, false, false, true], { shape: [1, 4, 1] }), 0));
    const pad = tensor([[false, false, false, true], [false, false, false, true]]);
    const [a] = mha.forward(q, keyBad, key, { keyPaddingMask: pad });
    const [b] = mha.forward(q, key.narrow(1, 0, 3), key.narrow(1, 0, 3));
    expect(relDiff(a, b)).toBeLessThanOrEqual(tol(dtype) * 10);
  });
});

describe.each(dtypes)("MultiheadAttention equals the plain-op path (%s)", (dtype) => {
  it("key padding (bool and float, fully padded samples), attnMask 2-D and 3-D, isCausal and their sums", () => {
    fc.assert(
      fc.property(
        fc.record({
          N: fc.integer({ min: 1, max: 3 }),
          L: fc.integer({ min: 1, max: 6 }),
          H: fc.constantFrom(1, 2, 3),
          Dh: fc.integer({ min: 1, max: 4 }),
          causal: fc.boolean(),
          attn: fc.constantFrom("none", "bool2", "float2", "bool3"),
          pad: fc.constantFrom("none", "bool", "float", "allPadded"),
          layout: fc.constantFrom("batchFirst", "seqFirst", "unbatched"),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        ({ N: N0, L, H, Dh, causal, attn, pad, layout, seed }) => {
          const N = layout === "unbatched" ? 1 : N0;
          const E = H * Dh;
          const g = new Generator(seed);
          const m = new MultiheadAttention(E, H, { batchFirst: layout === "batchFirst", dtype, generator: new Generator(seed + 1) });
          // nonzero biases, so that the folded scale is checked on them too
          init.normal(m.in_proj_bias!, { generator: new Generator(seed + 2) });
          init.normal(m.out_proj.bias!, { generator: new Generator(seed + 3) });
          const x0 = randn([N, L, E], { dtype, generator: new Generator(seed + 4) });
          const bools = (n: number, p: number): boolean[] => Array.from({ length: n }, () => g.random() < p);
          let attnMask: Tensor | null = null;
          if (attn === "bool2") attnMask = tensor(bools(L * L, 0.3), { shape: [L, L], dtype: "bool" });
          if (attn === "float2") attnMask = tensor(bools(L * L, 0.3).map((b) => (b ? -Infinity : g.random())), { shape: [L, L], dtype });
          if (attn === "bool3") attnMask = tensor(bools(N * H * L * L, 0.3), { shape: [N * H, L, L], dtype: "bool" });
          let keyPaddingMask: Tensor | null = null;
          if (pad === "bool") keyPaddingMask = tensor(bools(N * L, 0.3), { shape: [N, L], dtype: "bool" });
          if (pad === "float") keyPaddingMask = tensor(bools(N * L, 0.3).map((b) => (b ? -Infinity : 0)), { shape: [N, L], dtype });
          if (pad === "allPadded") keyPaddingMask = tensor(Array.from({ length: N * L }, (_, i) => i < L), { shape: [N, L], dtype: "bool" });
          const opts = { attnMask, keyPaddingMask, isCausal: causal };
          const gout = randn([N, L, E], { dtype, generator: new Generator(seed + 5) });
          const x1 = x0.detach().requiresGrad_();
          // the layer's own layout: [L, N, E] seq-first, [L, E] unbatched (masks unchanged, a 1-D key padding mask)
          const xin = layout === "seqFirst" ? x1.transpose(0, 1).contiguous() : layout === "unbatched" ? x1.squeeze(0) : x1;
          const kpm = layout === "unbatched" && keyPaddingMask ? keyPaddingMask.squeeze(0) : keyPaddingMask;
          const [yl, wl] = m.forward(xin, xin, xin, { ...opts, keyPaddingMask: kpm });
          const y1 = layout === "seqFirst" ? yl.transpose(0, 1) : layout === "unbatched" ? yl.unsqueeze(0) : yl;
          const w1 = layout === "unbatched" ? wl!.unsqueeze(0) : wl;
          y1.mul(gout).sum().backward();
          const grads1 = [...m.parameters()].map((p) => p.grad);
          m.zeroGrad();
          const x2 = x0.detach().requiresGrad_();
          const [y2, w2] = refMha(m, x2, opts);
          y2.mul(gout).sum().backward();
          const grads2 = [...m.parameters()].map((p) => p.grad);
          const t = tol(dtype) * 10;
          expect(allFinite(y1) && allFinite(w1) && allFinite(x1.grad) && grads1.every(allFinite)).toBe(true);
          expect(relDiff(y1, y2)).toBeLessThanOrEqual(t);
          expect(relDiff(w1, w2)).toBeLessThanOrEqual(t);
          expect(relDiff(x1.grad, x2.grad)).toBeLessThanOrEqual(t);
          grads1.forEach((gr, i) => expect(relDiff(gr, grads2[i]!)).toBeLessThanOrEqual(t));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("causal masks", () => {
  it("causalMask gives a fresh tensor each call: writing into one changes neither the next nor isCausal", () => {
    const q = randn([2, 4, 3], { dtype: "float64", generator: new Generator(21) });
    const before = scaledDotProductAttention(q, q, q, { isCausal: true }).toArray();
    const m = causalMask(4);
    init.constant(m, 1);
    expect((m.toArray() as boolean[][])[0]).toEqual([true, true, true, true]);
    expect(causalMask(4).toArray()).toEqual([[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]);
    expect(scaledDotProductAttention(q, q, q, { isCausal: true }).toArray()).toEqual(before);
  });
  it("isCausal equals the explicit mask exactly: L != S, float32 and float64 layers side by side, many sizes", () => {
    for (const dtype of dtypes) {
      const mha = new MultiheadAttention(4, 2, { batchFirst: true, dtype, generator: new Generator(22) });
      for (const L of [1, 2, 3, 5, 8, 13, 21, 2, 3]) {
        const x = randn([2, L, 4], { dtype, generator: new Generator(L) });
        const [y1] = mha.forward(x, x, x, { isCausal: true });
        const [y2] = mha.forward(x, x, x, { attnMask: causalMask(L).logicalNot() });
        expect(y1.toArray()).toEqual(y2.toArray());
      }
      const q = randn([1, 3, 4], { dtype, generator: new Generator(23) });
      const kv = randn([1, 5, 4], { dtype, generator: new Generator(24) });
      expect(scaledDotProductAttention(q, kv, kv, { isCausal: true }).toArray()).toEqual(scaledDotProductAttention(q, kv, kv, { attnMask: causalMask(3, 5) }).toArray());
    }
  });
  it("a causal pre-norm GELU layer (the W6 block, small) trains to the same values in float32 and float64", () => {
    for (const dtype of dtypes) {
      const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true, dtype, generator: new Generator(25) });
      const x = randn([3, 6, 8], { dtype, generator: new Generator(26), requiresGrad: true });
      const y = layer.forward(x, { isCausal: true });
      y.square().sum().backward();
      expect(allFinite(y) && allFinite(x.grad) && [...layer.parameters()].every((p) => allFinite(p.grad))).toBe(true);
    }
  });
});

describe("gradients by finite differences (float64)", () => {
  const rn = (shape: number[], seed: number): Tensor => randn(shape, { dtype: "float64", generator: new Generator(seed) }).requiresGrad_();
  it("scaledDotProductAttention: bool mask with a fully masked row, additive, causal, scale on scores, k and q", () => {
    const rows = tensor([[true, false, true, true], [false, false, false, false], [true, true, false, true]]);
    const add = tensor([[0, -Infinity, 0.3, 0], [-1, 0, 0, -Infinity], [-Infinity, -Infinity, -Infinity, -Infinity]], { dtype: "float64" });
    for (const [E, opts] of [
      [2, { attnMask: rows }],
      [2, { attnMask: add }],
      [2, { isCausal: true }],
      [6, { isCausal: true, scale: 0.7 }], // scores have fewer entries than q and k
      [2, { scale: -1.3 }],
    ] as const) {
      const q = rn([2, 3, E], 41);
      const k = rn([2, 4, E], 42);
      const v = rn([2, 4, 2], 43);
      expect(gradcheck((a, b, c) => scaledDotProductAttention(a, b, c, opts), [q, k, v], { name: JSON.stringify(opts) })).toBe(true);
      // and the gradient of the gradient, through softmax's fused backward
      // (enableGrad: gradcheck evaluates the function under noGrad for its finite differences)
      const gq = (a: Tensor, b: Tensor, c: Tensor): Tensor =>
        enableGrad(() => grad(scaledDotProductAttention(a, b, c, opts).square().sum(), [a, b, c], { createGraph: true }).reduce<Tensor>((acc, g, i) => acc.add(g!.mul(i + 1.5).sum()), tensor(0, { dtype: "float64" })));
      expect(gradcheck(gq, [q, k, v], { name: `grad of ${JSON.stringify(opts)}` })).toBe(true);
    }
  });
  it("MultiheadAttention: causal with key padding (a fully padded sample) and a float attnMask (parameter gradients: against the plain-op path above)", () => {
    const mha = new MultiheadAttention(4, 2, { batchFirst: true, dtype: "float64", generator: new Generator(44) });
    init.normal(mha.in_proj_bias!, { generator: new Generator(45) });
    const x = rn([2, 3, 4], 46);
    const pad = tensor([[true, true, true], [false, false, true]]);
    const am = tensor([[0, 0.5, 0], [0, 0, -Infinity], [1, 0, 0]], { dtype: "float64" });
    expect(gradcheck((xx) => mha.forward(xx, xx, xx, { isCausal: true, keyPaddingMask: pad, attnMask: am })[0], [x])).toBe(true);
  });
});
