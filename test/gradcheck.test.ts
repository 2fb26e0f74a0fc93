/**
 * Float64 central-difference gradchecks.
 *
 * 1. Every primitive that has a rule in src/autograd/rules.ts, called directly, on random shapes
 *    with size-1 dimensions and broadcasting; and its second derivative (the rule differentiated
 *    again, as createGraph needs), wherever the first derivative depends on the inputs.
 * 2. Every composite of the PyTorch parity table (test/parity-table.ts), on the fixture's shapes
 *    and values promoted to float64.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Generator, cat, gradcheck, grad, manualSeed, rand, randn, tensor, noGrad } from '../src/index.js';
import { run, runMany } from '../src/tensor/dispatch.js';
import { RULES } from '../src/autograd/rules.js';
import type { PrimitiveAttrs, PrimitiveName } from '../src/ops/primitives.js';
import { type FixtureCase, fromFixture, outputsOf, readFixture } from './parity-table.js';

manualSeed(7);
const f64 = { dtype: 'float64' as const, requiresGrad: true };
const normal = (...shape: number[]) => randn(shape, f64);
/** Away from 0, for log, sqrt, division and powers. */
const positive = (...shape: number[]) => noGrad(() => rand(shape, { dtype: 'float64' }).add(0.5)).requiresGrad_();
/** Magnitudes in [0.5, 1.5), alternating signs. */
const signedPositive = (...shape: number[]) => {
  const signs = Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => (i % 2 === 0 ? 1 : -1));
  return noGrad(() => rand(shape, { dtype: 'float64' }).add(0.5).mul(tensor(signs, { dtype: 'float64', shape }))).requiresGrad_();
};
const ints = (values: number[], shape = [values.length]) => tensor(values, { dtype: 'int32', shape });
const bools = (values: number[], shape: number[]) => tensor(values, { dtype: 'bool', shape });

interface Direct {
  inputs: () => Tensor[];
  fn: (...xs: Tensor[]) => Tensor;
  /** Skip the second-order check (documented where set). */
  firstOrderOnly?: boolean;
}

const conv = { stride: [2, 1] as [number, number], padding: [1, 0] as [number, number], dilation: [1, 2] as [number, number], groups: 2 };
const pool = { kernel: [3, 2] as [number, number], stride: [2, 1] as [number, number], padding: [1, 1] as [number, number], ceilMode: true, countIncludePad: false, divisorOverride: null };

