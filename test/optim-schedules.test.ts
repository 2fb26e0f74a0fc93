/**
 * Learning-rate schedules against torch.optim.lr_scheduler: test/fixtures/optim-schedules.json
 * holds, for each schedule driving a real optimizer for 20 steps, every group's lr (and momentum
 * or β1) after construction and after each step, and the weights. We replay the same loop and
 * compare all of it; then save and restore optimizer and schedule mid-run and check the rest of
 * the run is unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad } from '../src/index.js';
import * as optim from '../src/optim/index.js';
import { assertClose, flat } from './helpers.js';
import { freshParams, groupsFor, lossFn, makeOptimizer, readFixture, type GroupSpec, type Problem } from './optim-problem.js';

interface SchedulerSpec {
  scheduler: string;
  options: Record<string, unknown>;
}

interface Schedule extends SchedulerSpec {
  name: string;
  optimizer: string;
  optimizerOptions: Record<string, unknown>;
  groups: GroupSpec[];
  lrs: number[][];
  momenta: number[][];
  weights: number[][][];
}

const fixture = readFixture<{ steps: number; problem: Problem; schedules: Schedule[] }>('optim-schedules.json');
const { problem } = fixture;
const loss = lossFn(problem);

// Learning rates are computed in float64 with torch's formulas in torch's order; only Math.cos and
// ** may differ from Python's libm in the last bit.
const LR_TOL = { atol: 1e-15, rtol: 1e-12 };
const WEIGHT_TOL = { atol: 1e-6, rtol: 1e-5 };

/** The fixture script's LAMBDAS, by name. */
const LAMBDAS: Record<string, (epoch: number) => number> = {
  'power-095': (e) => 0.95 ** e,
  inverse: (e) => 1.0 / (e + 1),
  'power-09': (e) => 0.9 ** e,
};

type AnyScheduler = optim.LRScheduler | optim.SequentialLR | optim.ReduceLROnPlateau;

function buildScheduler(opt: optim.Optimizer, spec: SchedulerSpec): AnyScheduler {
  const o = spec.options as never;
  switch (spec.scheduler) {
    case 'StepLR':
      return new optim.StepLR(opt, o);
    case 'MultiStepLR':
      return new optim.MultiStepLR(opt, o);
    case 'ExponentialLR':
      return new optim.ExponentialLR(opt, o);
    case 'CosineAnnealingLR':
      return new optim.CosineAnnealingLR(opt, o);
    case 'LinearLR':
      return new optim.LinearLR(opt, o);
    case 'LambdaLR': {
      const names = spec.options.lrLambda as string | string[];
      return new optim.LambdaLR(opt, { lrLambda: Array.isArray(names) ? names.map((n) => LAMBDAS[n]!) : LAMBDAS[names]! });
    }
    case 'OneCycleLR':
      return new optim.OneCycleLR(opt, o);
    case 'SequentialLR': {
      const children = (spec.options.schedulers as SchedulerSpec[]).map((c) => buildScheduler(opt, c) as optim.LRScheduler);
      return new optim.SequentialLR(opt, { schedulers: children, milestones: spec.options.milestones as number[] });
    }
    case 'ReduceLROnPlateau':
      return new optim.ReduceLROnPlateau(opt, o);
    default:
      throw new Error(`unknown scheduler ${spec.scheduler}`);
  }
}

function momentumOf(group: optim.ParamGroup): number {
  const g = group as optim.ParamGroup & { betas?: number[]; momentum?: number };
  return g.betas ? g.betas[0]! : (g.momentum ?? 0);
}

function setup(spec: Schedule): { ws: Tensor[]; opt: optim.Optimizer; sched: AnyScheduler } {
  const ws = freshParams(problem);
  const opt = makeOptimizer(spec.optimizer, groupsFor(ws, spec.groups), spec.optimizerOptions);
  return { ws, opt, sched: buildScheduler(opt, spec) };
}

/** One step of the fixture's loop: gradient, optimizer step, schedule step. */
function trainStep(spec: Schedule, ws: Tensor[], opt: optim.Optimizer, sched: AnyScheduler, step: number): void {
  opt.zeroGrad();
  loss(ws).backward();
  opt.step();
  if (sched instanceof optim.ReduceLROnPlateau) sched.step((spec.options.metrics as number[])[step]!);
  else sched.step();
}

