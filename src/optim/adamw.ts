/**
 * AdamW: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019,
 * arXiv:1711.05101), Algorithm 2: weight decay shrinks the weights directly instead of entering
 * the gradient, so it is not rescaled by Adam's per-coordinate step sizes.
 *
 * PyTorch's update (torch/optim/adamw.py, `_single_tensor_adamw`), which this file follows exactly:
 *
 *   g ← ∇θ  (negated when maximize);   t ← t + 1
 *   θ ← θ (1 − lr λ)                              Alg. 2 line 12, the decoupled decay term
 *   m ← β1 m + (1 − β1) g
 *   v ← β2 v + (1 − β2) g²
 *   v̂max ← max(v̂max, v)                           amsgrad only; then v stands for v̂max below
 *   denom ← √v / √(1 − β2^t) + ε
 *   θ ← θ − (lr / (1 − β1^t)) · m / denom
 *
 * The paper's decay is η_t λ θ with a schedule multiplier η_t; PyTorch uses lr λ θ, so a
 * schedule on lr scales the decay too. The default λ is 0.01, as in torch.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { adamStep, checkAdamLike, fusedAdamStep, type AdamOptions, type AdamState } from './adam.js';
import { Optimizer, type ParamGroup, type Params } from './optimizer.js';

/** AdamW's settings (torch.optim.AdamW); `weightDecay` is the decoupled decay λ. */
export type AdamWOptions = AdamOptions;

/** AdamW's per-parameter state (the same moments as Adam's). */
export type AdamWState = AdamState;

export class AdamW extends Optimizer<AdamWOptions, AdamWState> {
  constructor(params: Params<AdamWOptions>, options: Partial<AdamWOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...options });
  }

  protected override checkGroup(group: ParamGroup<AdamWOptions>): void {
    super.checkGroup(group);
    checkAdamLike('AdamW', group);
  }

  protected initState(param: Tensor, group: ParamGroup<AdamWOptions>): AdamWState {
    const state: AdamWState = { step: 0, expAvg: zerosLike(param), expAvgSq: zerosLike(param) };
    if (group.amsgrad) state.maxExpAvgSq = zerosLike(param);
    return state;
  }

  protected update(param: Tensor, grad: Tensor, state: AdamWState, group: ParamGroup<AdamWOptions>): void {
    const g = group.maximize ? grad.neg() : grad;
    // Decoupled weight decay (Loshchilov & Hutter, Alg. 2, line 12): shrink the weights directly,
    // instead of adding λθ to the gradient as Adam's L2 does.
    param.mul_(1 - group.lr * group.weightDecay);
    adamStep(param, g, state, group);
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: AdamWState, group: ParamGroup<AdamWOptions>): boolean {
    return fusedAdamStep(param, grad, state, group, true);
  }
}
