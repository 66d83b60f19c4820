import { AutogradError, DTypeError, IndexError, ShapeError } from "../errors.js";
import type { View } from "../kernels/backend.js";
import { contiguousData, isContiguous } from "../kernels/reference.js";
import type { Node } from "../autograd/node.js";
import { backward as runBackward, type BackwardOptions } from "../autograd/engine.js";
import * as F from "../autograd/functional.js";
import { dtypeOfArray, isFloat, type DType, type TypedArray } from "./dtype.js";
import { contiguousStrides, numel, shapeStr, type Shape } from "./shape.js";
import { formatTensor } from "./print.js";

/** A gradient hook: receives the gradient and may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void;

export type NestedArray = number | boolean | NestedArray[];

type Scalar = number;
type TensorOrScalar = Tensor | Scalar;

let nextId = 1;

/**
 * An n-dimensional array on a typed-array storage, with reverse-mode autograd.
 *
 * Views (reshape, transpose, narrow, expand, ...) share storage; `contiguous()` copies only when
 * the layout needs it. Every op is also a free function of the same name.
 *
 * @example
 * const x = tensor([1, 2, 3], { requiresGrad: true });
 * x.square().sum().backward();
 * x.grad!.toArray(); // [2, 4, 6]
 */
export class Tensor implements View {
  readonly id: number;
  readonly storage: TypedArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** Accumulated gradient (leaves, and non-leaves after `retainGrad()`). */
  grad: Tensor | null = null;
  /** The graph node that produced this tensor, or null for a leaf. */
  gradFn: Node | null = null;
  /** An optional name used by error and NaN reports (modules name their parameters). */
  name: string | undefined;
  /** Set by `markAllowNonFinite`: the NaN guard will not flag this tensor's infinities. */
  allowNonFinite = false;
  private _requiresGrad = false;
  private _retainsGrad = false;
  private _hooks: GradHook[] | null = null;

  constructor(storage: TypedArray, shape: Shape, strides?: readonly number[], offset = 0) {
    this.id = nextId++;
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.dtype = dtypeOfArray(storage);
  }

