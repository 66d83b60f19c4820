/**
 * The function form of every layer and loss (torch.nn.functional in camelCase). All of them are
 * compositions of core ops, so their gradients come from the op table.
 *
 * Safety choices (each marked `NOTE:` at the code):
 * - Norms put eps inside the square root (`rsqrt(var + eps)`), so a constant row gives a finite
 *   output and gradient.
 * - Rows whose magnitude would overflow when squared (|x| >= 2^32 in float32, 2^256 in float64)
 *   are first divided by a power of two. The normalisations are scale-invariant once eps is
 *   scaled with them, and power-of-two scaling is exact, so such rows give the float64 answer
 *   instead of Infinity or NaN (see {@link overflowScale}); other rows are computed unchanged.
 * - Losses refuse input/target shape mismatches instead of broadcasting them (the [N] vs [N, 1]
 *   bug), a mean over nothing is 0 (PyTorch: NaN), and a cross-entropy batch whose targets are
 *   all ignored gives 0 with a zero gradient (PyTorch: NaN).
 */
import { DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import { assertFloat, safeDenominator } from "../ops/define.js";
import { noGrad } from "../autograd/grad-mode.js";
import { contiguousData } from "../tensor/layout.js";
import { isFloat, maxFinite, type FloatDType } from "../tensor/dtype.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import { broadcastShapes, normDim, normDims, sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { ownsStorage } from "./module.js";
import { constLike, overflowScale, type RowScale } from "../ops/overflow-scale.js";
import { markModified } from "../tensor/version.js";
import { composite } from "../autograd/composite.js";
import { bceWithLogitsUnit, cosineSimilarityUnit } from "./units.js";
import { scaled, standardize } from "./standardize.js";
import { layerNormOpCall } from "../ops/norm.js";

export { elu, celu, selu, mish, relu6, hardtanh, hardsigmoid, hardswish, softsign, softmin } from "../ops/index.js";
export { relu, leakyRelu, gelu, silu, tanh, sigmoid, softmax, logSoftmax, softplus, conv2d, maxPool2d, avgPool2d, pad } from "../ops/index.js";
export * from "./functional-spatial.js";

/**
 * How a loss reduces its per-element values: "mean" (default), "sum", or "none" (keep them).
 * @example
 * const r: Reduction = "sum";
 * mseLoss(pred, target, { reduction: r });
 */
export type Reduction = "mean" | "sum" | "none";

// ------------------------------------------------------------------ helpers
function checkSameDtype(op: string, a: Tensor, aName: string, b: Tensor, bName: string): void {
  if (a.dtype !== b.dtype) throw new DTypeError(op, `${bName} dtype ${b.dtype} differs from ${aName} dtype ${a.dtype}; convert one with .to()`);
}

/**
 * NOTE: PyTorch broadcasts a target of shape [N] against an input of [N, 1] (with a warning) into
 * an [N, N] loss: a silent wrong answer. Elementwise losses here require identical shapes.
 */
function checkPair(op: string, input: Tensor, target: Tensor): void {
  assertFloat(op, input, "input");
  assertFloat(op, target, "target");
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(op, `target shape ${shapeStr(target.shape)} differs from input shape ${shapeStr(input.shape)} (losses do not broadcast)`);
  }
  checkSameDtype(op, input, "input", target, "target");
}

/** A float tensor that broadcasts to `shape` (weights), with the input's dtype. */
function checkBroadcastable(op: string, what: string, t: Tensor, like: Tensor): void {
  assertFloat(op, t, what);
  checkSameDtype(op, like, "input", t, what);
  const b = broadcastShapes(op, t.shape, like.shape);
  if (!sameShape(b, like.shape)) throw new ShapeError(op, `${what} shape ${shapeStr(t.shape)} does not broadcast to input shape ${shapeStr(like.shape)}`);
}

/** With `den`, "mean" is the weighted mean sum / den of the class losses. */
function reduce(op: string, loss: Tensor, reduction: Reduction | undefined, den?: Tensor): Tensor {
  switch (reduction ?? "mean") {
    case "none":
      return loss;
    case "sum":
      return loss.sum();
    case "mean":
      // NOTE: the mean over zero elements is 0 here, not PyTorch's 0/0 = NaN; likewise all class
      // targets ignored (or zero total weight): 0 with a zero gradient.
      return den ? loss.sum().div(safeDenominator(den)) : loss.numel === 0 ? loss.sum() : loss.mean();
    default:
      throw new ValueError(op, `reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`);
  }
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ValueError(op, `eps must be a finite number >= 0, got ${eps}`);
}

