import { describe, expect, it } from "vitest";
import { AutogradError, DTypeError, Linear, SGD, ShapeError, markModified, mseLoss, randn, tensor, zeros, Generator } from "../../src/index.js";

describe("saved tensors changed in place before backward (issue 13, item 6)", () => {
  it("forward, then opt.step(), then backward throws naming the op and the tensor, instead of a wrong gradient", () => {
    const model = new Linear(3, 1, { generator: new Generator(0) });
    const opt = new SGD(model.parameters(), { lr: 0.5 });
    const x = randn([4, 3], { generator: new Generator(1) });
    const loss = mseLoss(model.forward(x), zeros([4, 1]));
    loss.backward(undefined, { retainGraph: true });
    opt.step();
    let err: unknown;
    try {
      loss.backward(undefined, { retainGraph: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AutogradError);
    expect((err as Error).message).toMatch(/matmul saved for its gradient was modified in place/);
  });

  it("a raw storage write followed by markModified is caught; the tensor's name is in the message", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = "w";
    const loss = w.mul(w).sum();
    w.storage[0] = 100;
    markModified(w);
    expect(w.version).toBe(1);
    expect(() => loss.backward()).toThrow(/"w".*mul/);
  });

  it("a view shares its base's version", () => {
    const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const loss = w.reshape([4]).square().sum();
    markModified(w);
    expect(() => loss.backward()).toThrow(AutogradError);
  });

  it("ops whose gradient reads no values (add, sum, reshape) do not object, as PyTorch", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const loss = w.add(1).reshape([2, 1]).sum();
    markModified(w);
    loss.backward();
    expect(w.grad!.toArray()).toEqual([1, 1]);
  });

  it("an unmodified graph backs through twice with retainGraph", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const loss = w.mul(w).sum();
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(w.grad!.toArray()).toEqual([4, 8]);
  });

  it("the library's own in-place writers bump the version: an optimizer step, loadStateDict", () => {
    const m = new Linear(2, 2);
    const v0 = m.weight.version;
    m.weight.grad = zeros([2, 2]);
    new SGD(m.parameters(), { lr: 0.1 }).step();
    expect(m.weight.version).toBe(v0 + 1);
    m.loadStateDict(m.stateDict());
    expect(m.weight.version).toBe(v0 + 2);
  });
});

describe("gradient hooks must keep the gradient's shape and dtype (issue 13, item 7)", () => {
  it("a hook returning another shape or dtype, or not a tensor, is a typed error", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.registerHook(() => zeros([5]));
    expect(() => x.mul(2).sum().backward()).toThrow(ShapeError);
    const y = tensor([1, 2], { requiresGrad: true });
    y.registerHook(() => zeros([2], { dtype: "float64" }));
    expect(() => y.mul(2).sum().backward()).toThrow(DTypeError);
    const z = tensor([1, 2], { requiresGrad: true });
    z.registerHook((() => [1, 2]) as never);
    expect(() => z.mul(2).sum().backward()).toThrow(AutogradError);
  });

  it("a hook that replaces the gradient with one of the same shape works", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.registerHook((g) => g.mul(10));
    x.mul(2).sum().backward();
    expect(x.grad!.toArray()).toEqual([20, 20]);
  });
});
