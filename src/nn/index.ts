/**
 * The nn namespace: `nn.functional` for now; modules arrive with the nn/optim work.
 */
export * as functional from './functional.js';
