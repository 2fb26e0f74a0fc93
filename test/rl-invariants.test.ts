// Invariants of each MinAtar game's rules, checked on every step of long random rollouts (so they
// cover states no scripted test sets up): objects stay on their rows and on the grid, rewards
// match what disappeared, and the observation draws exactly the state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinAtarEnv } from '../src/rl/minatar/env.js';
import type { Asterix } from '../src/rl/minatar/asterix.js';
import type { Breakout } from '../src/rl/minatar/breakout.js';
import type { Freeway } from '../src/rl/minatar/freeway.js';
import type { Seaquest } from '../src/rl/minatar/seaquest.js';
import type { SpaceInvaders } from '../src/rl/minatar/space-invaders.js';
import { PhiloxRandom } from '../src/rl/random.js';
import { cells } from './rl-script.js';

const STEPS = 4000;

/** Runs a random policy; `check(reward, obs)` runs after every step. */
function rollout<G>(name: 'asterix' | 'breakout' | 'freeway' | 'seaquest' | 'space_invaders', before: (game: G) => void, check: (game: G, reward: number, obs: number[]) => void): number {
  const env = new MinAtarEnv(name, { seed: 17 });
  const game = env.game as unknown as G;
  const pick = new PhiloxRandom(18);
  let episodes = 0;
  for (let t = 0; t < STEPS; t++) {
    before(game);
    const r = env.act(Math.floor(pick.random() * 6));
    check(game, r.reward, env.observationArray());
    if (r.terminated) {
      env.resetState();
      episodes++;
    }
  }
  return episodes;
}

test('Asterix invariants: one entity per row 1-8, on the grid; the player on rows 1-8; gold reward = gold gone', () => {
  let goldBefore = 0;
  const golds = (g: Asterix) => g.entities.filter((e) => e?.isGold).length;
  rollout<Asterix>('asterix', (g) => (goldBefore = golds(g)), (g, reward, obs) => {
    assert.ok(g.playerY >= 1 && g.playerY <= 8 && g.playerX >= 0 && g.playerX <= 9);
    assert.deepEqual(cells(obs, 0), [[g.playerY, g.playerX]]);
    const drawn = [...cells(obs, 1), ...cells(obs, 3)];
    assert.equal(drawn.length, g.entities.filter(Boolean).length);
    for (const [row] of drawn) assert.ok(row >= 1 && row <= 8);
    assert.equal(new Set(drawn.map(([row]) => row)).size, drawn.length, 'two entities on one row');
    // One entity per row, so at most one gold is collected per step; at most one spawns, and a
    // collection (+1) removes one, so the gold count cannot grow on a rewarded step.
    assert.ok(reward === 0 || reward === 1);
    assert.ok(golds(g) <= goldBefore + 1 - reward);
  });
});

test('Breakout invariants: bricks only on rows 1-3; reward = bricks removed (or refilled); one ball, on the grid', () => {
  let bricksBefore = 0;
  const count = (g: Breakout) => g.bricks.flat().filter(Boolean).length;
  const episodes = rollout<Breakout>('breakout', (g) => (bricksBefore = count(g)), (g, reward, obs) => {
    const bricks = cells(obs, 3);
    assert.ok(bricks.every(([r]) => r >= 1 && r <= 3));
    if (bricks.length <= bricksBefore) assert.equal(reward, bricksBefore - bricks.length);
    else assert.equal(bricks.length, 30 - reward); // a refill at row 9 (a brick hit cannot happen there)
    assert.equal(cells(obs, 1).length, 1);
    assert.deepEqual(cells(obs, 0), [[9, g.pos]]);
    // The trail is where the ball was: at most one move (dx, dy each -1..1) away.
    const [[by, bx]] = cells(obs, 1) as [[number, number]];
    const [[ty, tx]] = cells(obs, 2) as [[number, number]];
    assert.ok(Math.abs(by - ty) <= 1 && Math.abs(bx - tx) <= 1);
  });
  assert.ok(episodes > 100);
});

test('Freeway invariants: chicken in column 4 never seen on row 0; each car keeps its row and speed channel', () => {
  rollout<Freeway>('freeway', () => {}, (g, reward, obs) => {
    const [[row, col]] = cells(obs, 0) as [[number, number]];
    assert.equal(col, 4);
    assert.ok(row >= 1 && row <= 9);
    if (reward) assert.equal(row, 9);
    const cars = cells(obs, 1);
    assert.deepEqual(cars.map(([r]) => r), [1, 2, 3, 4, 5, 6, 7, 8]);
    g.cars.forEach((car, i) => {
      assert.equal(car.row, i + 1);
      assert.ok(Math.abs(car.speed) >= 1 && Math.abs(car.speed) <= 5);
      assert.ok(car.timer >= 0 && car.timer <= Math.abs(car.speed));
      assert.ok(cells(obs, 1 + Math.abs(car.speed)).some(([r]) => r === car.row));
    });
  });
});

test('Seaquest invariants: the sub stays on rows 0-8; gauges on row 9 match oxygen and divers; rewards are shots or a surfacing', () => {
  let before = { enemies: 0, ramp: 0 };
  rollout<Seaquest>('seaquest', (g) => (before = { enemies: g.eFish.length + g.eSubs.length, ramp: g.ramp }), (g, reward, obs) => {
    assert.ok(g.subY >= 0 && g.subY <= 8);
    assert.deepEqual(cells(obs, 0), [[g.subY, g.subX]]);
    const lit = Math.floor((Math.max(0, g.oxygen) * 10) / 200);
    assert.equal(cells(obs, 7).length, lit);
    assert.equal(cells(obs, 8).length, Math.max(0, g.diverCount));
    for (let c = 2; c <= 9; c++) if (c !== 7 && c !== 8) assert.ok(cells(obs, c).every(([r]) => r <= 8), `channel ${c} off row 9`);
    assert.ok(g.diverCount <= 6);
    // Without a surfacing (ramp unchanged), every point is an enemy gone.
    if (g.ramp === before.ramp) assert.ok(reward <= before.enemies + 1);
  });
});

test('Space Invaders invariants: reward = aliens killed; alien_left/right copy the aliens by direction', () => {
  let aliensBefore = 0;
  const count = (g: SpaceInvaders) => g.aliens.flat().filter(Boolean).length;
  rollout<SpaceInvaders>('space_invaders', (g) => (aliensBefore = count(g)), (g, reward, obs) => {
    const aliens = cells(obs, 1);
    if (aliens.length === 24 && aliensBefore - reward === 0) {
      // The wave was cleared and respawned this step.
      assert.ok(reward >= 1);
    } else {
      assert.equal(aliens.length, aliensBefore - reward);
    }
    assert.deepEqual(cells(obs, g.alienDir < 0 ? 2 : 3), aliens);
    assert.deepEqual(cells(obs, g.alienDir < 0 ? 3 : 2), []);
    assert.deepEqual(cells(obs, 0), [[9, g.pos]]);
    assert.ok(g.shotTimer >= 0 && g.shotTimer <= 5);
  });
});
