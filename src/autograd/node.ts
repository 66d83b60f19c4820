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

/** A recorded op application in the graph. */
export class Node {
  readonly id = nextNodeId++;
  /** Set when backward without retainGraph freed this node. */
  freed = false;
  /** The stack where the op was created (captured by anomaly mode; formatted only when reported). */
  creation: Error | undefined;
  constructor(
    readonly op: string,
    readonly def: OpDef<any>,
    public inputs: readonly Tensor[],
    readonly attrs: unknown,
    public output: Tensor | null,
  ) {}
}
