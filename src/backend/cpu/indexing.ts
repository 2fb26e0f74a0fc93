/**
 * The cpu backend's indexing kernels (native/cpu/indexing.cc): gather, scatter, scatterAdd,
 * indexSelect, indexAdd (nn.Embedding's forward and backward), argsort, and adaptive average
 * pooling with its backward. They give the reference kernels' results bit for bit and raise the
 * same errors: the native side only reports where the first out-of-range index is, and the error
 * is built here. An addon built before indexing.cc lacks these functions; the reference kernels
 * then run on the same arrays.
 */
import type { PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import { IndexError, numel } from '../../shape.js';
import { referenceBackend } from '../reference/index.js';
import type { HostArray, Kernel, KernelInput } from '../types.js';
import type { Addon } from './addon.js';
import { type CpuStorage, wrap } from './storage.js';

type In = KernelInput<CpuStorage>;
type IndexingName =
  | 'gather'
  | 'scatter'
  | 'scatterAdd'
  | 'indexSelect'
  | 'indexAdd'
  | 'argsort'
  | 'adaptiveAvgPool2d'
  | 'adaptiveAvgPool2dBackward';

/** The output allocators of the cpu backend (index.ts): uninitialised, for kernels that write every element. */
export type Alloc = (spec: Spec) => CpuStorage;

/** [outer, len, inner] of `shape` around `axis` (a scalar counts as one element). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

/**
 * Whether gather/scatter's index fits `shape` (same rank, no larger outside `axis`). Otherwise the
 * reference kernel runs: it words the error, or handles the 0-d case.
 */
function fits(index: readonly number[], shape: readonly number[], axis: number): boolean {
  if (shape.length === 0) return false; // a 0-d tensor: one element, nothing to index natively
  return index.length === shape.length && index.every((n, d) => d === axis || n <= shape[d]!);
}

export function indexingKernels(native: Addon, alloc: Alloc): { [K in IndexingName]: Kernel<K, CpuStorage> } {
  const ref = referenceBackend.kernels as unknown as Record<IndexingName, Kernel<any, any>>;
  const relabel =
    (name: IndexingName) =>
    (inputs: readonly In[], a: any, outs: readonly Spec[]): CpuStorage[] =>
      ref[name](inputs, a, outs).map((s: { data: HostArray; dtype: CpuStorage['dtype'] }) => wrap(s.data, s.dtype));
  const { gather, scatter, indexSelect, indexAdd, argsort, adaptiveAvgPool } = native;
  if (!gather || !scatter || !indexSelect || !indexAdd || !argsort || !adaptiveAvgPool) {
    return {
      gather: relabel('gather'),
      scatter: relabel('scatter'),
      scatterAdd: relabel('scatterAdd'),
      indexSelect: relabel('indexSelect'),
      indexAdd: relabel('indexAdd'),
      argsort: relabel('argsort'),
      adaptiveAvgPool2d: relabel('adaptiveAvgPool2d'),
      adaptiveAvgPool2dBackward: relabel('adaptiveAvgPool2dBackward'),
    };
  }
  /** Throws the reference's IndexError when the native kernel reported a bad index at `at`. */
  const check = (op: string, at: number, index: In, size: number, axis: number): void => {
    if (at >= 0) throw new IndexError(op, index.storage.data[at]!, size, axis);
  };
  const isIndex = (t: In): boolean => t.dtype === 'int32';
  const scatterLike =
    (add: boolean) =>
    (inputs: readonly In[], a: PrimitiveAttrs['scatter'], outs: readonly Spec[]): CpuStorage[] => {
      const [x, index, src] = inputs as [In, In, In];
      const op = add ? 'scatterAdd' : 'scatter';
      if (!isIndex(index) || !fits(index.shape, x.shape, a.axis) || !fits(index.shape, src.shape, a.axis) || src.dtype !== x.dtype) {
        return relabel(op)(inputs, a, outs);
      }
      const out = alloc(outs[0]!); // every element is written: copied from x, then scattered into
      const at = scatter(add, x.storage.data, [...x.shape], index.storage.data, [...index.shape], src.storage.data, [...src.shape], a.axis, out.data);
      check(op, at, index, x.shape[a.axis]!, a.axis);
      return [out];
    };
  const pool =
    (backward: boolean) =>
    (inputs: readonly In[], a: any, outs: readonly Spec[]): CpuStorage[] => {
      const g = inputs[0]!;
      const y = outs[0]!.shape;
      // [NC, H, W] of the input side and [HO, WO] of the pooled side, in both directions.
      const [N, C, H, W] = (backward ? y : g.shape) as [number, number, number, number];
      const [, , HO, WO] = (backward ? g.shape : y) as [number, number, number, number];
      const out = alloc(outs[0]!);
      adaptiveAvgPool(backward, g.storage.data, out.data, [N * C, H, W, HO, WO]);
      return [out];
    };

  return {
    gather(inputs, a, outs) {
      const [x, index] = inputs as [In, In];
      if (!isIndex(index) || !fits(index.shape, x.shape, a.axis)) return relabel('gather')(inputs, a, outs);
      const out = alloc(outs[0]!);
      check('gather', gather(x.storage.data, [...x.shape], index.storage.data, [...index.shape], a.axis, out.data), index, x.shape[a.axis]!, a.axis);
      return [out];
    },
    scatter: scatterLike(false),
    scatterAdd: scatterLike(true),
    indexSelect(inputs, a, outs) {
      const [x, index] = inputs as [In, In];
      if (!isIndex(index)) return relabel('indexSelect')(inputs, a, outs);
      const [outer, len, inner] = around(x.shape, a.axis);
      const out = alloc(outs[0]!);
      check('indexSelect', indexSelect(x.storage.data, index.storage.data, outer, len, inner, out.data), index, len, a.axis);
      return [out];
    },
    indexAdd(inputs, a, outs) {
      const [x, index, src] = inputs as [In, In, In];
      const [outer, len, inner] = around(x.shape, a.axis);
      if (!isIndex(index) || src.dtype !== x.dtype || src.storage.size !== outer * index.storage.size * inner) {
        return relabel('indexAdd')(inputs, a, outs);
      }
      const out = alloc(outs[0]!); // every element is written: copied from x, then added into
      check('indexAdd', indexAdd(x.storage.data, index.storage.data, src.storage.data, outer, len, inner, out.data), index, len, a.axis);
      return [out];
    },
    argsort(inputs, a, outs) {
      const x = inputs[0]!;
      const [outer, len, inner] = around(x.shape, a.axis);
      const out = alloc(outs[0]!);
      argsort(x.storage.data, outer, len, inner, a.descending, out.data as Int32Array);
      return [out];
    },
    adaptiveAvgPool2d: pool(false),
    adaptiveAvgPool2dBackward: pool(true),
  };
}