/** One direct call of each primitive with a gradient rule (several for some). */
const DIRECT: Record<string, Direct> = {
  neg: { inputs: () => [normal(2, 1, 3)], fn: (x) => run('neg', [x!], {}) },
  abs: { inputs: () => [normal(2, 1, 3)], fn: (x) => run('abs', [x!], {}) },
  sign: { inputs: () => [normal(3)], fn: (x) => run('sign', [x!], {}) },
  floor: { inputs: () => [normal(3)], fn: (x) => run('floor', [x!], {}) },
  ceil: { inputs: () => [normal(3)], fn: (x) => run('ceil', [x!], {}) },
  trunc: { inputs: () => [normal(3)], fn: (x) => run('trunc', [x!], {}) },
  round: { inputs: () => [normal(3)], fn: (x) => run('round', [x!], {}) },
  exp: { inputs: () => [normal(2, 3)], fn: (x) => run('exp', [x!], {}) },
  log: { inputs: () => [positive(2, 3)], fn: (x) => run('log', [x!], {}) },
  log1p: { inputs: () => [positive(2, 3)], fn: (x) => run('log1p', [x!], {}) },
  sqrt: { inputs: () => [positive(2, 3)], fn: (x) => run('sqrt', [x!], {}) },
  rsqrt: { inputs: () => [positive(2, 3)], fn: (x) => run('rsqrt', [x!], {}) },
  sin: { inputs: () => [normal(2, 3)], fn: (x) => run('sin', [x!], {}) },
  cos: { inputs: () => [normal(2, 3)], fn: (x) => run('cos', [x!], {}) },
  tanh: { inputs: () => [normal(2, 3)], fn: (x) => run('tanh', [x!], {}) },
  sigmoid: { inputs: () => [normal(2, 3)], fn: (x) => run('sigmoid', [x!], {}) },
  erf: { inputs: () => [normal(2, 3)], fn: (x) => run('erf', [x!], {}) },
  relu: { inputs: () => [normal(2, 3)], fn: (x) => run('relu', [x!], {}) },
  gelu: { inputs: () => [normal(2, 3)], fn: (x) => run('gelu', [x!], {}) },
  geluTanh: { inputs: () => [normal(2, 3)], fn: (x) => run('geluTanh', [x!], {}) },
  geluTanhBackward: { inputs: () => [normal(2, 3), normal(2, 3)], fn: (x, g) => run('geluTanhBackward', [x!, g!], {}) },
  reluBackward: { inputs: () => [normal(2, 3), normal(2, 3)], fn: (y, g) => run('reluBackward', [y!, g!], {}) },
  silu: { inputs: () => [normal(2, 3)], fn: (x) => run('silu', [x!], {}) },
  leakyRelu: { inputs: () => [normal(2, 3)], fn: (x) => run('leakyRelu', [x!], { slope: 0.2 }) },
  smoothL1: { inputs: () => [noGrad(() => randn([3, 4], { dtype: 'float64' }).mul(2)).requiresGrad_()], fn: (x) => run('smoothL1', [x!], { beta: 1 }) },
  smoothL1Backward: {
    inputs: () => [noGrad(() => randn([3, 4], { dtype: 'float64' }).mul(2)).requiresGrad_(), normal(3, 4)],
    fn: (x, g) => run('smoothL1Backward', [x!, g!], { beta: 1 }),
  },
  elu: { inputs: () => [normal(2, 3)], fn: (x) => run('elu', [x!], { alpha: 0.7 }) },
  softplus: { inputs: () => [noGrad(() => randn([3, 4], { dtype: 'float64' }).mul(3)).requiresGrad_()], fn: (x) => run('softplus', [x!], { beta: 1.5, threshold: 2 }) },
  clamp: { inputs: () => [normal(3, 4)], fn: (x) => run('clamp', [x!], { min: -0.4, max: 0.6 }) },
  cast: { inputs: () => [normal(2, 3)], fn: (x) => run('cast', [x!], { dtype: 'float64' }) },
  add: { inputs: () => [normal(2, 1, 3), normal(4, 1)], fn: (a, b) => run('add', [a!, b!], {}) },
  sub: { inputs: () => [normal(2, 1, 3), normal(4, 1)], fn: (a, b) => run('sub', [a!, b!], {}) },
  mul: { inputs: () => [normal(2, 1, 3), normal(4, 1)], fn: (a, b) => run('mul', [a!, b!], {}) },
  div: { inputs: () => [normal(2, 1, 3), positive(4, 1)], fn: (a, b) => run('div', [a!, b!], {}) },
  pow: { inputs: () => [positive(2, 1, 3), normal(4, 1)], fn: (a, b) => run('pow', [a!, b!], {}) },
  maximum: { inputs: () => [normal(2, 1, 3), normal(4, 1)], fn: (a, b) => run('maximum', [a!, b!], {}) },
  minimum: { inputs: () => [normal(2, 1, 3), normal(4, 1)], fn: (a, b) => run('minimum', [a!, b!], {}) },
  // Divisors in [0.5, 1.5) of either sign; the quotients' jumps are far from the random points.
  remainder: { inputs: () => [normal(2, 1, 3), signedPositive(4, 1)], fn: (a, b) => run('remainder', [a!, b!], {}) },
  fmod: { inputs: () => [normal(2, 1, 3), signedPositive(4, 1)], fn: (a, b) => run('fmod', [a!, b!], {}) },
  where: {
    inputs: () => [bools([1, 0, 0, 1, 1, 0], [2, 1, 3]), normal(4, 1), normal(2, 4, 3)],
    fn: (c, a, b) => run('where', [c!, a!, b!], {}),
  },
  sum: { inputs: () => [normal(3, 1, 4)], fn: (x) => run('sum', [x!], { axes: [0, 2], keepdim: false }) },
  prod: { inputs: () => [normal(3, 1, 4)], fn: (x) => run('prod', [x!], { axes: [2], keepdim: true }) },
  amax: { inputs: () => [normal(3, 2, 4)], fn: (x) => run('amax', [x!], { axes: [0, 2], keepdim: false }) },
  amin: { inputs: () => [normal(3, 2, 4)], fn: (x) => run('amin', [x!], { axes: [1], keepdim: true }) },
  cumsum: { inputs: () => [normal(3, 4, 1)], fn: (x) => run('cumsum', [x!], { axis: 1 }) },
  bmm: { inputs: () => [normal(2, 3, 4), normal(2, 4, 5)], fn: (a, b) => run('bmm', [a!, b!], { transA: false, transB: false }) },
  reshape: { inputs: () => [normal(2, 3, 2)], fn: (x) => run('reshape', [x!], { shape: [3, 4] }) },
  permute: { inputs: () => [normal(2, 3, 4)], fn: (x) => run('permute', [x!], { perm: [1, 2, 0] }) },
  expand: { inputs: () => [normal(3, 1)], fn: (x) => run('expand', [x!], { shape: [2, 3, 4] }) },
  slice: { inputs: () => [normal(5, 4)], fn: (x) => run('slice', [x!], { starts: [1, 0], steps: [2, 3], shape: [2, 2] }) },
  sliceScatter: {
    inputs: () => [normal(2, 2)],
    fn: (g) => run('sliceScatter', [g!], { starts: [1, 0], steps: [2, 3], inputShape: [5, 4] }),
  },
  cat: { inputs: () => [normal(2, 1), normal(2, 3), normal(2, 2)], fn: (a, b, c) => run('cat', [a!, b!, c!], { axis: 1 }) },
  flip: { inputs: () => [normal(2, 3, 4)], fn: (x) => run('flip', [x!], { axes: [0, 2] }) },
  gather: { inputs: () => [normal(3, 4), ints([0, 3, 3, 1, 2, 0], [3, 2])], fn: (x, i) => run('gather', [x!, i!], { axis: 1 }) },
  // src larger than index: only its leading block is read.
  scatter: {
    inputs: () => [normal(3, 5), ints([4, 0, 2, 1, 3, 0], [2, 3]), normal(3, 4)],
    fn: (x, i, s) => run('scatter', [x!, i!, s!], { axis: 1 }),
  },
  scatterAdd: {
    inputs: () => [normal(3, 4), ints([0, 2, 2, 1, 0, 0], [2, 3]), normal(2, 4)],
    fn: (x, i, s) => run('scatterAdd', [x!, i!, s!], { axis: 0 }),
  },
  indexSelect: { inputs: () => [normal(4, 3), ints([3, 0, 3, 1, 2])], fn: (x, i) => run('indexSelect', [x!, i!], { axis: 0 }) },
  indexAdd: {
    inputs: () => [normal(4, 3), ints([1, 1, 2]), normal(4, 3)],
    fn: (x, i, s) => run('indexAdd', [x!, i!, s!], { axis: 1 }),
  },
  softmax: { inputs: () => [normal(3, 4)], fn: (x) => run('softmax', [x!], { axis: 0 }) },
  logSoftmax: { inputs: () => [normal(3, 4)], fn: (x) => run('logSoftmax', [x!], { axis: 1 }) },
  // A fixed draw (key, counter): the same mask on every evaluation.
  dropout: { inputs: () => [normal(3, 4)], fn: (x) => run('dropout', [x!], { p: 0.3, key: [7, 9], counter: 11 }) },
  dropoutBackward: {
    inputs: () => [normal(3, 4), tensor([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0], { shape: [3, 4], dtype: 'bool' })],
    fn: (g, keep) => run('dropoutBackward', [g!, keep!], { p: 0.3 }),
  },
  // Most sub-tensors above maxnorm (scaled), some below (passed through); p = 2, 1 and 3.
  renorm: {
    inputs: () => [normal(3, 4)],
    fn: (x) =>
      run('renorm', [x!], { p: 2, axis: 0, maxnorm: 1.5 })
        .add(run('renorm', [x!], { p: 1, axis: 1, maxnorm: 2 }))
        .add(run('renorm', [x!], { p: 3, axis: 0, maxnorm: 1 })),
  },
  conv2d: { inputs: () => [normal(2, 4, 5, 5), normal(4, 2, 3, 2)], fn: (x, w) => run('conv2d', [x!, w!], conv) },
  conv2dBackwardInput: {
    // gy has the shape conv2d gives [2, 4, 5, 5] with `conv`: [2, 4, 3, 3].
    inputs: () => [normal(2, 4, 3, 3), normal(4, 2, 3, 2)],
    fn: (gy, w) => run('conv2dBackwardInput', [gy!, w!], { ...conv, inputShape: [2, 4, 5, 5] }),
  },
  conv2dBackwardWeight: {
    inputs: () => [normal(2, 4, 5, 5), normal(2, 4, 3, 3)],
    fn: (x, gy) => run('conv2dBackwardWeight', [x!, gy!], { ...conv, weightShape: [4, 2, 3, 2] }),
  },
  avgPool2d: { inputs: () => [normal(1, 2, 5, 4)], fn: (x) => run('avgPool2d', [x!], pool) },
  avgPool2dBackward: {
    inputs: () => [normal(1, 2, 3, 5)],
    fn: (g) => run('avgPool2dBackward', [g!], { ...pool, inputShape: [1, 2, 5, 4] }),
  },
  adaptiveAvgPool2d: { inputs: () => [normal(2, 1, 5, 7)], fn: (x) => run('adaptiveAvgPool2d', [x!], { outputSize: [3, 4] }) },
  adaptiveAvgPool2dBackward: {
    inputs: () => [normal(2, 1, 3, 4)],
    fn: (g) => run('adaptiveAvgPool2dBackward', [g!], { inputShape: [2, 1, 5, 7] }),
  },
  // The normalisation primitives, with every output (the statistics and all three gradients)
  // flattened into one, so the rules' handling of each output's gradient is checked too.
  batchNorm: { inputs: () => [normal(3, 2, 2, 1), normal(2), normal(2)], fn: (x, w, b) => allOutputs('batchNorm', [x!, w!, b!], { eps: 1e-3 }) },
  batchNormBackward: {
    inputs: () => [normal(3, 2, 2), normal(3, 2, 2), normal(2), positive(2), normal(2)],
    fn: (...xs) => allOutputs('batchNormBackward', xs, {}),
  },
  layerNorm: {
    inputs: () => [normal(2, 3, 2, 2), normal(2, 2), normal(2, 2)],
    fn: (x, w, b) => allOutputs('layerNorm', [x!, w!, b!], { normalizedShape: [2, 2], eps: 1e-3 }),
  },
  layerNormBackward: {
    inputs: () => [normal(3, 2, 4), normal(3, 2, 4), normal(3, 1, 1), positive(3, 1, 1), normal(2, 4)],
    fn: (...xs) => allOutputs('layerNormBackward', xs, { normalizedShape: [2, 4] }),
  },
  softmaxBackward: {
    inputs: () => [noGrad(() => randn([3, 4], { dtype: 'float64' }).softmax(1)).requiresGrad_(), normal(3, 4)],
    fn: (y, g) => run('softmaxBackward', [y!, g!], { axis: 1 }),
  },
  logSoftmaxBackward: {
    inputs: () => [noGrad(() => randn([3, 4], { dtype: 'float64' }).logSoftmax(0)).requiresGrad_(), normal(3, 4)],
    fn: (y, g) => run('logSoftmaxBackward', [y!, g!], { axis: 0 }),
  },
  // The fused recurrent layers: h and c (gates, hn: saved for the backward only, no gradient). The
  // backward primitives take their saved inputs from a forward run on the same inputs.
  lstmSequence: { inputs: () => lstmInputs(3, 2, 2), fn: (...xs) => lstmOutputs(xs, false) },
  lstmSequenceBackward: { inputs: () => [...lstmInputs(2, 1, 2), normal(2, 1, 2), normal(2, 1, 2)], fn: (...xs) => lstmBackward(xs, false) },
  gruSequence: { inputs: () => gruInputs(3, 2, 2), fn: (...xs) => runMany('gruSequence', xs, { reverse: false })[0]! },
  gruSequenceBackward: { inputs: () => [...gruInputs(2, 1, 2), normal(2, 1, 2)], fn: (...xs) => gruBackward(xs, false) },
};

