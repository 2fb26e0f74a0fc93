/**
 * nn.Module: how parts are found and named, state dicts, train/eval, to(), apply, zeroGrad, printing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, tensor, zeros, ones, randn, manualSeed, nn } from '../src/index.js';
import { assertClose } from './helpers.js';

/** A ResNet basic block, to check PyTorch's nested names (layer1.0.conv1.weight). */
class BasicBlock extends nn.Module {
  conv1 = new nn.Conv2d(2, 2, 3, { padding: 1, bias: false });
  bn1 = new nn.BatchNorm2d(2);
  conv2 = new nn.Conv2d(2, 2, 3, { padding: 1, bias: false });
  bn2 = new nn.BatchNorm2d(2);

  forward(x: Tensor): Tensor {
    const y = this.bn1.forward(this.conv1.forward(x)).relu();
    return this.bn2.forward(this.conv2.forward(y)).add(x).relu();
  }
}

class TinyResNet extends nn.Module {
  stem = new nn.Conv2d(1, 2, 3, { padding: 1 });
  layer1 = new nn.Sequential(new BasicBlock(), new BasicBlock());
  fc = new nn.Linear(2, 3);

  forward(x: Tensor): Tensor {
    const h = this.layer1.forward(this.stem.forward(x)); // [N, 2, H, W]
    return this.fc.forward(h.mean([2, 3])); // [N, 3]
  }
}

test('fields that hold modules and parameters are found in declaration order, with PyTorch names', () => {
  const m = new TinyResNet();
  const names = m.namedParameters().map(([n]) => n);
  assert.deepEqual(names, [
    'stem.weight',
    'stem.bias',
    'layer1.0.conv1.weight',
    'layer1.0.bn1.weight',
    'layer1.0.bn1.bias',
    'layer1.0.conv2.weight',
    'layer1.0.bn2.weight',
    'layer1.0.bn2.bias',
    'layer1.1.conv1.weight',
    'layer1.1.bn1.weight',
    'layer1.1.bn1.bias',
    'layer1.1.conv2.weight',
    'layer1.1.bn2.weight',
    'layer1.1.bn2.bias',
    'fc.weight',
    'fc.bias',
  ]);
  assert.deepEqual(
    m.namedBuffers().map(([n]) => n).slice(0, 3),
    ['layer1.0.bn1.running_mean', 'layer1.0.bn1.running_var', 'layer1.0.bn1.num_batches_tracked'],
  );
  // The state dict orders each module's parameters, then its buffers, then its children (as PyTorch).
  assert.deepEqual(Object.keys(m.stateDict()).slice(2, 9), [
    'layer1.0.conv1.weight',
    'layer1.0.bn1.weight',
    'layer1.0.bn1.bias',
    'layer1.0.bn1.running_mean',
    'layer1.0.bn1.running_var',
    'layer1.0.bn1.num_batches_tracked',
    'layer1.0.conv2.weight',
  ]);
  assert.deepEqual(m.namedChildren().map(([n]) => n), ['stem', 'layer1', 'fc']);
  assert.deepEqual(m.namedModules().map(([n]) => n).slice(0, 5), ['', 'stem', 'layer1', 'layer1.0', 'layer1.0.conv1']);
  assert.equal(m.modules().length, 1 + 1 + 1 + 2 * 5 + 1);
  assert.equal(m.parameters().length, 16);
  assert.ok(m.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf));
});

test('parameter counts: an MLP for MNIST has 784*256+256 + 256*10+10 parameters', () => {
  class Mlp extends nn.Module {
    fc1 = new nn.Linear(784, 256);
    fc2 = new nn.Linear(256, 10);
    forward(x: Tensor): Tensor {
      return this.fc2.forward(this.fc1.forward(x).relu());
    }
  }
  const m = new Mlp();
  assert.equal(m.numParameters(), 784 * 256 + 256 + 256 * 10 + 10);
  m.fc1.requiresGrad_(false);
  assert.equal(m.numParameters({ onlyTrainable: true }), 256 * 10 + 10);
  assert.deepEqual(m.forward(zeros([3, 784])).shape, [3, 10]);
});

test('a parameter shared by two modules (weight tying) is listed once but saved under both names', () => {
  class Tied extends nn.Module {
    wte = new nn.Embedding(5, 3);
    head = new nn.Linear(3, 5, { bias: false });
    constructor() {
      super();
      this.head.weight = this.wte.weight;
    }
  }
  const m = new Tied();
  assert.deepEqual(m.namedParameters().map(([n]) => n), ['wte.weight']);
  assert.deepEqual(Object.keys(m.stateDict()), ['wte.weight', 'head.weight']);
});

