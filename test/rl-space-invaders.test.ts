// MinAtar Space Invaders: scripted sequences whose outcomes are derived by hand from the rules in
// shared/research/rl-environments.md §1.6 (the game draws no random numbers, so every state is exact).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpaceInvaders } from '../src/rl/minatar/space-invaders.js';
import { FIRE, LEFT, NOOP } from '../src/rl/minatar/game.js';
import { cells, observe } from './rl-script.js';

const ALIEN = 1;
const ALIEN_LEFT = 2;
const ALIEN_RIGHT = 3;
const F_BULLET = 4;
const E_BULLET = 5;

/** The block spanning rows r0..r1 and columns c0..c1, in row-major order. */
function block(r0: number, r1: number, c0: number, c1: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push([r, c]);
  return out;
}

test('Space Invaders: reset state and channels', () => {
  const g = new SpaceInvaders();
  const obs = observe(g);
  assert.deepEqual(g.channelNames, ['cannon', 'alien', 'alien_left', 'alien_right', 'friendly_bullet', 'enemy_bullet']);
  assert.deepEqual(cells(obs, 0), [[9, 5]]);
  assert.deepEqual(cells(obs, ALIEN), block(0, 3, 2, 7));
  // The block starts moving left, so alien_left copies the aliens and alien_right is empty.
  assert.deepEqual(cells(obs, ALIEN_LEFT), block(0, 3, 2, 7));
  assert.deepEqual(cells(obs, ALIEN_RIGHT), []);
});

test('Space Invaders: first shot at step 11, first move at step 13, a standing cannon dies at step 17', () => {
  // alien_shot_timer = 10 counts down to 0 at the end of step 10, so the shot fires at step 11: the
  // column nearest the cannon (pos 5) is 5 itself, its lowest alien is on row 3, and the bullet
  // starts in that alien's cell. alien_move_timer = 12 reaches 0 at the end of step 12: the block
  // shifts left at step 13 (no alien in column 0). The bullet falls a row per step from step 12:
  // row 4 (step 12), 5 (13), 6, 7, 8, and row 9 = the cannon's cell at step 17.
  const g = new SpaceInvaders();
  for (let t = 1; t <= 17; t++) {
    const reward = g.act(NOOP);
    assert.equal(reward, 0);
    const obs = observe(g);
    if (t <= 10) assert.deepEqual(cells(obs, E_BULLET), [], `step ${t}`);
    if (t >= 11) assert.deepEqual(cells(obs, E_BULLET), [[3 + (t - 11), 5]], `step ${t}`);
    if (t < 13) assert.deepEqual(cells(obs, ALIEN), block(0, 3, 2, 7), `step ${t}`);
    else assert.deepEqual(cells(obs, ALIEN), block(0, 3, 1, 6), `step ${t}`);
    assert.equal(g.terminal, t === 17, `terminal after step ${t}`);
  }
  // Once terminal, nothing changes.
  const before = observe(g);
  assert.equal(g.act(FIRE), 0);
  assert.deepEqual(observe(g), before);
});

test('Space Invaders: the block sweeps left, steps down and reverses at the edge, every 12 steps', () => {
  const g = new SpaceInvaders();
  g.alienShotTimer = 1e9; // no alien shots, so only movement is tested
  // Moves at steps 13 (columns 1-6), 25 (columns 0-5), then at step 37 an alien is in column 0
  // while moving left: the direction reverses and the block moves down one row instead (rows 1-4);
  // at step 49 it shifts right (columns 1-6).
  const expected: Record<number, [number, number][]> = {
    12: block(0, 3, 2, 7),
    13: block(0, 3, 1, 6),
    24: block(0, 3, 1, 6),
    25: block(0, 3, 0, 5),
    36: block(0, 3, 0, 5),
    37: block(1, 4, 0, 5),
    48: block(1, 4, 0, 5),
    49: block(1, 4, 1, 6),
  };
  for (let t = 1; t <= 49; t++) {
    g.act(NOOP);
    const obs = observe(g);
    if (expected[t]) assert.deepEqual(cells(obs, ALIEN), expected[t], `aliens after step ${t}`);
    if (t === 37) {
      assert.equal(g.alienDir, 1);
      assert.deepEqual(cells(obs, ALIEN_RIGHT), block(1, 4, 0, 5));
      assert.deepEqual(cells(obs, ALIEN_LEFT), []);
    }
  }
  assert.equal(g.terminal, false);
});