/** xGates [T, N, 4H], wHh [4H, H], h0, c0 [N, H]. */
const lstmInputs = (T: number, N: number, H: number) => [normal(T, N, 4 * H), normal(4 * H, H), normal(N, H), normal(N, H)];
/** xGates [T, N, 3H], wHh [3H, H], bHh [3H], h0 [N, H]. */
const gruInputs = (T: number, N: number, H: number) => [normal(T, N, 3 * H), normal(3 * H, H), normal(3 * H), normal(N, H)];
function lstmOutputs(xs: Tensor[], reverse: boolean): Tensor {
  const [h, c] = runMany('lstmSequence', xs, { reverse });
  return cat([h!.reshape(-1), c!.reshape(-1)]);
}
function lstmBackward(xs: Tensor[], reverse: boolean): Tensor {
  const [, c, gates] = runMany('lstmSequence', xs.slice(0, 4), { reverse });
  return cat(runMany('lstmSequenceBackward', [...xs, c!, gates!], { reverse }).map((t) => t.reshape(-1)));
}
function gruBackward(xs: Tensor[], reverse: boolean): Tensor {
  const saved = runMany('gruSequence', xs.slice(0, 4), { reverse });
  return cat(runMany('gruSequenceBackward', [...xs, ...saved], { reverse }).map((t) => t.reshape(-1)));
}

