/**
 * The static hazard audit: run the user's forward-and-loss function once on bounds (interval
 * abstract interpretation), forward and backward, and report every op that can turn finite inputs
 * into NaN or ±Inf anywhere in the given input ranges, with a concrete input that triggers it
 * (confirmed by a real run with anomaly detection on) and the NaN report's hint.
 *
 * How it runs: fn runs once on a sample inside the ranges (the sample fixes the shapes and the
 * branches fn takes) with an engine observer that, for every op, computes bounds of its output
 * from bounds of its inputs with the op's interval rule (`interval` of its op-table entry, see
 * ops/interval.ts). The backward pass is the engine's own: VJPs are written with ops, so each op a
 * VJP runs gets its bounds the same way, unless the op declares a VJP rule (a singular point that
 * the VJP guards with where(), which intervals cannot see). Three refinements beyond plain
 * intervals, as DEBAR found necessary:
 * - known safe composites (normalize, cosineSimilarity, binaryCrossEntropyWithLogits) are units
 *   with their own rules (autograd/composite.ts); ops inside them are not reported;
 * - a where() whose condition compares x with a constant (x > 0, x != 0) refines x's bounds in the
 *   branch that reads x (the safe `where(x > 0, log(where(x > 0, x, 1)), 0)` idiom);
 * - a tensor and its detach() share bounds.
 *
 * What stays imprecise: intervals do not relate elements (x - mean(x) spans the whole range), so
 * deep stacks widen quickly and a finding may be an over-approximation, hence the witness search;
 * control flow follows the sample; bounds are rounded to nearest in the tensor's dtype.
 */
import { ValueError } from "../errors.js";
import { currentVjp, grad, setEngineObserver, type EngineObserver } from "../autograd/engine.js";
import { setCompositeObserver, type CompositeDef } from "../autograd/composite.js";
import { withGradMode } from "../autograd/grad-mode.js";
import type { Bounds, IntervalRules, Node, OpDef } from "../autograd/node.js";
import { denseView, isBilinear } from "../ops/interval.js";
import { opTable } from "../ops/table.js";
import { isFloat, maxFinite, toDtype, type DType, type FloatDType } from "../tensor/dtype.js";
import { allFinite, contiguousData } from "../tensor/layout.js";
import { sameShape, shapeStr, type Shape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { AnomalyError, type AnomalyReport } from "./report.js";
import { detectAnomaly, userCallSite } from "./anomaly.js";
import { findHint, type Hint } from "./hints.js";

/**
 * One argument of the audited function: a tensor (taken as it is: exact values, e.g. class
 * targets or a mask), or a range of values.
 * @example
 * const x: AuditInput = { shape: [8, 64], low: 0, high: 16 }; // pixel values
 * const y: AuditInput = { shape: [8], low: 0, high: 9, dtype: "int32" }; // any class index
 * const z: AuditInput = { example: x, margin: 0.1 }; // a batch x, give or take 0.1
 * const w: AuditInput = { shape: [8, 4], any: true }; // any finite float32
 */
export type AuditInput = Tensor | AuditRange;

/** A range of inputs (see {@link AuditInput}). */
export interface AuditRange {
  /** The shape (or the example's). */
  shape?: Shape;
  /** Lowest value (inclusive). */
  low?: number;
  /** Highest value (inclusive). */
  high?: number;
  /** A tensor around which values lie, within `margin`. */
  example?: Tensor;
  /** How far from the example values may lie (default 0). */
  margin?: number;
  /** Any finite value of the dtype. */
  any?: boolean;
  /** "float32" (default), "float64" or "int32" (an integer range). */
  dtype?: "float32" | "float64" | "int32";
}

/** Options of {@link audit}. */
export interface AuditOptions {
  /** Audit the backward pass too (default true). */
  backward?: boolean;
  /** Parameters (leaves that require grad) lie within ± this of their current values (default 0: as they are). */
  parameterMargin?: number;
  /** Search for and confirm a triggering input for each finding (default true). */
  witness?: boolean;
  /** At most this many real runs for the witness search (default 24; it stops sooner once 8 runs in a row past the 16th confirm nothing). */
  maxRuns?: number;
  /** Seed of the sample and the witness search (default 1). */
  seed?: number;
  /**
   * Also audit the gradients of the float inputs given as ranges (default: only when fn has no
   * parameter, as a pure function of its inputs; training never differentiates the data).
   */
  inputGradients?: boolean;
}

/** A concrete input that triggers a finding, run with anomaly detection on. */
export interface AuditWitness {
  /** The arguments given to fn. */
  inputs: Tensor[];
  /** The anomaly report of the real run (its op and phase match the finding). */
  report: AnomalyReport;
}

/** One hazard the audit found. */
export interface AuditFinding {
  /** The op whose value (forward) or gradient (backward) can be NaN or ±Inf. */
  op: string;
  /** Backward only: the op inside the VJP that can produce it. */
  innerOp?: string;
  /** "forward" (the value) or "backward" (the gradient). */
  phase: "forward" | "backward";
  /** What can appear: "NaN", "+Inf", "-Inf" or a mix. */
  kind: string;
  /** The user's line that called the op (the first stack frame outside safegrad). */
  callSite?: string;
  /** Bounds of the op's inputs (of the inner op's, in backward) where it happens: [lowest, highest] each. */
  intervals: [number, number][];
  /** The hint of the NaN report for this hazard (or null). */
  hint: Hint | null;
  /** An input that triggers it, or null when the search found none (the finding may be an over-approximation). */
  witness: AuditWitness | null;
}

/**
 * What {@link audit} returns: the findings, how many ops were interpreted on bounds and how many
 * real runs the witness search made.
 * @example
 * const r = audit((v) => v.log().sum(), [{ shape: [3], low: 0, high: 1 }]);
 * r.findings[0]!.op; // "log"
 * r.findings[0]!.witness !== null; // true: a run with a 0 gave -Infinity
 */
export class AuditReport {
  constructor(
    /** The hazards found (empty: no op can give NaN/Inf for any input in the ranges). */
    readonly findings: AuditFinding[],
    /** Ops interpreted on bounds (forward and backward). */
    readonly ops: number,
    /** Real runs made for the witness search. */
    readonly runs: number,
    /** Wall time of the audit in ms. */
    readonly ms: number,
    /** Notes: ops without an interval rule, taken at their sample values. */
    readonly notes: string[],
  ) {}
  /**
   * A readable summary, one block per finding.
   * @example
   * console.log(audit((v) => v.exp().sum(), [{ shape: [4, 3], low: -1, high: 100 }]).toString());
   */
  toString(): string {
    const head = `audit: ${this.findings.length === 0 ? "no hazard" : `${this.findings.length} hazard(s)`} (${this.ops} ops on bounds, ${this.runs} witness run(s))`;
    const lines = [head];
    this.findings.forEach((f, i) => {
      const what = f.phase === "forward" ? `${f.op}` : `${f.op} backward (${f.innerOp})`;
      lines.push(`${i + 1}. ${what}: can give ${f.kind}${f.callSite ? ` at ${f.callSite}` : ""}`);
      lines.push(`   inputs in ${f.intervals.map(([a, b]) => `[${num(a)}, ${num(b)}]`).join(", ")}`);
      if (f.witness) lines.push(`   confirmed: ${f.witness.report.kind} in a real run (${f.witness.inputs.map((t) => shapeStr(t.shape)).join(", ")})`);
      else lines.push("   not confirmed by a run (may be an over-approximation)");
      if (f.hint) lines.push(`   hint: ${f.hint.hazard}: ${f.hint.fix}`);
    });
    for (const n of this.notes) lines.push(`note: ${n}`);
    return lines.join("\n");
  }
}

const num = (v: number): string => (v === 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5) ? String(+v.toPrecision(4)) : v.toExponential(2));

