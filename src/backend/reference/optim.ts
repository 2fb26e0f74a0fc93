/**
 * The fused optimizer updates (Backend.optimizerStep) and the two gradient-clipping kernels
 * (sumOfSquares, scaleInPlace) as plain loops: the definition native/cpu/optim.cc is tested against.
 *
 * Each update computes, element by element, exactly what the Tensor-op form of the optimizer in
 * src/optim/ computes: every scalar is rounded to the dtype as a scalar operand is (`r(beta1)`),
 * and every intermediate is rounded where a Tensor op would write its output. `r` is Math.fround
 * for float32 and the identity for float64. Each step is one IEEE operation (+ − × ÷ √) on
 * float32 values computed in double and rounded once, which is the float32 operation itself, so
 * for float32 the fused update is bit-identical to the composite one, and a C++ loop in float
 * arithmetic is bit-identical to this one. The formulas and their sources are in src/optim/.
 */
import type { DType } from '../../dtype.js';
import type { OptimizerUpdate } from '../types.js';
import { type RefStorage, wrap } from './storage.js';

type Update = OptimizerUpdate<RefStorage>;
type UpdateOf<K extends Update['kind']> = Extract<Update, { kind: K }>;

const identity = (x: number): number => x;

/** Rounds a computed value to the dtype, as storing a Tensor op's output does. */
function rounding(dtype: DType, what: string): (x: number) => number {
  if (dtype === 'float32') return Math.fround;
  if (dtype === 'float64') return identity;
  throw new TypeError(`${what}: expects a float32 or float64 parameter, got ${dtype}`);
}

/** torch.maximum's rule: NaN propagates (as the `maximum` kernel). */
function maximum(a: number, b: number): number {
  return a !== a || b !== b ? NaN : a > b ? a : b;
}

/** Checks that every buffer of an update has the parameter's dtype and size (null: unused). */
function checkBuffers(u: Update, buffers: (RefStorage | null)[]): void {
  for (const b of buffers) {
    if (b !== null && (b.dtype !== u.param.dtype || b.size !== u.param.size)) {
      throw new Error(
        `optimizerStep(${u.kind}): every buffer must have the parameter's dtype ${u.param.dtype} and size ${u.param.size}, ` +
          `got ${b.dtype} of size ${b.size}`,
      );
    }
  }
}

// In each loop: `gi` is the gradient (negated when maximizing, plus λθ with an L2 weight decay),
// the state buffers are read and written at the same index, and the parameter is written last.

function sgd(u: UpdateOf<'sgd'>): void {
  const r = rounding(u.param.dtype, 'optimizerStep(sgd)');
  const p = u.param.data, g = u.grad.data;
  const useMomentum = u.momentum !== 0;
  if (useMomentum && u.momentumBuffer === null) throw new Error('optimizerStep(sgd): momentum needs a momentum buffer');
  const buf = u.momentumBuffer?.data ?? null;
  const sign = u.maximize ? -1 : 1, wd = r(u.weightDecay), mom = r(u.momentum), damp = r(1 - u.dampening);
  const negLr = r(-u.lr);
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! * sign;
    if (u.weightDecay !== 0) d = r(d + r(p[i]! * wd));
    if (useMomentum) {
      const b = u.firstStep ? d : r(r(buf![i]! * mom) + r(d * damp));
      buf![i] = b;
      d = u.nesterov ? r(d + r(b * mom)) : b;
    }
    p[i] = r(p[i]! + r(d * negLr));
  }
}

