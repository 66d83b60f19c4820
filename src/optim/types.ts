import { SafegradError } from "../errors.js";
import type { FloatArray, TypedArray } from "../tensor/dtype.js";

export type { FloatArray };

/**
 * What an optimizer needs from a trainable parameter. Real tensors satisfy this structurally.
 *
 * Engine guarantee relied upon here: `storage` is contiguous, starts at offset 0 and has exactly
 * `numel` elements; `grad.storage` likewise has the same length. Optimizers update `storage` in
 * place. `grad === null` means "no gradient this step": the parameter is skipped (as in PyTorch).
 * @example
 * const ps: ParamLike[] = model.parameters();
 */
export interface ParamLike {
  /** Must be a Float32Array or Float64Array at run time (checked by the optimizers). */
  readonly storage: TypedArray;
  /** The parameter's shape. */
  readonly shape: readonly number[];
  /** The gradient (same length as `storage`), or null: the parameter is skipped this step. */
  grad: { readonly storage: TypedArray } | null;
  /** A tensor's `gradFn`: optimizers refuse a parameter that has one (a non-leaf tensor, computed by an op). */
  readonly gradFn?: unknown;
}

/**
 * `defaults` with each of its keys set to `options[key] ?? defaults[key]`, in the order of
 * `defaults` (which it mutates and returns; pass a fresh object literal).
 * @internal
 */
export function withDefaults<T extends object>(options: Partial<T>, defaults: T): T {
  for (const k of Object.keys(defaults) as (keyof T)[]) defaults[k] = options[k] ?? defaults[k];
  return defaults;
}

/** The float storage of a parameter or gradient, or a clear error (Tensor's storage type also admits integers). */
export function floatStorage(a: TypedArray, where: string): FloatArray {
  if (a instanceof Float32Array || a instanceof Float64Array) return a;
  throw new OptimizerError(`${where}: parameters and gradients must be float32 or float64, got ${a.constructor.name}`);
}

/**
 * Thrown for invalid hyper-parameters, malformed state dicts and non-finite gradient norms.
 * The message always names the optimizer (or function), the offending setting and its value.
 *
 * @example
 * try {
 *   new Adam(model.parameters(), { betas: [1, 0.999] });
 * } catch (e) {
 *   if (e instanceof OptimizerError) e.message; // "Adam: invalid betas[0] 1: expected a number in [0, 1)"
 * }
 */
export class OptimizerError extends SafegradError {
  /** Always "OptimizerError". */
  override readonly name = "OptimizerError";
  override readonly code: string = "OPTIMIZER";
  /**
   * @param message - the whole message, which starts with the optimizer or function's name and
   *   ": " (that name is the error's `op`)
   */
  constructor(message: string) {
    super(message.split(":", 1)[0]!, message, true);
  }
}

/** Throw the OptimizerError "who: invalid name value: expected ..." of every setting check. */
export function fail(who: string, name: string, value: unknown, expected: string): never {
  throw new OptimizerError(`${who}: invalid ${name} ${String(value)}: expected ${expected}`);
}

/**
 * A parameter group as given to an optimizer constructor: the parameters plus optional
 * hyper-parameters overriding the optimizer-wide defaults (PyTorch's `{"params": ..., "lr": ...}`).
 * @example
 * const fc = new Linear(4, 2);
 * const groups: ParamGroupSpec<SGDHyper>[] = [{ params: [fc.weight] }, { params: [fc.bias!], lr: 0.01 }];
 * new SGD(groups, { lr: 0.1 });
 */
export type ParamGroupSpec<H> = { params: Iterable<ParamLike> } & Partial<H>;

/**
 * A live parameter group. `lr` is mutable (schedulers set it, through `setScheduledLr`);
 * `initialLr` is the learning rate the group was created with (PyTorch's `initial_lr`), which
 * schedulers use as their base rate; `lrScale` is the training guard's multiplier of the
 * scheduled rate (absent until a guard backs off; see `TrainingGuard.lrScale`).
 * @example
 * const g: ParamGroup<SGDHyper> = opt.paramGroups[0]!;
 * g.lr = 0.05; // takes effect at the next step()
 */
export type ParamGroup<H> = H & {
  readonly params: readonly ParamLike[];
  lr: number;
  readonly initialLr: number;
  lrScale?: number;
};

/**
 * A value in a state dict's per-parameter state: a step counter, a buffer, or an absent buffer.
 * @example
 * const v: StateValue = new Adam(model.parameters()).stateDict().state[0]?.["step"] ?? null;
 */
export type StateValue = number | FloatArray | readonly number[] | null;

/**
 * Serialized optimizer state, laid out exactly like PyTorch's `optimizer.state_dict()`:
 * - `state[i]` holds the per-parameter state of the i-th parameter (numbered across groups in
 *   order), with PyTorch's snake_case keys (`step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`,
 *   `momentum_buffer`, `square_avg`, `grad_avg`, `sum`). Buffers are copies.
 * - `param_groups[g]` holds the hyper-parameters with PyTorch's keys (`lr`, `betas`, `eps`,
 *   `weight_decay`, ...), `initial_lr`, and `params`: the indices of the group's parameters.
 *
 * A torch checkpoint converted to JSON-like values (tensors → arrays, `step` tensors → numbers,
 * `betas` tuples → arrays) therefore loads unchanged, and vice versa.
 * @example
 * const sd: OptimizerStateDict = opt.stateDict();
 * sd.param_groups[0]!["lr"]; // 0.1
 */
export interface OptimizerStateDict {
  /** Per-parameter state by parameter index (snake_case keys). */
  state: Record<number, Record<string, StateValue>>;
  /** One entry per group: hyper-parameters (snake_case keys), `initial_lr` and `params` (indices). */
  param_groups: Array<{ params: number[]; [key: string]: unknown }>;
}