// ------------------------------------------------------------------ bounds bookkeeping
type Cmp = "gt" | "ge" | "lt" | "le" | "ne" | "eq";
const NEGATE: Record<Cmp, Cmp> = { gt: "le", ge: "lt", lt: "ge", le: "gt", ne: "eq", eq: "ne" };
const MIRROR: Record<Cmp, Cmp> = { gt: "lt", ge: "le", lt: "gt", le: "ge", ne: "ne", eq: "eq" };

interface UnitRecord {
  def: CompositeDef;
  inputs: readonly Tensor[];
  attrs: unknown;
  out: Tensor | null;
  grads: (Bounds | null)[] | null;
  handed: Set<number>;
}

/** The next float of the dtype after c in direction dir. */
function nextAfter(c: number, dir: 1 | -1, dtype: DType): number {
  if (dtype === "float32") {
    const f = new Float32Array([c]);
    const i = new Int32Array(f.buffer);
    if (c === 0) return dir * 1.401298464324817e-45;
    i[0]! += (c > 0 ? 1 : -1) * dir;
    return f[0]!;
  }
  if (c === 0) return dir * Number.MIN_VALUE;
  const d = new Float64Array([c]);
  const b = new BigInt64Array(d.buffer);
  b[0]! += BigInt((c > 0 ? 1 : -1) * dir);
  return d[0]!;
}

class Interpreter {
  readonly bounds = new WeakMap<Tensor, Bounds>();
  readonly byStorage = new WeakMap<object, Tensor>();
  readonly guards = new WeakMap<Tensor, { x: Tensor; cmp: Cmp; c: number }>();
  readonly castOf = new WeakMap<Tensor, Tensor>();
  /** Bounds not computed yet (see lazyMagnitude): |bounds| <= m. */
  readonly lazy = new WeakMap<Tensor, { m: number; force: () => Bounds }>();
  readonly declared = new Map<Node, readonly (Bounds | null)[] | undefined>();
  readonly absOfStorage = new WeakMap<object, number>();
  readonly unitOf = new WeakMap<Node, UnitRecord>();
  readonly unitOut = new Map<Node, UnitRecord>();
  readonly findings: AuditFinding[] = [];
  readonly seen = new Set<string>();
  readonly leaves = new Set<Tensor>();
  readonly notes = new Set<string>();
  unit: UnitRecord | null = null;
  unitDepth = 0;
  /** Whether fn's output required grad with the inputs not requiring it (fn has parameters). */
  paramOut = false;
  /** Take an op whose inputs are all exact (their bounds are the inputs themselves) as exact (off in intervalRun, which tests the rules). */
  exactPoints = true;
  busy = false;
  ops = 0;
  inBackward = false;
  constructor(readonly parameterMargin: number) {}

