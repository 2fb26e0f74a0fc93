/**
 * MinAtar as an `Env`: a game plus sticky actions (Machado et al. 2018, as MinAtar applies them),
 * the full or minimal action set, and a seeded generator shared by the sticky-action coin and the
 * game, drawn in MinAtar's order (the coin first, then the game's draws in rule order).
 *
 * Observations are float32 0/1 tensors of shape [channels, 10, 10] (MinAtar's state() is
 * [10, 10, channels]; its DQN permutes to channels-first, which is what we return). "Frames" in
 * MinAtar are agent steps: there is no frame skip. No game has a time limit except Freeway's
 * timer, which is a true termination, so `truncated` is always false.
 */
import { type ActResult, BaseEnv, type BoxSpace, checkAction, type DiscreteSpace, type EnvInfo, type WritableArrayLike } from '../env.js';
import { PhiloxRandom, type RandomSource } from '../random.js';
import { Asterix } from './asterix.js';
import { Breakout } from './breakout.js';
import { Freeway } from './freeway.js';
import type { MinAtarGame } from './game.js';
import { Seaquest } from './seaquest.js';
import { SpaceInvaders } from './space-invaders.js';

/** The five MinAtar games. */
export const MINATAR_GAMES = ['asterix', 'breakout', 'freeway', 'seaquest', 'space_invaders'] as const;
export type MinAtarGameName = (typeof MINATAR_GAMES)[number];

/** Gymnasium-style id stems (MinAtar/<Stem>-v0 is the full set, -v1 the minimal set). */
const ID_STEMS: Record<MinAtarGameName, string> = {
  asterix: 'Asterix',
  breakout: 'Breakout',
  freeway: 'Freeway',
  seaquest: 'Seaquest',
  space_invaders: 'SpaceInvaders',
};

export interface MinAtarOptions {
  /** Seed of the shared generator (reset(seed) reseeds it). Default 0. */
  seed?: number;
  /** Probability that the previous executed action replaces the agent's. MinAtar's default: 0.1. */
  stickyActionProb?: number;
  /** Asterix, Seaquest and Space Invaders speed up over time. MinAtar's default: true. */
  difficultyRamping?: boolean;
  /** Use the minimal action set (the Gymnasium -v1 ids) instead of all six actions. Default false: the paper uses six. */
  minimalActionSet?: boolean;
  /** A source of uniforms instead of the seeded Philox stream (tests use scripted ones). */
  rng?: RandomSource;
}

function makeGame(name: MinAtarGameName, rng: RandomSource, ramping: boolean): MinAtarGame {
  switch (name) {
    case 'asterix':
      return new Asterix(rng, ramping);
    case 'breakout':
      return new Breakout(rng);
    case 'freeway':
      return new Freeway(rng);
    case 'seaquest':
      return new Seaquest(rng, ramping);
    case 'space_invaders':
      return new SpaceInvaders(ramping);
  }
}

/** A MinAtar game behind the Env interface. */
export class MinAtarEnv extends BaseEnv {
  readonly id: string;
  readonly actionSpace: DiscreteSpace;
  readonly observationSpace: BoxSpace;
  /** The game itself; its fields are public so tests and tools can read (or set up) a state. */
  readonly game: MinAtarGame;
  /** Full-set indices of the actions this env accepts (all six, or the minimal set). */
  readonly actionSet: readonly number[];
  readonly stickyActionProb: number;
  /**
   * The full-set action executed last. It starts at no-op when the env is built and is NOT reset
   * by reset(): as in MinAtar, a sticky action can carry over into the next episode.
   */
  lastAction = 0;
  private readonly rng: RandomSource;
  private readonly philox: PhiloxRandom | null;
  private readonly channels: number;

  constructor(readonly gameName: MinAtarGameName, options: MinAtarOptions = {}) {
    super();
    if (!MINATAR_GAMES.includes(gameName)) {
      throw new Error(`MinAtarEnv: unknown game '${gameName}' (expected one of ${MINATAR_GAMES.join(', ')})`);
    }
    this.stickyActionProb = options.stickyActionProb ?? 0.1;
    this.philox = options.rng ? null : new PhiloxRandom(options.seed ?? 0);
    this.rng = options.rng ?? this.philox!;
    // The game is built (and its first reset drawn) from the same generator, as MinAtar does.
    this.game = makeGame(gameName, this.rng, options.difficultyRamping ?? true);
    this.actionSet = options.minimalActionSet ? [...this.game.minimalActions] : [0, 1, 2, 3, 4, 5];
    this.channels = this.game.channelNames.length;
    this.id = `MinAtar/${ID_STEMS[gameName]}-${options.minimalActionSet ? 'v1' : 'v0'}`;
    this.actionSpace = { kind: 'discrete', n: this.actionSet.length };
    const size = this.channels * 100;
    this.observationSpace = {
      kind: 'box',
      shape: [this.channels, 10, 10],
      low: new Array<number>(size).fill(0),
      high: new Array<number>(size).fill(1),
      dtype: 'float32',
    };
  }

  /** Channel names in observation order. */
  get channelNames(): readonly string[] {
    return this.game.channelNames;
  }

  /**
   * Starts a new episode; a seed reseeds the shared generator first. `lastAction` is kept (MinAtar's
   * behaviour), so the same seed reproduces an episode exactly from a freshly built env, and on a
   * used env differs only if the first step's sticky coin comes up.
   */
  resetState(seed?: number): void {
    if (seed !== undefined) {
      if (!this.philox) throw new Error(`${this.id}: cannot reseed a scripted random source`);
      this.philox.seed(seed);
    }
    this.game.reset();
  }

  act(action: number): ActResult {
    checkAction(this.id, this.actionSpace, action);
    let executed = this.actionSet[action]!;
    // Sticky actions act on full-set indices; one coin per step, drawn before the game's draws.
    if (this.rng.random() < this.stickyActionProb) executed = this.lastAction;
    this.lastAction = executed;
    const reward = this.game.act(executed);
    return { reward, terminated: this.game.terminal, truncated: false };
  }

  writeObservation(out: WritableArrayLike, offset = 0): void {
    this.game.writeState(out, offset);
  }

  override info(): EnvInfo {
    const ramp = this.game.rampIndex();
    return ramp === null ? { executedAction: this.lastAction } : { rampIndex: ramp, executedAction: this.lastAction };
  }
}
