/**
 * Losses as modules: each holds its options (class weights are buffers, as in PyTorch) and calls
 * nn.functional.
 */
import type { Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import * as F from './functional.js';
import type { Reduction } from './functional.js';

export interface CrossEntropyLossOptions {
  /** A weight per class [C]. */
  weight?: Tensor | null;
  /** Targets equal to this are skipped (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/** Cross-entropy of logits [N, C, ...] against int32 classes or class probabilities. */
export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyLossOptions = {}) {
    super();
    this.registerBuffer('weight', options.weight ?? null);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.reduction = options.reduction ?? 'mean';
    this.labelSmoothing = options.labelSmoothing ?? 0;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.getBuffer('weight'),
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

export interface NLLLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of int32 classes given log-probabilities. */
export class NLLLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  constructor(options: NLLLossOptions = {}) {
    super();
    this.registerBuffer('weight', options.weight ?? null);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.reduction = options.reduction ?? 'mean';
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.getBuffer('weight'), ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/** Mean squared error. */
export class MSELoss extends Module {
  readonly reduction: Reduction;
  constructor(options: { reduction?: Reduction } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, this.reduction);
  }
}

/** Mean absolute error. */
export class L1Loss extends Module {
  readonly reduction: Reduction;
  constructor(options: { reduction?: Reduction } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, this.reduction);
  }
}

/** Quadratic below beta, linear above (Girshick 2015). */
export class SmoothL1Loss extends Module {
  readonly reduction: Reduction;
  readonly beta: number;
  constructor(options: { reduction?: Reduction; beta?: number } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
    this.beta = options.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, this.reduction, this.beta);
  }
}

/** Huber loss: quadratic below delta, delta-scaled linear above. */
export class HuberLoss extends Module {
  readonly reduction: Reduction;
  readonly delta: number;
  constructor(options: { reduction?: Reduction; delta?: number } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
    this.delta = options.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, this.reduction, this.delta);
  }
}

export interface BCEWithLogitsLossOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  /** Weight of positive examples, per class. */
  posWeight?: Tensor | null;
}

/** Binary cross-entropy on logits (the stable form of Sigmoid followed by BCELoss). */
export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;
  constructor(options: BCEWithLogitsLossOptions = {}) {
    super();
    this.registerBuffer('weight', options.weight ?? null);
    this.registerBuffer('pos_weight', options.posWeight ?? null);
    this.reduction = options.reduction ?? 'mean';
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.getBuffer('weight'),
      posWeight: this.getBuffer('pos_weight'),
      reduction: this.reduction,
    });
  }
}

/** Binary cross-entropy on probabilities. */
export class BCELoss extends Module {
  readonly reduction: Reduction;
  constructor(options: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super();
    this.registerBuffer('weight', options.weight ?? null);
    this.reduction = options.reduction ?? 'mean';
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.getBuffer('weight'), reduction: this.reduction });
  }
}

/** KL divergence with log-probability input; use reduction 'batchmean' for the true mean. */
export class KLDivLoss extends Module {
  readonly reduction: Reduction | 'batchmean';
  readonly logTarget: boolean;
  constructor(options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
    this.logTarget = options.logTarget ?? false;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, this.reduction, this.logTarget);
  }
}
