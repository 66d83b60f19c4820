import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { allocArray, checkDType, checkInt32Values, dtypeOfArray, getDefaultDtype, MAX_NUMEL, toDtype, type DType, type TypedArray } from "./dtype.js";
import { checkShape, numel, shapeStr, type Shape } from "./shape.js";
import { defaultGenerator, type Generator } from "./random.js";
import { Tensor, type NestedArray } from "./tensor.js";

/** Options of the tensor factories (`zeros`, `full`, `arange`, ...). */
export interface CreateOptions {
  /** The element type (default: the default dtype, float32 unless `setDefaultDtype` changed it; int32 for `arange` with integer arguments and `randint`). */
  dtype?: DType;
  /** Make the new tensor a leaf that requires gradients (default false; float dtypes only). */
  requiresGrad?: boolean;
}
/** Options of `tensor()`. */
export interface TensorOptions extends CreateOptions {
  /** Shape for flat data (a typed array or a flat list); default: inferred from nesting. */
  shape?: readonly number[];
}
/** Options of the random factories (`rand`, `randn`, `randint`). */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from (default: `defaultGenerator`, seeded by `manualSeed`). */
  generator?: Generator;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0]!;
  }
  return shape;
}

/**
 * A tensor from nested arrays, a typed array or a number. Default dtype: the default float dtype (float32 unless `setDefaultDtype` changed it; bool for
 * booleans; a typed array keeps its own dtype).
 * @example
 * tensor([[1, 2], [3, 4]]);                    // float32 [2, 2]
 * tensor([1, 2], { dtype: "float64", requiresGrad: true });
 * tensor(new Float32Array(6), { shape: [2, 3] });
 */
export function tensor(data: NestedArray | TypedArray | readonly number[], options: TensorOptions = {}): Tensor {
  let flat: ArrayLike<number | boolean>;
  let dtype: DType;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as TypedArray;
    dtype = options.dtype === undefined ? dtypeOfArray(data as TypedArray) : checkDType("tensor", options.dtype);
    shape = checkShape("tensor", options.shape ?? [flat.length]);
  } else {
    const nested = data as NestedArray;
    const inferred = inferShape(nested);
    const items: (number | boolean)[] = [];
    const walk = (v: NestedArray, dim: number): void => {
      if (dim === inferred.length) {
        if (Array.isArray(v)) throw new ShapeError("tensor", `ragged nested array: expected a number at depth ${dim}`);
        items.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== inferred[dim]) {
        throw new ShapeError("tensor", `ragged nested array: expected length ${inferred[dim]} at depth ${dim}, got ${Array.isArray(v) ? v.length : "a number"}`);
      }
      for (const c of v) walk(c, dim + 1);
    };
    walk(nested, 0);
    for (const v of items) {
      if (typeof v !== "number" && typeof v !== "boolean") throw new DTypeError("tensor", `elements must be numbers or booleans, got ${typeof v}`);
    }
    flat = items;
    dtype = options.dtype === undefined ? (typeof items[0] === "boolean" ? "bool" : getDefaultDtype()) : checkDType("tensor", options.dtype);
    shape = options.shape ? checkShape("tensor", options.shape) : inferred;
  }
  if (numel(shape) !== flat.length) throw new ShapeError("tensor", `shape ${shapeStr(shape)} does not match ${flat.length} elements`);
  if (dtype === "int32" && !(flat instanceof Int32Array)) checkInt32Values("tensor", flat);
  // as torch: non-zero (and NaN) is true
  const arr = dtype === "bool" ? Uint8Array.from(flat, (v) => (v !== 0 && v !== false ? 1 : 0)) : toDtype(flat as ArrayLike<number>, dtype);
  return finish(new Tensor(arr, shape), options);
}

/**
 * A tensor of `value` everywhere (float32 unless `dtype` says otherwise).
 * @example
 * full([2, 2], 7).toArray(); // [[7, 7], [7, 7]]
 * full([3], 1, { dtype: "int32" });
 */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  const s = checkShape("full", shape);
  const dtype = options.dtype === undefined ? getDefaultDtype() : checkDType("full", options.dtype);
  if (dtype === "int32") checkInt32Values("full", [value]);
  const arr = allocArray(dtype, numel(s));
  if (value !== 0) arr.fill(value);
  return finish(new Tensor(arr, s), options);
}
/**
 * A tensor of zeros (float32 unless `dtype` says otherwise).
 * @example
 * zeros([2, 3]).shape; // [2, 3]
 * const wz = zeros([4], { dtype: "float64", requiresGrad: true });
 */
export const zeros = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 0, options);
/**
 * A tensor of ones (float32 unless `dtype` says otherwise).
 * @example
 * ones([2]).toArray(); // [1, 1]
 */
