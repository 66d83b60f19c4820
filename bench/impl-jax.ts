/**
 * The workloads on jax-js (wasm device). jax-js is lazy and reference counted: every use of an
 * array consumes one reference (`.ref` adds one), and `blockUntilReady` forces the computation.
 */
import { data, labels, MLP, NotAvailable, oneHotData, W6, w6CausalAdditive, w6Params, w6Tokens, type Case, type Impl, type Runner } from "./common.js";

type Jax = typeof import("@jax-js/jax");
type JArray = InstanceType<Jax["numpy"]["Array"]>;

export function jaxImpl(mode: "eager" | "jit"): Impl {
  let jax: Jax;
  return {
    name: mode === "jit" ? "jax-jit" : "jax",
    async init(threads) {
      try {
        jax = await import("@jax-js/jax");
        // NOTE: init("wasm") only: init() probes WebGPU through `navigator`, absent in Node 20.
        const devs = await jax.init("wasm");
        if (!devs.includes("wasm")) throw new NotAvailable("jax-js: no wasm device");
        jax.defaultDevice("wasm");
      } catch (e) {
        if (e instanceof NotAvailable) throw e;
        throw new NotAvailable(`cannot load jax-js: ${(e as Error).message}`);
      }
      // NOTE: jax-js threads with Web Workers + SharedArrayBuffer; Node has no Web Worker global.
      if (threads !== 1) throw new NotAvailable("jax-js: no worker threads in Node");
    },
    async prepare(c: Case): Promise<Runner> {
      const np = jax.numpy;
      const nn = jax.nn;
      const p = c.params;
      const t = (shape: number[], seed: number, scale = 1): JArray => np.array(data(shape.reduce((a, b) => a * b, 1), seed, scale)).reshape(shape);
      const force = async (r: JArray | JArray[]): Promise<void> => {
        const list = Array.isArray(r) ? r : [r];
        await jax.blockUntilReady(list);
        for (const a of list) a.dispose();
      };
      if (mode === "jit" && c.workload !== "W4" && c.workload !== "W6") throw new NotAvailable("jit variant measured on W4 and W6 only");
      switch (c.workload) {
        case "W1": {
          const n = p.n as number;
          const a = t([n, n], 1);
          const b = t([n, n], 2);
          return () => force(np.matmul(a.ref, b.ref));
        }
        case "W2": {
          const n = p.n as number;
          const a = t([n], 3);
          const b = t([n], 4);
          if (p.op === "add") return () => force(np.add(a.ref, b.ref));
          if (p.op === "mul") return () => force(np.multiply(a.ref, b.ref));
          if (p.op === "exp") return () => force(np.exp(a.ref));
          return () => force(nn.relu(a.ref));
        }
        case "W3": {
          if (p.op === "sum") {
            const a = t([p.n as number], 5);
            return () => force(np.sum(a.ref));
          }
          const n = p.n as number;
          const x = t([n, n], 6, 4);
          return () => force(nn.softmax(x.ref, 1));
        }
        case "W4":
          return mlp(jax, t, force, mode);
        case "W5": {
          const N = p.batch as number;
          const x = t([N, 16, 28, 28], 7);
          const w = t([32, 16, 3, 3], 8, 0.2);
          const gy = t([N, 32, 28, 28], 9);
          const conv = (a: JArray, b: JArray): JArray => jax.lax.convGeneralDilated(a, b, [1, 1], [[1, 1], [1, 1]]);
          return async () => {
            const [y, vjpFn] = jax.vjp(conv, [x.ref, w.ref]) as unknown as [JArray, (g: JArray) => JArray[]];
            const [gx, gw] = vjpFn(gy.ref);
            await force([y, gx!, gw!]);
            (vjpFn as unknown as { dispose?: () => void }).dispose?.();
          };
        }
        case "W6":
          return transformer(jax, force, mode, p.batch as number);
      }
    },
  };
}

type Params = { w1: JArray; b1: JArray; w2: JArray; b2: JArray; w3: JArray; b3: JArray };
const KEYS = ["w1", "b1", "w2", "b2", "w3", "b3"] as const;

