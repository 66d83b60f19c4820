/**
 * The fused layerNorm (ops/norm.ts, issue 18) on every backend: the composite standardisation's
 * safety properties (a constant row gives exactly 0 at any magnitude, no overflow at 1e300 in
 * float64, finite gradients), the composite's values and gradients (x, weight, bias) on ordinary
 * rows, and the VJP's two paths (one kernel; tensor ops under createGraph) agreeing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { grad, Generator, nn, randn, setBackend, tensor, type FloatDType, type Tensor } from "../../src/index.js";
import { registerFastBackends } from "../../src/fast.js";
import { standardize } from "../../src/layers/standardize.js";
import { normModuleBytes } from "../../src/kernels/wasm/norm.js";

const backends = ["js", ...registerFastBackends()];
afterEach(() => setBackend("js"));

const magnitudes = [0, -0, 1, -3.7, 1e-30, 1e30, -1e30, 3e7, 1e15, 5e-324, 1e-40, 1e300, -1e300, 1.7e308, 2 ** 31 + 0.5];

/** The composite this op replaced: standardize + weight mul + bias add. */
function composite(x: Tensor, k: number, eps: number, w?: Tensor, b?: Tensor): Tensor {
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  let y = standardize(x, dims, eps).y;
  if (w) y = y.mul(w);
  if (b) y = y.add(b);
  return y;
}

function close(a: Tensor, b: Tensor, rtol: number, atol: number): void {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    if (!(Math.abs(x[i]! - y[i]!) <= atol + rtol * Math.abs(y[i]!))) throw new Error(`element ${i}: ${x[i]} vs ${y[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

describe.each(backends)("fused layerNorm on %s", (name) => {
  for (const dtype of ["float32", "float64"] as FloatDType[]) {
    it(`a constant row gives exactly 0 (the bias with an affine) and finite gradients, at every magnitude, ${dtype}`, () => {
      setBackend(name);
      for (const v of magnitudes) {
        if (dtype === "float32" && !(Math.abs(v) < 3.4e38)) continue;
        for (const n of [1, 3, 8, 33, 128]) {
          const x = tensor(Array.from({ length: 2 * n }, () => v), { shape: [2, n], dtype, requiresGrad: true });
          const y = nn.functional.layerNorm(x, [n]);
          expect(y.gradFn?.op).toBe("layerNorm");
          expect([...y.toTypedArray()].every((e) => e === 0), `${v} n ${n}`).toBe(true);
          const w = tensor(Array.from({ length: n }, (_, i) => 0.5 + i), { dtype, requiresGrad: true });
          const b = tensor(Array.from({ length: n }, (_, i) => i - 2), { dtype, requiresGrad: true });
          const ya = nn.functional.layerNorm(x, [n], { weight: w, bias: b });
          expect(ya.toTypedArray()).toEqual(tensor([...b.toTypedArray(), ...b.toTypedArray()], { dtype }).toTypedArray());
          ya.mul(tensor(Array.from({ length: 2 * n }, (_, i) => i - 1), { shape: [2, n], dtype })).sum().backward();
          for (const t of [x, w, b]) expect([...t.grad!.toTypedArray()].every(Number.isFinite), `${v} n ${n}`).toBe(true);
        }
      }
    });
  }

  it("no overflow in float64 at 1e300: the values of the same rows divided by 2^996, finite gradients", () => {
    setBackend(name);
    const rows = [[1e300, -1e300, 5e299, 0], [1.7e308, -1.7e308, 1, 2], [1e300, 1e300, 1e300, -1e300]];
    const x = tensor(rows, { dtype: "float64", requiresGrad: true });
    const y = nn.functional.layerNorm(x, [4], { eps: 1e-5 });
    const ys = nn.functional.layerNorm(tensor(rows, { dtype: "float64" }).div(2 ** 996), [4], { eps: 1e-5 * 2 ** -1992 });
    close(y, ys, 1e-12, 1e-12);
    y.mul(tensor([[1, 2, 3, 4], [4, 3, 2, 1], [1, -1, 1, -1]], { dtype: "float64" })).sum().backward();
    expect([...x.grad!.toTypedArray()].every(Number.isFinite)).toBe(true);
  });

  for (const dtype of ["float32", "float64"] as FloatDType[]) {
    it(`the composite's values and gradients, with and without affine, contiguous and transposed, ${dtype}`, () => {
      setBackend(name);
      const gen = new Generator(7);
      for (const [shape, k] of [[[3, 5, 8], 1], [[4, 6], 2], [[2, 3, 128], 1], [[7, 1], 1]] as [number[], number][]) {
        for (const transposed of [false, true]) {
          const base = randn(transposed ? [...shape].reverse() : shape, { generator: gen, dtype }).mul(3).add(1);
          const xv = transposed ? base.permute(shape.map((_, i) => shape.length - 1 - i)) : base;
          const ns = shape.slice(shape.length - k);
          const w = randn(ns, { generator: gen, dtype });
          const b = randn(ns, { generator: gen, dtype });
          const g = randn(shape, { generator: gen, dtype });
          for (const affine of [0, 1, 2]) {
            const run = (f: (x: Tensor, w?: Tensor, b?: Tensor) => Tensor): Tensor[] => {
              const x = xv.detach().requiresGrad_();
              const ws = affine ? w.detach().requiresGrad_() : undefined;
              const bs = affine === 2 ? b.detach().requiresGrad_() : undefined;
              const y = f(x, ws, bs);
              const gs = grad([y], [x, ...(ws ? [ws] : []), ...(bs ? [bs] : [])], { gradOutputs: [g] }) as Tensor[];
              return [y, ...gs];
            };
            const fused = run((x, ww, bb) => nn.functional.layerNorm(x, ns, { weight: ww, bias: bb, eps: 1e-5 }));
            const comp = run((x, ww, bb) => composite(x, k, 1e-5, ww, bb));
            const tol = dtype === "float32" ? 2e-5 : 1e-11;
            fused.forEach((t, i) => close(t, comp[i]!, tol, tol * (1 + comp[i]!.abs().max().item())));
          }
        }
      }
    });
  }

  it("the VJP under createGraph (tensor ops) gives the kernel's gradients, and gradients of gradients", () => {
    setBackend(name);
    const gen = new Generator(3);
    for (const dtype of ["float32", "float64"] as FloatDType[]) {
      const x0 = randn([4, 6], { generator: gen, dtype });
      const w = randn([6], { generator: gen, dtype }).requiresGrad_();
      const b = randn([6], { generator: gen, dtype }).requiresGrad_();
      const g = randn([4, 6], { generator: gen, dtype });
      const x = x0.detach().requiresGrad_();
      const y = nn.functional.layerNorm(x, [6], { weight: w, bias: b });
      const plain = grad([y], [x, w, b], { gradOutputs: [g], retainGraph: true }) as Tensor[];
      const recorded = grad([y], [x, w, b], { gradOutputs: [g], createGraph: true }) as Tensor[];
      const tol = dtype === "float32" ? 1e-5 : 1e-12;
      plain.forEach((t, i) => close(t, recorded[i]!, tol, tol));
      expect(recorded[0]!.requiresGrad).toBe(true);
      // a gradient of the gradient exists and is finite
      const [gg] = grad([recorded[0]!.square().sum()], [x]) as Tensor[];
      expect([...gg!.toTypedArray()].every(Number.isFinite)).toBe(true);
    }
  });
});

