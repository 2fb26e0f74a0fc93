// The DQN landmark end to end (papers/2013-dqn/train.ts) in a temporary runs folder: the `tiny`
// preset trains CartPole and writes metrics, results, a checkpoint and a GIF; a run stopped mid-way
// and resumed ends bit-identical to one that ran straight through; the MinAtar path (conv network,
// byte replay) runs too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Run, resolveConfig, io } from '../src/index.js';
import { dqn } from '../papers/2013-dqn/train.js';
import type { DqnConfig } from '../papers/2013-dqn/config.js';
import { flat } from './helpers.js';

const INFO = { paper: 'dqn', preset: 'tiny', device: 'reference', dataDir: null, version: 'test' };

function records(dir: string): Record<string, number | string>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>)
    .map(({ time, steps_per_second, train_seconds, ...rest }) => rest); // wall-clock fields differ run to run
}

test('dqn --preset tiny runs end to end and records episodes, losses, evaluation, results, checkpoint and GIF', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dqn-tiny-'));
  try {
    const config = resolveConfig(dqn.spec, 'tiny', {});
    const run = Run.create<DqnConfig>(root, INFO, config);
    await dqn.train(run);
    const recs = records(run.dir);
    const episodes = recs.filter((r) => r.split === 'episode');
    assert.ok(episodes.length > 10, `only ${episodes.length} episodes logged`);
    assert.ok(episodes.every((r) => (r.episodic_return as number) >= 1 && (r.episodic_return as number) <= 500));
    assert.ok(recs.some((r) => r.split === 'train' && Number.isFinite(r.loss as number)), 'no loss logged');
    const evalRec = recs.find((r) => r.split === 'eval')!;
    assert.ok(Number.isFinite(evalRec.mean_return as number));
    const results = JSON.parse(readFileSync(join(run.dir, 'results.json'), 'utf8')) as { paper: unknown; ours: string }[];
    assert.equal(results[0]!.paper, '488.69 ± 16.11');
    assert.match(results[0]!.ours, /^\d+\.\d\d ± \d+\.\d\d$/);
    const ckpt = io.loadCheckpoint(run.checkpointPath);
    assert.equal(ckpt.step, config.totalSteps);
    assert.ok(readFileSync(join(run.samplesDir, 'agent.gif')).subarray(0, 6).toString() === 'GIF89a');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('dqn: a run stopped at an episode end and resumed finishes bit-identical to an uninterrupted one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dqn-resume-'));
  try {
    const overrides = { totalSteps: '600', checkpointEvery: '1', gifFrames: '0', learningStarts: '100' };
    const config = resolveConfig(dqn.spec, 'tiny', overrides);
    const straight = Run.create<DqnConfig>(join(root, 'a'), INFO, config);
    await dqn.train(straight);

    // Stop the second run once it passes step 300 (the CLI sets stopRequested on Ctrl-C).
    const first = Run.create<DqnConfig>(join(root, 'b'), INFO, config);
    const log = first.log.bind(first);
    first.log = (step, split, metrics) => {
      log(step, split, metrics);
      if (step > 300) first.stopRequested = true;
    };
    await dqn.train(first);
    const stoppedAt = io.loadCheckpoint(first.checkpointPath).step;
    assert.ok(stoppedAt > 300 && stoppedAt < 600, `stopped at ${stoppedAt}`);
    const resumed = Run.open<DqnConfig>(first.dir);
    await dqn.train(resumed);

    const a = io.loadCheckpoint(straight.checkpointPath);
    const b = io.loadCheckpoint(resumed.checkpointPath);
    assert.equal(b.step, a.step);
    for (const [name, t] of Object.entries(a.model)) assert.deepEqual(flat(b.model[name]), flat(t), `weight ${name} differs`);
    assert.deepEqual(b.rng, a.rng);
    assert.deepEqual(records(resumed.dir), records(straight.dir));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('dqn on MinAtar Breakout (conv network, byte replay) runs end to end', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dqn-breakout-'));
  try {
    const config = resolveConfig(dqn.spec, 'tiny', {
      env: 'breakout', totalSteps: '240', learningStarts: '100', trainFrequency: '20', batchSize: '4', loss: 'huber',
      optimizer: 'rmsprop_deepmind', alpha: '0.95', eps: '0.01', evalEpisodes: '1', gifFrames: '5',
    });
    const run = Run.create<DqnConfig>(root, INFO, config);
    await dqn.train(run);
    assert.ok(existsSync(join(run.samplesDir, 'agent.gif')));
    const ckpt = io.loadCheckpoint(run.checkpointPath);
    assert.deepEqual(ckpt.model['conv.weight']!.shape, [16, 4, 3, 3]);
    const replay = (ckpt.extra as { replay: { size: number } }).replay;
    assert.equal(replay.size, 240);
    const results = JSON.parse(readFileSync(join(run.dir, 'results.json'), 'utf8')) as { metric: string; paper: unknown }[];
    assert.match(results[0]!.metric, /MinAtar breakout/);
    assert.equal(results[0]!.paper, 10);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
