/**
 * The op-table gradchecks of the conformance kit: seeded float64 samples of the ops whose
 * forward or gradient runs through a Backend method (every unary and binary op, where, the
 * reductions, softmax, matmul, conv2d and its gradients, pooling, gather/scatter, scans), each
 * gradchecked (float64 central differences) with the active backend, and its forward and
 * gradients in float32 compared with the reference backend's (float32 is where most fast kernels
 * have their own code). The project's own suite passes its samples (test/ops/samples.ts) as
 * `cases`, so both run the same checks.
 */
import { DTypeError } from "../errors.js";
import { grad } from "../autograd/engine.js";
import { gradcheck, GradcheckError } from "../autograd/gradcheck.js";
import { getBackend, setBackend } from "../kernels/registry.js";
import { referenceBackend } from "../kernels/reference.js";
import * as F from "../ops/index.js";
import { conv2dInputGrad, conv2dWeightGrad } from "../ops/conv.js";
import { opTable } from "../ops/table.js";
import { tensor } from "../tensor/create.js";
import type { Tensor } from "../tensor/tensor.js";
import { isFloat } from "../tensor/dtype.js";
import { KitRandom } from "./generate.js";

/** One gradcheck sample: float64 inputs (some requiring grad) and the function of them to check. */
export interface GradcheckSample {
  /** The inputs; float ones must be float64. */
  inputs: Tensor[];
  /** The function whose gradients are checked. */
  fn: (...xs: Tensor[]) => Tensor;
}

/** A named source of gradcheck samples (`make(seed)` gives the seed's sample). */
export interface GradcheckCase {
  /** The op-table op (or composite) it checks. */
  name: string;
  /** One sample per seed. */
  make: (seed: number) => GradcheckSample;
  /** Samples to run (default 3). */
  samples?: number;
  /** Skip the float32 comparison with the reference (samples that close over float64 constants). */
  float64Only?: boolean;
}

/** What one case gave. */
export interface GradcheckResult {
  /** The case's name. */
  name: string;
  /** Every sample passed both checks. */
  ok: boolean;
  /** Samples run. */
  samples: number;
  /** The first failure in words (the gradcheck's message, a float32 mismatch, or what was thrown). */
  failure?: string;
  /** The seed of the failing sample. */
  seed?: number;
}

interface Domain {
  lo?: number;
  hi?: number;
  away?: number;
}

function t64(r: KitRandom, shape: number[], d: Domain = {}): Tensor {
  const lo = d.lo ?? -2;
  const hi = d.hi ?? 2;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = lo + (hi - lo) * r.next();
    if (d.away && Math.abs(v) < d.away) v = v < 0 ? v - d.away : v + d.away;
    data[i] = v;
  }
  return tensor(data, { shape, requiresGrad: true });
}

function int32(r: KitRandom, shape: number[], high: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Int32Array.from({ length: n }, () => r.int(high)), { shape });
}

function shapeOf(r: KitRandom, minDims = 0): number[] {
  return Array.from({ length: minDims + r.int(4 - minDims) }, () => 1 + r.int(3));
}

/** Two shapes that broadcast together (leading dims dropped, random dims set to 1). */
function broadcastPair(r: KitRandom): [number[], number[]] {
  const out = shapeOf(r);
  const a = out.map((s) => (r.int(3) === 0 ? 1 : s));
  const b = out.map((s) => (r.int(3) === 0 ? 1 : s)).slice(r.int(out.length + 1));
  return r.int(2) ? [a, b] : [b, a];
}

const unary = (name: string, fn: (x: Tensor) => Tensor, d: Domain = {}): GradcheckCase => ({
  name,
  make: (seed) => {
    const r = new KitRandom(seed);
    return { inputs: [t64(r, shapeOf(r), d)], fn };
  },
});

