/**
 * torch.nn.functional: activations, normalisation, dropout, resampling and losses, each written
 * from Tensor ops (the autograd rules of those ops give every gradient here).
 */
import {
  Tensor,
  noGrad,
  full,
  where,
  pad,
  rand,
  tensor,
  linear,
  softmax,
  logSoftmax,
  conv1d,
  conv2d,
  convTranspose2d,
  maxPool2d,
  maxPool2dWithIndices,
  avgPool2d,
  adaptiveAvgPool2d,
  embedding,
  oneHot,
  type Generator,
} from '../tensor/index.js';
import { broadcastShapes } from '../shape.js';
import { run, runMany } from '../tensor/dispatch.js';
import { renameIndexError } from '../tensor/indexing.js';
import { dropoutDraw } from '../random/generator.js';

export {
  linear,
  softmax,
  logSoftmax,
  conv1d,
  conv2d,
  convTranspose2d,
  maxPool2d,
  maxPool2dWithIndices,
  avgPool2d,
  adaptiveAvgPool2d,
  embedding,
  oneHot,
  pad,
};

export type Reduction = 'mean' | 'sum' | 'none';

/** Rejects an unknown reduction up front, naming the loss. */
function checkReduction(op: string, reduction: string): void {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none' && !(op === 'klDiv' && reduction === 'batchmean')) {
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none'${op === 'klDiv' ? " or 'batchmean'" : ''}, got '${reduction}'`);
  }
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return loss.mean();
  if (reduction === 'sum') return loss.sum();
  if (reduction === 'none') return loss;
  throw new Error(`reduction must be 'mean', 'sum' or 'none', got '${reduction as string}'`);
}

/** Checks that an optional per-element tensor (a weight) broadcasts to `shape` without changing it. */
function broadcastsTo(op: string, name: string, t: Tensor | null, shape: readonly number[]): void {
  if (!t) return;
  const lead = shape.length - t.ndim;
  if (lead < 0 || t.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) {
    throw new Error(`${op}: ${name} [${t.shape.join(', ')}] does not broadcast to the input [${shape.join(', ')}]`);
  }
}

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: input [${a.shape.join(', ')}] and target [${b.shape.join(', ')}] must have the same shape`);
  }
}

// ---- activations (the Tensor methods, as functions) ----

/** max(0, x); with `inplace`, into x's own storage (x.relu_()), as torch.nn.functional.relu(x, inplace=True). */
export const relu = (x: Tensor, inplace = false) => (inplace ? x.relu_() : x.relu());
export const sigmoid = (x: Tensor) => x.sigmoid();
export const tanh = (x: Tensor) => x.tanh();
export const silu = (x: Tensor) => x.silu();
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none') => x.gelu(approximate);
export const leakyRelu = (x: Tensor, negativeSlope = 0.01) => x.leakyRelu(negativeSlope);
export const elu = (x: Tensor, alpha = 1) => x.elu(alpha);
export const softplus = (x: Tensor, beta = 1, threshold = 20) => x.softplus(beta, threshold);

// ---- normalisation ----

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Batch statistics (and running-statistics updates) when true; the running statistics when false. */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation (Ioffe & Szegedy 2015, Alg. 1) over [N, C, ...]. In training the batch mean
 * and biased variance normalise, and the running statistics move toward the batch mean and the
 * unbiased variance by `momentum`, in place.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = options;
  if (x.ndim < 2) throw new Error(`batchNorm: expected an input of at least 2 dimensions [N, C, ...], got [${x.shape.join(', ')}]`);
  const C = x.shape[1]!;
  const shape = x.shape.map((d, i) => (i === 1 ? d : 1)); // [1, C, 1, ...]
  for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar], ['weight', weight], ['bias', bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) throw new Error(`batchNorm: ${name} must be [${C}], got [${t.shape.join(', ')}]`);
  }
  if (training) {
    const count = x.numel() / C;
    if (count <= 1) throw new Error(`batchNorm: expected more than 1 value per channel when training, got input [${x.shape.join(', ')}]`);
    // One fused primitive: y and the batch mean and 1 / sqrt(biased variance + eps) it normalised with.
    const [y, mean, invstd] = runMany('batchNorm', [x, affine(x, weight, [C], 1), affine(x, bias, [C], 0)], { eps });
    if (runningMean && runningVar) {
      noGrad(() => {
        // The running variance is the unbiased one, recovered from the saved statistic: 1 / invstd^2 - eps.
        const variance = invstd.mul(invstd).reciprocal().sub(eps);
        runningMean.mul_(1 - momentum).add_(mean.mul(momentum));
        runningVar.mul_(1 - momentum).add_(variance.mul((momentum * count) / (count - 1)));
      });
    }
    return y!;
  }
  if (!runningMean || !runningVar) throw new Error('batchNorm: running statistics are needed when not training');
  // Evaluation is one affine map per channel, y = x * scale + shift, as PyTorch computes it: two
  // passes over x, with the per-channel arithmetic done on [C].
  let scale = runningVar.add(eps).rsqrt();
  if (weight) scale = scale.mul(weight);
  let shift = runningMean.mul(scale).neg();
  if (bias) shift = shift.add(bias);
  return x.mul(scale.reshape(shape)).add(shift.reshape(shape));
}

/** Layer normalisation (Ba et al. 2016) over the trailing `normalizedShape` dimensions. */
export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new Error(`layerNorm: input [${x.shape.join(', ')}] does not end in normalizedShape [${normalizedShape.join(', ')}]`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && (t.ndim !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new Error(`layerNorm: ${name} must have the normalized shape [${normalizedShape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
  }
  const affineShape = [...normalizedShape];
  return runMany('layerNorm', [x, affine(x, weight, affineShape, 1), affine(x, bias, affineShape, 0)], { normalizedShape: affineShape, eps })[0]!;
}

