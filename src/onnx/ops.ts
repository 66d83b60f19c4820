/**
 * Op-table ops as ONNX nodes (opset 17), one function per op name. Ops ONNX has are one node;
 * the others are written with a few (log1p, expm1 and hypot keep their accuracy, logsumexp and
 * norm their overflow safety, var/std are two-pass). An op not listed here has no mapping: the
 * exporter puts a stand-in node that fails the export if an output needs it.
 */
import type { Conv2dParams, Pool2dParams, UnaryParams } from "../kernels/backend.js";
import { UNARY_DEFAULTS } from "../kernels/backend.js";
import type { DType } from "../tensor/dtype.js";
import { attr, BATCH_A, BATCH_B, isDynamic, type Dim, type GraphBuilder } from "./graph.js";
import { OnnxExportError } from "./errors.js";
import { ONNX_DTYPE } from "./proto.js";
import { opTable } from "../ops/table.js";

/** What an op's mapping sees. */
export interface OpInput {
  g: GraphBuilder;
  /** The op's name in the op table. */
  op: string;
  /** The names of its inputs. */
  ins: readonly string[];
  /** The dims of its inputs and output, at both traced batch sizes. */
  inDims: readonly (readonly Dim[])[];
  outDims: readonly Dim[];
  /** The input dtypes and the output dtype. */
  inDtypes: readonly DType[];
  outDtype: DType;
  /** The op's attributes at the first and the second batch size (equal for a static export). */
  attrs: unknown;
  attrsB: unknown;
}

type Mapper = (o: OpInput) => string;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Attributes that must not depend on the batch size (an error naming the op otherwise). */
function staticAttrs<A>(o: OpInput): A {
  if (!same(o.attrs, o.attrsB)) {
    throw new OnnxExportError(
      `op "${o.op}" takes attributes that depend on the batch size (${JSON.stringify(o.attrs)} at batch ${BATCH_A}, ${JSON.stringify(o.attrsB)} at batch ${BATCH_B}); export with { dynamicBatch: false }`,
      o.op,
    );
  }
  return o.attrs as A;
}

const unary = (opType: string): Mapper => ({ g, ins }) => g.op(opType, [ins[0]!]);
const binary = (opType: string): Mapper => ({ g, ins }) => g.op(opType, [ins[0]!, ins[1]!]);

/** A dim count that must not depend on the batch size (for var/std's divisor). */
function staticCount(o: OpInput, dims: readonly number[]): number {
  const d = o.inDims[0]!;
  if (dims.some((i) => isDynamic(d[i]!))) throw new OnnxExportError(`op "${o.op}" reduces over the batch dim; its divisor would be the batch size: export with { dynamicBatch: false }`, o.op);
  return dims.reduce((a, i) => a * d[i]!.a, 1);
}

interface ReduceAttrs {
  dims: number[];
  keepdim: boolean;
}

/** ReduceSum over axes (an input since opset 13). */
function reduceSum(g: GraphBuilder, x: string, dims: readonly number[], keepdim: boolean): string {
  return g.op("ReduceSum", [x, g.int64s(dims)], { keepdims: attr.int(keepdim ? 1 : 0) });
}

/** ReduceMax/ReduceMin/ReduceMean/ReduceL1/ReduceL2 over axes (an attribute until opset 18). */
function reduceAttr(g: GraphBuilder, opType: string, x: string, dims: readonly number[], keepdim: boolean): string {
  return g.op(opType, [x], { axes: attr.ints(dims), keepdims: attr.int(keepdim ? 1 : 0) });
}

/** x with the reduced dims removed when not keepdim (the reductions below compute with keepdims). */
function dropDims(g: GraphBuilder, x: string, dims: readonly number[], keepdim: boolean): string {
  return keepdim || dims.length === 0 ? x : g.op("Squeeze", [x, g.int64s(dims)]);
}

