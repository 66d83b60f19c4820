import type { FloatArray, OptimizerStateDict, ParamGroup, ParamGroupSpec, ParamLike, StateValue } from "./types.js";
import { fail, floatStorage, OptimizerError } from "./types.js";
import { markModified } from "../tensor/version.js";

/**
 * One optimization algorithm, described as data plus pure functions. The {@link Optimizer} class
 * owns everything else (groups, state, serialization), so an algorithm is one table entry.
 *
 * `H` holds the hyper-parameters of a parameter group, `S` the per-parameter state.
 * @example
 * const signSgd: Algorithm<{ lr: number }, Record<string, never>> = {
 *   name: "SignSGD",
 *   hyperKeys: { lr: "lr" },
 *   stateKeys: {},
 *   validate: (h, who) => {
 *     if (!(h.lr >= 0)) throw new OptimizerError(`${who}: invalid lr ${h.lr}`);
 *   },
 *   initState: () => ({}),
 *   step: (param, g, _state, h) => {
 *     for (let i = 0; i < param.length; i++) param[i] = param[i]! - h.lr * Math.sign(g[i]!);
 *   },
 * };
 */
export interface Algorithm<H extends { lr: number }, S extends object> {
  /** Name used in error messages, e.g. "Adam". */
  readonly name: string;
  /** camelCase hyper-parameter → PyTorch `param_groups` key. */
  readonly hyperKeys: { readonly [K in keyof H]-?: string };
  /** camelCase state field → PyTorch `state` key. */
  readonly stateKeys: { readonly [K in keyof S]-?: string };
  /** Create state for every parameter up front (Adagrad does this in PyTorch) instead of lazily. */
  readonly eagerState?: boolean;
  /** Throw an {@link OptimizerError} naming `who`, the setting and its value if `h` is invalid. */
  validate(h: H, who: string): void;
  /** Fresh state for a parameter with the given storage (used on the first step). */
  initState(param: FloatArray, h: H): S;
  /** The update: mutates `param` and `state` in place. */
  step(param: FloatArray, grad: FloatArray, state: S, h: H): void;
}

/**
 * Base class of all optimizers: parameter groups, per-parameter state, `step()`, `zeroGrad()` and
 * PyTorch-compatible `stateDict()` / `loadStateDict()`. The math lives in the {@link Algorithm}.
 *
 * @example
 * // A new algorithm is one table entry; the class comes for free.
 * const signSgd: Algorithm<{ lr: number }, Record<string, never>> = {
 *   name: "SignSGD", hyperKeys: { lr: "lr" }, stateKeys: {},
 *   validate: (h, who) => {
 *     if (!(h.lr >= 0)) throw new OptimizerError(`${who}: invalid lr ${h.lr}`);
 *   },
 *   initState: () => ({}),
 *   step: (p, g, _s, h) => { for (let i = 0; i < p.length; i++) p[i] = p[i]! - h.lr * Math.sign(g[i]!); },
 * };
 * const signOpt = new Optimizer(signSgd, model.parameters(), { lr: 0.01 });
 * loss.backward();
 * signOpt.step();
 */
export class Optimizer<H extends { lr: number }, S extends object> {
  /** Parameter groups; `lr` (and other hyper-parameters) may be changed between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, keyed by the parameter object. */
  protected readonly state = new Map<ParamLike, S>();

  /**
   * @param algorithm - the update rule and its hyper-parameter keys
   * @param params - the parameters (`model.parameters()`), or parameter groups `{ params, lr?, ... }`
   * @param defaults - hyper-parameters for every group that does not override them
   */
  constructor(
    /** The algorithm (hyper-parameter keys, validation, state, step). */
    protected readonly algorithm: Algorithm<H, S>,
    params: Iterable<ParamLike> | Iterable<ParamGroupSpec<H>>,
    /** Hyper-parameters used for every group that does not override them. */
    readonly defaults: Readonly<H>,
  ) {
    algorithm.validate(defaults as H, algorithm.name);
    const list: unknown[] = [...params];
    if (list.length === 0) throw new OptimizerError(`${algorithm.name}: got an empty parameter list`);
    const specCount = list.filter(isGroupSpec).length;
    if (specCount === list.length) {
      for (const spec of list as ParamGroupSpec<H>[]) this.addParamGroup(spec);
    } else if (specCount === 0) {
      this.addParamGroup({ params: list as ParamLike[] } as unknown as ParamGroupSpec<H>);
    } else {
      throw new OptimizerError(`${algorithm.name}: params mixes parameters and parameter groups`);
    }
  }

