/**
 * Backend conformance: a randomised differential test of every primitive, the cpu backend against
 * the reference backend (the oracle), on thousands of random shapes: scalars, size-1 and empty
 * dimensions, odd sizes and broadcasting. Floating-point results must agree within float32 (or
 * float64) tolerance; integer and bool results, and random draws, must agree exactly.
 *
 * The kernels are called through the backend tables directly, with output specs from the primitive
 * contract, so a failure names the primitive, the shapes and the attributes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends, getBackend } from '../src/backend/registry.js';
import type { Backend, KernelInput, Storage } from '../src/backend/types.js';
import { PRIMITIVES, type PrimitiveName, type Spec, windowOut } from '../src/ops/primitives.js';
import type { DType } from '../src/dtype.js';
import { rng } from './helpers.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it); nothing to compare';

// ---------------------------------------------------------------- random cases

interface Value {
  shape: number[];
  dtype: DType;
  values: number[];
}
interface Case {
  inputs: Value[];
  attrs: any;
}

class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  /** A dimension size: mostly small and odd, sometimes 1 or 0. */
  dim(max = 7): number {
    const u = this.r();
    if (u < 0.08) return 0;
    if (u < 0.25) return 1;
    return this.int(2, max);
  }
  shape(maxRank = 4, maxDim = 7): number[] {
    const rank = this.int(0, maxRank);
    return Array.from({ length: rank }, () => this.dim(maxDim));
  }
  nonEmptyShape(minRank: number, maxRank: number, maxDim = 7): number[] {
    const rank = this.int(minRank, maxRank);
    return Array.from({ length: rank }, () => this.int(1, maxDim));
  }
  /** A shape that broadcasts to `shape`: some leading axes dropped, some axes set to 1. */
  broadcastOf(shape: number[]): number[] {
    const drop = this.chance(0.3) ? this.int(0, shape.length) : 0;
    return shape.slice(drop).map((d) => (this.chance(0.3) ? 1 : d));
  }
  number(dtype: DType, special = 0): number {
    if (dtype === 'bool') return this.chance(0.5) ? 1 : 0;
    if (dtype === 'int32') return this.int(-20, 20);
    if (special > 0 && this.chance(special)) return this.pick([0, -0, NaN, Infinity, -Infinity, 1, -1]);
    const v = (this.r() * 2 - 1) * 3;
    return this.chance(0.05) ? Math.round(v) : v; // exact ties exercise comparisons and max/argmax
  }
  value(shape: number[], dtype: DType, special = 0, f?: () => number): Value {
    const n = shape.reduce((p, d) => p * d, 1);
    return { shape, dtype, values: Array.from({ length: n }, () => (f ? f() : this.number(dtype, special))) };
  }
  floatType(): DType {
    return this.chance(0.75) ? 'float32' : 'float64';
  }
  anyType(): DType {
    return this.pick(['float32', 'float32', 'float64', 'int32', 'bool'] as const);
  }
  axes(rank: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < rank; i++) if (this.chance(0.5)) out.push(i);
    return out;
  }
}

const UNARY_FLOAT: PrimitiveName[] = [
  'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'gelu', 'geluTanh', 'silu',
];
const UNARY_NUMERIC: PrimitiveName[] = ['neg', 'abs', 'sign', 'relu', 'floor', 'ceil', 'trunc', 'round'];
const BINARY: PrimitiveName[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'logicalAnd', 'logicalOr', 'logicalXor', 'remainder', 'fmod',
];

