/**
 * In-place ops (add_, sub_, mul_, div_, clamp_, relu_, fill_) compute into the tensor's own
 * storage and, while autograd records, take their place in the graph as PyTorch's do: the tensor's
 * gradFn becomes the op's node, and the nodes that used the tensor earlier still send their
 * gradient to what it was (Tensor._history). Each graph below is checked against the same
 * computation written out of place, to the bit, on every backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, grad, gradcheck, manualSeed, nn, noGrad, randn, tensor, type Tensor } from '../src/index.js';
import { Buffer } from 'node:buffer';
import { recycledBytes } from '../src/backend/cpu/memory.js';
import { assertClose } from './helpers.js';

const F = nn.functional;

/** Gradients of `loss(inplace)` with respect to `leaves`, out of place and in place: equal bits. */
function sameGradients(name: string, leaves: Tensor[], loss: (inplace: boolean) => Tensor): void {
  const run = (inplace: boolean) => {
    for (const l of leaves) l.grad = null;
    const out = loss(inplace);
    out.backward();
    return { value: out.item(), grads: leaves.map((l) => Array.from(l.grad?.dataSync() ?? [])) };
  };
  const outOfPlace = run(false);
  const inPlace = run(true);
  assert.equal(inPlace.value, outOfPlace.value, `${name}: the loss`);
  inPlace.grads.forEach((g, i) => assert.deepEqual(g, outOfPlace.grads[i], `${name}: the gradient of leaf ${i}`));
}

