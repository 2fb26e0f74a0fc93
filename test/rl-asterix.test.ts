// MinAtar Asterix: scripted sequences derived by hand from the rules in
// shared/research/rl-environments.md §1.2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Asterix } from '../src/rl/minatar/asterix.js';
import { DOWN, LEFT, NOOP, RIGHT, UP } from '../src/rl/minatar/game.js';
import { cells, Constant, observe, Script } from './rl-script.js';

const PLAYER = 0;
const ENEMY = 1;
const TRAIL = 2;
const GOLD = 3;

test('Asterix: spawns every 10 steps from step 11, moves every 5 from step 6, gold gives +1', () => {
  // Spawn draws, in order: moving right (u < 1/2), gold (u < 1/3), then the slot among the free ones.
  const script = new Script([
    0.1, 0.9, 0.0, // step 11: rightward enemy, free slots 0..7, slot 0 (row 1), x 0
    0.9, 0.2, 0.99, // step 21: leftward gold, free slots 1..7, index floor(0.99 * 7) = 6 -> slot 7 (row 8), x 9
    0.1, 0.9, 0.0, // step 31: rightward enemy, free slots 1..6, slot 1 (row 2)
  ]);
  const g = new Asterix(script);
  const rewards: number[] = [];
  for (let t = 1; t <= 36; t++) {
    // Three DOWNs take the player from (row 5, col 5) to row 8, where the gold will arrive.
    rewards.push(g.act(t <= 3 ? DOWN : NOOP));
    const obs = observe(g);
    if (t === 11) {
      // Spawned at x 0 and moved in the same step (moves at 6, 11, 16, ...): x 1, trail behind at x 0.
      assert.deepEqual(cells(obs, ENEMY), [[1, 1]]);
      assert.deepEqual(cells(obs, TRAIL), [[1, 0]]);
    }
    if (t === 21) {
      // Enemy moved at 16 and 21 (x 3); the gold spawned at x 9 and moved left to 8, trail at 9.
      assert.deepEqual(cells(obs, ENEMY), [[1, 3]]);
      assert.deepEqual(cells(obs, GOLD), [[8, 8]]);
      assert.deepEqual(cells(obs, TRAIL), [[1, 2], [8, 9]]);
    }
    if (t === 35) assert.deepEqual(cells(obs, GOLD), [[8, 6]]);
  }
  // The gold reaches x 5 at step 36 (moves at 26, 31, 36: x 7, 6, 5) and is collected in the
  // collision pass after the move.
  assert.deepEqual(rewards.map((r, i) => (r ? i + 1 : 0)).filter(Boolean), [36]);
  assert.equal(script.drawn, 9);
  const obs = observe(g);
  assert.deepEqual(cells(obs, PLAYER), [[8, 5]]);
  assert.deepEqual(cells(obs, GOLD), []);
  assert.deepEqual(cells(obs, ENEMY), [[1, 6], [2, 2]]);
  assert.equal(g.terminal, false);
});

test('Asterix: walking into an enemy, or an enemy moving onto the player, ends the episode', () => {
  const g = new Asterix(new Script([]));
  g.entities[4] = { x: 6, movingRight: false, isGold: false }; // row 5, just right of the player
  assert.equal(g.act(RIGHT), 0);
  assert.equal(g.terminal, true);
  // The enemy is not removed: it shares the player's cell in the final observation.
  const obs = observe(g);
  assert.deepEqual(cells(obs, PLAYER), [[5, 6]]);
  assert.deepEqual(cells(obs, ENEMY), [[5, 6]]);
  assert.equal(g.act(LEFT), 0);
  assert.deepEqual(observe(g), obs);

  const h = new Asterix(new Script([]));
  h.entities[4] = { x: 4, movingRight: true, isGold: false };
  h.moveTimer = 0;
  h.act(NOOP); // the enemy moves from x 4 onto the player at x 5
  assert.equal(h.terminal, true);
});

