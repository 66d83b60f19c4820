/**
 * The public op functions. Primitive ops dispatch to the op table (ops.ts); composites are built
 * from primitives here and get their gradients from them. Each function validates its arguments
 * and throws a typed error naming the op, the shapes and the offending value.
 */
import { DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import type { Conv2dParams } from "../kernels/backend.js";
import { convOut } from "../kernels/reference.js";
import { getBackend } from "../kernels/registry.js";
import { allocArray, isFloat, toDtype, type DType } from "../tensor/dtype.js";
import { normDim, normDims, numel, sameShape, shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { applyOp } from "./engine.js";
import { ops, type OpName } from "./ops.js";
import type { OpDef } from "./node.js";

/**
 * The dims a reduction runs over: one dim, a list of dims, or null (or omitted) for all.
 * Negative dims count from the end.
 * @example
 * const dims: Dims = [0, -1];
 * sum(a, dims);
 */
export type Dims = number | readonly number[] | null;
/**
 * What `max(x, dim)`, `min(x, dim)` and `maxPool2dWithIndices` return.
 * @example
 * const { values, indices } = max(a, 1);
 */
export interface ValuesIndices {
  /** The selected values (they carry the gradient). */
  values: Tensor;
  /** Where each value was found, as int32 (not differentiable). */
  indices: Tensor;
}
/** Options of `variance` / `std` (`Tensor.var`, `Tensor.std`). */
export interface VarOptions {
  /** Bessel's correction: divide by N - correction (default 1, as PyTorch). */
  correction?: number;
  /** Keep the reduced dims with size 1 (default false). */
  keepdim?: boolean;
}
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

function call<N extends OpName>(name: N, inputs: readonly Tensor[], attrs: unknown): Tensor {
  return applyOp(name, ops[name] as OpDef<unknown>, inputs, attrs);
}

/** A 0-d tensor holding `value`, with `like`'s dtype. */
export function scalar(value: number, like: { dtype: DType }): Tensor {
  return new Tensor(toDtype([value], like.dtype), []);
}

function needFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) throw new DTypeError(op, `expects a float tensor, got ${t.dtype} (shape ${shapeStr(t.shape)})`);
}

const BOOL_MATH = `arithmetic on bool tensors; convert with .to("float32") first`;

function toTensor(op: string, x: Tensor | number, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x !== "number") throw new DTypeError(op, `expected a tensor or a number, got ${typeof x}`);
  if (like.dtype === "int32" && !Number.isInteger(x)) {
    throw new DTypeError(op, `int32 tensor with the non-integer ${x}; convert with .to("float32") first`);
  }
  if (like.dtype === "bool") throw new DTypeError(op, BOOL_MATH);
  return scalar(x, like);
}

function pair(op: string, a: Tensor | number, b: Tensor | number): [Tensor, Tensor] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new DTypeError(op, "expects at least one tensor");
  const ta = toTensor(op, a, b as Tensor);
  const tb = toTensor(op, b, ta);
  if (ta.dtype !== tb.dtype) {
    throw new DTypeError(op, `mixed dtypes ${ta.dtype} (shape ${shapeStr(ta.shape)}) and ${tb.dtype} (shape ${shapeStr(tb.shape)}); convert one with .to()`);
  }
  return [ta, tb];
}

function arith(name: "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum", a: Tensor | number, b: Tensor | number): Tensor {
  const [ta, tb] = pair(name, a, b);
  if (ta.dtype === "bool") throw new DTypeError(name, BOOL_MATH);
  if (name === "div" || name === "pow") needFloat(name, ta);
  return call(name, [ta, tb], null);
}

function unary(name: OpName, x: Tensor, attrs: unknown = {}): Tensor {
  if (name !== "neg" && name !== "abs" && name !== "sign") needFloat(name, x);
  return call(name, [x], attrs);
}

// ------------------------------------------------------------------ unary
/**
 * Elementwise `-x`.
 * @example
 * neg(a)
 */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/**
 * Elementwise `|x|`; its subgradient at 0 is 0.
 * @example
 * abs(a)
 */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/**
 * Elementwise sign: -1, 0 or 1 (its gradient is 0).
 * @example
 * sign(a)
 */
export const sign = (x: Tensor): Tensor => unary("sign", x);
/**
 * Elementwise `e^x`.
 * @example
 * exp(tensor([0, 1])).toArray(); // [1, 2.718...]
 */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/**
 * Elementwise natural logarithm (NaN below 0, -Infinity at 0).
 * @example
 * log(tensor([1, Math.E])).toArray(); // [0, 1]
 */
export const log = (x: Tensor): Tensor => unary("log", x);
/**
 * Elementwise `log(1 + x)`, accurate for small x.
 * @example
 * log1p(tensor([1e-10])).item(); // 1e-10, where log(1 + x) gives 0
 */
export const log1p = (x: Tensor): Tensor => unary("log1p", x);
/**
 * Elementwise `e^x - 1`, accurate for small x.
 * @example
 * expm1(tensor([1e-10], { dtype: "float64" })).item(); // 1e-10
 */
export const expm1 = (x: Tensor): Tensor => unary("expm1", x);
/**
 * Elementwise square root (its gradient at 0 is Infinity: add an eps inside when the input can be 0).
 * @example
 * sqrt(tensor([4, 9])).toArray(); // [2, 3]
 */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/**
 * Elementwise `1 / sqrt(x)`.
 * @example
 * rsqrt(tensor([4])).item(); // 0.5
 */
export const rsqrt = (x: Tensor): Tensor => unary("rsqrt", x);
/**
 * Elementwise `x * x`.
 * @example
 * square(tensor([-3])).item(); // 9
 */
export const square = (x: Tensor): Tensor => unary("square", x);
/**
 * Elementwise sine.
 * @example
 * sin(tensor([0])).item(); // 0
 */
export const sin = (x: Tensor): Tensor => unary("sin", x);
/**
 * Elementwise cosine.
 * @example
 * cos(tensor([0])).item(); // 1
 */