/** Where(IsInf(m), 0, m): a max-shift that is 0 where the max is infinite. */
function finiteShift(g: GraphBuilder, m: string, dtype: DType): string {
  return g.op("Where", [g.op("IsInf", [m]), g.scalar(0, dtype), m]);
}

/** Where(v is finite and > 0, v, 1): a divisor for scaling by a row's largest magnitude. */
function safeScale(g: GraphBuilder, m: string, dtype: DType): string {
  const ok = g.op("And", [g.op("Greater", [m, g.scalar(0, dtype)]), g.op("Not", [g.op("IsInf", [m])])]);
  return g.op("Where", [ok, m, g.scalar(1, dtype)]);
}

const MAPPERS: Record<string, Mapper> = {
  // ---------------------------------------------------------------- elementwise, unary
  neg: unary("Neg"),
  abs: unary("Abs"),
  sign: unary("Sign"),
  exp: unary("Exp"),
  log: unary("Log"),
  sqrt: unary("Sqrt"),
  sin: unary("Sin"),
  cos: unary("Cos"),
  tanh: unary("Tanh"),
  atan: unary("Atan"),
  acos: unary("Acos"),
  asin: unary("Asin"),
  sigmoid: unary("Sigmoid"),
  relu: unary("Relu"),
  erf: unary("Erf"),
  // gelu as PyTorch exports it: x · 0.5 · (1 + Erf(x / √2)), or with the tanh approximation
  // x · 0.5 · (1 + Tanh(√(2/π) (x + 0.044715 x³))) (safegrad's fused kernel keeps the tails exact).
  gelu: (o) => {
    const { g } = o;
    const x = o.ins[0]!;
    const dt = o.inDtypes[0]!;
    const c = (v: number): string => g.scalar(v, dt);
    const inner =
      staticAttrs<{ approximate: string }>(o).approximate === "tanh"
        ? g.op("Tanh", [g.op("Mul", [g.op("Add", [x, g.op("Mul", [g.op("Mul", [g.op("Mul", [x, x]), x]), c(0.044715)])]), c(Math.sqrt(2 / Math.PI))])])
        : g.op("Erf", [g.op("Mul", [x, c(Math.SQRT1_2)])]);
    return g.op("Mul", [g.op("Mul", [x, c(0.5)]), g.op("Add", [inner, c(1)])]);
  },
  rsqrt: ({ g, ins }) => g.op("Reciprocal", [g.op("Sqrt", [ins[0]!])]),
  square: ({ g, ins }) => g.op("Mul", [ins[0]!, ins[0]!]),
  // log1p(x) = x · log(u) / (u - 1) with u = 1 + x, and x where u = 1 (Goldberg): accurate near 0,
  // where log(1 + x) rounds to 0.
  log1p: ({ g, ins: [x], inDtypes: [dt] }) => {
    const one = g.scalar(1, dt!);
    const u = g.op("Add", [x!, one]);
    const um1 = g.op("Sub", [u, one]);
    const isOne = g.op("Equal", [um1, g.scalar(0, dt!)]);
    const r = g.op("Mul", [x!, g.op("Div", [g.op("Log", [u]), g.op("Where", [isOne, one, um1])])]);
    return g.op("Where", [isOne, x!, r]);
  },
  // expm1(x) = (u - 1) · x / log(u) with u = e^x (Kahan), x where u = 1, u - 1 where u - 1 is -1 or ∞.
  expm1: ({ g, ins: [x], inDtypes: [dt] }) => {
    const one = g.scalar(1, dt!);
    const u = g.op("Exp", [x!]);
    const um1 = g.op("Sub", [u, one]);
    const lu = g.op("Log", [u]);
    const isOne = g.op("Equal", [um1, g.scalar(0, dt!)]);
    const plain = g.op("Or", [g.op("Equal", [um1, g.scalar(-1, dt!)]), g.op("IsInf", [u])]);
    const r = g.op("Div", [g.op("Mul", [um1, x!]), g.op("Where", [isOne, one, lu])]);
    return g.op("Where", [isOne, x!, g.op("Where", [plain, um1, r])]);
  },
  // log σ(x) = -softplus(-x) (ONNX Runtime's Softplus is the stable x > 0 ? x + log1p(e^-x) : log1p(e^x)).
  logSigmoid: ({ g, ins }) => g.op("Neg", [g.op("Softplus", [g.op("Neg", [ins[0]!])])]),
  // NOTE: LeakyRelu's alpha is a float32 attribute; in float64 the slope is a float64 constant.
  leakyRelu: (o) => {
    const alpha = staticAttrs<UnaryParams>(o).alpha ?? UNARY_DEFAULTS.alpha;
    const { g } = o;
    const x = o.ins[0]!;
    const dt = o.inDtypes[0]!;
    if (dt !== "float64") return g.op("LeakyRelu", [x], { alpha: attr.float(alpha) });
    return g.op("Where", [g.op("Greater", [x, g.scalar(0, dt)]), x, g.op("Mul", [x, g.scalar(alpha, dt)])]);
  },
  // log(1 + e^(βx)) / β, and x where βx > threshold (as PyTorch).
  softplus: (o) => {
    const a = staticAttrs<UnaryParams>(o);
    const { g } = o;
    const x = o.ins[0]!;
    const dt = o.inDtypes[0]!;
    const beta = a.beta ?? UNARY_DEFAULTS.beta;
    const threshold = a.threshold ?? UNARY_DEFAULTS.threshold;
    const bx = beta === 1 ? x : g.op("Mul", [x, g.scalar(beta, dt)]);
    let sp = g.op("Softplus", [bx]);
    if (beta !== 1) sp = g.op("Div", [sp, g.scalar(beta, dt)]);
    return g.op("Where", [g.op("Greater", [bx, g.scalar(threshold, dt)]), x, sp]);
  },
  clamp: (o) => {
    const a = staticAttrs<UnaryParams & { min?: number; max?: number }>(o);
    const dt = o.inDtypes[0]!;
    const lo = a.min === undefined || a.min === -Infinity ? "" : o.g.scalar(a.min, dt);
    const hi = a.max === undefined || a.max === Infinity ? "" : o.g.scalar(a.max, dt);
    return o.g.op("Clip", hi ? [o.ins[0]!, lo, hi] : [o.ins[0]!, lo]);
  },

  // ---------------------------------------------------------------- elementwise, binary
  add: binary("Add"),
  sub: binary("Sub"),
  mul: binary("Mul"),
  div: binary("Div"),
  pow: binary("Pow"),
  maximum: binary("Max"),
  minimum: binary("Min"),
  // hypot(a, b) = m · sqrt((a/m)² + (b/m)²), m = max(|a|, |b|) (1 where 0 or infinite): no overflow.
  hypot: ({ g, ins: [a, b], inDtypes: [dt] }) => {
    const aa = g.op("Abs", [a!]);
    const ab = g.op("Abs", [b!]);
    const m = safeScale(g, g.op("Max", [aa, ab]), dt!);
    const sa = g.op("Div", [aa, m]);
    const sb = g.op("Div", [ab, m]);
    const r = g.op("Mul", [m, g.op("Sqrt", [g.op("Add", [g.op("Mul", [sa, sa]), g.op("Mul", [sb, sb])])])]);
    // An infinite operand gives Infinity (also beside a NaN, as IEEE's hypot).
    return g.op("Where", [g.op("Or", [g.op("IsInf", [aa]), g.op("IsInf", [ab])]), g.scalar(Infinity, dt!), r]);
  },
  // atan2(y, x): atan(y / x) moved to the right quadrant; ±π/2 on the y axis, 0 at the origin.
  atan2: ({ g, ins: [y, x], inDtypes: [dt] }) => {
    const zero = g.scalar(0, dt!);
    const base = g.op("Atan", [g.op("Div", [y!, x!])]);
    const yNeg = g.op("Less", [y!, zero]);
    const pi = g.op("Where", [yNeg, g.scalar(-Math.PI, dt!), g.scalar(Math.PI, dt!)]);
    const left = g.op("Add", [base, pi]);
    const xNeg = g.op("Less", [x!, zero]);
    const onAxis = g.op("Where", [yNeg, g.scalar(-Math.PI / 2, dt!), g.op("Where", [g.op("Greater", [y!, zero]), g.scalar(Math.PI / 2, dt!), zero])]);
    return g.op("Where", [g.op("Equal", [x!, zero]), onAxis, g.op("Where", [xNeg, left, base])]);
  },

  // ---------------------------------------------------------------- compare
  eq: binary("Equal"),
  ne: ({ g, ins }) => g.op("Not", [g.op("Equal", [ins[0]!, ins[1]!])]),
  lt: binary("Less"),
  le: binary("LessOrEqual"),
  gt: binary("Greater"),
  ge: binary("GreaterOrEqual"),
  logicalAnd: binary("And"),
  logicalOr: binary("Or"),
  logicalNot: unary("Not"),
  where: ({ g, ins }) => g.op("Where", [ins[0]!, ins[1]!, ins[2]!]),

  // ---------------------------------------------------------------- shape
  cast: (o) => o.g.op("Cast", [o.ins[0]!], { to: attr.int(ONNX_DTYPE[o.outDtype]) }),
  contiguous: ({ g, ins }) => g.op("Identity", [ins[0]!]),
  reshape: ({ g, ins, outDims }) => g.op("Reshape", [ins[0]!, g.shape(outDims, true)], outDims.some((d) => d.a === 0) ? { allowzero: attr.int(1) } : {}),
  permute: (o) => o.g.op("Transpose", [o.ins[0]!], { perm: attr.ints(staticAttrs<{ dims: number[] }>(o).dims) }),
  expand: ({ g, ins, outDims }) => g.op("Expand", [ins[0]!, g.shape(outDims, false)]),
  narrow: (o) => {
    const a = o.attrs as { dim: number; start: number; length: number };
    const b = o.attrsB as typeof a;
    const d = o.inDims[0]![a.dim]!;
    let end = a.start + a.length;
    if (a.dim !== b.dim || a.start !== b.start || (a.length !== b.length && !(isDynamic(d) && a.start + a.length === d.a && b.start + b.length === d.b))) staticAttrs(o);
    // A slice to the end of a batch-dependent dim: to the end at any batch size.
    if (a.length !== b.length) end = 2 ** 53;
    return o.g.op("Slice", [o.ins[0]!, o.g.int64s([a.start]), o.g.int64s([end]), o.g.int64s([a.dim])]);
  },
  pad: (o) => {
    const a = staticAttrs<{ pads: [number, number][]; value: number }>(o);
    const pads = [...a.pads.map((p) => p[0]), ...a.pads.map((p) => p[1])];
    return o.g.op("Pad", [o.ins[0]!, o.g.int64s(pads), o.g.scalar(a.value, o.inDtypes[0]!)], { mode: attr.string("constant") });
  },
  cat: (o) => o.g.op("Concat", o.ins, { axis: attr.int(staticAttrs<{ dim: number }>(o).dim) }),
  // every step-th entry of [start, start + length · step)
  slice: (o) => {
    const a = staticAttrs<{ dim: number; start: number; length: number; step: number }>(o);
    const end = a.start + (a.length - 1) * a.step + 1;
    return o.g.op("Slice", [o.ins[0]!, o.g.int64s([a.start]), o.g.int64s([end]), o.g.int64s([a.dim]), o.g.int64s([a.step])]);
  },

  // ---------------------------------------------------------------- reduce
  sum: (o) => {
    const a = staticAttrs<ReduceAttrs>(o);
    return a.dims.length === 0 ? o.g.op("Identity", [o.ins[0]!]) : reduceSum(o.g, o.ins[0]!, a.dims, a.keepdim);
  },
  amax: (o) => {
    const a = staticAttrs<ReduceAttrs>(o);
    return a.dims.length === 0 ? o.g.op("Identity", [o.ins[0]!]) : reduceAttr(o.g, "ReduceMax", o.ins[0]!, a.dims, a.keepdim);
  },
  amin: (o) => {
    const a = staticAttrs<ReduceAttrs>(o);
    return a.dims.length === 0 ? o.g.op("Identity", [o.ins[0]!]) : reduceAttr(o.g, "ReduceMin", o.ins[0]!, a.dims, a.keepdim);
  },
  argmax: (o) => argReduce(o, "ArgMax"),
  argmin: (o) => argReduce(o, "ArgMin"),
  var: (o) => variance(o, false),
  std: (o) => variance(o, true),
  // max-shifted, and shifted by 0 where the max is infinite (a row of -Infinity gives -Infinity)
  logsumexp: (o) => {
    const a = staticAttrs<ReduceAttrs>(o);
    const { g } = o;
    const x = o.ins[0]!;
    const dt = o.inDtypes[0]!;
    if (a.dims.length === 0) return g.op("Identity", [x]);
    const shift = finiteShift(g, reduceAttr(g, "ReduceMax", x, a.dims, true), dt);
    const s = reduceSum(g, g.op("Exp", [g.op("Sub", [x, shift])]), a.dims, true);
    return dropDims(g, g.op("Add", [g.op("Log", [s]), shift]), a.dims, a.keepdim);
  },
  // scaled by the largest magnitude (as safegrad's norm), so squares do not overflow
  norm: (o) => {
    const a = staticAttrs<ReduceAttrs & { p: number }>(o);
    const { g } = o;
    const x = o.ins[0]!;
    const dt = o.inDtypes[0]!;
    if (a.dims.length === 0) return g.op("Abs", [x]);
    const ax = g.op("Abs", [x]);
    if (a.p === Infinity) return reduceAttr(g, "ReduceMax", ax, a.dims, a.keepdim);
    if (a.p === 1) return reduceAttr(g, "ReduceL1", x, a.dims, a.keepdim);
    const m = reduceAttr(g, "ReduceMax", ax, a.dims, true);
    const s = safeScale(g, m, dt);
    const scaled = g.op("Div", [ax, s]);
    const r =
      a.p === 2
        ? reduceAttr(g, "ReduceL2", scaled, a.dims, true)
        : g.op("Pow", [reduceSum(g, g.op("Pow", [scaled, g.scalar(a.p, dt)]), a.dims, true), g.scalar(1 / a.p, dt)]);
    // An infinite element gives Infinity.
    const y = g.op("Where", [g.op("IsInf", [m]), m, g.op("Mul", [r, s])]);
    return dropDims(g, y, a.dims, a.keepdim);
  },

  cumsum: (o) => {
    const a = staticAttrs<{ dim: number; reverse?: boolean }>(o);
    return o.g.op("CumSum", [o.ins[0]!, o.g.constant("int64", [], [a.dim], "axis")], { exclusive: attr.int(0), reverse: attr.int(a.reverse ? 1 : 0) });
  },
  // ONNX has no cumulative product: the running product of the slices, unrolled along the dim.
  cumprod: (o) => {
    const a = staticAttrs<{ dim: number; reverse?: boolean }>(o);
    const { g } = o;
    const d = o.inDims[0]![a.dim]!;
    if (isDynamic(d)) throw new OnnxExportError(`op "cumprod" runs along the batch dim; export with { dynamicBatch: false }`, "cumprod");
    if (d.a <= 1) return g.op("Identity", [o.ins[0]!]);
    const parts = g.add("Split", [o.ins[0]!, g.int64s(new Array<number>(d.a).fill(1))], { axis: attr.int(a.dim) }, d.a);
    const order = a.reverse ? [...parts].reverse() : parts;
    const acc = [order[0]!];
    for (let i = 1; i < order.length; i++) acc.push(g.op("Mul", [acc[i - 1]!, order[i]!]));
    return g.op("Concat", a.reverse ? acc.reverse() : acc, { axis: attr.int(a.dim) });
  },

  // ---------------------------------------------------------------- indexing
  gather: (o) => o.g.op("GatherElements", [o.ins[0]!, o.ins[1]!], { axis: attr.int(staticAttrs<{ dim: number }>(o).dim) }),
  scatterAdd: (o) => {
    const { dim } = staticAttrs<{ dim: number }>(o);
    const { g } = o;
    // ONNX needs the updates in the index's shape: src is cut to it (as torch reads only that part).
    const idx = o.inDims[1]!;
    const src = o.inDims[2]!;
    let updates = o.ins[2]!;
    if (idx.some((d, i) => d.a !== src[i]!.a || d.b !== src[i]!.b)) {
      updates = g.op("Slice", [updates, g.int64s(idx.map(() => 0)), g.shape(idx, false), g.int64s(idx.map((_, i) => i))]);
    }
    return g.op("ScatterElements", [o.ins[0]!, o.ins[1]!, updates], { axis: attr.int(dim), reduction: attr.string("add") });
  },

  // ---------------------------------------------------------------- softmax, linalg, conv
  softmax: (o) => softmax(o, "Softmax", 0),
  logSoftmax: (o) => softmax(o, "LogSoftmax", -Infinity),
  maskedSoftmax: (o) => maskedSoftmax(o),
  // the fused layerNorm (ops/norm.ts): inputs x, weight (ones without an affine) and maybe bias
  layerNorm: (o) => {
    const { k, eps } = staticAttrs<{ k: number; eps: number }>(o);
    return o.g.op("LayerNormalization", [...o.ins], { axis: attr.int(o.inDims[0]!.length - k), epsilon: attr.float(eps) });
  },
  matmul: binary("MatMul"),
  conv2d: (o) => {
    const p = staticAttrs<Conv2dParams>(o);
    const w = o.inDims[1]!;
    return o.g.op("Conv", [o.ins[0]!, o.ins[1]!], {
      kernel_shape: attr.ints([w[2]!.a, w[3]!.a]),
      strides: attr.ints(p.stride),
      pads: attr.ints([p.padding[0], p.padding[1], p.padding[0], p.padding[1]]),
      dilations: attr.ints(p.dilation),
      group: attr.int(p.groups),
    });
  },
};

