/**
 * milestones: the public API. Papers, examples and users import from here and nowhere else.
 */
export * from './tensor/index.js';
export { backward, grad, type BackwardOptions } from './autograd/backward.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export { type DType, DTYPES, isFloating, promoteTypes } from './dtype.js';
export { type Shape, broadcastShapes } from './shape.js';
export {
  availableBackends,
  describeBackend,
  getDefaultDevice,
  setDefaultDevice,
  type Device,
} from './backend/registry.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as data from './data/index.js';
export * as rl from './rl/index.js';
export * as io from './io/index.js';
export * as text from './text/index.js';
export {
  Run,
  Progress,
  resolveConfig,
  parseArgs,
  writeReport,
  type Landmark,
  type SampleOptions,
  type Config,
  type ConfigSpec,
  type ResultRow,
  type RunInfo,
} from './run/index.js';
export { VERSION } from './version.js';
