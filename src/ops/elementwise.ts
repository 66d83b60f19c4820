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
import { DTypeError, ValueError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { UNARY_DEFAULTS, type UnaryOp, type UnaryParams } from "../kernels/backend.js";
import { zerosLike } from "../tensor/create.js";
import { isFloat } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { assertFloat, broadcastShape, call, expandView, type OpDef, OpFamily, safeDenominator, type VjpContext } from "./define.js";
import { logicalAnd, logicalOr, where } from "./compare.js";
import { promote, resultType } from "./promote.js";

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
function unaryOp(op: UnaryOp, vjp: (ctx: VjpContext<[Tensor], UnaryParams>) => readonly (Tensor | null)[], saved?: readonly (0 | "out")[]): UnaryDef {
  return elementwiseOps.define<[Tensor], UnaryParams>({
    name: op,
    forward: ([x], p) => new Tensor(getBackend().unary(op, x, p), x.shape),
    vjp,
    elementwise: true,
    ...(saved ? { saved } : {}),
  });
}

/** Apply a unary op that needs a float input. */
function floatUnary(def: UnaryDef, x: Tensor, attrs: UnaryParams = {}): Tensor {
  assertFloat(def.name, x);
  return call(def, [x], attrs);
}

// ------------------------------------------------------------------ unary

const negOp = unaryOp("neg", ({ g }) => [g.neg()], []);
/**
 * Elementwise `-x`.
 * @example
 * neg(a)
 */
export const neg = (x: Tensor): Tensor => call(negOp, [x], {});

const absOp = unaryOp("abs", ({ g, inputs: [x] }) => [g.mul(x.sign())]);
/**
 * Elementwise `|x|`; its subgradient at 0 is 0.
 * @example
 * abs(a)
 */
export const abs = (x: Tensor): Tensor => call(absOp, [x], {});

const signOp = unaryOp("sign", ({ g }) => [zerosLike(g)], []);
/**
 * Elementwise sign: -1, 0 or 1 (its gradient is 0).
 * @example
 * sign(a)
 */
export const sign = (x: Tensor): Tensor => call(signOp, [x], {});

const expOp = unaryOp("exp", ({ g, out }) => [g.mul(out)], ["out"]);
/**
 * Elementwise `e^x`.
 * @example
 * exp(tensor([0, 1])).toArray(); // [1, 2.718...]
 */
export const exp = (x: Tensor): Tensor => floatUnary(expOp, x);

const logOp = unaryOp("log", ({ g, inputs: [x] }) => [g.div(x)]);
/**
 * Elementwise natural logarithm (NaN below 0, -Infinity at 0).
 * @example
 * log(tensor([1, Math.E])).toArray(); // [0, 1]
 */
export const log = (x: Tensor): Tensor => floatUnary(logOp, x);

const log1pOp = unaryOp("log1p", ({ g, inputs: [x] }) => [g.div(x.add(1))]);
/**
 * Elementwise `log(1 + x)`, accurate for small x.
 * @example
 * log1p(tensor([1e-10])).item(); // 1e-10, where log(1 + x) gives 0
 */
export const log1p = (x: Tensor): Tensor => floatUnary(log1pOp, x);

const expm1Op = unaryOp("expm1", ({ g, out }) => [g.mul(out.add(1))], ["out"]);
/**
 * Elementwise `e^x - 1`, accurate for small x.
 * @example
 * expm1(tensor([1e-10], { dtype: "float64" })).item(); // 1e-10
 */
export const expm1 = (x: Tensor): Tensor => floatUnary(expm1Op, x);

const sqrtOp = unaryOp("sqrt", ({ g, out }) => [g.div(out.mul(2))], ["out"]);
/**
 * Elementwise square root (its gradient at 0 is Infinity: add an eps inside when the input can be 0).
 * @example
 * sqrt(tensor([4, 9])).toArray(); // [2, 3]
 */
export const sqrt = (x: Tensor): Tensor => floatUnary(sqrtOp, x);

const rsqrtOp = unaryOp("rsqrt", ({ g, out }) => [g.mul(out.pow(3)).mul(-0.5)], ["out"]);
/**
 * Elementwise `1 / sqrt(x)`.
 * @example
 * rsqrt(tensor([4])).item(); // 0.5
 */
export const rsqrt = (x: Tensor): Tensor => floatUnary(rsqrtOp, x);

const squareOp = unaryOp("square", ({ g, inputs: [x] }) => [g.mul(x).mul(2)]);
/**
 * Elementwise `x * x`.
 * @example
 * square(tensor([-3])).item(); // 9
 */
export const square = (x: Tensor): Tensor => floatUnary(squareOp, x);

const sinOp = unaryOp("sin", ({ g, inputs: [x] }) => [g.mul(x.cos())]);
/**
 * Elementwise sine.
 * @example
 * sin(tensor([0])).item(); // 0
 */
export const sin = (x: Tensor): Tensor => floatUnary(sinOp, x);

const cosOp = unaryOp("cos", ({ g, inputs: [x] }) => [g.mul(x.sin()).neg()]);
/**
 * Elementwise cosine.
 * @example
 * cos(tensor([0])).item(); // 1
 */
export const cos = (x: Tensor): Tensor => floatUnary(cosOp, x);

const tanhOp = unaryOp("tanh", ({ g, out }) => [g.mul(out.square().neg().add(1))], ["out"]);
/**
 * Elementwise hyperbolic tangent.
 * @example
 * tanh(tensor([0, 100])).toArray(); // [0, 1]
 */
export const tanh = (x: Tensor): Tensor => floatUnary(tanhOp, x);

const atanOp = unaryOp("atan", ({ g, inputs: [x] }) => [g.div(x.square().add(1))]);
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

const acosOp = unaryOp("acos", ({ g, inputs: [x] }) => [g.mul(arcSlope(x)).neg()]);
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

const asinOp = unaryOp("asin", ({ g, inputs: [x] }) => [g.mul(arcSlope(x))]);
/**
 * Elementwise arcsine, in [-π/2, π/2]; NaN outside [-1, 1] (as PyTorch). Its gradient
 * 1 / sqrt(1 - x²) is 0 at ±1 (and outside [-1, 1]) instead of Infinity (see the elementwise
 * family's header).
 * @example
 * asin(tensor([0, 1])).toArray(); // [0, 1.5707...]
 */
export const asin = (x: Tensor): Tensor => floatUnary(asinOp, x);

const sigmoidOp = unaryOp("sigmoid", ({ g, out }) => [g.mul(out).mul(out.neg().add(1))], ["out"]);
/**
 * Numerically stable logistic function `1 / (1 + e^-x)`.
 * @example
 * sigmoid(tensor([0, -1000])).toArray(); // [0.5, 0]
 */
export const sigmoid = (x: Tensor): Tensor => floatUnary(sigmoidOp, x);

// NOTE: d/dx log σ(x) = σ(-x) = 1 - σ(x), computed as sigmoid(-x): in (0, 1], no cancellation.
const logSigmoidOp = unaryOp("logSigmoid", ({ g, inputs: [x] }) => [g.mul(x.neg().sigmoid())]);
/**
 * `log(sigmoid(x))` in one stable step, as `torch.nn.functional.logsigmoid`: x itself far below 0
 * (-1000 at -1000, where `sigmoid(x).log()` gives -Infinity) and 0 far above it; its gradient
 * σ(-x) is in [0, 1] for every x.
 * @example
 * logSigmoid(tensor([-1000, 0, 1000])).toArray(); // [-1000, -0.6931..., 0]
 */
export const logSigmoid = (x: Tensor): Tensor => floatUnary(logSigmoidOp, x);

// NOTE: relu'(0) = 0 (the mask is x > 0), as PyTorch.
const reluOp = unaryOp("relu", ({ g, inputs: [x] }) => [g.mul(x.gt(0).to(g.dtype))]);
/**
 * `max(x, 0)`; relu'(0) = 0.
 * @example
 * relu(tensor([-1, 0, 2])).toArray(); // [0, 0, 2]
 */
export const relu = (x: Tensor): Tensor => floatUnary(reluOp, x);

const erfOp = unaryOp("erf", ({ g, inputs: [x] }) => [g.mul(x.square().neg().exp().mul(2 / Math.sqrt(Math.PI)))]);
/**
 * The error function (accurate to about 1e-15).
 * @example
 * erf(tensor([0])).item(); // 0
 */
export const erf = (x: Tensor): Tensor => floatUnary(erfOp, x);

const leakyReluOp = unaryOp("leakyRelu", ({ g, inputs: [x], attrs }) => [where(x.gt(0), g, g.mul(attrs.alpha ?? UNARY_DEFAULTS.alpha))]);
/**
 * x for x > 0, else `negativeSlope * x` (default slope 0.01).
 * @example
 * leakyRelu(tensor([-10, 10]), 0.1).toArray(); // [-1, 10]
 */
export const leakyRelu = (x: Tensor, negativeSlope: number = UNARY_DEFAULTS.alpha): Tensor => floatUnary(leakyReluOp, x, { alpha: negativeSlope });

const softplusOp = unaryOp("softplus", ({ g, inputs: [x], attrs }) => {
  const bx = x.mul(attrs.beta ?? UNARY_DEFAULTS.beta);
  return [where(bx.gt(attrs.threshold ?? UNARY_DEFAULTS.threshold), g, g.mul(bx.sigmoid()))];
});
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
});
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