export const cos = (x: Tensor): Tensor => unary("cos", x);
/**
 * Elementwise hyperbolic tangent.
 * @example
 * tanh(tensor([0, 100])).toArray(); // [0, 1]
 */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/**
 * Numerically stable logistic function `1 / (1 + e^-x)`.
 * @example
 * sigmoid(tensor([0, -1000])).toArray(); // [0.5, 0]
 */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/**
 * `max(x, 0)`; relu'(0) = 0.
 * @example
 * relu(tensor([-1, 0, 2])).toArray(); // [0, 0, 2]
 */
export const relu = (x: Tensor): Tensor => unary("relu", x);
/**
 * The error function (accurate to about 1e-15).
 * @example
 * erf(tensor([0])).item(); // 0
 */
export const erf = (x: Tensor): Tensor => unary("erf", x);
/**
 * x for x > 0, else `negativeSlope * x` (default slope 0.01).
 * @example
 * leakyRelu(tensor([-10, 10]), 0.1).toArray(); // [-1, 10]
 */
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => unary("leakyRelu", x, { alpha: negativeSlope });
/**
 * `log(1 + exp(beta x)) / beta`, linear above `threshold` (as PyTorch).
 * @example
 * softplus(tensor([0])).item(); // 0.693...
 * softplus(a, { beta: 2 });
 */
export const softplus = (x: Tensor, options: SoftplusOptions = {}): Tensor =>
  unary("softplus", x, { beta: options.beta ?? 1, threshold: options.threshold ?? 20 });
/**
 * Clamp to [min, max] (either may be null or omitted, not both); the gradient passes where
 * min <= x <= max.
 * @example
 * clamp(tensor([-2, 0.5, 2]), -1, 1).toArray(); // [-1, 0.5, 1]
 * clamp(a, 0, null); // only a lower bound
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (min == null && max == null) throw new ValueError("clamp", "needs min or max");
  return unary("clamp", x, { min: min ?? -Infinity, max: max ?? Infinity });
}
/**
 * Elementwise logical not, as a bool tensor (a non-bool input is compared with 0 first).
 * @example
 * logicalNot(tensor([true, false])).toArray(); // [false, true]
 */
export const logicalNot = (x: Tensor): Tensor => call("logicalNot", [x.dtype === "bool" ? x : cast(x, "bool")], null);

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

// ------------------------------------------------------------------ binary
/**
 * `a + b`, broadcasting; either may be a number.
 * @example
 * add(a, b);
 * add(tensor([1, 2]), 1).toArray(); // [2, 3]
 */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => arith("add", a, b);
/**
 * `a - b`, broadcasting; either may be a number.
 * @example
 * sub(a, b);
 * sub(1, tensor([1, 2])).toArray(); // [0, -1]
 */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => arith("sub", a, b);
/**
 * `a * b`, broadcasting; either may be a number.
 * @example
 * mul(a, b);
 * mul(tensor([[1], [2]]), tensor([1, 10])).toArray(); // [[1, 10], [2, 20]]
 */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => arith("mul", a, b);
/**
 * `a / b`, broadcasting, for float tensors; either may be a number.
 * @example
 * div(a, 2);
 * div(1, tensor([2, 4])).toArray(); // [0.5, 0.25]
 */
export const div = (a: Tensor | number, b: Tensor | number): Tensor => arith("div", a, b);
/**
 * `a ** b`, broadcasting, for float tensors; either may be a number.
 * @example
 * pow(tensor([2, 3]), 2).toArray(); // [4, 9]
 * pow(2, tensor([3])).item(); // 8
 */
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => arith("pow", a, b);
/**
 * Elementwise max, broadcasting; on ties the gradient is split evenly (as PyTorch).
 * @example
 * maximum(tensor([1, 5]), tensor([3, 2])).toArray(); // [3, 5]
 * maximum(a, 0); // relu
 */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => arith("maximum", a, b);
/**
 * Elementwise min, broadcasting; on ties the gradient is split evenly (as PyTorch).
 * @example
 * minimum(tensor([1, 5]), 3).toArray(); // [1, 3]
 */
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor => arith("minimum", a, b);

function cmp(name: "eq" | "ne" | "lt" | "le" | "gt" | "ge", a: Tensor | number, b: Tensor | number): Tensor {
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : null;
  if (!like) throw new DTypeError(name, "expects at least one tensor");
  // NOTE: a number compared with a tensor is not rounded to the tensor's dtype's integer type.
  const conv = (v: Tensor | number): Tensor => (v instanceof Tensor ? v : like.dtype === "int32" && !Number.isInteger(v) ? scalar(v, { dtype: "float64" }) : scalar(v, like));
  let x = conv(a);
  let y = conv(b);
  if (x.dtype !== y.dtype) {
    if (x.ndim === 0 && !(a instanceof Tensor)) y = cast(y, "float64"); // x is the float64 scalar of a fractional number
    else if (y.ndim === 0 && !(b instanceof Tensor)) {
      x = cast(x, "float64");
      y = cast(y, "float64");
    } else throw new DTypeError(name, `mixed dtypes ${x.dtype} and ${y.dtype}`);
  }
  return call(name, [x, y], null);
}
/**
 * Elementwise `a == b`, broadcasting, as a bool tensor.
 * @example
 * eq(tensor([1, 2]), 2).toArray(); // [false, true]
 */
export const eq = (a: Tensor | number, b: Tensor | number): Tensor => cmp("eq", a, b);
/**
 * Elementwise `a != b`, broadcasting, as a bool tensor.
 * @example
 * ne(tensor([1, 2]), 2).toArray(); // [true, false]
 */
export const ne = (a: Tensor | number, b: Tensor | number): Tensor => cmp("ne", a, b);
/**
 * Elementwise `a < b`, broadcasting, as a bool tensor.
 * @example
 * lt(tensor([1, 2]), 2).toArray(); // [true, false]
 */
