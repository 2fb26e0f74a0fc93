/**
 * The cpu backend's storage handle, and the one place that makes it: kernels' outputs come from
 * `alloc` and `allocZeroed`, arrays from elsewhere (the reference kernels', a copy of host values)
 * from `wrap`.
 *
 * Outputs allocated while the autograd engine runs carry its recycling token
 * (Backend.openRecycling), so the engine can hand back the memory of the gradients it has consumed;
 * wrapped arrays never carry one, since something else may hold them.
 */
import type { DType } from '../../dtype.js';
import type { Spec } from '../../ops/primitives.js';
import { numel } from '../../shape.js';
import type { HostArray, Storage } from '../types.js';
import { allocUninitialised, allocZeroed as allocZeroedArray, recycle as recycleArray } from './memory.js';

/** A cpu tensor's storage: a typed array on the host. */
export interface CpuStorage extends Storage {
  readonly backend: 'cpu';
  readonly data: HostArray;
  /** The recycling token current when the kernel allocated it, else 0. */
  recycling: number;
}

/** The token new outputs carry; 0 while the autograd engine is not running. */
let current = 0;
let last = 0;

/** A storage around an array this backend did not just allocate for the output. */
export function wrap(data: HostArray, dtype: DType): CpuStorage {
  return { backend: 'cpu', dtype, size: data.length, data, recycling: 0 };
}

/** The storage the next output is to be (Backend.outputInto), or null. */
let into: CpuStorage | null = null;

export function outputInto(storage: CpuStorage | null): void {
  into = storage;
}

/** Output storage for a kernel that writes every element (uninitialised: memory.ts says why). */
export function alloc(spec: Spec): CpuStorage {
  if (into !== null) {
    const target = into;
    into = null;
    if (target.dtype === spec.dtype && target.size === numel(spec.shape)) return target;
  }
  const data = allocUninitialised(spec.dtype, numel(spec.shape));
  return { backend: 'cpu', dtype: spec.dtype, size: data.length, data, recycling: current };
}

/** Output storage for a kernel that accumulates into it or leaves elements untouched. */
export function allocZeroed(spec: Spec): CpuStorage {
  into = null; // kernels that accumulate are not run in place
  const data = allocZeroedArray(spec.dtype, numel(spec.shape));
  return { backend: 'cpu', dtype: spec.dtype, size: data.length, data, recycling: current };
}

/** `MILESTONES_RECYCLE=off` turns recycling off (token 0: nothing carries it), to rule it out when debugging. */
const enabled = process.env['MILESTONES_RECYCLE'] !== 'off';

export function openRecycling(): number {
  current = enabled ? ++last : 0;
  return current;
}

export function closeRecycling(): void {
  current = 0;
}

export function recycle(storage: CpuStorage, token: number): void {
  if (token === 0 || storage.recycling !== token) return;
  storage.recycling = 0; // a second recycle of the same storage must not hand its memory out twice
  recycleArray(storage.data);
}
