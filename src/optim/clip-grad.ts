/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_.
 *
 * Clipping by global norm: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent
 * neural networks" (ICML 2013), Algorithm 1: if ‖g‖ exceeds a threshold, rescale g to that norm.
 * PyTorch computes the norm over all gradients as one vector and scales by
 * min(1, maxNorm / (‖g‖ + 1e-6)); so do we. For the 2-norm of dense float gradients the sum of
 * squares is one float64 pass over each gradient and the rescale is in place (fused.ts), so no
 * gradient-sized temporary is made.
 */
import { Tensor } from '../tensor/tensor.js';
import { stack } from '../tensor/shape-ops.js';
import { div } from '../tensor/elementwise.js';
import { tensor } from '../tensor/creation.js';
import { noGrad } from '../autograd/mode.js';
import { scaleInPlace, sumOfSquares } from './fused.js';

/** The gradients, read without handing them out (Tensor._peekGrad): clipping keeps none of them. */
function gradsOf(parameters: Tensor | Iterable<Tensor>): Tensor[] {
  const params = parameters instanceof Tensor ? [parameters] : [...parameters];
  const grads: Tensor[] = [];
  for (const p of params) {
    const g = p._peekGrad();
    if (g !== null) grads.push(g);
  }
  return grads;
}

/**
 * Rescales the gradients in place so that their joint p-norm (all gradients as one vector) is at
 * most `maxNorm`, and returns that norm as it was before clipping (a 0-d tensor).
 * `normType` may be Infinity. With `errorIfNonfinite`, a NaN or infinite norm throws instead.
 */
export function clipGradNorm_(
  parameters: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  errorIfNonfinite = false,
): Tensor {
  const grads = gradsOf(parameters);
  if (grads.length === 0) return tensor(0);
  return noGrad(() => {
    const squares = normType === 2 ? sumOfSquares(grads) : null;
    const totalNorm = squares !== null
      ? squares.sqrt().to(grads[0]!.dtype)
      : normType === Infinity
        ? stack(grads.map((g) => g.detach().abs().amax())).amax()
        : stack(grads.map((g) => g.detach().norm(normType))).norm(normType);
    if (errorIfNonfinite && !Number.isFinite(totalNorm.item())) {
      throw new Error(
        `clipGradNorm_: the total norm of order ${normType} of the gradients is non-finite, so it cannot be clipped; ` +
          'pass errorIfNonfinite = false to scale the gradients by the non-finite norm anyway',
      );
    }
    // Always multiply (by 1 when under the limit), as torch does, so no value is read back here.
    const clipCoef = div(maxNorm, totalNorm.add(1e-6)).clamp(null, 1);
    for (const g of grads) {
      if (squares !== null) scaleInPlace(g, clipCoef);
      else g.mul_(clipCoef);
    }
    return totalNorm;
  });
}

/** Clamps every gradient element into [−clipValue, clipValue], in place. */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  noGrad(() => {
    for (const g of gradsOf(parameters)) g.clamp_(-clipValue, clipValue);
  });
}
