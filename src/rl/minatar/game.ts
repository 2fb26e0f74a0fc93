/**
 * What the five MinAtar games (Young & Tian 2019, arXiv:1903.03176) share: a 10x10 grid, the
 * six-action set, and the contract between a game and the `MinAtarEnv` wrapper that adds sticky
 * actions. Written from the rules in shared/research/rl-environments.md, not from MinAtar's code.
 */
import type { WritableArrayLike } from '../env.js';

/** The grid is 10 x 10; row 0 is the top, column 0 the left. */
export const GRID = 10;

/** The full action set, fixed indices shared by every game. */
export const NOOP = 0;
export const LEFT = 1;
export const UP = 2;
export const RIGHT = 3;
export const DOWN = 4;
export const FIRE = 5;
/** Names of the full action set in index order (MinAtar's letters n, l, u, r, d, f). */
export const ACTION_NAMES = ['noop', 'left', 'up', 'right', 'down', 'fire'] as const;

/** A MinAtar game: its rules, with randomness and sticky actions supplied from outside. */
export interface MinAtarGame {
  /** Channel names in observation order. */
  readonly channelNames: readonly string[];
  /** The minimal action set, as indices into the full set (the Gymnasium `-v1` ids). */
  readonly minimalActions: readonly number[];
  /** True once the episode has ended; further `act` calls return 0 and change nothing. */
  readonly terminal: boolean;
  /** Starts a new episode (draws from the game's random source where the rules say so). */
  reset(): void;
  /** Advances one step with a full-set action (0..5) and returns the reward. */
  act(action: number): number;
  /** The difficulty ramp index, or null for games without a ramp (Breakout, Freeway). */
  rampIndex(): number | null;
  /** Writes the observation as 0/1 in [channel, row, column] order at `offset` (channels x 100 values). */
  writeState(out: WritableArrayLike, offset: number): void;
}

/** Zeroes the `channels x 10 x 10` block of `out` at `offset`. */
export function clearState(out: WritableArrayLike, offset: number, channels: number): void {
  const end = offset + channels * GRID * GRID;
  for (let i = offset; i < end; i++) out[i] = 0;
}

/** Lights cell (row, col) of `channel` in a [channel, row, column] block at `offset`. */
export function setCell(out: WritableArrayLike, offset: number, channel: number, row: number, col: number): void {
  out[offset + channel * GRID * GRID + row * GRID + col] = 1;
}

/** True when (row, col) lies on the grid. */
export function onGrid(row: number, col: number): boolean {
  return row >= 0 && row < GRID && col >= 0 && col < GRID;
}
