/**
 * Parameter initialisers, as torch.nn.init: each writes into the tensor in place (without
 * recording a graph), draws from a seedable {@link Generator} (the default one unless
 * `generator` is given) and returns the tensor.
 *
 * Gains and fans follow PyTorch exactly; the random numbers come from safegrad's own generator,
 * so they do not match torch's values (only their distribution).
 */
import { ShapeError, ValueError } from "../errors.js";
import { offsetsOf } from "../tensor/layout.js";
import { defaultGenerator, type Generator } from "../tensor/random.js";
import { shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { markModified } from "../tensor/version.js";

/**
 * The nonlinearities `calculateGain` knows (camelCase forms of torch's names).
 * @example
 * const nl: Nonlinearity = "relu";
 * init.kaimingNormal(w, { nonlinearity: nl });
 */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "convTranspose1d"
  | "convTranspose2d"
  | "convTranspose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leakyRelu"
  | "selu";

/**
 * Which fan Kaiming initialisation scales by: "fanIn" keeps the forward variance, "fanOut" the backward one.
 * @example
 * const mode: FanMode = "fanOut";
 * init.kaimingUniform(w, { mode });
 */
export type FanMode = "fanIn" | "fanOut";

/** Options shared by the random initialisers. */
export interface RandomInitOptions {
  /** The generator to draw from (default: the default generator, seeded by `manualSeed`). */
  generator?: Generator;
}
/** Options of `kaimingUniform` / `kaimingNormal`. */
export interface KaimingOptions extends RandomInitOptions {
  /** Negative slope of the leaky relu that follows (only for "leakyRelu"; default 0). */
  a?: number;
  /** "fanIn" (default) keeps the forward variance, "fanOut" the backward one. */
  mode?: FanMode;
  /** Default "leakyRelu", as PyTorch. */
  nonlinearity?: Nonlinearity;
}
/** Options of `xavierUniform` / `xavierNormal`. */
export interface XavierOptions extends RandomInitOptions {
  /** Scale factor, e.g. `calculateGain("tanh")` (default 1). */
  gain?: number;
}
/** Options of `normal`. */
export interface NormalOptions extends RandomInitOptions {
  /** Mean of the distribution (default 0). */
  mean?: number;
  /** Standard deviation, >= 0 (default 1). */
  std?: number;
}
/** Options of `uniform`. */
export interface UniformOptions extends RandomInitOptions {
  /** Lower bound (default 0). */
  a?: number;
  /** Upper bound (default 1). */
  b?: number;
}

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is the
 * negative slope for "leakyRelu" (default 0.01).
 * @example
 * init.calculateGain("relu"); // √2
 * init.calculateGain("leakyRelu", Math.sqrt(5)); // √(1/3): Linear's default init
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (/^(linear|conv(Transpose)?[123]d|sigmoid)$/.test(nonlinearity)) return 1;
  switch (nonlinearity) {
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new ValueError("calculateGain", `invalid negative slope ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new ValueError("calculateGain", `unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/**
 * [fanIn, fanOut] of a weight of at least 2 dims: [out, in, ...kernel] gives
 * fanIn = in * prod(kernel), fanOut = out * prod(kernel) (as torch.nn.init).
 * @example
 * init.calculateFanInAndFanOut(zeros([16, 3, 5, 5])); // [75, 400]
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new ShapeError("init", `fan in/out need at least 2 dims, got shape ${shapeStr(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function fill(t: Tensor, draw: () => number): Tensor {
  // Writes the storage directly: no op runs, so no graph is recorded.
  const offs = offsetsOf(t.shape, t.strides, t.offset);
  for (let i = 0; i < offs.length; i++) t.storage[offs[i]!] = draw();
  markModified(t);
  return t;
}

/**
 * Fill with U(a, b) in place; returns t.
 * @example
 * init.uniform(zeros([3, 4]), { a: -0.1, b: 0.1 });
 */
export function uniform(t: Tensor, options: UniformOptions = {}): Tensor {
  const a = options.a ?? 0;
  const b = options.b ?? 1;
  if (!(a <= b)) throw new ValueError("init.uniform", `needs a <= b, got a=${a}, b=${b}`);
  const g = options.generator ?? defaultGenerator;
  return fill(t, () => a + (b - a) * g.random());
}

/**
 * Fill with N(mean, std²) in place; returns t.
 * @example
 * init.normal(zeros([3, 4]), { std: 0.02, generator: new Generator(0) });
 */
export function normal(t: Tensor, options: NormalOptions = {}): Tensor {
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  if (!(std >= 0)) throw new ValueError("init.normal", `std must be >= 0, got ${std}`);
  const g = options.generator ?? defaultGenerator;
  return fill(t, () => mean + std * g.normal());
}

/**
 * Fill with `value` in place; returns t.
 * @example
 * init.constant(zeros([3]), 0.5).toArray(); // [0.5, 0.5, 0.5]
 */
export function constant(t: Tensor, value: number): Tensor {
  return fill(t, () => value);
}
/**
 * Fill with 0 in place; returns t.
 * @example
 * const fc = new Linear(4, 2);
 * init.zeros(fc.bias!);
 */
export const zeros = (t: Tensor): Tensor => constant(t, 0);
/**
 * Fill with 1 in place; returns t.
 * @example
 * init.ones(randn([3])).toArray(); // [1, 1, 1]
 */
export const ones = (t: Tensor): Tensor => constant(t, 1);

/** Xavier/Glorot standard deviation gain * sqrt(2 / (fan in + fan out)), 0 for an empty tensor. */
function xavierStd(t: Tensor, options: XavierOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return fanIn + fanOut === 0 ? 0 : (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
}

/**
 * Glorot uniform in place: U(-a, a) with a = gain * √(6 / (fanIn + fanOut)); returns t.
 * @example
 * init.xavierUniform(new Linear(4, 8).weight, { gain: init.calculateGain("tanh") });
 */
export function xavierUniform(t: Tensor, options: XavierOptions = {}): Tensor {
  const a = Math.sqrt(3) * xavierStd(t, options);
  return uniform(t, { a: -a, b: a, generator: options.generator });
}

/**
 * Glorot normal in place: N(0, std²) with std = gain * √(2 / (fanIn + fanOut)); returns t.
 * @example
 * init.xavierNormal(zeros([8, 4]));
 */
export function xavierNormal(t: Tensor, options: XavierOptions = {}): Tensor {
  return normal(t, { mean: 0, std: xavierStd(t, options), generator: options.generator });
}

function kaimingStd(op: string, t: Tensor, o: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const mode = o.mode ?? "fanIn";
  if (mode !== "fanIn" && mode !== "fanOut") throw new ValueError(op, `mode must be "fanIn" or "fanOut", got ${JSON.stringify(mode)}`);
  const fan = mode === "fanIn" ? fanIn : fanOut;
  // A zero-element tensor is left alone (PyTorch warns and does nothing); any std will do.
  if (fan === 0) return 0;
  return calculateGain(o.nonlinearity ?? "leakyRelu", o.a ?? 0) / Math.sqrt(fan);
}

/**
 * He uniform in place: U(-b, b) with b = gain * √(3 / fan); returns t.
 * @example
 * init.kaimingUniform(w, { a: Math.sqrt(5) }); // Linear's default: U(-1/√fanIn, 1/√fanIn)
 */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd("init.kaimingUniform", t, options);
  return uniform(t, { a: -bound, b: bound, generator: options.generator });
}

/**
 * He normal in place: N(0, std²) with std = gain / √fan; returns t.
 * @example
 * init.kaimingNormal(zeros([8, 4]), { nonlinearity: "relu" });
 */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal(t, { mean: 0, std: kaimingStd("init.kaimingNormal", t, options), generator: options.generator });
}