// ------------------------------------------------------------------ layers
/**
 * y = x Wᵀ + b, as torch.nn.functional.linear. x [..., in], weight [out, in], bias [out].
 * @example
 * linear(x, weight, bias); // [N, in] -> [N, out]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  assertFloat("linear", x, "input");
  assertFloat("linear", weight, "weight");
  if (weight.ndim !== 2) throw new ShapeError("linear", `weight must be 2-D [out, in], got ${shapeStr(weight.shape)}`);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new ShapeError("linear", `input shape ${shapeStr(x.shape)} does not end with in_features ${weight.shape[1]} of weight ${shapeStr(weight.shape)}`);
  }
  checkSameDtype("linear", x, "input", weight, "weight");
  // NOTE: leading dims folded into one (a view for a contiguous x): one GEMM forward, one for the
  // input gradient and one for the weight gradient, instead of a batch of them against a broadcast
  // weight whose gradient is then summed over the batch.
  const lead = x.ndim > 2 && x.numel > 0 ? x.shape.slice(0, -1) : null;
  let y = (lead ? x.reshape([-1, x.shape[x.ndim - 1]!]) : x).matmul(weight.T);
  if (lead) y = y.reshape([...lead, weight.shape[0]!]);
  if (bias) {
    checkSameDtype("linear", x, "input", bias, "bias");
    if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) throw new ShapeError("linear", `bias must have shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
    y = y.add(bias);
  }
  return y;
}

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number;
  /** Apply dropout (default true, as torch.nn.functional.dropout); false is the identity. */
  training?: boolean;
  /** Source of randomness (default: the default generator). */
  generator?: Generator;
}

/**
 * Inverted dropout: zero each element with probability p and scale the rest by 1 / (1 - p).
 * @example
 * dropout(x, { p: 0.1, generator: new Generator(42) });
 */
export function dropout(x: Tensor, options: DropoutOptions = {}): Tensor {
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new ValueError("dropout", `p must be in [0, 1], got ${p}`);
  assertFloat("dropout", x, "input");
  if (options.training === false || p === 0) return x;
  const g = options.generator ?? defaultGenerator;
  const keep = new Uint8Array(x.numel);
  for (let i = 0; i < keep.length; i++) keep[i] = g.random() >= p ? 1 : 0;
  // NOTE: where() rather than a 0/scale multiplier: a dropped Infinity gives 0, not 0 * inf = NaN.
  // p = 1 drops everything (no 1/0 scale is formed).
  return F.where(new Tensor(keep, x.shape), p === 1 ? x : x.mul(1 / (1 - p)), 0);
}

/** Options of `embedding`. */
export interface EmbeddingOptions {
  /** Rows at this index get no gradient (as PyTorch's padding_idx; default: none). */
  paddingIdx?: number | null;
}

/**
 * Rows of `weight` picked by an int32 index tensor: [...] -> [..., dim].
 * @example
 * embedding(tensor([[0, 2]], { dtype: "int32" }), weight); // [1, 2, dim]
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  if (input.dtype !== "int32") throw new DTypeError("embedding", `indices must be int32, got ${input.dtype}`);
  assertFloat("embedding", weight, "weight");
  if (weight.ndim !== 2) throw new ShapeError("embedding", `weight must be 2-D [num, dim], got ${shapeStr(weight.shape)}`);
  const [num, dim] = weight.shape as [number, number];
  const idx = contiguousData(input);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < 0 || v >= num) throw new IndexError("embedding", `index ${v} is out of range for an embedding of ${num} rows`);
  }
  const rows = F.indexSelect(weight, 0, input.reshape([-1])).reshape([...input.shape, dim]);
  if (options.paddingIdx == null) return rows;
  const pad = options.paddingIdx < 0 ? options.paddingIdx + num : options.paddingIdx;
  if (!Number.isInteger(pad) || pad < 0 || pad >= num) throw new IndexError("embedding", `paddingIdx ${options.paddingIdx} is out of range for an embedding of ${num} rows`);
  // The padding row keeps its value but passes no gradient (a detached copy is selected there).
  return F.where(input.ne(pad).unsqueeze(-1), rows, rows.detach());
}

function normalizedDims(op: string, x: Tensor, normalizedShape: readonly number[]): number[] {
  const k = normalizedShape.length;
  if (k === 0 || x.ndim < k || !sameShape(x.shape.slice(x.ndim - k), normalizedShape)) {
    throw new ShapeError(op, `expected input of shape [*, ${normalizedShape.join(", ")}], got ${shapeStr(x.shape)}`);
  }
  return Array.from({ length: k }, (_, i) => x.ndim - k + i);
}

function checkAffine(op: string, x: Tensor, t: Tensor | null | undefined, shape: readonly number[], what: string): void {
  if (!t) return;
  assertFloat(op, t, what);
  checkSameDtype(op, x, "input", t, what);
  if (!sameShape(t.shape, shape)) throw new ShapeError(op, `${what} must have shape ${shapeStr(shape)}, got ${shapeStr(t.shape)}`);
}

/** Options of `layerNorm`. */
export interface LayerNormOptions {
  /** Per-element scale, of shape `normalizedShape` (default: none). */
  weight?: Tensor | null;
  /** Per-element shift, of shape `normalizedShape` (default: none). */
  bias?: Tensor | null;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
}

