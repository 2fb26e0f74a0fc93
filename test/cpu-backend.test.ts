/**
 * The cpu backend as a whole: it registers and describes itself, results do not depend on the
 * number of threads, the tensor layer and autograd run on it as on the reference backend, and
 * with the addon switched off the library falls back to the reference backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, describeBackend, grad, nn, randn, manualSeed, Tensor } from '../src/index.js';
import { assertClose } from './helpers.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it)';
const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** Runs `code` (an ES module body with `ms` bound to the library) in a fresh Node with `env`. */
function child(code: string, env: Record<string, string>): { stdout: string; stderr: string; status: number | null } {
  const script = `const ms = await import(${JSON.stringify(INDEX)});\n${code}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test('the cpu backend names its instruction set and thread count', { skip: SKIP }, () => {
  const d = describeBackend('cpu');
  assert.match(d, /AVX-512F|AVX2\+FMA|portable C\+\+/);
  assert.match(d, /\d+ threads?/);
  const one = child(`console.log(ms.describeBackend('cpu'))`, { MILESTONES_NUM_THREADS: '1', MILESTONES_CPU_ISA: 'portable' });
  assert.match(one.stdout, /portable C\+\+, 1 thread /);
});

test('results are bit-identical for 1, 2 and 3 threads', { skip: SKIP }, () => {
  // Large enough that every kernel splits its work: GEMM blocks, conv image chunks, long sums.
  const code = `
    const { createHash } = await import('node:crypto');
    ms.manualSeed(7);
    const o = { device: 'cpu' };
    const a = ms.randn([300, 517], o), b = ms.randn([517, 263], o);
    const x = ms.randn([9, 5, 11, 11], o), w = ms.randn([6, 5, 3, 3], o);
    x.requiresGrad = true; w.requiresGrad = true;
    const y = ms.nn.functional.conv2d(x, w, null, { padding: 1 });
    const [gx, gw] = ms.grad([y.mul(y).sum()], [x, w]);
    const outs = [a.matmul(b), a.sum(), a.sum(0), a.softmax(-1), a.logSoftmax(0), y, gx, gw, ms.randn([200001], o).sum()];
    const h = createHash('sha256');
    for (const t of outs) h.update(new Uint8Array(t.dataSync().buffer));
    console.log(h.digest('hex'));
  `;
  const digests = ['1', '2', '3'].map((n) => {
    const r = child(code, { MILESTONES_NUM_THREADS: n });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  });
  assert.match(digests[0]!, /^[0-9a-f]{64}$/);
  assert.equal(digests[1], digests[0], '2 threads differ from 1');
  assert.equal(digests[2], digests[0], '3 threads differ from 1');
});

test('a small conv net gives the same loss and gradients on cpu and reference', { skip: SKIP }, () => {
  const run = (device: string) => {
    manualSeed(3);
    const x = randn([4, 3, 9, 9], { device });
    const w1 = randn([8, 3, 3, 3], { device }).mul(0.3);
    const w2 = randn([10, 8 * 4 * 4], { device }).mul(0.1);
    const target = randn([4, 10], { device }).argmax(-1);
    w1.requiresGrad = true;
    w2.requiresGrad = true;
    const F = nn.functional;
    const h = F.maxPool2d(F.conv2d(x, w1, null, { padding: 1 }).relu(), 2); // [4, 8, 4, 4]
    const logits = h.reshape([4, -1]).matmul(w2.transpose(0, 1)); // [4, 10]
    const loss = F.crossEntropy(logits, target);
    const [g1, g2] = grad([loss], [w1, w2]) as [Tensor, Tensor];
    return [loss, g1, g2];
  };
  const [lc, g1c, g2c] = run('cpu');
  const [lr, g1r, g2r] = run('reference');
  assert.equal(lc!.device, 'cpu');
  assertClose(lc, lr, { atol: 1e-5, rtol: 1e-5 }, 'loss');
  assertClose(g1c, g1r, { atol: 1e-5, rtol: 1e-4 }, 'conv weight gradient');
  assertClose(g2c, g2r, { atol: 1e-5, rtol: 1e-4 }, 'linear weight gradient');
});

test('with the addon switched off the library runs on the reference backend', () => {
  const r = child(
    `console.log(ms.availableBackends().join(','), ms.tensor([1, 2]).add(ms.tensor([3, 4])).toArray().join(','))`,
    { MILESTONES_NATIVE: 'off', MILESTONES_DEVICE: 'reference' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'reference 4,6');
});

test('small outputs share slabs without overlapping, keep their values, and train', { skip: SKIP }, async () => {
  const { tensor, optim, zeros } = await import('../src/index.js');
  const { pack } = await import('../src/io/transfer.js');
  // 300 outputs of 100 floats (400 bytes: carved from shared slabs, memory.ts), each kept.
  const base = tensor(Array.from({ length: 100 }, (_, i) => i), { device: 'cpu' });
  const kept = Array.from({ length: 300 }, (_, k) => base.add(k));
  const views = kept.map((t) => (t as unknown as { _storage: { data: Float32Array } })._storage.data);
  const shared = views.filter((v) => v.buffer.byteLength > v.byteLength).length;
  assert.ok(shared > 200, `most small outputs are slab views (${shared} of 300)`);
  const ranges = views.map((v) => ({ buf: v.buffer, lo: v.byteOffset, hi: v.byteOffset + v.byteLength }));
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a, b] = [ranges[i]!, ranges[j]!];
      if (a.buf === b.buf) assert.ok(a.hi <= b.lo || b.hi <= a.lo, `outputs ${i} and ${j} overlap`);
    }
  }
  for (let k = 0; k < 2000; k++) base.mul(k); // more carving, then check nothing kept was overwritten
  kept.forEach((t, k) => assert.deepEqual(Array.from(t.dataSync()), Array.from({ length: 100 }, (_, i) => i + k)));
  // Zero-filled outputs from a slab are zeros.
  assert.ok(Array.from(zeros([7, 9], { device: 'cpu' }).add(0).dataSync()).every((v) => v === 0));
  // A worker transfer sends a copy with a buffer of its own, never the shared slab.
  const { transfer } = pack({ t: kept[5]! });
  assert.equal(transfer[0]!.byteLength, 400);
  assert.deepEqual(Array.from(kept[5]!.dataSync()).slice(0, 3), [5, 6, 7]);
  // Parameters, gradients and optimizer state of a small layer share slabs; the fused update's
  // aliasing check must look at bytes, not buffers.
  manualSeed(1);
  const layer = new nn.Linear(8, 4).to('cpu');
  const opt = new optim.SGD(layer.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = randn([5, 8], { device: 'cpu' });
  for (let s = 0; s < 3; s++) {
    opt.zeroGrad();
    layer.forward(x).square().sum().backward();
    opt.step();
  }
  assert.ok(Number.isFinite(layer.weight.sum().item()));
});

test('a sum that reduces the innermost axis adds in four lanes per run, for one output or many at once', { skip: SKIP }, async () => {
  const { tensor } = await import('../src/index.js');
  // native/cpu/reduce.cc: each run of the innermost reduced axis is summed in four double lanes
  // (element i into lane i mod 4, the tail into lane 0), joined as (l0 + l1) + (l2 + l3), and the
  // runs are added in order; several outputs are summed at once with the same order for each.
  const fround = (v: number, dtype: string) => (dtype === 'float32' ? Math.fround(v) : v);
  const expected = (x: number[], shape: number[], axes: number[], dtype: string): number[] => {
    // coalesce as the kernel does: kept and reduced axes keep their order; runs are the innermost axis
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, q) => p * q, 1));
    const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
    // the reduced axes at the end make one run (the kernel merges neighbouring axes of one kind)
    let first = shape.length;
    while (first > 0 && axes.includes(first - 1)) first--;
    const outer = axes.filter((d) => d < first);
    const L = shape.slice(first).reduce((p, q) => p * q, 1);
    const count = (ds: number[]) => ds.reduce((p, d) => p * shape[d]!, 1);
    const offset = (ds: number[], index: number) => {
      let off = 0;
      for (let k = ds.length - 1; k >= 0; k--) {
        off += (index % shape[ds[k]!]!) * strides[ds[k]!]!;
        index = Math.floor(index / shape[ds[k]!]!);
      }
      return off;
    };
    const out: number[] = [];
    for (let o = 0; o < count(kept); o++) {
      let acc = 0;
      for (let r = 0; r < count(outer); r++) {
        const base = offset(kept, o) + offset(outer, r); // the run is contiguous from here
        const lane = [0, 0, 0, 0];
        let i = 0;
        for (; i + 4 <= L; i += 4) for (let k = 0; k < 4; k++) lane[k] += x[base + i + k]!;
        for (; i < L; i++) lane[0] += x[base + i]!;
        acc += lane[0]! + lane[1]! + (lane[2]! + lane[3]!);
      }
      out.push(fround(acc, dtype));
    }
    return out;
  };
  const cases: [number[], number[], 'float32' | 'float64' | 'int32'][] = [
    // float64, where the order of the additions shows in the result (in float32 it rarely survives
    // the final rounding)
    [[32, 16, 8, 8], [0, 2, 3], 'float64'], // a conv's bias gradient: 16 outputs, runs of 64
    [[5, 7, 13], [2], 'float64'], // 35 outputs (8 blocks of 4 and 3), runs of 13 (a tail of 1)
    [[2, 9, 5, 15], [1, 3], 'float64'], // 10 outputs, 9 runs each of 15 (a tail of 3)
    [[32, 16, 8, 8], [0, 2, 3], 'float32'],
    [[3, 6, 5, 2], [0, 1, 3], 'float64'], // runs of 2: all in the tail
    [[4, 9, 6], [0, 2], 'int32'],
    [[2, 3, 7], [1, 2], 'float32'], // two outputs
  ];
  let seed = 1;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (const [shape, axes, dtype] of cases) {
    const n = shape.reduce((p, q) => p * q, 1);
    const raw = Array.from({ length: n }, () => (dtype === 'int32' ? Math.round(next() * 1000) : next() * 10 ** Math.round(next() * 6)));
    const x = tensor(raw, { shape, dtype, device: 'cpu' });
    const values = Array.from(x.dataSync());
    const got = Array.from(x.sum(axes).dataSync());
    assert.deepEqual(got, expected(values, shape, axes, dtype), `${dtype} [${shape}] over [${axes}]`);
  }
});

test('outputs above 64 bytes start on a 64-byte boundary: slabs, large outputs, zeroed and recycled ones', { skip: SKIP }, async (t) => {
  const { addon } = await import('../src/backend/cpu/addon.js');
  const { tensor, zeros } = await import('../src/index.js');
  if (!addon?.addressMod64) {
    t.skip('the addon was built before addressMod64: nothing is aligned (npm install rebuilds it)');
    return;
  }
  const start = (x: Tensor) => {
    const data = (x as unknown as { _storage: { data: Float32Array } })._storage.data;
    return (addon.addressMod64!(data.buffer as ArrayBuffer) + data.byteOffset) % 64;
  };
  manualSeed(3);
  const outputs: Tensor[] = [];
  for (const n of [17, 100, 1000, 1025, 5000, 128 * 1024]) {
    const x = randn([n], { device: 'cpu' });
    outputs.push(x, x.relu(), zeros([n], { device: 'cpu' }).add(0), tensor(new Float32Array(n), { device: 'cpu' }));
  }
  // Gradients the engine consumed go back to the pool; the next outputs of their size reuse them.
  const w = randn([64, 64], { device: 'cpu' }).requiresGrad_();
  const h = randn([48, 64], { device: 'cpu' }).matmul(w).tanh();
  h.matmul(w).sigmoid().sum().backward();
  for (let k = 0; k < 4; k++) outputs.push(randn([48, 64], { device: 'cpu' }).mul(2), randn([64, 64], { device: 'cpu' }).add(1));
  const misaligned = outputs.map(start).filter((m) => m !== 0).length;
  assert.equal(misaligned, 0, `${misaligned} of ${outputs.length} outputs start between 64-byte boundaries`);
});

test('logSoftmax along the last axis: the shift max + log(sum) is not rounded to float32 before it is subtracted', { skip: SKIP }, () => {
  // Rows near 10 with spread 3: max + log(sum) is near 13, where a float32 ulp is about 1e-6, while
  // the outputs lie in [-8, 0]. Rounding that shift to float32 first cost up to half its ulp,
  // 4.8e-7 (11-15 ulps of an output near -0.5). What remains is the float32 sum of the
  // exponentials (a relative error of a few 1e-8, so an absolute one in log(sum)) and the output's
  // own rounding.
  manualSeed(11);
  for (const len of [104, 7, 1000]) {
    const x = randn([5, len]).mul(3).add(10);
    const cpu = x.logSoftmax(-1).dataSync();
    const ref = x.to('reference').logSoftmax(-1).dataSync();
    for (let i = 0; i < cpu.length; i++) {
      const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(ref[i]!), 2 ** -126))) - 23);
      const err = Math.abs(cpu[i]! - ref[i]!);
      assert.ok(err <= 2.4e-7 + ulp, `len ${len}, element ${i}: ${cpu[i]} vs ${ref[i]} (off by ${err.toExponential(2)})`);
    }
  }
});
