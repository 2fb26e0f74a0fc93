/**
 * The cpu backend's native indexing kernels (native/cpu/indexing.cc): gather, scatter, scatterAdd,
 * indexSelect, indexAdd, argsort and adaptive average pooling (forward and backward), against the
 * reference backend, bit for bit, on random shapes (size-1, empty, odd), every dtype, duplicate
 * indices, out-of-range indices (the same error), inputs large enough to split across threads,
 * results that do not depend on the thread count, and nn.Embedding through the public API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends } from '../src/backend/registry.js';
import { Gen, same, sameBitsForThreadCounts, type Value } from './native-compare.js';
import { grad, nn, noGrad, tensor } from '../src/index.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it); nothing to compare';

const CASES = 150;

/** gather / scatter / scatterAdd cases; `bad` puts out-of-range (or negative) indices in some. */
function scatterCase(g: Gen, name: 'gather' | 'scatter' | 'scatterAdd', big: boolean): [Value[], unknown] {
  const s = big ? [g.int(10, 40), g.int(30, 100), g.int(1, 20)] : g.shape(0, 4, true);
  if (s.length === 0) {
    // 0-d: the index is 0-d too (0 is the only valid position along the one implicit axis).
    const d = g.dtype();
    const index = g.value([], 'int32', () => g.int(0, 1));
    return [name === 'gather' ? [g.value([], d), index] : [g.value([], d), index, g.value([], d)], { axis: 0 }];
  }
  const axis = g.int(0, s.length - 1);
  const size = s[axis]!;
  // The index may be smaller than x outside the axis, and longer or shorter along it (duplicates).
  const is = s.map((d, i) => (i === axis ? (big ? g.int(1, 120) : g.dim(true)) : g.int(d === 0 ? 0 : 1, d)));
  const bad = !big && g.r() < 0.15;
  const index = g.value(is, 'int32', () => (bad && g.r() < 0.2 ? g.int(-3, size + 3) : size > 0 ? g.int(0, size - 1) : 0));
  const d = g.dtype();
  const x = g.value(s, d);
  if (name === 'gather') return [[x, index], { axis }];
  // src may be larger than the index in every dimension.
  const src = g.value(is.map((n) => n + (g.r() < 0.3 ? g.int(0, 2) : 0)), d);
  return [[x, index, src], { axis }];
}

function indexCase(g: Gen, name: 'indexSelect' | 'indexAdd', big: boolean): [Value[], unknown] {
  const s = big ? [g.int(1, 3), g.int(30, 80), g.int(64, 200)] : g.shape(1, 4, true);
  if (s.length === 0) s.push(3);
  const axis = g.int(0, s.length - 1);
  const size = s[axis]!;
  const k = big ? g.int(100, 400) : g.dim(true, 9);
  const bad = !big && g.r() < 0.15;
  const index = g.value([k], 'int32', () => (bad && g.r() < 0.3 ? g.int(-3, size + 3) : size > 0 ? g.int(0, size - 1) : 0));
  const d = g.dtype();
  const x = g.value(s, d);
  if (name === 'indexSelect') return [[x, index], { axis }];
  const srcShape = [...s];
  srcShape[axis] = k;
  return [[x, index, g.value(srcShape, d)], { axis }];
}

for (const name of ['gather', 'scatter', 'scatterAdd'] as const) {
  test(`${name}: cpu equals the reference bit for bit (every dtype, duplicates, bad indices, large)`, { skip: SKIP }, () => {
    const g = new Gen(name.length * 101);
    for (let c = 0; c < CASES; c++) {
      const [inputs, attrs] = scatterCase(g, name, c % 25 === 24);
      same(name, inputs, attrs);
    }
  });
}

for (const name of ['indexSelect', 'indexAdd'] as const) {
  test(`${name}: cpu equals the reference bit for bit (every dtype, duplicates, bad indices, large)`, { skip: SKIP }, () => {
    const g = new Gen(name.length * 211);
    for (let c = 0; c < CASES; c++) {
      const [inputs, attrs] = indexCase(g, name, c % 25 === 24);
      same(name, inputs, attrs);
    }
  });
}

test('argsort: stable, NaN largest, ascending and descending, every dtype', { skip: SKIP }, () => {
  const g = new Gen(9001);
  for (let c = 0; c < CASES; c++) {
    const big = c % 25 === 24;
    const s = big ? [g.int(1, 30), g.int(200, 3000)] : g.shape(0, 4, true);
    const axis = s.length === 0 ? 0 : g.int(0, s.length - 1);
    same('argsort', [g.value(s, g.dtype())], { axis, descending: g.r() < 0.5 });
  }
});