function adam(u: UpdateOf<'adam'>): void {
  const r = rounding(u.param.dtype, 'optimizerStep(adam)');
  const p = u.param.data, g = u.grad.data, m = u.expAvg.data, v = u.expAvgSq.data, vMax = u.maxExpAvgSq?.data ?? null;
  const sign = u.maximize ? -1 : 1, wd = r(u.weightDecay), decay = r(1 - u.lr * u.weightDecay);
  const b1 = r(u.beta1), c1 = r(1 - u.beta1), b2 = r(u.beta2), c2 = r(1 - u.beta2);
  const bc2 = r(u.biasCorrection2Sqrt), eps = r(u.eps), negStep = r(-u.stepSize);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]! * sign;
    let pi = p[i]!;
    if (u.decoupled) pi = r(pi * decay);
    else if (u.weightDecay !== 0) gi = r(gi + r(pi * wd));
    const mi = r(r(m[i]! * b1) + r(gi * c1));
    const vi = r(r(v[i]! * b2) + r(r(gi * gi) * c2));
    m[i] = mi;
    v[i] = vi;
    let second = vi;
    if (vMax !== null) {
      second = maximum(vMax[i]!, vi);
      vMax[i] = second;
    }
    const denom = r(r(r(Math.sqrt(second)) / bc2) + eps);
    p[i] = r(pi + r(r(mi / denom) * negStep));
  }
}

function rmsprop(u: UpdateOf<'rmsprop'>): void {
  const r = rounding(u.param.dtype, 'optimizerStep(rmsprop)');
  const p = u.param.data, g = u.grad.data, sq = u.squareAvg.data;
  const ga = u.gradAvg?.data ?? null, buf = u.momentumBuffer?.data ?? null;
  if (u.momentum > 0 && buf === null) throw new Error('optimizerStep(rmsprop): momentum needs a momentum buffer');
  const sign = u.maximize ? -1 : 1, wd = r(u.weightDecay), a = r(u.alpha), c = r(1 - u.alpha), eps = r(u.eps);
  const mom = r(u.momentum), negLr = r(-u.lr);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]! * sign;
    if (u.weightDecay !== 0) gi = r(gi + r(p[i]! * wd));
    const si = r(r(sq[i]! * a) + r(r(gi * gi) * c));
    sq[i] = si;
    let avg = si;
    if (ga !== null) {
      const gai = r(r(ga[i]! * a) + r(gi * c));
      ga[i] = gai;
      avg = r(si - r(gai * gai)); // centered: the variance estimate
    }
    avg = u.epsInside ? r(Math.sqrt(r(avg + eps))) : r(r(Math.sqrt(avg)) + eps);
    if (u.momentum > 0) {
      const b = r(r(buf![i]! * mom) + r(gi / avg));
      buf![i] = b;
      p[i] = r(p[i]! + r(b * negLr));
    } else {
      p[i] = r(p[i]! + r(r(gi / avg) * negLr));
    }
  }
}

function adagrad(u: UpdateOf<'adagrad'>): void {
  const r = rounding(u.param.dtype, 'optimizerStep(adagrad)');
  const p = u.param.data, g = u.grad.data, sum = u.sum.data;
  const sign = u.maximize ? -1 : 1, wd = r(u.weightDecay), eps = r(u.eps), negClr = r(-u.clr);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]! * sign;
    if (u.weightDecay !== 0) gi = r(gi + r(p[i]! * wd));
    const s = r(sum[i]! + r(gi * gi));
    sum[i] = s;
    const std = r(r(Math.sqrt(s)) + eps);
    p[i] = r(p[i]! + r(r(gi / std) * negClr));
  }
}

function adadelta(u: UpdateOf<'adadelta'>): void {
  const r = rounding(u.param.dtype, 'optimizerStep(adadelta)');
  const p = u.param.data, g = u.grad.data, sq = u.squareAvg.data, acc = u.accDelta.data;
  const sign = u.maximize ? -1 : 1, wd = r(u.weightDecay), rho = r(u.rho), c = r(1 - u.rho), eps = r(u.eps);
  const negLr = r(-u.lr);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]! * sign;
    if (u.weightDecay !== 0) gi = r(gi + r(p[i]! * wd));
    const si = r(r(sq[i]! * rho) + r(r(gi * gi) * c));
    sq[i] = si;
    const std = r(Math.sqrt(r(si + eps)));
    const delta = r(r(r(Math.sqrt(r(acc[i]! + eps))) / std) * gi);
    acc[i] = r(r(acc[i]! * rho) + r(r(delta * delta) * c));
    p[i] = r(p[i]! + r(delta * negLr));
  }
}

