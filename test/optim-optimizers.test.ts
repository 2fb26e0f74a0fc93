/**
 * Optimizers against torch.optim, by trajectory: test/fixtures/optim-optimizers.json (written by
 * tools/reference/make_optim_fixtures.py) holds, for each configuration, the weights after each
 * of 20 steps on a fixed problem; we take the same steps and compare every one of them. Also:
 * state dicts saved mid-run (ours, and torch's) continue the trajectory exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad, tensor, zeros } from '../src/index.js';
import * as optim from '../src/optim/index.js';
import { assertClose, flat } from './helpers.js';
import { freshParams, groupsFor, lossFn, makeOptimizer, makeTensors, readFixture, type GroupSpec, type Problem } from './optim-problem.js';

interface Config {
  name: string;
  optimizer: string;
  options: Record<string, unknown>;
  groups: GroupSpec[];
  clip: null | { kind: 'norm'; maxNorm: number; normType: number | 'inf' } | { kind: 'value'; clipValue: number };
  losses: number[];
  weights: number[][][];
  norms?: number[];
  stateAt10: {
    state: Record<string, Record<string, null | number | { shape: number[]; values: number[] }>>;
    paramGroups: (Record<string, unknown> & { params: number[] })[];
  };
}

const fixture = readFixture<{ steps: number; problem: Problem; configs: Config[] }>('optim-optimizers.json');
const { problem } = fixture;
const loss = lossFn(problem);

// float32 trajectories: each step rounds differently from torch's kernels in the last bit, and
// 20 steps of feedback through the loss let that grow a little; 1e-5 relative is still far below
// any real difference (a wrong bias correction or a misplaced eps moves weights by >1e-3).
const TOL = { atol: 1e-6, rtol: 1e-5 };

/** One training step as the fixture script takes it; returns the loss and the clipped norm. */
function trainStep(opt: optim.Optimizer, ws: Tensor[], clip: Config['clip']): { loss: number; norm?: number } {
  opt.zeroGrad();
  const l = loss(ws);
  l.backward();
  let norm: number | undefined;
  if (clip?.kind === 'norm') norm = optim.clipGradNorm_(ws, clip.maxNorm, clip.normType === 'inf' ? Infinity : clip.normType).item();
  else if (clip?.kind === 'value') optim.clipGradValue_(ws, clip.clipValue);
  opt.step();
  return { loss: l.item(), norm };
}

function assertWeights(ws: Tensor[], expected: number[][], what: string): void {
  ws.forEach((w, i) => assertClose(w, expected[i], TOL, `${what}, parameter ${i}`));
}

for (const config of fixture.configs) {
  test(`${config.name}: 20 steps follow torch's trajectory`, () => {
    const ws = freshParams(problem);
    const opt = makeOptimizer(config.optimizer, groupsFor(ws, config.groups), config.options);
    for (let step = 0; step < fixture.steps; step++) {
      const { loss: l, norm } = trainStep(opt, ws, config.clip);
      assertClose(l, config.losses[step], TOL, `${config.name}: loss before step ${step + 1}`);
      if (config.norms) assertClose(norm, config.norms[step], TOL, `${config.name}: clipped norm at step ${step + 1}`);
      assertWeights(ws, config.weights[step]!, `${config.name}: step ${step + 1}`);
    }
  });
}

/** A copy of the parameters as new leaves (the same values, fresh tensors). */
function cloneParams(ws: Tensor[]): Tensor[] {
  return ws.map((w) => noGrad(() => w.detach().clone()).requiresGrad_());
}

for (const config of fixture.configs) {
  test(`${config.name}: stateDict saved at step 10 continues bit-identically in a new optimizer`, () => {
    const ws = freshParams(problem);
    const opt = makeOptimizer(config.optimizer, groupsFor(ws, config.groups), config.options);
    for (let step = 0; step < 10; step++) trainStep(opt, ws, config.clip);
    const saved = opt.stateDict();

    const ws2 = cloneParams(ws);
    // Different settings on purpose: loadStateDict must restore the saved ones.
    const opt2 = makeOptimizer(config.optimizer, [{ params: ws2.slice(0, 2) }, { params: ws2.slice(2) }], { lr: 123 });
    opt2.loadStateDict(saved);
    for (let step = 10; step < fixture.steps; step++) {
      trainStep(opt, ws, config.clip);
      trainStep(opt2, ws2, config.clip);
      ws.forEach((w, i) => assert.deepEqual(flat(ws2[i]), flat(w), `${config.name}: step ${step + 1}, parameter ${i}`));
      assertWeights(ws2, config.weights[step]!, `${config.name}: resumed step ${step + 1}`);
    }
  });
}

/** torch's state_dict from the fixture, with tensors rebuilt (keys are already camelCase). */
function torchStateDict(config: Config): optim.OptimizerStateDict {
  const state: Record<number, optim.ParamState> = {};
  for (const [idx, entry] of Object.entries(config.stateAt10.state)) {
    const s: optim.ParamState = {};
    for (const [k, v] of Object.entries(entry)) {
      if (v === null) continue;
      s[k] = typeof v === 'number' ? v : tensor(v.values, { shape: v.shape });
    }
    state[Number(idx)] = s;
  }
  return { state, paramGroups: config.stateAt10.paramGroups };
}

