/**
 * The gradient buffer pool (tensor/pool.ts, issue 18): the engine recycles only buffers nothing
 * reads any more. Proofs, with the pool poisoned (every recycled buffer, and every buffer a kernel
 * takes uninitialised, is filled with NaN): a live tensor that still read a recycled buffer would
 * show NaN or a changed value. Each case checks (1) every gradient and loss is bit-for-bit the one
 * computed with the pool off, (2) no tensor the test can still reach (leaves' .grad, retained and
 * captured gradients, outputs, activations, hook arguments) has its storage waiting in the pool,
 * and (3) the pool did recycle something (the proofs are not vacuous). Dropping the engine's
 * storage count or its pins fails them (checked by hand).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  Adam, crossEntropy, Embedding, grad, LayerNorm, Linear, Module, randn, setBackend, tensor, Tensor,
  TransformerEncoder, TransformerEncoderLayer, enableGrad, getBackend, manualSeed,
} from "../../src/index.js";
import { registerFastBackends } from "../../src/kernels/fast.js";
import { configurePool, drainPool, isPooled, poolStats, recycle, takeUninit } from "../../src/tensor/pool.js";
import { markModified, versionOf } from "../../src/tensor/version.js";

registerFastBackends();
let prevBackend = "";
beforeAll(() => {
  prevBackend = getBackend().name;
});
afterAll(() => {
  setBackend(prevBackend);
});
afterEach(() => {
  configurePool({ limitBytes: 64 << 20, poison: false });
  drainPool();
});

/** Run `f` with the pool off, then on and poisoned; both results as arrays of numbers per tensor. */
function both(f: (live: Tensor[]) => Tensor[]): { off: number[][]; on: number[][]; recycled: number } {
  configurePool({ limitBytes: 0, poison: false });
  const off = f([]).map((t) => Array.from(t.toTypedArray()));
  configurePool({ limitBytes: 256 << 20, poison: true });
  drainPool();
  let recycled = 0;
  const live: Tensor[] = [];
  const outs = f(live);
  recycled = poolStats().recycled;
  for (const t of [...outs, ...live]) expect(isPooled(t.storage), `a live tensor ${t.shape} reads a pooled buffer`).toBe(false);
  const on = outs.map((t) => Array.from(t.toTypedArray()));
  return { off, on, recycled };
}

function expectSame(r: { off: number[][]; on: number[][]; recycled: number }, mustRecycle = true): void {
  expect(r.on.length).toBe(r.off.length);
  r.on.forEach((a, i) => expect(a, `output ${i}`).toEqual(r.off[i]));
  for (const a of r.on) for (const x of a) expect(Number.isNaN(x)).toBe(false);
  if (mustRecycle) expect(r.recycled).toBeGreaterThan(0);
}

const N = 8192; // above the pool's 4096-element floor

