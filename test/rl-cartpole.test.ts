// CartPole-v1 against Gymnasium's definition (shared/research/rl-environments.md §3.1): one step
// of the dynamics worked out by hand, the strict termination thresholds, the +1 on the terminating
// step, truncation at 500, the reset distribution, and determinism under a seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CartPoleEnv, THETA_THRESHOLD_RADIANS } from '../src/rl/cartpole.js';
import { makeEnv } from '../src/rl/index.js';
import { PhiloxRandom } from '../src/rl/random.js';

test('CartPole: two Euler steps from rest, worked out by hand', () => {
  const env = new CartPoleEnv();
  env.resetState();
  env.state = [0, 0, 0, 0];
  // Push right (F = +10) from rest: temp = F / 1.1 = 100/11; the denominator of theta'' is
  // 0.5 * (4/3 - 0.1/1.1) = 41/66, so theta'' = -(100/11) / (41/66) = -600/41, and
  // x'' = 100/11 + 0.05 * (600/41) / 1.1 = 400/41. Explicit Euler moves the positions with the old
  // (zero) velocities: x = 0, theta = 0, x' = 0.02 * 400/41 = 8/41, theta' = -12/41.
  const r = env.act(1);
  assert.deepEqual(r, { reward: 1, terminated: false, truncated: false });
  const expect1 = [0, 8 / 41, 0, -12 / 41];
  env.state.forEach((v, i) => assert.ok(Math.abs(v - expect1[i]!) < 1e-15, `state[${i}] = ${v}, expected ${expect1[i]}`));
  // Second step: the positions advance with those velocities: x = 0.02 * 8/41, theta = -0.02 * 12/41.
  env.act(1);
  assert.ok(Math.abs(env.state[0] - 0.16 / 41) < 1e-15);
  assert.ok(Math.abs(env.state[2] + 0.24 / 41) < 1e-15);
  // The observation is the float32 rounding of the float64 state.
  assert.deepEqual(env.observationArray(), env.state.map((v) => Math.fround(v)));
  assert.deepEqual(env.observation().shape, [4]);
  assert.equal(env.observation().dtype, 'float32');
});

test('CartPole: termination thresholds are strict; the terminating step still pays +1, later ones 0', () => {
  const env = new CartPoleEnv();
  env.resetState();
  // At rest at x = 2.4 exactly, x stays 2.4 for the step (velocity 0): not terminated (x > 2.4 is false).
  env.state = [2.4, 0, 0, 0];
  assert.equal(env.act(0).terminated, false);
  // Moving right at 1 m/s from 2.4: x = 2.42 > 2.4.
  env.resetState();
  env.state = [2.4, 1, 0, 0];
  assert.deepEqual(env.act(0), { reward: 1, terminated: true, truncated: false });
  assert.deepEqual(env.act(0), { reward: 0, terminated: true, truncated: false });
  // The same for the angle, on both sides.
  for (const sign of [1, -1]) {
    env.resetState();
    env.state = [0, 0, sign * THETA_THRESHOLD_RADIANS, 0];
    assert.equal(env.act(0).terminated, false, 'theta exactly at the threshold');
    env.resetState();
    env.state = [0, 0, sign * THETA_THRESHOLD_RADIANS, sign * 0.1];
    assert.equal(env.act(0).terminated, true, 'theta past the threshold');
  }
  assert.ok(Math.abs(THETA_THRESHOLD_RADIANS - 0.20943951) < 1e-8);
});

test('CartPole: the episode is truncated at step 500, not before', () => {
  const env = new CartPoleEnv({ seed: 1 });
  env.resetState();
  for (let t = 1; t <= 500; t++) {
    env.state = [0, 0, 0, 0]; // hold the pole upright so only the time limit can end the episode
    const r = env.act(t % 2);
    assert.equal(r.terminated, false);
    assert.equal(r.truncated, t === 500, `step ${t}`);
  }
  const v0 = new CartPoleEnv({ maxEpisodeSteps: 200 });
  v0.resetState();
  let t = 0;
  for (let done = false; !done; ) {
    t++;
    v0.state = [0, 0, 0, 0];
    done = v0.act(0).truncated;
  }
  assert.equal(t, 200);
});

test('CartPole: resets are uniform in [-0.05, 0.05) and reproducible from a seed', () => {
  const env = new CartPoleEnv();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    env.resetState(i);
    for (const v of env.state) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
  }
  assert.ok(min >= -0.05 && max < 0.05, `range [${min}, ${max}]`);
  assert.ok(min < -0.0499 && max > 0.0499, 'the draws cover the interval');
  // Mean of 8000 uniforms on [-0.05, 0.05): sd = 0.1 / sqrt(12 * 8000) = 3.2e-4; allow 4 sd.
  assert.ok(Math.abs(sum / (4 * n)) < 1.3e-3);

  const run = (seed: number) => {
    const e = makeEnv('CartPole-v1');
    const obs: number[][] = [e.reset(seed).observation.toArray() as number[]];
    for (let t = 0; t < 30; t++) obs.push(e.step(t % 3 === 0 ? 0 : 1).observation.toArray() as number[]);
    return obs;
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
  assert.throws(() => env.act(2), /action must be an integer in \[0, 2\)/);
});

test('CartPole: a random policy lasts about 22 steps', () => {
  // Known figure for CartPole-v1 under uniform random actions: mean episode length about 22.
  const env = new CartPoleEnv({ seed: 5 });
  const coin = new PhiloxRandom(6);
  let episodes = 0;
  let steps = 0;
  while (episodes < 500) {
    env.resetState();
    for (let done = false; !done; ) {
      const r = env.act(coin.random() < 0.5 ? 0 : 1);
      steps++;
      done = r.terminated || r.truncated;
    }
    episodes++;
  }
  const mean = steps / episodes;
  assert.ok(mean > 20 && mean < 25, `mean episode length ${mean}`);
});
