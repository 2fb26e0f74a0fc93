/**
 * CartPole-v1 exactly as Gymnasium defines it (gymnasium/envs/classic_control/cartpole.py, version
 * 1.x): the cart-pole of Barto, Sutton & Anderson (1983) with the corrected dynamics of Florian
 * (2007), explicit Euler integration at tau = 0.02 s, and the TimeLimit of 500 steps that the
 * `CartPole-v1` registration adds. The state is float64 inside and float32 in the observation.
 */
import { type ActResult, BaseEnv, type BoxSpace, checkAction, type DiscreteSpace, type WritableArrayLike } from './env.js';
import { PhiloxRandom, type RandomSource } from './random.js';

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_POLE + MASS_CART;
/** Half the pole's length. */
const LENGTH = 0.5;
const POLE_MASS_LENGTH = MASS_POLE * LENGTH;
const FORCE_MAG = 10.0;
/** Seconds between state updates. */
const TAU = 0.02;
/** The pole falls at 12 degrees. */
export const THETA_THRESHOLD_RADIANS = (12 * 2 * Math.PI) / 360;
/** The cart leaves the track at |x| > 2.4. */
export const X_THRESHOLD = 2.4;

export interface CartPoleOptions {
  /** Seed of the environment's generator (reset(seed) reseeds it). Default 0. */
  seed?: number;
  /** The TimeLimit that CartPole-v1 registers: 500 steps; CartPole-v0 used 200. */
  maxEpisodeSteps?: number;
  /** A source of uniforms to use instead of the seeded Philox stream (for tests). */
  rng?: RandomSource;
}

/** Cart position, cart velocity, pole angle (rad, 0 = upright), pole angular velocity. */
export type CartPoleState = [number, number, number, number];

/** CartPole-v1: push the cart left (0) or right (1) to keep the pole upright; +1 per step. */
export class CartPoleEnv extends BaseEnv {
  readonly id = 'CartPole-v1';
  readonly actionSpace: DiscreteSpace = { kind: 'discrete', n: 2 };
  readonly observationSpace: BoxSpace = {
    kind: 'box',
    shape: [4],
    // Gymnasium's bounds: twice the termination thresholds, so a terminal observation is still inside.
    low: [-X_THRESHOLD * 2, -Infinity, -THETA_THRESHOLD_RADIANS * 2, -Infinity],
    high: [X_THRESHOLD * 2, Infinity, THETA_THRESHOLD_RADIANS * 2, Infinity],
    dtype: 'float32',
  };
  readonly maxEpisodeSteps: number;
  /** The physical state in float64. Public so tests and renderers can read or set it. */
  state: CartPoleState = [0, 0, 0, 0];
  /** Steps taken in the current episode (the TimeLimit wrapper's counter). */
  elapsedSteps = 0;
  /** Steps taken after the terminating one (Gymnasium's steps_beyond_terminated); null until termination. */
  private stepsBeyondTerminated: number | null = null;
  private readonly rng: RandomSource;
  private readonly philox: PhiloxRandom | null;

  constructor(options: CartPoleOptions = {}) {
    super();
    this.maxEpisodeSteps = options.maxEpisodeSteps ?? 500;
    this.philox = options.rng ? null : new PhiloxRandom(options.seed ?? 0);
    this.rng = options.rng ?? this.philox!;
  }

  resetState(seed?: number): void {
    if (seed !== undefined) {
      if (!this.philox) throw new Error('CartPoleEnv: cannot reseed a scripted random source');
      this.philox.seed(seed);
    }
    // Each state variable uniform on [-0.05, 0.05).
    for (let i = 0; i < 4; i++) this.state[i] = -0.05 + 0.1 * this.rng.random();
    this.elapsedSteps = 0;
    this.stepsBeyondTerminated = null;
  }

  act(action: number): ActResult {
    checkAction(this.id, this.actionSpace, action);
    let [x, xDot, theta, thetaDot] = this.state;
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const cosTheta = Math.cos(theta);
    const sinTheta = Math.sin(theta);
    // Florian (2007), eqs. 23-24 with the friction terms removed.
    const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sinTheta) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sinTheta - cosTheta * temp) / (LENGTH * (4.0 / 3.0 - (MASS_POLE * cosTheta * cosTheta) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cosTheta) / TOTAL_MASS;
    // Explicit Euler: positions advance with the old velocities.
    x = x + TAU * xDot;
    xDot = xDot + TAU * xAcc;
    theta = theta + TAU * thetaDot;
    thetaDot = thetaDot + TAU * thetaAcc;
    this.state = [x, xDot, theta, thetaDot];

    const terminated = x < -X_THRESHOLD || x > X_THRESHOLD || theta < -THETA_THRESHOLD_RADIANS || theta > THETA_THRESHOLD_RADIANS;
    let reward: number;
    if (!terminated) {
      reward = 1;
    } else if (this.stepsBeyondTerminated === null) {
      // The pole just fell: the terminating step still earns its +1.
      this.stepsBeyondTerminated = 0;
      reward = 1;
    } else {
      // Stepping a finished episode: Gymnasium warns and gives 0.
      this.stepsBeyondTerminated++;
      reward = 0;
    }
    this.elapsedSteps++;
    const truncated = this.elapsedSteps >= this.maxEpisodeSteps;
    return { reward, terminated, truncated };
  }

  writeObservation(out: WritableArrayLike, offset = 0): void {
    for (let i = 0; i < 4; i++) out[offset + i] = Math.fround(this.state[i]!);
  }
}
