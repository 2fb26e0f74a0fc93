/**
 * Experience replay (Lin 1992; Mnih et al. 2013, Sec. 4 and Algorithm 1): a circular memory of the
 * last `capacity` transitions (s, a, r, s', terminated), from which a learner samples minibatches
 * uniformly at random, breaking the correlation between consecutive updates.
 *
 * Observations are kept compactly (src/io/byte-store.ts): as bytes for binary or 8-bit frames
 * (MinAtar), as float32 otherwise (CartPole). s and s' are stored separately, as MinAtar's and
 * CleanRL's buffers do; that costs twice the memory of a frame-index scheme but keeps every
 * transition self-contained, including the last one of an episode (whose s' is the final frame,
 * never the next episode's first).
 *
 * Sampling draws indices from a caller-owned `RandomSource` (e.g. rl.PhiloxRandom), so a seeded run
 * samples the same batches every time, and the generator's state can be checkpointed.
 */
import { RowStore, type RowStoreKind } from '../io/byte-store.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { RandomSource } from './random.js';

export interface ReplayBufferOptions {
  /** Maximum number of transitions kept; the oldest is overwritten first. */
  capacity: number;
  /** Shape of one observation, e.g. [4] for CartPole, [C, 10, 10] for MinAtar. */
  observationShape: number[];
  /** 'uint8' for binary / 8-bit frames (MinAtar), 'float32' for real-valued states (CartPole). */
  storage: RowStoreKind;
}

/** A minibatch, as tensors: observations float32 [B, ...shape], actions int32 [B], the rest float32 [B]. */
export interface ReplayBatch {
  observations: Tensor;
  actions: Tensor;
  rewards: Tensor;
  nextObservations: Tensor;
  /** 1 where s' is terminal (no bootstrap), else 0. A time-limit truncation is stored as 0. */
  terminated: Tensor;
  /** The buffer slots the batch was read from. */
  indices: number[];
}

/** What `stateDict()` returns and `loadStateDict()` takes (tensors go into a checkpoint as tensors). */
export interface ReplayBufferState {
  position: number;
  size: number;
  observations: Tensor;
  nextObservations: Tensor;
  actions: Tensor;
  rewards: Tensor;
  terminated: Tensor;
}

/** A circular replay memory with uniform sampling. */
export class ReplayBuffer {
  readonly capacity: number;
  readonly observationShape: number[];
  /** Number of values in one observation. */
  readonly observationSize: number;
  private readonly observations: RowStore;
  private readonly nextObservations: RowStore;
  private readonly actions: number[];
  private readonly rewards: number[];
  private readonly terminated: number[];
  /** The slot the next transition goes into. */
  private position = 0;
  private filled = 0;