export const lt = (a: Tensor | number, b: Tensor | number): Tensor => cmp("lt", a, b);
/**
 * Elementwise `a <= b`, broadcasting, as a bool tensor.
 * @example
 * le(tensor([1, 2]), 2).toArray(); // [true, true]
 */
export const le = (a: Tensor | number, b: Tensor | number): Tensor => cmp("le", a, b);
/**
 * Elementwise `a > b`, broadcasting, as a bool tensor.
 * @example
 * gt(tensor([1, 2]), 1).toArray(); // [false, true]
 */
export const gt = (a: Tensor | number, b: Tensor | number): Tensor => cmp("gt", a, b);
/**
 * Elementwise `a >= b`, broadcasting, as a bool tensor.
 * @example
 * ge(tensor([1, 2]), 2).toArray(); // [false, true]
 */
export const ge = (a: Tensor | number, b: Tensor | number): Tensor => cmp("ge", a, b);

function boolOf(op: string, t: Tensor): Tensor {
  if (t.dtype !== "bool") throw new DTypeError(op, `expects a bool tensor, got ${t.dtype}`);
  return t;
}
/**
 * Elementwise logical and of two bool tensors, broadcasting.
 * @example
 * logicalAnd(tensor([true, true]), tensor([true, false])).toArray(); // [true, false]
 */
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => call("logicalAnd", [boolOf("logicalAnd", a), boolOf("logicalAnd", b)], null);
/**
 * Elementwise logical or of two bool tensors, broadcasting.
 * @example
 * logicalOr(tensor([true, false]), tensor([false, false])).toArray(); // [true, false]
 */
export const logicalOr = (a: Tensor, b: Tensor): Tensor => call("logicalOr", [boolOf("logicalOr", a), boolOf("logicalOr", b)], null);

/**
 * Elementwise `cond ? a : b`, broadcasting all three. The unselected branch gets a zero
 * gradient, but it is still computed: a NaN or Inf there poisons nothing in the forward pass,
 * yet 0 * Inf in its own backward does (the where() trap): make both branches finite.
 * @example
 * where(tensor([true, false]), tensor([1, 2]), 0).toArray(); // [1, 0]
 * // the safe way to take log(x) only where x > 0: feed the log a finite input everywhere
 * const v = tensor([0, 2], { requiresGrad: true });
 * const pos = v.gt(0);
 * where(pos, log(where(pos, v, 1)), 0).sum().backward(); // v.grad: [0, 0.5], no NaN
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  boolOf("where", cond);
  // Two numbers (where(mask, 1, 0)) give float32, as torch's default dtype.
  const [ta, tb] = pair("where", a instanceof Tensor || b instanceof Tensor ? a : scalar(a, { dtype: "float32" }), b);
  return call("where", [cond, ta, tb], null);
}

// ------------------------------------------------------------------ dtype and layout
/**
 * Convert to `dtype` (differentiable between float dtypes; x itself when it already has it).
 * @example
 * cast(tensor([1.5]), "int32").toArray(); // [1]
 * cast(a, "float64").dtype; // "float64"
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return call("cast", [x], { dtype });
}

/**
 * A contiguous tensor with the same values (x itself when already contiguous).
 * @example
 * const tt = transpose(a, 0, 1);
 * contiguous(tt).isContiguous(); // true
 */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : call("contiguous", [x], null);
}

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const neg = out.filter((s) => s === -1).length;
  if (neg > 1) throw new ShapeError(op, `only one dim may be -1, got ${shapeStr(shape)}`);
  for (const s of out) if (!Number.isInteger(s) || s < -1) throw new ShapeError(op, `invalid size ${s} in ${shapeStr(shape)}`);
  if (neg === 1) {
    const known = out.reduce((a, s) => (s === -1 ? a : a * s), 1);
    // NaN (no fit, or known = 0: x % 0 is NaN) fails the size check below.
    out[out.indexOf(-1)] = x.numel % known ? NaN : x.numel / known;
  }
  if (numel(out) !== x.numel) throw new ShapeError(op, `shape ${shapeStr(shape)} is invalid for input of size ${x.numel} (shape ${shapeStr(x.shape)})`);
  return out;
}

/**
 * The same elements with a new shape (-1 infers one size); a view when the layout allows, else a copy.
 * @example
 * reshape(arange(6), [2, -1]).shape; // [2, 3]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape("reshape", x, shape);
  if (sameShape(s, x.shape)) return x;
  return call("reshape", [x], { shape: s });
}

/**
 * Like reshape, but throws instead of copying when the layout does not allow a view.
 * @example
 * view(a, [3, 2]).storage === a.storage; // true
 */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const s = resolveShape("view", x, shape);
  const r = sameShape(s, x.shape) ? x : call("reshape", [x], { shape: s });
  if (r.storage !== x.storage) throw new ShapeError("view", `cannot view shape ${shapeStr(x.shape)} (strides ${shapeStr(x.strides)}) as ${shapeStr(s)}: use reshape() or contiguous() first`);
  return r;
}

