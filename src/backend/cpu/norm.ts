/**
 * The cpu backend's normalisation and softmax-backward kernels (native/cpu/norm.cc). An addon
 * built before norm.cc existed lacks them; the reference kernels then run on the same arrays.
 */
import type { Spec } from '../../ops/primitives.js';
import { numel } from '../../shape.js';
import { normKernels as reference } from '../reference/norm.js';
import type { RefStorage } from '../reference/storage.js';
import type { HostArray, Kernel, KernelInput } from '../types.js';
import type { Addon } from './addon.js';
// Every output is written in full by its kernel (norm.cc: each channel's or row's statistics and
// every output element, the weight and bias gradients from their partial sums, also for an empty
// batch), so all come uninitialised from `alloc`.
import { alloc, type CpuStorage, wrap } from './storage.js';

type In = KernelInput<CpuStorage>;
type NormName = 'batchNorm' | 'batchNormBackward' | 'layerNorm' | 'layerNormBackward' | 'softmaxBackward' | 'logSoftmaxBackward';

/** [outer, len, inner] of `shape` around `axis` (a scalar counts as one element). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

/** The cpu kernels of the normalisation and softmax-backward primitives (the reference's when the addon lacks them). */
export function normKernels(native: Addon): { [K in NormName]: Kernel<K, CpuStorage> } {
  const d = (t: In): HostArray => t.storage.data;
  if (!native.batchNorm || !native.batchNormBackward || !native.layerNorm || !native.layerNormBackward || !native.softmaxBackward) {
    const relabel = (name: NormName) => (inputs: readonly In[], a: any, outs: readonly Spec[]) =>
      (reference[name] as Kernel<any, any>)(inputs, a, outs).map((s: RefStorage): CpuStorage => wrap(s.data, s.dtype));
    return {
      batchNorm: relabel('batchNorm'),
      batchNormBackward: relabel('batchNormBackward'),
      layerNorm: relabel('layerNorm'),
      layerNormBackward: relabel('layerNormBackward'),
      softmaxBackward: relabel('softmaxBackward'),
      logSoftmaxBackward: relabel('logSoftmaxBackward'),
    };
  }
  const [batchNorm, batchNormBackward, layerNorm, layerNormBackward, softmaxBackward] = [
    native.batchNorm,
    native.batchNormBackward,
    native.layerNorm,
    native.layerNormBackward,
    native.softmaxBackward,
  ];
  const softmaxLike =
    (log: boolean) =>
    (inputs: readonly In[], a: { axis: number }, outs: readonly Spec[]): CpuStorage[] => {
      const [y, gy] = inputs as [In, In];
      const out = alloc(outs[0]!);
      const [outer, len, inner] = around(y.shape, a.axis);
      softmaxBackward(d(y), d(gy), out.data, outer, len, inner, log);
      return [out];
    };
  return {
    batchNorm(inputs, a, outs) {
      const [x, w, b] = inputs as [In, In, In];
      const [y, mean, invstd] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      const [N, C] = x.shape as [number, number];
      batchNorm(d(x), d(w), d(b), y.data, mean.data, invstd.data, N, C, numel(x.shape.slice(2)), a.eps);
      return [y, mean, invstd];
    },
    batchNormBackward(inputs, _a, outs) {
      const [gy, x, mean, invstd, w] = inputs as [In, In, In, In, In];
      const [gx, gw, gb] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      const [N, C] = x.shape as [number, number];
      batchNormBackward(d(gy), d(x), d(mean), d(invstd), d(w), gx.data, gw.data, gb.data, N, C, numel(x.shape.slice(2)));
      return [gx, gw, gb];
    },
    layerNorm(inputs, a, outs) {
      const [x, w, b] = inputs as [In, In, In];
      const [y, mean, rstd] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      layerNorm(d(x), d(w), d(b), y.data, mean.data, rstd.data, numel(outs[1]!.shape), numel(a.normalizedShape), a.eps);
      return [y, mean, rstd];
    },
    layerNormBackward(inputs, a, outs) {
      const [gy, x, mean, rstd, w] = inputs as [In, In, In, In, In];
      const [gx, gw, gb] = outs.map(alloc) as [CpuStorage, CpuStorage, CpuStorage];
      layerNormBackward(d(gy), d(x), d(mean), d(rstd), d(w), gx.data, gw.data, gb.data, numel(mean.shape), numel(a.normalizedShape));
      return [gx, gw, gb];
    },
    softmaxBackward: softmaxLike(false),
    logSoftmaxBackward: softmaxLike(true),
  };
}

