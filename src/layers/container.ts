import { IndexError, ValueError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { Module, type AnyModule } from "./module.js";

/**
 * A module mapping one tensor to one tensor (what Sequential chains).
 * @example
 * const layer: TensorModule = new Linear(4, 2);
 */
export type TensorModule = Module<[Tensor], Tensor>;

/**
 * Chains modules: the output of each is the input of the next. Children are named "0", "1", ...
 * (so parameters are "0.weight", "2.bias", ... as in PyTorch).
 * @example
 * const mlp = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 * mlp.namedParameters().map(([n]) => n); // ["0.weight", "0.bias", "2.weight", "2.bias"]
 */
export class Sequential extends Module {
  #items: TensorModule[] = [];
  /**
   * @param modules - the layers, in order (children "0", "1", ...)
   */
  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.append(m);
  }
  /**
   * Add a module at the end (named by its position). Returns this.
   * @example
   * const seq = new Sequential(new Linear(4, 4));
   * seq.append(new ReLU()).append(new Linear(4, 1));
   * seq.length; // 3
   */
  append(m: TensorModule): this {
    if (!(m instanceof Module)) throw new ValueError("Sequential", `expects modules, got ${typeof m}`);
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }
  /**
   * Number of modules.
   * @example
   * model.length; // 3
   */
  get length(): number {
    return this.#items.length;
  }
  /**
   * The module at `index` (negative counts from the end).
   * @example
   * model.at(-1); // the last Linear
   */
  at(index: number): TensorModule {
    const i = index < 0 ? index + this.#items.length : index;
    const m = this.#items[i];
    if (!Number.isInteger(i) || !m) throw new IndexError("Sequential", `index ${index} out of range for ${this.#items.length} modules`);
    return m;
  }
  /**
   * Iterate over the modules in order.
   * @example
   * for (const layer of model) layer.extraRepr();
   */
  [Symbol.iterator](): Iterator<TensorModule> {
    return this.#items[Symbol.iterator]();
  }
  /**
   * Feed `x` through every module in order.
   * @example
   * model.forward(x).shape; // [2, 3]
   */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.#items) y = m.forward(y);
    return y;
  }
}

/**
 * A list of modules registered as children "0", "1", ... (PyTorch's ModuleList). It has no
 * forward of its own: iterate over it in the owner's forward.
 * @example
 * class Deep extends Module {
 *   readonly blocks = this.registerModule("blocks", new ModuleList([new Linear(4, 4), new Linear(4, 4)]));
 *   forward(x: Tensor): Tensor {
 *     for (const b of this.blocks) x = b.forward(x).relu();
 *     return x;
 *   }
 * }
 */
export class ModuleList<M extends AnyModule = AnyModule> extends Module<never[], never> {
  #items: M[] = [];
  /**
   * @param modules - the initial modules (children "0", "1", ...)
   */
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  /**
   * Add a module at the end (named by its position). Returns this.
   * @example
   * const blocks = new ModuleList<Linear>();
   * blocks.append(new Linear(4, 4)).append(new Linear(4, 4));
   * blocks.length; // 2
   */
  append(m: M): this {
    if (!(m instanceof Module)) throw new ValueError("ModuleList", `expects modules, got ${typeof m}`);
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }
  /**
   * Number of modules.
   * @example
   * new ModuleList([new ReLU(), new Tanh()]).length; // 2
   */
  get length(): number {
    return this.#items.length;
  }
  /**
   * The module at `index` (negative counts from the end).
   * @example
   * new ModuleList([new Linear(4, 4), new Linear(4, 2)]).at(-1).outFeatures; // 2
   */
  at(index: number): M {
    const i = index < 0 ? index + this.#items.length : index;
    const m = this.#items[i];
    if (!Number.isInteger(i) || !m) throw new IndexError("ModuleList", `index ${index} out of range for ${this.#items.length} modules`);
    return m;
  }
  /**
   * Iterate over the modules in order.
   * @example
   * let h = x;
   * for (const layer of new ModuleList([new Linear(4, 4), new Linear(4, 4)])) h = layer.forward(h);
   */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
  /**
   * Throws: a ModuleList has no forward; iterate over it in the owner's forward instead.
   * @example
   * const list = new ModuleList([new Linear(4, 4)]);
   * let out = x;
   * for (const layer of list) out = layer.forward(out); // not list.forward(x)
   */
  forward(): never {
    throw new ValueError("ModuleList", "a ModuleList has no forward; iterate over it instead");
  }
}

/**
 * Modules by name, as `torch.nn.ModuleDict`: each one is a registered child (its parameters are
 * the owner's; its state-dict keys start with its name), kept in insertion order. Setting an
 * existing name replaces the module in place. Like {@link ModuleList} it has no forward.
 * @example
 * const heads = new ModuleDict({ cls: new Linear(8, 10), box: new Linear(8, 4) });
 * heads.get("box").outFeatures; // 4
 * heads.namedParameters().map(([n]) => n); // ["cls.weight", "cls.bias", "box.weight", "box.bias"]
 */
export class ModuleDict<M extends AnyModule = AnyModule> extends Module<never[], never> {
  #items = new Map<string, M>();
  /**
   * @param modules - the initial modules: a record, or [name, module] pairs (a Map)
   */
  constructor(modules: Readonly<Record<string, M>> | Iterable<readonly [string, M]> = {}) {
    super();
    const pairs = Symbol.iterator in modules ? (modules as Iterable<readonly [string, M]>) : Object.entries(modules);
    for (const [k, m] of pairs) this.set(k, m);
  }
  /**
   * Add or replace the module named `key` (a non-empty name without "."). Returns this.
   * @example
   * new ModuleDict().set("act", new ReLU()).has("act"); // true
   */
  set(key: string, m: M): this {
    if (!(m instanceof Module)) throw new ValueError("ModuleDict", `"${key}" must be a Module, got ${typeof m}`);
    this.#items.set(key, this.registerModule(key, m));
    return this;
  }
  /**
   * The module named `key`; throws an IndexError naming the keys there are.
   * @example
   * new ModuleDict({ act: new ReLU() }).get("act"); // the ReLU
   */
  get(key: string): M {
    const m = this.#items.get(key);
    if (!m) throw new IndexError("ModuleDict", `no module "${key}"; it has ${JSON.stringify([...this.#items.keys()])}`);
    return m;
  }
  /**
   * Whether a module is named `key`.
   * @example
   * new ModuleDict({ act: new ReLU() }).has("fc"); // false
   */
  has(key: string): boolean {
    return this.#items.has(key);
  }
  /**
   * Number of modules.
   * @example
   * new ModuleDict({ a: new ReLU(), b: new Tanh() }).size; // 2
   */
  get size(): number {
    return this.#items.size;
  }
  /**
   * The [name, module] pairs in insertion order.
   * @example
   * const heads = new ModuleDict({ cls: new Linear(8, 10), box: new Linear(8, 4) });
   * const h = randn([2, 8]);
   * const out = Object.fromEntries([...heads].map(([name, head]) => [name, head.forward(h)]));
   */
  [Symbol.iterator](): Iterator<[string, M]> {
    return this.#items[Symbol.iterator]();
  }
  /**
   * Throws: a ModuleDict has no forward; pick its modules by name in the owner's forward.
   * @example
   * const heads = new ModuleDict({ cls: new Linear(8, 10) });
   * heads.get("cls").forward(randn([2, 8])); // not heads.forward(...)
   */
  forward(): never {
    throw new ValueError("ModuleDict", "a ModuleDict has no forward; pick its modules with get(name)");
  }
}