/**
 * Softmax / LogSoftmax, and safegrad's value for a fully masked row (all -Infinity: a zero row,
 * a -Infinity row), where ONNX Runtime's kernels give NaN.
 */
function softmax(o: OpInput, opType: "Softmax" | "LogSoftmax", masked: number): string {
  const { dim } = staticAttrs<{ dim: number }>(o);
  const { g } = o;
  const x = o.ins[0]!;
  const dt = o.inDtypes[0]!;
  const y = g.op(opType, [x], { axis: attr.int(dim) });
  const all = g.op("Equal", [reduceAttr(g, "ReduceMax", x, [dim], true), g.scalar(-Infinity, dt)]);
  return g.op("Where", [all, g.scalar(masked, dt), y]);
}

/**
 * softmax(x, dim, { mask, causal }): entries that take no part become -Infinity (Where with the
 * mask, and with a constant lower triangle [L, S] when causal), then softmax's mapping (a row with
 * none taking part gives zeros, log -Infinity).
 */
function maskedSoftmax(o: OpInput): string {
  const { dim, log, causal } = staticAttrs<{ dim: number; log: boolean; causal: boolean }>(o);
  const { g } = o;
  const dt = o.inDtypes[0]!;
  const ninf = g.scalar(-Infinity, dt);
  let x = g.op("Where", [o.ins[1]!, o.ins[0]!, ninf]);
  if (causal) {
    const dims = o.inDims[0]!;
    const [L, S] = [dims[dims.length - 2]!, dims[dims.length - 1]!];
    if (isDynamic(L) || isDynamic(S)) throw new OnnxExportError(`op "maskedSoftmax": a causal mask over the batch dim; export with { dynamicBatch: false }`, "maskedSoftmax");
    const tri = Array.from({ length: L.a * S.a }, (_, k) => (k % S.a <= Math.floor(k / S.a) ? 1 : 0));
    x = g.op("Where", [g.constant("bool", [L.a, S.a], tri, "causal"), x, ninf]);
  }
  const y = g.op(log ? "LogSoftmax" : "Softmax", [x], { axis: attr.int(dim) });
  const all = g.op("Equal", [reduceAttr(g, "ReduceMax", x, [dim], true), ninf]);
  return g.op("Where", [all, g.scalar(log ? -Infinity : 0, dt), y]);
}

