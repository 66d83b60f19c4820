/**
 * Tensor.dispose, tidy, keep and dispose() (issue 18: TF.js's memory API). A disposed op result's
 * storage goes back to the pool only when that is provably safe (tensor/pool.ts `Owner`). Proofs,
 * with the pool poisoned (a recycled buffer is filled with NaN, and so is every buffer a kernel
 * takes uninitialised): every live tensor keeps exactly the values it had in a run without any
 * dispose, no live tensor's storage waits in the pool, and the pool did recycle something (the
 * proofs are not vacuous). Cases: views of disposed tensors, tidy returning nested structures,
 * tensors an autograd graph saved (a model step with tidy around the forward), parameters and
 * gradients, user arrays, subarrays, double dispose, dispose inside tidy, a backward hook that
 * disposes; then a property test over random op sequences and random dispose patterns.
 */
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  add, backward as backwardFn, crossEntropy, dispose, grad, DisposedError, getBackend, keep, Linear, manualSeed, randn, relu, SafegradError, setBackend,
  softmax, tensor, Tensor, tidy, ValueError,
} from "../../src/index.js";
import { registerFastBackends } from "../../src/kernels/fast.js";
import { Adam } from "../../src/optim/index.js";
import { configurePool, drainPool, isPooled, poolStats } from "../../src/tensor/pool.js";

registerFastBackends();
let prevBackend = "";
beforeAll(() => {
  prevBackend = getBackend().name;
  configurePool({ limitBytes: 256 << 20, poison: true });
  drainPool();
});
afterAll(() => {
  setBackend(prevBackend);
});
afterEach(() => {
  configurePool({ limitBytes: 256 << 20, poison: true });
  drainPool();
});

const N = 8192; // above the pool's 4096-element floor
const vals = (t: Tensor): number[] => Array.from(t.toTypedArray());
/** Churn the pool: ops whose outputs take any recycled buffer of `N` floats (and overwrite it). */
function churn(n = N): void {
  const x = randn([n]);
  for (let i = 0; i < 6; i++) x.mul(i).dispose();
}
function expectLive(t: Tensor, before: number[]): void {
  expect(t.isDisposed).toBe(false);
  expect(isPooled(t.storage), "a live tensor's storage waits in the pool").toBe(false);
  expect(vals(t)).toEqual(before);
}

