/**
 * Elementwise math: the unary ops (exp, log, sqrt, tanh, relu, ...), their composites (gelu, silu)
 * and the broadcasting arithmetic (add ... pow, maximum, minimum). Each op-table entry sits beside
 * its public function.
 *
 * Subgradients at kinks (written down and tested): relu'(0) = 0, |x|'(0) = 0, sign' = 0, clamp
 * passes the gradient where min <= x <= max (inclusive, as PyTorch), maximum/minimum split the
 * gradient evenly on ties (as PyTorch).
 *
 * Singular points (the derivative is infinite or undefined there; the value follows IEEE and
 * PyTorch, the gradient is finite: a deliberate difference from PyTorch, which gives ±Infinity or
 * NaN), each tested exactly at the point (test/ops/singular.test.ts):
 * - acos'(±1) = asin'(±1) = 0, and 0 for |x| > 1 (where the value is NaN). Not a clamp: near 1,
 *   acos(cos θ) is |θ|, a kink like |x| at 0, whose subgradient 0 is also norm's at the zero
 *   vector; a clamp would inject a huge, eps-dependent gradient exactly where an angle is 0.
 * - atan2 at (0, 0) (any signs of zero): both partial derivatives 0 (the value is ±0 or ±π, as IEEE).
 * - hypot at (0, 0): both partial derivatives 0, as norm at the zero vector.
 * logSigmoid is one primitive (min(x, 0) - log1p(e^-|x|), gradient σ(-x)): finite value and
 * gradient for every finite x, also ±1000 where log(sigmoid(x)) gives -Infinity.
 */
import type { BinaryMathOp } from "../kernels/backend.js";
import { sameShape, shapeStr } from "../tensor/shape.js";
import { checkOperands } from "./promote.js";
import { softmax } from "./softmax.js";
import { DTypeError, ValueError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { UNARY_DEFAULTS, type UnaryOp, type UnaryParams } from "../kernels/backend.js";
import { zerosLike } from "../tensor/create.js";
import { isFloat } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, broadcastShape, call, expandView, type OpDef, OpFamily, safeDenominator, type VjpContext } from "./define.js";
import { logicalAnd, logicalOr, where } from "./compare.js";
import { promote, resultType } from "./promote.js";
import { bounded, type Bounds, constBounds, hull, type IntervalContext, type IntervalRules, type IntervalVjpContext, maxAbs, monotone, mulBounds, symmetric, unimodal } from "./interval.js";

/** @internal The elementwise family's op-table entries. */
export const elementwiseOps = new OpFamily("elementwise");

/** Options of `gelu` and the `GELU` layer. */
export interface GeluOptions {
  /** "none" (default): the exact `x Φ(x)` with erf; "tanh": the tanh approximation. */
  approximate?: "none" | "tanh";
}
/** Options of `softplus`. */
export interface SoftplusOptions {
  /** The sharpness: `log(1 + exp(beta x)) / beta` (default 1). */
  beta?: number;
  /** Above `beta x > threshold` the result is x itself, which avoids overflow (default 20). */
  threshold?: number;
}

type UnaryDef = OpDef<[Tensor], UnaryParams>;

/** An elementwise unary op through the backend's `unary` kernel. */
function unaryOp(op: UnaryOp, vjp: (ctx: VjpContext<[Tensor], UnaryParams>) => readonly (Tensor | null)[], saved?: readonly (0 | "out")[], interval?: IntervalRules<[Tensor], UnaryParams>): UnaryDef {
  return elementwiseOps.define<[Tensor], UnaryParams>({
    name: op,
    forward: ([x], p) => new Tensor(getBackend().unary(op, x, p), x.shape),
    vjp,
    elementwise: true,
    ...(saved ? { saved } : {}),
    ...(interval ? { interval } : {}),
  });
}

/** Apply a unary op that needs a float input. */
function floatUnary(def: UnaryDef, x: Tensor, attrs: UnaryParams = {}): Tensor {
  assertFloat(def.name, x);
  return call(def, [x], attrs);
}

// ------------------------------------------------------------------ interval rules (the audit)
/** a / b: the four corner quotients, or (-∞, ∞) where b's bounds hold 0. */
function divBounds({ bounds: [a, b] }: IntervalContext<[Tensor, Tensor], null>): Bounds {
  const q = hull([a!.lo.div(b!.lo), a!.lo.div(b!.hi), a!.hi.div(b!.lo), a!.hi.div(b!.hi)]);
  const zero = b!.lo.le(0).logicalAnd(b!.hi.ge(0));
  return { lo: q.lo.where(zero.logicalNot(), -Infinity), hi: q.hi.where(zero.logicalNot(), Infinity) };
}
/** a ** b: the corners (b log a is bilinear in (b, log a)), ±0 where a's bounds hold 0, NaN for a < 0 with a b that is not a point. */
function powBounds({ bounds: [a, b] }: IntervalContext<[Tensor, Tensor], null>): Bounds {
  const c = [a!.lo.pow(b!.lo), a!.lo.pow(b!.hi), a!.hi.pow(b!.lo), a!.hi.pow(b!.hi)];
  const zero = a!.lo.le(0).logicalAnd(a!.hi.ge(0));
  for (const z of [0, -0]) for (const e of [b!.lo, b!.hi]) c.push(a!.lo.mul(0).add(z).pow(e).where(zero, c[0]!));
  const h = hull(c);
  const nan = a!.lo.lt(0).logicalAnd(b!.lo.ne(b!.hi));
  return { lo: h.lo.where(nan.logicalNot(), NaN), hi: h.hi.where(nan.logicalNot(), NaN) };
}
/** hypot: monotone in |a| and |b|; its gradient (a, b) / r lies in [-1, 1] (0 at the origin). */
const hypotRules: IntervalRules<[Tensor, Tensor], null> = {
  forward: ({ bounds: [a, b] }) => {
    const minAbs = (x: Bounds): Tensor => x.lo.abs().minimum(x.hi.abs()).where(x.lo.gt(0).logicalOr(x.hi.lt(0)), 0);
    return { lo: hypot(minAbs(a!), minAbs(b!)), hi: hypot(maxAbs(a!), maxAbs(b!)) };
  },
  vjp: ({ g, bounds }) => bounds.map((x) => mulBounds(g, signedUnit(x))),
};
/** [-1, 1], or [0, 1] / [-1, 0] where x's sign is known: the range of x / |v| for |x| <= |v|. */
const signedUnit = (x: Bounds): Bounds => ({ lo: x.lo.mul(0).where(x.lo.ge(0), -1), hi: x.hi.mul(0).where(x.hi.le(0), 1) });
/** acos / asin: the slope 1 / sqrt(1 - x²) is at most that at the largest |x| below 1 (0 at ±1, see arcSlope). */
function arcSlopeBounds({ g, bounds: [x] }: IntervalVjpContext<[Tensor], UnaryParams>): Bounds[] {
  const below1 = x!.lo.dtype === "float64" ? 1 - 2 ** -53 : 1 - 2 ** -24;
  const m = maxAbs(x!).minimum(below1);
  const s = m.neg().add(1).mul(m.add(1)).rsqrt();
  return [mulBounds(g, symmetric(s))];
}

// ------------------------------------------------------------------ unary

const negOp = unaryOp("neg", ({ g }) => [g.neg()], [], monotone([-1]));
/**
 * Elementwise `-x`.
 * @example
 * neg(a)
 */
export const neg = (x: Tensor): Tensor => call(negOp, [x], {});

const absOp = unaryOp("abs", ({ g, inputs: [x] }) => [g.mul(x.sign())], undefined, unimodal());
/**
 * Elementwise `|x|`; its subgradient at 0 is 0.
 * @example
 * abs(a)
 */