for (const backend of ["js-fast", "wasm", "js"]) {
  describe(`gradient pool on ${backend}`, () => {
    beforeAll(() => {
      setBackend(backend);
    });

    it("a broadcasting chain with shared gradients (add hands one g to both inputs, views of g)", () => {
      expectSame(both((live) => {
        manualSeed(1);
        const x = randn([16, 512]).requiresGrad_();
        const b = randn([512]).requiresGrad_();
        const h = x.mul(b).add(b).add(x); // g reaches x twice, b twice (broadcast)
        const y = h.mul(h).reshape(8, 1024).sum(1).add(h.sum()).sum();
        y.backward();
        live.push(x, b, h, y);
        return [y, x.grad!, b.grad!];
      }));
    });

    it("x + x and a diamond: one storage pending for two inputs", () => {
      expectSame(both(() => {
        manualSeed(2);
        const x = randn([N]).requiresGrad_();
        const a = x.add(x);
        const d = a.mul(x).add(a.mul(2)).mul(a).sum();
        d.backward();
        return [x.grad!, d];
      }));
    });

    it("retainGrad, hooks that keep their gradient, and leaves with an existing .grad", () => {
      const kept: Tensor[] = [];
      expectSame(both((live) => {
        kept.length = 0;
        manualSeed(3);
        const x = randn([N]).requiresGrad_();
        const w = randn([N]).requiresGrad_();
        w.grad = tensor(new Float32Array(N).fill(0.5));
        const h1 = x.mul(w).retainGrad();
        const h2 = h1.exp().add(1);
        h2.registerHook((g) => {
          kept.push(g); // a hook keeps its argument
        });
        const h3 = h2.mul(x);
        h3.registerHook((g) => {
          const r = g.mul(3);
          kept.push(r); // and the replacement it returns
          return r;
        });
        const y = h3.square().sum();
        y.backward();
        live.push(...kept, h1.grad!);
        return [x.grad!, w.grad!, h1.grad!, ...kept];
      }));
    });

    it("a gradient another entry, a retained .grad or a hook holds is never recycled by the next accumulation", () => {
      expectSame(both((live) => {
        manualSeed(8);
        const w = randn([N]);
        const w2 = randn([2, N / 2]);
        // (in a.add(b) the engine runs b's side of the graph first)
        // 1. the add's VJP hands one buffer to u and v (two holders); then u.mul(v) gives each a second gradient
        const x1 = randn([N]).requiresGrad_();
        const u = x1.mul(3);
        const v = x1.mul(5);
        const l1 = u.mul(v).sum().add(u.add(v).mul(w).sum());
        // 2. a retained view: its .grad shares the buffer reshape's VJP passes on to e, which then takes a second gradient
        const x2 = randn([N]).requiresGrad_();
        const e = x2.exp();
        const r = e.reshape(2, N / 2).retainGrad();
        const l2 = e.mul(w).sum().add(r.mul(w2).sum());
        // 3. the same with a hook that keeps its gradient
        const x3 = randn([N]).requiresGrad_();
        const e3 = x3.sin();
        const k = e3.reshape(2, N / 2);
        let hooked: Tensor | null = null;
        k.registerHook((g) => {
          hooked = g;
        });
        const l3 = e3.mul(w).sum().add(k.mul(w2).sum());
        const loss = l1.add(l2).add(l3);
        loss.backward();
        live.push(r.grad!, hooked!);
        return [x1.grad!, x2.grad!, x3.grad!, r.grad!, hooked!, loss];
      }));
    });

    it("grad() captures non-leaf gradients; retainGraph runs twice", () => {
      expectSame(both((live) => {
        manualSeed(4);
        const x = randn([N]).requiresGrad_();
        const h = x.mul(x).add(x);
        const z = h.exp().mul(h).sum();
        const [gh, gx] = grad([z], [h, x], { retainGraph: true });
        const [gx2] = grad([z], [x]);
        live.push(gh!, gx!, gx2!);
        return [gh!, gx!, gx2!];
      }));
    });

    it("createGraph: gradients of gradients (the pool stays out of it)", () => {
      expectSame(both(() => {
        manualSeed(5);
        const x = randn([N]).requiresGrad_();
        const y = x.mul(x).mul(x).sum();
        const [g] = grad([y], [x], { createGraph: true });
        const [gg] = grad([g!.mul(x).sum()], [x]);
        return [g!, gg!];
      }), false);
    });

    it("a backward inside a hook (nested passes)", () => {
      expectSame(both(() => {
        manualSeed(6);
        const x = randn([N]).requiresGrad_();
        const u = randn([N]).requiresGrad_();
        const h = x.mul(x).add(x);
        let inner: Tensor | null = null;
        h.registerHook((g) => {
          // hooks run with grad off (as PyTorch's backward): the inner graph is built with it on
          enableGrad(() => u.mul(u).mul(g.detach()).sum().backward());
          inner = u.grad!;
        });
        h.mul(h).sum().backward();
        return [x.grad!, inner!];
      }));
    });

    it("training steps of a small transformer LM with Adam: the same losses and weights", () => {
      class LM extends Module<[Tensor], Tensor> {
        declare readonly tok: Embedding;
        declare readonly enc: TransformerEncoder;
        declare readonly head: Linear;
        constructor() {
          super();
          this.tok = this.registerModule("tok", new Embedding(32, 64));
          const layer = new TransformerEncoderLayer(64, 4, { dimFeedforward: 128, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true });
          this.enc = this.registerModule("enc", new TransformerEncoder(layer, 2, { norm: new LayerNorm(64) }));
          this.head = this.registerModule("head", new Linear(64, 32));
        }
        forward(ids: Tensor): Tensor {
          return this.head.forward(this.enc.forward(this.tok.forward(ids), { isCausal: true }));
        }
      }
      expectSame(both((live) => {
        manualSeed(7);
        const m = new LM();
        const ids = tensor(Array.from({ length: 4 * 16 }, (_, i) => (i * 7) % 32), { shape: [4, 16], dtype: "int32" });
        const target = tensor(Array.from({ length: 4 * 16 }, (_, i) => (i * 5 + 1) % 32), { dtype: "int32" });
        const opt = new Adam(m.parameters(), { lr: 1e-3 });
        const losses: Tensor[] = [];
        for (let s = 0; s < 3; s++) {
          opt.zeroGrad();
          const logits = m.forward(ids);
          const loss = crossEntropy(logits.reshape(64, 32), target);
          loss.backward();
          live.push(logits, ...m.parameters().map((p) => p.grad!));
          opt.step();
          losses.push(loss);
        }
        live.push(...m.parameters());
        return [...losses, ...m.parameters()];
      }));
    });
  });
}

describe("the pool itself", () => {
  it("never pools a subarray view, a small buffer or one past the byte limit", () => {
    configurePool({ limitBytes: 1 << 20 });
    const big = new Float32Array(N * 2);
    recycle(big.subarray(0, N));
    recycle(new Float32Array(100));
    expect(poolStats().heldBytes).toBe(0);
    recycle(new Float32Array(1 << 20)); // 4 MB > 1 MB limit
    expect(poolStats().heldBytes).toBe(0);
    const a = new Float32Array(N);
    recycle(a);
    expect(isPooled(a)).toBe(true);
    expect(poolStats().heldBytes).toBe(4 * N);
  });
  it("hands a recycled buffer out once, at version 0", () => {
    const a = new Float32Array(N);
    markModified({ storage: a });
    recycle(a);
    expect(takeUninit("float32", N)).toBe(a);
    expect(versionOf(a)).toBe(0);
    expect(takeUninit("float32", N)).not.toBe(a);
  });
});
