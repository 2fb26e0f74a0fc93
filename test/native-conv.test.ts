/**
 * The native convolution kernels (native/cpu/conv.cc) against the reference backend: conv2d and
 * both of its backward primitives on random geometries (strides 1-3, padding 0-2, dilation 1-2,
 * groups 1-2, kernels 1x1 to 5x5, size-1 and odd images, 1 to 17 channels), in float32 and
 * float64, with and without a bias, and bit-identical results for any number of threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, grad, nn, tensor, type Tensor } from '../src/index.js';
import { assertClose } from './helpers.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it)';
const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** A small seeded generator (LCG), so every run tests the same geometries and values. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

interface Geometry {
  n: number;
  c: number;
  o: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** Random geometries with a non-empty output; the first few are fixed shapes the fast paths take. */
function geometries(count: number, seed: number): Geometry[] {
  const r = lcg(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: Geometry[] = [
    // ResNet-20-like 3x3 pad 1 (stride 1 and 2), the DQN 3x3 valid conv, a 3-channel first layer.
    { n: 2, c: 16, o: 16, h: 9, w: 9, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { n: 2, c: 16, o: 32, h: 10, w: 10, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { n: 1, c: 4, o: 16, h: 10, w: 10, kh: 3, kw: 3, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
    { n: 3, c: 3, o: 16, h: 7, w: 5, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    // Stride 2 on rows of 19 and 33 pixels: the vector column split (blocks of 32 and 16) plus a tail.
    { n: 2, c: 3, o: 16, h: 5, w: 19, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { n: 1, c: 2, o: 4, h: 4, w: 33, kh: 3, kw: 3, stride: [2, 2], padding: [0, 0], dilation: [1, 1], groups: 1 },
  ];
  while (out.length < count) {
    const groups = pick([1, 1, 2]);
    const cg = pick([1, 3, 4, 16, 17]);
    const og = pick([1, 3, 4, 16, 17]);
    const kh = pick([1, 3, 5]);
    const kw = r() < 0.7 ? kh : pick([1, 3, 5]);
    const sh = pick([1, 2, 3]);
    const g: Geometry = {
      n: pick([1, 1, 2, 3]),
      c: cg * groups,
      o: og * groups,
      h: pick([1, 2, 5, 7, 8, 11]),
      w: pick([1, 3, 6, 7, 9, 12]),
      kh,
      kw,
      stride: r() < 0.6 ? [sh, sh] : [sh, pick([1, 2, 3])],
      padding: [pick([0, 1, 2]), pick([0, 1, 2])],
      dilation: [pick([1, 1, 2]), pick([1, 1, 2])],
      groups,
    };
    if (g.n * g.c * g.h * g.w * g.o * kh * kw > 400_000) continue;
    const ho = outSize(g.h, kh, g.stride[0], g.padding[0], g.dilation[0]);
    const wo = outSize(g.w, kw, g.stride[1], g.padding[1], g.dilation[1]);
    if (ho >= 1 && wo >= 1) out.push(g);
  }
  return out;
}

function values(count: number, r: () => number): number[] {
  return Array.from({ length: count }, () => 2 * r() - 1);
}

/** conv2d's output and both gradients (for a given output gradient) on one device. */
function convAndGrads(g: Geometry, data: { x: number[]; w: number[]; gy: number[] }, device: string, dtype: 'float32' | 'float64'): Tensor[] {
  const x = tensor(data.x, { shape: [g.n, g.c, g.h, g.w], device, dtype });
  const w = tensor(data.w, { shape: [g.o, g.c / g.groups, g.kh, g.kw], device, dtype });
  x.requiresGrad = true;
  w.requiresGrad = true;
  const y = nn.functional.conv2d(x, w, null, { stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups });
  const gy = tensor(data.gy, { shape: [...y.shape], device, dtype });
  const [gx, gw] = grad([y], [x, w], { gradOutputs: [gy] });
  return [y, gx!, gw!];
}

function describe(g: Geometry): string {
  return `x [${g.n}, ${g.c}, ${g.h}, ${g.w}] w [${g.o}, ${g.c / g.groups}, ${g.kh}, ${g.kw}] stride ${g.stride} padding ${g.padding} dilation ${g.dilation} groups ${g.groups}`;
}

for (const dtype of ['float32', 'float64'] as const) {
  test(`conv2d and its gradients match the reference backend on random geometries (${dtype})`, { skip: SKIP }, () => {
    const r = lcg(dtype === 'float32' ? 11 : 12);
    for (const g of geometries(dtype === 'float32' ? 60 : 30, dtype === 'float32' ? 1 : 2)) {
      const ho = outSize(g.h, g.kh, g.stride[0], g.padding[0], g.dilation[0]);
      const wo = outSize(g.w, g.kw, g.stride[1], g.padding[1], g.dilation[1]);
      const data = { x: values(g.n * g.c * g.h * g.w, r), w: values(g.o * (g.c / g.groups) * g.kh * g.kw, r), gy: values(g.n * g.o * ho * wo, r) };
      const cpu = convAndGrads(g, data, 'cpu', dtype);
      const ref = convAndGrads(g, data, 'reference', dtype);
      // The reference sums in float64; float32 kernels differ by rounding, at most ~K * 2^-24 for
      // K <= 425 terms of size <= 1 (a few 1e-5), float64 kernels by ~K * 2^-53.
      const tol = dtype === 'float32' ? { atol: 5e-5, rtol: 1e-5 } : { atol: 1e-12, rtol: 1e-12 };
      const names = ['output', 'input gradient', 'weight gradient'];
      for (let i = 0; i < 3; i++) assertClose(cpu[i], ref[i], tol, `${names[i]}: ${describe(g)}`);
    }
  });
}

test('conv2d with a bias (added inside the kernel) matches the reference, with the bias gradient', { skip: SKIP }, () => {
  const r = lcg(21);
  // The random geometries, and MinAtar's batch (x [32, 4, 10, 10] into 16 channels, valid).
  const shapes = [
    ...geometries(40, 7),
    { n: 32, c: 4, o: 16, h: 10, w: 10, kh: 3, kw: 3, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 } as Geometry,
  ];
  for (const g of shapes) {
    const ho = outSize(g.h, g.kh, g.stride[0], g.padding[0], g.dilation[0]);
    const wo = outSize(g.w, g.kw, g.stride[1], g.padding[1], g.dilation[1]);
    const data = { x: values(g.n * g.c * g.h * g.w, r), w: values(g.o * (g.c / g.groups) * g.kh * g.kw, r), b: values(g.o, r), gy: values(g.n * g.o * ho * wo, r) };
    const run = (device: string): Tensor[] => {
      const x = tensor(data.x, { shape: [g.n, g.c, g.h, g.w], device });
      const w = tensor(data.w, { shape: [g.o, g.c / g.groups, g.kh, g.kw], device });
      const b = tensor(data.b, { shape: [g.o], device });
      b.requiresGrad = true;
      const y = nn.functional.conv2d(x, w, b, { stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups });
      const [gb] = grad([y], [b], { gradOutputs: [tensor(data.gy, { shape: [...y.shape], device })] });
      return [y, gb!];
    };
    const [cpu, ref] = [run('cpu'), run('reference')];
    assertClose(cpu[0], ref[0], { atol: 5e-5, rtol: 1e-5 }, `output: ${describe(g)}`);
    assertClose(cpu[1], ref[1], { atol: 5e-4, rtol: 1e-5 }, `bias gradient: ${describe(g)}`);
  }
});

// The outputs are allocated uninitialised, so a kernel that skipped its work for an empty sum would
// leave garbage: no input channels (output zeros), no output channels (input gradient zeros), no
// images (weight gradient zeros). Each case runs after a large convolution, whose freed memory the
// allocator may hand back.
test('empty sums give zeros, not leftover memory', { skip: SKIP }, () => {
  const r = lcg(9);
  const base = { h: 6, w: 5, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 } as const;
  const cases: Geometry[] = [
    { ...base, n: 2, c: 0, o: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
    { ...base, n: 2, c: 4, o: 0, stride: [2, 2], padding: [1, 1], dilation: [1, 1] },
    { ...base, n: 0, c: 4, o: 16, stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
  ];
  for (const g of cases) {
    const big = { n: 4, c: 16, o: 16, h: 12, w: 12, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 } as Geometry;
    convAndGrads(big, { x: values(4 * 16 * 144, r), w: values(16 * 16 * 9, r), gy: values(4 * 16 * 144, r) }, 'cpu', 'float32');
    const ho = outSize(g.h, g.kh, g.stride[0], g.padding[0], g.dilation[0]);
    const wo = outSize(g.w, g.kw, g.stride[1], g.padding[1], g.dilation[1]);
    const data = { x: values(g.n * g.c * g.h * g.w, r), w: values(g.o * g.c * g.kh * g.kw, r), gy: values(g.n * g.o * ho * wo, r) };
    const cpu = convAndGrads(g, data, 'cpu', 'float32');
    const ref = convAndGrads(g, data, 'reference', 'float32');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(cpu[i]!.shape, ref[i]!.shape);
      assert.ok(Array.from(cpu[i]!.dataSync() as ArrayLike<number>).every((v) => v === 0), `result ${i} of ${describe(g)} is all zeros`);
    }
  }
});

test('the fast paths match the reference on shapes large enough to use threads', { skip: SKIP }, () => {
  const r = lcg(5);
  const shapes: Geometry[] = [
    // Fewer images than 2 x threads (split inside the image) and more (one image per task); the
    // weight gradient sums the 12 images in more than one chunk.
    { n: 3, c: 16, o: 16, h: 24, w: 24, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { n: 12, c: 16, o: 16, h: 24, w: 24, kh: 3, kw: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { n: 6, c: 16, o: 32, h: 16, w: 16, kh: 3, kw: 3, stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 },
  ];
  for (const g of shapes) {
    const ho = outSize(g.h, g.kh, g.stride[0], g.padding[0], g.dilation[0]);
    const wo = outSize(g.w, g.kw, g.stride[1], g.padding[1], g.dilation[1]);
    const data = { x: values(g.n * g.c * g.h * g.w, r), w: values(g.o * g.c * g.kh * g.kw, r), gy: values(g.n * g.o * ho * wo, r) };
    const cpu = convAndGrads(g, data, 'cpu', 'float32');
    const ref = convAndGrads(g, data, 'reference', 'float32');
    // The weight gradient sums n * HO * WO (up to 11520) terms.
    assertClose(cpu[0], ref[0], { atol: 5e-5, rtol: 1e-5 }, `output: ${describe(g)}`);
    assertClose(cpu[1], ref[1], { atol: 5e-5, rtol: 1e-5 }, `input gradient: ${describe(g)}`);
    assertClose(cpu[2], ref[2], { atol: 5e-4, rtol: 1e-5 }, `weight gradient: ${describe(g)}`);
  }
});

test('an infinity that only padding columns could meet stays out of the weight gradient', { skip: SKIP }, () => {
  // Stride 2 never reads the last column of an even-width image; the fast kernels must not
  // multiply it into the gradient (0 * inf would be NaN).
  const g: Geometry = { n: 1, c: 1, o: 1, h: 4, w: 4, kh: 1, kw: 1, stride: [2, 2], padding: [0, 0], dilation: [1, 1], groups: 1 };
  const x = Array.from({ length: 16 }, (_, i) => (i % 4 === 3 ? Infinity : i));
  const data = { x, w: [0.5], gy: [1, 2, 3, 4] };
  const cpu = convAndGrads(g, data, 'cpu', 'float32');
  const ref = convAndGrads(g, data, 'reference', 'float32');
  for (let i = 0; i < 3; i++) assertClose(cpu[i], ref[i], { atol: 0, rtol: 0 }, `tensor ${i}`);
  const g3: Geometry = { ...g, h: 7, w: 7, kh: 3, kw: 3 };
  const x3 = Array.from({ length: 49 }, (_, i) => (i % 7 === 6 || i >= 42 ? Infinity : (i % 5) - 2));
  const data3 = { x: x3, w: values(9, lcg(3)), gy: values(9, lcg(4)) };
  const c3 = convAndGrads(g3, data3, 'cpu', 'float32');
  const r3 = convAndGrads(g3, data3, 'reference', 'float32');
  assert.ok(Array.from(c3[2]!.dataSync(), Number).some((v) => Number.isFinite(v)), 'some weight gradient entries are finite');
  for (let i = 0; i < 3; i++) assertClose(c3[i], r3[i], { atol: 5e-5, rtol: 1e-5 }, `3x3 tensor ${i}`);
});

test('convolution results are bit-identical for 1 and 3 threads', { skip: SKIP }, () => {
  const code = `
    const { createHash } = await import('node:crypto');
    ms.manualSeed(3);
    const o = { device: 'cpu' };
    const h = createHash('sha256');
    const cases = [[3, 16, 16, 24, 1], [20, 16, 16, 24, 1], [9, 16, 32, 16, 2], [1, 4, 16, 10, 1], [128, 4, 16, 10, 1], [6, 3, 16, 32, 1]];
    for (const [n, c, oc, s, stride] of cases) {
      const x = ms.randn([n, c, s, s], o), w = ms.randn([oc, c, 3, 3], o), b = ms.randn([oc], o);
      x.requiresGrad = true; w.requiresGrad = true;
      // c = 4: MinAtar's valid convolution with its bias (conv-small.cc, one task per image)
      const y = ms.nn.functional.conv2d(x, w, c === 4 ? b : null, { padding: c === 4 ? 0 : 1, stride });
      const [gx, gw] = ms.grad([y.mul(y).sum()], [x, w]);
      for (const t of [y, gx, gw]) h.update(new Uint8Array(t.dataSync().buffer));
    }
    console.log(h.digest('hex'));
  `;
  const digests = ['1', '3'].map((threads) => {
    const script = `const ms = await import(${JSON.stringify(INDEX)});\n${code}`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, MILESTONES_NUM_THREADS: threads },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  });
  assert.match(digests[0]!, /^[0-9a-f]{64}$/);
  assert.equal(digests[1], digests[0], '3 threads differ from 1');
});
