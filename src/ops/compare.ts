/**
 * Comparisons, logical ops and `where`: broadcasting, never differentiable except `where`, whose
 * gradient goes to the selected input.
 */
import { DTypeError } from "../errors.js";
import { getBackend } from "../kernels/registry.js";
import { isFloat } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { broadcastShape, call, expandView, nonDifferentiable, type OpDef, OpFamily, scalar } from "./define.js";
import { cast } from "./shape.js";
import { checkOperands, promote, resultType, toDType } from "./promote.js";
import { type Bounds, constBounds, type IntervalContext, type IntervalRules, isPoint, monotone, point, whereBounds } from "./interval.js";

/** @internal The compare family's op-table entries. */
export const compareOps = new OpFamily("compare");

type CompareName = "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr";

/** eq on bounds: surely equal where both are the same point, possibly where they overlap. */
function eqBounds({ bounds: [a, b] }: IntervalContext<[Tensor, Tensor], null>): Bounds {
  const overlap = a!.lo.le(b!.hi).logicalAnd(b!.lo.le(a!.hi));
  return { lo: a!.lo.eq(a!.hi).logicalAnd(b!.lo.eq(b!.hi)).logicalAnd(a!.lo.eq(b!.lo)), hi: overlap };
}
/** The interval rules of the comparisons (bool bounds: lo surely true, hi possibly true). */
const COMPARE_INTERVALS: Record<CompareName, IntervalRules<[Tensor, Tensor], null>> = {
  eq: { forward: eqBounds },
  ne: { forward: (c) => { const e = eqBounds(c); return { lo: e.hi.logicalNot(), hi: e.lo.logicalNot() }; } },
  lt: monotone([-1, 1]),
  le: monotone([-1, 1]),
  gt: monotone([1, -1]),
  ge: monotone([1, -1]),
  logicalAnd: monotone(),
  logicalOr: monotone(),
};

/** A broadcasting comparison or logical op: a bool output, no gradient. */
function compareOp(op: CompareName): OpDef<[Tensor, Tensor], null> {
  return compareOps.define<[Tensor, Tensor]>({
    name: op,
    forward: ([a, b]) => {
      const shape = broadcastShape(op, a, b);
      return new Tensor(getBackend().binary(op, expandView(a, shape), expandView(b, shape), "bool"), shape);
    },
    vjp: nonDifferentiable,
    interval: COMPARE_INTERVALS[op],
  });
}

function cmp(def: OpDef<[Tensor, Tensor], null>, a: Tensor | number, b: Tensor | number): Tensor {
  checkOperands(def.name, a, b);
  let dt = resultType(a, b);
  // NOTE: an int32 operand meeting a float compares in float64, exactly (torch rounds both to
  // float32, where 16777217 == 16777216.5 is true). An integer number that float32 holds exactly
  // (relu's mask x > 0, |n| <= 2^24) compares exactly in float32 too: no float64 copy of the tensor.
  if (dt === "float32" && [a, b].some((v) => (v instanceof Tensor ? v.dtype === "int32" : Number.isInteger(v) && Math.fround(v) !== v))) dt = "float64";
  return call(def, [toDType(def.name, a, dt), toDType(def.name, b, dt)], null);
}


const eqOp = compareOp("eq");
/**
 * Elementwise `a == b`, broadcasting, as a bool tensor.
 * @example
 * eq(tensor([1, 2]), 2).toArray(); // [false, true]
 */
export const eq = (a: Tensor | number, b: Tensor | number): Tensor => cmp(eqOp, a, b);

const neOp = compareOp("ne");
/**
 * Elementwise `a != b`, broadcasting, as a bool tensor.
 * @example
 * ne(tensor([1, 2]), 2).toArray(); // [true, false]
 */
export const ne = (a: Tensor | number, b: Tensor | number): Tensor => cmp(neOp, a, b);

const ltOp = compareOp("lt");
/**
 * Elementwise `a < b`, broadcasting, as a bool tensor.
 * @example
 * lt(tensor([1, 2]), 2).toArray(); // [true, false]
 */
export const lt = (a: Tensor | number, b: Tensor | number): Tensor => cmp(ltOp, a, b);

const leOp = compareOp("le");
/**
 * Elementwise `a <= b`, broadcasting, as a bool tensor.
 * @example
 * le(tensor([1, 2]), 2).toArray(); // [true, true]
 */
export const le = (a: Tensor | number, b: Tensor | number): Tensor => cmp(leOp, a, b);

