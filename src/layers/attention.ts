/**
 * Attention as PyTorch: `scaledDotProductAttention` (torch.nn.functional.scaled_dot_product_attention),
 * `causalMask`, and `MultiheadAttention` (torch.nn.MultiheadAttention, same parameter names and
 * state-dict keys).
 *
 * NOTE (safety, differs from torch 1.13): a query whose keys are all masked gets a zero output and
 * a zero gradient, where torch gives NaN (softmax of a row of -Infinity). Bool masks and the causal
 * mask go to softmax's masked form (`softmax(s, -1, { mask, causal })`), whose kernel skips the
 * entries that take no part (exactly 0 there, zero gradient, whatever the score) and gives a row
 * with none taking part zeros with a zero gradient; float masks are added to the scores, and a row
 * of only -Infinity is likewise zeros. A NaN score of a key that takes part propagates to its
 * query's row.
 *
 * NOTE (cost): no pass over the scores besides the matmul, an additive mask's add and the softmax:
 * the causal mask is never materialised, and the scale multiplies the smallest of q, k and the
 * scores (MultiheadAttention folds it into the query projection's weight and bias, as torch 1.13
 * scales q).
 */
import { ShapeError, ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { tensor, zeros } from "../tensor/create.js";
import { getDefaultDtype, type FloatDType } from "../tensor/dtype.js";
import type { Generator } from "../tensor/random.js";
import { broadcastShapes, shapeStr } from "../tensor/shape.js";
import * as LF from "./functional.js";
import * as init from "./init.js";
import { Linear, checkSize, type LayerOptions } from "./linear.js";
import { Module } from "./module.js";

/**
 * A causal mask as torch's sdpa expects it: bool [n, m] (m defaults to n), true where key j may be
 * attended from query i, i.e. j <= i (the lower triangle).
 * @example
 * causalMask(3).toArray(); // [[true, false, false], [true, true, false], [true, true, true]]
 */
export function causalMask(n: number, m = n): Tensor {
  checkSize("causalMask", "n", n);
  checkSize("causalMask", "m", m);
  const data = new Uint8Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j <= Math.min(i, m - 1); j++) data[i * m + j] = 1;
  return tensor(data, { shape: [n, m], dtype: "bool" });
}

/** Options of `scaledDotProductAttention`. */
export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcastable to [..., L, S]: a bool mask (true = the key takes part, as torch's sdpa) or a
   * float mask added to the scores (-Infinity excludes a key). Default: none.
   */
  attnMask?: Tensor | null;
  /** Apply `causalMask(L, S)` (default false; not together with attnMask, as torch). */
  isCausal?: boolean;
  /** Dropout probability on the attention weights (default 0; applied whenever > 0, as torch). */
  dropoutP?: number;
  /** Score scale (default 1 / √E, E the last dim of q). */
  scale?: number;
  /** Source of randomness for the dropout (default: the default generator). */
  generator?: Generator;
}

/** @internal The masks of one attention call as the masked softmax takes them. */
export interface AttentionMasks {
  /** Bool, broadcastable to the scores: true where the key takes part. */
  allowed: Tensor | null;
  /** Float, broadcastable to the scores: added to them. */
  additive: Tensor | null;
  /** Query i sees keys j <= i (the kernel skips the rest; nothing is materialised). */
  causal: boolean;
}

/**
 * Softmax over the last dim of `scores` after masking. A row with no key taking part (or whose
 * keys all have a -Infinity score) gives zeros with a zero gradient.
 */
function maskedSoftmax(scores: Tensor, m: AttentionMasks): Tensor {
  let s = m.additive ? scores.add(m.additive) : scores;
  if (!m.allowed && !m.causal) return F.softmax(s, -1);
  if (m.allowed) {
    // a mask with more (or larger) batch dims than the scores broadcasts them, as where() would
    const shape = broadcastShapes("scaledDotProductAttention", m.allowed.shape, s.shape);
    if (shape.length !== s.ndim || shape.some((n, i) => n !== s.shape[i])) s = s.expand(shape);
  }
  return F.softmax(s, -1, { mask: m.allowed, causal: m.causal });
}

