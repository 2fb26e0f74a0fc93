// The Python port of our MinAtar Breakout (tools/reference/minatar_breakout.py), which PyTorch's DQN
// trains on in bench/dqn.ts, plays the same game as src/rl/minatar/breakout.ts: the fixture it wrote
// (scripted uniforms, the actions of a ball-following player, sticky actions 0.1) is replayed through
// our MinAtarEnv and compared step by step: reward, terminal flag, every lit cell, every draw. While
// replaying, our own game state tells which rules the episode went through, so the test also fails
// if the fixture stops covering one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Breakout } from '../src/rl/minatar/breakout.js';
import { MinAtarEnv } from '../src/rl/minatar/env.js';
import { Script } from './rl-script.js';

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/minatar-breakout-python.json', import.meta.url), 'utf8')) as {
  stickyActionProb: number;
  uniforms: number[];
  actions: number[];
  rewards: number[];
  terminated: boolean[];
  observations: number[][];
  resetObservations: number[][];
  episodeReturns: number[];
};

/** Ball directions 0..3 (up-left, up-right, down-right, down-left), as in breakout.ts. */
const DX = [-1, 1, 1, -1];
const DY = [-1, -1, 1, 1];

/** Flat indices of the lit cells of an observation, as numpy's flatnonzero gives them. */
function lit(obs: number[]): number[] {
  const out: number[] = [];
  obs.forEach((v, i) => {
    if (v !== 0) out.push(i);
  });
  return out;
}

test('Breakout: our MinAtarEnv reproduces the Python port step by step (observations, rewards, terminals, draws)', () => {
  const script = new Script([...fixture.uniforms]);
  const env = new MinAtarEnv('breakout', { rng: script, stickyActionProb: fixture.stickyActionProb });
  const game = env.game as Breakout;
  const seen = { straightCatch: 0, reversingCatch: 0, sideWall: 0, debounce: 0, refill: 0 };
  const brickCount = () => game.bricks.flat().filter((b) => b).length;
  let resets = 0;
  assert.deepEqual(lit(env.observationArray()), fixture.resetObservations[resets], 'first observation');
  const returns: number[] = [];
  let episodeReturn = 0;
  for (let t = 0; t < fixture.actions.length; t++) {
    // Where the ball heads this step, read from our state before it (the executed action only moves the paddle).
    const [x, y, dir, strike, bricks] = [game.ballX, game.ballY, game.ballDir, game.strike, brickCount()];
    const nextX = Math.min(9, Math.max(0, x + DX[dir]!));
    const nextY = y + DY[dir]!;
    const brickAhead = nextY >= 0 && nextY < 10 && game.bricks[nextY]![nextX]!;
    const r = env.act(fixture.actions[t]!);
    if (x + DX[dir]! !== nextX) seen.sideWall += 1;
    if (strike && brickAhead) seen.debounce += 1; // a brick struck last step: the ball enters this one untouched
    if (brickCount() > bricks) seen.refill += 1;
    if (nextY === 9 && !r.terminated) seen[x === game.pos ? 'straightCatch' : 'reversingCatch'] += 1;
    assert.equal(r.reward, fixture.rewards[t], `reward at step ${t}`);
    assert.equal(r.terminated, fixture.terminated[t], `terminated at step ${t}`);
    assert.deepEqual(lit(env.observationArray()), fixture.observations[t], `observation at step ${t}`);
    episodeReturn += r.reward;
    if (r.terminated) {
      returns.push(episodeReturn);
      episodeReturn = 0;
      env.resetState();
      resets += 1;
      assert.deepEqual(lit(env.observationArray()), fixture.resetObservations[resets], `observation after reset ${resets}`);
    }
  }
  assert.deepEqual(returns, fixture.episodeReturns);
  // The same number of draws: the sticky coin and the game's corner draw come in the same order.
  assert.equal(script.drawn, fixture.uniforms.length);
  // The episodes went through every rule: both paddle catches, the walls, the debounce, a refilled wall.
  for (const [rule, count] of Object.entries(seen)) assert.ok(count > 0, `the fixture never exercises ${rule}: ${JSON.stringify(seen)}`);
  assert.ok(returns.length >= 3, 'several episodes, so resets are compared too');
  assert.ok(new Set(fixture.actions).size === 6, 'every action index is played');
});
