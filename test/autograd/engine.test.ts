import { afterEach, describe, expect, it } from "vitest";
import {
  AutogradError, backward, DTypeError, enableGrad, grad, gradcheck, GradcheckError, isGradEnabled, matmul, max, maximum, minimum,
  noGrad, norm, ones, ShapeError, tensor, where, zeros, amax, amin, type Tensor,
} from "../../src/index.js";
import { setEngineObserver } from "../../src/autograd/engine.js";
import { assertFloat } from "../../src/ops/define.js";
import { expectClose, rnd, vals } from "../helpers.js";

const f64 = (data: number[] | number[][] | number, requiresGrad = true): Tensor => tensor(data, { dtype: "float64", requiresGrad });

describe("graph structure", () => {
  it("reused nodes: b = a + a; c = b + b gives dc/da = 4", () => {
    const a = f64(3);
    const b = a.add(a);
    const c = b.add(b);
    c.backward();
    expect(a.grad!.item()).toBe(4);
    // A diamond: d = a*b + a*c with b = a*2, c = a*3 -> d = 5a², dd/da = 10a.
    const x = f64([1, 2]);
    const d = x.mul(x.mul(2)).add(x.mul(x.mul(3))).sum();
    d.backward();
    expect(x.grad!.toArray()).toEqual([10, 20]);
  });

  it("a 100,000-op chain backward does not overflow the stack", () => {
    const x = f64(1);
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.mul(1).add(1e-5);
    expect(y.item()).toBeCloseTo(2, 8);
    y.backward();
    expect(x.grad!.item()).toBe(1);
  });

  it("leaf / non-leaf, isLeaf, gradFn and requiresGrad rules", () => {
    const a = f64([1, 2]);
    const b = tensor([1, 2]);
    expect(a.isLeaf).toBe(true);
    expect(a.gradFn).toBeNull();
    expect(b.requiresGrad).toBe(false);
    const c = a.mul(2);
    expect(c.isLeaf).toBe(false);
    expect(c.requiresGrad).toBe(true);
    expect(c.gradFn!.op).toBe("mul");
    expect(() => (c.requiresGrad = false)).toThrow(AutogradError);
    const d = b.mul(2);
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    expect(b.requiresGrad_()).toBe(b);
    expect(b.requiresGrad).toBe(true);
    b.requiresGrad = false;
    expect(b.requiresGrad).toBe(false);
  });

  it("requiresGrad on int and bool tensors throws DTypeError", () => {
    expect(() => tensor([1, 2], { dtype: "int32", requiresGrad: true })).toThrow(DTypeError);
    expect(() => (tensor([true]).requiresGrad = true)).toThrow(/only float tensors/);
    expect(() => tensor([1], { dtype: "int32" }).requiresGrad_()).toThrow(DTypeError);
  });

  it("non-differentiable outputs of a tensor that requires grad (casts to int/bool, comparisons, argmax) do not require grad", () => {
    const x = f64([1.5, -2, 0]);
    const i = x.to("int32");
    expect(i.toArray()).toEqual([1, -2, 0]);
    expect(i.requiresGrad).toBe(false);
    expect(x.bool().toArray()).toEqual([true, true, false]);
    expect(x.logicalNot().toArray()).toEqual([false, false, true]);
    expect(x.gt(0).requiresGrad).toBe(false);
    expect(x.argmax().requiresGrad).toBe(false);
    // The float part of the graph still works around them.
    x.mul(x.gt(0).to("float64")).sum().backward();
    expect(x.grad!.toArray()).toEqual([1, 0, 0]);
  });

  it("casts between float dtypes are differentiable", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.double().mul(3).float().sum();
    expect(y.dtype).toBe("float32");
    y.backward();
    expect(x.grad!.dtype).toBe("float32");
    expect(x.grad!.toArray()).toEqual([3, 3]);
    expect(x.to("float32")).toBe(x);
  });

  it("detach shares storage and cuts the graph", () => {
    const x = f64([1, 2]);
    const y = x.mul(2);
    const d = y.detach();
    expect(d.storage).toBe(y.storage);
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    const z = x.mul(d).sum();
    z.backward();
    expect(x.grad!.toArray()).toEqual([2, 4]); // d treated as a constant
  });
});

