import { getBackend } from "../kernels/registry.js";
import { checkBetas, checkBoolean, checkNonNegative, Optimizer, zerosLike } from "./optimizer.js";
import type { Algorithm } from "./optimizer.js";
import { withDefaults } from "./types.js";
import type { FloatArray, ParamGroupSpec, ParamLike } from "./types.js";

/**
 * Hyper-parameters of {@link Adam} and {@link AdamW}
 * (PyTorch keys: lr, betas, eps, weight_decay, amsgrad, maximize).
 */
export interface AdamHyper {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Constructor options of {@link Adam} / {@link AdamW}; defaults as in PyTorch.
 * @example
 * const o: AdamOptions = { lr: 3e-4, betas: [0.9, 0.98] };
 * new Adam(model.parameters(), o);
 */
export type AdamOptions = Partial<AdamHyper>;

/**
 * Per-parameter state (PyTorch keys: step, exp_avg, exp_avg_sq, max_exp_avg_sq).
 * `maxExpAvgSq` is `null` unless amsgrad is on.
 */
export interface AdamState {
  /** Steps taken (PyTorch key "step"). */
  step: number;
  /** First-moment average ("exp_avg"). */
  expAvg: FloatArray;
  /** Second-moment average ("exp_avg_sq"). */
  expAvgSq: FloatArray;
  /** Maximum second moment so far, with amsgrad ("max_exp_avg_sq"). */
  maxExpAvgSq: FloatArray | null;
}

/**
 * Shared Adam update. `l2` is the coupled (Adam) weight decay added to the gradient; `decay`
 * multiplies the parameter before the update (AdamW's decoupled decay, `1 - lr * wd`).
 */
function adamUpdate(
  param: FloatArray,
  grad: FloatArray,
  state: AdamState,
  hp: AdamHyper,
  l2: number,
  decay: number,
): void {
  const { lr, eps, maximize } = hp;
  const [beta1, beta2] = hp.betas;
  state.step += 1;
  const bias1 = 1 - beta1 ** state.step;
  const bias2Sqrt = Math.sqrt(1 - beta2 ** state.step);
  const stepSize = lr / bias1;
  const { expAvg: m, expAvgSq: v } = state;
  let vMax = state.maxExpAvgSq;
  if (hp.amsgrad && vMax === null) {
    vMax = zerosLike(param);
    state.maxExpAvgSq = vMax;
  }
  const ams = hp.amsgrad ? vMax : null;
  const c = { beta1, beta2, bias2Sqrt, eps, negStep: -stepSize, decay, sign: maximize ? -1 : 1 };
  // a backend's fused kernel (float32 arithmetic, see Backend.adamUpdate), else this loop
  if (ams === null && l2 === 0 && getBackend().adamUpdate?.(param, grad, m, v, c)) return;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    const p = param[i]! * decay;
    let g = maximize ? -grad[i]! : grad[i]!;
    if (l2 !== 0) g += l2 * p;
    m[i] = m[i]! * beta1 + (1 - beta1) * g;
    v[i] = v[i]! * beta2 + (1 - beta2) * g * g;
    let second = v[i]!;
    if (ams !== null) {
      ams[i] = Math.max(ams[i]!, second);
      second = ams[i]!;
    }
    const denom = Math.sqrt(second) / bias2Sqrt + eps;
    // NOTE: safety difference from PyTorch. With eps = 0 and a zero (or fully underflowed) second
    // moment, PyTorch computes 0/0 = NaN and poisons the parameter. Here a zero denominator means
    // "no information", so the update is 0 and the parameter stays finite.
    const ratio = denom === 0 ? 0 : m[i]! / denom;
    param[i] = p + -stepSize * ratio;
  }
}

/**
 * One Adam step on a single parameter, as PyTorch 1.13's `_single_tensor_adam`:
 * ```
 * g = maximize ? -grad : grad;  g = g + weightDecay * param       (if weightDecay != 0)
 * m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g²
 * vHat = amsgrad ? (vMax = max(vMax, v)) : v
 * param = param - lr / (1 - beta1^t) * m / (sqrt(vHat) / sqrt(1 - beta2^t) + eps)
 * ```
 * (a zero denominator gives a zero update instead of NaN; see the NOTE in the source).
 *
 * @example
 * const p = new Float64Array([1]);
 * const s = { step: 0, expAvg: new Float64Array(1), expAvgSq: new Float64Array(1), maxExpAvgSq: null };
 * adamStep(p, new Float64Array([2]), s,
 *   { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
 * // p[0] ≈ 0.9: Adam's first step moves by lr in the direction of -sign(grad)
 */
