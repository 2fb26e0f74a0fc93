/**
 * nn.init and every layer's default initialisation: the bounds and standard deviations of PyTorch's
 * formulas (kaiming_uniform with a = sqrt(5) for Linear/Conv, U(+-1/sqrt(hidden)) for RNNs, ...),
 * checked on enough draws that a wrong formula (a factor sqrt(3), fan_out for fan_in) fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, zeros, eye, manualSeed, Generator, nn } from '../src/index.js';
import { assertClose } from './helpers.js';

const { init } = nn;

/** Min, max, mean and (population) standard deviation of a tensor's values. */
function stats(t: Tensor): { min: number; max: number; mean: number; std: number; n: number } {
  const v = Array.from(t.dataSync());
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  return { min, max, mean, std, n };
}

/**
 * U(-bound, bound): every draw inside, the extremes near the bound, the std near bound/sqrt(3).
 * With n draws the sample std's relative error is about 1/sqrt(1.25 n) for a uniform; 5 of those
 * is the tolerance.
 */
function assertUniform(t: Tensor, bound: number, what: string): void {
  const s = stats(t);
  assert.ok(s.min >= -bound && s.max <= bound, `${what}: values in [${s.min}, ${s.max}] exceed +-${bound}`);
  assert.ok(s.max > bound * (1 - 20 / s.n) && s.min < -bound * (1 - 20 / s.n), `${what}: extremes ${s.min}, ${s.max} fall short of +-${bound}`);
  const rel = 5 / Math.sqrt(1.25 * s.n);
  assert.ok(Math.abs(s.std / (bound / Math.sqrt(3)) - 1) < rel, `${what}: std ${s.std}, expected ${bound / Math.sqrt(3)}`);
  assert.ok(Math.abs(s.mean) < (5 * bound) / Math.sqrt(3 * s.n), `${what}: mean ${s.mean}`);
}

/** N(0, std^2): sample std within 5 standard errors (std / sqrt(2n)), mean within 5 of its own. */
function assertNormal(t: Tensor, std: number, what: string, mean = 0): void {
  const s = stats(t);
  assert.ok(Math.abs(s.std / std - 1) < 5 / Math.sqrt(2 * s.n), `${what}: std ${s.std}, expected ${std}`);
  assert.ok(Math.abs(s.mean - mean) < (5 * std) / Math.sqrt(s.n), `${what}: mean ${s.mean}, expected ${mean}`);
}

test('calculateGain matches torch.nn.init.calculate_gain', () => {
  assert.equal(init.calculateGain('linear'), 1);
  assert.equal(init.calculateGain('conv2d'), 1);
  assert.equal(init.calculateGain('sigmoid'), 1);
  assert.equal(init.calculateGain('tanh'), 5 / 3);
  assert.equal(init.calculateGain('relu'), Math.SQRT2);
  assertClose(init.calculateGain('leaky_relu'), Math.sqrt(2 / (1 + 0.01 ** 2)), { atol: 0, rtol: 1e-15 });
  assertClose(init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(1 / 3), { atol: 0, rtol: 1e-15 });
  assert.equal(init.calculateGain('selu'), 0.75);
  assert.deepEqual(init.calculateFanInAndFanOut(zeros([16, 3, 5, 5])), { fanIn: 75, fanOut: 400 });
});

