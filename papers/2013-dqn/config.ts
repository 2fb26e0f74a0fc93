/**
 * DQN's settings and presets.
 *
 * - `cartpole`: CleanRL's dqn.py defaults for CartPole-v1 (vwxyzjn/cleanrl, docs/rl-algorithms/dqn.md),
 *   whose published result is 488.69 ± 16.11 after 500k steps.
 * - `breakout`, `space_invaders`, `asterix`, `freeway`, `seaquest`: the MinAtar DQN baseline
 *   (kenjyoung/MinAtar, examples/dqn.py; Young & Tian 2019), 5M frames each.
 * - `breakout_no_replay`, `breakout_no_target`: MinAtar's two ablations (--replayoff, --targetoff).
 * - `breakout_quick` (the default): MinAtar's DQN on Breakout for the first 250k frames only, the
 *   main job of the README: the return climbs from a random policy's 0.5 to about 5 in a few
 *   minutes on two cores (the full run goes on to about 10 by 5M).
 * - `tiny`: seconds on CartPole, for CI.
 *
 * Step counts are agent steps. In MinAtar a "frame" is an agent step (no frame skip).
 */
import type { ConfigSpec } from '../../src/index.js';

export const ENVIRONMENTS = ['cartpole', 'asterix', 'breakout', 'freeway', 'seaquest', 'space_invaders'] as const;

export interface DqnConfig {
  [key: string]: string | number | boolean;
  env: string;
  seed: number;
  totalSteps: number;
  replay: boolean;
  bufferSize: number;
  sampleWithReplacement: boolean;
  batchSize: number;
  learningStarts: number;
  trainFrequency: number;
  targetNetwork: boolean;
  targetUpdateFrequency: number;
  gamma: number;
  epsilonStart: number;
  epsilonEnd: number;
  epsilonBegin: number;
  epsilonSteps: number;
  loss: string;
  optimizer: string;
  lr: number;
  alpha: number;
  eps: number;
  rewardClip: boolean;
  stickyActionProb: number;
  evalEpisodes: number;
  evalEpsilon: number;
  evalEvery: number;
  logEvery: number;
  checkpointEvery: number;
  saveReplay: boolean;
  gifFrames: number;
}

const docs: ConfigSpec<DqnConfig>['docs'] = {
  env: 'environment: cartpole (CartPole-v1) or a MinAtar game (all six actions, as the paper)',
  seed: 'seed of the network init, the exploration/sampling generator and the environments',
  totalSteps: 'agent steps to train for (MinAtar frames = agent steps)',
  replay: 'experience replay; false = MinAtar --replayoff: learn from each transition once, at once (batch 1), from step 0',
  bufferSize: 'replay capacity in transitions (circular)',
  sampleWithReplacement: 'sample a batch with replacement (CleanRL / SB3) or without (MinAtar random.sample)',
  batchSize: 'minibatch size of one update',
  learningStarts: 'updates start once step > learningStarts (the replay start size)',
  trainFrequency: 'one update every this many agent steps',
  targetNetwork: 'use a target network Q̂ for the bootstrap (false = MinAtar --targetoff)',
  targetUpdateFrequency: 'copy the online network into Q̂ every this many agent steps (after learningStarts)',
  gamma: 'discount factor γ',
  epsilonStart: 'ε at the start of the schedule',
  epsilonEnd: 'ε at the end of the schedule, and after it',
  epsilonBegin: 'step at which ε starts to fall (MinAtar: the replay start; CleanRL: 0)',
  epsilonSteps: 'steps over which ε falls linearly from epsilonStart to epsilonEnd',
  loss: 'huber (smooth L1, δ = 1: Nature\'s clipped error) or mse (CleanRL)',
  optimizer: 'adam, rmsprop (PyTorch centered, ε outside the root: MinAtar) or rmsprop_deepmind (ε inside the root: Nature / Lua DQN)',
  lr: 'learning rate',
  alpha: 'RMSprop smoothing constant (squared gradient momentum)',
  eps: 'Adam ε, or RMSprop ε ("min squared gradient")',
  rewardClip: 'clip rewards to their sign for learning (Nature); returns are logged unclipped',
  stickyActionProb: 'MinAtar sticky-action probability (MinAtar default 0.1); ignored by CartPole',
  evalEpisodes: 'evaluation episodes at the end (and at each evalEvery)',
  evalEpsilon: 'ε of the evaluation policy (Nature, CleanRL: 0.05)',
  evalEvery: 'evaluate every this many steps during training (0 = only at the end)',
  logEvery: 'log the TD loss every this many steps',
  checkpointEvery: 'checkpoint at the first episode end after every this many steps',
  saveReplay: 'save the replay buffer in the checkpoint (needed for a bit-identical resume; large for MinAtar)',
  gifFrames: 'frames of the trained agent to record as samples/agent.gif (0 = none)',
};

