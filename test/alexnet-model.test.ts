/**
 * AlexNet (papers/2012-alexnet/model.ts) against torchvision 0.14 and a torch.nn transcription of the
 * 2012 net (tools/reference/alexnet_reference.py): state-dict names and shapes, parameter counts,
 * output shapes, and the logits of a forward pass given the same weights, written under torchvision's
 * names and loaded through loadStateDict. The weights come from an integer hash both sides compute
 * (the fixture's doc, in the script, gives the formula), since 61M floats cannot be a fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { nn, noGrad, tensor, zeros, type Tensor } from '../src/index.js';
import { AlexNet, AlexNet2012, alexnetFeatureSize, initAlexNet2012_ } from '../papers/2012-alexnet/model.js';
import { assertClose } from './helpers.js';

interface Described {
  names: string[];
  shapes: number[][];
  numParameters: number;
}
interface Fixture {
  torchvisionAlexNet: Described & { inputSize: number; logits: number[]; shape: number[]; outputShape224: number[] };
  alexnet2012: Described & { outputShape227: number[] };
  alexnet2012Small: Described & { inputSize: number; logits: number[]; shape: number[] };
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/alexnet-torchvision.json', import.meta.url), 'utf8')) as Fixture;

function numParameters(model: nn.Module): number {
  return model.parameters().reduce((n, p) => n + p.numel(), 0);
}

function describe(model: nn.Module): { names: string[]; shapes: number[][] } {
  const sd = model.stateDict();
  return { names: Object.keys(sd), shapes: Object.values(sd).map((t) => [...t.shape]) };
}

/** The reference script's hash: u in [-0.5, 0.5) for flat index i of the k-th tensor. */
function hashUniform(n: number, k: number): Float64Array {
  const out = new Float64Array(n);
  const c = k * 40503 + 12345;
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 2654435761 | 0) + c) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 2246822519 | 0) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    out[i] = h / 4294967296 - 0.5;
  }
  return out;
}

/** The script's weights for `model`, keyed by its own state-dict names (torchvision's). */
function hashedStateDict(model: nn.Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  Object.entries(model.stateDict()).forEach(([name, t], k) => {
    const u = hashUniform(t.numel(), k);
    const fanIn = t.numel() / t.shape[0]!;
    const scale = t.ndim > 1 ? Math.sqrt(24 / fanIn) : 0.02;
    const v = new Float32Array(u.length); // the float64 -> float32 cast of the script
    for (let i = 0; i < u.length; i++) v[i] = u[i]! * scale;
    out[name] = tensor(v, { shape: [...t.shape] });
  });
  return out;
}

function hashedInput(size: number): Tensor {
  const u = hashUniform(2 * 3 * size * size, 1000);
  return tensor(Float32Array.from(u), { shape: [2, 3, size, size] });
}

// Building the 61M-parameter net dominates this file's time (its default initialisation), so the
// first two tests share one.
let shared: AlexNet | null = null;
function torchvisionNet(): AlexNet {
  shared ??= new AlexNet();
  return shared;
}

test('AlexNet (torchvision): state-dict names, shapes and 61,100,840 parameters, as torchvision', () => {
  const model = torchvisionNet();
  const ours = describe(model);
  assert.deepEqual(ours.names, fixture.torchvisionAlexNet.names);
  assert.deepEqual(ours.shapes, fixture.torchvisionAlexNet.shapes);
  assert.equal(numParameters(model), 61_100_840);
  assert.equal(fixture.torchvisionAlexNet.numParameters, 61_100_840);
});

test('AlexNet (torchvision): logits match PyTorch given the same weights (63x63, the smallest input)', () => {
  const model = torchvisionNet();
  const result = model.loadStateDict(hashedStateDict(model));
  assert.deepEqual(result.missingKeys, []);
  model.eval();
  const y = noGrad(() => model.forward(hashedInput(fixture.torchvisionAlexNet.inputSize)));
  assert.deepEqual([...y.shape], fixture.torchvisionAlexNet.shape);
  // Logits are O(1); float32 sums of up to 9216 terms in another order differ by ~1e-6.
  assertClose(y, tensor(fixture.torchvisionAlexNet.logits, { shape: [2, 1000] }), { atol: 2e-5, rtol: 1e-4 }, 'logits');
});