  constructor(options: ReplayBufferOptions) {
    const { capacity, observationShape, storage } = options;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`ReplayBuffer: capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.observationShape = [...observationShape];
    this.observationSize = observationShape.reduce((p, d) => p * d, 1);
    this.observations = new RowStore(storage, capacity, this.observationSize);
    this.nextObservations = new RowStore(storage, capacity, this.observationSize);
    this.actions = new Array<number>(capacity).fill(0);
    this.rewards = new Array<number>(capacity).fill(0);
    this.terminated = new Array<number>(capacity).fill(0);
  }

  /** How many transitions the buffer holds (at most `capacity`). */
  get size(): number {
    return this.filled;
  }

  /** Stores one transition, overwriting the oldest when full; returns the slot it went into. */
  add(observation: ArrayLike<number>, action: number, reward: number, nextObservation: ArrayLike<number>, terminated: boolean): number {
    const slot = this.position;
    this.observations.writeRow(slot, observation);
    this.nextObservations.writeRow(slot, nextObservation);
    this.actions[slot] = action;
    this.rewards[slot] = reward;
    this.terminated[slot] = terminated ? 1 : 0;
    this.position = (this.position + 1) % this.capacity;
    this.filled = Math.min(this.filled + 1, this.capacity);
    return slot;
  }

  /**
   * Draws `batchSize` slots uniformly from the filled part. Without replacement (the default, as
   * MinAtar's `random.sample`), the slots of one batch are distinct and the buffer must hold at
   * least `batchSize` transitions; with replacement, as Stable-Baselines3's buffer (CleanRL) draws.
   */
  sampleIndices(batchSize: number, rng: RandomSource, options: { replacement?: boolean } = {}): number[] {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`ReplayBuffer.sample: batchSize must be a positive integer, got ${batchSize}`);
    if (this.filled === 0) throw new Error('ReplayBuffer.sample: the buffer is empty');
    const replacement = options.replacement ?? false;
    if (!replacement && batchSize > this.filled) {
      throw new Error(`ReplayBuffer.sample: cannot draw ${batchSize} distinct transitions from ${this.filled}`);
    }
    const out: number[] = [];
    const seen = new Set<number>();
    while (out.length < batchSize) {
      const i = Math.floor(rng.random() * this.filled);
      if (!replacement) {
        if (seen.has(i)) continue; // rejection: cheap while batchSize is small beside the buffer
        seen.add(i);
      }
      out.push(i);
    }
    return out;
  }

  /** A uniformly sampled minibatch (see sampleIndices). */
  sample(batchSize: number, rng: RandomSource, options: { replacement?: boolean } = {}): ReplayBatch {
    return this.gather(this.sampleIndices(batchSize, rng, options));
  }

  /** The `count` most recent transitions, newest last (the "no replay" ablation trains on these). */
  latest(count: number): ReplayBatch {
    if (count < 1 || count > this.filled) throw new Error(`ReplayBuffer.latest: asked for ${count} of ${this.filled} transitions`);
    const indices: number[] = [];
    for (let k = count; k >= 1; k--) indices.push((this.position - k + this.capacity) % this.capacity);
    return this.gather(indices);
  }

  /** The transitions in the given slots, as a batch of tensors. */
  gather(indices: number[]): ReplayBatch {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.filled) throw new RangeError(`ReplayBuffer.gather: slot ${i} is not filled (size ${this.filled})`);
    }
    const shape = [indices.length, ...this.observationShape];
    return {
      observations: this.observations.gather(indices, shape),
      actions: tensor(indices.map((i) => this.actions[i]!), { dtype: 'int32' }),
      rewards: tensor(indices.map((i) => this.rewards[i]!), { dtype: 'float32' }),
      nextObservations: this.nextObservations.gather(indices, shape),
      terminated: tensor(indices.map((i) => this.terminated[i]!), { dtype: 'float32' }),
      indices: [...indices],
    };
  }

  /** One stored transition as plain values (for tests and inspection). */
  get(slot: number): { observation: number[]; action: number; reward: number; nextObservation: number[]; terminated: boolean } {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.filled) throw new RangeError(`ReplayBuffer.get: slot ${slot} is not filled (size ${this.filled})`);
    return {
      observation: this.observations.readRow(slot),
      action: this.actions[slot]!,
      reward: this.rewards[slot]!,
      nextObservation: this.nextObservations.readRow(slot),
      terminated: this.terminated[slot] === 1,
    };
  }

  /** Everything needed to restore the buffer exactly (contents, position and fill). */
  stateDict(): ReplayBufferState {
    return {
      position: this.position,
      size: this.filled,
      observations: this.observations.toTensor(),
      nextObservations: this.nextObservations.toTensor(),
      actions: tensor(this.actions, { dtype: 'int32' }),
      rewards: tensor(this.rewards, { dtype: 'float32' }),
      terminated: tensor(this.terminated, { dtype: 'float32' }),
    };
  }

  /** Restores a state saved by `stateDict()` from a buffer of the same capacity, shape and storage. */
  loadStateDict(state: ReplayBufferState): void {
    if (state.actions.numel() !== this.capacity) {
      throw new Error(`ReplayBuffer.loadStateDict: saved capacity ${state.actions.numel()}, this buffer's ${this.capacity}`);
    }
    if (!(state.size >= 0 && state.size <= this.capacity && state.position >= 0 && state.position < this.capacity)) {
      throw new Error(`ReplayBuffer.loadStateDict: bad position ${state.position} / size ${state.size} for capacity ${this.capacity}`);
    }
    this.observations.loadTensor(state.observations);
    this.nextObservations.loadTensor(state.nextObservations);
    const a = state.actions.toArray() as number[];
    const r = state.rewards.toArray() as number[];
    const d = state.terminated.toArray() as number[];
    for (let i = 0; i < this.capacity; i++) {
      this.actions[i] = a[i]!;
      this.rewards[i] = r[i]!;
      this.terminated[i] = d[i]!;
    }
    this.position = state.position;
    this.filled = state.size;
  }
}