export const abs = (x: Tensor): Tensor => call(absOp, [x], {});

const signOp = unaryOp("sign", ({ g }) => [zerosLike(g)], [], monotone());
/**
 * Elementwise sign: -1, 0 or 1 (its gradient is 0).
 * @example
 * sign(a)
 */
export const sign = (x: Tensor): Tensor => call(signOp, [x], {});

const expOp = unaryOp("exp", ({ g, out }) => [g.mul(out)], ["out"], monotone());
/**
 * Elementwise `e^x`.
 * @example
 * exp(tensor([0, 1])).toArray(); // [1, 2.718...]
 */
export const exp = (x: Tensor): Tensor => floatUnary(expOp, x);

const logOp = unaryOp("log", ({ g, inputs: [x] }) => [g.div(x)], undefined, monotone());
/**
 * Elementwise natural logarithm (NaN below 0, -Infinity at 0).
 * @example
 * log(tensor([1, Math.E])).toArray(); // [0, 1]
 */
export const log = (x: Tensor): Tensor => floatUnary(logOp, x);

const log1pOp = unaryOp("log1p", ({ g, inputs: [x] }) => [g.div(x.add(1))], undefined, monotone());
/**
 * Elementwise `log(1 + x)`, accurate for small x.
 * @example
 * log1p(tensor([1e-10])).item(); // 1e-10, where log(1 + x) gives 0
 */
export const log1p = (x: Tensor): Tensor => floatUnary(log1pOp, x);

const expm1Op = unaryOp("expm1", ({ g, out }) => [g.mul(out.add(1))], ["out"], monotone());
/**
 * Elementwise `e^x - 1`, accurate for small x.
 * @example
 * expm1(tensor([1e-10], { dtype: "float64" })).item(); // 1e-10
 */
export const expm1 = (x: Tensor): Tensor => floatUnary(expm1Op, x);

const sqrtOp = unaryOp("sqrt", ({ g, out }) => [g.div(out.mul(2))], ["out"], monotone());
/**
 * Elementwise square root (its gradient at 0 is Infinity: add an eps inside when the input can be 0).
 * @example
 * sqrt(tensor([4, 9])).toArray(); // [2, 3]
 */
export const sqrt = (x: Tensor): Tensor => floatUnary(sqrtOp, x);

const rsqrtOp = unaryOp("rsqrt", ({ g, out }) => [g.mul(out.pow(3)).mul(-0.5)], ["out"], monotone([-1]));
/**
 * Elementwise `1 / sqrt(x)`.
 * @example
 * rsqrt(tensor([4])).item(); // 0.5
 */
export const rsqrt = (x: Tensor): Tensor => floatUnary(rsqrtOp, x);

const squareOp = unaryOp("square", ({ g, inputs: [x] }) => [g.mul(x).mul(2)], undefined, unimodal());
/**
 * Elementwise `x * x`.
 * @example
 * square(tensor([-3])).item(); // 9
 */
export const square = (x: Tensor): Tensor => floatUnary(squareOp, x);

const sinOp = unaryOp("sin", ({ g, inputs: [x] }) => [g.mul(x.cos())], undefined, bounded(-1, 1));
/**
 * Elementwise sine.
 * @example
 * sin(tensor([0])).item(); // 0
 */
export const sin = (x: Tensor): Tensor => floatUnary(sinOp, x);

const cosOp = unaryOp("cos", ({ g, inputs: [x] }) => [g.mul(x.sin()).neg()], undefined, bounded(-1, 1));
/**
 * Elementwise cosine.
 * @example
 * cos(tensor([0])).item(); // 1
 */
export const cos = (x: Tensor): Tensor => floatUnary(cosOp, x);

const tanhOp = unaryOp("tanh", ({ g, out }) => [g.mul(out.square().neg().add(1))], ["out"], monotone());
/**
 * Elementwise hyperbolic tangent.
 * @example
 * tanh(tensor([0, 100])).toArray(); // [0, 1]
 */
export const tanh = (x: Tensor): Tensor => floatUnary(tanhOp, x);

const atanOp = unaryOp("atan", ({ g, inputs: [x] }) => [g.div(x.square().add(1))], undefined, monotone());
/**
 * Elementwise arctangent, in (-π/2, π/2); its gradient 1 / (1 + x²) is finite everywhere.
 * @example
 * atan(tensor([0, 1])).toArray(); // [0, 0.785...]
 */
export const atan = (x: Tensor): Tensor => floatUnary(atanOp, x);

/**
 * The slope 1 / sqrt(1 - x²) of asin (and -acos) for |x| < 1, and 0 where |x| >= 1: at the
 * singular points ±1 and outside the domain (see the header). NaN stays NaN. NOTE: (1 - x)(1 + x)
 * has no cancellation near ±1, and the inner where keeps rsqrt's argument at 1 on the edge lanes,
 * so gradients of gradients are finite there too (no 0 · Infinity).
 */
function arcSlope(x: Tensor): Tensor {
  const edge = x.abs().ge(1);
  return where(edge, 0, where(edge, 1, x.neg().add(1).mul(x.add(1))).rsqrt());
}

const acosOp = unaryOp("acos", ({ g, inputs: [x] }) => [g.mul(arcSlope(x)).neg()], undefined, { ...monotone([-1]), vjp: arcSlopeBounds });
/**
 * Elementwise arccosine, in [0, π]; NaN outside [-1, 1] (as PyTorch). Its gradient
 * -1 / sqrt(1 - x²) is 0 at ±1 (and outside [-1, 1]) instead of -Infinity: `acos` of a cosine
 * similarity that reaches exactly 1 trains (see the elementwise family's header).
 * @example
 * acos(tensor([1, 0, -1])).toArray(); // [0, 1.5707..., 3.1415...]
 * const c = tensor([1, 0.5], { requiresGrad: true });
 * acos(c).sum().backward();
 * c.grad!.toArray(); // [0, -1.1547...]
 */
export const acos = (x: Tensor): Tensor => floatUnary(acosOp, x);

const asinOp = unaryOp("asin", ({ g, inputs: [x] }) => [g.mul(arcSlope(x))], undefined, { ...monotone(), vjp: arcSlopeBounds });
/**
 * Elementwise arcsine, in [-π/2, π/2]; NaN outside [-1, 1] (as PyTorch). Its gradient
 * 1 / sqrt(1 - x²) is 0 at ±1 (and outside [-1, 1]) instead of Infinity (see the elementwise
 * family's header).
 * @example
 * asin(tensor([0, 1])).toArray(); // [0, 1.5707...]
 */
export const asin = (x: Tensor): Tensor => floatUnary(asinOp, x);

const sigmoidOp = unaryOp("sigmoid", ({ g, out }) => [g.mul(out).mul(out.neg().add(1))], ["out"], monotone());
/**
 * Numerically stable logistic function `1 / (1 + e^-x)`.
 * @example
 * sigmoid(tensor([0, -1000])).toArray(); // [0.5, 0]
 */
export const sigmoid = (x: Tensor): Tensor => floatUnary(sigmoidOp, x);

// NOTE: d/dx log σ(x) = σ(-x) = 1 - σ(x), computed as sigmoid(-x): in (0, 1], no cancellation.
const logSigmoidOp = unaryOp("logSigmoid", ({ g, inputs: [x] }) => [g.mul(x.neg().sigmoid())], undefined, monotone());
/**
 * `log(sigmoid(x))` in one stable step, as `torch.nn.functional.logsigmoid`: x itself far below 0
 * (-1000 at -1000, where `sigmoid(x).log()` gives -Infinity) and 0 far above it; its gradient
 * σ(-x) is in [0, 1] for every x.
 * @example
 * logSigmoid(tensor([-1000, 0, 1000])).toArray(); // [-1000, -0.6931..., 0]
 */
