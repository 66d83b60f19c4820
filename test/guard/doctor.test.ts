import { describe, expect, it } from "vitest";
import { scenarios } from "../../examples/doctor-scenarios.js";

describe("npm run doctor: four classic failures are diagnosed and recovered", () => {
  for (const s of scenarios) {
    it(s.name, () => {
      const r = s.run();
      expect(r.report, "the failing run must fail").not.toBeNull();
      expect(r.report!.op).toBe(s.expectOp);
      expect(r.report!.hint?.hazard).toBe(s.expectHazard);
      const losses = r.safeLosses;
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    });
  }
});
