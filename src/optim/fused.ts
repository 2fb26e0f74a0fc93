/**
 * The fused path of the optimizers: one backend call per parameter per step
 * (Backend.optimizerStep), which overwrites the parameter and its state in place and reads the
 * gradient once, instead of the ten or so Tensor ops of each algorithm's `update`, each of which
 * allocates its output. The fused update computes the same values, rounded at the same points
 * (src/backend/reference/optim.ts defines it), so the two paths give the same bits.
 *
 * It applies to dense float parameters whose gradient and state tensors have the parameter's
 * dtype, device and size and share no storage; anything else takes the Tensor-op path. Like the
 * in-place Tensor ops, a fused update bumps the version of every tensor it writes, so autograd
 * still refuses a backward pass through a value the step changed.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/registry.js';
import type { OptimizerUpdate, Storage } from '../backend/types.js';

/** True when `t` is a float tensor that covers its whole storage (no other view of it is larger). */
function dense(t: Tensor): boolean {
  return (t.dtype === 'float32' || t.dtype === 'float64') && t._storage.size === t.numel();
}

/**
 * True when the fused update can run on `param` with gradient `grad` and the existing state
 * tensors `state` (undefined entries are buffers that do not exist yet).
 */
export function fusable(param: Tensor, grad: Tensor, state: readonly (Tensor | undefined)[]): boolean {
  if (!dense(param) || !like(grad, param)) return false;
  for (const t of state) if (t !== undefined && !like(t, param)) return false;
  // Each buffer is read and written at the same index; shared storage would need the
  // composite's order of whole-tensor writes.
  const storages: Storage[] = [param._storage, grad._storage];
  for (const t of state) {
    if (t === undefined) continue;
    if (storages.includes(t._storage)) return false;
    storages.push(t._storage);
  }
  return grad._storage !== param._storage;
}

/** True when `t` is dense and has the dtype, device and size of `param`. */
function like(t: Tensor, param: Tensor): boolean {
  return dense(t) && t.dtype === param.dtype && t.device === param.device && t._storage.size === param._storage.size;
}

/** A tensor's storage for an update, or null for a buffer the setting does not use. */
export function storageOf(t: Tensor | undefined): Storage | null {
  return t === undefined ? null : t._storage;
}

/**
 * Runs `update` on the parameter's backend and bumps the version of the parameter and of every
 * state tensor it wrote (`written`).
 */
export function runFused(param: Tensor, update: OptimizerUpdate, written: readonly (Tensor | undefined)[]): void {
  getBackend(param.device).optimizerStep(update);
  param._version.value++;
  for (const t of written) if (t !== undefined) t._version.value++;
}

/**
 * The sum of squares of every element of `tensors`, accumulated in float64 in one pass over each
 * (Backend.sumOfSquares): a 0-d float64 tensor. Null when the tensors are not all dense float
 * tensors of one dtype on one device.
 */
export function sumOfSquares(tensors: readonly Tensor[]): Tensor | null {
  const first = tensors[0];
  if (first === undefined) return null;
  if (!tensors.every((t) => dense(t) && t.dtype === first.dtype && t.device === first.device)) return null;
  const total = getBackend(first.device).sumOfSquares(tensors.map((t) => t._storage));
  return new Tensor(total, [], 'float64', first.device);
}

/** x ← x · factor in place (Backend.scaleInPlace), for a dense float `x` and a 0-d `factor` of its dtype and device. */
export function scaleInPlace(x: Tensor, factor: Tensor): void {
  getBackend(x.device).scaleInPlace(x._storage, factor._storage);
  x._version.value++;
}