export function adamStep(param: FloatArray, grad: FloatArray, state: AdamState, hp: AdamHyper): void {
  adamUpdate(param, grad, state, hp, hp.weightDecay, 1);
}

/**
 * One AdamW step, as PyTorch 1.13's `_single_tensor_adamw`: first `param *= 1 - lr * weightDecay`
 * (decoupled decay), then the Adam update of {@link adamStep} without L2 term.
 *
 * @example
 * const p = new Float64Array([1]);
 * const s = { step: 0, expAvg: new Float64Array(1), expAvgSq: new Float64Array(1), maxExpAvgSq: null };
 * adamwStep(p, new Float64Array([0]), s,
 *   { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.5, amsgrad: false, maximize: false });
 * // p[0] === 0.95 (pure decay: the gradient is zero)
 */
export function adamwStep(param: FloatArray, grad: FloatArray, state: AdamState, hp: AdamHyper): void {
  adamUpdate(param, grad, state, hp, 0, 1 - hp.lr * hp.weightDecay);
}

const adamKeys = {
  hyperKeys: {
    lr: "lr",
    betas: "betas",
    eps: "eps",
    weightDecay: "weight_decay",
    amsgrad: "amsgrad",
    maximize: "maximize",
  },
  stateKeys: { step: "step", expAvg: "exp_avg", expAvgSq: "exp_avg_sq", maxExpAvgSq: "max_exp_avg_sq" },
} as const;

function validateAdam(h: AdamHyper, who: string): void {
  checkNonNegative(who, "lr", h.lr);
  checkNonNegative(who, "eps", h.eps);
  checkBetas(who, h.betas);
  checkNonNegative(who, "weightDecay", h.weightDecay);
  checkBoolean(who, "amsgrad", h.amsgrad);
  checkBoolean(who, "maximize", h.maximize);
}

function initAdamState(param: FloatArray, h: AdamHyper): AdamState {
  return {
    step: 0,
    expAvg: zerosLike(param),
    expAvgSq: zerosLike(param),
    maxExpAvgSq: h.amsgrad ? zerosLike(param) : null,
  };
}

/** The Adam table entry used by the {@link Adam} class. */
export const adamAlgorithm: Algorithm<AdamHyper, AdamState> = {
  name: "Adam",
  ...adamKeys,
  validate: validateAdam,
  initState: initAdamState,
  step: adamStep,
};

/** The AdamW table entry used by the {@link AdamW} class. */
export const adamwAlgorithm: Algorithm<AdamHyper, AdamState> = {
  name: "AdamW",
  ...adamKeys,
  validate: validateAdam,
  initState: initAdamState,
  step: adamwStep,
};

function adamDefaults(o: AdamOptions, weightDecay: number): AdamHyper {
  return withDefaults<AdamHyper>(o, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false });
}

/**
 * Adam (optionally AMSGrad), as `torch.optim.Adam`. Defaults: lr 1e-3, betas [0.9, 0.999],
 * eps 1e-8, weightDecay 0 (L2, added to the gradient).
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 3e-4 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class Adam extends Optimizer<AdamHyper, AdamState> {
  /**
   * @param params - the parameters, or parameter groups with their own settings
   * @param options - lr, betas, eps, weightDecay, amsgrad, maximize
   */
  constructor(params: Iterable<ParamLike> | readonly ParamGroupSpec<AdamHyper>[], options: AdamOptions = {}) {
    super(adamAlgorithm, params, adamDefaults(options, 0));
  }
}

/**
 * AdamW (decoupled weight decay), as `torch.optim.AdamW`. Same defaults as {@link Adam} except
 * weightDecay 1e-2.
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Optimizer<AdamHyper, AdamState> {
  /**
   * @param params - the parameters, or parameter groups with their own settings
   * @param options - lr, betas, eps, weightDecay (default 1e-2), amsgrad, maximize
   */
  constructor(params: Iterable<ParamLike> | readonly ParamGroupSpec<AdamHyper>[], options: AdamOptions = {}) {
    super(adamwAlgorithm, params, adamDefaults(options, 1e-2));
  }
}
