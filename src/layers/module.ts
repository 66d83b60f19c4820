/**
 * The `Module` base class: a tree of layers holding parameters (trainable leaf tensors) and
 * buffers (state such as BatchNorm running statistics), with PyTorch's dotted names.
 *
 * Registration is explicit: a layer calls `registerParameter`, `registerBuffer` and
 * `registerModule` (typically in field initialisers, so names follow declaration order, as
 * PyTorch's attribute order). A field that holds a Module or a trainable tensor but was never
 * registered is reported by `parameters()`, `stateDict()` and friends instead of being silently
 * skipped by the optimizer (the classic "forgot to register" bug).
 */
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { noGrad } from "../autograd/grad-mode.js";
import { zeros } from "../tensor/create.js";
import { contiguousData } from "../tensor/layout.js";
import { getDefaultDtype, isFloat, toDtype, type DType, type FloatDType, type TypedArray } from "../tensor/dtype.js";
import { sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { markModified, versionOf } from "../tensor/version.js";
import { keepStorage } from "../tensor/pool.js";

/**
 * Any module, whatever its forward signature (used for children and containers).
 * NOTE: `never[]` accepts every `Module<In, Out>` because methods are compared bivariantly.
 * @example
 * const kids: AnyModule[] = model.children();
 */
export type AnyModule = Module<never[], unknown>;

/**
 * A state dict: dotted name → tensor, in PyTorch's order (each module's parameters, then its buffers, then its children).
 * @example
 * const sd: StateDict = model.stateDict();
 * sd.get("0.weight")!.shape; // [8, 4]
 */
export type StateDict = Map<string, Tensor>;

/**
 * A tensor as plain data (what `deserialize` gives per name): `data` contiguous, row-major, of
 * the class that `dtype` names.
 * @example
 * const r: StateRecord = { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) };
 */
export interface StateRecord {
  /** The element type; it must match the class of `data`. */
  readonly dtype: string;
  /** The size of each dim. */
  readonly shape: readonly number[];
  /** The elements. */
  readonly data: ArrayLike<number>;
}

/**
 * What `loadStateDict` takes: a state dict (a Map, or a record, of tensors), tensors as plain
 * records, or what `deserialize()` returns (`{ tensors, metadata }`), as it comes out of a file.
 * @example
 * model.loadStateDict(deserialize(serialize(model.stateDict()))); // bytes from a file or fetch(), in the browser
 */
export type LoadableStateDict =
  | ReadonlyMap<string, Tensor | StateRecord>
  | Readonly<Record<string, Tensor | StateRecord>>
  | { readonly tensors: Readonly<Record<string, StateRecord>>; readonly metadata: Readonly<Record<string, string>> };

const isRecord = (v: unknown): v is StateRecord =>
  typeof v === "object" && v !== null && !(v instanceof Tensor) && "dtype" in v && "shape" in v && "data" in v && ArrayBuffer.isView((v as StateRecord).data);

/** The entries of a loadable state dict, records made into tensors where they are well formed. */
function stateDictEntries(sd: LoadableStateDict): Array<[string, unknown]> {
  let entries: Array<[string, unknown]>;
  if (sd instanceof Map) entries = [...sd];
  else {
    const o = sd as Record<string, unknown>;
    const keys = Object.keys(o);
    // deserialize()'s result: exactly { tensors, metadata }, both objects, no tensor among them
    const isDeserialized = keys.length === 2 && "tensors" in o && "metadata" in o && typeof o.tensors === "object" && o.tensors !== null && !(o.tensors instanceof Tensor) && !isRecord(o.tensors);
    entries = Object.entries(isDeserialized ? (o.tensors as Record<string, unknown>) : o);
  }
  return entries.map(([k, v]) => [k, isRecord(v) ? recordTensor(k, v) : v]);
}

function recordTensor(key: string, r: StateRecord): Tensor | StateRecord {
  const want = { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array }[r.dtype as "float32"];
  if (!want || !(r.data instanceof want) || !Array.isArray(r.shape)) return r; // reported as a mismatch
  try {
    return new Tensor(r.data, r.shape);
  } catch (e) {
    throw new StateDictError([], [], [`"${key}": ${(e as Error).message}`]);
  }
}

/** Options of `Module.loadStateDict`. */
export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true, as PyTorch). */
  strict?: boolean;
  /** Accept NaN/Infinity in float values (default false: a checkpoint with them is refused). */
  allowNonFinite?: boolean;
}

/** What `Module.loadStateDict` returns (with `strict: false`, the keys that did not match). */
export interface LoadStateDictResult {
  /** Keys of the module that the state dict did not provide (left unchanged). */
  missingKeys: string[];
  /** Keys of the state dict that the module does not have (ignored). */
  unexpectedKeys: string[];
}

/**
 * Thrown by `loadStateDict` before anything is changed; lists every problem found.
 * @example
 * try {
 *   model.loadStateDict(new Map([["0.weight", zeros([2, 2])]]));
 * } catch (e) {
 *   if (e instanceof StateDictError) e.missingKeys; // ["0.bias", "2.weight", "2.bias"]
 * }
 */