for (const device of availableBackends()) {
  test(`${device}: in-place ops give the out-of-place values, in the tensor's own storage`, () => {
    manualSeed(1);
    const x = randn([3, 4], { device });
    const y = randn([4], { device });
    const cases: [string, (t: Tensor) => Tensor, (t: Tensor) => Tensor][] = [
      ['add_', (t) => t.add_(y), (t) => t.add(y)],
      ['add_ alpha', (t) => t.add_(y, -2.5), (t) => t.add(y.mul(-2.5))],
      ['add_ scalar', (t) => t.add_(0.75), (t) => t.add(0.75)],
      ['sub_', (t) => t.sub_(y, 3), (t) => t.sub(y.mul(3))],
      ['mul_', (t) => t.mul_(y), (t) => t.mul(y)],
      ['mul_ itself', (t) => t.mul_(t), (t) => t.mul(t)],
      ['div_', (t) => t.div_(1.5), (t) => t.div(1.5)],
      ['clamp_', (t) => t.clamp_(-0.5, 0.25), (t) => t.clamp(-0.5, 0.25)],
      ['relu_', (t) => t.relu_(), (t) => t.relu()],
      ['fill_', (t) => t.fill_(7), (t) => t.mul(0).add(7)],
      ['zero_', (t) => t.zero_(), (t) => t.mul(0).abs()],
    ];
    for (const [name, inPlace, outOfPlace] of cases) {
      const t = x.clone();
      const storage = t._storage;
      const version = t._version.value;
      const result = inPlace(t);
      assert.equal(result, t, `${name} returns the tensor itself`);
      assert.equal(t._storage, storage, `${name} keeps the storage`);
      assert.equal(t._version.value, version + 1, `${name} bumps the version once`);
      assert.deepEqual(t.dataSync(), outOfPlace(x).dataSync(), name);
    }
    // Another dtype: computed aside and stored with a cast, as before.
    const i = tensor([1, 2, 3], { dtype: 'int32', device });
    i.add_(1.5);
    assert.deepEqual(Array.from(i.dataSync()), [2, 3, 4]);
    i.div_(2);
    assert.deepEqual(Array.from(i.dataSync()), [1, 1, 2]);
    const f = tensor([1, 2], { device });
    f.mul_(tensor([0.5, 0.25], { dtype: 'float64', device }));
    assert.equal(f.dtype, 'float32');
    assertClose(f, [0.5, 0.5]);
    assert.throws(() => tensor([1, 2], { device }).add_(randn([3, 2], { device })), /add_: the result has shape \[3, 2\], which cannot be written into \[2\]/);
  });

  test(`${device}: graphs with in-place ops give the out-of-place gradients`, () => {
    manualSeed(2);
    const x = randn([5, 6], { device }).requiresGrad_();
    const w = randn([6, 6], { device }).requiresGrad_();
    const b = randn([6], { device }).requiresGrad_();
    const c = randn([5, 6], { device }); // a constant
    const pick = (inplace: boolean, t: Tensor, f: (t: Tensor) => Tensor, g: (t: Tensor) => Tensor) => (inplace ? f(t) : g(t));

    sameGradients('relu_ after a linear layer', [x, w, b], (ip) => {
      const h = pick(ip, x.matmul(w).add(b), (t) => t.relu_(), (t) => t.relu());
      return h.square().sum();
    });
    sameGradients('a node that used the tensor before the in-place op', [x, w], (ip) => {
      const h = x.matmul(w);
      const early = h.mul(3).tanh(); // took h before relu_
      const r = pick(ip, h, (t) => t.relu_(), (t) => t.relu());
      return early.add(r).square().sum();
    });
    sameGradients('a chain of in-place ops', [x, w, b], (ip) => {
      const h = x.matmul(w);
      // (relu_ last: relu's rule reads its output, which a later in-place op would change, and
      // backward would refuse, as PyTorch's does)
      const r = ip ? h.mul_(2).add_(b).sub_(c, 0.5).div_(3).relu_() : h.mul(2).add(b).sub(c.mul(0.5)).div(3).relu();
      return r.square().sum();
    });
    sameGradients('a constant made part of the graph by add_', [w, b], (ip) => {
      const z = c.clone();
      const r = ip ? z.add_(w.sum(0)).mul_(b) : z.add(w.sum(0)).mul(b);
      return r.square().sum();
    });
    sameGradients('add_ with a scale on a tensor that requires grad', [x, w], (ip) => {
      const h = x.mul(1.5);
      const r = ip ? h.add_(x.matmul(w), -0.25) : h.add(x.matmul(w).mul(-0.25));
      return r.tanh().sum();
    });
    sameGradients('the same tensor twice, in place and used later again', [x], (ip) => {
      const h = x.mul(2);
      const before = h.exp().sum();
      const r = pick(ip, h, (t) => t.relu_(), (t) => t.relu());
      return before.add(r.mul(h.tanh()).sum());
    });
  });

  test(`${device}: a gradient asked of a tensor changed in place is the one after the change`, () => {
    manualSeed(3);
    const x = randn([4, 3], { device }).requiresGrad_();
    const h = x.mul(2);
    h.relu_();
    const [gh] = grad(h.square().sum(), [h]);
    assertClose(gh!, h.detach().mul(2), { atol: 0 }, 'd(sum h^2)/dh = 2h for h after relu_');

    // retainGrad after the op keeps the gradient of the new value
    const k = x.mul(2);
    k.relu_();
    k.retainGrad();
    k.mul(3).sum().backward();
    assertClose(k.grad!, [[3, 3, 3], [3, 3, 3], [3, 3, 3], [3, 3, 3]]);
  });
}

test('float64 gradcheck of functions built from in-place ops', () => {
  manualSeed(4);
  const x = randn([3, 4], { dtype: 'float64' }).requiresGrad_();
  const w = randn([4, 4], { dtype: 'float64' }).requiresGrad_();
  const c = randn([4], { dtype: 'float64' });
  assert.equal(gradcheck((a, b) => a.matmul(b).mul_(c).add_(a.sum(1, true), 2).div_(1.5).relu_().sum(), [x, w]), true);
  assert.equal(gradcheck((a) => { const h = a.mul(2); const e = h.exp(); h.sub_(1).relu_(); return e.mul(h).sum(); }, [x]), true);
});