/** CleanRL dqn.py, CartPole-v1 (docs/rl-algorithms/dqn.md). */
const cartpole: DqnConfig = {
  env: 'cartpole',
  seed: 1,
  totalSteps: 500_000,
  replay: true,
  bufferSize: 10_000,
  sampleWithReplacement: true,
  batchSize: 128,
  learningStarts: 10_000,
  trainFrequency: 10,
  targetNetwork: true,
  targetUpdateFrequency: 500,
  gamma: 0.99,
  epsilonStart: 1,
  epsilonEnd: 0.05,
  epsilonBegin: 0,
  epsilonSteps: 250_000, // exploration_fraction 0.5 of 500k
  loss: 'mse',
  optimizer: 'adam',
  lr: 2.5e-4,
  alpha: 0.99,
  eps: 1e-8,
  rewardClip: false,
  stickyActionProb: 0.1,
  evalEpisodes: 100,
  evalEpsilon: 0.05,
  evalEvery: 50_000,
  logEvery: 100,
  checkpointEvery: 50_000,
  saveReplay: true,
  gifFrames: 500,
};

/** MinAtar examples/dqn.py (Young & Tian 2019), the same for every game. */
function minatar(env: string): DqnConfig {
  return {
    env,
    seed: 1,
    totalSteps: 5_000_000,
    replay: true,
    bufferSize: 100_000,
    sampleWithReplacement: false,
    batchSize: 32,
    learningStarts: 5_000,
    trainFrequency: 1,
    targetNetwork: true,
    targetUpdateFrequency: 1_000,
    gamma: 0.99,
    epsilonStart: 1,
    epsilonEnd: 0.1,
    epsilonBegin: 5_000,
    epsilonSteps: 100_000,
    loss: 'huber',
    optimizer: 'rmsprop',
    lr: 2.5e-4,
    alpha: 0.95,
    eps: 0.01,
    rewardClip: false,
    stickyActionProb: 0.1,
    evalEpisodes: 100,
    evalEpsilon: 0.05,
    evalEvery: 250_000,
    logEvery: 1_000,
    checkpointEvery: 100_000,
    saveReplay: true,
    gifFrames: 300,
  };
}

export const dqnSpec: ConfigSpec<DqnConfig> = {
  defaultPreset: 'breakout_quick',
  docs,
  choices: {
    env: ENVIRONMENTS,
    loss: ['huber', 'mse'],
    optimizer: ['adam', 'rmsprop', 'rmsprop_deepmind'],
  },
  presets: {
    tiny: {
      ...cartpole,
      totalSteps: 1_500,
      bufferSize: 1_000,
      batchSize: 16,
      learningStarts: 200,
      trainFrequency: 4,
      targetUpdateFrequency: 100,
      epsilonSteps: 750,
      evalEpisodes: 2,
      evalEvery: 0,
      logEvery: 100,
      checkpointEvery: 500,
      gifFrames: 20,
    },
    cartpole,
    asterix: minatar('asterix'),
    breakout: minatar('breakout'),
    // The main job: the same settings, stopped at 250k frames (ε reaches 0.1 at 105k), evaluated
    // and checkpointed every 50k so the report's curves show the climb.
    breakout_quick: { ...minatar('breakout'), totalSteps: 250_000, evalEvery: 50_000, checkpointEvery: 50_000 },
    freeway: minatar('freeway'),
    seaquest: minatar('seaquest'),
    space_invaders: minatar('space_invaders'),
    // MinAtar --replayoff: the buffer holds only the newest transition, which is learned from at
    // once (batch 1); with no replay start, ε falls from step 0.
    breakout_no_replay: { ...minatar('breakout'), replay: false, bufferSize: 1, batchSize: 1, learningStarts: 0, epsilonBegin: 0, saveReplay: false },
    // MinAtar --targetoff: the online network computes its own bootstrap target.
    breakout_no_target: { ...minatar('breakout'), targetNetwork: false },
  },
};
