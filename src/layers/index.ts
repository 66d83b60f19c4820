/**
 * safegrad layers: the Module base class, layers, losses, initialisers and their function forms
 * (`functional`, exported by the package as `nn.functional`).
 * @module
 */
export { Module, StateDictError, parameter } from "./module.js";
export type { AnyModule, StateDict, LoadStateDictOptions, LoadStateDictResult, LoadableStateDict, StateRecord, ForwardHook, ForwardPreHook, RemovableHandle } from "./module.js";
export { Sequential, ModuleList, ModuleDict } from "./container.js";
export type { TensorModule } from "./container.js";
export { Linear, Identity, Flatten } from "./linear.js";
export type { LayerOptions, LinearOptions } from "./linear.js";
export { Conv2d, MaxPool2d, AvgPool2d } from "./conv.js";
export type { Conv2dLayerOptions } from "./conv.js";
export { Conv1d, Conv3d, ConvTranspose1d, ConvTranspose2d } from "./conv.js";
export type { Conv1dLayerOptions, Conv3dLayerOptions, ConvTranspose1dLayerOptions, ConvTranspose2dLayerOptions, PaddingMode } from "./conv.js";
export {
  MaxPool1d, AvgPool1d, MaxPool3d, AvgPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, MaxUnpool1d,
  MaxUnpool2d, Upsample, UpsamplingNearest2d, UpsamplingBilinear2d,
} from "./pooling.js";
export { GroupNorm } from "./norm.js";
export type { GroupNormLayerOptions } from "./norm.js";
export { DropoutNd, Dropout1d, Dropout2d, Dropout3d } from "./dropout.js";
export type { GroupNormOptions, ChannelDropoutOptions } from "./functional-spatial.js";
export { LayerNorm, RMSNorm, BatchNormBase, BatchNorm1d, BatchNorm2d, L2Normalize, StdPool } from "./norm.js";
export type { LayerNormLayerOptions, RMSNormLayerOptions, BatchNormLayerOptions } from "./norm.js";
export { Dropout } from "./dropout.js";
export type { DropoutLayerOptions } from "./dropout.js";
export { Embedding } from "./embedding.js";
export type { EmbeddingLayerOptions } from "./embedding.js";
export { RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell } from "./recurrent.js";
export type { RNNBaseOptions, RNNOptions, RNNCellOptions, RNNCellLayerOptions } from "./recurrent.js";
export { scaledDotProductAttention, causalMask, MultiheadAttention } from "./attention.js";
export type { ScaledDotProductAttentionOptions, MultiheadAttentionOptions, MultiheadAttentionForwardOptions } from "./attention.js";
export { TransformerEncoderLayer, TransformerEncoder } from "./transformer.js";
export type { TransformerEncoderLayerOptions, TransformerEncoderForwardOptions, TransformerEncoderOptions } from "./transformer.js";
export { TransformerDecoderLayer, TransformerDecoder } from "./transformer.js";
export type { TransformerDecoderForwardOptions } from "./transformer.js";
export { ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Softmax, LogSoftmax } from "./activation.js";
export { ELU, CELU, SELU, Mish, ReLU6, Hardtanh, Hardsigmoid, Hardswish, Softsign, Softmin } from "./activation.js";
export {
  Loss, L1Loss, MSELoss, HuberLoss, SmoothL1Loss, CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss, BCELoss, KLDivLoss, CosineSimilarity,
} from "./loss.js";
/**
 * Parameter initialisers, as torch.nn.init (`nn.init.kaimingUniform`, `nn.init.zeros`, ...): each
 * fills a tensor in place from a seedable generator and returns it.
 * @example
 * const fc = new nn.Linear(4, 2);
 * nn.init.xavierUniform(fc.weight);
 * nn.init.zeros(fc.bias!);
 */
export * as init from "./init.js";
/**
 * The function form of every layer and loss, as torch.nn.functional (`nn.functional.mseLoss`,
 * `nn.functional.layerNorm`, ...).
 * @example
 * const F = nn.functional;
 * F.crossEntropy(logits, y, { labelSmoothing: 0.1 });
 * F.relu(a);
 */
export * as functional from "./functional.js";
export type {
  Reduction, ReductionOptions, DropoutOptions, EmbeddingOptions, LayerNormOptions, RmsNormOptions, BatchNormOptions, NormalizeOptions,
  StdPoolOptions, HuberOptions, SmoothL1Options, CrossEntropyOptions, NllLossOptions, BceOptions, BceWithLogitsOptions,
  CosineSimilarityOptions, KlDivOptions,
} from "./functional.js";
