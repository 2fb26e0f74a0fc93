// MinAtar Seaquest: scripted sequences derived by hand from the rules in
// shared/research/rl-environments.md §1.5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Seaquest } from '../src/rl/minatar/seaquest.js';
import { DOWN, FIRE, LEFT, NOOP, RIGHT, UP } from '../src/rl/minatar/game.js';
import { cells, Constant, observe, Script } from './rl-script.js';

const SUB_FRONT = 0;
const SUB_BACK = 1;
const F_BULLET = 2;
const TRAIL = 3;
const E_BULLET = 4;
const FISH = 5;
const E_SUB = 6;
const OXYGEN = 7;
const DIVERS = 8;
const DIVER = 9;

function row9(from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (let c = from; c <= to; c++) out.push([9, c]);
  return out;
}

test('Seaquest: oxygen lasts 200 underwater steps; spawns at steps 21 and 31', () => {
  // u = 0.95: every spawn is leftward (u >= 1/2), a fish (u >= 1/3), on row 1 + floor(0.95 * 8) = 8,
  // far from the sub, which dives to row 1 at step 1 and waits.
  const g = new Seaquest(new Constant(0.95));
  for (let t = 1; t <= 201; t++) {
    g.act(t === 1 ? DOWN : NOOP);
    const obs = observe(g);
    if (t === 1) {
      assert.deepEqual(cells(obs, SUB_FRONT), [[1, 5]]);
      assert.deepEqual(cells(obs, SUB_BACK), [[1, 6]]); // facing left: the back is to the right
    }
    // Oxygen after step t (t <= 200) is 200 - t; the gauge lights floor(oxygen * 10 / 200) cells.
    if (t <= 200) {
      const lit = Math.floor(((200 - t) * 10) / 200);
      assert.deepEqual(cells(obs, OXYGEN), lit > 0 ? row9(0, lit - 1) : [], `gauge after step ${t}`);
    }
    if (t === 20) assert.equal(g.eFish.length, 0);
    if (t === 21) {
      // e_spawn_timer 20 reaches 0 at the end of step 20. The new fish's move timer (5) runs first.
      assert.deepEqual(cells(obs, FISH), [[8, 9]]);
    }
    if (t === 31) {
      // The fish moved at step 26 (x 8); the diver (d_spawn_timer 30) appears at x 9 at step 31.
      // The next fish is due at step 41 (every e_spawn_speed = 20 steps).
      assert.deepEqual(cells(obs, FISH), [[8, 8]]);
      assert.deepEqual(cells(obs, DIVER), [[8, 9]]);
      assert.deepEqual(cells(obs, TRAIL), [[8, 9]]); // the fish's trail; the diver's would be off-grid
    }
    // The 201st consecutive underwater step finds oxygen 0 and ends the episode.
    assert.equal(g.terminal, t === 201, `terminal after step ${t}`);
  }
});

test('Seaquest: surfacing with no diver ends the episode; waiting at the surface costs nothing', () => {
  const g = new Seaquest(new Constant(0.95));
  for (let t = 1; t <= 300; t++) g.act(NOOP);
  assert.equal(g.terminal, false);
  assert.equal(g.oxygen, 200);
  g.act(DOWN); // row 1: under water, surface flag cleared
  assert.equal(g.terminal, false);
  g.act(UP); // back at row 0 with diver_count 0
  assert.equal(g.terminal, true);
});

test('Seaquest: a full load of divers scores the oxygen left, and the diver count goes negative (MinAtar quirk)', () => {
  const g = new Seaquest(new Script([]));
  g.subY = 1;
  g.surface = false;
  g.diverCount = 6;
  g.oxygen = 123;
  // Surfacing: floor(123 * 10 / 200) = 6 points; diver_count set to 0 and then decremented to -1;
  // oxygen refilled; ramp index 0 is even, so only the spawn speed drops (20 -> 19).
  assert.equal(g.act(UP), 6);
  assert.deepEqual([g.diverCount, g.oxygen, g.eSpawnSpeed, g.moveSpeed, g.rampIndex()], [-1, 200, 19, 5, 1]);
  let obs = observe(g);
  assert.deepEqual(cells(obs, DIVERS), []);
  assert.deepEqual(cells(obs, OXYGEN), row9(0, 9));
  // Dive, pick up one diver: the count is 0 again, and the next surfacing ends the episode.
  g.act(DOWN);
  g.divers.push({ x: 5, y: 1, dirRight: true, moveTimer: 3 });
  g.act(NOOP);
  assert.equal(g.diverCount, 0);
  assert.equal(g.divers.length, 0);
  assert.equal(g.act(UP), 0);
  assert.equal(g.terminal, true);

  // A partial load scores nothing but still refills oxygen and spends a diver; the second ramp
  // (index 1, odd) also speeds up the enemies: move_speed 5 -> 4.
  const h = new Seaquest(new Script([]));
  h.subY = 1;
  h.surface = false;
  h.diverCount = 3;
  h.oxygen = 50;
  h.ramp = 1;
  assert.equal(h.act(UP), 0);
  assert.deepEqual([h.diverCount, h.oxygen, h.moveSpeed, h.eSpawnSpeed, h.rampIndex()], [2, 200, 4, 19, 2]);
  obs = observe(h);
  assert.deepEqual(cells(obs, DIVERS), row9(7, 8)); // columns 9 - count .. 8
  // move_speed never drops below 2.
  const k = new Seaquest(new Script([]));
  Object.assign(k, { subY: 1, surface: false, diverCount: 1, moveSpeed: 2, ramp: 3 });
  k.act(UP);
  assert.equal(k.moveSpeed, 2);
});

