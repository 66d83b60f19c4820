import type { DType, TypedArray } from "../tensor/dtype.js";

/**
 * A tensor as plain data: what `deserialize` returns and what `serialize` accepts.
 * `data` is contiguous and row-major, with `data.length === prod(shape)` (1 for a scalar `[]`).
 * A `bool` tensor holds 0/1 bytes in a `Uint8Array`.
 */
export interface TensorRecord {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

/** What a Tensor provides to `serialize`, so this module need not import the Tensor class. */
export interface TensorSource {
  readonly dtype: DType;
  readonly shape: readonly number[];
  toTypedArray(): TypedArray;
}

/** Tensors by name. Use a `Map` or an `Object.create(null)` record for names such as `__proto__`. */
export type NamedTensors =
  | Readonly<Record<string, TensorRecord | TensorSource>>
  | ReadonlyMap<string, TensorRecord | TensorSource>;