describe("backward", () => {
  it("non-scalar without a gradient throws; an explicit gradient is used; wrong shape/dtype throws", () => {
    const x = f64([1, 2, 3]);
    const y = x.mul(x);
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/scalar outputs.*\[3\]/);
    expect(() => y.backward(tensor([1, 1], { dtype: "float64" }))).toThrow(ShapeError);
    expect(() => y.backward(tensor([1, 1, 1]))).toThrow(DTypeError);
    y.backward(tensor([1, 0, -1], { dtype: "float64" }));
    expect(x.grad!.toArray()).toEqual([2, 0, -6]);
  });

  it("backward on a tensor that does not require grad throws", () => {
    expect(() => tensor([1]).sum().backward()).toThrow(AutogradError);
  });

  it("retainGraph: a second backward without it throws; with it, grads accumulate", () => {
    const x = f64([1, 2]);
    const y = x.square().sum();
    y.backward();
    expect(() => y.backward()).toThrow(AutogradError);
    expect(() => y.backward()).toThrow(/retainGraph/);
    const x2 = f64([1, 2]);
    const y2 = x2.square().sum();
    y2.backward(undefined, { retainGraph: true });
    expect(x2.grad!.toArray()).toEqual([2, 4]);
    y2.backward();
    expect(x2.grad!.toArray()).toEqual([4, 8]);
  });

  it("backward from a leaf and from several roots at once", () => {
    const x = f64([1, 2]);
    x.backward(tensor([3, 4], { dtype: "float64" }));
    expect(x.grad!.toArray()).toEqual([3, 4]);
    const a = f64(2);
    backward([a.mul(3), a.square()]);
    expect(a.grad!.item()).toBe(7);
  });

  it("float32 graphs produce float32 gradients", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.square().sum().backward();
    expect(x.grad!.dtype).toBe("float32");
    expect(x.grad!.toArray()).toEqual([2, 4, 6]);
  });

  it("leaf gradients do not alias each other or the given gradient", () => {
    const a = f64([1, 2]);
    const b = f64([3, 4]);
    const g = tensor([1, 1], { dtype: "float64" });
    a.add(b).backward(g);
    expect(a.grad!.toArray()).toEqual([1, 1]);
    // In-place gradient utilities (clipGradNorm, clipGradValue) write into .grad.storage.
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
    expect(a.grad!.storage).not.toBe(g.storage);
    const c = f64(1);
    const d = f64(2);
    c.add(d).backward();
    expect(c.grad!.storage).not.toBe(d.grad!.storage);
  });

  it("leaf gradients are compact contiguous tensors even when the VJP gives a view", () => {
    const x = f64([1, 2, 3]);
    x.sum().backward(); // the sum VJP gives an expanded (stride 0) view
    expect(x.grad!.isContiguous()).toBe(true);
    expect(x.grad!.storage.length).toBe(3);
    const w = f64([[1, 2], [3, 4]]);
    matmul(w, f64([[1, 0], [0, 1]], false)).narrow(0, 0, 1).sum().backward();
    expect(w.grad!.toArray()).toEqual([[1, 1], [0, 0]]);
    expect(w.grad!.offset).toBe(0);
  });
});

