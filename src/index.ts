/**
 * safegrad: typed-array tensors, reverse-mode autograd and a training toolkit whose gradients
 * stay finite. This file is the whole public API (browser-safe; Node file access is in
 * "safegrad/node").
 * @example
 * import { tensor, nn, SGD } from "safegrad";
 * const model = new nn.Sequential(new nn.Linear(2, 1));
 * const opt = new SGD(model.parameters(), { lr: 0.1 });
 * const loss = nn.functional.mseLoss(model.forward(tensor([[1, 2]])), tensor([[3]]));
 * loss.backward();
 * opt.step();
 * @module safegrad
 */
export { Tensor, isTensor } from "./tensor/tensor.js";
export { tidy, keep, dispose } from "./tensor/memory.js";
export type { GradHook, NestedArray } from "./tensor/tensor.js";
export type { Node } from "./autograd/node.js";
export type { Shape } from "./tensor/shape.js";
export type { DType, FloatDType, TypedArray, FloatArray } from "./tensor/dtype.js";
export { setDefaultDtype, getDefaultDtype } from "./tensor/dtype.js";
export { tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye, rand, randn, randint } from "./tensor/create.js";
export type { CreateOptions, TensorOptions, RandomOptions } from "./tensor/create.js";
export { Generator, manualSeed, defaultGenerator } from "./tensor/random.js";
export { broadcastShapes } from "./tensor/shape.js";
export { markModified } from "./tensor/version.js";
export { SafegradError, ShapeError, DTypeError, AutogradError, IndexError, ValueError, DataError, DisposedError } from "./errors.js";

// The op functions (and their option types), by family: every export of ops/ not marked @internal.
export * from "./ops/index.js";
export { noGrad, enableGrad, isGradEnabled } from "./autograd/grad-mode.js";
export { backward, grad } from "./autograd/engine.js";
export type { BackwardOptions, GradOptions } from "./autograd/engine.js";
export { gradcheck, GradcheckError } from "./autograd/gradcheck.js";
export type { GradcheckOptions, GradcheckFailure } from "./autograd/gradcheck.js";

// ------------------------------------------------------------------ backends (kernels)
export { UNARY_DEFAULTS } from "./kernels/backend.js";
export type { PartialBackend } from "./kernels/registry.js";
export type { Backend, View, UnaryOp, UnaryParams, BinaryOp, ReduceOp, Conv2dParams, Pool2dParams, AdamConstants } from "./kernels/backend.js";
export type { BinaryMathOp } from "./kernels/backend.js";
export { registerBackend, setBackend, getBackend, listBackends, completeBackend, ready } from "./kernels/registry.js";
export { referenceBackend } from "./kernels/reference.js";
// NOTE: the fast backends themselves (registerFastBackends, createWasmBackend, ...) are in
// "safegrad/fast" (src/fast.ts): the main entry chooses them on first use without importing them
// statically, so a browser bundle loads them as a separate chunk.

// ------------------------------------------------------------------ layers (torch.nn)
/**
 * Modules, layers, losses, `nn.init` and `nn.functional`, as torch.nn. The layers are also
 * exported at the top level (`Linear`, `Conv2d`, ...); the loss modules, `init` and `functional`
 * only here.
 * @example
 * const net2 = new nn.Sequential(new nn.Linear(4, 16), new nn.GELU(), new nn.Linear(16, 3));
 * const lossValue = new nn.CrossEntropyLoss().forward(net2.forward(x), y);
 */
export * as nn from "./layers/index.js";
export { Module, Sequential, ModuleList, ModuleDict, Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Identity, Dropout, Embedding, LayerNorm, RMSNorm, BatchNorm1d, BatchNorm2d, L2Normalize, StdPool, ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Softmax, LogSoftmax, StateDictError } from "./layers/index.js";
export { ELU, CELU, SELU, Mish, ReLU6, Hardtanh, Hardsigmoid, Hardswish, Softsign, Softmin } from "./layers/index.js";
export type { ModelSummary, SummaryRow, SummaryOptions, ForwardHook, ForwardPreHook, RemovableHandle } from "./layers/module.js";
export { RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell } from "./layers/index.js";
export type { RNNBaseOptions, RNNOptions, RNNCellOptions, RNNCellLayerOptions } from "./layers/index.js";
export { scaledDotProductAttention, causalMask, MultiheadAttention } from "./layers/index.js";
export type { ScaledDotProductAttentionOptions, MultiheadAttentionOptions, MultiheadAttentionForwardOptions } from "./layers/index.js";
export { TransformerEncoderLayer, TransformerEncoder } from "./layers/index.js";
export type { TransformerEncoderLayerOptions, TransformerEncoderForwardOptions, TransformerEncoderOptions } from "./layers/index.js";
export { TransformerDecoderLayer, TransformerDecoder } from "./layers/index.js";
export type { TransformerDecoderForwardOptions } from "./layers/index.js";
export { normalize, stdPool, l1Loss, mseLoss, huberLoss, smoothL1Loss, crossEntropy, nllLoss, binaryCrossEntropyWithLogits, binaryCrossEntropy, cosineSimilarity, klDiv, layerNorm, rmsNorm, batchNorm, dropout, linear, embedding } from "./layers/functional.js";

