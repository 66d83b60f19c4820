/**
 * The function forms of the spatial layers (issue 16): group normalisation and channel dropout,
 * plus the spatial ops re-exported for `nn.functional` (conv1d, conv3d, the transposed
 * convolutions, 1-D, adaptive and unpooling, interpolate). functional.ts re-exports this file, so
 * it must not import functional.ts.
 *
 * Safety choices:
 * - groupNorm puts eps inside the square root and subtracts each group's first element before
 *   the mean, so a constant group (of any magnitude) gives exactly 0 before the affine, with a
 *   finite gradient; groups whose magnitude would overflow when
 *   squared are first divided by a power of two (exact), as layerNorm does.
 * - Channel dropout zeroes through where, so a dropped infinite channel gives 0, not 0 * inf = NaN.
 */
import { ShapeError, ValueError } from "../errors.js";
import * as F from "../ops/index.js";
import { assertFloat } from "../ops/define.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import { shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { standardize } from "./standardize.js";

export {
  conv1d, conv3d, convTranspose1d, convTranspose2d, maxPool1d, avgPool1d, maxPool1dWithIndices, maxPool2dWithIndices, adaptiveAvgPool1d,
  adaptiveAvgPool2d, adaptiveMaxPool1d, adaptiveMaxPool2d, adaptiveMaxPool1dWithIndices, adaptiveMaxPool2dWithIndices, maxUnpool1d,
  maxUnpool2d, interpolate, maxPool3d, maxPool3dWithIndices, avgPool3d,
} from "../ops/index.js";

/** Options of `groupNorm`, as torch.nn.functional.group_norm's. */
export interface GroupNormOptions {
  /** Per-channel scale [C] (default: none). */
  weight?: Tensor | null;
  /** Per-channel shift [C] (default: none). */
  bias?: Tensor | null;
  /** Added to the variance inside the square root (default 1e-5). */
  eps?: number;
}

/**
 * Group normalisation, as torch.nn.functional.group_norm: x [N, C, ...] with its C channels split
 * into numGroups groups, each (sample, group) normalised by its mean and biased variance, then the
 * per-channel weight and bias. A constant group gives 0 (then the bias) with a finite gradient.
 * @example
 * const y = nn.functional.groupNorm(randn([2, 6, 5]), 3, { weight: ones([6]), bias: zeros([6]) });
 * y.shape; // [2, 6, 5]
 * nn.functional.groupNorm(full([1, 4, 3], 1e30), 2).abs().max().item(); // 0 (constant groups: no NaN)
 */
export function groupNorm(x: Tensor, numGroups: number, options: GroupNormOptions = {}): Tensor {
  const op = "groupNorm";
  assertFloat(op, x, "input");
  if (x.ndim < 2) throw new ShapeError(op, `expects input [N, C, ...], got ${shapeStr(x.shape)}`);
  const eps = options.eps ?? 1e-5;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ValueError(op, `eps must be a finite number >= 0, got ${eps}`);
  const [N, C] = x.shape as [number, number];
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new ValueError(op, `numGroups must be a positive integer dividing the ${C} channels of ${shapeStr(x.shape)}, got ${numGroups}`);
  }
  for (const [what, t] of [["weight", options.weight], ["bias", options.bias]] as const) {
    if (!t) continue;
    assertFloat(op, t, what);
    if (t.dtype !== x.dtype) throw new ValueError(op, `${what} dtype ${t.dtype} differs from the input's ${x.dtype}`);
    if (t.ndim !== 1 || t.shape[0] !== C) throw new ShapeError(op, `${what} must have shape [${C}], got ${shapeStr(t.shape)}`);
  }
  if (x.numel === 0) return x;
  // NOTE: the standardisation layerNorm uses (layers/standardize.ts): eps inside the root and each
  // group shifted by its first element before the mean, so a constant group (of any magnitude)
  // gives exactly 0 before the affine, with a finite gradient.
  let y = standardize(x.reshape([N, numGroups, -1]), [2], eps).y.reshape(x.shape);
  const bshape = [1, C, ...x.shape.slice(2).map(() => 1)];
  if (options.weight) y = y.mul(options.weight.reshape(bshape));
  if (options.bias) y = y.add(options.bias.reshape(bshape));
  return y;
}

/** Options of `dropout1d`, `dropout2d` and `dropout3d`. */
export interface ChannelDropoutOptions {
  /** Probability of zeroing a whole channel (default 0.5). */
  p?: number;
  /** Apply dropout (default true, as torch.nn.functional); false is the identity. */
  training?: boolean;
  /** Source of randomness (default: the default generator). */
  generator?: Generator;
}

function channelDropout(op: string, x: Tensor, nd: number, options: ChannelDropoutOptions): Tensor {
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new ValueError(op, `p must be in [0, 1], got ${p}`);
  assertFloat(op, x, "input");
  if (x.ndim !== nd + 1 && x.ndim !== nd + 2) throw new ShapeError(op, `expects input [N, C, ...] or [C, ...] with ${nd} spatial dim${nd > 1 ? "s" : ""}, got ${shapeStr(x.shape)}`);
  if (options.training === false || p === 0) return x;
  const lead = x.shape.slice(0, x.ndim - nd);
  const n = lead.reduce((a, b) => a * b, 1);
  const g = options.generator ?? defaultGenerator;
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) keep[i] = g.random() >= p ? 1 : 0;
  // NOTE: where() rather than a 0/scale multiplier: a dropped Infinity gives 0, not NaN.
  return F.where(new Tensor(keep, [...lead, ...Array<number>(nd).fill(1)]), p === 1 ? x : x.mul(1 / (1 - p)), 0);
}

/**
 * Channel dropout for [N, C, L] (or [C, L]) input, as torch.nn.functional.dropout1d: each whole
 * channel is zeroed with probability p, the rest scaled by 1 / (1 - p).
 * @example
 * nn.functional.dropout1d(ones([2, 4, 3]), { p: 0.5, generator: new Generator(0) }); // each [n, c, :] row all 0 or all 2
 */
export function dropout1d(x: Tensor, options: ChannelDropoutOptions = {}): Tensor {
  return channelDropout("dropout1d", x, 1, options);
}

/**
 * Channel dropout for [N, C, H, W] (or unbatched [C, H, W]) input, as
 * torch.nn.functional.dropout2d: each whole feature map is zeroed with probability p, the rest
 * scaled by 1 / (1 - p). A 3-D input is one unbatched sample [C, H, W] (torch 1.13 treats it as
 * [N, C, L] with a deprecation warning; later versions as here).
 * @example
 * nn.functional.dropout2d(ones([2, 4, 3, 3]), { p: 0.25, generator: new Generator(0) }).shape; // [2, 4, 3, 3]
 */
export function dropout2d(x: Tensor, options: ChannelDropoutOptions = {}): Tensor {
  return channelDropout("dropout2d", x, 2, options);
}

/**
 * Channel dropout for [N, C, D, H, W] (or unbatched [C, D, H, W]) input, as
 * torch.nn.functional.dropout3d.
 * @example
 * nn.functional.dropout3d(ones([1, 2, 2, 2, 2]), { p: 0.5, generator: new Generator(3) }).shape; // [1, 2, 2, 2, 2]
 */
export function dropout3d(x: Tensor, options: ChannelDropoutOptions = {}): Tensor {
  return channelDropout("dropout3d", x, 3, options);
}