test('Linear and Conv defaults: weight and bias from U(-1/sqrt(fanIn), 1/sqrt(fanIn))', () => {
  manualSeed(0);
  const lin = new nn.Linear(300, 200);
  assertUniform(lin.weight, 1 / Math.sqrt(300), 'Linear.weight');
  const bigBias = new nn.Linear(50, 4000);
  assertUniform(bigBias.bias!, 1 / Math.sqrt(50), 'Linear.bias');
  const conv = new nn.Conv2d(8, 64, 5);
  assertUniform(conv.weight, 1 / Math.sqrt(8 * 25), 'Conv2d.weight');
  const grouped = new nn.Conv2d(16, 64, 3, { groups: 4 });
  assertUniform(grouped.weight, 1 / Math.sqrt(4 * 9), 'Conv2d(groups).weight');
  const conv1 = new nn.Conv1d(10, 300, 7);
  assertUniform(conv1.weight, 1 / Math.sqrt(70), 'Conv1d.weight');
  // ConvTranspose2d's weight is [in, out/groups, k, k]: PyTorch takes fanIn from dim 1, i.e. out * k * k.
  const deconv = new nn.ConvTranspose2d(64, 32, 4);
  assertUniform(deconv.weight, 1 / Math.sqrt(32 * 16), 'ConvTranspose2d.weight');
});

test('recurrent defaults: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))', () => {
  manualSeed(1);
  const lstm = new nn.LSTM(40, 64, { numLayers: 2 });
  for (const [name, p] of lstm.namedParameters()) if (p.numel() > 10000) assertUniform(p, 1 / 8, `LSTM.${name}`);
  const gru = new nn.GRUCell(100, 100);
  assertUniform(gru.weightIh, 1 / 10, 'GRUCell.weight_ih');
});

test('other defaults: Embedding N(0, 1), norms ones and zeros, attention Xavier with zero biases', () => {
  manualSeed(2);
  assertNormal(new nn.Embedding(1000, 20).weight, 1, 'Embedding.weight');
  const bn = new nn.BatchNorm2d(3);
  assert.deepEqual(bn.weight!.toArray(), [1, 1, 1]);
  assert.deepEqual(bn.bias!.toArray(), [0, 0, 0]);
  assert.deepEqual(bn.runningVar!.toArray(), [1, 1, 1]);
  const ln = new nn.LayerNorm([2, 2]);
  assert.deepEqual(ln.weight!.toArray(), [[1, 1], [1, 1]]);
  const mha = new nn.MultiheadAttention(64, 4);
  // in_proj_weight is [3E, E]: Xavier bound sqrt(6 / (E + 3E)).
  assertUniform(mha.inProjWeight!, Math.sqrt(6 / (64 + 192)), 'MultiheadAttention.in_proj_weight');
  assert.equal(mha.inProjBias!.abs().sum().item(), 0);
  assert.equal(mha.outProj.bias!.abs().sum().item(), 0);
  assertUniform(mha.outProj.weight, 1 / 8, 'MultiheadAttention.out_proj.weight');
});