/**
 * Layer normalisation over the last dims (`normalizedShape`):
 * (x - mean) * rsqrt(var + eps) * weight + bias, with the biased variance (as PyTorch).
 * @example
 * const h = randn([2, 4]);
 * layerNorm(h, [4], { weight: ones([4]), bias: zeros([4]) }); // each row: mean 0, variance ~1
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], options: LayerNormOptions = {}): Tensor {
  assertFloat("layerNorm", x, "input");
  const eps = options.eps ?? 1e-5;
  checkEps("layerNorm", eps);
  const dims = normalizedDims("layerNorm", x, normalizedShape);
  checkAffine("layerNorm", x, options.weight, normalizedShape, "weight");
  checkAffine("layerNorm", x, options.bias, normalizedShape, "bias");
  if (x.numel === 0) return x;
  // NOTE: one fused op (ops/norm.ts: one kernel forward, one backward, as safe as the composite);
  // eps = 0 keeps the composite, whose rsqrt(0) of a constant row the anomaly hints name
  if (eps > 0) return layerNormOpCall(x, dims.length, eps, options.weight, options.bias);
  let y = standardize(x, dims, eps).y;
  if (options.weight) y = y.mul(options.weight);
  if (options.bias) y = y.add(options.bias);
  return y;
}

/** Options of `rmsNorm`. */
export interface RmsNormOptions {
  /** Per-element scale, of shape `normalizedShape` (default: none). */
  weight?: Tensor | null;
  /**
   * Added to mean(x²) inside the square root. Default 1e-6. (torch 2.4's rms_norm defaults to the
   * machine epsilon of the dtype; pass it explicitly to match.)
   */
  eps?: number;
}

/**
 * Root-mean-square normalisation over the last dims: x * rsqrt(mean(x²) + eps) * weight
 * (torch 2.4 semantics).
 * @example
 * rmsNorm(randn([2, 8]), [8], { weight: ones([8]) });
 */
export function rmsNorm(x: Tensor, normalizedShape: readonly number[], options: RmsNormOptions = {}): Tensor {
  assertFloat("rmsNorm", x, "input");
  const eps = options.eps ?? 1e-6;
  checkEps("rmsNorm", eps);
  const dims = normalizedDims("rmsNorm", x, normalizedShape);
  checkAffine("rmsNorm", x, options.weight, normalizedShape, "weight");
  if (x.numel === 0) return x;
  const sc = overflowScale(x, dims);
  const xs = scaled(x, sc);
  // NOTE: eps inside the root: an all-zero row gives 0 with a finite gradient.
  let y = xs.mul(xs.square().mean(dims, true).add(sc ? sc.eps(eps, 2) : eps).rsqrt());
  if (options.weight) y = y.mul(options.weight);
  return y;
}

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Per-channel scale [C] (default: none). */
  weight?: Tensor | null;
  /** Per-channel shift [C] (default: none). */
  bias?: Tensor | null;
  /** Use batch statistics and update the running ones (default false, as PyTorch). */
  training?: boolean;
  /** Weight of the new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalisation over every dim but the channel dim 1, as torch.nn.functional.batch_norm.
 * Training normalises with the biased batch variance and updates the running statistics in place
 * (the running variance with the unbiased one); evaluation uses the running statistics.
 * @example
 * const feats = randn([8, 4]);
 * const mu = zeros([4]);
 * const sigma2 = ones([4]);
 * batchNorm(feats, mu, sigma2, { training: true, weight: ones([4]), bias: zeros([4]) }); // updates mu, sigma2
 * batchNorm(feats, mu, sigma2); // evaluation: uses them
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const op = "batchNorm";
  assertFloat(op, x, "input");
  if (x.ndim < 2) throw new ShapeError(op, `expects input [N, C, ...], got ${shapeStr(x.shape)}`);
  const C = x.shape[1]!;
  const eps = options.eps ?? 1e-5;
  checkEps(op, eps);
  const momentum = options.momentum ?? 0.1;
  if (!(momentum >= 0 && momentum <= 1)) throw new ValueError(op, `momentum must be in [0, 1], got ${momentum}`);
  checkAffine(op, x, options.weight, [C], "weight");
  checkAffine(op, x, options.bias, [C], "bias");
  for (const [t, what] of [[runningMean, "runningMean"], [runningVar, "runningVar"]] as const) {
    if (!t) continue;
    checkAffine(op, x, t, [C], what);
    if (options.training && !ownsStorage(t)) throw new ValueError(op, `${what} is updated in place and must be contiguous at offset 0 of its own storage`);
  }
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  let y: Tensor;
  if (options.training) {
    const n = x.numel / Math.max(C, 1);
    if (n <= 1) throw new ValueError(op, `Expected more than 1 value per channel when training, got input size ${shapeStr(x.shape)}`);
    const st = standardize(x, dims, eps);
    y = st.y;
    if (runningMean || runningVar) {
      // Plain storage writes: no op runs, so no graph is recorded.
      const mean = contiguousData(st.mean);
      const v = contiguousData(st.varBiased);
      const s = st.sc ? contiguousData(st.sc.s) : null;
      const big = maxFinite(x.dtype as FloatDType);
      for (let c = 0; c < C; c++) {
        const sc = s ? s[c]! : 1;
        if (runningMean) runningMean.storage[c] = (1 - momentum) * runningMean.storage[c]! + momentum * mean[c]! * sc;
        if (runningVar) {
          // NOTE: unbiased variance for the running estimate (as PyTorch); capped at the largest finite value.
          const unbiased = Math.min(v[c]! * sc * sc * (n / (n - 1)), big);
          runningVar.storage[c] = (1 - momentum) * runningVar.storage[c]! + momentum * unbiased;
        }
      }
      if (runningMean) markModified(runningMean);
      if (runningVar) markModified(runningVar);
    }
  } else {
    if (!runningMean || !runningVar) throw new ValueError(op, "runningMean and runningVar are required in evaluation mode");
    y = x.sub(runningMean.reshape(bshape)).mul(runningVar.reshape(bshape).add(eps).rsqrt());
  }
  if (options.weight) y = y.mul(options.weight.reshape(bshape));
  if (options.bias) y = y.add(options.bias.reshape(bshape));
  return y;
}

/** Options of `normalize` and the `L2Normalize` layer. */
export interface NormalizeOptions {
  /** Norm exponent (default 2). */
  p?: number;
  /** Dim to normalise (default 1). */
  dim?: number;
  /** Lower bound of the norm (default 1e-12). */
  eps?: number;
}