function mlp(jax: Jax, t: (s: number[], seed: number, scale?: number) => JArray, force: (r: JArray | JArray[]) => Promise<void>, mode: "eager" | "jit"): Runner {
  const np = jax.numpy;
  const nn = jax.nn;
  const [inF, h1, h2, out] = MLP.sizes;
  let params: Params = {
    w1: t([inF, h1], 20, 1 / Math.sqrt(inF)), b1: t([h1], 30, 1 / Math.sqrt(inF)),
    w2: t([h1, h2], 21, 1 / Math.sqrt(h1)), b2: t([h2], 31, 1 / Math.sqrt(h1)),
    w3: t([h2, out], 22, 1 / Math.sqrt(h2)), b3: t([out], 32, 1 / Math.sqrt(h2)),
  };
  const zeros = (): Params => Object.fromEntries(KEYS.map((k) => [k, np.zerosLike(params[k].ref)])) as Params;
  let m = zeros();
  let v = zeros();
  const x = t([MLP.batch, inF], 10);
  const y = np.array(oneHotData(labels(MLP.batch), out)).reshape([MLP.batch, out]);
  const loss = (p: Params, xb: JArray, yb: JArray): JArray => {
    let h = nn.relu(np.matmul(xb, p.w1).add(p.b1));
    h = nn.relu(np.matmul(h, p.w2).add(p.b2));
    const logits = np.matmul(h, p.w3).add(p.b3);
    return nn.logSoftmax(logits, -1).mul(yb).sum().mul(-1 / MLP.batch);
  };
  const vg = jax.valueAndGrad(loss);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const step = (p: Params, mm: Params, vv: Params, xb: JArray, yb: JArray, lrt: JArray): [Params, Params, Params, JArray] => {
    const refs = Object.fromEntries(KEYS.map((k) => [k, p[k].ref])) as Params;
    const [l, g] = vg(refs, xb, yb) as unknown as [JArray, Params];
    const np2: Partial<Params> = {};
    const nm: Partial<Params> = {};
    const nv: Partial<Params> = {};
    for (const k of KEYS) {
      const gk = g[k];
      const mk = mm[k].mul(b1).add(gk.ref.mul(1 - b1));
      const vk = vv[k].mul(b2).add(gk.ref.mul(gk).mul(1 - b2));
      np2[k] = p[k].sub(lrt.ref.mul(mk.ref).div(np.sqrt(vk.ref).add(eps)));
      nm[k] = mk;
      nv[k] = vk;
    }
    lrt.dispose();
    return [np2 as Params, nm as Params, nv as Params, l];
  };
  const stepFn = mode === "jit" ? (jax.jit(step as never) as unknown as typeof step) : step;
  let iter = 0;
  return async () => {
    iter++;
    const lrt = np.array(new Float32Array([(MLP.lr * Math.sqrt(1 - b2 ** iter)) / (1 - b1 ** iter)]));
    const [p2, m2, v2, l] = stepFn(params, m, v, x.ref, y.ref, lrt);
    params = p2;
    m = m2;
    v = v2;
    await force([l, ...KEYS.map((k) => params[k].ref)]);
  };
}

type Dict = Record<string, JArray>;

/**
 * W6 with jax-js ops (move semantics: every use consumes a reference, `.ref` adds one), the whole
 * step (value and gradient, Adam) under `jit` in the jit variant; the runner returns the loss.
 */
