/**
 * Issue 15, "Reports that name the node": module outputs are named after the module's path, and an
 * anomaly report (text, toJSON, toDot, toSVG) names the module an op ran in and its named inputs.
 */
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { AnomalyError, detectAnomaly, Identity, Linear, Module, ModuleList, ReLU, Sequential, tensor, Tensor, type AnomalyReport } from "../../src/index.js";

function report(fn: () => void): AnomalyReport {
  try {
    detectAnomaly(fn);
  } catch (e) {
    if (e instanceof AnomalyError) return e.report;
    throw e;
  }
  throw new Error("no anomaly was reported");
}

/** Four Linear layers; layer "2" has weights that overflow float32 in its matmul. */
function stack(): Sequential {
  sg.manualSeed(0);
  const model = new Sequential(new Linear(4, 8), new Linear(8, 8), new Linear(8, 8), new Linear(8, 2));
  (model.at(2) as Linear).weight.storage.fill(3e38, 0, 8); // its first output row
  return model;
}

class Attention extends Module {
  constructor(readonly broken: boolean) {
    super();
  }
  forward(x: Tensor): Tensor {
    // a broken block: sqrt of a zero difference, whose gradient is infinite
    return this.broken ? x.sub(x.detach()).sqrt().add(x) : x.tanh();
  }
}
class Block extends Module {
  readonly attn;
  readonly fc = this.registerModule("fc", new Linear(4, 4));
  constructor(broken: boolean) {
    super();
    this.attn = this.registerModule("attn", new Attention(broken));
  }
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.attn.forward(x)).add(x);
  }
}
class Encoder extends Module {
  readonly layers = this.registerModule("layers", new ModuleList([new Block(false), new Block(true), new Block(false)]));
  forward(x: Tensor): Tensor {
    for (const b of this.layers) x = b.forward(x); // the list's children, called from the encoder's forward
    return x;
  }
}
class Model extends Module {
  readonly encoder = this.registerModule("encoder", new Encoder());
  readonly head = this.registerModule("head", new Linear(4, 1));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

describe("module outputs are named after their path", () => {
  it("a Sequential names each layer's output (the innermost module's name wins)", () => {
    const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
    const y = model.forward(sg.randn([3, 4]));
    expect(y.name).toBe("2"); // the last layer's output is also the model's
    const relu = y.gradFn!.inputs[0]!.gradFn!.inputs[0]!; // add(matmul(relu, W^T), b)
    expect(relu.name).toBe("1");
    expect(relu.gradFn!.inputs[0]!.name).toBe("0");
    // called inside another model's forward, the paths start at that model
    const z = new Sequential(new Identity(), model).forward(sg.randn([3, 4]));
    expect(z.name).toBe("1.2");
    // the model's own output keeps no name when it made it itself
    class Twice extends Module {
      readonly fc = this.registerModule("fc", new Linear(2, 2));
      forward(v: Tensor): Tensor {
        return this.fc.forward(v).mul(2);
      }
    }
    const t = new Twice().forward(sg.randn([1, 2]));
    expect(t.name).toBeUndefined();
    expect(t.gradFn!.inputs[0]!.name).toBe("fc");
  });

  it("nested modules and ModuleList children called from the owner's forward: encoder.layers.1.attn", () => {
    const model = new Model();
    const seen: string[] = [];
    const y = model.forward(sg.randn([2, 4]));
    // walk back from the output and collect the names
    const stack: Tensor[] = [y];
    const visited = new Set<Tensor>();
    while (stack.length) {
      const t = stack.pop()!;
      if (visited.has(t)) continue;
      visited.add(t);
      if (t.name && !t.isLeaf) seen.push(t.name);
      for (const u of t.gradFn?.inputs ?? []) stack.push(u);
    }
    for (const p of ["head", "encoder.layers.0", "encoder.layers.1", "encoder.layers.1.attn", "encoder.layers.2.fc"]) expect(seen).toContain(p);
    expect(seen).not.toContain("layers.1"); // paths start at the outermost running module
  });

  it("leaves an argument passed through, a parameter, and a named tensor as they were", () => {
    const x = sg.randn([2, 2]);
    new Sequential(new Identity(), new Identity()).forward(x);
    expect(x.name).toBeUndefined();
    class Weight extends Module {
      readonly w = this.registerParameter("w", sg.ones([2]));
      forward(): Tensor {
        return this.w;
      }
    }
    class Holder extends Module {
      readonly inner = this.registerModule("inner", new Weight());
      forward(): Tensor {
        return this.inner.forward();
      }
    }
    const h = new Holder();
    h.forward();
    expect(h.inner.w.name).toBeUndefined();
    class Named extends Module {
      forward(v: Tensor): Tensor {
        const out = v.mul(2);
        out.name = "mine";
        return out;
      }
    }
    const n = new Sequential(new Named()).forward(x);
    expect(n.name).toBe("mine");
  });

  it("a forward written as a field still runs (unnamed), and the wrapper is not an enumerable field", () => {
    class Arrow extends Module {
      forward = (v: Tensor): Tensor => v.mul(3);
    }
    const y = new Sequential(new Arrow()).forward(tensor([1]));
    expect(y.toArray()).toEqual([3]);
    const lin = new Linear(2, 2);
    expect(Object.keys(lin)).not.toContain("forward");
    expect(() => lin.parameters()).not.toThrow();
  });
});

describe("reports name the module and the named inputs", () => {
  it("a Sequential of Linear layers where layer 2 overflows: text, toJSON, toDot and toSVG name it", () => {
    const model = stack();
    const r = report(() => model.forward(sg.randn([2, 4])).sum().backward());
    expect(r.op).toBe("matmul");
    expect(r.module).toEqual({ path: "2", type: "Linear" });
    const text = r.toString();
    expect(text).toMatch(/^[+-]Inf in the forward pass, at op matmul\n {2}in module "2" \(Linear\)\n/);
    expect(text).toContain('0: "1" [2, 8] float32'); // the previous layer's output
    expect(text).toContain('1: "2.weight" [8, 8] float32'); // the transposed weight, under its parameter's name
    expect(r.hint?.fix).toContain('parameter "2.weight"');
    const json = r.toJSON() as { module: unknown; inputs: { name?: string }[] };
    expect(json.module).toEqual({ path: "2", type: "Linear" });
    expect(json.inputs.map((s) => s.name)).toEqual(["1", "2.weight"]);
    expect(JSON.parse(JSON.stringify(r)).module.path).toBe("2");
    expect(r.toDot()).toContain('in module \\"2\\" (Linear)');
    expect(r.toDot()).toContain("add → 1");
    expect(r.toSVG()).toContain("in module &quot;2&quot; (Linear)");
  });

  it("a NaN born in the backward pass names the module whose forward made the op: encoder.layers.1.attn", () => {
    const model = new Model();
    const r = report(() => model.forward(sg.randn([2, 4])).sum().backward());
    expect(r.phase).toBe("backward");
    expect(r.op).toBe("sqrt");
    expect(r.module).toEqual({ path: "encoder.layers.1.attn", type: "Attention" });
    expect(r.toString()).toContain('in module "encoder.layers.1.attn" (Attention)');
  });

  it("an op in the model's own forward, and one outside any module", () => {
    class Top extends Module {
      forward(v: Tensor): Tensor {
        return v.log();
      }
    }
    const r = report(() => new Top().forward(tensor([0, 1])));
    expect(r.module).toEqual({ path: "", type: "Top" });
    expect(r.toString()).toContain("in the model's own forward (Top)");
    const bare = report(() => tensor([0, 1]).log());
    expect(bare.module).toBeUndefined();
    expect(bare.toString()).not.toContain("in module");
  });
});
