/**
 * Moving batches between threads: a tree of tensors, numbers and strings is packed into plain
 * values plus the ArrayBuffers that hold the tensor data, which postMessage can transfer without
 * copying, and unpacked on the other side.
 */
import type { DType } from '../dtype.js';
import { Tensor, tensor } from '../tensor/index.js';

export type Packed =
  | { kind: 'tensor'; dtype: DType; shape: number[]; data: ArrayBufferView }
  | { kind: 'array'; items: Packed[] }
  | { kind: 'object'; entries: [string, Packed][] }
  | { kind: 'value'; value: number | string | boolean | null };

export function pack(value: unknown, transfer: ArrayBuffer[] = []): { packed: Packed; transfer: ArrayBuffer[] } {
  const go = (v: unknown): Packed => {
    if (v instanceof Tensor) {
      const data = v.dataSync(); // a copy with an ArrayBuffer of its own, so transferring it detaches nothing else
      transfer.push(data.buffer as ArrayBuffer);
      return { kind: 'tensor', dtype: v.dtype, shape: [...v.shape], data };
    }
    if (Array.isArray(v)) return { kind: 'array', items: v.map(go) };
    if (v && typeof v === 'object') return { kind: 'object', entries: Object.entries(v).map(([k, x]) => [k, go(x)]) };
    if (v === null || v === undefined || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
      return { kind: 'value', value: v ?? null };
    }
    throw new TypeError(`pack: cannot send a ${typeof v} between threads`);
  };
  return { packed: go(value), transfer };
}

export function unpack(p: Packed): unknown {
  switch (p.kind) {
    case 'tensor':
      return tensor(p.data as unknown as ArrayLike<number>, { dtype: p.dtype, shape: p.shape });
    case 'array':
      return p.items.map(unpack);
    case 'object':
      return Object.fromEntries(p.entries.map(([k, v]) => [k, unpack(v)]));
    case 'value':
      return p.value;
  }
}