export class StateDictError extends ValueError {
  override readonly code: string = "STATE_DICT";
  /** Keys of the module missing from the state dict (strict mode). */
  declare readonly missingKeys: string[];
  /** Keys of the state dict the module does not have (strict mode). */
  declare readonly unexpectedKeys: string[];
  /** One line per key whose shape, dtype or values do not fit. */
  declare readonly mismatches: string[];
  constructor(missingKeys: string[], unexpectedKeys: string[], mismatches: string[]) {
    const parts: string[] = [];
    if (missingKeys.length) parts.push(`missing keys: ${missingKeys.join(", ")}`);
    if (unexpectedKeys.length) parts.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
    parts.push(...mismatches);
    super("loadStateDict", `nothing was loaded:\n  ${parts.join("\n  ")}`);
    this.missingKeys = missingKeys;
    this.unexpectedKeys = unexpectedKeys;
    this.mismatches = mismatches;
  }
}

function checkName(op: string, name: string): void {
  if (typeof name !== "string" || name === "" || name.includes(".")) {
    throw new ValueError(op, `name must be non-empty, without ".", got ${JSON.stringify(name)}`);
  }
}

/** @internal A tensor stored at offset 0 of its own storage, in row-major order (what optimizers and loadStateDict write into). */
export function ownsStorage(t: Tensor): boolean {
  return t.offset === 0 && t.isContiguous() && t.storage.length === t.numel;
}

/**
 * A fresh trainable leaf: a contiguous copy of `data` (offset 0) with requiresGrad = true.
 * @example
 * const p0 = parameter(randn([3, 4]).mul(0.01));
 * p0.isLeaf && p0.requiresGrad; // true
 */
export function parameter(data: Tensor): Tensor {
  if (!isFloat(data.dtype)) throw new DTypeError("parameter", `parameters must be float tensors, got ${data.dtype}`);
  return new Tensor(data.toTypedArray(), data.shape).requiresGrad_(true);
}

