/**
 * The activation modules of issue 20 (ELU, CELU, SELU, Mish, ReLU6, Hardtanh, Hardsigmoid,
 * Hardswish, Softsign, Softmin): each is its nn.functional form, has no parameters, prints its
 * arguments as torch does, checks them, and is exported beside the other activations.
 */
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { nn, tensor, ValueError, type Tensor } from "../../src/index.js";

const x = tensor([[-4, -1, -0.5, 0], [0.5, 1, 3, 7]], { dtype: "float64" });
const same = (a: Tensor, b: Tensor): void => expect(Array.from(a.toTypedArray())).toEqual(Array.from(b.toTypedArray()));

describe("issue 20 activation modules", () => {
  const cases: [string, sg.Module, (t: Tensor) => Tensor][] = [
    ["ELU", new nn.ELU(0.5), (t) => nn.functional.elu(t, 0.5)],
    ["CELU", new nn.CELU(2), (t) => nn.functional.celu(t, 2)],
    ["SELU", new nn.SELU(), nn.functional.selu],
    ["Mish", new nn.Mish(), nn.functional.mish],
    ["ReLU6", new nn.ReLU6(), nn.functional.relu6],
    ["Hardtanh", new nn.Hardtanh(-2, 2), (t) => nn.functional.hardtanh(t, -2, 2)],
    ["Hardsigmoid", new nn.Hardsigmoid(), nn.functional.hardsigmoid],
    ["Hardswish", new nn.Hardswish(), nn.functional.hardswish],
    ["Softsign", new nn.Softsign(), nn.functional.softsign],
    ["Softmin", new nn.Softmin(1), (t) => nn.functional.softmin(t, 1)],
  ];
  for (const [name, m, f] of cases) {
    it(`${name} is its function, without parameters, and trains through`, () => {
      same((m as unknown as { forward(t: Tensor): Tensor }).forward(x), f(x));
      expect(m.parameters()).toEqual([]);
      expect(Object.keys(m.stateDict())).toEqual([]);
      const xi = x.detach().requiresGrad_();
      (m as unknown as { forward(t: Tensor): Tensor }).forward(xi).sum().backward();
      expect(Array.from(xi.grad!.toTypedArray()).every(Number.isFinite)).toBe(true);
    });
  }

  it("are exported at the top level too, as the other activations", () => {
    for (const k of ["ELU", "CELU", "SELU", "Mish", "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "Softsign", "Softmin"]) {
      expect((sg as Record<string, unknown>)[k], k).toBe((nn as Record<string, unknown>)[k]);
    }
  });

  it("print their arguments as torch (extra_repr)", () => {
    expect(new nn.ELU(0.5).extraRepr()).toBe("alpha=0.5");
    expect(new nn.Hardtanh(-2, 2).extraRepr()).toBe("min_val=-2, max_val=2");
    expect(new nn.Softmin(1).extraRepr()).toBe("dim=1");
  });

  it("check their arguments", () => {
    expect(() => new nn.CELU(0)).toThrow(ValueError);
    expect(() => new nn.Hardtanh(1, -1)).toThrow(ValueError);
    expect(() => new nn.Softmin(0.5)).toThrow(ValueError);
  });

  it("ReLU6 is hardtanh on [0, 6] and SELU uses torch's constants", () => {
    expect(new nn.ReLU6().forward(tensor([-1, 3, 9])).toArray()).toEqual([0, 3, 6]);
    expect(sg.SELU_CONSTANTS.alpha).toBe(1.6732632423543772);
    expect(sg.SELU_CONSTANTS.scale).toBe(1.0507009873554805);
  });
});
