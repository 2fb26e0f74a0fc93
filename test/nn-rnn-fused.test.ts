/**
 * The fused recurrent primitives (lstmSequence, gruSequence and their backward primitives):
 * 1. on the reference backend, the primitives and their gradients equal the layers written as
 *    tensor ops (src/autograd/rnn-rules.ts), forward and reversed, in float64;
 * 2. the native kernels (native/cpu/rnn.cc) against the reference on random shapes (size-1 and
 *    empty dimensions, odd sizes), float32 and float64, forward and reversed;
 * 3. the native results do not depend on the thread count (bit for bit);
 * 4. second-order gradients through nn.LSTM and nn.GRU, by finite differences.
 * The float64 gradchecks of each primitive are in test/gradcheck.test.ts; the PyTorch parity of
 * the layers (multi-layer, bidirectional, batchFirst, initial states, cells) in nn-layers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableBackends } from '../src/backend/registry.js';
import { Generator, Tensor, grad, gradcheck, manualSeed, nn, noGrad, randn } from '../src/index.js';
import { runMany } from '../src/tensor/dispatch.js';
import { gruComposite, lstmComposite } from '../src/autograd/rnn-rules.js';
import type { DType } from '../src/dtype.js';
import { assertClose } from './helpers.js';
import { sameBitsForThreadCounts } from './native-compare.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it); nothing to compare';

manualSeed(17);

const leaf = (shape: number[], dtype: DType = 'float64', device?: string, scale = 1) =>
  noGrad(() => randn(shape, { dtype, device }).mul(scale)).requiresGrad_();

/** Inputs of lstmSequence (G = 4) or gruSequence (G = 3, with bHh) for sizes T, N, H. */
function layerInputs(G: number, T: number, N: number, H: number, dtype: DType = 'float64', device?: string): Tensor[] {
  const xs = [leaf([T, N, G * H], dtype, device), leaf([G * H, H], dtype, device, 0.5)];
  if (G === 3) xs.push(leaf([G * H], dtype, device, 0.5));
  xs.push(leaf([N, H], dtype, device));
  if (G === 4) xs.push(leaf([N, H], dtype, device));
  return xs;
}

for (const reverse of [false, true]) {
  test(`lstmSequence equals the LSTM written as tensor ops, with gradients (reverse ${reverse})`, () => {
    const [x, w, h0, c0] = layerInputs(4, 4, 3, 5);
    const [h, c] = runMany('lstmSequence', [x!, w!, h0!, c0!], { reverse });
    const [hRef, cRef] = lstmComposite(x!, w!, h0!, c0!, reverse);
    assertClose(h, hRef, { atol: 1e-12, rtol: 1e-12 }, 'h');
    assertClose(c, cRef, { atol: 1e-12, rtol: 1e-12 }, 'c');
    const gh = randn([4, 3, 5], { dtype: 'float64' });
    const gc = randn([4, 3, 5], { dtype: 'float64' });
    const loss = (a: Tensor, b: Tensor) => a.mul(gh).sum().add(b.mul(gc).sum());
    const fused = grad(loss(h!, c!), [x!, w!, h0!, c0!]);
    const composite = grad(loss(hRef, cRef), [x!, w!, h0!, c0!]);
    fused.forEach((g, i) => assertClose(g, composite[i], { atol: 1e-12, rtol: 1e-10 }, `gradient ${i}`));
  });

  test(`gruSequence equals the GRU written as tensor ops, with gradients (reverse ${reverse})`, () => {
    const [x, w, b, h0] = layerInputs(3, 4, 3, 5);
    const [h] = runMany('gruSequence', [x!, w!, b!, h0!], { reverse });
    const hRef = gruComposite(x!, w!, b!, h0!, reverse);
    assertClose(h, hRef, { atol: 1e-12, rtol: 1e-12 }, 'h');
    const gh = randn([4, 3, 5], { dtype: 'float64' });
    const fused = grad(h!.mul(gh).sum(), [x!, w!, b!, h0!]);
    const composite = grad(hRef.mul(gh).sum(), [x!, w!, b!, h0!]);
    fused.forEach((g, i) => assertClose(g, composite[i], { atol: 1e-12, rtol: 1e-10 }, `gradient ${i}`));
  });
}

test('lstmSequence: its saved gates output has no gradient (a clear error)', () => {
  const [x, w, h0, c0] = layerInputs(4, 2, 1, 2);
  const [, , gates] = runMany('lstmSequence', [x!, w!, h0!, c0!], { reverse: false });
  assert.throws(() => gates!.sum().backward(), /lstmSequence: its gates output is saved for the backward pass/);
});

