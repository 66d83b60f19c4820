/**
 * What every op family builds on: `defineOp` (a typed op-table entry), `call` (apply it through
 * the engine) and the argument checks the public op functions share. Families: elementwise,
 * compare, shape, indexing, reduce, softmax, linalg, conv, pool; ops/table.ts collects their
 * entries into the op table.
 */
import { DTypeError, ValueError } from "../errors.js";
import { applyOp } from "../autograd/engine.js";
import { inBackward, keepStorage, ownerOf } from "../tensor/pool.js";
import type { OpDef } from "../autograd/node.js";
import { isFloat, toDtype, type DType } from "../tensor/dtype.js";
import { expandStrides } from "../tensor/layout.js";
import { broadcastShapes, sameShape, shapeStr, type Shape } from "../tensor/shape.js";
import { nextTensorId, Tensor, tidyScope } from "../tensor/tensor.js";

export { nonDifferentiable } from "../autograd/node.js";
export type { OpDef, VjpContext } from "../autograd/node.js";

/**
 * @internal One family's op-table entries (ops/<family>.ts). `define` types an entry by its input
 * tuple `I` and attributes `A`, checks it against `OpDef` where it is written, and records it here;
 * ops/table.ts joins the families into the op table.
 */
export class OpFamily {
  readonly #ops = new Map<string, OpDef>();
  constructor(readonly name: string) {}
  /** Record an op-table entry of this family and return it. */
  define<I extends readonly Tensor[], A = null>(def: OpDef<I, A>): OpDef<I, A> {
    if (this.#ops.has(def.name)) throw new ValueError("defineOp", `${this.name}: op "${def.name}" is defined twice`);
    this.#ops.set(def.name, def);
    return def;
  }
  /** The entries, by name. */
  get ops(): ReadonlyMap<string, OpDef> {
    return this.#ops;
  }
}

/**
 * Run an op-table entry on its inputs (recording a graph node when one is needed). The one place
 * ops check that no input was disposed (except in a backward pass: a VJP reads the tensors its
 * node saved, whose memory the graph keeps), and where an op's fresh output buffer becomes recyclable on dispose, or
 * every buffer a graph node involves is kept (tensor/pool.ts `Owner`). NOTE: a node keeps its
 * inputs and output only: an op must not hand a VJP tensors through its attributes.
 */
export function call<I extends readonly Tensor[], A>(def: OpDef<I, A>, inputs: I, attrs: A): Tensor {
  for (const t of inputs) t.assertLive(def.name);
  // A tidy tracks the op's result, not what the op makes inside (a forward's temporaries, an
  // engine observer's tensors: the NaN guard and audit keep theirs), nor anything a backward pass
  // makes (gradients; the engine recycles its own).
  const scope = tidyScope.current;
  const first = nextTensorId();
  tidyScope.current = null;
  let out: Tensor;
  try {
    out = applyOp(def, inputs, attrs);
  } finally {
    tidyScope.current = scope;
  }
  // (a result that existed before the call, an input returned as it is, is not this tidy's)
  if (scope && out.id >= first && !inBackward()) scope.push(out);
  const o = ownerOf(out.storage);
  // a node's output requires grad: its storage is kept by the requiresGrad setter
  if (out.gradFn) for (const t of inputs) keepStorage(t.storage);
  else if (o?.s === 0 && !inputs.some((t) => t.storage === out.storage)) o.s = 1; // BORN -> RESULT
  return out;
}

/** A stride-0 view of t broadcast to `shape` (no copy, no graph: for use inside a forward). */
export function expandView(t: Tensor, shape: Shape): Tensor {
  return sameShape(t.shape, shape) ? t : new Tensor(t.storage, shape, expandStrides(t, shape), t.offset);
}

/** The common shape of a broadcasting op's inputs (inside a forward: the engine never broadcasts). */
export function broadcastShape(op: string, ...inputs: readonly Tensor[]): Shape {
  return broadcastShapes(op, ...inputs.map((t) => t.shape));
}

/** A 0-d tensor holding `value`, with `like`'s dtype. */
export function scalar(value: number, like: { dtype: DType }): Tensor {
  return new Tensor(toDtype([value], like.dtype), []);
}

/** Throw a DTypeError naming the op and the argument unless `t` is a float32 or float64 tensor. */
export function assertFloat(op: string, t: Tensor, what = "input"): void {
  if (!(t instanceof Tensor)) throw new DTypeError(op, `${what} must be a Tensor, got ${t === null ? "null" : typeof t}`);
  if (!isFloat(t.dtype)) throw new DTypeError(op, `${what} must be a float tensor, got ${t.dtype} (shape ${shapeStr(t.shape)})`);
}

/** NOTE: a zero denominator would give 0 * inf = NaN in a gradient of a gradient; 1 where d is 0. */
export function safeDenominator(d: Tensor): Tensor {
  return d.where(d.ne(0), 1);
}
