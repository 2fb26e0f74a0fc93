/**
 * The optim namespace: optimizers (one algorithm per file), gradient clipping and learning-rate
 * schedules, following torch.optim step for step.
 */
export {
  Optimizer,
  type OptimizerOptions,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type Params,
  type ParamState,
  type SavedParamGroup,
  type ScheduleFields,
  type StateValue,
  type Closure,
} from './optimizer.js';
export { SGD, type SGDOptions, type SGDState } from './sgd.js';
export { Adam, type AdamOptions, type AdamState } from './adam.js';
export { AdamW, type AdamWOptions, type AdamWState } from './adamw.js';
export { RMSprop, type RMSpropOptions, type RMSpropState } from './rmsprop.js';
export { Adagrad, type AdagradOptions, type AdagradState } from './adagrad.js';
export { Adadelta, type AdadeltaOptions, type AdadeltaState } from './adadelta.js';
export { Adamax, type AdamaxOptions, type AdamaxState } from './adamax.js';
export { clipGradNorm_, clipGradValue_ } from './clip-grad.js';
export {
  LRScheduler,
  LambdaLR,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  OneCycleLR,
  SequentialLR,
  ReduceLROnPlateau,
  type SchedulerOptions,
  type SchedulerStateDict,
  type OneCycleLROptions,
  type ReduceLROnPlateauOptions,
} from './lr-scheduler.js';
