/**
 * How a tensor is summarised in a NaN report (formatStats): a tensor with no finite element has no
 * min or max, and says so (the doctor printed "min -, max -, 0 zeros, 1152 +Inf, 128 -Inf").
 */
import { describe, expect, it } from "vitest";
import { scenarios } from "../../examples/doctor-scenarios.js";
import { tensor } from "../../src/index.js";
import { formatStats, tensorStats } from "../../src/guard/stats.js";

describe("formatStats", () => {
  it("gives min, max and zeros of the finite elements, then the non-finite counts", () => {
    expect(formatStats(tensorStats(tensor([0, 1.5, Number.NaN, Infinity])))).toBe("[4] float32: min 0, max 1.5, 1 zeros, 1 NaN, 1 +Inf");
  });

  it("says 'no finite value' when every element is NaN or infinite (not 'min -, max -')", () => {
    expect(formatStats(tensorStats(tensor([Infinity, -Infinity, Infinity])))).toBe("[3] float32: no finite value (2 +Inf, 1 -Inf)");
    expect(formatStats(tensorStats(tensor(Number.NaN)))).toBe("[] float32: no finite value (1 NaN)");
    expect(formatStats(tensorStats(tensor([])))).toBe("[0] float32: empty");
  });

  it("npm run doctor's first diagnosis (an output that is all ±Inf) prints no 'min -'", () => {
    const r = scenarios[0]!.run();
    const text = r.report!.toString();
    expect(text).toMatch(/output: \[\d+, \d+\] float32: no finite value \(\d+ \+Inf, \d+ -Inf\)/);
    expect(text).not.toMatch(/min -,|max -,/);
  });
});
