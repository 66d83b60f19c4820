/**
 * Anomaly detection: while on, every op's output in the forward pass and every gradient computed
 * in the backward pass is checked for NaN and ±Inf. The first non-finite value throws an
 * AnomalyError whose report names the op, the user's call site, whether the op created the value
 * or passed it on (and then where it was born), input statistics and a hint.
 *
 * Unlike PyTorch's anomaly mode it checks the forward pass too, Inf as well as NaN, and names the
 * op that created the value rather than the first backward function that saw it.
 */
import { currentVjp, setEngineObserver, type EngineObserver } from "../autograd/engine.js";
import type { Node } from "../autograd/node.js";
import { currentModuleFrame, type ModuleFrame } from "../layers/module.js";
import { isFloat } from "../tensor/dtype.js";
import { contiguousData } from "../tensor/layout.js";
import { sameShape, shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { findHint } from "./hints.js";
import { AnomalyError, AnomalyReport, inModule, type ModuleInfo, type Origin } from "./report.js";
import { allFinite, hasNaN, tensorStats, formatStats, type TensorStats } from "./stats.js";
import type { ReportGraph, ReportGraphNode } from "./picture.js";

// Frames from files under this folder (src/ or dist/) belong to safegrad; the first other frame is the user's.
const OWN_ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** The first stack frame outside safegrad, like "at train (/app/model.ts:12:7)". */
export function userCallSite(err: Error | undefined): string | undefined {
  const stack = err?.stack;
  if (!stack) return undefined;
  for (const raw of stack.split("\n").slice(1)) {
    const line = raw.trim();
    if (!line.startsWith("at ")) continue;
    if (line.includes(OWN_ROOT) || line.includes("node:internal") || line.includes("(native)")) continue;
    return line.slice(3);
  }
  return undefined;
}

function describeLeaf(t: Tensor): string {
  return t.name ? `"${t.name}"` : `of shape ${shapeStr(t.shape)} (${t.requiresGrad ? "requires grad" : "data"})`;
}

/** The module (path and class) whose forward created a node, recorded while detection is on. */
let moduleOf = new WeakMap<Node, ModuleFrame>();
const moduleInfo = (f: ModuleFrame | null | undefined): ModuleInfo | undefined => (f ? { path: f.path, type: f.module.constructor.name } : undefined);

/** Follow a non-finite tensor back to the op that created it, or to the leaf that held it. */
function traceOrigin(t: Tensor): Origin {
  let cur = t;
  for (;;) {
    const node: Node | null = cur.gradFn;
    if (!node) return { kind: "input", name: describeLeaf(cur), stats: tensorStats(cur) };
    const bad = node.inputs.find((i) => isFloat(i.dtype) && !allFinite(i));
    if (!bad) {
      const module = moduleInfo(moduleOf.get(node));
      return { kind: "op", op: node.op, callSite: userCallSite(node.creation), ...(module ? { module } : {}) };
    }
    cur = bad;
  }
}

function kindOf(t: Tensor): string {
  const s = tensorStats(t);
  return [s.nan ? "NaN" : "", s.posInf ? "+Inf" : "", s.negInf ? "-Inf" : ""].filter(Boolean).join(" and ") || "non-finite value";
}

function statLines(s: TensorStats): string[] {
  return [formatStats({ ...s, name: undefined } as TensorStats)];
}

function inputNode(t: Tensor, id: string): ReportGraphNode {
  const s = tensorStats(t);
  return t.gradFn
    ? { id, label: `${t.gradFn.op}${t.name ? ` → ${t.name}` : ""}`, detail: statLines(s), role: "op" }
    : { id, label: t.name ?? (t.requiresGrad ? "parameter" : "input"), detail: statLines(s), role: "input" };
}

interface BackwardState {
  parentOf: Map<Node, Node>;
  root: Node | null;
}
let bstate: BackwardState = { parentOf: new Map(), root: null };

function buildGraph(opLabel: string, inputs: readonly Tensor[], output: Tensor, culpritNode: Node | null, module: ModuleInfo | undefined): ReportGraph {
  const nodes: ReportGraphNode[] = [];
  const edges: [string, string][] = [];
  const where = module ? [`in ${inModule(module)}`] : [];
  nodes.push({ id: "culprit", label: opLabel, detail: [...where, ...statLines(tensorStats(output))], role: "culprit" });
  inputs.forEach((t, i) => {
    const id = `in${i}`;
    nodes.push(inputNode(t, id));
    edges.push([id, "culprit"]);
    t.gradFn?.inputs.forEach((u, j) => {
      const uid = `in${i}_${j}`;
      nodes.push(inputNode(u, uid));
      edges.push([uid, id]);
    });
  });
  // Backward: the path from the culprit up to the loss, recorded while backward ran.
  let cur = culpritNode;
  let prev = "culprit";
  let k = 0;
  while (cur && bstate.parentOf.has(cur) && k < 12) {
    const parent = bstate.parentOf.get(cur)!;
    const id = `up${k++}`;
    const isRoot = parent === bstate.root;
    nodes.push({ id, label: parent.op + (isRoot ? " (loss)" : ""), detail: [], role: isRoot ? "loss" : "op" });
    edges.push([prev, id]);
    prev = id;
    cur = parent;
  }
  return { nodes, edges };
}

/**
 * Name the parameters of the model whose forward is running (as an optimizer's `parameters()` call
 * does), so the report can say "1.weight" for a weight nobody has listed yet.
 */
function nameParameters(f: ModuleFrame | null | undefined): void {
  while (f?.parent) f = f.parent;
  try {
    f?.module.namedParameters();
  } catch {
    // an unregistered field: the report goes on without names
  }
}

/** Statistics of a tensor, named after the tensor or, for a view (a transposed weight), its base. */
function statsOf(t: Tensor): TensorStats {
  let base = t;
  while (!base.name && base.gradFn && base.gradFn.inputs.length === 1 && base.gradFn.inputs[0]!.storage === base.storage) base = base.gradFn.inputs[0]!;
  return tensorStats(t, base.name);
}

function fail(op: string, inputs: readonly Tensor[], out: Tensor, attrs: unknown, node: Node | null): never {
  const vjp = currentVjp();
  nameParameters(vjp ? moduleOf.get(vjp.node) : currentModuleFrame());
  const badInputs = inputs.filter((t) => isFloat(t.dtype) && !allFinite(t));
  const created = badInputs.length === 0;
  const origin = created ? undefined : traceOrigin(badInputs[0]!);
  const phase = vjp ? "backward" : "forward";
  const reportedOp = vjp ? vjp.node.op : op;
  const callSite = userCallSite(vjp ? vjp.node.creation : (node?.creation ?? new Error()));
  const module = moduleInfo(vjp ? moduleOf.get(vjp.node) : currentModuleFrame());
  const hint = findHint({
    phase,
    op: reportedOp,
    innerOp: vjp ? op : undefined,
    created,
    inputs,
    forwardInputs: vjp?.node.inputs,
    forwardOutput: vjp?.node.output,
    gradOutput: vjp?.g,
    output: out,
    originLeaf: origin?.kind === "input" ? origin.name : undefined,
    attrs: vjp ? vjp.node.attrs : attrs,
  });
  const label = vjp ? `${reportedOp} backward (${op})` : op;
  const graph = buildGraph(label, vjp ? vjp.node.inputs : inputs, out, vjp ? vjp.node : null, module);
  const report = new AnomalyReport(
    {
      phase,
      op: reportedOp,
      innerOp: vjp ? op : undefined,
      created,
      kind: kindOf(out),
      callSite,
      ...(module ? { module } : {}),
      origin,
      inputs: inputs.map(statsOf),
      forwardInputs: vjp?.node.inputs.map(statsOf),
      gradOutput: vjp ? tensorStats(vjp.g) : undefined,
      output: tensorStats(out),
      hint,
    },
    graph,
  );
  throw new AnomalyError(report);
}

// Storages already found finite by the forward check (also the ops run inside VJPs), so the
// backward check only scans gradients that no op produced (the root gradient, a hook's result).
let checked = new WeakSet<object>();
/**
 * Storages whose infinities are intentional: of tensors marked by the user (`markAllowNonFinite`)
 * or computed from such tensors only. Kept by storage, so the mark holds for every tensor sharing
 * it: views, and `detach()` (as the library's own ops use). NOTE: the guard keeps its own record
 * instead of writing to the tensors it watches.
 */
let allowed = new WeakSet<object>();
const allowsNonFinite = (t: Tensor): boolean => t.allowNonFinite || allowed.has(t.storage);

const observer: EngineObserver = {
  forward(op, inputs, out, attrs, node) {
    // NOTE: an Error captures the stack cheaply; it is only formatted if a report needs it.
    if (node) {
      node.creation = new Error();
      const f = currentModuleFrame();
      if (f) moduleOf.set(node, f);
    }
    for (const t of inputs) if (t.allowNonFinite) allowed.add(t.storage);
    // A view (reshape, permute, expand, narrow) computes nothing: it cannot create a NaN, and the
    // op that consumes it checks its own output and traces any NaN back through the view.
    for (const t of inputs) if (t.storage === out.storage) return;
    if (!isFloat(out.dtype) || allowsNonFinite(out)) return;
    if (allFinite(out)) {
      checked.add(out.storage);
      return;
    }
    const bad = inputs.filter((t) => isFloat(t.dtype) && !allFinite(t));
    // Intentional infinities (a -Infinity mask) flow on; a NaN they turn into is still reported.
    if (bad.length && bad.every(allowsNonFinite) && (!hasNaN(out) || bad.some(hasNaN))) {
      allowed.add(out.storage);
      return;
    }
    // Inside the VJP of an elementwise op, a NaN only in lanes whose cotangent is 0 is the where()
    // trap, which the engine masks to an exact 0 when it takes the VJP's result: not an anomaly.
    const vjp = currentVjp();
    if (vjp && vjp.node.def.elementwise && onlyWhereZero(out, vjp.g)) return;
    fail(op, inputs, out, attrs, node);
  },
  backwardStart(roots) {
    bstate = { parentOf: new Map(), root: roots[0] ?? null };
  },
  backward(node, gradOut, gradIns) {
    for (const inp of node.inputs) {
      const child = inp.gradFn;
      if (child && !bstate.parentOf.has(child)) bstate.parentOf.set(child, node);
    }
    gradIns.forEach((g) => {
      if (g && !checked.has(g.storage) && !allFinite(g) && !(node.output && allowsNonFinite(node.output))) {
        // Every op inside the VJP was checked already, so this came from the upstream gradient
        // (a non-finite gradient passed to backward(), or a hook).
        throw new AnomalyError(
          new AnomalyReport({
            phase: "backward",
            op: node.op,
            created: allFinite(gradOut),
            kind: kindOf(g),
            callSite: userCallSite(node.creation),
            ...(moduleOf.has(node) ? { module: moduleInfo(moduleOf.get(node))! } : {}),
            inputs: node.inputs.map((t) => tensorStats(t)),
            gradOutput: tensorStats(gradOut),
            output: tensorStats(g),
            hint: allFinite(gradOut) ? null : { hazard: "non-finite upstream gradient", fix: "the gradient given to backward() or returned by a hook holds NaN/Inf" },
          }),
        );
      }
    });
  },
};

/** True when every non-finite element of `t` sits where `g` (of the same shape) is 0. */
function onlyWhereZero(t: Tensor, g: Tensor): boolean {
  if (!sameShape(t.shape, g.shape)) return false;
  const d = contiguousData(t);
  const gd = contiguousData(g);
  for (let i = 0; i < d.length; i++) if (d[i]! - d[i]! !== 0 && gd[i] !== 0) return false;
  return true;
}

let depth = 0;
let saved: EngineObserver | null = null;
let savedStackLimit = 10;

/**
 * Turn anomaly detection on or off globally (prefer {@link detectAnomaly}, which restores the
 * previous state).
 * @example
 * setDetectAnomaly(true);
 * try {
 *   model.forward(x).sum().backward();
 * } finally {
 *   setDetectAnomaly(false);
 * }
 */
export function setDetectAnomaly(on: boolean): void {
  if (on && depth === 0) {
    checked = new WeakSet();
    moduleOf = new WeakMap();
    saved = setEngineObserver(observer);
    depth = 1;
    // NOTE: deep layer stacks put the user's frame far down; V8 keeps only 10 frames by default.
    savedStackLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = Math.max(savedStackLimit, 64);
  } else if (!on && depth > 0) {
    setEngineObserver(saved);
    saved = null;
    depth = 0;
    Error.stackTraceLimit = savedStackLimit;
  }
}

/**
 * Whether anomaly detection is on.
 * @example
 * isAnomalyEnabled(); // false
 * detectAnomaly(() => isAnomalyEnabled()); // true
 */
export function isAnomalyEnabled(): boolean {
  return depth > 0;
}

/**
 * Run fn with anomaly detection on (restoring the previous state afterwards); returns what fn
 * returns, or throws an {@link AnomalyError} at the first NaN or ±Inf in the forward or backward pass.
 * @example
 * try {
 *   detectAnomaly(() => model.forward(x).sum().backward());
 * } catch (e) {
 *   if (e instanceof AnomalyError) console.log(e.report.toString());
 * }
 */
export function detectAnomaly<T>(fn: () => T): T {
  const was = isAnomalyEnabled();
  if (!was) setDetectAnomaly(true);
  try {
    return fn();
  } finally {
    if (!was) setDetectAnomaly(false);
  }
}
