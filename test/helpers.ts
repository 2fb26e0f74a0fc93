/**
 * Shared test helpers: closeness of tensors and arrays, with messages that show where they differ.
 */
import assert from 'node:assert/strict';
import { Tensor } from '../src/index.js';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

/** Flattens a tensor, a nested array or a number to a list of numbers. */
export function flat(x: Tensor | unknown): number[] {
  if (x instanceof Tensor) return Array.from(x.dataSync(), Number);
  if (Array.isArray(x)) return x.flatMap((v) => flat(v));
  if (typeof x === 'boolean') return [x ? 1 : 0];
  return [Number(x)];
}

/** Asserts |a - e| <= atol + rtol * |e| elementwise (NaN matches NaN, infinities must be equal). */
export function assertClose(actual: Tensor | unknown, expected: Tensor | unknown, tol: Tolerance = {}, what = 'value'): void {
  const { atol = 1e-5, rtol = 1e-4 } = tol;
  const a = flat(actual);
  const e = flat(expected);
  if (actual instanceof Tensor && expected instanceof Tensor) {
    assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape [${actual.shape}] vs [${expected.shape}]`);
  }
  assert.equal(a.length, e.length, `${what}: ${a.length} elements vs ${e.length} expected`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) && Number.isNaN(x)) continue;
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (x !== y) {
        worst = i;
        worstErr = Infinity;
        break;
      }
      continue;
    }
    const err = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (err > 0 && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** mulberry32: a small seeded generator, so every run of a random test checks the same cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
