import type { DType, TypedArray } from "../tensor/dtype.js";

/**
 * A tensor as plain data: what `deserialize` returns and what `serialize` accepts.
 * `data` is contiguous and row-major, with `data.length === prod(shape)` (1 for a scalar `[]`).
 * A `bool` tensor holds 0/1 bytes in a `Uint8Array`.
 * @example
 * const rec: TensorRecord = { dtype: "float32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) };
 * serialize({ w: rec });
 */
export interface TensorRecord {
  /** The element type; it must match the class of `data`. */
  dtype: DType;
  /** The size of each dim. */
  shape: number[];
  /** The elements, contiguous and row-major. */
  data: TypedArray;
}

/**
 * What a Tensor provides to `serialize`, so this module need not import the Tensor class.
 * @example
 * const src: TensorSource = a; // any Tensor
 * serialize({ a: src });
 */
export interface TensorSource {
  /** The element type. */
  readonly dtype: DType;
  /** The size of each dim. */
  readonly shape: readonly number[];
  /** A contiguous row-major copy of the elements. */
  toTypedArray(): TypedArray;
}

/**
 * Tensors by name. Use a `Map` or an `Object.create(null)` record for names such as `__proto__`.
 * @example
 * const named: NamedTensors = model.stateDict(); // a Map of Tensors
 * serialize(named);
 */
export type NamedTensors =
  | Readonly<Record<string, TensorRecord | TensorSource>>
  | ReadonlyMap<string, TensorRecord | TensorSource>;
