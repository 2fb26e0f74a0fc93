/**
 * End to end against PyTorch (issue 4, point 4): a small CNN with BatchNorm and Dropout(p=0),
 * loaded with PyTorch's initial weights and trained 10 steps with SGD momentum and weight decay on
 * the same batches; every loss and every final weight and running statistic must match
 * (test/fixtures/nn-e2e-cnn.json, written by tools/reference/make_e2e_fixture.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, nn, optim } from '../src/index.js';
import { assertClose } from './helpers.js';

interface Saved {
  shape: number[];
  data: number[];
  int: boolean;
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/nn-e2e-cnn.json', import.meta.url), 'utf8')) as {
  init: Record<string, Saved>;
  batches: { x: number[]; y: number[] }[];
  losses: number[];
  final: Record<string, Saved>;
};

const load = (s: Saved) => tensor(s.data, { shape: s.shape, dtype: s.int ? 'int32' : 'float32' });

test('a CNN with BatchNorm trained 10 steps with SGD momentum follows PyTorch step for step', () => {
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Dropout(0),
    new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, bias: false }),
    new nn.BatchNorm2d(6),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(6 * 2 * 2, 5),
  );
  assert.deepEqual(Object.keys(model.stateDict()), Object.keys(fixture.init));
  model.loadStateDict(Object.fromEntries(Object.entries(fixture.init).map(([k, v]) => [k, load(v)])));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  fixture.batches.forEach((b, step) => {
    const x = tensor(b.x, { shape: [6, 1, 8, 8] });
    const y = tensor(b.y, { dtype: 'int32' });
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    assertClose(loss.item(), fixture.losses[step], { atol: 2e-5, rtol: 2e-5 }, `loss at step ${step}`);
  });
  const final = model.stateDict();
  for (const [k, v] of Object.entries(fixture.final)) {
    // Ten steps of float32 arithmetic on both sides; the weights agree to float32 rounding.
    assertClose(final[k], load(v), { atol: 2e-5, rtol: 1e-4 }, k);
  }
});
