/**
 * The fused optimizer updates (src/optim/fused.ts, Backend.optimizerStep) against the Tensor-op
 * updates they replace, on every backend:
 *  - the torch trajectories of optim-optimizers.json, through the fused path (counted), at the
 *    same tolerance, and bit-identical to the Tensor-op path step by step;
 *  - every setting, random values on odd sizes, float32 and float64: parameter and every state
 *    tensor bit-identical between fused and Tensor-op paths, and between the native and the
 *    reference backend (so also for any thread count: sizes above one task's grain included);
 *  - clipGradNorm_'s fused sum of squares and in-place rescale; version bumps; the fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, availableBackends, getDefaultDevice, manualSeed, randn, setDefaultDevice, tensor, zeros } from '../src/index.js';
import * as optim from '../src/optim/index.js';
import { getBackend } from '../src/backend/registry.js';
import { assertClose } from './helpers.js';
import { freshParams, groupsFor, lossFn, readFixture, type GroupSpec, type Problem } from './optim-problem.js';

const DEVICES = availableBackends().filter((d) => d === 'reference' || d === 'cpu');

/** Any concrete optimizer class (typed as SGD's only so that TypeScript sees a non-abstract base). */
type OptimizerClass = new (...args: any[]) => optim.SGD;

const CLASSES = {
  SGD: optim.SGD,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
  Adadelta: optim.Adadelta,
  Adamax: optim.Adamax,
} as unknown as Record<string, OptimizerClass>;

/** The optimizer with its fused path counted: `fusedSteps` parameter updates took it. */
function counted(Base: OptimizerClass) {
  return class extends Base {
    fusedSteps = 0;
    protected override fusedUpdate(param: Tensor, grad: Tensor, state: any, group: any): boolean {
      const fused = super.fusedUpdate(param, grad, state, group);
      if (fused) this.fusedSteps++;
      return fused;
    }
  };
}

/** The optimizer with its fused path turned off: every step runs the Tensor ops of `update`. */
function composite(Base: OptimizerClass) {
  return class extends Base {
    protected override fusedUpdate(): boolean {
      return false;
    }
  };
}

/** Runs `fn` with `device` as the default device. */
function onDevice<T>(device: string, fn: () => T): T {
  const before = getDefaultDevice();
  setDefaultDevice(device);
  try {
    return fn();
  } finally {
    setDefaultDevice(before);
  }
}

/** Asserts two float tensors hold the same bits (NaN payloads aside), naming the first difference. */
function assertSameBits(actual: Tensor, expected: Tensor, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const a = actual.dataSync(), e = expected.dataSync();
  assert.equal(a.length, e.length, `${what}: size`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], e[i])) assert.fail(`${what}: element ${i} of ${a.length} is ${a[i]}, expected ${e[i]} (bit-identical)`);
  }
}

// ---- torch trajectories through the fused path ----

interface Config {
  name: string;
  optimizer: string;
  options: Record<string, unknown>;
  groups: GroupSpec[];
  clip: null | { kind: 'norm'; maxNorm: number; normType: number | 'inf' } | { kind: 'value'; clipValue: number };
  weights: number[][][];
}

const fixture = readFixture<{ steps: number; problem: Problem; configs: Config[] }>('optim-optimizers.json');
const TOL = { atol: 1e-6, rtol: 1e-5 }; // as optim-optimizers.test.ts

function trainStep(opt: optim.Optimizer, ws: Tensor[], loss: (ws: Tensor[]) => Tensor, clip: Config['clip']): void {
  opt.zeroGrad();
  loss(ws).backward();
  if (clip?.kind === 'norm') optim.clipGradNorm_(ws, clip.maxNorm, clip.normType === 'inf' ? Infinity : clip.normType);
  else if (clip?.kind === 'value') optim.clipGradValue_(ws, clip.clipValue);
  opt.step();
}

