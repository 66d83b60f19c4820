import { DTypeError, ValueError } from "../errors.js";
import { noteBorn, takeZeroed } from "./pool.js";
import type { DType, TypedArray } from "./types.js";

export type { DType, TypedArray } from "./types.js";

/**
 * The dtypes that carry gradients.
 * @example
 * const ft: FloatDType = a.dtype as FloatDType;
 */
export type FloatDType = "float32" | "float64";

/**
 * The storage of a float tensor; what the pure optimizer steps work on.
 * @example
 * const fa: FloatArray = new Float32Array([1, 2]);
 */
export type FloatArray = Float32Array | Float64Array;

export type ArrayFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int32"
      ? Int32Array
      : Uint8Array;

let defaultDtype: FloatDType = "float32";

/**
 * Set the float dtype that tensor creation and layers use when none is given (PyTorch's
 * `torch.set_default_dtype`): `tensor([0.5])`, `zeros`, `ones`, `full`, `rand`, `randn`,
 * `linspace`, `eye`, a fractional `arange`, and the parameters of layers built without a
 * `dtype` option. Only "float32" (the start value) and "float64" are allowed; anything else is a
 * DTypeError and leaves the setting unchanged. It is process-wide: set it back when done (tests).
 * Tensors that exist already keep their dtype (convert a model with `model.to(dtype)`).
 * @example
 * setDefaultDtype("float64");
 * zeros([2]).dtype; // "float64"
 * new Linear(4, 2).weight.dtype; // "float64"
 * setDefaultDtype("float32");
 */
export function setDefaultDtype(dtype: FloatDType): void {
  if (dtype !== "float32" && dtype !== "float64") {
    const hint = dtype === ("double" as string) ? '; use "float64"' : dtype === ("float" as string) ? '; use "float32"' : "";
    throw new DTypeError("setDefaultDtype", `the default dtype must be "float32" or "float64", got ${JSON.stringify(dtype) ?? String(dtype)}${hint}`);
  }
  defaultDtype = dtype;
}

/**
 * The float dtype tensor creation and layers use when none is given ("float32" unless
 * {@link setDefaultDtype} changed it; PyTorch's `torch.get_default_dtype`).
 * @example
 * getDefaultDtype(); // "float32"
 */
export function getDefaultDtype(): FloatDType {
  return defaultDtype;
}

/** The dtypes a tensor can hold, for checks and messages. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/**
 * `dtype` itself when it is one of {@link DTYPES}, else a DTypeError naming `op`, the value and
 * the nearest supported dtype (int64 -> int32, float16 -> float32: they are not supported).
 */
export function checkDType(op: string, dtype: unknown): DType {
  if (typeof dtype === "string" && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  const near: Record<string, string> = { int64: "int32", long: "int32", int: "int32", float16: "float32", half: "float32", bfloat16: "float32", float: "float32", double: "float64", uint8: "int32 or bool" };
  const hint = typeof dtype === "string" && near[dtype] ? `; use "${near[dtype]}"` : "";
  throw new DTypeError(op, `unsupported dtype ${JSON.stringify(dtype) ?? String(dtype)} (supported: ${DTYPES.join(", ")})${hint}`);
}

/**
 * Elements a tensor may hold: kernels index storage with int32 offsets, and larger arrays do not
 * fit a typed array anyway.
 */
export const MAX_NUMEL = 2 ** 31 - 1;

export function allocArray(dtype: DType, n: number): TypedArray {
  if (!(n >= 0 && n <= MAX_NUMEL)) throw new ValueError("alloc", `cannot hold ${n} elements (at most ${MAX_NUMEL})`);
  try {
    // NOTE: a float buffer from the pool of recycled gradients (tensor/pool.ts), zeroed, when one
    // of this size waits there
    const a = takeZeroed(dtype, n) ?? allocRaw(dtype, n);
    noteBorn(a);
    return a;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ValueError("alloc", `out of memory allocating ${n} ${dtype} elements (${(n * BYTES[dtype] / 2 ** 30).toFixed(1)} GiB)`);
  }
}

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

function allocRaw(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
  }
}

/** A new array of `dtype` holding `values` (converted as a typed-array store converts them). */
export function toDtype(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocArray(dtype, values.length);
  out.set(values);
  return out;
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Uint8Array && !(a instanceof Uint8ClampedArray)) return "bool";
  const what = a === null ? "null" : typeof a === "object" ? ((a as object).constructor?.name ?? "an object") : typeof a;
  throw new DTypeError("Tensor", `storage must be a Float32Array, Float64Array, Int32Array or Uint8Array (bool), got ${what}`);
}

/**
 * Numbers as int32 the way torch.tensor converts them: fractions truncate toward zero, but a
 * value outside the int32 range or not finite is an error (a typed-array store would wrap 3e9 to
 * -1294967296 and NaN to 0 without a word).
 */
export function checkInt32Values(op: string, values: ArrayLike<number | boolean>): void {
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!(v > -2147483649 && v < 2147483648)) {
      throw new ValueError(op, `value ${values[i]} at index ${i} cannot be converted to int32 without overflow (int32 holds -2147483648 .. 2147483647)`);
    }
  }
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === "float32" || dtype === "float64";
}

/** Largest finite value of a float dtype (used by hints and overflow-safe code). */
export function maxFinite(dtype: FloatDType): number {
  return dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
}
