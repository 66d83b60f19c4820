/**
 * The hint rule table: each rule recognises one classic way a NaN or Inf is born and names the fix.
 * Rules are tried in order; the first that matches gives the report's hint.
 */
import type { Tensor } from "../tensor/tensor.js";
import { contiguousData } from "../tensor/layout.js";
import { maxFinite } from "../tensor/dtype.js";

/**
 * A recognised hazard and its fix, as shown in a report.
 * @example
 * const h: Hint | null = report.hint;
 * const line = h ? `${h.hazard}: ${h.fix}` : "no hint";
 */
export interface Hint {
  /** Short name of the hazard, e.g. "exp overflow". */
  hazard: string;
  /** What happened and how to fix it. */
  fix: string;
}

/** What a rule sees. For backward, `op` is the op whose VJP failed and `innerOp` the op inside it. */
export interface HintContext {
  /** The pass in which the value appeared. */
  phase: "forward" | "backward";
  /** The op whose output (forward) or gradient (backward) is non-finite. */
  op: string;
  /** Backward only: the op inside the VJP that produced the value. */
  innerOp?: string;
  /** True when the op turned finite inputs into NaN/Inf. */
  created: boolean;
  /** Inputs of the op (forward) or of the failing inner op (backward). */
  inputs: readonly Tensor[];
  /** The forward inputs of the op whose VJP failed (backward only). */
  forwardInputs?: readonly Tensor[];
  /** The forward output of the op whose VJP failed (backward only). */
  forwardOutput?: Tensor | null;
  /** Upstream gradient of the op whose VJP failed (backward only). */
  gradOutput?: Tensor;
  /** The non-finite output (or gradient). */
  output: Tensor;
  /** Set when the value arrived in a leaf tensor (a data batch or a parameter). */
  originLeaf?: string;
  /** The op's attributes (dims, correction, ...), as the op table defines them. */
  attrs?: unknown;
}

const LOG_MAX = { float32: Math.log(maxFinite("float32")), float64: Math.log(maxFinite("float64")) };

const floatDtype = (t: Tensor | undefined | null): "float32" | "float64" => (t?.dtype === "float64" ? "float64" : "float32");

function maxOf(t: Tensor | undefined): number {
  if (!t) return NaN;
  const d = contiguousData(t);
  let m = -Infinity;
  for (let i = 0; i < d.length; i++) if (d[i]! > m) m = d[i]!;
  return m;
}
/** The largest finite |x| (0 when there is none). */
function maxAbs(t: Tensor | undefined | null): number {
  if (!t) return 0;
  const d = contiguousData(t);
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = Math.abs(d[i]!);
    if (v > m && v !== Infinity) m = v;
  }
  return m;
}
function count(t: Tensor | undefined | null, pred: (v: number) => boolean): number {
  if (!t) return 0;
  const d = contiguousData(t);
  let n = 0;
  for (let i = 0; i < d.length; i++) if (pred(d[i]!)) n++;
  return n;
}
const nonFinite = (t: Tensor | undefined | null): number => count(t, (v) => v - v !== 0);
/** Whether the upstream gradient is exactly 0 where the forward output is 0 (a masked branch). */
function zeroGradWhereZero(g: Tensor | undefined, out: Tensor | null | undefined): boolean {
  if (!g || !out || g.numel !== out.numel) return false;
  const gd = contiguousData(g);
  const od = contiguousData(out);
  let any = false;
  for (let i = 0; i < od.length; i++) {
    if (od[i] === 0) {
      any = true;
      if (gd[i] !== 0) return false;
    }
  }
  return any;
}
/** Input i of the op: in backward, of the op whose VJP failed (else of the inner op). */
const opInput = (c: HintContext, i: number): Tensor | undefined => (c.phase === "forward" ? c.inputs[i] : (c.forwardInputs?.[i] ?? c.inputs[i]));
const fmt = (v: number): string => (Math.abs(v) >= 1e4 ? v.toExponential(2) : String(+v.toFixed(1)));
/** Every tensor the failing op read: its inputs, and in backward also the forward inputs. */
const allInputs = (c: HintContext): Tensor[] => [...c.inputs, ...(c.forwardInputs ?? [])];
/** The op created the value from finite inputs (no NaN/Inf went in). */
const fromFinite = (c: HintContext): boolean => c.created && allInputs(c).every((t) => nonFinite(t) === 0);

