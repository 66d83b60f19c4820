import { SafegradError } from "../errors.js";
import type { Hint } from "./hints.js";
import { formatStats, type TensorStats } from "./stats.js";
import { graphToDot, graphToSVG, type ReportGraph } from "./picture.js";

/**
 * Where the non-finite value came from when the failing op only passed it on: the op that
 * created it, or the input (leaf) tensor that already held it.
 * @example
 * const origin: Origin | undefined = report.origin;
 * if (origin?.kind === "input") origin.name;
 */
export type Origin =
  | { kind: "op"; op: string; callSite?: string; module?: ModuleInfo }
  | { kind: "input"; name: string; stats: TensorStats };

/**
 * The module whose forward ran an op: its dotted path in the model (as `namedModules()` names it;
 * "" for the model itself) and its class. Module outputs carry the same path as their `name`.
 * @example
 * const m: ModuleInfo | undefined = report.module;
 * if (m) m.path; // "encoder.layers.1.attn"
 */
export interface ModuleInfo {
  /** The dotted path from the outermost module whose forward was running ("" for that one). */
  path: string;
  /** The module's class name ("Linear"). */
  type: string;
}

/** @internal `module "1" (Linear)`, or `the model's own forward (MLP)` for the outermost module. */
export const inModule = (m: ModuleInfo): string => (m.path ? `module "${m.path}" (${m.type})` : `the model's own forward (${m.type})`);

/** Structured diagnosis of the first non-finite value: the fields of an {@link AnomalyReport}. */
export interface AnomalyReportData {
  /** The pass in which the value appeared. */
  phase: "forward" | "backward";
  /** The op whose output (forward) or whose gradient (backward) is non-finite. */
  op: string;
  /** Backward only: the op inside the VJP that produced the value. */
  innerOp?: string;
  /** True when this op turned finite inputs into NaN/Inf; false when it passed one on. */
  created: boolean;
  /** What the value is: "NaN", "+Inf", "-Inf" or a mix. */
  kind: string;
  /** The first stack frame outside safegrad where the op was created. */
  callSite?: string;
  /** The module whose forward ran the op (when it ran inside a Module's forward). */
  module?: ModuleInfo;
  /** Where the value was born, when this op only passed it on. */
  origin?: Origin;
  /** Statistics of the op's inputs (of the inner op's, in backward). */
  inputs: TensorStats[];
  /** Backward only: statistics of the forward inputs of the op whose gradient failed. */
  forwardInputs?: TensorStats[];
  /** Backward only: statistics of the upstream gradient. */
  gradOutput?: TensorStats;
  /** Statistics of the non-finite output (or gradient). */
  output: TensorStats;
  /** The matching rule's hazard and fix, or null. */
  hint: Hint | null;
  /** Filled by the training guard: the step number. */
  step?: number;
  /** Filled by the training guard: the seed from its options. */
  seed?: number;
  /** Filled by the training guard: a description of the batch (its shapes). */
  batch?: unknown;
  /** Recent global gradient norms (training guard), oldest first. */
  gradNormHistory?: number[];
}

/**
 * The diagnosis of the first non-finite value, carried by {@link AnomalyError} (and by the
 * training guard's results): which op, forward or backward, created or passed on, input
 * statistics, a hint, and pictures of the graph around it.
 * @example
 * try {
 *   detectAnomaly(() => tensor([-1, 4]).sqrt());
 * } catch (e) {
 *   if (e instanceof AnomalyError) {
 *     const r: AnomalyReport = e.report;
 *     r.op; // "sqrt"
 *     r.hint?.hazard; // "sqrt of a negative number"
 *   }
 * }
 */
export class AnomalyReport implements AnomalyReportData {
  phase!: "forward" | "backward";
  op!: string;
  innerOp?: string;
  created!: boolean;
  kind!: string;
  callSite?: string;
  module?: ModuleInfo;
  origin?: Origin;
  inputs!: TensorStats[];
  forwardInputs?: TensorStats[];
  gradOutput?: TensorStats;
  output!: TensorStats;
  hint!: Hint | null;
  step?: number;
  seed?: number;
  batch?: unknown;
  gradNormHistory?: number[];
  /** @internal the graph around the birth of the value, for the pictures. */
  readonly graph: ReportGraph | undefined;