describe("the API", () => {
  it("dispose marks the tensor; using it throws DisposedError (code DISPOSED) naming the op", () => {
    const y = randn([3]).add(1);
    y.dispose();
    expect(y.isDisposed).toBe(true);
    const codeAndMessage = (f: () => unknown): [string, string] => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DisposedError);
        expect(e).toBeInstanceOf(SafegradError);
        return [(e as DisposedError).code, (e as Error).message];
      }
      throw new Error("did not throw");
    };
    expect(codeAndMessage(() => y.mul(2))).toEqual(["DISPOSED", `mul: tensor ${y.id} was disposed`]);
    expect(codeAndMessage(() => add(randn([3]), y))[1]).toMatch(/^add: tensor \d+ was disposed$/);
    expect(codeAndMessage(() => softmax(y, 0))[1]).toMatch(/^softmax: /);
    expect(codeAndMessage(() => y.reshape(3, 1))[1]).toMatch(/^reshape: /);
    for (const [op, f] of [["item", () => y.sum().item()], ["toArray", () => y.toArray()], ["toTypedArray", () => y.toTypedArray()], ["at", () => y.at(0)], ["detach", () => y.detach()]] as const) {
      expect(codeAndMessage(f)[1].startsWith(op === "item" ? "sum:" : `${op}:`)).toBe(true);
    }
    y.dispose(); // twice: a no-op
    expect(y.isDisposed).toBe(true);
  });

  it("the free backward() and grad() refuse a disposed root or a disposed given gradient", () => {
    const x = randn([4], { requiresGrad: true });
    const y = x.mul(3);
    const g = randn([4]).add(1); // an op result: its memory could be reused once disposed
    g.dispose();
    expect(() => backwardFn(y, g)).toThrow(/^backward: tensor \d+ was disposed$/);
    expect(() => grad([y], [x], { gradOutputs: [g] })).toThrow(DisposedError);
    const z = x.sum();
    z.dispose();
    expect(() => backwardFn(z)).toThrow(DisposedError);
    expect(() => grad([z], [x])).toThrow(/^grad: tensor \d+ was disposed$/);
    // a live root and gradient still work
    const [gx] = grad([y], [x], { gradOutputs: [randn([4]).mul(0).add(1)] });
    expect(gx!.toArray()).toEqual([3, 3, 3, 3]);
  });

  it("tidy disposes what fn made except what it returns (nested arrays and objects), keep()s, parameters and grads", () => {
    const x = randn([4]);
    const made: Tensor[] = [];
    let kept: Tensor | null = null;
    const p = randn([4]).requiresGrad_();
    const r = tidy(() => {
      const a = x.mul(2);
      const b = a.add(1);
      const c = b.relu();
      const d = c.neg();
      kept = keep(a.sub(1));
      const q = randn([4]).requiresGrad_(); // a parameter made inside: not disposed (TF.js's variables)
      p.mul(a).sum().backward(); // p.grad made inside: not disposed
      made.push(a, b, c, d, q);
      return { out: [b, { deep: c }], n: 3, q };
    });
    expect(made.map((t) => t.isDisposed)).toEqual([true, false, false, true, false]);
    expect(r.out[0]).toBe(made[1]);
    expect(kept!.isDisposed).toBe(false);
    expect(p.grad!.isDisposed).toBe(false);
    expect(x.isDisposed).toBe(false); // made outside
    dispose(r); // tf.dispose over a container
    expect(made.map((t) => t.isDisposed)).toEqual([true, true, true, true, true]);
  });

  it("a tidy never disposes what existed before it, even an op result that is an input returned as it is", async () => {
    const { call, nonDifferentiable, OpFamily } = await import("../../src/ops/define.js");
    const identity = new OpFamily("test").define<[Tensor]>({ name: "identity", forward: ([t]) => t, vjp: nonDifferentiable });
    const x = randn([N]).mul(1);
    tidy(() => {
      expect(call(identity, [x], null)).toBe(x);
    });
    expect(x.isDisposed).toBe(false);
  });

  it("nested tidies: a returned tensor belongs to the enclosing tidy; fn throwing still disposes", () => {
    const x = randn([4]);
    let inner: Tensor | null = null;
    const outer = tidy(() => {
      inner = tidy(() => x.mul(2).add(1));
      expect(inner.isDisposed).toBe(false);
      return inner.sum();
    });
    expect(inner!.isDisposed).toBe(true);
    expect(outer.isDisposed).toBe(false);
    let t: Tensor | null = null;
    expect(() =>
      tidy(() => {
        t = x.mul(3);
        throw new ValueError("test", "boom");
      }),
    ).toThrow("boom");
    expect(t!.isDisposed).toBe(true);
  });
});