test('lstmSequence: shapes that break the contract are refused', () => {
  const [x, w, h0] = layerInputs(4, 2, 3, 5);
  assert.throws(() => runMany('lstmSequence', [x!, w!, h0!, h0!.narrow(0, 0, 2)], { reverse: false }), /lstmSequence: expected xGates/);
  assert.throws(() => runMany('gruSequence', [x!, w!, h0!, h0!], { reverse: false }), /gruSequence: expected xGates/);
});

/** Random sizes [T, N, H]: size-1 and empty dimensions, odd sizes, and one large enough to split across threads. */
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [3, 2, 5],
  [0, 2, 3],
  [2, 0, 3],
  [4, 3, 1],
  [5, 7, 13],
  [2, 33, 70],
];

for (const [name, G] of [
  ['lstm', 4],
  ['gru', 3],
] as const) {
  for (const dtype of ['float32', 'float64'] as const) {
    test(`native ${name}Sequence and its backward match the reference (${dtype})`, { skip: SKIP }, () => {
      const tol = dtype === 'float64' ? { atol: 1e-12, rtol: 1e-10 } : { atol: 2e-5, rtol: 1e-4 };
      for (const [T, N, H] of SIZES) {
        for (const reverse of [false, true]) {
          const ref = layerInputs(G, T, N, H, dtype, 'reference').map((t) => t.detach());
          const cpu = ref.map((t) => t.to('cpu'));
          const what = `${name} [${T}, ${N}, ${H}] reverse ${reverse}`;
          const prim = G === 4 ? 'lstmSequence' : 'gruSequence';
          const outRef = runMany(prim, ref, { reverse });
          const outCpu = runMany(prim, cpu, { reverse });
          outCpu.forEach((o, i) => assertClose(o, outRef[i], tol, `${what}: output ${i}`));
          // The backward primitive on the same saved values (the reference's), so only it is compared.
          const gh = randn([T, N, H], { dtype, device: 'reference' });
          const back = G === 4 ? 'lstmSequenceBackward' : 'gruSequenceBackward';
          const saved = G === 4 ? [gh, randn([T, N, H], { dtype, device: 'reference' }), outRef[1]!, outRef[2]!] : [gh, outRef[0]!, outRef[1]!, outRef[2]!];
          const bRef = runMany(back, [...ref, ...saved], { reverse });
          const bCpu = runMany(back, [...cpu, ...saved.map((t) => t.to('cpu'))], { reverse });
          bCpu.forEach((o, i) => assertClose(o, bRef[i], tol, `${what}: backward output ${i}`));
        }
      }
    });
  }
}

test('nn.LSTM and nn.GRU on the cpu backend give the same bits for 1 and 3 threads', { skip: SKIP }, () => {
  const code = `
    const { createHash } = await import('node:crypto');
    ms.manualSeed(5);
    const h = createHash('sha256');
    for (const layer of [new ms.nn.LSTM(19, 70, { bidirectional: true }), new ms.nn.GRU(19, 70, { numLayers: 2 })]) {
      layer.to('cpu');
      const x = ms.randn([6, 130, 19], { device: 'cpu' }).requiresGrad_(); // 130 rows: the gate passes split in 3 tasks
      const [out] = layer.forward(x);
      out.mul(out).sum().backward();
      for (const t of [out, x.grad, ...layer.parameters().map((p) => p.grad)]) h.update(new Uint8Array(t.dataSync().buffer));
    }
    console.log(h.digest('hex'));
  `;
  sameBitsForThreadCounts(code);
});

for (const Layer of [nn.LSTM, nn.GRU]) {
  test(`${Layer.name}: second-order gradients through the layer (a gradient penalty, finite differences, float64)`, () => {
    manualSeed(9);
    const layer = new Layer(3, 2, { bidirectional: true, numLayers: 2 }).double();
    // The squared norm of d(sum out^2)/dx, whose gradient in x needs the backward primitives differentiated.
    const penalty = (x: Tensor) => {
      const [out] = layer.forward(x) as [Tensor, unknown];
      const [gx] = grad(out.mul(out).sum(), [x], { createGraph: true });
      return gx!.mul(gx!).sum().reshape([1]);
    };
    gradcheck(penalty, [leaf([3, 2, 3])], { generator: new Generator(4) });
  });
}