export const logSigmoid = (x: Tensor): Tensor => floatUnary(logSigmoidOp, x);

// NOTE: relu'(0) = 0 (the mask is x > 0), as PyTorch.
const reluOp = unaryOp("relu", ({ g, inputs: [x] }) => [g.mul(x.gt(0).to(g.dtype))], undefined, monotone());
/**
 * `max(x, 0)`; relu'(0) = 0.
 * @example
 * relu(tensor([-1, 0, 2])).toArray(); // [0, 0, 2]
 */
export const relu = (x: Tensor): Tensor => floatUnary(reluOp, x);

const erfOp = unaryOp("erf", ({ g, inputs: [x] }) => [g.mul(x.square().neg().exp().mul(2 / Math.sqrt(Math.PI)))], undefined, monotone());
/**
 * The error function (accurate to about 1e-15).
 * @example
 * erf(tensor([0])).item(); // 0
 */
export const erf = (x: Tensor): Tensor => floatUnary(erfOp, x);

const leakyReluOp = unaryOp("leakyRelu", ({ g, inputs: [x], attrs }) => [where(x.gt(0), g, g.mul(attrs.alpha ?? UNARY_DEFAULTS.alpha))], undefined, unimodal());
/**
 * x for x > 0, else `negativeSlope * x` (default slope 0.01).
 * @example
 * leakyRelu(tensor([-10, 10]), 0.1).toArray(); // [-1, 10]
 */
export const leakyRelu = (x: Tensor, negativeSlope: number = UNARY_DEFAULTS.alpha): Tensor => floatUnary(leakyReluOp, x, { alpha: negativeSlope });

const softplusOp = unaryOp("softplus", ({ g, inputs: [x], attrs }) => {
  const bx = x.mul(attrs.beta ?? UNARY_DEFAULTS.beta);
  return [where(bx.gt(attrs.threshold ?? UNARY_DEFAULTS.threshold), g, g.mul(bx.sigmoid()))];
}, undefined, monotone());
/**
 * `log(1 + exp(beta x)) / beta`, linear above `threshold` (as PyTorch).
 * @example
 * softplus(tensor([0])).item(); // 0.693...
 * softplus(a, { beta: 2 });
 */
export const softplus = (x: Tensor, options: SoftplusOptions = {}): Tensor =>
  floatUnary(softplusOp, x, { beta: options.beta ?? UNARY_DEFAULTS.beta, threshold: options.threshold ?? UNARY_DEFAULTS.threshold });

const clampOp = unaryOp("clamp", ({ g, inputs: [x], attrs }) => {
  const inside = x.ge(attrs.min ?? -Infinity).logicalAnd(x.le(attrs.max ?? Infinity));
  return [where(inside, g, 0)];
}, undefined, monotone());
/**
 * Clamp to [min, max] (either may be null or omitted, not both); the gradient passes where
 * min <= x <= max.
 * @example
 * clamp(tensor([-2, 0.5, 2]), -1, 1).toArray(); // [-1, 0.5, 1]
 * clamp(a, 0, null); // only a lower bound
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (min == null && max == null) throw new ValueError("clamp", "needs min or max");
  return floatUnary(clampOp, x, { min: min ?? -Infinity, max: max ?? Infinity });
}

// ------------------------------------------------------------------ gelu (issue 18: fused)
// gelu is one kernel forward and one backward (the backend's unary "gelu" / "geluTanh" and
// geluBackward, g gelu'(x)); geluBackward's own VJP is in tensor ops (gelu'' below, and
// geluBackward itself for g), so gradients of gradients work to any order. The kernels keep both
// tails exact: Φ(x) from erfc below 0 (no 1 + erf cancellation), gelu(-Infinity) = -0 and
// gelu'(±Infinity) = 1 and 0 (PyTorch: NaN for all three).

/** The attributes of gelu and geluBackward. */
type GeluAttrs = Required<GeluOptions>;
/** √(2/π) and the cubic's coefficient of the tanh approximation. */
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;
/** Where gelu has its minimum (gelu'(x) = 0): exact and tanh. */
const GELU_MIN = { none: -0.7517915246935645, tanh: -0.7524614220710162 } as const;

/**
 * gelu''(x) in tensor ops, x clamped to [-40, 40] (±30 for tanh) where it is 0 in float64:
 * exact φ(x) (2 - x²), written φ 2 - (φ x) x so a large x gives 0, not 0 · ∞; tanh
 * s (u' - x t u'² + 3 √(2/π) 0.044715 x²) with t = tanh(u), s = 1 - t², u' = √(2/π) (1 + 3 · 0.044715 x²).
 */
function geluSecond(x: Tensor, approximate: GeluAttrs["approximate"]): Tensor {
  if (approximate === "tanh") {
    const xc = x.clamp(-30, 30);
    const x2 = xc.square();
    const t = xc.add(xc.mul(x2).mul(GELU_C)).mul(GELU_K).tanh();
    const du = x2.mul(3 * GELU_C).add(1).mul(GELU_K);
    return t.square().neg().add(1).mul(du.sub(xc.mul(t).mul(du.square())).add(x2.mul(3 * GELU_K * GELU_C)));
  }
  const xc = x.clamp(-40, 40);
  const p = xc.square().mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI));
  return p.mul(2).sub(p.mul(xc).mul(xc));
}

/** geluBackward's slope bounds: gelu' lies in [-0.129, 1.129] for both forms (NaN where x may be NaN). */
function geluSlopeBounds(x: Bounds): Bounds {
  const ok = x.lo.eq(x.lo).logicalAnd(x.hi.eq(x.hi));
  const b = constBounds(x.lo, -0.129, 1.129);
  return { lo: b.lo.where(ok, NaN), hi: b.hi.where(ok, NaN) };
}

const geluBackwardOp: OpDef<[Tensor, Tensor], GeluAttrs> = elementwiseOps.define<[Tensor, Tensor], GeluAttrs>({
  name: "geluBackward",
  forward: ([x, g], { approximate }) => new Tensor(getBackend().geluBackward(x, g, approximate), x.shape),
  vjp: ({ g: gg, inputs: [x, g], attrs }) => [gg.mul(g).mul(geluSecond(x, attrs.approximate)), call(geluBackwardOp, [x, gg], attrs)],
  elementwise: true,
  interval: { forward: ({ bounds: [x, g] }) => mulBounds(g!, geluSlopeBounds(x!)) },
});

/**
 * @internal GELU's backward, `g gelu'(x)` for x and g of the same float dtype and shape, one kernel
 * (the op-table entry gelu's VJP calls; differentiable again in both inputs).
 */
export function geluBackward(x: Tensor, g: Tensor, options: GeluOptions = {}): Tensor {
  assertFloat("geluBackward", x);
  assertFloat("geluBackward", g, "gradient");
  if (x.dtype !== g.dtype || !sameShape(x.shape, g.shape)) throw new ValueError("geluBackward", `x and g must have one dtype and shape, got ${x.dtype} ${shapeStr(x.shape)} and ${g.dtype} ${shapeStr(g.shape)}`);
  return call(geluBackwardOp, [x, g], { approximate: geluMode(options) });
}

const geluOp = elementwiseOps.define<[Tensor], GeluAttrs>({
  name: "gelu",
  forward: ([x], { approximate }) => new Tensor(getBackend().unary(approximate === "tanh" ? "geluTanh" : "gelu", x), x.shape),
  vjp: ({ g, inputs: [x], attrs }) => [call(geluBackwardOp, [x, g], attrs)],
  saved: [0],
  elementwise: true,
  interval: { forward: (ctx) => unimodal<GeluAttrs>(GELU_MIN[ctx.attrs.approximate]).forward!(ctx) },
});