/**
 * Merge dims `startDim..endDim` (default: all dims) into one.
 * @example
 * flatten(zeros([2, 3, 4]), 1).shape; // [2, 12]
 * flatten(a).shape; // [6]
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim("flatten", startDim, x.ndim);
  const e = normDim("flatten", endDim, x.ndim);
  if (s > e) throw new ShapeError("flatten", `startDim ${startDim} > endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/**
 * Reorder the dims: output dim i is input dim `dims[i]` (a view).
 * @example
 * permute(zeros([2, 3, 4]), [2, 0, 1]).shape; // [4, 2, 3]
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new ShapeError("permute", `expected ${x.ndim} dims for shape ${shapeStr(x.shape)}, got ${JSON.stringify(dims)}`);
  const d = dims.map((v) => normDim("permute", v, x.ndim));
  if (new Set(d).size !== d.length) throw new ShapeError("permute", `repeated dim in ${JSON.stringify(dims)}`);
  if (d.every((v, i) => v === i)) return x;
  return call("permute", [x], { dims: d });
}

/**
 * Swap two dims (a view).
 * @example
 * transpose(a, 0, 1).shape; // [3, 2]
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  if (x.ndim < 2 && dim0 === dim1) return x;
  const a = normDim("transpose", dim0, x.ndim);
  const b = normDim("transpose", dim1, x.ndim);
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/**
 * Broadcast to a larger shape without copying (-1 keeps a size).
 * @example
 * expand(tensor([[1], [2]]), [2, 3]).toArray(); // [[1, 1, 1], [2, 2, 2]]
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new ShapeError("expand", `cannot expand ${shapeStr(x.shape)} to fewer dims ${shapeStr(shape)}`);
  const s = shape.map((v, i) => (v === -1 && i >= lead ? x.shape[i - lead]! : v));
  s.forEach((v, i) => {
    const own = i >= lead ? x.shape[i - lead]! : 1;
    if (!(v === own || own === 1) || v < 0) throw new ShapeError("expand", `cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)} (dim ${i})`);
  });
  if (sameShape(s, x.shape)) return x;
  return call("expand", [x], { shape: s });
}

/**
 * Remove every size-1 dim, or only `dim` (when its size is 1).
 * @example
 * squeeze(zeros([2, 1, 3])).shape; // [2, 3]
 * squeeze(zeros([1, 3]), 0).shape; // [3]
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((s) => s !== 1));
  const d = normDim("squeeze", dim, x.ndim);
  if (x.shape[d] !== 1) return x; // a 0-d x has no size at d = 0
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/**
 * Insert a size-1 dim at `dim` (negative counts from the end of the result).
 * @example
 * unsqueeze(zeros([3]), 0).shape; // [1, 3]
 * unsqueeze(zeros([3]), -1).shape; // [3, 1]
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/**
 * The slice [start, start + length) of one dim, as a view.
 * @example
 * narrow(arange(5), 0, 1, 3).toArray(); // [1, 2, 3]
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim("narrow", dim, x.ndim);
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new IndexError("narrow", `start ${start} and length ${length} out of range for dim ${dim} of size ${size} (shape ${shapeStr(x.shape)})`);
  }
  if (s === 0 && length === size) return x;
  return call("narrow", [x], { dim: d, start: s, length });
}

/**
 * The slice at `index` of one dim (negative counts from the end), with that dim removed.
 * @example
 * select(tensor([[1, 2], [3, 4]]), 0, -1).toArray(); // [3, 4]
 */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim("select", dim, x.ndim);
  const size = x.shape[d]!;
  const i = index < 0 ? index + size : index;
  if (!Number.isInteger(i) || i < 0 || i >= size) throw new IndexError("select", `index ${index} out of range for dim ${dim} of size ${size}`);
  return squeeze(narrow(x, d, i, 1), d);
}

/** @internal pad with one [before, after] pair per dim. */
export function padDims(x: Tensor, pads: [number, number][], value: number): Tensor {
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return call("pad", [x], { pads, value });
}

/**
 * Constant padding, in torch.nn.functional.pad order: `[left, right]` for the last dim, then
 * `[top, bottom]` for the one before, and so on.
 * @example
 * pad(tensor([[1, 2]]), [1, 0]).toArray(); // [[0, 1, 2]]
 * pad(zeros([1, 1, 4, 4]), [1, 1, 1, 1]).shape; // [1, 1, 6, 6]
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new ShapeError("pad", `padding length ${pads.length} must be even and <= ${2 * x.ndim} for shape ${shapeStr(x.shape)}`);
  }
  for (const p of pads) if (!Number.isInteger(p) || p < 0) throw new ValueError("pad", `pads must be non-negative integers, got ${JSON.stringify(pads)}`);
  const per: [number, number][] = x.shape.map(() => [0, 0]);
  for (let i = 0; i < pads.length / 2; i++) per[x.ndim - 1 - i] = [pads[2 * i]!, pads[2 * i + 1]!];
  return padDims(x, per, value);
}

/**
 * Concatenate along an existing dim.
 * @example
 * cat([a, b], 0).shape; // [4, 3]
 * cat([a, b], 1).shape; // [2, 6]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError("cat", "got an empty list");
  const first = tensors[0]!;
  const d = normDim("cat", dim, first.ndim);
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new DTypeError("cat", `tensor ${i} has dtype ${t.dtype}, tensor 0 has ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new ShapeError("cat", `tensor ${i} has shape ${shapeStr(t.shape)}, tensor 0 has ${shapeStr(first.shape)} (outside dim ${dim})`);
    }
  });
  if (tensors.length === 1) return first;
  return call("cat", tensors, { dim: d });
}

/**
 * Stack tensors of the same shape along a new dim.
 * @example
 * stack([a, b]).shape; // [2, 2, 3]
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError("stack", "got an empty list");
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, first.shape)) throw new ShapeError("stack", `tensor ${i} has shape ${shapeStr(t.shape)}, tensor 0 has ${shapeStr(first.shape)}`);
  });
  const d = normDim("stack", dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/**
 * Split into pieces of `size` (the last may be smaller) or of the given sizes. Views.
 * @example
 * split(arange(5), 2).map((p) => p.toArray()); // [[0, 1], [2, 3], [4]]
 * split(arange(5), [1, 4]).length; // 2
 */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim("split", dim, x.ndim);
  const n = x.shape[d]!;
  let sizes: number[];
  if (typeof sizeOrSections === "number") {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) throw new ValueError("split", `size must be a positive integer, got ${sizeOrSections}`);
    sizes = [];
    for (let s = 0; s < n; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - s));
    if (n === 0) sizes.push(0);
  } else {
    sizes = [...sizeOrSections];
    if (sizes.reduce((a, b) => a + b, 0) !== n || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new ShapeError("split", `sizes ${JSON.stringify(sizes)} do not sum to ${n} (dim ${dim} of shape ${shapeStr(x.shape)})`);
    }
  }
  let off = 0;
  return sizes.map((s) => {
    const r = narrow(x, d, off, s);
    off += s;
    return r;
  });
}