const gtOp = compareOp("gt");
/**
 * Elementwise `a > b`, broadcasting, as a bool tensor.
 * @example
 * gt(tensor([1, 2]), 1).toArray(); // [false, true]
 */
export const gt = (a: Tensor | number, b: Tensor | number): Tensor => cmp(gtOp, a, b);

const geOp = compareOp("ge");
/**
 * Elementwise `a >= b`, broadcasting, as a bool tensor.
 * @example
 * ge(tensor([1, 2]), 2).toArray(); // [false, true]
 */
export const ge = (a: Tensor | number, b: Tensor | number): Tensor => cmp(geOp, a, b);

/** A tensor as bool: non-zero (and NaN) is true, as torch's logical ops read it. */
function boolOf(op: string, t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new DTypeError(op, `expects a tensor, got ${t === null ? "null" : typeof t}`);
  return t.dtype === "bool" ? t : cast(t, "bool");
}

const logicalAndOp = compareOp("logicalAnd");
/**
 * Elementwise logical and of two bool tensors, broadcasting.
 * @example
 * logicalAnd(tensor([true, true]), tensor([true, false])).toArray(); // [true, false]
 */
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => call(logicalAndOp, [boolOf("logicalAnd", a), boolOf("logicalAnd", b)], null);

const logicalOrOp = compareOp("logicalOr");
/**
 * Elementwise logical or of two bool tensors, broadcasting.
 * @example
 * logicalOr(tensor([true, false]), tensor([false, false])).toArray(); // [true, false]
 */
export const logicalOr = (a: Tensor, b: Tensor): Tensor => call(logicalOrOp, [boolOf("logicalOr", a), boolOf("logicalOr", b)], null);

const logicalNotOp = compareOps.define<[Tensor]>({
  name: "logicalNot",
  forward: ([x]) => new Tensor(getBackend().unary("logicalNot", x), x.shape),
  vjp: nonDifferentiable,
  interval: monotone([-1]),
});
/**
 * Elementwise logical not, as a bool tensor (a non-bool input is compared with 0 first).
 * @example
 * logicalNot(tensor([true, false])).toArray(); // [false, true]
 */
export const logicalNot = (x: Tensor): Tensor => call(logicalNotOp, [x.dtype === "bool" ? x : cast(x, "bool")], null);

const whereOp = compareOps.define<[Tensor, Tensor, Tensor]>({
  name: "where",
  forward: ([c, a, b]) => {
    const shape = broadcastShape("where", c, a, b);
    return new Tensor(getBackend().where(expandView(c, shape), expandView(a, shape), expandView(b, shape)), shape);
  },
  // NOTE: the unselected branch gets an exact 0; a NaN there (0 * inf) is the classic where() trap
  // and is the caller's to avoid (see safeDenominator in define.ts).
  vjp: ({ g, inputs: [c], needs }) => [null, needs[1] ? where(c, g, 0) : null, needs[2] ? where(c, 0, g) : null],
  saved: [0],
  interval: { forward: ({ bounds: [c, a, b] }) => whereBounds(c!, a!, b!) },
});
/**
 * Elementwise `cond ? a : b`, broadcasting all three. The unselected branch gets exactly zero
 * gradient, even where the op that made it has an infinite derivative (log or 1/x at 0, sqrt of a
 * negative, an overflowing exp, a NaN input): the engine masks 0 · ∞ to 0 for elementwise ops,
 * where PyTorch gives NaN (the "where() trap"; see docs/nan-guide.md).
 * @example
 * where(tensor([true, false]), tensor([1, 2]), 0).toArray(); // [1, 0]
 * const v = tensor([0, 2], { requiresGrad: true });
 * where(v.gt(0), log(v), 0).sum().backward(); // v.grad: [0, 0.5], no NaN
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor) || cond.dtype !== "bool") throw new DTypeError("where", `the condition must be a bool tensor, got ${cond instanceof Tensor ? cond.dtype : typeof cond}`);
  // Two numbers (where(mask, 1, 0)) give float32, as torch's default dtype; else a and b promote.
  const [ta, tb] = promote("where", a instanceof Tensor || b instanceof Tensor ? a : scalar(a, { dtype: "float32" }), b);
  return call(whereOp, [cond, ta, tb], null);
}

// ------------------------------------------------------------------ bitwise ops (issue 20)
type BitwiseName = "bitwiseAnd" | "bitwiseOr" | "bitwiseXor";

/** Interval rule of xor (and of and/or on int32): exact for points, else every value of the dtype. */
const bitwiseRules: IntervalRules<[Tensor, Tensor], null> = {
  forward: ({ bounds, attrs, out, forward }) => {
    if (bounds.every(isPoint)) return point(forward([bounds[0]!.lo, bounds[1]!.lo], attrs));
    return out.dtype === "bool" ? constBounds(out, 0, 1) : constBounds(out, -2147483648, 2147483647);
  },
};

