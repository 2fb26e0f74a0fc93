/**
 * The fused geluTanhBackward primitive (GELU's tanh form differentiated in one pass) against
 * PyTorch (test/fixtures/gelu-tanh-backward.json, written by tools/reference/make_gelu_fixtures.py):
 * the input gradient through `x.gelu('tanh')`, in float64 and float32, and the second order (the
 * gradients of sum(gx * v) with respect to x and gy), on every backend.
 */
import { test } from 'node:test';
import { availableBackends, grad, tensor } from '../src/index.js';
import type { DType } from '../src/dtype.js';
import { run } from '../src/tensor/dispatch.js';
import { assertClose } from './helpers.js';
import { readFixture } from './parity-table.js';

interface Fixture {
  x: number[];
  gy: number[];
  v: number[];
  gx: number[];
  gx_float32: number[];
  grad_x_of_gx_dot_v: number[];
  grad_gy_of_gx_dot_v: number[];
}

const f = readFixture<Fixture>('gelu-tanh-backward.json');

for (const device of availableBackends()) {
  const load = (values: number[], dtype: DType, requiresGrad = false) => tensor(values, { dtype, device, requiresGrad });

  test(`geluTanh's gradient and its second order match PyTorch in float64 (${device})`, () => {
    const x = load(f.x, 'float64', true);
    const gy = load(f.gy, 'float64', true);
    const [gx] = grad([x.gelu('tanh')], [x], { gradOutputs: [gy], createGraph: true });
    assertClose(gx, load(f.gx, 'float64'), { atol: 1e-14, rtol: 1e-13 }, 'gx');
    assertClose(run('geluTanhBackward', [x, gy], {}), load(f.gx, 'float64'), { atol: 1e-14, rtol: 1e-13 }, 'the primitive');
    const [ggx, ggy] = grad([gx!.mul(load(f.v, 'float64')).sum()], [x, gy]);
    assertClose(ggx, load(f.grad_x_of_gx_dot_v, 'float64'), { atol: 1e-13, rtol: 1e-12 }, 'd(gx . v)/dx');
    assertClose(ggy, load(f.grad_gy_of_gx_dot_v, 'float64'), { atol: 1e-14, rtol: 1e-13 }, 'd(gx . v)/dgy');
  });

  test(`geluTanh's gradient matches PyTorch's float32 kernel (${device})`, () => {
    const x = load(f.x, 'float32', true);
    x.gelu('tanh').backward(load(f.gy, 'float32'));
    // PyTorch computes in float32 with its own tanh; ours in double, rounded once.
    assertClose(x.grad, load(f.gx_float32, 'float32'), { atol: 1e-6, rtol: 1e-5 }, 'gx (float32)');
    assertClose(x.grad, load(f.gx, 'float64'), { atol: 1e-7, rtol: 2 ** -23 }, 'gx against the float64 result');
  });
}