const binary = (name: string, fn: (a: Tensor, b: Tensor) => Tensor, da: Domain = {}, db: Domain = {}): GradcheckCase => ({
  name,
  make: (seed) => {
    const r = new KitRandom(seed);
    const [sa, sb] = broadcastPair(r);
    return { inputs: [t64(r, sa, da), t64(r, sb, db)], fn };
  },
});

const withShape = (name: string, minDims: number, fn: (r: KitRandom, s: number[]) => GradcheckSample): GradcheckCase => ({
  name,
  make: (seed) => {
    const r = new KitRandom(seed);
    return fn(r, shapeOf(r, minDims));
  },
});

function convSample(r: KitRandom): { x: Tensor; w: Tensor; p: { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number } } {
  const groups = 1 + r.int(2);
  const cg = 1 + r.int(2);
  const og = 1 + r.int(2);
  const k = 1 + r.int(3);
  const pad = r.int(2);
  const x = t64(r, [1 + r.int(2), cg * groups, 5, 4]);
  const w = t64(r, [og * groups, cg, k, Math.max(1, k - 1)]);
  return { x, w, p: { stride: [1 + r.int(2), 1], padding: [pad, pad], dilation: [1 + r.int(2), 1], groups } };
}

/** The kit's own gradcheck cases, one per op whose kernels are Backend methods. */
export function kitGradcheckCases(): GradcheckCase[] {
  return [
    unary("neg", F.neg),
    unary("abs", F.abs, { away: 0.1 }),
    unary("exp", F.exp),
    unary("log", F.log, { lo: 0.3, hi: 3 }),
    unary("log1p", F.log1p, { lo: -0.6, hi: 3 }),
    unary("expm1", F.expm1),
    unary("sqrt", F.sqrt, { lo: 0.3, hi: 3 }),
    unary("rsqrt", F.rsqrt, { lo: 0.3, hi: 3 }),
    unary("square", F.square),
    unary("sin", F.sin),
    unary("cos", F.cos),
    unary("tanh", F.tanh),
    unary("atan", F.atan),
    unary("acos", F.acos, { lo: -0.9, hi: 0.9 }),
    unary("asin", F.asin, { lo: -0.9, hi: 0.9 }),
    unary("sigmoid", F.sigmoid),
    unary("logSigmoid", F.logSigmoid, { lo: -8, hi: 8 }),
    unary("relu", F.relu, { away: 0.1 }),
    unary("erf", F.erf, { lo: -3.5, hi: 3.5 }),
    unary("leakyRelu", (x) => F.leakyRelu(x, 0.2), { away: 0.1 }),
    unary("softplus", (x) => F.softplus(x, { beta: 2, threshold: 3 })),
    unary("clamp", (x) => F.clamp(x, -0.5, 0.7)),
    binary("add", F.add),
    binary("sub", F.sub),
    binary("mul", F.mul),
    binary("div", F.div, {}, { away: 0.5 }),
    binary("pow", F.pow, { lo: 0.3, hi: 2 }),
    binary("maximum", F.maximum),
    binary("minimum", F.minimum),
    binary("atan2", F.atan2, { away: 0.3 }),
    binary("hypot", F.hypot, { away: 0.3 }),
    {
      name: "where",
      make: (seed) => {
        const r = new KitRandom(seed);
        const [sa, sb] = broadcastPair(r);
        const cond = t64(r, sa).detach().gt(0);
        return { inputs: [t64(r, sa), t64(r, sb)], fn: (a, b) => F.where(cond, a, b) };
      },
    },
    withShape("contiguous", 1, (r, s) => ({ inputs: [t64(r, s)], fn: (x) => F.contiguous(x.ndim >= 2 ? x.transpose(0, -1) : x.expand([2, ...x.shape])) })),
    withShape("sum", 0, (r, s) => {
      const dims = s.map((_, i) => i).filter(() => r.int(2) === 1);
      const keep = r.int(2) === 1;
      return { inputs: [t64(r, s)], fn: (x) => F.sum(x, dims.length ? dims : undefined, keep) };
    }),
    withShape("amax", 1, (r, s) => {
      const keep = r.int(2) === 1;
      return { inputs: [t64(r, s)], fn: (x) => F.amax(x, -1, keep) };
    }),
    withShape("amin", 1, (r, s) => ({ inputs: [t64(r, s)], fn: (x) => F.amin(x, 0) })),
    withShape("softmax", 1, (r, s) => {
      const dim = r.int(s.length);
      return { inputs: [t64(r, s, { lo: -4, hi: 4 })], fn: (x) => F.softmax(x, dim) };
    }),
    withShape("logSoftmax", 1, (r, s) => ({ inputs: [t64(r, s, { lo: -4, hi: 4 })], fn: (x) => F.logSoftmax(x, -1) })),
    withShape("logsumexp", 1, (r, s) => ({ inputs: [t64(r, s)], fn: (x) => F.logsumexp(x, -1) })),
    withShape("norm", 1, (r, s) => ({ inputs: [t64(r, s, { away: 0.1 })], fn: (x) => F.norm(x, 2, -1) })),
    withShape("var", 1, (r, s) => ({ inputs: [t64(r, [...s, 2])], fn: (x) => F.variance(x, -1) })),
    withShape("cumsum", 1, (r, s) => ({ inputs: [t64(r, s)], fn: (x) => F.cumsum(x, -1) })),
    withShape("cumprod", 1, (r, s) => ({ inputs: [t64(r, s, { away: 0.2 })], fn: (x) => F.cumprod(x, 0) })),
    {
      name: "matmul",
      make: (seed) => {
        const r = new KitRandom(seed);
        const [m, k, n] = [1 + r.int(3), 1 + r.int(4), 1 + r.int(3)];
        const [ba, bb] = r.pick([[[], []], [[2], []], [[], [2]], [[2, 1], [3]]] as [number[], number[]][]);
        return { inputs: [t64(r, [...ba, m, k]), t64(r, [...bb, k, n])], fn: F.matmul };
      },
    },
    {
      name: "conv2d",
      make: (seed) => {
        const { x, w, p } = convSample(new KitRandom(seed));
        return { inputs: [x, w], fn: (a, b) => F.conv2d(a, b, null, p) };
      },
    },
    {
      name: "conv2dInputGrad",
      make: (seed) => {
        const r = new KitRandom(seed);
        const { x, w, p } = convSample(r);
        const y = F.conv2d(x.detach(), w.detach(), null, p);
        return { inputs: [t64(r, [...y.shape]), w], fn: (gy, ww) => conv2dInputGrad(gy, ww, x.shape, p) };
      },
    },
    {
      name: "conv2dWeightGrad",
      make: (seed) => {
        const r = new KitRandom(seed);
        const { x, w, p } = convSample(r);
        const y = F.conv2d(x.detach(), w.detach(), null, p);
        return { inputs: [x, t64(r, [...y.shape])], fn: (xx, gy) => conv2dWeightGrad(xx, gy, w.shape, p) };
      },
    },
    {
      name: "maxPool2d",
      make: (seed) => {
        const r = new KitRandom(seed);
        const k = 1 + r.int(3);
        return { inputs: [t64(r, [2, 2, 5, 4])], fn: (x) => F.maxPool2d(x, [k + 1, k], { stride: [1, 2] }) };
      },
    },
    withShape("gather", 1, (r, s) => {
      const d = r.int(s.length);
      const idx = int32(r, s.map((v, i) => (i === d ? 4 : v)), s[d]!);
      return { inputs: [t64(r, s)], fn: (x) => F.gather(x, d, idx) };
    }),
    withShape("scatterAdd", 1, (r, s) => {
      const d = r.int(s.length);
      const idxShape = s.map((v, i) => (i === d ? 3 : v));
      const index = int32(r, idxShape, s[d]!);
      return { inputs: [t64(r, s), t64(r, idxShape)], fn: (b, src) => F.scatterAdd(b, d, index, src) };
    }),
  ];
}