function transformer(jax: Jax, force: (r: JArray | JArray[]) => Promise<void>, mode: "eager" | "jit", B: number): Runner {
  const np = jax.numpy;
  const nn = jax.nn;
  const { seq: T, vocab: V, d, heads: H } = W6;
  const D = d / H;
  const specs = w6Params();
  const keys = specs.map((q) => q.name);
  let params: Dict = Object.fromEntries(specs.map((q) => [q.name, np.array(q.data).reshape([...q.shape])]));
  const zeros = (): Dict => Object.fromEntries(keys.map((k) => [k, np.zerosLike(params[k]!.ref)]));
  let m = zeros();
  let v = zeros();
  const { x, y } = w6Tokens(B);
  const ids = np.array(oneHotData(x, V)).reshape([B * T, V]);
  const yOne = np.array(oneHotData(y, V)).reshape([B * T, V]);
  const mask = np.array(w6CausalAdditive()).reshape([T, T]);
  const loss = (p: Dict, idsA: JArray, yA: JArray, maskA: JArray): JArray => {
    const lin = (h: JArray, k: string): JArray => np.matmul(h, p[`${k}.weight`]!.transpose()).add(p[`${k}.bias`]!);
    const ln = (h: JArray, k: string): JArray => {
      const mean = h.ref.mean(-1, { keepdims: true });
      const xc = h.sub(mean);
      const variance = np.square(xc.ref).mean(-1, { keepdims: true });
      return xc.div(np.sqrt(variance.add(1e-5))).mul(p[`${k}.weight`]!).add(p[`${k}.bias`]!);
    };
    const heads = (h: JArray): JArray => h.reshape([B, T, H, D]).transpose([0, 2, 1, 3]);
    // NOTE: the embedding as one-hot @ weight: take's gradient (a scatter) does not compile under jit
    let h = np.matmul(idsA, p["tok.weight"]!).reshape([B, T, d]).add(p["pos"]!);
    for (let l = 0; l < W6.layers; l++) {
      const k = `encoder.layers.${l}.`;
      const a = ln(h.ref, `${k}norm1`).reshape([B * T, d]);
      const qkv = np.matmul(a, p[`${k}self_attn.in_proj_weight`]!.transpose()).add(p[`${k}self_attn.in_proj_bias`]!);
      const [q, kk, vv] = np.split(qkv, 3, 1).map(heads) as [JArray, JArray, JArray];
      const sc = np.matmul(q, kk.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(D)).add(l === W6.layers - 1 ? maskA : maskA.ref);
      const o = np.matmul(nn.softmax(sc, -1), vv).transpose([0, 2, 1, 3]).reshape([B * T, d]);
      h = h.add(lin(o, `${k}self_attn.out_proj`).reshape([B, T, d]));
      const f = lin(nn.gelu(lin(ln(h.ref, `${k}norm2`).reshape([B * T, d]), `${k}linear1`), { approximate: false }), `${k}linear2`);
      h = h.add(f.reshape([B, T, d]));
    }
    const logits = lin(ln(h, "encoder.norm").reshape([B * T, d]), "head");
    return nn.logSoftmax(logits, -1).mul(yA).sum().mul(-1 / (B * T));
  };
  const vg = jax.valueAndGrad(loss);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const step = (p: Dict, mm: Dict, vv: Dict, idsA: JArray, yA: JArray, maskA: JArray, lrt: JArray): [Dict, Dict, Dict, JArray] => {
    const refs = Object.fromEntries(keys.map((k) => [k, p[k]!.ref]));
    const [l, g] = vg(refs, idsA, yA, maskA) as unknown as [JArray, Dict];
    const np2: Dict = {};
    const nm: Dict = {};
    const nv: Dict = {};
    for (const k of keys) {
      const gk = g[k]!;
      const mk = mm[k]!.mul(b1).add(gk.ref.mul(1 - b1));
      const vk = vv[k]!.mul(b2).add(gk.ref.mul(gk).mul(1 - b2));
      np2[k] = p[k]!.sub(lrt.ref.mul(mk.ref).div(np.sqrt(vk.ref).add(eps)));
      nm[k] = mk;
      nv[k] = vk;
    }
    lrt.dispose();
    return [np2, nm, nv, l];
  };
  const stepFn = mode === "jit" ? (jax.jit(step as never) as unknown as typeof step) : step;
  let iter = 0;
  return async () => {
    iter++;
    const lrt = np.array(new Float32Array([(W6.lr * Math.sqrt(1 - b2 ** iter)) / (1 - b1 ** iter)]));
    const [p2, m2, v2, l] = stepFn(params, m, v, ids.ref, yOne.ref, mask.ref, lrt);
    params = p2;
    m = m2;
    v = v2;
    const value = (await l.ref.data())[0];
    await force([l, ...keys.map((k) => params[k]!.ref)]);
    return value;
  };
}
