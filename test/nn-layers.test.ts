/**
 * PyTorch parity for every nn layer: test/fixtures/nn-layers.json (tools/reference/make_nn_fixtures.py)
 * holds PyTorch's weights under PyTorch's names, inputs, outputs (computed in float64) and the gradients
 * of every parameter and input for loss = sum_k sum(out_k * w_k). Each layer is built here with the
 * milestones API, loaded by name through loadStateDict (strict), and compared in float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, tensor, zeros, nn } from '../src/index.js';
import { assertClose } from './helpers.js';

interface FixtureTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: (number | boolean)[];
}

interface LayerCase {
  name: string;
  train: boolean;
  state: Record<string, FixtureTensor>;
  inputs: FixtureTensor[];
  extras: Record<string, FixtureTensor | number | boolean>;
  outputs: FixtureTensor[];
  weights: FixtureTensor[];
  inputGrads: (FixtureTensor | null)[];
  paramGrads: Record<string, FixtureTensor>;
  stateAfter: Record<string, FixtureTensor>;
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/nn-layers.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: LayerCase[];
};

function load(t: FixtureTensor, requiresGrad = false): Tensor {
  return tensor(t.data as number[], { shape: t.shape, dtype: t.dtype, requiresGrad: requiresGrad && t.dtype === 'float32' });
}

type Extras = Record<string, Tensor>;
interface Entry {
  make: () => nn.Module;
  /** Runs the layer on the fixture's inputs; returns its tensor outputs in PyTorch's order. */
  call: (m: any, x: Tensor[], e: Extras) => Tensor[];
}

const one = (m: { forward(x: Tensor): Tensor }, x: Tensor[]) => [m.forward(x[0]!)];
const unary = (make: () => nn.Module): Entry => ({ make, call: (m, x) => one(m, x) });
const loss = (make: () => nn.Module): Entry => ({ make, call: (m, x) => [m.forward(x[0]!, x[1]!)] });
const rnn = (make: () => nn.Module): Entry => ({
  make,
  call: (m, x) => {
    const [out, h] = m.forward(x[0]!, x[1] ?? null) as [Tensor, Tensor];
    return [out, h];
  },
});
const lstm = (make: () => nn.Module): Entry => ({
  make,
  call: (m, x) => {
    const [out, [h, c]] = m.forward(x[0]!, x.length > 1 ? [x[1]!, x[2]!] : null) as [Tensor, [Tensor, Tensor]];
    return [out, h, c];
  },
});
/** MultiheadAttention: self-attention when the fixture has one input. */
const mha = (make: () => nn.Module, options: (e: Extras) => nn.AttentionCallOptions = () => ({})): Entry => ({
  make,
  call: (m, x, e) => {
    const [q, k, v] = x.length === 1 ? [x[0]!, x[0]!, x[0]!] : (x as [Tensor, Tensor, Tensor]);
    const [out, w] = (m as nn.MultiheadAttention).forward(q, k, v, options(e));
    return w ? [out, w] : [out];
  },
});

