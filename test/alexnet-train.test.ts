/**
 * AlexNet's data pipeline and training (papers/2012-alexnet/train.ts): the PCA colour noise, the
 * ten-crop prediction, top-1/top-5 error, and the `tiny` preset end to end through the Landmark on a
 * small generated ImageFolder of PNGs (train/ and val/), resuming bit-identically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, Run, arange, io, randn, resolveConfig, tensor, zeros, VERSION, type Tensor } from '../src/index.js';
import { encodePng } from '../src/io/png.js';
import { IMAGENET_PCA, alexnet, pcaLighting, predict, topErrors } from '../papers/2012-alexnet/train.js';
import { alexnetReluTanh, fastestRate, parseGrid } from '../papers/2012-alexnet/relu-tanh.js';
import { reluTanhSpec, spec, type AlexNetConfig, type ReluTanhConfig } from '../papers/2012-alexnet/config.js';
import { assertClose } from './helpers.js';

test('pcaLighting adds eigvec (alpha * eigval) to every pixel, alpha ~ N(0, std^2) drawn from the image generator', () => {
  const img = arange(0, 3 * 4 * 5, 1, { dtype: 'float32' }).div(60).reshape([3, 4, 5]);
  const out = pcaLighting(0.1)(img, new Generator(8));
  const alpha = (randn([3], { generator: new Generator(8) }).toArray() as number[]).map((a) => a * 0.1);
  const shift = IMAGENET_PCA.eigvec.map((row) => row.reduce((s, v, j) => s + v * alpha[j]! * IMAGENET_PCA.eigval[j]!, 0));
  const expected = img.add(tensor(shift, { shape: [3, 1, 1] }));
  assertClose(out, expected, { atol: 1e-6, rtol: 1e-6 });
  assert.ok(shift.every((v) => Math.abs(v) > 1e-3), `the shift ${shift} is not trivially small`);
  assert.deepEqual(pcaLighting(0)(img, new Generator(8)).toArray(), img.toArray());
});

test('predict averages the softmax over the four corners, the centre and their mirrors (Sec. 4.1)', () => {
  // A 6x6 image whose pixel (r, c) holds 6 r + c; crops of 4. A stub "network" reports the top-left
  // and top-right pixels of each view as logits, so the views it saw can be read back.
  const x = arange(0, 36, 1, { dtype: 'float32' }).reshape([1, 1, 6, 6]).expand([1, 3, 6, 6]).contiguous();
  const seen: number[][] = [];
  const stub = {
    forward(v: Tensor): Tensor {
      const tl = v.slice(null, [0, 1], [0, 1], [0, 1]).reshape([1, 1]);
      const tr = v.slice(null, [0, 1], [0, 1], [3, 4]).reshape([1, 1]);
      seen.push([tl.item(), tr.item()]);
      return zeros([1, 2]).add(tl.mul(0)); // equal logits: softmax 0.5 / 0.5
    },
  };
  const p = predict(stub, x, 4, true);
  assert.deepEqual(seen, [[0, 3], [3, 0], [2, 5], [5, 2], [12, 15], [15, 12], [14, 17], [17, 14], [7, 10], [10, 7]]);
  assertClose(p, tensor([[0.5, 0.5]]));
  seen.length = 0;
  predict(stub, x, 4, false);
  assert.deepEqual(seen, [[7, 10]], 'without ten-crop: the centre crop only');
});

test('topErrors: counts of top-1 and top-5 mistakes', () => {
  const probs = tensor([
    [0.5, 0.2, 0.1, 0.1, 0.05, 0.05, 0], // label 0: top-1 hit
    [0.5, 0.2, 0.1, 0.1, 0.06, 0.04, 0], // label 4: top-5 hit only
    [0.5, 0.2, 0.1, 0.1, 0.06, 0.04, 0], // label 6: miss
    [0.1, 0.6, 0.1, 0.1, 0.05, 0.05, 0], // label 1: top-1 hit
  ]);
  const e = topErrors(probs, tensor([0, 4, 6, 1], { dtype: 'int32' }));
  assert.deepEqual(e, { top1: 2, top5: 1, n: 4 });
});

/** A tiny ImageFolder: 3 classes told apart by their dominant colour, odd-sized RGB PNGs. */
function writeImageFolder(dir: string, perClass: number, seed: number, size?: number): void {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  ['blue', 'green', 'red'].forEach((name, c) => {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const [w, h] = size ? [size, size] : [80 + Math.floor(rand() * 20), 72 + Math.floor(rand() * 10)];
      const px = new Uint8Array(w * h * 3);
      for (let p = 0; p < w * h; p++) for (let ch = 0; ch < 3; ch++) px[3 * p + ch] = Math.floor((ch === 2 - c ? 150 : 30) + rand() * 100);
      writeFileSync(join(dir, name, `${i}.png`), encodePng(px, w, h, 3));
    }
  });
}