/** The approximate option, checked. */
function geluMode(options: GeluOptions): GeluAttrs["approximate"] {
  const a = options.approximate ?? "none";
  if (a !== "none" && a !== "tanh") throw new ValueError("gelu", `approximate must be "none" or "tanh", got ${String(a)}`);
  return a;
}

/**
 * Gaussian error linear unit: x Φ(x) (exact, default) or the tanh approximation
 * x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2, as `torch.nn.functional.gelu`. One fused kernel
 * forward and backward; both tails exact (gelu(-Infinity) is -0 and its gradient at ±Infinity 1
 * and 0, where PyTorch gives NaN).
 * @example
 * gelu(tensor([0, 1])).toArray(); // [0, 0.8413...]
 * gelu(tensor([1]), { approximate: "tanh" }).item(); // 0.8411...
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = geluMode(options);
  assertFloat("gelu", x);
  return call(geluOp, [x], { approximate });
}

/**
 * Sigmoid linear unit (swish): x σ(x), as `torch.nn.functional.silu`. σ never overflows, so it is
 * finite for every finite x (silu(-Infinity) is NaN, as PyTorch's).
 * @example
 * silu(tensor([0, 1])).toArray(); // [0, 0.7310...]
 */
export const silu = (x: Tensor): Tensor => x.mul(x.sigmoid());

// ------------------------------------------------------------------ binary (broadcasting)
type BinaryDef = OpDef<[Tensor, Tensor], null>;
type BinaryVjp = (ctx: VjpContext<[Tensor, Tensor], null>) => readonly (Tensor | null)[];

/** A broadcasting binary op through the backend's `binary` kernel (the output has a's dtype). */
function binaryOp(op: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "atan2" | "hypot", vjp: BinaryVjp, saved?: readonly [], interval?: IntervalRules<[Tensor, Tensor], null>): BinaryDef {
  return elementwiseOps.define<[Tensor, Tensor]>({
    elementwise: true,
    ...(saved ? { saved } : {}),
    ...(interval ? { interval } : {}),
    name: op,
    forward: ([a, b]) => {
      const shape = broadcastShape(op, a, b);
      return new Tensor(getBackend().binary(op, expandView(a, shape), expandView(b, shape), a.dtype), shape);
    },
    vjp,
  });
}

/** Ops whose result is float whatever the operands (true division; atan2 and hypot): int and bool inputs become float32, as torch. */
const FLOAT_RESULT = new Set(["div", "atan2", "hypot"]);
/** On bool operands these are the logical ops (as torch: True + True is True). */
const ON_BOOL: Record<string, "logicalOr" | "logicalAnd" | undefined> = { add: "logicalOr", maximum: "logicalOr", mul: "logicalAnd", minimum: "logicalAnd" };

/** A binary op on operands promoted to their result dtype (see promote.ts). */
function arith(def: BinaryDef, a: Tensor | number, b: Tensor | number): Tensor {
  const op = def.name;
  if ((a instanceof Tensor && a.dtype === "bool") || (b instanceof Tensor && b.dtype === "bool")) {
    // NOTE: as torch; bool - bool has no arithmetic meaning.
    if (op === "sub") throw new DTypeError(op, "subtraction with a bool tensor is not supported; use logicalXor or logicalNot");
  }
  let dt = resultType(a, b);
  if (FLOAT_RESULT.has(op) && !isFloat(dt)) dt = "float32";
  if (op === "pow" && dt === "bool") throw new DTypeError(op, "pow of two bool operands is not supported; convert one with .to()");
  const [ta, tb] = promote(op, a, b, dt);
  if (dt === "bool") {
    const logical = ON_BOOL[op];
    if (!logical) throw new DTypeError(op, "is not defined on bool operands; convert with .to()");
    return logical === "logicalOr" ? logicalOr(ta, tb) : logicalAnd(ta, tb);
  }
  if (op === "pow" && dt === "int32") {
    // NOTE: as torch: an integer has no negative integer power (1 / 2 is not an integer).
    const e = tb.toTypedArray();
    for (let i = 0; i < e.length; i++) if (e[i]! < 0) throw new ValueError(op, `integers to negative integer powers are not allowed (exponent ${e[i]}); convert to float first`);
  }
  return call(def, [ta, tb], null);
}

/** Gradient of maximum (loses = "lt") and minimum (loses = "gt"): to the winning input, split evenly on ties (as PyTorch). */
function extremumVjp(loses: "lt" | "gt"): BinaryVjp {
  return ({ g, inputs: [a, b] }) => {
    const half = where(a.eq(b), g.mul(0.5), g);
    return [where(a[loses](b), 0, half), where(b[loses](a), 0, half)];
  };
}

const addOp = binaryOp("add", ({ g }) => [g, g], [], monotone());
/**
 * `a + b`, broadcasting; either may be a number.
 * @example
 * add(a, b);
 * add(tensor([1, 2]), 1).toArray(); // [2, 3]
 */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => arith(addOp, a, b);

const subOp = binaryOp("sub", ({ g }) => [g, g.neg()], [], monotone([1, -1]));
/**
 * `a - b`, broadcasting; either may be a number.
 * @example
 * sub(a, b);
 * sub(1, tensor([1, 2])).toArray(); // [0, -1]
 */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => arith(subOp, a, b);

const mulOp = binaryOp("mul", ({ g, inputs: [a, b], needs }) => [needs[0] ? g.mul(b) : null, needs[1] ? g.mul(a) : null], undefined, { forward: ({ bounds: [a, b] }) => mulBounds(a!, b!) });
/**
 * `a * b`, broadcasting; either may be a number.
 * @example
 * mul(a, b);
 * mul(tensor([[1], [2]]), tensor([1, 10])).toArray(); // [[1, 10], [2, 20]]
 */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => arith(mulOp, a, b);

// NOTE: -(g / b) * (a / b) rather than -g * a / b², which overflows for large b.
const divOp = binaryOp("div", ({ g, inputs: [a, b], needs }) => [needs[0] ? g.div(b) : null, needs[1] ? g.div(b).mul(a.div(b)).neg() : null], undefined, { forward: divBounds });
/**
 * `a / b` with an optional rounding (as `torch.div`): true division by default (a float result,
 * also for integers), or with `roundingMode` "trunc" (toward zero) or "floor" (down, Python's //),
 * which keep integer operands integer (an integer division by zero is a ValueError, as PyTorch
 * raises) and have zero gradient.
 * @example
 * div(tensor([7, -7]), 2).toArray(); // [3.5, -3.5]
 * div(tensor([7, -7]), 2, { roundingMode: "floor" }).toArray(); // [3, -4]
 */
export function div(a: Tensor | number, b: Tensor | number, options: DivOptions = {}): Tensor {
  const mode = options.roundingMode ?? null;
  if (mode === null) return arith(divOp, a, b);
  if (mode !== "trunc" && mode !== "floor") throw new ValueError("div", `roundingMode must be "trunc", "floor" or null, got ${JSON.stringify(mode)}`);
  return mathArith(mode === "trunc" ? divTruncOp : divFloorOp, "intdiv", a, b);
}


// As PyTorch: d/da is 0 where b == 0; d/db is 0 where a == 0 and b >= 0 (instead of 0 * -inf), and
// ∓Infinity where a == 0 and b < 0.
const powOp = binaryOp("pow", ({ g, inputs: [a, b], out, needs }) => [
  needs[0] ? where(b.eq(0), 0, g.mul(b).mul(a.pow(b.sub(1)))) : null,
  // NOTE: at a = 0 with b < 0 the honest answer is out · log(0) = ∓Infinity (torch), not NaN: only
  // the lanes masked to 0 get the safe log(1).
  needs[1] ? where(a.eq(0).logicalAnd(b.ge(0)), 0, g.mul(out).mul(where(a.eq(0).logicalAnd(b.ge(0)), 1, a).log())) : null,
], undefined, { forward: powBounds });
/**
 * `a ** b`, broadcasting, for float tensors; either may be a number.
 * @example
 * pow(tensor([2, 3]), 2).toArray(); // [4, 9]
 * pow(2, tensor([3])).item(); // 8
 */
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => arith(powOp, a, b);

