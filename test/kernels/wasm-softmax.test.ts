/**
 * The wasm softmax module (src/kernels/wasm/softmax.ts): its size (synchronous compilation in Chrome
 * takes at most 4 KB), and that its kernels, not the js-fast fallback, take the attention and W3
 * shapes (the conformance kit and test/ops/softmax-masked.test.ts check the values).
 */
import { describe, expect, it } from "vitest";
import { randn, tensor } from "../../src/index.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import { createWasmBackend, wasmRuntimeOf } from "../../src/kernels/wasm/backend.js";
import { maskedSoftmaxWasm, softmaxBackwardWasm, softmaxModuleBytes } from "../../src/kernels/wasm/softmax.js";
import { expectClose } from "./suite.js";

describe("wasm softmax module", () => {
  it("is below Chrome's 4 KB limit for synchronous compilation", () => {
    expect(softmaxModuleBytes()).toBeLessThanOrEqual(4096);
  });
  it("takes a causal [2, 4, 64, 64] forward and backward and a [64, 1024] row softmax itself", () => {
    const rt = wasmRuntimeOf(createWasmBackend()!)!;
    const x = randn([2, 4, 64, 64]);
    const g = randn([2, 4, 64, 64]);
    const mask = tensor(Uint8Array.from({ length: 64 }, (_, j) => (j % 5 ? 1 : 0)), { shape: [1, 1, 1, 64], dtype: "bool" }).expand([2, 4, 64, 64]);
    for (const log of [false, true]) {
      const y = maskedSoftmaxWasm(rt, x, 3, log, mask, true);
      expect(y).not.toBeNull();
      const want = referenceBackend.maskedSoftmax(x, 3, log, mask, true);
      expectClose(y!, want, 1e-5, 1e-6, `forward log ${log}`);
      const yv = tensor(want as Float32Array, { shape: [2, 4, 64, 64] });
      const gx = softmaxBackwardWasm(rt, g, yv, 3, log, mask, true);
      expect(gx).not.toBeNull();
      expectClose(gx!, referenceBackend.softmaxBackward(g, yv, 3, log, mask, true), 1e-4, 1e-5, `backward log ${log}`);
    }
    expect(maskedSoftmaxWasm(rt, randn([64, 1024]), 1, false, null, false)).not.toBeNull();
  });
});