function argReduce(o: OpInput, opType: "ArgMax" | "ArgMin"): string {
  const a = staticAttrs<{ dim: number; keepdim: boolean }>(o);
  const i = o.g.op(opType, [o.ins[0]!], { axis: attr.int(a.dim), keepdims: attr.int(a.keepdim ? 1 : 0), select_last_index: attr.int(0) });
  return o.g.op("Cast", [i], { to: attr.int(ONNX_DTYPE.int32) });
}

/** sum((x - mean)²) / max(0, n - correction) over dims; std is its square root. */
function variance(o: OpInput, sqrt: boolean): string {
  const a = staticAttrs<ReduceAttrs & { correction: number }>(o);
  const { g } = o;
  const x = o.ins[0]!;
  const dt = o.inDtypes[0]!;
  const n = staticCount(o, a.dims);
  const dims = a.dims.length ? a.dims : [];
  const mean = dims.length ? reduceAttr(g, "ReduceMean", x, dims, true) : x;
  const d = g.op("Sub", [x, mean]);
  const ss = dims.length ? reduceSum(g, g.op("Mul", [d, d]), dims, a.keepdim) : g.op("Mul", [d, d]);
  const v = g.op("Div", [ss, g.scalar(Math.max(0, n - a.correction), dt)]);
  return sqrt ? g.op("Sqrt", [v]) : v;
}

