/**
 * Seeded, counter-based randomness. A Generator is a Philox key (from the seed) and a counter;
 * each draw takes a fresh range of counter values, so a draw depends only on the seed and on how
 * many numbers were drawn before it, never on the backend or the number of threads.
 */
import { blocksFor } from '../backend/philox.js';
import type { DType } from '../dtype.js';
import { isFloating } from '../dtype.js';
import { run } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';

/** PyTorch's default seed, so an unseeded process starts from a fixed, documented state. */
const DEFAULT_SEED = 67280421310721;

export interface GeneratorState {
  seed: number;
  counter: number;
}

export class Generator {
  private seed = DEFAULT_SEED;
  private counter = 0;

  constructor(seed?: number) {
    if (seed !== undefined) this.manualSeed(seed);
  }

  /** Reseeds and rewinds the counter. Seeds are non-negative integers below 2^53. */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`manualSeed: seed must be a non-negative integer below 2^53, got ${seed}`);
    }
    this.seed = seed;
    this.counter = 0;
    return this;
  }

  initialSeed(): number {
    return this.seed;
  }

  /** The state to save in a checkpoint; `setState` restores it exactly. */
  getState(): GeneratorState {
    return { seed: this.seed, counter: this.counter };
  }

  setState(state: GeneratorState): void {
    this.manualSeed(state.seed);
    this.counter = state.counter;
  }

  /** @internal reserves `blocks` counter values and returns the key and the first of them. */
  _take(blocks: number): { key: [number, number]; counter: number } {
    const key: [number, number] = [this.seed % 4294967296, Math.floor(this.seed / 4294967296)];
    const counter = this.counter;
    this.counter += blocks;
    return { key, counter };
  }
}

export const defaultGenerator = new Generator();

/** Seeds the default generator (torch.manual_seed). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

function floatDType(op: string, dtype: DType): void {
  if (!isFloating(dtype)) throw new TypeError(`${op}: expected a floating-point dtype, got ${dtype}`);
}

/** Uniform samples in [0, 1). */
export function randomUniform(shape: number[], dtype: DType, device: string | undefined, gen?: Generator): Tensor {
  floatDType('rand', dtype);
  const n = shape.reduce((p, d) => p * d, 1);
  const { key, counter } = (gen ?? defaultGenerator)._take(blocksFor('uniform', dtype, n));
  return run('randomUniform', [], { shape, dtype, key, counter }, device);
}

/**
 * @internal Inverted dropout of x in one primitive: keep = rand(x.shape) >= p (the draw rand would
 * make from `gen`), y = keep ? x / (1 - p) : 0. Returns y; its gradient is g / (1 - p) where kept.
 */
export function dropoutDraw(x: Tensor, p: number, gen?: Generator): Tensor {
  floatDType('dropout', x.dtype);
  const { key, counter } = (gen ?? defaultGenerator)._take(blocksFor('uniform', x.dtype, x.numel()));
  return run('dropout', [x], { p, key, counter });
}

/** Standard normal samples. */
export function randomNormal(shape: number[], dtype: DType, device: string | undefined, gen?: Generator): Tensor {
  floatDType('randn', dtype);
  const n = shape.reduce((p, d) => p * d, 1);
  const { key, counter } = (gen ?? defaultGenerator)._take(blocksFor('normal', dtype, n));
  return run('randomNormal', [], { shape, dtype, key, counter }, device);
}

/** @internal values for `t.normal_()`: a fresh tensor of t's shape. */
export function fillNormalInPlace(t: Tensor, mean: number, std: number, gen?: Generator): Tensor {
  floatDType('normal_', t.dtype);
  return randomNormal([...t.shape], t.dtype, t.device, gen).mul(std).add(mean);
}

/** @internal values for `t.uniform_()`. */
export function fillUniformInPlace(t: Tensor, low: number, high: number, gen?: Generator): Tensor {
  floatDType('uniform_', t.dtype);
  return randomUniform([...t.shape], t.dtype, t.device, gen).mul(high - low).add(low);
}