// ------------------------------------------------------------------ optimizers, clipping, schedules
export {
  Optimizer, OptimizerError, SGD, Adam, AdamW, RMSprop, Adagrad, sgdStep, adamStep, adamwStep, rmspropStep, adagradStep,
  clipGradNorm, clipGradNormWithStats, clipGradValue, gradNormStats,
  LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, LinearLR, ConstantLR, OneCycleLR, PolynomialLR, LambdaLR, SequentialLR, ReduceLROnPlateau,
  setScheduledLr, scheduledLr,
  stepLR, multiStepLR, exponentialLR, cosineAnnealingLR, cosineAnnealingWarmRestarts, linearLR, constantLR, oneCycleLR, oneCycleMomentum, polynomialLR, lambdaLR, sequentialLR,
} from "./optim/index.js";
export type { ParamLike, OptimizerStateDict, GradNormStats, ClipGradNormOptions, ClipGradNormResult, Schedule } from "./optim/index.js";
export type { ParamGroup, ParamGroupSpec, StateValue, ParamsInput, Algorithm } from "./optim/index.js";
export type { SGDHyper, SGDOptions, SGDState, AdamHyper, AdamOptions, AdamState, RMSpropHyper, RMSpropOptions, RMSpropState, AdagradHyper, AdagradOptions, AdagradState } from "./optim/index.js";
export type {
  StepLROptions, MultiStepLROptions, ExponentialLROptions, ConstantLROptions, LinearLROptions, PolynomialLROptions, CosineAnnealingLROptions,
  CosineAnnealingWarmRestartsOptions, OneCycleOptions, OneCycleMomentumOptions, LrLambda,
} from "./optim/index.js";
export type { SchedulableOptimizer, SchedulableGroup, ScheduleFactory, SchedulerStateDict, OneCycleLROptions, SequentialLROptions, ReduceLROnPlateauOptions, ReduceLROnPlateauStateDict, LrGroup } from "./optim/index.js";

// ------------------------------------------------------------------ the NaN guard
export { detectAnomaly, setDetectAnomaly, isAnomalyEnabled } from "./guard/anomaly.js";
export { AnomalyError, AnomalyReport } from "./guard/report.js";
export type { AnomalyReportData, ModuleInfo, Origin } from "./guard/report.js";
export type { ReportGraph, ReportGraphNode } from "./guard/picture.js";
export type { TensorStats } from "./guard/stats.js";
export { hintRules, findHint, explodingGradientHint } from "./guard/hints.js";
export type { Hint, HintContext } from "./guard/hints.js";
export { audit, AuditReport } from "./guard/audit.js";
export type { AuditInput, AuditRange, AuditOptions, AuditFinding, AuditWitness } from "./guard/audit.js";
export { TrainingGuard, Trainer, NonFiniteError } from "./guard/training.js";
export type { GuardOptions, GuardEvent, StepResult, NonFinitePolicy, TrainerOptions, TrainableModel, GuardedOptimizer, GuardedScheduler } from "./guard/training.js";
export type { SchedulerStep, TrainBatch, PredictBatch, FitOptions, EvaluateOptions, EvaluateResult, PredictOptions } from "./guard/training.js";
export { History } from "./guard/training.js";
export type { Callback, EpochLogs, FitInfo, StepEnd } from "./guard/training.js";
export { earlyStopping, modelCheckpoint } from "./guard/callbacks.js";
export type { EarlyStopping, EarlyStoppingOptions, ModelCheckpoint, ModelCheckpointOptions, CheckpointInfo } from "./guard/callbacks.js";
export { accuracy } from "./guard/metrics.js";
export type { Metric, MetricFn, Metrics } from "./guard/metrics.js";
export type { ProgressWriter } from "./guard/progress.js";

// ------------------------------------------------------------------ I/O and data (browser-safe parts; Node file access is in "safegrad/node")
// NOTE: imported from the modules themselves, not the io/ and data/ barrels, which also pull in node:fs.
export { serialize, deserialize, SafetensorsError } from "./io/safetensors.js";
export { serializeCheckpoint, restoreCheckpoint, CheckpointError } from "./io/checkpoint.js";
export type { CheckpointParts, LoadedCheckpoint } from "./io/checkpoint.js";
export type { TensorRecord, TensorSource } from "./io/types.js";
// Data sets and loaders (torch.utils.data) are in "safegrad/data" (and "safegrad/node"), so the
// main bundle does not carry them.
