/**
 * The cpu backend's native where and strided-copy kernels (native/cpu/elementwise.cc): where with
 * contiguous, broadcast (stride-0) and strided operands of every dtype, and the strided copies of
 * permute (including the tiled transpose of the last two dimensions), expand, slice and flip,
 * against the reference backend bit for bit on random shapes (size-1, empty, odd), inputs large
 * enough to split across threads, and results that do not depend on the thread count.
 */
import { test } from 'node:test';
import { availableBackends } from '../src/backend/registry.js';
import { Gen, same, sameBitsForThreadCounts, type Value } from './native-compare.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it); nothing to compare';

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
  sameBitsForThreadCounts(code);
});
