/**
 * Linear, Identity, Flatten and Unflatten.
 */
import { Tensor, zeros, linear } from '../tensor/index.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';

/**
 * Draws a Linear/Conv weight and bias as PyTorch does by default: kaiming_uniform_ with
 * a = sqrt(5), i.e. U(-1/sqrt(fanIn), 1/sqrt(fanIn)), and the bias from the same range.
 */
export function resetLinearLike(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const { fanIn } = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform_(bias, -bound, bound);
  }
}

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/** y = x W^T + b, with W of shape [outFeatures, inFeatures] (torch.nn.Linear). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    this.weight = new Parameter(zeros([outFeatures, inFeatures]));
    this.bias = (options.bias ?? true) ? new Parameter(zeros([outFeatures])) : null;
    this.resetParameters();
  }

  /** Redraws the weights from PyTorch's default initialisation. */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}

/** Returns its input unchanged (a placeholder where an architecture has an optional layer). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dimensions startDim..endDim into one (by default all but the batch dimension). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Splits dimension `dim` into `sizes` (the inverse of Flatten). */
export class Unflatten extends Module {
  constructor(
    readonly dim: number,
    readonly sizes: number[],
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.sizes);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=(${this.sizes.join(', ')})`;
  }
}