/**
 * Split into `chunks` pieces of size ceil(n / chunks) (as torch.chunk; there may be fewer).
 * @example
 * chunk(arange(6), 3).map((p) => p.toArray()); // [[0, 1], [2, 3], [4, 5]]
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ValueError("chunk", `chunks must be a positive integer, got ${chunks}`);
  const d = normDim("chunk", dim, x.ndim);
  const size = Math.max(1, Math.ceil(x.shape[d]! / chunks));
  return split(x, size, d);
}

/** Index values must lie in [0, size of dim d of x) (`dim` as the caller gave it, for the message). */
function checkIndex(op: string, index: Tensor, x: Tensor, d: number, dim: number): void {
  if (index.dtype !== "int32") throw new DTypeError(op, `index must be int32, got ${index.dtype}`);
  const size = x.shape[d]!;
  const data = index.toTypedArray();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= size) throw new IndexError(op, `index ${v} is out of range for dim ${dim} of input shape ${shapeStr(x.shape)} of size ${size}`);
  }
}

/**
 * out[i][j] = x[index[i][j]][j] (dim 0), as torch.gather; index is int32 with x's ndim.
 * @example
 * gather(tensor([[1, 2], [3, 4]]), 1, tensor([[1], [0]], { dtype: "int32" })).toArray(); // [[2], [3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("gather", dim, x.ndim);
  if (index.ndim !== x.ndim) throw new ShapeError("gather", `index ${shapeStr(index.shape)} and input ${shapeStr(x.shape)} must have the same number of dims`);
  index.shape.forEach((s, i) => {
    if (i !== d && s > x.shape[i]!) throw new ShapeError("gather", `index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)} at dim ${i}`);
  });
  checkIndex("gather", index, x, d, dim);
  return call("gather", [x, index], { dim: d });
}

/**
 * A copy of x with src added at the positions index names along dim (as torch.scatter_add).
 * @example
 * const idx = tensor([0, 0, 2], { dtype: "int32" });
 * scatterAdd(zeros([3]), 0, idx, tensor([1, 2, 3])).toArray(); // [3, 0, 3]
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normDim("scatterAdd", dim, x.ndim);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) throw new ShapeError("scatterAdd", `input ${shapeStr(x.shape)}, index ${shapeStr(index.shape)} and src ${shapeStr(src.shape)} must have the same number of dims`);
  index.shape.forEach((s, i) => {
    if (s > src.shape[i]! || (i !== d && s > x.shape[i]!)) throw new ShapeError("scatterAdd", `index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)} or src ${shapeStr(src.shape)} at dim ${i}`);
  });
  if (src.dtype !== x.dtype) throw new DTypeError("scatterAdd", `mixed dtypes: input ${x.dtype}, src ${src.dtype}`);
  checkIndex("scatterAdd", index, x, d, dim);
  return call("scatterAdd", [x, index, src], { dim: d });
}

/**
 * Rows (or slices along dim) picked by a 1-D int32 index.
 * @example
 * indexSelect(tensor([[1, 2], [3, 4], [5, 6]]), 0, tensor([2, 0], { dtype: "int32" })).toArray(); // [[5, 6], [1, 2]]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("indexSelect", dim, x.ndim);
  if (index.ndim > 1) throw new ShapeError("indexSelect", `index must be 1-D, got shape ${shapeStr(index.shape)}`);
  const idx = index.ndim === 0 ? reshape(index, [1]) : index;
  checkIndex("indexSelect", idx, x, d, dim);
  const outShape = x.shape.map((s, i) => (i === d ? idx.shape[0]! : s));
  const viewShape = x.shape.map((_, i) => (i === d ? idx.shape[0]! : 1));
  return call("gather", [x, expand(reshape(idx, viewShape), outShape)], { dim: d });
}

/**
 * One-hot encoding of an int32 tensor, as int32 with a new last dim of numClasses (default:
 * the largest value + 1). Not differentiable.
 * @example
 * oneHot(tensor([0, 2], { dtype: "int32" }), 3).toArray(); // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(x: Tensor, numClasses = -1): Tensor {
  if (x.dtype !== "int32") throw new DTypeError("oneHot", `expects an int32 tensor, got ${x.dtype}`);
  const data = x.toTypedArray();
  let max = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0) throw new IndexError("oneHot", `classes must be >= 0, got ${v}`);
    if (v > max) max = v;
  }
  const n = numClasses === -1 ? max + 1 : numClasses;
  if (max >= n) throw new IndexError("oneHot", `class value ${max} is out of range for numClasses ${n}`);
  const out = new Int32Array(data.length * n);
  for (let i = 0; i < data.length; i++) out[i * n + data[i]!] = 1;
  return new Tensor(out, [...x.shape, n]);
}

// ------------------------------------------------------------------ reductions
/**
 * Sum over `dim` (a dim, a list of dims, or all when omitted); bool is summed as int32.
 * @example
 * sum(tensor([[1, 2], [3, 4]])).item(); // 10
 * sum(tensor([[1, 2], [3, 4]]), 0).toArray(); // [4, 6]
 * sum(a, [0, 1], true).shape; // [1, 1]
 */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  if (x.dtype === "bool") x = cast(x, "int32");
  const dims = normDims("sum", dim, x.ndim);
  return call("sum", [x], { dims, keepdim });
}

/**
 * Mean over `dim` (a dim, a list of dims, or all when omitted), for float tensors.
 * @example
 * mean(tensor([[1, 2], [3, 4]]), 1).toArray(); // [1.5, 3.5]
 */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  needFloat("mean", x);
  const dims = normDims("mean", dim, x.ndim);
  const n = dims.reduce((a, d) => a * x.shape[d]!, 1);
  return sum(x, dims, keepdim).div(n);
}

