#!/usr/bin/python3
"""Writes test/fixtures/nn-layers.json: for each torch.nn layer of issue 4, its weights (PyTorch's own
default initialisation, under PyTorch's state_dict names), an input, the outputs, and the gradient of
every parameter and floating-point input, for loss = sum_k sum(output_k * w_k) with fixed random w_k.

test/nn-layers.test.ts builds the same layer with the milestones API (a table keyed by case name),
loads the weights through loadStateDict and compares everything in float32.

Weights and inputs are float32 values; PyTorch computes in float64 (the module converted with
.double()), a reference more exact than float32. Buffers that the forward pass updates (BatchNorm's
running statistics) are recorded after the pass under `stateAfter`.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_nn_fixtures.py
"""
import json
import os

import torch
import torch.nn as nn

torch.manual_seed(4)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'nn-layers.json')


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {'shape': list(t.shape), 'dtype': 'bool', 'data': [bool(v) for v in t.flatten().tolist()]}
    if t.dtype in (torch.int64, torch.int32):
        return {'shape': list(t.shape), 'dtype': 'int32', 'data': [int(v) for v in t.flatten().tolist()]}
    return {'shape': list(t.shape), 'dtype': 'float32', 'data': [float(v) for v in t.to(torch.float64).flatten().tolist()]}


def normal(*shape):
    """A float32-representable input, held in float64, that requires grad."""
    return torch.randn(*shape).to(torch.float64).requires_grad_(True)


def const(t):
    return t


def flatten_outputs(out):
    if isinstance(out, torch.Tensor):
        return [out]
    result = []
    for o in out:
        if o is not None:
            result.extend(flatten_outputs(o))
    return result


def case(name, module, inputs, train=True, extras=None, call=None):
    """Records one layer: its float32 weights, the inputs, outputs and gradients in float64.

    `inputs` is a flat list of tensors; `call(module, *inputs, **extras)` runs the layer (by default
    module(*inputs, **extras)); `extras` (masks, flags) are recorded too, so both sides use the same."""
    extras = extras or {}
    state = {k: enc(v) for k, v in module.state_dict().items()}
    module = module.double()
    module.train(train)
    call = call or (lambda m, *xs, **kw: m(*xs, **kw))
    outs = flatten_outputs(call(module, *inputs, **extras))
    weights = [torch.randn(o.shape).to(torch.float64) for o in outs]
    loss = sum((o * w).sum() for o, w in zip(outs, weights) if o.requires_grad)
    loss.backward()
    return {
        'name': name,
        'train': train,
        'state': state,
        'inputs': [enc(x) for x in inputs],
        'extras': {k: (enc(v) if isinstance(v, torch.Tensor) else v) for k, v in extras.items()},
        'outputs': [enc(o) for o in outs],
        'weights': [enc(w) for w in weights],
        'inputGrads': [enc(x.grad) if x.grad is not None else None for x in inputs],
        'paramGrads': {k: enc(p.grad) for k, p in module.named_parameters() if p.grad is not None},
        'stateAfter': {k: enc(v) for k, v in module.state_dict().items()},
    }


def f32(t):
    """float32-representable values held in float64 (constants that need no gradient)."""
    return t.to(torch.float32).to(torch.float64)


lstm_call = lambda m, x, h, c: m(x, (h, c))
self_attn = lambda m, x, **kw: m(x, x, x, **kw)

cases = []
add = cases.append

# ---- linear and convolution ----
add(case('linear', nn.Linear(5, 3), [normal(4, 5)]))
add(case('linear_nobias_3d', nn.Linear(4, 2, bias=False), [normal(2, 3, 4)]))
add(case('conv1d', nn.Conv1d(3, 4, 3, stride=2, padding=1), [normal(2, 3, 9)]))
add(case('conv2d', nn.Conv2d(3, 4, 3, padding=1), [normal(2, 3, 5, 5)]))
add(case('conv2d_stride_groups', nn.Conv2d(4, 6, (3, 2), stride=2, groups=2, dilation=(1, 2)), [normal(1, 4, 7, 8)]))
add(case('conv2d_reflect', nn.Conv2d(2, 3, 3, padding=1, padding_mode='reflect'), [normal(1, 2, 4, 5)]))
add(case('conv2d_same_dilated', nn.Conv2d(2, 2, 3, padding='same', dilation=2), [normal(1, 2, 5, 6)]))
add(case('conv_transpose2d', nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), [normal(2, 3, 3, 3)]))
add(case('conv_transpose2d_groups', nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2, bias=False), [normal(1, 4, 3, 2)]))

