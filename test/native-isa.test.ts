/**
 * The native kernels have one path per instruction set (native/cpu: AVX-512, AVX2 + FMA, portable
 * C++), chosen once by CPUID. The kernel tests run in this process on the widest one the CPU has;
 * here they run again in a child process with MILESTONES_CPU_ISA=avx2, so a machine with AVX-512
 * also checks the AVX2 paths (the GEMM's 8-lane tiles and packing, the direct convolution tiles,
 * the small convolution, Philox draws and dropout, the optimizer loops) against the reference
 * backend, and their results for 1 and 3 threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableBackends, describeBackend } from '../src/index.js';

const HAVE_CPU = availableBackends().includes('cpu');
const AVX2 = HAVE_CPU && /AVX-512F|AVX2/.test(describeBackend('cpu'));
const SKIP = !HAVE_CPU ? 'the native cpu backend is not built (npm install builds it)' : !AVX2 ? 'this CPU has no AVX2' : false;

const FILES = ['native-gemm', 'native-conv', 'native-conv-wide', 'native-philox', 'optim-fused', 'dqn-model'].map((f) =>
  fileURLToPath(new URL(`./${f}.test.js`, import.meta.url)),
);

test('the kernel tests pass on the AVX2 paths (MILESTONES_CPU_ISA=avx2)', { skip: SKIP }, () => {
  // A run of its own, not a child of this one (node:test marks its children with NODE_TEST_CONTEXT).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...FILES], {
    env: { ...env, MILESTONES_CPU_ISA: 'avx2', MILESTONES_NUM_THREADS: '2' },
    encoding: 'utf8',
  });
  const tail = (r.stdout + r.stderr).split('\n').slice(-40).join('\n');
  assert.equal(r.status, 0, tail);
  // The child really ran the AVX2 kernels, and ran tests.
  const probe = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import(${JSON.stringify(fileURLToPath(new URL('../src/index.js', import.meta.url)))}).then((m) => console.log(m.describeBackend('cpu')))`],
    { env: { ...process.env, MILESTONES_CPU_ISA: 'avx2' }, encoding: 'utf8' },
  );
  assert.match(probe.stdout, /AVX2\+FMA/);
  const passed = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
  assert.ok(passed >= 20, `only ${passed} tests passed in the child:\n${tail}`);
  assert.match(r.stdout, /^# fail 0$/m);
});