/**
 * Gaussian error linear unit: x Φ(x) (exact, default) or the tanh approximation.
 * @example
 * gelu(tensor([0, 1])).toArray(); // [0, 0.8413...]
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  if (options.approximate === "tanh") {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
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
function binaryOp(op: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "atan2" | "hypot", vjp: BinaryVjp, saved?: readonly []): BinaryDef {
  return elementwiseOps.define<[Tensor, Tensor]>({
    elementwise: true,
    ...(saved ? { saved } : {}),
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

const addOp = binaryOp("add", ({ g }) => [g, g], []);
/**
 * `a + b`, broadcasting; either may be a number.
 * @example
 * add(a, b);
 * add(tensor([1, 2]), 1).toArray(); // [2, 3]
 */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => arith(addOp, a, b);

const subOp = binaryOp("sub", ({ g }) => [g, g.neg()], []);
/**
 * `a - b`, broadcasting; either may be a number.
 * @example
 * sub(a, b);
 * sub(1, tensor([1, 2])).toArray(); // [0, -1]
 */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => arith(subOp, a, b);

const mulOp = binaryOp("mul", ({ g, inputs: [a, b], needs }) => [needs[0] ? g.mul(b) : null, needs[1] ? g.mul(a) : null]);
/**
 * `a * b`, broadcasting; either may be a number.
 * @example
 * mul(a, b);
 * mul(tensor([[1], [2]]), tensor([1, 10])).toArray(); // [[1, 10], [2, 20]]
 */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => arith(mulOp, a, b);