/** Pool and conv geometry that gives a non-negative output size. */
function poolCase(g: Gen, withDilation: boolean): Case {
  const kernel: [number, number] = [g.int(1, 3), g.int(1, 3)];
  const stride: [number, number] = [g.int(1, 3), g.int(1, 3)];
  const padding: [number, number] = [g.int(0, Math.floor(kernel[0] / 2)), g.int(0, Math.floor(kernel[1] / 2))];
  const dilation: [number, number] = withDilation ? [g.int(1, 2), g.int(1, 2)] : [1, 1];
  const span = (k: number, d: number) => d * (k - 1) + 1;
  const H = g.int(span(kernel[0], dilation[0]), 9);
  const W = g.int(span(kernel[1], dilation[1]), 9);
  const x = g.value([g.int(0, 2), g.int(1, 3), H, W], g.floatType());
  return { inputs: [x], attrs: { kernel, stride, padding, dilation, ceilMode: g.chance(0.3) } };
}

function convCase(g: Gen): { x: Value; w: Value; attrs: any; y: number[] } {
  const groups = g.pick([1, 1, 1, 2, 3]);
  const Cg = g.int(1, 3);
  const Og = g.int(1, 3);
  const KH = g.int(1, 3);
  const KW = g.int(1, 3);
  const stride: [number, number] = [g.int(1, 2), g.int(1, 2)];
  const padding: [number, number] = [g.int(0, 2), g.int(0, 2)];
  const dilation: [number, number] = [g.int(1, 2), g.int(1, 2)];
  const H = g.int(dilation[0] * (KH - 1) + 1, 9);
  const W = g.int(dilation[1] * (KW - 1) + 1, 9);
  const dtype = g.floatType();
  const N = g.int(0, 5);
  const x = g.value([N, Cg * groups, H, W], dtype);
  const w = g.value([Og * groups, Cg, KH, KW], dtype);
  const HO = windowOut(H, KH, stride[0], padding[0], dilation[0]);
  const WO = windowOut(W, KW, stride[1], padding[1], dilation[1]);
  return { x, w, attrs: { stride, padding, dilation, groups }, y: [N, Og * groups, HO, WO] };
}

