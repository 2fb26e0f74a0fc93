/**
 * GPT training (papers/2019-gpt/train.ts): the `tiny` preset end to end through the Landmark, on a
 * small stand-in corpus in a temporary data root; resuming from a checkpoint continues the run
 * bit-identically; nanoGPT's learning-rate schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Run, io, resolveConfig, VERSION } from '../src/index.js';
import { gpt, getLr } from '../papers/2019-gpt/train.js';
import { spec, type GPTTrainConfig } from '../papers/2019-gpt/config.js';

const VERSE = `First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?
`;

function setup(): { root: string; dataDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'gpt-test-'));
  const dataDir = join(root, 'data');
  mkdirSync(join(dataDir, 'tinyshakespeare'), { recursive: true });
  writeFileSync(join(dataDir, 'tinyshakespeare', 'input.txt'), VERSE.repeat(20));
  return { root, dataDir };
}

function newRun(root: string, dataDir: string, overrides: Record<string, string> = {}): Run<GPTTrainConfig> {
  const config = resolveConfig(spec, 'tiny', overrides);
  return Run.create(join(root, 'runs'), { paper: 'gpt', preset: 'tiny', device: 'reference', dataDir, version: VERSION }, config);
}

test('nanoGPT schedule: warmup to the peak, cosine down to minLr, then flat', () => {
  const c = resolveConfig(spec, 'cpu', {});
  assert.equal(getLr(0, c), 1e-3 / 101);
  assert.equal(getLr(99, c), 1e-3 * 100 / 101);
  assert.equal(getLr(100, c), 1e-3);
  assert.ok(Math.abs(getLr(1050, c) - (1e-4 + 0.5 * (1e-3 - 1e-4))) < 1e-12);
  assert.ok(Math.abs(getLr(2000, c) - 1e-4) < 1e-12);
  assert.equal(getLr(3000, c), 1e-4);
});

test('the tiny preset trains end to end, and resuming continues it bit-identically', async () => {
  const { root, dataDir } = setup();
  try {
    // Straight through: 20 steps.
    const a = newRun(root, dataDir);
    await gpt.train(a);
    const results = JSON.parse(readFileSync(join(a.dir, 'results.json'), 'utf8')) as { metric: string; ours: number }[];
    const val = results.find((r) => r.metric === 'val loss (nats/char)')!.ours;
    assert.ok(Number.isFinite(val), 'val loss recorded');
    const metrics = readFileSync(join(a.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; split: string; loss: number });
    const vals = metrics.filter((m) => m.split === 'val');
    assert.deepEqual(vals.map((m) => m.step), [0, 10, 20]);
    // At step 0 the loss is near ln(vocabulary size), the loss of a uniform guess; 20 steps cut it.
    const vocab = new Set(VERSE).size;
    assert.ok(Math.abs(vals[0]!.loss - Math.log(vocab)) < 0.2, `initial val loss ${vals[0]!.loss}, ln(${vocab}) = ${Math.log(vocab)}`);
    assert.ok(vals[2]!.loss < vals[0]!.loss - 0.5, `val loss ${vals[0]!.loss} -> ${vals[2]!.loss}`);
    assert.ok(readdirSync(a.samplesDir).some((f) => f.endsWith('.txt')), 'a text sample was written');

    // `milestones sample gpt --run DIR`: the prompt, then exactly --tokens characters of the corpus's
    // alphabet, streamed to stdout; the same seed draws the same text, another seed other text.
    const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
    const sampleCli = (seed: string) => spawnSync(process.execPath, [cli, 'sample', 'gpt', '--run', a.dir, '--prompt', 'First', '--tokens', '40', '--seed', seed], { encoding: 'utf8' });
    const s1 = sampleCli('1');
    assert.equal(s1.status, 0, s1.stderr);
    assert.ok(s1.stdout.startsWith('First'), s1.stdout);
    const generated = [...s1.stdout.slice('First'.length, -1)];
    assert.equal(generated.length, 40, JSON.stringify(s1.stdout));
    assert.ok(generated.every((ch) => VERSE.includes(ch)), JSON.stringify(s1.stdout));
    assert.equal(sampleCli('1').stdout, s1.stdout);
    assert.notEqual(sampleCli('2').stdout, s1.stdout);
    const bad = spawnSync(process.execPath, [cli, 'sample', 'gpt', '--run', a.dir, '--prompt', 'Zebra'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /'Z' .* is not in the vocabulary/);

    // Stopped after 10 steps (same schedule, which depends on lrDecayIters, not maxIters), then resumed to 20.
    const b = newRun(root, dataDir, { maxIters: '10' });
    await gpt.train(b);
    const saved = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')) as { config: GPTTrainConfig };
    saved.config.maxIters = 20;
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify(saved));
    await gpt.train(Run.open<GPTTrainConfig>(b.dir));

    const wa = io.loadCheckpoint(a.checkpointPath);
    const wb = io.loadCheckpoint(b.checkpointPath);
    assert.equal(wb.step, 20);
    for (const [name, t] of Object.entries(wa.model)) {
      assert.deepEqual(Array.from(wb.model[name]!.dataSync()), Array.from(t.dataSync()), name);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
