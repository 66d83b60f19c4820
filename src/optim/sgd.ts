import { checkBoolean, checkFinite, checkNonNegative, Optimizer, zerosLike } from "./optimizer.js";
import type { Algorithm } from "./optimizer.js";
import type { FloatArray, ParamGroupSpec, ParamLike } from "./types.js";
import { OptimizerError, withDefaults } from "./types.js";

/** Hyper-parameters of {@link SGD} (PyTorch keys: lr, momentum, dampening, nesterov, weight_decay, maximize). */
export interface SGDHyper {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0: none). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Constructor options of {@link SGD}; everything but `lr` defaults as in PyTorch (0 / false).
 * @example
 * const o: SGDOptions = { lr: 0.1, momentum: 0.9, nesterov: true };
 * new SGD(model.parameters(), o);
 */
export type SGDOptions = Pick<SGDHyper, "lr"> & Partial<SGDHyper>;

/** Per-parameter state of {@link SGD}: the momentum buffer, `null` until the first step with momentum. */
export interface SGDState {
  /** The momentum buffer (PyTorch key "momentum_buffer"). */
  momentumBuffer: FloatArray | null;
}

/**
 * One SGD step on a single parameter, exactly PyTorch 1.13's `_single_tensor_sgd`:
 * ```
 * g = maximize ? -grad : grad
 * g = g + weightDecay * param                      (if weightDecay != 0)
 * buf = first step ? g : momentum * buf + (1 - dampening) * g   (if momentum != 0)
 * g = nesterov ? g + momentum * buf : buf                       (if momentum != 0)
 * param = param - lr * g
 * ```
 * Mutates `param` and `state`; arithmetic is float64 per element.
 *
 * @example
 * const p = new Float64Array([1, 2]);
 * sgdStep(p, new Float64Array([0.5, -1]), { momentumBuffer: null },
 *   { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false });
 * // p is now [0.95, 2.1]
 */
export function sgdStep(param: FloatArray, grad: FloatArray, state: SGDState, hp: SGDHyper): void {
  const { lr, momentum, dampening, nesterov, weightDecay, maximize } = hp;
  const n = param.length;
  let buf = state.momentumBuffer;
  const first = momentum !== 0 && buf === null;
  if (first) {
    buf = zerosLike(param);
    state.momentumBuffer = buf;
  }
  for (let i = 0; i < n; i++) {
    const p = param[i]!;
    let d = maximize ? -grad[i]! : grad[i]!;
    if (weightDecay !== 0) d += weightDecay * p;
    if (buf !== null && momentum !== 0) {
      buf[i] = first ? d : momentum * buf[i]! + (1 - dampening) * d;
      const b = buf[i]!;
      d = nesterov ? d + momentum * b : b;
    }
    param[i] = p + -lr * d;
  }
}

/** The SGD table entry used by the {@link SGD} class. */
export const sgdAlgorithm: Algorithm<SGDHyper, SGDState> = {
  name: "SGD",
  hyperKeys: {
    lr: "lr",
    momentum: "momentum",
    dampening: "dampening",
    nesterov: "nesterov",
    weightDecay: "weight_decay",
    maximize: "maximize",
  },
  stateKeys: { momentumBuffer: "momentum_buffer" },
  validate(h, who) {
    checkNonNegative(who, "lr", h.lr);
    checkNonNegative(who, "momentum", h.momentum);
    checkFinite(who, "dampening", h.dampening);
    checkNonNegative(who, "weightDecay", h.weightDecay);
    checkBoolean(who, "nesterov", h.nesterov);
    checkBoolean(who, "maximize", h.maximize);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new OptimizerError(
        `${who}: invalid nesterov true with momentum ${h.momentum} and dampening ${h.dampening}: ` +
          `Nesterov momentum requires momentum > 0 and dampening 0`,
      );
    }
  },
  initState: () => ({ momentumBuffer: null }),
  step: sgdStep,
};

/**
 * Stochastic gradient descent with optional (Nesterov) momentum, as `torch.optim.SGD`.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer<SGDHyper, SGDState> {
  /**
   * @param params - the parameters, or parameter groups with their own settings
   * @param options - lr (required), momentum, dampening, nesterov, weightDecay, maximize
   */
  constructor(params: Iterable<ParamLike> | readonly ParamGroupSpec<SGDHyper>[], options: SGDOptions) {
    super(sgdAlgorithm, params, {
      lr: options.lr,
      ...withDefaults<Omit<SGDHyper, "lr">>(options, { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false }),
    });
  }
}
