/** The workloads on safegrad, through its public tensor ops, on a named backend. */
import * as sg from "../src/index.js";
import { Embedding, LayerNorm, Linear, Module, Tensor, TransformerEncoder, TransformerEncoderLayer, crossEntropy } from "../src/index.js";
import { registerFastBackends } from "../src/kernels/fast.js";
import { wasmRuntimeOf } from "../src/kernels/wasm/backend.js";
import { Adam } from "../src/optim/index.js";
import { data, labels, MLP, NotAvailable, W6, w6Params, w6Tokens, type Case, type Impl, type Runner } from "./common.js";

const t32 = (shape: number[], seed: number, scale = 1): Tensor => sg.tensor(data(shape.reduce((a, b) => a * b, 1), seed, scale), { shape });
/**
 * W2/W3 results are disposed as impl-tfjs.ts disposes TF.js's (tidy, then dispose what it
 * returns), so their memory is reused; SAFEGRAD_BENCH_NO_DISPOSE=1 leaves them to the garbage
 * collector instead (the figures without dispose).
 */
const noDispose = process.env.SAFEGRAD_BENCH_NO_DISPOSE === "1";
const disposing = (f: () => Tensor): Runner => (noDispose ? f : () => sg.dispose(sg.tidy(f)));

export function oursImpl(backend: string): Impl {
  return {
    name: backend,
    async init(threads) {
      // "wasm-2t" is "wasm" on two threads whatever --threads says (a same-run 1 vs 2 comparison)
      const n = backend === "wasm-2t" ? 2 : threads;
      if (n !== 1 && !backend.startsWith("wasm")) throw new NotAvailable(`${backend} runs one thread`);
      registerFastBackends({ threads: n });
      const b = sg.setBackend(backend === "wasm-2t" ? "wasm" : backend);
      if (n > 1) {
        const rt = wasmRuntimeOf(b);
        if (!rt || rt.pieces < 2) throw new NotAvailable("no SharedArrayBuffer / worker_threads here (Node >= 20.16)");
        for (let i = 0; i < 400 && !rt.ready; i++) await new Promise((r) => setTimeout(r, 5));
      }
    },
    async prepare(c: Case): Promise<Runner> {
      const p = c.params;
      switch (c.workload) {
        case "W1": {
          const n = p.n as number;
          if (backend === "js" && n > 256) throw new NotAvailable("reference backend: small sizes only");
          const a = t32([n, n], 1);
          const b = t32([n, n], 2);
          return () => sg.matmul(a, b);
        }
        case "W2": {
          const n = p.n as number;
          const a = t32([n], 3);
          const b = t32([n], 4);
          if (p.op === "add") return disposing(() => sg.add(a, b));
          if (p.op === "mul") return disposing(() => sg.mul(a, b));
          if (p.op === "exp") return disposing(() => sg.exp(a));
          return disposing(() => sg.relu(a));
        }
        case "W3": {
          if (p.op === "sum") {
            const a = t32([p.n as number], 5);
            return disposing(() => sg.sum(a));
          }
          const n = p.n as number;
          const x = t32([n, n], 6, 4);
          return disposing(() => sg.softmax(x, 1));
        }
        case "W4": {
          if (backend === "js") throw new NotAvailable("reference backend: skipped (about 1 s per step)");
          return mlpStep();
        }
        case "W5": {
          if (backend === "js") throw new NotAvailable("reference backend: skipped (tens of seconds)");
          const N = p.batch as number;
          const x = t32([N, 16, 28, 28], 7).requiresGrad_();
          const w = t32([32, 16, 3, 3], 8, 0.2).requiresGrad_();
          const gy = t32([N, 32, 28, 28], 9);
          return () => {
            const y = sg.conv2d(x, w, null, { padding: 1 });
            return sg.grad([y], [x, w], { gradOutputs: [gy] });
          };
        }
        case "W6": {
          if (backend === "js") throw new NotAvailable("reference backend: skipped (seconds per step)");
          return transformerStep(p.batch as number);
        }
      }
    },
  };
}

function mlpStep(): Runner {
  const [inF, h1, h2, out] = MLP.sizes;
  const dims: [number, number][] = [[inF, h1], [h1, h2], [h2, out]];
  const params: Tensor[] = [];
  dims.forEach(([i, o], l) => {
    params.push(t32([o, i], 20 + l, 1 / Math.sqrt(i)).requiresGrad_());
    params.push(t32([o], 30 + l, 1 / Math.sqrt(i)).requiresGrad_());
  });
  const x = t32([MLP.batch, inF], 10);
  const y = sg.tensor(labels(MLP.batch), { shape: [MLP.batch, 1] });
  const adam = new Adam(params, { lr: MLP.lr });
  return () => {
    adam.zeroGrad();
    let h = x;
    for (let l = 0; l < 3; l++) {
      h = h.matmul(params[2 * l]!.transpose(0, 1)).add(params[2 * l + 1]!);
      if (l < 2) h = h.relu();
    }
    const loss = h.logSoftmax(-1).gather(1, y).mean().neg();
    loss.backward();
    adam.step();
    return loss;
  };
}

/** The W6 model with the library's own layers: Embedding, TransformerEncoder (pre-LN, GELU, causal), LayerNorm, Linear. */
class W6Model extends Module<[Tensor], Tensor> {
  declare readonly tok: Embedding;
  declare readonly pos: Tensor;
  declare readonly encoder: TransformerEncoder;
  declare readonly head: Linear;
  constructor() {
    super();
    this.tok = this.registerModule("tok", new Embedding(W6.vocab, W6.d));
    this.pos = this.registerParameter("pos", sg.zeros([W6.seq, W6.d]));
    const layer = new TransformerEncoderLayer(W6.d, W6.heads, { dimFeedforward: W6.ff, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true });
    this.encoder = this.registerModule("encoder", new TransformerEncoder(layer, W6.layers, { norm: new LayerNorm(W6.d) }));
    this.head = this.registerModule("head", new Linear(W6.d, W6.vocab));
  }
  forward(ids: Tensor): Tensor {
    const h = this.tok.forward(ids).add(this.pos);
    return this.head.forward(this.encoder.forward(h, { isCausal: true }));
  }
}

/** A W6 step; the runner returns the loss (read back, as part of the step). */
export function transformerStep(batch: number): Runner {
  const model = new W6Model();
  model.loadStateDict(new Map(w6Params().map((p) => [p.name, sg.tensor(p.data, { shape: [...p.shape] })])));
  const { x, y } = w6Tokens(batch);
  const ids = sg.tensor(x, { shape: [batch, W6.seq], dtype: "int32" });
  const target = sg.tensor(y, { shape: [batch * W6.seq], dtype: "int32" });
  const adam = new Adam(model.parameters(), { lr: W6.lr });
  return () => {
    adam.zeroGrad();
    const loss = crossEntropy(model.forward(ids).reshape(batch * W6.seq, W6.vocab), target);
    loss.backward();
    adam.step();
    return loss.item();
  };
}