/** The parameter (a leaf that requires grad) a tensor is, or is a view of (a transposed weight). */
function parameterOf(t: Tensor): Tensor | null {
  let cur = t;
  while (cur.gradFn && cur.gradFn.inputs.length === 1 && cur.gradFn.inputs[0]!.storage === cur.storage) cur = cur.gradFn.inputs[0]!;
  return cur.isLeaf && cur.requiresGrad ? cur : null;
}
/**
 * Weights this large are the mark of a run that diverged (weights are O(1) when training works;
 * the values that overflow float32 in a product are about 1e19 and beyond).
 */
const DIVERGED_WEIGHT = 1e6;
/** Inputs this large (maxFinite^0.4: 2.4e15 in float32) are what overflows in sums and products. */
const largeFor = (dtype: "float32" | "float64"): number => Math.pow(maxFinite(dtype), 0.4);

/** A reduction's element count and correction, from var/std's attributes. */
function samples(c: HintContext): { n: number; correction: number } | null {
  const a = c.attrs as { dims?: number[]; correction?: number } | undefined;
  const x = opInput(c, 0);
  if (!x || !a || !Array.isArray(a.dims) || typeof a.correction !== "number") return null;
  return { n: a.dims.reduce((p, d) => p * (x.shape[d] ?? 1), 1), correction: a.correction };
}

const EXPLODING = "lower the lr, add warm-up, clip the gradient norm (clipGradNorm, maxNorm)";

/**
 * One rule: a hint for this context, or null when it does not apply.
 * @inline
 */
type Rule = (c: HintContext) => Hint | null;

/**
 * The hint rule table, tried in order by {@link findHint}: each rule recognises one classic way a
 * NaN or Inf is born and names the fix. The classes: a non-finite input; too few samples (var/std
 * with n - correction <= 0); the where() trap; an infinite derivative at 0 (sqrt, rsqrt, pow) and
 * rsqrt(0) (a missing eps); division by zero (also pow(0, p < 0)); log/log1p of 0 or of a negative
 * number; domain errors (sqrt of a negative number, acos/asin outside [-1, 1], pow of a negative
 * base); exp overflow; divergence (weights that grew over the steps); overflow (a sum or product
 * of large values, pow). A NaN/Inf that none of them explains gets no hint rather than a wrong one.
 * @example
 * hintRules.length; // the number of hazards recognised
 */
