import { checkBoolean, checkNonNegative, Optimizer, zerosLike } from "./optimizer.js";
import type { Algorithm } from "./optimizer.js";
import type { FloatArray, ParamGroupSpec, ParamLike } from "./types.js";
import { withDefaults } from "./types.js";

/**
 * Hyper-parameters of {@link Adagrad}
 * (PyTorch keys: lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize).
 */
export interface AdagradHyper {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: step t uses lr / (1 + (t - 1) lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator for stability (default 1e-10). */
  eps: number;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Constructor options of {@link Adagrad}; defaults as in PyTorch.
 * @example
 * const o: AdagradOptions = { lr: 0.05, initialAccumulatorValue: 0.1 };
 * new Adagrad(model.parameters(), o);
 */
export type AdagradOptions = Partial<AdagradHyper>;

/** Per-parameter state (PyTorch keys: step, sum). */
export interface AdagradState {
  /** Steps taken ("step"). */
  step: number;
  /** Sum of squared gradients ("sum"). */
  sum: FloatArray;
}

/**
 * One Adagrad step on a single parameter, as PyTorch 1.13's `_single_tensor_adagrad` (dense):
 * ```
 * t += 1;  g = maximize ? -grad : grad;  g = g + weightDecay * param   (if weightDecay != 0)
 * clr = lr / (1 + (t - 1) * lrDecay)
 * sum = sum + g²;  param = param - clr * g / (sqrt(sum) + eps)
 * ```
 *
 * @example
 * const p = new Float64Array([1]);
 * const s = { step: 0, sum: new Float64Array(1) };
 * adagradStep(p, new Float64Array([3]), s,
 *   { lr: 0.1, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false });
 * // p[0] ≈ 1 - 0.1 * 3 / 3 = 0.9
 */
export function adagradStep(param: FloatArray, grad: FloatArray, state: AdagradState, hp: AdagradHyper): void {
  const { lr, lrDecay, weightDecay, eps, maximize } = hp;
  state.step += 1;
  const clr = lr / (1 + (state.step - 1) * lrDecay);
  const sum = state.sum;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g += weightDecay * p;
    sum[i] = sum[i]! + g * g;
    const std = Math.sqrt(sum[i]!) + eps;
    // NOTE: safety difference from PyTorch: with eps = 0 and a zero sum, the update is 0, not 0/0.
    param[i] = p + -clr * (std === 0 ? 0 : g / std);
  }
}

/** The Adagrad table entry used by the {@link Adagrad} class. State is created up front, as in PyTorch. */
export const adagradAlgorithm: Algorithm<AdagradHyper, AdagradState> = {
  name: "Adagrad",
  hyperKeys: {
    lr: "lr",
    lrDecay: "lr_decay",
    weightDecay: "weight_decay",
    initialAccumulatorValue: "initial_accumulator_value",
    eps: "eps",
    maximize: "maximize",
  },
  stateKeys: { step: "step", sum: "sum" },
  eagerState: true,
  validate(h, who) {
    checkNonNegative(who, "lr", h.lr);
    checkNonNegative(who, "lrDecay", h.lrDecay);
    checkNonNegative(who, "weightDecay", h.weightDecay);
    checkNonNegative(who, "initialAccumulatorValue", h.initialAccumulatorValue);
    checkNonNegative(who, "eps", h.eps);
    checkBoolean(who, "maximize", h.maximize);
  },
  initState: (param, h) => ({ step: 0, sum: zerosLike(param).fill(h.initialAccumulatorValue) }),
  step: adagradStep,
};

/**
 * Adagrad, as `torch.optim.Adagrad`. Defaults: lr 1e-2, lrDecay 0, weightDecay 0,
 * initialAccumulatorValue 0, eps 1e-10.
 *
 * @example
 * const opt = new Adagrad(model.parameters(), { lr: 0.05, lrDecay: 1e-3 });
 */
export class Adagrad extends Optimizer<AdagradHyper, AdagradState> {
  /**
   * @param params - the parameters, or parameter groups with their own settings
   * @param options - lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize
   */
  constructor(params: Iterable<ParamLike> | readonly ParamGroupSpec<AdagradHyper>[], options: AdagradOptions = {}) {
    super(
      adagradAlgorithm,
      params,
      withDefaults<AdagradHyper>(options, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false }),
    );
  }
}