for (const backend of ["wasm", "js-fast", "js"]) {
  describe(`recycling on ${backend} (pool poisoned)`, () => {
    beforeAll(() => {
      setBackend(backend);
    });

    it("a disposed op result goes back to the pool and the next result of its size reuses it", () => {
      const a = randn([N]);
      const y = a.mul(2);
      const s = y.storage;
      const before = poolStats().recycled;
      y.dispose();
      expect(poolStats().recycled).toBe(before + 1);
      expect(isPooled(s)).toBe(true);
      expect(a.add(1).storage).toBe(s);
      // softmax and relu too (the W2/W3 bench ops)
      const z = softmax(randn([64, 128]), 1);
      const zs = z.storage;
      z.dispose();
      expect(isPooled(zs)).toBe(true);
      const r = relu(a);
      const rs = r.storage;
      dispose([r]);
      expect(isPooled(rs)).toBe(true);
    });

    it("views of a disposed tensor keep its storage; the last view's dispose recycles it", () => {
      const y = randn([64, 128]).mul(3);
      const y3 = y.reshape(1, 64, 128);
      const views = [y.reshape(128, 64), y.transpose(0, 1), y.narrow(1, 5, 20), y3, y3.expand(2, 64, 128), y.detach()];
      const expected = views.map(vals);
      y.dispose();
      churn();
      views.forEach((v, i) => expectLive(v, expected[i]!));
      for (const v of views.slice(0, -1)) v.dispose();
      expect(isPooled(y.storage)).toBe(false);
      expect(views.at(-1)!.isDisposed).toBe(false);
      views.at(-1)!.dispose();
      expect(isPooled(y.storage)).toBe(true); // every Tensor on it is disposed: recycled
    });

    it("a view a tidy returns keeps the storage of its disposed base", () => {
      const v = tidy(() => randn([N]).mul(2).reshape(2, N / 2));
      const expected = vals(v);
      churn();
      expectLive(v, expected);
      const nested = tidy(() => {
        const a = randn([N]).add(1);
        return { list: [a.narrow(0, 10, 100), { m: new Map([["k", 1]]), t: a.exp() }], n: 1 };
      });
      const e1 = vals(nested.list[0] as Tensor);
      const e2 = vals((nested.list[1] as { t: Tensor }).t);
      churn();
      expectLive(nested.list[0] as Tensor, e1);
      expectLive((nested.list[1] as { t: Tensor }).t, e2);
    });

    it("a user's array and a subarray are never recycled", () => {
      const user = new Float32Array(N).fill(1.5);
      const t = new Tensor(user, [N]);
      const t2 = tensor(user);
      t.dispose();
      t2.dispose();
      const big = randn([2 * N]).mul(1);
      const sub = new Tensor((big.storage as Float32Array).subarray(0, N), [N]);
      const subVals = vals(sub);
      sub.dispose();
      churn();
      expect(isPooled(user)).toBe(false);
      expect(user.every((v) => v === 1.5)).toBe(true);
      expect(Array.from((big.storage as Float32Array).subarray(0, N))).toEqual(subVals);
      // a contiguous copy handed out raw (toTypedArray of a strided view) is never an op result
      const raw = randn([128, 64]).transpose(0, 1).toTypedArray();
      const copy = Array.from(raw);
      const w = new Tensor(raw, [N]);
      const wv = w.reshape(64, 128);
      w.dispose();
      wv.dispose();
      churn();
      expect(Array.from(raw)).toEqual(copy);
    });

    it("double dispose and dispose inside tidy recycle once", () => {
      const a = randn([N]);
      const r0 = poolStats().recycled;
      const y = a.mul(2);
      y.dispose();
      y.dispose();
      expect(poolStats().recycled).toBe(r0 + 1);
      const r1 = poolStats().recycled;
      const out = tidy(() => {
        const z = a.mul(3);
        z.dispose(); // and tidy disposes it again at its end
        const k = a.mul(4);
        return k;
      });
      expect(poolStats().recycled).toBe(r1 + 1);
      const expected = vals(out);
      churn();
      expectLive(out, expected);
    });

    it("tensors an autograd graph saved: a training step with tidy around the forward", () => {
      const run = (withTidy: boolean): number[][] => {
        manualSeed(7);
        const model = new Linear(128, 64);
        const model2 = new Linear(64, 64);
        const opt = new Adam(model.parameters().concat(model2.parameters()), { lr: 0.01 });
        const x = randn([64, 128]);
        const target = tensor(Array.from({ length: 64 }, (_, i) => i % 64), { dtype: "int32" });
        const losses: number[] = [];
        for (let step = 0; step < 3; step++) {
          opt.zeroGrad();
          const forward = (): Tensor => {
            const h = model.forward(x.mul(0.5)).relu(); // x.mul(0.5): no grad, but saved by the matmul node
            const logits = model2.forward(h).add(h.mul(0.1));
            return crossEntropy(logits.softmax(1).mul(64), target);
          };
          const loss = withTidy ? tidy(forward) : forward();
          if (withTidy) churn(64 * 128); // reuse anything wrongly recycled before backward reads it
          loss.backward();
          opt.step();
          losses.push(loss.item());
          if (withTidy) loss.dispose();
        }
        return [losses, ...model.parameters().map(vals), ...model2.parameters().map(vals), ...model.parameters().map((p) => vals(p.grad!))];
      };
      const ref = run(false);
      const r0 = poolStats().recycled;
      const got = run(true);
      expect(got).toEqual(ref);
      expect(poolStats().recycled).toBeGreaterThan(r0); // churn recycled (the proof is not vacuous)
    });

    it("a tensor that requires grad, or is a .grad, is never recycled; a hook that disposes its gradient", () => {
      const p = randn([N]).mul(1).requiresGrad_();
      const expected = vals(p);
      p.dispose();
      churn();
      expect(isPooled(p.storage)).toBe(false);
      expect(Array.from(p.storage)).toEqual(expected);
      const w = randn([N]).requiresGrad_();
      w.mul(3).sum().backward();
      const g = w.grad!;
      const gv = vals(g);
      g.dispose();
      churn();
      expect(isPooled(g.storage)).toBe(false);
      expect(Array.from(g.storage)).toEqual(gv);
      // a hook disposing the gradient it receives, which add's VJP handed to both of its inputs:
      // the other input's VJP still reads it (kept: disposed during a backward pass)
      const run = (hookOn: "a" | "b" | null): number[] => {
        manualSeed(3);
        const x = randn([N]).requiresGrad_();
        const a = x.mul(2);
        const b = x.exp();
        const u = a.add(b);
        (hookOn === "a" ? a : hookOn === "b" ? b : null)?.registerHook((gr) => {
          const r = gr.mul(1);
          gr.dispose();
          return r;
        });
        u.mul(x.add(1)).sum().backward();
        return vals(x.grad!);
      };
      const ref = run(null);
      expect(run("a")).toEqual(ref);
      expect(run("b")).toEqual(ref);
    });
  });
}

