/**
 * Adagrad: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
 * Stochastic Optimization" (JMLR 12, 2011), the diagonal form of the update,
 * θ ← θ − η diag(G_t)^{−1/2} g_t: each coordinate's step is divided by the root of the sum of
 * its squared gradients.
 *
 * PyTorch's update (torch/optim/adagrad.py, `_single_tensor_adagrad`, dense gradients), which
 * this file follows exactly:
 *
 *   t ← t + 1;   g ← ∇θ  (negated when maximize)
 *   g ← g + λ θ                                   if weightDecay λ ≠ 0
 *   clr ← lr / (1 + (t − 1) · lrDecay)
 *   G ← G + g²                                    G starts at initialAccumulatorValue
 *   θ ← θ − clr · g / (√G + ε)
 */
import type { Tensor } from '../tensor/tensor.js';
import { fullLike } from '../tensor/creation.js';
import { fusable, runFused } from './fused.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';

/** Adagrad's settings (torch.optim.Adagrad). */
export interface AdagradOptions extends OptimizerOptions {
  /** Learning-rate decay: step t uses lr / (1 + (t − 1) lrDecay). */
  lrDecay: number;
  /** L2 penalty λ added to the gradient. */
  weightDecay: number;
  /** The starting value of every accumulator G. */
  initialAccumulatorValue: number;
  /** Added to √G, outside the square root. */
  eps: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** Adagrad's per-parameter state: the step count and the sum of squared gradients. */
export type AdagradState = {
  step: number;
  sum: Tensor;
};

export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...options });
    // torch creates the accumulators in the constructor, so they are in the state dict (and
    // restored by loadStateDict) before the first step.
    for (const group of this.paramGroups) {
      for (const p of group.params) this.state.set(p, this.initState(p, group));
    }
  }

  protected override checkGroup(group: ParamGroup<AdagradOptions>): void {
    super.checkGroup(group);
    if (!(group.lrDecay >= 0)) throw new RangeError(`Adagrad: invalid lrDecay value ${group.lrDecay}`);
    if (!(group.weightDecay >= 0)) throw new RangeError(`Adagrad: invalid weightDecay value ${group.weightDecay}`);
    if (!(group.initialAccumulatorValue >= 0)) {
      throw new RangeError(`Adagrad: invalid initialAccumulatorValue ${group.initialAccumulatorValue}`);
    }
    if (!(group.eps >= 0)) throw new RangeError(`Adagrad: invalid epsilon value ${group.eps}`);
  }

  protected initState(param: Tensor, group: ParamGroup<AdagradOptions>): AdagradState {
    return { step: 0, sum: fullLike(param, group.initialAccumulatorValue) };
  }

  protected update(param: Tensor, grad: Tensor, state: AdagradState, group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, eps, maximize } = group;
    state.step += 1;
    let g = maximize ? grad.neg() : grad;
    if (weightDecay !== 0) g = g.add(param, weightDecay);
    const clr = lr / (1 + (state.step - 1) * lrDecay);
    state.sum.add_(g.mul(g));
    const std = state.sum.sqrt().add(eps);
    param.add_(g.div(std), -clr);
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: AdagradState, group: ParamGroup<AdagradOptions>): boolean {
    const { lr, lrDecay, weightDecay, eps, maximize } = group;
    if (!fusable(param, grad, [state.sum])) return false;
    state.step += 1;
    const clr = lr / (1 + (state.step - 1) * lrDecay);
    const update = { kind: 'adagrad', param: param._storage, grad: grad._storage, sum: state.sum._storage, clr, eps, weightDecay, maximize } as const;
    runFused(param, update, [state.sum]);
    return true;
  }
}
