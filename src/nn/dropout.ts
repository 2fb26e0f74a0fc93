/**
 * Dropout layers: active in training mode, the identity in eval mode.
 */
import type { Tensor } from '../tensor/index.js';
import { Module, pyFloat } from './module.js';
import * as F from './functional.js';

/** Dropout (Srivastava et al. 2014): zeroes elements with probability p, scales the rest by 1/(1-p). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw new Error(`Dropout: probability must be between 0 and 1, got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

/** Zeroes whole channels of [N, C, H, W] with probability p (Tompson et al. 2015). */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (p < 0 || p > 1) throw new Error(`Dropout2d: probability must be between 0 and 1, got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout2d(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}
