/**
 * PyTorch parity for every op of issue 2, forward and backward, in float32 through the public API.
 *
 * test/fixtures/ops.json is written by tools/reference/make_op_fixtures.py: inputs (float32-
 * representable), PyTorch's float64 outputs, and the input gradients of sum_k sum(out_k * w_k).
 * Every case runs on every available backend (the reference first), as the default device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, availableBackends, setDefaultDevice, tensor } from '../src/index.js';
import { assertClose, type Tolerance } from './helpers.js';
import { type FixtureCase, fromFixture, num, outputsOf, readFixture } from './parity-table.js';

const fixture = readFixture<{ torch: string; cases: FixtureCase[] }>('ops.json');

/**
 * float32 tolerances for every case. No case needs more: the reference kernels accumulate in
 * float64 and round once, so even the long reductions and the double-backward penalties stay
 * within a few float32 ulps of PyTorch's float64 values.
 */
const TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };

test(`the fixture was written by PyTorch and covers the op table (${fixture.cases.length} cases)`, () => {
  assert.ok(fixture.torch.length > 0);
  assert.ok(fixture.cases.length >= 150);
});

for (const device of availableBackends()) {
  for (const c of fixture.cases) {
    test(`parity [${device}]: ${c.name} (${c.op})`, () => {
      setDefaultDevice(device);
      const tol = TOL;
      const inputs = c.inputs.map((t) => fromFixture(t, 'float32'));
      const outs = outputsOf(c.op, inputs, c.args);
      assert.equal(outs.length, c.outputs.length, 'number of outputs');
      let loss: Tensor | null = null;
      outs.forEach((o, k) => {
        const e = c.outputs[k]!;
        assert.deepEqual([...o.shape], e.shape, `output ${k} shape`);
        assert.equal(o.dtype, e.dtype, `output ${k} dtype`);
        if (e.dtype === 'float32') assertClose(o, e.data.map(num), tol, `output ${k}`);
        else assert.deepEqual(Array.from(o.dataSync()), e.data, `output ${k} values`);
        const w = c.weights[k];
        if (w) {
          assert.ok(o.requiresGrad, `output ${k} should require grad`);
          const term = o.mul(tensor(w.map(num), { shape: e.shape }));
          loss = loss ? loss.add(term.sum()) : term.sum();
        } else if (e.dtype === 'float32' && c.inputs.some((t) => t.grad)) {
          // PyTorch gives this output no gradient (running statistics); ours must not track one either.
          assert.ok(!o.requiresGrad, `output ${k} should not require grad`);
        }
      });
      if (!loss) return;
      (loss as Tensor).backward();
      c.inputs.forEach((t, i) => {
        const g = c.grads[i];
        if (!g) return;
        const x = inputs[i]!;
        assert.ok(x.grad, `input ${i} got no gradient`);
        assertClose(x.grad, g.map(num), tol, `grad of input ${i}`);
      });
    });
  }
}