/**
 * Base class of every layer. Subclasses register their state and implement `forward`.
 *
 * @example
 * class MLP extends Module {
 *   readonly fc1 = this.registerModule("fc1", new Linear(4, 8));
 *   readonly fc2 = this.registerModule("fc2", new Linear(8, 2));
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.forward(this.fc1.forward(x).relu());
 *   }
 * }
 * const m = new MLP();
 * m.namedParameters().map(([n]) => n); // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Training mode (true after construction, as PyTorch). Change it with `train()` / `eval()`. */
  training = true;
  readonly #parameters = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #nonPersistent = new Set<string>();
  readonly #modules = new Map<string, AnyModule | null>();

  constructor() {
    // The subclass's forward (on its prototype, already there while this constructor runs) runs
    // through runForward, which knows the module's path and names its output after it. A forward
    // defined as a field (forward = (x) => ...) replaces this and is simply not named.
    const forward = this.forward as unknown;
    if (typeof forward === "function") {
      Object.defineProperty(this, "forward", {
        configurable: true,
        writable: true,
        enumerable: false,
        value: (...args: In): Out => runForward(this as unknown as AnyModule, forward as (...a: In) => Out, args),
      });
    }
  }

  /**
   * The computation: subclasses implement it. Call it directly (or through `call`). A tensor it
   * returns is named after the module's path in the model whose forward is running (`t.name`, e.g.
   * "encoder.layers.1.attn"), unless it has a name already or is one of its arguments; the NaN
   * guard's reports show these names and the module an op ran in.
   * @example
   * const out = model.forward(x); // [2, 3] logits
   */
  abstract forward(...args: In): Out;

  /**
   * Same as `forward` (PyTorch's `module(x)`).
   * @example
   * model.call(x).shape; // [2, 3]
   */
  call(...args: In): Out {
    return this.forward(...args);
  }

  // ---------------------------------------------------------------- registration
  #checkFree(op: string, name: string, own: Map<string, unknown>): void {
    checkName(op, name);
    if ([this.#parameters, this.#buffers, this.#modules].some((m) => m !== own && m.has(name))) throw new ValueError(op, `"${name}" is already registered as another kind`);
  }

  /**
   * Register a trainable parameter (or `null` for an absent one, such as `bias: false`; it is then
   * left out of `parameters()` and `stateDict()`, as PyTorch). The tensor must be a float leaf that
   * owns its storage (contiguous, offset 0); use {@link parameter} to make one from any tensor.
   * Sets requiresGrad. Returns the tensor, so it can initialise a field.
   * @example
   * class Scale extends Module {
   *   readonly gain = this.registerParameter("gain", ones([1]));
   *   forward(v: Tensor): Tensor {
   *     return v.mul(this.gain);
   *   }
   * }
   * new Scale().namedParameters()[0]![0]; // "gain"
   */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    this.#checkFree("registerParameter", name, this.#parameters);
    if (t !== null) {
      const op = "registerParameter";
      if (!(t instanceof Tensor)) throw new ValueError(op, `"${name}" must be a Tensor or null`);
      if (!isFloat(t.dtype)) throw new DTypeError(op, `"${name}" must be a float tensor, got ${t.dtype}`);
      if (!t.isLeaf) throw new ValueError(op, `"${name}" must be a leaf, not the output of ${t.gradFn?.op}; wrap it with parameter(t)`);
      if (!ownsStorage(t)) {
        throw new ValueError(op, `"${name}" must be contiguous at offset 0 of its own storage (shape ${shapeStr(t.shape)}, strides ${shapeStr(t.strides)}, offset ${t.offset}); wrap it with parameter(t)`);
      }
      t.requiresGrad = true;
      t.keepFromTidy(true); // a module's state: no tidy disposes it (frozen later or not)
    }
    this.#parameters.set(name, t);
    return t;
  }

  /**
   * Register a buffer: state saved in `stateDict()` but not trained (running statistics). It
   * must own its storage, as parameters. `persistent: false` keeps it out of the state dict.
   * Returns the tensor.
   * @example
   * class Counter extends Module {
   *   readonly seen = this.registerBuffer("seen", zeros([1]));
   *   forward(v: Tensor): Tensor {
   *     this.seen.storage[0]! += v.shape[0]!;
   *     return v;
   *   }
   * }
   * [...new Counter().stateDict().keys()]; // ["seen"]
   */
  registerBuffer<T extends Tensor | null>(name: string, t: T, options: { persistent?: boolean } = {}): T {
    this.#checkFree("registerBuffer", name, this.#buffers);
    if (t !== null) {
      const op = "registerBuffer";
      if (!(t instanceof Tensor)) throw new ValueError(op, `"${name}" must be a Tensor or null`);
      if (!ownsStorage(t)) throw new ValueError(op, `"${name}" must be contiguous at offset 0 of its own storage (shape ${shapeStr(t.shape)}, strides ${shapeStr(t.strides)}, offset ${t.offset}); pass a copy`);
      if (t.requiresGrad) throw new ValueError(op, `"${name}" must not require grad; make it a parameter`);
      // a module's state (layers may read and write its storage directly): no tidy disposes it, and
      // its memory is never recycled
      t.keepFromTidy(true);
      keepStorage(t.storage);
    }
    this.#buffers.set(name, t);
    if (options.persistent === false) this.#nonPersistent.add(name);
    else this.#nonPersistent.delete(name);
    return t;
  }

  /**
   * Register a child module under `name` (its parameters are then named `name.*`). Returns it.
   * @example
   * class Block extends Module {
   *   readonly fc = this.registerModule("fc", new Linear(4, 4));
   *   forward(v: Tensor): Tensor {
   *     return this.fc.forward(v).relu();
   *   }
   * }
   * new Block().namedParameters().map(([n]) => n); // ["fc.weight", "fc.bias"]
   */
  registerModule<M extends AnyModule | null>(name: string, m: M): M {
    this.#checkFree("registerModule", name, this.#modules);
    if (m !== null && !(m instanceof Module)) throw new ValueError("registerModule", `"${name}" must be a Module or null`);
    this.#modules.set(name, m);
    registrations++;
    return m;
  }

  // ---------------------------------------------------------------- traversal
  /**
   * Direct children with their names.
   * @example
   * model.namedChildren().map(([n]) => n); // ["0", "1", "2"]
   */
  namedChildren(): Array<[string, AnyModule]> {
    const out: Array<[string, AnyModule]> = [];
    for (const [n, m] of this.#modules) if (m) out.push([n, m]);
    return out;
  }
  /**
   * Direct children (without names).
   * @example
   * model.children().length; // 3
   */
  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * This module and every descendant (pre-order, each once), with dotted names ("" for this one,
   * or `prefix`).
   * @example
   * model.namedModules().map(([n]) => n); // ["", "0", "1", "2"]
   */
  namedModules(prefix = ""): Array<[string, AnyModule]> {
    const out: Array<[string, AnyModule]> = [];
    const seen = new Set<AnyModule>();
    // NOTE: iterative pre-order walk (deep Sequentials must not overflow the stack).
    const stack: Array<[string, AnyModule]> = [[prefix, this as unknown as AnyModule]];
    while (stack.length) {
      const [name, m] = stack.pop()!;
      if (seen.has(m)) continue;
      seen.add(m);
      out.push([name, m]);
      const kids = m.namedChildren();
      for (let i = kids.length - 1; i >= 0; i--) {
        const [n, c] = kids[i]!;
        stack.push([name ? `${name}.${n}` : n, c]);
      }
    }
    return out;
  }
  /**
   * This module and every descendant (pre-order, each once).
   * @example
   * model.modules().filter((m) => m instanceof Linear).length; // 2
   */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted PyTorch name (`0.weight`, `encoder.fc1.bias`). A parameter
   * shared by two modules is listed once, under its first name. Sets each tensor's `name`.
   * @example
   * model.namedParameters().map(([n, p]) => `${n} ${p.shape}`); // ["0.weight 8,4", "0.bias 8", ...]
   */
  namedParameters(): Array<[string, Tensor]> {
    this.#checkRegistration();
    const out: Array<[string, Tensor]> = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, p] of m.#parameters) {
        if (!p || seen.has(p)) continue;
        seen.add(p);
        const full = prefix ? `${prefix}.${n}` : n;
        p.name = full;
        out.push([full, p]);
      }
    }
    return out;
  }
  /**
   * Every parameter (each once), in `namedParameters()` order: what an optimizer takes.
   * @example
   * const adam = new Adam(model.parameters(), { lr: 1e-3 });
   */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * Every buffer (persistent or not) with its dotted name.
   * @example
   * new BatchNorm1d(4).namedBuffers().map(([n]) => n); // ["running_mean", "running_var", "num_batches_tracked"]
   */
  namedBuffers(): Array<[string, Tensor]> {
    this.#checkRegistration();
    const out: Array<[string, Tensor]> = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, b] of m.#buffers) {
        if (!b || seen.has(b)) continue;
        seen.add(b);
        out.push([prefix ? `${prefix}.${n}` : n, b]);
      }
    }
    return out;
  }
  /**
   * Every buffer (persistent or not), in `namedBuffers()` order.
   * @example
   * new BatchNorm1d(4).buffers().length; // 3
   */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** The live tensors a state dict names (no copies), in state-dict order. */
  #stateEntries(): Array<[string, Tensor]> {
    this.#checkRegistration();
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      const p = prefix ? `${prefix}.` : "";
      for (const [n, t] of m.#parameters) if (t) out.push([p + n, t]);
      for (const [n, t] of m.#buffers) if (t && !m.#nonPersistent.has(n)) out.push([p + n, t]);
    }
    return out;
  }

  /**
   * Reports fields that hold a Module or a trainable leaf tensor that is not registered anywhere in
   * this tree: the optimizer would never see them.
   */
  #checkRegistration(): void {
    const mods = this.namedModules();
    const modSet = new Set<unknown>(mods.map(([, m]) => m));
    const params = new Set<unknown>();
    for (const [, m] of mods) for (const p of m.#parameters.values()) if (p) params.add(p);
    for (const [prefix, m] of mods) {
      for (const [key, value] of Object.entries(m)) {
        const where = `${m.constructor.name}${prefix ? ` "${prefix}"` : ""} field "${key}"`;
        const items: unknown[] = Array.isArray(value) ? value : [value];
        for (const v of items) {
          if (v instanceof Module && !modSet.has(v)) {
            throw new ValueError("Module", `${where} holds a ${v.constructor.name} that is not registered: use this.registerModule("${key}", ...)${Array.isArray(value) ? " or a ModuleList" : ""}, or a #private field`);
          }
          if (v instanceof Tensor && v.requiresGrad && v.isLeaf && !params.has(v)) {
            throw new ValueError("Module", `${where} holds a trainable tensor ${shapeStr(v.shape)} that is not registered: use this.registerParameter("${key}", ...), or a #private field`);
          }
        }
      }
    }
  }

  /**
   * The number of parameter elements in the tree, each shared parameter once: by default all of
   * them, as `sum(p.numel() for p in model.parameters())` in PyTorch, Keras' `count_params()` and
   * `summary().totalParams`; with `{ trainableOnly: true }` only those with requiresGrad (frozen
   * ones left out, as `summary().trainableParams`). Buffers (running statistics) are not counted.
   * @example
   * const mlp = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
   * mlp.parametersCount(); // 58: 4*8 + 8 + 8*2 + 2
   * mlp.at(0).weight.requiresGrad = false;
   * mlp.parametersCount({ trainableOnly: true }); // 26
   */
  parametersCount(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!options.trainableOnly || p.requiresGrad) n += p.numel;
    return n;
  }

  // ---------------------------------------------------------------- dtype
  /**
   * Convert every float parameter and float buffer of the tree (and the gradients they hold) to
   * `dtype`, in place, as PyTorch's `module.to(dtype)`; returns this. Integer and bool buffers
   * keep their dtype, as in PyTorch.
   *
   * The tensors stay the same objects (their storage is replaced by a converted copy): an
   * optimizer built before still holds the model's parameters and trains them, the state-dict keys
   * and the `namedParameters()` names do not change, and a `grad` is converted where it is (the
   * same Tensor object). State an optimizer has already created (Adam's moments) keeps its
   * dtype, as in PyTorch; the arrays work with either, and `opt.loadStateDict(opt.stateDict())`
   * rebuilds them in the parameters' new dtype. A graph recorded before the conversion cannot
   * be backpropagated any more (an AutogradError says the values changed in place): run the
   * forward again. A view of a parameter taken before (`w.T`) keeps the old values (and a graph
   * through it cannot be backpropagated either).
   *
   * Only "float32" and "float64" are accepted (a DTypeError otherwise, nothing changed).
   * @example
   * const net = new Sequential(new Linear(4, 8), new BatchNorm1d(8));
   * const opt = new SGD(net.parameters(), { lr: 0.1 });
   * net.to("float64");
   * net.at(0).weight.dtype; // "float64"
   * opt.paramGroups[0]!.params[0] === net.at(0).weight; // true: the optimizer trains it still
   * net.namedBuffers().map(([, b]) => b.dtype); // ["float64", "float64", "int32"]
   */
  to(dtype: FloatDType): this {
    if (dtype !== "float32" && dtype !== "float64") {
      throw new DTypeError("Module.to", `a module converts to "float32" or "float64" only, got ${JSON.stringify(dtype) ?? String(dtype)}`);
    }
    const tensors = new Set<Tensor>();
    for (const m of this.modules()) {
      for (const p of m.#parameters.values()) if (p) tensors.add(p);
      for (const b of m.#buffers.values()) if (b && isFloat(b.dtype)) tensors.add(b);
    }
    for (const t of tensors) {
      if (t.dtype !== dtype) convertInPlace(t, dtype);
      const g = t.grad;
      if (g && g.dtype !== dtype) {
        if (ownsStorage(g) && g.isLeaf) convertInPlace(g, dtype);
        else t.grad = new Tensor(toDtype(contiguousData(g), dtype), g.shape);
      }
    }
    return this;
  }
  /**
   * Convert the float parameters and buffers to float64 in place (`to("float64")`); returns this.
   * @example
   * const lin = new Linear(3, 2).double();
   * lin.weight.dtype; // "float64"
   */
  double(): this {
    return this.to("float64");
  }
  /**
   * Convert the float parameters and buffers to float32 in place (`to("float32")`); returns this.
   * @example
   * const lin = new Linear(3, 2, { dtype: "float64" }).float();
   * lin.bias!.dtype; // "float32"
   */
  float(): this {
    return this.to("float32");
  }

  /**
   * Call `fn` on every module of the tree, children before their parent (post-order, this module
   * last), as PyTorch's `module.apply(fn)`, typically to initialise weights; returns this. A
   * module shared by two parents is visited once (PyTorch visits it once per parent).
   * @example
   * const mlp = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
   * mlp.apply((m) => {
   *   if (m instanceof Linear) init.zeros(m.bias!);
   * });
   * mlp.at(0).bias!.toArray(); // [0, 0, 0, 0, 0, 0, 0, 0]
   */
  apply(fn: (module: AnyModule) => void): this {
    // NOTE: an iterative post-order (deep Sequentials must not overflow the stack); a module is
    // placed where namedModules() first meets it.
    const order: AnyModule[] = [];
    const seen = new Set<AnyModule>();
    const stack: Array<[AnyModule, boolean]> = [[this as unknown as AnyModule, false]];
    while (stack.length) {
      const [m, childrenDone] = stack.pop()!;
      if (childrenDone) {
        order.push(m);
        continue;
      }
      if (seen.has(m)) continue;
      seen.add(m);
      stack.push([m, true]);
      const kids = m.children();
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, false]);
    }
    for (const m of order) fn(m);
    return this;
  }

  // ---------------------------------------------------------------- hooks
  /**
   * Register a hook called before every forward of this module (PyTorch's
   * `register_forward_pre_hook`) with the module and its arguments (as an array). If it returns
   * something other than `undefined`, that replaces the arguments: an array is the new argument
   * list, anything else the single argument (PyTorch wraps a non-tuple so). Pre-hooks run in the
   * order they were registered, each seeing the arguments the previous one returned; a hook
   * removed or added while they run takes effect at the next call. Hooks run when `forward` or
   * `call` runs (not when `forward` is a field holding an arrow function). Returns a handle whose
   * `remove()` unregisters the hook.
   * @example
   * const lin = new Linear(2, 2);
   * const handle = lin.registerForwardPreHook((_m, [x]) => x.mul(0)); // feed zeros
   * lin.forward(ones([1, 2])).toArray(); // the bias
   * handle.remove();
   */
  registerForwardPreHook(hook: ForwardPreHook<In, Out>): RemovableHandle {
    if (typeof hook !== "function") throw new ValueError("registerForwardPreHook", `expects a function, got ${typeof hook}`);
    return addHook(this as unknown as AnyModule, "pre", hook as unknown as AnyHook);
  }
  /**
   * Register a hook called after every forward of this module (PyTorch's
   * `register_forward_hook`) with the module, its arguments (after the pre-hooks) and its output.
   * If it returns something other than `undefined`, that replaces the output (the next hook and
   * the caller see it). Hooks run in the order they were registered, after the pre-hooks and the
   * forward, inside the module's call (its path names what they compute). Returns a handle whose
   * `remove()` unregisters the hook.
   * @example
   * const seq = new Sequential(new Linear(4, 3), new ReLU());
   * const seen: number[][] = [];
   * const handle = seq.at(0).registerForwardHook((_m, _args, out) => {
   *   seen.push(out.shape.slice());
   * });
   * seq.forward(zeros([2, 4]));
   * seen; // [[2, 3]]
   * handle.remove();
   */
  registerForwardHook(hook: ForwardHook<In, Out>): RemovableHandle {
    if (typeof hook !== "function") throw new ValueError("registerForwardHook", `expects a function, got ${typeof hook}`);
    return addHook(this as unknown as AnyModule, "post", hook as unknown as AnyHook);
  }

  // ---------------------------------------------------------------- modes and grads
  /**
   * Set training mode on this module and every descendant; returns this.
   * @example
   * model.train();
   * model.training; // true
   */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  /**
   * Evaluation mode (Dropout off, BatchNorm uses running statistics); returns this.
   * @example
   * model.eval();
   * const pred0 = noGrad(() => model.forward(x));
   * model.train();
   */
  eval(): this {
    return this.train(false);
  }
  /**
   * Set every parameter's `grad` to null (as PyTorch's `zero_grad(set_to_none=True)`).
   * @example
   * loss.backward();
   * model.zeroGrad();
   * model.parameters()[0]!.grad; // null
   */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  // ---------------------------------------------------------------- state dict
  /**
   * A snapshot of the parameters and persistent buffers, keyed by PyTorch's dotted names.
   * NOTE: unlike PyTorch (whose state_dict shares storage with the live parameters), the tensors
   * are copies: a "best model so far" snapshot is not silently overwritten by later training.
   * @example
   * const sd = model.stateDict();
   * [...sd.keys()]; // ["0.weight", "0.bias", "2.weight", ...]
   * other.loadStateDict(sd);
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [k, t] of this.#stateEntries()) out.set(k, new Tensor(t.toTypedArray(), t.shape));
    return out;
  }

  /**
   * Copy values from a state dict (a Map or a plain record of tensors) into the existing parameter
   * and buffer storage, so optimizers holding the parameters keep working. Everything is checked
   * first: missing and unexpected keys (when strict), shapes, dtypes and non-finite values; on any
   * problem a {@link StateDictError} listing all of them is thrown and nothing is changed.
   * @example
   * model.loadStateDict(checkpoint);                    // strict
   * const { missingKeys } = model.loadStateDict(partial, { strict: false });
   */
  loadStateDict(stateDict: LoadableStateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries = stateDictEntries(stateDict);
    const own = new Map(this.#stateEntries());
    const given = new Set<string>();
    const unexpectedKeys: string[] = [];
    const mismatches: string[] = [];
    const copies: Array<[Tensor, Tensor]> = [];
    for (const [k, src] of entries) {
      given.add(k);
      const dst = own.get(k);
      if (!dst) {
        unexpectedKeys.push(k);
        continue;
      }
      if (!(src instanceof Tensor)) {
        mismatches.push(`"${k}": not a Tensor or a { dtype, shape, data } record`);
        continue;
      }
      if (!sameShape(src.shape, dst.shape)) {
        mismatches.push(`"${k}": shape ${shapeStr(src.shape)} in the state dict, ${shapeStr(dst.shape)} in the module`);
        continue;
      }
      if (src.dtype !== dst.dtype) {
        mismatches.push(`"${k}": dtype ${src.dtype} in the state dict, ${dst.dtype} in the module`);
        continue;
      }
      const data = contiguousData(src);
      if (isFloat(src.dtype) && !options.allowNonFinite) {
        let bad = 0;
        for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
        if (bad > 0) {
          mismatches.push(`"${k}": ${bad} non-finite value(s); pass { allowNonFinite: true } to load them`);
          continue;
        }
      }
      copies.push([dst, src]);
    }
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    if (mismatches.length || (strict && (missingKeys.length || unexpectedKeys.length))) {
      throw new StateDictError(strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatches);
    }
    // Storage is owned (checked at registration), so a flat copy writes every element (no op, no graph).
    for (const [dst, src] of copies) {
      dst.storage.set(contiguousData(src));
      markModified(dst);
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---------------------------------------------------------------- summary
  /**
   * A table of the model's layers (torchinfo's `summary`, Keras' `model.summary()`): each module
   * of the tree with its path and type, the shape of its output and its parameter count, then the
   * totals: parameters (trainable, with requiresGrad, and not: frozen) and buffer elements
   * (running statistics, not trained). It runs one forward on zeros of `inputShape` (the batch
   * dim included, as torchinfo's `input_size`), in eval mode (BatchNorm's statistics are not
   * updated, Dropout draws nothing) and without gradients, recording each module's output by
   * wrapping its `forward` for that call; the wrappers and every module's mode are put back as
   * they were, even if the forward throws. `Param #` counts the parameters registered on the row's
   * module itself; a container's are on its children's rows ("-"). Print it with `String(s)` or
   * `console.log(s)` (Node).
   * @example
   * const cnn = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(64, 10));
   * const s = cnn.summary([1, 1, 8, 8]);
   * s.totalParams; // 690: 4*1*3*3 + 4 (conv) + 64*10 + 10 (linear)
   * s.rows[4]!.outputShapes; // [[1, 64]]: the Flatten (rows[0] is the Sequential)
   * console.log(String(s)); // the table
   */
  summary(inputShape: readonly number[], options: SummaryOptions = {}): ModelSummary {
    const op = "Module.summary";
    if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ValueError(op, `inputShape must be an array of sizes (the batch dim included), got ${JSON.stringify(inputShape)}`);
    }
    const params = this.namedParameters();
    const dtype = options.dtype ?? (params.find(([, p]) => isFloat(p.dtype))?.[1].dtype ?? getDefaultDtype());
    const mods = this.namedModules();
    const seen = new Map<AnyModule, { calls: number; shapes: number[][] }>();
    const restores: Array<() => void> = [];
    const modes = mods.map(([, m]) => m.training);
    try {
      for (const [, m] of mods) {
        const desc = Object.getOwnPropertyDescriptor(m, "forward");
        if (desc && !desc.configurable) continue; // cannot be wrapped and put back: not recorded
        const original = m.forward;
        const record = { calls: 0, shapes: [] as number[][] };
        seen.set(m, record);
        Object.defineProperty(m, "forward", {
          configurable: true,
          writable: true,
          value: function (this: unknown, ...args: never[]): unknown {
            const out = original.apply(this, args);
            if (record.calls++ === 0) record.shapes = tensorShapes(out);
            return out;
          },
        });
        restores.push(() => {
          if (desc) Object.defineProperty(m, "forward", desc);
          else delete (m as { forward?: unknown }).forward;
        });
      }
      for (const [, m] of mods) m.training = false;
      const input = zeros([...inputShape], { dtype });
      noGrad(() => (this.forward as unknown as (x: Tensor) => unknown).call(this, input));
    } finally {
      for (const undo of restores.reverse()) undo();
      mods.forEach(([, m], i) => (m.training = modes[i]!));
    }
    const rows: SummaryRow[] = mods.map(([path, m]) => {
      let own = 0;
      let trainable = 0;
      for (const p of m.#parameters.values()) {
        if (!p) continue;
        own += p.numel;
        if (p.requiresGrad) trainable += p.numel;
      }
      const r = seen.get(m);
      return {
        path,
        type: m.constructor.name,
        depth: path === "" ? 0 : path.split(".").length,
        outputShapes: r?.shapes ?? [],
        calls: r?.calls ?? 0,
        params: own,
        trainableParams: trainable,
        container: m.#modules.size > 0,
      };
    });
    let total = 0;
    let trainable = 0;
    for (const [, p] of params) {
      total += p.numel;
      if (p.requiresGrad) trainable += p.numel;
    }
    const buffers = this.namedBuffers().reduce((n, [, b]) => n + b.numel, 0);
    return summaryOf(rows, [...inputShape], total, trainable, buffers);
  }

  // ---------------------------------------------------------------- printing
  /**
   * Extra text shown between the parentheses of `toString()` (e.g. "in_features=4, ...").
   * Subclasses override it.
   * @example
   * new Linear(4, 2).extraRepr(); // "in_features=4, out_features=2, bias=true"
   */
  extraRepr(): string {
    return "";
  }
  /**
   * The module tree in PyTorch's print format.
   * @example
   * String(model); // "Sequential(\n  (0): Linear(in_features=4, ..."
   */
  toString(): string {
    const kids = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (kids.length === 0) return `${head})`;
    const lines = kids.map(([n, m]) => `  (${n}): ${String(m).split("\n").join("\n  ")}`);
    return `${head}\n${lines.join("\n")}\n)`;
  }
}

/**
 * Options of {@link Module.summary}.
 * @example
 * const opts: SummaryOptions = { dtype: "int32" }; // an Embedding takes indices
 */
export interface SummaryOptions {
  /** The dtype of the zeros fed in (default: that of the first parameter, else float32). */
  dtype?: DType;
}

/**
 * One row of a {@link ModelSummary}: one module of the tree.
 * @example
 * const row: SummaryRow = new Sequential(new Linear(4, 2)).summary([3, 4]).rows[1]!;
 * row.path; // "0"
 * row.outputShapes; // [[3, 2]]
 * row.params; // 10
 */
export interface SummaryRow {
  /** The module's dotted path, as in `namedModules()` ("" for the model itself). */
  path: string;
  /** Its class name ("Conv2d"). */
  type: string;
  /** Its depth in the tree (0 for the model). */
  depth: number;
  /** The shape of each tensor its forward returned the first time it ran (empty if it did not run). */
  outputShapes: number[][];
  /** How many times its forward ran. */
  calls: number;
  /** Elements of the parameters registered on this module itself (not its children's). */
  params: number;
  /** Of those, the elements of parameters with requiresGrad. */
  trainableParams: number;
  /** Whether it has child modules. */
  container: boolean;
}

/**
 * What {@link Module.summary} returns: the rows, the totals, and the table (`toString()`).
 * @example
 * const s: ModelSummary = new Sequential(new Linear(4, 2), new BatchNorm1d(2)).summary([3, 4]);
 * s.totalParams; // 14: 4*2 + 2, then 2 + 2
 * s.bufferElements; // 5: running_mean, running_var, num_batches_tracked
 */
export interface ModelSummary {
  /** One row per module, in `namedModules()` order (the model first). */
  rows: SummaryRow[];
  /** The shape of the zeros fed in. */
  inputShape: number[];
  /** Parameter elements, each shared parameter once. */
  totalParams: number;
  /** Of those, in parameters with requiresGrad. */
  trainableParams: number;
  /** Of those, in frozen parameters (requiresGrad false). */
  nonTrainableParams: number;
  /** Elements of the buffers (running statistics: saved, not trained; not counted as parameters). */
  bufferElements: number;
  /** The table: one line per module, then the totals. */
  toString(): string;
}

/** The shapes of the tensors in a forward's output (a tensor, or arrays and objects of them). */
function tensorShapes(out: unknown, depth = 0): number[][] {
  if (out instanceof Tensor) return [[...out.shape]];
  if (depth > 4 || typeof out !== "object" || out === null) return [];
  const items = Array.isArray(out) ? out : out instanceof Map ? [...out.values()] : Object.values(out);
  return items.flatMap((v) => tensorShapes(v, depth + 1));
}

const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

function summaryOf(rows: SummaryRow[], inputShape: number[], total: number, trainable: number, buffers: number): ModelSummary {
  const table = (): string => {
    const cells = rows.map((r) => {
      const name = `${"  ".repeat(r.depth)}${r.path === "" ? r.type : `${r.path} (${r.type})`}`;
      const shape = r.calls === 0 ? "-" : `${r.outputShapes.map((s) => `[${s.join(", ")}]`).join(", ") || "(no tensor)"}${r.calls > 1 ? ` x${r.calls}` : ""}`;
      const count = r.container && r.params === 0 ? "-" : grouped(r.params);
      return [name, shape, count] as const;
    });
    const head = ["Layer (type)", "Output shape", "Param #"] as const;
    const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: readonly string[]): string => `${c[0]!.padEnd(w[0]!)}  ${c[1]!.padEnd(w[1]!)}  ${c[2]!.padStart(w[2]!)}`;
    const rule = "=".repeat(w[0]! + w[1]! + w[2]! + 4);
    return [
      line(head),
      rule,
      ...cells.map(line),
      rule,
      `Total params: ${grouped(total)}`,
      `Trainable params: ${grouped(trainable)}`,
      `Non-trainable params: ${grouped(total - trainable)}`,
      `Buffer elements (running statistics, not trained): ${grouped(buffers)}`,
      `Input shape: [${inputShape.join(", ")}]`,
    ].join("\n");
  };
  const summary: ModelSummary = {
    rows,
    inputShape,
    totalParams: total,
    trainableParams: trainable,
    nonTrainableParams: total - trainable,
    bufferElements: buffers,
    toString: table,
  };
  // console.log(summary) in Node prints the table.
  Object.defineProperty(summary, Symbol.for("nodejs.util.inspect.custom"), { value: table, enumerable: false });
  return summary;
}

