/**
 * Shared by the native-kernel tests: seeded random shapes and values of every dtype, and a check
 * that one primitive's cpu kernel gives the reference kernel's outputs bit for bit (or throws the
 * same error).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getBackend } from '../src/backend/registry.js';
import type { Backend, KernelInput, Storage } from '../src/backend/types.js';
import { PRIMITIVES, type PrimitiveName, type Spec } from '../src/ops/primitives.js';
import type { DType } from '../src/dtype.js';

export { rng } from './helpers.js';
import { rng } from './helpers.js';

export interface Value {
  shape: number[];
  dtype: DType;
  values: number[];
}

export class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  /** A dimension: mostly small and odd, sometimes 1 or 0 (when `empty`). */
  dim(empty: boolean, max = 7): number {
    const u = this.r();
    if (empty && u < 0.08) return 0;
    if (u < 0.25) return 1;
    return this.int(2, max);
  }
  shape(minRank: number, maxRank: number, empty: boolean): number[] {
    return Array.from({ length: this.int(minRank, maxRank) }, () => this.dim(empty));
  }
  dtype(): DType {
    return (['float32', 'float64', 'int32', 'bool'] as const)[this.int(0, 3)]!;
  }
  /** Values of `dtype`; floats include ties, signed zeros and NaN, so sorts and sums are tested on them. */
  value(shape: number[], dtype: DType, make?: () => number): Value {
    const n = shape.reduce((a, b) => a * b, 1);
    const f =
      make ??
      (() => {
        if (dtype === 'bool') return this.int(0, 1);
        if (dtype === 'int32') return this.r() < 0.1 ? this.int(-2147483648, 2147483647) : this.int(-9, 9);
        const u = this.r();
        if (u < 0.03) return NaN;
        if (u < 0.06) return -0;
        if (u < 0.3) return this.int(-3, 3); // ties
        return (this.r() * 2 - 1) * 10;
      });
    return { shape, dtype, values: Array.from({ length: n }, f) };
  }
}

/** Runs one kernel on `b`; returns the outputs as plain arrays, or the error it threw. */
export function runOn(b: Backend, name: PrimitiveName, inputs: Value[], attrs: unknown): number[][] | Error {
  const specs: Spec[] = PRIMITIVES[name].infer(
    inputs.map((v) => ({ shape: v.shape, dtype: v.dtype })),
    attrs as never,
  );
  try {
    const kernel = b.kernels[name] as (i: readonly KernelInput[], a: unknown, o: readonly Spec[]) => Storage[];
    const ins = inputs.map((v) => ({ storage: b.fromValues(v.values, v.dtype), shape: v.shape, dtype: v.dtype }));
    return kernel(ins, attrs, specs).map((s) => Array.from(b.read(s)));
  } catch (e) {
    return e as Error;
  }
}

/** The cpu kernel must give the reference's values bit for bit (NaN payloads aside) or the same error. */
export function same(name: PrimitiveName, inputs: Value[], attrs: unknown): void {
  const what = `${name}(${inputs.map((v) => `${v.dtype}[${v.shape}]`).join(', ')}) ${JSON.stringify(attrs)}`;
  const want = runOn(getBackend('reference'), name, inputs, attrs);
  const got = runOn(getBackend('cpu'), name, inputs, attrs);
  if (want instanceof Error) {
    assert.ok(got instanceof Error, `${what}: the reference throws (${want.message}) but cpu does not`);
    assert.equal(got.name, want.name, `${what}: error type`);
    assert.equal(got.message, want.message, `${what}: error message`);
    return;
  }
  if (got instanceof Error) assert.fail(`${what}: cpu throws ${got.message}`);
  assert.equal(got.length, want.length);
  for (let o = 0; o < want.length; o++) {
    assert.equal(got[o]!.length, want[o]!.length, `${what}: output ${o} length`);
    for (let i = 0; i < want[o]!.length; i++) {
      const a: number = got[o]![i]!;
      const e: number = want[o]![i]!;
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
        assert.fail(`${what}: element ${i} of output ${o} is ${a}, the reference gives ${e}`);
      }
    }
  }
}

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * Runs `code` (a module body that sees the library as `ms` and prints one SHA-256 hex digest of its
 * results) on the cpu backend with 1 and with 3 threads: the two digests must be equal.
 */
export function sameBitsForThreadCounts(code: string): void {
  const digests = ['1', '3'].map((n) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const ms = await import(${JSON.stringify(INDEX)});\n${code}`], {
      env: { ...process.env, MILESTONES_NUM_THREADS: n, MILESTONES_DEVICE: 'cpu' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  });
  assert.match(digests[0]!, /^[0-9a-f]{64}$/);
  assert.equal(digests[1], digests[0], '3 threads differ from 1');
}
