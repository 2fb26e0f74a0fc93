/**
 * DataLoader: batches of a dataset, shuffled by a seeded generator, optionally loaded and
 * augmented in worker threads so that a training step does not wait for data.
 *
 * Every example is loaded with its own generator, seeded from (epoch seed, index): augmentation
 * is the same whatever the number of workers, and a resumed run sees the same batches.
 */
import { Worker } from 'node:worker_threads';
import { Generator, randint } from '../tensor/index.js';
import { unpack, type Packed } from '../io/transfer.js';
import { type Batch, defaultCollate } from './collate.js';
import type { Dataset, IterableDataset } from './dataset.js';
import { RandomSampler, SequentialSampler, type Sampler, batchIndices } from './sampler.js';

/** How a worker thread rebuilds a dataset: an exported factory function and JSON-able arguments. */
export interface DatasetRecipe {
  /** URL of the module (its `import.meta.url`). */
  module: string;
  /** Name of an exported function returning the dataset (or a promise of it). */
  factory: string;
  args?: unknown[];
}

/** A dataset that can be rebuilt in a worker thread. */
export interface RecipeDataset<T> extends Dataset<T> {
  recipe(): DatasetRecipe;
}

export interface DataLoaderOptions<T> {
  batchSize?: number;
  /** A fresh random order every epoch. */
  shuffle?: boolean;
  /** Overrides `shuffle`. */
  sampler?: Sampler;
  dropLast?: boolean;
  /** Turns a list of examples into a batch (runs on the main thread when workers are used). */
  collate?: (items: T[]) => unknown;
  /** Worker threads that load batches ahead of the training loop; 0 loads on the calling thread. */
  numWorkers?: number;
  /** Batches each worker keeps in flight. */
  prefetchFactor?: number;
  /** Seeds the shuffle and the per-example generators. */
  generator?: Generator;
}

/** Seed for example `index` in the epoch seeded `epochSeed` (< 2^20), a safe integer. */
export function exampleSeed(epochSeed: number, index: number): number {
  return epochSeed * 4294967296 + index;
}

interface Pending {
  resolve: (b: Packed) => void;
  reject: (e: Error) => void;
}

class LoaderWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  constructor(recipe: DatasetRecipe, collateInWorker: boolean) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { recipe, collateInWorker } });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; packed?: Packed; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`DataLoader worker: ${m.error}`));
      else p.resolve(m.packed!);
    });
    this.worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }
  request(indices: number[], epochSeed: number): Promise<Packed> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, indices, epochSeed });
    });
  }
  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

function isMapStyle<T>(d: Dataset<T> | IterableDataset<T>): d is Dataset<T> {
  return typeof (d as Partial<Dataset<T>>).get === 'function';
}

export class DataLoader<T> implements AsyncIterable<unknown>, Iterable<unknown> {
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly numWorkers: number;
  readonly prefetchFactor: number;
  private readonly sampler: Sampler | null;
  private readonly collate: (items: T[]) => unknown;
  private readonly customCollate: boolean;
  private readonly generator: Generator;
  private workers: LoaderWorker[] | null = null;

  /**
   * `dataset` is map-style (indexed, shuffled through a sampler) or iterable-style (a stream, batched
   * in the order it yields; no shuffle, no sampler, no workers, and no length).
   */
  constructor(
    readonly dataset: Dataset<T> | IterableDataset<T>,
    options: DataLoaderOptions<T> = {},
  ) {
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.dropLast = options.dropLast ?? false;
    this.numWorkers = options.numWorkers ?? 0;
    this.prefetchFactor = options.prefetchFactor ?? 2;
    this.generator = options.generator ?? new Generator(randint(0, 2 ** 31, [1]).item());
    if (!isMapStyle(dataset)) {
      if (options.shuffle || options.sampler || this.numWorkers > 0) {
        throw new Error('DataLoader: an iterable dataset is batched in the order it yields: shuffle, sampler and numWorkers do not apply');
      }
      this.sampler = null;
    } else {
      this.sampler =
        options.sampler ??
        (options.shuffle ? new RandomSampler(dataset.length, { generator: this.generator }) : new SequentialSampler(dataset.length));
    }
    this.customCollate = options.collate !== undefined;
    this.collate = options.collate ?? ((items: T[]) => defaultCollate(items));
    if (this.numWorkers > 0 && typeof (dataset as Partial<RecipeDataset<T>>).recipe !== 'function') {
      throw new Error(
        'DataLoader: numWorkers > 0 needs a dataset with a recipe() saying how a worker thread rebuilds it ' +
          '(the built-in datasets have one); use numWorkers: 0 otherwise',
      );
    }
  }

  /** Batches per epoch (map-style datasets only: a stream has no length). */
  get length(): number {
    if (!this.sampler) throw new Error('DataLoader: an iterable dataset has no length');
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  private epoch(): { batches: number[][]; epochSeed: number } {
    const batches = batchIndices(this.sampler!.indices(), this.batchSize, this.dropLast);
    const epochSeed = randint(0, 2 ** 20, [1], { generator: this.generator }).item();
    return { batches, epochSeed };
  }

  /** Loads on the calling thread (numWorkers = 0). */
  *[Symbol.iterator](): Iterator<unknown> {
    if (this.numWorkers > 0) throw new Error('DataLoader: with numWorkers > 0, iterate with `for await`');
    const dataset = this.dataset;
    if (!isMapStyle(dataset)) {
      let items: T[] = [];
      for (const item of dataset) {
        items.push(item);
        if (items.length === this.batchSize) {
          yield this.collate(items);
          items = [];
        }
      }
      if (items.length > 0 && !this.dropLast) yield this.collate(items);
      return;
    }
    const { batches, epochSeed } = this.epoch();
    for (const indices of batches) {
      yield this.collate(indices.map((i) => dataset.get(i, new Generator(exampleSeed(epochSeed, i)))));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    if (this.numWorkers === 0) {
      for (const batch of this as Iterable<unknown>) yield batch;
      return;
    }
    if (!this.workers) {
      const recipe = (this.dataset as unknown as RecipeDataset<T>).recipe();
      this.workers = Array.from({ length: this.numWorkers }, () => new LoaderWorker(recipe, !this.customCollate));
    }
    const workers = this.workers;
    const { batches, epochSeed } = this.epoch();
    const inFlight = new Map<number, Promise<Packed>>();
    let submitted = 0;
    const submit = () => {
      inFlight.set(submitted, workers[submitted % workers.length]!.request(batches[submitted]!, epochSeed));
      submitted++;
    };
    while (submitted < Math.min(batches.length, workers.length * this.prefetchFactor)) submit();
    for (let i = 0; i < batches.length; i++) {
      const packed = await inFlight.get(i)!;
      inFlight.delete(i);
      if (submitted < batches.length) submit();
      const value = unpack(packed);
      yield this.customCollate ? this.collate(value as T[]) : value;
    }
  }

  /** Stops the worker threads (they are also stopped when the process exits). */
  async close(): Promise<void> {
    if (this.workers) await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = null;
  }
}

export type { Batch };
