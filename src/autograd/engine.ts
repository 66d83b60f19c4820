/**
 * The autograd engine: `applyOp` runs an op table entry and records a graph node; `backward` and
 * `grad` walk the graph iteratively and call each node's VJP. NOTE: it depends on the Tensor
 * class as a type only (it makes tensors through tensor/create and Tensor methods), so the Tensor
 * module never sits below it in an import loop.
 */
import { AutogradError, DTypeError, ShapeError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { onesLike } from "../tensor/create.js";
import { sameShape, shapeStr, type Shape } from "../tensor/shape.js";
import { isFloat } from "../tensor/dtype.js";
import { allFinite } from "../tensor/layout.js";
import { versionOf } from "../tensor/version.js";
import { beginPass, bornInPass, endPass, poolEnabled, recycle } from "../tensor/pool.js";
import type { TypedArray } from "../tensor/dtype.js";
import { isGradEnabled, withGradMode } from "./grad-mode.js";
import { Node, nonDifferentiable, type OpDef } from "./node.js";

/**
 * Observers let the NaN guard watch every op without the engine knowing about it.
 * `forward` sees each op's output; `backward` sees each VJP's input gradients.
 */
export interface EngineObserver {
  forward?(op: string, inputs: readonly Tensor[], out: Tensor, attrs: unknown, node: Node | null): void;
  backward?(node: Node, gradOut: Tensor, gradIns: readonly (Tensor | null)[]): void;
  /** A backward pass starts from these root nodes. */
  backwardStart?(roots: readonly Node[]): void;
}
let observer: EngineObserver | null = null;
let vjpNode: Node | null = null;
let vjpGrad: Tensor | null = null;

/** @internal The node whose VJP is running and its upstream gradient (null outside backward). */
export function currentVjp(): { node: Node; g: Tensor } | null {
  return vjpNode && vjpGrad ? { node: vjpNode, g: vjpGrad } : null;
}

/** @internal Install (or remove with null) the engine observer. Returns the previous one. */
export function setEngineObserver(o: EngineObserver | null): EngineObserver | null {
  const prev = observer;
  observer = o;
  return prev;
}

/** Apply an op from the op table: run its forward and, when needed, record a graph node. */
export function applyOp<I extends readonly Tensor[], A>(def: OpDef<I, A>, inputs: I, attrs: A): Tensor {
  const out = withGradMode(false, () => def.forward(inputs, attrs));
  let node: Node | null = null;
  if (def.vjp !== nonDifferentiable && isFloat(out.dtype) && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    node = new Node(def, inputs, attrs, out);
    const saved = def.saved ?? [...inputs.keys(), "out"];
    node.saved = saved.map((i) => {
      const t = i === "out" ? out : inputs[i]!;
      return [t, versionOf(t.storage)] as const;
    });
    out.gradFn = node;
    out.requiresGrad = true;
  }
  if (observer?.forward) observer.forward(def.name, inputs, out, attrs, node);
  return out;
}

/** Sum a broadcast gradient back to `shape` (differentiable: it uses the sum op). */
function sumTo(g: Tensor, shape: Shape): Tensor {
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead) dims.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) dims.push(i);
  }
  let r = dims.length ? g.sum(dims, true) : g;
  if (lead > 0 || r.ndim !== shape.length) r = r.reshape(shape);
  return r;
}

/** Options of `backward` and `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false: the graph is freed). */
  retainGraph?: boolean;
  /**
   * Record the backward pass itself, so the gradients are differentiable (gradients of
   * gradients; default false).
   */
  createGraph?: boolean;
}

/** Nodes reachable from the roots, in an order where every node comes before its inputs' nodes. */
function topoOrder(roots: readonly Node[]): Node[] {
  // NOTE: iterative post-order DFS: a 100,000-op chain must not overflow the stack.
  const visited = new Set<Node>();
  const post: Node[] = [];
  const stack: [Node, number][] = [];
  for (const r of roots) {
    if (visited.has(r)) continue;
    visited.add(r);
    stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (node.freed) {
        throw new AutogradError(
          "backward",
          `trying to backward through the graph a second time (op ${node.op}); the first backward freed it: pass { retainGraph: true } to it`,
        );
      }
      if (i < node.inputs.length) {
        top[1] = i + 1;
        const child = node.inputs[i]!.gradFn;
        if (child && !visited.has(child)) {
          visited.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        post.push(node);
      }
    }
  }
  return post.reverse();
}

