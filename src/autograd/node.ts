import type { Tensor } from "../tensor/tensor.js";

/**
 * What an op's VJP sees. `g` is the gradient of the output (in the output's shape); the VJP
 * returns one gradient per input (null where none is needed), each in the OUTPUT's broadcast
 * shape or the input's shape: the engine sums broadcast gradients back to the input's shape.
 */
export interface VjpContext<A> {
  readonly g: Tensor;
  readonly inputs: readonly Tensor[];
  readonly out: Tensor;
  readonly attrs: A;
  /** needs[i]: whether input i wants a gradient (skip work when false). */
  readonly needs: readonly boolean[];
}

export type Vjp<A> = (ctx: VjpContext<A>) => readonly (Tensor | null)[];

/**
 * One entry of the op table: the forward (through the kernel backend) and the VJP, in one place.
 * `vjp` is required: an op that has no gradient says so with "nonDifferentiable".
 */
export interface OpDef<A> {
  /** Inputs broadcast against each other; the engine expands them before `forward`. */
  readonly broadcast?: boolean;
  /** Compute the output from the inputs. Must not record a graph (it runs under noGrad). */
  readonly forward: (inputs: readonly Tensor[], attrs: A) => Tensor;
  readonly vjp: Vjp<A> | "nonDifferentiable";
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
  constructor(
    /** The op's name in the op table ("add", "matmul", ...). */
    readonly op: string,
    /** @internal The op table entry (forward and VJP). */
    readonly def: OpDef<any>,
    /** The op's inputs (emptied when backward frees the node). */
    public inputs: readonly Tensor[],
    /** The op's non-tensor arguments (dims, options), as the op table defines them. */
    readonly attrs: unknown,
    /** The tensor this node produced. */
    public output: Tensor | null,
  ) {}
}