/**
 * The op-table ops that no case in `cases` names (default: the kit's own), for a report of what
 * the gradchecks do not reach (shape ops run no kernel of their own but `copy`).
 */
export function uncoveredOps(cases: readonly GradcheckCase[] = kitGradcheckCases()): string[] {
  const names = new Set(cases.map((c) => c.name));
  return [...opTable.keys()].filter((n) => !names.has(n));
}

/** Forward and gradients of a sample with its float inputs cast to float32. */
function float32Eval(s: GradcheckSample): { out: number[]; grads: (number[] | null)[] } {
  const xs = s.inputs.map((t) => {
    const c = isFloat(t.dtype) ? tensor(Float32Array.from(t.toTypedArray()), { shape: [...t.shape] }) : t;
    if (t.requiresGrad) c.requiresGrad_();
    return c;
  });
  const out = s.fn(...xs);
  const diff = xs.filter((t) => t.requiresGrad);
  let grads: (number[] | null)[] = [];
  if (isFloat(out.dtype) && out.numel > 0 && diff.length) {
    const w = tensor(Float32Array.from({ length: out.numel }, (_, i) => Math.cos(i + 1)), { shape: [...out.shape] });
    grads = grad([out], diff, { gradOutputs: [w], allowUnused: true }).map((g) => (g ? Array.from(g.toTypedArray()) : null));
  }
  return { out: Array.from(out.toTypedArray()), grads };
}