test('Space Invaders: shots travel up a row per step, cool down for 5 steps, and kill on contact', () => {
  // Step 1: FIRE puts a bullet at (9, 5); the bullet phase moves it to (8, 5) in the same step.
  // shot_timer = 5 is 4 after step 1 and 0 after step 5, so FIRE at steps 2-5 does nothing and
  // FIRE at step 6 shoots again. The first bullet reaches row 3 at step 6 and kills the alien at
  // (3, 5) (+1). The second bullet is at row 3 at step 11 (empty now) and kills (2, 5) at step 12.
  // Meanwhile the alien shot at step 11 comes from column 5's lowest remaining alien, (2, 5),
  // and falls to (3, 5) at step 12: bullets pass each other.
  const g = new SpaceInvaders();
  const rewards: number[] = [];
  for (let t = 1; t <= 12; t++) {
    rewards.push(g.act(t <= 6 ? FIRE : NOOP));
    const obs = observe(g);
    if (t === 1) assert.deepEqual(cells(obs, F_BULLET), [[8, 5]]);
    if (t === 5) assert.deepEqual(cells(obs, F_BULLET), [[4, 5]]);
    if (t === 6) {
      assert.deepEqual(cells(obs, F_BULLET), [[8, 5]]);
      assert.equal(cells(obs, ALIEN).length, 23);
      assert.equal(g.aliens[3]![5], false);
    }
    if (t === 11) assert.deepEqual(cells(obs, E_BULLET), [[2, 5]]);
    if (t === 12) {
      assert.deepEqual(cells(obs, E_BULLET), [[3, 5]]);
      assert.deepEqual(cells(obs, F_BULLET), []);
      assert.equal(g.aliens[2]![5], false);
    }
  }
  assert.deepEqual(rewards, [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
});

test('Space Invaders: with fewer aliens than the interval, the block moves every (count) steps', () => {
  const g = new SpaceInvaders();
  g.alienShotTimer = 1e9;
  g.aliens.forEach((row) => row.fill(false));
  g.aliens[0]![4] = g.aliens[0]![5] = g.aliens[0]![6] = true;
  g.alienMoveTimer = 0;
  // Three aliens: the timer is set to min(3, 12) = 3 at each move, so moves happen at steps 1, 4, 7.
  const leftmost: number[] = [];
  for (let t = 1; t <= 7; t++) {
    g.act(NOOP);
    leftmost.push(cells(observe(g), ALIEN)[0]![1]);
  }
  assert.deepEqual(leftmost, [3, 3, 3, 2, 2, 2, 1]);
});

test('Space Invaders: clearing a wave respawns the block and ramps the interval down to 6', () => {
  for (const [ramping, interval, expectInterval, expectRamp] of [
    [true, 12, 11, 1],
    [false, 12, 12, 0],
    [true, 6, 6, 0],
  ] as const) {
    const g = new SpaceInvaders(ramping);
    g.enemyMoveInterval = interval;
    g.aliens.forEach((row) => row.fill(false));
    g.aliens[3]![5] = true;
    g.fBullets[4]![5] = true;
    // Step 1: the bullet moves up into (3, 5) and kills the last alien; the wave respawns at once.
    assert.equal(g.act(NOOP), 1);
    assert.equal(g.enemyMoveInterval, expectInterval);
    assert.equal(g.rampIndex(), expectRamp);
    assert.deepEqual(cells(observe(g), ALIEN), block(0, 3, 2, 7));
    assert.equal(g.alienDir, -1);
    assert.equal(g.alienMoveTimer, 11); // untouched by the respawn: 12, decremented once
  }
});

test('Space Invaders: the alien shot aims at the nearest occupied column, ties to the lower one', () => {
  const g = new SpaceInvaders();
  g.aliens.forEach((row) => row.fill(false));
  g.aliens[1]![3] = g.aliens[2]![3] = g.aliens[0]![7] = true;
  g.alienShotTimer = 0;
  g.alienMoveTimer = 5;
  g.act(NOOP);
  // Columns 3 and 7 are both 2 from the cannon at 5: column 3 wins; its lowest alien is on row 2.
  assert.deepEqual(cells(observe(g), E_BULLET), [[2, 3]]);
});

test('Space Invaders: the episode ends when the block must step down from row 9, or an alien reaches the cannon', () => {
  const g = new SpaceInvaders();
  g.aliens.forEach((row) => row.fill(false));
  g.aliens[9]![0] = true;
  g.alienMoveTimer = 0;
  g.act(NOOP); // at the left edge moving left, with an alien on row 9
  assert.equal(g.terminal, true);

  const h = new SpaceInvaders();
  h.aliens.forEach((row) => row.fill(false));
  h.aliens[9]![4] = true;
  h.act(LEFT); // the cannon moves from 5 into the alien's cell at (9, 4)
  assert.equal(h.terminal, true);
});
