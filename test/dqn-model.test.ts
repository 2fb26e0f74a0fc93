// DQN's networks and update (papers/2013-dqn/model.ts): parameter counts equal to the reference
// implementations' (PyTorch: MinAtar examples/dqn.py QNetwork, CleanRL dqn.py QNetwork), output
// shapes, the ε schedules of MinAtar and CleanRL, the TD target worked out by hand, and that one
// update lowers the TD loss on a fixed batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, noGrad, optim, tensor, randn } from '../src/index.js';
import { linearSchedule, MinAtarQNetwork, MlpQNetwork, tdLoss, type TransitionBatch } from '../papers/2013-dqn/model.js';
import { flat } from './helpers.js';

test('DQN networks: parameter counts match PyTorch, outputs are [B, numActions]', () => {
  manualSeed(0);
  // Counted with torch: sum(p.numel()) of MinAtar's QNetwork for Breakout (4 channels) and Seaquest
  // (10), 6 actions; and of CleanRL's 120-84 MLP for CartPole.
  assert.equal(new MinAtarQNetwork(4, 6).numParameters(), 132566);
  assert.equal(new MinAtarQNetwork(10, 6).numParameters(), 133430);
  const mlp = new MlpQNetwork(4, 2);
  assert.equal(mlp.numParameters(), 10934);
  assert.deepEqual(Object.keys(mlp.stateDict()), [
    'network.0.weight', 'network.0.bias', 'network.2.weight', 'network.2.bias', 'network.4.weight', 'network.4.bias',
  ]);
  const conv = new MinAtarQNetwork(6, 6);
  assert.deepEqual(conv.forward(randn([3, 6, 10, 10])).shape, [3, 6]);
  assert.deepEqual(mlp.forward(randn([5, 4])).shape, [5, 2]);
  assert.deepEqual(Object.keys(conv.stateDict()), ['conv.weight', 'conv.bias', 'fcHidden.weight', 'fcHidden.bias', 'output.weight', 'output.bias']);
});

test('ε schedules: MinAtar (1 -> 0.1 over 100k frames after a 5k replay start) and CleanRL (1 -> 0.05 over 250k)', () => {
  const minatar = (t: number) => linearSchedule(1, 0.1, 5000, 100_000, t);
  assert.equal(minatar(0), 1);
  assert.equal(minatar(5000), 1);
  assert.ok(Math.abs(minatar(55_000) - 0.55) < 1e-12);
  assert.ok(Math.abs(minatar(5000 + 1) - (1 - 0.9 / 100_000)) < 1e-12);
  assert.equal(minatar(105_000), 0.1);
  assert.equal(minatar(4_000_000), 0.1);
  // CleanRL: linear_schedule(1, 0.05, 0.5 * 500k, t) = max(slope * t + 1, 0.05).
  const cleanrl = (t: number) => linearSchedule(1, 0.05, 0, 250_000, t);
  assert.equal(cleanrl(0), 1);
  assert.ok(Math.abs(cleanrl(125_000) - 0.525) < 1e-12);
  assert.equal(cleanrl(250_000), 0.05);
  assert.equal(cleanrl(499_999), 0.05);
});

function fixedBatch(): TransitionBatch {
  return {
    observations: tensor([[0.1, -0.2, 0.03, 0.4], [0.0, 0.1, -0.05, -0.3], [0.2, 0.2, 0.1, 0.0], [-0.1, 0.0, 0.02, 0.1]]),
    actions: tensor([0, 1, 1, 0], { dtype: 'int32' }),
    rewards: tensor([1, 1, 0, 2]),
    nextObservations: tensor([[0.1, -0.1, 0.03, 0.3], [0.0, 0.2, -0.06, -0.2], [0.2, 0.3, 0.1, 0.1], [-0.1, 0.1, 0.02, 0.2]]),
    terminated: tensor([0, 1, 0, 1]),
  };
}

test('tdLoss: y = r + γ (1 − terminal) max_a Q̂(s\', a), against values computed by hand', () => {
  manualSeed(1);
  const online = new MlpQNetwork(4, 2);
  const target = new MlpQNetwork(4, 2);
  const batch = fixedBatch();
  const gamma = 0.9;
  const q = flat(noGrad(() => online.forward(batch.observations))); // [4, 2] row-major
  const qNext = flat(noGrad(() => target.forward(batch.nextObservations)));
  const actions = [0, 1, 1, 0];
  const rewards = [1, 1, 0, 2];
  const term = [0, 1, 0, 1];
  let mse = 0;
  let huber = 0;
  for (let i = 0; i < 4; i++) {
    const y = rewards[i]! + gamma * (1 - term[i]!) * Math.max(qNext[2 * i]!, qNext[2 * i + 1]!);
    const d = q[2 * i + actions[i]!]! - y;
    mse += d * d / 4;
    huber += (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5) / 4;
  }
  assert.ok(Math.abs(tdLoss(online, target, batch, gamma, 'mse').item() - mse) < 1e-5);
  assert.ok(Math.abs(tdLoss(online, target, batch, gamma, 'huber').item() - huber) < 1e-5);
  // The bootstrap goes through the target network only: no gradient reaches Q̂.
  tdLoss(online, target, batch, gamma, 'huber').backward();
  assert.ok(online.parameters().every((p) => p.grad !== null));
  assert.ok(target.parameters().every((p) => p.grad === null));
});

test('one RMSprop update (MinAtar settings) lowers the TD loss on a fixed batch', () => {
  manualSeed(2);
  const online = new MinAtarQNetwork(4, 6);
  const target = new MinAtarQNetwork(4, 6);
  target.loadStateDict(online.stateDict());
  const b = 8;
  const bits = (n: number) => flat(randn([n])).map((v) => (v > 1 ? 1 : 0));
  const batch: TransitionBatch = {
    observations: tensor(bits(b * 400), { shape: [b, 4, 10, 10] }),
    actions: tensor([0, 1, 2, 3, 4, 5, 0, 1], { dtype: 'int32' }),
    rewards: tensor([1, 0, 0, 1, 0, 1, 1, 0]),
    nextObservations: tensor(bits(b * 400), { shape: [b, 4, 10, 10] }),
    terminated: tensor([0, 0, 1, 0, 0, 1, 0, 0]),
  };
  const optimizer = new optim.RMSprop(online.parameters(), { lr: 2.5e-4, alpha: 0.95, eps: 0.01, centered: true });
  const before = tdLoss(online, target, batch, 0.99, 'huber');
  optimizer.zeroGrad();
  before.backward();
  optimizer.step();
  const after = tdLoss(online, target, batch, 0.99, 'huber').item();
  assert.ok(after < before.item(), `one step: ${before.item()} -> ${after}`);
});

test('the CartPole network fits a fixed batch of TD targets (the target network held fixed)', () => {
  manualSeed(3);
  const online = new MlpQNetwork(4, 2);
  const target = new MlpQNetwork(4, 2);
  const batch = fixedBatch();
  const optimizer = new optim.Adam(online.parameters(), { lr: 1e-2 });
  const losses: number[] = [];
  for (let i = 0; i < 100; i++) {
    const loss = tdLoss(online, target, batch, 0.99, 'mse');
    losses.push(loss.item());
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  assert.ok(losses[99]! < 0.01 * losses[0]!, `100 steps: ${losses[0]} -> ${losses[99]}`);
});
