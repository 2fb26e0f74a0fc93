/**
 * The cpu backend's vectorised float32 exp, tanh, sigmoid, GELU (tanh form), GELU's gradient
 * (geluTanhBackward) and SiLU (native/cpu/vmath.cc), against the reference backend, which calls libm in double: every element
 * within one float32 step of the reference (the vector forms compute in double too, so they may only
 * round the other way on a near-tie), nearly all of them equal, and the special values (NaN, the
 * infinities, signed zeros, overflow and underflow edges, the series/formula switch of tanh) exact.
 * The three builds (AVX-512, AVX2, portable) must give the same bits, as must 1 and 3 threads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { availableBackends } from '../src/backend/registry.js';
import { rng, runOn, sameBitsForThreadCounts } from './native-compare.js';
import { getBackend } from '../src/backend/registry.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it); nothing to compare';

const OPS = ['exp', 'tanh', 'sigmoid', 'geluTanh', 'silu'] as const;

/** float32 values that sit on the edges of the algorithms, and their negatives. */
const EDGES = [
  0, 1.4e-45, 1.1754942e-38, 1e-30, 2 ** -24, 2 ** -11, 0.0009765625, 0.00097656, 0.00097657, 0.001, 0.0012239, 0.00122392,
  0.01, 0.1, 0.3465, 0.3466, 0.5, 0.6931472, 1, 2, 3, 5, 8, 9.01, 10, 15, 20, 44, 50, 87.33, 88.72, 88.73, 103.9, 104,
  110, 350, 351, 699, 700, 701, 710, 746, 1e4, 1e20, 3.4028235e38, Infinity,
];

/** Reference-rounded float32 inputs: the edges, then dense random values over many magnitudes. */
function inputs(): number[] {
  const xs = [NaN, ...EDGES, ...EDGES.map((v) => -v)];
  const r = rng(71);
  const f = new Float32Array(1);
  for (let i = 0; i < 60_000; i++) {
    const u = r();
    // log-uniform magnitude from 2^-30 to 2^8, half of them negative; a quarter in [-12, 12]
    const v = u < 0.25 ? (r() * 2 - 1) * 12 : (r() < 0.5 ? -1 : 1) * 2 ** (-30 + r() * 38);
    f[0] = v;
    xs.push(f[0]);
  }
  return xs;
}

/** Distance in float32 steps between two finite floats of the same sign (ordered bit patterns). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (k: number): number => (i[k]! < 0 ? -2147483648 - i[k]! : i[k]!);
  return Math.abs(key(0) - key(1));
}

/**
 * Runs `op` on both backends over float32 `args` (the first holding the inputs()) and checks every
 * element: the special values, infinities, signed zeros and edges exactly, the rest within one
 * float32 step, and all but a handful equal.
 */
function withinOneStep(op: 'exp' | 'tanh' | 'sigmoid' | 'geluTanh' | 'silu' | 'geluTanhBackward', args: number[][]): void {
  const vs = args.map((values) => ({ shape: [values.length], dtype: 'float32' as const, values }));
  const want = runOn(getBackend('reference'), op, vs, {});
  const got = runOn(getBackend('cpu'), op, vs, {});
  assert.ok(!(want instanceof Error) && !(got instanceof Error));
  const n = args[0]!.length;
  let equal = 0;
  for (let i = 0; i < n; i++) {
    const a = got[0]![i]!;
    const e = want[0]![i]!;
    const what = `${op}(${args.map((v) => v[i]).join(', ')}) = ${a}, the reference gives ${e}`;
    if (Number.isNaN(e) || !Number.isFinite(e) || e === 0 || i <= 2 * EDGES.length) {
      assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), what);
      equal++;
      continue;
    }
    const d = ulps(a, e);
    assert.ok(d <= 1, `${what} (${d} float32 steps apart)`);
    if (d === 0) equal++;
  }
  // Rounding the other way can only happen within ~1e-13 of a tie: a handful in 60,000.
  assert.ok(equal >= n - 30, `${op}: only ${equal} of ${n} equal to the reference`);
}

test('vectorised exp, tanh, sigmoid, geluTanh and silu stay within one float32 step of libm in double', { skip: SKIP }, () => {
  const xs = inputs();
  for (const op of OPS) withinOneStep(op, [xs]);
});

test('the fused GELU gradient stays within one float32 step of the reference, edges exactly', { skip: SKIP }, () => {
  const xs = inputs();
  const r = rng(72);
  const gys = xs.map((_, i) => (i % 7 === 0 ? 1 : i % 11 === 0 ? -0 : Math.fround((r() * 2 - 1) * 3)));
  withinOneStep('geluTanhBackward', [xs, gys]);
});

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

test('the AVX-512, AVX2 and portable builds of the vector maps give the same bits', { skip: SKIP }, () => {
  const code = `
    const { createHash } = await import('node:crypto');
    const h = createHash('sha256');
    const x = ms.randn([70001]).mul(6);
    const xg = x.detach().requiresGrad_();
    xg.gelu('tanh').backward(x.cos());
    for (const t of [x.exp(), x.tanh(), x.sigmoid(), x.gelu('tanh'), x.silu(), x.mul(1e-3).tanh(), xg.grad]) h.update(new Uint8Array(t.dataSync().buffer));
    console.log(h.digest('hex'));`;
  const digest = (isa: string | undefined): string => {
    const env: NodeJS.ProcessEnv = { ...process.env, MILESTONES_DEVICE: 'cpu', MILESTONES_NUM_THREADS: '2' };
    if (isa) env.MILESTONES_CPU_ISA = isa;
    else delete env.MILESTONES_CPU_ISA;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const ms = await import(${JSON.stringify(INDEX)});\nms.manualSeed(5);\n${code}`], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const best = digest(undefined);
  assert.match(best, /^[0-9a-f]{64}$/);
  assert.equal(digest('avx2'), best, 'AVX2 differs from the default build');
  assert.equal(digest('portable'), best, 'portable differs from the default build');
});

test('the vector maps give the same bits for 1 and 3 threads', { skip: SKIP }, () => {
  sameBitsForThreadCounts(`
    const { createHash } = await import('node:crypto');
    ms.manualSeed(3);
    const h = createHash('sha256');
    const x = ms.randn([3, 40003]).mul(4);
    const xg = x.detach().requiresGrad_();
    xg.gelu('tanh').backward(x.cos());
    for (const t of [x.exp(), x.tanh(), x.sigmoid(), x.gelu('tanh'), x.silu(), xg.grad]) h.update(new Uint8Array(t.dataSync().buffer));
    console.log(h.digest('hex'));`);
});