# ---- pooling ----
add(case('maxpool2d', nn.MaxPool2d(2), [normal(2, 3, 4, 6)]))
add(case('maxpool2d_overlap', nn.MaxPool2d(3, stride=2, padding=1), [normal(1, 2, 7, 7)]))
add(case('maxpool2d_ceil_dilation', nn.MaxPool2d(2, stride=2, dilation=2, ceil_mode=True), [normal(1, 2, 6, 7)]))
add(case('avgpool2d', nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), [normal(1, 2, 6, 5)]))
add(case('adaptive_avgpool2d', nn.AdaptiveAvgPool2d((2, 3)), [normal(2, 2, 5, 7)]))

# ---- normalisation ----
def bn_with_stats(m):
    """Non-default running statistics, so that eval mode shows it reads them."""
    with torch.no_grad():
        m.running_mean.copy_(torch.randn(m.num_features) * 0.5)
        m.running_var.copy_(torch.rand(m.num_features) + 0.5)
        if m.affine:
            m.weight.copy_(torch.rand(m.num_features) + 0.5)
            m.bias.copy_(torch.randn(m.num_features) * 0.1)
    return m


add(case('batchnorm1d_train', bn_with_stats(nn.BatchNorm1d(3)), [normal(5, 3)]))
add(case('batchnorm1d_3d_train', bn_with_stats(nn.BatchNorm1d(3, momentum=0.3)), [normal(4, 3, 2)]))
add(case('batchnorm1d_eval', bn_with_stats(nn.BatchNorm1d(3)), [normal(5, 3)], train=False))
add(case('batchnorm2d_train', bn_with_stats(nn.BatchNorm2d(3)), [normal(2, 3, 3, 4)]))
add(case('batchnorm2d_eval', bn_with_stats(nn.BatchNorm2d(3)), [normal(2, 3, 3, 4)], train=False))
add(case('batchnorm2d_noaffine', bn_with_stats(nn.BatchNorm2d(2, affine=False)), [normal(3, 2, 2, 2)]))
add(case('batchnorm2d_cumulative', bn_with_stats(nn.BatchNorm2d(2, momentum=None)), [normal(3, 2, 2, 2)]))
add(case('batchnorm2d_untracked_eval', nn.BatchNorm2d(2, track_running_stats=False), [normal(3, 2, 2, 2)], train=False))
ln = nn.LayerNorm([3, 4])
with torch.no_grad():
    ln.weight.copy_(torch.rand(3, 4) + 0.5)
    ln.bias.copy_(torch.randn(3, 4) * 0.1)
add(case('layernorm', ln, [normal(2, 3, 4)]))
add(case('layernorm_noaffine', nn.LayerNorm(5, elementwise_affine=False, eps=1e-3), [normal(3, 5)]))
gn = nn.GroupNorm(2, 4)
with torch.no_grad():
    gn.weight.copy_(torch.rand(4) + 0.5)
    gn.bias.copy_(torch.randn(4) * 0.1)
add(case('groupnorm', gn, [normal(2, 4, 3, 2)]))
add(case('local_response_norm', nn.LocalResponseNorm(3, alpha=0.1, beta=0.75, k=2.0), [normal(2, 5, 3, 3)]))

# ---- embedding, dropout in eval, shape modules ----
add(case('embedding', nn.Embedding(7, 3), [const(torch.tensor([[1, 4, 4], [0, 6, 2]]))]))
add(case('embedding_padding', nn.Embedding(6, 4, padding_idx=2), [const(torch.tensor([2, 0, 2, 5, 1]))]))
add(case('dropout_eval', nn.Dropout(0.5), [normal(3, 4)], train=False))
add(case('dropout2d_eval', nn.Dropout2d(0.5), [normal(2, 3, 2, 2)], train=False))
add(case('flatten', nn.Flatten(), [normal(2, 3, 2, 2)]))
add(case('unflatten', nn.Unflatten(1, (2, 3)), [normal(2, 6)]))
add(case('identity', nn.Identity(), [normal(2, 3)]))

