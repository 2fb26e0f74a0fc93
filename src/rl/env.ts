/**
 * The environment interface, after Gymnasium's `Env` (reset / step / spaces), with one addition for
 * speed: `act()` advances the environment without building an observation tensor, and
 * `writeObservation()` copies the current observation into any array-like (a replay buffer's
 * compact storage, a batch being assembled). A DQN loop calls those two; `step()` is `act()` plus a
 * fresh Tensor, for code that wants Gymnasium's shape of API.
 */
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** A finite set of actions 0 .. n-1 (Gymnasium's `Discrete(n)`). */
export interface DiscreteSpace {
  kind: 'discrete';
  n: number;
}

/** A box of real (or 0/1) values of a fixed shape (Gymnasium's `Box`). */
export interface BoxSpace {
  kind: 'box';
  shape: number[];
  /** Lower and upper bound per element, flattened in row-major order (length = numel(shape)). */
  low: number[];
  high: number[];
  dtype: 'float32';
}

/** What one `act()` returns: the reward and the two ways an episode can end. */
export interface ActResult {
  reward: number;
  /** The environment reached a terminal state (the MDP says so: pole fell, enemy hit, timer ran out in Freeway). */
  terminated: boolean;
  /** The episode was cut by a time limit outside the MDP (CartPole's 500 steps); bootstrap from the next state. */
  truncated: boolean;
}

/** What `step()` returns (Gymnasium's five-tuple, as an object). */
export interface StepResult extends ActResult {
  observation: Tensor;
  info: EnvInfo;
}

/** What `reset()` returns. */
export interface ResetResult {
  observation: Tensor;
  info: EnvInfo;
}

/** Extra facts about the current state; which keys are present depends on the environment. */
export interface EnvInfo {
  /** MinAtar: the difficulty ramp index (Asterix, Seaquest, Space Invaders), else absent. */
  rampIndex?: number;
  /** MinAtar: the full-set action actually executed after sticky actions. */
  executedAction?: number;
}

/** An array-like that can be written element by element (number[], or a typed array from src/io). */
export interface WritableArrayLike {
  length: number;
  [index: number]: number;
}

/** A reinforcement-learning environment with discrete actions and a fixed-shape observation. */
export interface Env {
  /** The environment's id, e.g. 'CartPole-v1' or 'MinAtar/Breakout-v0'. */
  readonly id: string;
  readonly actionSpace: DiscreteSpace;
  readonly observationSpace: BoxSpace;
  /** Starts a new episode. A seed reseeds the environment's generator first (Gymnasium's reset(seed=...)). */
  reset(seed?: number): ResetResult;
  /** Takes one action and returns the observation after it. */
  step(action: number): StepResult;
  /** `step` without building the observation tensor: the fast path for training loops. */
  act(action: number): ActResult;
  /** Starts a new episode without building the observation tensor. */
  resetState(seed?: number): void;
  /** Copies the current observation (flattened, row-major in `observationSpace.shape`) into `out` at `offset`. */
  writeObservation(out: WritableArrayLike, offset?: number): void;
  /** The current observation as a fresh flat array of numbers. */
  observationArray(): number[];
  /** The current observation as a float32 Tensor of `observationSpace.shape`. */
  observation(): Tensor;
  /** Facts about the current state (see EnvInfo). */
  info(): EnvInfo;
}

/** Number of elements in a shape. */
export function spaceSize(space: BoxSpace): number {
  return space.shape.reduce((p, d) => p * d, 1);
}

/** Checks an action against a discrete space, naming the environment in the error. */
export function checkAction(id: string, space: DiscreteSpace, action: number): void {
  if (!Number.isInteger(action) || action < 0 || action >= space.n) {
    throw new RangeError(`${id}: action must be an integer in [0, ${space.n}), got ${action}`);
  }
}

/**
 * The shared plumbing of every environment: `step` and `reset` in terms of `act`, `resetState` and
 * `writeObservation`, so each environment only writes its dynamics and its observation.
 */
export abstract class BaseEnv implements Env {
  abstract readonly id: string;
  abstract readonly actionSpace: DiscreteSpace;
  abstract readonly observationSpace: BoxSpace;
  abstract act(action: number): ActResult;
  abstract resetState(seed?: number): void;
  abstract writeObservation(out: WritableArrayLike, offset?: number): void;

  info(): EnvInfo {
    return {};
  }

  reset(seed?: number): ResetResult {
    this.resetState(seed);
    return { observation: this.observation(), info: this.info() };
  }

  step(action: number): StepResult {
    const result = this.act(action);
    return { observation: this.observation(), reward: result.reward, terminated: result.terminated, truncated: result.truncated, info: this.info() };
  }

  observationArray(): number[] {
    const out = new Array<number>(spaceSize(this.observationSpace)).fill(0);
    this.writeObservation(out, 0);
    return out;
  }

  observation(): Tensor {
    return tensor(this.observationArray(), { shape: [...this.observationSpace.shape], dtype: 'float32' });
  }
}
