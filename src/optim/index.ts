/**
 * Optimizers, gradient clipping and learning-rate schedules matching PyTorch 1.13.
 *
 * Optimizers are a pure per-parameter step function (`sgdStep`, `adamStep`, ...) plus a thin
 * class holding groups and state; `stateDict()` uses PyTorch's layout and snake_case keys.
 * Schedules are pure `(step) => lr` functions; scheduler classes evaluate them and set the
 * group's scheduled lr through `setScheduledLr`, the one writer of `group.lr` (`scheduled * lrScale`,
 * the training guard's backoff scale).
 */
export { OptimizerError } from "./types.js";
export type { FloatArray, OptimizerStateDict, ParamGroup, ParamGroupSpec, ParamLike, StateValue } from "./types.js";

export { checkBetas, checkBoolean, checkFinite, checkNonNegative, Optimizer, zerosLike } from "./optimizer.js";
export type { Algorithm } from "./optimizer.js";

export { SGD, sgdAlgorithm, sgdStep } from "./sgd.js";
export type { SGDHyper, SGDOptions, SGDState } from "./sgd.js";
export { Adam, AdamW, adamAlgorithm, adamStep, adamwAlgorithm, adamwStep } from "./adam.js";
export type { AdamHyper, AdamOptions, AdamState } from "./adam.js";
export { RMSprop, rmspropAlgorithm, rmspropStep } from "./rmsprop.js";
export type { RMSpropHyper, RMSpropOptions, RMSpropState } from "./rmsprop.js";
export { Adagrad, adagradAlgorithm, adagradStep } from "./adagrad.js";
export type { AdagradHyper, AdagradOptions, AdagradState } from "./adagrad.js";

export { clipGradNorm, clipGradNormWithStats, clipGradValue, gradNormStats } from "./clip-grad.js";
export type { ClipGradNormOptions, ClipGradNormResult, GradNormStats, ParamsInput } from "./clip-grad.js";

export {
  constantLR,
  cosineAnnealingLR,
  cosineAnnealingWarmRestarts,
  exponentialLR,
  lambdaLR,
  linearLR,
  multiStepLR,
  oneCycleLR,
  oneCycleMomentum,
  polynomialLR,
  sequentialLR,
  stepLR,
} from "./schedules.js";
export type {
  ConstantLROptions,
  CosineAnnealingLROptions,
  CosineAnnealingWarmRestartsOptions,
  ExponentialLROptions,
  LinearLROptions,
  LrLambda,
  MultiStepLROptions,
  OneCycleMomentumOptions,
  OneCycleOptions,
  PolynomialLROptions,
  Schedule,
  StepLROptions,
} from "./schedules.js";

export {
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  LRScheduler,
  MultiStepLR,
  OneCycleLR,
  PolynomialLR,
  SequentialLR,
  StepLR,
} from "./lr-scheduler.js";
export type {
  OneCycleLROptions,
  SchedulableGroup,
  SchedulableOptimizer,
  ScheduleFactory,
  SchedulerStateDict,
  SequentialLROptions,
} from "./lr-scheduler.js";

export { scheduledLr, setScheduledLr } from "./lr.js";
export type { LrGroup } from "./lr.js";

export { ReduceLROnPlateau } from "./reduce-lr-on-plateau.js";
export type { ReduceLROnPlateauOptions, ReduceLROnPlateauStateDict } from "./reduce-lr-on-plateau.js";
