/**
 * GPT training (papers/2019-gpt/train.ts): the `tiny` preset end to end through the Landmark, on a
 * small stand-in corpus in a temporary data root; resuming from a checkpoint continues the run
 * bit-identically; nanoGPT's learning-rate schedule; and the whole training step (model, AdamW with
 * decay on matrices only, warmup and cosine decay, gradient clipping) against nanoGPT's loop in
 * PyTorch over 30 steps from the same weights and batches (test/fixtures/gpt-train-trajectory.json,
 * written by tools/reference/nanogpt_cpu_reference.py --trajectory).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Run, io, noGrad, optim, resolveConfig, tensor, VERSION } from '../src/index.js';
import { GPT } from '../papers/2019-gpt/model.js';
import { gpt, getLr } from '../papers/2019-gpt/train.js';
import { assertClose } from './helpers.js';
import { readFixture } from './parity-table.js';
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

interface Trajectory {
  config: {
    n_layer: number; n_head: number; n_embd: number; block_size: number; batch_size: number; max_iters: number;
    warmup_iters: number; lr_decay_iters: number; learning_rate: number; min_lr: number; beta1: number; beta2: number;
    weight_decay: number; grad_clip: number;
  };
  steps: { loss: number; grad_norm: number; lr: number }[];
  final: Record<string, { sum: number; sum_sq: number }>;
}

test('30 training steps match nanoGPT in PyTorch: losses, gradient norms, learning rates and final weights', () => {
  const f = readFixture<Trajectory>('gpt-train-trajectory.json');
  const c = f.config;
  const model = new GPT({ blockSize: c.block_size, vocabSize: 65, nLayer: c.n_layer, nHead: c.n_head, nEmbd: c.n_embd, dropout: 0, bias: false, layerNormEps: 1e-5 });
  // The fixture's weights: an integer formula per parameter, parameters taken in name order.
  const named = [...model.namedParameters()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  noGrad(() =>
    named.forEach(([, p], k) => {
      const values = Array.from({ length: p.numel() }, (_, i) => {
        const u = ((i * 7919 + k * 104729) % 2001) / 1000 - 1;
        return p.ndim >= 2 ? 0.05 * u : 1 + 0.1 * u;
      });
      p.copy_(tensor(values, { shape: [...p.shape] }));
    }),
  );
  const batch = (step: number) => {
    const rows = (f: (b: number, t: number) => number) =>
      Array.from({ length: c.batch_size }, (_, b) => Array.from({ length: c.block_size }, (_, t) => f(b, t) % 65));
    const x = rows((b, t) => b * 31 + t * 17 + step * 13 + ((b * t) % 7));
    const y = rows((b, t) => b * 29 + t * 11 + step * 5 + ((b + t) % 3));
    return { x: tensor(x, { dtype: 'int32' }), y: tensor(y, { dtype: 'int32' }) };
  };
  const params = model.parameters();
  const opt = new optim.AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: c.weight_decay },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: c.learning_rate, betas: [c.beta1, c.beta2] },
  );
  const schedule = { warmupIters: c.warmup_iters, learningRate: c.learning_rate, lrDecayIters: c.lr_decay_iters, minLr: c.min_lr } as GPTTrainConfig;
  for (let it = 0; it < c.max_iters; it++) {
    const want = f.steps[it]!;
    const lr = getLr(it, schedule);
    assert.ok(Math.abs(lr - want.lr) <= 1e-15, `step ${it}: lr ${lr}, nanoGPT ${want.lr}`);
    for (const group of opt.paramGroups) group.lr = lr;
    const { x, y } = batch(it);
    const loss = model.forward(x, y).loss!;
    loss.backward();
    const norm = optim.clipGradNorm_(params, c.grad_clip).item();
    opt.step();
    opt.zeroGrad();
    // float32 on both sides, summed in different orders: agreement to about 1e-6 relative per step
    assert.ok(Math.abs(loss.item() - want.loss) <= 2e-5, `step ${it}: loss ${loss.item()}, nanoGPT ${want.loss}`);
    assert.ok(Math.abs(norm - want.grad_norm) <= 2e-5 * want.grad_norm, `step ${it}: gradient norm ${norm}, nanoGPT ${want.grad_norm}`);
  }
  for (const [name, p] of model.namedParameters()) {
    const w = f.final[name]!;
    assert.ok(w, `nanoGPT has no parameter ${name}`);
    assertClose(p.sum().item(), w.sum, { atol: 1e-4, rtol: 1e-4 }, `${name}: sum`);
    assertClose(p.mul(p).sum().item(), w.sum_sq, { atol: 1e-5, rtol: 1e-5 }, `${name}: sum of squares`);
  }
  assert.equal(model.namedParameters().length, Object.keys(f.final).length);
});
