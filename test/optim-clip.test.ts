/**
 * Gradient clipping against torch.nn.utils.clip_grad_norm_ / clip_grad_value_ on fixed gradients
 * (test/fixtures/optim-clip.json); the clipping inside training loops is covered by the
 * *-clip-* trajectories of optim-optimizers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros } from '../src/index.js';
import * as optim from '../src/optim/index.js';
import { assertClose } from './helpers.js';
import { makeTensors, readFixture, type Problem } from './optim-problem.js';

type Case =
  | { kind: 'norm'; maxNorm: number; normType: number | 'inf'; totalNorm: number; clipped: number[][] }
  | { kind: 'value'; clipValue: number; clipped: number[][] };

const fixture = readFixture<{ problem: Problem; grads: number[][]; cases: Case[] }>('optim-clip.json');
const TOL = { atol: 1e-6, rtol: 1e-5 };

/** Zero parameters of the fixture's shapes holding the fixture's gradients. */
function withGrads(): Tensor[] {
  const grads = makeTensors(fixture.grads, fixture.problem.shapes);
  return fixture.problem.shapes.map((s, i) => {
    const p = zeros(s, { requiresGrad: true });
    p.grad = grads[i]!;
    return p;
  });
}

for (const c of fixture.cases) {
  const label = c.kind === 'norm' ? `clipGradNorm_(maxNorm ${c.maxNorm}, normType ${c.normType})` : `clipGradValue_(${c.clipValue})`;
  test(`${label} matches torch`, () => {
    const ps = withGrads();
    if (c.kind === 'norm') {
      const total = optim.clipGradNorm_(ps, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
      assert.deepEqual(total.shape, []);
      assertClose(total, c.totalNorm, TOL, 'total norm');
    } else {
      optim.clipGradValue_(ps, c.clipValue);
    }
    ps.forEach((p, i) => assertClose(p.grad!, c.clipped[i], TOL, `${label}: gradient ${i}`));
  });
}

test('clipGradNorm_: parameters without gradients are ignored; non-finite norms throw on request', () => {
  const a = tensor([3, 4], { requiresGrad: true });
  const b = tensor([1], { requiresGrad: true });
  a.grad = tensor([3, 4]);
  assertClose(optim.clipGradNorm_([a, b], 1), 5);
  assertClose(a.grad, [0.6, 0.8], { atol: 1e-6 });
  assert.equal(b.grad, null);
  assert.equal(optim.clipGradNorm_(b, 1).item(), 0, 'no gradients: total norm 0');
  a.grad = tensor([Infinity, 1]);
  assert.throws(() => optim.clipGradNorm_(a, 1, 2, true), /non-finite/);
  assert.equal(optim.clipGradNorm_(a, 1).item(), Infinity);
});