test('explicit registration: registered parameters, buffers (persistent or not) and modules', () => {
  class Custom extends nn.Module {
    scale = new nn.Parameter(ones([2]));
    constructor() {
      super();
      this.registerParameter('in_proj_weight', new nn.Parameter(zeros([2, 2])));
      this.registerParameter('in_proj_bias', null);
      this.registerBuffer('running_mean', zeros([2]));
      this.registerBuffer('cached_mask', ones([2]), false);
      this.registerModule('out_proj', new nn.Linear(2, 2));
    }
  }
  const m = new Custom();
  assert.deepEqual(m.namedParameters().map(([n]) => n), ['in_proj_weight', 'scale', 'out_proj.weight', 'out_proj.bias']);
  assert.deepEqual(m.namedBuffers().map(([n]) => n), ['running_mean', 'cached_mask']);
  assert.deepEqual(Object.keys(m.stateDict()), ['in_proj_weight', 'scale', 'running_mean', 'out_proj.weight', 'out_proj.bias']);
  assert.throws(() => m.registerBuffer('running_mean', zeros([1])), /'running_mean' is already part of Custom/);
  assert.throws(() => m.registerParameter('scale', null), /already part/);
  assert.throws(() => m.registerModule('a.b', new nn.ReLU()), /contain no '\.'/);
  assert.throws(() => m.registerParameter('w', zeros([1]) as nn.Parameter), /must be a Parameter/);
});

test('stateDict round trip: a second model loaded from the first computes the same outputs', () => {
  manualSeed(1);
  const a = new TinyResNet();
  const x = randn([2, 1, 4, 4]);
  a.forward(x); // moves the running statistics away from their initial values
  a.eval();
  const b = new TinyResNet();
  b.eval();
  assert.notDeepEqual(Array.from(b.forward(x).dataSync()), Array.from(a.forward(x).dataSync()));
  const result = b.loadStateDict(a.stateDict());
  assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
  assertClose(b.forward(x), a.forward(x), { atol: 0, rtol: 0 });
  assert.equal(b.stateDict()['layer1.0.bn1.num_batches_tracked']!.item(), 1);
  // Loading copies values: the two models do not share storage afterwards.
  a.fc.bias!.grad = null;
  const before = b.fc.bias!.toArray();
  a.stateDict()['fc.bias']!.add_(1);
  assert.deepEqual(b.fc.bias!.toArray(), before);
});

test('stateDict tensors share storage with the module and are detached', () => {
  const m = new nn.Linear(2, 2);
  const sd = m.stateDict();
  assert.equal(sd.weight!.requiresGrad, false);
  sd.bias!.fill_(7);
  assert.deepEqual(m.bias!.toArray(), [7, 7]);
});

test('strict loadStateDict lists the missing, unexpected and wrongly shaped keys in one error', () => {
  const m = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
  const sd = m.stateDict();
  const bad: Record<string, Tensor> = { ...sd, 'extra.weight': zeros([1]), '0.weight': zeros([2, 4]) };
  delete bad['1.running_var'];
  delete bad['0.bias'];
  assert.throws(
    () => m.loadStateDict(bad),
    (e: Error) => {
      assert.equal(
        e.message,
        'Error(s) in loading state_dict for Sequential:\n' +
          '\tMissing key(s) in state_dict: "0.bias", "1.running_var".\n' +
          '\tUnexpected key(s) in state_dict: "extra.weight".\n' +
          '\tsize mismatch for 0.weight: copying a param with shape [2, 4] from checkpoint, the shape in current model is [2, 3].',
      );
      return true;
    },
  );
  // Nothing was copied by the failed load.
  assert.deepEqual(m.stateDict()['0.weight']!.toArray(), sd['0.weight']!.toArray());
  // Non-strict: missing and unexpected keys are reported, the rest is loaded; shapes must still match.
  const partial = { '0.weight': ones([2, 3]), 'extra.weight': zeros([1]) };
  const r = m.loadStateDict(partial, { strict: false });
  assert.deepEqual(r.unexpectedKeys, ['extra.weight']);
  assert.deepEqual(r.missingKeys, ['0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
  assert.deepEqual((m.at(0) as nn.Linear).weight.toArray(), [[1, 1, 1], [1, 1, 1]]);
  assert.throws(() => m.loadStateDict({ '0.weight': ones([3, 2]) }, { strict: false }), /size mismatch for 0\.weight/);
});

test('train() and eval() switch every descendant; Dropout drops only in training', () => {
  manualSeed(3);
  const m = new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout(0.25));
  assert.equal(m.training, true);
  m.eval();
  assert.ok(m.modules().every((c) => !c.training));
  const x = ones([1000, 4]);
  const dropout = m.at(1);
  assertClose(dropout.forward(x), x, { atol: 0, rtol: 0 });
  m.train();
  assert.ok(m.modules().every((c) => c.training));
  const y = dropout.forward(x).dataSync();
  const zerosCount = Array.from(y).filter((v) => v === 0).length;
  // 4000 draws with p = 0.25: the zero fraction is within 5 standard deviations (0.034) of 0.25.
  assert.ok(Math.abs(zerosCount / 4000 - 0.25) < 0.034, `dropped ${zerosCount} of 4000`);
  assert.ok(Array.from(y).every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6), 'kept values are scaled by 1/(1-p)');
  // Dropout2d zeroes whole channels.
  const d2 = new nn.Dropout2d(0.5);
  const z = d2.forward(ones([4, 8, 3, 3])).reshape([32, 9]).toArray() as number[][];
  assert.ok(z.every((row) => row.every((v) => v === row[0])), 'each channel is all dropped or all kept');
});