function extreme(name: "amax" | "amin", x: Tensor, dim: Dims | undefined, keepdim: boolean): Tensor {
  const dims = normDims(name, dim, x.ndim);
  if (dims.some((d) => x.shape[d] === 0) || (x.numel === 0 && dims.length === 0 && x.ndim > 0)) {
    throw new ShapeError(name, `cannot reduce over an empty dim (shape ${shapeStr(x.shape)})`);
  }
  return call(name, [x], { dims, keepdim });
}
/**
 * Max over dims; ties share the gradient evenly (as torch.amax).
 * @example
 * amax(tensor([[1, 5], [7, 2]]), 1).toArray(); // [5, 7]
 */
export const amax = (x: Tensor, dim?: Dims, keepdim = false): Tensor => extreme("amax", x, dim, keepdim);
/**
 * Min over dims; ties share the gradient evenly (as torch.amin).
 * @example
 * amin(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 2]
 */
export const amin = (x: Tensor, dim?: Dims, keepdim = false): Tensor => extreme("amin", x, dim, keepdim);

function argExtreme(name: "argmax" | "argmin", x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) {
    if (x.numel === 0) throw new ShapeError(name, "empty tensor");
    return call(name, [reshape(x, [-1])], { dim: 0, keepdim: false });
  }
  const d = normDim(name, dim, x.ndim);
  if (x.ndim === 0) return call(name, [reshape(x, [1])], { dim: 0, keepdim: false });
  if (x.shape[d] === 0) throw new ShapeError(name, `cannot reduce over an empty dim (shape ${shapeStr(x.shape)})`);
  return call(name, [x], { dim: d, keepdim });
}
/**
 * Index of the largest value along `dim` (of the flattened tensor when `dim` is omitted), as int32.
 * The first one wins on ties.
 * @example
 * argmax(tensor([[1, 5], [7, 2]]), 1).toArray(); // [1, 0]
 * argmax(tensor([[1, 5], [7, 2]])).item(); // 2
 */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => argExtreme("argmax", x, dim, keepdim);
/**
 * Index of the smallest value along `dim` (of the flattened tensor when `dim` is omitted), as int32.
 * The first one wins on ties.
 * @example
 * argmin(tensor([[1, 5], [7, 2]]), 1).toArray(); // [0, 1]
 */
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => argExtreme("argmin", x, dim, keepdim);

function valuesIndices(name: "argmax" | "argmin", x: Tensor, dim: number, keepdim: boolean): ValuesIndices {
  const d = normDim(name, dim, x.ndim);
  const xx = x.ndim === 0 ? reshape(x, [1]) : x;
  const indices = argExtreme(name, xx, d, true);
  let values = gather(xx, d, indices);
  let idx = indices;
  if (!keepdim || x.ndim === 0) {
    values = squeeze(values, d);
    idx = squeeze(indices, d);
  }
  return { values, indices: idx };
}

/**
 * `max(x)`: the largest element. `max(x, dim, keepdim)`: values and indices along dim; the
 * gradient goes to the returned index (as torch.max(dim)).
 * @example
 * max(tensor([3, 9, 4])).item(); // 9
 * const { values, indices } = max(tensor([[1, 5], [7, 2]]), 1); // values [5, 7], indices [1, 0]
 */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? amax(x) : valuesIndices("argmax", x, dim, keepdim);
}
/**
 * `min(x)`: the smallest element. `min(x, dim, keepdim)`: values and indices along dim; the
 * gradient goes to the returned index (as torch.min(dim)).
 * @example
 * min(tensor([3, 9, 4])).item(); // 3
 * const { values, indices } = min(tensor([[1, 5], [7, 2]]), 1); // values [1, 2], indices [0, 1]
 */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? amin(x) : valuesIndices("argmin", x, dim, keepdim);
}

/**
 * Variance with Bessel's `correction` (default 1). The free-function name of `Tensor.var`.
 * @example
 * variance(tensor([1, 2, 3, 4])).item(); // 1.666...
 * variance(tensor([1, 2, 3, 4]), 0, { correction: 0 }).item(); // 1.25
 */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  const correction = options.correction ?? 1;
  const keepdim = options.keepdim ?? false;
  const dims = normDims("var", dim, x.ndim);
  const n = dims.reduce((a, d) => a * x.shape[d]!, 1);
  const mu = mean(x, dims, true);
  const d = x.sub(mu);
  return sum(d.mul(d), dims, keepdim).div(Math.max(0, n - correction));
}

/**
 * Standard deviation: sqrt(var). NOTE: its gradient at a constant input is 0 * inf = NaN (as in
 * PyTorch); use `stdPool` with an eps inside the sqrt where that can happen.
 * @example
 * std(tensor([1, 2, 3, 4]), 0, { correction: 0 }).item(); // 1.118...
 */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return variance(x, dim, options).sqrt();
}

function finiteShift(m: Tensor): Tensor {
  // The max shift is a constant (detached); an infinite max (all -inf row) shifts by 0 instead.
  const md = m.detach();
  return where(md.abs().eq(Infinity), 0, md);
}

/**
 * log(sum(exp(x))) over dim, max-shifted so it neither overflows nor underflows.
 * @example
 * logsumexp(tensor([1000, 1000]), 0).item(); // 1000.693..., where the naive formula gives Infinity
 */
export function logsumexp(x: Tensor, dim: Dims, keepdim = false): Tensor {
  const dims = normDims("logsumexp", dim, x.ndim);
  if (x.numel === 0) return sum(x, dims, keepdim).log();
  const m = finiteShift(amax(x, dims, true));
  const r = x.sub(m).exp().sum(dims, true).log().add(m);
  return keepdim ? r : reshape(r, x.shape.filter((_, d) => !dims.includes(d)));
}

/**
 * Max-shifted softmax along `dim`. A row with some -Infinity entries (a mask) gives zeros there, not NaN.
 * @example
 * softmax(tensor([[0, 0]]), 1).toArray(); // [[0.5, 0.5]]
 * softmax(tensor([1, -Infinity]), 0).toArray(); // [1, 0]
 */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxOp("softmax", x, dim);
}