function adamax(u: UpdateOf<'adamax'>): void {
  const r = rounding(u.param.dtype, 'optimizerStep(adamax)');
  const p = u.param.data, g = u.grad.data, m = u.expAvg.data, inf = u.expInf.data;
  const sign = u.maximize ? -1 : 1, wd = r(u.weightDecay), eps = r(u.eps);
  const b1 = r(u.beta1), c1 = r(1 - u.beta1), b2 = r(u.beta2), negClr = r(-u.clr);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]! * sign;
    if (u.weightDecay !== 0) gi = r(gi + r(p[i]! * wd));
    const mi = r(r(m[i]! * b1) + r(gi * c1));
    m[i] = mi;
    const ui = maximum(r(inf[i]! * b2), r(Math.abs(gi) + eps));
    inf[i] = ui;
    p[i] = r(p[i]! + r(r(mi / ui) * negClr));
  }
}

/** Backend.optimizerStep on the reference backend. */
export function optimizerStep(u: Update): void {
  switch (u.kind) {
    case 'sgd':
      checkBuffers(u, [u.grad, u.momentumBuffer]);
      return sgd(u);
    case 'adam':
      checkBuffers(u, [u.grad, u.expAvg, u.expAvgSq, u.maxExpAvgSq]);
      return adam(u);
    case 'rmsprop':
      checkBuffers(u, [u.grad, u.squareAvg, u.gradAvg, u.momentumBuffer]);
      return rmsprop(u);
    case 'adagrad':
      checkBuffers(u, [u.grad, u.sum]);
      return adagrad(u);
    case 'adadelta':
      checkBuffers(u, [u.grad, u.squareAvg, u.accDelta]);
      return adadelta(u);
    case 'adamax':
      checkBuffers(u, [u.grad, u.expAvg, u.expInf]);
      return adamax(u);
  }
}

/**
 * The summation order of sumOfSquares, which the native kernel follows so that both give the
 * same bits for any thread count: each input is cut into blocks of SUM_SQUARES_BLOCK elements;
 * inside a block, element i goes to lane (i mod 8) and the lanes are added pairwise; the block
 * sums are added to the total in order, input after input. A float32 value squared in double is
 * exact, so only these additions round.
 */
export const SUM_SQUARES_BLOCK = 4096;

/** The sum of squares of one block [begin, end) of `x`, in the order above. */
function blockSumOfSquares(x: ArrayLike<number>, begin: number, end: number): number {
  const lane = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = begin; i < end; i++) {
    const v = x[i]!;
    lane[(i - begin) % 8] += v * v;
  }
  // ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))
  const low = lane[0]! + lane[1]! + (lane[2]! + lane[3]!);
  const high = lane[4]! + lane[5]! + (lane[6]! + lane[7]!);
  return low + high;
}

/** Backend.sumOfSquares on the reference backend. */
export function sumOfSquares(inputs: readonly RefStorage[]): RefStorage {
  let total = 0;
  for (const x of inputs) {
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`sumOfSquares: expects float tensors, got ${x.dtype}`);
    for (let b = 0; b < x.size; b += SUM_SQUARES_BLOCK) total += blockSumOfSquares(x.data, b, Math.min(b + SUM_SQUARES_BLOCK, x.size));
  }
  return wrap(Float64Array.of(total), 'float64');
}

/** Backend.scaleInPlace on the reference backend. */
export function scaleInPlace(x: RefStorage, factor: RefStorage): void {
  const r = rounding(x.dtype, 'scaleInPlace');
  if (factor.dtype !== x.dtype || factor.size !== 1) {
    throw new Error(`scaleInPlace: the factor must be one ${x.dtype} value, got ${factor.size} of ${factor.dtype}`);
  }
  const d = x.data, f = factor.data[0]!;
  for (let i = 0; i < d.length; i++) d[i] = r(d[i]! * f);
}