/**
 * NOTE: as PyTorch, a VJP must see the values its forward saw. An in-place write since (an
 * optimizer step between the forward and the backward, a loadStateDict, markModified) would give
 * a wrong gradient without a word; this names the op and the tensor instead.
 */
function checkSavedVersions(node: Node): void {
  for (const [t, v] of node.saved) {
    const now = versionOf(t.storage);
    if (now === v) continue;
    const what = `${t.name ? `"${t.name}" ` : ""}(${t.dtype} ${shapeStr(t.shape)})`;
    throw new AutogradError(
      "backward",
      `a tensor ${what} that ${node.op} saved for its gradient was modified in place since the forward: it is at version ${now}, expected ${v}. An optimizer step, loadStateDict or markModified ran between the forward and this backward: run the forward again`,
    );
  }
}

/**
 * The where() trap, closed: `where(mask, f(x), y)` sends a zero cotangent to f in the lanes it did
 * not select, and where f's derivative is infinite there (log or 1/x at 0, sqrt below 0, exp
 * overflowing, a NaN input) the chain rule gives 0 · ∞ = NaN, which then poisons x's gradient. For
 * an elementwise op a lane whose cotangent is zero gets exactly zero gradient instead.
 *
 * NOTE: a deliberate difference from PyTorch, TF.js and JAX, which return NaN there. Cost: one
 * read-only pass over each elementwise gradient to see that it is finite (the common case, which
 * then goes on unchanged); only a gradient with a non-finite element pays for the masking.
 */
function zeroWhereCotangentIsZero(g: Tensor, gi: Tensor): Tensor {
  // NOTE: a VJP that passes g on as is (add, sub's first input) has nothing to mask: its zero lanes
  // are zero already. Skipping it halves the scan on a transformer step.
  if (gi === g || !isFloat(gi.dtype) || !sameShape(g.shape, gi.shape) || allFinite(gi)) return gi;
  return gi.where(g.ne(0), 0);
}

/**
 * Which gradient buffers of a backward pass nothing reads any more, for the pool (tensor/pool.ts).
 *
 * NOTE: a buffer is recycled only when all of these hold, so no live tensor can read it:
 * - it was handed out during this pass (`bornInPass`): never a forward activation, a saved tensor,
 *   a user's array or root gradient, or a `.grad` from before;
 * - it held a gradient the engine consumed: a node's incoming gradient after its VJP ran, a VJP's
 *   output after it was summed to the input's shape or masked, a summand after accumulation (a
 *   VJP's own temporaries are not tracked and go to the GC);
 * - no pending gradient (of a node or a leaf) has that storage (`refs` counts them by storage: add
 *   hands the same g to both inputs, reshape's VJP returns a view of g);
 * - no hook, `retainGrad`, `grad()`'s capture or observer saw it (`pinned`), and the pass does not
 *   create a graph (its gradients are graph values then).
 * The leaves' final gradients are never candidates: they become `.grad` or are returned.
 */
class Recycler {
  readonly refs = new Map<TypedArray, number>();
  readonly pinned = new Set<TypedArray>();
  readonly candidates = new Set<TypedArray>();
  hold(t: Tensor): void {
    this.refs.set(t.storage, (this.refs.get(t.storage) ?? 0) + 1);
  }
  drop(t: Tensor): void {
    const n = (this.refs.get(t.storage) ?? 1) - 1;
    if (n > 0) this.refs.set(t.storage, n);
    else this.refs.delete(t.storage);
  }
  consumed(t: Tensor | null | undefined): void {
    if (t && bornInPass(t.storage)) this.candidates.add(t.storage);
  }
  pin(t: Tensor): void {
    this.pinned.add(t.storage);
  }
  /** Recycle the candidates nothing holds (called once a node's gradients are all accumulated). */
  flush(): void {
    for (const s of this.candidates) if (!this.refs.has(s) && !this.pinned.has(s) && bornInPass(s)) recycle(s);
    this.candidates.clear();
  }
}