/** A broadcasting bitwise op on int32 or bool operands (through the backend's `binaryMath`), no gradient. */
function bitwiseOp(op: BitwiseName): OpDef<[Tensor, Tensor], null> {
  return compareOps.define<[Tensor, Tensor]>({
    name: op,
    // NOTE: on bool, and/or are monotone (logicalAnd/logicalOr); xor and int32 bits are not.
    interval: {
      forward: (ctx) => (ctx.out.dtype === "bool" && op !== "bitwiseXor" ? monotone<[Tensor, Tensor], null>() : bitwiseRules).forward(ctx),
    },
    forward: ([a, b]) => {
      const shape = broadcastShape(op, a, b);
      return new Tensor(getBackend().binaryMath(op, expandView(a, shape), expandView(b, shape), a.dtype), shape);
    },
    vjp: nonDifferentiable,
  });
}

/** Promote to the result type (bool & bool is bool, bool & int32 is int32); a float one is a DTypeError, as PyTorch. */
function bitwise(def: OpDef<[Tensor, Tensor], null>, a: Tensor | number, b: Tensor | number): Tensor {
  checkOperands(def.name, a, b);
  const dt = resultType(a, b);
  if (isFloat(dt)) {
    const kinds = [a, b].map((v) => (v instanceof Tensor ? v.dtype : Number.isInteger(v) ? "int" : "float number")).join(" and ");
    throw new DTypeError(def.name, `is defined on int32 and bool operands only, got ${kinds} (PyTorch: not implemented for 'Float')`);
  }
  return call(def, [toDType(def.name, a, dt), toDType(def.name, b, dt)], null);
}

const bitwiseAndOp = bitwiseOp("bitwiseAnd");
/**
 * Elementwise bitwise and of int32 or bool operands (either may be an integer), broadcasting; the
 * result is bool for two bools, else int32. Floats are a DTypeError (as PyTorch).
 * @example
 * bitwiseAnd(tensor([12, -1], { dtype: "int32" }), 10).toArray(); // [8, 10]
 */
export const bitwiseAnd = (a: Tensor | number, b: Tensor | number): Tensor => bitwise(bitwiseAndOp, a, b);

const bitwiseOrOp = bitwiseOp("bitwiseOr");
/**
 * Elementwise bitwise or of int32 or bool operands, broadcasting (see {@link bitwiseAnd}).
 * @example
 * bitwiseOr(tensor([12], { dtype: "int32" }), 3).toArray(); // [15]
 */
export const bitwiseOr = (a: Tensor | number, b: Tensor | number): Tensor => bitwise(bitwiseOrOp, a, b);

const bitwiseXorOp = bitwiseOp("bitwiseXor");
/**
 * Elementwise bitwise exclusive or of int32 or bool operands, broadcasting (see {@link bitwiseAnd}).
 * @example
 * bitwiseXor(tensor([true, false]), tensor([true, true])).toArray(); // [false, true]
 */
export const bitwiseXor = (a: Tensor | number, b: Tensor | number): Tensor => bitwise(bitwiseXorOp, a, b);

const bitwiseNotOp = compareOps.define<[Tensor]>({
  name: "bitwiseNot",
  forward: ([x]) => new Tensor(getBackend().unary(x.dtype === "bool" ? "logicalNot" : "bitwiseNot", x), x.shape),
  vjp: nonDifferentiable,
  // ~x = -x - 1 on int32, logical not on bool: both non-increasing.
  interval: monotone([-1]),
});
/**
 * Elementwise bitwise not: `~x` for int32 (`-x - 1`), logical not for bool. Floats are a DTypeError
 * (as PyTorch).
 * @example
 * bitwiseNot(tensor([0, 5], { dtype: "int32" })).toArray(); // [-1, -6]
 */
export function bitwiseNot(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw new DTypeError("bitwiseNot", `expects a tensor, got ${x === null ? "null" : typeof x}`);
  if (isFloat(x.dtype)) throw new DTypeError("bitwiseNot", `is defined on int32 and bool tensors only, got ${x.dtype} (PyTorch: not implemented for 'Float')`);
  return call(bitwiseNotOp, [x], null);
}
