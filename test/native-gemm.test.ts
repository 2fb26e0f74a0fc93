/**
 * The native matrix product (native/cpu/gemm.cc, reached through the bmm primitive) against the
 * reference backend: every transpose combination, float32 and float64, batched, on shapes that
 * take each of its paths (the direct rows, cols and dot forms, the copied-B^T form, the packed
 * GEMM) and sit on both sides of the thresholds between them; and bit-identical results for any
 * number of threads, with the AVX-512 kernels and with the portable ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, tensor, type Tensor } from '../src/index.js';
import { run } from '../src/tensor/dispatch.js';
import { assertClose } from './helpers.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it)';
const DISPATCH = fileURLToPath(new URL('../src/tensor/dispatch.js', import.meta.url));
const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** A small seeded generator (LCG), so every run tests the same shapes and values. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** One product: op(A) [B, M, K] times op(B) [B, K, N], op a transpose of the last two axes when asked. */
interface Product {
  b: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const TRANSPOSES = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

/** Each shape in all four transpose combinations. */
function allTransposes(shapes: [number, number, number, number][]): Product[] {
  return shapes.flatMap(([b, m, n, k]) => TRANSPOSES.map(([transA, transB]) => ({ b, m, n, k, transA, transB })));
}

// Shapes that pick out the paths of gemm.cc (M N K = multiply-adds per product; the thresholds
// are kDirectWork = 2^22 for AVX-512 float32, kDirectWorkPortable = 2^15 otherwise, and
// kDirectParallelWork = 2^17, above which a direct product is dealt to the pool).
const FIXED = allTransposes([
  [1, 0, 5, 3], // empty output
  [2, 4, 0, 3],
  [2, 3, 4, 0], // K = 0: zeros
  [1, 1, 1, 1],
  [1, 1, 128, 1024], // one state through nn.Linear (M = 1: matrix-vector, always direct)
  [1, 1, 6, 128],
  [1, 37, 1, 50], // N = 1
  [1, 8, 20, 31], // x w^T just below K = 4 M: B^T copied out, then the rows form
  [1, 8, 20, 32], // at K = 4 M: the dot form
  [1, 8, 20, 33],
  [1, 32, 128, 1024], // the DQN batch forward (4M multiply-adds, direct and dealt to the pool)
  [1, 32, 64, 64], // exactly 2^17: dealt to the pool
  [1, 31, 64, 64], // just below it: one thread
  [1, 32, 32, 32], // exactly 2^15: direct in float64
  [1, 33, 33, 33], // just above it: packed in float64, direct in float32
  [1, 17, 129, 33], // odd sizes: partial tiles on every side
  [3, 7, 9, 11],
  [6, 64, 64, 32], // attention heads
]);

// On both sides of 2^22 (161^3 = 4,173,281 <= 4,194,304 < 162^3), and packed shapes whose
// transposed operands are packed in 16 x 16 register blocks with a partial block on every side
// (M 25: a last 8-row panel of one row; K 300: a second depth block of 44, not a multiple of 16;
// N 700: a last 32-column panel of 28), and Dropout's first layer (x w^T, M 100): float32 only,
// they are slow on the reference backend.
const LARGE = allTransposes([
  [1, 161, 161, 161],
  [1, 162, 162, 162],
  [1, 25, 700, 300],
  [1, 100, 1024, 784],
]);

function randomProducts(count: number, seed: number): Product[] {
  const r = lcg(seed);
  const dims = [0, 1, 2, 3, 5, 6, 7, 13, 16, 17, 31, 33, 64, 65, 100];
  const pick = () => dims[Math.floor(r() * dims.length)]!;
  return Array.from({ length: count }, () => ({
    b: 1 + Math.floor(r() * 3),
    m: pick(),
    n: pick(),
    k: pick(),
    transA: r() < 0.5,
    transB: r() < 0.5,
  }));
}

function values(count: number, r: () => number): number[] {
  return Array.from({ length: count }, () => 2 * r() - 1);
}

/** op(A) op(B) on one device, from the same values on every device. */
function product(p: Product, data: { a: number[]; b: number[] }, device: string, dtype: 'float32' | 'float64'): Tensor {
  const a = tensor(data.a, { shape: p.transA ? [p.b, p.k, p.m] : [p.b, p.m, p.k], device, dtype });
  const b = tensor(data.b, { shape: p.transB ? [p.b, p.n, p.k] : [p.b, p.k, p.n], device, dtype });
  return run('bmm', [a, b], { transA: p.transA, transB: p.transB });
}

function describe(p: Product): string {
  return `[${p.b}] M ${p.m} N ${p.n} K ${p.k}${p.transA ? ' A^T' : ''}${p.transB ? ' B^T' : ''}`;
}

function check(products: Product[], dtype: 'float32' | 'float64', seed: number): void {
  const r = lcg(seed);
  for (const p of products) {
    const data = { a: values(p.b * p.m * p.k, r), b: values(p.b * p.k * p.n, r) };
    const cpu = product(p, data, 'cpu', dtype);
    const ref = product(p, data, 'reference', dtype);
    assert.equal(cpu.device, 'cpu');
    // The reference sums in float64. Terms are at most 1 in size, so a float32 sum of K of them
    // is off by well under K * 2^-22; float64 by K * 2^-51.
    const tol = dtype === 'float32' ? { atol: 2.5e-7 * Math.max(p.k, 1), rtol: 0 } : { atol: 5e-16 * Math.max(p.k, 1), rtol: 0 };
    assertClose(cpu, ref, tol, `${dtype} ${describe(p)}`);
  }
}

for (const dtype of ['float32', 'float64'] as const) {
  test(`bmm matches the reference backend on the shapes at its thresholds (${dtype})`, { skip: SKIP }, () => {
    check(FIXED, dtype, dtype === 'float32' ? 1 : 2);
  });
  test(`bmm matches the reference backend on random shapes (${dtype})`, { skip: SKIP }, () => {
    check(randomProducts(60, dtype === 'float32' ? 3 : 4), dtype, dtype === 'float32' ? 5 : 6);
  });
}

test('bmm matches the reference backend on both sides of the direct/packed threshold (float32)', { skip: SKIP }, () => {
  check(LARGE, 'float32', 7);
});

test('bmm overwrites its output rather than adding to it (K = 0 gives zeros)', { skip: SKIP }, () => {
  const a = tensor([], { shape: [1, 2, 0], device: 'cpu' });
  const b = tensor([], { shape: [1, 0, 3], device: 'cpu' });
  const c = run('bmm', [a, b], { transA: false, transB: false });
  assert.deepEqual([...c.shape], [1, 2, 3]);
  assert.deepEqual(Array.from(c.dataSync()), [0, 0, 0, 0, 0, 0]);
});

test('bmm is bit-identical for 1 and 3 threads, with AVX-512, AVX2 and portable kernels', { skip: SKIP }, () => {
  // Products that are dealt to the pool on every path: direct (rows, cols, dot, copied B^T),
  // packed, matrix-vector, and batched. The digest covers float32 and float64.
  const code = `
    const { createHash } = await import('node:crypto');
    const { run } = await import(${JSON.stringify(DISPATCH)});
    const ms = await import(${JSON.stringify(INDEX)});
    const shapes = [[1, 161, 161, 161], [1, 300, 517, 263], [1, 1, 2048, 256], [1, 2048, 1, 256], [1, 32, 128, 1024], [48, 64, 64, 32], [2, 96, 70, 200]];
    const h = createHash('sha256');
    ms.manualSeed(7);
    for (const dtype of ['float32', 'float64'])
      for (const [b, m, n, k] of shapes)
        for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
          const a = ms.randn(tA ? [b, k, m] : [b, m, k], { device: 'cpu', dtype });
          const y = ms.randn(tB ? [b, n, k] : [b, k, n], { device: 'cpu', dtype });
          h.update(new Uint8Array(run('bmm', [a, y], { transA: tA, transB: tB }).dataSync().buffer));
        }
    console.log(h.digest('hex'));
  `;
  for (const isa of ['', 'avx2', 'portable']) {
    const digests = ['1', '3'].map((threads) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
        env: { ...process.env, MILESTONES_NUM_THREADS: threads, MILESTONES_CPU_ISA: isa },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    });
    assert.match(digests[0]!, /^[0-9a-f]{64}$/);
    assert.equal(digests[1], digests[0], `${isa || 'default'} kernels: 3 threads differ from 1`);
  }
});