/** Every output of a primitive, flattened and concatenated. */
function allOutputs<K extends PrimitiveName>(name: K, xs: Tensor[], attrs: PrimitiveAttrs[K]): Tensor {
  return cat(runMany(name, xs, attrs).map((t) => t.reshape(-1)));
}

/** Extra direct cases beyond one per primitive: the transposed forms of bmm and other attributes. */
const EXTRA: Record<string, Direct> = {
  lstmSequence_reverse: { inputs: () => lstmInputs(3, 1, 2), fn: (...xs) => lstmOutputs(xs, true) },
  lstmSequenceBackward_reverse: { inputs: () => [...lstmInputs(2, 1, 1), normal(2, 1, 1), normal(2, 1, 1)], fn: (...xs) => lstmBackward(xs, true) },
  gruSequence_reverse: { inputs: () => gruInputs(3, 1, 2), fn: (...xs) => runMany('gruSequence', xs, { reverse: true })[0]! },
  gruSequenceBackward_reverse: { inputs: () => [...gruInputs(2, 1, 1), normal(2, 1, 1)], fn: (...xs) => gruBackward(xs, true) },
  bmm_transA: { inputs: () => [normal(2, 4, 3), normal(2, 4, 5)], fn: (a, b) => run('bmm', [a!, b!], { transA: true, transB: false }) },
  bmm_transB: { inputs: () => [normal(1, 3, 4), normal(1, 5, 4)], fn: (a, b) => run('bmm', [a!, b!], { transA: false, transB: true }) },
  bmm_bias: { inputs: () => [normal(2, 3, 4), normal(2, 5, 4), normal(5)], fn: (a, b, c) => run('bmm', [a!, b!, c!], { transA: false, transB: true }) },
  bmm_2d_bias: { inputs: () => [normal(3, 4), normal(5, 4), normal(5)], fn: (a, b, c) => run('bmm', [a!, b!, c!], { transA: false, transB: true }) },
  bmm_2d_transA: { inputs: () => [normal(4, 3), normal(4, 5)], fn: (a, b) => run('bmm', [a!, b!], { transA: true, transB: false }) },
  conv2d_bias: { inputs: () => [normal(2, 4, 5, 5), normal(4, 2, 3, 2), normal(4)], fn: (x, w, b) => run('conv2d', [x!, w!, b!], conv) },
  bmm_transAB: { inputs: () => [normal(2, 4, 3), normal(2, 5, 4)], fn: (a, b) => run('bmm', [a!, b!], { transA: true, transB: true }) },
  prod_zero: { inputs: () => [tensor([[0.5, 0, 2], [1.5, -1, 3]], f64)], fn: (x) => run('prod', [x!], { axes: [1], keepdim: false }) },
  prod_two_zeros: {
    inputs: () => [tensor([[0.5, 0, 2, 0], [0, 0, 0, 3], [1.5, -1, 3, 0.5]], f64)],
    fn: (x) => run('prod', [x!], { axes: [1], keepdim: false }),
  },
  // First order only: at a zero base the derivative in the exponent, a^b log a, has no
  // derivative in the base (log a is undefined for a <= 0), so finite differences give NaN.
  pow_zero_base: {
    inputs: () => [tensor([0, 1.5, 2], f64), tensor([2, 0, 1.5], f64)],
    fn: (a, b) => run('pow', [a!, b!], {}),
    firstOrderOnly: true,
  },
  avgPool2d_includePad: {
    inputs: () => [normal(1, 1, 4, 5)],
    fn: (x) => run('avgPool2d', [x!], { ...pool, countIncludePad: true, ceilMode: false, divisorOverride: null }),
  },
  // convTranspose2d with outputPadding >= stride (allowed below the dilation): the output has a
  // row the convolution never reaches.
  conv2dBackwardInput_outputPadding: {
    inputs: () => [normal(1, 2, 3, 3), normal(2, 2, 2, 3)],
    fn: (gy, w) =>
      run('conv2dBackwardInput', [gy!, w!], { stride: [1, 1], padding: [0, 0], dilation: [2, 1], groups: 1, inputShape: [1, 2, 6, 5] }),
  },
  batchNorm_output: {
    inputs: () => [normal(2, 3, 2), normal(3), normal(3)],
    fn: (x, w, b) => run('batchNorm', [x!, w!, b!], { eps: 1e-5 }),
  },
  batchNormBackward_gx: {
    inputs: () => [normal(2, 1, 3), normal(2, 1, 3), normal(1), positive(1), normal(1)],
    fn: (...xs) => run('batchNormBackward', xs, {}),
  },
  layerNorm_output: {
    inputs: () => [normal(4, 5), normal(5), normal(5)],
    fn: (x, w, b) => run('layerNorm', [x!, w!, b!], { normalizedShape: [5], eps: 1e-5 }),
  },
  layerNormBackward_noLead: {
    inputs: () => [normal(5), normal(5), normal(1), positive(1), normal(5)],
    fn: (...xs) => allOutputs('layerNormBackward', xs, { normalizedShape: [5] }),
  },
  softmaxBackward_inner: {
    inputs: () => [noGrad(() => randn([2, 3, 4], { dtype: 'float64' }).softmax(1)).requiresGrad_(), normal(2, 3, 4)],
    fn: (y, g) => run('softmaxBackward', [y!, g!], { axis: 1 }),
  },
  conv2d_plain: {
    inputs: () => [normal(1, 3, 4, 4), normal(2, 3, 2, 2)],
    fn: (x, w) => run('conv2d', [x!, w!], { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }),
  },
};