function makeCase(name: PrimitiveName, g: Gen): Case {
  if ((UNARY_FLOAT as string[]).includes(name)) {
    return { inputs: [g.value(g.shape(), g.floatType(), 0.05)], attrs: {} };
  }
  if ((UNARY_NUMERIC as string[]).includes(name)) {
    const d = g.pick(['float32', 'float64', 'int32'] as const);
    return { inputs: [g.value(g.shape(), d, 0.05)], attrs: {} };
  }
  if ((BINARY as string[]).includes(name)) {
    const out = g.shape();
    const d = g.anyType();
    const [sa, sb] = g.chance(0.5) ? [out, g.broadcastOf(out)] : [g.broadcastOf(out), out];
    if (name === 'pow' && d === 'int32') {
      // Integer powers stay below 2^53, where every libm's pow is exact (beyond it the reference's
      // wrap-around depends on the last bit of Math.pow, which no other library reproduces).
      return { inputs: [g.value(sa, d), g.value(sb, d, 0, () => g.int(-2, 6))], attrs: {} };
    }
    return { inputs: [g.value(sa, d, 0.03), g.value(sb, d, 0.03)], attrs: {} };
  }
  switch (name) {
    case 'leakyRelu':
      return { inputs: [g.value(g.shape(), g.floatType(), 0.05)], attrs: { slope: g.r() * 0.3 } };
    case 'smoothL1':
      return { inputs: [g.value(g.shape(), g.floatType(), 0.05, () => (g.r() * 2 - 1) * 3)], attrs: { beta: g.pick([1, 0.5, 2]) } };
    case 'smoothL1Backward': {
      const s = g.chance(0.5) ? [g.int(1, 3), g.int(8, 300)] : g.shape();
      const d = g.floatType();
      return { inputs: [g.value(s, d, 0.05, () => (g.r() * 2 - 1) * 3), g.value(s, d, 0.05)], attrs: { beta: g.pick([1, 0.5, 2]) } };
    }
    case 'elu':
      return { inputs: [g.value(g.shape(), g.floatType(), 0.05)], attrs: { alpha: 0.5 + g.r() } };
    case 'softplus':
      return { inputs: [g.value(g.shape(), g.floatType(), 0.05)], attrs: { beta: g.pick([1, 2, 0.5]), threshold: g.pick([20, 1, 2]) } };
    case 'clamp': {
      const lo = g.chance(0.7) ? g.int(-2, 0) - 0.5 : null;
      const hi = g.chance(0.7) ? g.int(0, 2) + 0.25 : null;
      return { inputs: [g.value(g.shape(), g.pick(['float32', 'float64', 'int32'] as const), 0.05)], attrs: { min: lo, max: hi } };
    }
    case 'logicalNot':
      return { inputs: [g.value(g.shape(), g.anyType(), 0.05)], attrs: {} };
    case 'cast':
      return { inputs: [g.value(g.shape(), g.anyType(), 0.05, () => (g.r() * 2 - 1) * 3e9)], attrs: { dtype: g.anyType() } };
    case 'where': {
      const out = g.shape();
      const d = g.anyType();
      return {
        inputs: [g.value(g.broadcastOf(out), 'bool'), g.value(g.broadcastOf(out), d), g.value(out, d)].sort(() => 0),
        attrs: {},
      };
    }
    case 'sum':
    case 'prod':
    case 'amax':
    case 'amin': {
      const s = name === 'amax' || name === 'amin' ? g.nonEmptyShape(0, 4) : g.shape();
      const d = name === 'prod' ? g.pick(['float32', 'float64', 'int32', 'bool'] as const) : g.anyType();
      const f = name === 'prod' ? () => 0.5 + g.r() : undefined;
      const v = d === 'int32' && name === 'prod' ? g.value(s, d, 0, () => g.int(-2, 2)) : g.value(s, d, 0.02, f);
      return { inputs: [v], attrs: { axes: g.axes(s.length), keepdim: g.chance(0.5) } };
    }
    case 'argmax':
    case 'argmin': {
      const s = g.nonEmptyShape(0, 4);
      return { inputs: [g.value(s, g.pick(['float32', 'float64', 'int32'] as const), 0.02)], attrs: { axis: s.length ? g.int(0, s.length - 1) : 0, keepdim: g.chance(0.5) } };
    }
    case 'cumsum': {
      const s = g.shape();
      return { inputs: [g.value(s, g.anyType())], attrs: { axis: s.length ? g.int(0, s.length - 1) : 0 } };
    }
    case 'bmm': {
      const B = g.int(1, 3);
      const [M, K, N] = [g.dim(40), g.dim(70), g.dim(40)];
      const transA = g.chance(0.5);
      const transB = g.chance(0.5);
      const d = g.floatType();
      // Sometimes without the batch axis ([M, K] x [K, N], as a linear layer calls it).
      const lead = g.chance(0.25) ? [] : [B];
      const inputs = [g.value([...lead, ...(transA ? [K, M] : [M, K])], d), g.value([...lead, ...(transB ? [N, K] : [K, N])], d)];
      if (g.chance(0.5)) inputs.push(g.value([N], d)); // the optional bias
      return { inputs, attrs: { transA, transB } };
    }
    case 'reshape': {
      const s = g.shape();
      return { inputs: [g.value(s, g.anyType())], attrs: { shape: [...s].reverse() } };
    }
    case 'permute': {
      const s = g.shape();
      const perm = s.map((_, i) => i).sort(() => g.r() - 0.5);
      return { inputs: [g.value(s, g.anyType())], attrs: { perm } };
    }
    case 'expand': {
      const out = g.shape();
      return { inputs: [g.value(g.broadcastOf(out), g.anyType())], attrs: { shape: out } };
    }
    case 'slice':
    case 'sliceScatter': {
      const full = g.shape();
      const starts: number[] = [];
      const steps: number[] = [];
      const shape: number[] = [];
      for (const d of full) {
        const step = g.int(1, 3);
        const start = d === 0 ? 0 : g.int(0, d - 1);
        const stop = g.int(start, d);
        starts.push(start);
        steps.push(step);
        shape.push(Math.ceil((stop - start) / step));
      }
      const d = g.anyType();
      if (name === 'slice') return { inputs: [g.value(full, d)], attrs: { starts, steps, shape } };
      return { inputs: [g.value(shape, d)], attrs: { starts, steps, inputShape: full } };
    }
    case 'cat': {
      const s = g.nonEmptyShape(1, 3);
      const axis = g.int(0, s.length - 1);
      const d = g.anyType();
      const inputs = Array.from({ length: g.int(1, 3) }, () => {
        const t = [...s];
        t[axis] = g.int(0, 4);
        return g.value(t, d);
      });
      return { inputs, attrs: { axis } };
    }
    case 'flip': {
      const s = g.shape();
      return { inputs: [g.value(s, g.anyType())], attrs: { axes: g.axes(s.length) } };
    }
    case 'gather':
    case 'scatter':
    case 'scatterAdd': {
      const s = g.nonEmptyShape(1, 3);
      const axis = g.int(0, s.length - 1);
      const idxShape = s.map((d, i) => (i === axis ? g.int(1, 4) : g.int(1, d)));
      const d = g.floatType();
      const index = g.value(idxShape, 'int32', 0, () => g.int(0, s[axis]! - 1));
      if (name === 'gather') return { inputs: [g.value(s, d), index], attrs: { axis } };
      return { inputs: [g.value(s, d), index, g.value(idxShape, d)], attrs: { axis } };
    }
    case 'indexSelect':
    case 'indexAdd': {
      const s = g.nonEmptyShape(1, 3);
      const axis = g.int(0, s.length - 1);
      const k = g.int(0, 5);
      const index = g.value([k], 'int32', 0, () => g.int(0, s[axis]! - 1));
      const d = g.floatType();
      if (name === 'indexSelect') return { inputs: [g.value(s, d), index], attrs: { axis } };
      const src = [...s];
      src[axis] = k;
      return { inputs: [g.value(s, d), index, g.value(src, d)], attrs: { axis } };
    }
    case 'argsort': {
      const s = g.nonEmptyShape(1, 3);
      return { inputs: [g.value(s, g.floatType(), 0.02)], attrs: { axis: g.int(0, s.length - 1), descending: g.chance(0.5) } };
    }
    case 'softmax':
    case 'logSoftmax': {
      const s = g.shape();
      const long = g.chance(0.2) ? [g.int(1, 3), g.int(8, 300)] : s; // rows long enough for the vector path
      return { inputs: [g.value(long, g.floatType(), 0.01, () => (g.r() * 2 - 1) * 20)], attrs: { axis: long.length ? g.int(0, long.length - 1) : 0 } };
    }
    case 'renorm': {
      // Rank 2 or more; sometimes rows long enough for the AVX-512 sums, sometimes an empty axis.
      const shape = g.chance(0.3) ? [g.int(1, 5), g.int(16, 70)] : g.chance(0.1) ? [0, g.int(1, 4)] : g.nonEmptyShape(2, 4);
      const x = g.value(shape, g.floatType(), 0.02);
      return { inputs: [x], attrs: { p: g.pick([2, 2, 1, 3, 0.5]), axis: g.int(0, shape.length - 1), maxnorm: g.pick([0, 0.5, 2, 4, 8, 1e30]) } };
    }
    case 'conv2d': {
      const c = convCase(g);
      const bias = g.chance(0.5) ? [g.value([c.w.shape[0]!], c.x.dtype)] : [];
      return { inputs: [c.x, c.w, ...bias], attrs: c.attrs };
    }
    case 'conv2dBackwardInput': {
      const c = convCase(g);
      return { inputs: [g.value(c.y, c.x.dtype), c.w], attrs: { ...c.attrs, inputShape: c.x.shape } };
    }
    case 'conv2dBackwardWeight': {
      const c = convCase(g);
      return { inputs: [c.x, g.value(c.y, c.x.dtype)], attrs: { ...c.attrs, weightShape: c.w.shape } };
    }
    case 'maxPool2dIndices':
      return poolCase(g, true);
    case 'avgPool2d':
    case 'avgPool2dBackward': {
      const p = poolCase(g, false);
      const attrs = { ...p.attrs, countIncludePad: g.chance(0.5), divisorOverride: g.chance(0.2) ? g.int(1, 5) : null };
      delete attrs.dilation;
      if (name === 'avgPool2d') return { inputs: p.inputs, attrs };
      const x = p.inputs[0]!;
      const spec = PRIMITIVES.avgPool2d.infer([{ shape: x.shape, dtype: x.dtype }], attrs)[0]!;
      return { inputs: [g.value(spec.shape as number[], x.dtype)], attrs: { ...attrs, inputShape: x.shape } };
    }
    case 'adaptiveAvgPool2d': {
      const x = g.value([g.int(0, 2), g.int(1, 3), g.int(1, 9), g.int(1, 9)], g.floatType());
      return { inputs: [x], attrs: { outputSize: [g.int(1, 5), g.int(1, 5)] } };
    }
    case 'adaptiveAvgPool2dBackward': {
      const inputShape = [g.int(0, 2), g.int(1, 3), g.int(1, 9), g.int(1, 9)];
      const o = [g.int(1, 5), g.int(1, 5)];
      return { inputs: [g.value([inputShape[0]!, inputShape[1]!, o[0]!, o[1]!], g.floatType())], attrs: { inputShape } };
    }
    case 'full':
      return { inputs: [], attrs: { shape: g.shape(), dtype: g.anyType(), value: g.pick([0, 1, -2.5, 3e9, NaN]) } };
    case 'dropout': {
      // Lengths past the vector groups (128 floats) sometimes; specials pass through where kept.
      const shape = g.chance(0.2) ? [g.int(200, 3000)] : g.shape();
      return {
        inputs: [g.value(shape, g.floatType(), 0.05)],
        attrs: { p: g.pick([0.1, 0.2, 0.5, 0.8]), key: [g.int(0, 2 ** 32 - 1), g.int(0, 2 ** 32 - 1)], counter: g.int(0, 2 ** 40) },
      };
    }
    case 'dropoutBackward': {
      const shape = g.chance(0.2) ? [g.int(200, 3000)] : g.shape();
      const keep = g.value(shape, 'bool');
      return { inputs: [g.value(shape, g.floatType(), 0.05), keep], attrs: { p: g.pick([0.1, 0.2, 0.5, 0.8]) } };
    }
    case 'randomUniform':
    case 'randomNormal': {
      const shape = g.chance(0.2) ? [g.int(1000, 5000)] : g.shape();
      return {
        inputs: [],
        attrs: { shape, dtype: g.floatType(), key: [g.int(0, 2 ** 32 - 1), g.int(0, 2 ** 32 - 1)], counter: g.int(0, 2 ** 40) },
      };
    }
    case 'batchNorm':
    case 'batchNormBackward': {
      // [N, C, spatial...]; an empty batch gives NaN statistics on both backends.
      const d = g.floatType();
      const s = [g.dim(5), g.int(1, 5), ...Array.from({ length: g.int(0, 2) }, () => g.dim(6))];
      const C = [s[1]!];
      if (name === 'batchNorm') return { inputs: [g.value(s, d), g.value(C, d), g.value(C, d)], attrs: { eps: g.pick([1e-5, 1e-3, 0.5]) } };
      const invstd = g.value(C, d, 0, () => 0.2 + 3 * g.r());
      return { inputs: [g.value(s, d), g.value(s, d), g.value(C, d), invstd, g.value(C, d)], attrs: {} };
    }
    case 'layerNorm':
    case 'layerNormBackward': {
      const d = g.floatType();
      const norm = g.nonEmptyShape(1, 2, g.chance(0.2) ? 70 : 7);
      const s = [...g.shape(2), ...norm];
      const stat = s.map((v, i) => (i < s.length - norm.length ? v : 1));
      if (name === 'layerNorm') {
        return { inputs: [g.value(s, d), g.value(norm, d), g.value(norm, d)], attrs: { normalizedShape: norm, eps: g.pick([1e-5, 1e-3, 0.5]) } };
      }
      const rstd = g.value(stat, d, 0, () => 0.2 + 3 * g.r());
      return { inputs: [g.value(s, d), g.value(s, d), g.value(stat, d), rstd, g.value(norm, d)], attrs: { normalizedShape: norm } };
    }
    case 'softmaxBackward':
    case 'logSoftmaxBackward': {
      // y need not be a softmax: the primitive is defined for any y (probabilities, or log-probabilities <= 0).
      const s = g.chance(0.2) ? [g.int(1, 3), g.int(8, 300)] : g.shape();
      const d = g.floatType();
      const y = g.value(s, d, 0, name === 'softmaxBackward' ? () => g.r() : () => -5 * g.r());
      return { inputs: [y, g.value(s, d)], attrs: { axis: s.length ? g.int(0, s.length - 1) : 0 } };
    }
    case 'lstmSequence':
    case 'lstmSequenceBackward':
    case 'gruSequence':
    case 'gruSequenceBackward': {
      // [T, N, H] with empty and size-1 dimensions; W_hh small so that T steps stay in range.
      const d = g.floatType();
      const G = name.startsWith('lstm') ? 4 : 3;
      const [T, N, H] = [g.dim(5), g.dim(6), g.chance(0.1) ? g.int(30, 70) : g.dim(7)];
      const state = () => g.value([N, H], d);
      const w = g.value([G * H, H], d, 0, () => (g.r() * 2 - 1) * 0.5);
      const seq = (width: number) => g.value([T, N, width], d);
      const gates = () => g.value([T, N, G * H], d, 0, () => g.r()); // in (0, 1), where activated gates lie
      const lead = G === 4 ? [seq(G * H), w, state(), state()] : [seq(G * H), w, g.value([G * H], d), state()];
      const attrs = { reverse: g.chance(0.5) };
      if (name === 'lstmSequence' || name === 'gruSequence') return { inputs: lead, attrs };
      const saved = G === 4 ? [seq(H), seq(H), seq(H), gates()] : [seq(H), seq(H), gates(), seq(H)];
      return { inputs: [...lead, ...saved], attrs };
    }
    case 'geluTanhBackward':
    case 'reluBackward': {
      // a long row half the time, so the native kernel's vector body and its tail both run
      const s = g.chance(0.5) ? [g.int(1, 3), g.int(8, 300)] : g.shape();
      const d = g.floatType();
      return { inputs: [g.value(s, d, 0.05), g.value(s, d, 0.05)], attrs: {} };
    }
    default:
      throw new Error(`no case generator for primitive '${name}'`);
  }
}

