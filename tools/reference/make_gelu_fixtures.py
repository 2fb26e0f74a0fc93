#!/usr/bin/python3
"""Writes test/fixtures/gelu-tanh-backward.json: PyTorch's GELU with the tanh approximation
(F.gelu(x, approximate='tanh'), GPT-2's gelu_new) differentiated once and twice, for
test/gelu-tanh-backward.test.ts, which checks the fused geluTanhBackward primitive against it.

For float32 inputs x and output gradients gy: gx (aten's gelu_backward, in float64 and in float32),
and the second order, the gradients of sum(gx * v) with respect to x and gy.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_gelu_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(17)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'gelu-tanh-backward.json')

# The edges of the function (0, tiny, the kink-free middle, the saturated tails) and random values.
edges = [0.0, 1e-6, -1e-6, 1e-3, -1e-3, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 4.0, -4.0, 6.0, -6.0, 9.0, -9.0, 20.0, -20.0]
x = torch.cat([torch.tensor(edges), torch.randn(45) * 3]).to(torch.float32).to(torch.float64)
gy = torch.randn(x.shape).to(torch.float32).to(torch.float64)
v = torch.randn(x.shape).to(torch.float32).to(torch.float64)

xg = x.clone().requires_grad_(True)
gyg = gy.clone().requires_grad_(True)
(gx,) = torch.autograd.grad(F.gelu(xg, approximate='tanh'), xg, gyg, create_graph=True)
ggx, ggy = torch.autograd.grad((gx * v).sum(), (xg, gyg))
gx32 = torch.ops.aten.gelu_backward(gy.to(torch.float32), x.to(torch.float32), approximate='tanh')


def enc(t):
    return [float(a) for a in t.detach().to(torch.float64).flatten().tolist()]


with open(OUT, 'w') as f:
    json.dump({
        'torch': torch.__version__,
        'x': enc(x), 'gy': enc(gy), 'v': enc(v),
        'gx': enc(gx), 'gx_float32': enc(gx32),
        'grad_x_of_gx_dot_v': enc(ggx), 'grad_gy_of_gx_dot_v': enc(ggy),
    }, f)
print('wrote', OUT)