export const hintRules: readonly Rule[] = [
  (c) =>
    c.originLeaf
      ? {
          hazard: "non-finite input",
          fix: `the tensor ${c.originLeaf} already held NaN/Inf: check the data batch, or the parameter (an earlier step wrote NaN: skip or roll back that step)`,
        }
      : null,
  (c) => {
    if (c.op !== "var" && c.op !== "std") return null;
    const s = samples(c);
    if (!s || s.n - s.correction > 0) return null;
    return {
      hazard: "too few samples",
      fix: `${c.op} over ${s.n} element(s) with correction ${s.correction}: n - correction = ${s.n - s.correction} <= 0 (0/0 = NaN): reduce over more elements (a batch of one?), or use { correction: 0 }`,
    };
  },
  (c) => {
    if (c.phase !== "backward" || !(c.op === "sqrt" || c.op === "pow" || c.op === "rsqrt")) return null;
    if (count(c.forwardInputs?.[0], (v) => v === 0) === 0) return null;
    if (zeroGradWhereZero(c.gradOutput, c.forwardOutput)) {
      return {
        hazard: "0 · ∞ in the unselected branch of where()",
        fix: `${c.op}'s infinite derivative at 0 meets a zero gradient (a branch masked out by where()): 0 · ∞ = NaN. Make the masked branch finite too: where(mask, sqrt(where(mask, x, 1)), 0)`,
      };
    }
    // sqrt(square(d)) is |d| written by hand (MAE): name that fix first.
    const absByHand = c.op === "sqrt" && c.forwardInputs?.[0]?.gradFn?.op === "square";
    return {
      hazard: `${c.op} backward at 0`,
      fix: absByHand
        ? `|d| (MAE) written as sqrt(d²) has an infinite derivative where d = 0: use abs() or l1Loss (subgradient 0 at 0)`
        : `${c.op}'s derivative is infinite at 0 (a hand-written sqrt(variance) of a constant, a norm of zeros): put eps inside the sqrt, sqrt(v + eps), or use std() / stdPool / normalize`,
    };
  },
  (c) => {
    if (c.phase !== "backward") return null;
    const zeroInf = c.innerOp === "mul" && c.gradOutput && count(c.gradOutput, (v) => v === 0) > 0 && c.inputs.some((t) => nonFinite(t) > 0);
    if (!zeroInf) return null;
    return {
      hazard: "0 · ∞ in the unselected branch of where()",
      fix: `${c.op}'s gradient meets a zero gradient (a branch masked out by where()) with an infinite derivative: 0 · ∞ = NaN. Make both branches of where() finite`,
    };
  },
  (c) => {
    if (c.op !== "rsqrt" || c.phase !== "forward") return null;
    const zeros = count(c.inputs[0], (v) => v === 0);
    if (zeros === 0) return null;
    return {
      hazard: "rsqrt at 0",
      fix: `rsqrt(0) = ∞ (${zeros} zero(s)): a zero variance with eps = 0 (layerNorm / batchNorm / rmsNorm of a constant row)? Keep eps > 0`,
    };
  },
  (c) => {
    if (c.op !== "div" && c.innerOp !== "div") return null;
    const den = opInput(c, 1);
    const zeros = count(den, (v) => v === 0);
    if (zeros === 0) return null;
    return {
      hazard: "division by zero",
      fix: `${zeros} zero denominator(s) (a zero norm, an empty count?): use normalize(x, { eps }) / cosineSimilarity, or add eps to the denominator`,
    };
  },
  (c) => {
    if (c.op !== "pow" || c.phase !== "forward") return null;
    const [base, p] = c.inputs;
    const d = contiguousData(base!);
    const e = contiguousData(p!);
    let zeroNeg = 0;
    let negFrac = 0;
    for (let i = 0; i < d.length; i++) {
      const pe = e.length === d.length ? e[i]! : e[0]!;
      if (d[i] === 0 && pe < 0) zeroNeg++;
      else if (d[i]! < 0 && !Number.isInteger(pe)) negFrac++;
    }
    if (zeroNeg > 0) {
      return {
        hazard: "division by zero",
        fix: `pow(0, p) with p < 0 is 1 / 0 = ∞ (${zeroNeg} zero base(s)): add eps to the base, x.clamp(eps).pow(p)`,
      };
    }
    if (negFrac > 0) {
      return {
        hazard: "domain error",
        fix: `pow of ${negFrac} negative base(s) to a non-integer power is NaN: use x.abs().pow(p), or clamp(0)`,
      };
    }
    return null;
  },
  (c) => {
    if (c.op !== "log" && c.op !== "log1p") return null;
    const x = opInput(c, 0);
    // log1p(x) = log(1 + x): its argument is 0 at x = -1 and negative below
    const at = c.op === "log" ? 0 : -1;
    const zeros = count(x, (v) => v === at);
    const neg = count(x, (v) => v < at);
    if (zeros === 0 && neg === 0) return null;
    if (neg > 0 && zeros === 0) {
      return c.op === "log"
        ? { hazard: "log of a negative number", fix: `log of ${neg} negative value(s) is NaN: clamp the input to [eps, ∞) or check the sign` }
        : { hazard: "log of a negative number", fix: `log1p of ${neg} value(s) below -1 is NaN: clamp the input above -1` };
    }
    const deriv = c.phase === "backward" ? "; its derivative is infinite there" : "";
    return c.op === "log"
      ? {
          hazard: "log(0)",
          fix: `log(0) = -∞ (${zeros} zero input(s)${deriv}): use logSoftmax / crossEntropy / binaryCrossEntropyWithLogits from logits, or log(x.clamp(eps))`,
        }
      : {
          hazard: "log(0)",
          fix: `log1p(-1) = log(0) = -∞ (${zeros} input(s) -1${deriv}): for log(1 - p) use logSigmoid / binaryCrossEntropyWithLogits from logits, or clamp the input above -1`,
        };
  },
  (c) => {
    if (c.op !== "acos" && c.op !== "asin") return null;
    const x = opInput(c, 0);
    const outside = count(x, (v) => Math.abs(v) > 1);
    const edge = c.phase === "backward" ? count(x, (v) => Math.abs(v) === 1) : 0;
    if (outside === 0 && edge === 0) return null;
    const what = outside > 0 ? `${outside} value(s) outside [-1, 1] (NaN there)` : `${edge} value(s) at ±1 (infinite derivative)`;
    return {
      hazard: "domain error",
      fix: `${c.op} of ${what}: clamp(-1, 1) first (a cosine can round past ±1)`,
    };
  },
  (c) => {
    if ((c.op !== "sqrt" && c.op !== "rsqrt") || c.phase !== "forward") return null;
    const neg = count(c.inputs[0], (v) => v < 0);
    if (neg === 0) return null;
    return { hazard: "sqrt of a negative number", fix: `${c.op} of ${neg} negative value(s) (E[x²] - E[x]² can round below 0): use variance() / std() / stdPool, or clamp(0) first` };
  },
  (c) => {
    if (c.op !== "exp" && c.op !== "expm1" && c.innerOp !== "exp") return null;
    const x = opInput(c, 0);
    const dtype = floatDtype(x);
    const m = maxOf(x);
    if (!(m > LOG_MAX[dtype])) return null;
    return {
      hazard: "exp overflow",
      fix: `input ${fmt(m)} > ${fmt(LOG_MAX[dtype])} for ${dtype}: use logsumexp / logSoftmax / crossEntropy from logits, or clamp the input`,
    };
  },
  (c) => {
    if (!fromFinite(c)) return null;
    // a parameter among the inputs (or a view of one, as a transposed weight) that holds huge values
    let worst: Tensor | null = null;
    for (const t of allInputs(c)) {
      const p = parameterOf(t);
      if (p && maxAbs(p) >= DIVERGED_WEIGHT && (!worst || maxAbs(p) > maxAbs(worst))) worst = p;
    }
    if (!worst) return null;
    return {
      hazard: "divergence",
      fix: `${worst.name ? `parameter "${worst.name}"` : "a parameter"} holds values up to ${fmt(maxAbs(worst))}: the weights grew over the steps until ${c.innerOp ?? c.op} overflowed: ${EXPLODING}`,
    };
  },
  (c) => {
    if (!fromFinite(c)) return null;
    const dtype = floatDtype(c.output);
    if (c.op === "pow" && c.phase === "forward") {
      const m = maxAbs(c.inputs[0]);
      const p = maxOf(c.inputs[1]);
      if (!(m > 1 && p * Math.log(m) > LOG_MAX[dtype])) return null;
      return {
        hazard: "overflow",
        fix: `pow: ${fmt(m)}^${fmt(p)} would exceed the largest ${dtype}: work in log space (p * log|x|) or float64`,
      };
    }
    const m = Math.max(...allInputs(c).map(maxAbs));
    if (!(m >= largeFor(dtype))) return null;
    return {
      hazard: "overflow",
      fix: `${c.innerOp ?? c.op} of values up to ${fmt(m)}: the result would exceed the largest ${dtype} (Inf, then NaN): scale the values down (standardise inputs and targets); if they grew over the steps: ${EXPLODING}`,
    };
  },
];

