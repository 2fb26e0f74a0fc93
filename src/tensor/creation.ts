/**
 * Creating tensors: from values, constant fills, ranges, and random draws.
 */
import { type DType, assertDType } from '../dtype.js';
import { getBackend, getDefaultDevice } from '../backend/registry.js';
import { fmt, numel } from '../shape.js';
import { noGrad } from '../autograd/mode.js';
import { type Generator, randomNormal, randomUniform } from '../random/generator.js';
import { run } from './dispatch.js';
import { cast, constTensor, where } from './elementwise.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

function finish(t: Tensor, options: TensorOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

function deviceOf(options: TensorOptions): string {
  return options.device ?? getDefaultDevice();
}

function dtypeOf(options: TensorOptions, fallback: DType = 'float32'): DType {
  return options.dtype ? assertDType(options.dtype, 'tensor') : fallback;
}

/** A list of numbers: an ArrayLike (typed arrays included) whose elements are numbers. */
type Flat = ArrayLike<number>;

function isFlatNumeric(data: unknown): data is Flat {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    typeof (data as { length?: unknown }).length === 'number'
  );
}

/** Walks nested arrays, checking that they are rectangular, and returns shape and values. */
function flatten(data: NestedArray): { shape: number[]; values: number[]; sawBool: boolean; sawFraction: boolean } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0]!;
  }
  let sawBool = false;
  let sawFraction = false;
  if (shape.length === 1) {
    // One level of numbers (an observation, a list of labels) is its own list of values.
    const x = data as unknown[];
    let numbers = true;
    for (let i = 0; i < x.length && numbers; i++) {
      const v = x[i];
      if (typeof v !== 'number') numbers = false;
      else if (!sawFraction && !Number.isInteger(v)) sawFraction = true;
    }
    if (numbers) return { shape, values: x as number[], sawBool, sawFraction };
    sawFraction = false;
  }
  const values: number[] = [];
  // The index of the element being read, turned into text ("data[2][0]") only for an error: built
  // for every element, the text took 95% of tensor() on a 400-number observation (19 us).
  const at: number[] = [];
  const path = (depth: number) => 'data' + at.slice(0, depth).map((i) => `[${i}]`).join('');
  const walk = (x: NestedArray, d: number) => {
    if (d === shape.length) {
      if (Array.isArray(x)) throw new Error(`tensor: ragged nested array at ${path(d)} (expected a number)`);
      if (typeof x === 'boolean') {
        sawBool = true;
        values.push(x ? 1 : 0);
      } else if (typeof x === 'number') {
        if (!Number.isInteger(x)) sawFraction = true;
        values.push(x);
      } else throw new TypeError(`tensor: expected numbers or booleans, got ${typeof x} at ${path(d)}`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) {
      throw new Error(`tensor: ragged nested array at ${path(d)} (expected length ${shape[d]}, got ${Array.isArray(x) ? x.length : 'a number'})`);
    }
    for (let i = 0; i < x.length; i++) {
      at[d] = i;
      walk(x[i]!, d + 1);
    }
  };
  walk(data, 0);
  return { shape, values, sawBool, sawFraction };
}

/**
 * A tensor from nested arrays, a flat typed array (with `shape` in options, or 1-D), or a number.
 * The dtype is float32 for numbers and bool for booleans unless given; an integer-only array stays
 * float32 too (unlike PyTorch, which would make int64), so `tensor([1, 2])` is ready for math.
 */
export function tensor(data: NestedArray | Flat, options: TensorOptions & { shape?: number[] } = {}): Tensor {
  const device = deviceOf(options);
  let shape: number[];
  let values: ArrayLike<number>;
  let inferred: DType = 'float32';
  if (isFlatNumeric(data)) {
    values = data;
    shape = options.shape ?? [data.length];
    if (numel(shape) !== data.length) {
      throw new Error(`tensor: shape ${fmt(shape)} does not hold ${data.length} values`);
    }
    const name = Object.prototype.toString.call(data);
    if (name.includes('Float64')) inferred = 'float64';
    else if (name.includes('Int32')) inferred = 'int32';
    else if (name.includes('Uint8') && options.dtype === undefined) inferred = 'float32';
  } else {
    const flat = flatten(data as NestedArray);
    shape = options.shape ?? flat.shape;
    if (numel(shape) !== flat.values.length) {
      throw new Error(`tensor: shape ${fmt(shape)} does not hold ${flat.values.length} values`);
    }
    values = flat.values;
    if (flat.sawBool && !flat.sawFraction && flat.values.every((v) => v === 0 || v === 1)) inferred = 'bool';
  }
  const dtype = dtypeOf(options, inferred);
  const t = new Tensor(getBackend(device).fromValues(values, dtype), shape, dtype, device);
  return finish(t, options);
}

export function full(shape: number[], value: number, options: TensorOptions = {}): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`full: invalid shape ${fmt(shape)}`);
  }
  const t = run('full', [], { shape: [...shape], dtype: dtypeOf(options), value }, deviceOf(options));
  return finish(t, options);
}

export const zeros = (shape: number[], options: TensorOptions = {}) => full(shape, 0, options);
export const ones = (shape: number[], options: TensorOptions = {}) => full(shape, 1, options);

function likeOptions(x: Tensor, options: TensorOptions): TensorOptions {
  return { dtype: options.dtype ?? x.dtype, device: options.device ?? x.device, requiresGrad: options.requiresGrad ?? false };
}

export const zerosLike = (x: Tensor, options: TensorOptions = {}) => full([...x.shape], 0, likeOptions(x, options));
export const onesLike = (x: Tensor, options: TensorOptions = {}) => full([...x.shape], 1, likeOptions(x, options));
export const fullLike = (x: Tensor, value: number, options: TensorOptions = {}) =>
  full([...x.shape], value, likeOptions(x, options));