describe("fused layerNorm: the createGraph path at extreme magnitudes", () => {
  it("constant and huge rows: the recorded VJP's gradients are finite and equal the kernel's", () => {
    for (const [dtype, v] of [["float32", 1e30], ["float32", 3e38], ["float64", 1e300], ["float64", 1e-310]] as [FloatDType, number][]) {
      const x = tensor([[v, v, v, v], [v, -v, v / 2, 0]], { dtype, requiresGrad: true });
      const w = tensor([1, 2, 3, 4], { dtype, requiresGrad: true });
      const g = tensor([[1, -1, 2, 0.5], [0.5, 2, -1, 1]], { dtype });
      const y = nn.functional.layerNorm(x, [4], { weight: w });
      const plain = grad([y], [x, w], { gradOutputs: [g], retainGraph: true }) as Tensor[];
      const recorded = grad([y], [x, w], { gradOutputs: [g], createGraph: true }) as Tensor[];
      for (const t of [...plain, ...recorded]) expect([...t.toTypedArray()].every(Number.isFinite), `${dtype} ${v}`).toBe(true);
      const tol = dtype === "float32" ? 1e-5 : 1e-12;
      plain.forEach((t, i) => close(t, recorded[i]!, tol, tol * (1 + t.abs().max().item())));
    }
  });
});

describe("fused layerNorm: which path", () => {
  it("eps = 0 keeps the composite (its rsqrt is what the anomaly hints name); a bias without weight is fused with a weight of ones", () => {
    const x = tensor([[1, 2, 3]], { requiresGrad: true });
    expect(nn.functional.layerNorm(x, [3], { eps: 0 }).gradFn?.op).not.toBe("layerNorm");
    const b = tensor([1, 2, 3], { requiresGrad: true });
    const y = nn.functional.layerNorm(x, [3], { bias: b });
    expect(y.gradFn?.op).toBe("layerNorm");
    y.sum().backward();
    expect(b.grad!.toArray()).toEqual([1, 1, 1]);
  });
});

describe("fused layerNorm: the wasm module", () => {
  it("stays below Chrome's 4 KB limit for synchronous compilation", () => {
    expect(normModuleBytes()).toBeLessThan(4096);
  });
});