// ---------------------------------------------------------------- dtype conversion
/** Replace t's storage by a copy converted to `dtype` (t owns its storage: checked at registration). */
function convertInPlace(t: Tensor, dtype: FloatDType): void {
  const old = t.storage;
  const w = t as unknown as { storage: TypedArray; dtype: DType };
  w.storage = toDtype(contiguousData(t), dtype);
  w.dtype = dtype;
  // A backward through a graph that saved the old values (the tensor itself, or a view of its old
  // storage such as Linear's transposed weight) must refuse to run, as after an in-place write:
  // the engine compares version numbers, so bump the old storage, and the new one past it.
  markModified({ storage: old });
  for (let v = versionOf(old); v >= 0; v--) markModified(t);
}

// ---------------------------------------------------------------- forward hooks
/**
 * A forward pre-hook (see {@link Module.registerForwardPreHook}): gets the module and its
 * arguments; returning an array replaces the arguments, another value the single argument,
 * `undefined` keeps them.
 * @example
 * const scaleInput: ForwardPreHook = (_m, [x]) => x.mul(2);
 */
export type ForwardPreHook<In extends unknown[] = [Tensor], Out = Tensor> = (
  module: Module<In, Out>,
  args: never[] extends In ? unknown[] : In,
) => never[] extends In ? unknown : In | In[0] | undefined | void;

