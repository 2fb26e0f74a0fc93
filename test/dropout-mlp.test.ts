/**
 * The Dropout paper's MNIST experiment (papers/2012-dropout): the max-norm constraint, the momentum
 * and learning-rate schedules, a dropout net that learns, and the `tiny` preset end to end through the
 * Landmark on a small synthetic MNIST in a temporary data root, resuming bit-identically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Run, io, manualSeed, nn, noGrad, optim, rand, randn, randint, resolveConfig, tensor, VERSION } from '../src/index.js';
import { DropoutMLP, learningRateAt, maxNorm_, momentumAt } from '../papers/2012-dropout/model.js';
import { dropout } from '../papers/2012-dropout/train.js';
import { spec, type DropoutConfig } from '../papers/2012-dropout/config.js';

test('maxNorm_ projects each hidden unit\'s incoming weights into the ball of radius c, leaving the rest', () => {
  manualSeed(1);
  const layer = new nn.Linear(50, 8);
  noGrad(() => {
    // Rows 0-3 well outside the ball (norm ~7 * 3), rows 4-7 inside it (~7 * 0.1).
    layer.weight.copy_(randn([8, 50]).mul(tensor([3, 3, 3, 3, 0.1, 0.1, 0.1, 0.1], { shape: [8, 1] })));
  });
  const before = layer.weight.norm(2, 1).toArray() as number[];
  const inside = layer.weight.slice([4, 8]).toArray();
  const bias = layer.bias!.toArray();
  assert.ok(before.slice(0, 4).every((n) => n > 10) && before.slice(4).every((n) => n < 1.5), `norms before ${before}`);
  maxNorm_([layer], 3.5);
  const after = layer.weight.norm(2, 1).toArray() as number[];
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(after[i]! - 3.5) < 1e-5, `row ${i}: norm ${after[i]} should be exactly c`);
  for (let i = 4; i < 8; i++) assert.ok(Math.abs(after[i]! - before[i]!) < 1e-6, `row ${i} was inside and must not change`);
  assert.deepEqual(layer.weight.slice([4, 8]).toArray(), inside);
  assert.deepEqual(layer.bias!.toArray(), bias, 'biases are not constrained');
});

test('max-norm keeps every hidden unit bounded through training at a high learning rate', () => {
  manualSeed(2);
  const model = new DropoutMLP({ hidden: [64, 64], activation: 'relu', inputDropout: 0.2, hiddenDropout: 0.5 });
  const opt = new optim.SGD(model.parameters(), { lr: 5, momentum: 0.9 });
  const x = randn([32, 784]);
  const y = randint(0, 10, [32]);
  let unconstrainedMax = 0;
  for (let s = 0; s < 5; s++) {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x), y).backward();
    opt.step();
    unconstrainedMax = Math.max(unconstrainedMax, ...model.hiddenLayers.map((l) => l.weight.norm(2, 1).max().item()));
    maxNorm_(model.hiddenLayers, 3);
    for (const l of model.hiddenLayers) assert.ok(l.weight.norm(2, 1).max().item() <= 3 + 1e-5);
  }
  assert.ok(unconstrainedMax > 3, `the updates did push some norm past c (${unconstrainedMax}), so the bound was exercised`);
});

test('Hinton et al. 2012 App. A schedules: momentum 0.5 -> 0.99 over 500 epochs, eps_0 * 0.998^t', () => {
  assert.equal(momentumAt(0, 0.5, 0.99, 500), 0.5);
  assert.ok(Math.abs(momentumAt(250, 0.5, 0.99, 500) - 0.745) < 1e-12);
  assert.equal(momentumAt(500, 0.5, 0.99, 500), 0.99);
  assert.equal(momentumAt(2000, 0.5, 0.99, 500), 0.99);
  assert.equal(learningRateAt(0, 10, 0.998), 10);
  assert.ok(Math.abs(learningRateAt(100, 10, 0.998) - 10 * Math.pow(0.998, 100)) < 1e-12);
});

test('DropoutMLP: sizes, dropout only in training mode, and a dropout net fits a small batch', () => {
  manualSeed(3);
  const model = new DropoutMLP({ hidden: [128, 128], activation: 'logistic', inputDropout: 0.2, hiddenDropout: 0.5 });
  assert.deepEqual(Object.keys(model.stateDict()), ['net.2.weight', 'net.2.bias', 'net.5.weight', 'net.5.bias', 'net.8.weight', 'net.8.bias']);
  assert.equal(model.parameters().reduce((n, p) => n + p.numel(), 0), 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10);
  const x = rand([20, 1, 28, 28]); // pixel-like values in [0, 1)
  model.eval();
  assert.deepEqual(model.forward(x).toArray(), model.forward(x).toArray(), 'eval mode is deterministic');
  model.train();
  assert.notDeepEqual(model.forward(x).toArray(), model.forward(x).toArray(), 'training mode draws masks');
  const y = randint(0, 10, [20]);
  const relu = new DropoutMLP({ hidden: [128, 128], activation: 'relu', inputDropout: 0.2, hiddenDropout: 0.5 });
  const opt = new optim.SGD(relu.parameters(), { lr: 0.05, momentum: 0.9 });
  const evalLoss = () => {
    relu.eval();
    const l = noGrad(() => nn.functional.crossEntropy(relu.forward(x), y).item());
    relu.train();
    return l;
  };
  const first = evalLoss();
  for (let s = 0; s < 60; s++) {
    opt.zeroGrad();
    nn.functional.crossEntropy(relu.forward(x), y).backward();
    opt.step();
    maxNorm_(relu.hiddenLayers, 3.5);
  }
  const last = evalLoss();
  assert.ok(first > 2 && last < 0.5, `loss on the batch ${first} -> ${last}`);
});

/** A synthetic MNIST in IDX format: each class lights its own 4x28 band, plus noise. */
function writeSyntheticMnist(dir: string, n: number, images: string, labels: string, seed: number): void {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const img = Buffer.alloc(16 + n * 784);
  img.writeUInt32BE(0x803, 0);
  img.writeUInt32BE(n, 4);
  img.writeUInt32BE(28, 8);
  img.writeUInt32BE(28, 12);
  const lab = Buffer.alloc(8 + n);
  lab.writeUInt32BE(0x801, 0);
  lab.writeUInt32BE(n, 4);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(rand() * 10);
    lab[8 + i] = label;
    for (let p = 0; p < 784; p++) {
      const row = Math.floor(p / 28);
      const on = row >= 2 + 2 * label && row < 6 + 2 * label;
      img[16 + i * 784 + p] = Math.min(255, Math.floor((on ? 180 : 0) + rand() * 60));
    }
  }
  writeFileSync(join(dir, images), gzipSync(img));
  writeFileSync(join(dir, labels), gzipSync(lab));
}