  // ---------------------------------------------------------------- metadata
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numel(this.shape);
  }
  /** Size of one dim (negative dims count from the end), or the whole shape. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return [...this.shape];
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim) throw new ShapeError("size", `dim ${dim} out of range for shape ${shapeStr(this.shape)}`);
    return this.shape[d]!;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  isContiguous(): boolean {
    return isContiguous(this);
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && !isFloat(this.dtype)) throw new DTypeError("requiresGrad", `only float tensors can require gradients, got ${this.dtype}`);
    if (!v && this.gradFn) throw new AutogradError("requiresGrad", "cannot turn off requiresGrad of a non-leaf tensor; use detach()");
    this._requiresGrad = v;
  }
  /** Set requiresGrad and return this (for chaining). */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }

  /** Keep `.grad` for this non-leaf tensor after backward. */
  retainGrad(): this {
    this._retainsGrad = true;
    return this;
  }
  get retainsGrad(): boolean {
    return this._retainsGrad;
  }

  /**
   * Register a hook run with this tensor's gradient during backward; it may return a replacement.
   * @example
   * const h = x.registerHook((g) => g.clamp(-1, 1));
   * h.remove();
   */
  registerHook(hook: GradHook): { remove(): void } {
    if (!this._requiresGrad) throw new AutogradError("registerHook", "cannot register a hook on a tensor that does not require grad");
    (this._hooks ??= []).push(hook);
    return {
      remove: () => {
        const i = this._hooks?.indexOf(hook) ?? -1;
        if (i >= 0) this._hooks!.splice(i, 1);
      },
    };
  }
  /** @internal */
  applyHooks(grad: Tensor): Tensor {
    if (!this._hooks) return grad;
    let g = grad;
    for (const h of this._hooks) {
      const r = h(g);
      if (r) g = r;
    }
    return g;
  }

  /**
   * Compute gradients of this tensor with respect to every leaf that requires grad, accumulating
   * into their `.grad`. A non-scalar tensor needs an explicit `gradient` of its shape.
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    runBackward([this], gradient ? [gradient] : undefined, options);
  }

  /** A tensor sharing storage with this one, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /** Mark this tensor as allowed to hold ±Infinity (for example an attention mask). */
  markAllowNonFinite(): this {
    this.allowNonFinite = true;
    return this;
  }

  // ---------------------------------------------------------------- data access
  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new ShapeError("item", `only one-element tensors can be converted to a number, got shape ${shapeStr(this.shape)}`);
    return this.storage[this.offset]!;
  }
  /** A contiguous typed-array copy of the elements (row-major). */
  toTypedArray(): TypedArray {
    const d = contiguousData(this);
    return d === this.storage ? d.slice() : d;
  }
  /** The elements as nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const flat = contiguousData(this);
    const isBool = this.dtype === "bool";
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.ndim) return isBool ? flat[off] !== 0 : flat[off]!;
      const out: NestedArray[] = [];
      const step = numel(this.shape.slice(dim + 1));
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, off + i * step));
      return out;
    };
    return build(0, 0);
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatTensor(this);
  }

  // ---------------------------------------------------------------- dtype
  /** Convert to another dtype (a no-op when it already has it). */
  to(dtype: DType): Tensor {
    return F.cast(this, dtype);
  }
  float(): Tensor {
    return F.cast(this, "float32");
  }
  double(): Tensor {
    return F.cast(this, "float64");
  }
  int(): Tensor {
    return F.cast(this, "int32");
  }
  bool(): Tensor {
    return F.cast(this, "bool");
  }

  // ---------------------------------------------------------------- elementwise
  neg(): Tensor { return F.neg(this); }
  abs(): Tensor { return F.abs(this); }
  sign(): Tensor { return F.sign(this); }
  exp(): Tensor { return F.exp(this); }
  log(): Tensor { return F.log(this); }
  log1p(): Tensor { return F.log1p(this); }
  expm1(): Tensor { return F.expm1(this); }
  sqrt(): Tensor { return F.sqrt(this); }
  rsqrt(): Tensor { return F.rsqrt(this); }
  square(): Tensor { return F.square(this); }
  sin(): Tensor { return F.sin(this); }
  cos(): Tensor { return F.cos(this); }
  tanh(): Tensor { return F.tanh(this); }
  sigmoid(): Tensor { return F.sigmoid(this); }
  relu(): Tensor { return F.relu(this); }
  erf(): Tensor { return F.erf(this); }
  leakyRelu(negativeSlope?: number): Tensor { return F.leakyRelu(this, negativeSlope); }
  gelu(options?: F.GeluOptions): Tensor { return F.gelu(this, options); }
  softplus(options?: F.SoftplusOptions): Tensor { return F.softplus(this, options); }
  clamp(min?: number | null, max?: number | null): Tensor { return F.clamp(this, min, max); }
  logicalNot(): Tensor { return F.logicalNot(this); }

  add(other: TensorOrScalar): Tensor { return F.add(this, other); }
  sub(other: TensorOrScalar): Tensor { return F.sub(this, other); }
  mul(other: TensorOrScalar): Tensor { return F.mul(this, other); }
  div(other: TensorOrScalar): Tensor { return F.div(this, other); }
  pow(other: TensorOrScalar): Tensor { return F.pow(this, other); }
  maximum(other: TensorOrScalar): Tensor { return F.maximum(this, other); }
  minimum(other: TensorOrScalar): Tensor { return F.minimum(this, other); }
  eq(other: TensorOrScalar): Tensor { return F.eq(this, other); }
  ne(other: TensorOrScalar): Tensor { return F.ne(this, other); }
  lt(other: TensorOrScalar): Tensor { return F.lt(this, other); }
  le(other: TensorOrScalar): Tensor { return F.le(this, other); }
  gt(other: TensorOrScalar): Tensor { return F.gt(this, other); }
  ge(other: TensorOrScalar): Tensor { return F.ge(this, other); }
  logicalAnd(other: Tensor): Tensor { return F.logicalAnd(this, other); }
  logicalOr(other: Tensor): Tensor { return F.logicalOr(this, other); }
  /** where(cond, this, other) with this tensor as the selected branch. */
  where(cond: Tensor, other: TensorOrScalar): Tensor { return F.where(cond, this, other); }

  // ---------------------------------------------------------------- reductions
  sum(dim?: F.Dims, keepdim?: boolean): Tensor { return F.sum(this, dim, keepdim); }
  mean(dim?: F.Dims, keepdim?: boolean): Tensor { return F.mean(this, dim, keepdim); }
  amax(dim?: F.Dims, keepdim?: boolean): Tensor { return F.amax(this, dim, keepdim); }
  amin(dim?: F.Dims, keepdim?: boolean): Tensor { return F.amin(this, dim, keepdim); }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): F.ValuesIndices;
  max(dim?: number, keepdim?: boolean): Tensor | F.ValuesIndices {
    return dim === undefined ? F.max(this) : F.max(this, dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): F.ValuesIndices;
  min(dim?: number, keepdim?: boolean): Tensor | F.ValuesIndices {
    return dim === undefined ? F.min(this) : F.min(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim?: boolean): Tensor { return F.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim?: boolean): Tensor { return F.argmin(this, dim, keepdim); }
  var(dim?: F.Dims, options?: F.VarOptions): Tensor { return F.variance(this, dim, options); }
  std(dim?: F.Dims, options?: F.VarOptions): Tensor { return F.std(this, dim, options); }
  logsumexp(dim: F.Dims, keepdim?: boolean): Tensor { return F.logsumexp(this, dim, keepdim); }
  norm(p?: number, dim?: F.Dims, keepdim?: boolean): Tensor { return F.norm(this, p, dim, keepdim); }
  softmax(dim: number): Tensor { return F.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return F.logSoftmax(this, dim); }
  matmul(other: Tensor): Tensor { return F.matmul(this, other); }

  // ---------------------------------------------------------------- shape
  reshape(...shape: number[] | [readonly number[]]): Tensor { return F.reshape(this, flatArgs(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return F.view(this, flatArgs(shape)); }
  flatten(startDim?: number, endDim?: number): Tensor { return F.flatten(this, startDim, endDim); }
  transpose(dim0: number, dim1: number): Tensor { return F.transpose(this, dim0, dim1); }
  /** Transpose of a 2-D tensor (the last two dims of an n-D one are not swapped: use transpose). */
  get T(): Tensor {
    if (this.ndim > 2) throw new ShapeError("T", `expects a tensor of at most 2 dims, got shape ${shapeStr(this.shape)}`);
    return this.ndim < 2 ? this : F.transpose(this, 0, 1);
  }
  permute(...dims: number[] | [readonly number[]]): Tensor { return F.permute(this, flatArgs(dims)); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return F.expand(this, flatArgs(shape)); }
  expandAs(other: Tensor): Tensor { return F.expand(this, other.shape); }
  squeeze(dim?: number): Tensor { return F.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return F.unsqueeze(this, dim); }
  narrow(dim: number, start: number, length: number): Tensor { return F.narrow(this, dim, start, length); }
  select(dim: number, index: number): Tensor { return F.select(this, dim, index); }
  contiguous(): Tensor { return F.contiguous(this); }
  split(sizeOrSections: number | readonly number[], dim?: number): Tensor[] { return F.split(this, sizeOrSections, dim); }
  chunk(chunks: number, dim?: number): Tensor[] { return F.chunk(this, chunks, dim); }
  indexSelect(dim: number, index: Tensor): Tensor { return F.indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return F.gather(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return F.scatterAdd(this, dim, index, src); }

  /** Element at a full index (negative indices allowed), as a number. */
  at(...index: number[]): number {
    if (index.length !== this.ndim) throw new IndexError("at", `expected ${this.ndim} indices for shape ${shapeStr(this.shape)}, got ${index.length}`);
    let off = this.offset;
    for (let d = 0; d < index.length; d++) {
      const n = this.shape[d]!;
      let i = index[d]!;
      if (i < 0) i += n;
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new IndexError("at", `index ${index[d]} out of range for dim ${d} of size ${n}`);
      off += i * this.strides[d]!;
    }
    return this.storage[off]!;
  }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