function softmaxOp(op: "softmax" | "logSoftmax", x: Tensor, dim: number): Tensor {
  const d = normDim(op, dim, x.ndim);
  if (!isFloat(x.dtype)) throw new DTypeError(op, `expects a float tensor, got ${x.dtype}`);
  return x.numel === 0 ? x : call(op, [x], { dim: d });
}

/**
 * x - logsumexp(x): the stable log of softmax along `dim`.
 * @example
 * logSoftmax(tensor([[0, 0]]), 1).toArray(); // [[-0.693..., -0.693...]]
 * logSoftmax(tensor([0, 1000]), 0).toArray(); // [-1000, 0], finite
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxOp("logSoftmax", x, dim);
}

/**
 * The p-norm (p = 1, 2, Infinity, or any p >= 1; default 2) over dims, as torch.linalg.vector_norm.
 * Its gradient at 0 is 0, not NaN.
 * @example
 * norm(tensor([3, 4])).item(); // 5
 * norm(tensor([3, -4]), 1).item(); // 7
 * norm(a, 2, 1).shape; // [2]
 */
export function norm(x: Tensor, p = 2, dim?: Dims, keepdim = false): Tensor {
  needFloat("norm", x);
  if (!(p >= 1)) throw new ValueError("norm", `p must be >= 1 or Infinity, got ${p}`);
  const dims = normDims("norm", dim, x.ndim);
  if (p === Infinity && dims.some((d) => x.shape[d] === 0)) throw new ShapeError("norm", `inf-norm of an empty dim (shape ${shapeStr(x.shape)})`);
  return call("norm", [x], { p, dims, keepdim });
}

// ------------------------------------------------------------------ linear algebra
/**
 * Matrix product with torch.matmul's rules: 1-D vectors, 2-D matrices, batched with broadcasting.
 * @example
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])).toArray(); // [[11]]
 * matmul(randn([5, 2, 3]), randn([3, 4])).shape; // [5, 2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError("matmul", `needs at least 1 dim, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  if (a.dtype !== b.dtype) throw new DTypeError("matmul", `mixed dtypes ${a.dtype} and ${b.dtype}`);
  needFloat("matmul", a);
  const ka = a.shape[a.ndim - 1]!;
  const kb = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (ka !== kb) throw new ShapeError("matmul", `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be multiplied (${ka} != ${kb})`);
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  let r = call("matmul", [a2, b2], null);
  if (a.ndim === 1) r = squeeze(r, -2);
  if (b.ndim === 1) r = squeeze(r, -1);
  return r;
}

// ------------------------------------------------------------------ convolution and pooling
/** Options of `conv2d` (and, with the sizes, of the `Conv2d` layer). */
export interface Conv2dOptions {
  /** Step between windows, one number for both dims or [height, width] (default 1). */
  stride?: number | readonly [number, number];
  /** Zeros added on each side of the input, one number or [height, width] (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between kernel elements, one number or [height, width] (default 1). */
  dilation?: number | readonly [number, number];
  /** Split the channels into this many independent groups (default 1; depthwise = in channels). */
  groups?: number;
}