  boundsOf(t: Tensor): Bounds {
    const b = this.bounds.get(t);
    if (b) return b;
    const l = this.lazy.get(t);
    if (l) {
      this.lazy.delete(t);
      return l.force();
    }
    // detach() and plain views share the storage, shape and strides of a tensor with bounds
    const s = this.byStorage.get(t.storage);
    if (s && s !== t && sameShape(s.shape, t.shape) && s.offset === t.offset && s.strides.every((v, i) => v === t.strides[i])) {
      const sb = this.boundsOf(s);
      this.bounds.set(t, sb);
      return sb;
    }
    let r: Bounds = { lo: t, hi: t };
    if (!t.gradFn && t.requiresGrad) {
      this.leaves.add(t);
      if (this.parameterMargin > 0 && isFloat(t.dtype)) r = this.run(() => ({ lo: t.detach().sub(this.parameterMargin), hi: t.detach().add(this.parameterMargin) }));
    }
    this.set(t, r);
    return r;
  }

  set(t: Tensor, b: Bounds): void {
    this.bounds.set(t, b);
    if (!this.byStorage.has(t.storage)) this.byStorage.set(t.storage, t);
  }

  /** Follow value-preserving casts back to the tensor they copy. */
  root(t: Tensor): Tensor {
    let cur = t;
    for (let k = 0; k < 8; k++) {
      const c = this.castOf.get(cur);
      if (!c) break;
      cur = c;
    }
    return cur;
  }

  /** Bounds of x where `x cmp c` holds. */
  refine(b: Bounds, cmp: Cmp, c: number): Bounds {
    const dt = b.lo.dtype;
    switch (cmp) {
      case "gt":
        return { lo: b.lo.maximum(nextAfter(c, 1, dt)), hi: b.hi };
      case "ge":
        return { lo: b.lo.maximum(c), hi: b.hi };
      case "lt":
        return { lo: b.lo, hi: b.hi.minimum(nextAfter(c, -1, dt)) };
      case "le":
        return { lo: b.lo, hi: b.hi.minimum(c) };
      case "eq":
        return { lo: b.lo.maximum(c), hi: b.hi.minimum(c) };
      case "ne":
        return { lo: b.lo.where(b.lo.ne(c), nextAfter(c, 1, dt)), hi: b.hi.where(b.hi.ne(c), nextAfter(c, -1, dt)) };
    }
  }

  recordGuard(op: string, inputs: readonly Tensor[], out: Tensor): void {
    if (!(op in NEGATE)) {
      if (op === "logicalNot") {
        const g = this.guards.get(inputs[0]!);
        if (g) this.guards.set(out, { ...g, cmp: NEGATE[g.cmp] });
      }
      return;
    }
    const [a, b] = inputs as [Tensor, Tensor];
    const scalarOf = (t: Tensor): number | null => {
      if (t.numel !== 1) return null;
      const tb = this.boundsOf(t);
      const v = contiguousData(tb.lo)[0]!;
      return v === contiguousData(tb.hi)[0] ? v : null;
    };
    const cb = scalarOf(b);
    if (cb !== null && a.numel > 1) return void this.guards.set(out, { x: this.root(a), cmp: op as Cmp, c: cb });
    const ca = scalarOf(a);
    if (ca !== null && b.numel > 1) this.guards.set(out, { x: this.root(b), cmp: MIRROR[op as Cmp], c: ca });
  }

  inputBounds(op: string, inputs: readonly Tensor[]): Bounds[] {
    const bs = inputs.map((t) => this.boundsOf(t));
    if (op === "where") {
      const g = this.guards.get(inputs[0]!);
      if (g) {
        if (this.root(inputs[1]!) === g.x) bs[1] = this.refine(bs[1]!, g.cmp, g.c);
        if (this.root(inputs[2]!) === g.x) bs[2] = this.refine(bs[2]!, NEGATE[g.cmp], g.c);
      }
    }
    return bs;
  }

  /** A declared VJP rule's input gradients for a node (computed once), or undefined. */
  declaredVjp(node: Node, g: Tensor): readonly (Bounds | null)[] | undefined {
    if (this.declared.has(node)) return this.declared.get(node);
    const rules = node.def.interval;
    let r: readonly (Bounds | null)[] | undefined;
    if (rules?.vjp && node.output) {
      r = this.run(() =>
        rules.vjp!({
          g: this.boundsOf(g),
          bounds: node.inputs.map((t) => this.boundsOf(t)),
          inputs: node.inputs,
          attrs: node.attrs,
          out: node.output!,
          outBounds: this.boundsOf(node.output!),
          forward: (i, a) => node.def.forward(i, a),
        }),
      );
    }
    this.declared.set(node, r);
    return r;
  }

  run<T>(f: () => T): T {
    const was = this.busy;
    this.busy = true;
    try {
      return withGradMode(false, f);
    } finally {
      this.busy = was;
    }
  }

