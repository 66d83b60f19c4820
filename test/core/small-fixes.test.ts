import { describe, expect, it } from "vitest";
import { tensor, where } from "../../src/index.js";

describe("small behaviours matching torch", () => {
  it("where(mask, 1, 0) with two numbers gives a float32 tensor", () => {
    const r = where(tensor([true, false, true]), 1, 0);
    expect(r.dtype).toBe("float32");
    expect(r.toArray()).toEqual([1, 0, 1]);
  });

  it("scientific notation prints two exponent digits, as torch", () => {
    expect(tensor([1e-5, 2]).toString()).toBe("tensor([1.0000e-05, 2.0000e+00])");
    expect(tensor([1e10]).toString()).toBe("tensor([1.0000e+10])");
  });
});