test('BatchNorm: training updates running statistics and the counter; eval reads them and changes nothing', () => {
  const bn = new nn.BatchNorm2d(2, { momentum: 0.5 });
  const x = tensor([1, 3, 10, 30, 5, 7, 50, 70], { shape: [2, 2, 2, 1] });
  bn.forward(x);
  // channel 0 holds 1, 3, 5, 7: mean 4, unbiased variance 20/3.
  assertClose(bn.runningMean!, [0.5 * 4, 0.5 * 40]);
  assertClose(bn.runningVar!, [0.5 + 0.5 * (20 / 3), 0.5 + 0.5 * (2000 / 3)]);
  assert.equal(bn.numBatchesTracked!.item(), 1);
  bn.eval();
  const before = bn.stateDict();
  const snapshot = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.toArray()]));
  const y = bn.forward(x);
  assert.deepEqual(Object.fromEntries(Object.entries(bn.stateDict()).map(([k, v]) => [k, v.toArray()])), snapshot);
  const rm = bn.runningMean!.toArray() as number[];
  const rv = bn.runningVar!.toArray() as number[];
  assertClose(y.select(1, 0).flatten(), [1, 3, 5, 7].map((v) => (v - rm[0]!) / Math.sqrt(rv[0]! + 1e-5)));
  bn.resetRunningStats();
  assert.deepEqual(bn.runningMean!.toArray(), [0, 0]);
  assert.equal(bn.numBatchesTracked!.item(), 0);
});

test('Embedding paddingIdx: the row starts at zero and gets no gradient', () => {
  manualSeed(5);
  const e = new nn.Embedding(5, 3, { paddingIdx: -1 });
  assert.equal(e.paddingIdx, 4);
  assert.deepEqual(e.weight.select(0, 4).toArray(), [0, 0, 0]);
  assert.ok((e.weight.select(0, 0).abs().sum().item()) > 0);
  const idx = tensor([4, 1, 4, 1], { dtype: 'int32' });
  e.forward(idx).sum().backward();
  const g = e.weight.grad!.toArray() as number[][];
  assert.deepEqual(g[4], [0, 0, 0]);
  assert.deepEqual(g[1], [2, 2, 2]);
  assert.throws(() => new nn.Embedding(5, 3, { paddingIdx: 5 }), /paddingIdx/);
});

test('zeroGrad clears gradients; apply visits children before the parent', () => {
  const m = new TinyResNet();
  m.forward(randn([1, 1, 3, 3])).sum().backward();
  assert.ok(m.parameters().every((p) => p.grad !== null));
  m.zeroGrad();
  assert.ok(m.parameters().every((p) => p.grad === null));
  m.forward(randn([1, 1, 3, 3])).sum().backward();
  m.zeroGrad(false);
  assert.ok(m.parameters().every((p) => p.grad !== null && p.grad.abs().sum().item() === 0));
  const visited: string[] = [];
  new nn.Sequential(new nn.Linear(1, 1), new nn.ReLU()).apply((mod) => visited.push(mod.constructor.name));
  assert.deepEqual(visited, ['Linear', 'ReLU', 'Sequential']);
});

test('to(dtype) converts floating parameters and buffers, keeps the counter an integer', () => {
  const m = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
  const w = (m.at(0) as nn.Linear).weight.toArray();
  m.to('float64');
  for (const p of m.parameters()) {
    assert.equal(p.dtype, 'float64');
    assert.ok(p instanceof nn.Parameter && p.requiresGrad);
  }
  const sd = m.stateDict();
  assert.equal(sd['1.running_mean']!.dtype, 'float64');
  assert.equal(sd['1.num_batches_tracked']!.dtype, 'int32');
  assert.deepEqual((m.at(0) as nn.Linear).weight.toArray(), w);
  assert.equal(m.forward(ones([3, 2], { dtype: 'float64' })).dtype, 'float64');
  assert.throws(() => m.to('int32'), /floating-point/);
  m.to('reference');
  assert.equal(m.parameters()[0]!.device, 'reference');
});