/**
 * x / max(||x||_p, eps) along `dim`, as torch.nn.functional.normalize.
 * NOTE: at x = 0 the result is 0 with the finite gradient 1/eps (the core norm's gradient at 0
 * is 0, and the clamp then passes no gradient to the norm).
 * @example
 * normalize(tensor([[3, 4]])).toArray(); // [[0.6, 0.8]]
 */
export function normalize(x: Tensor, options: NormalizeOptions = {}): Tensor {
  assertFloat("normalize", x, "input");
  const p = options.p ?? 2;
  const eps = options.eps ?? 1e-12;
  checkEps("normalize", eps);
  const d = normDim("normalize", options.dim ?? 1, x.ndim);
  if (x.numel === 0) return x;
  // Scaled rows have a norm >= 1, so the clamp stays inactive there whenever eps <= 1.
  const sc = eps <= 1 ? overflowScale(x, [d]) : null;
  const xs = scaled(x, sc);
  return xs.div(F.norm(xs, p, d, true).clamp(eps));
}

/** Options of `stdPool` and the `StdPool` layer. */
export interface StdPoolOptions {
  /** Dim or dims to pool over. */
  dim: number | readonly number[];
  /** Added to the variance inside the root (default 1e-5). */
  eps?: number;
  /** Keep the pooled dims with size 1 (default false). */
  keepdim?: boolean;
  /** Bessel's correction (default 0: the biased variance). */
  correction?: number;
}

/**
 * Standard-deviation pooling: sqrt(var(x) + eps) over `dim`.
 * NOTE: eps inside the root keeps the gradient finite for a constant input, where the sqrt of a
 * variance written by hand has the gradient 0 * inf = NaN (`std` and `var` mask it to 0). It is
 * computed as the 2-norm of [||x - mean|| / √(n - correction), √eps]
 * (the same number): the core norm neither overflows (it rescales internally) nor has a NaN
 * gradient at 0, and the outer norm is >= √eps, so no division by ~0 appears in the gradient.
 * @example
 * stdPool(x, { dim: 1 }); // [N, T] -> [N]
 */
export function stdPool(x: Tensor, options: StdPoolOptions): Tensor {
  assertFloat("stdPool", x, "input");
  const eps = options.eps ?? 1e-5;
  checkEps("stdPool", eps);
  const correction = options.correction ?? 0;
  if (options.dim === undefined) throw new ValueError("stdPool", "dim is required");
  const dims = normDims("stdPool", options.dim, x.ndim);
  const n = dims.reduce((a, d) => a * x.shape[d]!, 1);
  if (!(n - correction > 0)) throw new ValueError("stdPool", `needs more than correction=${correction} elements per row, got ${n} (shape ${shapeStr(x.shape)})`);
  const sc = overflowScale(x, dims);
  // The mean of x / s times s: exact, and the sum cannot overflow.
  const mean = sc ? scaled(x, sc).mean(dims, true).mul(sc.s) : x.mean(dims, true);
  const spread = F.norm(x.sub(mean), 2, dims, true).mul(1 / Math.sqrt(n - correction));
  const r = F.norm(F.stack([spread, constLike(x.dtype, spread.shape, new Float64Array(spread.numel).fill(Math.sqrt(eps)))], -1), 2, -1);
  return options.keepdim ? r : r.reshape(x.shape.filter((_, i) => !dims.includes(i)));
}