for (const spec of fixture.schedules) {
  test(`${spec.name}: 20 steps of lr, momentum and weights follow torch`, () => {
    const { ws, opt, sched } = setup(spec);
    const check = (step: number) => {
      const what = `${spec.name}: after ${step} steps`;
      assertClose(opt.paramGroups.map((g) => g.lr), spec.lrs[step], LR_TOL, `${what}, lr`);
      assertClose(sched.getLastLr(), spec.lrs[step], LR_TOL, `${what}, getLastLr()`);
      assertClose(opt.paramGroups.map(momentumOf), spec.momenta[step], LR_TOL, `${what}, momentum`);
    };
    check(0);
    for (let step = 0; step < fixture.steps; step++) {
      trainStep(spec, ws, opt, sched, step);
      check(step + 1);
      ws.forEach((w, i) => assertClose(w, spec.weights[step]![i], WEIGHT_TOL, `${spec.name}: weights after step ${step + 1}, parameter ${i}`));
    }
  });
}

for (const spec of fixture.schedules) {
  test(`${spec.name}: optimizer and schedule state dicts saved at step 10 resume identically`, () => {
    const { ws, opt, sched } = setup(spec);
    for (let step = 0; step < 10; step++) trainStep(spec, ws, opt, sched, step);
    const savedOpt = opt.stateDict();
    const savedSched = sched.stateDict();

    // A new run built the same way (its constructor moves lr), then restored.
    const ws2 = ws.map((w) => noGrad(() => w.detach().clone()).requiresGrad_());
    const opt2 = makeOptimizer(spec.optimizer, groupsFor(ws2, spec.groups), spec.optimizerOptions);
    const sched2 = buildScheduler(opt2, spec);
    opt2.loadStateDict(savedOpt);
    sched2.loadStateDict(savedSched);
    assert.deepEqual(sched2.getLastLr(), sched.getLastLr());
    for (let step = 10; step < fixture.steps; step++) {
      trainStep(spec, ws, opt, sched, step);
      trainStep(spec, ws2, opt2, sched2, step);
      assert.deepEqual(opt2.paramGroups.map((g) => g.lr), opt.paramGroups.map((g) => g.lr), `${spec.name}: lr after step ${step + 1}`);
      assert.deepEqual(opt2.paramGroups.map(momentumOf), opt.paramGroups.map(momentumOf));
      ws.forEach((w, i) => assert.deepEqual(flat(ws2[i]), flat(w), `${spec.name}: weights after step ${step + 1}`));
    }
    assertClose(opt2.paramGroups.map((g) => g.lr), spec.lrs[fixture.steps], LR_TOL);
  });
}

test('step(epoch) uses the closed form; schedules check their arguments', () => {
  const w = freshParams(problem);
  const opt = new optim.SGD(w, { lr: 1 });
  const s = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  s.step(5);
  assert.deepEqual(s.getLastLr(), [0.25]);
  const m = new optim.MultiStepLR(new optim.SGD(w, { lr: 1 }), { milestones: [3, 1, 3], gamma: 0.5 });
  m.step(3);
  assert.deepEqual(m.getLastLr(), [0.125]);
  assert.throws(() => new optim.LinearLR(new optim.SGD(w, { lr: 1 }), { startFactor: 0 }), /startFactor/);
  assert.throws(() => new optim.StepLR(new optim.SGD(w, { lr: 1 }), { stepSize: 2, lastEpoch: 3 }), /no initialLr/);
  assert.throws(() => new optim.OneCycleLR(new optim.Adagrad(w), { maxLr: 1, totalSteps: 10 }), /no momentum or betas/);
  assert.throws(() => new optim.OneCycleLR(new optim.SGD(w, { lr: 1, momentum: 0.9 }), { maxLr: 1 }), /totalSteps/);
  const one = new optim.OneCycleLR(new optim.SGD(w, { lr: 1, momentum: 0.9 }), { maxLr: 1, totalSteps: 2 });
  one.step();
  one.step();
  assert.throws(() => one.step(), /tried to step 4 times/);
  assert.throws(() => new optim.ReduceLROnPlateau(opt, { factor: 1 }), /factor/);
  const plateau = new optim.ReduceLROnPlateau(opt, { mode: 'max', patience: 0 });
  plateau.loadStateDict(JSON.parse(JSON.stringify(plateau.stateDict())));
  plateau.step(-5);
  assert.equal(plateau.best, -5, 'a state dict that went through JSON still starts from the worst best');
  const other = new optim.SGD(freshParams(problem), { lr: 1 });
  assert.throws(
    () => new optim.SequentialLR(opt, { schedulers: [new optim.ExponentialLR(other, { gamma: 0.5 })], milestones: [] }),
    /belong to its optimizer/,
  );
});