const LAYERS: Record<string, Entry> = {
  linear: unary(() => new nn.Linear(5, 3)),
  linear_nobias_3d: unary(() => new nn.Linear(4, 2, { bias: false })),
  conv1d: unary(() => new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1 })),
  conv2d: unary(() => new nn.Conv2d(3, 4, 3, { padding: 1 })),
  conv2d_stride_groups: unary(() => new nn.Conv2d(4, 6, [3, 2], { stride: 2, groups: 2, dilation: [1, 2] })),
  conv2d_reflect: unary(() => new nn.Conv2d(2, 3, 3, { padding: 1, paddingMode: 'reflect' })),
  conv2d_same_dilated: unary(() => new nn.Conv2d(2, 2, 3, { padding: 'same', dilation: 2 })),
  conv_transpose2d: unary(() => new nn.ConvTranspose2d(3, 2, 4, { stride: 2, padding: 1 })),
  conv_transpose2d_groups: unary(() => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, outputPadding: 1, groups: 2, bias: false })),
  maxpool2d: unary(() => new nn.MaxPool2d(2)),
  maxpool2d_overlap: unary(() => new nn.MaxPool2d(3, { stride: 2, padding: 1 })),
  maxpool2d_ceil_dilation: unary(() => new nn.MaxPool2d(2, { stride: 2, dilation: 2, ceilMode: true })),
  avgpool2d: unary(() => new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false })),
  adaptive_avgpool2d: unary(() => new nn.AdaptiveAvgPool2d([2, 3])),
  batchnorm1d_train: unary(() => new nn.BatchNorm1d(3)),
  batchnorm1d_3d_train: unary(() => new nn.BatchNorm1d(3, { momentum: 0.3 })),
  batchnorm1d_eval: unary(() => new nn.BatchNorm1d(3)),
  batchnorm2d_train: unary(() => new nn.BatchNorm2d(3)),
  batchnorm2d_eval: unary(() => new nn.BatchNorm2d(3)),
  batchnorm2d_noaffine: unary(() => new nn.BatchNorm2d(2, { affine: false })),
  batchnorm2d_cumulative: unary(() => new nn.BatchNorm2d(2, { momentum: null })),
  batchnorm2d_untracked_eval: unary(() => new nn.BatchNorm2d(2, { trackRunningStats: false })),
  layernorm: unary(() => new nn.LayerNorm([3, 4])),
  layernorm_noaffine: unary(() => new nn.LayerNorm(5, { elementwiseAffine: false, eps: 1e-3 })),
  groupnorm: unary(() => new nn.GroupNorm(2, 4)),
  local_response_norm: unary(() => new nn.LocalResponseNorm(3, 0.1, 0.75, 2)),
  embedding: unary(() => new nn.Embedding(7, 3)),
  embedding_padding: unary(() => new nn.Embedding(6, 4, { paddingIdx: 2 })),
  dropout_eval: unary(() => new nn.Dropout(0.5)),
  dropout2d_eval: unary(() => new nn.Dropout2d(0.5)),
  flatten: unary(() => new nn.Flatten()),
  unflatten: unary(() => new nn.Unflatten(1, [2, 3])),
  identity: unary(() => new nn.Identity()),
  relu: unary(() => new nn.ReLU()),
  leaky_relu: unary(() => new nn.LeakyReLU(0.2)),
  elu: unary(() => new nn.ELU(0.7)),
  gelu: unary(() => new nn.GELU()),
  gelu_tanh: unary(() => new nn.GELU('tanh')),
  silu: unary(() => new nn.SiLU()),
  sigmoid: unary(() => new nn.Sigmoid()),
  tanh: unary(() => new nn.Tanh()),
  softplus: unary(() => new nn.Softplus(2, 1)),
  softmax: unary(() => new nn.Softmax(1)),
  log_softmax: unary(() => new nn.LogSoftmax(0)),
  sequential_cnn: unary(
    () =>
      new nn.Sequential(
        new nn.Conv2d(2, 3, 3, { padding: 1 }),
        new nn.BatchNorm2d(3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(12, 4),
      ),
  ),
  rnn_tanh: rnn(() => new nn.RNN(3, 4)),
  rnn_relu_2layer_h0: rnn(() => new nn.RNN(3, 4, { numLayers: 2, nonlinearity: 'relu' })),
  lstm: lstm(() => new nn.LSTM(3, 4)),
  lstm_2layer_bidir_batchfirst: lstm(() => new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true })),
  lstm_unbatched_nobias: lstm(() => new nn.LSTM(2, 3, { bias: false })),
  gru: rnn(() => new nn.GRU(3, 4)),
  gru_2layer_bidir_batchfirst_h0: rnn(() => new nn.GRU(2, 3, { numLayers: 2, bidirectional: true, batchFirst: true })),
  rnn_unbatched_h0: rnn(() => new nn.RNN(2, 3, { numLayers: 2 })),
  gru_bidir_h0: rnn(() => new nn.GRU(3, 2, { bidirectional: true })),
  gru_2layer_dropout_eval: rnn(() => new nn.GRU(2, 3, { numLayers: 2, dropout: 0.5 })),
  rnn_cell: { make: () => new nn.RNNCell(3, 4), call: (m, x) => [m.forward(x[0]!, x[1]!)] },
  lstm_cell: { make: () => new nn.LSTMCell(3, 4), call: (m, x) => m.forward(x[0]!, [x[1]!, x[2]!]) },
  gru_cell: { make: () => new nn.GRUCell(3, 4), call: (m, x) => [m.forward(x[0]!, x[1]!)] },
  gru_cell_nostate: { make: () => new nn.GRUCell(3, 2), call: (m, x) => [m.forward(x[0]!)] },
  mha_self: mha(() => new nn.MultiheadAttention(6, 2)),
  mha_cross_masks_batchfirst: mha(
    () => new nn.MultiheadAttention(4, 2, { batchFirst: true }),
    (e) => ({ attnMask: e.attn_mask!, keyPaddingMask: e.key_padding_mask! }),
  ),
  mha_float_mask_heads: mha(
    () => new nn.MultiheadAttention(4, 2),
    (e) => ({ attnMask: e.attn_mask!, averageAttnWeights: false }),
  ),
  mha_3d_bool_mask: mha(
    () => new nn.MultiheadAttention(4, 2),
    (e) => ({ attnMask: e.attn_mask!, keyPaddingMask: e.key_padding_mask! }),
  ),
  mha_float_padding: mha(() => new nn.MultiheadAttention(4, 2), (e) => ({ keyPaddingMask: e.key_padding_mask! })),
  mha_unbatched: mha(() => new nn.MultiheadAttention(4, 2)),
  mha_kdim_vdim: mha(() => new nn.MultiheadAttention(4, 1, { kdim: 3, vdim: 5 }), () => ({ needWeights: false })),
  mha_causal_nobias: mha(() => new nn.MultiheadAttention(4, 2, { bias: false }), (e) => ({ attnMask: e.attn_mask! })),
  // Loss weights are buffers, as in PyTorch: built with placeholders, then loaded from the state dict.
  cross_entropy: loss(() => new nn.CrossEntropyLoss()),
  cross_entropy_weight_ignore_smooth: loss(
    () => new nn.CrossEntropyLoss({ weight: tensor([0, 0, 0, 0, 0]), ignoreIndex: 0, labelSmoothing: 0.1 }),
  ),
  cross_entropy_probs: loss(() => new nn.CrossEntropyLoss({ labelSmoothing: 0.2 })),
  nll: loss(() => new nn.NLLLoss({ reduction: 'sum' })),
  mse: loss(() => new nn.MSELoss()),
  l1_sum: loss(() => new nn.L1Loss({ reduction: 'sum' })),
  smooth_l1: loss(() => new nn.SmoothL1Loss({ beta: 0.5 })),
  huber: loss(() => new nn.HuberLoss({ delta: 0.7, reduction: 'none' })),
  bce_logits: loss(() => new nn.BCEWithLogitsLoss({ posWeight: tensor([0, 0, 0, 0]) })),
  bce_logits_weight_sum: loss(() => new nn.BCEWithLogitsLoss({ weight: zeros([3, 4]), reduction: 'sum' })),
  bce: loss(() => new nn.BCELoss()),
  kl_div_batchmean: loss(() => new nn.KLDivLoss({ reduction: 'batchmean' })),
};

