/**
 * The float32 erf of the fast backends (js/math.ts's erfFloat32 in js-fast, the `erf` kernel of the
 * wasm math module): against the reference backend's erf, within 4 float32 ulp of its rounded
 * result (the approximation's measured worst is 3.5), exact at the special values (NaN, ±Infinity,
 * the clamp at ±4 and beyond, subnormals, -0 up to its sign, see suite.ts), on dense arrays long
 * enough for the wasm path and on strided views (js-fast).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { View } from "../../src/kernels/backend.js";
import { fastJsBackend } from "../../src/kernels/js/backend.js";
import { erfFloat32 } from "../../src/kernels/js/math.js";
import { referenceBackend as ref } from "../../src/kernels/reference.js";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";

const wasm = createWasmBackend()!;
const SPECIALS = [NaN, -0, 0, 1, -1, 1e-40, -1e-40, 1.4e-45, 1e-30, -1e-30, 1e30, -1e30, Infinity, -Infinity, 4, -4, 3.99, 4.01, 3.2071, -3.2071, 6, 0.5, 2, -2];
const dense = (a: Float32Array): View => ({ storage: a, shape: [a.length], strides: [1], offset: 0, dtype: "float32" });

/** |got - want| within `ulps` float32 ulps of want (NaN matches NaN; zeros match up to sign). */
function expectUlps(got: ArrayLike<number>, want: ArrayLike<number>, x: ArrayLike<number>, ulps: number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (w !== w || g !== g) {
      if ((w !== w) !== (g !== g)) expect.fail(`${what}: erf(${x[i]}) gave ${g}, want ${w}`);
      continue;
    }
    const ulp = Math.max(Math.abs(w) * 2 ** -23, 2 ** -149);
    if (!(Math.abs(g - w) <= ulps * ulp)) expect.fail(`${what}: erf(${x[i]}) gave ${g}, want ${w} (${Math.abs(g - w) / ulp} ulp)`);
  }
}

const float32s = (min: number, max: number) => fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true });

describe("the fast float32 erf", () => {
  it("erfFloat32 is exact at the special values and never leaves [-1, 1]", () => {
    expect(erfFloat32(NaN)).toBeNaN();
    // (rounded to float32, as every caller stores it)
    expect(Math.fround(erfFloat32(Infinity))).toBe(1);
    expect(Math.fround(erfFloat32(-Infinity))).toBe(-1);
    expect(Math.fround(erfFloat32(4))).toBe(1);
    expect(Math.fround(erfFloat32(1e30))).toBe(1);
    expect(erfFloat32(0)).toBe(0);
    expect(Math.abs(erfFloat32(-0))).toBe(0);
    fc.assert(fc.property(fc.float({ noNaN: true }), (x) => Math.abs(Math.fround(erfFloat32(x))) <= 1));
  });

  for (const [name, b] of [["js-fast", fastJsBackend], ["wasm", wasm]] as const) {
    it(`${name}: within 4 ulp of the reference on random dense float32 arrays with special values (the wasm path: >= 256 elements)`, () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(float32s(-6, 6), float32s(-1e-3, 1e-3), fc.constantFrom(...SPECIALS), fc.float()), { minLength: 256, maxLength: 1500 }), (xs) => {
          const x = Float32Array.from(xs);
          expectUlps(b.unary("erf", dense(x)), ref.unary("erf", dense(x)), x, 4, name);
        }),
        { numRuns: 60 },
      );
    });

    it(`${name}: a grid of [-5, 5] (step 1e-4) within 4 ulp, and odd lengths (a partial last vector)`, () => {
      const x = Float32Array.from({ length: 100_003 }, (_, i) => Math.fround(-5 + i * 1e-4));
      expectUlps(b.unary("erf", dense(x)), ref.unary("erf", dense(x)), x, 4, name);
    });
  }

  it("js-fast: strided and offset float32 views, and float64 keeps the accurate series (within 1e-15 relative)", () => {
    fc.assert(
      fc.property(fc.array(float32s(-5, 5), { minLength: 8, maxLength: 600 }), fc.integer({ min: 0, max: 3 }), (xs, off) => {
        const s = Float32Array.from(xs);
        const n = Math.floor((s.length - off) / 2);
        const v: View = { storage: s, shape: [n], strides: [2], offset: off, dtype: "float32" };
        const want = ref.unary("erf", v);
        expectUlps(fastJsBackend.unary("erf", v), want, Array.from({ length: n }, (_, i) => s[off + 2 * i]!), 4, "strided");
        const d = Float64Array.from(xs);
        const got64 = fastJsBackend.unary("erf", { storage: d, shape: [d.length], strides: [1], offset: 0, dtype: "float64" });
        const want64 = ref.unary("erf", { storage: d, shape: [d.length], strides: [1], offset: 0, dtype: "float64" });
        for (let i = 0; i < d.length; i++) expect(Math.abs(got64[i]! - want64[i]!)).toBeLessThanOrEqual(1e-15 * Math.abs(want64[i]!) + 1e-300);
      }),
      { numRuns: 60 },
    );
  });
});
