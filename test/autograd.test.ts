/**
 * Autograd behaviour, as PyTorch defines it: explicit gradients for non-scalars, accumulation,
 * detach, grad modes, retainGraph, createGraph, retainGrad and the in-place-after-save error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, grad, noGrad, enableGrad, isGradEnabled, setGradEnabled, zeros, nn } from '../src/index.js';
import { assertClose } from './helpers.js';

const leaf = (v: number[][] | number[]) => tensor(v, { dtype: 'float64', requiresGrad: true });

test('backward of a non-scalar takes an explicit gradient (a vector-Jacobian product)', () => {
  const x = leaf([[1, 2, 3], [4, 5, 6]]);
  const y = x.mul(x); // dy/dx = 2x elementwise
  const v = tensor([[1, 0, -1], [0.5, 2, 0]], { dtype: 'float64' });
  y.backward(v);
  assertClose(x.grad, [[2, 0, -6], [4, 20, 0]]);
  assert.throws(() => x.mul(2).backward(), /backward: a gradient can be created implicitly only for scalar outputs; pass one of shape \[2, 3\]/);
  assert.throws(
    () => x.mul(2).backward(tensor([1, 2, 3], { dtype: 'float64' })),
    /backward: gradient has shape \[3\] but the output has shape \[2, 3\]/,
  );
});

test('.grad accumulates across backward calls until cleared', () => {
  const x = leaf([1, -2]);
  x.mul(3).sum().backward();
  x.mul(x).sum().backward();
  assertClose(x.grad, [3 + 2, 3 - 4]);
  assert.equal(x.grad!.requiresGrad, false, 'a plain backward leaves a gradient without history');
  x.grad = null;
  x.sum().backward();
  assertClose(x.grad, [1, 1]);
});

test('shared subexpressions add their gradients (y = x * x + x)', () => {
  const x = leaf([0.5, -1.5, 2]);
  x.mul(x).add(x).sum().backward();
  assertClose(x.grad, [2, -2, 5]);
});

test('detach cuts the graph but shares the storage', () => {
  const x = leaf([1, 2, 3]);
  const d = x.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.gradFn, null);
  x.mul(d).sum().backward(); // only the attached factor contributes: d/dx (x * c) = c
  assertClose(x.grad, [1, 2, 3]);
  noGrad(() => x.add_(1));
  assertClose(d, [2, 3, 4], {}, 'the detached tensor sees the in-place change');
});

test('noGrad stops recording, enableGrad restarts it, setGradEnabled returns the old mode', () => {
  const x = leaf([1, 2]);
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const z = noGrad(() => enableGrad(() => x.mul(2)));
  assert.equal(z.requiresGrad, true);
  assert.ok(z.gradFn);
  assert.equal(isGradEnabled(), true);
  const before = setGradEnabled(false);
  assert.equal(before, true);
  assert.equal(x.exp().requiresGrad, false);
  setGradEnabled(true);
  assert.equal(x.exp().requiresGrad, true);
  assert.throws(() => noGrad(() => Promise.resolve(1)), /noGrad\/enableGrad take a synchronous function/);
  assert.equal(isGradEnabled(), true, 'the mode is restored even when the block throws');
});

test('retainGraph allows a second backward; without it the second one throws a clear error', () => {
  const x = leaf([1, 2, 3]);
  const loss = x.exp().sum();
  loss.backward(undefined, { retainGraph: true });
  loss.backward();
  assertClose(x.grad, [1, 2, 3].map((v) => 2 * Math.exp(v)));
  assert.throws(() => loss.backward(), /backward: trying to backward through the graph a second time.*retainGraph: true/);
});

test('createGraph makes gradients differentiable (second and third derivatives of x^3)', () => {
  const x = leaf([1, -2, 0.5]);
  const y = x.pow(3).sum();
  const [g] = grad(y, x, { createGraph: true }); // 3x^2
  assert.ok(g!.requiresGrad);
  assertClose(g, [3, 12, 0.75]);
  const [h] = grad(g!.sum(), x, { createGraph: true }); // 6x
  assertClose(h, [6, -12, 3]);
  const [k] = grad(h!.sum(), x); // 6
  assertClose(k, [6, 6, 6]);
  assert.equal(k!.requiresGrad, false);
  assert.equal(x.grad, null, 'grad() does not touch .grad');
});

test('backward with createGraph leaves a differentiable .grad (a gradient penalty through it)', () => {
  const x = leaf([[0.3, -0.7], [1.1, 0.2]]);
  const w = leaf([[0.5, -1], [2, 0.25]]);
  x.matmul(w).tanh().sum().backward(undefined, { createGraph: true });
  assert.ok(x.grad!.requiresGrad);
  const penalty = x.grad!.pow(2).sum();
  const [gw] = grad(penalty, w);
  // Finite differences of the penalty in w, in float64.
  const eps = 1e-6;
  const wv = [[0.5, -1], [2, 0.25]];
  const penaltyAt = (m: number[][]) => {
    const xx = leaf([[0.3, -0.7], [1.1, 0.2]]);
    const [gx] = grad(xx.matmul(tensor(m, { dtype: 'float64' })).tanh().sum(), xx);
    return gx!.pow(2).sum().item();
  };
  const numeric = wv.map((row, i) =>
    row.map((_, j) => {
      const up = wv.map((r) => [...r]);
      const dn = wv.map((r) => [...r]);
      up[i]![j]! += eps;
      dn[i]![j]! -= eps;
      return (penaltyAt(up) - penaltyAt(dn)) / (2 * eps);
    }),
  );
  assertClose(gw, numeric, { atol: 1e-6, rtol: 1e-5 });
});

test('retainGrad keeps the gradient of an intermediate tensor', () => {
  const x = leaf([1, 2]);
  const h = x.mul(2);
  h.retainGrad();
  const other = x.add(1);
  h.mul(h).add(other).sum().backward();
  assertClose(h.grad, [4, 8]); // d/dh h^2 = 2h
  assert.equal(other.grad, null, 'intermediates without retainGrad keep no .grad');
  assertClose(x.grad, [2 * 4 + 1, 2 * 8 + 1]);
  assert.throws(() => tensor([1]).retainGrad(), /retainGrad: the tensor does not require gradients/);
});

test('grad() with respect to an intermediate tensor and a leaf at once', () => {
  const x = leaf([1, 2, 3]);
  const h = x.mul(2);
  const [gh, gx] = grad(h.pow(2).sum(), [h, x]);
  assertClose(gh, [4, 8, 12]); // 2h
  assertClose(gx, [8, 16, 24]); // 2h * 2
});

test('grad(): unused inputs, inputs without grad, outputs without grad', () => {
  const x = leaf([1, 2]);
  const unused = leaf([3]);
  const y = x.sum();
  assert.throws(() => grad(y, [x, unused], { retainGraph: true }), /grad: input 1 was not used to compute the outputs/);
  const [gx, gu] = grad(y, [x, unused], { allowUnused: true });
  assertClose(gx, [1, 1]);
  assert.equal(gu, null);
  assert.throws(() => grad(x.sum(), tensor([1])), /grad: input 0 does not require grad/);
  assert.throws(() => tensor([1, 2]).sum().backward(), /backward: element 0 of the outputs does not require grad/);
});

test('only floating-point tensors can require grad; non-leaves cannot be switched off', () => {
  assert.throws(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true }), /requiresGrad: only floating-point tensors can require gradients, got int32/);
  const y = leaf([1]).mul(2);
  assert.throws(() => {
    y.requiresGrad = false;
  }, /cannot turn off gradients of a non-leaf tensor/);
  // Integer outputs of differentiable inputs carry no graph (argmax, comparisons).
  const x = leaf([1, 3, 2]);
  assert.equal(x.argmax().requiresGrad, false);
  assert.equal(x.gt(1).requiresGrad, false);
});

test('an in-place change to a tensor saved for backward makes backward throw', () => {
  const x = leaf([1, 2, 3]);
  const w = leaf([0.5, 0.5, 0.5]);
  const y = x.mul(w); // saves x and w
  noGrad(() => x.mul_(10));
  assert.throws(
    () => y.sum().backward(),
    /backward: a tensor saved by 'mul' \(its input 0, shape \[3\]\) was modified by an in-place operation after it was used/,
  );

  // The saved output of exp, changed through a view that shares its storage.
  const a = leaf([0.1, 0.2]);
  const e = a.exp();
  const view = e.reshape([2, 1]);
  const loss = e.sum();
  noGrad(() => view.zero_());
  assert.throws(() => loss.backward(), /a tensor saved by 'exp' \(its output, shape \[2\]\) was modified by an in-place operation/);

  // clone() needs only the dtype of its input, so changing the original afterwards is harmless.
  const p = leaf([1, 2]);
  const q = p.clone();
  noGrad(() => p.mul_(3));
  q.mul(q).sum().backward();
  assertClose(p.grad, [2, 4]);

  // A change to a tensor that was not saved is harmless.
  const b = leaf([1, 2]);
  const c = tensor([3, 4], { dtype: 'float64' });
  const s = b.add(c); // add saves nothing it needs
  noGrad(() => c.add_(1));
  s.sum().backward();
  assertClose(b.grad, [1, 1]);
});

test('in-place ops on a tensor that requires grad must run under noGrad', () => {
  const x = leaf([1, 2]);
  assert.throws(() => x.add_(1), /add_: in-place operation on a tensor that requires grad; wrap parameter updates in noGrad\(\)/);
  noGrad(() => x.sub_(x.mul(0.5)));
  assertClose(x, [0.5, 1]);
  const m = zeros([2]);
  assert.throws(() => m.copy_(tensor([1, 2, 3])), /copy_: cannot write a tensor of shape \[3\] into \[2\]/);
});

test('batchNorm in training updates the running statistics in place, outside the graph', () => {
  const x = tensor([[1, 2], [3, 6], [5, 1]], { requiresGrad: true });
  const rm = zeros([2]);
  const rv = tensor([1, 1]);
  const y = nn.functional.batchNorm(x, rm, rv, { training: true, momentum: 0.5 });
  assertClose(rm, [1.5, 1.5]); // 0.5 * 0 + 0.5 * mean
  assertClose(rv, [0.5 + 0.5 * 4, 0.5 + 0.5 * 7]); // unbiased variances 4 and 7
  assert.equal(rm.requiresGrad, false);
  y.sum().backward(); // normalised outputs sum to a constant: zero gradient
  assertClose(x.grad, [[0, 0], [0, 0], [0, 0]], { atol: 1e-6 });
});
