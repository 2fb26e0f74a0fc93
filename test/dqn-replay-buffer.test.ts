// The DQN replay buffer (src/rl/replay-buffer.ts) and its compact storage (src/io/byte-store.ts):
// circular overwrite, sampling only filled slots, distinct slots without replacement, byte and
// float round trips, and an exact save/restore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowStore } from '../src/io/byte-store.js';
import { ReplayBuffer } from '../src/rl/replay-buffer.js';
import { PhiloxRandom } from '../src/rl/random.js';
import { flat } from './helpers.js';

/** A transition whose every field encodes its index k, so a slot's contents name the transition. */
function addNumbered(buffer: ReplayBuffer, k: number): void {
  const n = buffer.observationSize;
  const obs = Array.from({ length: n }, (_, i) => (k + i) % 256);
  const next = Array.from({ length: n }, (_, i) => (k + i + 1) % 256);
  buffer.add(obs, k % 6, k * 0.5, next, k % 3 === 0);
}

test('RowStore: bytes and floats round trip; a byte store refuses values a byte cannot hold', () => {
  const bytes = new RowStore('uint8', 3, 5);
  bytes.writeRow(1, [0, 1, 255, 7, 128]);
  assert.deepEqual(bytes.readRow(1), [0, 1, 255, 7, 128]);
  assert.deepEqual(bytes.readRow(0), [0, 0, 0, 0, 0]);
  assert.throws(() => bytes.writeRow(0, [0, 0, 0, 0, 256]), /0\.\.255, got 256/);
  assert.throws(() => bytes.writeRow(0, [0, 0, 0, 0.5, 0]), /got 0\.5/);
  assert.throws(() => bytes.writeRow(0, [0, 0, 0, -1, 0]), /got -1/);
  assert.throws(() => bytes.writeRow(0, [1, 2]), /expected 5 values, got 2/);
  assert.throws(() => bytes.writeRow(3, [0, 0, 0, 0, 0]), /row 3 is outside \[0, 3\)/);
  const floats = new RowStore('float32', 2, 3);
  floats.writeRow(0, [0.1, -2.5, 1e10]);
  assert.deepEqual(floats.readRow(0), [Math.fround(0.1), -2.5, Math.fround(1e10)]);
  // gather: rows in the order asked, repeated rows allowed, as float32 of the requested shape.
  const g = bytes.gather([1, 0, 1], [3, 5]);
  assert.equal(g.dtype, 'float32');
  assert.deepEqual(g.shape, [3, 5]);
  assert.deepEqual(flat(g), [0, 1, 255, 7, 128, 0, 0, 0, 0, 0, 0, 1, 255, 7, 128]);
  // a later gather (of the same size, or another) leaves earlier batches alone
  bytes.gather([0, 0, 0], [3, 5]);
  bytes.gather([1]);
  assert.deepEqual(flat(g), [0, 1, 255, 7, 128, 0, 0, 0, 0, 0, 0, 1, 255, 7, 128]);
  assert.deepEqual(flat(bytes.gather([1, 1], [2, 5])), [0, 1, 255, 7, 128, 0, 1, 255, 7, 128]);
});

test('RowStore: toTensor/loadTensor restores a byte store whose size is not a multiple of 4', () => {
  const a = new RowStore('uint8', 3, 3); // 9 bytes, padded to 12 for the int32 words
  a.writeRow(0, [1, 2, 3]);
  a.writeRow(1, [250, 251, 252]);
  a.writeRow(2, [0, 128, 255]);
  const saved = a.toTensor();
  assert.equal(saved.dtype, 'int32');
  assert.equal(saved.numel(), 3);
  const b = new RowStore('uint8', 3, 3);
  b.loadTensor(saved);
  for (let r = 0; r < 3; r++) assert.deepEqual(b.readRow(r), a.readRow(r));
  assert.throws(() => new RowStore('float32', 3, 3).loadTensor(saved), /expected float32 with 9 elements/);
});

test('ReplayBuffer: wraps around, overwriting the oldest transition first', () => {
  const buffer = new ReplayBuffer({ capacity: 4, observationShape: [2, 3], storage: 'uint8' });
  for (let k = 0; k < 6; k++) addNumbered(buffer, k);
  assert.equal(buffer.size, 4);
  // Slots 0 and 1 now hold transitions 4 and 5; slots 2 and 3 still hold 2 and 3.
  assert.deepEqual([0, 1, 2, 3].map((s) => buffer.get(s).reward), [2, 2.5, 1, 1.5]);
  const t4 = buffer.get(0);
  assert.deepEqual(t4.observation, [4, 5, 6, 7, 8, 9]);
  assert.deepEqual(t4.nextObservation, [5, 6, 7, 8, 9, 10]);
  assert.equal(t4.action, 4);
  assert.equal(t4.terminated, false);
  assert.equal(buffer.get(3).terminated, true); // transition 3
  // latest(n): the n newest, oldest first, across the wrap.
  const latest = buffer.latest(3);
  assert.deepEqual(latest.indices, [3, 0, 1]);
  assert.deepEqual(flat(latest.rewards), [1.5, 2, 2.5]);
  assert.deepEqual(latest.observations.shape, [3, 2, 3]);
});

