import { checkBoolean, checkNonNegative, Optimizer, zerosLike } from "./optimizer.js";
import type { Algorithm } from "./optimizer.js";
import type { FloatArray, ParamGroupSpec, ParamLike } from "./types.js";
import { withDefaults } from "./types.js";

/**
 * Hyper-parameters of {@link RMSprop}
 * (PyTorch keys: lr, alpha, eps, weight_decay, momentum, centered, maximize).
 */
export interface RMSpropHyper {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0: none). */
  momentum: number;
  /** Normalise by the estimated variance instead of the raw second moment (default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Constructor options of {@link RMSprop}; defaults as in PyTorch.
 * @example
 * const o: RMSpropOptions = { lr: 1e-3, momentum: 0.9 };
 * new RMSprop(model.parameters(), o);
 */
export type RMSpropOptions = Partial<RMSpropHyper>;

/**
 * Per-parameter state (PyTorch keys: step, square_avg, momentum_buffer, grad_avg).
 * `momentumBuffer` is null unless momentum > 0, `gradAvg` null unless centered.
 */
export interface RMSpropState {
  /** Steps taken ("step"). */
  step: number;
  /** Average of squared gradients ("square_avg"). */
  squareAvg: FloatArray;
  /** Momentum buffer, with momentum > 0 ("momentum_buffer"). */
  momentumBuffer: FloatArray | null;
  /** Average of gradients, when centered ("grad_avg"). */
  gradAvg: FloatArray | null;
}

/**
 * One RMSprop step on a single parameter, as PyTorch 1.13's `_single_tensor_rmsprop`:
 * ```
 * g = maximize ? -grad : grad;  g = g + weightDecay * param          (if weightDecay != 0)
 * sq = alpha * sq + (1 - alpha) * g²
 * avg = centered ? sqrt(sq - ga²) with ga = alpha * ga + (1 - alpha) * g : sqrt(sq);  avg += eps
 * momentum > 0 ?  buf = momentum * buf + g / avg;  param -= lr * buf
 *              :  param -= lr * g / avg
 * ```
 *
 * @example
 * const p = new Float64Array([1]);
 * const s = { step: 0, squareAvg: new Float64Array(1), momentumBuffer: null, gradAvg: null };
 * rmspropStep(p, new Float64Array([1]), s,
 *   { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false });
 * // p[0] ≈ 1 - 0.01 / sqrt(0.01) = 0.9
 */
export function rmspropStep(param: FloatArray, grad: FloatArray, state: RMSpropState, hp: RMSpropHyper): void {
  const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = hp;
  state.step += 1;
  const sq = state.squareAvg;
  let buf = state.momentumBuffer;
  if (momentum > 0 && buf === null) {
    buf = zerosLike(param);
    state.momentumBuffer = buf;
  }
  let ga = state.gradAvg;
  if (centered && ga === null) {
    ga = zerosLike(param);
    state.gradAvg = ga;
  }
  const useBuf = momentum > 0 ? buf : null;
  const useGa = centered ? ga : null;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    let g = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) g += weightDecay * p;
    sq[i] = sq[i]! * alpha + (1 - alpha) * g * g;
    let avg: number;
    if (useGa !== null) {
      useGa[i] = useGa[i]! * alpha + (1 - alpha) * g;
      const a = useGa[i]!;
      // NOTE: safety difference from PyTorch. sq - ga² is >= 0 mathematically, but rounding can
      // make it a hair negative (e.g. a constant gradient), where PyTorch takes sqrt(<0) = NaN.
      avg = Math.sqrt(Math.max(sq[i]! - a * a, 0));
    } else {
      avg = Math.sqrt(sq[i]!);
    }
    avg += eps;
    // NOTE: safety difference from PyTorch: with eps = 0 and a zero average, the update is 0, not 0/0.
    const ratio = avg === 0 ? 0 : g / avg;
    if (useBuf !== null) {
      useBuf[i] = useBuf[i]! * momentum + ratio;
      param[i] = p + -lr * useBuf[i]!;
    } else {
      param[i] = p + -lr * ratio;
    }
  }
}

/** The RMSprop table entry used by the {@link RMSprop} class. */
export const rmspropAlgorithm: Algorithm<RMSpropHyper, RMSpropState> = {
  name: "RMSprop",
  hyperKeys: {
    lr: "lr",
    alpha: "alpha",
    eps: "eps",
    weightDecay: "weight_decay",
    momentum: "momentum",
    centered: "centered",
    maximize: "maximize",
  },
  stateKeys: { step: "step", squareAvg: "square_avg", momentumBuffer: "momentum_buffer", gradAvg: "grad_avg" },
  validate(h, who) {
    checkNonNegative(who, "lr", h.lr);
    checkNonNegative(who, "alpha", h.alpha);
    checkNonNegative(who, "eps", h.eps);
    checkNonNegative(who, "weightDecay", h.weightDecay);
    checkNonNegative(who, "momentum", h.momentum);
    checkBoolean(who, "centered", h.centered);
    checkBoolean(who, "maximize", h.maximize);
  },
  initState: (param, h) => ({
    step: 0,
    squareAvg: zerosLike(param),
    momentumBuffer: h.momentum > 0 ? zerosLike(param) : null,
    gradAvg: h.centered ? zerosLike(param) : null,
  }),
  step: rmspropStep,
};

/**
 * RMSprop (optionally centered, with momentum), as `torch.optim.RMSprop`. Defaults: lr 1e-2,
 * alpha 0.99, eps 1e-8, weightDecay 0, momentum 0, centered false.
 *
 * @example
 * const opt = new RMSprop(model.parameters(), { lr: 1e-3, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropHyper, RMSpropState> {
  /**
   * @param params - the parameters, or parameter groups with their own settings
   * @param options - lr, alpha, eps, weightDecay, momentum, centered, maximize
   */
  constructor(params: Iterable<ParamLike> | readonly ParamGroupSpec<RMSpropHyper>[], options: RMSpropOptions = {}) {
    super(
      rmspropAlgorithm,
      params,
      withDefaults<RMSpropHyper>(options, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false }),
    );
  }
}