// ------------------------------------------------------------------ losses
/** The `reduction` option shared by the losses. */
export interface ReductionOptions {
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/**
 * Mean absolute error |input - target|. Its gradient at exactly zero error is 0.
 * @example
 * l1Loss(pred, target); // scalar
 */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkPair("l1Loss", input, target);
  return reduce("l1Loss", input.sub(target).abs(), options.reduction);
}

/**
 * Mean squared error (input - target)².
 * @example
 * mseLoss(pred, target, { reduction: "sum" });
 */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkPair("mseLoss", input, target);
  return reduce("mseLoss", input.sub(target).square(), options.reduction);
}

/** Options of `huberLoss` and `HuberLoss`. */
export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1, must be > 0). */
  delta?: number;
}

/**
 * Huber loss: 0.5 d² for |d| <= delta, delta (|d| - 0.5 delta) beyond.
 * NOTE: written as 0.5 m² + delta (|d| - m) with m = min(|d|, delta): no branch is evaluated
 * outside its range (no where() trap), and the gradient at |d| = delta is delta·sign(d) from both sides.
 * @example
 * huberLoss(pred, target, { delta: 0.5 });
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  checkPair("huberLoss", input, target);
  const delta = options.delta ?? 1;
  if (!(delta > 0) || !Number.isFinite(delta)) throw new ValueError("huberLoss", `delta must be a finite number > 0, got ${delta}`);
  const z = input.sub(target).abs();
  const m = z.clamp(null, delta);
  return reduce("huberLoss", m.square().mul(0.5).add(z.sub(m).mul(delta)), options.reduction);
}

/** Options of `smoothL1Loss` and `SmoothL1Loss`. */
export interface SmoothL1Options extends ReductionOptions {
  /** Width of the quadratic zone (default 1, must be >= 0; 0 gives the L1 loss). */
  beta?: number;
}

/**
 * Smooth L1 loss: 0.5 d² / beta for |d| < beta, |d| - 0.5 beta beyond (Huber / beta).
 * NOTE: beta = 0 is the L1 loss (as PyTorch, which special-cases it) rather than 0 / 0.
 * @example
 * smoothL1Loss(pred, target, { beta: 0.5 });
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  checkPair("smoothL1Loss", input, target);
  const beta = options.beta ?? 1;
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new ValueError("smoothL1Loss", `beta must be a finite number >= 0, got ${beta}`);
  const z = input.sub(target).abs();
  if (beta === 0) return reduce("smoothL1Loss", z, options.reduction);
  const m = z.clamp(null, beta);
  return reduce("smoothL1Loss", m.square().mul(0.5 / beta).add(z.sub(m)), options.reduction);
}

/** Options of `crossEntropy` and `CrossEntropyLoss`. */
export interface CrossEntropyOptions extends ReductionOptions {
  /** Per-class weights [C], finite (default: none, all 1; negative ones are allowed, as torch). */
  weight?: Tensor | null;
  /** Targets equal to this class index are ignored (default -100). Class-index targets only. */
  ignoreIndex?: number;
  /** Mix the target with the uniform distribution by this amount, in [0, 1] (default 0). */
  labelSmoothing?: number;
}

/**
 * Options of `nllLoss` and `NLLLoss`: those of cross-entropy without label smoothing.
 * @example
 * const o: NllLossOptions = { ignoreIndex: -1, reduction: "sum" };
 * nllLoss(logits.logSoftmax(1), y, o);
 */
export type NllLossOptions = Omit<CrossEntropyOptions, "labelSmoothing">;

function checkClassWeight(op: string, weight: Tensor, C: number, like: Tensor): void {
  assertFloat(op, weight, "weight");
  checkSameDtype(op, like, "input", weight, "weight");
  if (weight.ndim !== 1 || weight.shape[0] !== C) throw new ShapeError(op, `weight must have shape [${C}], got ${shapeStr(weight.shape)}`);
  const w = contiguousData(weight);
  for (let i = 0; i < w.length; i++) {
    // NOTE: negative class weights are allowed, as torch (a weighted mean may then divide by a sum
    // of weights that is 0: that batch gives 0, see reduce()).
    if (!Number.isFinite(w[i]!)) throw new ValueError(op, `weight[${i}] must be finite, got ${w[i]}`);
  }
}

function classInput(op: string, input: Tensor): void {
  assertFloat(op, input, "input");
  if (input.ndim === 0) throw new ShapeError(op, "input must have a class dim: [C] or [N, C, ...]");
}

interface ClassTargets {
  /** Target indices with ignored entries replaced by 0 (safe to gather), shape of the target. */
  index: Tensor;
  /** True where the target is not ignored. */
  keep: Tensor;
}

