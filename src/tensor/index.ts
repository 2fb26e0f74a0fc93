/**
 * The Tensor API in one place: the class, creation functions and the free-standing ops.
 */
export { Tensor, Node, type NestedArray, type TensorOrScalar } from './tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randLike,
  randnLike,
  randint,
  randperm,
  bernoulli,
  multinomial,
  type TensorOptions,
  type RandomOptions,
} from './creation.js';
export { add, sub, mul, div, pow, maximum, minimum, where, cast } from './elementwise.js';
export { cat, stack, pad, type SliceSpec } from './shape-ops.js';
export { matmul } from './linalg.js';
export { oneHot, embedding } from './indexing.js';
export {
  linear,
  softmax,
  logSoftmax,
  conv1d,
  conv2d,
  convTranspose2d,
  maxPool2d,
  maxPool2dWithIndices,
  avgPool2d,
  adaptiveAvgPool2d,
  type Pair,
  type Conv2dOptions,
  type Conv1dOptions,
  type ConvTranspose2dOptions,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
} from './nn-ops.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from '../autograd/mode.js';
export { Generator, manualSeed, defaultGenerator, type GeneratorState } from '../random/generator.js';
