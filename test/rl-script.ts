/**
 * Test helpers for the RL environments: a scripted random source (so a test decides every coin a
 * game flips, and fails if the game draws more or fewer than the rules say), and grid readers.
 */
import type { RandomSource } from '../src/rl/random.js';

/** Hands out the given values in order; throws when asked for more. */
export class Script implements RandomSource {
  private at = 0;
  constructor(private readonly values: number[]) {}
  random(): number {
    if (this.at >= this.values.length) throw new Error(`Script: drawn more than the ${this.values.length} scripted values`);
    return this.values[this.at++]!;
  }
  /** How many values were drawn so far. */
  get drawn(): number {
    return this.at;
  }
  /** Appends more values. */
  push(...values: number[]): void {
    this.values.push(...values);
  }
}

/** Always returns the same value. */
export class Constant implements RandomSource {
  count = 0;
  constructor(private readonly value: number) {}
  random(): number {
    this.count++;
    return this.value;
  }
}

/** Cells [row, col] lit in `channel` of a [channels, 10, 10] observation, in row-major order. */
export function cells(obs: ArrayLike<number>, channel: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < 100; i++) if (obs[channel * 100 + i]) out.push([Math.floor(i / 10), i % 10]);
  return out;
}

/** Reads a game's observation as a flat array. */
export function observe(game: { channelNames: readonly string[]; writeState(out: number[], offset: number): void }): number[] {
  const out = new Array<number>(game.channelNames.length * 100).fill(0);
  game.writeState(out, 0);
  return out;
}