test('Asterix: with every slot taken a spawn still consumes its two draws but places nothing', () => {
  const script = new Script([0.1, 0.1]);
  const g = new Asterix(script);
  for (let slot = 0; slot < 8; slot++) g.entities[slot] = { x: 0, movingRight: true, isGold: true };
  g.spawnTimer = 0;
  g.moveTimer = 3;
  g.act(NOOP);
  assert.equal(script.drawn, 2); // a third (slot) draw would have thrown
  assert.equal(g.spawnTimer, 9); // reset to the spawn speed 10, then decremented
});

test('Asterix: the player is clamped to columns 0-9 and rows 1-8', () => {
  const g = new Asterix(new Constant(0.2)); // every spawn is gold, so nothing can end the episode
  const at = () => [g.playerY, g.playerX];
  for (let i = 0; i < 10; i++) g.act(UP);
  assert.deepEqual(at(), [1, 5]);
  for (let i = 0; i < 10; i++) g.act(LEFT);
  assert.deepEqual(at(), [1, 0]);
  for (let i = 0; i < 10; i++) g.act(DOWN);
  assert.deepEqual(at(), [8, 0]);
  for (let i = 0; i < 10; i++) g.act(RIGHT);
  assert.deepEqual(at(), [8, 9]);
});

test('Asterix: the difficulty ramps every 102 steps until both speeds reach 1 at step 918', () => {
  const rng = new Constant(0.2); // gold only: the episode cannot end
  const g = new Asterix(rng);
  const rampSteps: number[] = [];
  const speeds: [number, number][] = [];
  const spawnSteps: number[] = [];
  for (let t = 1; t <= 1500; t++) {
    const before = g.rampIndex();
    const draws = rng.count;
    g.act(NOOP);
    if (rng.count - draws >= 2 && t <= 140) spawnSteps.push(t);
    if (g.rampIndex() !== before) {
      rampSteps.push(t);
      speeds.push([g.spawnSpeed, g.moveSpeed]);
    }
  }
  assert.equal(g.terminal, false);
  // ramp_timer = 100 is decremented on steps 1..101 (to -1); step 102 ramps and resets it to 100.
  assert.deepEqual(rampSteps, [102, 204, 306, 408, 510, 612, 714, 816, 918]);
  // spawn_speed drops every ramp; move_speed only on ramps whose index (before the increment) is odd.
  assert.deepEqual(speeds, [[9, 5], [8, 4], [7, 4], [6, 3], [5, 3], [4, 2], [3, 2], [2, 1], [1, 1]]);
  // New speeds apply when a timer next resets: spawns at 11, 21, ..., 101 (reset to 10), then 111
  // (reset to the ramped 9), 120, 129, 138.
  assert.deepEqual(spawnSteps, [11, 21, 31, 41, 51, 61, 71, 81, 91, 101, 111, 120, 129, 138]);

  const flat = new Asterix(new Constant(0.2), false);
  for (let t = 1; t <= 300; t++) flat.act(NOOP);
  assert.equal(flat.rampIndex(), 0);
  assert.deepEqual([flat.spawnSpeed, flat.moveSpeed], [10, 5]);
});

test('Asterix: stepping onto gold collects it before the move; trails stay on the grid', () => {
  const g = new Asterix(new Script([]));
  g.entities[4] = { x: 6, movingRight: true, isGold: true }; // row 5, right of the player
  g.entities[0] = { x: 0, movingRight: true, isGold: false }; // row 1 at the left edge: no trail cell
  g.entities[7] = { x: 0, movingRight: false, isGold: false }; // row 8 moving left: trail at x 1
  const obs = observe(g);
  assert.deepEqual(cells(obs, TRAIL), [[5, 5], [8, 1]]);
  // Collision pass 1 (after the player's move, before any entity moves): +1 and the gold is gone.
  assert.equal(g.act(RIGHT), 1);
  assert.equal(g.entities[4], null);
  assert.equal(g.terminal, false);
});
