/**
 * Reinforcement-learning environments: CartPole-v1 and the five MinAtar games behind one `Env`
 * interface, a vectorised form, and rendering to PNG and GIF.
 */
export * from './env.js';
export { PhiloxRandom, type PhiloxRandomState, type RandomSource, randint } from './random.js';
export { CartPoleEnv, type CartPoleOptions, type CartPoleState, THETA_THRESHOLD_RADIANS, X_THRESHOLD } from './cartpole.js';
export { MinAtarEnv, type MinAtarOptions, MINATAR_GAMES, type MinAtarGameName } from './minatar/env.js';
export { ACTION_NAMES, type MinAtarGame, NOOP, LEFT, UP, RIGHT, DOWN, FIRE } from './minatar/game.js';
export { Asterix } from './minatar/asterix.js';
export { Breakout } from './minatar/breakout.js';
export { Freeway } from './minatar/freeway.js';
export { Seaquest } from './minatar/seaquest.js';
export { SpaceInvaders } from './minatar/space-invaders.js';
export { type AutoresetMode, VectorEnv, type VectorStepResult } from './vector.js';
export { ReplayBuffer, type ReplayBufferOptions, type ReplayBatch, type ReplayBufferState } from './replay-buffer.js';
export * from './render.js';

import type { Env } from './env.js';
import { CartPoleEnv } from './cartpole.js';
import { MINATAR_GAMES, MinAtarEnv, type MinAtarGameName, type MinAtarOptions } from './minatar/env.js';

/** Options `makeEnv` passes on (seed for every env; the MinAtar ones for MinAtar games). */
export type MakeEnvOptions = MinAtarOptions & { maxEpisodeSteps?: number };

/**
 * Builds an environment by name (Gymnasium's `make`): 'CartPole-v1', or a MinAtar game as
 * 'MinAtar/Breakout-v0' (six actions), 'MinAtar/Breakout-v1' (minimal set), or simply 'breakout'.
 */
export function makeEnv(name: string, options: MakeEnvOptions = {}): Env {
  if (name === 'CartPole-v1' || name === 'cartpole') {
    return new CartPoleEnv({ seed: options.seed, maxEpisodeSteps: options.maxEpisodeSteps, rng: options.rng });
  }
  const m = /^MinAtar\/(\w+)-v([01])$/.exec(name);
  const stem = (m ? m[1]! : name).replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if ((MINATAR_GAMES as readonly string[]).includes(stem)) {
    const minimalActionSet = m ? m[2] === '1' : options.minimalActionSet;
    return new MinAtarEnv(stem as MinAtarGameName, { ...options, minimalActionSet });
  }
  throw new Error(`makeEnv: unknown environment '${name}' (CartPole-v1, MinAtar/<Game>-v0|v1, or ${MINATAR_GAMES.join(', ')})`);
}
