/**
 * Output storage for the cpu backend's kernels.
 *
 * `new Float32Array(n)` zero-fills its memory: for a kernel that then writes every element, that is
 * a whole extra pass over the output (an add of two 16M-element tensors would write 64 MB twice).
 * Outputs that a kernel fully overwrites are therefore allocated uninitialised, from a fresh
 * ArrayBuffer of exactly the right size (Buffer.allocUnsafeSlow: not Node's shared pool, so
 * `data.buffer` is the tensor's own, and malloc's alignment holds for every dtype). Kernels that
 * accumulate into their output, or leave parts of it untouched, use `allocZeroed`.
 *
 * Small arrays stay on the plain constructor: below about a kilobyte the zero fill costs nothing
 * and V8 allocates them faster than a call into Node.
 */
import { Buffer } from 'node:buffer';
import type { DType } from '../../dtype.js';
import { allocArray } from '../reference/storage.js';
import type { HostArray } from '../types.js';
import type { Addon } from './addon.js';

/** Outputs of at least this many bytes are allocated uninitialised. */
const UNINITIALISED_FROM_BYTES = 1024;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** Storage of `n` elements of `dtype` with unspecified contents: the caller must write every element. */
export function allocUninitialised(dtype: DType, n: number): HostArray {
  const bytes = n * BYTES[dtype];
  if (bytes < UNINITIALISED_FROM_BYTES) return allocArray(dtype, n);
  const buffer = Buffer.allocUnsafeSlow(bytes).buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, n);
    case 'float64':
      return new Float64Array(buffer, 0, n);
    case 'int32':
      return new Int32Array(buffer, 0, n);
    case 'bool':
      return new Uint8Array(buffer, 0, n);
  }
}

/** Storage of `n` zeros of `dtype`, for kernels that add into their output or skip elements. */
export function allocZeroed(dtype: DType, n: number): HostArray {
  return allocArray(dtype, n);
}

let tuned = false;

/**
 * Keeps freed tensor memory in the C library's heap for reuse instead of returning it to the
 * kernel after every garbage collection (native/cpu/memory.cc says why); once per process.
 * `MILESTONES_MALLOC=default` leaves the C library's policy alone.
 */
export function tuneAllocator(native: Addon): void {
  if (tuned || !native.tuneAllocator || process.env['MILESTONES_MALLOC'] === 'default') return;
  tuned = true;
  // Blocks up to 256 MiB come from the heap; up to 512 MiB of freed memory stays there.
  native.tuneAllocator(256 * 2 ** 20, 512 * 2 ** 20);
}