const maximumOp = binaryOp("maximum", extremumVjp("lt"), undefined, monotone());
/**
 * Elementwise max, broadcasting; on ties the gradient is split evenly (as PyTorch).
 * @example
 * maximum(tensor([1, 5]), tensor([3, 2])).toArray(); // [3, 5]
 * maximum(a, 0); // relu
 */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => arith(maximumOp, a, b);

const minimumOp = binaryOp("minimum", extremumVjp("gt"), undefined, monotone());
/**
 * Elementwise min, broadcasting; on ties the gradient is split evenly (as PyTorch).
 * @example
 * minimum(tensor([1, 5]), 3).toArray(); // [1, 3]
 */
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor => arith(minimumOp, a, b);

// NOTE: d/dy = x / r², d/dx = -y / r² with r = hypot(y, x), written (x / r) (g / r): hypot has no
// overflow in y² + x², and x / r <= 1. At the origin r is replaced by 1 (safeDenominator), so both
// partials are 0 there (see the header), also in gradients of gradients.
const atan2Op = binaryOp("atan2", ({ g, inputs: [y, x], needs }) => {
  const r = safeDenominator(hypot(y, x));
  const gr = g.div(r);
  return [needs[0] ? x.div(r).mul(gr) : null, needs[1] ? y.div(r).mul(gr).neg() : null];
}, undefined, bounded(-Math.PI, Math.PI));
/**
 * The angle of the point (x, y), in [-π, π], broadcasting, for float tensors (either may be a
 * number), as `torch.atan2(y, x)`: the quadrant from both signs, and IEEE's values at the origin
 * (atan2(±0, +0) = ±0, atan2(±0, -0) = ±π). Both partial derivatives are 0 at the origin (PyTorch's
 * are NaN there).
 * @example
 * atan2(tensor([1, 1, -1]), tensor([1, -1, 0])).toArray(); // [0.785..., 2.356..., -1.570...]
 * const y = tensor([0, 3], { requiresGrad: true });
 * atan2(y, tensor([0, 4])).sum().backward();
 * y.grad!.toArray(); // [0, 0.16]: 0 at the origin
 */
export const atan2 = (y: Tensor | number, x: Tensor | number): Tensor => arith(atan2Op, y, x);

// NOTE: d/da = a / r, d/db = b / r (each at most 1); 0 at the origin, where r = 0 is replaced by 1.
const hypotOp = binaryOp("hypot", ({ g, inputs: [a, b], out, needs }) => {
  const r = safeDenominator(out);
  return [needs[0] ? g.mul(a.div(r)) : null, needs[1] ? g.mul(b.div(r)) : null];
}, undefined, hypotRules);
/**
 * `sqrt(a² + b²)` without overflow or underflow in the squares (hypot(3e30, 4e30) is 5e30 in
 * float32), broadcasting, for float tensors (either may be a number), as `torch.hypot`. Its gradient
 * is (a, b) / hypot(a, b), and 0 at the origin (as `norm` at the zero vector; PyTorch's is NaN).
 * @example
 * hypot(tensor([3, 0]), tensor([4, 0])).toArray(); // [5, 0]
 * hypot(tensor([3e30]), 4e30).item(); // 4.99999992e30: 5e30 in float32, where 3e30 ** 2 overflows
 */
export const hypot = (a: Tensor | number, b: Tensor | number): Tensor => arith(hypotOp, a, b);

// ------------------------------------------------------------------ issue 20: more elementwise math
//
// Singular points of the ops below are honest (as pow at 0): acosh'(1) = atanh'(±1) = Infinity, as
// PyTorch. Rounding ops (floor, ceil, round, trunc, div with a roundingMode) have zero gradient.
// copysign: d/da = ±1 by the result's sign, 0 at a = 0 (as PyTorch), also ±1 at a = ±Infinity
// (PyTorch: NaN there); d/db = 0. logaddexp: d/da = σ(a - b), 1/2 each where a = b = ±Infinity
// (the limit along a = b; PyTorch: NaN). Kinks: hardtanh, relu6 and hardsigmoid pass no gradient at
// their corners (exclusive, as PyTorch: hardtanh'(±1) = 0, relu6'(0) = relu6'(6) = 0); hardswish'
// is -0.5 at -3 and 1 at 3; elu/celu/selu take the x <= 0 branch at 0 (elu'(0) = alpha).
// hardswish(-Infinity) is 0 (PyTorch: -Infinity · 0 = NaN), the limit.

/** Options of `div`. */
export interface DivOptions {
  /** Round the quotient: "trunc" toward zero, "floor" down (Python's //); default none (true division). */
  roundingMode?: "trunc" | "floor" | null;
}

/** A unary op that keeps int32 inputs (the rounding ops: an integer is its own floor) and refuses bool. */
function roundingUnary(def: UnaryDef, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(def.name, `input must be a Tensor, got ${x === null ? "null" : typeof x}`);
  if (x.dtype === "bool") throw new DTypeError(def.name, "is not defined on bool tensors; convert with .to()");
  return call(def, [x], {});
}

// Interval rules of the ops below (the audit; see ops/interval.ts).
/** tan: increasing on each branch (kπ - π/2, kπ + π/2); bounds that cross a pole are (-∞, ∞). */
const tanRules: IntervalRules<[Tensor], UnaryParams> = {
  forward: ({ bounds: [x], attrs, forward }) => {
    const branch = (t: Tensor): Tensor => t.div(Math.PI).add(0.5).floor();
    const same = branch(x!.lo).eq(branch(x!.hi));
    return { lo: forward([x!.lo], attrs).where(same, -Infinity), hi: forward([x!.hi], attrs).where(same, Infinity) };
  },
};
/** elu/celu/selu: increasing for alpha >= 0, else decreasing then increasing around 0. */
const eluRules: IntervalRules<[Tensor], UnaryParams> = {
  forward: (ctx) => ((ctx.attrs.alpha ?? 1) >= 0 ? monotone<[Tensor], UnaryParams>() : unimodal<UnaryParams>()).forward(ctx),
};
/** An integer result: exact for points, else the int32 range (the audit tracks float hazards). */
const intRange = (out: Tensor): Bounds => constBounds(out, -2147483648, 2147483647);
/** NaN in float bounds where b's bounds hold 0 (x % 0 is NaN); int operands throw instead. */
function nanWhereZero(b: Bounds, x: Bounds, out: Tensor): Bounds {
  if (!isFloat(out.dtype)) return x;
  const nonzero = b.lo.gt(0).logicalOr(b.hi.lt(0));
  return { lo: x.lo.where(nonzero, NaN).expand(out.shape), hi: x.hi.where(nonzero, NaN).expand(out.shape) };
}
/** copysign: |result| = |a|, so within [-max|a|, max|a|]. */
const copysignRules: IntervalRules<[Tensor, Tensor], null> = {
  forward: ({ bounds: [a], out }) => {
    const m = maxAbs(a!).expand(out.shape);
    return { lo: m.neg(), hi: m };
  },
};
/** fmod: the dividend's sign and |result| < |b|. */
const fmodRules: IntervalRules<[Tensor, Tensor], null> = {
  forward: ({ bounds: [a, b], out }) => {
    const m = maxAbs(b!);
    return nanWhereZero(b!, { lo: a!.lo.minimum(0).maximum(m.neg()), hi: a!.hi.maximum(0).minimum(m) }, out);
  },
};
/** remainder: the divisor's sign and |result| < |b|. */
const remainderRules: IntervalRules<[Tensor, Tensor], null> = {
  forward: ({ bounds: [, b], out }) => nanWhereZero(b!, { lo: b!.lo.minimum(0), hi: b!.hi.maximum(0) }, out),
};
/** div with a roundingMode: the quotient's bounds, rounded (floor and trunc are monotone). */
function roundedDivRules(round: "floor" | "trunc"): IntervalRules<[Tensor, Tensor], null> {
  return {
    forward: (ctx) => {
      if (!isFloat(ctx.out.dtype)) return ctx.bounds.every((b) => b.lo === b.hi) ? { lo: ctx.out, hi: ctx.out } : intRange(ctx.out);
      const q = divBounds(ctx);
      return round === "floor" ? { lo: q.lo.floor(), hi: q.hi.floor() } : { lo: q.lo.trunc(), hi: q.hi.trunc() };
    },
  };
}