function classTargets(op: string, logp: Tensor, target: Tensor, ignoreIndex: number): ClassTargets {
  if (target.dtype !== "int32") throw new DTypeError(op, `class targets must be int32, got ${target.dtype}`);
  const expected = logp.shape.filter((_, i) => i !== 1);
  if (!sameShape(target.shape, expected)) {
    throw new ShapeError(op, `target shape ${shapeStr(target.shape)} does not fit input shape ${shapeStr(logp.shape)}: expected ${shapeStr(expected)} (no class dim)`);
  }
  const C = logp.shape[1]!;
  const t = contiguousData(target);
  const index = new Int32Array(t.length);
  const keep = new Uint8Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (v === ignoreIndex) continue;
    if (v < 0 || v >= C) throw new IndexError(op, `target ${v} is out of bounds for ${C} classes (ignoreIndex ${ignoreIndex})`);
    index[i] = v;
    keep[i] = 1;
  }
  return { index: new Tensor(index, target.shape), keep: new Tensor(keep, target.shape) };
}

/**
 * Σ -w[t] logp[t] over kept targets, reduced with PyTorch's weighted mean (divided by the sum of
 * the kept targets' weights). Returns the unreduced loss, the weights and that denominator.
 */
function nllParts(logp: Tensor, ct: ClassTargets, weight: Tensor | null | undefined): { loss: Tensor; den: Tensor } {
  const picked = logp.gather(1, ct.index.unsqueeze(1)).squeeze(1);
  const wsel = weight ? F.indexSelect(weight, 0, ct.index.reshape([-1])).reshape(ct.index.shape) : null;
  // NOTE: where() (not a 0/1 multiplier) masks ignored entries, so a -inf log-probability there
  // gives 0, not 0 * inf = NaN.
  const loss = F.where(ct.keep, wsel ? picked.mul(wsel).neg() : picked.neg(), 0);
  const den = wsel ? F.where(ct.keep, wsel, 0).sum() : ct.keep.sum().to(logp.dtype);
  return { loss, den };
}

/** [C] with a 0-d target is treated as a batch of one (as PyTorch); `unbatch` undoes it for "none". */
function batched(input: Tensor, target: Tensor, probs: boolean): { input: Tensor; target: Tensor; unbatch: (t: Tensor) => Tensor } {
  if (input.ndim !== 1) return { input, target, unbatch: (t) => t };
  return { input: input.unsqueeze(0), target: probs ? target.unsqueeze(0) : target.reshape([1]), unbatch: (t) => (t.ndim === 0 ? t : t.reshape([])) };
}

/**
 * Negative log-likelihood of log-probabilities [N, C, ...] (or [C]) at int32 class targets.
 * Weighted mean as PyTorch: Σ w[t_i] (-logp_i) / Σ w[t_i] over non-ignored targets.
 * @example
 * nllLoss(logits.logSoftmax(1), y); // y: int32 classes [N]
 * nllLoss(logits.logSoftmax(1), tensor([1, -100], { dtype: "int32" })); // the second target is ignored
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const op = "nllLoss";
  classInput(op, input);
  const b = batched(input, target, false);
  if (options.weight) checkClassWeight(op, options.weight, b.input.shape[1]!, input);
  const ct = classTargets(op, b.input, b.target, options.ignoreIndex ?? -100);
  const { loss, den } = nllParts(b.input, ct, options.weight);
  return b.unbatch(reduce(op, loss, options.reduction, den));
}

/**
 * Cross-entropy from logits [N, C, ...] (or [C]) via a stable logSoftmax over dim 1, with int32
 * class targets [N, ...] or class probabilities of the logits' shape. Options as PyTorch: class
 * `weight` (weighted mean), `ignoreIndex`, `labelSmoothing`, `reduction`.
 *
 * NOTE (safety difference): when every target is ignored, the mean is 0 with a zero gradient
 * (PyTorch returns NaN).
 * @example
 * crossEntropy(logits, tensor([2, 0], { dtype: "int32" }), { labelSmoothing: 0.1 });
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = "crossEntropy";
  classInput(op, input);
  const ls = options.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw new ValueError(op, `labelSmoothing must be in [0, 1], got ${ls}`);
  const probs = isFloat(target.dtype);
  const b = batched(input, target, probs);
  const x = b.input;
  const C = x.shape[1]!;
  const weight = options.weight;
  if (weight) checkClassWeight(op, weight, C, input);
  const logp = x.logSoftmax(1);
  const wb = weight ? weight.reshape(x.shape.map((s, i) => (i === 1 ? s : 1))) : null;

  if (probs) {
    if (!sameShape(b.target.shape, x.shape)) {
      throw new ShapeError(op, `probability targets must have the input's shape ${shapeStr(input.shape)}, got ${shapeStr(target.shape)} (class targets must be int32)`);
    }
    checkSameDtype(op, input, "input", target, "target");
    const t = ls > 0 ? b.target.mul(1 - ls).add(ls / C) : b.target;
    // NOTE: a zero target probability contributes 0 even where logp = -inf (not 0 * -inf = NaN).
    let prod = F.where(t.eq(0), 0, logp.mul(t));
    if (wb) prod = prod.mul(wb);
    // The mean is over the batch elements, unweighted (as PyTorch for probability targets).
    return b.unbatch(reduce(op, prod.sum(1).neg(), options.reduction));
  }

  const ct = classTargets(op, x, b.target, options.ignoreIndex ?? -100);
  const { loss: nll, den } = nllParts(logp, ct, weight);
  if (ls === 0) return b.unbatch(reduce(op, nll, options.reduction, den));
  // Label smoothing, exactly as PyTorch: (1 - ls) * nll + ls / C * Σ_c -w_c logp_c, the second
  // term masked at ignored targets and divided by the same denominator for "mean".
  const smooth = F.where(ct.keep, (wb ? logp.mul(wb) : logp).sum(1).neg(), 0);
  const mixed = nll.mul(1 - ls).add(smooth.mul(ls / C));
  return b.unbatch(reduce(op, mixed, options.reduction, den));
}

/** Options of `binaryCrossEntropy` and `BCELoss`. */
export interface BceOptions extends ReductionOptions {
  /** Per-element weight, broadcast to the input's shape (default: none, all 1). */
  weight?: Tensor | null;
}
/** Options of `binaryCrossEntropyWithLogits` and `BCEWithLogitsLoss`. */
export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive term, broadcast along the last (class) dim (default: none, all 1). */
  posWeight?: Tensor | null;
}

