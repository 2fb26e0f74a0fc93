/**
 * The native convolution's paths for ResNet-20's wider stages (native/cpu/conv.cc): 3x3 "same"
 * convolutions on 32 and 64 channels, whose source holds one shifted copy of the image per kernel
 * column, an image too large for those copies (the masked path), Winograd F(2x2, 3x3) on small
 * images with output channels in 32s (forward and input gradient), and the weight gradient's image
 * chunks, against the reference backend and bit-identical for 1 and 3 threads.
 */
import { test } from 'node:test';
import { availableBackends, grad, nn, tensor, type Tensor } from '../src/index.js';
import { assertClose } from './helpers.js';
import { rng, sameBitsForThreadCounts } from './native-compare.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it)';

function values(n: number, r: () => number): number[] {
  return Array.from({ length: n }, () => r() * 2 - 1);
}

/** conv2d (3x3, padding `pad`) and both gradients on one device. */
function convAndGrads(
  shape: { n: number; c: number; o: number; h: number; w: number; pad: number; dilation: number; groups?: number },
  data: { x: number[]; w: number[]; gy: number[] },
  device: string,
): Tensor[] {
  const { n, c, o, h, w, pad, dilation } = shape;
  const groups = shape.groups ?? 1;
  const x = tensor(data.x, { shape: [n, c, h, w], device });
  const wt = tensor(data.w, { shape: [o, c / groups, 3, 3], device });
  x.requiresGrad = true;
  wt.requiresGrad = true;
  const y = nn.functional.conv2d(x, wt, null, { padding: pad, dilation, groups });
  const gy = tensor(data.gy, { shape: [...y.shape], device });
  const [gx, gw] = grad([y], [x, wt], { gradOutputs: [gy] });
  return [y, gx!, gw!];
}

test('3x3 same convolutions on 32 and 64 channels, and on an image too large for shifted copies, match the reference', { skip: SKIP }, () => {
  const r = rng(11);
  const shapes = [
    { n: 3, c: 32, o: 32, h: 16, w: 16, pad: 1, dilation: 1 },
    { n: 2, c: 64, o: 64, h: 8, w: 8, pad: 1, dilation: 1 },
    { n: 2, c: 24, o: 40, h: 7, w: 9, pad: 1, dilation: 1 }, // rows of 9: tiles span rows, channels not a multiple of 8
    { n: 1, c: 5, o: 3, h: 6, w: 2, pad: 2, dilation: 2 }, // outer columns shifted a whole row: zero planes
    // 4 channels x 3 copies x 152 x 150 floats is past the 1 MB of shifted copies: masked loads.
    { n: 1, c: 4, o: 4, h: 150, w: 150, pad: 1, dilation: 1 },
    // Winograd: 9 blocks of 2x2 (one full product of 6, then 3), 36 positions (not a multiple of 16).
    { n: 2, c: 16, o: 64, h: 6, w: 6, pad: 1, dilation: 1 },
    // 128 output channels (two blocks of 64); a 2x10 image (5 blocks); its input gradient is direct.
    { n: 1, c: 48, o: 128, h: 2, w: 10, pad: 1, dilation: 1 },
    // Groups: the forward (16 -> 64 per group) and, for the second, the input gradient (64 -> 16 per group).
    { n: 2, c: 32, o: 128, h: 4, w: 8, pad: 1, dilation: 1, groups: 2 },
    { n: 2, c: 128, o: 32, h: 4, w: 6, pad: 1, dilation: 1, groups: 2 },
    // 32 output channels (products of 12 blocks): a 10x6 image, 15 blocks (12, then 3).
    { n: 2, c: 16, o: 32, h: 10, w: 6, pad: 1, dilation: 1 },
    // 16x16 with 64 channels: the largest image Winograd takes.
    { n: 1, c: 64, o: 64, h: 16, w: 16, pad: 1, dilation: 1 },
  ];
  for (const s of shapes) {
    const ho = s.h + 2 * s.pad - 2 * s.dilation, wo = s.w + 2 * s.pad - 2 * s.dilation;
    const wLength = (s.o * s.c * 9) / (s.groups ?? 1);
    const data = { x: values(s.n * s.c * s.h * s.w, r), w: values(wLength, r), gy: values(s.n * s.o * ho * wo, r) };
    const cpu = convAndGrads(s, data, 'cpu');
    const ref = convAndGrads(s, data, 'reference');
    const names = ['output', 'input gradient', 'weight gradient'];
    // The weight gradient sums up to 22500 terms of size up to 1.
    const tols = [{ atol: 5e-5, rtol: 1e-5 }, { atol: 5e-5, rtol: 1e-5 }, { atol: 1e-3, rtol: 1e-5 }];
    for (let i = 0; i < 3; i++) assertClose(cpu[i]!, ref[i]!, tols[i]!, `${names[i]}: ${JSON.stringify(s)}`);
  }
});

test('32 and 64 channel convolutions are bit-identical for 1 and 3 threads', { skip: SKIP }, () => {
  // 40 images: the weight gradient's 14 chunks of 3 go to threads (with 3) or run in order (with 1).
  sameBitsForThreadCounts(`
    const { createHash } = await import('node:crypto');
    ms.manualSeed(5);
    const o = { device: 'cpu' };
    const h = createHash('sha256');
    for (const [n, c, s] of [[40, 32, 16], [40, 64, 8], [2, 64, 8], [7, 64, 6]]) {
      const x = ms.randn([n, c, s, s], o), w = ms.randn([c, c, 3, 3], o);
      x.requiresGrad = true; w.requiresGrad = true;
      const y = ms.nn.functional.conv2d(x, w, null, { padding: 1 });
      const [gx, gw] = ms.grad([y.mul(y).sum()], [x, w]);
      for (const t of [y, gx, gw]) h.update(new Uint8Array(t.dataSync().buffer));
    }
    console.log(h.digest('hex'));
  `);
});
