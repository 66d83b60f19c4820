import { AutogradError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * What an op's VJP sees. `g` is the gradient of the output (in the output's shape); the VJP
 * returns one gradient per input (null where none is needed), each in the OUTPUT's broadcast
 * shape or the input's shape: the engine sums broadcast gradients back to the input's shape.
 */
export interface VjpContext<I extends readonly Tensor[], A> {
  readonly g: Tensor;
  readonly inputs: I;
  readonly out: Tensor;
  readonly attrs: A;
  /** needs[i]: whether input i wants a gradient (skip work when false). */
  readonly needs: readonly boolean[];
}

/**
 * The VJP of an op with no gradient (comparisons, argmax, index computations): the engine never
 * records a node for such an op, so this is never called.
 */
export function nonDifferentiable(): never {
  throw new AutogradError("nonDifferentiable", "an op without a gradient was asked for one");
}

/**
 * One entry of the op table: its name, forward (through the kernel backend) and VJP, in one
 * place. Every field is required: an op with no gradient says so with `vjp: nonDifferentiable`,
 * so a new kind of rule becomes a new field here and the compiler lists every op that lacks it.
 *
 * `I` is the tuple of tensor inputs (`[Tensor, Tensor]` for a binary op; `readonly Tensor[]` for
 * a variadic one) and `A` the op's attributes. NOTE: `forward` and `vjp` are declared as methods,
 * so an `OpDef<[Tensor], { dim: number }>` is also an `OpDef` (the engine's erased view) without
 * a cast: TypeScript compares method parameters bivariantly.
 */
export interface OpDef<I extends readonly Tensor[] = readonly Tensor[], A = unknown> {
  /** The op's name: the key of the op table, the `op` of its graph nodes and error reports. */
  readonly name: string;
  /** Compute the output from the inputs. Must not record a graph (it runs under noGrad). */
  forward(inputs: I, attrs: A): Tensor;
  /** The gradients of the inputs, given the output's gradient (or {@link nonDifferentiable}). */
  vjp(ctx: VjpContext<I, A>): readonly (Tensor | null)[];
  /**
   * The tensors whose VALUES the VJP reads: input indices and/or "out" (default: every input and
   * the output). The engine records their storage versions and refuses a backward after an
   * in-place write into one of them. An op whose VJP reads only shapes (add, reshape, sum, ...)
   * declares `[]`.
   */
  readonly saved?: readonly (number | "out")[];
  /**
   * Output element i depends only on input element i (after broadcasting): unary math and
   * broadcasting arithmetic. For such an op the engine makes a zero cotangent give exactly zero
   * gradient whatever the local derivative (the where() trap: 0 · ∞ = NaN), see engine.ts.
   */
  readonly elementwise?: boolean;
  /**
   * The op's interval transfer rules, for the static hazard audit (`audit`): bounds of the output
   * from bounds of the inputs, and optionally of the input gradients. Every op of the table has one
   * (test/ops/interval.test.ts).
   */
  readonly interval?: IntervalRules<I, A>;
}

/**
 * Elementwise bounds of a tensor: `lo <= value <= hi` for every element, each a tensor of the
 * value's shape and dtype (bool bounds for a bool tensor: lo "surely true", hi "possibly true").
 */
export interface Bounds {
  readonly lo: Tensor;
  readonly hi: Tensor;
}

/** What an interval rule sees: the bounds of the inputs, and the inputs and output of a sample run. */
export interface IntervalContext<I extends readonly Tensor[], A> {
  /** Bounds of each input (a point [t, t] for a constant). */
  readonly bounds: readonly Bounds[];
  /** The inputs of the sample run (shapes, dtypes; the exact values of points). */
  readonly inputs: I;
  readonly attrs: A;
  /** The output of the sample run. */
  readonly out: Tensor;
  /** The op's own forward (a monotone op computes its bounds with it). */
  forward(inputs: I, attrs: A): Tensor;
}

/** What an interval VJP rule sees: also the bounds of the output's gradient and of the output. */
export interface IntervalVjpContext<I extends readonly Tensor[], A> extends IntervalContext<I, A> {
  readonly g: Bounds;
  readonly outBounds: Bounds;
}

/**
 * An op's interval transfer rules. `forward` bounds the output; a NaN in a bound says the op can
 * give NaN there, an infinite bound that it can overflow (the audit reports both when the inputs
 * were finite). `vjp`, when given, bounds the input gradients (in the inputs' shapes, null for
 * none) instead of running the VJP itself on bounds: for a VJP whose singular point is guarded by a
 * where() (norm, hypot, ...), which intervals alone cannot see; returning undefined falls back to
 * running the VJP. `constant`: the op writes an attribute's value (a -Infinity fill is intended).
 */
export interface IntervalRules<I extends readonly Tensor[] = readonly Tensor[], A = unknown> {
  forward(ctx: IntervalContext<I, A>): Bounds;
  vjp?(ctx: IntervalVjpContext<I, A>): readonly (Bounds | null)[] | undefined;
  readonly constant?: boolean;
}

let nextNodeId = 1;

/**
 * A recorded op application in the graph: what `tensor.gradFn` holds for a non-leaf tensor
 * (PyTorch's `grad_fn`). Nodes are made by the ops; users only read them.
 * @example
 * const z = a.mul(b).sum();
 * z.gradFn!.op; // "sum"
 * z.gradFn!.inputs[0]!.gradFn!.op; // "mul"
 */
export class Node {
  /** A process-unique id, in creation order. */
  readonly id = nextNodeId++;
  /** Set when backward without retainGraph freed this node. */
  freed = false;
  /** The stack where the op was created (captured by anomaly mode; formatted only when reported). */
  creation: Error | undefined;
  /** @internal The tensors the VJP reads and their storage versions at the forward. */
  saved: readonly (readonly [Tensor, number])[] = [];
  constructor(
    /** @internal The op table entry (forward and VJP). */
    readonly def: OpDef,
    /** The op's inputs (emptied when backward frees the node). */
    public inputs: readonly Tensor[],
    /** The op's non-tensor arguments (dims, options), as the op table defines them. */
    readonly attrs: unknown,
    /** The tensor this node produced. */
    public output: Tensor | null,
  ) {}
  /** The op's name in the op table ("add", "matmul", ...). */
  get op(): string {
    return this.def.name;
  }
}
