/**
 * Reductions over any set of axes. The primitives are sum, prod, amax, amin, argmax, argmin and
 * cumsum; mean, var, logsumexp and norm are written from them.
 */
import { isFloating } from '../dtype.js';
import { normalizeAxes, normalizeAxis, numel } from '../shape.js';
import { noGrad } from '../autograd/mode.js';
import { run } from './dispatch.js';
import { type Runner, cast, where } from './elementwise.js';
import type { Tensor } from './tensor.js';

function axesOf(op: string, x: Tensor, dim: number | number[] | undefined): number[] {
  return normalizeAxes(op, dim, x.ndim);
}

export function sum(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  return run('sum', [x], { axes: axesOf('sum', x, dim), keepdim });
}

export function prod(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  return run('prod', [x], { axes: axesOf('prod', x, dim), keepdim });
}

function nonEmpty(op: string, x: Tensor, axes: number[]): void {
  if (axes.some((a) => x.shape[a] === 0) || (x.ndim > 0 && axes.length === x.ndim && x.numel() === 0)) {
    throw new Error(`${op}: cannot reduce over an empty dimension of a tensor of shape [${x.shape.join(', ')}]`);
  }
}

export function amax(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  const axes = axesOf('amax', x, dim);
  nonEmpty('max', x, axes);
  return run('amax', [x], { axes, keepdim });
}

export function amin(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  const axes = axesOf('amin', x, dim);
  nonEmpty('min', x, axes);
  return run('amin', [x], { axes, keepdim });
}

function requireFloat(op: string, x: Tensor): void {
  if (!isFloating(x.dtype)) {
    throw new TypeError(`${op}: expected a floating-point tensor, got ${x.dtype} (convert with .float())`);
  }
}

export function mean(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  requireFloat('mean', x);
  const axes = axesOf('mean', x, dim);
  const count = numel(axes.map((a) => x.shape[a]!));
  return sum(x, axes, keepdim).div(count);
}

/** Variance with `correction` subtracted from the count (1: Bessel's correction). */
export function variance(x: Tensor, dim: number | number[] | undefined, correction: number, keepdim: boolean): Tensor {
  requireFloat('var', x);
  const axes = axesOf('var', x, dim);
  const count = numel(axes.map((a) => x.shape[a]!));
  const centered = x.sub(mean(x, axes, true));
  return sum(centered.mul(centered), axes, keepdim).div(Math.max(0, count - correction));
}

/** Values and indices of the maximum (or minimum) along one axis. */
export function maxDim(
  x: Tensor,
  dim: number,
  keepdim: boolean,
  kind: 'max' | 'min',
): { values: Tensor; indices: Tensor } {
  const axis = normalizeAxis(kind, dim, x.ndim);
  if (x.ndim > 0) nonEmpty(kind, x, [axis]);
  const indices = run(kind === 'max' ? 'argmax' : 'argmin', [x], { axis, keepdim: true });
  const values = x.ndim === 0 ? x : x.gather(axis, indices);
  return keepdim || x.ndim === 0
    ? { values, indices }
    : { values: values.squeeze(axis), indices: indices.squeeze(axis) };
}

export function argReduce(name: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim === undefined) {
    const flat = x.reshape(-1);
    nonEmpty(name, flat, [0]);
    const out = run(name, [flat], { axis: 0, keepdim: false });
    return keepdim ? out.reshape(x.shape.map(() => 1)) : out;
  }
  const axis = normalizeAxis(name, dim, x.ndim);
  if (x.ndim > 0) nonEmpty(name, x, [axis]);
  return run(name, [x], { axis, keepdim });
}

/** log(sum(exp(x))) computed stably by shifting by the maximum. */
export function logsumexp(x: Tensor, dim: number | number[], keepdim: boolean): Tensor {
  requireFloat('logsumexp', x);
  const axes = axesOf('logsumexp', x, dim);
  // The shift is a constant for the gradient; infinite maxima shift by 0 so inf - inf never happens.
  const m = noGrad(() => {
    const raw = amax(x, axes, true);
    return where(raw.abs().eq(Infinity), 0, raw);
  });
  const out = sum(x.sub(m).exp(), axes, true).log().add(m);
  return keepdim ? out : out.squeeze(axes);
}

/**
 * s^(1/p) for a sum s of |x|^p. Where s = 0 (an all-zero vector) the root's derivative is infinite
 * and the chain rule would give inf * 0 = NaN; PyTorch's norm takes the subgradient 0 there, and so
 * do we, by rooting a stand-in 1 and selecting 0.
 */
function root(s: Tensor, p: number): Tensor {
  const zero = s.eq(0);
  const safe = where(zero, 1, s);
  return where(zero, 0, p === 2 ? safe.sqrt() : safe.pow(1 / p));
}

export function norm(x: Tensor, p: number, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  requireFloat('norm', x);
  const axes = axesOf('norm', x, dim);
  if (p === 2) return root(sum(x.mul(x), axes, keepdim), 2);
  if (p === 1) return sum(x.abs(), axes, keepdim);
  if (p === Infinity) return amax(x.abs(), axes, keepdim);
  if (p === -Infinity) return amin(x.abs(), axes, keepdim);
  if (p === 0) return sum(cast(x.ne(0), x.dtype), axes, keepdim);
  return root(sum(x.abs().pow(p), axes, keepdim), p);
}

/**
 * torch.renorm: each sub-tensor x.select(dim, i) whose p-norm exceeds maxnorm is scaled by
 * maxnorm / (norm + 1e-7), the others are left as they are (a max-norm constraint on the rows of a
 * weight: w.renorm_(2, 0, c)). `into` runs the primitive for the in-place form.
 */
export function renorm(x: Tensor, p: number, dim: number, maxnorm: number, into?: Runner): Tensor {
  requireFloat('renorm', x);
  if (!(p > 0)) throw new Error(`renorm: p must be positive, got ${p}`);
  if (!Number.isFinite(p)) throw new Error(`renorm: p = ${p} is not supported (a finite p > 0 is)`);
  if (!(maxnorm >= 0)) throw new Error(`renorm: maxnorm must be >= 0, got ${maxnorm}`);
  if (x.ndim < 2) throw new Error(`renorm: the input needs at least 2 dimensions, got shape [${x.shape.join(', ')}]`);
  const axis = normalizeAxis('renorm', dim, x.ndim);
  return (into ?? run)('renorm', [x], { p, axis, maxnorm });
}

export function cumsum(x: Tensor, dim: number): Tensor {
  return run('cumsum', [x], { axis: normalizeAxis('cumsum', dim, x.ndim) });
}

export function all(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  return sum(cast(x, 'bool').logicalNot(), dim, keepdim).eq(0);
}

export function any(x: Tensor, dim: number | number[] | undefined, keepdim: boolean): Tensor {
  return sum(cast(x, 'bool'), dim, keepdim).gt(0);
}