// ---------------------------------------------------------------- comparison

/**
 * Tolerance per primitive. Elementwise maps agree to a few ulps. A float32 sum of `terms` products
 * of inputs in [-3, 3] carries a rounding error of about sqrt(terms) * 2^-24 * 9 per element in
 * either order (a random walk of per-term roundings), so sums get 16 times that as an absolute bound.
 */
function tolerance(name: PrimitiveName, dtype: DType, terms: number): { atol: number; rtol: number } | 'exact' {
  if (dtype === 'int32' || dtype === 'bool') return 'exact';
  if (name === 'randomUniform' || name === 'randomNormal' || name === 'full' || name === 'dropout' || name === 'dropoutBackward') return 'exact';
  const summing = ['sum', 'prod', 'cumsum', 'bmm', 'conv2d', 'conv2dBackwardInput', 'conv2dBackwardWeight'];
  // Normalisation: sums over a group of `terms`, in another order, then scaled by up to 1 / sqrt(eps).
  const norm = ['batchNorm', 'batchNormBackward', 'layerNorm', 'layerNormBackward', 'softmaxBackward', 'logSoftmaxBackward'];
  if (norm.includes(name)) return dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-5 * Math.sqrt(Math.max(terms, 1)), rtol: 1e-5 };
  // Recurrent layers: products summed over H per step and carried through T steps (terms = G H T),
  // and in float32 an exp good to about 1 ulp instead of the C library's.
  const recurrent = ['lstmSequence', 'lstmSequenceBackward', 'gruSequence', 'gruSequenceBackward'];
  if (recurrent.includes(name)) return dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 2e-6 * Math.sqrt(Math.max(terms, 1)), rtol: 1e-5 };
  if (dtype === 'float64') return summing.includes(name) ? { atol: 1e-12, rtol: 1e-10 } : { atol: 1e-15, rtol: 1e-13 };
  if (summing.includes(name)) return { atol: 16 * Math.sqrt(Math.max(terms, 1)) * 2 ** -24 * 9, rtol: 2 ** -20 };
  if (name === 'softmax' || name === 'logSoftmax') return { atol: 1e-7, rtol: 1e-6 };
  return { atol: 0, rtol: 2 ** -22 }; // 2 ulps of float32
}