/** Second-order check: the gradient of sum(f(xs) * v), with createGraph, differentiated again. */
function gradOfGrad(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): ((...xs: Tensor[]) => Tensor) | null {
  const v = noGrad(() => randn([...fn(...inputs).shape], { dtype: 'float64', generator: new Generator(3) }));
  const g = (...xs: Tensor[]) => {
    const diff = xs.filter((t) => t.requiresGrad);
    const gs = grad(fn(...xs).mul(v).sum(), diff, { createGraph: true, allowUnused: true });
    const parts = gs.filter((t): t is Tensor => t !== null && t.requiresGrad).map((t) => t.reshape(-1));
    return parts.length ? cat(parts) : tensor([0], { dtype: 'float64' });
  };
  // A rule whose result does not depend on the inputs (linear ops) has no second derivative.
  return g(...inputs).requiresGrad ? g : null;
}

test('every primitive with a gradient rule has a direct gradcheck', () => {
  const withRule = (Object.keys(RULES) as PrimitiveName[]).filter((k) => RULES[k] !== null);
  const missing = withRule.filter((k) => !(k in DIRECT));
  assert.deepEqual(missing, []);
});

for (const [name, c] of Object.entries({ ...DIRECT, ...EXTRA })) {
  test(`gradcheck primitive ${name} (first and second order)`, () => {
    const inputs = c.inputs();
    gradcheck(c.fn, inputs, { generator: new Generator(11) });
    const second = c.firstOrderOnly ? null : gradOfGrad(c.fn, inputs);
    if (second) gradcheck(second, inputs, { generator: new Generator(12) });
  });
}