test('AlexNet2012: the two-GPU net has the 60,965,224 parameters and the layout of its torch transcription', () => {
  const model = new AlexNet2012();
  const ours = describe(model);
  assert.deepEqual(ours.names, fixture.alexnet2012.names);
  assert.deepEqual(ours.shapes, fixture.alexnet2012.shapes);
  assert.equal(numParameters(model), 60_965_224);
  assert.equal(fixture.alexnet2012.numParameters, 60_965_224);
  // The grouped convolutions: conv2 kernels see 48 of conv1's 96 maps (Fig. 2), conv4/conv5 192 of 384.
  assert.deepEqual(ours.shapes[2], [256, 48, 5, 5]);
  assert.deepEqual(ours.shapes[6], [384, 192, 3, 3]);
  assert.deepEqual(ours.shapes[8], [256, 192, 3, 3]);
  // 227 -> conv1 55 -> pool 27 -> pool 13 -> pool 6: fc6 reads 6 x 6 x 256 = 9216.
  assert.equal(alexnetFeatureSize(227), 6);
  assert.deepEqual(fixture.alexnet2012.outputShape227, [1, 1000]);
  assert.throws(() => alexnetFeatureSize(66), /too small/);
});

test('AlexNet2012: logits match torch (groups, LRN with the paper k=2 n=5 alpha=1e-4 beta=0.75, 67x67 input)', () => {
  const model = new AlexNet2012({ inputSize: 67 });
  assert.deepEqual(describe(model).shapes, fixture.alexnet2012Small.shapes);
  model.loadStateDict(hashedStateDict(model));
  model.eval();
  const y = noGrad(() => model.forward(hashedInput(67)));
  assertClose(y, tensor(fixture.alexnet2012Small.logits, { shape: [2, 1000] }), { atol: 2e-5, rtol: 1e-4 }, 'logits');
});

test('output shapes at full resolution, on width-reduced nets (same spatial arithmetic)', () => {
  const tv = new AlexNet({ widthDivisor: 16, numClasses: 7 });
  tv.eval();
  // 224 -> conv1 55 -> 27 -> 13 -> 6; the adaptive pool keeps 6x6.
  assert.deepEqual([...noGrad(() => tv.features.forward(zeros([1, 3, 224, 224]))).shape], [1, 16, 6, 6]);
  assert.deepEqual([...noGrad(() => tv.forward(zeros([1, 3, 100, 80]))).shape], [1, 7]);
  assert.deepEqual(fixture.torchvisionAlexNet.outputShape224, [1, 1000]);
  const paper = new AlexNet2012({ widthDivisor: 16, numClasses: 5 });
  paper.eval();
  assert.deepEqual([...noGrad(() => paper.features.forward(zeros([1, 3, 227, 227]))).shape], [1, 16, 6, 6]);
  assert.deepEqual([...noGrad(() => paper.forward(zeros([2, 3, 227, 227]))).shape], [2, 5]);
});

test('initAlexNet2012_: N(0, 0.01) weights, biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere (Sec. 5)', () => {
  const model = new AlexNet2012({ widthDivisor: 8, inputSize: 67, numClasses: 10 });
  initAlexNet2012_(model);
  const sd = model.stateDict();
  const biasOnes = ['features.4.bias', 'features.10.bias', 'features.12.bias', 'classifier.0.bias', 'classifier.3.bias'];
  for (const [name, t] of Object.entries(sd)) {
    if (name.endsWith('.bias')) {
      const want = biasOnes.includes(name) ? 1 : 0;
      assert.ok((t.toArray() as number[]).every((v) => v === want), `${name} is all ${want}`);
    }
  }
  const w = sd['classifier.3.weight']!; // 512 x 512 draws
  const std = w.std().item();
  assert.ok(Math.abs(std - 0.01) < 0.0005, `fc7 weight std ${std}`);
  assert.ok(Math.abs(w.mean().item()) < 0.0005);
});
