/**
 * What a backend is: a way to hold tensor data, and one kernel for each primitive of the contract.
 * Only code under src/backend/ sees the storage behind the `Storage` handle.
 */
import type { DType } from '../dtype.js';
import type { PrimitiveAttrs, PrimitiveName, Spec } from '../ops/primitives.js';

/** Typed array that holds one dtype's values on the host. */
export type HostArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** An opaque handle to a backend's buffer; only its backend looks inside. */
export interface Storage {
  readonly backend: string;
  readonly dtype: DType;
  readonly size: number;
}

/** An input as a kernel receives it: the storage with the shape it is viewed at. */
export interface KernelInput<S extends Storage = Storage> {
  readonly storage: S;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export type Kernel<K extends PrimitiveName, S extends Storage = Storage> = (
  inputs: readonly KernelInput<S>[],
  attrs: PrimitiveAttrs[K],
  outputs: readonly Spec[],
) => S[];

export interface Backend<S extends Storage = Storage> {
  readonly name: string;
  /** One line on what runs underneath (instruction set, threads). */
  describe(): string;
  /** Copies host values into a new storage of `dtype` (values are converted as a cast would). */
  fromValues(values: ArrayLike<number>, dtype: DType): S;
  /** Reads a storage back to the host; the returned array is a copy the caller may keep. */
  read(storage: S): HostArray;
  /** Overwrites `dst` with the values of `src` (same dtype and size), for in-place ops. */
  copyInto(dst: S, src: S): void;
  readonly kernels: { readonly [K in PrimitiveName]: Kernel<K, S> };
}
