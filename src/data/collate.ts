/**
 * Collation: a list of examples becomes one batch, structure preserved (torch's default_collate):
 * tensors are stacked on a new first axis, numbers become a tensor, arrays and objects are collated
 * field by field.
 */
import { Tensor, stack, tensor } from '../tensor/index.js';

export type Batch = Tensor | Batch[] | { [key: string]: Batch } | string[];

export function defaultCollate(items: readonly unknown[]): Batch {
  if (items.length === 0) throw new Error('collate: cannot collate an empty batch');
  const first = items[0];
  if (first instanceof Tensor) return stack(items as Tensor[], 0);
  if (typeof first === 'number') {
    const ints = (items as number[]).every(Number.isInteger);
    return tensor(items as number[], { dtype: ints ? 'int32' : 'float32' });
  }
  if (typeof first === 'boolean') return tensor(items as boolean[], { dtype: 'bool' });
  if (typeof first === 'string') return items as string[];
  if (Array.isArray(first)) {
    const n = first.length;
    if (items.some((it) => !Array.isArray(it) || it.length !== n)) {
      throw new Error('collate: every example must have the same number of fields');
    }
    return first.map((_, k) => defaultCollate(items.map((it) => (it as unknown[])[k])));
  }
  if (first && typeof first === 'object') {
    const keys = Object.keys(first);
    const out: { [key: string]: Batch } = {};
    for (const k of keys) out[k] = defaultCollate(items.map((it) => (it as Record<string, unknown>)[k]));
    return out;
  }
  throw new TypeError(`collate: cannot collate values of type ${typeof first}`);
}
