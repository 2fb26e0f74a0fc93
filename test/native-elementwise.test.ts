/**
 * The cpu backend's native where and strided-copy kernels (native/cpu/elementwise.cc): where with
 * contiguous, broadcast (stride-0) and strided operands of every dtype, and the strided copies of
 * permute (including the tiled transpose of the last two dimensions), expand, slice and flip,
 * against the reference backend bit for bit on random shapes (size-1, empty, odd), inputs large
 * enough to split across threads, and results that do not depend on the thread count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, getBackend } from '../src/backend/registry.js';
import type { Backend, KernelInput, Storage } from '../src/backend/types.js';
import { PRIMITIVES, type PrimitiveName, type Spec } from '../src/ops/primitives.js';
import type { DType } from '../src/dtype.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it); nothing to compare';
const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** mulberry32: a small seeded generator, so every run checks the same cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Value {
  shape: number[];
  dtype: DType;
  values: number[];
}

class Gen {
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
function runOn(b: Backend, name: PrimitiveName, inputs: Value[], attrs: unknown): number[][] | Error {
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
function same(name: PrimitiveName, inputs: Value[], attrs: unknown): void {
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

const CASES = 150;

/** A shape that broadcasts to `s`: each dimension kept or set to 1, leading dimensions sometimes dropped. */
function broadcastFrom(g: Gen, s: number[]): number[] {
  const out = s.map((d) => (g.r() < 0.3 ? 1 : d));
  return out.slice(g.int(0, g.r() < 0.7 ? 0 : out.length));
}

/** A random permutation of [0, n); half the time one that swaps the last two axes only. */
function perm(g: Gen, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  if (n >= 2 && g.r() < 0.5) {
    [p[n - 2], p[n - 1]] = [p[n - 1]!, p[n - 2]!];
    return p;
  }
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(0, i);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function whereCase(g: Gen, big: boolean): Value[] {
  const s = big ? [g.int(2, 9), g.int(30, 140), g.int(30, 140)] : g.shape(0, 4, true);
  const d = g.dtype();
  const pick = (): number[] => (g.r() < 0.5 ? s : broadcastFrom(g, s));
  const x = g.r() < 0.25 ? [] : pick(); // a scalar operand, as where(c, g, 0) passes
  const y = g.r() < 0.25 ? [] : pick();
  const c = g.r() < 0.8 ? s : broadcastFrom(g, s);
  return [g.value(c, 'bool'), g.value(x, d), g.value(y, d)];
}

function permuteCase(g: Gen, big: boolean): [Value[], unknown] {
  const s = big ? [g.int(1, 5), g.int(20, 150), g.int(20, 150)] : g.shape(1, 5, true);
  return [[g.value(s, g.dtype())], { perm: perm(g, s.length) }];
}

test('where matches the reference bit for bit: contiguous, scalar and broadcast operands, every dtype', { skip: SKIP }, () => {
  const g = new Gen(11);
  for (let k = 0; k < CASES; k++) same('where', whereCase(g, false), {});
  for (let k = 0; k < 12; k++) same('where', whereCase(g, true), {});
});

test('permute matches the reference bit for bit, including tiled transposes of the last two axes', { skip: SKIP }, () => {
  const g = new Gen(12);
  for (let k = 0; k < CASES; k++) same('permute', ...permuteCase(g, false));
  for (let k = 0; k < 16; k++) same('permute', ...permuteCase(g, true));
  // Transposes with ragged edges on both axes (not multiples of the 8 x 8 and 32 x 32 blocks).
  for (const [r, c] of [[4, 4], [8, 8], [9, 13], [33, 31], [64, 40], [127, 129], [1, 300], [300, 1]] as const) {
    for (const d of ['float32', 'float64', 'int32', 'bool'] as const) same('permute', [g.value([r, c], d)], { perm: [1, 0] });
  }
  same('permute', [g.value([3, 0, 40], 'float32')], { perm: [0, 2, 1] });
});

test('expand, slice and flip match the reference bit for bit', { skip: SKIP }, () => {
  const g = new Gen(13);
  for (let k = 0; k < CASES; k++) {
    const s = g.shape(0, 4, true);
    const d = g.dtype();
    const target = s.map((n) => (n === 1 ? g.int(0, 4) : n));
    same('expand', [g.value(s, d)], { shape: [...(g.r() < 0.3 ? [g.int(1, 3)] : []), ...target] });
    if (s.length > 0) {
      const starts = s.map((n) => (n > 0 ? g.int(0, n - 1) : 0));
      const steps = s.map(() => g.int(1, 3));
      const shape = s.map((n, i) => (n === 0 ? 0 : Math.ceil((n - starts[i]!) / steps[i]!)));
      same('slice', [g.value(s, d)], { starts, steps, shape });
      same('flip', [g.value(s, d)], { axes: s.map((_, i) => i).filter(() => g.r() < 0.5) });
    }
  }
});

test('where and transposes give the same bits for 1 and 3 threads', { skip: SKIP }, () => {
  const code = `
    const { createHash } = await import('node:crypto');
    ms.manualSeed(5);
    const x = ms.randn([6, 130, 70]), y = ms.randn([6, 130, 70]);
    const outs = [ms.where(x.gt(0), y, 0), ms.where(x.gt(y), x, y), x.transpose(1, 2).contiguous(), x.permute([2, 0, 1]).contiguous()];
    const h = createHash('sha256');
    for (const t of outs) h.update(new Uint8Array(t.dataSync().buffer));
    console.log(h.digest('hex'));
  `;
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
});
