/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.
 *
 * Momentum: Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
 * Nesterov momentum as formulated by Sutskever, Martens, Dahl & Hinton, "On the importance of
 * initialization and momentum in deep learning" (ICML 2013), Sec. 2.
 *
 * PyTorch's update (torch/optim/sgd.py, `_single_tensor_sgd`), which this file follows exactly:
 *
 *   g ← ∇θ  (negated when maximize)
 *   g ← g + λ θ                                       if weightDecay λ ≠ 0
 *   if momentum μ ≠ 0:
 *     b ← g (a copy) on the first step, else b ← μ b + (1 − τ) g      (τ = dampening)
 *     g ← g + μ b  if nesterov, else g ← b
 *   θ ← θ − lr g
 *
 * Note PyTorch's form differs from Sutskever et al.: the learning rate multiplies the whole
 * buffer instead of being folded into it, so changing lr mid-run rescales past momentum too.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { fusable, runFused, storageOf } from './fused.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';

/** SGD's settings (torch.optim.SGD). */
export interface SGDOptions extends OptimizerOptions {
  /** Momentum factor μ (0: plain SGD). */
  momentum: number;
  /** Dampening τ of the gradient's contribution to the momentum buffer. */
  dampening: number;
  /** L2 penalty λ added to the gradient. */
  weightDecay: number;
  /** Use Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** SGD's per-parameter state: the momentum buffer, created on the first step with momentum. */
export type SGDState = {
  momentumBuffer?: Tensor;
};

export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options });
  }

  protected override checkGroup(group: ParamGroup<SGDOptions>): void {
    super.checkGroup(group);
    if (!(group.momentum >= 0)) throw new RangeError(`SGD: invalid momentum value ${group.momentum}`);
    if (!(group.weightDecay >= 0)) throw new RangeError(`SGD: invalid weightDecay value ${group.weightDecay}`);
    if (group.nesterov && (group.momentum <= 0 || group.dampening !== 0)) {
      throw new Error('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
  }

  protected initState(): SGDState {
    return {};
  }

  protected update(param: Tensor, grad: Tensor, state: SGDState, group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    let d = maximize ? grad.neg() : grad;
    if (weightDecay !== 0) d = d.add(param, weightDecay);
    if (momentum !== 0) {
      let buf = state.momentumBuffer;
      if (buf === undefined) {
        buf = d.detach().clone();
        state.momentumBuffer = buf;
      } else {
        buf.mul_(momentum).add_(d, 1 - dampening);
      }
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    param.add_(d, -lr);
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: SGDState, group: ParamGroup<SGDOptions>): boolean {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    if (!fusable(param, grad, [state.momentumBuffer])) return false;
    // The first step with momentum fills the new buffer with the gradient (the clone above).
    const firstStep = momentum !== 0 && state.momentumBuffer === undefined;
    if (firstStep) state.momentumBuffer = zerosLike(param);
    const buf = momentum !== 0 ? state.momentumBuffer : undefined;
    runFused(
      param,
      {
        kind: 'sgd',
        param: param._storage,
        grad: grad._storage,
        momentumBuffer: storageOf(buf),
        firstStep,
        lr, momentum, dampening, weightDecay, nesterov, maximize,
      },
      [buf],
    );
    return true;
  }
}