test('Seaquest: bullets fly one cell per step, fire cools down 5 steps, and kill fish for +1', () => {
  const g = new Seaquest(new Script([]));
  Object.assign(g, { subX: 5, subY: 3, subOr: false, surface: false });
  g.eFish.push({ x: 3, y: 3, dirRight: true, moveTimer: 3 });
  // Step 1: the bullet appears at the sub's cell (5, row 3) facing left and moves to x 4.
  assert.equal(g.act(FIRE), 0);
  assert.deepEqual(cells(observe(g), F_BULLET), [[3, 4]]);
  // Step 2: it moves to x 3, the fish's cell (the fish has not moved: its timer is 2): +1.
  assert.equal(g.act(FIRE), 1);
  assert.deepEqual(g.eFish, []);
  assert.deepEqual(g.fBullets, []); // FIRE at step 2 was ignored: shot_timer 5 -> 4 after step 1
  // shot_timer is 0 after step 5, so FIRE at steps 3-5 does nothing and step 6 shoots.
  for (let t = 3; t <= 5; t++) g.act(FIRE);
  assert.deepEqual(g.fBullets, []);
  g.act(FIRE);
  assert.deepEqual(g.fBullets, [{ x: 4, y: 3, dirRight: false }]);
  // Firing means not moving; moving sets the facing (even against the wall).
  g.act(RIGHT);
  assert.deepEqual([g.subX, g.subOr], [6, true]);
  assert.deepEqual(cells(observe(g), SUB_BACK), [[3, 5]]);
  g.act(LEFT);
  assert.deepEqual([g.subX, g.subOr], [5, false]);
});

test('Seaquest: enemy subs fire every 11 steps, even when they leave the grid or are shot on their move', () => {
  const g = new Seaquest(new Script([]));
  Object.assign(g, { subX: 5, subY: 6, surface: false });
  g.eSubs.push({ x: 8, y: 2, dirRight: false, moveTimer: 100, shotTimer: 0 });
  // Shots at steps 1 and 12 (shot_timer 10 counts down over steps 2..11). The first bullet starts
  // at x 8 and has moved to 8 - t after step t; it leaves the grid at step 9.
  for (let t = 1; t <= 12; t++) {
    g.act(NOOP);
    const bullets = cells(observe(g), E_BULLET);
    if (t === 1) assert.deepEqual(bullets, [[2, 7]]);
    if (t === 8) assert.deepEqual(bullets, [[2, 0]]);
    if (t === 9) assert.deepEqual(bullets, []);
    if (t === 12) assert.deepEqual(bullets, [[2, 7]]);
  }

  // Shot on its move: the player's bullet (x 4 -> 5) waits in (5, row 3); the enemy sub moves from
  // x 6 onto it: both go, +1; then the dead sub fires from x 5, and that bullet moves to x 4.
  const h = new Seaquest(new Script([]));
  Object.assign(h, { subX: 5, subY: 6, surface: false });
  h.fBullets.push({ x: 4, y: 3, dirRight: true });
  h.eSubs.push({ x: 6, y: 3, dirRight: false, moveTimer: 0, shotTimer: 0 });
  assert.equal(h.act(NOOP), 1);
  assert.deepEqual(h.eSubs, []);
  assert.deepEqual(cells(observe(h), E_BULLET), [[3, 4]]);

  // Leaving the grid: the sub moves to x -1 and is removed, fires from there, and the bullet
  // vanishes in the bullet phase.
  const k = new Seaquest(new Script([]));
  Object.assign(k, { subX: 5, subY: 6, surface: false });
  k.eSubs.push({ x: 0, y: 3, dirRight: false, moveTimer: 0, shotTimer: 0 });
  k.act(NOOP);
  assert.deepEqual([k.eSubs.length, k.eBullets.length], [0, 0]);
});