/** An affine parameter in x's dtype, or the identity's constant (1 for a weight, 0 for a bias) when absent. */
function affine(x: Tensor, t: Tensor | null, shape: number[], identity: number): Tensor {
  if (!t) return full(shape, identity, { dtype: x.dtype, device: x.device });
  return t.dtype === x.dtype ? t : t.to(x.dtype);
}

/** Group normalisation (Wu & He 2018): statistics over each group of channels and all positions. */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const [N, C] = x.shape as [number, number];
  if (x.ndim < 2 || C % numGroups !== 0) {
    throw new Error(`groupNorm: ${numGroups} groups must divide the ${C} channels of [${x.shape.join(', ')}]`);
  }
  const grouped = x.reshape([N, numGroups, -1]);
  const mean = grouped.mean(2, true);
  const variance = grouped.var(2, { correction: 0, keepdim: true });
  let y = grouped.sub(mean).mul(variance.add(eps).rsqrt()).reshape([...x.shape]);
  const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
  if (weight) y = y.mul(weight.reshape(shape));
  if (bias) y = y.add(bias.reshape(shape));
  return y;
}

/**
 * Local response normalisation across channels (Krizhevsky et al. 2012, Sec. 3.3):
 * b = a / (k + alpha / n * sum of a^2 over n neighbouring channels)^beta, as torch computes it.
 */
export function localResponseNorm(x: Tensor, size: number, alpha = 1e-4, beta = 0.75, k = 1): Tensor {
  if (x.ndim < 3) throw new Error(`localResponseNorm: expected [N, C, ...] with at least 3 dimensions, got [${x.shape.join(', ')}]`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`localResponseNorm: size must be a positive integer, got ${size}`);
  const C = x.shape[1]!;
  const flat = x.reshape([x.shape[0]!, C, -1]); // [N, C, L]
  const sq = flat.mul(flat).transpose(1, 2); // [N, L, C]
  const padded = pad(sq, [Math.floor(size / 2), Math.floor((size - 1) / 2)]); // [N, L, C + size - 1]
  let windowSum = padded.narrow(2, 0, C);
  for (let i = 1; i < size; i++) windowSum = windowSum.add(padded.narrow(2, i, C));
  const div = windowSum.transpose(1, 2).mul(alpha / size).add(k).pow(beta).reshape([...x.shape]);
  return x.div(div);
}

// ---- dropout ----

