// The MinAtar wrapper: spaces and ids, the full and minimal action sets, sticky actions (p = 0.1,
// carried across resets), determinism under a seed, and the stepping contract after termination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MINATAR_GAMES, MinAtarEnv } from '../src/rl/minatar/env.js';
import { Breakout } from '../src/rl/minatar/breakout.js';
import { LEFT, RIGHT } from '../src/rl/minatar/game.js';
import { makeEnv } from '../src/rl/index.js';
import { PhiloxRandom } from '../src/rl/random.js';
import { Script } from './rl-script.js';

test('MinAtar: channel counts, spaces, ids and action sets', () => {
  const channels = { asterix: 4, breakout: 4, freeway: 7, seaquest: 10, space_invaders: 6 };
  const minimal = { asterix: [0, 1, 2, 3, 4], breakout: [0, 1, 3], freeway: [0, 2, 4], seaquest: [0, 1, 2, 3, 4, 5], space_invaders: [0, 1, 3, 5] };
  for (const name of MINATAR_GAMES) {
    const full = new MinAtarEnv(name);
    assert.deepEqual(full.observationSpace.shape, [channels[name], 10, 10]);
    assert.equal(full.actionSpace.n, 6);
    assert.deepEqual(full.actionSet, [0, 1, 2, 3, 4, 5]);
    const small = new MinAtarEnv(name, { minimalActionSet: true });
    assert.deepEqual(small.actionSet, minimal[name]);
    assert.equal(small.actionSpace.n, minimal[name].length);
    const { observation, info } = full.reset(1);
    assert.deepEqual(observation.shape, [channels[name], 10, 10]);
    assert.equal(observation.dtype, 'float32');
    assert.ok(full.observationArray().every((v) => v === 0 || v === 1));
    assert.equal(info.rampIndex, name === 'breakout' || name === 'freeway' ? undefined : 0);
  }
  assert.equal(makeEnv('MinAtar/SpaceInvaders-v1').id, 'MinAtar/SpaceInvaders-v1');
  assert.equal(makeEnv('MinAtar/SpaceInvaders-v1').actionSpace.n, 4);
  assert.equal(makeEnv('breakout').id, 'MinAtar/Breakout-v0');
  assert.throws(() => makeEnv('pong'), /unknown environment 'pong'/);
  assert.throws(() => new MinAtarEnv('breakout').act(6), /action must be an integer in \[0, 6\)/);
});

test('MinAtar: a minimal-set index is mapped to the full set before stickiness', () => {
  // Breakout -v1: [noop, left, right] = full indices [0, 1, 3]; coins of 0.5 never stick.
  const env = new MinAtarEnv('breakout', { minimalActionSet: true, rng: new Script([0.2, 0.5, 0.5]) });
  env.act(2);
  assert.equal(env.info().executedAction, 3);
  assert.equal((env.game as Breakout).pos, 5);
  env.act(1);
  assert.equal((env.game as Breakout).pos, 4);
});

test('MinAtar: a sticky action repeats the last executed one, chains, and survives reset()', () => {
  // Draw order: Breakout's reset draw at construction, then per step the sticky coin first.
  const script = new Script([0.2, /* step */ 0.5, /* reset */ 0.2, /* step */ 0.05, /* step */ 0.09, /* step */ 0.1]);
  const env = new MinAtarEnv('breakout', { rng: script });
  const game = env.game as Breakout;
  env.act(RIGHT); // 0.5 >= 0.1: executed as asked
  assert.equal(game.pos, 5);
  env.resetState(); // the paddle returns to 4, but the last action (right) is kept
  assert.equal(game.pos, 4);
  env.act(LEFT); // 0.05 < 0.1: right again
  assert.deepEqual([game.pos, env.info().executedAction], [5, RIGHT]);
  env.act(LEFT); // 0.09 < 0.1: still right (the last *executed* action)
  assert.equal(game.pos, 6);
  env.act(LEFT); // 0.1 is not below 0.1: left
  assert.equal(game.pos, 5);
  assert.equal(script.drawn, 6);
});