function accumulate<K>(map: Map<K, Tensor>, key: K, g: Tensor, rec: Recycler | null): void {
  const prev = map.get(key);
  if (!prev) {
    map.set(key, g);
    rec?.hold(g);
    return;
  }
  // NOTE: not in place (prev += g in a JS loop): a wasm add into a pooled buffer is 3.5x faster
  // (0.4 against 1.4 ns/elem on 262K floats), and prev goes back to the pool just after
  const sum = prev.add(g);
  map.set(key, sum);
  if (rec) {
    rec.drop(prev);
    rec.hold(sum);
    rec.consumed(prev);
    rec.consumed(g);
  }
}

interface RunOptions extends BackwardOptions {
  /** Capture gradients for these tensors instead of accumulating into leaves' `.grad`. */
  capture?: readonly Tensor[];
}

function checkGradFor(op: string, t: Tensor, g: Tensor, what: string): void {
  if (!sameShape(t.shape, g.shape)) {
    throw new ShapeError(op, `${what} has shape ${shapeStr(g.shape)} but the tensor has shape ${shapeStr(t.shape)}`);
  }
  if (g.dtype !== t.dtype) throw new DTypeError(op, `${what} has dtype ${g.dtype} but the tensor has dtype ${t.dtype}`);
}

function run(roots: readonly Tensor[], rootGrads: readonly Tensor[], opts: RunOptions): Map<Tensor, Tensor> {
  const createGraph = opts.createGraph ?? false;
  const retainGraph = opts.retainGraph ?? createGraph;
  const captureSet = opts.capture ? new Set(opts.capture) : null;
  const captured = new Map<Tensor, Tensor>();
  const nodeGrads = new Map<Node, Tensor>();
  const leafGrads = new Map<Tensor, Tensor>();

  const rootNodes: Node[] = [];
  roots.forEach((t, i) => {
    const g = rootGrads[i]!;
    if (t.gradFn) {
      accumulate(nodeGrads, t.gradFn, g, null);
      rootNodes.push(t.gradFn);
    } else if (t.requiresGrad) accumulate(leafGrads, t, g, null);
  });

  const order = topoOrder(rootNodes);
  if (observer?.backwardStart) observer.backwardStart(rootNodes);
  // NOTE: the root gradients (the caller's) were accumulated before the pass began: never born in it
  const outerPass = beginPass();
  const rec = createGraph || observer || !poolEnabled() ? null : new Recycler();
  if (rec) for (const g of nodeGrads.values()) rec.hold(g);
  try {
    withGradMode(createGraph, () => {
    for (const node of order) {
      const out = node.output!;
      let g = nodeGrads.get(node);
      if (!g) continue;
      nodeGrads.delete(node);
      rec?.drop(g);
      if (rec && out.hasHooks) rec.pin(g);
      g = out.applyHooks(g);
      if (rec && (out.hasHooks || out.retainsGrad || captureSet?.has(out))) rec.pin(g);
      if (captureSet?.has(out)) captured.set(out, g);
      if (out.retainsGrad && !captureSet) out.grad = out.grad ? out.grad.add(g) : createGraph ? g : g.detach();
      checkSavedVersions(node);
      const needs = node.inputs.map((t) => t.requiresGrad);
      const prevVjp = vjpNode;
      const prevGrad = vjpGrad;
      vjpNode = node;
      vjpGrad = g;
      let grads: readonly (Tensor | null)[];
      try {
        grads = node.def.vjp({ g, inputs: node.inputs, out, attrs: node.attrs, needs });
      } finally {
        vjpNode = prevVjp;
        vjpGrad = prevGrad;
      }
      const elementwise = node.def.elementwise === true;
      // sumTo returns a gradient already of the input's shape as it is.
      const reduced = node.inputs.map((inp, i) => {
        const gi = grads[i];
        if (!gi || !needs[i]) return null;
        const masked = elementwise ? zeroWhereCotangentIsZero(g, gi) : gi;
        if (rec && masked !== gi) rec.consumed(masked);
        return sumTo(masked, inp.shape);
      });
      if (observer?.backward) observer.backward(node, g, reduced);
      reduced.forEach((gi, i) => {
        if (!gi) return;
        const inp = node.inputs[i]!;
        if (inp.gradFn) accumulate(nodeGrads, inp.gradFn, gi, rec);
        else accumulate(leafGrads, inp, gi, rec);
      });
      if (rec && !observer) {
        rec.consumed(g);
        for (const gi of grads) rec.consumed(gi);
        rec.flush();
      }
      if (!retainGraph) {
        node.freed = true;
        node.inputs = [];
        node.saved = [];
      }
    }
    });
  } finally {
    endPass(outerPass);
  }

  // NOTE: each leaf's .grad must own its storage: optimizers and clipGradNorm write into it, and
  // add's VJP hands the same tensor to both inputs (and the caller's gradient may arrive as is).
  const handedOut = new Set<unknown>(rootGrads.map((g) => g.storage));
  for (const [leaf, g0] of leafGrads) {
    const g = leaf.applyHooks(g0);
    if (captureSet) {
      if (captureSet.has(leaf)) captured.set(leaf, g);
      continue;
    }
    if (leaf.grad) {
      leaf.grad = createGraph ? leaf.grad.add(g) : leaf.grad.add(g).detach();
      continue;
    }
    const dense = g.isContiguous() && g.offset === 0 && g.storage.length === g.numel;
    // NOTE: the copy goes through the backend (a transposed weight gradient is strided).
    leaf.grad = dense && !handedOut.has(g.storage) ? g : g.detach().clone();
    handedOut.add(leaf.grad.storage);
  }
  return captured;
}

