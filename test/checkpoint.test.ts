import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, randn, tensor, Tensor } from '../src/index.js';
import { CheckpointError, encodeCheckpoint, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../src/io/checkpoint.js';
import { encodeSafetensors, saveSafetensors } from '../src/io/safetensors.js';
import { removeStaleTemps } from '../src/io/atomic.js';

function sameTensor(a: Tensor, b: Tensor, what: string): void {
  assert.equal(a.dtype, b.dtype, `${what}: dtype`);
  assert.deepEqual([...a.shape], [...b.shape], `${what}: shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) assert.ok(Object.is(x[i], y[i]), `${what}[${i}]: ${x[i]} vs ${y[i]}`);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ckpt-'));
}

test('a checkpoint round-trips every dtype, nested optimizer state, RNG state, step and config exactly', () => {
  const dir = tempDir();
  try {
    const gen = new Generator(1234);
    randn([5], { generator: gen }); // advance the counter so the state is not the initial one
    const model = {
      'fc1.weight': randn([3, 4], { generator: gen }),
      'fc1.bias': tensor([0, -0, NaN, Infinity]),
      'bn.runningVar': tensor([1e-300, 2], { dtype: 'float64' }),
      'bn.numBatchesTracked': tensor(7, { dtype: 'int32' }),
      'mask': tensor([true, false, true]),
      'empty': tensor([], { shape: [0, 2] }),
    };
    const optimizer = {
      state: { 0: { step: 3, expAvg: randn([3, 4], { generator: gen }), expAvgSq: tensor([[1, 2]], { dtype: 'float64' }) } },
      paramGroups: [{ lr: 1e-3, betas: [0.9, 0.999], params: [0, 1], amsgrad: false, name: null }],
    };
    const ckpt: Checkpoint = {
      model,
      optimizer,
      scheduler: { lastEpoch: 4, bestLoss: Infinity, history: [NaN, -Infinity] },
      rng: { torch: gen.getState(), loader: { seed: 9, counter: 123456789 } },
      step: 42,
      config: { lr: 0.001, layers: [784, 100, 10], $weird: 'a key with a dollar', __proto__key: { ['__proto__']: 1 } as Record<string, number> },
      extra: { $tensor: 'not a reference', epochs: [1, 2] },
    };
    const path = join(dir, 'ckpt.safetensors');
    saveCheckpoint(path, ckpt);
    const back = loadCheckpoint(path);
    assert.equal(back.step, 42);
    assert.deepEqual(Object.keys(back.model), Object.keys(model)); // order kept
    for (const [k, t] of Object.entries(model)) sameTensor(back.model[k]!, t, `model ${k}`);
    const opt = back.optimizer as typeof optimizer;
    sameTensor(opt.state[0].expAvg, optimizer.state[0].expAvg, 'expAvg');
    sameTensor(opt.state[0].expAvgSq, optimizer.state[0].expAvgSq, 'expAvgSq');
    assert.equal(opt.state[0].step, 3);
    assert.deepEqual(opt.paramGroups, optimizer.paramGroups);
    assert.deepEqual(back.scheduler, { lastEpoch: 4, bestLoss: Infinity, history: [NaN, -Infinity] });
    assert.deepEqual(back.rng, { torch: gen.getState(), loader: { seed: 9, counter: 123456789 } });
    // The restored generator continues the same stream.
    const resumed = new Generator();
    resumed.setState((back.rng as { torch: { seed: number; counter: number } }).torch);
    sameTensor(randn([4], { generator: resumed }), randn([4], { generator: gen }), 'rng continues');
    const config = back.config as Record<string, unknown>;
    assert.equal(config.$weird, 'a key with a dollar');
    assert.deepEqual(Object.keys(config.__proto__key as object), ['__proto__']);
    assert.deepEqual(back.extra, { $tensor: 'not a reference', epochs: [1, 2] });
    // Saving what was loaded gives the same bytes.
    assert.deepEqual(encodeCheckpoint(back), encodeCheckpoint(ckpt));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saving refuses state it could not restore', () => {
  const model = { w: tensor([1]) };
  assert.throws(() => encodeCheckpoint({ model, step: -1 }), /step must be a non-negative integer/);
  assert.throws(() => encodeCheckpoint({ model, step: 1, extra: { m: new Map() as never } }), /cannot store a Map at extra\/m/);
  assert.throws(() => encodeCheckpoint({ model, step: 1, extra: [undefined as never] }), /undefined at extra\/0/);
  assert.throws(() => encodeCheckpoint({ model: { w: [1] as never }, step: 1 }), /model entry "w" is not a Tensor/);
});

test('loading validates: a plain weights file, a missing tensor, a stray tensor and a bad step are refused', () => {
  const dir = tempDir();
  try {
    const plain = join(dir, 'plain.safetensors');
    saveSafetensors(plain, { w: tensor([1]) });
    assert.throws(() => loadCheckpoint(plain), (e: Error) => e instanceof CheckpointError && e.message.includes(plain) && /not a milestones checkpoint/.test(e.message));
    const meta = (state: object) => ({ format: 'milestones.checkpoint', version: '1', state: JSON.stringify(state) });
    const cases: [string, Uint8Array, RegExp][] = [
      ['missing tensor', encodeSafetensors({ 'model/w': tensor([1]) }, meta({ step: 1, model: ['w'], optimizer: { m: { $tensor: 'optimizer/m' } } })), /refers to tensor "optimizer\/m", which the file does not hold/],
      ['stray tensor', encodeSafetensors({ 'model/w': tensor([1]), extra: tensor([2]) }, meta({ step: 1, model: ['w'] })), /tensors not referenced by the state: "extra"/],
      ['listed, not stored', encodeSafetensors({}, meta({ step: 1, model: ['w'] })), /model tensor "w" is listed but not stored/],
      ['bad step', encodeSafetensors({}, meta({ step: 1.5, model: [] })), /"step" must be a non-negative integer/],
      ['bad JSON', encodeSafetensors({}, { format: 'milestones.checkpoint', version: '1', state: '{' }), /not valid JSON/],
      ['future version', encodeSafetensors({}, { format: 'milestones.checkpoint', version: '2', state: '{}' }), /version "2" is not supported/],
      ['unknown marker', encodeSafetensors({}, meta({ step: 1, model: [], extra: { $x: 1 } })), /unknown marker "\$x" at extra/],
    ];
    for (const [what, bytes, message] of cases) {
      const p = join(dir, `${what}.safetensors`);
      writeFileSync(p, bytes);
      assert.throws(() => loadCheckpoint(p), (e: Error) => e instanceof CheckpointError && message.test(e.message), what);
    }
    // A truncated checkpoint is caught by the safetensors layer.
    const good = encodeCheckpoint({ model: { w: tensor([1, 2, 3]) }, step: 1 });
    writeFileSync(join(dir, 'cut.safetensors'), good.subarray(0, good.length - 4));
    assert.throws(() => loadCheckpoint(join(dir, 'cut.safetensors')), /safetensors: .*cut\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- crash safety: a child process is killed with SIGKILL while it writes ----

const checkpointModule = new URL('../src/io/checkpoint.js', import.meta.url).href;
const indexModule = new URL('../src/index.js', import.meta.url).href;

/**
 * A child that saves checkpoints with value `v` = 1, 2, 3, ... (every element of a 256K-float weight
 * equals v, and step = v). With KILL_AT set it SIGKILLs itself at that stage of its first save;
 * otherwise it keeps saving until killed from outside.
 */
const CHILD = `
import { full } from '${indexModule}';
import { saveCheckpoint } from '${checkpointModule}';
const [path, killAt, first] = process.argv.slice(1);
for (let v = Number(first); ; v++) {
  const model = { w: full([1 << 18], v), b: full([3], v, { dtype: 'int32' }) };
  saveCheckpoint(path, { model, step: v, optimizer: { m: full([1 << 16], -v) } }, {
    chunkBytes: 1 << 14,
    onStage: (stage, info) => {
      if (stage === killAt && (stage !== 'chunk' || info.written >= info.total / 2)) process.kill(process.pid, 'SIGKILL');
    },
  });
  if (process.send) process.send(v);
  if (killAt !== 'never') break;
}
`;

function runChild(path: string, killAt: string, first: number) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, path, killAt, String(first)], { encoding: 'utf8' });
}

/** The value a child wrote into a checkpoint, after checking the checkpoint is whole and consistent. */
function valueOf(path: string): number {
  const c = loadCheckpoint(path);
  const w = c.model.w!.dataSync();
  const v = w[0]!;
  assert.ok(w.every((x) => x === v), 'every weight has the same value');
  assert.ok(Array.from(c.model.b!.dataSync()).every((x) => x === v));
  assert.ok((c.optimizer as { m: Tensor }).m.dataSync().every((x) => x === -v));
  assert.equal(c.step, v, 'step matches the weights');
  return v;
}

test('a SIGKILL mid-write or before the rename leaves the previous checkpoint intact; after the rename, the new one', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'last.safetensors');
    assert.equal(runChild(path, 'none', 1).status, 0);
    assert.equal(valueOf(path), 1);

    const midWrite = runChild(path, 'chunk', 2);
    assert.equal(midWrite.signal, 'SIGKILL', midWrite.stderr);
    assert.equal(valueOf(path), 1, 'killed halfway through writing: the old checkpoint is intact');
    const leftovers = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    assert.equal(leftovers.length, 1, 'the half-written temporary file is what the kill left');

    const beforeRename = runChild(path, 'synced', 3);
    assert.equal(beforeRename.signal, 'SIGKILL');
    assert.equal(valueOf(path), 1, 'killed after the flush, before the rename: still the old one');
    const leftNow = readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    assert.equal(leftNow.length, 1, 'the earlier leftover was cleared, this kill left its own');
    assert.notEqual(leftNow[0], leftovers[0]);

    const afterRename = runChild(path, 'renamed', 4);
    assert.equal(afterRename.signal, 'SIGKILL');
    assert.equal(valueOf(path), 4, 'killed after the rename: the new checkpoint is complete');

    // Each save first clears the temporary files that killed writers left behind.
    assert.deepEqual(readdirSync(dir), ['last.safetensors']);
    assert.equal(runChild(path, 'chunk', 5).signal, 'SIGKILL');
    assert.equal(readdirSync(dir).length, 2);
    assert.equal(removeStaleTemps(path).length, 1);
    assert.deepEqual(readdirSync(dir), ['last.safetensors']);
    assert.equal(valueOf(path), 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kills at random moments during a stream of saves always leave a whole checkpoint', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'last.safetensors');
    assert.equal(runChild(path, 'none', 1).status, 0);
    let last = 1;
    // Kill at spread-out delays until 3 kills have hit a write in progress. On a busy machine most kills
    // can land between saves, so the loop keeps going (up to 60 kills) instead of trying a fixed 5 times.
    let landedMidWrite = 0;
    let kills = 0;
    for (; kills < 60 && landedMidWrite < 3; kills++) {
      const delay = (kills * 7) % 26;
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, path, 'never', String(last + 1)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let saved = 0;
      const firstSave = new Promise((r) => child.once('message', r));
      child.on('message', (v) => (saved = Number(v)));
      const exited = new Promise((r) => child.on('exit', r));
      // Once the child is saving in a loop, kill it a few milliseconds later: anywhere in a save.
      await firstSave;
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await exited;
      // A temporary file of this child's (the next child removes it as stale before its first save).
      if (readdirSync(dir).some((n) => n.endsWith('.tmp') && n.includes(`.${child.pid}.`))) landedMidWrite++;
      const v = valueOf(path);
      assert.ok(v >= Math.max(saved, last), `checkpoint value ${v}, last reported ${saved}, previous ${last}`);
      last = v;
    }
    // The kills must really have hit writes in progress for this test to mean anything.
    assert.equal(landedMidWrite, 3, `only ${landedMidWrite} of ${kills} kills landed during a write`);
    console.log(`random kills: ${kills} kills, ${landedMidWrite} of them while a temporary file was being written`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