const tanOp = unaryOp("tan", ({ g, out }) => [g.mul(out.square().add(1))], ["out"], tanRules);
/**
 * Elementwise tangent; its gradient is 1 + tan²(x).
 * @example
 * tan(tensor([0, Math.PI / 4])).toArray(); // [0, 1]
 */
export const tan = (x: Tensor): Tensor => floatUnary(tanOp, x);

const sinhOp = unaryOp("sinh", ({ g, inputs: [x] }) => [g.mul(cosh(x))], undefined, monotone());
/**
 * Elementwise hyperbolic sine.
 * @example
 * sinh(tensor([0])).item(); // 0
 */
export const sinh = (x: Tensor): Tensor => floatUnary(sinhOp, x);

const coshOp = unaryOp("cosh", ({ g, inputs: [x] }) => [g.mul(sinh(x))], undefined, unimodal());
/**
 * Elementwise hyperbolic cosine.
 * @example
 * cosh(tensor([0])).item(); // 1
 */
export const cosh = (x: Tensor): Tensor => floatUnary(coshOp, x);

// NOTE: 1 / hypot(x, 1), not rsqrt(x² + 1): x² overflows float32 from |x| = 1.9e19.
const asinhOp = unaryOp("asinh", ({ g, inputs: [x] }) => [g.div(hypot(x, 1))], undefined, monotone());
/**
 * Elementwise inverse hyperbolic sine; its gradient 1 / sqrt(1 + x²) is finite everywhere.
 * @example
 * asinh(tensor([0, 1])).toArray(); // [0, 0.8813...]
 */
export const asinh = (x: Tensor): Tensor => floatUnary(asinhOp, x);

// NOTE: sqrt(x - 1) sqrt(x + 1), not sqrt(x² - 1): no overflow, no cancellation near 1.
const acoshOp = unaryOp("acosh", ({ g, inputs: [x] }) => [g.div(sqrt(x.sub(1)).mul(sqrt(x.add(1))))], undefined, monotone());
/**
 * Elementwise inverse hyperbolic cosine: NaN below 1; its gradient 1 / sqrt(x² - 1) is Infinity at 1
 * (as PyTorch).
 * @example
 * acosh(tensor([1, 2])).toArray(); // [0, 1.3169...]
 */
export const acosh = (x: Tensor): Tensor => floatUnary(acoshOp, x);

const atanhOp = unaryOp("atanh", ({ g, inputs: [x] }) => [g.div(x.neg().add(1).mul(x.add(1)))], undefined, monotone());
/**
 * Elementwise inverse hyperbolic tangent: ±Infinity at ±1, NaN outside [-1, 1]; its gradient
 * 1 / (1 - x²) is Infinity at ±1 (as PyTorch).
 * @example
 * atanh(tensor([0, 0.5])).toArray(); // [0, 0.5493...]
 */
export const atanh = (x: Tensor): Tensor => floatUnary(atanhOp, x);

const log2Op = unaryOp("log2", ({ g, inputs: [x] }) => [g.div(x.mul(Math.LN2))], undefined, monotone());
/**
 * Elementwise base-2 logarithm.
 * @example
 * log2(tensor([1, 8])).toArray(); // [0, 3]
 */
export const log2 = (x: Tensor): Tensor => floatUnary(log2Op, x);

const log10Op = unaryOp("log10", ({ g, inputs: [x] }) => [g.div(x.mul(Math.LN10))], undefined, monotone());
/**
 * Elementwise base-10 logarithm.
 * @example
 * log10(tensor([1, 1000])).toArray(); // [0, 3]
 */
export const log10 = (x: Tensor): Tensor => floatUnary(log10Op, x);

const exp2Op = unaryOp("exp2", ({ g, out }) => [g.mul(out).mul(Math.LN2)], ["out"], monotone());
/**
 * Elementwise `2^x`.
 * @example
 * exp2(tensor([0, 3])).toArray(); // [1, 8]
 */
export const exp2 = (x: Tensor): Tensor => floatUnary(exp2Op, x);

const zeroGrad = ({ g }: { g: Tensor }): Tensor[] => [zerosLike(g)];

const floorOp = unaryOp("floor", zeroGrad, [], monotone());
/**
 * Elementwise floor (float or int32; its gradient is 0).
 * @example
 * floor(tensor([-1.5, 1.5])).toArray(); // [-2, 1]
 */
export const floor = (x: Tensor): Tensor => roundingUnary(floorOp, x);

const ceilOp = unaryOp("ceil", zeroGrad, [], monotone());
/**
 * Elementwise ceiling (float or int32; its gradient is 0).
 * @example
 * ceil(tensor([-1.5, 1.5])).toArray(); // [-1, 2]
 */
export const ceil = (x: Tensor): Tensor => roundingUnary(ceilOp, x);

const roundOp = unaryOp("round", zeroGrad, [], monotone());
/**
 * Elementwise rounding to the nearest integer, ties to even (as `torch.round`; float or int32; its
 * gradient is 0).
 * @example
 * round(tensor([0.5, 1.5, 2.5, -0.5])).toArray(); // [0, 2, 2, -0]
 */
export const round = (x: Tensor): Tensor => roundingUnary(roundOp, x);

const truncOp = unaryOp("trunc", zeroGrad, [], monotone());
/**
 * Elementwise rounding toward zero (float or int32; its gradient is 0).
 * @example
 * trunc(tensor([-1.5, 1.5])).toArray(); // [-1, 1]
 */
export const trunc = (x: Tensor): Tensor => roundingUnary(truncOp, x);

// ------------------------------------------------------------------ activations (issue 20)
/** SELU's alpha and scale, as `torch.nn.functional.selu`. */
export const SELU_CONSTANTS = { alpha: 1.6732632423543772848170429916717, scale: 1.0507009873554804934193349852946 } as const;

// NOTE: the x <= 0 branch reads e^(min(x, 0) inputScale): no overflow in the lanes it does not select.
const eluOp = unaryOp("elu", ({ g, inputs: [x], attrs }) => {
  const s = attrs.scale ?? 1;
  const is = attrs.inputScale ?? 1;
  const slope = clamp(x, null, 0).mul(is).exp().mul((attrs.alpha ?? 1) * s * is);
  return [where(x.gt(0), g.mul(s), g.mul(slope))];
}, undefined, eluRules);
/**
 * Exponential linear unit: x for x > 0, `alpha (e^x - 1)` otherwise (as `torch.nn.functional.elu`).
 * @example
 * elu(tensor([-1000, 0, 2])).toArray(); // [-1, 0, 2]
 */
export const elu = (x: Tensor, alpha = 1): Tensor => floatUnary(eluOp, x, { alpha });

/**
 * Continuously differentiable ELU: `max(0, x) + min(0, alpha (e^(x / alpha) - 1))` (alpha not 0).
 * @example
 * celu(tensor([-1000, 2]), 2).toArray(); // [-2, 2]
 */