const TOL = { atol: 1e-5, rtol: 1e-4 };

test(`the fixture was written by PyTorch and every case has a layer here (${fixture.cases.length} cases)`, () => {
  assert.ok(fixture.torch.length > 0);
  const missing = fixture.cases.map((c) => c.name).filter((n) => !(n in LAYERS));
  assert.deepEqual(missing, []);
  assert.equal(fixture.cases.length, Object.keys(LAYERS).length);
});

for (const c of fixture.cases) {
  test(`nn parity: ${c.name}`, () => {
    const entry = LAYERS[c.name]!;
    const m = entry.make();
    // Our state dict has exactly PyTorch's keys, in PyTorch's order.
    assert.deepEqual(Object.keys(m.stateDict()), Object.keys(c.state), 'state dict keys');
    const state: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(c.state)) state[k] = load(v);
    m.loadStateDict(state);
    m.train(c.train);
    const inputs = c.inputs.map((t) => load(t, true));
    const extras: Extras = {};
    for (const [k, v] of Object.entries(c.extras)) if (typeof v === 'object') extras[k] = load(v);
    const outs = entry.call(m, inputs, extras);
    assert.equal(outs.length, c.outputs.length, 'number of outputs');
    let total: Tensor | null = null;
    outs.forEach((o, k) => {
      assert.deepEqual([...o.shape], c.outputs[k]!.shape, `output ${k} shape`);
      assertClose(o, c.outputs[k]!.data, TOL, `output ${k}`);
      if (!o.requiresGrad) return;
      const term = o.mul(load(c.weights[k]!)).sum();
      total = total ? total.add(term) : term;
    });
    if (total) (total as Tensor).backward();
    c.inputGrads.forEach((g, i) => {
      if (!g) return;
      assert.ok(inputs[i]!.grad, `input ${i} got no gradient`);
      assertClose(inputs[i]!.grad, g.data, TOL, `input ${i} gradient`);
    });
    const params = new Map(m.namedParameters());
    for (const [name, g] of Object.entries(c.paramGrads)) {
      const p = params.get(name);
      assert.ok(p, `no parameter ${name}`);
      assert.ok(p.grad, `${name} got no gradient`);
      assertClose(p.grad, g.data, TOL, `${name} gradient`);
    }
    for (const [name, p] of params) {
      if (!(name in c.paramGrads)) assert.ok(p.grad === null || p.grad.abs().sum().item() === 0, `${name} should get no gradient`);
    }
    // Buffers after the pass: running statistics and the batch counter.
    const after = m.stateDict();
    for (const [name, t] of Object.entries(c.stateAfter)) assertClose(after[name], t.data, TOL, `${name} after forward`);
  });
}
