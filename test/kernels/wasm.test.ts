import { describe, expect, it } from "vitest";
import { createWasmBackend } from "../../src/kernels/wasm/backend.js";
import { fmaSupported, simdSupported, sleb, uleb } from "../../src/kernels/wasm/emit.js";
import { buildKernelModule } from "../../src/kernels/wasm/kernels.js";
import { backendSuite } from "./suite.js";
import { mediumShapeSuite } from "./wasm-shapes.js";

describe("wasm emitter", () => {
  it("encodes LEB128", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
  it("keeps the kernel module under Chrome's 4 KB limit for synchronous compilation", () => {
    expect(buildKernelModule({ module: "env", name: "mem", initialPages: 1 }).length).toBeLessThanOrEqual(4096);
    // the two-thread runtime imports a shared memory (a maximum is then required)
    expect(buildKernelModule({ module: "env", name: "mem", initialPages: 1, maximumPages: 32768, shared: true }).length).toBeLessThanOrEqual(4096);
    // with relaxed SIMD's fused multiply-add (one instruction for two) it is smaller still
    const fma = buildKernelModule({ module: "env", name: "mem", initialPages: 1 }, true);
    expect(fma.length).toBeLessThan(buildKernelModule({ module: "env", name: "mem", initialPages: 1 }).length);
    // it validates exactly where fmaSupported() says relaxed SIMD is there (not in Node 20 without a flag)
    expect(WebAssembly.validate(fma)).toBe(fmaSupported());
  });
  it("detects SIMD in Node 20", () => {
    expect(simdSupported()).toBe(true);
  });
});

const wasm = createWasmBackend();
if (!wasm) throw new Error("WebAssembly SIMD is unavailable: the wasm backend cannot be tested here");
// NOTE: the wasm GEMM accumulates in float32 (the reference in float64): a K-term dot product may
// differ by about K * eps32 * max|a| * max|b|.
backendSuite(wasm, { rtol32: 2e-6, dot32: 1.2e-7 });

mediumShapeSuite(wasm);