/** How many products or values one output element sums (for the float32 tolerance). */
function termsOf(name: PrimitiveName, c: Case): number {
  const s = (i: number) => c.inputs[i]!.shape;
  switch (name) {
    case 'bmm': {
      const r = s(0).length; // [B, M, K] or [M, K]
      return c.attrs.transA ? s(0)[r - 2]! : s(0)[r - 1]!;
    }
    case 'conv2d':
      return s(1)[1]! * s(1)[2]! * s(1)[3]!;
    case 'conv2dBackwardInput':
      return s(1)[0]! * s(1)[2]! * s(1)[3]!;
    case 'conv2dBackwardWeight':
      return s(1)[0]! * s(1)[2]! * s(1)[3]!;
    case 'sum':
    case 'prod':
      return c.inputs[0]!.values.length;
    case 'cumsum':
      return s(0)[c.attrs.axis] ?? 1;
    case 'batchNorm':
    case 'batchNormBackward':
      return c.inputs[0]!.values.length / s(0)[1]!;
    case 'layerNorm':
    case 'layerNormBackward':
      return c.attrs.normalizedShape.reduce((p: number, d: number) => p * d, 1);
    case 'softmaxBackward':
    case 'logSoftmaxBackward':
      return s(0)[c.attrs.axis] ?? 1;
    case 'lstmSequence':
    case 'lstmSequenceBackward':
    case 'gruSequence':
    case 'gruSequenceBackward':
      return s(1)[0]! * s(0)[0]!; // G * H products per step, T steps
    default:
      return 1;
  }
}

