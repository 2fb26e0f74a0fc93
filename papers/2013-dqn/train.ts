/**
 * DQN training (Mnih et al. 2013, Algorithm 1, with the 2015 target network), inline:
 * seed, environment, model, optimizer, loop, evaluation, checkpoint.
 *
 *   milestones run dqn --preset cartpole
 *   milestones run dqn --preset breakout --totalSteps=1000000
 *
 * Resume is bit-identical on CPU: checkpoints are written only at episode ends, every episode starts
 * from `reset(seed)` with a seed derived from its index, and the checkpoint holds the online and
 * target networks, the optimizer, the sampling generator, the step and episode counters, MinAtar's
 * sticky last action and (with saveReplay) the whole replay buffer. Without saveReplay a resumed
 * run starts with an empty buffer and is not identical to an uninterrupted one.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  io,
  manualSeed,
  noGrad,
  optim,
  Progress,
  rl,
  tensor,
  type Landmark,
  type Run,
  type Tensor,
} from '../../src/index.js';
import { dqnSpec, type DqnConfig } from './config.js';
import { linearSchedule, MinAtarQNetwork, MlpQNetwork, tdLoss, type QNetwork } from './model.js';

/** MinAtar DQN final returns at 5M frames, read off the MinAtar README figure (Young & Tian 2019). */
const MINATAR_PAPER: Record<string, { dqn: number; noReplay: number }> = {
  asterix: { dqn: 17, noReplay: 5.5 },
  breakout: { dqn: 10, noReplay: 4 },
  freeway: { dqn: 50, noReplay: 8.5 },
  seaquest: { dqn: 20, noReplay: 0.4 },
  space_invaders: { dqn: 43, noReplay: 13 },
};

/** Episode k of a run starts from reset(seed) with this seed, so a resumed run replays it exactly. */
function episodeSeed(runSeed: number, episode: number): number {
  return runSeed * 2 ** 32 + episode;
}

/** Evaluation episodes use seeds of their own, disjoint from the training episodes'. */
function evalSeed(runSeed: number, episode: number): number {
  return runSeed * 2 ** 32 + 2 ** 31 + episode;
}

function makeEnv(config: DqnConfig): rl.Env {
  return rl.makeEnv(config.env, { stickyActionProb: config.stickyActionProb });
}

function makeNetwork(env: rl.Env): QNetwork {
  const shape = env.observationSpace.shape;
  const n = env.actionSpace.n;
  return shape.length === 3 ? new MinAtarQNetwork(shape[0]!, n) : new MlpQNetwork(shape[0]!, n);
}

/** ε-greedy (Mnih et al. 2013, Algorithm 1): a uniform action with probability ε, else argmax_a Q(s, a). */
function selectAction(net: QNetwork, observation: number[], shape: number[], numActions: number, epsilon: number, rng: rl.RandomSource): number {
  if (rng.random() < epsilon) return Math.floor(rng.random() * numActions);
  return noGrad(() => net.forward(tensor(observation, { shape: [1, ...shape] })).argmax(1).item());
}

/** Plays `episodes` episodes with an ε-greedy policy and returns their undiscounted returns. */
export function evaluate(net: QNetwork, config: DqnConfig, episodes: number, rng: rl.RandomSource): number[] {
  const env = makeEnv(config);
  const shape = env.observationSpace.shape;
  const returns: number[] = [];
  for (let e = 0; e < episodes; e++) {
    env.resetState(evalSeed(config.seed, e));
    let total = 0;
    for (;;) {
      const action = selectAction(net, env.observationArray(), shape, env.actionSpace.n, config.evalEpsilon, rng);
      const r = env.act(action);
      total += r.reward;
      if (r.terminated || r.truncated) break;
    }
    returns.push(total);
  }
  return returns;
}

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length);
  return { mean, std: Math.sqrt(variance) };
}

/** Records one episode of the agent as an animated GIF. */
function recordGif(net: QNetwork, config: DqnConfig, path: string, rng: rl.RandomSource): void {
  const env = makeEnv(config);
  const shape = env.observationSpace.shape;
  const frames: rl.IndexedFrame[] = [];
  const draw = () =>
    env instanceof rl.CartPoleEnv ? rl.cartPoleFrame(env.state, 300) : rl.minatarFrame(env.observationArray(), shape[0]!, 16);
  env.resetState(evalSeed(config.seed, 0));
  frames.push(draw());
  while (frames.length < config.gifFrames) {
    const r = env.act(selectAction(net, env.observationArray(), shape, env.actionSpace.n, config.evalEpsilon, rng));
    frames.push(draw());
    if (r.terminated || r.truncated) break;
  }
  writeFileSync(path, rl.framesToGif(frames, env instanceof rl.CartPoleEnv ? 2 : 10));
}