/**
 * The hint of the first rule of {@link hintRules} that matches, or null.
 * @example
 * const v = tensor([-1]);
 * findHint({ phase: "forward", op: "sqrt", created: true, inputs: [v], output: v.sqrt() })?.hazard; // "sqrt of a negative number"
 */
export function findHint(c: HintContext): Hint | null {
  for (const r of hintRules) {
    const h = r(c);
    if (h) return h;
  }
  return null;
}

/**
 * The hint for exploding gradients, given the global gradient norms of the last steps (oldest
 * first): when the norm grew at least 100 times or became non-finite; otherwise null.
 * @example
 * explodingGradientHint([1, 10, 1e3])?.hazard; // "exploding gradients"
 * explodingGradientHint([1, 1.1, 0.9]); // null
 */
export function explodingGradientHint(norms: readonly number[]): Hint | null {
  const finite = norms.filter((n) => Number.isFinite(n) && n > 0);
  if (finite.length < 2) return null;
  const first = finite[0]!;
  const last = finite[finite.length - 1]!;
  const growth = last / first;
  if (!(growth >= 100) && norms.every((n) => Number.isFinite(n))) return null;
  const g = Number.isFinite(growth) ? `×${growth.toExponential(0).replace("e+", "e")}` : "to Inf";
  return {
    hazard: "exploding gradients",
    fix: `gradient norm grew ${g} over ${norms.length} steps: exploding gradients: lower the lr, add a schedule (warm-up), clip the norm (clipGradNorm)`,
  };
}
