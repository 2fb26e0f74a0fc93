/**
 * The reference backend: every primitive as plain TypeScript loops over typed arrays, in float32
 * and float64. It is the definition every other backend is tested against.
 */
import type { DType } from '../../dtype.js';
import type { PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import { fillNormal, fillUniform } from '../philox.js';
import type { Backend, HostArray } from '../types.js';
import { elementwiseKernels } from './elementwise.js';
import { movementKernels } from './movement.js';
import { nnKernels } from './nn.js';
import { normKernels } from './norm.js';
import { reduceKernels } from './reduce.js';
import { rnnKernels } from './rnn.js';
import { optimizerStep, scaleInPlace, sumOfSquares } from './optim.js';
import { type RefInput, type RefStorage, alloc, allocArray, castValue, setCastsExactly, wrap } from './storage.js';

export type { RefStorage } from './storage.js';

export const referenceBackend: Backend<RefStorage> = {
  name: 'reference',
  describe: () => 'plain TypeScript loops (the reference implementation), one thread',
  fromValues(values: ArrayLike<number>, dtype: DType): RefStorage {
    const data = allocArray(dtype, values.length);
    if (setCastsExactly(values, dtype)) {
      // The engine's copy, without a call per element (a DQN replay batch, 25,600 values a step,
      // spent 13% of training in the loop below).
      data.set(values);
      return wrap(data, dtype);
    }
    for (let i = 0; i < values.length; i++) data[i] = castValue(Number(values[i]), dtype);
    return wrap(data, dtype);
  },
  read(storage: RefStorage): HostArray {
    return storage.data.slice();
  },
  copyInto(dst: RefStorage, src: RefStorage): void {
    dst.data.set(src.data);
  },
  optimizerStep,
  sumOfSquares,
  scaleInPlace,
  kernels: {
    ...elementwiseKernels,
    ...reduceKernels,
    ...movementKernels,
    ...nnKernels,
    ...normKernels,
    ...rnnKernels,
    full(_inputs: readonly RefInput[], a: PrimitiveAttrs['full'], outs: readonly Spec[]): RefStorage[] {
      const out = alloc(a.dtype, outs[0]!.shape.reduce((p, d) => p * d, 1));
      out.data.fill(castValue(a.value, a.dtype));
      return [out];
    },
    randomUniform(_inputs: readonly RefInput[], a: PrimitiveAttrs['randomUniform'], outs: readonly Spec[]) {
      const out = alloc(a.dtype, outs[0]!.shape.reduce((p, d) => p * d, 1));
      fillUniform(out.data, a.dtype, a.key, a.counter);
      return [out];
    },
    dropout(inputs: readonly RefInput[], a: PrimitiveAttrs['dropout'], outs: readonly Spec[]) {
      const x = inputs[0]!.storage.data;
      const dtype = outs[0]!.dtype;
      const u = alloc(dtype, x.length);
      fillUniform(u.data, dtype, a.key, a.counter);
      const y = alloc(dtype, x.length);
      const keep = alloc('bool', x.length);
      // p and 1 - p as the dtype holds them (a scalar operand of ge and div is).
      const round = dtype === 'float32' ? Math.fround : (v: number) => v;
      const p = round(a.p);
      const scale = round(1 - a.p);
      for (let i = 0; i < x.length; i++) {
        const k = u.data[i]! >= p;
        keep.data[i] = k ? 1 : 0;
        y.data[i] = k ? x[i]! / scale : 0;
      }
      return [y, keep];
    },
    dropoutBackward(inputs: readonly RefInput[], a: PrimitiveAttrs['dropoutBackward'], outs: readonly Spec[]) {
      const g = inputs[0]!.storage.data;
      const keep = inputs[1]!.storage.data;
      const out = alloc(outs[0]!.dtype, g.length);
      const scale = outs[0]!.dtype === 'float32' ? Math.fround(1 - a.p) : 1 - a.p;
      for (let i = 0; i < g.length; i++) out.data[i] = keep[i] ? g[i]! / scale : 0;
      return [out];
    },
    randomNormal(_inputs: readonly RefInput[], a: PrimitiveAttrs['randomNormal'], outs: readonly Spec[]) {
      const out = alloc(a.dtype, outs[0]!.shape.reduce((p, d) => p * d, 1));
      fillNormal(out.data, a.dtype, a.key, a.counter);
      return [out];
    },
  },
};
