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
}

const LOG_MAX = { float32: Math.log(maxFinite("float32")), float64: Math.log(maxFinite("float64")) };

function maxOf(t: Tensor | undefined): number {
  if (!t) return NaN;
  const d = contiguousData(t);
  let m = -Infinity;
  for (let i = 0; i < d.length; i++) if (d[i]! > m) m = d[i]!;
  return m;
}
function count(t: Tensor | undefined | null, pred: (v: number) => boolean): number {
  if (!t) return 0;
  const d = contiguousData(t);
  let n = 0;
  for (let i = 0; i < d.length; i++) if (pred(d[i]!)) n++;
  return n;
}
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

/**
 * One rule: a hint for this context, or null when it does not apply.
 * @inline
 */
type Rule = (c: HintContext) => Hint | null;

/**
 * The hint rule table, tried in order by {@link findHint}: each rule recognises one classic way a
 * NaN or Inf is born (log of 0, exp overflow, sqrt of a negative, 0/0, the where() trap, ...)
 * and names the fix.
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
        : `${c.op}'s derivative is infinite at 0 (std of a constant, norm of zeros): put eps inside the sqrt, sqrt(v + eps), or use stdPool / normalize`,
    };
  },
  (c) => {
    if (c.phase !== "backward") return null;
    const zeroInf = c.innerOp === "mul" && c.gradOutput && count(c.gradOutput, (v) => v === 0) > 0 && c.inputs.some((t) => count(t, (v) => !Number.isFinite(v)) > 0);
    if (!zeroInf) return null;
    return {
      hazard: "0 · ∞ in the unselected branch of where()",
      fix: `${c.op}'s gradient meets a zero gradient (a branch masked out by where()) with an infinite derivative: 0 · ∞ = NaN. Make both branches of where() finite`,
    };
  },
  (c) => {
    if (c.op !== "exp" && c.innerOp !== "exp") return null;
    const x = opInput(c, 0);
    const dtype = (x?.dtype === "float64" ? "float64" : "float32") as "float32" | "float64";
    const m = maxOf(x);
    if (!(m > LOG_MAX[dtype])) return null;
    return {
      hazard: "exp overflow",
      fix: `input ${fmt(m)} > ${fmt(LOG_MAX[dtype])} for ${dtype}: use logsumexp / logSoftmax / crossEntropy from logits, or clamp the input`,
    };
  },
  (c) => {
    if (c.op !== "log") return null;
    const x = c.phase === "forward" ? c.inputs[0] : c.forwardInputs?.[0];
    const zeros = count(x, (v) => v === 0);
    const neg = count(x, (v) => v < 0);
    if (zeros === 0 && neg === 0) return null;
    if (neg > 0 && zeros === 0) return { hazard: "log of a negative number", fix: `log of ${neg} negative value(s): clamp the input to [eps, ∞) or check the sign` };
    return {
      hazard: "log(0)",
      fix: `log(0) = -∞ (${zeros} zero input(s)${c.phase === "backward" ? "; its derivative 1/x is infinite there" : ""}): use logSoftmax / crossEntropy / binaryCrossEntropyWithLogits from logits, or log(x.clamp(eps))`,
    };
  },
  (c) => {
    if (c.op !== "div" && c.innerOp !== "div") return null;
    const den = opInput(c, 1);
    const zeros = count(den, (v) => v === 0);
    if (zeros === 0) return null;
    return {
      hazard: "division by zero",
      fix: `${zeros} zero denominator(s) (a zero norm?): use normalize(x, { eps }) / cosineSimilarity, or add eps to the denominator`,
    };
  },
  (c) => {
    if (c.op !== "sqrt" || c.phase !== "forward") return null;
    const neg = count(c.inputs[0], (v) => v < 0);
    if (neg === 0) return null;
    return { hazard: "sqrt of a negative number", fix: `sqrt of ${neg} negative value(s) (E[x²] - E[x]² can round below 0): use variance() / stdPool, or clamp(0) first` };
  },
  (c) => {
    if (!c.created || !c.inputs.every((t) => count(t, (v) => !Number.isFinite(v)) === 0)) return null;
    if (count(c.output, (v) => v === Infinity || v === -Infinity) === 0) return null;
    return {
      hazard: "overflow",
      fix: `${c.innerOp ?? c.op} produced ±Inf from finite inputs: the values exceed the largest ${c.output.dtype}: lower the lr, add a schedule (warm-up), clip the norm (clipGradNorm), or normalise the inputs`,
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