// NOTE: -(g / b) * (a / b) rather than -g * a / b², which overflows for large b.
const divOp = binaryOp("div", ({ g, inputs: [a, b], needs }) => [needs[0] ? g.div(b) : null, needs[1] ? g.div(b).mul(a.div(b)).neg() : null]);
/**
 * `a / b`, broadcasting, for float tensors; either may be a number.
 * @example
 * div(a, 2);
 * div(1, tensor([2, 4])).toArray(); // [0.5, 0.25]
 */
export const div = (a: Tensor | number, b: Tensor | number): Tensor => arith(divOp, a, b);

// As PyTorch: d/da is 0 where b == 0; d/db is 0 where a == 0 and b >= 0 (instead of 0 * -inf), and
// ∓Infinity where a == 0 and b < 0.
const powOp = binaryOp("pow", ({ g, inputs: [a, b], out, needs }) => [
  needs[0] ? where(b.eq(0), 0, g.mul(b).mul(a.pow(b.sub(1)))) : null,
  // NOTE: at a = 0 with b < 0 the honest answer is out · log(0) = ∓Infinity (torch), not NaN: only
  // the lanes masked to 0 get the safe log(1).
  needs[1] ? where(a.eq(0).logicalAnd(b.ge(0)), 0, g.mul(out).mul(where(a.eq(0).logicalAnd(b.ge(0)), 1, a).log())) : null,
]);
/**
 * `a ** b`, broadcasting, for float tensors; either may be a number.
 * @example
 * pow(tensor([2, 3]), 2).toArray(); // [4, 9]
 * pow(2, tensor([3])).item(); // 8
 */
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => arith(powOp, a, b);

const maximumOp = binaryOp("maximum", extremumVjp("lt"));
/**
 * Elementwise max, broadcasting; on ties the gradient is split evenly (as PyTorch).
 * @example
 * maximum(tensor([1, 5]), tensor([3, 2])).toArray(); // [3, 5]
 * maximum(a, 0); // relu
 */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => arith(maximumOp, a, b);

const minimumOp = binaryOp("minimum", extremumVjp("gt"));
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
});
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
});
/**
 * `sqrt(a² + b²)` without overflow or underflow in the squares (hypot(3e30, 4e30) is 5e30 in
 * float32), broadcasting, for float tensors (either may be a number), as `torch.hypot`. Its gradient
 * is (a, b) / hypot(a, b), and 0 at the origin (as `norm` at the zero vector; PyTorch's is NaN).
 * @example
 * hypot(tensor([3, 0]), tensor([4, 0])).toArray(); // [5, 0]
 * hypot(tensor([3e30]), 4e30).item(); // 4.99999992e30: 5e30 in float32, where 3e30 ** 2 overflows
 */
export const hypot = (a: Tensor | number, b: Tensor | number): Tensor => arith(hypotOp, a, b);
