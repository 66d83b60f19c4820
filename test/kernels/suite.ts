/**
 * The property suite for every Backend method, run against the reference backend: the shipped
 * conformance kit ("safegrad/testing", src/testing/) with one test per method, so the project's
 * fast backends and a third party's are held to the same checks (seeded random shapes with sizes
 * 0, 1, primes and 257; contiguous, transposed, expanded and narrowed layouts; broadcasts;
 * ordinary and adversarial values: 0, -0, ±Infinity, NaN, subnormals, huge, ties). Each fast
 * backend calls `backendSuite`. `KERNEL_RUNS` scales the number of random cases (default 40),
 * `KERNEL_SEED` picks another seed (default 1).
 */
import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/kernels/backend.js";
import { checkBackend, formatReport, KIT_METHODS } from "../../src/testing.js";

const RUNS = Number(process.env.KERNEL_RUNS ?? 40);
const SEED = Number(process.env.KERNEL_SEED ?? 1);

/** Elementwise comparison with NaN == NaN, and |a - b| <= atol + rtol |b|. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (!(Number.isNaN(w) && Number.isNaN(g))) expect.fail(`${what}: at ${i} got ${g}, want ${w}`);
      continue;
    }
    if (g === w) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) expect.fail(`${what}: at ${i} got ${g}, want ${w} (|diff| ${Math.abs(g - w)})`);
  }
}

export interface Tolerance {
  /** relative tolerance for float32 elementwise / reductions */
  rtol32: number;
  /** per-term tolerance for float32 dot products (scaled by K * (|A| |B|)_ij) */
  dot32: number;
}
export const defaultTolerance: Tolerance = { rtol32: 2e-6, dot32: 2e-7 };

// NOTE: known differences from the reference, allowed here and named in every report: js-fast's
// erf (used by wasm too) returns +0 for -0 (the reference, Math-based, and torch give -0).
export const KNOWN_SIGNED_ZERO_DIFFERENCES = ["erf"];

/** The whole kit for one backend, one test per Backend method (the ones it overrides). */
export function backendSuite(backend: Backend, tol: Tolerance = defaultTolerance): void {
  describe(`backend "${backend.name}" against the reference (the safegrad/testing kit)`, () => {
    for (const method of KIT_METHODS) {
      it(method, () => {
        const r = checkBackend(backend, {
          methods: [method],
          gradchecks: false,
          runs: RUNS,
          seed: SEED,
          tolerances: { float32: { rtol: tol.rtol32, atol: 0 }, dot32: tol.dot32 },
          looseSignedZeros: KNOWN_SIGNED_ZERO_DIFFERENCES,
        });
        const m = r.methods.find((x) => x.method === method)!;
        expect(m.failed, formatReport(r)).toBe(0);
      });
    }
  });
}
