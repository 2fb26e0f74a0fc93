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
/**
 * Whether copying `values` into an array of `dtype` with TypedArray.set converts each element
 * exactly as castValue(Number(v)) would: a plain array or a typed array (not DataView, not 64-bit
 * integers) into a float dtype (set applies ToNumber, castValue leaves floats alone, the store
 * rounds), or int32 into int32.
 */
export function setCastsExactly(values: ArrayLike<number>, dtype: DType): boolean {
  if (Array.isArray(values)) return dtype === 'float32' || dtype === 'float64';
  return (
    ArrayBuffer.isView(values) &&
    !(values instanceof DataView) &&
    !(values instanceof BigInt64Array) &&
    !(values instanceof BigUint64Array) &&
    (dtype === 'float32' || dtype === 'float64' || (dtype === 'int32' && values instanceof Int32Array))
  );
}

export function castValue(v: number, dtype: DType): number {
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  if (dtype === 'int32') return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
  return v;
}
