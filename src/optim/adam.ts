/**
 * Adam: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015, arXiv:1412.6980),
 * Algorithm 1; AMSGrad from Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond"
 * (ICLR 2018), Algorithm 2.
 *
 * PyTorch's update (torch/optim/adam.py, `_single_tensor_adam`), which this file follows exactly:
 *
 *   g ← ∇θ  (negated when maximize);   t ← t + 1
 *   g ← g + λ θ                                   weight decay as an L2 penalty (see AdamW)
 *   m ← β1 m + (1 − β1) g                         Alg. 1, biased first moment
 *   v ← β2 v + (1 − β2) g²                        Alg. 1, biased second moment
 *   v̂max ← max(v̂max, v)                           amsgrad only; then v stands for v̂max below
 *   denom ← √v / √(1 − β2^t) + ε
 *   θ ← θ − (lr / (1 − β1^t)) · m / denom
 *
 * This is Algorithm 1 exactly, θ ← θ − lr m̂ / (√v̂ + ε) with m̂ = m / (1 − β1^t) and
 * v̂ = v / (1 − β2^t), the corrections folded into the step size and the denominator. It is not
 * the "more efficient" order at the end of Sec. 2, whose ε̂ is added to the uncorrected √v.
 */
import type { Tensor } from '../tensor/tensor.js';
import { zerosLike } from '../tensor/creation.js';
import { maximum } from '../tensor/elementwise.js';
import { fusable, runFused, storageOf } from './fused.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type Params } from './optimizer.js';

/** Adam's settings (torch.optim.Adam). */
export interface AdamOptions extends OptimizerOptions {
  /** Decay rates (β1, β2) of the first and second moment averages. */
  betas: [number, number];
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty λ added to the gradient (coupled; AdamW decouples it). */
  weightDecay: number;
  /** Use the AMSGrad variant: normalise by the running maximum of v. */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/** Adam's per-parameter state. */
export type AdamState = {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
  maxExpAvgSq?: Tensor;
};

export class Adam extends Optimizer<AdamOptions, AdamState> {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...options });
  }

  protected override checkGroup(group: ParamGroup<AdamOptions>): void {
    super.checkGroup(group);
    checkAdamLike('Adam', group);
  }

  protected initState(param: Tensor, group: ParamGroup<AdamOptions>): AdamState {
    const state: AdamState = { step: 0, expAvg: zerosLike(param), expAvgSq: zerosLike(param) };
    if (group.amsgrad) state.maxExpAvgSq = zerosLike(param);
    return state;
  }

  protected update(param: Tensor, grad: Tensor, state: AdamState, group: ParamGroup<AdamOptions>): void {
    let g = group.maximize ? grad.neg() : grad;
    if (group.weightDecay !== 0) g = g.add(param, group.weightDecay); // L2, added to the gradient
    adamStep(param, g, state, group);
  }

  protected override fusedUpdate(param: Tensor, grad: Tensor, state: AdamState, group: ParamGroup<AdamOptions>): boolean {
    return fusedAdamStep(param, grad, state, group, false);
  }
}

/**
 * The adaptive step both Adam and AdamW take once the gradient is final (Kingma & Ba, Alg. 1):
 * update the moment estimates, correct their bias, and move the parameter.
 */
export function adamStep(param: Tensor, g: Tensor, state: AdamState, group: ParamGroup<AdamOptions>): void {
  const { lr, betas: [beta1, beta2], eps, amsgrad } = group;
  state.step += 1;
  state.expAvg.mul_(beta1).add_(g, 1 - beta1);
  state.expAvgSq.mul_(beta2).add_(g.mul(g), 1 - beta2);
  const biasCorrection1 = 1 - beta1 ** state.step;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** state.step);
  let second = state.expAvgSq;
  if (amsgrad) {
    // A parameter group switched to amsgrad after the first step starts its maximum from zero.
    state.maxExpAvgSq ??= zerosLike(param);
    state.maxExpAvgSq.copy_(maximum(state.maxExpAvgSq, state.expAvgSq));
    second = state.maxExpAvgSq;
  }
  const denom = second.sqrt().div(biasCorrection2Sqrt).add(eps);
  param.add_(state.expAvg.div(denom), -lr / biasCorrection1);
}

/**
 * Adam's or (with `decoupled`) AdamW's whole update as one fused kernel: the same arithmetic as
 * their `update`, the gradient negated and decayed inside. Returns false, changing nothing, where
 * the fused kernel does not apply.
 */
export function fusedAdamStep(param: Tensor, grad: Tensor, state: AdamState, group: ParamGroup<AdamOptions>, decoupled: boolean): boolean {
  const { lr, betas: [beta1, beta2], eps, weightDecay, amsgrad, maximize } = group;
  if (!fusable(param, grad, [state.expAvg, state.expAvgSq, amsgrad ? state.maxExpAvgSq : undefined])) return false;
  if (amsgrad) state.maxExpAvgSq ??= zerosLike(param);
  const maxExpAvgSq = amsgrad ? state.maxExpAvgSq : undefined;
  state.step += 1;
  const biasCorrection1 = 1 - beta1 ** state.step;
  const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** state.step);
  runFused(
    param,
    {
      kind: 'adam',
      param: param._storage,
      grad: grad._storage,
      expAvg: state.expAvg._storage,
      expAvgSq: state.expAvgSq._storage,
      maxExpAvgSq: storageOf(maxExpAvgSq),
      lr, beta1, beta2, eps, weightDecay, decoupled, maximize,
      stepSize: lr / biasCorrection1,
      biasCorrection2Sqrt,
    },
    [state.expAvg, state.expAvgSq, maxExpAvgSq],
  );
  return true;
}

/** The checks torch applies to Adam, AdamW and Adamax settings. */
export function checkAdamLike(name: string, group: { eps: number; betas: [number, number]; weightDecay: number }): void {
  if (!(group.eps >= 0)) throw new RangeError(`${name}: invalid epsilon value ${group.eps}`);
  const [b1, b2] = group.betas;
  if (!(b1 >= 0 && b1 < 1)) throw new RangeError(`${name}: invalid beta parameter at index 0: ${b1}`);
  if (!(b2 >= 0 && b2 < 1)) throw new RangeError(`${name}: invalid beta parameter at index 1: ${b2}`);
  if (!(group.weightDecay >= 0)) throw new RangeError(`${name}: invalid weightDecay value ${group.weightDecay}`);
}
