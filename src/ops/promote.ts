/**
 * Type promotion: the dtype of a binary op's result, by PyTorch's `result_type` rules, in one
 * place for every binary op (arithmetic, comparisons, where).
 *
 * Categories order bool < int < float. Operands come in three priorities: tensors with dims, 0-d
 * tensors, and plain numbers ("weak": `int32 + 0.5` is float32, `float32 + 2` stays float32). A
 * lower-priority operand changes the result only when its category is higher, and then a number
 * gives the default dtype of its category (float32, int32). Within one priority the dtypes promote
 * as usual (bool + int32 = int32, int32 + float32 = float32, float32 + float64 = float64).
 *
 * | a \ b     | bool    | int32   | float32 | float64 | number 2 | number 0.5 |
 * |-----------|---------|---------|---------|---------|----------|------------|
 * | bool      | bool    | int32   | float32 | float64 | int32    | float32    |
 * | int32     | int32   | int32   | float32 | float64 | int32    | float32    |
 * | float32   | float32 | float32 | float32 | float64 | float32  | float32    |
 * | float64   | float64 | float64 | float64 | float64 | float64  | float64    |
 *
 * (both operands with dims; a 0-d tensor on either side counts only by its category, as above for
 * numbers but with its own dtype.) `fixtures/promotion.json` holds torch 1.13's answer for every
 * binary op and pair of operand kinds; `test/ops/promote.test.ts` checks every case.
 *
 * Ops then adjust the result type as torch does: true division, atan2, hypot and copysign give
 * float32 for int and bool; remainder, fmod and div with a roundingMode keep int32 (a bool result
 * type and an integer zero divisor are errors); logaddexp refuses a non-float result type; the
 * bitwise ops refuse a float one; comparisons give bool. The result dtypes of the issue 20 ops
 * are checked against torch in test/ops/math-torch.test.ts (fixtures/ops-math.json).
 */
import { DTypeError } from "../errors.js";
import { checkInt32Values, isFloat, type DType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { scalar } from "./define.js";
import { cast } from "./shape.js";

/** The usual promotion of two dtypes (bool < int32 < float32 < float64). */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") return "float32";
  return "int32"; // bool and int32
}

/** torch's combine_categories: the higher-priority result, unless the lower one's category is higher. */
function combine(higher: DType | null, lower: DType | null): DType | null {
  if (higher === null) return lower;
  if (lower === null || isFloat(higher)) return higher;
  if (higher === "bool" || isFloat(lower)) return promoteTypes(higher, lower);
  return higher;
}

/** The dtype a plain number stands for: int32 for an integer, float32 otherwise. */
const numberDType = (v: number): DType => (Number.isInteger(v) ? "int32" : "float32");

/**
 * The result dtype of a binary op on these operands (PyTorch's `torch.result_type`).
 * @example
 * resultType(tensor([1], { dtype: "int32" }), 0.5); // "float32"
 */
export function resultType(...operands: readonly (Tensor | number)[]): DType {
  let dim: DType | null = null;
  let zero: DType | null = null;
  let num: DType | null = null;
  for (const x of operands) {
    if (x instanceof Tensor) {
      if (x.ndim > 0) dim = dim === null ? x.dtype : promoteTypes(dim, x.dtype);
      else zero = zero === null ? x.dtype : promoteTypes(zero, x.dtype);
    } else num = num === null ? numberDType(x) : promoteTypes(num, numberDType(x));
  }
  return combine(dim, combine(zero, num))!;
}

/** An operand converted to `dtype`: a tensor cast (differentiably between floats), a number as a 0-d tensor. */
export function toDType(op: string, x: Tensor | number, dtype: DType): Tensor {
  if (x instanceof Tensor) return x.dtype === dtype ? x : cast(x, dtype);
  if (dtype === "int32") checkInt32Values(op, [x]);
  return scalar(x, { dtype });
}

/** Throw a DTypeError unless the operands are tensors or numbers, at least one a tensor. */
export function checkOperands(op: string, a: Tensor | number, b: Tensor | number): void {
  for (const x of [a, b]) {
    if (!(x instanceof Tensor) && typeof x !== "number") throw new DTypeError(op, `expected a tensor or a number, got ${x === null ? "null" : typeof x}`);
  }
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new DTypeError(op, "expects at least one tensor");
}

/** Check the operands and return them promoted to one dtype (`dtype`, else their result type). */
export function promote(op: string, a: Tensor | number, b: Tensor | number, dtype?: DType): [Tensor, Tensor, DType] {
  checkOperands(op, a, b);
  const dt = dtype ?? resultType(a, b);
  return [toDType(op, a, dt), toDType(op, b, dt), dt];
}