/**
 * A forward hook (see {@link Module.registerForwardHook}): gets the module, its arguments and its
 * output; returning a value other than `undefined` replaces the output.
 * @example
 * const clampOutput: ForwardHook = (_m, _args, out) => out.clamp(-1, 1);
 */
export type ForwardHook<In extends unknown[] = [Tensor], Out = Tensor> = (module: Module<In, Out>, args: never[] extends In ? unknown[] : In, output: Out) => Out | undefined | void;
// NOTE: for AnyModule (In = never[]) the arguments are unknown[]: with never[] itself a
// Module<[Tensor], Tensor> would not be an AnyModule (a hook's tuple is not a never[], nor the reverse).

/**
 * What the hook registrations return (PyTorch's `RemovableHandle`): `remove()` unregisters the
 * hook (calling it again does nothing).
 * @example
 * const h: RemovableHandle = new Linear(2, 2).registerForwardHook(() => undefined);
 * h.remove();
 */
export interface RemovableHandle {
  /** A process-unique id of the registration. */
  readonly id: number;
  /** Unregister the hook (idempotent). */
  remove(): void;
}

type AnyHook = (module: AnyModule, ...rest: unknown[]) => unknown;
interface HookTable {
  readonly pre: Map<number, AnyHook>;
  readonly post: Map<number, AnyHook>;
}
const hookTables = new WeakMap<AnyModule, HookTable>();
let nextHookId = 0;