test('in-place ops that autograd cannot record correctly are refused, as PyTorch refuses them', () => {
  manualSeed(5);
  const leaf = randn([3]).requiresGrad_();
  assert.throws(() => leaf.relu_(), /relu_: in-place operation on a tensor that requires grad; wrap parameter updates in noGrad\(\)/);
  noGrad(() => leaf.relu_()); // parameter updates run under noGrad

  // A view keeps its old place in the graph when its base changes in place (PyTorch rebases it):
  // recording with it afterwards is refused, and so is the base after the view changes.
  const stale = /shares its storage with a tensor that an in-place op changed while autograd recorded/;
  const h = leaf.mul(2);
  const view = h.reshape([3, 1]);
  const early = view.mul(2); // taken before: its gradient is right
  h.relu_();
  assert.throws(() => view.add(1), stale);
  assert.throws(() => view.add_(1), stale);
  early.sum().backward();
  assertClose(leaf.grad!, [4, 4, 4]);
  leaf.grad = null;
  const k = leaf.mul(3);
  const kv = k.reshape([3, 1]);
  kv.relu_();
  assert.throws(() => k.sum(), stale);
  const constant = randn([3]);
  const cv = constant.reshape([1, 3]);
  constant.add_(leaf); // the constant is now part of the graph; its view is not
  assert.throws(() => cv.mul(2), stale);
  noGrad(() => cv.mul(2)); // without recording, no gradient can be wrong
  const detached = constant.detach();
  detached.mul_(2); // a tensor outside the graph changed in place is what it now holds...
  detached.add(1);
  assert.throws(() => constant.sum(), stale); // ...but the graph's tensor sharing it is stale

  // A value a rule needs, overwritten: the version check reports it at backward.
  const e = leaf.mul(1).exp();
  const loss = e.sum();
  e.mul_(2);
  assert.throws(() => loss.backward(), /a tensor saved by 'exp' \(its output, shape \[3\]\) was modified by an in-place operation/);
  const m = leaf.mul(1);
  m.mul_(m);
  assert.throws(() => m.sum().backward(), /a tensor saved by 'mul' \(its input 1, shape \[3\]\) was modified by an in-place operation/);

  // Without autograd recording, in-place ops on views are plain writes.
  const plain = leaf.detach().mul(2);
  noGrad(() => plain.reshape([3, 1]).add_(1));
  assertClose(plain, leaf.detach().mul(2).add(1));
});

test('nn.ReLU({ inplace: true }) and F.relu(x, true) train like their out-of-place forms', () => {
  manualSeed(6);
  const make = (inplace: boolean) => {
    manualSeed(7);
    return new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU({ inplace }), new nn.Linear(16, 4));
  };
  const x = randn([10, 8]);
  const a = make(false);
  const b = make(true);
  assert.equal(String(b), String(a).replace('ReLU()', 'ReLU(inplace=True)'));
  a.forward(x).square().sum().backward();
  b.forward(x).square().sum().backward();
  const ga = [...a.parameters()].map((p) => Array.from(p.grad!.dataSync()));
  const gb = [...b.parameters()].map((p) => Array.from(p.grad!.dataSync()));
  assert.deepEqual(gb, ga);
  const h = x.mul(1);
  assert.equal(F.relu(h, true), h);
  assert.deepEqual(h.dataSync(), x.relu().dataSync());
});

test('cpu: the in-place ops allocate no output', { skip: availableBackends().includes('cpu') ? false : 'the native cpu backend is not built' }, () => {
  manualSeed(8);
  const x = randn([128, 128]); // 64 KB: an output of this size would be a fresh buffer or a recycled one
  const y = randn([128]);
  const calls: number[] = [];
  const allocUnsafeSlow = Buffer.allocUnsafeSlow;
  Buffer.allocUnsafeSlow = (n: number) => {
    calls.push(n);
    return allocUnsafeSlow(n);
  };
  try {
    const pooled = recycledBytes();
    x.relu_().add_(y).mul_(0.5).sub_(y, 2).div_(3).clamp_(-1, 1).fill_(2);
    const inPlaceAllocations = calls.length + (pooled - recycledBytes()) / (128 * 128 * 4);
    x.mul(1); // a control: an out-of-place op takes a fresh or a recycled buffer
    const allocations = calls.length + (pooled - recycledBytes()) / (128 * 128 * 4);
    assert.equal(inPlaceAllocations, 0, 'an in-place op allocated an output');
    assert.equal(allocations, 1, 'the control is seen');
  } finally {
    Buffer.allocUnsafeSlow = allocUnsafeSlow;
  }
});