describe("noGrad / enableGrad", () => {
  it("noGrad records nothing and restores the mode, also on throw; enableGrad re-enables inside", () => {
    const x = f64([1]);
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inner = enableGrad(() => x.mul(2));
      expect(inner.requiresGrad).toBe(true);
      return x.mul(2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
  });
});

describe("hooks and retainGrad", () => {
  it("a hook may replace the gradient, and can be removed", () => {
    const x = f64([1, 2]);
    const seen: number[][] = [];
    const h = x.registerHook((g) => {
      seen.push(vals(g));
      return g.mul(10);
    });
    x.mul(3).sum().backward();
    expect(seen).toEqual([[3, 3]]);
    expect(x.grad!.toArray()).toEqual([30, 30]);
    h.remove();
    h.remove(); // idempotent
    x.grad = null;
    x.mul(3).sum().backward();
    expect(x.grad!.toArray()).toEqual([3, 3]);
    expect(seen.length).toBe(1);
  });

  it("hooks on non-leaf tensors change what flows upstream; observing hooks return nothing", () => {
    const x = f64([1, 2]);
    const y = x.mul(2);
    let observed: number[] = [];
    y.registerHook((g) => {
      observed = vals(g);
    });
    y.registerHook((g) => g.neg());
    y.sum().backward();
    expect(observed).toEqual([1, 1]);
    expect(x.grad!.toArray()).toEqual([-2, -2]);
    expect(() => tensor([1]).registerHook((g) => g)).toThrow(AutogradError);
  });

  it("retainGrad keeps the gradient of a non-leaf; without it non-leaf grads stay null", () => {
    const x = f64([1, 2]);
    const y = x.square();
    const z = y.mul(3);
    expect(y.retainGrad()).toBe(y);
    expect(y.retainsGrad).toBe(true);
    z.sum().backward(undefined, { retainGraph: true });
    expect(y.grad!.toArray()).toEqual([3, 3]);
    expect(y.grad!.requiresGrad).toBe(false);
    expect(z.grad).toBeNull();
    z.sum().backward();
    expect(y.grad!.toArray()).toEqual([6, 6]);
  });
});

describe("grad()", () => {
  it("returns gradients without touching .grad; allowUnused gives null; unused inputs throw otherwise", () => {
    const x = f64([1, 2]);
    const u = f64([5]);
    const y = x.square().sum();
    const [gx, gu] = grad([y], [x, u], { allowUnused: true, retainGraph: true });
    expect(gx!.toArray()).toEqual([2, 4]);
    expect(gu).toBeNull();
    expect(x.grad).toBeNull();
    expect(() => grad([y], [x, u])).toThrow(/not used.*allowUnused/);
    expect(() => grad([y], [tensor([1])])).toThrow(AutogradError);
  });

  it("gradOutputs for non-scalar outputs and gradients w.r.t. a non-leaf", () => {
    const x = f64([1, 2, 3]);
    const h = x.mul(2);
    const y = h.square();
    const [gh, gx] = grad([y], [h, x], { gradOutputs: [tensor([1, 1, 0], { dtype: "float64" })] });
    expect(gh!.toArray()).toEqual([4, 8, 0]);
    expect(gx!.toArray()).toEqual([8, 16, 0]);
  });

  it("d²/dx² of x³ via createGraph, and the third derivative", () => {
    const x = f64(3);
    const [d1] = grad([x.pow(3)], [x], { createGraph: true });
    expect(d1!.item()).toBe(27);
    expect(d1!.requiresGrad).toBe(true);
    const [d2] = grad([d1!], [x], { createGraph: true });
    expect(d2!.item()).toBeCloseTo(18, 12);
    const [d3] = grad([d2!], [x]);
    expect(d3!.item()).toBeCloseTo(6, 12);
  });

  it("backward with createGraph leaves a differentiable .grad (accumulating)", () => {
    const x = f64([1, 2]);
    x.pow(3).sum().backward(undefined, { createGraph: true });
    expect(x.grad!.requiresGrad).toBe(true);
    const g1 = x.grad!;
    x.square().sum().backward(undefined, { createGraph: true });
    expect(x.grad!.toArray()).toEqual([5, 16]); // 3x² + 2x
    const [h] = grad([g1.sum()], [x]);
    expect(h!.toArray()).toEqual([6, 12]);
  });

  it("Hessian-vector products match finite differences of the gradient (sum x⁴ and a small MLP)", () => {
    const hvp = (f: (x: Tensor) => Tensor, x0: Tensor, v: Tensor): number[] => {
      const x = x0.detach().requiresGrad_();
      const [g] = grad([f(x)], [x], { createGraph: true });
      const [hv] = grad([g!.mul(v).sum()], [x]);
      return vals(hv!);
    };
    const fdHvp = (f: (x: Tensor) => Tensor, x0: Tensor, v: Tensor, eps = 1e-5): number[] => {
      const gradAt = (x: Tensor): number[] => {
        const xx = x.detach().requiresGrad_();
        return vals(grad([f(xx)], [xx])[0]!);
      };
      const p = gradAt(x0.add(v.mul(eps)));
      const m = gradAt(x0.sub(v.mul(eps)));
      return p.map((pi, i) => (pi - m[i]!) / (2 * eps));
    };
    const quartic = (x: Tensor): Tensor => x.pow(4).sum();
    const x0 = rnd([5], 1);
    const v = rnd([5], 2);
    const exact = vals(x0).map((xi, i) => 12 * xi * xi * vals(v)[i]!);
    expectClose(hvp(quartic, x0, v), exact, 1e-10, 1e-10);
    expectClose(fdHvp(quartic, x0, v), exact, 1e-6, 1e-6);

    const W1 = rnd([4, 6], 3);
    const b1 = rnd([6], 4);
    const W2 = rnd([6, 1], 5);
    const mlp = (x: Tensor): Tensor => x.reshape(1, 4).matmul(W1).add(b1).tanh().matmul(W2).sigmoid().sum();
    const xm = rnd([4], 6);
    const vm = rnd([4], 7);
    expectClose(hvp(mlp, xm, vm), fdHvp(mlp, xm, vm), 1e-5, 1e-7);
  });
});

describe("subgradients at kinks", () => {
  const gradOf = (f: (x: Tensor) => Tensor, data: number[]): number[] => {
    const x = f64(data);
    f(x).sum().backward();
    return vals(x.grad!);
  };

  it("relu'(0) = 0, abs'(0) = 0, sign' = 0", () => {
    expect(gradOf((x) => x.relu(), [-1, 0, 2])).toEqual([0, 0, 1]);
    expect(gradOf((x) => x.abs(), [-1, 0, 2])).toEqual([-1, 0, 1]);
    expect(gradOf((x) => x.sign(), [-1, 0, 2])).toEqual([0, 0, 0]);
    expect(gradOf((x) => x.leakyRelu(0.1), [-1, 0, 2])).toEqual([0.1, 0.1, 1]);
  });

  it("maximum/minimum ties split the gradient 0.5/0.5", () => {
    const a = f64([1, 2, 3]);
    const b = f64([1, 5, 0]);
    maximum(a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([0.5, 0, 1]);
    expect(b.grad!.toArray()).toEqual([0.5, 1, 0]);
    const c = f64([1, 2, 3]);
    const d = f64([1, 5, 0]);
    minimum(c, d).sum().backward();
    expect(c.grad!.toArray()).toEqual([0.5, 1, 0]);
    expect(d.grad!.toArray()).toEqual([0.5, 0, 1]);
  });

  it("amax/amin ties split evenly; max(dim) sends the gradient to the returned index only", () => {
    expect(gradOf((x) => amax(x), [1, 3, 3, 3])).toEqual([0, 1 / 3, 1 / 3, 1 / 3]);
    expect(gradOf((x) => amin(x.reshape(2, 2), 1), [2, 2, 1, 5])).toEqual([0.5, 0.5, 1, 0]);
    expect(gradOf((x) => max(x, 0).values, [1, 3, 3])).toEqual([0, 1, 0]);
    expect(gradOf((x) => x.min(0).values, [3, 1, 1])).toEqual([0, 1, 0]);
    expect(gradOf((x) => x.max(), [2, 2])).toEqual([0.5, 0.5]);
  });

  it("clamp passes the gradient at its boundaries (inclusive)", () => {
    expect(gradOf((x) => x.clamp(0, 1), [-0.5, 0, 0.5, 1, 1.5])).toEqual([0, 1, 1, 1, 0]);
    expect(gradOf((x) => x.clamp(null, 1), [0, 1, 2])).toEqual([1, 1, 0]);
  });

  it("norm'(0) = 0 (not NaN) for p = 2 and 3; inf-norm ties split; p = 1 uses sign", () => {
    expect(gradOf((x) => norm(x), [0, 0, 0])).toEqual([0, 0, 0]);
    expect(gradOf((x) => norm(x, 3), [0, 0])).toEqual([0, 0]);
    expect(gradOf((x) => norm(x, Infinity), [3, -3, 1])).toEqual([0.5, -0.5, 0]);
    expect(gradOf((x) => norm(x, 1), [2, 0, -1])).toEqual([1, 0, -1]);
    expectClose(gradOf((x) => norm(x), [3, 4]), [0.6, 0.8]);
    // and a second derivative at 0 stays finite
    const x = f64([0, 0]);
    const [g] = grad([norm(x)], [x], { createGraph: true });
    const [h] = grad([g!.sum()], [x]);
    expect(vals(h!).every(Number.isFinite)).toBe(true);
  });

  it("where gives an exact zero to the unselected branch; pow at 0 follows PyTorch", () => {
    const a = f64([1, 2]);
    const b = f64([3, 4]);
    where(tensor([true, false]), a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([1, 0]);
    expect(b.grad!.toArray()).toEqual([0, 1]);
    const base = f64([0, 0, 2]);
    const expo = f64([0, 2, 0]);
    base.pow(expo).sum().backward();
    expect(base.grad!.toArray()).toEqual([0, 0, 0]);
    expect(vals(expo.grad!)).toEqual([0, 0, Math.log(2)]);
  });
});

describe("engine observer, assertFloat and gradcheck", () => {
  afterEach(() => {
    setEngineObserver(null);
  });

  it("the observer sees every forward op and every VJP", () => {
    const fwd: string[] = [];
    const bwd: string[] = [];
    const prev = setEngineObserver({
      forward: (op, _inputs, _out, _attrs, node) => fwd.push(`${op}:${node ? "node" : "none"}`),
      backward: (node) => bwd.push(node.op),
    });
    expect(prev).toBeNull();
    const x = f64([1, 2]);
    x.mul(2).sum().backward();
    tensor([1]).neg();
    // The VJPs' own ops run without recording (no createGraph).
    expect(fwd.slice(0, 2)).toEqual(["mul:node", "sum:node"]);
    expect(fwd.slice(2).every((s) => s.endsWith(":none"))).toBe(true);
    expect(fwd[fwd.length - 1]).toBe("neg:none");
    expect(bwd).toEqual(["sum", "mul"]);
  });

  it("assertFloat", () => {
    expect(() => assertFloat("op", tensor([1], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => assertFloat("op", tensor([1]))).not.toThrow();
  });

  it("gradcheck passes on correct VJPs and reports a wrong one", () => {
    expect(gradcheck((a, b) => a.mul(b).sin().sum(0), [rnd([3, 2], 1).requiresGrad_(), rnd([2], 2).requiresGrad_()])).toBe(true);
    expect(gradcheck((a, b) => a.matmul(b), [rnd([2, 3], 3).requiresGrad_(), rnd([3, 2], 4)])).toBe(true);
    // x * detach(x): the analytic gradient misses one term.
    const wrong = (x: Tensor): Tensor => x.mul(x.detach());
    const x = rnd([3], 5).requiresGrad_();
    expect(gradcheck(wrong, [x], { raise: false })).toBe(false);
    let err: unknown;
    try {
      gradcheck(wrong, [x], { name: "wrongSquare" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GradcheckError);
    expect((err as GradcheckError).message).toContain("wrongSquare");
    expect((err as GradcheckError).failure.input).toBe(0);
    expect(() => gradcheck((t) => t.sum(), [tensor([1, 2], { requiresGrad: true })])).toThrow(/float64/);
    // Unused inputs get zero analytic gradients.
    expect(gradcheck((a, _b) => a.mul(2), [rnd([2], 6).requiresGrad_(), rnd([2], 7).requiresGrad_()])).toBe(true);
  });

  it("ones/zeros with requiresGrad are leaves", () => {
    const o = ones([2], { requiresGrad: true });
    expect(o.isLeaf && o.requiresGrad).toBe(true);
    expect(zeros([2], { dtype: "float64", requiresGrad: true }).requiresGrad).toBe(true);
  });
});
