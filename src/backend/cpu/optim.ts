/**
 * The cpu backend's fused optimizer updates and gradient-clipping kernels (native/cpu/optim.cc):
 * each update's buffers and settings packed in the order native/cpu/optim.h lists. An addon built
 * before optim.cc existed lacks them; the reference loops then run on the same arrays.
 */
import * as reference from '../reference/optim.js';
import type { RefStorage } from '../reference/storage.js';
import type { HostArray, OptimizerUpdate } from '../types.js';
import type { Addon } from './addon.js';
import { type CpuStorage, wrap } from './storage.js';

/** The Backend methods this file supplies. */
export interface OptimMethods {
  optimizerStep(update: OptimizerUpdate<CpuStorage>): void;
  sumOfSquares(inputs: readonly CpuStorage[]): CpuStorage;
  scaleInPlace(x: CpuStorage, factor: CpuStorage): void;
}

const KIND = { sgd: 0, adam: 1, rmsprop: 2, adagrad: 3, adadelta: 4, adamax: 5 } as const;

const flag = (b: boolean): number => (b ? 1 : 0);

/** [s0, s1, s2, settings]: the state buffers and the settings of one update, as optim.h lists them. */
function pack(u: OptimizerUpdate<CpuStorage>): [CpuStorage | null, CpuStorage | null, CpuStorage | null, readonly number[]] {
  switch (u.kind) {
    case 'sgd':
      return [u.momentumBuffer, null, null, [u.lr, u.momentum, u.dampening, u.weightDecay, flag(u.nesterov), flag(u.maximize), flag(u.firstStep)]];
    case 'adam':
      return [
        u.expAvg,
        u.expAvgSq,
        u.maxExpAvgSq,
        [u.lr, u.beta1, u.beta2, u.eps, u.weightDecay, flag(u.decoupled), flag(u.maximize), u.stepSize, u.biasCorrection2Sqrt],
      ];
    case 'rmsprop':
      return [u.squareAvg, u.gradAvg, u.momentumBuffer, [u.lr, u.alpha, u.eps, u.weightDecay, u.momentum, flag(u.epsInside), flag(u.maximize)]];
    case 'adagrad':
      return [u.sum, null, null, [u.clr, u.eps, u.weightDecay, flag(u.maximize)]];
    case 'adadelta':
      return [u.squareAvg, u.accDelta, null, [u.lr, u.rho, u.eps, u.weightDecay, flag(u.maximize)]];
    case 'adamax':
      return [u.expAvg, u.expInf, null, [u.clr, u.beta1, u.beta2, u.eps, u.weightDecay, flag(u.maximize)]];
  }
}

/** Throws unless every buffer of the update has the parameter's float dtype and size (the kernel trusts it). */
function check(u: OptimizerUpdate<CpuStorage>, buffers: (CpuStorage | null)[]): void {
  const { dtype, size } = u.param;
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`optimizerStep(${u.kind}): expects a float32 or float64 parameter, got ${dtype}`);
  for (const b of [u.grad, ...buffers]) {
    if (b !== null && (b.dtype !== dtype || b.size !== size)) {
      throw new Error(`optimizerStep(${u.kind}): every buffer must have the parameter's dtype ${dtype} and size ${size}, got ${b.dtype} of size ${b.size}`);
    }
  }
  // The kernel's pointers are restrict: no two buffers may share memory.
  const present = [u.param, u.grad, ...buffers];
  for (let i = 0; i < present.length; i++) {
    for (let j = i + 1; j < present.length; j++) {
      if (present[i] !== null && present[j] !== null && overlap(present[i]!.data, present[j]!.data)) {
        throw new Error(`optimizerStep(${u.kind}): the parameter, its gradient and its state must not share storage`);
      }
    }
  }
  if ((u.kind === 'sgd' && u.momentum !== 0 && u.momentumBuffer === null) || (u.kind === 'rmsprop' && u.momentum > 0 && u.momentumBuffer === null)) {
    throw new Error(`optimizerStep(${u.kind}): momentum needs a momentum buffer`);
  }
}

/** Whether two arrays share any byte (small tensors are views into shared slabs: memory.ts). */
function overlap(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

export function optimMethods(native: Addon): OptimMethods {
  const { optim, sumOfSquares, scale } = native;
  if (!optim || !sumOfSquares || !scale) {
    return {
      optimizerStep: (u) => reference.optimizerStep(u as unknown as OptimizerUpdate<RefStorage>),
      sumOfSquares: (inputs) => wrap(reference.sumOfSquares(inputs as unknown as RefStorage[]).data, 'float64'),
      scaleInPlace: (x, f) => reference.scaleInPlace(x as unknown as RefStorage, f as unknown as RefStorage),
    };
  }
  const data = (s: CpuStorage | null): HostArray | null => (s === null ? null : s.data);
  const settings = new Float64Array(9); // reused: the addon reads it during the call only
  return {
    optimizerStep(u) {
      const [s0, s1, s2, values] = pack(u);
      check(u, [s0, s1, s2]);
      settings.set(values);
      optim(KIND[u.kind], u.param.data, u.grad.data, data(s0), data(s1), data(s2), settings);
    },
    sumOfSquares(inputs) {
      for (const x of inputs) {
        if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`sumOfSquares: expects float tensors, got ${x.dtype}`);
      }
      const out = new Float64Array(1);
      sumOfSquares(inputs.map((x) => x.data), out);
      return wrap(out, 'float64');
    },
    scaleInPlace(x, factor) {
      if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`scaleInPlace: expects a float tensor, got ${x.dtype}`);
      if (factor.dtype !== x.dtype || factor.size !== 1) {
        throw new Error(`scaleInPlace: the factor must be one ${x.dtype} value, got ${factor.size} of ${factor.dtype}`);
      }
      scale(x.data, factor.data);
    },
  };
}