function storageOf(b: Backend, v: Value): KernelInput {
  return { storage: b.fromValues(v.values, v.dtype), shape: v.shape, dtype: v.dtype };
}

function describeCase(name: string, c: Case): string {
  return `${name}(${c.inputs.map((v) => `${v.dtype}[${v.shape}]`).join(', ')}) ${JSON.stringify(c.attrs)}`;
}

function runOn(b: Backend, name: PrimitiveName, c: Case, specs: Spec[]): Float64Array[] | Error {
  try {
    const kernel = b.kernels[name] as (i: readonly KernelInput[], a: unknown, o: readonly Spec[]) => Storage[];
    return kernel(c.inputs.map((v) => storageOf(b, v)), c.attrs, specs).map((s) => Float64Array.from(b.read(s)));
  } catch (e) {
    return e as Error;
  }
}

function compare(name: PrimitiveName, c: Case, specs: Spec[], got: Float64Array[], want: Float64Array[]): void {
  for (let o = 0; o < want.length; o++) {
    const tol = tolerance(name, specs[o]!.dtype, termsOf(name, c));
    const g = got[o]!;
    const w = want[o]!;
    assert.equal(g.length, w.length, `${describeCase(name, c)}: output ${o} has ${g.length} elements, expected ${w.length}`);
    for (let i = 0; i < w.length; i++) {
      const a = g[i]!;
      const e = w[i]!;
      if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
      const ok = tol !== 'exact' && Number.isFinite(e) && Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
      if (!ok) {
        assert.fail(`${describeCase(name, c)}: element ${i} of output ${o} is ${a}, the reference gives ${e}`);
      }
    }
  }
}