function addHook(m: AnyModule, kind: "pre" | "post", hook: AnyHook): RemovableHandle {
  let table = hookTables.get(m);
  if (!table) hookTables.set(m, (table = { pre: new Map(), post: new Map() }));
  const id = nextHookId++;
  const hooks = table[kind];
  hooks.set(id, hook);
  return { id, remove: () => void hooks.delete(id) };
}

// ---------------------------------------------------------------- module call paths
/**
 * @internal A module whose forward is running: the module, its dotted path in the outermost
 * module whose forward is running ("" for that one), and the call it runs in.
 */
export interface ModuleFrame {
  readonly module: AnyModule;
  readonly path: string;
  readonly parent: ModuleFrame | null;
}
let current: ModuleFrame | null = null;
/** Bumped by every registerModule: the cached paths below are then stale. */
let registrations = 0;
const descendants = new WeakMap<AnyModule, { version: number; paths: Map<AnyModule, string> }>();

/** @internal The innermost module whose forward is running, or null (read by the NaN guard). */
export function currentModuleFrame(): ModuleFrame | null {
  return current;
}

/** The dotted path of m below root (a descendant at any depth), or undefined. */
function pathBelow(root: AnyModule, m: AnyModule): string | undefined {
  let c = descendants.get(root);
  if (!c || c.version !== registrations) {
    c = { version: registrations, paths: new Map(root.namedModules().map(([n, d]) => [d, n])) };
    descendants.set(root, c);
  }
  return c.paths.get(m);
}