  /**
   * Add a parameter group (like PyTorch's `add_param_group`); unspecified settings use `defaults`.
   * A parameter may belong to one group only, and must be a leaf: a tensor computed by an op (one
   * with a `gradFn`) is refused with an {@link OptimizerError}, as in PyTorch.
   * @example
   * const head = new Linear(3, 2);
   * opt.addParamGroup({ params: head.parameters(), lr: 0.01 });
   * opt.paramGroups.length; // 2
   */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const who = `${this.algorithm.name} param group ${this.paramGroups.length}`;
    const params = [...spec.params];
    if (params.length === 0) throw new OptimizerError(`${who}: got an empty parameter list`);
    const seen = new Set<ParamLike>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    params.forEach((p, j) => {
      if (p.gradFn != null) {
        throw new OptimizerError(`${who}: can't optimize a non-leaf Tensor (parameter ${j} was computed by an op; pass the leaf it came from, or detach() it)`);
      }
      if (seen.has(p)) throw new OptimizerError(`${who}: a parameter is in more than one parameter group`);
      seen.add(p);
    });
    const hyper = {} as Record<string, unknown>;
    for (const key of Object.keys(this.algorithm.hyperKeys)) {
      const own = (spec as Record<string, unknown>)[key];
      hyper[key] = copyValue(own !== undefined ? own : (this.defaults as Record<string, unknown>)[key]);
    }
    this.algorithm.validate(hyper as H, who);
    const lr = hyper["lr"] as number;
    const group = { ...hyper, params, lr, initialLr: lr } as unknown as ParamGroup<H>;
    this.paramGroups.push(group);
    if (this.algorithm.eagerState) {
      for (const p of params) this.state.set(p, this.algorithm.initState(floatStorage(p.storage, who), group));
    }
  }

  /**
   * Perform one update of every parameter whose `grad` is not null.
   * @example
   * opt.zeroGrad();
   * loss.backward();
   * opt.step();
   */
  step(): void {
    const alg = this.algorithm;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const grad = p.grad;
        if (grad === null) continue;
        if (grad.storage.length !== p.storage.length) {
          throw new OptimizerError(`${alg.name}.step: gradient has ${grad.storage.length} elements, parameter ${p.storage.length}`);
        }
        let s = this.state.get(p);
        if (s === undefined) {
          s = alg.initState(floatStorage(p.storage, alg.name), group);
          this.state.set(p, s);
        }
        alg.step(floatStorage(p.storage, alg.name), floatStorage(grad.storage, alg.name), s, group);
        markModified(p);
      }
    }
  }

  /**
   * Drop every gradient (`p.grad = null`), like PyTorch's `zero_grad(set_to_none=True)`.
   * @example
   * loss.backward();
   * opt.zeroGrad();
   * model.parameters()[0]!.grad; // null
   */
  zeroGrad(): void {
    for (const group of this.paramGroups) for (const p of group.params) p.grad = null;
  }

  /**
   * Snapshot of hyper-parameters and state in PyTorch's `state_dict()` layout and key names
   * (see {@link OptimizerStateDict}). Buffers are copies, so later steps do not change it.
   * `structuredClone` keeps it intact; for JSON, convert the typed-array buffers with
   * `Array.from` first ({@link loadStateDict} accepts plain number arrays).
   *
   * @example
   * const saved = structuredClone(opt.stateDict());
   * // ... later, with an optimizer built the same way over the same parameters:
   * opt2.loadStateDict(saved);
   */
  stateDict(): OptimizerStateDict {
    const alg = this.algorithm;
    const index = new Map<ParamLike, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const out: { params: number[]; [key: string]: unknown } = { params: [] };
      for (const [key, torchKey] of Object.entries(alg.hyperKeys) as [string, string][]) {
        out[torchKey] = copyValue((group as Record<string, unknown>)[key]);
      }
      out["initial_lr"] = group.initialLr;
      for (const p of group.params) {
        index.set(p, index.size);
        out.params.push(index.size - 1);
      }
      return out;
    });
    const state: Record<number, Record<string, StateValue>> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const entry: Record<string, StateValue> = {};
      for (const [key, torchKey] of Object.entries(alg.stateKeys) as [string, string][]) {
        const v = (s as Record<string, unknown>)[key];
        if (v === undefined) continue;
        entry[torchKey] = copyValue(v) as StateValue;
      }
      state[i] = entry;
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restore a snapshot produced by {@link stateDict} (or a converted PyTorch checkpoint).
   * Everything is validated first: the group count, each group's parameter count and indices,
   * its hyper-parameters as for the constructor (lr, betas, eps, ... finite and in range) and
   * `initial_lr` (a finite number >= 0 when present); each state entry's keys, step counts
   * (integers in [0, 2^53 - 1]) and buffers (float arrays with as many elements as the parameter,
   * every value finite, second moments `exp_avg_sq`, `max_exp_avg_sq`, `square_avg` and `sum`
   * also >= 0). On any problem an {@link OptimizerError} names the field and value, and nothing is
   * changed. Buffers are copied into arrays of each parameter's own dtype.
   * @example
   * const adam = new Adam(model.parameters());
   * loss.backward();
   * adam.step();
   * const snapshot = structuredClone(adam.stateDict());
   * new Adam(model.parameters()).loadStateDict(snapshot); // resumes with the same moments
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const alg = this.algorithm;
    const who = `${alg.name}.loadStateDict`;
    if (typeof sd !== "object" || sd === null || !Array.isArray(sd.param_groups)) {
      throw new OptimizerError(`${who}: expected { state, param_groups }`);
    }
    if (typeof sd.state !== "object" || sd.state === null) throw new OptimizerError(`${who}: missing 'state'`);
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new OptimizerError(`${who}: ${sd.param_groups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    // 1. Hyper-parameters of every group, validated like constructor arguments.
    const byIndex = new Map<number, { param: ParamLike; hyper: H }>();
    const newHypers = sd.param_groups.map((raw, g) => {
      const where = `${who}: param_groups[${g}]`;
      const current = this.paramGroups[g]!;
      if (typeof raw !== "object" || raw === null || !Array.isArray(raw.params)) {
        throw new OptimizerError(`${where}: expected { params: [...] }`);
      }
      if (raw.params.length !== current.params.length) {
        throw new OptimizerError(`${where}: has ${raw.params.length} parameters, the optimizer has ${current.params.length}`);
      }
      const hyper = {} as Record<string, unknown>;
      for (const [key, torchKey] of Object.entries(alg.hyperKeys) as [string, string][]) {
        if (!(torchKey in raw)) throw new OptimizerError(`${where}: missing '${torchKey}'`);
        hyper[key] = copyValue(raw[torchKey]);
      }
      alg.validate(hyper as H, where);
      const initial = raw["initial_lr"];
      if (initial !== undefined) checkNonNegative(where, "initial_lr", initial);
      const initialLr = initial !== undefined ? (initial as number) : current.initialLr;
      raw.params.forEach((idx, j) => {
        if (!Number.isInteger(idx) || byIndex.has(idx)) {
          throw new OptimizerError(`${where}: params[${j}] = ${String(idx)} is not a unique integer`);
        }
        byIndex.set(idx, { param: current.params[j]!, hyper: hyper as H });
      });
      return { hyper, initialLr };
    });
    // 2. Per-parameter state, rebuilt into fresh objects of the parameters' dtypes.
    const reverse = new Map<string, string>();
    for (const [key, torchKey] of Object.entries(alg.stateKeys) as [string, string][]) reverse.set(torchKey, key);
    const newState = new Map<ParamLike, S>();
    for (const [rawIdx, rawEntry] of Object.entries(sd.state as Record<string, unknown>)) {
      const where = `${who}: state[${rawIdx}]`;
      const target = byIndex.get(Number(rawIdx));
      if (target === undefined) throw new OptimizerError(`${where}: no parameter has index ${rawIdx}`);
      if (typeof rawEntry !== "object" || rawEntry === null) throw new OptimizerError(`${where}: expected an object`);
      const { param, hyper } = target;
      const fresh = alg.initState(floatStorage(param.storage, alg.name), hyper) as Record<string, unknown>;
      const entry = rawEntry as Record<string, unknown>;
      for (const [torchKey, raw] of Object.entries(entry)) {
        const value = fromJsonArray(raw);
        const key = reverse.get(torchKey);
        if (key === undefined) throw new OptimizerError(`${where}: unknown state key '${torchKey}'`);
        const template = fresh[key];
        if (typeof template === "number") {
          const ok = torchKey === "step" ? Number.isSafeInteger(value) && (value as number) >= 0 : Number.isFinite(value) && (value as number) >= 0;
          if (!ok) {
            throw new OptimizerError(`${where}.${torchKey}: expected ${torchKey === "step" ? "an integer in [0, 2^53 - 1]" : "a finite number >= 0"}, got ${String(value)}`);
          }
          fresh[key] = value;
        } else if (value === null) {
          if (template !== null) throw new OptimizerError(`${where}.${torchKey}: buffer is null`);
        } else if (isArrayLikeOfNumbers(value)) {
          if (value.length !== param.storage.length) {
            throw new OptimizerError(`${where}.${torchKey}: buffer has ${value.length} elements, parameter ${param.storage.length}`);
          }
          const buf = zerosLike(floatStorage(param.storage, alg.name));
          buf.set(value);
          const bad = firstBad(buf, NON_NEGATIVE_STATE.has(torchKey));
          if (bad >= 0) {
            throw new OptimizerError(
              `${where}.${torchKey}: element ${bad} is ${value[bad]}${!Object.is(buf[bad], value[bad]) ? ` (${buf[bad]} as ${buf instanceof Float32Array ? "float32" : "float64"})` : ""}: expected ${NON_NEGATIVE_STATE.has(torchKey) ? "finite numbers >= 0" : "finite numbers"}`,
            );
          }
          fresh[key] = buf;
        } else {
          throw new OptimizerError(`${where}.${torchKey}: expected a number array or null`);
        }
      }
      for (const [key, torchKey] of Object.entries(alg.stateKeys) as [string, string][]) {
        if (fresh[key] !== null && !(torchKey in entry)) throw new OptimizerError(`${where}: missing '${torchKey}'`);
      }
      newState.set(param, fresh as S);
    }
    // 3. Commit (nothing above has modified the optimizer).
    this.paramGroups.forEach((group, g) => {
      const { hyper, initialLr } = newHypers[g]!;
      Object.assign(group, hyper, { initialLr });
    });
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
    if (alg.eagerState) {
      for (const group of this.paramGroups) {
        for (const p of group.params) if (!this.state.has(p)) this.state.set(p, alg.initState(floatStorage(p.storage, alg.name), group));
      }
    }
  }
}

/**
 * State buffers that hold second moments (sums or averages of squares), with PyTorch's keys: a
 * negative value in one makes the next step's square root NaN, so a state dict holding one is refused.
 */
const NON_NEGATIVE_STATE: ReadonlySet<string> = new Set(["exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum"]);

/** Index of the first element that is not finite (or negative, with `nonNegative`), or -1. */
function firstBad(a: FloatArray, nonNegative: boolean): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isFinite(v) || (nonNegative && v < 0)) return i;
  }
  return -1;
}

function isGroupSpec(x: unknown): boolean {
  return typeof x === "object" && x !== null && "params" in x && !("storage" in x);
}

function isArrayLikeOfNumbers(v: unknown): v is ArrayLike<number> {
  if (v instanceof Float32Array || v instanceof Float64Array) return true;
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

/**
 * NOTE: `JSON.stringify` writes a Float32Array as {"0": .., "1": ..}; a state dict that went
 * through JSON (localStorage, a web worker message as text) comes back so. Such an object with the
 * keys 0..n-1, all numbers, is taken as the array it was (null-prototype copy: keys are not trusted).
 */
function fromJsonArray(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return v;
  const keys = Object.keys(v);
  const out = new Array<number>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const x = (v as Record<string, unknown>)[String(i)];
    if (!Object.hasOwn(v, String(i)) || typeof x !== "number") return v;
    out[i] = x;
  }
  return out;
}

/** Copy arrays (typed or plain) so that snapshots and groups never share mutable storage. */
function copyValue(v: unknown): unknown {
  return v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v) ? v.slice() : v;
}

/**
 * A zero-filled array of the same dtype and length as `a` (state buffers follow the parameter dtype).
 *
 * @example
 * zerosLike(new Float32Array(3)); // Float32Array [0, 0, 0]
 */
export function zerosLike(a: FloatArray): FloatArray {
  return a instanceof Float32Array ? new Float32Array(a.length) : new Float64Array(a.length);
}

// ---------------------------------------------------------------------------------------------
// Hyper-parameter checks shared by the algorithms. Messages name who, the setting and the value.

/**
 * `v` must be a finite number >= 0 (PyTorch's `0.0 <= v`, plus finiteness).
 *
 * @example
 * checkNonNegative("SGD", "lr", -1); // throws OptimizerError "SGD: invalid lr -1: expected a finite number >= 0"
 */
export function checkNonNegative(who: string, name: string, v: unknown): void {
  if (!(Number.isFinite(v) && (v as number) >= 0)) fail(who, name, v, "a finite number >= 0");
}

/**
 * `v` must be a finite number.
 *
 * @example
 * checkFinite("SGD", "dampening", NaN); // throws OptimizerError
 */
export function checkFinite(who: string, name: string, v: unknown): void {
  if (!Number.isFinite(v)) fail(who, name, v, "a finite number");
}

/**
 * `v` must be a boolean.
 *
 * @example
 * checkBoolean("Adam", "amsgrad", 1); // throws OptimizerError
 */
export function checkBoolean(who: string, name: string, v: unknown): void {
  if (typeof v !== "boolean") fail(who, name, v, "a boolean");
}

/**
 * `v` must be `[beta1, beta2]` with both in [0, 1).
 *
 * @example
 * checkBetas("Adam", [0.9, 1]); // throws OptimizerError "Adam: invalid betas[1] 1: ..."
 */
export function checkBetas(who: string, v: unknown): void {
  if (!Array.isArray(v) || v.length !== 2) fail(who, "betas", v, "[beta1, beta2]");
  v.forEach((b: unknown, i) => {
    if (typeof b !== "number" || !(b >= 0 && b < 1)) fail(who, `betas[${i}]`, b, "a number in [0, 1)");
  });
}