for (const config of fixture.configs) {
  test(`${config.name}: torch's state_dict at step 10 loads and continues torch's trajectory`, () => {
    const ws = makeTensors(config.weights[9]!, problem.shapes, true);
    const opt = makeOptimizer(config.optimizer, [{ params: ws.slice(0, 2) }, { params: ws.slice(2) }], { lr: 123 });
    opt.loadStateDict(torchStateDict(config));
    // Our own state dict has torch's layout and keys (torch's extra flags, e.g. foreach, aside).
    const ours = opt.stateDict();
    for (const [idx, entry] of Object.entries(config.stateAt10.state)) {
      const keys = Object.keys(entry).filter((k) => entry[k] !== null).sort();
      assert.deepEqual(Object.keys(ours.state[Number(idx)]!).sort(), keys, `${config.name}: state keys of parameter ${idx}`);
    }
    ours.paramGroups.forEach((g, i) => assert.deepEqual(g.params, config.stateAt10.paramGroups[i]!.params));
    for (let step = 10; step < fixture.steps; step++) {
      trainStep(opt, ws, config.clip);
      assertWeights(ws, config.weights[step]!, `${config.name}: step ${step + 1} after loading torch's state`);
    }
  });
}

test('stateDict: torch layout, copies that later steps do not change, exact round trip', () => {
  const ws = freshParams(problem);
  const opt = new optim.Adam([{ params: ws.slice(0, 2) }, { params: ws.slice(2), lr: 0.5, amsgrad: true }], { lr: 0.1 });
  for (let i = 0; i < 3; i++) trainStep(opt, ws, null);
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state).map(Number), [0, 1, 2]);
  assert.deepEqual(sd.paramGroups.map((g) => g.params), [[0, 1], [2]]);
  assert.deepEqual(sd.paramGroups[1], { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false, params: [2] });
  assert.equal(sd.state[2]!.step, 3);
  assert.ok(sd.state[2]!.maxExpAvgSq instanceof Tensor);
  assert.equal(sd.state[0]!.maxExpAvgSq, undefined);
  const before = flat(sd.state[0]!.expAvg);
  trainStep(opt, ws, null);
  assert.deepEqual(flat(sd.state[0]!.expAvg), before, 'a saved state dict must not follow later steps');
  assert.notDeepEqual(flat(opt.stateDict().state[0]!.expAvg), before);

  const opt2 = new optim.Adam(cloneParams(ws), { lr: 7 });
  opt2.addParamGroup({ params: [] });
  assert.throws(() => opt2.loadStateDict(sd), /parameter group 0 has 2 parameters/);
  const opt3 = new optim.Adam([{ params: cloneParams(ws).slice(0, 2) }, { params: cloneParams(ws).slice(2) }]);
  opt3.loadStateDict(sd);
  const back = opt3.stateDict();
  assert.deepEqual(back.paramGroups, sd.paramGroups);
  for (const [i, s] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(s)) {
      const w = back.state[Number(i)]![k];
      assert.deepEqual(v instanceof Tensor ? flat(v) : v, w instanceof Tensor ? flat(w) : w, `state ${i}.${k}`);
    }
  }
  const wrong = { ...sd, state: { ...sd.state, 0: { ...sd.state[0]!, expAvg: zeros([2]) } } };
  assert.throws(() => opt3.loadStateDict(wrong), /state 'expAvg' of parameter 0 has shape \[2\]/);
});

test('zeroGrad sets gradients to null (or zeros them); parameters without a gradient are skipped', () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4], { requiresGrad: true });
  const opt = new optim.SGD([a, b], { lr: 0.5, momentum: 0.9 });
  a.mul(a).sum().backward();
  opt.step();
  assert.deepEqual(a.toArray(), [0, 0]);
  assert.deepEqual(b.toArray(), [3, 4], 'b has no gradient and must not move');
  assert.ok(opt.state.has(a) && !opt.state.has(b), 'no state for a parameter that never had a gradient');
  opt.zeroGrad(false);
  assert.deepEqual(a.grad!.toArray(), [0, 0]);
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

test('parameter groups: defaults fill in, addParamGroup, errors name the problem', () => {
  const [a, b, c] = [zeros([2], { requiresGrad: true }), zeros([3], { requiresGrad: true }), zeros([1], { requiresGrad: true })];
  const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.1, momentum: 0.5 }], { lr: 1, nesterov: false });
  assert.equal(opt.paramGroups[0]!.lr, 1);
  assert.equal(opt.paramGroups[0]!.momentum, 0);
  assert.equal(opt.paramGroups[1]!.momentum, 0.5);
  opt.addParamGroup({ params: [c], weightDecay: 0.1 });
  assert.equal(opt.paramGroups[2]!.weightDecay, 0.1);
  assert.throws(() => opt.addParamGroup({ params: [a] }), /more than one parameter group/);
  assert.throws(() => new optim.SGD([a], { lr: -1 }), /invalid learning rate/);
  assert.throws(() => new optim.SGD([a], { lr: 0.1, nesterov: true }), /Nesterov/);
  assert.throws(() => new optim.Adam([a], { betas: [1, 0.9] }), /beta parameter at index 0/);
  assert.throws(() => new optim.Adam([]), /empty parameter list/);
  assert.throws(() => new optim.Adam([a.mul(2)]), /non-leaf/);
  const adam = new optim.Adam([a, b]);
  adam.paramGroups[0]!.betas[0] = 0.5;
  assert.equal(adam.defaults.betas[0], 0.9, 'groups own their betas; changing one does not change the defaults');
});

test('step(closure) evaluates the loss with gradients on and returns it', () => {
  const w = tensor([2, -1], { requiresGrad: true });
  const opt = new optim.SGD([w], { lr: 0.25 });
  const closure = () => {
    opt.zeroGrad();
    const l = w.mul(w).sum();
    l.backward();
    return l;
  };
  const l = noGrad(() => opt.step(closure)) as Tensor;
  assert.equal(l.item(), 5);
  assert.deepEqual(w.toArray(), [1, -0.5]);
});
