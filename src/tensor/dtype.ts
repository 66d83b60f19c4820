/**
 * Element types a tensor can hold. `bool` is stored as 0/1 bytes.
 * @example
 * const dt: DType = "float64";
 * zeros([2], { dtype: dt });
 */
export type DType = "float32" | "float64" | "int32" | "bool";
/**
 * The dtypes that carry gradients.
 * @example
 * const ft: FloatDType = a.dtype as FloatDType;
 */
export type FloatDType = "float32" | "float64";

/**
 * The storage of a tensor: Float32Array (float32), Float64Array (float64), Int32Array (int32) or
 * Uint8Array (bool).
 * @example
 * const data: TypedArray = a.toTypedArray();
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
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

export function allocArray(dtype: DType, n: number): TypedArray {
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
  return "bool";
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === "float32" || dtype === "float64";
}

/** Largest finite value of a float dtype (used by hints and overflow-safe code). */
export function maxFinite(dtype: FloatDType): number {
  return dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
}
