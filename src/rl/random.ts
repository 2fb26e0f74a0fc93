/**
 * Scalar randomness for environments. An environment draws a handful of numbers per step (a sticky
 * action coin, a spawn direction), so it reads the library's Philox4x32-10 stream one value at a
 * time instead of through tensor ops. The stream is counter-based like `Generator`: the n-th value
 * depends only on the seed and n, so `getState()` / `setState()` restore it exactly.
 */
import { blocksFor, fillUniform } from '../backend/philox.js';

/** Anything that yields uniform numbers in [0, 1); tests pass scripted sources to force outcomes. */
export interface RandomSource {
  /** A uniform number in [0, 1). */
  random(): number;
}

/** An integer drawn uniformly from [low, high) (NumPy's `randint(low, high)`). */
export function randint(rng: RandomSource, low: number, high: number): number {
  return low + Math.floor(rng.random() * (high - low));
}

/** How many values are refilled at once; a multiple of 2 so each refill is whole Philox blocks. */
const CHUNK = 64;

/** The position of a `PhiloxRandom` stream: its seed and how many values it has handed out. */
export interface PhiloxRandomState {
  seed: number;
  drawn: number;
}

/** Uniform float64 values from Philox4x32-10, keyed by the seed (as `Generator` keys its draws). */
export class PhiloxRandom implements RandomSource {
  private seedValue = 0;
  private drawn = 0;
  private readonly chunk: number[] = new Array<number>(CHUNK).fill(0);
  private chunkStart = -CHUNK; // index of chunk[0] in the stream; forces a refill on first use

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Reseeds and rewinds to the start of the stream. Seeds are non-negative integers below 2^53. */
  seed(seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`PhiloxRandom: seed must be a non-negative integer below 2^53, got ${seed}`);
    }
    this.seedValue = seed;
    this.drawn = 0;
    this.chunkStart = -CHUNK;
  }

  random(): number {
    const i = this.drawn - this.chunkStart;
    if (i < 0 || i >= CHUNK) {
      this.refill(this.drawn - (this.drawn % CHUNK));
      return this.random();
    }
    this.drawn++;
    return this.chunk[i]!;
  }

  getState(): PhiloxRandomState {
    return { seed: this.seedValue, drawn: this.drawn };
  }

  setState(state: PhiloxRandomState): void {
    this.seed(state.seed);
    this.drawn = state.drawn;
  }

  /** Fills the chunk with stream values start .. start + CHUNK - 1 (each float64 takes two words). */
  private refill(start: number): void {
    const key: [number, number] = [this.seedValue % 4294967296, Math.floor(this.seedValue / 4294967296)];
    const counter = blocksFor('uniform', 'float64', start);
    fillUniform(this.chunk, 'float64', key, counter);
    this.chunkStart = start;
  }
}
