/**
 * Samplers: the order in which a DataLoader visits a dataset's indices.
 */
import { Generator, multinomial, randperm, randint, tensor } from '../tensor/index.js';

export interface Sampler {
  readonly length: number;
  /** The indices of one epoch. */
  indices(): number[];
}

export class SequentialSampler implements Sampler {
  constructor(readonly length: number) {}
  indices(): number[] {
    return Array.from({ length: this.length }, (_, i) => i);
  }
}

/** A fresh permutation each epoch from a seeded generator (or `numSamples` draws with replacement). */
export class RandomSampler implements Sampler {
  readonly length: number;
  constructor(
    readonly size: number,
    readonly options: { generator?: Generator; replacement?: boolean; numSamples?: number } = {},
  ) {
    this.length = options.numSamples ?? size;
    if (!options.replacement && this.length > size) {
      throw new Error(`RandomSampler: cannot draw ${this.length} samples without replacement from ${size}`);
    }
  }
  indices(): number[] {
    const generator = this.options.generator;
    if (this.options.replacement) {
      return this.size === 0 ? [] : (randint(0, this.size, [this.length], { generator }).toArray() as number[]);
    }
    return (randperm(this.size, { generator }).toArray() as number[]).slice(0, this.length);
  }
}

/** Draws indices with probability proportional to `weights` (torch's WeightedRandomSampler). */
export class WeightedRandomSampler implements Sampler {
  constructor(
    readonly weights: number[],
    readonly length: number,
    readonly options: { generator?: Generator; replacement?: boolean } = {},
  ) {}
  indices(): number[] {
    const w = tensor(this.weights, { dtype: 'float64' });
    return multinomial(w, this.length, this.options.replacement ?? true, { generator: this.options.generator }).toArray() as number[];
  }
}

/** Groups a sampler's indices into batches. */
export function batchIndices(indices: number[], batchSize: number, dropLast: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += batchSize) {
    const b = indices.slice(i, i + batchSize);
    if (b.length < batchSize && dropLast) break;
    out.push(b);
  }
  return out;
}