/** Values from `start` to `end` (exclusive) by `step`; `arange(n)` counts 0..n-1. Integer arguments give int32. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new Error('arange: step must be nonzero');
  if ((hi - lo) / step < 0) throw new Error(`arange: upper bound and step have inconsistent signs (${lo} to ${hi} by ${step})`);
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const values = Array.from({ length: n }, (_, i) => lo + i * step);
  const integral = [lo, hi, step].every(Number.isInteger);
  const dtype = dtypeOf(options, integral ? 'int32' : 'float32');
  return finish(constTensor(values, [n], dtype, deviceOf(options)), options);
}

/** `steps` values evenly spaced from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`linspace: steps must be a non-negative integer, got ${steps}`);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // PyTorch fills the second half from the end, so the last value is exactly `end`.
  const half = Math.floor(steps / 2);
  const values = Array.from({ length: steps }, (_, i) => (i < half ? start + i * step : end - (steps - 1 - i) * step));
  return finish(constTensor(values, [steps], dtypeOf(options), deviceOf(options)), options);
}

/** The identity matrix, n x n (or n x m). */
export function eye(n: number, m = n, options: TensorOptions = {}): Tensor {
  const values: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) values.push(i === j ? 1 : 0);
  return finish(constTensor(values, [n, m], dtypeOf(options), deviceOf(options)), options);
}

/** Uniform samples in [0, 1). */
export function rand(shape: number[], options: RandomOptions = {}): Tensor {
  return finish(randomUniform([...shape], dtypeOf(options), deviceOf(options), options.generator), options);
}

/** Standard normal samples. */
export function randn(shape: number[], options: RandomOptions = {}): Tensor {
  return finish(randomNormal([...shape], dtypeOf(options), deviceOf(options), options.generator), options);
}

export const randLike = (x: Tensor, options: RandomOptions = {}) => rand([...x.shape], { ...likeOptions(x, options), generator: options.generator });
export const randnLike = (x: Tensor, options: RandomOptions = {}) => randn([...x.shape], { ...likeOptions(x, options), generator: options.generator });

/**
 * Integers uniform in [low, high), int32 unless another dtype is given. `randint(high, shape)`
 * draws from [0, high), as torch.randint(high, size) does.
 */
export function randint(high: number, shape: number[], options?: RandomOptions): Tensor;
export function randint(low: number, high: number, shape: number[], options?: RandomOptions): Tensor;
export function randint(
  a: number,
  b: number | number[],
  c?: number[] | RandomOptions,
  d: RandomOptions = {},
): Tensor {
  if (Array.isArray(b)) return randint(0, a, b, (c as RandomOptions | undefined) ?? {});
  const [low, high, shape, options] = [a, b, c as number[], d];
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: expected integers low < high, got ${low} and ${high}`);
  }
  return noGrad(() => {
    const u = randomUniform([...shape], 'float64', deviceOf(options), options.generator);
    return cast(u.mul(high - low).floor().add(low), options.dtype ?? 'int32');
  });
}

/** A random permutation of 0..n-1 (int32): the order that sorts n uniform draws. */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`randperm: n must be a non-negative integer, got ${n}`);
  return noGrad(() => {
    const keys = randomUniform([n], 'float64', deviceOf(options), options.generator);
    return cast(keys.argsort(0), options.dtype ?? 'int32');
  });
}

/** 1 with probability p, else 0, elementwise; same shape and dtype as `p`. */
export function bernoulli(p: Tensor, options: { generator?: Generator } = {}): Tensor {
  return noGrad(() => {
    const u = randomUniform([...p.shape], p.dtype === 'float64' ? 'float64' : 'float32', p.device, options.generator);
    return cast(u.lt(p), p.dtype === 'bool' ? 'float32' : p.dtype);
  });
}

/**
 * Samples `numSamples` category indices from each row of non-negative weights `probs` ([C] or
 * [N, C]). With replacement: inverse-CDF sampling; without: the Gumbel-top-k trick, which draws
 * without replacement in proportion to the weights.
 */
export function multinomial(
  probs: Tensor,
  numSamples: number,
  replacement = false,
  options: { generator?: Generator } = {},
): Tensor {
  if (probs.ndim !== 1 && probs.ndim !== 2) throw new Error(`multinomial: probs must be 1-D or 2-D, got ${fmt(probs.shape)}`);
  const C = probs.shape[probs.ndim - 1]!;
  if (!replacement && numSamples > C) {
    throw new Error(`multinomial: cannot draw ${numSamples} samples without replacement from ${C} categories`);
  }
  return noGrad(() => {
    const p = probs.ndim === 1 ? probs.double().unsqueeze(0) : probs.double();
    const N = p.shape[0]!;
    const bad = p.lt(0).any().item() || p.sum(-1).le(0).any().item();
    if (bad) throw new Error('multinomial: weights must be non-negative with a positive sum in every row');
    let out: Tensor;
    if (replacement) {
      const cdf = p.cumsum(-1).div(p.sum(-1, true)); // [N, C]
      const u = randomUniform([N, numSamples, 1], 'float64', p.device, options.generator); // [N, S, 1]
      // index = number of categories whose cumulative mass is <= u, clamped for rounding at the top.
      out = cast(cdf.unsqueeze(1).le(u).sum(-1), 'int32').clamp(0, C - 1); // [N, S]
    } else {
      const u = randomUniform([N, C], 'float64', p.device, options.generator);
      const gumbel = u.add(1e-300).log().neg().log().neg();
      const scores = where(p.gt(0), p.log().add(gumbel), -Infinity);
      out = scores.topk(numSamples, -1).indices;
    }
    return probs.ndim === 1 ? out.squeeze(0) : out;
  });
}
