/**
 * The native uniform draw (native/cpu/nn.cc philoxUniform: Philox4x32-10, eight blocks per AVX-512
 * vector and four vectors at a time, scalar blocks for the rest) against the reference backend's
 * draw, bit for bit: lengths that end inside a vector group, counters whose low word wraps inside
 * one, chunks dealt to several threads, and the portable path (MILESTONES_CPU_ISA=portable), which
 * must give the same bits. And dropout, which draws the same numbers inside one fused primitive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Generator, availableBackends, nn, rand, randn, where } from '../src/index.js';
import { run } from '../src/tensor/dispatch.js';

const HAVE_CPU = availableBackends().includes('cpu');
const SKIP = HAVE_CPU ? false : 'the native cpu backend is not built (npm install builds it)';
const DISPATCH = fileURLToPath(new URL('../src/tensor/dispatch.js', import.meta.url));

// [length, counter, key0, key1]: the counter is the first block's; each block gives four words.
const DRAWS: [number, number, number, number][] = [
  [1, 0, 1, 2],
  [127, 5, 3, 4], // one word short of a 32-block group: all scalar
  [128, 7, 5, 6], // exactly one group
  [129, 2 ** 32 - 40, 7, 8], // the low word wraps inside the first group
  [4096 * 4 * 2 + 13, 2 ** 32 - 5000, 9, 10], // several 4096-block chunks, a wrap, a ragged end
  [1000, 2 ** 40 - 5, 4294967295, 4294967295],
];

test('native uniform draws equal the reference bit for bit (float32 and float64)', { skip: SKIP }, () => {
  for (const [n, counter, k0, k1] of DRAWS)
    for (const dtype of ['float32', 'float64'] as const) {
      const attrs = { shape: [n], dtype, key: [k0, k1] as [number, number], counter };
      const cpu = run('randomUniform', [], attrs, 'cpu');
      const ref = run('randomUniform', [], attrs, 'reference');
      assert.equal(cpu.device, 'cpu');
      assert.equal(ref.device, 'reference');
      assert.deepEqual(cpu.dataSync(), ref.dataSync(), `${dtype} n ${n} counter ${counter}`);
    }
});

test('native uniform draws are the same for 1 and 3 threads, with AVX-512, AVX2 and portable code', { skip: SKIP }, () => {
  const code = `
    const { createHash } = await import('node:crypto');
    const { run } = await import(${JSON.stringify(DISPATCH)});
    const h = createHash('sha256');
    for (const [n, counter, k0, k1] of ${JSON.stringify(DRAWS)})
      for (const dtype of ['float32', 'float64'])
        h.update(new Uint8Array(run('randomUniform', [], { shape: [n], dtype, key: [k0, k1], counter }, 'cpu').dataSync().buffer));
    console.log(h.digest('hex'));
  `;
  const digests = new Set<string>();
  for (const isa of ['', 'avx2', 'portable'])
    for (const threads of ['1', '3']) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
        env: { ...process.env, MILESTONES_NUM_THREADS: threads, MILESTONES_CPU_ISA: isa },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout.trim(), /^[0-9a-f]{64}$/);
      digests.add(r.stdout.trim());
    }
  assert.equal(digests.size, 1, `digests differ: ${[...digests].join(', ')}`);
});

test('fused dropout equals rand(shape) >= p then where(keep, x / (1 - p), 0), from the same draw, bit for bit', () => {
  const devices = availableBackends().filter((d) => d === 'cpu' || d === 'reference');
  for (const device of devices)
    for (const dtype of ['float32', 'float64'] as const)
      for (const p of [0.2, 0.5, 0.9])
        for (const n of [7, 129, 5000]) {
          const x = randn([n], { dtype, device }).requiresGrad_();
          const g = randn([n], { dtype, device });
          const gen = new Generator().manualSeed(n + Math.round(10 * p));
          const state = gen.getState();
          const y = nn.functional.dropout(x, p, true, gen);
          y.backward(g);
          gen.setState(state);
          const keep = rand([n], { dtype, device, generator: gen }).ge(p);
          const want = where(keep, x.detach().div(1 - p), 0);
          const what = `${device} ${dtype} p ${p} n ${n}`;
          assert.deepEqual(y.detach().dataSync(), want.dataSync(), `values, ${what}`);
          assert.deepEqual(x.grad!.dataSync(), where(keep, g.div(1 - p), 0).dataSync(), `gradient, ${what}`);
        }
});
