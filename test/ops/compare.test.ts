import { describe, expect, it } from "vitest";
import { tensor, where } from "../../src/index.js";

describe("where", () => {
  it("where(mask, 1, 0) with two numbers gives a float32 tensor, as torch's default dtype", () => {
    const r = where(tensor([true, false, true]), 1, 0);
    expect(r.dtype).toBe("float32");
    expect(r.toArray()).toEqual([1, 0, 1]);
  });
});