function float32Mismatch(got: number[], want: number[], what: string): string | null {
  if (got.length !== want.length) return `${what}: ${got.length} elements, the reference ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const x = got[i]!;
    const y = want[i]!;
    if ((x !== x && y !== y) || x === y) continue;
    if (!(Math.abs(x - y) <= 1e-4 + 1e-4 * Math.abs(y))) return `${what}: element ${i} is ${x}, the reference's ${y}`;
  }
  return null;
}

/** Options of {@link runGradchecks}. */
export interface GradcheckRunOptions {
  /** The cases (default: {@link kitGradcheckCases}). */
  cases?: readonly GradcheckCase[];
  /** The first sample's seed (default 1). */
  seed?: number;
}

/**
 * Run the gradcheck cases with the active backend: each sample's float64 gradcheck, then its
 * float32 forward and gradients against the reference backend's (within 1e-4). Never throws.
 */
export function runGradchecks(o: GradcheckRunOptions = {}): GradcheckResult[] {
  const cases = o.cases ?? kitGradcheckCases();
  const seed0 = o.seed ?? 1;
  const active = getBackend();
  return cases.map((c) => {
    const n = c.samples ?? 3;
    for (let k = 0; k < n; k++) {
      const seed = seed0 * 7907 + k;
      try {
        const s = c.make(seed);
        gradcheck(s.fn, s.inputs, { name: c.name });
        if (c.float64Only || active === referenceBackend || active.name === referenceBackend.name) continue;
        let want: ReturnType<typeof float32Eval>;
        try {
          setBackend(referenceBackend.name);
          want = float32Eval(s);
        } catch (e) {
          // NOTE: a sample that closes over float64 constants cannot run in float32: gradcheck only.
          if (e instanceof DTypeError) continue;
          throw e;
        } finally {
          setBackend(active.name);
        }
        const got = float32Eval(s);
        const bad =
          float32Mismatch(got.out, want.out, "float32 forward") ??
          got.grads.map((g, i) => (g && want.grads[i] ? float32Mismatch(g, want.grads[i]!, `float32 gradient of input ${i}`) : null)).find((m) => m) ??
          null;
        if (bad) return { name: c.name, ok: false, samples: k + 1, failure: bad, seed };
      } catch (e) {
        const failure = e instanceof GradcheckError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        return { name: c.name, ok: false, samples: k + 1, failure, seed };
      }
    }
    return { name: c.name, ok: true, samples: n };
  });
}
