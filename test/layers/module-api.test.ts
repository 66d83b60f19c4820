/**
 * Module.to(dtype) / double() / float(), setDefaultDtype, apply(fn), forward hooks and pre-hooks,
 * parametersCount (issue 16). Hook order, argument/output replacement, apply order and what .to()
 * keeps are compared with PyTorch 1.13 (fixtures/modules.json, scripts/fixtures/modules.py).
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  Adam, AutogradError, DTypeError, SGD, Tensor, ValueError, arange, eye, getDefaultDtype, linspace, ones, rand, randn, setDefaultDtype, tensor, zeros, full,
} from "../../src/index.js";
import {
  BatchNorm1d, Conv2d, Embedding, GRU, LSTM, LayerNorm, Linear, Module, ModuleDict, ModuleList, MultiheadAttention, ReLU, Sequential, Tanh, TransformerEncoderLayer, parameter, type AnyModule,
} from "../../src/layers/index.js";
import { decode, expectClose, type EncTensor } from "./helpers.js";

interface HookCall {
  events: Array<[string, ...number[]]>;
  output: EncTensor;
  input_grad: EncTensor;
  param_grads: Record<string, EncTensor>;
}
interface ModulesFixture {
  torch_version: string;
  hooks: { state_dict: Array<[string, EncTensor]>; input: EncTensor; calls: HookCall[] };
  apply: string[];
  to: { state_dict: Array<[string, string]>; same_parameters: boolean[]; grad_dtypes: string[]; same_grads: boolean[]; parameters_count: number };
}
const fx = JSON.parse(readFileSync(new URL("../../fixtures/modules.json", import.meta.url), "utf8")) as ModulesFixture;

afterEach(() => setDefaultDtype("float32"));

const sum = (t: Tensor): number => Array.from(t.toTypedArray()).reduce((a, b) => a + b, 0);

describe("forward hooks match torch 1.13 (order, replaced inputs and outputs, removal)", () => {
  it("fixture", () => expect(fx.torch_version.startsWith("1.13")).toBe(true));

  it("the same model with the same hooks runs them in torch's order with torch's values and gradients", () => {
    const f64 = { dtype: "float64" } as const;
    const inner = new Sequential(new Linear(4, 2, f64), new Tanh());
    const model = new Sequential(new Linear(3, 4, f64), new ReLU(), inner);
    model.loadStateDict(new Map(fx.hooks.state_dict.map(([k, t]) => [k, decode(t)])));
    const events: Array<[string, ...number[]]> = [];
    const hRootPreA = model.registerForwardPreHook((_m, [x]) => void events.push(["root.pre.a", sum(x)]));
    model.registerForwardPreHook((_m, [x]) => {
      events.push(["root.pre.b", sum(x)]);
      return x.mul(2); // a single value: the new only argument
    });
    model.registerForwardHook((_m, [x], out) => void events.push(["root.hook", sum(x), sum(out)]));
    const hZeroA = model.at(0).registerForwardHook((_m, _args, out) => {
      events.push(["0.hook.a", sum(out)]);
      return out.add(1);
    });
    model.at(0).registerForwardHook((_m, [x], out) => void events.push(["0.hook.b", sum(x), sum(out)]));
    inner.at(0).registerForwardPreHook((_m, [x]) => {
      events.push(["2.0.pre", sum(x)]);
      return [x.mul(0.5)]; // an array: the new argument list
    });
    inner.at(0).registerForwardHook((_m, [x], out) => void events.push(["2.0.hook", sum(x), sum(out)]));

    fx.hooks.calls.forEach((call, i) => {
      if (i === 1) {
        hRootPreA.remove();
        hZeroA.remove();
        hZeroA.remove(); // idempotent
      }
      events.length = 0;
      model.zeroGrad();
      const x = decode(fx.hooks.input, true);
      const y = model.forward(x);
      y.sum().backward();
      expect(events.map((e) => e[0]), `call ${i}: order`).toEqual(call.events.map((e) => e[0]));
      events.forEach((e, j) => {
        const want = call.events[j]!;
        for (let k = 1; k < want.length; k++) expect(Math.abs((e[k] as number) - (want[k] as number)), `call ${i} ${e[0]} value ${k}`).toBeLessThan(1e-9);
      });
      expectClose(y, call.output, `call ${i} output`);
      expectClose(x.grad, call.input_grad, `call ${i} input grad`);
      for (const [n, p] of model.namedParameters()) expectClose(p.grad, call.param_grads[n]!, `call ${i} grad of ${n}`);
    });
  });

  it("apply(fn) visits children before parents, in torch's order", () => {
    const model = new Sequential(new Linear(2, 2), new Sequential(new ReLU(), new Sequential(new Linear(2, 2))), new Tanh());
    const paths = new Map(model.namedModules().map(([n, m]) => [m, n]));
    const order: string[] = [];
    expect(model.apply((m) => void order.push(paths.get(m)!))).toBe(model);
    expect(order).toEqual(fx.apply);
  });
});

describe("hooks", () => {
  it("a handle removes its hook only; removing or adding while hooks run counts from the next call", () => {
    const lin = new Linear(2, 2);
    const seen: string[] = [];
    let late: { remove(): void } | undefined;
    const h1 = lin.registerForwardHook(() => {
      seen.push("h1");
      h2.remove(); // h2 still runs in this call (snapshot), as torch
      late ??= lin.registerForwardHook(() => void seen.push("late"));
    });
    const h2 = lin.registerForwardHook(() => void seen.push("h2"));
    expect(h1.id).not.toBe(h2.id);
    lin.forward(ones([1, 2]));
    expect(seen).toEqual(["h1", "h2"]);
    seen.length = 0;
    lin.call(ones([1, 2])); // call() runs the hooks too
    expect(seen).toEqual(["h1", "late"]);
    h1.remove();
    late!.remove();
    seen.length = 0;
    lin.forward(ones([1, 2]));
    expect(seen).toEqual([]);
  });

  it("a pre-hook replaces every argument of a module with several (an array), a hook sees them", () => {
    class Pair extends Module<[Tensor, Tensor], Tensor> {
      forward(a: Tensor, b: Tensor): Tensor {
        return a.sub(b);
      }
    }
    const m = new Pair();
    m.registerForwardPreHook((_m, [a, b]) => [b, a]);
    let hookArgs: Tensor[] = [];
    m.registerForwardHook((_m, args, out) => {
      hookArgs = args;
      return out.mul(10);
    });
    const a = tensor([5]);
    const b = tensor([2]);
    expect(m.forward(a, b).toArray()).toEqual([-30]);
    expect(hookArgs[0]).toBe(b);
    expect(hookArgs[1]).toBe(a);
  });

  it("a module used twice runs its hooks at each call; hooks run inside summary() and in eval mode", () => {
    const lin = new Linear(3, 3);
    const model = new Sequential(lin, new ReLU(), lin);
    let calls = 0;
    lin.registerForwardHook(() => void calls++);
    model.forward(zeros([2, 3]));
    expect(calls).toBe(2);
    model.summary([1, 3]);
    expect(calls).toBe(4);
  });

  it("gradients flow through what hooks return", () => {
    const w = parameter(tensor([2], { dtype: "float64" }));
    class Scale extends Module {
      readonly w = this.registerParameter("w", w);
      forward(x: Tensor): Tensor {
        return x.mul(this.w);
      }
    }
    const m = new Scale();
    m.registerForwardHook((_m, _a, out) => out.square());
    const x = tensor([3], { dtype: "float64", requiresGrad: true });
    m.forward(x).sum().backward();
    // (x w)^2: d/dw = 2 x^2 w = 36, d/dx = 2 x w^2 = 24
    expect(w.grad!.toArray()).toEqual([36]);
    expect(x.grad!.toArray()).toEqual([24]);
  });

  it("the output is named after the module path even when a hook replaced it", () => {
    const model = new Sequential(new Linear(2, 2), new ReLU());
    model.at(0).registerForwardHook((_m, _a, out) => out.mul(3));
    const names: (string | undefined)[] = [];
    model.at(1).registerForwardPreHook((_m, [x]) => void names.push(x.name));
    model.forward(ones([1, 2]));
    expect(names).toEqual(["0"]);
  });

  it("refuses a non-function", () => {
    expect(() => new Linear(2, 2).registerForwardHook(42 as never)).toThrow(ValueError);
    expect(() => new Linear(2, 2).registerForwardPreHook(null as never)).toThrow(/registerForwardPreHook/);
  });
});

describe("Module.to(dtype), double(), float()", () => {
  it("keeps the parameters, grads and keys as torch does; float buffers convert, integer ones stay", () => {
    const model = new Sequential(new Linear(3, 2), new BatchNorm1d(2));
    const params = model.parameters();
    model.forward(randn([4, 3])).sum().backward();
    const grads = params.map((p) => p.grad);
    const keysBefore = [...model.stateDict().keys()];
    expect(model.double()).toBe(model);
    const sd = model.stateDict();
    expect([...sd].map(([k, t]) => [k, t.dtype])).toEqual(fx.to.state_dict.map(([k, d]) => [k, d === "int64" ? "int32" : d]));
    expect([...sd.keys()]).toEqual(keysBefore);
    expect(model.parameters().map((p, i) => p === params[i])).toEqual(fx.to.same_parameters);
    expect(model.parameters().map((p) => p.grad!.dtype)).toEqual(fx.to.grad_dtypes);
    expect(model.parameters().map((p, i) => p.grad === grads[i])).toEqual(fx.to.same_grads);
    expect(model.parametersCount()).toBe(fx.to.parameters_count);
  });

  it("converts values exactly to float64 and rounds to float32; the model runs in the new dtype", () => {
    const lin = new Linear(4, 3);
    const before = Array.from(lin.weight.toTypedArray());
    lin.to("float64");
    expect(lin.weight.storage).toBeInstanceOf(Float64Array);
    expect(Array.from(lin.weight.toTypedArray())).toEqual(before);
    expect(lin.forward(randn([2, 4], { dtype: "float64" })).dtype).toBe("float64");
    lin.weight.storage[0] = 0.1;
    lin.float();
    expect(lin.weight.dtype).toBe("float32");
    expect(lin.weight.toTypedArray()[0]).toBe(Math.fround(0.1));
    expect(lin.forward(randn([2, 4])).dtype).toBe("float32");
    expect(lin.to("float32")).toBe(lin); // already: nothing to do
  });

  it("an optimizer built before (and stepped before) keeps training the converted parameters", () => {
    const model = new Sequential(new Linear(3, 8), new ReLU(), new Linear(8, 1));
    const opt = new Adam(model.parameters(), { lr: 0.05 });
    const x = randn([16, 3]);
    const y = x.sum(1, true);
    const step = (xx: Tensor, yy: Tensor): number => {
      opt.zeroGrad();
      const loss = model.forward(xx).sub(yy).square().mean();
      loss.backward();
      opt.step();
      return loss.item();
    };
    const first = step(x, y);
    model.double();
    const x64 = x.double();
    const y64 = y.double();
    for (const p of model.parameters()) expect(opt.paramGroups[0]!.params).toContain(p);
    let last = first;
    for (let i = 0; i < 30; i++) last = step(x64, y64);
    expect(model.parameters().every((p) => p.dtype === "float64")).toBe(true);
    expect(last).toBeLessThan(first);
    // the state Adam made before keeps its dtype (as torch); loading it back rebuilds it in float64
    opt.loadStateDict(opt.stateDict());
    expect(step(x64, y64)).toBeLessThan(first);
  });

  it("a graph recorded before the conversion refuses to backpropagate", () => {
    const lin = new Linear(2, 2);
    const loss = lin.forward(randn([3, 2], { requiresGrad: true })).square().sum();
    lin.double();
    expect(() => loss.backward()).toThrow(AutogradError);
  });

  it("refuses other dtypes with a DTypeError and changes nothing", () => {
    const lin = new Linear(2, 2);
    for (const bad of ["int32", "bool", "float16", "double", undefined]) {
      const e = (() => {
        try {
          lin.to(bad as never);
        } catch (err) {
          return err;
        }
      })();
      expect(e, String(bad)).toBeInstanceOf(DTypeError);
      expect((e as DTypeError).code).toBe("DTYPE");
      expect((e as Error).message).toContain("Module.to");
    }
    expect(lin.weight.dtype).toBe("float32");
  });

  it("converts recurrent and attention layers (their state dicts load into a float64 copy)", () => {
    for (const make of [() => new LSTM(3, 4, { numLayers: 2 }), () => new GRU(3, 4, { bidirectional: true }), () => new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }), () => new MultiheadAttention(8, 2)]) {
      const m = make() as unknown as AnyModule;
      m.double();
      expect(m.parameters().every((p) => p.dtype === "float64")).toBe(true);
      setDefaultDtype("float64");
      const twin = make() as unknown as AnyModule;
      setDefaultDtype("float32");
      twin.loadStateDict(m.stateDict());
    }
  });
});

describe("setDefaultDtype / getDefaultDtype", () => {
  it("starts at float32 and switches creation and layers to float64", () => {
    expect(getDefaultDtype()).toBe("float32");
    setDefaultDtype("float64");
    expect(getDefaultDtype()).toBe("float64");
    const made = {
      tensor: tensor([0.5, 1]),
      zeros: zeros([2]),
      ones: ones([2]),
      full: full([2], 3),
      rand: rand([2]),
      randn: randn([2]),
      linspace: linspace(0, 1, 3),
      eye: eye(2),
      arangeFrac: arange(0, 1, 0.5),
    };
    for (const [what, t] of Object.entries(made)) expect(t.dtype, what).toBe("float64");
    expect(arange(3).dtype).toBe("int32"); // integer arguments: int32 as before
    expect(tensor([true]).dtype).toBe("bool");
    expect(tensor(new Float32Array(2)).dtype).toBe("float32"); // a typed array keeps its own
    expect(zeros([2], { dtype: "float32" }).dtype).toBe("float32"); // explicit wins
    const layers: AnyModule[] = [
      new Linear(2, 2), new Embedding(4, 2), new LayerNorm(2), new BatchNorm1d(2), new Conv2d(1, 2, 3), new LSTM(2, 2), new GRU(2, 2),
      new MultiheadAttention(4, 2), new TransformerEncoderLayer(4, 2, { dimFeedforward: 8 }),
    ];
    for (const l of layers) expect(l.parameters().map((p) => p.dtype), l.constructor.name).toEqual(l.parameters().map(() => "float64"));
    expect(new Linear(2, 2, { dtype: "float32" }).weight.dtype).toBe("float32");
    setDefaultDtype("float32");
    expect(zeros([1]).dtype).toBe("float32");
    expect(new Linear(2, 2).weight.dtype).toBe("float32");
  });

  it("accepts only float32 and float64 (a DTypeError naming the op; the setting is unchanged)", () => {
    setDefaultDtype("float64");
    for (const bad of ["int32", "bool", "float16", "double", "float", 64, null]) {
      expect(() => setDefaultDtype(bad as never), String(bad)).toThrow(DTypeError);
      expect(getDefaultDtype()).toBe("float64");
    }
    expect(() => setDefaultDtype("double" as never)).toThrow(/setDefaultDtype.*use "float64"/s);
  });
});

describe("parametersCount", () => {
  it("counts every parameter once by default, trainable ones on request, never buffers", () => {
    const shared = new Linear(4, 4);
    const model = new Sequential(shared, new BatchNorm1d(4), shared, new Linear(4, 2, { bias: false }));
    expect(model.parametersCount()).toBe(20 + 8 + 8);
    expect(model.parametersCount()).toBe(model.summary([3, 4]).totalParams);
    shared.weight.requiresGrad = false;
    expect(model.parametersCount({ trainableOnly: true })).toBe(4 + 8 + 8);
    expect(model.parametersCount({ trainableOnly: true })).toBe(model.summary([3, 4]).trainableParams);
    expect(new ReLU().parametersCount()).toBe(0);
  });
});

describe("SGD built before a double() converts nothing of its own", () => {
  it("steps the float64 parameters", () => {
    const lin = new Linear(2, 1);
    const opt = new SGD(lin.parameters(), { lr: 0.1 });
    lin.double();
    lin.forward(ones([1, 2], { dtype: "float64" })).sum().backward();
    const before = lin.bias!.toArray() as number[];
    opt.step();
    expect((lin.bias!.toArray() as number[])[0]).toBeCloseTo(before[0]! - 0.1, 12);
  });
});

describe("containers", () => {
  it("ModuleList and ModuleDict: a module held twice is converted and visited once", () => {
    const shared = new Linear(2, 2);
    const list = new ModuleList([shared, new ReLU(), shared]);
    const dict = new ModuleDict({ a: list, b: shared, c: new Linear(2, 3, { bias: false }) });
    const seen: AnyModule[] = [];
    dict.apply((m) => void seen.push(m));
    expect(seen.filter((m) => m === shared)).toHaveLength(1);
    expect(seen[seen.length - 1]).toBe(dict);
    expect(seen.indexOf(list)).toBeGreaterThan(seen.indexOf(shared));
    const w = shared.weight;
    const before = Array.from(w.toTypedArray());
    dict.double();
    expect(w.dtype).toBe("float64");
    expect(Array.from(w.toTypedArray())).toEqual(before); // converted once: exact
    expect(dict.parametersCount()).toBe(6 + 6);
    expect(dict.parameters().every((p) => p.dtype === "float64")).toBe(true);
  });

  it("apply on a deep nesting (3000 Sequentials) does not overflow the stack", () => {
    let m: Sequential = new Sequential(new ReLU());
    for (let i = 0; i < 3000; i++) m = new Sequential(m);
    let n = 0;
    m.apply(() => void n++);
    expect(n).toBe(3002);
  });
});
