/** The workloads on TensorFlow.js (cpu = pure JS, wasm = XNNPACK). Loaded lazily: a devDependency only. */
import { data, labels, MLP, NotAvailable, oneHotData, W6, w6CausalAdditive, w6Params, w6Tokens, type Case, type Impl, type Runner } from "./common.js";

type TF = typeof import("@tensorflow/tfjs");

export function tfjsImpl(backend: "cpu" | "wasm"): Impl {
  let tf: TF;
  return {
    name: `tfjs-${backend}`,
    async init(threads) {
      try {
        tf = await import("@tensorflow/tfjs");
        if (backend === "wasm") {
          const w = await import("@tensorflow/tfjs-backend-wasm");
          // NOTE: in Node the wasm backend has no Web Workers, so it always runs one thread.
          if (threads !== 1) throw new NotAvailable("tfjs-backend-wasm: no threads in Node (needs Web Workers)");
          void w;
        }
      } catch (e) {
        if (e instanceof NotAvailable) throw e;
        throw new NotAvailable(`cannot load TF.js: ${(e as Error).message}`);
      }
      const origWarn = console.warn;
      const origLog = console.log;
      console.warn = console.log = () => {}; // the "install tfjs-node" banner
      try {
        if (!(await tf.setBackend(backend))) throw new NotAvailable(`tf.setBackend("${backend}") failed`);
        await tf.ready();
      } finally {
        console.warn = origWarn;
        console.log = origLog;
      }
      if (threads !== 1) throw new NotAvailable("TF.js cpu backend is single-threaded");
    },
    async prepare(c: Case): Promise<Runner> {
      const p = c.params;
      const t = (shape: number[], seed: number, scale = 1) => tf.tensor(data(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
      // NOTE: results are disposed, not read back: cpu and wasm kernels run synchronously.
      const disposing = (f: () => unknown): Runner => () => tf.dispose(tf.tidy(f as () => never));
      switch (c.workload) {
        case "W1": {
          const n = p.n as number;
          const a = t([n, n], 1);
          const b = t([n, n], 2);
          return disposing(() => tf.matMul(a, b));
        }
        case "W2": {
          const n = p.n as number;
          const a = t([n], 3);
          const b = t([n], 4);
          if (p.op === "add") return disposing(() => tf.add(a, b));
          if (p.op === "mul") return disposing(() => tf.mul(a, b));
          if (p.op === "exp") return disposing(() => tf.exp(a));
          return disposing(() => tf.relu(a));
        }
        case "W3": {
          if (p.op === "sum") {
            const a = t([p.n as number], 5);
            return disposing(() => tf.sum(a));
          }
          const n = p.n as number;
          const x = t([n, n], 6, 4);
          return disposing(() => tf.softmax(x, 1));
        }
        case "W4": {
          const [inF, h1, h2, out] = MLP.sizes;
          const dims: [number, number][] = [[inF, h1], [h1, h2], [h2, out]];
          const vars = dims.flatMap(([i, o], l) => [tf.variable(t([i, o], 20 + l, 1 / Math.sqrt(i))), tf.variable(t([o], 30 + l, 1 / Math.sqrt(i)))]);
          const x = t([MLP.batch, inF], 10);
          const y = tf.tensor(oneHotData(labels(MLP.batch), out), [MLP.batch, out]);
          const opt = tf.train.adam(MLP.lr);
          return () => {
            const loss = opt.minimize(() => {
              let h: ReturnType<TF["add"]> = x;
              for (let l = 0; l < 3; l++) {
                h = tf.add(tf.matMul(h, vars[2 * l]!), vars[2 * l + 1]!);
                if (l < 2) h = tf.relu(h);
              }
              return tf.losses.softmaxCrossEntropy(y, h) as ReturnType<TF["scalar"]>;
            }, true);
            loss?.dataSync();
            loss?.dispose();
          };
        }
        case "W5": {
          // NOTE: NHWC, TF.js's native layout (same arithmetic as our NCHW).
          const N = p.batch as number;
          const x = t([N, 28, 28, 16], 7);
          const f = t([3, 3, 16, 32], 8, 0.2);
          const dy = t([N, 28, 28, 32], 9);
          const g = tf.grads((a, b) => tf.conv2d(a as ReturnType<TF["tensor4d"]>, b as ReturnType<TF["tensor4d"]>, 1, "same"));
          const run = disposing(() => g([x, f], dy));
          try {
            run();
          } catch (e) {
            throw new NotAvailable(`conv2d gradient: ${(e as Error).message.split("\n")[0]}`);
          }
          return run;
        }
        case "W6":
          return transformer(tf, p.batch as number);
      }
    },
  };
}

/** W6 written with TF.js ops (its layers have no pre-LN causal transformer block); the runner returns the loss. */
function transformer(tf: TF, B: number): Runner {
  type T = ReturnType<TF["tensor"]>;
  const { seq: T_, vocab: V, d, heads: H, ff } = W6;
  const D = d / H;
  const P = new Map(w6Params().map((q) => [q.name, tf.variable(tf.tensor(q.data, [...q.shape]), true, q.name.replace(/\./g, "_"))]));
  const w = (k: string): T => P.get(k)!;
  const { x, y } = w6Tokens(B);
  const idsOne = tf.oneHot(tf.tensor(x, [B * T_], "int32"), V).asType("float32");
  const yOne = tf.oneHot(tf.tensor(y, [B * T_], "int32"), V).asType("float32");
  const mask = tf.tensor(w6CausalAdditive(), [T_, T_]);
  const opt = tf.train.adam(W6.lr);
  const lin = (h: T, k: string): T => tf.add(tf.matMul(h, w(`${k}.weight`), false, true), w(`${k}.bias`));
  const ln = (h: T, k: string): T => {
    const { mean, variance } = tf.moments(h, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-5))), w(`${k}.weight`)), w(`${k}.bias`));
  };
  const gelu = (h: T): T => tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.mul(h, Math.SQRT1_2)), 1));
  const heads = (h: T): T => tf.transpose(tf.reshape(h, [B, T_, H, D]), [0, 2, 1, 3]);
  const lossFn = (): T => {
    // NOTE: the embedding as one-hot @ weight: gather's gradient (UnsortedSegmentSum) has no wasm kernel
    let h = tf.add(tf.reshape(tf.matMul(idsOne, w("tok.weight")), [B, T_, d]), w("pos"));
    for (let l = 0; l < W6.layers; l++) {
      const p = `encoder.layers.${l}.`;
      const a = tf.reshape(ln(h, `${p}norm1`), [B * T_, d]);
      const qkv = tf.add(tf.matMul(a, w(`${p}self_attn.in_proj_weight`), false, true), w(`${p}self_attn.in_proj_bias`));
      const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [T, T, T];
      const s = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask);
      const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), v), [0, 2, 1, 3]), [B * T_, d]);
      h = tf.add(h, tf.reshape(lin(o, `${p}self_attn.out_proj`), [B, T_, d]));
      const f = lin(gelu(lin(tf.reshape(ln(h, `${p}norm2`), [B * T_, d]), `${p}linear1`)), `${p}linear2`);
      h = tf.add(h, tf.reshape(f, [B, T_, d]));
    }
    const logits = lin(tf.reshape(ln(h, "encoder.norm"), [B * T_, d]), "head");
    void ff;
    return tf.losses.softmaxCrossEntropy(yOne, logits) as T;
  };
  return () => {
    const loss = opt.minimize(lossFn as () => ReturnType<TF["scalar"]>, true, [...P.values()]);
    const v = loss!.dataSync()[0];
    loss!.dispose();
    return v;
  };
}