export function celu(x: Tensor, alpha = 1): Tensor {
  if (alpha === 0) throw new ValueError("celu", "alpha must not be 0 (it divides x)");
  return floatUnary(eluOp, x, { alpha, inputScale: 1 / alpha });
}

/**
 * Scaled ELU: `scale (max(0, x) + min(0, alpha (e^x - 1)))` with the fixed constants of
 * {@link SELU_CONSTANTS} (self-normalizing networks).
 * @example
 * selu(tensor([0, 1])).toArray(); // [0, 1.0507...]
 */
export const selu = (x: Tensor): Tensor => floatUnary(eluOp, x, { alpha: SELU_CONSTANTS.alpha, scale: SELU_CONSTANTS.scale });

const hardtanhOp = unaryOp("hardtanh", ({ g, inputs: [x], attrs }) => [where(x.gt(attrs.min ?? -1).logicalAnd(x.lt(attrs.max ?? 1)), g, 0)], undefined, monotone());
/**
 * x clamped to [minVal, maxVal] (default [-1, 1]); unlike `clamp`, no gradient passes at the bounds
 * themselves (as `torch.nn.functional.hardtanh`).
 * @example
 * hardtanh(tensor([-2, 0.5, 2])).toArray(); // [-1, 0.5, 1]
 */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (!(minVal <= maxVal)) throw new ValueError("hardtanh", `minVal (${minVal}) must not be greater than maxVal (${maxVal})`);
  return floatUnary(hardtanhOp, x, { min: minVal, max: maxVal });
}

/**
 * `min(max(x, 0), 6)`: hardtanh on [0, 6], with gradient 0 at 0 and 6 (as PyTorch).
 * @example
 * relu6(tensor([-1, 3, 9])).toArray(); // [0, 3, 6]
 */
export const relu6 = (x: Tensor): Tensor => hardtanh(x, 0, 6);

const hardsigmoidOp = unaryOp("hardsigmoid", ({ g, inputs: [x] }) => [where(x.gt(-3).logicalAnd(x.lt(3)), g.div(6), 0)], undefined, monotone());
/**
 * Piecewise-linear sigmoid: 0 below -3, 1 above 3, `x / 6 + 1/2` between.
 * @example
 * hardsigmoid(tensor([-4, 0, 4])).toArray(); // [0, 0.5, 1]
 */
export const hardsigmoid = (x: Tensor): Tensor => floatUnary(hardsigmoidOp, x);

// NOTE: at 3 the right-hand slope 1, as torch's vectorized loop (its scalar tail loop gives 1.5).
const hardswishOp = unaryOp("hardswish", ({ g, inputs: [x] }) => [where(x.lt(-3), 0, where(x.ge(3), g, g.mul(x.div(3).add(0.5))))], undefined, unimodal(-1.5));
/**
 * `x hardsigmoid(x)`: 0 below -3, x above 3, `x (x + 3) / 6` between (MobileNetV3).
 * @example
 * hardswish(tensor([-4, 1, 4])).toArray(); // [0, 0.6666..., 4]
 */
export const hardswish = (x: Tensor): Tensor => floatUnary(hardswishOp, x);

/**
 * `x tanh(softplus(x))`, as `torch.nn.functional.mish`: finite value and gradient for every finite x.
 * @example
 * mish(tensor([0, 1])).toArray(); // [0, 0.8650...]
 */
export const mish = (x: Tensor): Tensor => x.mul(tanh(softplus(x)));

/**
 * `x / (1 + |x|)`; its gradient `1 / (1 + |x|)²` is finite everywhere.
 * @example
 * softsign(tensor([-1, 0, 3])).toArray(); // [-0.5, 0, 0.75]
 */
export const softsign = (x: Tensor): Tensor => x.div(abs(x).add(1));

/**
 * `softmax(-x)` along `dim`: the smallest entry gets the most weight.
 * @example
 * softmin(tensor([0, Math.log(3)]), 0).toArray(); // [0.75, 0.25]
 */
export const softmin = (x: Tensor, dim: number): Tensor => softmax(neg(x), dim);

// ------------------------------------------------------------------ binary math (issue 20)
/** A broadcasting binary op through the backend's `binaryMath` kernel (the output has a's dtype). */
function mathOp(name: BinaryMathOp, vjp: BinaryVjp, saved: readonly [] | undefined, interval: IntervalRules<[Tensor, Tensor], null>): BinaryDef {
  return elementwiseOps.define<[Tensor, Tensor]>({
    elementwise: true,
    ...(saved ? { saved } : {}),
    interval,
    name,
    forward: ([a, b]) => {
      const shape = broadcastShape(name, a, b);
      return new Tensor(getBackend().binaryMath(name, expandView(a, shape), expandView(b, shape), a.dtype), shape);
    },
    vjp,
  });
}

/**
 * A binary math op on operands promoted to their result type: "float" ops give float32 for int and
 * bool operands, "intdiv" ops (remainders, rounded divisions) keep int32 and refuse bool and an
 * integer division by zero (a ValueError, where PyTorch raises ZeroDivisionError), "floatOnly" ops
 * refuse a non-float result type (as PyTorch's logaddexp on integers).
 */
function mathArith(def: BinaryDef, kind: "float" | "intdiv" | "floatOnly", a: Tensor | number, b: Tensor | number): Tensor {
  const op = def.name;
  checkOperands(op, a, b);
  let dt = resultType(a, b);
  if (kind === "float" && !isFloat(dt)) dt = "float32";
  if (kind === "floatOnly" && !isFloat(dt)) throw new DTypeError(op, `is not defined for ${dt} operands (as PyTorch); convert to float first`);
  if (kind === "intdiv" && dt === "bool") throw new DTypeError(op, "is not defined on two bool operands (as PyTorch); convert with .to()");
  const [ta, tb] = promote(op, a, b, dt);
  if (kind === "intdiv" && dt === "int32") {
    const d = tb.toTypedArray();
    for (let i = 0; i < d.length; i++) if (d[i] === 0) throw new ValueError(op, `integer division by zero (ZeroDivisionError in PyTorch): the divisor ${shapeStr(tb.shape)} has a 0 at flat index ${i}; convert to float for IEEE results`);
  }
  return call(def, [ta, tb], null);
}

const copysignOp = mathOp("copysign", ({ g, inputs: [a], out, needs }) => [needs[0] ? g.mul(sign(a).mul(sign(out))) : null, needs[1] ? zerosLike(g) : null], undefined, copysignRules);
/**
 * `|a|` with the sign of b (including -0, as C's copysign), broadcasting; a float result for any
 * operands (as `torch.copysign`). Gradient: ±1 to a by the result's sign (0 where a is 0), 0 to b.
 * @example
 * copysign(tensor([1, 2, 3]), tensor([-1, -0, 0])).toArray(); // [-1, -2, 3]
 */
export const copysign = (a: Tensor | number, b: Tensor | number): Tensor => mathArith(copysignOp, "float", a, b);

const divTruncOp = mathOp("divTrunc", ({ g }) => [zerosLike(g), zerosLike(g)], [], roundedDivRules("trunc"));
const divFloorOp = mathOp("divFloor", ({ g }) => [zerosLike(g), zerosLike(g)], [], roundedDivRules("floor"));

/**
 * `floor(a / b)` (Python's //, as `torch.floor_divide` in 1.13): `div(a, b, { roundingMode: "floor" })`.
 * @example
 * floorDivide(tensor([7, -7]), 2).toArray(); // [3, -4]
 */
export const floorDivide = (a: Tensor | number, b: Tensor | number): Tensor => div(a, b, { roundingMode: "floor" });