// ------------------------------------------------------------------ property test
type Step =
  | { k: "un"; op: number; a: number }
  | { k: "bin"; op: number; a: number; b: number }
  | { k: "view"; op: number; a: number }
  | { k: "tidy"; a: number; b: number; ret: number }
  | { k: "dispose"; a: number };

const R = 64;
const C = 128; // R * C = 8192: pooled
const UN = [(t: Tensor) => t.relu(), (t: Tensor) => t.exp().mul(0.01), (t: Tensor) => softmax(t, 1), (t: Tensor) => t.neg(), (t: Tensor) => t.contiguous().mul(1)];
const BIN = [(a: Tensor, b: Tensor) => a.add(b), (a: Tensor, b: Tensor) => a.mul(b).mul(0.1), (a: Tensor, b: Tensor) => a.sub(b.sum(1, true))];
// views keep the [R, C] shape so every tensor combines with every other
const VIEW = [(t: Tensor) => t.reshape(C, R).reshape(R, C), (t: Tensor) => t.detach(), (t: Tensor) => t.narrow(0, 0, 1).expand(R, C), (t: Tensor) => t.transpose(0, 1).transpose(0, 1)];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant("un" as const), op: fc.nat(UN.length - 1), a: fc.nat() }),
  fc.record({ k: fc.constant("bin" as const), op: fc.nat(BIN.length - 1), a: fc.nat(), b: fc.nat() }),
  fc.record({ k: fc.constant("view" as const), op: fc.nat(VIEW.length - 1), a: fc.nat() }),
  fc.record({ k: fc.constant("tidy" as const), a: fc.nat(), b: fc.nat(), ret: fc.nat(3) }),
  fc.record({ k: fc.constant("dispose" as const), a: fc.nat() }),
  fc.record({ k: fc.constant("dispose" as const), a: fc.nat() }),
);

/**
 * Run the program; `withDispose` false ignores every dispose and tidy (the reference). Returns the
 * values of every tensor still live at the end (the same set in both runs), and how many were disposed.
 */