const CASES_PER_PRIMITIVE = 60;
const NAMES = Object.keys(PRIMITIVES) as PrimitiveName[];

test(`cpu matches reference on ${NAMES.length} primitives x ${CASES_PER_PRIMITIVE} random cases`, { skip: SKIP }, async (t) => {
  const cpu = getBackend('cpu');
  const ref = getBackend('reference');
  let seed = 1;
  for (const name of NAMES) {
    await t.test(name, () => {
      const g = new Gen(seed++ * 7919);
      for (let k = 0; k < CASES_PER_PRIMITIVE; k++) {
        const c = makeCase(name, g);
        let specs: Spec[];
        try {
          specs = PRIMITIVES[name].infer(c.inputs.map((v) => ({ shape: v.shape, dtype: v.dtype })), c.attrs);
        } catch {
          continue; // the generator produced a case the contract rejects; the tensor layer never sends it
        }
        const want = runOn(ref, name, c, specs);
        const got = runOn(cpu, name, c, specs);
        if (want instanceof Error) {
          assert.ok(got instanceof Error, `${describeCase(name, c)}: the reference throws (${want.message}) but cpu does not`);
          continue;
        }
        if (got instanceof Error) throw new Error(`${describeCase(name, c)}: cpu throws: ${got.stack}`);
        compare(name, c, specs, got, want);
      }
    });
  }
});

