/**
 * Random ops against PyTorch's semantics, by their statistics (the values themselves come from
 * our Philox streams, not PyTorch's): dropout, bernoulli, multinomial, randperm, randint, rand,
 * randn. Seeds are fixed, so every test is deterministic; the bounds are about 5 standard errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, bernoulli, full, manualSeed, multinomial, nn, ones, rand, randint, randn, randperm, tensor } from '../src/index.js';

const F = nn.functional;
const values = (t: { dataSync(): ArrayLike<number> }) => Array.from(t.dataSync());
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

test('dropout zeroes a fraction p, scales the rest by 1/(1-p), and passes the same mask to the gradient', () => {
  const n = 20000;
  const p = 0.3;
  const x = ones([n], { requiresGrad: true });
  const y = F.dropout(x, p, true, new Generator(1));
  const v = values(y);
  const kept = v.filter((e) => e !== 0);
  assert.ok(kept.every((e) => Math.abs(e - 1 / (1 - p)) < 1e-6), 'kept values are scaled by exactly 1/(1-p)');
  const keepRate = kept.length / n;
  const se = Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(keepRate - (1 - p)) < 5 * se, `keep rate ${keepRate} vs ${1 - p}`);
  assert.ok(Math.abs(mean(v) - 1) < 5 * se / (1 - p), 'the expectation is preserved');
  y.sum().backward();
  assert.deepEqual(values(x.grad!), v, 'the gradient is the same mask, scaled the same way');
  // The same generator state gives the same mask; evaluation mode and p = 0 are the identity.
  assert.deepEqual(values(F.dropout(ones([n]), p, true, new Generator(1))), v);
  const z = randn([3, 4]);
  assert.equal(F.dropout(z, p, false), z);
  assert.equal(F.dropout(z, 0, true), z);
  assert.ok(values(F.dropout(z, 1, true)).every((e) => e === 0), 'p = 1 drops everything');
});

test('dropout2d zeroes whole channels', () => {
  const y = F.dropout2d(ones([8, 16, 3, 3]), 0.5, true, new Generator(2));
  const v = values(y);
  let zeroChannels = 0;
  for (let c = 0; c < 8 * 16; c++) {
    const ch = v.slice(c * 9, c * 9 + 9);
    assert.ok(ch.every((e) => e === ch[0]), 'a channel is kept or dropped as a whole');
    if (ch[0] === 0) zeroChannels++;
    else assert.equal(ch[0], 2);
  }
  assert.ok(zeroChannels > 128 * 0.5 - 5 * Math.sqrt(128 * 0.25) && zeroChannels < 128 * 0.5 + 5 * Math.sqrt(128 * 0.25));
});

test('bernoulli draws 1 with probability p, elementwise', () => {
  const n = 20000;
  const v = values(bernoulli(full([n], 0.25), { generator: new Generator(3) }));
  assert.ok(v.every((e) => e === 0 || e === 1));
  assert.ok(Math.abs(mean(v) - 0.25) < 5 * Math.sqrt(0.25 * 0.75 / n));
  const p = tensor([0, 1, 0, 1], { dtype: 'float64' });
  const b = bernoulli(p);
  assert.equal(b.dtype, 'float64');
  assert.deepEqual(values(b), [0, 1, 0, 1]);
});

test('multinomial with replacement follows the weights', () => {
  const n = 30000;
  const w = tensor([1, 2, 0, 7]); // unnormalised, with a zero
  const draws = values(multinomial(w, n, true, { generator: new Generator(4) }));
  const probs = [0.1, 0.2, 0, 0.7];
  probs.forEach((q, k) => {
    const freq = draws.filter((d) => d === k).length / n;
    assert.ok(Math.abs(freq - q) < 5 * Math.sqrt((q * (1 - q)) / n) + 1e-12, `category ${k}: ${freq} vs ${q}`);
  });
});

test('multinomial without replacement draws distinct categories, the first in proportion to the weights', () => {
  const rows = 6000;
  const w = tensor([1, 2, 0, 7]).unsqueeze(0).expand([rows, 4]);
  const out = multinomial(w, 3, false, { generator: new Generator(5) });
  assert.deepEqual([...out.shape], [rows, 3]);
  assert.equal(out.dtype, 'int32');
  const v = values(out);
  const first = [0, 0, 0, 0];
  for (let r = 0; r < rows; r++) {
    const row = v.slice(r * 3, r * 3 + 3);
    assert.equal(new Set(row).size, 3, 'no category twice in a row');
    assert.ok(!row.includes(2), 'a zero-weight category is never drawn');
    first[row[0]!]!++;
  }
  [0.1, 0.2, 0, 0.7].forEach((q, k) => {
    const freq = first[k]! / rows;
    assert.ok(Math.abs(freq - q) < 5 * Math.sqrt((q * (1 - q)) / rows) + 1e-12, `first draw ${k}: ${freq} vs ${q}`);
  });
});

test('randperm is a permutation, randint stays in [low, high) uniformly', () => {
  const perm = values(randperm(1000, { generator: new Generator(6) }));
  assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(perm, Array.from({ length: 1000 }, (_, i) => i));
  const n = 20000;
  const r = randint(2, 7, [n], { generator: new Generator(7) });
  assert.equal(r.dtype, 'int32');
  const v = values(r);
  for (let k = 2; k < 7; k++) {
    const freq = v.filter((e) => e === k).length / n;
    assert.ok(Math.abs(freq - 0.2) < 5 * Math.sqrt(0.16 / n), `value ${k}: ${freq}`);
  }
  assert.ok(v.every((e) => e >= 2 && e < 7));
  const fromZero = values(randint(3, [1000], { generator: new Generator(10) }));
  assert.deepEqual([...new Set(fromZero)].sort(), [0, 1, 2], 'randint(high, shape) draws from [0, high)');
});

test('rand and randn have the right moments, and a seed fixes the stream', () => {
  const n = 40000;
  const u = values(rand([n], { generator: new Generator(8) }));
  assert.ok(u.every((e) => e >= 0 && e < 1));
  assert.ok(Math.abs(mean(u) - 0.5) < 5 * Math.sqrt(1 / 12 / n));
  const z = values(randn([n], { generator: new Generator(9) }));
  const m = mean(z);
  const variance = mean(z.map((e) => (e - m) ** 2));
  assert.ok(Math.abs(m) < 5 / Math.sqrt(n));
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / n));
  manualSeed(42);
  const a = values(randn([5]));
  manualSeed(42);
  assert.deepEqual(values(randn([5])), a);
});
