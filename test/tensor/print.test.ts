import { describe, expect, it } from "vitest";
import { tensor } from "../../src/index.js";

describe("printing", () => {
  it("scientific notation prints two exponent digits, as torch", () => {
    expect(tensor([1e-5, 2]).toString()).toBe("tensor([1.0000e-05, 2.0000e+00])");
    expect(tensor([1e10]).toString()).toBe("tensor([1.0000e+10])");
  });
});