for (const device of DEVICES) {
  test(`on ${device}: every torch trajectory runs through the fused updates, bit-identical to the Tensor-op updates`, () => {
    onDevice(device, () => {
      const loss = lossFn(fixture.problem);
      for (const config of fixture.configs) {
        const Base = CLASSES[config.optimizer]!;
        const ws = freshParams(fixture.problem);
        const ws2 = freshParams(fixture.problem);
        const Fused = counted(Base);
        const fused = new Fused(groupsFor(ws, config.groups), config.options);
        const slow = new (composite(Base))(groupsFor(ws2, config.groups), config.options);
        for (let step = 0; step < fixture.steps; step++) {
          trainStep(fused, ws, loss, config.clip);
          trainStep(slow, ws2, loss, config.clip);
          ws.forEach((w, i) => {
            assertClose(w, config.weights[step]![i], TOL, `${config.name}: step ${step + 1}, parameter ${i}`);
            assertSameBits(w, ws2[i]!, `${config.name}: step ${step + 1}, parameter ${i}, fused vs Tensor ops`);
          });
        }
        assert.equal(fused.fusedSteps, fixture.steps * ws.length, `${config.name}: every update took the fused path`);
      }
    });
  });
}

// ---- every setting, random values, odd sizes ----

const SETTINGS: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.1 }],
  ['SGD', { lr: 0.1, momentum: 0.9 }],
  ['SGD', { lr: 0.05, momentum: 0.9, dampening: 0.3, weightDecay: 0.01 }],
  ['SGD', { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 1e-3 }],
  ['SGD', { lr: 0.1, momentum: 0.5, maximize: true, weightDecay: 0.1 }],
  ['Adam', { lr: 0.01 }],
  ['Adam', { lr: 0.01, weightDecay: 0.1 }],
  ['Adam', { lr: 0.01, amsgrad: true, betas: [0.8, 0.99] }],
  ['Adam', { lr: 0.01, amsgrad: true, maximize: true, weightDecay: 0.01, eps: 1e-3 }],
  ['AdamW', { lr: 0.01 }],
  ['AdamW', { lr: 0.01, amsgrad: true, weightDecay: 0.1 }],
  ['AdamW', { lr: 0.02, maximize: true, weightDecay: 0 }],
  ['RMSprop', { lr: 0.01 }],
  ['RMSprop', { lr: 0.01, centered: true }],
  ['RMSprop', { lr: 0.01, momentum: 0.9 }],
  ['RMSprop', { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01, alpha: 0.9 }],
  ['RMSprop', { lr: 2.5e-4, centered: true, alpha: 0.95, eps: 0.01, epsInside: true }], // DeepMind's DQN
  ['RMSprop', { lr: 0.01, epsInside: true, maximize: true, momentum: 0.5 }],
  ['Adagrad', { lr: 0.1 }],
  ['Adagrad', { lr: 0.1, lrDecay: 0.1, weightDecay: 0.1, initialAccumulatorValue: 0.1 }],
  ['Adagrad', { lr: 0.1, maximize: true, eps: 1e-3 }],
  ['Adadelta', {}],
  ['Adadelta', { lr: 0.5, rho: 0.95, weightDecay: 0.1 }],
  ['Adadelta', { maximize: true, eps: 1e-3 }],
  ['Adamax', {}],
  ['Adamax', { lr: 0.01, weightDecay: 0.1, betas: [0.5, 0.9] }],
  ['Adamax', { maximize: true }],
];

const SIZES = [1, 7, 1000, 4097];
const STEPS = 3;

/** Random values of `size`, about a tenth of them exact zeros of either sign, on the reference backend. */
function values(size: number, dtype: 'float32' | 'float64'): Tensor {
  const v = randn([size], { dtype, device: 'reference' });
  const zeros = randn([size], { device: 'reference' }).abs().lt(0.1);
  const signedZero = randn([size], { device: 'reference' }).sign().mul(0).to(dtype);
  return v.where(zeros.logicalNot(), signedZero);
}

interface Run {
  params: Tensor[];
  opt: optim.Optimizer;
}

