/**
 * The autograd engine hands the memory of the gradients it has consumed back to the cpu backend
 * for reuse (src/autograd/backward.ts, Recycler). A mistake there would not fail loudly: a tensor
 * still in use would see its memory overwritten by a later output of the same size. These tests
 * build graphs where that would show: fan-out, views, pass-through gradients, retained and
 * captured gradients, user-supplied output gradients, and later passes that reuse the memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, backward, grad, manualSeed, nn, optim, randn, tensor, type Tensor } from '../src/index.js';
import { recycledBytes } from '../src/backend/cpu/memory.js';
import { assertClose } from './helpers.js';

const SKIP = availableBackends().includes('cpu') ? false : 'the native cpu backend is not built (npm install builds it)';

// [32, 48] float32 is 6 KB: above the slab size, so every output is a recyclable buffer of its own.
const SHAPE = [32, 48];

interface Program {
  /** Per step: an op and the indices of earlier values it reads. */
  steps: { op: string; args: number[]; retain: boolean }[];
  /** Indices of the values summed into the loss. */
  outs: number[];
}

/** A random program over 3 leaf inputs and a [48, 48] weight (value 3), with fan-out everywhere. */
function randomProgram(rng: () => number, length: number): Program {
  const ops = ['add', 'mul', 'sub', 'relu', 'tanh', 'views', 'mm', 'addSelf'];
  const steps: Program['steps'] = [];
  const pick = (n: number) => Math.floor(rng() * n);
  for (let i = 0; i < length; i++) {
    const available = 3 + i; // values 0-2 are the inputs, then one per step
    steps.push({ op: ops[pick(ops.length)]!, args: [pick(available), pick(available)], retain: rng() < 0.2 });
  }
  const n = 3 + length;
  return { steps, outs: [n - 1, pick(n), pick(n)] };
}

interface Result {
  loss: number;
  /** Leaf gradients, then retained gradients, in program order. */
  grads: Tensor[];
}

function runProgram(p: Program, inputs: Tensor[], weight: Tensor, seedGrad?: Tensor): Result {
  const values: Tensor[] = [...inputs];
  const retained: Tensor[] = [];
  for (const { op, args, retain } of p.steps) {
    const a = values[args[0]!]!;
    const b = values[args[1]!]!;
    const v =
      op === 'add' ? a.add(b)
      : op === 'mul' ? a.mul(b.tanh())
      : op === 'sub' ? a.sub(b)
      : op === 'relu' ? a.relu()
      : op === 'tanh' ? a.tanh()
      : op === 'views' ? a.reshape([48, 32]).reshape([32, 48])
      : op === 'mm' ? a.matmul(weight).mul(0.05)
      : a.add(a); // the same tensor twice: its rule returns one gradient for both slots
    if (retain && v.requiresGrad) {
      v.retainGrad();
      retained.push(v);
    }
    values.push(v);
  }
  let out = values[p.outs[0]!]!;
  for (const i of p.outs.slice(1)) out = out.add(values[i]!);
  if (seedGrad) backward([out], [seedGrad]);
  else out.square().mean().backward();
  return { loss: out.sum().item(), grads: [...inputs, weight, ...retained].map((t) => t.grad!).filter(Boolean) };
}

