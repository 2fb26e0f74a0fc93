/**
 * RMSprop: Tieleman & Hinton, Coursera "Neural Networks for Machine Learning", Lecture 6.5
 * (2012): divide the gradient by a running average of its recent magnitude. The centered form
 * (normalise by an estimate of the variance instead of the second moment) and the momentum on
 * the normalised step are from Graves, "Generating Sequences With Recurrent Neural Networks"
 * (arXiv:1308.0850), Eqs. 38-41.
 *
 * PyTorch's update (torch/optim/rmsprop.py, `_single_tensor_rmsprop`), which this file follows
 * exactly:
 *
 *   g ← ∇θ  (negated when maximize);   t ← t + 1
 *   g ← g + λ θ                                   if weightDecay λ ≠ 0
 *   v ← α v + (1 − α) g²
 *   ḡ ← α ḡ + (1 − α) g;   avg ← √(v − ḡ²) + ε    centered
 *   avg ← √v + ε                                  otherwise
 *   b ← μ b + g / avg;     θ ← θ − lr b           if momentum μ > 0
 *   θ ← θ − lr g / avg                            otherwise
 *
 * PyTorch adds ε outside the square root (Graves adds it inside); we follow PyTorch by default.
 * With `epsInside: true` the denominator is √(v − ḡ² + ε) (√(v + ε) uncentered): Graves' Eq. 40
 * and DeepMind's DQN (NeuralQLearner.lua: centered, α = 0.95, "min squared gradient" ε = 0.01
 * inside the root, no momentum), as the Nature DQN (Mnih et al. 2015) trained.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { fusable, runFused, storageOf } from './fused.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';

/** RMSprop's settings (torch.optim.RMSprop). */
export interface RMSpropOptions extends OptimizerOptions {
  /** Smoothing constant α of the running averages. */
  alpha: number;
  /** Added to the root of the average, outside the square root. */
  eps: number;
  /** L2 penalty λ added to the gradient. */
  weightDecay: number;
  /** Momentum factor μ applied to the normalised step (0: none). */
  momentum: number;
  /** Normalise by the estimated variance (subtract the squared mean gradient). */
  centered: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
  /** Add ε inside the square root, √(v − ḡ² + ε), as Graves (2013) and DeepMind's DQN do (default false: PyTorch's √(v − ḡ²) + ε). */
  epsInside: boolean;
}

/** RMSprop's per-parameter state; the buffers exist only when their option is on. */
export type RMSpropState = {
  step: number;
  squareAvg: Tensor;
  momentumBuffer?: Tensor;
  gradAvg?: Tensor;
};

export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, epsInside: false, ...options });
  }

  protected override checkGroup(group: ParamGroup<RMSpropOptions>): void {
    super.checkGroup(group);
    if (!(group.eps >= 0)) throw new RangeError(`RMSprop: invalid epsilon value ${group.eps}`);
    if (!(group.momentum >= 0)) throw new RangeError(`RMSprop: invalid momentum value ${group.momentum}`);
    if (!(group.weightDecay >= 0)) throw new RangeError(`RMSprop: invalid weightDecay value ${group.weightDecay}`);
    if (!(group.alpha >= 0)) throw new RangeError(`RMSprop: invalid alpha value ${group.alpha}`);
  }

  protected initState(param: Tensor, group: ParamGroup<RMSpropOptions>): RMSpropState {
    const state: RMSpropState = { step: 0, squareAvg: zerosLike(param) };
    if (group.momentum > 0) state.momentumBuffer = zerosLike(param);
    if (group.centered) state.gradAvg = zerosLike(param);
    return state;
  }

  protected update(param: Tensor, grad: Tensor, state: RMSpropState, group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    const epsInside = group.epsInside ?? false; // groups restored from an older state dict lack it
    let g = maximize ? grad.neg() : grad;
    state.step += 1;
    if (weightDecay !== 0) g = g.add(param, weightDecay);
    state.squareAvg.mul_(alpha).add_(g.mul(g), 1 - alpha);
    let avg: Tensor;
    if (centered) {
      state.gradAvg ??= zerosLike(param);
      state.gradAvg.mul_(alpha).add_(g, 1 - alpha);
      avg = state.squareAvg.sub(state.gradAvg.mul(state.gradAvg));
    } else {
      avg = state.squareAvg;
    }
    avg = epsInside ? avg.add(eps).sqrt() : avg.sqrt().add(eps);
    if (momentum > 0) {
      state.momentumBuffer ??= zerosLike(param);
      state.momentumBuffer.mul_(momentum).add_(g.div(avg));
      param.add_(state.momentumBuffer, -lr);
    } else {
      param.add_(g.div(avg), -lr);
    }
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: RMSpropState, group: ParamGroup<RMSpropOptions>): boolean {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    const epsInside = group.epsInside ?? false;
    if (!fusable(param, grad, [state.squareAvg, centered ? state.gradAvg : undefined, momentum > 0 ? state.momentumBuffer : undefined])) {
      return false;
    }
    if (centered) state.gradAvg ??= zerosLike(param);
    if (momentum > 0) state.momentumBuffer ??= zerosLike(param);
    const gradAvg = centered ? state.gradAvg : undefined;
    const momentumBuffer = momentum > 0 ? state.momentumBuffer : undefined;
    state.step += 1;
    runFused(
      param,
      {
        kind: 'rmsprop',
        param: param._storage,
        grad: grad._storage,
        squareAvg: state.squareAvg._storage,
        gradAvg: storageOf(gradAvg),
        momentumBuffer: storageOf(momentumBuffer),
        lr, alpha, eps, weightDecay, momentum, epsInside, maximize,
      },
      [state.squareAvg, gradAvg, momentumBuffer],
    );
    return true;
  }
}
