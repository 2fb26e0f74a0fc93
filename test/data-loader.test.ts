import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { arange, randn, Generator, Tensor } from '../src/index.js';
import { TensorDataset, Subset, ConcatDataset, randomSplit } from '../src/data/dataset.js';
import { DataLoader } from '../src/data/dataloader.js';
import { CIFAR, ImageFolder } from '../src/data/datasets.js';
import { parseCifarBinary } from '../src/io/cifar.js';
import { decodeImage } from '../src/io/image.js';

test('DataLoader batches, drops the last partial batch on request, and covers every index once', () => {
  const ds = new TensorDataset(arange(10), randn([10, 3]));
  const dl = new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(1) });
  assert.equal(dl.length, 3);
  const seen: number[] = [];
  const sizes: number[] = [];
  for (const batch of dl) {
    const [idx, x] = batch as [Tensor, Tensor];
    sizes.push(idx.shape[0]!);
    assert.deepEqual(x.shape, [idx.shape[0], 3]);
    seen.push(...(idx.toArray() as number[]));
  }
  assert.deepEqual(sizes, [4, 4, 2]);
  assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'shuffled');
  const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.equal([...dropped].length, 2);
});

test('the same generator seed gives the same epochs; successive epochs differ', () => {
  const ds = new TensorDataset(arange(20));
  const order = (dl: DataLoader<Tensor[]>) => [...dl].flatMap((b) => ((b as Tensor[])[0]!.toArray() as number[]));
  const a = new DataLoader(ds, { batchSize: 5, shuffle: true, generator: new Generator(9) });
  const b = new DataLoader(ds, { batchSize: 5, shuffle: true, generator: new Generator(9) });
  const a1 = order(a);
  assert.deepEqual(a1, order(b));
  assert.notDeepEqual(order(a), a1, 'a new epoch reshuffles');
});

test('Subset, ConcatDataset and randomSplit index correctly', () => {
  const ds = new TensorDataset(arange(10));
  const sub = new Subset(ds, [3, 1]);
  assert.equal((sub.get(0)[0] as Tensor).item(), 3);
  const both = new ConcatDataset([sub, new Subset(ds, [7])]);
  assert.equal(both.length, 3);
  assert.equal((both.get(2)[0] as Tensor).item(), 7);
  const [x, y] = randomSplit(ds, [0.7, 0.3], new Generator(0));
  assert.equal(x!.length + y!.length, 10);
  const all = [...x!.indices, ...y!.indices].sort((p, q) => p - q);
  assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => ds.get(10), /out of range/);
});

function cifarRecords(n: number): Uint8Array {
  const bytes = new Uint8Array(n * 3073);
  for (let i = 0; i < n; i++) {
    bytes[i * 3073] = i % 10;
    for (let p = 0; p < 3072; p++) bytes[i * 3073 + 1 + p] = (i * 7 + p) % 256;
  }
  return bytes;
}

test('CIFAR binary batches parse, and malformed ones fail with a clear message', () => {
  const batch = parseCifarBinary(cifarRecords(3), 'mem', 'cifar10');
  assert.deepEqual(batch.images.shape, [3, 3, 32, 32]);
  assert.deepEqual(batch.labels.toArray(), [0, 1, 2]);
  // the red plane comes first: pixel (c=1, y=0, x=0) is byte 1 + 1024 of the record
  assert.equal(batch.images.slice(1, 1, 0, 0).item(), (7 + 1024) % 256);
  assert.throws(() => parseCifarBinary(cifarRecords(2).subarray(0, 5000), 'cut.bin', 'cifar10'), /cut\.bin: 5000 bytes is not a whole number of cifar10 records of 3073 bytes/);
  const bad = cifarRecords(1);
  bad[0] = 12;
  assert.throws(() => parseCifarBinary(bad, 'bad.bin', 'cifar10'), /bad\.bin: record 0 has label 12, outside 0\.\.9/);
});

test('worker threads deliver the same batches as the main thread, augmentation included', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ms-cifar-'));
  mkdirSync(join(root, 'cifar-10-batches-bin'));
  for (const f of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5']) {
    writeFileSync(join(root, 'cifar-10-batches-bin', `${f}.bin`), cifarRecords(8));
  }
  const transformRecipe = { module: new URL('./fixtures-transforms.js', import.meta.url).href, factory: 'cifarAugment' };
  const { cifarAugment } = await import('./fixtures-transforms.js');
  const ds = new CIFAR({ root, train: true, transform: cifarAugment(), transformRecipe });
  assert.equal(ds.length, 40);
  const main = new DataLoader(ds, { batchSize: 6, shuffle: true, generator: new Generator(3) });
  const workers = new DataLoader(ds, { batchSize: 6, shuffle: true, generator: new Generator(3), numWorkers: 2 });
  const collect = async (dl: AsyncIterable<unknown>) => {
    const out: number[][] = [];
    for await (const b of dl) {
      const [x, y] = b as [Tensor, Tensor];
      out.push([...(y.toArray() as number[]), x.sum().item()]);
    }
    return out;
  };
  const a = await collect(main);
  const b = await collect(workers);
  await workers.close();
  assert.equal(a.length, 7);
  assert.deepEqual(b, a);
});

test('ImageFolder reads PNG and JPEG class folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'ms-imgfolder-'));
  for (const c of ['cat', 'dog']) mkdirSync(join(root, c));
  const png = new PNG({ width: 4, height: 3 });
  for (let i = 0; i < 12; i++) png.data.set([10 * i, 20, 30, 255], 4 * i);
  writeFileSync(join(root, 'cat', 'a.png'), PNG.sync.write(png));
  const rgba = new Uint8Array(5 * 5 * 4).fill(128);
  writeFileSync(join(root, 'dog', 'b.jpg'), jpeg.encode({ data: rgba, width: 5, height: 5 }, 95).data);
  writeFileSync(join(root, 'dog', 'notes.txt'), 'not an image');
  const ds = new ImageFolder(root);
  assert.deepEqual(ds.classes, ['cat', 'dog']);
  assert.equal(ds.length, 2);
  const [img, label] = ds.get(0);
  assert.equal(label, 0);
  assert.deepEqual(img.shape, [3, 3, 4]);
  assert.ok(Math.abs(img.slice(0, 0, 1).item() - 10 / 255) < 1e-6);
  const [jimg, jlabel] = ds.get(1);
  assert.equal(jlabel, 1);
  assert.deepEqual(jimg.shape, [3, 5, 5]);
  assert.ok(Math.abs(jimg.mean().item() - 128 / 255) < 0.02);
  assert.throws(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'x.bin'), /x\.bin: not a PNG or JPEG file/);
  assert.throws(() => decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'trunc.png'), /trunc\.png: cannot decode image/);
});

test('an iterable dataset is batched in the order it yields, and refuses shuffling', () => {
  const stream = {
    *[Symbol.iterator]() {
      for (let i = 0; i < 7; i++) yield i * 10;
    },
  };
  const batches = [...new DataLoader(stream, { batchSize: 3 })].map((b) => (b as Tensor).toArray());
  assert.deepEqual(batches, [[0, 10, 20], [30, 40, 50], [60]]);
  assert.equal([...new DataLoader(stream, { batchSize: 3, dropLast: true })].length, 2);
  assert.throws(() => new DataLoader(stream, { shuffle: true }), /iterable dataset is batched in the order it yields/);
  assert.throws(() => new DataLoader(stream).length, /no length/);
});