function makeOptimizer(net: QNetwork, config: DqnConfig): optim.Optimizer {
  switch (config.optimizer) {
    case 'adam':
      return new optim.Adam(net.parameters(), { lr: config.lr, eps: config.eps });
    case 'rmsprop': // MinAtar: torch.optim.RMSprop(lr, alpha=0.95, centered=True, eps=0.01)
      return new optim.RMSprop(net.parameters(), { lr: config.lr, alpha: config.alpha, eps: config.eps, centered: true });
    case 'rmsprop_deepmind': // Nature DQN: g / sqrt(E[g²] − E[g]² + 0.01)
      return new optim.RMSprop(net.parameters(), { lr: config.lr, alpha: config.alpha, eps: config.eps, centered: true, epsInside: true });
    default:
      throw new Error(`dqn: unknown optimizer '${config.optimizer}'`);
  }
}

export async function train(run: Run<DqnConfig>): Promise<void> {
  const config = run.config;

  // Seed: the network init draws from the default generator; exploration and replay sampling from
  // their own counter-based stream, which the checkpoint saves.
  manualSeed(config.seed);
  const rng = new rl.PhiloxRandom(config.seed);

  // Environment.
  const env = makeEnv(config);
  const shape = env.observationSpace.shape;
  const numActions = env.actionSpace.n;
  const buffer = new rl.ReplayBuffer({
    capacity: config.replay ? config.bufferSize : 1,
    observationShape: shape,
    storage: env instanceof rl.MinAtarEnv ? 'uint8' : 'float32',
  });

  // Model: the online network Q and the target network Q̂ (Mnih et al. 2015, Methods).
  const online = makeNetwork(env);
  const target = makeNetwork(env);
  target.loadStateDict(online.stateDict());

  // Optimizer.
  const optimizer = makeOptimizer(online, config);

  // Resume.
  let step = 0;
  let episode = 0;
  let updates = 0;
  let recent: number[] = []; // returns of the last 100 training episodes
  if (existsSync(run.checkpointPath)) {
    const ckpt = io.loadCheckpoint(run.checkpointPath);
    const extra = ckpt.extra as {
      target: Record<string, Tensor>;
      episode: number;
      updates: number;
      recent: number[];
      lastAction: number;
      replay: rl.ReplayBufferState | null;
    };
    online.loadStateDict(ckpt.model);
    target.loadStateDict(extra.target);
    optimizer.loadStateDict(ckpt.optimizer as optim.OptimizerStateDict);
    rng.setState(ckpt.rng as rl.PhiloxRandomState);
    if (extra.replay) buffer.loadStateDict(extra.replay);
    if (env instanceof rl.MinAtarEnv) env.lastAction = extra.lastAction;
    ({ episode, updates, recent } = extra);
    step = ckpt.step;
    run.truncateMetrics(step);
  }
  const checkpoint = () =>
    io.saveCheckpoint(run.checkpointPath, {
      model: online.stateDict(),
      optimizer: optimizer.stateDict(),
      rng: rng.getState(),
      step,
      config,
      extra: {
        target: target.stateDict(),
        episode,
        updates,
        recent,
        lastAction: env instanceof rl.MinAtarEnv ? env.lastAction : 0,
        replay: config.saveReplay && config.replay ? buffer.stateDict() : null,
      },
    });

  // Loop: one environment step, then (after the replay start) one update every trainFrequency steps.
  const progress = new Progress({ total: config.totalSteps, unit: 'steps/s', label: `dqn ${config.env}` });
  progress.resumeFrom(step);
  const started = Date.now();
  const startStep = step;
  let lastCheckpoint = step;
  let lastLoss = NaN;
  env.resetState(episodeSeed(config.seed, episode));
  let observation = env.observationArray();
  let episodeReturn = 0;
  let episodeLength = 0;
  while (step < config.totalSteps) {
    // MinAtar and Nature: ε stays at epsilonStart until the replay start, then falls linearly.
    const epsilon = linearSchedule(config.epsilonStart, config.epsilonEnd, config.epsilonBegin, config.epsilonSteps, step);
    const action = selectAction(online, observation, shape, numActions, epsilon, rng);
    const result = env.act(action);
    const nextObservation = env.observationArray();
    // Nature: rewards clipped to [-1, 1] for learning only. A time-limit truncation is not
    // terminal: the target still bootstraps from s' (CleanRL stores `terminations`, not dones).
    const reward = config.rewardClip ? Math.sign(result.reward) : result.reward;
    buffer.add(observation, action, reward, nextObservation, result.terminated);
    episodeReturn += result.reward;
    episodeLength += 1;

    const learning = config.replay ? step > config.learningStarts && buffer.size >= config.batchSize : true;
    if (learning && step % config.trainFrequency === 0) {
      const batch = config.replay
        ? buffer.sample(config.batchSize, rng, { replacement: config.sampleWithReplacement })
        : buffer.latest(1); // MinAtar --replayoff: the transition just seen, once
      const loss = tdLoss(online, config.targetNetwork ? target : online, batch, config.gamma, config.loss as 'huber' | 'mse');
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      updates += 1;
      if (step % config.logEvery === 0) {
        lastLoss = loss.item();
        run.log(step, 'train', { loss: lastLoss, epsilon, updates });
      }
    }
    // Hard copy Q̂ ← Q every targetUpdateFrequency agent steps (MinAtar counts policy updates; with
    // one update per step after the replay start the two coincide, phase included).
    if (config.targetNetwork && step > config.learningStarts && step % config.targetUpdateFrequency === 0) {
      target.loadStateDict(online.stateDict());
    }
    step += 1;
    observation = nextObservation;

    if (result.terminated || result.truncated) {
      recent.push(episodeReturn);
      if (recent.length > 100) recent = recent.slice(-100);
      const seconds = (Date.now() - started) / 1000;
      run.log(step, 'episode', {
        episodic_return: episodeReturn,
        episodic_length: episodeLength,
        mean_return_100: meanStd(recent).mean,
        epsilon,
        steps_per_second: (step - startStep) / Math.max(seconds, 1e-9),
      });
      progress.update(step, { return100: meanStd(recent).mean, epsilon, loss: lastLoss });
      episode += 1;
      episodeReturn = 0;
      episodeLength = 0;
      env.resetState(episodeSeed(config.seed, episode));
      observation = env.observationArray();
      // Checkpoint only here, between episodes, so that resuming replays the same episodes.
      await run.poll();
      if (step - lastCheckpoint >= config.checkpointEvery || run.stopRequested) {
        checkpoint();
        lastCheckpoint = step;
        if (run.stopRequested) return;
      }
    }

    // Evaluation during training (its own environment and seeds; it draws from the shared generator).
    if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < config.totalSteps) {
      const { mean, std } = meanStd(evaluate(online, config, config.evalEpisodes, rng));
      run.log(step, 'eval', { mean_return: mean, std_return: std });
    }
  }
  progress.update(step, { return100: meanStd(recent).mean }, true);
  progress.done();
  const wallSeconds = (Date.now() - started) / 1000;

  // Evaluation: evalEpisodes episodes with ε = evalEpsilon.
  const evalReturns = evaluate(online, config, config.evalEpisodes, rng);
  const evalStats = meanStd(evalReturns);
  const trainStats = meanStd(recent);
  run.log(step, 'eval', { mean_return: evalStats.mean, std_return: evalStats.std });
  run.log(step, 'summary', { train_seconds: wallSeconds, steps_per_second: (step - startStep) / Math.max(wallSeconds, 1e-9), episodes: episode, updates });

  // Checkpoint (the final state) and a GIF of the trained agent.
  checkpoint();
  if (config.gifFrames > 0) recordGif(online, config, join(run.samplesDir, 'agent.gif'), rng);

  const fmt = (s: { mean: number; std: number }) => `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`;
  const steps = `${step.toLocaleString('en-US')} steps, ${(wallSeconds / 60).toFixed(1)} min this session`;
  if (config.env === 'cartpole') {
    run.setResults([
      { metric: `CartPole-v1 mean return, ${config.evalEpisodes} eval episodes (ε = ${config.evalEpsilon})`, paper: '488.69 ± 16.11', ours: fmt(evalStats), note: `paper: CleanRL dqn.py, 500k steps; ours: ${steps}` },
      { metric: 'CartPole-v1 mean return, last 100 training episodes', paper: null, ours: fmt(trainStats), note: 'exploring policy (ε at its final value)' },
    ]);
  } else {
    const paper = MINATAR_PAPER[config.env]!;
    const variant = !config.replay ? 'noReplay' : 'dqn';
    run.setResults([
      {
        metric: `MinAtar ${config.env} mean return, last 100 training episodes${config.replay ? '' : ' (no replay)'}${config.targetNetwork ? '' : ' (no target network)'}`,
        paper: config.targetNetwork ? paper[variant] : null,
        ours: fmt(trainStats),
        note: `paper: read off the MinAtar README figure at 5M frames (30 runs); ours: ${steps}, seed ${config.seed}`,
      },
      { metric: `MinAtar ${config.env} mean return, ${config.evalEpisodes} eval episodes (ε = ${config.evalEpsilon})`, paper: null, ours: fmt(evalStats) },
    ]);
  }
}

/** The landmark as the CLI sees it. */
export const dqn: Landmark<DqnConfig> = {
  name: 'dqn',
  title: 'DQN (Mnih et al. 2013, 2015) on CartPole and MinAtar',
  spec: dqnSpec,
  train,
};
