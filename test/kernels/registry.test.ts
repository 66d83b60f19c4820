import { afterEach, describe, expect, it } from "vitest";
import {
  conv2d, getBackend, listBackends, matmul, maxPool2d, referenceBackend, registerBackend, setBackend, tensor, type Backend,
} from "../../src/index.js";
const backendName = (): string => getBackend().name;
import { rnd, vals } from "../helpers.js";

/** A backend that forwards to the reference one and counts calls per method. */
function countingBackend(name: string): { backend: Backend; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const backend = new Proxy(referenceBackend, {
    get(target, prop, receiver) {
      if (prop === "name") return name;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Backend;
  return { backend, calls };
}

describe("backend registry", () => {
  afterEach(() => {
    setBackend("js");
  });

  it("starts with the reference backend 'js' active", () => {
    expect(listBackends()).toContain("js");
    expect(getBackend()).toBe(referenceBackend);
    expect(backendName()).toBe("js");
  });

  it("setBackend with an unknown name throws and names the registered backends", () => {
    expect(() => setBackend("no-such-backend")).toThrow(/no backend named "no-such-backend".*js/);
    expect(getBackend().name).toBe("js");
  });

  it("a registered wrapped backend is really used by ops and by backward, and 'js' can be restored", () => {
    const { backend, calls } = countingBackend("counting");
    registerBackend(backend);
    expect(listBackends()).toContain("counting");
    expect(setBackend("counting")).toBe(backend);
    expect(getBackend().name).toBe("counting");
    expect(backendName()).toBe("counting");

    const a = rnd([3, 4], 1).requiresGrad_();
    const b = rnd([4, 2], 2);
    const y = matmul(a, b).relu().sum();
    y.backward();
    expect(calls.get("matmul")).toBeGreaterThanOrEqual(2); // forward and the VJP
    expect(calls.get("unary")).toBeGreaterThanOrEqual(1);
    expect(calls.get("reduce")).toBeGreaterThanOrEqual(1);
    const x = rnd([1, 1, 4, 4], 3);
    conv2d(x, rnd([1, 1, 2, 2], 4));
    maxPool2d(x, 2);
    expect(calls.get("conv2d")).toBe(1);
    expect(calls.get("maxPool2dIndices")).toBe(1);

    setBackend("js");
    const before = calls.get("matmul");
    matmul(a, b);
    expect(calls.get("matmul")).toBe(before);
    expect(getBackend()).toBe(referenceBackend);
  });

  it("results do not depend on which (equivalent) backend computed them", () => {
    const { backend } = countingBackend("counting2");
    registerBackend(backend);
    const x = rnd([2, 3], 5);
    const ref = vals(x.exp().matmul(x.T).softmax(1));
    setBackend("counting2");
    expect(vals(x.exp().matmul(x.T).softmax(1))).toEqual(ref);
  });

  it("registerFastBackends registers js-fast (and wasm where SIMD validates) without selecting unless asked", async () => {
    const kernels = await import("../../src/kernels/index.js");
    const names = kernels.registerFastBackends();
    expect(names[0]).toBe("js-fast");
    expect(names.includes("wasm")).toBe(kernels.simdSupported());
    for (const n of names) expect(listBackends()).toContain(n);
    expect(getBackend().name).toBe("js");
    expect(kernels.registerFastBackends()).toEqual(names); // idempotent
    const prev = process.env.SAFEGRAD_BACKEND;
    try {
      delete process.env.SAFEGRAD_BACKEND;
      kernels.registerFastBackends({ select: true });
      expect(getBackend().name).toBe(names.includes("wasm") ? "wasm" : "js-fast");
      process.env.SAFEGRAD_BACKEND = "js-fast";
      kernels.registerFastBackends({ select: true });
      expect(getBackend().name).toBe("js-fast");
    } finally {
      if (prev === undefined) delete process.env.SAFEGRAD_BACKEND;
      else process.env.SAFEGRAD_BACKEND = prev;
    }
    expect(kernels.getBackend).toBe(getBackend);
  });

  it("registering a backend under an existing name replaces it", () => {
    const first = countingBackend("dup");
    const second = countingBackend("dup");
    registerBackend(first.backend);
    registerBackend(second.backend);
    setBackend("dup");
    tensor([1, 2]).neg();
    expect(first.calls.get("unary")).toBeUndefined();
    expect(second.calls.get("unary")).toBe(1);
    expect(listBackends().filter((n) => n === "dup").length).toBe(1);
  });
});