test('adaptiveAvgPool2d and its backward: overlapping, growing and empty windows', { skip: SKIP }, () => {
  const g = new Gen(4242);
  for (let c = 0; c < CASES; c++) {
    const big = c % 25 === 24;
    const d = g.r() < 0.8 ? (g.r() < 0.5 ? 'float32' : 'float64') : 'int32';
    const x = big ? [4, 16, g.int(20, 40), g.int(20, 40)] : [g.int(0, 2), g.int(1, 3), g.int(0, 9), g.int(1, 9)];
    const o: [number, number] = [g.int(1, big ? 9 : 11), g.int(1, big ? 9 : 11)];
    same('adaptiveAvgPool2d', [g.value(x, d)], { outputSize: o });
    same('adaptiveAvgPool2dBackward', [g.value([x[0]!, x[1]!, o[0], o[1]], d)], { inputShape: x });
  }
});

test('an out-of-range index is the same IndexError on both backends, renamed by embedding', { skip: SKIP }, () => {
  for (const device of ['cpu', 'reference']) {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { device });
    assert.throws(() => x.gather(1, tensor([[0, 3]], { dtype: 'int32', device })), {
      name: 'IndexError',
      message: 'gather: index 3 is out of bounds for dimension 1 with size 3',
    });
    assert.throws(() => x.gather(-1, tensor([[0, -1]], { dtype: 'int32', device })), {
      message: 'gather: index -1 is out of bounds for dimension 1 with size 3',
    });
    const emb = new nn.Embedding(4, 3);
    emb.to(device);
    assert.throws(() => emb.forward(tensor([1, 4], { dtype: 'int32', device })), {
      message: 'embedding: index 4 is out of range for a table of 4 rows (weight [4, 3])',
    });
  }
});

test('nn.Embedding forward and backward are identical on cpu and reference', { skip: SKIP }, () => {
  // A GPT-sized lookup: [8, 256] ids into a [65, 384] table; every row is picked many times, so
  // the backward's indexAdd accumulates long runs of duplicates.
  const g = new Gen(77);
  const ids = g.value([8, 256], 'int32', () => g.int(0, 64));
  const table = g.value([65, 384], 'float32', () => g.r() * 2 - 1);
  const upstream = g.value([8, 256, 384], 'float32', () => g.r() * 2 - 1);
  const [cpu, ref] = ['cpu', 'reference'].map((device) => {
    const emb = new nn.Embedding(65, 384).to(device);
    noGrad(() => emb.weight.copy_(tensor(table.values, { shape: table.shape, device })));
    const y = emb.forward(tensor(ids.values, { shape: ids.shape, dtype: 'int32', device })); // [8, 256, 384]
    const [gw] = grad([y.mul(tensor(upstream.values, { shape: upstream.shape, device })).sum()], [emb.weight]);
    return { y: Array.from(y.dataSync()), gw: Array.from(gw!.dataSync()) };
  });
  assert.deepEqual(cpu!.y, ref!.y);
  assert.deepEqual(cpu!.gw, ref!.gw);
});

test('scatterAdd, indexAdd and argsort give the same bits for 1 and 3 threads', { skip: SKIP }, () => {
  const code = `
    const { createHash } = await import('node:crypto');
    ms.manualSeed(3);
    const o = { device: 'cpu' };
    const x = ms.randn([300, 517], o);
    const idx = ms.randint(0, 300, [4000], { ...o, dtype: 'int32' });
    const src = ms.randn([4000, 517], o);
    const rows = ms.randint(0, 300, [300, 517], { ...o, dtype: 'int32' });
    x.requiresGrad = true;
    const [gx] = ms.grad([x.indexSelect(0, idx).mul(src).sum()], [x]); // indexAdd of 4000 rows into 300
    const outs = [
      gx, x.scatterAdd(0, rows, x.mul(3)), x.indexSelect(0, idx), x.gather(0, rows),
      x.argsort(0), x.argsort(1, true), ms.nn.functional.adaptiveAvgPool2d(x.reshape([3, 4, 25, 517]), [7, 13]),
    ];
    const h = createHash('sha256');
    for (const t of outs) h.update(new Uint8Array(t.dataSync().buffer));
    console.log(h.digest('hex'));
  `;
  sameBitsForThreadCounts(code);
});