# ---- activations ----
add(case('relu', nn.ReLU(), [normal(3, 4)]))
add(case('leaky_relu', nn.LeakyReLU(0.2), [normal(3, 4)]))
add(case('elu', nn.ELU(0.7), [normal(3, 4)]))
add(case('gelu', nn.GELU(), [normal(3, 4)]))
add(case('gelu_tanh', nn.GELU(approximate='tanh'), [normal(3, 4)]))
add(case('silu', nn.SiLU(), [normal(3, 4)]))
add(case('sigmoid', nn.Sigmoid(), [normal(3, 4)]))
add(case('tanh', nn.Tanh(), [normal(3, 4)]))
add(case('softplus', nn.Softplus(beta=2, threshold=1), [normal(3, 4)]))
add(case('softmax', nn.Softmax(dim=1), [normal(3, 4)]))
add(case('log_softmax', nn.LogSoftmax(dim=0), [normal(3, 4)]))

# ---- containers ----
seq = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4))
add(case('sequential_cnn', seq, [normal(2, 2, 4, 4)]))

# ---- recurrent ----
add(case('rnn_tanh', nn.RNN(3, 4), [normal(5, 2, 3)]))
add(case('rnn_relu_2layer_h0', nn.RNN(3, 4, num_layers=2, nonlinearity='relu'), [normal(4, 2, 3), normal(2, 2, 4)]))
add(case('lstm', nn.LSTM(3, 4), [normal(5, 2, 3)]))
add(case('lstm_2layer_bidir_batchfirst', nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
         [normal(2, 4, 3), normal(4, 2, 4), normal(4, 2, 4)], call=lstm_call))
add(case('lstm_unbatched_nobias', nn.LSTM(2, 3, bias=False), [normal(4, 2)]))
add(case('gru', nn.GRU(3, 4), [normal(5, 2, 3)]))
add(case('gru_2layer_bidir_batchfirst_h0', nn.GRU(2, 3, num_layers=2, bidirectional=True, batch_first=True),
         [normal(2, 4, 2), normal(4, 2, 3)]))
add(case('rnn_unbatched_h0', nn.RNN(2, 3, num_layers=2), [normal(4, 2), normal(2, 3)]))
add(case('gru_bidir_h0', nn.GRU(3, 2, bidirectional=True), [normal(4, 3, 3), normal(2, 3, 2)]))
add(case('gru_2layer_dropout_eval', nn.GRU(2, 3, num_layers=2, dropout=0.5), [normal(3, 2, 2)], train=False))
add(case('rnn_cell', nn.RNNCell(3, 4), [normal(2, 3), normal(2, 4)]))
add(case('lstm_cell', nn.LSTMCell(3, 4), [normal(2, 3), normal(2, 4), normal(2, 4)], call=lambda m, x, h, c: m(x, (h, c))))
add(case('gru_cell', nn.GRUCell(3, 4), [normal(2, 3), normal(2, 4)]))
add(case('gru_cell_nostate', nn.GRUCell(3, 2), [normal(3)]))

# ---- attention ----
def mha(**kw):
    m = nn.MultiheadAttention(**kw)
    with torch.no_grad():
        # The default zero biases would leave the bias gradients untested against nonzero values.
        if m.in_proj_bias is not None:
            m.in_proj_bias.copy_(torch.randn_like(m.in_proj_bias) * 0.1)
            m.out_proj.bias.copy_(torch.randn_like(m.out_proj.bias) * 0.1)
    return m


add(case('mha_self', mha(embed_dim=6, num_heads=2), [normal(4, 2, 6)], call=self_attn))
causal = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
pad = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
add(case('mha_cross_masks_batchfirst', mha(embed_dim=4, num_heads=2, batch_first=True),
         [normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 4)],
         extras={'attn_mask': torch.zeros(3, 5, dtype=torch.bool).index_fill_(1, torch.tensor([4]), True),
                 'key_padding_mask': pad}))