/** @internal One number or a [height, width] pair, validated as integers >= min. */
export function two(op: string, name: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  const r: [number, number] = v === undefined ? [dflt, dflt] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  for (const x of r) if (!Number.isInteger(x) || x < min) throw new ValueError(op, `${name} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return r;
}

function outSize(op: string, size: number, k: number, s: number, p: number, d: number, what: string): number {
  const o = convOut(size, k, s, p, d);
  if (o <= 0) throw new ShapeError(op, `output ${what} would be ${o} (input ${size}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
  return o;
}

/** @internal conv2d without bias or validation (used by VJPs). */
export const conv2dRaw = (x: Tensor, w: Tensor, p: Conv2dParams): Tensor => call("conv2d", [x, w], p);
/** @internal */
export const conv2dInputGrad = (gy: Tensor, w: Tensor, xShape: Shape, p: Conv2dParams): Tensor =>
  call("conv2dInputGrad", [gy, w], { p, shape: xShape });
/** @internal */
export const conv2dWeightGrad = (x: Tensor, gy: Tensor, wShape: Shape, p: Conv2dParams): Tensor =>
  call("conv2dWeightGrad", [x, gy], { p, shape: wShape });

/**
 * 2-D convolution (cross-correlation) in NCHW, as torch.nn.functional.conv2d. Input [N, C, H, W]
 * (or unbatched [C, H, W]), weight [O, C / groups, kH, kW], bias [O] or null.
 * @example
 * const img = randn([1, 3, 8, 8]);
 * const kernel = randn([4, 3, 3, 3], { requiresGrad: true });
 * const out = conv2d(img, kernel, zeros([4]), { stride: 1, padding: 1 });
 * out.shape; // [1, 4, 8, 8]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const unbatched = x.ndim === 3;
  const xx = unbatched ? unsqueeze(x, 0) : x;
  if (xx.ndim !== 4) throw new ShapeError("conv2d", `expects input [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
  if (weight.ndim !== 4) throw new ShapeError("conv2d", `expects weight [O, C/groups, kH, kW], got ${shapeStr(weight.shape)}`);
  if (xx.dtype !== weight.dtype) throw new DTypeError("conv2d", `mixed dtypes ${xx.dtype} and ${weight.dtype}`);
  needFloat("conv2d", x);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError("conv2d", `groups must be a positive integer, got ${groups}`);
  const p: Conv2dParams = {
    stride: two("conv2d", "stride", options.stride, 1, 1),
    padding: two("conv2d", "padding", options.padding, 0, 0),
    dilation: two("conv2d", "dilation", options.dilation, 1, 1),
    groups,
  };
  const [, C, H, W] = xx.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = weight.shape as [number, number, number, number];
  if (C !== Cg * groups) throw new ShapeError("conv2d", `input has ${C} channels, weight ${shapeStr(weight.shape)} with groups=${groups} expects ${Cg * groups}`);
  if (O % groups !== 0) throw new ShapeError("conv2d", `out channels ${O} not divisible by groups ${groups}`);
  [H, W].forEach((size, i) => outSize("conv2d", size, [kH, kW][i]!, p.stride[i]!, p.padding[i]!, p.dilation[i]!, i ? "width" : "height"));
  let y = conv2dRaw(xx, weight, p);
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== O) throw new ShapeError("conv2d", `bias must have shape [${O}], got ${shapeStr(bias.shape)}`);
    y = y.add(reshape(bias, [1, O, 1, 1]));
  }
  return unbatched ? squeeze(y, 0) : y;
}

/** Options of `maxPool2d` / `maxPool2dWithIndices` (and the `MaxPool2d` layer). */
export interface Pool2dOptions {
  /** Step between windows, one number or [height, width] (default: the kernel size). */
  stride?: number | readonly [number, number];
  /** Not supported: passing true throws a ValueError (windows are always floor-sized). */
  ceilMode?: boolean;
  /** Implicit -Infinity padding on each side, at most half the kernel (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between window elements, one number or [height, width] (default 1). */
  dilation?: number | readonly [number, number];
}

function poolParams(op: string, x: Tensor, kernelSize: number | readonly [number, number], o: Pool2dOptions) {
  if (x.ndim !== 4) throw new ShapeError(op, `expects input [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (o.ceilMode) throw new ValueError(op, "ceilMode is not supported; pad the input");
  const kernel = two(op, "kernelSize", kernelSize, 1, 1);
  const stride = o.stride === undefined ? kernel : two(op, "stride", o.stride, 1, 1);
  const padding = two(op, "padding", o.padding, 0, 0);
  const dilation = two(op, "dilation", o.dilation, 1, 1);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    throw new ValueError(op, `padding ${JSON.stringify(padding)} must be at most half the kernel size ${JSON.stringify(kernel)}`);
  }
  const dims = [0, 1].map((i) => [x.shape[i + 2]!, kernel[i]!, stride[i]!, padding[i]!, dilation[i]!, i ? "width" : "height"] as const);
  const [Ho, Wo] = dims.map(([size, k, s, p, d, what]) => outSize(op, size, k, s, p, d, what)) as [number, number];
  // A dilated window can fall entirely into the padding: it would have no element to pool.
  dims.forEach(([size, k, s, p, d, what], i) => {
    for (let o = 0; o < [Ho, Wo][i]!; o++) {
      let hit = false;
      for (let j = 0; j < k; j++) hit ||= o * s - p + j * d >= 0 && o * s - p + j * d < size;
      if (!hit) throw new ValueError(op, `output ${what} ${o}: window entirely in the padding (input ${size}, kernel ${k}, stride ${s}, padding ${p}, dilation ${d})`);
    }
  });
  return { kernel, stride, padding, dilation, Ho, Wo };
}

/**
 * Max pooling (NCHW); the gradient goes to the first maximum of each window.
 * @example
 * maxPool2d(randn([1, 3, 8, 8]), 2).shape; // [1, 3, 4, 4]
 * maxPool2d(randn([1, 3, 8, 8]), 3, { stride: 1, padding: 1 }).shape; // [1, 3, 8, 8]
 */
export function maxPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: Pool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, options).values;
}

/**
 * Max pooling that also returns the flat (h * W + w) index of each maximum, as int32.
 * @example
 * const { values, indices } = maxPool2dWithIndices(tensor([[[[1, 2], [4, 3]]]]), 2);
 * indices.toArray(); // [[[[2]]]]
 */
export function maxPool2dWithIndices(x: Tensor, kernelSize: number | readonly [number, number], options: Pool2dOptions = {}): ValuesIndices {
  const p = poolParams("maxPool2d", x, kernelSize, options);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const indices = call("maxPool2dIndices", [x], p);
  const flatIdx = reshape(indices, [N, C, p.Ho * p.Wo]);
  const values = reshape(call("gather", [reshape(x, [N, C, H * W]), flatIdx], { dim: 2 }), [N, C, p.Ho, p.Wo]);
  return { values, indices };
}

/** Options of `avgPool2d` (and the `AvgPool2d` layer). */
export interface AvgPool2dOptions {
  /** Step between windows, one number or [height, width] (default: the kernel size). */
  stride?: number | readonly [number, number];
  /** Zero padding on each side, at most half the kernel (default 0). */
  padding?: number | readonly [number, number];
  /** Count zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead of the window size (default: not set). */
  divisorOverride?: number;
  /** Not supported: passing true throws a ValueError. */
  ceilMode?: boolean;
}

/**
 * Average pooling (NCHW), composed from a depthwise conv2d with a ones kernel.
 * @example
 * avgPool2d(tensor([[[[1, 2], [3, 4]]]]), 2).item(); // 2.5
 * avgPool2d(randn([1, 3, 8, 8]), 2, { stride: 2 }).shape; // [1, 3, 4, 4]
 */
export function avgPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}): Tensor {
  const p = poolParams("avgPool2d", x, kernelSize, { stride: options.stride, padding: options.padding, ceilMode: options.ceilMode });
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const ones = new Tensor(allocArray(x.dtype, p.kernel[0] * p.kernel[1]).fill(1), [1, 1, p.kernel[0], p.kernel[1]]);
  const cp: Conv2dParams = { stride: p.stride, padding: p.padding, dilation: [1, 1], groups: 1 };
  const summed = reshape(conv2dRaw(reshape(x, [N * C, 1, H, W]), ones, cp), [N, C, p.Ho, p.Wo]);
  if (options.divisorOverride !== undefined) return summed.div(options.divisorOverride);
  if (options.countIncludePad ?? true) return summed.div(p.kernel[0] * p.kernel[1]);
  const count = conv2dRaw(new Tensor(allocArray(x.dtype, H * W).fill(1), [1, 1, H, W]), ones, cp);
  return summed.div(reshape(count, [1, 1, p.Ho, p.Wo]));
}

/** @internal used by tests to call a backend directly. */
export const backendName = (): string => getBackend().name;