test('ModuleList and ModuleDict register their items under PyTorch names', () => {
  class Stack extends nn.Module {
    blocks = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
    heads = new nn.ModuleDict({ cls: new nn.Linear(2, 3), reg: new nn.Linear(2, 1, { bias: false }) });
  }
  const m = new Stack();
  assert.deepEqual(m.namedParameters().map(([n]) => n), [
    'blocks.0.weight',
    'blocks.0.bias',
    'blocks.1.weight',
    'blocks.1.bias',
    'heads.cls.weight',
    'heads.cls.bias',
    'heads.reg.weight',
  ]);
  assert.equal(m.blocks.length, 2);
  assert.equal([...m.blocks].length, 2);
  assert.equal(m.heads.get('cls').outFeatures, 3);
  assert.throws(() => m.heads.get('nope'), /no module 'nope'/);
  assert.throws(() => m.blocks.at(2), /out of range/);
});

test('toString prints the module tree as PyTorch does', () => {
  const m = new nn.Sequential(
    new nn.Conv2d(3, 16, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(16),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(256, 10),
    new nn.Dropout(0.5),
  );
  // Printed by torch 1.13 for the same model.
  assert.equal(
    m.toString(),
    [
      'Sequential(',
      '  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)',
      '  (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
      '  (2): ReLU()',
      '  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
      '  (4): Flatten(start_dim=1, end_dim=-1)',
      '  (5): Linear(in_features=256, out_features=10, bias=True)',
      '  (6): Dropout(p=0.5, inplace=False)',
      ')',
    ].join('\n'),
  );
  assert.equal(new nn.LSTM(3, 4, { numLayers: 2, batchFirst: true }).toString(), 'LSTM(3, 4, num_layers=2, batch_first=True)');
  assert.equal(new nn.Embedding(10, 3, { paddingIdx: 0 }).toString(), 'Embedding(10, 3, padding_idx=0)');
  assert.equal(new nn.LayerNorm(5).toString(), 'LayerNorm((5,), eps=1e-05, elementwise_affine=True)');
});

test('RNN, LSTM, GRU and MultiheadAttention use PyTorch parameter names', () => {
  const lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true });
  const names = lstm.namedParameters().map(([n]) => n);
  assert.deepEqual(names.slice(0, 8), [
    'weight_ih_l0',
    'weight_hh_l0',
    'bias_ih_l0',
    'bias_hh_l0',
    'weight_ih_l0_reverse',
    'weight_hh_l0_reverse',
    'bias_ih_l0_reverse',
    'bias_hh_l0_reverse',
  ]);
  assert.equal(names.length, 16);
  // Gates stacked i, f, g, o: 4 * hidden rows; layer 2 reads both directions of layer 1.
  assert.deepEqual(lstm.stateDict().weight_ih_l1!.shape, [16, 8]);
  assert.deepEqual(new nn.GRU(3, 5).stateDict().weight_hh_l0!.shape, [15, 5]);
  const mha = new nn.MultiheadAttention(8, 2);
  assert.deepEqual(Object.keys(mha.stateDict()), ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
  const cross = new nn.MultiheadAttention(8, 2, { kdim: 3, vdim: 5, bias: false });
  assert.deepEqual(Object.keys(cross.stateDict()), ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'out_proj.weight']);
  assert.deepEqual(Object.keys(new nn.LSTMCell(2, 3).stateDict()), ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
});

test('recurrent layers drop between layers only in training, and check their inputs', () => {
  manualSeed(9);
  const gru = new nn.GRU(2, 3, { numLayers: 2, dropout: 0.5 });
  const x = randn([4, 2, 2]);
  gru.eval();
  const [a] = gru.forward(x);
  const [b] = gru.forward(x);
  assertClose(a, b, { atol: 0, rtol: 0 });
  gru.train();
  const [c] = gru.forward(x);
  assert.ok(Array.from(c.sub(a).abs().dataSync()).some((v) => v > 1e-6), 'training output differs from eval');
  assert.throws(() => gru.forward(randn([4, 2, 3])), /input size must be 2/);
  assert.throws(() => gru.forward(x, zeros([1, 2, 3])), /expected h0 of shape \[2, 2, 3\]/);
});