test('the tiny preset trains both nets end to end, and resuming continues bit-identically', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dropout-test-'));
  try {
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'mnist'), { recursive: true });
    writeSyntheticMnist(join(dataDir, 'mnist'), 600, 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 1);
    writeSyntheticMnist(join(dataDir, 'mnist'), 200, 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 2);
    const newRun = (overrides: Record<string, string>) =>
      Run.create(join(root, 'runs'), { paper: 'dropout', preset: 'tiny', device: 'reference', dataDir, version: VERSION }, resolveConfig(spec, 'tiny', overrides));

    const a = newRun({});
    await dropout.train(a);
    const results = JSON.parse(readFileSync(join(a.dir, 'results.json'), 'utf8')) as { metric: string; paper: number; ours: number }[];
    assert.deepEqual(results.map((r) => r.metric), ['test error (%), standard', 'test error (%), dropout-maxnorm']);
    assert.deepEqual(results.map((r) => r.paper), [1.6, 1.06]);
    const evals = readFileSync(join(a.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number> & { split: string }).filter((m) => m.split === 'eval');
    assert.deepEqual(evals.map((m) => m.epoch), [1, 2]);
    // The bands are easy: after 20 updates both nets are far better than chance (90% error).
    for (const r of results) assert.ok(r.ours < 40, `${r.metric}: ${r.ours}`);

    // One epoch, then resumed to two.
    const b = newRun({ epochs: '1' });
    await dropout.train(b);
    const saved = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')) as { config: DropoutConfig };
    saved.config.epochs = 2;
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify(saved));
    await dropout.train(Run.open<DropoutConfig>(b.dir));
    const wa = io.loadCheckpoint(a.checkpointPath);
    const wb = io.loadCheckpoint(b.checkpointPath);
    assert.equal(wb.step, wa.step);
    assert.ok(Object.keys(wa.model).some((k) => k.startsWith('dropout-maxnorm.')));
    for (const [name, t] of Object.entries(wa.model)) assert.deepEqual(Array.from(wb.model[name]!.dataSync()), Array.from(t.dataSync()), name);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
