/** Integration with the Tensor class: a Tensor is a TensorSource, views included. */
import { describe, expect, it } from "vitest";
import { deserialize, serialize } from "../../src/io/index.js";
import { tensor } from "../../src/tensor/create.js";

describe("serialize accepts Tensors", () => {
  it("writes a transposed (non-contiguous) view in row-major order", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float32" });
    const out = deserialize(serialize({ a, at: a.T, mask: tensor([true, false], { dtype: "bool" }) }));
    expect(out.tensors["at"]!.shape).toEqual([3, 2]);
    expect(Array.from(out.tensors["at"]!.data)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(out.tensors["a"]!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.tensors["mask"]!.dtype).toBe("bool");
    expect(Array.from(out.tensors["mask"]!.data)).toEqual([1, 0]);
  });
});