test('MinAtar: sticky actions happen on 10% of steps', () => {
  const env = new MinAtarEnv('seaquest', { seed: 11 });
  const pick = new PhiloxRandom(12);
  let sticky = 0;
  const n = 20000;
  for (let t = 0; t < n; t++) {
    // Always ask for something other than the last executed action, so a repeat means a stick.
    const asked = (env.lastAction + 1 + Math.floor(pick.random() * 5)) % 6;
    const r = env.act(asked);
    if (env.lastAction !== asked) sticky++;
    if (r.terminated) env.resetState();
  }
  // Binomial(20000, 0.1): sd = 0.0021 in the fraction; 0.01 is about 4.7 sd.
  assert.ok(Math.abs(sticky / n - 0.1) < 0.01, `sticky fraction ${sticky / n}`);
  const never = new MinAtarEnv('seaquest', { seed: 11, stickyActionProb: 0 });
  for (let t = 0; t < 200; t++) {
    never.act(t % 6);
    assert.equal(never.lastAction, t % 6);
    if (never.game.terminal) never.resetState();
  }
});

test('MinAtar: each game is deterministic under a seed', () => {
  for (const name of MINATAR_GAMES) {
    const rollout = (envSeed: number) => {
      const env = new MinAtarEnv(name);
      env.resetState(envSeed);
      const pick = new PhiloxRandom(99);
      // One FNV-1a-style hash per step of (reward, terminated, observation).
      const trace: number[] = [];
      const obs = new Array<number>(env.observationSpace.shape[0]! * 100).fill(0);
      for (let t = 0; t < 600; t++) {
        const r = env.act(Math.floor(pick.random() * 6));
        env.writeObservation(obs);
        let h = Math.imul(2166136261 ^ r.reward, 16777619) ^ (r.terminated ? 1 : 0);
        for (let i = 0; i < obs.length; i++) h = Math.imul(h ^ (obs[i]! + 2 * i), 16777619);
        trace.push(h >>> 0);
        if (r.terminated) env.resetState();
      }
      return trace;
    };
    const a = rollout(5);
    assert.deepEqual(rollout(5), a, `${name}: same seed, same episode`);
    // Space Invaders draws no random numbers, but its sticky actions do.
    assert.notDeepEqual(rollout(6), a, `${name}: another seed, another episode`);
  }
  // A seeded constructor equals reset(seed) on a fresh env.
  const x = new MinAtarEnv('asterix', { seed: 4 });
  const y = new MinAtarEnv('asterix');
  y.resetState(4);
  x.resetState();
  x.resetState(4);
  for (let t = 0; t < 300; t++) {
    assert.deepEqual(x.act(t % 6), y.act(t % 6));
    assert.deepEqual(x.observationArray(), y.observationArray());
  }
});

test('MinAtar: after termination act returns (0, terminated) and the state stays', () => {
  const env = new MinAtarEnv('breakout', { seed: 0 });
  let r = env.act(0);
  while (!r.terminated) r = env.act(0);
  const obs = env.observationArray();
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(env.act(i % 6), { reward: 0, terminated: true, truncated: false });
    assert.deepEqual(env.observationArray(), obs);
  }
  const step = env.step(1);
  assert.deepEqual([step.reward, step.terminated, step.truncated], [0, true, false]);
});

test('MinAtar: a random policy scores about 0.5 per Breakout episode (MinAtar README: ~0.5)', () => {
  const env = new MinAtarEnv('breakout', { seed: 21 });
  const pick = new PhiloxRandom(22);
  let total = 0;
  const episodes = 2000;
  for (let e = 0; e < episodes; e++) {
    env.resetState();
    for (let done = false; !done; ) {
      const r = env.act(Math.floor(pick.random() * 6));
      total += r.reward;
      done = r.terminated;
    }
  }
  // Returns have sd about 0.75, so the mean of 2000 has sd about 0.017.
  assert.ok(Math.abs(total / episodes - 0.5) < 0.07, `mean return ${total / episodes}`);
});

test('PhiloxRandom: uniform in [0, 1), restorable from its state', () => {
  const rng = new PhiloxRandom(3);
  const first = Array.from({ length: 100 }, () => rng.random());
  assert.ok(first.every((u) => u >= 0 && u < 1));
  const state = rng.getState();
  const next = Array.from({ length: 100 }, () => rng.random());
  const again = new PhiloxRandom(0);
  again.setState(state);
  assert.deepEqual(Array.from({ length: 100 }, () => again.random()), next);
  rng.seed(3);
  assert.deepEqual(Array.from({ length: 100 }, () => rng.random()), first);
  assert.throws(() => rng.seed(-1), /non-negative integer/);
});