/**
 * Binary cross-entropy from logits, stable for any finite logit (±1000 included), as PyTorch:
 * (1 - t) x + m + log(e^-m + e^(-x-m)) with m = max(-x, 0).
 *
 * NOTE: the shift m is detached. The common form max(x, 0) - x t + log1p(exp(-|x|)) is right in
 * value, but with the subgradients relu'(0) = |x|'(0) = 0 its gradient at x = 0 comes out as -t
 * instead of sigmoid(0) - t = 0.5 - t. With a constant shift the gradient is the exact
 * sigmoid(x) - t everywhere.
 * @example
 * binaryCrossEntropyWithLogits(logits, targets, { posWeight: tensor([3]) });
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  checkPair(op, input, target);
  if (options.posWeight) checkBroadcastable(op, "posWeight", options.posWeight, input);
  const pw = options.posWeight;
  let loss = composite(bceWithLogitsUnit, pw ? [input, target, pw] : [input, target], null, () => {
    const m = input.detach().neg().clamp(0);
    const logTerm = m.neg().exp().add(input.neg().sub(m).exp()).log();
    if (pw) {
      const logWeight = pw.sub(1).mul(target).add(1);
      return target.neg().add(1).mul(input).add(logWeight.mul(logTerm.add(m)));
    }
    return target.neg().add(1).mul(input).add(m).add(logTerm);
  });
  if (options.weight) {
    checkBroadcastable(op, "weight", options.weight, input);
    loss = loss.mul(options.weight);
  }
  return reduce(op, loss, options.reduction);
}

/** Below this probability the log's gradient is held at 1 / BCE_EPS (PyTorch's backward bound). */
const BCE_EPS = 1e-12;

/**
 * log(u) for BCE: clamped below at -100 in value (as PyTorch), with a gradient of at most
 * 1 / 1e-12 in magnitude.
 *
 * NOTE: PyTorch's BCE backward is (p - t) / max(p (1 - p), 1e-12), bounded by 1e12. Plain
 * autograd of log gives 1/p: up to e^100 = 2.7e43, which overflows float32 to Infinity, and
 * 0 * (1/0) = NaN at p = 0 after a clamp. For u >= 1e-12 this is log(u) itself (differentiable
 * twice); below, the value is the (clamped) log and the gradient the constant 1e12 (a straight-through
 * term whose value is exactly 0).
 */
function bceLog(u: Tensor): Tensor {
  const big = u.ge(BCE_EPS);
  const natural = F.where(big, u, 1).log();
  const clamped = noGrad(() => {
    const pos = u.gt(0);
    return F.where(pos, F.where(pos, u, 1).log().clamp(-100), -100);
  });
  const tiny = u.sub(u.detach()).mul(1 / BCE_EPS).add(clamped);
  return F.where(big, natural, tiny);
}

