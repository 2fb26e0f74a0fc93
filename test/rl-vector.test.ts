// The vectorised environment: N copies in lockstep with same-step autoreset must equal N
// independent environments stepped and reset by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VectorEnv } from '../src/rl/vector.js';
import { CartPoleEnv } from '../src/rl/cartpole.js';
import { MinAtarEnv } from '../src/rl/minatar/env.js';
import type { Env } from '../src/rl/env.js';
import { PhiloxRandom } from '../src/rl/random.js';

function checkAgainstSingles(make: () => Env, numEnvs: number, steps: number, seed: number): number {
  const vec = new VectorEnv(numEnvs, make);
  const singles = Array.from({ length: numEnvs }, make);
  const first = vec.reset(seed);
  singles.forEach((env, i) => env.resetState(seed + i));
  assert.deepEqual(first.shape, [numEnvs, ...singles[0]!.observationSpace.shape]);
  assert.deepEqual(first.toArray(), singles.map((e) => e.observation().toArray()));
  const pick = new PhiloxRandom(seed + 1000);
  const returns = new Array<number>(numEnvs).fill(0);
  const lengths = new Array<number>(numEnvs).fill(0);
  let finished = 0;
  const size = singles[0]!.observationArray().length;
  const flat = new Array<number>(numEnvs * size).fill(0);
  for (let t = 0; t < steps; t++) {
    const actions = singles.map((e) => Math.floor(pick.random() * e.actionSpace.n));
    const out = vec.act(actions);
    singles.forEach((env, i) => {
      const r = env.act(actions[i]!);
      assert.equal(out.rewards[i], r.reward);
      assert.equal(out.terminated[i], r.terminated);
      assert.equal(out.truncated[i], r.truncated);
      returns[i]! += r.reward;
      lengths[i]! += 1;
      if (r.terminated || r.truncated) {
        // The final observation is kept; the copy has already started its next episode.
        assert.deepEqual(out.finalObservations[i], env.observationArray());
        assert.equal(out.episodeReturns[i], returns[i]);
        assert.equal(out.episodeLengths[i], lengths[i]);
        returns[i] = 0;
        lengths[i] = 0;
        finished++;
        env.resetState();
      } else {
        assert.equal(out.finalObservations[i], null);
        assert.equal(out.episodeReturns[i], null);
      }
    });
    vec.writeObservations(flat);
    assert.deepEqual(flat, singles.flatMap((e) => e.observationArray()));
  }
  return finished;
}

test('VectorEnv (same-step autoreset) equals independent CartPole copies', () => {
  const finished = checkAgainstSingles(() => new CartPoleEnv(), 4, 300, 10);
  assert.ok(finished > 20, `only ${finished} episodes ended`);
});

test('VectorEnv (same-step autoreset) equals independent MinAtar copies', () => {
  const finished = checkAgainstSingles(() => new MinAtarEnv('breakout'), 3, 200, 3);
  assert.ok(finished > 10, `only ${finished} episodes ended`);
});

test('VectorEnv: observations tensor and argument checks', () => {
  const vec = new VectorEnv(2, () => new MinAtarEnv('space_invaders'));
  const r = vec.step([5, 0]);
  assert.deepEqual(r.observations.shape, [2, 6, 10, 10]);
  assert.throws(() => vec.step([0]), /expected 2 actions, got 1/);
  assert.throws(() => new VectorEnv(2, (i) => (i === 0 ? new MinAtarEnv('breakout') : new MinAtarEnv('freeway'))), /disagree on spaces/);
});

test('VectorEnv next-step mode: the step after an episode ends only resets that copy', () => {
  const vec = new VectorEnv(2, () => new CartPoleEnv(), { autoresetMode: 'next-step' });
  const single = new CartPoleEnv();
  vec.resetState(3);
  single.resetState(3);
  let sawEnd = false;
  for (let t = 0; t < 200 && !sawEnd; t++) {
    const out = vec.act([0, 0]); // pushing left ends an episode within a few dozen steps
    const r = single.act(0);
    assert.equal(out.terminated[0], r.terminated);
    if (r.terminated) {
      sawEnd = true;
      // Still showing the final observation; the next call resets instead of stepping.
      assert.deepEqual(vec.envs[0]!.observationArray(), single.observationArray());
      const next = vec.act([1, 1]);
      assert.deepEqual([next.rewards[0], next.terminated[0], next.truncated[0], next.finalObservations[0]], [0, false, false, null]);
      single.resetState();
      assert.deepEqual(vec.envs[0]!.observationArray(), single.observationArray());
    }
  }
  assert.ok(sawEnd);
});
