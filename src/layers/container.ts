import { IndexError, ValueError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { Module, type AnyModule } from "./module.js";

/** A module mapping one tensor to one tensor (what Sequential chains). */
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
  constructor(...modules: TensorModule[]) {
    super();
    for (const m of modules) this.append(m);
  }
  /** Add a module at the end (named by its position). Returns this. */
  append(m: TensorModule): this {
    if (!(m instanceof Module)) throw new ValueError("Sequential", `expects modules, got ${typeof m}`);
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }
  get length(): number {
    return this.#items.length;
  }
  /** The module at `index` (negative counts from the end). */
  at(index: number): TensorModule {
    const i = index < 0 ? index + this.#items.length : index;
    const m = this.#items[i];
    if (!Number.isInteger(i) || !m) throw new IndexError("Sequential", `index ${index} out of range for ${this.#items.length} modules`);
    return m;
  }
  [Symbol.iterator](): Iterator<TensorModule> {
    return this.#items[Symbol.iterator]();
  }
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
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  append(m: M): this {
    if (!(m instanceof Module)) throw new ValueError("ModuleList", `expects modules, got ${typeof m}`);
    this.registerModule(String(this.#items.length), m);
    this.#items.push(m);
    return this;
  }
  get length(): number {
    return this.#items.length;
  }
  at(index: number): M {
    const i = index < 0 ? index + this.#items.length : index;
    const m = this.#items[i];
    if (!Number.isInteger(i) || !m) throw new IndexError("ModuleList", `index ${index} out of range for ${this.#items.length} modules`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
  forward(): never {
    throw new ValueError("ModuleList", "a ModuleList has no forward; iterate over it instead");
  }
}
