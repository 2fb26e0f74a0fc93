/**
 * Datasets: anything with a length and an item at each index (map-style), or anything that can be
 * iterated (iterable-style), as in torch.utils.data.
 */
import { Generator, Tensor, randperm } from '../tensor/index.js';

/**
 * A map-style dataset. `get` receives a generator seeded for this (epoch, index), so random
 * augmentation is reproducible whatever the number of workers.
 */
export interface Dataset<T> {
  readonly length: number;
  get(index: number, rng?: Generator): T;
}

/** An iterable-style dataset: a stream of examples (text lines, environment transitions, ...). */
export interface IterableDataset<T> {
  [Symbol.iterator](): Iterator<T>;
}

function checkIndex(index: number, length: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${what}: index ${index} is out of range for a dataset of length ${length}`);
  }
}

/** Rows of equally long tensors: item i is [t0[i], t1[i], ...] (torch.utils.data.TensorDataset). */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly tensors: Tensor[];
  readonly length: number;
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error('TensorDataset: expected at least one tensor');
    const n = tensors[0]!.shape[0];
    if (n === undefined || tensors.some((t) => t.shape[0] !== n)) {
      throw new Error(`TensorDataset: tensors must share their first dimension, got ${tensors.map((t) => `[${t.shape}]`).join(', ')}`);
    }
    this.tensors = tensors;
    this.length = n;
  }
  get(index: number): Tensor[] {
    checkIndex(index, this.length, 'TensorDataset');
    return this.tensors.map((t) => t.select(0, index));
  }
}

/** A view of a dataset at the given indices. */
export class Subset<T> implements Dataset<T> {
  readonly length: number;
  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: readonly number[],
  ) {
    for (const i of indices) checkIndex(i, dataset.length, 'Subset');
    this.length = indices.length;
  }
  get(index: number, rng?: Generator): T {
    checkIndex(index, this.length, 'Subset');
    return this.dataset.get(this.indices[index]!, rng);
  }
}

/** Datasets one after another. */
export class ConcatDataset<T> implements Dataset<T> {
  readonly length: number;
  private readonly ends: number[];
  constructor(readonly datasets: readonly Dataset<T>[]) {
    let total = 0;
    this.ends = datasets.map((d) => (total += d.length));
    this.length = total;
  }
  get(index: number, rng?: Generator): T {
    checkIndex(index, this.length, 'ConcatDataset');
    const which = this.ends.findIndex((end) => index < end);
    const start = which === 0 ? 0 : this.ends[which - 1]!;
    return this.datasets[which]!.get(index - start, rng);
  }
}

/** Applies `fn` to each item of a dataset (e.g. a transform), passing the item's generator along. */
export class MappedDataset<T, U> implements Dataset<U> {
  readonly length: number;
  constructor(
    readonly dataset: Dataset<T>,
    readonly fn: (item: T, rng?: Generator) => U,
  ) {
    this.length = dataset.length;
  }
  get(index: number, rng?: Generator): U {
    return this.fn(this.dataset.get(index, rng), rng);
  }
}

/** Splits a dataset into non-overlapping random subsets of the given lengths (or fractions summing to 1). */
export function randomSplit<T>(dataset: Dataset<T>, lengths: number[], generator?: Generator): Subset<T>[] {
  let sizes = lengths;
  if (lengths.every((l) => l >= 0 && l <= 1) && Math.abs(lengths.reduce((a, b) => a + b, 0) - 1) < 1e-9 && lengths.some((l) => !Number.isInteger(l))) {
    sizes = lengths.map((f) => Math.floor(f * dataset.length));
    let rest = dataset.length - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % sizes.length, rest--) sizes[i]!++;
  }
  if (sizes.reduce((a, b) => a + b, 0) !== dataset.length) {
    throw new Error(`randomSplit: lengths [${lengths.join(', ')}] do not add up to the dataset length ${dataset.length}`);
  }
  const order = randperm(dataset.length, { generator }).toArray() as number[];
  let at = 0;
  return sizes.map((n) => new Subset(dataset, order.slice(at, (at += n))));
}