/** One optimizer over parameters of every size on `device`, after STEPS steps with the given gradients. */
function runSteps(Cls: OptimizerClass, options: Record<string, unknown>, device: string, init: Tensor[], grads: Tensor[][]): Run {
  const steps = grads.length;
  const params = init.map((p) => p.to(device).clone().requiresGrad_());
  const opt = new Cls(params, options);
  for (let s = 0; s < steps; s++) {
    params.forEach((p, i) => (p.grad = grads[s]![i]!.to(device)));
    opt.step();
  }
  return { params, opt };
}

function assertSameRuns(actual: Run, expected: Run, what: string): void {
  actual.params.forEach((p, i) => {
    const size = p.numel();
    assertSameBits(p.to('reference'), expected.params[i]!.to('reference'), `${what}, size ${size}: parameter`);
    const s = actual.opt.state.get(p)!;
    const e = expected.opt.state.get(expected.params[i]!)!;
    assert.deepEqual(Object.keys(s).sort(), Object.keys(e).sort(), `${what}, size ${size}: state keys`);
    for (const [key, value] of Object.entries(s)) {
      if (value instanceof Tensor) assertSameBits(value.to('reference'), (e[key] as Tensor).to('reference'), `${what}, size ${size}: state ${key}`);
      else assert.equal(value, e[key], `${what}, size ${size}: state ${key}`);
    }
  });
}

for (const [name, options] of SETTINGS) {
  test(`${name} ${JSON.stringify(options)}: fused = Tensor ops = reference, bit for bit, float32 and float64`, () => {
    manualSeed(7);
    for (const dtype of ['float32', 'float64'] as const) {
      const init = SIZES.map((n) => values(n, dtype));
      const grads = Array.from({ length: STEPS }, () => SIZES.map((n) => values(n, dtype).mul(3)));
      const Base = CLASSES[name]!;
      const expected = runSteps(composite(Base), options, 'reference', init, grads);
      for (const device of DEVICES) {
        const Fused = counted(Base);
        const fused = runSteps(Fused, options, device, init, grads);
        assert.equal((fused.opt as InstanceType<typeof Fused>).fusedSteps, STEPS * SIZES.length, `${device} ${dtype}: fused path taken`);
        assertSameRuns(fused, expected, `${device} ${dtype} fused vs reference Tensor ops`);
        if (device !== 'reference') assertSameRuns(runSteps(composite(Base), options, device, init, grads), expected, `${device} ${dtype} Tensor ops`);
      }
    }
  });
}

// Every flag of each kind at once, on tensors that span three tasks of the native thread pool.
const LARGE: [string, Record<string, unknown>][] = [
  ['SGD', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01, maximize: true }],
  ['Adam', { lr: 0.01, amsgrad: true, weightDecay: 0.01, maximize: true }],
  ['AdamW', { lr: 0.01, amsgrad: true, weightDecay: 0.1 }],
  ['RMSprop', { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01, epsInside: true, maximize: true }],
  ['Adagrad', { lr: 0.1, lrDecay: 0.1, weightDecay: 0.1, maximize: true }],
  ['Adadelta', { lr: 0.5, weightDecay: 0.1, maximize: true }],
  ['Adamax', { lr: 0.01, weightDecay: 0.1, maximize: true }],
];

test('tensors split over native threads: native fused updates give the reference bits', () => {
  const native = DEVICES.filter((d) => d !== 'reference');
  manualSeed(11);
  const size = 40000;
  const init = [values(size, 'float32')];
  const grads = [0, 1].map(() => [values(size, 'float32').mul(3)]);
  for (const [name, options] of LARGE) {
    const expected = runSteps(CLASSES[name]!, options, 'reference', init, grads);
    for (const device of native) assertSameRuns(runSteps(CLASSES[name]!, options, device, init, grads), expected, `${name} on ${device}`);
  }
});

// ---- version bumps and the fallback ----

