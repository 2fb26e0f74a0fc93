/**
 * renorm (torch.Tensor.renorm / renorm_): the max-norm constraint as one primitive. Values and
 * gradients against PyTorch are in the parity table (test/fixtures/ops.json), the native kernel
 * against the reference in the conformance test; this file checks the in-place form, that
 * sub-tensors inside the ball keep their exact bits, and the errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, manualSeed, noGrad, randn, tensor } from '../src/index.js';

const DEVICES = availableBackends().filter((d) => d === 'cpu' || d === 'reference');

for (const device of DEVICES) {
  test(`renorm_ in place equals renorm, keeps rows inside the ball bit for bit, holds the rest at maxnorm (${device})`, () => {
    manualSeed(11);
    // 64 rows of 100: even rows far outside radius 3.5 (norm about 10), odd rows inside (about 0.5).
    const scale = tensor(Array.from({ length: 64 }, (_, i) => (i % 2 ? 0.05 : 1)), { shape: [64, 1], device });
    const w = noGrad(() => randn([64, 100], { device }).mul(scale));
    const before = w.toArray() as number[][];
    const out = w.renorm(2, 0, 3.5);
    noGrad(() => w.renorm_(2, 0, 3.5));
    assert.deepEqual(w.toArray(), out.toArray(), 'in place and out of place agree');
    const after = w.toArray() as number[][];
    const norms = w.norm(2, 1).toArray() as number[];
    for (let i = 0; i < 64; i++) {
      if (i % 2) assert.deepEqual(after[i], before[i], `row ${i} was inside the ball`);
      else assert.ok(Math.abs(norms[i]! - 3.5) < 2e-6, `row ${i}: norm ${norms[i]}`);
    }
    // Columns (dim 1) of the same matrix, out of place, against the norms they end with.
    const cols = out.renorm(1, 1, 2).abs().sum(0).toArray() as number[];
    assert.ok(cols.every((n) => n <= 2 + 1e-5), `column L1 norms ${cols}`);
  });
}

test('renorm_ inside a graph gives the gradient renorm gives (the op reads a copy of its input)', () => {
  for (const device of DEVICES) {
    manualSeed(3);
    const x = randn([3, 4], { device }).requiresGrad_();
    const w = randn([3, 4], { device });
    const y = x.mul(1);
    y.renorm_(2, 0, 1);
    y.mul(w).sum().backward();
    const inPlace = x.grad!.toArray();
    x.grad = null;
    x.mul(1).renorm(2, 0, 1).mul(w).sum().backward();
    assert.deepEqual(inPlace, x.grad!.toArray(), device);
  }
});

test('renorm refuses what torch.renorm refuses, by name', () => {
  const x = randn([3, 4]);
  assert.throws(() => x.renorm(0, 0, 1), /renorm: p must be positive, got 0/);
  assert.throws(() => x.renorm(-1, 0, 1), /renorm: p must be positive/);
  assert.throws(() => x.renorm(Infinity, 0, 1), /renorm: p = Infinity is not supported/);
  assert.throws(() => x.renorm(2, 0, -1), /renorm: maxnorm must be >= 0, got -1/);
  assert.throws(() => x.renorm(2, 2, 1), /renorm/);
  assert.throws(() => randn([5]).renorm(2, 0, 1), /renorm: the input needs at least 2 dimensions, got shape \[5\]/);
  assert.throws(() => tensor([[1, 2]], { dtype: 'int32' }).renorm(2, 0, 1), /renorm/);
});
