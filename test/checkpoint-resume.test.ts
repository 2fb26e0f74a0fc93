import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, manualSeed, nn, optim, randn, type GeneratorState, type Tensor } from '../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';

/** A small model (initialized from the default generator), optimizer, schedule and a data stream drawn from `gen`. */
function setup(seed: number) {
  manualSeed(seed);
  const gen = new Generator(seed + 1);
  const model = new nn.Sequential(new nn.Linear(6, 8), new nn.Tanh(), new nn.Linear(8, 2));
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  const step = () => {
    const x = randn([4, 6], { generator: gen });
    const y = randn([4, 2], { generator: gen });
    opt.zeroGrad();
    nn.functional.mseLoss(model.forward(x), y).backward();
    opt.step();
    sched.step();
  };
  return { gen, model, opt, sched, step };
}

function weights(model: { stateDict(): Record<string, Tensor> }): Record<string, number[]> {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
}

test('training N/2 steps, checkpointing, restoring into fresh objects and training N/2 more equals N straight steps, bit for bit', () => {
  const N = 6;
  const straight = setup(7);
  for (let i = 0; i < N; i++) straight.step();

  const dir = mkdtempSync(join(tmpdir(), 'resume-'));
  try {
    const first = setup(7);
    for (let i = 0; i < N / 2; i++) first.step();
    const path = join(dir, 'checkpoint.safetensors');
    saveCheckpoint(path, {
      model: first.model.stateDict(),
      optimizer: first.opt.stateDict(),
      scheduler: first.sched.stateDict(),
      rng: first.gen.getState(),
      step: N / 2,
      config: { seed: 7, lr: 0.05 },
    });

    // A different seed everywhere: only the checkpoint can make the result match.
    const resumed = setup(99);
    const ckpt = loadCheckpoint(path);
    resumed.model.loadStateDict(ckpt.model);
    resumed.opt.loadStateDict(ckpt.optimizer as ReturnType<typeof first.opt.stateDict>);
    resumed.sched.loadStateDict(ckpt.scheduler as ReturnType<typeof first.sched.stateDict>);
    resumed.gen.setState(ckpt.rng as GeneratorState);
    assert.equal(ckpt.step, N / 2);
    for (let i = N / 2; i < N; i++) resumed.step();

    const a = weights(straight.model);
    const b = weights(resumed.model);
    assert.deepEqual(Object.keys(b), Object.keys(a));
    for (const k of Object.keys(a)) {
      a[k]!.forEach((v, i) => assert.ok(Object.is(v, b[k]![i]), `${k}[${i}]: ${v} straight vs ${b[k]![i]} resumed`));
    }
    assert.deepEqual(resumed.opt.paramGroups.map((g) => g.lr), straight.opt.paramGroups.map((g) => g.lr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The same setup and step as `setup` above, in a child process that is killed while it saves. */
const CHILD = `
import { Generator, manualSeed, nn, optim, randn } from '${new URL('../src/index.js', import.meta.url).href}';
import { saveCheckpoint } from '${new URL('../src/io/checkpoint.js', import.meta.url).href}';
const [path, seed, steps] = process.argv.slice(1).map((a, i) => (i === 0 ? a : Number(a)));
manualSeed(seed);
const gen = new Generator(seed + 1);
const model = new nn.Sequential(new nn.Linear(6, 8), new nn.Tanh(), new nn.Linear(8, 2));
const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
for (let step = 1; ; step++) {
  const x = randn([4, 6], { generator: gen });
  const y = randn([4, 2], { generator: gen });
  opt.zeroGrad();
  nn.functional.mseLoss(model.forward(x), y).backward();
  opt.step();
  sched.step();
  const state = { model: model.stateDict(), optimizer: opt.stateDict(), scheduler: sched.stateDict(), rng: gen.getState(), step };
  // The save after the last wanted step is cut short by SIGKILL halfway through writing.
  saveCheckpoint(path, state, {
    chunkBytes: 64,
    onStage: (stage, info) => {
      if (step > steps && stage === 'chunk' && info.written >= info.total / 2) process.kill(process.pid, 'SIGKILL');
    },
  });
}
`;

test('a process killed with SIGKILL while saving resumes from its last checkpoint and ends bit-identical to a straight run', () => {
  const N = 6;
  const straight = setup(7);
  for (let i = 0; i < N; i++) straight.step();

  const dir = mkdtempSync(join(tmpdir(), 'resume-'));
  try {
    const path = join(dir, 'checkpoint.safetensors');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, path, '7', String(N / 2)], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.equal(readdirSync(dir).filter((n) => n.endsWith('.tmp')).length, 1, 'the kill interrupted a save');

    const resumed = setup(99);
    const ckpt = loadCheckpoint(path);
    assert.equal(ckpt.step, N / 2, 'the checkpoint is the last complete one');
    resumed.model.loadStateDict(ckpt.model);
    resumed.opt.loadStateDict(ckpt.optimizer as ReturnType<typeof resumed.opt.stateDict>);
    resumed.sched.loadStateDict(ckpt.scheduler as ReturnType<typeof resumed.sched.stateDict>);
    resumed.gen.setState(ckpt.rng as GeneratorState);
    for (let i = N / 2; i < N; i++) resumed.step();

    const a = weights(straight.model);
    const b = weights(resumed.model);
    for (const k of Object.keys(a)) {
      a[k]!.forEach((v, i) => assert.ok(Object.is(v, b[k]![i]), `${k}[${i}]: ${v} straight vs ${b[k]![i]} resumed`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
