/**
 * Deep Q-Networks.
 *
 *   "Playing Atari with Deep Reinforcement Learning", Mnih, Kavukcuoglu, Silver, Graves, Antonoglou,
 *   Wierstra, Riedmiller, 2013, arXiv:1312.5602 (replay, ε-greedy, Algorithm 1).
 *   "Human-level control through deep reinforcement learning", Mnih et al., Nature 518, 2015
 *   (the target network, Huber-clipped TD error, RMSprop with ε inside the root).
 *   "MinAtar: An Atari-Inspired Testbed for Thorough and Reproducible Reinforcement Learning
 *   Experiments", Young & Tian, 2019, arXiv:1903.03176 (the 10x10 games and the small network below).
 *
 * This file holds the networks and the pieces of the update that are pure math:
 * - MinAtarQNetwork: MinAtar's DQN baseline network (examples/dqn.py), a quarter-size Nature DQN.
 * - MlpQNetwork: CleanRL's dqn.py network for classic control (120-84 MLP).
 * - linearSchedule: the ε-greedy schedule (Mnih et al. 2015, Methods "Training details").
 * - tdLoss: the one-step Q-learning loss, Eq. 2-3 of Mnih et al. 2013.
 */
import { nn, noGrad, type Tensor } from '../../src/index.js';

/**
 * MinAtar's Q-network: conv 3x3 with 16 filters, stride 1, no padding (10x10 -> 8x8), ReLU, a
 * 128-unit fully connected layer, ReLU, and one linear output per action. PyTorch's default init.
 * The MinAtar paper (Sec. 4) sizes it as a quarter of the Nature network (16 filters, 128 units
 * against 64 and 512), for 10x10 inputs without frame stacking.
 */
export class MinAtarQNetwork extends nn.Module {
  conv: nn.Conv2d;
  fcHidden: nn.Linear;
  output: nn.Linear;

  constructor(
    readonly inChannels: number,
    readonly numActions: number,
  ) {
    super();
    this.conv = new nn.Conv2d(inChannels, 16, 3, { stride: 1 });
    this.fcHidden = new nn.Linear(16 * 8 * 8, 128);
    this.output = new nn.Linear(128, numActions);
  }

  /**
   * x: [B, C, 10, 10] of 0/1 -> Q-values [B, numActions]. The ReLUs run in place (relu_, PyTorch's
   * inplace=True): the same values as MinAtar's F.relu, without a second buffer for each layer.
   */
  forward(x: Tensor): Tensor {
    const h = this.conv.forward(x).relu_(); // [B, 16, 8, 8]
    const flat = h.reshape([h.shape[0]!, -1]); // [B, 1024]
    return this.output.forward(this.fcHidden.forward(flat).relu_()); // [B, numActions]
  }
}

/**
 * CleanRL's classic-control Q-network (cleanrl/dqn.py, `QNetwork`): Linear(obs, 120), ReLU,
 * Linear(120, 84), ReLU, Linear(84, actions). A Sequential, so parameter names match CleanRL's
 * (`network.0.weight`, `network.2.weight`, `network.4.weight`).
 */
export class MlpQNetwork extends nn.Module {
  network: nn.Sequential;

  constructor(
    readonly observationSize: number,
    readonly numActions: number,
  ) {
    super();
    this.network = new nn.Sequential(
      new nn.Linear(observationSize, 120),
      new nn.ReLU(),
      new nn.Linear(120, 84),
      new nn.ReLU(),
      new nn.Linear(84, numActions),
    );
  }

  /** x: [B, observationSize] -> Q-values [B, numActions]. */
  forward(x: Tensor): Tensor {
    return this.network.forward(x);
  }
}

/** What the training loop needs from either network. */
export type QNetwork = MinAtarQNetwork | MlpQNetwork;

/**
 * A linear ramp from `start` to `end` over `duration` steps beginning at step `begin`; `start`
 * before it and `end` after it. With begin = replay start (MinAtar, DeepMind's Lua code), ε stays at
 * 1 during the random warm-up; with begin = 0 (CleanRL), it starts falling at once.
 */
export function linearSchedule(start: number, end: number, begin: number, duration: number, step: number): number {
  if (step <= begin) return start;
  if (duration <= 0 || step >= begin + duration) return end;
  return start + ((end - start) * (step - begin)) / duration;
}

/** One minibatch of transitions as tensors (what the replay buffer returns). */
export interface TransitionBatch {
  observations: Tensor; // [B, ...obs]
  actions: Tensor; // [B] int32
  rewards: Tensor; // [B]
  nextObservations: Tensor; // [B, ...obs]
  terminated: Tensor; // [B], 1 where s' is terminal
}

/**
 * The DQN loss on a batch (Mnih et al. 2013, Eq. 2-3; 2015, Methods Eq. 1):
 *   y = r + γ (1 − terminal) max_a' Q̂(s', a')        (Q̂: the target network, no gradient)
 *   L = mean_i ℓ(Q(s_i, a_i) − y_i)
 * with ℓ the Huber loss (δ = 1; Nature's "clip the error term to [−1, 1]", which is Huber's
 * gradient) or the squared error (CleanRL's dqn.py). Pass the online network as `target` to train
 * without a target network (the 2013 paper, and MinAtar's --targetoff ablation).
 */
export function tdLoss(online: QNetwork, target: QNetwork, batch: TransitionBatch, gamma: number, loss: 'huber' | 'mse'): Tensor {
  const nextMax = noGrad(() => target.forward(batch.nextObservations).amax(1)); // [B]
  const y = batch.rewards.add(nextMax.mul(batch.terminated.neg().add(1)).mul(gamma)); // [B]
  const q = online.forward(batch.observations).gather(1, batch.actions.reshape([-1, 1])).reshape([-1]); // [B]
  return loss === 'huber' ? nn.functional.smoothL1Loss(q, y) : nn.functional.mseLoss(q, y);
}
