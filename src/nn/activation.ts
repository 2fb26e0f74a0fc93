/**
 * Activation functions as modules, for use inside Sequential.
 */
import { Tensor, softmax, logSoftmax } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * max(0, x) (Nair & Hinton 2010). With `inplace`, the input's own storage takes the result
 * (Tensor.relu_), as torchvision's ReLU(inplace=True): one output fewer to allocate.
 */
export class ReLU extends Module {
  readonly inplace: boolean;
  constructor(options: { inplace?: boolean } = {}) {
    super();
    this.inplace = options.inplace ?? false;
  }
  forward(x: Tensor): Tensor {
    return this.inplace ? x.relu_() : x.relu();
  }
  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** x for x > 0, negativeSlope * x otherwise (Maas et al. 2013). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** x for x > 0, alpha (exp(x) - 1) otherwise (Clevert et al. 2016). */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.elu(this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** GELU (Hendrycks & Gimpel 2016); 'tanh' selects the tanh approximation GPT-2 used. */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.gelu(this.approximate);
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x * sigmoid(x) (Elfwing et al. 2018; Swish). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return x.silu();
  }
}

/** 1 / (1 + exp(-x)). */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** The hyperbolic tangent. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** log(1 + exp(beta x)) / beta, linear above `threshold`. */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.softplus(this.beta, this.threshold);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** exp(x) normalised to sum to 1 along `dim`. */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably. */
export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