test('Seaquest: enemy bullets, subs and fish on the front cell end the episode', () => {
  const g = new Seaquest(new Script([]));
  Object.assign(g, { subX: 5, subY: 4, surface: false });
  g.eBullets.push({ x: 7, y: 4, dirRight: false });
  g.act(NOOP); // x 7 -> 6: not yet
  assert.equal(g.terminal, false);
  g.act(NOOP); // x 6 -> 5: the sub's front cell
  assert.equal(g.terminal, true);

  const h = new Seaquest(new Script([]));
  Object.assign(h, { subX: 5, subY: 4, surface: false });
  h.eFish.push({ x: 7, y: 4, dirRight: false, moveTimer: 10 });
  h.act(RIGHT); // the player moves into x 6; the fish is at x 7
  assert.equal(h.terminal, false);
  h.act(RIGHT); // into the fish's cell
  assert.equal(h.terminal, true);

  // Only the front cell collides: a fish on the back cell (facing left, back = x + 1) is harmless.
  const k = new Seaquest(new Script([]));
  Object.assign(k, { subX: 5, subY: 4, surface: false });
  k.eFish.push({ x: 6, y: 4, dirRight: true, moveTimer: 10 });
  k.act(NOOP);
  assert.equal(k.terminal, false);
});

test('Seaquest: no spawn on a row where an enemy travels the other way; divers stop at six', () => {
  // Spawn draws: direction (u < 1/2 is right), sub (u < 1/3), row randint(1, 9).
  const rowDraw = (y: number) => (y - 1) / 8 + 0.01;
  const script = new Script([0.9, 0.9, rowDraw(4), 0.1, 0.1, rowDraw(4)]);
  const g = new Seaquest(script);
  Object.assign(g, { subX: 5, subY: 7, surface: false });
  g.eFish.push({ x: 2, y: 4, dirRight: true, moveTimer: 100 });
  g.eSpawnTimer = 0;
  g.act(NOOP); // leftward fish on row 4 is blocked by the rightward one
  assert.deepEqual([g.eFish.length, g.eSubs.length], [1, 0]);
  g.eSpawnTimer = 0;
  // A rightward sub on row 4 is allowed. It is born with both timers full (move 5, shot 10) and
  // the enemy-sub phase of the same step counts each down once.
  g.act(NOOP);
  assert.deepEqual(g.eSubs.map((s) => [s.x, s.y, s.dirRight, s.moveTimer, s.shotTimer]), [[0, 4, true, 4, 9]]);
  assert.deepEqual(cells(observe(g), E_SUB), [[4, 0]]);
  assert.equal(script.drawn, 6);

  const h = new Seaquest(new Script([]));
  Object.assign(h, { subX: 5, subY: 7, surface: false, diverCount: 6 });
  h.divers.push({ x: 5, y: 7, dirRight: true, moveTimer: 0 });
  h.act(NOOP); // not picked up (six aboard): it moves on to x 6
  assert.deepEqual(h.divers.map((d) => [d.x, d.moveTimer]), [[6, 5]]);
  assert.equal(h.diverCount, 6);
  assert.deepEqual(cells(observe(h), DIVERS), row9(3, 8));
  // Divers move every 6 steps: moveTimer 5 counts down over 5 steps, the 6th moves.
  for (let t = 1; t <= 6; t++) h.act(NOOP);
  assert.deepEqual(h.divers.map((d) => d.x), [7]);
});

test('Seaquest: the sub never enters row 9 and enemies move every move_speed + 1 steps', () => {
  const g = new Seaquest(new Script([]));
  for (let t = 0; t < 12; t++) g.act(DOWN);
  assert.equal(g.subY, 8);
  const h = new Seaquest(new Script([]));
  Object.assign(h, { subY: 2, surface: false });
  h.eSubs.push({ x: 9, y: 6, dirRight: false, moveTimer: 5, shotTimer: 100 });
  for (let t = 1; t <= 12; t++) h.act(NOOP);
  assert.deepEqual(h.eSubs.map((s) => s.x), [7]); // moved at steps 6 and 12
});

test('Seaquest: a diver that moves onto the sub is picked up; an enemy moving onto the sub ends the episode', () => {
  const g = new Seaquest(new Script([]));
  Object.assign(g, { subX: 5, subY: 4, surface: false });
  g.divers.push({ x: 4, y: 4, dirRight: true, moveTimer: 0 });
  g.act(NOOP);
  assert.deepEqual([g.divers.length, g.diverCount], [0, 1]);
  assert.deepEqual(cells(observe(g), DIVERS), [[9, 8]]);

  const h = new Seaquest(new Script([]));
  Object.assign(h, { subX: 5, subY: 4, surface: false });
  h.eSubs.push({ x: 6, y: 4, dirRight: false, moveTimer: 0, shotTimer: 5 });
  h.act(NOOP);
  assert.equal(h.terminal, true);
});
