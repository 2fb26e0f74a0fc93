/**
 * Adamax: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015,
 * arXiv:1412.6980), Sec. 7.1 and Algorithm 2: Adam with the L2 norm of past gradients replaced by
 * the L∞ norm, u_t = max(β2 u_{t−1}, |g_t|), which needs no bias correction.
 *
 * PyTorch's update (torch/optim/adamax.py, `_single_tensor_adamax`), which this file follows
 * exactly:
 *
 *   g ← ∇θ  (negated when maximize);   t ← t + 1
 *   g ← g + λ θ                                   if weightDecay λ ≠ 0
 *   m ← β1 m + (1 − β1) g                         Alg. 2
 *   u ← max(β2 u, |g| + ε)                        Alg. 2, with ε inside the max (torch)
 *   θ ← θ − (lr / (1 − β1^t)) · m / u
 *
 * The default lr is 0.002, the paper's suggestion.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { maximum } from '../tensor/elementwise.js';
import { checkAdamLike } from './adam.js';
import { fusable, runFused } from './fused.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';

/** Adamax's settings (torch.optim.Adamax). */
export interface AdamaxOptions extends OptimizerOptions {
  /** Decay rates (β1, β2) of the first moment and of the infinity norm. */
  betas: [number, number];
  /** Added to |g| inside the maximum, so u never reaches zero. */
  eps: number;
  /** L2 penalty λ added to the gradient. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** Adamax's per-parameter state. */
export type AdamaxState = {
  step: number;
  expAvg: Tensor;
  expInf: Tensor;
};

export class Adamax extends Optimizer<AdamaxOptions, AdamaxState> {
  constructor(params: Params<AdamaxOptions>, options: Partial<AdamaxOptions> = {}) {
    super(params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...options });
  }

  protected override checkGroup(group: ParamGroup<AdamaxOptions>): void {
    super.checkGroup(group);
    checkAdamLike('Adamax', group);
  }

  protected initState(param: Tensor): AdamaxState {
    return { step: 0, expAvg: zerosLike(param), expInf: zerosLike(param) };
  }

  protected update(param: Tensor, grad: Tensor, state: AdamaxState, group: ParamGroup<AdamaxOptions>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay, maximize } = group;
    let g = maximize ? grad.neg() : grad;
    state.step += 1;
    if (weightDecay !== 0) g = g.add(param, weightDecay);
    state.expAvg.mul_(beta1).add_(g, 1 - beta1);
    state.expInf.copy_(maximum(state.expInf.mul(beta2), g.abs().add(eps)));
    const clr = lr / (1 - beta1 ** state.step);
    param.add_(state.expAvg.div(state.expInf), -clr);
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: AdamaxState, group: ParamGroup<AdamaxOptions>): boolean {
    const { lr, betas: [beta1, beta2], eps, weightDecay, maximize } = group;
    if (!fusable(param, grad, [state.expAvg, state.expInf])) return false;
    state.step += 1;
    const clr = lr / (1 - beta1 ** state.step);
    runFused(
      param,
      {
        kind: 'adamax',
        param: param._storage,
        grad: grad._storage,
        expAvg: state.expAvg._storage,
        expInf: state.expInf._storage,
        clr, beta1, beta2, eps, weightDecay, maximize,
      },
      [state.expAvg, state.expInf],
    );
    return true;
  }
}