test('the tiny preset trains end to end on a generated ImageFolder, and resuming continues bit-identically', async () => {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-test-'));
  try {
    const dataDir = join(root, 'data');
    writeImageFolder(join(dataDir, 'imagenet-tiny', 'train'), 4, 1);
    writeImageFolder(join(dataDir, 'imagenet-tiny', 'val'), 2, 2);
    const newRun = (overrides: Record<string, string>) =>
      Run.create(join(root, 'runs'), { paper: 'alexnet', preset: 'tiny', device: 'reference', dataDir, version: VERSION }, resolveConfig(spec, 'tiny', overrides));
    const a = newRun({});
    await alexnet.train(a);
    const results = JSON.parse(readFileSync(join(a.dir, 'results.json'), 'utf8')) as { metric: string; paper: number; ours: number }[];
    assert.deepEqual(results.map((r) => [r.metric, r.paper]), [['top-1 error (%)', 40.7], ['top-5 error (%)', 18.2]]);
    assert.ok(results.every((r) => r.ours >= 0 && r.ours <= 100));
    assert.equal(results[1]!.ours, 0, 'with 3 classes every label is in the top 5');
    const metrics = readFileSync(join(a.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number> & { split: string });
    assert.deepEqual(metrics.filter((m) => m.split === 'eval').map((m) => m.epoch), [1, 2]);
    assert.ok(metrics.filter((m) => m.split === 'train').every((m) => Number.isFinite(m.loss)));

    const b = newRun({ epochs: '1' });
    await alexnet.train(b);
    const saved = JSON.parse(readFileSync(join(b.dir, 'config.json'), 'utf8')) as { config: AlexNetConfig };
    saved.config.epochs = 2;
    writeFileSync(join(b.dir, 'config.json'), JSON.stringify(saved));
    await alexnet.train(Run.open<AlexNetConfig>(b.dir));
    const wa = io.loadCheckpoint(a.checkpointPath);
    const wb = io.loadCheckpoint(b.checkpointPath);
    assert.equal(wb.step, wa.step);
    for (const [name, t] of Object.entries(wa.model)) assert.deepEqual(Array.from(wb.model[name]!.dataSync()), Array.from(t.dataSync()), name);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('alexnet-relu-tanh: the tiny preset trains the ReLU and tanh nets side by side and logs both curves', async () => {
  const root = mkdtempSync(join(tmpdir(), 'relu-tanh-test-'));
  try {
    const dataDir = join(root, 'data');
    writeImageFolder(join(dataDir, 'cifar-tiny', 'train'), 4, 3, 32);
    const run = Run.create(join(root, 'runs'), { paper: 'alexnet-relu-tanh', preset: 'tiny', device: 'reference', dataDir, version: VERSION }, resolveConfig(reluTanhSpec, 'tiny', { targetError: '0' }));
    await alexnetReluTanh.train(run);
    const metrics = readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(metrics.map((m) => m.epoch), [1, 2]);
    for (const m of metrics) for (const k of ['train error relu', 'train error tanh']) assert.ok(m[k]! >= 0 && m[k]! <= 100, `${k} = ${m[k]}`);
    const results = JSON.parse(readFileSync(join(run.dir, 'results.json'), 'utf8')) as { metric: string; ours: unknown }[];
    assert.deepEqual(results.map((r) => r.ours), ['> 2', '> 2', null], 'a 0% target is not reached in 2 epochs');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('alexnet-relu-tanh learning-rate search: parseGrid, and the fastest rate is the lowest last-epoch error, the smaller on a tie', () => {
  assert.deepEqual(parseGrid(''), []);
  assert.deepEqual(parseGrid('0.01, 0.1'), [0.01, 0.1]);
  assert.throws(() => parseGrid('0.01,x'), /positive learning rates, got 'x'/);
  assert.throws(() => parseGrid('0.01,-1'), /positive learning rates/);
  const trials = [
    { activation: 'relu', lr: 0.1, errors: [50, 30] },
    { activation: 'relu', lr: 0.01, errors: [40, 30] },
    { activation: 'relu', lr: 0.03, errors: [20, 35] },
    { activation: 'tanh', lr: 0.1, errors: [60, 45] },
    { activation: 'tanh', lr: 0.3, errors: [90, 90] },
  ];
  assert.equal(fastestRate(trials, 'relu'), 0.01, 'tie at 30: the smaller rate; the last epoch decides, not the first');
  assert.equal(fastestRate(trials, 'tanh'), 0.1);
  assert.throws(() => fastestRate(trials, 'sigmoid'), /no search trial for sigmoid/);
});

test('alexnet-relu-tanh with lrGrid: each net trains at every rate, keeps its fastest, and a search stopped after one trial resumes to the same end', async () => {
  const root = mkdtempSync(join(tmpdir(), 'relu-tanh-search-'));
  try {
    const dataDir = join(root, 'data');
    writeImageFolder(join(dataDir, 'cifar-tiny', 'train'), 4, 3, 32);
    const overrides = { targetError: '0', lrGrid: '0.01,0.3', searchEpochs: '2', epochs: '1' };
    const newRun = () => Run.create<ReluTanhConfig>(join(root, 'runs'), { paper: 'alexnet-relu-tanh', preset: 'tiny', device: 'reference', dataDir, version: VERSION }, resolveConfig(reluTanhSpec, 'tiny', overrides));
    const read = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number> & { split: string });

    const a = newRun();
    await alexnetReluTanh.train(a);
    const search = read(a.dir).filter((m) => m.split.startsWith('search '));
    assert.deepEqual(search.map((m) => [m.split, m.step]), [
      ['search relu lr 0.01', 1], ['search relu lr 0.01', 2], ['search relu lr 0.3', 1], ['search relu lr 0.3', 2],
      ['search tanh lr 0.01', 1], ['search tanh lr 0.01', 2], ['search tanh lr 0.3', 1], ['search tanh lr 0.3', 2],
    ]);
    const trials = ['relu', 'tanh'].flatMap((activation) => [0.01, 0.3].map((lr) => ({ activation, lr, errors: search.filter((m) => m.split === `search ${activation} lr ${lr}`).map((m) => m['search train error']!) })));
    const expected = { relu: fastestRate(trials, 'relu'), tanh: fastestRate(trials, 'tanh') };
    const results = JSON.parse(readFileSync(join(a.dir, 'results.json'), 'utf8')) as { note: string }[];
    assert.match(results[0]!.note, new RegExp(`lr relu ${expected.relu} / tanh ${expected.tanh} \\(the fastest of 0.01, 0.3 after 2 epochs\\)`));
    assert.equal(read(a.dir).filter((m) => m.split === 'train').length, 1, 'then the comparison itself, one epoch');

    // The same run, stopped as soon as the first trial is logged, then resumed.
    const b = newRun();
    const log = b.log.bind(b);
    b.log = (step, split, metrics) => {
      log(step, split, metrics);
      if (split === 'search relu lr 0.01' && step === 2) b.stopRequested = true;
    };
    await alexnetReluTanh.train(b);
    assert.equal(read(b.dir).filter((m) => m.split.startsWith('search ')).length, 2, 'stopped after the first trial');
    await alexnetReluTanh.train(Run.open<ReluTanhConfig>(b.dir));
    const strip = (ms: Record<string, unknown>[]) => ms.map(({ time: _t, ...rest }) => rest);
    assert.deepEqual(strip(read(b.dir)), strip(read(a.dir)), 'the same records, none twice');
    const wa = io.loadCheckpoint(a.checkpointPath);
    const wb = io.loadCheckpoint(b.checkpointPath);
    for (const [name, t] of Object.entries(wa.model)) assert.deepEqual(Array.from(wb.model[name]!.dataSync()), Array.from(t.dataSync()), name);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