function runProgram(steps: Step[], seed: number, withDispose: boolean): number[][] {
  manualSeed(seed);
  const ts: Tensor[] = [randn([R, C]), randn([R, C]).mul(1)];
  const live: boolean[] = [true, true];
  const pick = (i: number): number => {
    const idx = live.map((l, j) => (l ? j : -1)).filter((j) => j >= 0);
    return idx[i % idx.length]!;
  };
  const push = (t: Tensor): void => {
    ts.push(t);
    live.push(true);
  };
  for (const s of steps) {
    switch (s.k) {
      case "un":
        push(UN[s.op]!(ts[pick(s.a)]!));
        break;
      case "bin":
        push(BIN[s.op]!(ts[pick(s.a)]!, ts[pick(s.b)]!));
        break;
      case "view":
        push(VIEW[s.op]!(ts[pick(s.a)]!));
        break;
      case "tidy": {
        // a block of three ops; it returns one of them (or a view of one), the rest are disposed
        const a = ts[pick(s.a)]!;
        const b = ts[pick(s.b)]!;
        const f = (): Tensor => {
          const u = a.add(b);
          const v = u.relu().mul(b);
          const w = softmax(v, 1);
          return [u, v, w, w.reshape(C, R).reshape(R, C)][s.ret]!;
        };
        push(withDispose ? tidy(f) : f());
        break;
      }
      case "dispose": {
        if (live.filter(Boolean).length <= 2) break;
        const i = pick(s.a);
        if (withDispose) ts[i]!.dispose();
        live[i] = false;
        break;
      }
    }
  }
  return ts.filter((_, i) => live[i]).map(vals);
}

describe("property: random op sequences with random disposes give the values of a run without dispose", () => {
  for (const backend of ["wasm", "js-fast"]) {
    it(`on ${backend}`, () => {
      setBackend(backend);
      let recycled = 0;
      fc.assert(
        fc.property(fc.array(stepArb, { minLength: 5, maxLength: 40 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
          const ref = runProgram(steps, seed, false);
          const r0 = poolStats().recycled;
          const got = runProgram(steps, seed, true);
          recycled += poolStats().recycled - r0;
          expect(got).toEqual(ref);
        }),
        { numRuns: 60 },
      );
      expect(recycled).toBeGreaterThan(0);
    });
  }
});

describe("a model built inside a tidy", () => {
  it("keeps its parameters and buffers (op results included) live and their memory unrecycled", async () => {
    const { Module: M } = await import("../../src/index.js");
    class PE extends M<[Tensor], Tensor> {
      declare readonly pe: Tensor;
      declare readonly fc: Linear;
      declare readonly frozen: Tensor;
      constructor() {
        super();
        // a buffer computed by ops (an op result of 8192 floats), as a sinusoidal position table
        this.pe = this.registerBuffer("pe", randn([64, 128]).mul(0.5).sin());
        this.fc = this.registerModule("fc", new Linear(128, 128));
        this.frozen = this.registerParameter("frozen", randn([64, 128]).mul(1));
        this.frozen.requiresGrad = false;
      }
      forward(x: Tensor): Tensor {
        return this.fc.forward(x.add(this.pe)).add(this.frozen);
      }
    }
    const model = tidy(() => new PE());
    expect([model.pe.isDisposed, model.frozen.isDisposed, model.fc.weight.isDisposed]).toEqual([false, false, false]);
    const pe = vals(model.pe);
    model.pe.dispose(); // even disposed explicitly, a buffer's memory is never recycled
    churn();
    expect(isPooled(model.pe.storage)).toBe(false);
    expect(Array.from(model.pe.storage)).toEqual(pe);
  });
});

describe("library state made inside a user's tidy", () => {
  it("audit's bounds (an engine observer's tensors) survive a tidy inside the audited fn", async () => {
    const { audit } = await import("../../src/index.js");
    manualSeed(5);
    const w = randn([128, 64]).requiresGrad_();
    const plain = (x: Tensor): Tensor => x.matmul(w).relu().log().sum();
    const tidied = (x: Tensor): Tensor => tidy(() => plain(x));
    const findings = (f: (x: Tensor) => Tensor): string[] => audit(f, [{ shape: [64, 128], low: -1, high: 1 }]).findings.map((x) => `${x.op}:${x.kind}`);
    // (tracking the observer's bounds in the fn's tidy recycled them: an extra "relu:+Inf" finding)
    expect(findings(tidied)).toEqual(findings(plain));
  });

  it("gradients made in a backward pass inside a tidy are not disposed by it", () => {
    const x = randn([N]).requiresGrad_();
    let gx: Tensor | null = null;
    tidy(() => {
      const y = x.mul(2).exp();
      y.sum().backward();
      gx = x.grad;
    });
    expect(gx!.isDisposed).toBe(false);
    expect(x.grad).toBe(gx);
  });
});