/**
 * Dropout (Srivastava et al. 2014): zero each element with probability p and scale the rest by
 * 1/(1-p) ("inverted" dropout), so evaluation needs no rescaling.
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout: probability must be between 0 and 1, got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  // keep = rand(x.shape) >= p, then where(keep, x / (1 - p), 0): one fused primitive, same values.
  return dropoutDraw(x, p, generator);
}

/** Zeroes whole channels of [N, C, H, W] (Tompson et al. 2015). */
export function dropout2d(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout2d: probability must be between 0 and 1, got ${p}`);
  if (!training || p === 0) return x;
  const shape = x.shape.map((d, i) => (i < 2 ? d : 1));
  const keep = noGrad(() => rand(shape, { dtype: x.dtype, device: x.device, generator }).ge(p));
  return where(keep, x.div(1 - p), 0);
}

// ---- resampling ----

export interface InterpolateOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

/** Source coordinates and weights for resampling one axis from `inSize` to `outSize`. */
function axisPlan(inSize: number, outSize: number, scale: number | undefined, mode: 'nearest' | 'bilinear', alignCorners: boolean) {
  const ratio = scale !== undefined ? 1 / scale : inSize / outSize;
  const lo: number[] = [];
  const hi: number[] = [];
  const w: number[] = [];
  for (let o = 0; o < outSize; o++) {
    if (mode === 'nearest') {
      lo.push(Math.min(Math.floor(o * ratio), inSize - 1));
      continue;
    }
    let src = alignCorners ? (outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0) : (o + 0.5) * ratio - 0.5;
    if (src < 0) src = 0;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    lo.push(i0);
    hi.push(Math.min(i0 + 1, inSize - 1));
    w.push(src - i0);
  }
  return { lo, hi, w };
}

/** Resizes [N, C, H, W] by nearest-neighbour or bilinear sampling, as torch.nn.functional.interpolate. */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const mode = options.mode ?? 'nearest';
  if (x.ndim !== 4) throw new Error(`interpolate: expected a 4-D [N, C, H, W] input, got [${x.shape.join(', ')}]`);
  if (mode !== 'nearest' && mode !== 'bilinear') throw new Error(`interpolate: unknown mode '${mode as string}'`);
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new Error('interpolate: give exactly one of size and scaleFactor');
  }
  if (mode === 'nearest' && options.alignCorners !== undefined) {
    throw new Error("interpolate: alignCorners only applies to mode 'bilinear'");
  }
  const H = x.shape[2]!;
  const W = x.shape[3]!;
  const scales = options.scaleFactor === undefined ? undefined : typeof options.scaleFactor === 'number' ? [options.scaleFactor, options.scaleFactor] : options.scaleFactor;
  const size = options.size !== undefined
    ? typeof options.size === 'number' ? [options.size, options.size] : options.size
    : [Math.floor(H * scales![0]!), Math.floor(W * scales![1]!)];
  const [oh, ow] = size as [number, number];
  if (oh <= 0 || ow <= 0) throw new Error(`interpolate: output size must be positive, got [${oh}, ${ow}]`);
  const alignCorners = options.alignCorners ?? false;
  const along = (t: Tensor, axis: 2 | 3, inSize: number, outSize: number, scale: number | undefined) => {
    const plan = axisPlan(inSize, outSize, alignCorners ? undefined : scale, mode, alignCorners);
    const idx = (v: number[]) => tensor(v, { dtype: 'int32', device: t.device });
    const lo = t.indexSelect(axis, idx(plan.lo));
    if (mode === 'nearest') return lo;
    const hi = t.indexSelect(axis, idx(plan.hi));
    const wShape = axis === 2 ? [outSize, 1] : [outSize];
    const w = tensor(plan.w, { dtype: t.dtype, device: t.device, shape: wShape });
    return lo.add(hi.sub(lo).mul(w));
  };
  return along(along(x, 2, H, oh, scales?.[0]), 3, W, ow, scales?.[1]);
}

// ---- losses ----

export interface NllOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Moves the class axis last and flattens: [N, C, d1, ...] -> [N * d1 * ..., C]; targets likewise. */
function classesLast(input: Tensor, target: Tensor): [Tensor, Tensor] {
  if (input.ndim === 1) return [input.unsqueeze(0), target.reshape([1])];
  if (input.ndim === 2) return [input, target];
  const C = input.shape[1]!;
  const perm = [0, ...Array.from({ length: input.ndim - 2 }, (_, i) => i + 2), 1];
  return [input.permute(perm).reshape([-1, C]), target.reshape([-1])];
}

/** Negative log-likelihood of class indices given log-probabilities [N, C] (or [N, C, d1, ...]). */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  return nll('nllLoss', logProbs, target, options);
}

/** Checks class-index targets against the input [N, C, d1, ...] (or [C]) and the class weights. */
function checkClassTarget(op: string, input: Tensor, target: Tensor, weight: Tensor | null): void {
  if (target.dtype !== 'int32') throw new TypeError(`${op}: target must hold int32 class indices, got ${target.dtype}`);
  if (input.ndim === 0) throw new Error(`${op}: input must have at least 1 dimension [C] or [N, C, ...], got []`);
  const expectTarget = input.ndim === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (target.ndim !== expectTarget.length || target.shape.some((d, i) => d !== expectTarget[i])) {
    throw new Error(`${op}: input [${input.shape.join(', ')}] expects target [${expectTarget.join(', ')}], got [${target.shape.join(', ')}]`);
  }
  checkClassWeight(op, input, weight);
}

function checkClassWeight(op: string, input: Tensor, weight: Tensor | null): void {
  const C = input.shape[input.ndim === 1 ? 0 : 1]!;
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== C)) throw new Error(`${op}: weight must be [${C}], got [${weight.shape.join(', ')}]`);
}

/** nllLoss under the name of the op that called it (nllLoss or crossEntropy). */
function nll(op: string, logProbs: Tensor, target: Tensor, options: NllOptions): Tensor {
  const { weight = null, ignoreIndex = -100, reduction = 'mean' } = options;
  checkReduction(op, reduction);
  checkClassTarget(op, logProbs, target, weight);
  const [lp, t] = classesLast(logProbs, target);
  const C = lp.shape[1]!;
  const ignored = t.eq(ignoreIndex);
  const safe = where(ignored, 0, t); // ignored rows read class 0, then get weight 0
  const picked = renameIndexError(
    () => lp.gather(1, safe.unsqueeze(1)),
    (v) => `${op}: target class ${v} is out of range for ${C} classes`,
  ).squeeze(1).neg(); // [M]
  const w = (weight ? weight.to(lp.dtype).indexSelect(0, safe) : picked.mul(0).add(1)).maskedFill(ignored, 0);
  const loss = picked.mul(w);
  if (reduction === 'none') return loss.reshape([...target.shape]);
  if (reduction === 'sum') return loss.sum();
  return loss.sum().div(w.sum());
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the target with the uniform distribution by this much (Szegedy et al. 2016). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits [N, C] (or [N, C, d1, ...], or [C]) and either int32 class indices
 * or class probabilities of the logits' shape, with PyTorch's weight, ignoreIndex, labelSmoothing
 * and reduction semantics.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { weight = null, ignoreIndex = -100, reduction = 'mean', labelSmoothing = 0 } = options;
  checkReduction('crossEntropy', reduction);
  if (labelSmoothing < 0 || labelSmoothing > 1) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  if (input.ndim === 0) throw new Error('crossEntropy: input must have at least 1 dimension [C] or [N, C, ...], got []');
  if (target.dtype === 'int32') checkClassTarget('crossEntropy', input, target, weight);
  else checkClassWeight('crossEntropy', input, weight);
  const classAxis = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classAxis]!;
  const logp = logSoftmax(input, classAxis);
  const wShape = input.shape.map((d, i) => (i === classAxis ? d : 1));
  if (target.dtype !== 'int32') {
    // Probabilities: -sum_c w_c * q_c * log p_c per element, averaged over the batch elements.
    sameShape('crossEntropy', input, target);
    let q = target.to(logp.dtype);
    if (labelSmoothing > 0) q = q.mul(1 - labelSmoothing).add(labelSmoothing / C);
    let terms = logp.mul(q);
    if (weight) terms = terms.mul(weight.to(logp.dtype).reshape(wShape));
    const loss = terms.sum(classAxis).neg();
    if (reduction === 'none') return loss;
    if (reduction === 'sum') return loss.sum();
    return loss.sum().div(input.ndim === 1 ? 1 : input.numel() / C);
  }
  const nllPart = nll('crossEntropy', logp, target, { weight, ignoreIndex, reduction });
  if (labelSmoothing === 0) return nllPart;
  const ignored = target.eq(ignoreIndex);
  let smooth = (weight ? logp.mul(weight.to(logp.dtype).reshape(wShape)) : logp).sum(classAxis).neg();
  smooth = smooth.maskedFill(ignored, 0);
  let smoothTotal: Tensor;
  if (reduction === 'none') smoothTotal = smooth;
  else if (reduction === 'sum') smoothTotal = smooth.sum();
  else if (weight) smoothTotal = smooth.sum().div(weight.to(logp.dtype).indexSelect(0, where(ignored, 0, target).reshape([-1])).maskedFill(ignored.reshape([-1]), 0).sum());
  else smoothTotal = smooth.sum().div(ignored.logicalNot().sum().to(logp.dtype));
  return nllPart.mul(1 - labelSmoothing).add(smoothTotal.mul(labelSmoothing / C));
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  sameShape('mseLoss', input, target);
  checkReduction('mseLoss', reduction);
  const d = input.sub(target);
  return reduce(d.mul(d), reduction);
}

export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  sameShape('l1Loss', input, target);
  checkReduction('l1Loss', reduction);
  return reduce(input.sub(target).abs(), reduction);
}

/** 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere. */
export function smoothL1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', beta = 1): Tensor {
  sameShape('smoothL1Loss', input, target);
  checkReduction('smoothL1Loss', reduction);
  if (beta < 0) throw new Error(`smoothL1Loss: beta must be non-negative, got ${beta}`);
  const d = input.sub(target);
  if (beta === 0) return reduce(d.abs(), reduction);
  // One primitive for the terms and one for their gradient (PyTorch fuses this loss too), instead of
  // about twenty small ops: it is a sizeable part of a DQN update on a batch of 32.
  return reduce(run('smoothL1', [d], { beta }), reduction);
}

/** 0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) elsewhere (the loss DQN clips its TD error with). */
export function huberLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', delta = 1): Tensor {
  sameShape('huberLoss', input, target);
  checkReduction('huberLoss', reduction);
  if (delta <= 0) throw new Error(`huberLoss: delta must be positive, got ${delta}`);
  // huber_delta(x) = delta * smoothL1_beta=delta(x): the same primitive, scaled.
  const terms = run('smoothL1', [input.sub(target)], { beta: delta });
  return reduce(delta === 1 ? terms : terms.mul(delta), reduction);
}

export interface BceOptions {
  weight?: Tensor | null;
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

/** Binary cross-entropy on logits, in the stable form max(x, 0) - x y + log(1 + exp(-|x|)). */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceOptions = {}): Tensor {
  const { weight = null, posWeight = null, reduction = 'mean' } = options;
  sameShape('binaryCrossEntropyWithLogits', input, target);
  checkReduction('binaryCrossEntropyWithLogits', reduction);
  broadcastsTo('binaryCrossEntropyWithLogits', 'weight', weight, input.shape);
  broadcastsTo('binaryCrossEntropyWithLogits', 'posWeight', posWeight, input.shape);
  const y = target.to(input.dtype);
  const softplusNeg = input.neg().relu().add(input.abs().neg().exp().log1p()); // log(1 + exp(-x))
  let loss: Tensor;
  if (posWeight) {
    const lw = posWeight.sub(1).mul(y).add(1);
    loss = y.neg().add(1).mul(input).add(lw.mul(softplusNeg));
  } else {
    loss = y.neg().add(1).mul(input).add(softplusNeg);
  }
  if (weight) loss = loss.mul(weight);
  return reduce(loss, reduction);
}

/** Binary cross-entropy on probabilities; log terms clamped at -100, as in PyTorch. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  sameShape('binaryCrossEntropy', input, target);
  checkReduction('binaryCrossEntropy', options.reduction ?? 'mean');
  const y = target.to(input.dtype);
  const logP = input.log().clamp(-100, null);
  const log1mP = input.neg().add(1).log().clamp(-100, null);
  let loss = y.mul(logP).add(y.neg().add(1).mul(log1mP)).neg();
  if (options.weight) loss = loss.mul(options.weight);
  return reduce(loss, options.reduction ?? 'mean');
}

/**
 * Kullback-Leibler divergence with `input` as log-probabilities and `target` as probabilities
 * (or log-probabilities with logTarget). 'batchmean' divides the sum by the batch size, the
 * mathematically correct mean.
 */
export function klDiv(input: Tensor, target: Tensor, reduction: Reduction | 'batchmean' = 'mean', logTarget = false): Tensor {
  sameShape('klDiv', input, target);
  checkReduction('klDiv', reduction);
  const t = target.to(input.dtype);
  const pointwise = logTarget
    ? t.exp().mul(t.sub(input))
    : where(t.gt(0), t.mul(where(t.gt(0), t, 1).log()), 0).sub(t.mul(input)); // xlogy(t, t) - t * input
  if (reduction === 'batchmean') return pointwise.sum().div(input.ndim > 0 ? input.shape[0]! : 1);
  return reduce(pointwise, reduction);
}

/** Cosine of the angle between x1 and x2 along `dim`; each norm is clamped below by eps. */
export function cosineSimilarity(x1: Tensor, x2: Tensor, dim = 1, eps = 1e-8): Tensor {
  // Broadcast first, so that `dim` names an axis of the common shape (as in PyTorch).
  const shape = broadcastShapes('cosineSimilarity', x1.shape, x2.shape);
  const a = x1.expand(shape);
  const b = x2.expand(shape);
  const n1 = a.norm(2, dim, true).clamp(eps, null);
  const n2 = b.norm(2, dim, true).clamp(eps, null);
  return a.div(n1).mul(b.div(n2)).sum(dim);
}
