// MinAtar Freeway: scripted sequences derived by hand from the rules in
// shared/research/rl-environments.md §1.4, and the exact episode length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Freeway } from '../src/rl/minatar/freeway.js';
import { MinAtarEnv } from '../src/rl/minatar/env.js';
import { DOWN, NOOP, UP } from '../src/rl/minatar/game.js';
import { PhiloxRandom } from '../src/rl/random.js';
import { cells, observe, Script } from './rl-script.js';

/** Draws that make randint(1, 6) return k. */
const magnitude = (k: number) => (k - 1) / 5 + 0.01;
const LEFTWARD = 0.1; // sign(u - 0.5) = -1
const RIGHTWARD = 0.9;

test('Freeway: a car with |speed| k moves once every k + 1 steps; trails wrap and use channel 1 + |speed|', () => {
  // Reset draws the 8 magnitudes first, then the 8 directions.
  const ks = [1, 2, 3, 4, 5, 1, 2, 3];
  const g = new Freeway(new Script([...ks.map(magnitude), ...ks.map(() => RIGHTWARD)]));
  assert.deepEqual(g.cars.map((c) => c.speed), ks);
  assert.deepEqual(g.cars.map((c) => c.x), [0, 0, 0, 0, 0, 0, 0, 0]);
  const obs0 = observe(g);
  assert.deepEqual(cells(obs0, 0), [[9, 4]]);
  // Every car is at x 0 moving right, so its trail wraps to x 9, on channel 1 + k.
  ks.forEach((k, i) => assert.ok(cells(obs0, 1 + k).some(([r, c]) => r === i + 1 && c === 9), `car ${i} trail`));
  for (let t = 1; t <= 12; t++) g.act(NOOP);
  // Timer k counts down to 0 over k steps and the car moves on the next: after 12 steps it has moved
  // floor(12 / (k + 1)) cells.
  assert.deepEqual(g.cars.map((c) => c.x), ks.map((k) => Math.floor(12 / (k + 1))));
});

test('Freeway: the chicken moves every 3 steps, scores on crossing, and is sent back by a car', () => {
  // All cars: speed -5, at x 0. They move at steps 6, 12, 18, 24 (to x 9, 8, 7, 6), never reaching
  // column 4 before step 28. Holding UP, the chicken moves at steps 4, 7, ..., 28 (rows 8 .. 0):
  // at step 28 it reaches row 0: +1, new speeds (here +1 for every car, timer 1), back to row 9.
  // Cars keep x 6 and now move at steps 29, 31, ..., reaching x 3 at step 41 and x 4 at step 43.
  // The chicken moves at 31, 34, 37, 40, 43 (rows 8, 7, 6, 5, 4): at step 43 the row-4 car moves
  // into (row 4, column 4) just after the chicken arrives there, so the chicken goes back to row 9.
  const script = new Script([...Array(8).fill(magnitude(5)), ...Array(8).fill(LEFTWARD)]);
  const g = new Freeway(script);
  script.push(...Array(8).fill(magnitude(1)), ...Array(8).fill(RIGHTWARD)); // the crossing's redraw
  const rows: number[] = [];
  const rewards: number[] = [];
  for (let t = 1; t <= 43; t++) {
    rewards.push(g.act(UP));
    rows.push(g.pos);
  }
  const expectedRows: number[] = [];
  let row = 9;
  for (let t = 1; t <= 43; t++) {
    if (t <= 28 && t % 3 === 1 && t >= 4) row--;
    if (t === 28) row = 9;
    if (t > 28 && (t - 28) % 3 === 0) row--;
    if (t === 43) row = 9;
    expectedRows.push(row);
  }
  assert.deepEqual(rows, expectedRows);
  assert.deepEqual(rewards.map((r, i) => (r ? i + 1 : 0)).filter(Boolean), [28]);
  assert.equal(script.drawn, 32);
  assert.deepEqual(g.cars.map((c) => c.x), Array(8).fill(4));
  assert.deepEqual(g.cars.map((c) => c.speed), Array(8).fill(1));
  // Speed-1 cars leave a trail on channel 2, one cell behind (left of) them.
  assert.deepEqual(cells(observe(g), 2), [1, 2, 3, 4, 5, 6, 7, 8].map((r) => [r, 3]));
  assert.equal(g.terminal, false);
});

test('Freeway: DOWN at the bottom row stays put but restarts the move timer', () => {
  const g = new Freeway(new Script([...Array(8).fill(magnitude(5)), ...Array(8).fill(RIGHTWARD)]));
  for (let t = 1; t <= 3; t++) g.act(NOOP);
  assert.equal(g.moveTimer, 0);
  g.act(DOWN);
  assert.equal(g.pos, 9);
  assert.equal(g.moveTimer, 2); // set to 3, then decremented at the end of the step
  g.act(UP);
  assert.equal(g.pos, 9); // still cooling down
});

test('Freeway: every episode lasts exactly 2,501 steps, whatever the policy', () => {
  const env = new MinAtarEnv('freeway', { seed: 3 });
  const coin = new PhiloxRandom(9);
  const policies: ((t: number) => number)[] = [() => NOOP, () => UP, () => Math.floor(coin.random() * 6)];
  for (const policy of policies) {
    env.resetState();
    let t = 0;
    let done = false;
    while (!done) {
      t++;
      const r = env.act(policy(t));
      assert.equal(r.truncated, false);
      done = r.terminated;
      if (t > 3000) break;
    }
    assert.equal(t, 2501);
  }
  // After the end, steps give 0 and change nothing.
  const before = env.observationArray();
  assert.deepEqual(env.act(2), { reward: 0, terminated: true, truncated: false });
  assert.deepEqual(env.observationArray(), before);
});

test('Freeway: moving into a lane where a car already sits in column 4 sends the chicken back', () => {
  const g = new Freeway(new Script([...Array(8).fill(magnitude(5)), ...Array(8).fill(RIGHTWARD)]));
  g.moveTimer = 0;
  g.cars[7]!.x = 4; // row 8's car, waiting (timer 5)
  assert.equal(g.act(UP), 0); // the chicken moves to row 8, meets the car before it moves: back to 9
  assert.equal(g.pos, 9);
  assert.equal(g.terminal, false);
});