/** The path of m called inside the frame f: below the innermost running module that holds it. */
function pathIn(f: ModuleFrame | null, m: AnyModule): string {
  for (let a = f; a; a = a.parent) {
    const rel = a.module === m ? "" : pathBelow(a.module, m);
    if (rel !== undefined) return a.path && rel ? `${a.path}.${rel}` : a.path || rel;
  }
  return ""; // not held by any running module: a model of its own
}

function runForward<In extends unknown[], Out>(m: AnyModule, forward: (...args: In) => Out, args: In): Out {
  const parent = current;
  const frame: ModuleFrame = { module: m, path: parent ? pathIn(parent, m) : "", parent };
  current = frame;
  try {
    const hooks = hookTables.get(m);
    let callArgs = args;
    // As PyTorch: hooks run from a snapshot (one removed or added meanwhile counts from the next call).
    if (hooks && hooks.pre.size > 0) {
      for (const hook of [...hooks.pre.values()]) {
        const r = hook(m, callArgs);
        if (r !== undefined) callArgs = (Array.isArray(r) ? r : [r]) as In;
      }
    }
    let out = forward.apply(m, callArgs);
    if (hooks && hooks.post.size > 0) {
      for (const hook of [...hooks.post.values()]) {
        const r = hook(m, callArgs, out);
        if (r !== undefined) out = r as Out;
      }
    }
    // Name a fresh output after the module: not an argument passed through, not a parameter.
    if (frame.path && out instanceof Tensor && out.name === undefined && !args.includes(out) && !callArgs.includes(out) && !(out.isLeaf && out.requiresGrad)) out.name = frame.path;
    return out;
  } finally {
    current = parent;
  }
}

/** @internal shape check shared by layers. */
export function expectLastDim(op: string, x: Tensor, size: number, what: string): void {
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== size) {
    throw new ShapeError(op, `expected last dim ${size} (${what}), got shape ${shapeStr(x.shape)}`);
  }
}