/**
 * Binary cross-entropy of probabilities in [0, 1]: -(t log p + (1 - t) log(1 - p)), each log
 * clamped at -100 (as PyTorch), so p = 0 or 1 gives a finite loss; the gradient is bounded by
 * 1e12 in magnitude (as PyTorch's) so it stays finite in float32. Prefer the logits form.
 * @example
 * binaryCrossEntropy(probs, targets);
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BceOptions = {}): Tensor {
  const op = "binaryCrossEntropy";
  checkPair(op, input, target);
  const p = contiguousData(input);
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! >= 0 && p[i]! <= 1)) throw new ValueError(op, `all elements of input should be between 0 and 1, got ${p[i]}`);
  }
  let loss = target.sub(1).mul(bceLog(input.neg().add(1))).sub(target.mul(bceLog(input)));
  if (options.weight) {
    checkBroadcastable(op, "weight", options.weight, input);
    loss = loss.mul(options.weight);
  }
  return reduce(op, loss, options.reduction);
}

/** Options of `cosineSimilarity` and the `CosineSimilarity` module. */
export interface CosineSimilarityOptions {
  /** Dim along which to compare (default 1). */
  dim?: number;
  /** Lower bound of each norm (default 1e-8). */
  eps?: number;
}

/**
 * max(||x||, eps) whose gradient is x / max(||x||, eps): torch 1.13 clamps the norm in place
 * under no_grad, so its norm backward sees the clamped value. Value and gradient match it.
 */
function clampedNormLikeTorch(x: Tensor, dim: number, eps: number): Tensor {
  const n = F.norm(x, 2, dim, true);
  const nd = n.detach();
  const small = nd.lt(eps);
  if (!contiguousData(small).some((v) => v !== 0)) return n;
  const q = x.square().sum(dim, true).mul(0.5);
  // eps + (q - q) / eps: exactly eps in value, gradient x / eps.
  const low = q.sub(q.detach()).div(eps).add(eps);
  return F.where(small, low, n);
}

/**
 * Cosine similarity along `dim`, as torch 1.13: Σ (a / max(||a||, eps)) (b / max(||b||, eps)).
 * (Each norm is clamped separately; this is not dot / max(||a||·||b||, eps), which older torch
 * versions used.) a and b broadcast. A zero vector gives 0 with a finite gradient.
 * @example
 * cosineSimilarity(a, b, { dim: 1 }); // [N, D] x [N, D] -> [N]
 */
export function cosineSimilarity(a: Tensor, b: Tensor, options: CosineSimilarityOptions = {}): Tensor {
  const op = "cosineSimilarity";
  assertFloat(op, a, "x1");
  assertFloat(op, b, "x2");
  checkSameDtype(op, a, "x1", b, "x2");
  const eps = options.eps ?? 1e-8;
  checkEps(op, eps);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const d = normDim(op, options.dim ?? 1, shape.length);
  const ae = a.expand(shape);
  const be = b.expand(shape);
  const unit = (x: Tensor): Tensor => {
    const sc = eps <= 1 ? overflowScale(x, [d]) : null;
    const xs = scaled(x, sc);
    return xs.div(clampedNormLikeTorch(xs, d, eps));
  };
  return composite(cosineSimilarityUnit, [a, b], { dim: d, eps }, () => unit(ae).mul(unit(be)).sum(d));
}

/** Options of `klDiv` and `KLDivLoss`. */
export interface KlDivOptions {
  /** "mean" (default, over all elements, as PyTorch), "batchmean" (sum / batch size: the true KL), "sum" or "none". */
  reduction?: Reduction | "batchmean";
  /** The target holds log-probabilities (default false). */
  logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence with `input` = log-probabilities:
 * target (log target - input), or exp(target) (target - input) with `logTarget`.
 * A zero target contributes exactly 0 (xlogy(0, 0) = 0), also where the input is -inf.
 * @example
 * klDiv(logq, p, { reduction: "batchmean" });
 */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const op = "klDiv";
  checkPair(op, input, target);
  let loss: Tensor;
  // NOTE: entries with zero target probability (log target -inf) contribute exactly 0, even where
  // the input is -inf (a masked class): both where() branches are kept finite, so neither the value
  // nor the gradient meets 0 * inf. (PyTorch gives NaN there.)
  if (options.logTarget) {
    const live = target.gt(-Infinity);
    const t = F.where(live, target, 0);
    const x = F.where(live, input, 0);
    loss = F.where(live, t.exp().mul(t.sub(x)), 0);
  } else {
    const t = contiguousData(target);
    for (let i = 0; i < t.length; i++) {
      if (!(t[i]! >= 0)) throw new ValueError(op, `target probabilities must be >= 0, got ${t[i]}; for log-probabilities pass { logTarget: true }`);
    }
    const pos = target.gt(0);
    const tp = F.where(pos, target, 1);
    const x = F.where(pos, input, 0);
    loss = F.where(pos, tp.mul(tp.log()).sub(tp.mul(x)), 0);
  }
  if (options.reduction === "batchmean") {
    const n = input.ndim === 0 ? 1 : input.shape[0]!;
    return n === 0 ? loss.sum() : loss.sum().div(n);
  }
  return reduce(op, loss, options.reduction);
}
