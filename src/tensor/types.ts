/**
 * The two types every tensor module names: a dtype and the storage that holds it. A leaf module
 * (no imports), so that dtype.ts's allocator can use the buffer pool (pool.ts, version.ts) while
 * those name the storage type without an import circle; dtype.ts re-exports both.
 */

/**
 * Element types a tensor can hold. `bool` is stored as 0/1 bytes.
 * @example
 * const dt: DType = "float64";
 * zeros([2], { dtype: dt });
 */
export type DType = "float32" | "float64" | "int32" | "bool";
/**
 * The storage of a tensor: Float32Array (float32), Float64Array (float64), Int32Array (int32) or
 * Uint8Array (bool).
 * @example
 * const data: TypedArray = a.toTypedArray();
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