for (const device of DEVICES) {
  test(`on ${device}: a fused step bumps versions, so backward through a saved parameter fails as after add_`, () => {
    onDevice(device, () => {
      const w = tensor([0.5, -1, 2], { requiresGrad: true });
      const opt = new (counted(CLASSES['RMSprop']!))([w], { lr: 0.1, centered: true, momentum: 0.5 });
      const y = w.mul(w).sum(); // saves w for its backward
      w.sum().backward();
      const before = w._version.value;
      opt.step();
      assert.equal(opt.fusedSteps, 1);
      assert.ok(w._version.value > before, 'the parameter version moved');
      assert.throws(() => y.backward(), /in-place operation after it was used/);
      const state = opt.state.get(w) as unknown as optim.RMSpropState;
      const avg = state.squareAvg;
      const v = avg._version.value;
      opt.step();
      assert.ok(avg._version.value > v, 'state versions move too');
    });
  });

  test(`on ${device}: a gradient of another dtype takes the Tensor-op path, with the same result`, () => {
    onDevice(device, () => {
      const make = () => tensor([0.5, -1, 2], { requiresGrad: true });
      const [a, b] = [make(), make()];
      const fused = new (counted(CLASSES['Adam']!))([a], { lr: 0.1 });
      const slow = new (composite(CLASSES['Adam']!))([b], { lr: 0.1 });
      a.grad = tensor([1, 2, 3], { dtype: 'float64' });
      b.grad = tensor([1, 2, 3], { dtype: 'float64' });
      fused.step();
      slow.step();
      assert.equal(fused.fusedSteps, 0, 'not fused');
      assertSameBits(a, b, 'parameter');
      assert.equal((fused.state.get(a) as unknown as optim.AdamState).step, 1);
    });
  });
}

// ---- clipGradNorm_ ----

for (const device of DEVICES) {
  test(`on ${device}: clipGradNorm_ sums squares in float64 in one pass and rescales in place`, () => {
    onDevice(device, () => {
      manualSeed(3);
      const ps = [1, 7, 4095, 4097, 100003].map((n) => zeros([n], { requiresGrad: true }));
      ps.forEach((p) => (p.grad = randn([p.numel()])));
      const grads = ps.map((p) => p.grad!);
      const exact = grads.reduce((acc, g) => acc + Array.from(g.dataSync()).reduce((s, v) => s + v * v, 0), 0);
      const before = grads.map((g) => Array.from(g.dataSync()));
      const versions = grads.map((g) => g._version.value);
      const backend = getBackend(device);
      const squares = backend.read(backend.sumOfSquares(grads.map((g) => g._storage)))[0]!;
      const total = optim.clipGradNorm_(ps, 1);
      assert.equal(total.dtype, 'float32');
      assert.equal(total.item(), Math.fround(Math.sqrt(squares)), 'the norm is the root of the fused sum of squares');
      assertClose(squares, exact, { rtol: 1e-12, atol: 0 });
      const coef = Math.fround(1 / Math.fround(Math.fround(Math.sqrt(squares)) + Math.fround(1e-6)));
      grads.forEach((g, i) => {
        assert.ok(g._version.value > versions[i]!, 'gradient version bumped');
        const got = g.dataSync();
        for (let j = 0; j < got.length; j += 997) assert.equal(got[j], Math.fround(before[i]![j]! * coef), `gradient ${i}, element ${j}`);
      });
    });
  });
}

test('sumOfSquares: the native kernel gives the reference bits (blocked float64 order), float32 and float64, odd sizes', () => {
  manualSeed(5);
  const native = DEVICES.filter((d) => d !== 'reference');
  for (const dtype of ['float32', 'float64'] as const) {
    const xs = [0, 1, 7, 8, 9, 4095, 4096, 4097, 100003].map((n) => randn([n], { dtype, device: 'reference' }).mul(1000));
    const ref = getBackend('reference');
    const expected = ref.read(ref.sumOfSquares(xs.map((x) => x._storage)))[0]!;
    for (const device of native) {
      const b = getBackend(device);
      const got = b.read(b.sumOfSquares(xs.map((x) => x.to(device)._storage)))[0]!;
      assert.ok(Object.is(got, expected), `${device} ${dtype}: ${got} vs ${expected}`);
    }
  }
});