/**
 * The op-table ops the exporter maps, sorted (maxPool2dIndices, with the gather that follows it,
 * becomes MaxPool). The other ops of the op table have no mapping: an export whose outputs need
 * one is an OnnxExportError naming it.
 * @example
 * ONNX_SUPPORTED_OPS.includes("matmul"); // true
 */
export const ONNX_SUPPORTED_OPS: readonly string[] = [...Object.keys(MAPPERS), "maxPool2dIndices"].filter((op) => opTable.has(op)).sort();

/** Emit the nodes of one op; returns the output's name, or null when the op has no mapping. */
export function emitOp(o: OpInput): string | null {
  const m = MAPPERS[o.op];
  return m ? m(o) : null;
}

/** MaxPool attributes from max pooling's kernel parameters. */
export function maxPoolAttrs(p: Pool2dParams): Record<string, ReturnType<typeof attr.ints>> {
  // NOTE: ONNX's ceil_mode and PyTorch's differ on a last window that would start in the padding;
  // refused rather than exported with a window count that may not match.
  if (p.ceilMode) throw new OnnxExportError("max pooling with ceilMode has no verified ONNX mapping yet: export a model with ceilMode false", "maxPool2dIndices");
  return {
    kernel_shape: attr.ints(p.kernel),
    strides: attr.ints(p.stride),
    pads: attr.ints([p.padding[0], p.padding[1], p.padding[0], p.padding[1]]),
    dilations: attr.ints(p.dilation),
  };
}
