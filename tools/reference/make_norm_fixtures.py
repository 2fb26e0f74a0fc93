#!/usr/bin/python3
"""Writes test/fixtures/norm.json: batch norm (training), layer norm, softmax and log-softmax, each with
its inputs, an output gradient gy, the output, every first-order gradient, and a second-order one
(the gradient of sum(gx * v) with respect to the input x and, where there is one, the weight),
for test/norm.test.ts, which checks the fused primitives (src/autograd/norm-rules.ts) against them.

Inputs are float32 values; PyTorch computes in float64. Batch norm also records the running
statistics after one training step (momentum 0.1, starting from PyTorch's 0 and 1).

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_norm_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(10)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'norm.json')


def enc(t):
    t = t.detach().to(torch.float64)
    return {'shape': list(t.shape), 'data': [float(v) for v in t.flatten().tolist()]}


def f32(*shape, scale=1.0, shift=0.0):
    """A float32-representable tensor held in float64."""
    return (torch.randn(*shape) * scale + shift).to(torch.float32).to(torch.float64)


def case(name, kind, args, x, weight, bias, forward, extra=None):
    x = x.clone().requires_grad_(True)
    params = [p.clone().requires_grad_(True) if p is not None else None for p in (weight, bias)]
    y = forward(x, *params)
    gy = f32(*y.shape)
    v = f32(*x.shape)
    leaves = [x] + [p for p in params if p is not None]
    grads = torch.autograd.grad(y, leaves, gy, create_graph=True)
    # Second order: d/d(x, weight) of sum(gx * v).
    second_leaves = [x] + ([params[0]] if params[0] is not None else [])
    second = torch.autograd.grad((grads[0] * v).sum(), second_leaves, allow_unused=True)
    out = {
        'name': name,
        'kind': kind,
        'args': args,
        'x': enc(x),
        'weight': enc(weight) if weight is not None else None,
        'bias': enc(bias) if bias is not None else None,
        'gy': enc(gy),
        'v': enc(v),
        'y': enc(y),
        'gx': enc(grads[0]),
        'gweight': enc(grads[1]) if weight is not None else None,
        'gbias': enc(grads[2]) if bias is not None else None,
        'ggx': enc(second[0]),
        'ggweight': enc(second[1]) if weight is not None and second[1] is not None else None,
    }
    if extra:
        out.update(extra)
    return out


cases = []


def batch_norm(name, shape, affine=True, scale=2.0, shift=1.0):
    C = shape[1]
    x = f32(*shape, scale=scale, shift=shift)
    w = f32(C) if affine else None
    b = f32(C) if affine else None
    rm = torch.zeros(C, dtype=torch.float64)
    rv = torch.ones(C, dtype=torch.float64)
    fwd = lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    c = case(name, 'batchNorm', {'eps': 1e-5, 'momentum': 0.1}, x, w, b, fwd)
    # case() ran the forward once, so the running statistics moved by one step.
    c['runningMean'] = enc(rm)
    c['runningVar'] = enc(rv)
    cases.append(c)


batch_norm('batchNorm2d', (4, 3, 5, 5))
batch_norm('batchNorm1d_features', (6, 4), scale=0.5, shift=-3.0)
batch_norm('batchNorm1d_sequence', (3, 2, 7))
batch_norm('batchNorm2d_noaffine_1x1', (5, 1, 1, 1), affine=False)


def layer_norm(name, shape, normalized, affine=True):
    x = f32(*shape, scale=1.5, shift=0.5)
    w = f32(*normalized) if affine else None
    b = f32(*normalized) if affine else None
    fwd = lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-5)
    cases.append(case(name, 'layerNorm', {'normalizedShape': list(normalized), 'eps': 1e-5}, x, w, b, fwd))


layer_norm('layerNorm_last', (3, 4, 6), (6,))
layer_norm('layerNorm_two', (2, 3, 4, 5), (4, 5))
layer_norm('layerNorm_noaffine', (5, 9), (9,), affine=False)
layer_norm('layerNorm_one_row', (7,), (7,))

for kind, fn in (('softmax', torch.softmax), ('logSoftmax', torch.log_softmax)):
    for name, shape, dim in ((kind + '_last', (5, 7), -1), (kind + '_middle', (3, 4, 5), 1), (kind + '_first', (6, 3), 0)):
        x = f32(*shape, scale=2.0)
        cases.append(case(name, kind, {'dim': dim}, x, None, None, lambda x, w, b, fn=fn, dim=dim: fn(x, dim)))

with open(OUT, 'w') as f:
    json.dump({'cases': cases}, f, separators=(',', ':'), allow_nan=False)
print(f'wrote {len(cases)} cases to {OUT} ({os.path.getsize(OUT)} bytes)')