add(case('mha_float_mask_heads', mha(embed_dim=4, num_heads=2),
         [normal(3, 1, 4), normal(3, 1, 4), normal(3, 1, 4)],
         extras={'attn_mask': f32(torch.randn(3, 3)), 'average_attn_weights': False}))
add(case('mha_3d_bool_mask', mha(embed_dim=4, num_heads=2),
         [normal(3, 2, 4), normal(4, 2, 4), normal(4, 2, 4)],
         extras={'attn_mask': (torch.rand(4, 3, 4) < 0.3).index_fill_(2, torch.tensor([0]), False),  # key 0 always open
                 'key_padding_mask': torch.tensor([[False, False, True, False], [False, True, True, True]])}))
# torch 1.13 treats a float key_padding_mask as additive only when there is no attn_mask.
add(case('mha_float_padding', mha(embed_dim=4, num_heads=2),
         [normal(3, 2, 4), normal(4, 2, 4), normal(4, 2, 4)],
         extras={'key_padding_mask': f32(torch.randn(2, 4))}))
add(case('mha_unbatched', mha(embed_dim=4, num_heads=2), [normal(3, 4), normal(5, 4), normal(5, 4)]))
add(case('mha_kdim_vdim', mha(embed_dim=4, num_heads=1, kdim=3, vdim=5),
         [normal(2, 2, 4), normal(3, 2, 3), normal(3, 2, 5)], extras={'need_weights': False}))
add(case('mha_causal_nobias', nn.MultiheadAttention(4, 2, bias=False), [normal(3, 2, 4)],
         extras={'attn_mask': causal}, call=self_attn))

# ---- losses ----
logits = normal(4, 5)
target = torch.tensor([1, 0, 4, 2])
add(case('cross_entropy', nn.CrossEntropyLoss(), [logits, const(target)]))
add(case('cross_entropy_weight_ignore_smooth',
         nn.CrossEntropyLoss(weight=torch.rand(5) + 0.5, ignore_index=0, label_smoothing=0.1),
         [normal(4, 5), const(target)]))
add(case('cross_entropy_probs', nn.CrossEntropyLoss(label_smoothing=0.2),
         [normal(3, 4), f32(torch.softmax(torch.randn(3, 4), 1))]))
add(case('nll', nn.NLLLoss(reduction='sum'), [normal(4, 5), const(target)]))
add(case('mse', nn.MSELoss(), [normal(3, 4), const(f32(torch.randn(3, 4)))]))
add(case('l1_sum', nn.L1Loss(reduction='sum'), [normal(3, 4), const(f32(torch.randn(3, 4)))]))
add(case('smooth_l1', nn.SmoothL1Loss(beta=0.5), [normal(3, 4), const(f32(torch.randn(3, 4)))]))
add(case('huber', nn.HuberLoss(delta=0.7, reduction='none'), [normal(3, 4), const(f32(torch.randn(3, 4)))]))
add(case('bce_logits', nn.BCEWithLogitsLoss(pos_weight=torch.rand(4) + 0.5),
         [normal(3, 4), const(f32(torch.rand(3, 4)))]))
add(case('bce_logits_weight_sum', nn.BCEWithLogitsLoss(weight=torch.rand(3, 4) + 0.5, reduction='sum'),
         [normal(3, 4), const(f32(torch.rand(3, 4)))]))
add(case('bce', nn.BCELoss(), [f32(torch.rand(3, 4) * 0.9 + 0.05).requires_grad_(True), const(f32(torch.rand(3, 4)))]))
add(case('kl_div_batchmean', nn.KLDivLoss(reduction='batchmean'),
         [f32(torch.log_softmax(torch.randn(3, 4), 1)).requires_grad_(True), f32(torch.softmax(torch.randn(3, 4), 1))]))


doc = {'torch': torch.__version__, 'cases': cases}
with open(OUT, 'w') as f:
    json.dump(doc, f, separators=(',', ':'), allow_nan=False)
print(f'wrote {len(cases)} cases to {OUT} ({os.path.getsize(OUT) / 1024:.0f} KiB)')