export const ones = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 1, options);
/**
 * Zeros with the shape and dtype of `t` (the options may override the dtype).
 * @example
 * zerosLike(a).shape; // [2, 3]
 */
export const zerosLike = (t: Tensor, options: CreateOptions = {}): Tensor => full(t.shape, 0, { dtype: t.dtype, ...options });
/**
 * Ones with the shape and dtype of `t` (the options may override the dtype).
 * @example
 * onesLike(y).toArray(); // [1, 1] (int32, like y)
 */
export const onesLike = (t: Tensor, options: CreateOptions = {}): Tensor => full(t.shape, 1, { dtype: t.dtype, ...options });
/**
 * `value` everywhere, with the shape and dtype of `t` (the options may override the dtype).
 * @example
 * fullLike(a, 0.5).shape; // [2, 3]
 */
export const fullLike = (t: Tensor, value: number, options: CreateOptions = {}): Tensor => full(t.shape, value, { dtype: t.dtype, ...options });

/**
 * Values from start (inclusive) to end (exclusive) by step; `arange(n)` counts from 0. With
 * integer arguments and no dtype the result is int32 (torch gives int64), otherwise float32.
 * @example
 * arange(4).toArray(); // [0, 1, 2, 3] (int32)
 * arange(0, 1, 0.25).toArray(); // [0, 0.25, 0.5, 0.75] (float32)
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError("arange", `step must be finite and non-zero, got ${step}`);
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new ValueError("arange", `bounds must be finite, got ${a} and ${b}`);
  const n = Math.max(0, Math.ceil((b - a) / step));
  if (n > MAX_NUMEL) throw new ValueError("arange", `${n} values from ${a} to ${b} by ${step}: more than a tensor can hold (${MAX_NUMEL})`);
  const dtype = options.dtype === undefined ? (Number.isInteger(a) && Number.isInteger(b) && Number.isInteger(step) ? "int32" : getDefaultDtype()) : checkDType("arange", options.dtype);
  if (dtype === "int32" && n > 0) checkInt32Values("arange", [a, a + (n - 1) * step]);
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = a + i * step;
  return finish(new Tensor(arr, [n]), options);
}

/**
 * `steps` evenly spaced values from start to end, both included.
 * @example
 * linspace(0, 1, 5).toArray(); // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0 || steps > MAX_NUMEL) throw new ValueError("linspace", `steps must be an integer in [0, ${MAX_NUMEL}], got ${steps}`);
  const dtype = options.dtype === undefined ? getDefaultDtype() : checkDType("linspace", options.dtype);
  if (dtype === "int32") checkInt32Values("linspace", [start, end]);
  const arr = allocArray(dtype, steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // NOTE: as torch, the second half is computed from the end so that the last value is exact.
  const half = steps === 1 ? 1 : Math.floor(steps / 2); // steps = 1 gives [start], as torch
  for (let i = 0; i < steps; i++) arr[i] = i < half ? start + i * step : end - (steps - 1 - i) * step;
  return finish(new Tensor(arr, [steps]), options);
}

/**
 * Identity matrix [n, m] (m defaults to n).
 * @example
 * eye(2).toArray(); // [[1, 0], [0, 1]]
 * eye(2, 3).shape; // [2, 3]
 */
export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const t = full([n, m], 0, { dtype: options.dtype });
  for (let i = 0; i < Math.min(n, m); i++) t.storage[i * m + i] = 1;
  return finish(t, options);
}

/**
 * Uniform [0, 1) from the seedable generator.
 * @example
 * manualSeed(0);
 * rand([2, 2]); // the same numbers on every platform
 * rand([3], { generator: new Generator(42) });
 */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  return draw(shape, options, getDefaultDtype(), (g) => g.random());
}

/** A tensor of `shape` filled by `next` from the options' generator, in row-major order. */
function draw(shape: Shape, options: RandomOptions, dtype: DType, next: (g: Generator) => number): Tensor {
  const g = options.generator ?? defaultGenerator;
  const t = full(shape, 0, { dtype: options.dtype ?? dtype });
  for (let i = 0; i < t.storage.length; i++) t.storage[i] = next(g);
  return finish(t, options);
}

/**
 * Standard normal from the seedable generator.
 * @example
 * const w0 = randn([4, 3]).mul(0.1).requiresGrad_();
 * randn([2], { dtype: "float64", generator: new Generator(1) });
 */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  return draw(shape, options, getDefaultDtype(), (g) => g.normal());
}

/**
 * Integers uniform in [low, high), int32 by default.
 * @example
 * randint(0, 10, [5]).dtype; // "int32"
 */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low || low < -(2 ** 31) || high > 2 ** 31) throw new ValueError("randint", `needs integers low < high in the int32 range, got ${low} and ${high}`);
  return draw(shape, options, "int32", (g) => g.randint(low, high));
}
