/**
 * The nn namespace: modules and layers (`new nn.Linear(784, 256)`), `nn.init`, `nn.functional`.
 */
export * as functional from './functional.js';
export * as init from './init.js';
export { Module, Parameter, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from './module.js';
export { Linear, Identity, Flatten, Unflatten, type LinearOptions } from './linear.js';
export { Conv1d, Conv2d, ConvTranspose2d, type Conv1dLayerOptions, type Conv2dLayerOptions, type ConvTranspose2dLayerOptions, type PaddingMode } from './conv.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from './pooling.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  GroupNorm,
  LocalResponseNorm,
  type BatchNormOptions,
  type LayerNormOptions,
  type GroupNormOptions,
} from './normalization.js';
export { Dropout, Dropout2d } from './dropout.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, type RNNOptions, type ElmanRNNOptions } from './rnn.js';
export { MultiheadAttention, type MultiheadAttentionOptions, type AttentionCallOptions } from './attention.js';
export { Sequential, ModuleList, ModuleDict, type UnaryModule } from './container.js';
export { ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Softmax, LogSoftmax } from './activation.js';
export {
  CrossEntropyLoss,
  NLLLoss,
  MSELoss,
  L1Loss,
  SmoothL1Loss,
  HuberLoss,
  BCEWithLogitsLoss,
  BCELoss,
  KLDivLoss,
  type CrossEntropyLossOptions,
  type NLLLossOptions,
  type BCEWithLogitsLossOptions,
} from './loss.js';
