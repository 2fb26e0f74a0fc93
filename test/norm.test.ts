/**
 * The fused normalisation and softmax-backward primitives (batchNorm, layerNorm and their backward
 * kernels, softmaxBackward, logSoftmaxBackward):
 * 1. PyTorch parity through nn.functional and the Tensor softmax methods (test/fixtures/norm.json,
 *    written by tools/reference/make_norm_fixtures.py): outputs, every gradient, a second-order
 *    gradient, and batch norm's running statistics; on the default device.
 * 2. The native kernels against the reference on random odd and size-1 shapes, float32 and float64.
 * 3. Native results bit-identical for 1, 2 and 3 threads, and for the AVX2 and portable paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, grad, manualSeed, nn, ones, rand, randn, tensor, zeros, type Tensor } from '../src/index.js';
import type { DType } from '../src/dtype.js';
import type { PrimitiveAttrs } from '../src/ops/primitives.js';
import { runMany } from '../src/tensor/dispatch.js';
import { assertClose } from './helpers.js';
import { readFixture } from './parity-table.js';

const F = nn.functional;
const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it)';

// ---- 1. PyTorch parity ----

interface FixtureTensor {
  shape: number[];
  data: number[];
}
interface NormCase {
  name: string;
  kind: 'batchNorm' | 'layerNorm' | 'softmax' | 'logSoftmax';
  args: { eps?: number; momentum?: number; normalizedShape?: number[]; dim?: number };
  x: FixtureTensor;
  weight: FixtureTensor | null;
  bias: FixtureTensor | null;
  gy: FixtureTensor;
  v: FixtureTensor;
  y: FixtureTensor;
  gx: FixtureTensor;
  gweight: FixtureTensor | null;
  gbias: FixtureTensor | null;
  ggx: FixtureTensor;
  ggweight: FixtureTensor | null;
  runningMean?: FixtureTensor;
  runningVar?: FixtureTensor;
}

const load = (t: FixtureTensor, requiresGrad = false) => tensor(t.data, { shape: t.shape, requiresGrad });
const fixture = readFixture<{ cases: NormCase[] }>('norm.json');
const TOL = { atol: 1e-5, rtol: 1e-4 };
// The second-order gradients come out of longer chains of float32 ops.
const TOL2 = { atol: 1e-4, rtol: 1e-3 };

for (const c of fixture.cases) {
  test(`norm parity ${c.name}`, () => {
    const x = load(c.x, true);
    const w = c.weight && load(c.weight, true);
    const b = c.bias && load(c.bias, true);
    const C = c.x.shape[1]!;
    const runningMean = c.kind === 'batchNorm' ? zeros([C]) : null;
    const runningVar = c.kind === 'batchNorm' ? ones([C]) : null;
    let y: Tensor;
    if (c.kind === 'batchNorm') {
      y = F.batchNorm(x, runningMean, runningVar, { weight: w, bias: b, training: true, momentum: c.args.momentum!, eps: c.args.eps! });
    } else if (c.kind === 'layerNorm') {
      y = F.layerNorm(x, c.args.normalizedShape!, w, b, c.args.eps!);
    } else {
      y = c.kind === 'softmax' ? x.softmax(c.args.dim!) : x.logSoftmax(c.args.dim!);
    }
    assertClose(y, load(c.y), TOL, `${c.name} output`);
    const leaves = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
    const grads = grad([y], leaves, { gradOutputs: [load(c.gy)], createGraph: true });
    assertClose(grads[0], load(c.gx), TOL, `${c.name} gx`);
    if (w) assertClose(grads[1], load(c.gweight!), TOL, `${c.name} gweight`);
    if (b) assertClose(grads[2], load(c.gbias!), TOL, `${c.name} gbias`);
    const second = grad([grads[0]!.mul(load(c.v)).sum()], w ? [x, w] : [x], { allowUnused: true });
    assertClose(second[0], load(c.ggx), TOL2, `${c.name} d(gx . v)/dx`);
    if (w && c.ggweight) assertClose(second[1], load(c.ggweight), TOL2, `${c.name} d(gx . v)/dweight`);
    if (runningMean) {
      assertClose(runningMean, load(c.runningMean!), TOL, `${c.name} running mean`);
      assertClose(runningVar, load(c.runningVar!), TOL, `${c.name} running variance`);
    }
  });
}

// ---- 2. native kernels against the reference ----

type Case = { name: 'batchNorm' | 'batchNormBackward' | 'layerNorm' | 'layerNormBackward' | 'softmaxBackward' | 'logSoftmaxBackward'; inputs: (d: DType) => Tensor[]; attrs: PrimitiveAttrs['batchNorm'] | object };

const R = (shape: number[], dtype: DType, scale = 1, shift = 0) => randn(shape, { dtype }).mul(scale).add(shift);
const positive = (shape: number[], dtype: DType) => rand(shape, { dtype }).add(0.5);

function randomCases(): Case[] {
  const cases: Case[] = [];
  // [N, C, spatial...]: odd sizes, C = 1, spatial 1x1, no spatial dims, N = 1, and one large enough to split work.
  // The native kernel goes channel by channel where rows are long (the last two shapes, one split
  // over tasks) and row by row otherwise ([64, 16, 40] split over tasks).
  const batchShapes = [[3, 5, 7, 9], [2, 1, 4, 4], [5, 3, 1, 1], [7, 6], [1, 4, 13], [2, 3, 0, 2], [16, 8, 33], [64, 16, 40], [3, 4, 600], [32, 6, 1024]];
  for (const shape of batchShapes) {
    const C = [shape[1]!];
    cases.push({ name: 'batchNorm', inputs: (d) => [R(shape, d, 2, 3), R(C, d), R(C, d)], attrs: { eps: 1e-5 } });
    cases.push({ name: 'batchNormBackward', inputs: (d) => [R(shape, d), R(shape, d, 2, 3), R(C, d, 1, 3), positive(C, d), R(C, d)], attrs: {} });
  }
  // Rows of D values: one row, D = 1, odd D, several normalised dims, many rows.
  for (const [shape, norm] of [[[9], [9]], [[1, 5], [5]], [[4, 1], [1]], [[3, 2, 17], [17]], [[2, 3, 5], [3, 5]], [[150, 40], [40]], [[0, 6], [6]]] as [number[], number[]][]) {
    const stat = shape.map((d, i) => (i < shape.length - norm.length ? d : 1));
    cases.push({ name: 'layerNorm', inputs: (d) => [R(shape, d, 1.5, -2), R(norm, d), R(norm, d)], attrs: { normalizedShape: norm, eps: 1e-5 } });
    cases.push({
      name: 'layerNormBackward',
      inputs: (d) => [R(shape, d), R(shape, d), R(stat, d), positive(stat, d), R(norm, d)],
      attrs: { normalizedShape: norm },
    });
  }
  // Softmax along the last axis (the vectorized path) and others (the strided one), with a row of one.
  for (const [shape, axis] of [[[5, 37], 1], [[4, 3, 6], 1], [[6, 2], 0], [[3, 1], 1], [[1], 0], [[33, 129], 1], [[2, 0, 3], 2]] as [number[], number][]) {
    cases.push({ name: 'softmaxBackward', inputs: (d) => [R(shape, d, 3).softmax(axis), R(shape, d)], attrs: { axis } });
    cases.push({ name: 'logSoftmaxBackward', inputs: (d) => [R(shape, d, 3).logSoftmax(axis), R(shape, d)], attrs: { axis } });
  }
  return cases;
}

test('native normalisation and softmax-backward kernels match the reference', { skip: SKIP }, () => {
  manualSeed(5);
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? { atol: 2e-5, rtol: 2e-5 } : { atol: 1e-12, rtol: 1e-12 };
    for (const c of randomCases()) {
      const inputs = c.inputs(dtype);
      const ref = runMany(c.name, inputs.map((t) => t.to('reference')), c.attrs as never);
      const cpu = runMany(c.name, inputs.map((t) => t.to('cpu')), c.attrs as never);
      assert.equal(cpu[0]!.device, 'cpu');
      const shapes = inputs.map((t) => `[${t.shape.join(', ')}]`).join(' ');
      ref.forEach((r, k) => assertClose(cpu[k], r, tol, `${c.name} ${dtype} ${shapes} output ${k}`));
    }
  }
});

test('a log-softmax gradient keeps -inf log-probabilities and NaN as the reference does', { skip: SKIP }, () => {
  const y = tensor([[0, -Infinity, -1e-30, -87.5], [NaN, -0.5, -1, -2]]);
  const gy = tensor([[1, 2, 3, 4], [1, 1, 1, 1]]);
  for (const name of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
    const ref = runMany(name, [y.to('reference'), gy.to('reference')], { axis: 1 });
    const cpu = runMany(name, [y.to('cpu'), gy.to('cpu')], { axis: 1 });
    assertClose(cpu[0], ref[0], { atol: 1e-6, rtol: 1e-6 }, name);
  }
});

// ---- 3. determinism ----

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));
const DISPATCH = fileURLToPath(new URL('../src/tensor/dispatch.js', import.meta.url));

test('native normalisation kernels are bit-identical for 1, 2 and 3 threads and for AVX2 and portable code', { skip: SKIP }, () => {
  // Large enough that every kernel splits its work across tasks.
  const code = `
    const ms = await import(${JSON.stringify(INDEX)});
    const { runMany } = await import(${JSON.stringify(DISPATCH)});
    const { createHash } = await import('node:crypto');
    ms.manualSeed(9);
    const o = { device: 'cpu' };
    const x = ms.randn([6, 40, 9, 11], o).mul(3).add(1), w = ms.randn([40], o), gy = ms.randn([6, 40, 9, 11], o);
    const [y, mean, invstd] = runMany('batchNorm', [x, w, w], { eps: 1e-5 });
    const bn = runMany('batchNormBackward', [gy, x, mean, invstd, w], {});
    const lx = ms.randn([700, 97], o), lw = ms.randn([97], o), lg = ms.randn([700, 97], o);
    const ln = runMany('layerNorm', [lx, lw, lw], { normalizedShape: [97], eps: 1e-5 });
    const lb = runMany('layerNormBackward', [lg, lx, ln[1], ln[2], lw], { normalizedShape: [97] });
    // The forward softmax's own AVX2 and portable paths differ in the last bit; take it from the reference.
    const sy = lx.to('reference').softmax(-1).to('cpu'), ly = lx.to('reference').logSoftmax(-1).to('cpu');
    const sb = runMany('softmaxBackward', [sy, lg], { axis: 1 }), lsb = runMany('logSoftmaxBackward', [ly, lg], { axis: 1 });
    const h = createHash('sha256');
    for (const t of [y, mean, invstd, ...bn, ...ln, ...lb, ...sb, ...lsb]) h.update(new Uint8Array(t.dataSync().buffer));
    console.log(h.digest('hex'));
  `;
  const digest = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const one = digest({ MILESTONES_NUM_THREADS: '1' });
  assert.match(one, /^[0-9a-f]{64}$/);
  assert.equal(digest({ MILESTONES_NUM_THREADS: '2' }), one, '2 threads differ from 1');
  assert.equal(digest({ MILESTONES_NUM_THREADS: '3' }), one, '3 threads differ from 1');
  assert.equal(digest({ MILESTONES_NUM_THREADS: '2', MILESTONES_CPU_ISA: 'portable' }), one, 'the portable path differs from AVX2');
});
