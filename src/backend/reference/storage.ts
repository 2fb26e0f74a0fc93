/**
 * The reference backend's storage: a plain typed array on the JavaScript heap.
 */
import type { DType } from '../../dtype.js';
import type { HostArray, KernelInput, Storage } from '../types.js';

export interface RefStorage extends Storage {
  readonly backend: 'reference';
  readonly data: HostArray;
}

export type RefInput = KernelInput<RefStorage>;

export function allocArray(dtype: DType, size: number): HostArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'bool':
      return new Uint8Array(size);
  }
}

export function wrap(data: HostArray, dtype: DType): RefStorage {
  return { backend: 'reference', dtype, size: data.length, data };
}

export function alloc(dtype: DType, size: number): RefStorage {
  return wrap(allocArray(dtype, size), dtype);
}

/** Converts a number the way a cast to `dtype` does: truncation toward zero for int32, != 0 for bool. */
export function castValue(v: number, dtype: DType): number {
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  if (dtype === 'int32') return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
  return v;
}
