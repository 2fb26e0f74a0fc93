// MinAtar Breakout: scripted sequences whose states are derived by hand from the rules in
// shared/research/rl-environments.md §1.3. Directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Breakout } from '../src/rl/minatar/breakout.js';
import { LEFT, NOOP, RIGHT } from '../src/rl/minatar/game.js';
import { cells, observe, Script } from './rl-script.js';

const PADDLE = 0;
const BALL = 1;
const TRAIL = 2;
const BRICK = 3;

function brickRows(rows: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const r of rows) for (let c = 0; c < 10; c++) out.push([r, c]);
  return out;
}

test('Breakout: reset puts 30 bricks on rows 1-3 and the ball on a row-3 brick, at a corner chosen by one draw', () => {
  const left = new Breakout(new Script([0.2]));
  const obs = observe(left);
  assert.deepEqual(cells(obs, BRICK), brickRows([1, 2, 3]));
  assert.deepEqual(cells(obs, BALL), [[3, 0]]);
  assert.deepEqual(cells(obs, TRAIL), [[3, 0]]); // last position = ball position at reset
  assert.deepEqual(cells(obs, PADDLE), [[9, 4]]);
  assert.equal(left.ballDir, 2);
  const right = new Breakout(new Script([0.7]));
  assert.deepEqual([right.ballX, right.ballY, right.ballDir], [9, 3, 3]);
  assert.equal(right.rampIndex(), null);
});

test('Breakout: a missed ball ends the episode on row 9 at step 6', () => {
  // From (x 0, y 3) moving down-right: (1,4), (2,5), (3,6), (4,7), (5,8); at step 6 the candidate is
  // (6, 9): old x 5 and new x 6 both differ from the paddle at 4, so the episode ends, ball on row 9.
  const g = new Breakout(new Script([0.2]));
  const path: [number, number][] = [];
  for (let t = 1; t <= 6; t++) {
    assert.equal(g.act(NOOP), 0);
    path.push([g.ballX, g.ballY]);
    assert.equal(g.terminal, t === 6);
  }
  assert.deepEqual(path, [[1, 4], [2, 5], [3, 6], [4, 7], [5, 8], [6, 9]]);
  assert.deepEqual(cells(observe(g), TRAIL), [[8, 5]]);
  assert.equal(g.act(NOOP), 0);
  assert.deepEqual([g.ballX, g.ballY], [6, 9]);
});

test('Breakout: paddle below bounces straight back up; side wall; brick +1 with the ball keeping its row; diagonal catch reverses', () => {
  const g = new Breakout(new Script([0.2]));
  // Step 1 moves the paddle to 5. The ball reaches (5, 8) at step 5. Step 6: the ball's old x (5)
  // equals the paddle: V-flip (2 -> 1, up-right) and the ball stays on row 8: (6, 8).
  // Steps 7-9: (7,7), (8,6), (9,5). Step 10: candidate x 10 is clamped to 9 and the direction
  // H-flips (1 -> 0, up-left); the ball moves only up: (9, 4).
  // Step 11: candidate (8, 3) holds a brick: +1, the brick goes, V-flip (0 -> 3, down-left), and the
  // ball keeps its row: (8, 4).
  // Steps 12-15: (7,5), (6,6), (5,7), (4,8) while the paddle moves left at steps 12 and 13 (to 3).
  // Step 16: candidate (3, 9); old x 4 is not the paddle, but the landing x 3 is: reverse
  // (3 -> 1, up-right), the ball keeps row 8: (3, 8).
  const actions = [RIGHT, NOOP, NOOP, NOOP, NOOP, NOOP, NOOP, NOOP, NOOP, NOOP, NOOP, LEFT, LEFT, NOOP, NOOP, NOOP];
  const expected: [number, number, number][] = [
    [1, 4, 2], [2, 5, 2], [3, 6, 2], [4, 7, 2], [5, 8, 2], [6, 8, 1], [7, 7, 1], [8, 6, 1], [9, 5, 1], [9, 4, 0],
    [8, 4, 3], [7, 5, 3], [6, 6, 3], [5, 7, 3], [4, 8, 3], [3, 8, 1],
  ];
  const rewards: number[] = [];
  actions.forEach((a, t) => {
    rewards.push(g.act(a));
    assert.deepEqual([g.ballX, g.ballY, g.ballDir], expected[t], `ball after step ${t + 1}`);
    assert.equal(g.terminal, false, `step ${t + 1}`);
  });
  assert.deepEqual(rewards, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
  assert.equal(g.pos, 3);
  const bricks = cells(observe(g), BRICK);
  assert.equal(bricks.length, 29);
  assert.equal(g.bricks[3]![8], false);
});

test('Breakout: the strike debounce lets the ball enter a brick right after a hit', () => {
  const g = new Breakout(new Script([0.2]));
  g.bricks.forEach((row) => row.fill(false));
  g.bricks[4]![3] = true;
  g.bricks[6]![2] = true;
  g.ballX = 4;
  g.ballY = 5;
  g.ballDir = 0;
  // Step 1: candidate (3, 4) is a brick: +1, removed, V-flip (0 -> 3), ball stays on row 5: (3, 5).
  assert.equal(g.act(NOOP), 1);
  assert.deepEqual([g.ballX, g.ballY, g.ballDir, g.strike], [3, 5, 3, true]);
  // Step 2: candidate (2, 6) is a brick, but a brick was struck last step: no reward, no bounce,
  // the brick stays and the ball moves into its cell.
  assert.equal(g.act(NOOP), 0);
  assert.deepEqual([g.ballX, g.ballY, g.ballDir, g.strike], [2, 6, 3, true]);
  assert.equal(g.bricks[6]![2], true);
  const obs = observe(g);
  assert.deepEqual(cells(obs, BALL), [[6, 2]]);
  assert.deepEqual(cells(obs, BRICK), [[6, 2]]);
  // Step 3: candidate (1, 7) is empty, so the debounce clears.
  assert.equal(g.act(NOOP), 0);
  assert.deepEqual([g.ballX, g.ballY, g.strike], [1, 7, false]);
});

test('Breakout: the ceiling reflects with no brick check', () => {
  const g = new Breakout(new Script([0.2]));
  g.ballX = 5;
  g.ballY = 0;
  g.ballDir = 0;
  g.act(NOOP);
  // Candidate (4, -1): y set to 0 and V-flip (0 -> 3): the ball slides along row 0.
  assert.deepEqual([g.ballX, g.ballY, g.ballDir], [4, 0, 3]);
});

test('Breakout: bricks refill only when the ball reaches row 9 with none left', () => {
  const g = new Breakout(new Script([0.2]));
  g.bricks.forEach((row) => row.fill(false));
  g.ballX = 2;
  g.ballY = 6;
  g.ballDir = 2; // down-right: (3, 7), (4, 8), then row 9 at step 3
  g.pos = 9;
  g.act(NOOP);
  g.act(NOOP);
  assert.deepEqual(cells(observe(g), BRICK), []);
  g.act(NOOP); // candidate (5, 9): refill, then the miss ends the episode
  assert.equal(g.terminal, true);
  assert.deepEqual(cells(observe(g), BRICK), brickRows([1, 2, 3]));
});
