import { AutogradError, DisposedError, DTypeError, IndexError, ShapeError } from "../errors.js";
import type { Node } from "../autograd/node.js";
import type { BackwardOptions } from "../autograd/engine.js";
// NOTE: the one import loop of the library, by design: Tensor's methods are the op functions of
// ops/, which build Tensors. Everything else points one way (see docs/contributing.md).
import * as F from "../ops/index.js";
import { dtypeOfArray, isFloat, type DType, type TypedArray } from "./dtype.js";
import { contiguousData, contiguousStrides, isContiguous, type View } from "./layout.js";
import { checkShape, numel, sameShape, shapeStr, type Shape } from "./shape.js";
import { formatTensor } from "./print.js";
import { versionOf } from "./version.js";
import { inBackward, keepStorage, ownerOf, release, type Owner } from "./pool.js";

/** @internal The tensors built since the innermost `tidy` began (null outside one; tensor/memory.ts). */
export const tidyScope: { current: Tensor[] | null } = { current: null };

/** A gradient hook: receives the gradient and may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void;

/**
 * Nested JS arrays of numbers or booleans: what `tensor()` takes and `toArray()` returns.
 * @example
 * const rows: NestedArray = [[1, 2], [3, 4]];
 * tensor(rows).shape; // [2, 2]
 */
export type NestedArray = number | boolean | NestedArray[];

