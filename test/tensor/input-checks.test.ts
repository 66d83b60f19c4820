/**
 * Unchecked input (issue 13, item 8): each case below gave a silent wrong value or a bare
 * TypeError/RangeError before (checked against the code before the fix: -1294967296, 0, a
 * TypeError, a RangeError and NaN).
 */
import { describe, expect, it } from "vitest";
import { arange, DTypeError, full, linspace, ShapeError, Tensor, tensor, ValueError, zeros, randint } from "../../src/index.js";

describe("creation checks its input", () => {
  it("int32 values that do not fit are an error, not a wrapped value; fractions truncate as torch", () => {
    expect(() => tensor([3e9], { dtype: "int32" })).toThrow(ValueError);
    expect(() => tensor([NaN], { dtype: "int32" })).toThrow(/cannot be converted to int32/);
    expect(() => tensor([-Infinity], { dtype: "int32" })).toThrow(ValueError);
    expect(() => full([2], 2 ** 31, { dtype: "int32" })).toThrow(ValueError);
    expect(() => arange(2 ** 31 - 2, 2 ** 31 + 2)).toThrow(ValueError);
    expect(tensor([1.7, -1.7, 2147483647, -2147483648], { dtype: "int32" }).toArray()).toEqual([1, -1, 2147483647, -2147483648]);
  });

  it("an unsupported dtype is a DTypeError naming the supported ones (and the nearest)", () => {
    expect(() => tensor([1], { dtype: "float16" as never })).toThrow(DTypeError);
    expect(() => tensor([1], { dtype: "int64" as never })).toThrow(/supported: float32, float64, int32, bool.*use "int32"/);
    expect(() => zeros([2], { dtype: "complex64" as never })).toThrow(DTypeError);
    expect(() => linspace(0, 1, 3, { dtype: 7 as never })).toThrow(DTypeError);
  });

  it("sizes beyond what a tensor can hold are a ValueError naming the op, not a RangeError", () => {
    expect(() => zeros([2 ** 30, 2 ** 30])).toThrow(ValueError);
    expect(() => zeros([2 ** 30, 2 ** 30])).toThrow(/^zeros|full/);
    expect(() => arange(0, 1e12)).toThrow(/arange/);
    expect(() => linspace(0, 1, 1e12)).toThrow(ValueError);
    expect(() => randint(0, 2 ** 40, [2])).toThrow(ValueError);
  });
});

describe("the public Tensor constructor checks the layout against the storage", () => {
  it("a shape larger than the storage, bad strides or offsets are a ShapeError", () => {
    expect(() => new Tensor(new Float32Array(2), [10])).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(6), [2, 3], [3, 2])).toThrow(/past the end/);
    expect(() => new Tensor(new Float32Array(6), [2, 3], [3])).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(6), [2, 3], [3, -1])).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(6), [2, 3], [3, 1], 1)).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(6), [2, 3], [3, 1], 0.5)).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(6), [2, -3])).toThrow(ShapeError);
  });

  it("a storage that is not one of the four typed arrays is a DTypeError", () => {
    expect(() => new Tensor(new Int16Array(2) as never, [2])).toThrow(DTypeError);
    expect(() => new Tensor([1, 2] as never, [2])).toThrow(DTypeError);
    expect(() => new Tensor(new Uint8ClampedArray(2) as never, [2])).toThrow(DTypeError);
  });

  it("valid views still work: broadcast (stride 0), offsets, empty tensors", () => {
    expect(new Tensor(new Float32Array([1, 2, 3]), [2, 3], [0, 1]).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(new Tensor(new Float32Array([1, 2, 3]), [2], [1], 1).toArray()).toEqual([2, 3]);
    expect(new Tensor(new Float32Array(0), [0, 5]).numel).toBe(0);
  });
});
