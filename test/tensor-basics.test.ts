import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, arange, linspace, eye, randn, manualSeed, Generator, noGrad, availableBackends } from '../src/index.js';
import { assertClose } from './helpers.js';

test('tensor() infers shape and dtype from nested arrays', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(tensor([true, false]).dtype, 'bool');
  assert.equal(tensor(Float64Array.from([1, 2])).dtype, 'float64');
  assert.deepEqual(tensor(Int32Array.from([1, 2, 3, 4]), { shape: [2, 2] }).toArray(), [[1, 2], [3, 4]]);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
});

test('item, dataSync and data read values back', async () => {
  const t = tensor([[2.5]]);
  assert.equal(t.item(), 2.5);
  assert.deepEqual(Array.from(t.dataSync()), [2.5]);
  assert.deepEqual(Array.from(await t.data()), [2.5]);
  assert.throws(() => tensor([1, 2]).item(), /one-element/);
});

test('creation functions follow PyTorch', () => {
  assert.deepEqual(arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.equal(arange(5).dtype, 'int32');
  assertClose(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
  assertClose(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  assert.deepEqual(zeros([2, 0]).shape, [2, 0]);
});

test('the same seed gives the same numbers; a new seed different ones', () => {
  manualSeed(42);
  const a = randn([100]).toArray();
  manualSeed(42);
  const b = randn([100]).toArray();
  assert.deepEqual(a, b);
  manualSeed(43);
  assert.notDeepEqual(randn([100]).toArray(), a);
  const g1 = new Generator(7);
  const g2 = new Generator(7);
  assert.deepEqual(randn([10], { generator: g1 }).toArray(), randn([10], { generator: g2 }).toArray());
});

test('randn has the moments of a standard normal', () => {
  manualSeed(1);
  const x = randn([200000], { dtype: 'float64' });
  assert.ok(Math.abs(x.mean().item()) < 0.01);
  assert.ok(Math.abs(x.std().item() - 1) < 0.01);
});

test('printing looks like PyTorch', () => {
  assert.equal(String(tensor([[1, 2], [3, 4]])), 'tensor([[1., 2.],\n        [3., 4.]])');
  assert.equal(String(tensor([1.5, -2])), 'tensor([ 1.5000, -2.0000])');
  assert.equal(String(tensor(3.25)), 'tensor(3.2500)');
  assert.equal(String(arange(3)), 'tensor([0, 1, 2])');
  assert.equal(String(tensor([true, false])), 'tensor([ True, False])');
  assert.equal(String(tensor([1, 2], { dtype: 'float64' })), 'tensor([1., 2.], dtype=float64)');
  assert.equal(String(tensor([1e-5, 1])), 'tensor([1.0000e-05, 1.0000e+00])');
  assert.equal(String(tensor([1], { requiresGrad: true })), 'tensor([1.], requiresGrad=true)');
});

test('in-place ops bump the version and are refused on leaves that require grad', () => {
  const w = tensor([1, 2], { requiresGrad: true });
  assert.throws(() => w.add_(1), /in-place operation on a tensor that requires grad/);
  noGrad(() => w.add_(1));
  assert.deepEqual(w.toArray(), [2, 3]);
});

test('typed arrays convert into any dtype as element-by-element casts would', () => {
  const f64 = new Float64Array([0.1, -2.5, 1e40, NaN, 3]);
  for (const device of availableBackends()) {
    const t32 = tensor(f64, { dtype: 'float32', device });
    assert.deepEqual(Array.from(t32.dataSync()), Array.from(f64, (v) => Math.fround(v)));
    assert.deepEqual(Array.from(tensor(new Uint8Array([0, 7, 255]), { device }).dataSync()), [0, 7, 255]);
    assert.equal(tensor(new Uint8Array([0, 7, 255]), { device }).dtype, 'float32');
    assert.deepEqual(Array.from(tensor(new Int32Array([-3, 5]), { device }).dataSync()), [-3, 5]);
    assert.deepEqual(Array.from(tensor(new Float32Array([0.1]), { dtype: 'float64', device }).dataSync()), [Math.fround(0.1)]);
    // into int32 and bool the per-element rules apply: truncation, and nonzero -> 1
    assert.deepEqual(Array.from(tensor(new Float64Array([2.7, -2.7, Infinity]), { dtype: 'int32', device }).dataSync()), [2, -2, 0]);
    assert.deepEqual(Array.from(tensor(new Uint8Array([0, 2, 255]), { dtype: 'bool', device }).dataSync()), [0, 1, 1]);
    assert.deepEqual(Array.from(tensor(new Int32Array([2, 256, 0, -1]), { dtype: 'bool', device }).dataSync()), [1, 1, 0, 1]);
    // the tensor owns a copy
    const src = new Float32Array([1, 2]);
    const t = tensor(src, { device });
    src[0] = 9;
    assert.equal(t.dataSync()[0], 1);
  }
});

test('a flat array of numbers converts as the nested walk would, and the tensor owns a copy', () => {
  for (const device of availableBackends()) {
    const values = [0.1, -2.5, 1e40, NaN, 3, -0];
    const t = tensor(values, { device });
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(Array.from(t.dataSync()), values.map((v) => Math.fround(v)));
    assert.ok(Object.is(t.dataSync()[5], -0));
    assert.deepEqual(Array.from(tensor(values, { dtype: 'float64', device }).dataSync()), values);
    // into int32 and bool the per-element rules apply: truncation, and nonzero -> 1
    assert.deepEqual(Array.from(tensor([2.7, -2.7, Infinity, NaN], { dtype: 'int32', device }).dataSync()), [2, -2, 0, 0]);
    assert.deepEqual(Array.from(tensor([0, 2, -0.5], { dtype: 'bool', device }).dataSync()), [0, 1, 1]);
    // booleans (alone or mixed with numbers) take the nested walk: a bool tensor, or 0/1 floats
    assert.equal(tensor([true, false], { device }).dtype, 'bool');
    assert.deepEqual(Array.from(tensor([1, true, 0.5] as unknown as number[], { device }).dataSync()), [1, 1, 0.5]);
    assert.throws(() => tensor([1, 'a'] as unknown as number[], { device }), /expected numbers or booleans, got string at data\[1\]/);
    assert.throws(() => tensor([1, [2]] as unknown as number[], { device }), /ragged nested array at data\[1\]/);
    // an observation as the DQN's selectAction passes it: a flat list with the shape given
    const obs = Array.from({ length: 400 }, (_, i) => i % 3);
    const o = tensor(obs, { shape: [1, 4, 10, 10], device });
    obs[0] = 7;
    assert.deepEqual(o.shape, [1, 4, 10, 10]);
    assert.equal(o.dataSync()[0], 0);
  }
});
