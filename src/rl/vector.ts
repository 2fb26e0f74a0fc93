/**
 * Many copies of an environment stepped together (Gymnasium's SyncVectorEnv), in one thread.
 *
 * Autoreset mode: SAME-STEP (Gymnasium's `AutoresetMode.SAME_STEP`). When copy i terminates or
 * is truncated during `step`, it is reset inside that same call: the returned observation row i is
 * the first observation of the new episode, and the observation that ended the episode is kept in
 * `finalObservations[i]` (Gymnasium's `info["final_obs"]`). This is the mode a replay buffer wants:
 * every transition (obs, action, reward, final-or-next obs, terminated) is complete after one call,
 * and no step is wasted on a no-op reset transition.
 *
 * Gymnasium's default, NEXT-STEP, is available as `{ autoresetMode: 'next-step' }`: a copy whose
 * episode ended is left at its final observation, and the next `step` resets it instead of
 * stepping it (its action is ignored; reward 0, terminated and truncated false).
 */
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import type { BoxSpace, DiscreteSpace, Env, WritableArrayLike } from './env.js';
import { spaceSize } from './env.js';

/** What `VectorEnv.step` returns; index i describes copy i. */
export interface VectorStepResult {
  /** [numEnvs, ...observationShape]: after an episode ended, the new episode's first observation. */
  observations: Tensor;
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
  /** The observation that ended copy i's episode (flat), or null if it did not end this step. In
   *  next-step mode it is also the observation returned for copy i. */
  finalObservations: (number[] | null)[];
  /** Undiscounted return of the episode copy i just finished, or null (RecordEpisodeStatistics). */
  episodeReturns: (number | null)[];
  /** Length in steps of the episode copy i just finished, or null. */
  episodeLengths: (number | null)[];
}

/** How a copy whose episode ended starts the next one (see the module comment). */
export type AutoresetMode = 'same-step' | 'next-step';

/** `numEnvs` environments stepped in lockstep, with automatic resets. */
export class VectorEnv {
  readonly numEnvs: number;
  /** The copies themselves (read their state, or render one). */
  readonly envs: Env[];
  readonly singleActionSpace: DiscreteSpace;
  readonly singleObservationSpace: BoxSpace;
  readonly autoresetMode: AutoresetMode;
  private readonly obsSize: number;
  private readonly returns: number[];
  private readonly lengths: number[];
  /** Next-step mode: copy i ended on the previous step and is reset by the next one. */
  private readonly needsReset: boolean[];

  /** `makeEnv(i)` builds copy i; every copy must have the same spaces. */
  constructor(
    numEnvs: number,
    makeEnv: (index: number) => Env,
    options: { autoresetMode?: AutoresetMode } = {},
  ) {
    if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new RangeError(`VectorEnv: numEnvs must be a positive integer, got ${numEnvs}`);
    this.numEnvs = numEnvs;
    this.envs = Array.from({ length: numEnvs }, (_, i) => makeEnv(i));
    const first = this.envs[0]!;
    this.singleActionSpace = first.actionSpace;
    this.singleObservationSpace = first.observationSpace;
    for (const env of this.envs) {
      if (env.actionSpace.n !== first.actionSpace.n || env.observationSpace.shape.join() !== first.observationSpace.shape.join()) {
        throw new Error(`VectorEnv: copies disagree on spaces (${env.id} vs ${first.id})`);
      }
    }
    this.obsSize = spaceSize(first.observationSpace);
    this.returns = new Array<number>(numEnvs).fill(0);
    this.lengths = new Array<number>(numEnvs).fill(0);
    this.needsReset = new Array<boolean>(numEnvs).fill(false);
    this.autoresetMode = options.autoresetMode ?? 'same-step';
    if (this.autoresetMode !== 'same-step' && this.autoresetMode !== 'next-step') {
      throw new Error(`VectorEnv: autoresetMode must be 'same-step' or 'next-step', got '${this.autoresetMode}'`);
    }
  }

  /** Shape of the batched observation: [numEnvs, ...single shape]. */
  get observationShape(): number[] {
    return [this.numEnvs, ...this.singleObservationSpace.shape];
  }

  /** Resets every copy; with a seed, copy i is seeded with seed + i (as Gymnasium seeds vector envs). */
  reset(seed?: number): Tensor {
    this.resetState(seed);
    return this.observations();
  }

  /** `reset` without building the observation tensor. */
  resetState(seed?: number): void {
    this.envs.forEach((env, i) => env.resetState(seed === undefined ? undefined : seed + i));
    this.returns.fill(0);
    this.lengths.fill(0);
    this.needsReset.fill(false);
  }

  /** Steps copy i with actions[i]; copies whose episode ended are reset as `autoresetMode` says. */
  step(actions: readonly number[]): VectorStepResult {
    const result = this.act(actions);
    return { observations: this.observations(), ...result };
  }

  /** `step` without building the batched observation tensor (read it with writeObservations). */
  act(actions: readonly number[]): Omit<VectorStepResult, 'observations'> {
    if (actions.length !== this.numEnvs) throw new Error(`VectorEnv.step: expected ${this.numEnvs} actions, got ${actions.length}`);
    const n = this.numEnvs;
    const rewards = new Array<number>(n);
    const terminated = new Array<boolean>(n);
    const truncated = new Array<boolean>(n);
    const finalObservations = new Array<number[] | null>(n).fill(null);
    const episodeReturns = new Array<number | null>(n).fill(null);
    const episodeLengths = new Array<number | null>(n).fill(null);
    for (let i = 0; i < n; i++) {
      const env = this.envs[i]!;
      if (this.needsReset[i]) {
        // Next-step mode: this call only starts copy i's new episode.
        env.resetState();
        this.needsReset[i] = false;
        rewards[i] = 0;
        terminated[i] = false;
        truncated[i] = false;
        continue;
      }
      const r = env.act(actions[i]!);
      rewards[i] = r.reward;
      terminated[i] = r.terminated;
      truncated[i] = r.truncated;
      this.returns[i]! += r.reward;
      this.lengths[i]! += 1;
      if (r.terminated || r.truncated) {
        finalObservations[i] = env.observationArray();
        episodeReturns[i] = this.returns[i]!;
        episodeLengths[i] = this.lengths[i]!;
        this.returns[i] = 0;
        this.lengths[i] = 0;
        if (this.autoresetMode === 'same-step') env.resetState();
        else this.needsReset[i] = true;
      }
    }
    return { rewards, terminated, truncated, finalObservations, episodeReturns, episodeLengths };
  }

  /** Writes all copies' current observations, copy after copy, into `out` at `offset`. */
  writeObservations(out: WritableArrayLike, offset = 0): void {
    for (let i = 0; i < this.numEnvs; i++) this.envs[i]!.writeObservation(out, offset + i * this.obsSize);
  }

  /** The current observations as a float32 Tensor [numEnvs, ...single shape]. */
  observations(): Tensor {
    const flat = new Array<number>(this.numEnvs * this.obsSize).fill(0);
    this.writeObservations(flat, 0);
    return tensor(flat, { shape: this.observationShape, dtype: 'float32' });
  }
}