  report(phase: "forward" | "backward", op: string, innerOp: string | undefined, node: Node | null, inBs: readonly Bounds[], out: Bounds, inputs: readonly Tensor[], attrs: unknown): void {
    const callSite = userCallSite(phase === "backward" ? (node?.creation ?? undefined) : new Error());
    const key = `${phase}|${op}|${innerOp ?? ""}|${callSite ?? ""}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const kind = kindOf(out);
    const intervals = inBs.map((b) => hullOf(b));
    this.findings.push({
      op,
      ...(innerOp ? { innerOp } : {}),
      phase,
      kind,
      ...(callSite ? { callSite } : {}),
      intervals,
      hint: probeHint(phase, op, innerOp, inputs, intervals, node, attrs),
      witness: null,
    });
  }

  /** The bounds of an op's output from its inputs' (its rule), checked for NaN/Inf created from finite bounds. */
  interpretOp(op: string, def: OpDef, rules: IntervalRules, inputs: readonly Tensor[], out: Tensor, attrs: unknown, node: Node | null, vjp: { node: Node; g: Tensor } | null): Bounds {
    const inBs = this.run(() => this.inputBounds(op, inputs));
    // Inputs known exactly (parameters, masks, constants, their transposes): the output is
    // known exactly too, the sample's own (the rule would compute it again, twice).
    const exact = this.exactPoints && inBs.every((x, i) => x.lo === inputs[i] && x.hi === inputs[i]);
    let b = exact ? { lo: out, hi: out } : this.run(() => rules.forward({ bounds: inBs, inputs, attrs, out, forward: (i, a) => def.forward(i, a) }));
    if (isFloat(out.dtype)) {
      // an elementwise op beside intended infinities (a -Infinity mask): lane by lane
      const created = (): boolean =>
        inBs.every((x, i) => !isFloat(inputs[i]!.dtype) || finite(x)) || (def.elementwise === true && this.run(() => createdInLanes(inBs, inputs, b)));
      // a view or copy of one input's bounds (reshape, permute, a slice): finite where they are, without a scan
      const f0 = inBs.length === 1 ? finiteCache.get(inBs[0]!) : undefined;
      if (f0 !== undefined && !finiteCache.has(b) && ((SAME_ELEMENTS.has(op) && out.numel > 0) || (f0 && SUBSET.has(op)))) finiteCache.set(b, f0);
      if (!rules.constant && !finite(b) && created()) {
        if (vjp) this.report("backward", vjp.node.op, op, vjp.node, inBs, b, inputs, attrs);
        else this.report(this.inBackward ? "backward" : "forward", this.inBackward ? "(gradient sum)" : op, undefined, node, inBs, b, inputs, attrs);
      }
      b = this.run(() => sanitize(b));
    }
    this.set(out, b);
    if (op === "cast" && isFloat(out.dtype) && isFloat(inputs[0]!.dtype)) this.castOf.set(out, inputs[0]!);
    if (out.dtype === "bool") this.recordGuard(op, inputs, out);
    return b;
  }

  /** Defer an output's bounds: |value bounds| <= m, computed by force when an op reads them. */
  setLazy(t: Tensor, m: number, force: () => Bounds): void {
    this.lazy.set(t, { m, force });
    if (!this.byStorage.has(t.storage)) this.byStorage.set(t.storage, t);
  }

  /** The largest |bound| of a tensor's bounds (a lazy one's m, without computing them); NaN for a NaN bound. */
  magnitude(t: Tensor): number {
    const l = this.lazy.get(t);
    if (l) return l.m;
    const b = this.boundsOf(t);
    let m = magnitudeCache.get(b);
    if (m === undefined) magnitudeCache.set(b, (m = Math.max(this.maxAbs(b.lo), b.hi === b.lo ? 0 : this.maxAbs(b.hi))));
    return m;
  }

  /**
   * max |t| of a bound; one scan per storage when t reads all of it (x and x^T, W and W^T share
   * theirs). NOTE: magnitudes are taken in the backward only, when no storage of a bound changes.
   */
  maxAbs(t: Tensor): number {
    const v = denseView(t);
    if (v?.offset !== 0 || v.numel !== t.storage.length) return maxAbsOf(t);
    let m = this.absOfStorage.get(t.storage);
    if (m === undefined) this.absOfStorage.set(t.storage, (m = maxAbsOf(v)));
    return m;
  }

  /**
   * A finite bound of |output| for an op in the backward whose bounds can wait, or null: a
   * bilinear op (each output a sum of at most min(numel a, numel b) products of an a and a b),
   * and views, zero padding and sums of a lazy input.
   */
  lazyMagnitude(op: string, rules: IntervalRules, inputs: readonly Tensor[], out: Tensor, attrs: unknown): number | null {
    if (isBilinear(rules)) {
      if (inputs.every((t) => this.bounds.get(t)?.lo === t && this.bounds.get(t)?.hi === t)) return null; // exact: eager is cheaper
      return Math.min(inputs[0]!.numel, inputs[1]!.numel) * this.magnitude(inputs[0]!) * this.magnitude(inputs[1]!);
    }
    if (!PASS.has(op) || !inputs.some((t) => this.lazy.has(t))) return null;
    const m0 = this.magnitude(inputs[0]!);
    if (op === "pad") return Math.max(m0, Math.abs((attrs as { value: number }).value));
    if (op === "sum") return (inputs[0]!.numel / Math.max(out.numel, 1)) * m0;
    if (op !== "add") return m0; // a view
    return inputs[1]!.dtype === out.dtype && inputs[0]!.dtype === out.dtype ? m0 + this.magnitude(inputs[1]!) : null;
  }

  readonly engine: EngineObserver = {
    forward: (op, inputs, out, attrs, node) => {
      if (this.busy) return;
      if (node) node.creation = new Error();
      if (this.unitDepth > 0) {
        if (node) this.unitOf.set(node, this.unit!);
        return;
      }
      const vjp = currentVjp();
      if (vjp && (this.unitOf.has(vjp.node) || this.declaredVjp(vjp.node, vjp.g) !== undefined)) return;
      const entry = opTable.get(op);
      const rules: IntervalRules | undefined = entry?.def.interval;
      if (!entry || !rules) {
        this.notes.add(`${op} has no interval rule: taken at its sample value`);
        return;
      }
      this.ops++;
      // In the backward, a product (matmul, conv) or a view or sum of lazy gradient bounds whose
      // size is bounded by a finite number cannot overflow: its bounds wait until an op reads them
      // (a weight's gradient is read by none: its three products are never computed).
      if (this.inBackward && isFloat(out.dtype) && this.exactPoints) {
        const m = this.lazyMagnitude(op, rules, inputs, out, attrs);
        if (m !== null && m < maxFinite(out.dtype as FloatDType) / 4) {
          this.setLazy(out, m, () => this.interpretOp(op, entry.def, rules, inputs, out, attrs, node, vjp));
          return;
        }
      }
      this.interpretOp(op, entry.def, rules, inputs, out, attrs, node, vjp);
    },
    backward: (node, gradOut, gradIns) => {
      const unit = this.unitOf.get(node);
      if (unit) {
        if (this.unitOut.get(node) === unit && !unit.grads) {
          const u = unit;
          u.grads = this.run(() =>
            [
              ...(u.def.interval.vjp({
                g: this.boundsOf(gradOut),
                bounds: u.inputs.map((t) => this.boundsOf(t)),
                inputs: u.inputs,
                attrs: u.attrs,
                out: u.out!,
                outBounds: this.boundsOf(u.out!),
                forward: () => u.out!,
              }) ?? []),
            ].map((b) => (b ? sanitize(b) : b)),
          );
          this.checkGrads(u.def.name, node, u.grads, u.inputs, gradOut);
        }
        gradIns.forEach((gi, i) => {
          if (!gi) return;
          const k = unit.inputs.indexOf(node.inputs[i]!);
          if (k < 0) return;
          const ub = unit.grads?.[k];
          if (ub && !unit.handed.has(k)) {
            unit.handed.add(k);
            this.set(gi, this.run(() => sumToBounds(ub, gi.shape)));
          } else this.set(gi, this.run(() => ({ lo: gi.mul(0), hi: gi.mul(0) })));
        });
        return;
      }
      const d = this.declaredVjp(node, gradOut);
      if (d === undefined) return;
      const sums = this.run(() => d.map((b, i) => (b && gradIns[i] ? sanitize(sumToBounds(b, gradIns[i]!.shape)) : null)));
      this.checkGrads(node.op, node, sums, node.inputs, gradOut);
      gradIns.forEach((gi, i) => {
        const b = sums[i];
        if (gi && b) this.set(gi, b);
      });
    },
  };

  /** A declared VJP (or unit) rule whose gradient bounds are not finite from finite bounds. */
  checkGrads(op: string, node: Node, grads: readonly (Bounds | null)[], inputs: readonly Tensor[], gradOut: Tensor): void {
    const inBs = inputs.map((t) => this.boundsOf(t));
    if (!finite(this.boundsOf(gradOut)) || !inBs.every((b, i) => !isFloat(inputs[i]!.dtype) || finite(b))) return;
    grads.forEach((g) => {
      if (g && !finite(g)) this.report("backward", op, "vjp", node, inBs, g, inputs, node.attrs);
    });
  }

  readonly composites = {
    enter: (def: CompositeDef, inputs: readonly Tensor[], attrs: unknown): void => {
      if (this.busy) return;
      this.unitDepth++;
      if (this.unitDepth > 1) return;
      for (const t of inputs) this.boundsOf(t);
      this.unit = { def, inputs, attrs, out: null, grads: null, handed: new Set() };
    },
    exit: (out: Tensor | null): void => {
      if (this.busy) return;
      this.unitDepth--;
      if (this.unitDepth > 0 || !this.unit) return;
      const u = this.unit;
      this.unit = null;
      if (!out || u.inputs.includes(out)) return;
      u.out = out;
      this.ops++;
      const inBs = u.inputs.map((t) => this.boundsOf(t));
      const b = this.run(() => u.def.interval.forward({ bounds: inBs, inputs: u.inputs, attrs: u.attrs, out, forward: () => out }));
      if (inBs.every(finite) && !finite(b)) this.report("forward", u.def.name, undefined, null, inBs, b, u.inputs, u.attrs);
      this.set(out, this.run(() => sanitize(b)));
      if (out.gradFn) this.unitOut.set(out.gradFn, u);
    },
  };
}

/** Whether some lane of an elementwise op's output bounds is NaN/Inf where every input's bounds are finite. */
function createdInLanes(inBs: readonly Bounds[], inputs: readonly Tensor[], out: Bounds): boolean {
  const ok = (b: Bounds): Tensor => b.lo.abs().lt(Infinity).logicalAnd(b.hi.abs().lt(Infinity));
  let lanes = ok(out).logicalNot();
  inBs.forEach((b, i) => {
    if (isFloat(inputs[i]!.dtype)) lanes = lanes.logicalAnd(ok(b).expand(lanes.shape));
  });
  return (lanes.toTypedArray() as Uint8Array).some((v) => v !== 0);
}

/** Sum gradient bounds over broadcast dims back to a shape. */
function sumToBounds(b: Bounds, shape: Shape): Bounds {
  if (sameShape(b.lo.shape, shape)) return b;
  const lead = b.lo.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < b.lo.ndim; i++) if (i < lead || (shape[i - lead] === 1 && b.lo.shape[i] !== 1)) dims.push(i);
  const f = (t: Tensor): Tensor => t.sum(dims, true).reshape(shape);
  return { lo: f(b.lo), hi: f(b.hi) };
}

const magnitudeCache = new WeakMap<Bounds, number>();
/** Ops whose output bounds hold the elements of their one input's bounds (none other): finite where the input's are. */
const SAME_ELEMENTS = new Set(["reshape", "permute", "expand", "contiguous"]);
/** Ops whose output bounds hold some elements of their one input's bounds: finite if the input's are. */
const SUBSET = new Set(["narrow", "slice"]);
/** The ops that pass a lazy input's size bound on (views, zero padding, sums, adds). */
const PASS = new Set(["reshape", "permute", "expand", "narrow", "pad", "sum", "add"]);

/** max |t| (NaN if t holds a NaN). */
function maxAbsOf(t: Tensor): number {
  if (!isFloat(t.dtype)) return 0;
  const d = contiguousData(denseView(t) ?? t);
  let m = 0;
  for (let i = 0; i < d.length; i++) {
    const v = Math.abs(d[i]!);
    if (!(v <= m)) m = v !== v ? NaN : v;
    if (m !== m) return NaN;
  }
  return m;
}

const finiteCache = new WeakMap<Bounds, boolean>();
const finite = (b: Bounds): boolean => {
  let r = finiteCache.get(b);
  if (r === undefined) finiteCache.set(b, (r = scanFinite(b)));
  return r;
};
// NOTE: a permuted, sliced or broadcast bound is read in place as the dense block of its storage it reads
const finiteOf = (t: Tensor): boolean => allFinite(denseView(t) ?? t);
const scanFinite = (b: Bounds): boolean => !isFloat(b.lo.dtype) || (finiteOf(b.lo) && (b.lo === b.hi || finiteOf(b.hi)));

function sanitize(b: Bounds): Bounds {
  if (finite(b)) return b;
  return { lo: b.lo.where(b.lo.eq(b.lo), -Infinity), hi: b.hi.where(b.hi.eq(b.hi), Infinity) };
}

function kindOf(b: Bounds): string {
  let nan = false;
  let pos = false;
  let neg = false;
  for (const t of [b.lo, b.hi]) {
    const d = contiguousData(t);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v !== v) nan = true;
      else if (v === Infinity) pos = true;
      else if (v === -Infinity) neg = true;
    }
  }
  return [nan ? "NaN" : "", pos ? "+Inf" : "", neg ? "-Inf" : ""].filter(Boolean).join(" and ") || "non-finite value";
}

function hullOf(b: Bounds): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const l = contiguousData(b.lo);
  const h = contiguousData(b.hi);
  for (let i = 0; i < l.length; i++) if (l[i]! < lo) lo = l[i]!;
  for (let i = 0; i < h.length; i++) if (h[i]! > hi) hi = h[i]!;
  return l.length ? [Number(lo), Number(hi)] : [0, 0];
}

/** The NaN report's hint for a static finding: its rules see tensors holding the interval's ends (and 0, ±1 inside). */
function probeHint(phase: "forward" | "backward", op: string, innerOp: string | undefined, inputs: readonly Tensor[], intervals: [number, number][], node: Node | null, attrs: unknown): Hint | null {
  const probe = (t: Tensor, [lo, hi]: [number, number]): Tensor => {
    if (op === "var" || op === "std") return t;
    const vals = [lo, hi, ...[0, 1, -1].filter((v) => v > lo && v < hi)];
    return new Tensor(toDtype(vals, t.dtype), [vals.length]);
  };
  const probes = inputs.map((t, i) => probe(t, intervals[i] ?? [0, 0]));
  try {
    if (phase === "forward") return findHint({ phase, op, created: true, inputs: probes, output: probes[0] ?? inputs[0]!, attrs });
    const fwd = node?.inputs.length ? node.inputs.map((t) => probe(t, [0, 0])) : undefined;
    return findHint({ phase, op, innerOp, created: true, inputs: probes, forwardInputs: fwd, output: probes[0] ?? inputs[0]!, attrs: node?.attrs });
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ inputs and the witness search
/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Spec {
  /** A given tensor (a point). */
  fixed?: Tensor;
  lo: Float64Array;
  hi: Float64Array;
  shape: Shape;
  dtype: "float32" | "float64" | "int32";
}

function specOf(inp: AuditInput, i: number): Spec {
  if (inp instanceof Tensor) return { fixed: inp, lo: new Float64Array(0), hi: new Float64Array(0), shape: inp.shape, dtype: inp.dtype as Spec["dtype"] };
  const dtype = inp.dtype ?? (inp.example && isFloat(inp.example.dtype) ? (inp.example.dtype as FloatDType) : "float32");
  const shape = inp.shape ?? inp.example?.shape;
  if (!shape) throw new ValueError("audit", `input ${i}: give a shape or an example tensor`);
  const n = shape.reduce((a, s) => a * s, 1);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  if (inp.example) {
    const d = contiguousData(inp.example);
    const m = inp.margin ?? 0;
    for (let k = 0; k < n; k++) {
      lo[k] = Number(d[k]) - m;
      hi[k] = Number(d[k]) + m;
    }
  } else {
    const big = dtype === "int32" ? 2 ** 31 - 1 : maxFinite(dtype);
    const low = inp.any ? -big : (inp.low ?? -big);
    const high = inp.any ? big : (inp.high ?? big);
    if (!(low <= high)) throw new ValueError("audit", `input ${i}: low ${low} must be <= high ${high}`);
    lo.fill(low);
    hi.fill(high);
  }
  return { lo, hi, shape, dtype };
}


function make(spec: Spec, values: Float64Array): Tensor {
  return new Tensor(toDtype(spec.dtype === "int32" ? values.map(Math.round) : values, spec.dtype), spec.shape);
}

/** Candidate inputs for the witness search: random points, the corners, the ends, zeros, equal arguments, constant rows. */
function* candidates(specs: Spec[], seed: number): Generator<Tensor[]> {
  const r = rng(seed + 17);
  const each = (f: (s: Spec, k: number) => number): Tensor[] => specs.map((s) => s.fixed ?? make(s, Float64Array.from(s.lo, (_, k) => f(s, k))));
  const mid = (s: Spec, k: number): number => (Math.max(s.lo[k]!, -1e30) + Math.min(s.hi[k]!, 1e30)) / 2;
  const inRange = (s: Spec, k: number, v: number): number => Math.min(Math.max(v, s.lo[k]!), s.hi[k]!);
  const uni = (s: Spec, k: number): number => {
    const lo = Math.max(s.lo[k]!, -1e6);
    const hi = Math.min(s.hi[k]!, 1e6);
    return lo + (hi - lo) * r();
  };
  yield each((s, k) => (r() < 0.5 ? s.lo[k]! : s.hi[k]!));
  yield each((s, k) => s.hi[k]!);
  yield each((s, k) => s.lo[k]!);
  yield each((s, k) => inRange(s, k, 0));
  // equal float arguments of one shape (a cosine of a vector with itself)
  const equal = (): Tensor[] => {
    const first = each(uni);
    return first.map((t, i) => (specs[i]!.fixed || !isFloat(t.dtype) ? t : (first.find((u, j) => !specs[j]!.fixed && sameShape(u.shape, t.shape) && u.dtype === t.dtype) ?? t)));
  };
  yield equal();
  yield each((s, k) => inRange(s, k, 1));
  yield each((s, k) => inRange(s, k, -1));
  yield each(mid);
  for (;;) {
    yield each((s, k) => (r() < 0.2 ? (r() < 0.5 ? s.lo[k]! : s.hi[k]!) : uni(s, k)));
    yield each(uni);
    yield equal();
  }
}

/** Run fn (and its backward) with anomaly detection on; the report of the first NaN/Inf, or null. */
function realRun(fn: (...args: Tensor[]) => Tensor, args: Tensor[], backward: boolean, inputGrads: boolean, backwardOnly = false): AnomalyReport | null {
  try {
    const ins = args.map((t) => (isFloat(t.dtype) ? t.detach().clone() : t));
    if (inputGrads) for (const t of ins) if (isFloat(t.dtype)) t.requiresGrad = true;
    const run = (): Tensor | null => fn(...ins);
    // backwardOnly: the forward's own NaN/Inf (reported already) does not hide a gradient's
    const out = backwardOnly ? run() : detectAnomaly(run);
    if (!backward || !(out instanceof Tensor) || !out.requiresGrad) return null;
    const leaves = collectLeaves(out);
    if (leaves.length) detectAnomaly(() => grad(out.numel === 1 ? out : out.sum(), leaves, { allowUnused: true }));
  } catch (e) {
    if (e instanceof AnomalyError) return e.report;
    return null;
  }
  return null;
}

/** The leaves that require grad below a tensor. */
function collectLeaves(t: Tensor): Tensor[] {
  const out = new Set<Tensor>();
  const seen = new Set<Node>();
  const stack: Tensor[] = [t];
  while (stack.length) {
    const c = stack.pop()!;
    const n = c.gradFn;
    if (!n) {
      if (c.requiresGrad) out.add(c);
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...out];
}

const matches = (f: AuditFinding, r: AnomalyReport): boolean =>
  r.created && r.phase === f.phase && (r.op === f.op || (f.op === "(gradient sum)" && r.phase === "backward")) && (f.phase === "forward" || f.innerOp === "vjp" || r.innerOp === f.innerOp);

/** One run of fn on bounds (forward, and backward unless options.backward is false). */
function interpret(fn: (...args: Tensor[]) => Tensor, args: readonly Tensor[], specs: readonly Spec[], inputGrads: boolean, options: AuditOptions): Interpreter {
  const ip = new Interpreter(options.parameterMargin ?? 0);
  specs.forEach((s, i) => {
    const t = args[i]!;
    if (s.fixed) return;
    if (isFloat(t.dtype) && inputGrads) t.requiresGrad = true;
    ip.set(t, { lo: make(s, s.lo), hi: make(s, s.hi) });
  });
  const prevEngine = setEngineObserver(ip.engine);
  const prevComposite = setCompositeObserver(ip.composites);
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(stackLimit, 64);
  try {
    withGradMode(true, () => {
      const out = fn(...args);
      if (!(out instanceof Tensor)) throw new ValueError("audit", "fn must return a tensor (the loss)");
      ip.paramOut = out.requiresGrad;
      if (!inputGrads && options.inputGradients === undefined && !out.requiresGrad) return; // no parameter: run again
      if ((options.backward ?? true) && out.requiresGrad) {
        const leaves = collectLeaves(out);
        for (const l of leaves) ip.boundsOf(l);
        ip.inBackward = true;
        const root = out.numel === 1 ? out : out.sum();
        if (leaves.length) grad(root, leaves, { allowUnused: true });
      }
    });
  } finally {
    setEngineObserver(prevEngine);
    setCompositeObserver(prevComposite);
    Error.stackTraceLimit = stackLimit;
  }
  return ip;
}

/**
 * Audit `fn` (a model's forward and its loss, as you write it) for NaN/Inf hazards before training:
 * runs it once on bounds of its inputs (interval abstract interpretation, forward and backward) and
 * reports each op that can turn finite values into NaN or ±Inf for some input in the ranges: the op,
 * your line that called it, the phase (value or gradient), the offending input bounds, a concrete
 * input that triggers it (searched inside the ranges and confirmed by a real run with anomaly
 * detection on) and the NaN report's hint. Parameters are taken at their current values (or within
 * `parameterMargin`). The library's safe functions (logSoftmax, crossEntropy, normalize, layerNorm,
 * stdPool, cosineSimilarity, binaryCrossEntropyWithLogits, masked softmax, ...) give no finding.
 *
 * Each argument of fn is a tensor (exact values, such as class targets) or a range
 * ({@link AuditInput}). Control flow follows one sample inside the ranges.
 * @example
 * const model = new Linear(4, 3);
 * const report = audit(
 *   (x, y) => crossEntropy(model.forward(x), y),
 *   [{ shape: [8, 4], low: -10, high: 10 }, tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: "int32" })],
 * );
 * report.findings.length; // 0: logSoftmax + gather cannot overflow
 * const bad = audit((x) => x.softmax(1).log().sum(), [{ shape: [2, 3], low: -100, high: 100 }]);
 * bad.findings[0]!.op; // "log": softmax can underflow to 0 in float32
 */
export function audit(fn: (...args: Tensor[]) => Tensor, inputs: readonly AuditInput[], options: AuditOptions = {}): AuditReport {
  const t0 = performance.now();
  const seed = options.seed ?? 1;
  const specs = inputs.map(specOf);
  const r = rng(seed);
  const args = specs.map((s) => s.fixed ?? make(s, Float64Array.from(s.lo, (lo, k) => {
    const a = Math.max(lo, -1e6);
    const b = Math.min(s.hi[k]!, 1e6);
    return a > b ? lo : a + (b - a) * r();
  })));
  // Differentiate the inputs too when asked, or when fn has no parameter: the run on bounds tells
  // (its loss does not require grad), and runs again with the inputs requiring grad.
  let inputGrads = options.inputGradients ?? false;
  let ip = interpret(fn, args, specs, inputGrads, options);
  if (options.inputGradients === undefined && !ip.paramOut) {
    inputGrads = true;
    if (options.backward ?? true) ip = interpret(fn, args, specs, inputGrads, options);
  }
  let runs = 0;
  if ((options.witness ?? true) && ip.findings.length) {
    const max = options.maxRuns ?? 24;
    const gen = candidates(specs, seed);
    // Stop early when the search has stalled: past the structured candidates and a round of random
    // ones (16 runs), 8 runs in a row that confirmed nothing. A backward finding behind a forward
    // one at the same point (x / |x| at 0 is NaN before its gradient is) is seldom confirmable.
    let lastHit = 0;
    while (runs < max && ip.findings.some((f) => !f.witness) && !(runs >= 16 && runs - lastHit >= 8)) {
      const cand = gen.next().value as Tensor[];
      runs++;
      const confirm = (rep: AnomalyReport | null): boolean => {
        const f = rep && ip.findings.find((x) => !x.witness && matches(x, rep));
        if (!f || !rep) return false;
        f.witness = { inputs: cand, report: rep };
        if (rep.hint) f.hint = rep.hint;
        lastHit = runs;
        return true;
      };
      const rep = realRun(fn, cand, options.backward ?? true, inputGrads);
      if (!confirm(rep) && rep?.phase === "forward" && runs < max && ip.findings.some((f) => !f.witness && f.phase === "backward")) {
        runs++;
        confirm(realRun(fn, cand, true, inputGrads, true));
      }
    }
  }
  return new AuditReport(ip.findings, ip.ops, runs, performance.now() - t0, [...ip.notes]);
}

/**
 * @internal Bounds of fn's output when each argument lies in its bounds (forward only, no
 * findings): what the audit computes, for tests of the interval rules.
 */
export function intervalRun(fn: (...args: Tensor[]) => Tensor, args: readonly Tensor[], bounds: readonly (Bounds | null)[]): Bounds {
  const ip = new Interpreter(0);
  ip.exactPoints = false;
  args.forEach((t, i) => {
    const b = bounds[i];
    if (b) ip.set(t, b);
  });
  const prevEngine = setEngineObserver(ip.engine);
  const prevComposite = setCompositeObserver(ip.composites);
  try {
    const out = withGradMode(false, () => fn(...args));
    return ip.boundsOf(out);
  } finally {
    setEngineObserver(prevEngine);
    setCompositeObserver(prevComposite);
  }
}