function mulberry(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function leaves(device: string, values: Float32Array[]): Tensor[] {
  return values.map((v, i) =>
    tensor(v, { device }).reshape(i < 3 ? SHAPE : [48, 48]).detach().requiresGrad_(),
  );
}

test('gradients handed out by backward agree with the reference backend and keep their values while later passes reuse memory', { skip: SKIP }, () => {
  const rng = mulberry(7);
  manualSeed(3);
  for (let trial = 0; trial < 25; trial++) {
    const p = randomProgram(rng, 6 + (trial % 10));
    const init = [...[0, 1, 2].map(() => randn(SHAPE)), randn([48, 48])].map((t) => new Float32Array(t.dataSync()));
    const useSeed = trial % 3 === 0;
    const seedGradValues = new Float32Array(randn(SHAPE).dataSync());
    const seedGrad = useSeed ? tensor(seedGradValues, { device: 'cpu' }).reshape(SHAPE) : undefined;
    const [x0, x1, x2, w] = leaves('cpu', init);
    const cpu = runProgram(p, [x0!, x1!, x2!], w!, seedGrad);
    const snapshot = cpu.grads.map((g) => Float32Array.from(g.dataSync()));

    const [r0, r1, r2, rw] = leaves('reference', init);
    const ref = runProgram(p, [r0!, r1!, r2!], rw!, useSeed ? tensor(seedGradValues, { device: 'reference' }).reshape(SHAPE) : undefined);
    assert.equal(cpu.grads.length, ref.grads.length);
    cpu.grads.forEach((g, i) => assertClose(g, ref.grads[i]!.to('cpu'), { rtol: 1e-3, atol: 1e-4 }, `trial ${trial}: gradient ${i}`));

    // Later passes allocate and recycle outputs of the same size; nothing handed out may change.
    for (let k = 0; k < 3; k++) {
      const [y0, y1, y2, yw] = leaves('cpu', init);
      runProgram(randomProgram(rng, 8), [y0!, y1!, y2!], yw!);
    }
    cpu.grads.forEach((g, i) => assert.deepEqual(g.dataSync(), snapshot[i], `trial ${trial}: gradient ${i} changed after later passes`));
    if (seedGrad) assert.deepEqual(seedGrad.dataSync(), seedGradValues, `trial ${trial}: the output gradient passed in changed`);
  }
});

test('autograd.grad results and a gradient passed straight through to a leaf are never reused', { skip: SKIP }, () => {
  manualSeed(5);
  const x = randn(SHAPE).requiresGrad_();
  const h = x.tanh();
  const y = h.add(x); // add's rule returns y's gradient for both h and the leaf x
  const [gh, gx] = grad(y.mul(y).sum(), [h, x]);
  const snap = [gh!, gx!].map((g) => Float32Array.from(g.dataSync()));
  for (let k = 0; k < 5; k++) x.detach().requiresGrad_().relu().mul(2).sum().backward();
  assert.deepEqual(gh!.dataSync(), snap[0]);
  assert.deepEqual(gx!.dataSync(), snap[1]);

  // Only the leaf asked for: its gradient is the very one the add's other input consumes.
  const z = randn(SHAPE).requiresGrad_();
  const u = z.tanh().add(x);
  const [gu] = grad(u.mul(u).sum(), [x]);
  const kept0 = Float32Array.from(gu!.dataSync());
  for (let k = 0; k < 5; k++) x.detach().requiresGrad_().relu().mul(2).sum().backward();
  assert.deepEqual(gu!.dataSync(), kept0);

  const a = randn(SHAPE).requiresGrad_();
  a.mul(3).add(a).sum().backward();
  const kept = Float32Array.from(a.grad!.dataSync());
  for (let k = 0; k < 5; k++) a.detach().requiresGrad_().mul(5).add(1).sum().backward();
  assert.deepEqual(a.grad!.dataSync(), kept);
});

test('backward hands consumed gradients back, and MILESTONES_RECYCLE=off gives the same bits', { skip: SKIP }, () => {
  manualSeed(2);
  const x = randn([64, 256]);
  const w1 = randn([256, 256]).mul(0.05).requiresGrad_();
  const w2 = randn([256, 256]).mul(0.05).requiresGrad_();
  const before = recycledBytes();
  x.matmul(w1).relu().matmul(w2).tanh().square().sum().backward();
  assert.ok(recycledBytes() > before, 'some consumed gradient memory is waiting for reuse');

  // A small residual network trained for a few SGD steps, with and without recycling.
  const script = `
    ms.manualSeed(4);
    const { nn, optim } = ms;
    const net = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.Conv2d(8, 8, 3, { padding: 1 }));
    const head = new nn.Linear(8 * 16 * 16, 10);
    const params = [...net.parameters(), ...head.parameters()];
    const opt = new optim.SGD(params, { lr: 0.05, momentum: 0.9 });
    const x = ms.randn([16, 3, 16, 16]);
    const y = ms.randint(0, 10, [16]);
    for (let s = 0; s < 4; s++) {
      opt.zeroGrad();
      const h = net.forward(x);
      const out = head.forward(h.add(h.relu()).flatten(1));
      nn.functional.crossEntropy(out, y).backward();
      opt.step();
    }
    let digest = 0;
    for (const p of params) for (const v of new Uint32Array(Float32Array.from(p.dataSync()).buffer)) digest = (digest * 31 + v) % 1000000007;
    console.log(digest);`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const ms = await import(${JSON.stringify(INDEX)});\n${script}`], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(run({ MILESTONES_RECYCLE: 'off' }), run({}));
});

const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * A leaf's gradient that nothing outside the library has read goes back to the backend when
 * zeroGrad drops it (Tensor._setGrad), as PyTorch's allocator reuses a dropped gradient's block.
 * Each test below would see a kept gradient's values overwritten if the rule were wrong.
 */
const bufferOf = (t: Tensor) => (t._storage as unknown as { data: Float32Array }).data.buffer;

/** Passes that allocate and overwrite many [32, 48] and [48, 48] buffers. */
function churn(): void {
  for (let k = 0; k < 4; k++) {
    const a = randn(SHAPE).requiresGrad_();
    const w = randn([48, 48]).requiresGrad_();
    a.matmul(w).tanh().add(a.matmul(w).sigmoid()).sum().backward();
    a.grad = null;
    w.grad = null;
  }
}

test('zeroGrad gives back the memory of a gradient nobody read, and the next pass reuses it', { skip: SKIP }, () => {
  manualSeed(6);
  const net = new nn.Linear(48, 64); // weight gradient [64, 48]: 12 KB
  const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
  const x = randn([32, 48]);
  net.forward(x).tanh().sum().backward();
  const first = bufferOf(net.weight._peekGrad()!);
  opt.step();
  const before = recycledBytes();
  opt.zeroGrad();
  assert.equal(recycledBytes() - before, 64 * 48 * 4, 'the weight gradient (and only it: the bias is 256 bytes) is waiting for reuse');
  net.forward(x).tanh().sum().backward();
  assert.equal(bufferOf(net.weight._peekGrad()!), first, "the next pass's weight gradient reuses its memory");

  // Module.zeroGrad does the same.
  const again = recycledBytes();
  net.zeroGrad();
  assert.equal(recycledBytes() - again, 64 * 48 * 4);
});

test('a gradient read through .grad, shared by two leaves, or shared with a retained gradient is never given back', { skip: SKIP }, () => {
  manualSeed(7);
  // Read through .grad: the reader may keep it.
  const w = randn([48, 48]).requiresGrad_();
  randn(SHAPE).matmul(w).tanh().sum().backward();
  const kept = w.grad!;
  const keptValues = Float32Array.from(kept.dataSync());
  w.grad = null;
  churn();
  assert.deepEqual(kept.dataSync(), keptValues, 'a gradient read through .grad changed after it was dropped');

  // add's rule returns one gradient for both inputs: a and b share it.
  const a = randn(SHAPE).requiresGrad_();
  const b = randn(SHAPE).requiresGrad_();
  a.add(b).tanh().sum().backward();
  assert.equal(bufferOf(a._peekGrad()!), bufferOf(b._peekGrad()!));
  const bValues = Float32Array.from(b._peekGrad()!.dataSync());
  new optim.SGD([a], { lr: 0.1 }).zeroGrad();
  churn();
  assert.deepEqual(b._peekGrad()!.dataSync(), bValues, "dropping a's gradient gave back b's");

  // A leaf's gradient as a view of a retained gradient.
  const x = randn(SHAPE).requiresGrad_();
  const y = x.reshape([48, 32]);
  y.retainGrad();
  y.tanh().sum().backward();
  const yValues = Float32Array.from(y.grad!.dataSync());
  new optim.SGD([x], { lr: 0.1 }).zeroGrad();
  churn();
  assert.deepEqual(y.grad!.dataSync(), yValues, "dropping x's gradient gave back y's retained gradient");

  // A gradient recorded with createGraph is part of a graph.
  const z = randn(SHAPE).requiresGrad_();
  z.square().sum().backward(undefined, { createGraph: true });
  const before = recycledBytes();
  new optim.SGD([z], { lr: 0.1 }).zeroGrad();
  assert.equal(recycledBytes(), before, 'a gradient recorded with createGraph was given back');
});

test('gradients accumulated over two passes are right, and the first one is given back', { skip: SKIP }, () => {
  manualSeed(8);
  const w = randn([48, 48]).requiresGrad_();
  const x = randn(SHAPE);
  x.matmul(w).tanh().sum().backward();
  const once = Float32Array.from(w._peekGrad()!.dataSync());
  const first = bufferOf(w._peekGrad()!);
  x.matmul(w).tanh().sum().backward();
  // The first gradient's memory went back last, so the next output of its size gets it.
  assert.equal(bufferOf(w.detach().mul(2)), first, 'the first gradient was given back');
  churn();
  const twice = w.grad!.dataSync();
  for (let i = 0; i < once.length; i++) assert.equal(twice[i], once[i]! + once[i]!, `element ${i}`);
});