const remainderOp = mathOp("remainder", ({ g, inputs: [a, b], needs }) => [needs[0] ? g : null, needs[1] ? g.mul(div(a, b, { roundingMode: "floor" })).neg() : null], undefined, remainderRules);
/**
 * Python's modulo `a - floor(a / b) b`: the result has the divisor's sign (as `torch.remainder`);
 * integer operands stay integer (a zero divisor is a ValueError). Gradients: 1 to a, `-floor(a / b)` to b.
 * @example
 * remainder(tensor([-3, 3]), 2).toArray(); // [1, 1]
 */
export const remainder = (a: Tensor | number, b: Tensor | number): Tensor => mathArith(remainderOp, "intdiv", a, b);

const fmodOp = mathOp("fmod", ({ g, inputs: [a, b], needs }) => [needs[0] ? g : null, needs[1] ? g.mul(div(a, b, { roundingMode: "trunc" })).neg() : null], undefined, fmodRules);
/**
 * C's fmod `a - trunc(a / b) b`: the result has the dividend's sign (as `torch.fmod`); integer
 * operands stay integer (a zero divisor is a ValueError). Gradients: 1 to a, `-trunc(a / b)` to b.
 * @example
 * fmod(tensor([-3, 3]), 2).toArray(); // [-1, 1]
 */
export const fmod = (a: Tensor | number, b: Tensor | number): Tensor => mathArith(fmodOp, "intdiv", a, b);

// NOTE: d/da = σ(a - b) and d/db = σ(b - a) (no 1 - σ cancellation); where a = b (also both ±Infinity,
// where a - b is NaN) the difference is taken as 0: 1/2 each.
const logaddexpOp = mathOp("logaddexp", ({ g, inputs: [a, b], needs }) => {
  const d = where(a.eq(b), 0, a.sub(b));
  return [needs[0] ? g.mul(sigmoid(d)) : null, needs[1] ? g.mul(sigmoid(neg(d))) : null];
}, undefined, monotone());
/**
 * `log(e^a + e^b)` without overflow or underflow (as `torch.logaddexp`): `max(a, b) + log1p(e^-|a - b|)`,
 * and a itself where a = b = ±Infinity. Float operands only (as PyTorch).
 * @example
 * logaddexp(tensor([1000, -Infinity]), tensor([1000, 0])).toArray(); // [1000.6931..., 0]
 */
export const logaddexp = (a: Tensor | number, b: Tensor | number): Tensor => mathArith(logaddexpOp, "floatOnly", a, b);

/**
 * Linear interpolation `start + weight (end - start)` (as `torch.lerp`, which computes
 * `end - (end - start)(1 - weight)` for |weight| >= 1/2 so that weight 1 gives end exactly).
 * `start` and `end` are float tensors of one dtype (as PyTorch); weight a number or a tensor of
 * that dtype; all three broadcast. Gradients: `1 - weight`, `weight`, `end - start`.
 * @example
 * lerp(tensor([0, 10]), tensor([10, 20]), 0.25).toArray(); // [2.5, 12.5]
 */
export function lerp(start: Tensor, end: Tensor, weight: Tensor | number): Tensor {
  assertFloat("lerp", start, "start");
  assertFloat("lerp", end, "end");
  if (end.dtype !== start.dtype) throw new DTypeError("lerp", `expected end of dtype ${start.dtype} (start's), got ${end.dtype}`);
  if (weight instanceof Tensor) {
    if (weight.dtype !== start.dtype) throw new DTypeError("lerp", `expected weight of dtype ${start.dtype} (start's), got ${weight.dtype}`);
  } else if (typeof weight !== "number") throw new DTypeError("lerp", `weight must be a number or a tensor, got ${weight === null ? "null" : typeof weight}`);
  const diff = end.sub(start);
  const small = weight instanceof Tensor ? abs(weight).lt(0.5) : Math.abs(weight) < 0.5;
  const low = start.add(diff.mul(weight));
  const high = end.sub(diff.mul(typeof weight === "number" ? 1 - weight : sub(1, weight)));
  if (typeof small === "boolean") return small ? low : high;
  return where(small, low, high);
}

// ------------------------------------------------------------------ predicates (issue 20)
/**
 * Elementwise "is NaN", as a bool tensor (false everywhere for int32 and bool).
 * @example
 * isnan(tensor([1, NaN, Infinity])).toArray(); // [false, true, false]
 */
export const isnan = (x: Tensor): Tensor => predicateInput("isnan", x).ne(x);

/**
 * Elementwise "is +Infinity or -Infinity", as a bool tensor.
 * @example
 * isinf(tensor([1, NaN, -Infinity])).toArray(); // [false, false, true]
 */
export const isinf = (x: Tensor): Tensor => (isFloat(predicateInput("isinf", x).dtype) ? abs(x).eq(Infinity) : x.ne(x));

/**
 * Elementwise "is neither NaN nor ±Infinity", as a bool tensor (true everywhere for int32 and bool).
 * @example
 * isfinite(tensor([1, NaN, -Infinity])).toArray(); // [true, false, false]
 */
export const isfinite = (x: Tensor): Tensor => (isFloat(predicateInput("isfinite", x).dtype) ? abs(x).lt(Infinity) : x.eq(x));

function predicateInput(op: string, x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError(op, `input must be a Tensor, got ${x === null ? "null" : typeof x}`);
  return x;
}

/** Options of `isclose` and `allclose` (PyTorch's defaults). */
export interface IscloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
  /** Count two NaNs as close (default false). */
  equalNan?: boolean;
}

/**
 * Elementwise `|a - b| <= atol + rtol |b|` (equal infinities are close; NaN is close to NaN only
 * with `equalNan`), broadcasting, as a bool tensor; a and b must have one dtype (as `torch.isclose`).
 * @example
 * isclose(tensor([1, 1]), tensor([1 + 1e-7, 1.1])).toArray(); // [true, false]
 */
export function isclose(a: Tensor, b: Tensor, options: IscloseOptions = {}): Tensor {
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-8;
  assertTensor("isclose", a, "a");
  assertTensor("isclose", b, "b");
  if (a.dtype !== b.dtype) throw new DTypeError("isclose", `a (${a.dtype}) and b (${b.dtype}) must have the same dtype (as PyTorch)`);
  if (!(rtol >= 0) || !(atol >= 0)) throw new ValueError("isclose", `rtol and atol must be >= 0, got rtol ${rtol}, atol ${atol}`);
  let close = a.eq(b);
  if (options.equalNan) close = close.logicalOr(isnan(a).logicalAnd(isnan(b)));
  if (!isFloat(a.dtype)) {
    if (a.dtype === "bool" && (rtol !== 0 || atol !== 0)) throw new ValueError("isclose", "on bool tensors rtol and atol must be 0 (as PyTorch)");
    if (a.dtype === "bool") return close;
    // Integers are compared in float64, exactly (PyTorch: in its default float dtype).
    [a, b] = [a.to("float64"), b.to("float64")];
  }
  const err = abs(a.sub(b));
  return close.logicalOr(isfinite(err).logicalAnd(err.le(abs(b).mul(rtol).add(atol))));
}

/**
 * Whether every element of `isclose(a, b, options)` is true (as `torch.allclose`).
 * @example
 * allclose(tensor([1, 2]), tensor([1, 2 + 1e-7])); // true
 */
export function allclose(a: Tensor, b: Tensor, options: IscloseOptions = {}): boolean {
  const c = isclose(a, b, options).toTypedArray();
  for (let i = 0; i < c.length; i++) if (!c[i]) return false;
  return true;
}

function assertTensor(op: string, t: Tensor, what: string): void {
  if (!(t instanceof Tensor)) throw new DTypeError(op, `${what} must be a Tensor, got ${t === null ? "null" : typeof t}`);
}