test('ReplayBuffer: samples only filled slots, distinct within a batch unless with replacement', () => {
  const buffer = new ReplayBuffer({ capacity: 100, observationShape: [4], storage: 'float32' });
  for (let k = 0; k < 10; k++) addNumbered(buffer, k);
  const rng = new PhiloxRandom(7);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const idx = buffer.sampleIndices(10, rng);
    assert.equal(new Set(idx).size, 10, 'a batch without replacement repeats a slot');
    for (const j of idx) {
      assert.ok(j >= 0 && j < 10, `sampled unfilled slot ${j}`);
      seen.add(j);
    }
  }
  assert.equal(seen.size, 10);
  assert.throws(() => buffer.sampleIndices(11, rng), /cannot draw 11 distinct transitions from 10/);
  // With replacement, a batch larger than the buffer is fine and must repeat slots.
  const withRep = buffer.sampleIndices(50, rng, { replacement: true });
  assert.ok(withRep.every((j) => j >= 0 && j < 10));
  assert.ok(new Set(withRep).size <= 10);
  // The batch holds the sampled transitions, field by field.
  const batch = buffer.sample(5, new PhiloxRandom(3));
  assert.deepEqual(batch.observations.shape, [5, 4]);
  assert.equal(batch.actions.dtype, 'int32');
  batch.indices.forEach((k, i) => {
    assert.equal(flat(batch.rewards)[i], k * 0.5);
    assert.equal(flat(batch.actions)[i], k % 6);
    assert.equal(flat(batch.terminated)[i], k % 3 === 0 ? 1 : 0);
    assert.deepEqual(flat(batch.nextObservations).slice(4 * i, 4 * i + 4), [k + 1, k + 2, k + 3, k + 4]);
  });
  // The same seed samples the same batches.
  assert.deepEqual(buffer.sampleIndices(8, new PhiloxRandom(11)), buffer.sampleIndices(8, new PhiloxRandom(11)));
});

test('ReplayBuffer: uniform sampling (each of 8 slots drawn about 1/8 of the time)', () => {
  const buffer = new ReplayBuffer({ capacity: 8, observationShape: [1], storage: 'float32' });
  for (let k = 0; k < 8; k++) addNumbered(buffer, k);
  const counts = new Array<number>(8).fill(0);
  const rng = new PhiloxRandom(1);
  const draws = 16000;
  for (let i = 0; i < draws / 4; i++) for (const j of buffer.sampleIndices(4, rng)) counts[j]! += 1;
  // Each count is Binomial-like with mean 2000 and sd about 40; 200 is five standard deviations.
  for (const c of counts) assert.ok(Math.abs(c - draws / 8) < 200, `counts ${counts}`);
});

test('ReplayBuffer: stateDict / loadStateDict restore contents, position and size exactly', () => {
  const a = new ReplayBuffer({ capacity: 5, observationShape: [2, 2], storage: 'uint8' });
  for (let k = 0; k < 7; k++) addNumbered(a, k);
  const b = new ReplayBuffer({ capacity: 5, observationShape: [2, 2], storage: 'uint8' });
  b.loadStateDict(a.stateDict());
  assert.equal(b.size, 5);
  for (let s = 0; s < 5; s++) assert.deepEqual(b.get(s), a.get(s));
  // The next add goes to the same slot in both.
  addNumbered(a, 7);
  addNumbered(b, 7);
  for (let s = 0; s < 5; s++) assert.deepEqual(b.get(s), a.get(s));
  assert.deepEqual(b.latest(2).indices, a.latest(2).indices);
  const wrong = new ReplayBuffer({ capacity: 4, observationShape: [2, 2], storage: 'uint8' });
  assert.throws(() => wrong.loadStateDict(a.stateDict()), /saved capacity 5, this buffer's 4/);
});

test('ReplayBuffer: a MinAtar observation is stored in bytes and comes back exactly', async () => {
  const { makeEnv } = await import('../src/rl/index.js');
  const env = makeEnv('breakout', { seed: 3 });
  env.resetState(3);
  const buffer = new ReplayBuffer({ capacity: 3, observationShape: env.observationSpace.shape, storage: 'uint8' });
  const obs = env.observationArray();
  env.act(1);
  const next = env.observationArray();
  buffer.add(obs, 1, 0, next, false);
  const batch = buffer.latest(1);
  assert.deepEqual(batch.observations.shape, [1, 4, 10, 10]);
  assert.deepEqual(flat(batch.observations), obs);
  assert.deepEqual(flat(batch.nextObservations), next);
  assert.ok(obs.some((v) => v === 1), 'a Breakout frame has lit cells');
});