function defaultRootGrads(op: string, roots: readonly Tensor[], given: readonly Tensor[] | undefined): Tensor[] {
  return roots.map((t, i) => {
    // a disposed root or given gradient throws, as Tensor.backward does (a given gradient's memory may have been reused)
    t.assertLive(op);
    given?.[i]?.assertLive(op);
    if (!t.requiresGrad) {
      throw new AutogradError(op, `tensor ${i} (shape ${shapeStr(t.shape)}) does not require grad and has no gradFn`);
    }
    const g = given?.[i];
    if (g) {
      checkGradFor(op, t, g, "the given gradient");
      return g;
    }
    if (t.numel !== 1) {
      throw new AutogradError(op, `grad can be implicitly created only for scalar outputs, got shape ${shapeStr(t.shape)}: pass a gradient of that shape`);
    }
    return onesLike(t);
  });
}

/**
 * Backward from `roots`, accumulating into the `.grad` of every leaf that requires grad. Each
 * non-scalar root needs its gradient in `gradients` (same order); scalars default to 1.
 * `tensor.backward()` is this for one root.
 * @example
 * const l1 = x.sum();
 * const l2 = x.square().mean();
 * backward([l1, l2]); // x.grad = dl1/dx + dl2/dx
 * backward(x.sum()); // one tensor, as torch.autograd.backward
 */
export function backward(roots: Tensor | readonly Tensor[], gradients?: Tensor | readonly Tensor[], options: BackwardOptions = {}): void {
  const rs = list(roots);
  const grads = defaultRootGrads("backward", rs, gradients === undefined ? undefined : list(gradients));
  run(rs, grads, options);
}

/** One tensor or a list of them (PyTorch's functions take either). */
function list(t: Tensor | readonly Tensor[]): readonly Tensor[] {
  return Array.isArray(t) ? t : [t as Tensor];
}

/** Options of `grad`. */
export interface GradOptions extends BackwardOptions {
  /** Gradients of the outputs, one per output (default: ones for scalar outputs). */
  gradOutputs?: readonly Tensor[];
  /** Return null for inputs the outputs do not depend on, instead of throwing (default false). */
  allowUnused?: boolean;
}

/**
 * The gradients of `outputs` with respect to `inputs`, like `torch.autograd.grad`; leaves'
 * `.grad` are left untouched.
 * @example
 * const x = tensor([3], { dtype: "float64", requiresGrad: true });
 * const [dy] = grad([x.pow(3)], [x], { createGraph: true }); // 3x² = 27
 * const [d2y] = grad([dy!], [x]); // 6x = 18
 * const [g1] = grad(x.square().sum(), x); // single tensors, as torch.autograd.grad: 2x = 6
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  outputs = list(outputs);
  inputs = list(inputs);
  for (const t of inputs) {
    if (!t.requiresGrad) throw new AutogradError("grad", `an input (shape ${shapeStr(t.shape)}) does not require grad`);
  }
  const grads = defaultRootGrads("grad", outputs, options.gradOutputs);
  const captured = run(outputs, grads, { ...options, capture: inputs });
  return inputs.map((t, i) => {
    const g = captured.get(t);
    if (g) return g;
    if (!options.allowUnused) {
      throw new AutogradError("grad", `input ${i} (shape ${shapeStr(t.shape)}) was not used to compute the outputs; pass { allowUnused: true }`);
    }
    return null;
  });
}