test('xavier and kaiming, both forms, follow their formulas', () => {
  const g = new Generator(7);
  const w = zeros([200, 300]);
  init.xavierUniform_(w, 2, g);
  assertUniform(w, 2 * Math.sqrt(6 / 500), 'xavierUniform_');
  init.xavierNormal_(w, 1, g);
  assertNormal(w, Math.sqrt(2 / 500), 'xavierNormal_');
  init.kaimingUniform_(w, { generator: g });
  assertUniform(w, Math.sqrt(3) * Math.sqrt(2 / (1 + 0)) / Math.sqrt(300), 'kaimingUniform_');
  init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
  assertNormal(w, Math.SQRT2 / Math.sqrt(200), 'kaimingNormal_ fan_out');
  init.kaimingNormal_(w, { a: 0.2, generator: g });
  assertNormal(w, Math.sqrt(2 / 1.04) / Math.sqrt(300), 'kaimingNormal_ leaky 0.2');
  const conv = zeros([32, 16, 3, 3]);
  init.kaimingUniform_(conv, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
  assertUniform(conv, Math.sqrt(3) * Math.SQRT2 / Math.sqrt(32 * 9), 'kaimingUniform_ conv fan_out');
});

test('uniform_, normal_, constant_, zeros_, ones_', () => {
  const g = new Generator(8);
  const t = zeros([100, 100]);
  init.uniform_(t, -3, 3, g);
  assertUniform(t, 3, 'uniform_');
  init.normal_(t, 2, 0.5, g);
  assertNormal(t, 0.5, 'normal_', 2);
  init.constant_(t, 0.25);
  assert.equal(stats(t).min, 0.25);
  init.ones_(t);
  assert.equal(stats(t).max, 1);
  init.zeros_(t);
  assert.equal(stats(t).max, 0);
});

test('truncNormal_ draws from the truncated normal: inside [a, b] with the right mean and std', () => {
  const g = new Generator(9);
  const t = zeros([500, 400]);
  const n = t.numel();
  init.truncNormal_(t, 0, 1, -2, 2, g);
  let s = stats(t);
  assert.ok(s.min >= -2 && s.max <= 2);
  // N(0, 1) truncated to [-2, 2]: variance 1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2)) = 0.773741.
  // Tolerances are 5 standard errors (std / sqrt(n) for the mean, about std / sqrt(2n) for the std).
  const std0 = Math.sqrt(0.773741);
  assert.ok(Math.abs(s.std - std0) < (5 * std0) / Math.sqrt(2 * n), `std ${s.std}`);
  assert.ok(Math.abs(s.mean) < (5 * std0) / Math.sqrt(n), `mean ${s.mean}`);
  // A one-sided window in the tail: N(1, 0.5^2) on [1.5, 3], i.e. alpha = 1, beta = 4, Z = 0.1586236.
  // Mean = mu + sigma (phi(1) - phi(4)) / Z; variance = sigma^2 (1 + (phi(1) - 4 phi(4)) / Z - ((phi(1) - phi(4)) / Z)^2).
  init.truncNormal_(t, 1, 0.5, 1.5, 3, g);
  s = stats(t);
  assert.ok(s.min >= 1.5 && s.max <= 3);
  const [phi1, phi4, Z] = [0.2419707, 0.0001338, 0.1586236];
  const mean1 = 1 + (0.5 * (phi1 - phi4)) / Z;
  const std1 = 0.5 * Math.sqrt(1 + (phi1 - 4 * phi4) / Z - ((phi1 - phi4) / Z) ** 2);
  assert.ok(Math.abs(s.mean - mean1) < (5 * std1) / Math.sqrt(n), `mean ${s.mean}, expected ${mean1}`);
  assert.ok(Math.abs(s.std - std1) < (5 * std1) / Math.sqrt(n), `std ${s.std}, expected ${std1}`);
});

test('orthogonal_ gives orthonormal rows or columns, times the gain', () => {
  const g = new Generator(10);
  const tall = zeros([6, 4]);
  init.orthogonal_(tall, 1, g);
  assertClose(tall.t().matmul(tall), eye(4), { atol: 1e-5, rtol: 0 }, 'Q^T Q');
  const wide = zeros([3, 2, 4]); // flattened to [3, 8]
  init.orthogonal_(wide, 2, g);
  const flat = wide.reshape([3, 8]);
  assertClose(flat.matmul(flat.t()), eye(3).mul(4), { atol: 1e-5, rtol: 0 }, 'Q Q^T');
  // Haar: the entries of a 50x50 orthogonal matrix have variance 1/50.
  const big = zeros([50, 50]);
  init.orthogonal_(big, 1, g);
  assertNormal(big, Math.sqrt(1 / 50), 'orthogonal_ entries');
});

test('a Generator makes initialisation reproducible', () => {
  const a = init.kaimingUniform_(zeros([3, 4]), { generator: new Generator(11) });
  const b = init.kaimingUniform_(zeros([3, 4]), { generator: new Generator(11) });
  assert.deepEqual(a.toArray(), b.toArray());
  manualSeed(12);
  const l1 = new nn.Linear(3, 3);
  manualSeed(12);
  const l2 = new nn.Linear(3, 3);
  assert.deepEqual(l1.weight.toArray(), l2.weight.toArray());
  // Initialisers run without recording a graph, even on parameters.
  const p = new nn.Parameter(zeros([2, 2]));
  init.normal_(p);
  assert.ok(p.isLeaf && p.requiresGrad);
});