// ---- composites: the parity table in float64 ----

const fixture = readFixture<{ cases: FixtureCase[] }>('ops.json');
/**
 * Cases whose function is not differentiable at the fixture's point, so a finite difference
 * cannot stand for the gradient; PyTorch's choice of subgradient there is checked by the parity
 * test instead: amax with a three-way tie (central differences see 1/2 where the rule gives 1/3),
 * relu, leakyRelu and clamp exactly at their kinks, the step functions sign, floor, ceil, trunc and
 * round, and
 * cosineSimilarity of an all-zero vector (its norm sits on the eps clamp, a kink at 1e-8).
 */
const NOT_SMOOTH = new Set([
  'amax_ties',
  'relu_at_zero',
  'leakyRelu_at_zero',
  'clamp_at_bounds',
  'sign',
  'floor',
  'ceil',
  'trunc',
  'round',
  'cosineSimilarity_zero',
]);

for (const c of fixture.cases) {
  if (c.weights.every((w) => w === null) || NOT_SMOOTH.has(c.name)) continue;
  test(`gradcheck composite ${c.name} (${c.op})`, () => {
    const inputs = c.inputs.map((t) => fromFixture(t, 'float64'));
    const differentiable = c.weights.map((w) => w !== null);
    const fn = (...xs: Tensor[]) => {
      const outs = outputsOf(c.op, xs, c.args).filter((_, k) => differentiable[k]);
      return outs.length === 1 ? outs[0]! : cat(outs.map((o) => o.reshape(-1)));
    };
    gradcheck(fn, inputs, { generator: new Generator(5) });
  });
}
