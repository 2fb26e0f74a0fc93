/**
 * Dropout on permutation-invariant MNIST.
 *
 *   "Dropout: A Simple Way to Prevent Neural Networks from Overfitting", Srivastava, Hinton,
 *   Krizhevsky, Sutskever, Salakhutdinov, JMLR 15, 2014 (Sec. 4 the model, Sec. 5.1 max-norm,
 *   Sec. 6.1.1 and Table 2 the MNIST results, Table 9 the regularizer comparison).
 *   "Improving neural networks by preventing co-adaptation of feature detectors", Hinton,
 *   Srivastava, Krizhevsky, Sutskever, Salakhutdinov, 2012, arXiv:1207.0580 (Appendix A: the
 *   MNIST recipe, which the JMLR paper's Appendix B.1 keeps).
 *
 * This file holds:
 * - DropoutMLP: a fully connected net, 784 -> hidden... -> 10, ReLU or logistic units, with dropout
 *   on the inputs and on every hidden layer (Sec. 4, Fig. 3), or none (the "standard neural net").
 * - maxNorm_: the max-norm constraint of Sec. 5.1, applied after each update.
 * - momentumAt / learningRateAt: the momentum ramp and learning-rate decay of Hinton et al. 2012, App. A.
 */
import { nn, noGrad, type Tensor } from '../../src/index.js';

/** How a DropoutMLP is built. */
export interface DropoutMLPOptions {
  /** Units in each hidden layer, e.g. [1024, 1024, 1024] (Table 2's 3x1024 nets). */
  hidden: number[];
  /** 'relu' (Table 2's best rows) or 'logistic' (the sigmoid rows). */
  activation: 'relu' | 'logistic';
  /** Probability of dropping an input pixel: 0.2, i.e. retention p = 0.8 (Sec. 4, App. B.1). 0: none. */
  inputDropout: number;
  /** Probability of dropping a hidden unit: 0.5, i.e. retention p = 0.5. 0: none. */
  hiddenDropout: number;
}

/**
 * A fully connected classifier over the 784 pixels, in the order Sec. 4 describes: each layer's input
 * goes through a dropout mask r ~ Bernoulli(p) before the affine map (Eq. in Sec. 4,
 * y~ = r * y, z = W y~ + b). Our Dropout scales kept units by 1/p during training ("inverted"
 * dropout), so at test time the weights are used as they are; the paper instead scales the weights
 * by p at test time (Sec. 4, Fig. 2). The two give the same test-time network.
 *
 * Layout as a Sequential, so names read like PyTorch's: `net.1.weight` is the first Linear.
 */
export class DropoutMLP extends nn.Module {
  net: nn.Sequential;
  /** The hidden layers' Linear maps: the weights max-norm constrains (each row is one unit's incoming vector). */
  readonly hiddenLayers: nn.Linear[] = [];

  constructor(readonly options: DropoutMLPOptions) {
    super();
    const { hidden, activation, inputDropout, hiddenDropout } = options;
    const layers: nn.UnaryModule[] = [new nn.Flatten()]; // [B, 1, 28, 28] -> [B, 784]
    if (inputDropout > 0) layers.push(new nn.Dropout(inputDropout));
    let width = 784;
    for (const units of hidden) {
      const linear = new nn.Linear(width, units);
      this.hiddenLayers.push(linear);
      layers.push(linear, activation === 'relu' ? new nn.ReLU() : new nn.Sigmoid());
      if (hiddenDropout > 0) layers.push(new nn.Dropout(hiddenDropout));
      width = units;
    }
    layers.push(new nn.Linear(width, 10)); // softmax output, in the loss
    this.net = new nn.Sequential(...layers);
  }

  /** x: [B, 1, 28, 28] (or [B, 784]) -> logits [B, 10]. */
  forward(x: Tensor): Tensor {
    return this.net.forward(x);
  }
}

/**
 * Max-norm regularization (Sec. 5.1): constrain the incoming weight vector w of every hidden unit
 * to ||w||_2 <= c, by projecting onto the ball of radius c after each update. In a Linear, unit i's
 * incoming vector is row i of weight [out, in]. Biases are not constrained.
 */
export function maxNorm_(layers: nn.Linear[], c: number): void {
  noGrad(() => {
    // Rows with ||w|| > c are scaled by c / (||w|| + 1e-7) (torch.renorm's guard against a zero
    // norm, below float32's resolution at these norms); rows inside the ball are left as they are.
    for (const layer of layers) layer.weight.renorm_(2, 0, c);
  });
}

/**
 * Momentum at epoch t (Hinton et al. 2012, App. A): rises linearly from pStart to pEnd over the
 * first `rampEpochs` epochs, then stays at pEnd.
 */
export function momentumAt(epoch: number, pStart: number, pEnd: number, rampEpochs: number): number {
  if (rampEpochs <= 0 || epoch >= rampEpochs) return pEnd;
  return pStart + ((pEnd - pStart) * epoch) / rampEpochs;
}

/** Learning rate at epoch t (Hinton et al. 2012, App. A): eps_t = eps_0 * f^t, f = 0.998. */
export function learningRateAt(epoch: number, lr0: number, decay: number): number {
  return lr0 * Math.pow(decay, epoch);
}