/**
 * @internal The output and the attention weights [..., L, S] (after dropout). `masks`, when given,
 * replaces options.attnMask and options.isCausal (MultiheadAttention's combined masks).
 */
export function attentionWithWeights(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductAttentionOptions = {}, masks?: AttentionMasks): [Tensor, Tensor] {
  const op = "scaledDotProductAttention";
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) throw new ShapeError(op, `q, k and v must be at least 2-D, got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  const E = q.shape[q.ndim - 1]!;
  const L = q.shape[q.ndim - 2]!;
  const S = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== E) throw new ShapeError(op, `q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} must have the same last dim`);
  if (v.shape[v.ndim - 2] !== S) throw new ShapeError(op, `k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} must have the same number of keys (dim -2)`);
  const mask = options.attnMask ?? null;
  if (mask && options.isCausal) throw new ValueError(op, "give either attnMask or isCausal, not both (as torch)");
  const scale = options.scale ?? 1 / Math.sqrt(E);
  if (!Number.isFinite(scale)) throw new ValueError(op, `scale must be finite, got ${scale}`);
  const dropoutP = options.dropoutP ?? 0;
  if (!(dropoutP >= 0 && dropoutP <= 1)) throw new ValueError(op, `dropoutP must be in [0, 1], got ${dropoutP}`);
  // (q · s) kᵀ = q (k · s)ᵀ = (q kᵀ) · s: scale whichever of the three has the fewest entries
  // (torch 1.13 scales q; the results agree to rounding).
  let qs = q;
  let ks = k;
  let scaleScores = false;
  if (scale !== 1) {
    const batch = broadcastShapes(op, q.shape.slice(0, -2), k.shape.slice(0, -2));
    const nScores = batch.reduce((a, b) => a * b, 1) * L * S;
    if (q.numel <= k.numel && q.numel <= nScores) qs = q.mul(scale);
    else if (k.numel <= nScores) ks = k.mul(scale);
    else scaleScores = true;
  }
  let scores = qs.matmul(F.transpose(ks, -2, -1));
  if (scaleScores) scores = scores.mul(scale);
  let m = masks;
  if (!m) {
    const bool = mask !== null && mask.dtype === "bool";
    m = { allowed: bool ? mask : null, additive: mask && !bool ? (mask.dtype === scores.dtype ? mask : F.cast(mask, scores.dtype)) : null, causal: options.isCausal === true };
  }
  let p = maskedSoftmax(scores, m);
  if (dropoutP > 0) p = LF.dropout(p, { p: dropoutP, generator: options.generator });
  return [p.matmul(v), p];
}

/**
 * softmax(q kᵀ · scale + mask) v, as torch.nn.functional.scaled_dot_product_attention (torch ≥ 2.0).
 * q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev]; leading dims broadcast.
 *
 * Differs from torch: a query whose keys are all masked gets zeros (value and gradient), not NaN.
 * @example
 * const q = randn([2, 4, 5, 8]);
 * const out = scaledDotProductAttention(q, q, q, { isCausal: true }); // [2, 4, 5, 8]
 * const pad = tensor([[true, true, false, false, false]]); // keys 0 and 1 only
 * scaledDotProductAttention(q, q, q, { attnMask: pad }).shape; // [2, 4, 5, 8]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductAttentionOptions = {}): Tensor {
  return attentionWithWeights(q, k, v, options)[0];
}

/** Options of the `MultiheadAttention` layer. */
export interface MultiheadAttentionOptions extends LayerOptions {
  /** Dropout on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Learn in_proj_bias and out_proj.bias (default true). */
  bias?: boolean;
  /** Features of the keys (default embedDim). */
  kdim?: number;
  /** Features of the values (default embedDim). */
  vdim?: number;
  /** Inputs and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). */
  batchFirst?: boolean;
}

/** Options of `MultiheadAttention.forward`. */
export interface MultiheadAttentionForwardOptions {
  /**
   * [batch, S] (or [S] unbatched): bool, true = this key is padding and is ignored (torch's
   * key_padding_mask convention), or float, added to the scores.
   */
  keyPaddingMask?: Tensor | null;
  /**
   * [L, S] or [batch · numHeads, L, S]: bool, true = NOT allowed (torch's MultiheadAttention
   * convention, the opposite of sdpa's), or float, added to the scores.
   */
  attnMask?: Tensor | null;
  /** Return the attention weights too (default true). */
  needWeights?: boolean;
  /** Average the weights over the heads ([batch, L, S]; default true) or keep them per head ([batch, heads, L, S]). */
  averageAttnWeights?: boolean;
  /** Add a causal mask (queries see keys j <= i); combined with attnMask if both are given. */
  isCausal?: boolean;
}

/**
 * Multi-head attention (torch.nn.MultiheadAttention): project query, key and value, attend in
 * `numHeads` heads of embedDim / numHeads features, concatenate, project. Parameters as torch:
 * in_proj_weight [3E, E] (or q_proj_weight, k_proj_weight, v_proj_weight when kdim or vdim differ
 * from embedDim), in_proj_bias [3E], out_proj.weight, out_proj.bias. `forward(query, key, value,
 * options)` returns [output, weights or null]. A query whose keys are all masked gives zeros (torch
 * 1.13: NaN).
 * @example
 * const mha = new MultiheadAttention(16, 4, { batchFirst: true });
 * const x = randn([2, 5, 16]);
 * const [out, w] = mha.forward(x, x, x, { keyPaddingMask: tensor([[false, false, false, true, true], [false, false, false, false, false]]) });
 * out.shape; // [2, 5, 16]
 * w!.shape; // [2, 5, 5]
 */
export class MultiheadAttention extends Module<[Tensor, Tensor, Tensor, MultiheadAttentionForwardOptions?], [Tensor, Tensor | null]> {
  /** Model width E. */
  declare readonly embedDim: number;
  /** Number of heads (E must be divisible by it). */
  declare readonly numHeads: number;
  /** Features per head, E / numHeads. */
  declare readonly headDim: number;
  /** Features of the keys. */
  declare readonly kdim: number;
  /** Features of the values. */
  declare readonly vdim: number;
  /** Dropout on the attention weights (training mode). */
  declare readonly dropout: number;
  /** Whether inputs and output are [batch, seq, feature]. */
  declare readonly batchFirst: boolean;
  /** The packed q, k, v projection [3E, E], or null when kdim / vdim differ from E. */
  declare readonly in_proj_weight: Tensor | null;
  /** The query projection [E, E] when kdim / vdim differ from E, else null. */
  declare readonly q_proj_weight: Tensor | null;
  /** The key projection [E, kdim] when kdim / vdim differ from E, else null. */
  declare readonly k_proj_weight: Tensor | null;
  /** The value projection [E, vdim] when kdim / vdim differ from E, else null. */
  declare readonly v_proj_weight: Tensor | null;
  /** The packed q, k, v bias [3E], or null with `bias: false`. */
  declare readonly in_proj_bias: Tensor | null;
  /** The output projection. */
  declare readonly out_proj: Linear;
  readonly #generator: Generator | undefined;

  /**
   * @param embedDim - model width E
   * @param numHeads - number of heads; E must be divisible by it
   * @param options - dropout, bias, kdim, vdim, batchFirst, dtype, generator
   */
  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const op = "MultiheadAttention";
    checkSize(op, "embedDim", embedDim, 1);
    checkSize(op, "numHeads", numHeads, 1);
    if (embedDim % numHeads !== 0) throw new ValueError(op, `embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    const dropout = options.dropout ?? 0;
    if (!(dropout >= 0 && dropout <= 1)) throw new ValueError(op, `dropout must be in [0, 1], got ${dropout}`);
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    checkSize(op, "kdim", this.kdim, 1);
    checkSize(op, "vdim", this.vdim, 1);
    this.dropout = dropout;
    this.batchFirst = options.batchFirst === true;
    this.#generator = options.generator;
    const dtype: FloatDType = options.dtype ?? getDefaultDtype();
    const E = embedDim;
    const packed = this.kdim === E && this.vdim === E;
    if (packed) {
      this.in_proj_weight = this.registerParameter("in_proj_weight", zeros([3 * E, E], { dtype }));
      this.q_proj_weight = this.k_proj_weight = this.v_proj_weight = null;
    } else {
      this.q_proj_weight = this.registerParameter("q_proj_weight", zeros([E, E], { dtype }));
      this.k_proj_weight = this.registerParameter("k_proj_weight", zeros([E, this.kdim], { dtype }));
      this.v_proj_weight = this.registerParameter("v_proj_weight", zeros([E, this.vdim], { dtype }));
      this.in_proj_weight = null;
    }
    this.in_proj_bias = this.registerParameter("in_proj_bias", options.bias === false ? null : zeros([3 * E], { dtype }));
    this.out_proj = this.registerModule("out_proj", new Linear(E, E, { bias: options.bias !== false, dtype, generator: options.generator }));
    this.resetParameters(options.generator);
  }

  /**
   * PyTorch's initialisation: Xavier-uniform projections, zero biases, out_proj.weight as a Linear's.
   * @example
   * new MultiheadAttention(8, 2).resetParameters(new Generator(0));
   */
  resetParameters(generator?: Generator): void {
    for (const w of [this.in_proj_weight, this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) if (w) init.xavierUniform(w, { generator });
    if (this.in_proj_bias) init.zeros(this.in_proj_bias);
    this.out_proj.resetParameters(generator);
    if (this.out_proj.bias) init.zeros(this.out_proj.bias);
  }

  /**
   * Attend. query [L, N, E], key [S, N, kdim], value [S, N, vdim] ([N, L, E], ... with batchFirst;
   * [L, E], ... unbatched). Returns [output [L, N, E] (batch first with batchFirst), weights]:
   * weights are [N, L, S] averaged over the heads, [N, heads, L, S] with averageAttnWeights: false,
   * null with needWeights: false.
   * @example
   * const mha = new MultiheadAttention(8, 2);
   * const x = randn([5, 3, 8]);
   * const [out] = mha.forward(x, x, x, { attnMask: causalMask(5).logicalNot(), needWeights: false });
   * out.shape; // [5, 3, 8]
   */
  forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const op = "MultiheadAttention";
    const batched = query.ndim === 3;
    if (query.ndim !== 2 && query.ndim !== 3) throw new ShapeError(op, `query must be 2-D (unbatched) or 3-D, got ${shapeStr(query.shape)}`);
    if (key.ndim !== query.ndim || value.ndim !== query.ndim) throw new ShapeError(op, `query, key and value must have the same number of dims, got ${shapeStr(query.shape)}, ${shapeStr(key.shape)}, ${shapeStr(value.shape)}`);
    // The projections run in the input's own layout ([seq, batch, feature] unless batchFirst; an
    // unbatched input is a batch of one), so a seq-first input is not copied to batch-first: only
    // the head views put [N, H] in front, and the output comes back in the input's layout.
    const seqFirst = batched && !this.batchFirst;
    const lay = (t: Tensor): Tensor => (batched ? t : t.unsqueeze(0));
    const q0 = lay(query);
    const k0 = lay(key);
    const v0 = lay(value);
    const [nDim, sDim] = seqFirst ? [1, 0] : [0, 1];
    const E = this.embedDim;
    const H = this.numHeads;
    const D = this.headDim;
    const N = q0.shape[nDim]!;
    const L = q0.shape[sDim]!;
    const S = k0.shape[sDim]!;
    if (q0.shape[2] !== E) throw new ShapeError(op, `query ${shapeStr(query.shape)} must end with embedDim ${E}`);
    if (k0.shape[2] !== this.kdim) throw new ShapeError(op, `key ${shapeStr(key.shape)} must end with kdim ${this.kdim}`);
    if (v0.shape[2] !== this.vdim) throw new ShapeError(op, `value ${shapeStr(value.shape)} must end with vdim ${this.vdim}`);
    if (k0.shape[nDim] !== N || v0.shape[nDim] !== N || v0.shape[sDim] !== S) throw new ShapeError(op, `key ${shapeStr(key.shape)} and value ${shapeStr(value.shape)} do not match query ${shapeStr(query.shape)}`);
    const b = this.in_proj_bias;
    const bq = b ? F.narrow(b, 0, 0, E) : null;
    const bk = b ? F.narrow(b, 0, E, E) : null;
    const bv = b ? F.narrow(b, 0, 2 * E, E) : null;
    const w = this.in_proj_weight;
    const wq = w ? F.narrow(w, 0, 0, E) : this.q_proj_weight!;
    const wk = w ? F.narrow(w, 0, E, E) : this.k_proj_weight!;
    const wv = w ? F.narrow(w, 0, 2 * E, E) : this.v_proj_weight!;
    // [N, H, n, D] views of a projection [N, n, E] or (seq-first) [n, N, E]
    const heads = (t: Tensor, n: number): Tensor => (seqFirst ? t.reshape(n, N, H, D).permute(1, 2, 0, 3) : t.reshape(N, n, H, D).transpose(1, 2));
    // The score scale 1/√D goes into the query projection (torch 1.13 scales q): on its weight and
    // bias, or on its output when that has fewer entries.
    const scale = 1 / Math.sqrt(D);
    const onWeight = E * wq.shape[1]! <= N * L * E;
    const q = heads(onWeight ? LF.linear(q0, wq.mul(scale), bq ? bq.mul(scale) : null) : LF.linear(q0, wq, bq).mul(scale), L);
    const k = heads(LF.linear(k0, wk, bk), S);
    const v = heads(LF.linear(v0, wv, bv), S);
    const masks = this.#masks(options, N, L, S, q.dtype as FloatDType, batched);
    const [o, p] = attentionWithWeights(q, k, v, { scale: 1, dropoutP: this.training ? this.dropout : 0, generator: this.#generator }, masks);
    let out = this.out_proj.forward(seqFirst ? o.permute(2, 0, 1, 3).reshape(L, N, E) : o.transpose(1, 2).reshape(N, L, E));
    if (!batched) out = out.squeeze(0);
    if (options.needWeights === false) return [out, null];
    let weights = options.averageAttnWeights === false ? p : p.mean(1);
    if (!batched) weights = weights.squeeze(0);
    return [out, weights];
  }

  /**
   * The masks, broadcastable to [N, H, L, S]: the bool ones (true = NOT allowed, torch's
   * convention) inverted and combined by AND, the float ones summed, the causal one as a flag.
   */
  #masks(o: MultiheadAttentionForwardOptions, N: number, L: number, S: number, dtype: FloatDType, batched: boolean): AttentionMasks {
    const op = "MultiheadAttention";
    const H = this.numHeads;
    let allowed: Tensor | null = null;
    let additive: Tensor | null = null;
    const take = (m: Tensor, shape: number[]): void => {
      if (m.dtype === "bool") {
        const a = m.logicalNot().reshape(shape);
        allowed = allowed ? allowed.logicalAnd(a) : a;
      } else {
        const a = (m.dtype === dtype ? m : F.cast(m, dtype)).reshape(shape);
        additive = additive ? additive.add(a) : a;
      }
    };
    if (o.attnMask) {
      const m = o.attnMask;
      if (m.ndim === 2) {
        if (m.shape[0] !== L || m.shape[1] !== S) throw new ShapeError(op, `a 2-D attnMask must be [${L}, ${S}], got ${shapeStr(m.shape)}`);
        take(m, [L, S]);
      } else if (m.ndim === 3) {
        if (m.shape[0] !== N * H || m.shape[1] !== L || m.shape[2] !== S) throw new ShapeError(op, `a 3-D attnMask must be [${N * H}, ${L}, ${S}], got ${shapeStr(m.shape)}`);
        take(m, [N, H, L, S]);
      } else throw new ShapeError(op, `attnMask must be 2-D or 3-D, got ${shapeStr(m.shape)}`);
    }
    if (o.keyPaddingMask) {
      const m = o.keyPaddingMask;
      const want = batched ? [N, S] : [S];
      if (shapeStr(m.shape) !== shapeStr(want)) throw new ShapeError(op, `keyPaddingMask must be ${shapeStr(want)}, got ${shapeStr(m.shape)}`);
      take(m, [N, 1, 1, S]);
    }
    return { allowed, additive, causal: o.isCausal === true };
  }

  override extraRepr(): string {
    return `embed_dim=${this.embedDim}, num_heads=${this.numHeads}${this.batchFirst ? ", batch_first=True" : ""}`;
  }
}