test('cpu matches reference on large float32 workloads (vector paths, blocking, threads)', { skip: SKIP }, () => {
  const cpu = getBackend('cpu');
  const ref = getBackend('reference');
  const g = new Gen(12345);
  const cases: [PrimitiveName, Case][] = [
    ['bmm', { inputs: [g.value([1, 301, 517], 'float32'), g.value([1, 517, 263], 'float32')], attrs: { transA: false, transB: false } }],
    ['bmm', { inputs: [g.value([2, 130, 97], 'float32'), g.value([2, 77, 130], 'float32')], attrs: { transA: true, transB: true } }],
    ['conv2d', { inputs: [g.value([6, 8, 12, 12], 'float32'), g.value([16, 8, 3, 3], 'float32')], attrs: { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 } }],
    ['conv2dBackwardWeight', { inputs: [g.value([9, 4, 10, 10], 'float32'), g.value([9, 8, 10, 10], 'float32')], attrs: { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, weightShape: [8, 4, 3, 3] } }],
    ['add', { inputs: [g.value([300, 257], 'float32'), g.value([257], 'float32')], attrs: {} }],
    ['sum', { inputs: [g.value([200001], 'float32')], attrs: { axes: [0], keepdim: false } }],
    ['sum', { inputs: [g.value([300, 200], 'float32')], attrs: { axes: [0], keepdim: true } }],
    ['softmax', { inputs: [g.value([64, 1000], 'float32')], attrs: { axis: 1 } }],
    ['logSoftmax', { inputs: [g.value([64, 1000], 'float32')], attrs: { axis: 1 } }],
  ];
  for (const [name, c] of cases) {
    const specs = PRIMITIVES[name].infer(c.inputs.map((v) => ({ shape: v.shape, dtype: v.dtype })), c.attrs);
    compare(name, c, specs, runOn(cpu, name, c, specs) as Float64Array[], runOn(ref, name, c, specs) as Float64Array[]);
  }
});
