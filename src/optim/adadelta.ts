/**
 * Adadelta: Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (arXiv:1212.5701), Algorithm 1:
 * the step is the ratio of running RMS values of past updates and of gradients, so it has the
 * units of the parameter and needs no hand-set learning rate (lr = 1 reproduces the paper).
 *
 * PyTorch's update (torch/optim/adadelta.py, `_single_tensor_adadelta`), which this file follows
 * exactly:
 *
 *   g ← ∇θ  (negated when maximize)
 *   g ← g + λ θ                                   if weightDecay λ ≠ 0
 *   E[g²] ← ρ E[g²] + (1 − ρ) g²                  Alg. 1, "accumulate gradient"
 *   Δ ← √(E[Δ²] + ε) / √(E[g²] + ε) · g           "compute update": RMS[Δ]_{t−1} / RMS[g]_t · g
 *   E[Δ²] ← ρ E[Δ²] + (1 − ρ) Δ²                  "accumulate updates"
 *   θ ← θ − lr Δ                                  "apply update", scaled by lr
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { fusable, runFused } from './fused.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';

/** Adadelta's settings (torch.optim.Adadelta). */
export interface AdadeltaOptions extends OptimizerOptions {
  /** Decay rate ρ of both running averages. */
  rho: number;
  /** Added inside both square roots. */
  eps: number;
  /** L2 penalty λ added to the gradient. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** Adadelta's per-parameter state: the running averages of g² and of Δ². */
export type AdadeltaState = {
  step: number;
  squareAvg: Tensor;
  accDelta: Tensor;
};

export class Adadelta extends Optimizer<AdadeltaOptions, AdadeltaState> {
  constructor(params: Params<AdadeltaOptions>, options: Partial<AdadeltaOptions> = {}) {
    super(params, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...options });
  }

  protected override checkGroup(group: ParamGroup<AdadeltaOptions>): void {
    super.checkGroup(group);
    if (!(group.rho >= 0 && group.rho <= 1)) throw new RangeError(`Adadelta: invalid rho value ${group.rho}`);
    if (!(group.eps >= 0)) throw new RangeError(`Adadelta: invalid epsilon value ${group.eps}`);
    if (!(group.weightDecay >= 0)) throw new RangeError(`Adadelta: invalid weightDecay value ${group.weightDecay}`);
  }

  protected initState(param: Tensor): AdadeltaState {
    return { step: 0, squareAvg: zerosLike(param), accDelta: zerosLike(param) };
  }

  protected update(param: Tensor, grad: Tensor, state: AdadeltaState, group: ParamGroup<AdadeltaOptions>): void {
    const { lr, rho, eps, weightDecay, maximize } = group;
    let g = maximize ? grad.neg() : grad;
    state.step += 1;
    if (weightDecay !== 0) g = g.add(param, weightDecay);
    state.squareAvg.mul_(rho).add_(g.mul(g), 1 - rho);
    const std = state.squareAvg.add(eps).sqrt();
    const delta = state.accDelta.add(eps).sqrt().div(std).mul(g);
    state.accDelta.mul_(rho).add_(delta.mul(delta), 1 - rho);
    param.add_(delta, -lr);
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: AdadeltaState, group: ParamGroup<AdadeltaOptions>): boolean {
    const { lr, rho, eps, weightDecay, maximize } = group;
    if (!fusable(param, grad, [state.squareAvg, state.accDelta])) return false;
    state.step += 1;
    runFused(
      param,
      {
        kind: 'adadelta',
        param: param._storage,
        grad: grad._storage,
        squareAvg: state.squareAvg._storage,
        accDelta: state.accDelta._storage,
        lr, rho, eps, weightDecay, maximize,
      },
      [state.squareAvg, state.accDelta],
    );
    return true;
  }
}