  /**
   * @param data - the diagnosis
   * @param graph - the graph around the birth of the value, for `toDot()` / `toSVG()`
   */
  constructor(data: AnomalyReportData, graph?: ReportGraph) {
    Object.assign(this, data);
    this.graph = graph;
  }

  /**
   * A readable multi-line diagnosis.
   * @example
   * report.toString(); // "NaN in the forward pass, at op sqrt\n  created at ..."
   */
  toString(): string {
    const lines: string[] = [];
    const where = this.innerOp ? `${this.op} (inside its gradient: ${this.innerOp})` : this.op;
    lines.push(`${this.kind} in the ${this.phase} pass, at op ${where}`);
    if (this.module) lines.push(`  in ${inModule(this.module)}`);
    if (this.callSite) lines.push(`  created at ${this.callSite}`);
    if (this.created) lines.push(`  this op created it from finite inputs`);
    else if (this.origin?.kind === "input") lines.push(`  it arrived in the input tensor ${this.origin.name}: ${formatStats(this.origin.stats)}`);
    else if (this.origin?.kind === "op") {
      const o = this.origin;
      lines.push(`  it was passed on; it was created by op ${o.op}${o.module ? ` in ${inModule(o.module)}` : ""}${o.callSite ? ` at ${o.callSite}` : ""}`);
    }
    else lines.push(`  it was passed on from an input`);
    if (this.step !== undefined) lines.push(`  step ${this.step}${this.seed !== undefined ? `, seed ${this.seed}` : ""}`);
    if (this.forwardInputs) {
      lines.push(`  forward inputs of ${this.op}:`);
      this.forwardInputs.forEach((s, i) => lines.push(`    ${i}: ${formatStats(s)}`));
    }
    lines.push(this.innerOp ? `  inputs of ${this.innerOp} (in the gradient):` : "  inputs:");
    this.inputs.forEach((s, i) => lines.push(`    ${i}: ${formatStats(s)}`));
    if (this.gradOutput) lines.push(`  upstream gradient: ${formatStats(this.gradOutput)}`);
    lines.push(`  output: ${formatStats(this.output)}`);
    if (this.gradNormHistory?.length) lines.push(`  gradient norms (oldest first): ${this.gradNormHistory.map((n) => n.toPrecision(3)).join(", ")}`);
    if (this.hint) lines.push(`  hint (${this.hint.hazard}): ${this.hint.fix}`);
    return lines.join("\n");
  }

  /**
   * Structured form (JSON-safe: non-finite numbers become strings).
   * @example
   * JSON.stringify(report); // uses toJSON
   */
  toJSON(): Record<string, unknown> {
    // Own fields in declaration order, less the graph and the batch (which need not be JSON-safe).
    const { graph, batch, ...data } = this;
    return JSON.parse(JSON.stringify(data, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)));
  }

  /**
   * Graphviz text of the graph around the birth of the value.
   * @example
   * report.toDot().startsWith("digraph"); // true
   */
  toDot(): string {
    return graphToDot(this.graph ?? { nodes: [], edges: [] });
  }

  /**
   * An SVG picture of the same graph, drawn by our own code.
   * @example
   * const svg = report.toSVG(); // write it to a file, or put it in a page
   */
  toSVG(): string {
    return graphToSVG(this.graph ?? { nodes: [], edges: [] });
  }
}

/**
 * Thrown by anomaly detection at the first non-finite value; `report` holds the diagnosis.
 * @example
 * try {
 *   detectAnomaly(() => tensor([0], { requiresGrad: true }).log().sum().backward());
 * } catch (e) {
 *   if (e instanceof AnomalyError) e.report.phase; // "forward": log(0) = -Inf
 * }
 */
export class AnomalyError extends SafegradError {
  override readonly code: string = "ANOMALY";
  /** The diagnosis. */
  declare readonly report: AnomalyReport;
  constructor(report: AnomalyReport) {
    super(report.innerOp ? `${report.op}.backward` : report.op, report.toString());
    this.report = report;
  }
}