type Scalar = number;
/**
 * The other operand of a binary op: a tensor, or a number (a scalar of this tensor's dtype).
 * @inline
 */
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
  /** A process-unique id, in creation order (used by reports and graph pictures). */
  readonly id: number;
  /** The typed array holding the elements; views share it with their base tensor. */
  readonly storage: TypedArray;
  /** The size of each dim (frozen). */
  readonly shape: readonly number[];
  /** Elements to skip in `storage` to move one step along each dim (row-major when contiguous). */
  readonly strides: readonly number[];
  /** Index in `storage` of the first element. */
  readonly offset: number;
  /** The element type, given by the storage's typed-array class. */
  readonly dtype: DType;
  /** The graph node that produced this tensor, or null for a leaf. */
  gradFn: Node | null = null;
  /** An optional name used by error and NaN reports (modules name their parameters). */
  name: string | undefined;
  #allowNonFinite = false;
  #requiresGrad = false;
  #retainsGrad = false;
  #hooks: GradHook[] | null = null;
  #grad: Tensor | null = null;
  /** The owner record of the storage this tensor counts in (null: not counted, or disposed). */
  #owner: Owner | null = null;
  #disposed = false;
  /** `keep()`: no `tidy` disposes it. Also set on a tensor once it is a `.grad`. */
  #kept = false;

  /**
   * Wrap a typed array as a tensor (no copy). Most code uses `tensor()`, `zeros()`, ... instead.
   * @param storage - the elements; its class gives the dtype
   * @param shape - the size of each dim
   * @param strides - default: contiguous row-major strides for `shape`
   * @param offset - index of the first element in `storage` (default 0)
   */
  constructor(storage: TypedArray, shape: Shape, strides?: readonly number[], offset = 0) {
    this.id = nextId++;
    this.dtype = dtypeOfArray(storage);
    this.storage = storage;
    this.shape = Object.freeze(checkShape("Tensor", shape));
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    checkLayout(this);
    const o = ownerOf(storage);
    if (o) {
      o.n++;
      this.#owner = o;
    }
    if (!inBackward()) tidyScope.current?.push(this);
  }

  /** Accumulated gradient (leaves, and non-leaves after `retainGrad()`); no `tidy` disposes it. */
  get grad(): Tensor | null {
    return this.#grad;
  }
  set grad(g: Tensor | null) {
    // NOTE: optimizers and clipGradNorm read and write a gradient's storage directly
    if (g) {
      keepStorage(g.storage);
      g.#kept = true;
    }
    this.#grad = g;
  }

  // ---------------------------------------------------------------- memory
  /**
   * Release this tensor (TF.js's `dispose`): using it afterwards throws a {@link DisposedError}.
   * Its memory goes back to the library's buffer pool, for the next op result of its size, once
   * every tensor on the same storage (views: reshape, transpose, narrow, expand, detach ...) is
   * disposed, if it was allocated by an op (never an array you passed in) and no autograd graph,
   * gradient or parameter holds it; otherwise the garbage collector frees it as before. Disposing
   * twice is a no-op. An array taken from `.storage` before must not be used after (`toTypedArray()`
   * and `toArray()` return copies: those stay valid). See also {@link tidy}.
   * @example
   * const y = x.mul(2);
   * y.sum().item();
   * y.dispose();
   * y.isDisposed; // true
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const o = this.#owner;
    if (!o) return;
    this.#owner = null;
    release(this.storage, o);
  }
  /**
   * Whether {@link dispose} was called (directly or by a `tidy`).
   * @example
   * tidy(() => x.mul(2)).isDisposed; // false: tidy keeps what fn returns
   */
  get isDisposed(): boolean {
    return this.#disposed;
  }
  /** @internal `keep()`: no tidy disposes it; the other half of `tidy`'s test of what it disposes. */
  keepFromTidy(set?: true): boolean {
    if (set) this.#kept = true;
    return this.#kept || (this.#requiresGrad && this.gradFn === null);
  }
  /**
   * @internal Throw a DisposedError naming `op` if this tensor was disposed, except in a backward
   * pass: VJPs read what their node saved, which the graph keeps (a disposed tensor's memory is
   * never recycled once a node holds it).
   */
  assertLive(op: string): void {
    if (this.#disposed && !inBackward()) throw new DisposedError(op, `tensor ${this.id} was disposed`);
  }

  // ---------------------------------------------------------------- metadata
  /**
   * Number of dims (0 for a scalar).
   * @example
   * x.ndim; // 2
   */
  get ndim(): number {
    return this.shape.length;
  }
  /**
   * Number of elements (the product of the shape).
   * @example
   * x.numel; // 8
   */
  get numel(): number {
    return numel(this.shape);
  }
  /**
   * Size of one dim (negative dims count from the end), or the whole shape.
   * @example
   * x.size(); // [2, 4]
   * x.size(-1); // 4
   */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number | number[] {
    if (dim === undefined) return [...this.shape];
    const d = dim < 0 ? dim + this.ndim : dim;
    if (d < 0 || d >= this.ndim) throw new ShapeError("size", `dim ${dim} out of range for shape ${shapeStr(this.shape)}`);
    return this.shape[d]!;
  }
  /**
   * True when no op produced this tensor (no `gradFn`): user-created tensors and parameters.
   * @example
   * x.isLeaf; // true
   * x.mul(2).isLeaf; // false
   */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  /**
   * True when the elements are laid out row-major without gaps (views may not be).
   * @example
   * const m = randn([2, 3]);
   * m.isContiguous(); // true
   * m.transpose(0, 1).isContiguous(); // false
   */
  isContiguous(): boolean {
    return isContiguous(this);
  }

  /**
   * How many in-place writes the library made into this tensor's storage (PyTorch's `_version`);
   * see {@link markModified}.
   * @example
   * const p = zeros([2]);
   * p.version; // 0
   */
  get version(): number {
    return versionOf(this.storage);
  }

  /**
   * Whether ops on this tensor are recorded for backward. Only float tensors can require gradients;
   * it cannot be turned off on a non-leaf tensor (use `detach()`).
   * @example
   * const w = zeros([3]);
   * w.requiresGrad = true;
   */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && !isFloat(this.dtype)) throw new DTypeError("requiresGrad", `only float tensors can require gradients, got ${this.dtype}`);
    if (!v && this.gradFn) throw new AutogradError("requiresGrad", "cannot turn it off on a non-leaf tensor; use detach()");
    if (v) keepStorage(this.storage);
    this.#requiresGrad = v;
  }
  /**
   * Set requiresGrad and return this (for chaining).
   * @example
   * const w = randn([3, 4]).mul(0.1).requiresGrad_();
   */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }

  /**
   * Keep `.grad` for this non-leaf tensor after backward.
   * @example
   * const h = x.mul(2).retainGrad();
   * h.sum().backward();
   * h.grad!.shape; // [2, 4]
   */
  retainGrad(): this {
    this.#retainsGrad = true;
    return this;
  }
  /** Whether `retainGrad()` was called on this tensor. */
  get retainsGrad(): boolean {
    return this.#retainsGrad;
  }

  /**
   * Register a hook run with this tensor's gradient during backward; it may return a replacement.
   * @example
   * const h = x.registerHook((g) => g.clamp(-1, 1));
   * h.remove();
   */
  registerHook(hook: GradHook): { remove(): void } {
    if (!this.#requiresGrad) throw new AutogradError("registerHook", "the tensor does not require grad");
    (this.#hooks ??= []).push(hook);
    return {
      remove: () => {
        const i = this.#hooks?.indexOf(hook) ?? -1;
        if (i >= 0) this.#hooks!.splice(i, 1);
      },
    };
  }
  /** @internal Whether a gradient hook is registered (the engine never recycles a gradient a hook saw). */
  get hasHooks(): boolean {
    return this.#hooks !== null && this.#hooks.length > 0;
  }
  /** @internal */
  applyHooks(grad: Tensor): Tensor {
    if (!this.#hooks) return grad;
    let g = grad;
    for (const h of this.#hooks) {
      const r = h(g);
      if (r === undefined || r === null) continue;
      // NOTE: as PyTorch, a hook may replace the gradient but not change what it is.
      if (!(r instanceof Tensor)) throw new AutogradError("registerHook", `a hook returned ${typeof r}, not a Tensor (or nothing)`);
      if (r.dtype !== g.dtype) throw new DTypeError("registerHook", `a hook changed the gradient's dtype from ${g.dtype} to ${r.dtype}`);
      if (!sameShape(r.shape, g.shape)) {
        throw new ShapeError("registerHook", `a hook changed the gradient's shape from ${shapeStr(g.shape)} to ${shapeStr(r.shape)}`);
      }
      g = r;
    }
    return g;
  }

  /**
   * Compute gradients of this tensor with respect to every leaf that requires grad, accumulating
   * into their `.grad`. A non-scalar tensor needs an explicit `gradient` of its shape.
   * @param gradient - the gradient of some scalar with respect to this tensor (default: 1 for a scalar)
   * @param options - `retainGraph`, `createGraph` (see {@link BackwardOptions})
   * @example
   * const z = x.square().sum();
   * z.backward();
   * x.grad!.shape; // [2, 4]
   * x.mul(2).backward(onesLike(x)); // non-scalar: pass the output gradient
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    // (the engine refuses a disposed root or gradient)
    F.backward([this], gradient ? [gradient] : undefined, options);
  }

  /**
   * A tensor sharing storage with this one, cut from the graph.
   * @example
   * const frozen = x.detach();
   * frozen.requiresGrad; // false
   */
  detach(): Tensor {
    this.assertLive("detach");
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /**
   * Mark this tensor as allowed to hold ±Infinity (for example an attention mask), so the NaN
   * guard does not flag it.
   * @example
   * const mask = tensor([0, -Infinity, 0]).markAllowNonFinite();
   */
  markAllowNonFinite(): this {
    this.#allowNonFinite = true;
    return this;
  }
  /** Whether `markAllowNonFinite()` was called on this tensor. */
  get allowNonFinite(): boolean {
    return this.#allowNonFinite;
  }

  // ---------------------------------------------------------------- data access
  /**
   * The value of a one-element tensor.
   * @example
   * tensor([[2.5]]).item(); // 2.5
   */
  item(): number {
    this.assertLive("item");
    if (this.numel !== 1) throw new ShapeError("item", `needs a one-element tensor, got shape ${shapeStr(this.shape)}`);
    return this.storage[this.offset]!;
  }
  /**
   * A contiguous typed-array copy of the elements (row-major).
   * @example
   * tensor([[1, 2], [3, 4]]).transpose(0, 1).toTypedArray(); // Float32Array [1, 3, 2, 4]
   */
  toTypedArray(): TypedArray {
    this.assertLive("toTypedArray");
    const d = contiguousData(this);
    return d === this.storage ? d.slice() : d;
  }
  /**
   * The elements as nested JS arrays (a number for a 0-d tensor, booleans for a bool tensor).
   * @example
   * tensor([[1, 2], [3, 4]]).toArray(); // [[1, 2], [3, 4]]
   */
  toArray(): NestedArray {
    this.assertLive("toArray");
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
  /**
   * A readable print-out of the values, shape and dtype (what `console.log` shows in Node).
   * @example
   * String(tensor([1, 2]));
   */
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatTensor(this);
  }

  // ---------------------------------------------------------------- dtype
  /**
   * Convert to another dtype (a no-op when it already has it); gradients flow between float dtypes.
   * @example
   * x.to("float64").dtype; // "float64"
   */
  to(dtype: DType): Tensor {
    return F.cast(this, dtype);
  }
  /**
   * Convert to float32; `to("float32")`.
   * @example
   * tensor([1, 2], { dtype: "int32" }).float();
   */
  float(): Tensor {
    return F.cast(this, "float32");
  }
  /**
   * Convert to float64; `to("float64")`.
   * @example
   * x.double();
   */
  double(): Tensor {
    return F.cast(this, "float64");
  }
  /**
   * Convert to int32 (truncating toward zero); `to("int32")`.
   * @example
   * tensor([1.7, -1.7]).int().toArray(); // [1, -1]
   */
  int(): Tensor {
    return F.cast(this, "int32");
  }
  /**
   * Convert to bool (non-zero is true); `to("bool")`.
   * @example
   * tensor([0, 2]).bool().toArray(); // [false, true]
   */
  bool(): Tensor {
    return F.cast(this, "bool");
  }

  // ---------------------------------------------------------------- elementwise
  /**
   * Elementwise `-x`; the method form of {@link neg}.
   * @example
   * a.neg()
   */
  neg(): Tensor { return F.neg(this); }
  /**
   * Elementwise `|x|` (subgradient 0 at 0); the method form of {@link abs}.
   * @example
   * a.abs()
   */
  abs(): Tensor { return F.abs(this); }
  /**
   * Elementwise sign: -1, 0 or 1 (gradient 0); the method form of {@link sign}.
   * @example
   * a.sign()
   */
  sign(): Tensor { return F.sign(this); }
  /**
   * Elementwise `e^x`; the method form of {@link exp}.
   * @example
   * a.exp()
   */
  exp(): Tensor { return F.exp(this); }
  /**
   * Elementwise natural logarithm; the method form of {@link log}.
   * @example
   * a.abs().log()
   */
  log(): Tensor { return F.log(this); }
  /**
   * Elementwise `log(1 + x)`, accurate near 0; the method form of {@link log1p}.
   * @example
   * a.abs().log1p()
   */
  log1p(): Tensor { return F.log1p(this); }
  /**
   * Elementwise `e^x - 1`, accurate near 0; the method form of {@link expm1}.
   * @example
   * a.expm1()
   */
  expm1(): Tensor { return F.expm1(this); }
  /**
   * Elementwise square root; the method form of {@link sqrt}.
   * @example
   * a.abs().sqrt()
   */
  sqrt(): Tensor { return F.sqrt(this); }
  /**
   * Elementwise `1 / sqrt(x)`; the method form of {@link rsqrt}.
   * @example
   * a.abs().add(1).rsqrt()
   */
  rsqrt(): Tensor { return F.rsqrt(this); }
  /**
   * Elementwise `x * x`; the method form of {@link square}.
   * @example
   * a.square()
   */
  square(): Tensor { return F.square(this); }
  /**
   * Elementwise sine; the method form of {@link sin}.
   * @example
   * a.sin()
   */
  sin(): Tensor { return F.sin(this); }
  /**
   * Elementwise cosine; the method form of {@link cos}.
   * @example
   * a.cos()
   */
  cos(): Tensor { return F.cos(this); }
  /**
   * Elementwise hyperbolic tangent; the method form of {@link tanh}.
   * @example
   * a.tanh()
   */
  tanh(): Tensor { return F.tanh(this); }
  /**
   * Elementwise arccosine (gradient 0 at ±1); the method form of {@link acos}.
   * @example
   * a.tanh().acos()
   */
  acos(): Tensor { return F.acos(this); }
  /**
   * Elementwise arcsine (gradient 0 at ±1); the method form of {@link asin}.
   * @example
   * a.tanh().asin()
   */
  asin(): Tensor { return F.asin(this); }
  /**
   * Elementwise logistic `1 / (1 + e^-x)`; the method form of {@link sigmoid}.
   * @example
   * a.sigmoid()
   */
  sigmoid(): Tensor { return F.sigmoid(this); }
  /**
   * Elementwise `max(x, 0)` (gradient 0 at 0); the method form of {@link relu}.
   * @example
   * a.relu()
   */
  relu(): Tensor { return F.relu(this); }
  /**
   * Elementwise error function; the method form of {@link erf}.
   * @example
   * a.erf()
   */
  erf(): Tensor { return F.erf(this); }
  /**
   * Elementwise `x > 0 ? x : negativeSlope * x` (default slope 0.01); the method form of {@link leakyRelu}.
   * @example
   * a.leakyRelu(0.1)
   */
  leakyRelu(negativeSlope?: number): Tensor { return F.leakyRelu(this, negativeSlope); }
  /**
   * Gaussian error linear unit (exact, or the tanh approximation); the method form of {@link gelu}.
   * @example
   * a.gelu({ approximate: "tanh" })
   */
  gelu(options?: F.GeluOptions): Tensor { return F.gelu(this, options); }
  /**
   * Elementwise `log(1 + e^(beta x)) / beta`; the method form of {@link softplus}.
   * @example
   * a.softplus()
   */
  softplus(options?: F.SoftplusOptions): Tensor { return F.softplus(this, options); }
  /**
   * Limit the values to [min, max] (either bound may be null); the method form of {@link clamp}.
   * @example
   * a.clamp(-1, 1)
   * a.clamp(0, null)
   */
  clamp(min?: number | null, max?: number | null): Tensor { return F.clamp(this, min, max); }
  /**
   * Elementwise logical not, as bool; the method form of {@link logicalNot}.
   * @example
   * a.gt(0).logicalNot()
   */
  logicalNot(): Tensor { return F.logicalNot(this); }

  /**
   * Elementwise sum, broadcasting; the method form of {@link add}.
   * @example
   * a.add(b)
   * a.add(1)
   */
  add(other: TensorOrScalar): Tensor { return F.add(this, other); }
  /**
   * Elementwise difference, broadcasting; the method form of {@link sub}.
   * @example
   * a.sub(b)
   */
  sub(other: TensorOrScalar): Tensor { return F.sub(this, other); }
  /**
   * Elementwise product, broadcasting; the method form of {@link mul}.
   * @example
   * a.mul(b)
   * a.mul(2)
   */
  mul(other: TensorOrScalar): Tensor { return F.mul(this, other); }
  /**
   * Elementwise quotient, broadcasting, optionally rounded ("trunc" or "floor"); the method form of {@link div}.
   * @example
   * a.div(b)
   * a.div(2, { roundingMode: "floor" })
   */
  div(other: TensorOrScalar, options?: F.DivOptions): Tensor { return F.div(this, other, options); }
  /**
   * Elementwise power, broadcasting; the method form of {@link pow}.
   * @example
   * a.pow(2)
   * a.abs().pow(b)
   */
  pow(other: TensorOrScalar): Tensor { return F.pow(this, other); }
  /**
   * Elementwise larger value (ties split the gradient), broadcasting; the method form of {@link maximum}.
   * @example
   * a.maximum(b)
   */
  maximum(other: TensorOrScalar): Tensor { return F.maximum(this, other); }
  /**
   * Elementwise smaller value (ties split the gradient), broadcasting; the method form of {@link minimum}.
   * @example
   * a.minimum(b)
   */
  minimum(other: TensorOrScalar): Tensor { return F.minimum(this, other); }
  /**
   * Elementwise angle of the point (other, this), as `torch.atan2(this, other)` (gradient 0 at the
   * origin), broadcasting; the method form of {@link atan2}.
   * @example
   * a.atan2(b)
   */
  atan2(other: TensorOrScalar): Tensor { return F.atan2(this, other); }
  /**
   * Elementwise `sqrt(this² + other²)` without overflow (gradient 0 at the origin), broadcasting;
   * the method form of {@link hypot}.
   * @example
   * a.hypot(b)
   */
  hypot(other: TensorOrScalar): Tensor { return F.hypot(this, other); }
  // ---------------------------------------------------------------- issue 20 elementwise math
  /**
   * Elementwise tangent; the method form of {@link tan}.
   * @example
   * a.tan()
   */
  tan(): Tensor { return F.tan(this); }
  /**
   * Elementwise hyperbolic sine; the method form of {@link sinh}.
   * @example
   * a.sinh()
   */
  sinh(): Tensor { return F.sinh(this); }
  /**
   * Elementwise hyperbolic cosine; the method form of {@link cosh}.
   * @example
   * a.cosh()
   */
  cosh(): Tensor { return F.cosh(this); }
  /**
   * Elementwise inverse hyperbolic sine; the method form of {@link asinh}.
   * @example
   * a.asinh()
   */
  asinh(): Tensor { return F.asinh(this); }
  /**
   * Elementwise inverse hyperbolic cosine (NaN below 1); the method form of {@link acosh}.
   * @example
   * a.abs().add(1).acosh()
   */
  acosh(): Tensor { return F.acosh(this); }
  /**
   * Elementwise inverse hyperbolic tangent; the method form of {@link atanh}.
   * @example
   * a.tanh().atanh()
   */
  atanh(): Tensor { return F.atanh(this); }
  /**
   * Elementwise base-2 logarithm; the method form of {@link log2}.
   * @example
   * a.abs().log2()
   */
  log2(): Tensor { return F.log2(this); }
  /**
   * Elementwise base-10 logarithm; the method form of {@link log10}.
   * @example
   * a.abs().log10()
   */
  log10(): Tensor { return F.log10(this); }
  /**
   * Elementwise `2^x`; the method form of {@link exp2}.
   * @example
   * a.exp2()
   */
  exp2(): Tensor { return F.exp2(this); }
  /**
   * Elementwise floor (gradient 0); the method form of {@link floor}.
   * @example
   * a.floor()
   */
  floor(): Tensor { return F.floor(this); }
  /**
   * Elementwise ceiling (gradient 0); the method form of {@link ceil}.
   * @example
   * a.ceil()
   */
  ceil(): Tensor { return F.ceil(this); }
  /**
   * Elementwise rounding, ties to even (gradient 0); the method form of {@link round}.
   * @example
   * a.round()
   */
  round(): Tensor { return F.round(this); }
  /**
   * Elementwise rounding toward zero (gradient 0); the method form of {@link trunc}.
   * @example
   * a.trunc()
   */
  trunc(): Tensor { return F.trunc(this); }
  /**
   * `|this|` with the sign of other, broadcasting; the method form of {@link copysign}.
   * @example
   * a.copysign(-1)
   */
  copysign(other: TensorOrScalar): Tensor { return F.copysign(this, other); }
  /**
   * `floor(this / other)`, broadcasting; the method form of {@link floorDivide}.
   * @example
   * a.floorDivide(2)
   */
  floorDivide(other: TensorOrScalar): Tensor { return F.floorDivide(this, other); }
  /**
   * Python's modulo (the divisor's sign), broadcasting; the method form of {@link remainder}.
   * @example
   * a.remainder(2)
   */
  remainder(other: TensorOrScalar): Tensor { return F.remainder(this, other); }
  /**
   * C's fmod (the dividend's sign), broadcasting; the method form of {@link fmod}.
   * @example
   * a.fmod(2)
   */
  fmod(other: TensorOrScalar): Tensor { return F.fmod(this, other); }
  /**
   * `log(e^this + e^other)` without overflow, broadcasting; the method form of {@link logaddexp}.
   * @example
   * a.logaddexp(b)
   */
  logaddexp(other: TensorOrScalar): Tensor { return F.logaddexp(this, other); }
  /**
   * `this + weight (end - this)`; the method form of {@link lerp}.
   * @example
   * a.lerp(b, 0.5)
   */
  lerp(end: Tensor, weight: TensorOrScalar): Tensor { return F.lerp(this, end, weight); }
  /**
   * Elementwise "is NaN", as bool; the method form of {@link isnan}.
   * @example
   * a.log().isnan()
   */
  isnan(): Tensor { return F.isnan(this); }
  /**
   * Elementwise "is ±Infinity", as bool; the method form of {@link isinf}.
   * @example
   * a.isinf()
   */
  isinf(): Tensor { return F.isinf(this); }
  /**
   * Elementwise "is finite", as bool; the method form of {@link isfinite}.
   * @example
   * a.isfinite()
   */
  isfinite(): Tensor { return F.isfinite(this); }
  /**
   * Elementwise closeness within rtol and atol, as bool; the method form of {@link isclose}.
   * @example
   * a.isclose(b, { atol: 1e-6 })
   */
  isclose(other: Tensor, options?: F.IscloseOptions): Tensor { return F.isclose(this, other, options); }
  /**
   * Whether every element is close to other's; the method form of {@link allclose}.
   * @example
   * a.allclose(a.add(1e-9)); // true
   */
  allclose(other: Tensor, options?: F.IscloseOptions): boolean { return F.allclose(this, other, options); }
  /**
   * Elementwise bitwise and (int32 or bool), broadcasting; the method form of {@link bitwiseAnd}.
   * @example
   * tensor([12], { dtype: "int32" }).bitwiseAnd(10)
   */
  bitwiseAnd(other: TensorOrScalar): Tensor { return F.bitwiseAnd(this, other); }
  /**
   * Elementwise bitwise or (int32 or bool), broadcasting; the method form of {@link bitwiseOr}.
   * @example
   * tensor([12], { dtype: "int32" }).bitwiseOr(3)
   */
  bitwiseOr(other: TensorOrScalar): Tensor { return F.bitwiseOr(this, other); }
  /**
   * Elementwise bitwise xor (int32 or bool), broadcasting; the method form of {@link bitwiseXor}.
   * @example
   * tensor([12], { dtype: "int32" }).bitwiseXor(10)
   */
  bitwiseXor(other: TensorOrScalar): Tensor { return F.bitwiseXor(this, other); }
  /**
   * Elementwise bitwise not (int32: `~x`; bool: logical not); the method form of {@link bitwiseNot}.
   * @example
   * tensor([0], { dtype: "int32" }).bitwiseNot()
   */
  bitwiseNot(): Tensor { return F.bitwiseNot(this); }
  /**
   * Elementwise `==`, as bool, broadcasting; the method form of {@link eq}.
   * @example
   * a.eq(b)
   */
  eq(other: TensorOrScalar): Tensor { return F.eq(this, other); }
  /**
   * Elementwise `!=`, as bool, broadcasting; the method form of {@link ne}.
   * @example
   * a.ne(b)
   */
  ne(other: TensorOrScalar): Tensor { return F.ne(this, other); }
  /**
   * Elementwise `<`, as bool, broadcasting; the method form of {@link lt}.
   * @example
   * a.lt(0)
   */
  lt(other: TensorOrScalar): Tensor { return F.lt(this, other); }
  /**
   * Elementwise `<=`, as bool, broadcasting; the method form of {@link le}.
   * @example
   * a.le(b)
   */
  le(other: TensorOrScalar): Tensor { return F.le(this, other); }
  /**
   * Elementwise `>`, as bool, broadcasting; the method form of {@link gt}.
   * @example
   * a.gt(0)
   */
  gt(other: TensorOrScalar): Tensor { return F.gt(this, other); }
  /**
   * Elementwise `>=`, as bool, broadcasting; the method form of {@link ge}.
   * @example
   * a.ge(b)
   */
  ge(other: TensorOrScalar): Tensor { return F.ge(this, other); }
  /**
   * Elementwise logical and of two bool tensors, broadcasting; the method form of {@link logicalAnd}.
   * @example
   * a.gt(0).logicalAnd(b.gt(0))
   */
  logicalAnd(other: Tensor): Tensor { return F.logicalAnd(this, other); }
  /**
   * Elementwise logical or of two bool tensors, broadcasting; the method form of {@link logicalOr}.
   * @example
   * a.gt(0).logicalOr(b.gt(0))
   */
  logicalOr(other: Tensor): Tensor { return F.logicalOr(this, other); }
  /**
   * `where(cond, this, other)`: this tensor where `cond` is true, `other` elsewhere; the method form of {@link where}.
   * @example
   * a.where(a.gt(0), 0) // relu, written with where
   */
  where(cond: Tensor, other: TensorOrScalar): Tensor { return F.where(cond, this, other); }

  // ---------------------------------------------------------------- reductions
  /**
   * Sum over `dim` (one dim, a list, or all when omitted); the method form of {@link sum}.
   * @example
   * a.sum()
   * a.sum(1, true) // shape [2, 1]
   */
  sum(dim?: F.Dims, keepdim?: boolean): Tensor { return F.sum(this, dim, keepdim); }
  /**
   * Mean over `dim` (one dim, a list, or all when omitted); the method form of {@link mean}.
   * @example
   * a.mean(0)
   */
  mean(dim?: F.Dims, keepdim?: boolean): Tensor { return F.mean(this, dim, keepdim); }
  /**
   * Largest value over `dim` (ties split the gradient); the method form of {@link amax}.
   * @example
   * a.amax(1)
   */
  amax(dim?: F.Dims, keepdim?: boolean): Tensor { return F.amax(this, dim, keepdim); }
  /**
   * Smallest value over `dim` (ties split the gradient); the method form of {@link amin}.
   * @example
   * a.amin(1)
   */
  amin(dim?: F.Dims, keepdim?: boolean): Tensor { return F.amin(this, dim, keepdim); }
  /**
   * The largest element, or with `dim` the values and indices of the largest along it; the method
   * form of {@link max}.
   * @example
   * a.max()
   * const { values, indices } = a.max(1);
   */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): F.ValuesIndices;
  max(dim?: number, keepdim?: boolean): Tensor | F.ValuesIndices {
    return F.max(this, dim as number, keepdim); // F.max takes an undefined dim as the whole-tensor max
  }
  /**
   * The smallest element, or with `dim` the values and indices of the smallest along it; the method
   * form of {@link min}.
   * @example
   * a.min()
   * const { values, indices } = a.min(1);
   */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): F.ValuesIndices;
  min(dim?: number, keepdim?: boolean): Tensor | F.ValuesIndices {
    return F.min(this, dim as number, keepdim); // likewise
  }
  /**
   * Index of the largest value (of the flattened tensor when `dim` is omitted), as int32; the method form of {@link argmax}.
   * @example
   * logits.argmax(1) // predicted classes
   */
  argmax(dim?: number, keepdim?: boolean): Tensor { return F.argmax(this, dim, keepdim); }
  /**
   * Index of the smallest value (of the flattened tensor when `dim` is omitted), as int32; the method form of {@link argmin}.
   * @example
   * a.argmin(1)
   */
  argmin(dim?: number, keepdim?: boolean): Tensor { return F.argmin(this, dim, keepdim); }
  /**
   * Variance over `dim` (unbiased unless `correction: 0`); the method form of {@link variance}.
   * @example
   * a.var(1)
   * a.var(1, { correction: 0, keepdim: true })
   */
  var(dim?: F.Dims, options?: F.VarOptions): Tensor { return F.variance(this, dim, options); }
  /**
   * Standard deviation over `dim` (unbiased unless `correction: 0`); the method form of {@link std}.
   * @example
   * a.std(1)
   */
  std(dim?: F.Dims, options?: F.VarOptions): Tensor { return F.std(this, dim, options); }
  /**
   * `log(sum(exp(x)))` over `dim`, computed without overflow; the method form of {@link logsumexp}.
   * @example
   * a.logsumexp(1)
   */
  logsumexp(dim: F.Dims, keepdim?: boolean): Tensor { return F.logsumexp(this, dim, keepdim); }
  /**
   * The p-norm (default 2) over `dim`, or of all elements; the method form of {@link norm}.
   * @example
   * a.norm()
   * a.norm(1, 1)
   */
  norm(p?: number, dim?: F.Dims, keepdim?: boolean): Tensor { return F.norm(this, p, dim, keepdim); }
  /**
   * Softmax along `dim`; the method form of {@link softmax}.
   * @example
   * logits.softmax(1)
   */
  softmax(dim: number): Tensor { return F.softmax(this, dim); }
  /**
   * Log of the softmax along `dim`, computed stably; the method form of {@link logSoftmax}.
   * @example
   * logits.logSoftmax(1)
   */
  logSoftmax(dim: number): Tensor { return F.logSoftmax(this, dim); }
  /**
   * Matrix product (batched and broadcast as torch.matmul); the method form of {@link matmul}.
   * @example
   * x.matmul(w.transpose(0, 1)) // [2, 4] @ [4, 3] = [2, 3]
   */
  matmul(other: Tensor): Tensor { return F.matmul(this, other); }

  // ---------------------------------------------------------------- shape
  /**
   * The same elements in a new shape (one dim may be -1); a view when the layout allows, else a
   * copy. The method form of {@link reshape}.
   * @example
   * x.reshape(4, 2)
   * x.reshape([-1])
   */
  reshape(...shape: number[] | [readonly number[]]): Tensor { return F.reshape(this, flatArgs(shape)); }
  /**
   * The same elements in a new shape, always a view (throws when the layout needs a copy); the method form of {@link view}.
   * @example
   * x.view(8)
   */
  view(...shape: number[] | [readonly number[]]): Tensor { return F.view(this, flatArgs(shape)); }
  /**
   * Merge dims `startDim..endDim` (default: all) into one; the method form of {@link flatten}.
   * @example
   * randn([2, 3, 4]).flatten(1) // shape [2, 12]
   */
  flatten(startDim?: number, endDim?: number): Tensor { return F.flatten(this, startDim, endDim); }
  /**
   * Swap two dims (a view); the method form of {@link transpose}.
   * @example
   * x.transpose(0, 1) // shape [4, 2]
   */
  transpose(dim0: number, dim1: number): Tensor { return F.transpose(this, dim0, dim1); }
  /**
   * Transpose of a 2-D tensor (the last two dims of an n-D one are not swapped: use transpose).
   * @example
   * x.T.shape; // [4, 2]
   */
  get T(): Tensor {
    if (this.ndim > 2) throw new ShapeError("T", `expects at most 2 dims, got shape ${shapeStr(this.shape)}`);
    return this.ndim < 2 ? this : F.transpose(this, 0, 1);
  }
  /**
   * Reorder the dims (a view); the method form of {@link permute}.
   * @example
   * randn([2, 3, 4]).permute(2, 0, 1) // shape [4, 2, 3]
   */
  permute(...dims: number[] | [readonly number[]]): Tensor { return F.permute(this, flatArgs(dims)); }
  /**
   * Broadcast size-1 dims to a larger shape without copying (-1 keeps a size); the method form of {@link expand}.
   * @example
   * tensor([[1], [2]]).expand(2, 3)
   */
  expand(...shape: number[] | [readonly number[]]): Tensor { return F.expand(this, flatArgs(shape)); }
  /**
   * `expand` to the shape of `other`.
   * @example
   * bias.expandAs(a) // [3] -> [2, 3]
   */
  expandAs(other: Tensor): Tensor { return F.expand(this, other.shape); }
  /**
   * Remove size-1 dims (only `dim` when given); the method form of {@link squeeze}.
   * @example
   * randn([2, 1, 3]).squeeze() // shape [2, 3]
   */
  squeeze(dim?: number): Tensor { return F.squeeze(this, dim); }
  /**
   * Insert a size-1 dim at `dim`; the method form of {@link unsqueeze}.
   * @example
   * bias.unsqueeze(0) // shape [1, 3]
   */
  unsqueeze(dim: number): Tensor { return F.unsqueeze(this, dim); }
  /**
   * The slice `start .. start + length` of `dim` (a view); the method form of {@link narrow}.
   * @example
   * x.narrow(1, 1, 2) // columns 1 and 2
   */
  narrow(dim: number, start: number, length: number): Tensor { return F.narrow(this, dim, start, length); }
  /**
   * Index `index` of `dim`, removing that dim (a view); the method form of {@link select}.
   * @example
   * x.select(0, 1) // the second row, shape [4]
   */
  select(dim: number, index: number): Tensor { return F.select(this, dim, index); }
  /**
   * This tensor if it is contiguous, else a row-major copy; the method form of {@link contiguous}.
   * @example
   * x.transpose(0, 1).contiguous().isContiguous(); // true
   */
  contiguous(): Tensor { return F.contiguous(this); }
  /**
   * A copy with its own contiguous storage (differentiable); the method form of {@link clone}.
   * @example
   * const c = x.clone();
   * c.storage === x.storage; // false
   */
  clone(): Tensor { return F.clone(this); }
  /**
   * Split along `dim` into pieces of a given size, or of the listed sizes (views); the method form of {@link split}.
   * @example
   * x.split(2, 1) // two [2, 2] tensors
   * x.split([1, 3], 1)
   */
  split(sizeOrSections: number | readonly number[], dim?: number): Tensor[] { return F.split(this, sizeOrSections, dim); }
  /**
   * Split along `dim` into `chunks` nearly equal pieces (views); the method form of {@link chunk}.
   * @example
   * const [left, right] = x.chunk(2, 1);
   */
  chunk(chunks: number, dim?: number): Tensor[] { return F.chunk(this, chunks, dim); }
  /**
   * The entries of `dim` at the int32 indices `index`; the method form of {@link indexSelect}.
   * @example
   * x.indexSelect(1, tensor([0, 2], { dtype: "int32" })) // columns 0 and 2
   */
  indexSelect(dim: number, index: Tensor): Tensor { return F.indexSelect(this, dim, index); }
  /**
   * Pick along `dim` by an int32 index tensor of the output's shape; the method form of {@link gather}.
   * @example
   * logits.gather(1, y.unsqueeze(1)) // the logit of each target class, shape [2, 1]
   */
  gather(dim: number, index: Tensor): Tensor { return F.gather(this, dim, index); }
  /**
   * A copy of this tensor with `src` added at the positions `index` gives along `dim`; the method form of {@link scatterAdd}.
   * @example
   * zeros([2, 3]).scatterAdd(1, y.unsqueeze(1), ones([2, 1])) // one-hot rows
   */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return F.scatterAdd(this, dim, index, src); }
  /**
   * x[start:end:step] along `dim` (negative indices count from the end; a view); the method form of {@link slice}.
   * @example
   * x.slice(1, 0, undefined, 2) // columns 0 and 2
   */
  slice(dim: number, start?: number, end?: number, step?: number): Tensor { return F.slice(this, dim, start, end, step); }
  /**
   * Shift the entries along `dims` by `shifts`, wrapping around; the method form of {@link roll}.
   * @example
   * x.roll(1, 1)
   */
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor { return F.roll(this, shifts, dims); }
  /**
   * Repeat along each dim (as torch.Tensor.repeat); the method form of {@link repeat}.
   * @example
   * x.repeat([2, 1]) // shape [4, 4]
   */
  repeat(repeats: readonly number[]): Tensor { return F.repeat(this, repeats); }
  /**
   * Repeat along the last dims (as torch.tile); the method form of {@link tile}.
   * @example
   * x.tile([2]) // shape [2, 8]
   */
  tile(reps: readonly number[]): Tensor { return F.tile(this, reps); }
  /**
   * Reverse the entries along `dims` (a copy); the method form of {@link flip}.
   * @example
   * x.flip([0, 1])
   */
  flip(dims: number | readonly number[]): Tensor { return F.flip(this, dims); }
  /**
   * The upper triangle of the last two dims (col - row >= diagonal); the method form of {@link triu}.
   * @example
   * x.triu(1)
   */
  triu(diagonal?: number): Tensor { return F.triu(this, diagonal); }
  /**
   * The lower triangle of the last two dims (col - row <= diagonal); the method form of {@link tril}.
   * @example
   * x.tril()
   */
  tril(diagonal?: number): Tensor { return F.tril(this, diagonal); }
  /**
   * `value` where the bool `mask` is true (gradient 0 there); the method form of {@link maskedFill}.
   * @example
   * x.maskedFill(x.lt(0), -Infinity)
   */
  maskedFill(mask: Tensor, value: number | Tensor): Tensor { return F.maskedFill(this, mask, value); }
  /**
   * The entries where the bool `mask` is true, as 1-D; the method form of {@link maskedSelect}.
   * @example
   * x.maskedSelect(x.gt(0))
   */
  maskedSelect(mask: Tensor): Tensor { return F.maskedSelect(this, mask); }
  /**
   * Cumulative sum along `dim`; the method form of {@link cumsum}.
   * @example
   * x.cumsum(1)
   */
  cumsum(dim: number): Tensor { return F.cumsum(this, dim); }
  /**
   * Cumulative product along `dim` (gradient exact with zeros); the method form of {@link cumprod}.
   * @example
   * x.cumprod(1)
   */
  cumprod(dim: number): Tensor { return F.cumprod(this, dim); }
  /**
   * Sorted values and int32 indices along `dim` (stable); the method form of {@link sort}.
   * @example
   * x.sort(1, true).values
   */
  sort(dim?: number, descending?: boolean): F.ValuesIndices { return F.sort(this, dim, descending); }
  /**
   * The int32 indices that sort along `dim` (stable); the method form of {@link argsort}.
   * @example
   * x.argsort(-1)
   */
  argsort(dim?: number, descending?: boolean): Tensor { return F.argsort(this, dim, descending); }
  /**
   * The k largest (or smallest) entries along `dim` with their int32 indices; the method form of {@link topk}.
   * @example
   * logits.topk(2).indices // the two best classes of each row
   */
  topk(k: number, dim?: number, options?: F.TopkOptions): F.ValuesIndices { return F.topk(this, k, dim, options); }
  /**
   * Batched matrix product of [B, N, M] and [B, M, P]; the method form of {@link bmm}.
   * @example
   * x.unsqueeze(0).bmm(w.transpose(0, 1).unsqueeze(0)) // [1, 2, 4] @ [1, 4, 3] = [1, 2, 3]
   */
  bmm(other: Tensor): Tensor { return F.bmm(this, other); }
  /**
   * beta · this + alpha · bmm(b1, b2); the method form of {@link baddbmm}.
   * @example
   * zeros([1, 2, 3]).baddbmm(x.unsqueeze(0), w.transpose(0, 1).unsqueeze(0), { alpha: 2 })
   */
  baddbmm(b1: Tensor, b2: Tensor, options?: F.BaddbmmOptions): Tensor { return F.baddbmm(this, b1, b2, options); }
  /**
   * The product of all entries, or along `dim` (gradient exact with zeros); the method form of {@link prod}.
   * @example
   * x.prod(1)
   */
  prod(dim?: number, keepdim?: boolean): Tensor { return F.prod(this, dim, keepdim); }
  /**
   * Whether every entry is non-zero, over all dims or `dim` (bool); the method form of {@link all}.
   * @example
   * x.gt(0).all(1)
   */
  all(dim?: F.Dims, keepdim?: boolean): Tensor { return F.all(this, dim, keepdim); }
  /**
   * Whether any entry is non-zero, over all dims or `dim` (bool); the method form of {@link any}.
   * @example
   * x.ne(x).any() // whether x holds a NaN
   */
  any(dim?: F.Dims, keepdim?: boolean): Tensor { return F.any(this, dim, keepdim); }
  /**
   * Stable log(cumsum(exp(x))) along `dim`; the method form of {@link logcumsumexp}.
   * @example
   * x.logcumsumexp(1)
   */
  logcumsumexp(dim: number): Tensor { return F.logcumsumexp(this, dim); }
  /**
   * Running maximum along `dim` with int32 indices (the later index on ties); the method form of {@link cummax}.
   * @example
   * x.cummax(1).values
   */
  cummax(dim: number): F.ValuesIndices { return F.cummax(this, dim); }
  /**
   * Running minimum along `dim` with int32 indices (the later index on ties); the method form of {@link cummin}.
   * @example
   * x.cummin(1).indices
   */
  cummin(dim: number): F.ValuesIndices { return F.cummin(this, dim); }
  /**
   * The diagonal of dims `dim1`, `dim2` at `offset`, as the last dim; the method form of {@link diagonal}.
   * @example
   * x.diagonal() // [x[0][0], x[1][1]]
   */
  diagonal(offset?: number, dim1?: number, dim2?: number): Tensor { return F.diagonal(this, offset, dim1, dim2); }
  /**
   * 1-d to a diagonal matrix, or a 2-d tensor's diagonal; the method form of {@link diag}.
   * @example
   * x.diag() // [x[0][0], x[1][1]]
   */
  diag(diagonal?: number): Tensor { return F.diag(this, diagonal); }
  /**
   * The int32 indices of the non-zero entries, [count, ndim]; the method form of {@link nonzero}.
   * @example
   * x.gt(0).nonzero()
   */
  nonzero(): Tensor { return F.nonzero(this); }
  /**
   * Repeat each entry along `dim` (flattened when omitted); the method form of {@link repeatInterleave}.
   * @example
   * x.repeatInterleave(2, 0).shape // [4, 4]
   */
  repeatInterleave(repeats: number | Tensor, dim?: number): Tensor { return F.repeatInterleave(this, repeats, dim); }
  /**
   * Sliding windows of `size` every `step` along `dim`, as a new last dim; the method form of {@link unfold}.
   * @example
   * x.unfold(1, 2, 1).shape // [2, 3, 2]
   */
  unfold(dim: number, size: number, step: number): Tensor { return F.unfold(this, dim, size, step); }
  /**
   * Split dim `dim` into `sizes`; the method form of {@link unflatten}.
   * @example
   * x.unflatten(1, [2, 2]).shape // [2, 2, 2]
   */
  unflatten(dim: number, sizes: readonly number[]): Tensor { return F.unflatten(this, dim, sizes); }
  /**
   * A copy with `src` (or a number) written at the places `index` names along `dim`; the method form of {@link scatter}.
   * @example
   * x.scatter(1, tensor([[0], [2]], { dtype: "int32" }), 0)
   */
  scatter(dim: number, index: Tensor, src: Tensor | number, reduce?: "add" | "multiply"): Tensor { return F.scatter(this, dim, index, src, reduce); }
  /**
   * A copy with `src` combined by `reduce` at the places `index` names; the method form of {@link scatterReduce}.
   * @example
   * x.scatterReduce(1, tensor([[0, 0, 1], [2, 2, 2]], { dtype: "int32" }), x, "amax")
   */
  scatterReduce(dim: number, index: Tensor, src: Tensor, reduce: F.ScatterReduceMode, options?: F.ScatterReduceOptions): Tensor { return F.scatterReduce(this, dim, index, src, reduce, options); }

  /**
   * Element at a full index (negative indices allowed), as a number.
   * @example
   * const m = tensor([[1, 2], [3, 4]]);
   * m.at(1, 0); // 3
   * m.at(-1, -1); // 4
   */
  at(...index: number[]): number {
    this.assertLive("at");
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

/**
 * NOTE: every view must stay inside its storage: kernels index it without bounds checks, so a bad
 * layout from the public constructor would read garbage (or NaN past the end) silently.
 */
function checkLayout(t: Tensor): void {
  const { shape, strides, offset, storage } = t;
  if (strides.length !== shape.length) {
    throw new ShapeError("Tensor", `${strides.length} strides ${shapeStr(strides)} for ${shape.length} dims ${shapeStr(shape)}`);
  }
  if (!Number.isInteger(offset) || offset < 0) throw new ShapeError("Tensor", `offset must be an integer >= 0, got ${offset}`);
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    const st = strides[d]!;
    if (!Number.isInteger(st) || st < 0) throw new ShapeError("Tensor", `strides must be integers >= 0, got ${shapeStr(strides)}`);
    if (shape[d] === 0) return; // an empty view reads nothing
    last += (shape[d]! - 1) * st;
  }
  if (last >= storage.length) {
    throw new ShapeError("Tensor", `shape ${shapeStr(shape)} with strides ${shapeStr(strides)} and offset ${offset} reads element ${last}, past the end of a storage of ${storage.length}`);
  }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/** @internal The id the next Tensor will get (ids grow: a tensor with a smaller one existed before). */
export function nextTensorId(): number {
  return nextId;
}

/**
 * Whether `x` is a safegrad Tensor (a type guard).
 * @example
 * isTensor(a); // true
 * isTensor([1, 2]); // false
 */
export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
