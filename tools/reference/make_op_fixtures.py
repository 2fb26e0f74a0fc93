#!/usr/bin/python3
"""Writes test/fixtures/ops.json: PyTorch's forward values and input gradients for every op of
issue 2, on small random inputs (size-1 dimensions, broadcasting and odd sizes included).

Each case names an op of the table below; test/parity-ops.test.ts has the same table written
with the milestones API. Inputs are drawn in float64 and rounded to float32-representable values,
so both sides start from identical numbers; PyTorch then computes in float64, giving a reference
more exact than float32. The backward pass is that of loss = sum_k sum(output_k * w_k) with fixed
random weights w_k, one per differentiable output.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_op_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'ops.json')


def f32(t):
    """Rounds a float64 tensor to float32-representable values (kept in float64)."""
    return t.to(torch.float32).to(torch.float64)


# ---- input specs: what each input of a case is made of ----

def normal(*shape, scale=1.0):
    return ('normal', list(shape), scale)


def uniform(lo, hi, *shape):
    return ('uniform', list(shape), lo, hi)


def index(lo, hi, *shape):
    return ('index', list(shape), lo, hi)


def mask(*shape):
    return ('mask', list(shape))


def const(t):
    """A fixed input (no gradient)."""
    return ('const', t)


def halves(lo, hi, *shape):
    """Multiples of 0.5 in [lo, hi]: float inputs with deliberate ties, for comparisons."""
    return ('halves', list(shape), lo, hi)


def make(spec):
    kind = spec[0]
    if kind == 'normal':
        return f32(torch.randn(spec[1], dtype=torch.float64) * spec[2]), True
    if kind == 'uniform':
        lo, hi = spec[2], spec[3]
        return f32(torch.rand(spec[1], dtype=torch.float64) * (hi - lo) + lo), True
    if kind == 'halves':
        lo, hi = spec[2], spec[3]
        return torch.randint(int(lo * 2), int(hi * 2) + 1, spec[1]).to(torch.float64) / 2, False
    if kind == 'index':
        return torch.randint(spec[2], spec[3], spec[1], dtype=torch.int64), False
    if kind == 'mask':
        return torch.rand(spec[1]) < 0.5, False
    if kind == 'const':
        t = spec[1]
        return (f32(t) if t.is_floating_point() else t), False
    raise ValueError(kind)


def dtype_name(t):
    if t.dtype == torch.bool:
        return 'bool'
    if t.is_floating_point():
        return 'float32'
    return 'int32'


def values(t):
    if t.dtype == torch.bool:
        return [1 if v else 0 for v in t.reshape(-1).tolist()]
    if t.is_floating_point():
        return [float('%.9g' % v) if math.isfinite(v) else str(v) for v in t.reshape(-1).tolist()]
    return [int(v) for v in t.reshape(-1).tolist()]


def encode(t):
    return {'shape': list(t.shape), 'dtype': dtype_name(t), 'data': values(t)}


CASES = []


def case(name, op, inputs, args=None, grad=None):
    """grad: which inputs get a gradient (default: every float input drawn at random)."""
    CASES.append((name, op, inputs, args or {}, grad))


# ---- the op table: op name -> function of (inputs, args) in PyTorch ----

def gp_matmul(x, w):
    """A WGAN-GP style penalty: (||d f / d x||_2 - 1)^2 averaged over rows, f = sum(tanh(x w))."""
    y = torch.tanh(x @ w)
    g, = torch.autograd.grad(y.sum(), x, create_graph=True)
    return ((g.norm(2, dim=1) - 1) ** 2).mean()


def gp_conv2d(x, w):
    y = torch.tanh(F.conv2d(x, w, padding=1))
    g, = torch.autograd.grad((y * y).sum(), x, create_graph=True)
    return (g * g).sum()


def gp_mlp(x, w1, b1, w2):
    """A penalty through linear, gelu, layer norm, softmax and logsumexp (their rules differentiated)."""
    h = F.layer_norm(F.gelu(F.linear(x, w1, b1)), [w1.shape[0]])
    y = (F.linear(h, w2).softmax(-1) * h[:, :w2.shape[0]]).sum(-1) + h.logsumexp(-1)
    g, = torch.autograd.grad(y.sum(), x, create_graph=True)
    return (g.pow(2).sum(1) + 1e-6).sqrt().mean()


def grad_of_prod(x):
    """The gradient of prod along dim 1 as a differentiable function (double backward at zeros)."""
    g, = torch.autograd.grad(x.prod(1).sum(), x, create_graph=True)
    return g


def batch_norm_train(x, rm, rv, w, b, momentum):
    rm = rm.clone()
    rv = rv.clone()
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum, eps=1e-5)
    return y, rm, rv


OPS = {
    # elementwise, one input
    'neg': lambda x: -x,
    'exp': lambda x: x.exp(),
    'log': lambda x: x.log(),
    'log1p': lambda x: x.log1p(),
    'sqrt': lambda x: x.sqrt(),
    'rsqrt': lambda x: x.rsqrt(),
    'abs': lambda x: x.abs(),
    'sign': lambda x: x.sign(),
    'sin': lambda x: x.sin(),
    'cos': lambda x: x.cos(),
    'tanh': lambda x: x.tanh(),
    'sigmoid': lambda x: x.sigmoid(),
    'erf': lambda x: x.erf(),
    'relu': lambda x: x.relu(),
    'leakyRelu': lambda x, slope: F.leaky_relu(x, slope),
    'elu': lambda x, alpha: F.elu(x, alpha),
    'gelu': lambda x: F.gelu(x),
    'geluTanh': lambda x: F.gelu(x, approximate='tanh'),
    'silu': lambda x: F.silu(x),
    'softplus': lambda x, beta, threshold: F.softplus(x, beta, threshold),
    'clamp': lambda x, min, max: x.clamp(min, max),
    'square': lambda x: x.square(),
    'reciprocal': lambda x: x.reciprocal(),
    'floor': lambda x: x.floor(),
    'remainder': lambda a, b: torch.remainder(a, b),
    'fmod': lambda a, b: torch.fmod(a, b),
    'ceil': lambda x: x.ceil(),
    'trunc': lambda x: x.trunc(),
    'round': lambda x: x.round(),
    # elementwise, two or three inputs
    'add': lambda a, b: a + b,
    'addAlpha': lambda a, b: torch.add(a, b, alpha=2.5),
    'sub': lambda a, b: a - b,
    'mul': lambda a, b: a * b,
    'div': lambda a, b: a / b,
    'pow': lambda a, b: a ** b,
    'powScalar': lambda a, p: a ** p,
    'rpowScalar': lambda a: a * 0 + 2.0 ** a,
    'addScalar': lambda a: a + 1.5,
    'maximum': lambda a, b: torch.maximum(a, b),
    'minimum': lambda a, b: torch.minimum(a, b),
    'where': lambda c, a, b: torch.where(c, a, b),
    'eq': lambda a, b: a == b,
    'ne': lambda a, b: a != b,
    'lt': lambda a, b: a < b,
    'le': lambda a, b: a <= b,
    'gt': lambda a, b: a > b,
    'ge': lambda a, b: a >= b,
    'logicalAnd': lambda a, b: a.logical_and(b),
    'logicalOr': lambda a, b: a.logical_or(b),
    'logicalXor': lambda a, b: a.logical_xor(b),
    'logicalNot': lambda a: a.logical_not(),
    'maskedFill': lambda x, m, value: x.masked_fill(m, value),
    # reductions
    'sum': lambda x, dim=None, keepdim=False: x.sum() if dim is None else x.sum(dim, keepdim=keepdim),
    'mean': lambda x, dim=None, keepdim=False: x.mean() if dim is None else x.mean(dim, keepdim=keepdim),
    'var': lambda x, dim=None, correction=1, keepdim=False: torch.var(x, dim, correction=correction, keepdim=keepdim),
    'std': lambda x, dim=None, correction=1, keepdim=False: torch.std(x, dim, correction=correction, keepdim=keepdim),
    'prod': lambda x, dim=None, keepdim=False: x.prod() if dim is None else x.prod(dim, keepdim=keepdim),
    'amax': lambda x, dim, keepdim=False: x.amax(dim, keepdim=keepdim),
    'amin': lambda x, dim, keepdim=False: x.amin(dim, keepdim=keepdim),
    'maxAll': lambda x: x.max(),
    'minAll': lambda x: x.min(),
    'maxDim': lambda x, dim, keepdim=False: tuple(x.max(dim, keepdim=keepdim)),
    'minDim': lambda x, dim, keepdim=False: tuple(x.min(dim, keepdim=keepdim)),
    'argmax': lambda x, dim=None, keepdim=False: x.argmax() if dim is None else x.argmax(dim, keepdim=keepdim),
    'argmin': lambda x, dim=None, keepdim=False: x.argmin() if dim is None else x.argmin(dim, keepdim=keepdim),
    'logsumexp': lambda x, dim, keepdim=False: x.logsumexp(dim, keepdim=keepdim),
    'norm': lambda x, p, dim=None, keepdim=False: torch.linalg.vector_norm(x, float(p), dim, keepdim=keepdim),
    'cumsum': lambda x, dim: x.cumsum(dim),
    'renorm': lambda x, p, dim, maxnorm: x.renorm(p, dim, maxnorm),
    # linear algebra
    'matmul': lambda a, b: a @ b,
    'linear': lambda x, w, b=None: F.linear(x, w, b),
    # shape
    'reshape': lambda x, shape: x.reshape(shape),
    'view': lambda x, shape: x.view(shape),
    'permute': lambda x, dims: x.permute(dims),
    'transpose': lambda x, d0, d1: x.transpose(d0, d1),
    'mT': lambda x: x.mT,
    'T': lambda x: x.permute(*reversed(range(x.ndim))),
    'expand': lambda x, shape: x.expand(shape),
    'squeeze': lambda x, dim=None: x.squeeze() if dim is None else x.squeeze(dim),
    'unsqueeze': lambda x, dim: x.unsqueeze(dim),
    'flatten': lambda x, start=0, end=-1: x.flatten(start, end),
    'cat': lambda *xs, dim: torch.cat(xs, dim),
    'stack': lambda *xs, dim: torch.stack(xs, dim),
    'split': lambda x, size, dim: tuple(x.split(size, dim)),
    'chunk': lambda x, chunks, dim: tuple(x.chunk(chunks, dim)),
    'slice': lambda x, spec: x[tuple(slice(*s) if isinstance(s, list) else s for s in spec)],
    'narrow': lambda x, dim, start, length: x.narrow(dim, start, length),
    'select': lambda x, dim, index: x.select(dim, index),
    'pad': lambda x, pads, mode, value=0.0: F.pad(x, pads, mode, value) if mode == 'constant' else F.pad(x, pads, mode),
    'flip': lambda x, dims: x.flip(dims),
    'repeat': lambda x, repeats: x.repeat(repeats),
    'tril': lambda x, diagonal=0: x.tril(diagonal),
    'triu': lambda x, diagonal=0: x.triu(diagonal),
    # indexing
    'indexSelect': lambda x, i, dim: x.index_select(dim, i),
    'gather': lambda x, i, dim: x.gather(dim, i),
    'scatter': lambda x, i, s, dim: x.scatter(dim, i, s),
    'scatterAdd': lambda x, i, s, dim: x.scatter_add(dim, i, s),
    'embedding': lambda i, w: F.embedding(i, w),
    'oneHot': lambda i, n: F.one_hot(i, n),
    'topk': lambda x, k, dim=-1, largest=True: tuple(x.topk(k, dim, largest)),
    'sort': lambda x, dim=-1, descending=False: tuple(x.sort(dim, descending)),
    'argsort': lambda x, dim=-1, descending=False: x.argsort(dim, descending),
    # nn.functional
    'softmax': lambda x, dim: x.softmax(dim),
    'logSoftmax': lambda x, dim: x.log_softmax(dim),
    'conv1d': lambda x, w, b=None, **o: F.conv1d(x, w, b, **o),
    'conv2d': lambda x, w, b=None, **o: F.conv2d(x, w, b, **o),
    'convTranspose2d': lambda x, w, b=None, **o: F.conv_transpose2d(x, w, b, **o),
    'maxPool2d': lambda x, k, **o: tuple(F.max_pool2d(x, k, return_indices=True, **o)),
    'avgPool2d': lambda x, k, **o: F.avg_pool2d(x, k, **o),
    'adaptiveAvgPool2d': lambda x, size: F.adaptive_avg_pool2d(x, size),
    'batchNormTrain': batch_norm_train,
    'batchNormEval': lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5),
    'layerNorm': lambda x, w, b, shape: F.layer_norm(x, shape, w, b, eps=1e-5),
    'layerNormPlain': lambda x, shape: F.layer_norm(x, shape, eps=1e-5),
    'groupNorm': lambda x, w, b, groups: F.group_norm(x, groups, w, b, eps=1e-5),
    'binaryCrossEntropy': lambda x, t, reduction='mean': F.binary_cross_entropy(x, t, reduction=reduction),
    'localResponseNorm': lambda x, size, alpha, beta, k: F.local_response_norm(x, size, alpha, beta, k),
    'interpolate': lambda x, **o: F.interpolate(x, **o),
    'crossEntropy': lambda x, t, w=None, **o: F.cross_entropy(x, t, w, **o),
    'nllLoss': lambda x, t, w=None, **o: F.nll_loss(x, t, w, **o),
    'mseLoss': lambda a, b, reduction='mean': F.mse_loss(a, b, reduction=reduction),
    'l1Loss': lambda a, b, reduction='mean': F.l1_loss(a, b, reduction=reduction),
    'smoothL1Loss': lambda a, b, reduction='mean', beta=1.0: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
    'huberLoss': lambda a, b, reduction='mean', delta=1.0: F.huber_loss(a, b, reduction=reduction, delta=delta),
    'bceWithLogits': lambda x, t, w=None, pw=None, reduction='mean': F.binary_cross_entropy_with_logits(
        x, t, w, reduction=reduction, pos_weight=pw),
    'klDiv': lambda x, t, reduction='mean', logTarget=False: F.kl_div(x, t, reduction=reduction, log_target=logTarget),
    'cosineSimilarity': lambda a, b, dim=1: F.cosine_similarity(a, b, dim),
    # double backward
    'gpMatmul': gp_matmul,
    'gpConv2d': gp_conv2d,
    'gpMlp': gp_mlp,
    'gradOfProd': grad_of_prod,
}

# ---- the cases ----

U = [2, 3, 1]  # a shape with a size-1 dimension
for op in ['neg', 'exp', 'abs', 'sign', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'relu', 'gelu', 'geluTanh',
           'silu', 'square', 'floor']:
    case(op, op, [normal(*U, scale=1.5)])
for op in ['log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal']:
    case(op, op, [uniform(0.2, 3, 3, 5)])
case('leakyRelu', 'leakyRelu', [normal(3, 5)], {'slope': 0.1})
case('elu', 'elu', [normal(3, 5)], {'alpha': 1.5})
case('softplus', 'softplus', [normal(4, 5, scale=2)], {'beta': 2, 'threshold': 3})
case('clamp', 'clamp', [normal(3, 5)], {'min': -0.5, 'max': 0.7})
case('clamp_min', 'clamp', [normal(3, 5)], {'min': -0.2, 'max': None})
case('clamp_max', 'clamp', [normal(3, 5)], {'min': None, 'max': 0.1})

for op in ['add', 'sub', 'mul', 'maximum', 'minimum', 'addAlpha']:
    case(op + '_broadcast', op, [normal(2, 3, 1), normal(4)])
case('add_scalar_tensor', 'add', [normal(3, 4), normal()])
case('addScalar', 'addScalar', [normal(3, 1)])
case('div_broadcast', 'div', [normal(2, 1, 4), uniform(0.5, 2, 3, 1)])
case('pow', 'pow', [uniform(0.5, 2, 3, 4), normal(4)])
case('powScalar', 'powScalar', [uniform(0.5, 2, 3, 4)], {'p': 2.5})
case('powScalar_int', 'powScalar', [normal(3, 4)], {'p': 3})
case('rpowScalar', 'rpowScalar', [normal(3, 4)])
case('where', 'where', [mask(2, 1, 4), normal(3, 1), normal(2, 3, 4)])
for op in ['eq', 'ne', 'lt', 'le', 'gt', 'ge']:
    case(op, op, [halves(-1, 1, 2, 3, 4), halves(-1, 1, 3, 1)])
for op in ['logicalAnd', 'logicalOr', 'logicalXor']:
    case(op, op, [mask(3, 4), mask(4)])
case('logicalNot', 'logicalNot', [mask(2, 5)])
case('maskedFill', 'maskedFill', [normal(2, 3, 4), mask(3, 1)], {'value': -2.5})

X = [3, 1, 4, 5]
case('sum_all', 'sum', [normal(*X)])
case('sum_axes', 'sum', [normal(*X)], {'dim': [0, 2]})
case('sum_keepdim', 'sum', [normal(*X)], {'dim': [-1, 1], 'keepdim': True})
case('mean_all', 'mean', [normal(*X)])
case('mean_axes', 'mean', [normal(*X)], {'dim': [0, 3], 'keepdim': True})
case('var_default', 'var', [normal(*X)], {'dim': [2]})
case('var_c0_keepdim', 'var', [normal(*X)], {'dim': [0, 2], 'correction': 0, 'keepdim': True})
case('var_c2', 'var', [normal(*X)], {'dim': [3], 'correction': 2})
case('var_all', 'var', [normal(3, 4)])
case('std_default', 'std', [normal(*X)], {'dim': [3]})
case('std_c0', 'std', [normal(*X)], {'dim': [0, 1, 2], 'correction': 0, 'keepdim': True})
case('prod_axis', 'prod', [uniform(0.5, 1.5, 3, 4)], {'dim': 1})
case('prod_all', 'prod', [uniform(0.5, 1.5, 2, 3)])
case('prod_with_zero', 'prod', [const(torch.tensor([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]]))], {'dim': 1},
     grad=[True])
case('prod_two_zeros', 'prod', [const(torch.tensor([[0.0, 0.0, 2.0], [0.5, -1.0, 0.0]]))], {'dim': 1},
     grad=[True])
case('amax_axes', 'amax', [normal(*X)], {'dim': [1, 3]})
case('amin_keepdim', 'amin', [normal(*X)], {'dim': [0], 'keepdim': True})
case('amax_ties', 'amax', [const(torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))], {'dim': [1]}, grad=[True])
case('maxAll', 'maxAll', [normal(3, 4)])
case('minAll', 'minAll', [normal(3, 4)])
case('maxDim', 'maxDim', [normal(3, 4, 5)], {'dim': 1})
case('maxDim_keepdim', 'maxDim', [normal(3, 4, 5)], {'dim': -1, 'keepdim': True})
case('minDim', 'minDim', [normal(3, 4, 5)], {'dim': 0})
case('argmax_all', 'argmax', [normal(3, 4, 5)])
case('argmax_dim', 'argmax', [normal(3, 4, 5)], {'dim': 2})
case('argmin_keepdim', 'argmin', [normal(3, 4, 5)], {'dim': 1, 'keepdim': True})
case('logsumexp', 'logsumexp', [normal(*X, scale=3)], {'dim': [1, 3]})
case('logsumexp_keepdim', 'logsumexp', [normal(3, 7, scale=3)], {'dim': -1, 'keepdim': True})
case('norm2_all', 'norm', [normal(3, 4)], {'p': 2})
case('norm2_dim', 'norm', [normal(*X)], {'p': 2, 'dim': [2, 3], 'keepdim': True})
case('norm1', 'norm', [normal(3, 4)], {'p': 1, 'dim': [1]})
case('norm3', 'norm', [normal(3, 4)], {'p': 3, 'dim': [0]})
case('normInf', 'norm', [normal(3, 4)], {'p': 'inf', 'dim': [1]})
case('norm2_zero_row', 'norm', [const(torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]))], {'p': 2, 'dim': [1]},
     grad=[True])
case('norm3_zero_row', 'norm', [const(torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]))], {'p': 3, 'dim': [1]},
     grad=[True])
case('cosineSimilarity_zero', 'cosineSimilarity', [const(torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])),
                                                   const(torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]]))],
     {'dim': 1}, grad=[True, True])
case('cumsum', 'cumsum', [normal(3, 4, 2)], {'dim': 1})
case('cumsum_neg', 'cumsum', [normal(5)], {'dim': -1})

case('matmul_2d', 'matmul', [normal(3, 4), normal(4, 5)])
case('matmul_vec_mat', 'matmul', [normal(4), normal(4, 5)])
case('matmul_mat_vec', 'matmul', [normal(3, 4), normal(4)])
case('matmul_dot', 'matmul', [normal(4), normal(4)])
case('matmul_batched', 'matmul', [normal(2, 3, 4), normal(2, 4, 5)])
case('matmul_broadcast', 'matmul', [normal(2, 1, 3, 4), normal(5, 4, 2)])
case('matmul_batch_mat', 'matmul', [normal(2, 3, 4), normal(4, 5)])
case('matmul_vec_batch', 'matmul', [normal(4), normal(2, 4, 3)])
case('matmul_batch_vec', 'matmul', [normal(2, 3, 4), normal(4)])
case('matmul_nonfinite', 'matmul', [const(torch.tensor([[0.0, 1.0], [2.0, 0.0]])),
                                     const(torch.tensor([[float('nan'), 1.0], [float('inf'), 2.0]]))])
case('linear', 'linear', [normal(2, 3, 4), normal(5, 4), normal(5)])

case('reshape', 'reshape', [normal(2, 3, 4)], {'shape': [4, -1]})
case('view', 'view', [normal(2, 3, 4)], {'shape': [-1]})
case('permute', 'permute', [normal(2, 3, 4)], {'dims': [2, 0, 1]})
case('transpose', 'transpose', [normal(2, 3, 4)], {'d0': 0, 'd1': -1})
case('mT', 'mT', [normal(2, 3, 4)])
case('T', 'T', [normal(2, 3, 4)])
case('expand', 'expand', [normal(3, 1)], {'shape': [2, 3, 4]})
case('expand_keep', 'expand', [normal(1, 4)], {'shape': [3, -1]})
case('squeeze_all', 'squeeze', [normal(1, 3, 1, 2)])
case('squeeze_dim', 'squeeze', [normal(1, 3, 1, 2)], {'dim': 2})
case('unsqueeze', 'unsqueeze', [normal(3, 2)], {'dim': -1})
case('flatten', 'flatten', [normal(2, 3, 4, 1)], {'start': 1, 'end': 2})
case('cat', 'cat', [normal(2, 3), normal(2, 1), normal(2, 4)], {'dim': 1})
case('cat_neg', 'cat', [normal(1, 2, 3), normal(3, 2, 3)], {'dim': 0})
case('stack', 'stack', [normal(2, 3), normal(2, 3), normal(2, 3)], {'dim': -1})
case('split_int', 'split', [normal(7, 2)], {'size': 3, 'dim': 0})
case('split_sizes', 'split', [normal(2, 6)], {'size': [1, 3, 2], 'dim': 1})
case('chunk', 'chunk', [normal(2, 7)], {'chunks': 3, 'dim': -1})
case('slice_steps', 'slice', [normal(5, 6, 3)], {'spec': [[1, None, 2], [None, None, 3], 1]})
case('slice_negative', 'slice', [normal(5, 6)], {'spec': [[-3, None], [1, -1, 2]]})
case('narrow', 'narrow', [normal(3, 5)], {'dim': 1, 'start': 1, 'length': 3})
case('select', 'select', [normal(3, 5)], {'dim': 0, 'index': -1})
case('pad_constant', 'pad', [normal(2, 3, 4)], {'pads': [1, 2, 0, 1], 'mode': 'constant', 'value': 1.5})
case('pad_reflect', 'pad', [normal(1, 2, 4, 5)], {'pads': [2, 1, 3, 1], 'mode': 'reflect'})
case('flip', 'flip', [normal(2, 3, 4)], {'dims': [0, 2]})
case('repeat', 'repeat', [normal(2, 3)], {'repeats': [2, 1, 3]})
case('tril', 'tril', [normal(2, 4, 5)], {'diagonal': -1})
case('triu', 'triu', [normal(4, 3)], {'diagonal': 1})

case('indexSelect', 'indexSelect', [normal(4, 3, 2), index(0, 3, 5)], {'dim': 1})
case('gather', 'gather', [normal(3, 5), index(0, 5, 3, 4)], {'dim': 1})
case('gather_dim0', 'gather', [normal(4, 3), index(0, 4, 2, 3)], {'dim': 0})
# scatter with distinct indices per row (duplicates make torch.scatter's result unspecified)
case('scatter', 'scatter', [normal(3, 5), const(torch.stack([torch.randperm(5)[:3] for _ in range(2)])),
                            normal(2, 3)], {"dim": 1}, grad=[True, False, True])
case('scatterAdd', 'scatterAdd', [normal(3, 5), index(0, 3, 2, 5), normal(2, 5)], {'dim': 0})
case('embedding', 'embedding', [index(0, 6, 2, 3), normal(6, 4)])
case('oneHot', 'oneHot', [index(0, 5, 2, 3)], {'n': 5})
case('oneHot_infer', 'oneHot', [const(torch.tensor([[1, 3], [0, 2]]))], {'n': -1})
case('topk', 'topk', [normal(3, 6)], {'k': 3})
case('topk_smallest', 'topk', [normal(5, 3)], {'k': 2, 'dim': 0, 'largest': False})
case('sort', 'sort', [normal(3, 5)])
case('sort_desc', 'sort', [normal(4, 3)], {'dim': 0, 'descending': True})
case('argsort', 'argsort', [normal(3, 5)], {'dim': 1, 'descending': True})

case('softmax', 'softmax', [normal(2, 3, 4, scale=2)], {'dim': 1})
case('softmax_last', 'softmax', [normal(3, 5, scale=2)], {'dim': -1})
case('logSoftmax', 'logSoftmax', [normal(2, 3, 4, scale=2)], {'dim': -1})
case('conv1d', 'conv1d', [normal(2, 4, 9), normal(6, 2, 3), normal(6)],
     {'stride': 2, 'padding': 1, 'dilation': 2, 'groups': 2})
case('conv2d_basic', 'conv2d', [normal(2, 3, 5, 6), normal(4, 3, 3, 3), normal(4)])
case('conv2d_stride_pad', 'conv2d', [normal(1, 2, 7, 6), normal(3, 2, 3, 2)], {'stride': (2, 1), 'padding': (1, 2)})
case('conv2d_dilation', 'conv2d', [normal(2, 2, 7, 7), normal(2, 2, 3, 3)], {'dilation': 2, 'padding': 1})
case('conv2d_groups', 'conv2d', [normal(1, 4, 5, 5), normal(6, 2, 3, 1), normal(6)],
     {'groups': 2, 'stride': 2, 'padding': 1})
case('conv2d_depthwise', 'conv2d', [normal(2, 3, 4, 4), normal(3, 1, 2, 2)], {'groups': 3})
case('conv2d_same', 'conv2d', [normal(1, 2, 5, 6), normal(2, 2, 4, 3)], {'padding': 'same'})
case('convTranspose2d', 'convTranspose2d', [normal(2, 3, 3, 4), normal(3, 2, 3, 3), normal(2)],
     {'stride': 2, 'padding': 1, 'output_padding': 1})
case('convTranspose2d_groups', 'convTranspose2d', [normal(1, 4, 3, 3), normal(4, 1, 2, 3)],
     {'stride': (1, 2), 'groups': 2, 'dilation': (2, 1)})
case('convTranspose2d_outpad_dilation', 'convTranspose2d', [normal(1, 2, 3, 3), normal(2, 2, 2, 4), normal(2)],
     {'stride': (1, 3), 'padding': (1, 1), 'output_padding': (1, 1), 'dilation': (2, 1)})
case('maxPool2d', 'maxPool2d', [normal(2, 2, 7, 6)], {'k': 3, 'stride': 2, 'padding': 1})
case('maxPool2d_ceil', 'maxPool2d', [normal(1, 2, 6, 7)], {'k': 2, 'ceil_mode': True})
case('maxPool2d_dilation', 'maxPool2d', [normal(1, 1, 7, 7)], {'k': 2, 'stride': 1, 'dilation': 2})
case('avgPool2d', 'avgPool2d', [normal(2, 2, 6, 7)], {'k': 3, 'stride': 2, 'padding': 1})
case('avgPool2d_nopad', 'avgPool2d', [normal(1, 2, 6, 7)],
     {'k': 3, 'stride': 2, 'padding': 1, 'count_include_pad': False, 'ceil_mode': True})
case('avgPool2d_divisor', 'avgPool2d', [normal(1, 2, 4, 4)], {'k': 2, 'divisor_override': 3})
case('adaptiveAvgPool2d', 'adaptiveAvgPool2d', [normal(2, 3, 5, 7)], {'size': [3, 2]})
case('adaptiveAvgPool2d_1', 'adaptiveAvgPool2d', [normal(2, 3, 4, 4)], {'size': [1, 1]})
BN_C = 3
case('batchNormTrain', 'batchNormTrain',
     [normal(4, BN_C, 2, 3), normal(BN_C, scale=0.1), uniform(0.5, 1.5, BN_C), normal(BN_C), normal(BN_C)],
     {'momentum': 0.1}, grad=[True, False, False, True, True])
case('batchNormTrain_2d', 'batchNormTrain',
     [normal(5, BN_C), normal(BN_C, scale=0.1), uniform(0.5, 1.5, BN_C), normal(BN_C), normal(BN_C)],
     {'momentum': 0.3}, grad=[True, False, False, True, True])
case('batchNormEval', 'batchNormEval',
     [normal(4, BN_C, 2, 3), normal(BN_C, scale=0.1), uniform(0.5, 1.5, BN_C), normal(BN_C), normal(BN_C)],
     grad=[True, False, False, True, True])
case('layerNorm', 'layerNorm', [normal(2, 3, 4, 5), normal(4, 5), normal(4, 5)], {'shape': [4, 5]})
case('layerNorm_1d', 'layerNorm', [normal(3, 6, scale=3), normal(6), normal(6)], {'shape': [6]})
case('localResponseNorm', 'localResponseNorm', [normal(2, 6, 3, 2)], {'size': 3, 'alpha': 0.5, 'beta': 0.75, 'k': 1.5})
case('localResponseNorm_even', 'localResponseNorm', [normal(1, 5, 4)], {'size': 4, 'alpha': 1e-2, 'beta': 0.6, 'k': 2.0})
case('interp_nearest_size', 'interpolate', [normal(1, 2, 3, 4)], {'size': [5, 7], 'mode': 'nearest'})
case('interp_nearest_scale', 'interpolate', [normal(1, 2, 3, 4)], {'scale_factor': 2, 'mode': 'nearest'})
case('interp_nearest_down', 'interpolate', [normal(1, 1, 7, 5)], {'size': [3, 2], 'mode': 'nearest'})
case('interp_bilinear', 'interpolate', [normal(2, 2, 3, 4)], {'size': [5, 7], 'mode': 'bilinear', 'align_corners': False})
case('interp_bilinear_ac', 'interpolate', [normal(2, 2, 3, 4)], {'size': [5, 7], 'mode': 'bilinear', 'align_corners': True})
case('interp_bilinear_scale', 'interpolate', [normal(1, 2, 3, 3)],
     {'scale_factor': 2, 'mode': 'bilinear', 'align_corners': False})
case('interp_bilinear_down', 'interpolate', [normal(1, 1, 6, 7)], {'size': [4, 3], 'mode': 'bilinear', 'align_corners': False})

ce_t = const(torch.tensor([1, 0, 4, 2, 1]))
case('ce_mean', 'crossEntropy', [normal(5, 5, scale=2), ce_t])
case('ce_sum', 'crossEntropy', [normal(5, 5, scale=2), ce_t], {'reduction': 'sum'})
case('ce_none', 'crossEntropy', [normal(5, 5, scale=2), ce_t], {'reduction': 'none'})
case('ce_weight', 'crossEntropy', [normal(5, 5, scale=2), ce_t, uniform(0.2, 2, 5)], grad=[True, False, False])
case('ce_ignore', 'crossEntropy', [normal(5, 5, scale=2), ce_t], {'ignore_index': 1})
case('ce_smoothing', 'crossEntropy', [normal(5, 5, scale=2), ce_t], {'label_smoothing': 0.2})
case('ce_smoothing_weight_ignore', 'crossEntropy', [normal(5, 5, scale=2), ce_t, uniform(0.2, 2, 5)],
     {'label_smoothing': 0.3, 'ignore_index': 4}, grad=[True, False, False])
case('ce_smoothing_weight_sum', 'crossEntropy', [normal(5, 5, scale=2), ce_t, uniform(0.2, 2, 5)],
     {'label_smoothing': 0.1, 'reduction': 'sum'}, grad=[True, False, False])
case('ce_smoothing_none', 'crossEntropy', [normal(5, 5, scale=2), ce_t],
     {'label_smoothing': 0.25, 'reduction': 'none', 'ignore_index': 0})
case('ce_probs', 'crossEntropy', [normal(4, 3), const(torch.softmax(torch.randn(4, 3, dtype=torch.float64), 1))])
case('ce_probs_weight_smooth', 'crossEntropy',
     [normal(4, 3), const(torch.softmax(torch.randn(4, 3, dtype=torch.float64), 1)), uniform(0.2, 2, 3)],
     {'label_smoothing': 0.2}, grad=[True, False, False])
case('ce_probs_none', 'crossEntropy', [normal(4, 3), const(torch.softmax(torch.randn(4, 3, dtype=torch.float64), 1))],
     {'reduction': 'none'})
case('nll_kdim_sum', 'nllLoss', [normal(2, 3, 4), index(0, 3, 2, 4)], {'reduction': 'sum'})
case('ce_kdim', 'crossEntropy', [normal(2, 4, 3, 2), index(0, 4, 2, 3, 2)])
case('ce_kdim_weight_none', 'crossEntropy', [normal(2, 4, 3), index(0, 4, 2, 3), uniform(0.2, 2, 4)],
     {'reduction': 'none'}, grad=[True, False, False])
case('ce_unbatched', 'crossEntropy', [normal(5), const(torch.tensor(3))])
case('nll_mean', 'nllLoss', [normal(6, 4), index(0, 4, 6)])
case('nll_weight_ignore', 'nllLoss', [normal(6, 4), const(torch.tensor([0, 1, 2, 3, 1, 2])), uniform(0.2, 2, 4)],
     {'ignore_index': 2}, grad=[True, False, False])
case('nll_none', 'nllLoss', [normal(6, 4), index(0, 4, 6)], {'reduction': 'none'})
for r in ['mean', 'sum', 'none']:
    case('mse_' + r, 'mseLoss', [normal(3, 4), normal(3, 4)], {'reduction': r})
    case('l1_' + r, 'l1Loss', [normal(3, 4), normal(3, 4)], {'reduction': r})
case('smoothL1', 'smoothL1Loss', [normal(4, 5), normal(4, 5)], {'beta': 0.5})
case('smoothL1_sum', 'smoothL1Loss', [normal(4, 5), normal(4, 5)], {'reduction': 'sum'})
case('huber', 'huberLoss', [normal(4, 5), normal(4, 5)], {'delta': 0.7})
case('huber_none', 'huberLoss', [normal(4, 5, scale=2), normal(4, 5)], {'reduction': 'none', 'delta': 1.5})
case('bce', 'bceWithLogits', [normal(3, 4, scale=3), uniform(0, 1, 3, 4)])
case('bce_posweight', 'bceWithLogits', [normal(3, 4, scale=3), uniform(0, 1, 3, 4), uniform(0.5, 2, 3, 4),
                                         uniform(0.5, 3, 4)], {'reduction': 'sum'}, grad=[True, True, False, False])
case('klDiv_batchmean', 'klDiv', [('logsoftmax', [3, 4]), const(torch.softmax(torch.randn(3, 4, dtype=torch.float64), 1))],
     {'reduction': 'batchmean'})
case('klDiv_logtarget', 'klDiv', [('logsoftmax', [3, 4]), ('logsoftmax', [3, 4])],
     {'reduction': 'sum', 'logTarget': True})
case('klDiv_mean_zero', 'klDiv', [('logsoftmax', [2, 3]), const(torch.tensor([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]))])
case('cosineSimilarity', 'cosineSimilarity', [normal(3, 5), normal(3, 5)])
case('cosineSimilarity_bcast', 'cosineSimilarity', [normal(2, 4, 3), normal(4, 1)], {'dim': 1})

# conventions at ties and kinks (PyTorch's choice of subgradient)
case('relu_at_zero', 'relu', [const(torch.tensor([-1.0, 0.0, 2.0]))], grad=[True])
case('abs_at_zero', 'abs', [const(torch.tensor([-1.0, 0.0, 2.0]))], grad=[True])
case('clamp_at_bounds', 'clamp', [const(torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]))], {'min': -0.5, 'max': 0.5},
     grad=[True])
case('maximum_ties', 'maximum', [const(torch.tensor([1.0, 2.0, 3.0])), const(torch.tensor([1.0, 0.0, 3.0]))],
     grad=[True, True])
case('maxAll_ties', 'maxAll', [const(torch.tensor([[1.0, 3.0], [3.0, 0.0]]))], grad=[True])
case('leakyRelu_at_zero', 'leakyRelu', [const(torch.tensor([-1.0, 0.0, 2.0]))], {'slope': 0.2}, grad=[True])
# non-finite inputs
case('sign_nonfinite', 'sign', [const(torch.tensor([float('nan'), float('inf'), -float('inf'), 0.0, -2.0]))])
case('unary_nonfinite', 'sigmoid', [const(torch.tensor([float('nan'), float('inf'), -float('inf'), 0.0]))])
# integer and bool inputs
case('sum_int', 'sum', [index(-5, 5, 3, 4)], {'dim': [1]})
case('cumsum_int', 'cumsum', [index(-5, 5, 3, 4)], {'dim': 0})
case('argmax_int', 'argmax', [index(-50, 50, 3, 4)], {'dim': 1})
case('where_scalar_other', 'maskedFill', [normal(4, 3), mask(4, 1)], {'value': 0.0})
# more shapes
case('softmax_1d', 'softmax', [normal(5)], {'dim': 0})
case('batchNormTrain_3d', 'batchNormTrain',
     [normal(3, BN_C, 4), normal(BN_C, scale=0.1), uniform(0.5, 1.5, BN_C), normal(BN_C), normal(BN_C)],
     {'momentum': 0.2}, grad=[True, False, False, True, True])
case('layerNorm_noaffine', 'layerNormPlain', [normal(3, 2, 5)], {'shape': [2, 5]})
case('groupNorm', 'groupNorm', [normal(2, 6, 3), normal(6), normal(6)], {'groups': 3})
case('interp_nearest_frac', 'interpolate', [normal(1, 1, 4, 5)], {'scale_factor': 1.5, 'mode': 'nearest'})
case('interp_bilinear_frac', 'interpolate', [normal(1, 1, 4, 5)],
     {'scale_factor': 1.5, 'mode': 'bilinear', 'align_corners': False})
case('interp_bilinear_ac_down', 'interpolate', [normal(1, 2, 5, 6)], {'size': [3, 1], 'mode': 'bilinear', 'align_corners': True})
case('ce_probs_kdim', 'crossEntropy', [normal(2, 3, 4), const(torch.softmax(torch.randn(2, 3, 4, dtype=torch.float64), 1))],
     {'reduction': 'sum'})
case('ce_kdim_smoothing_ignore', 'crossEntropy', [normal(2, 4, 3), const(torch.tensor([[0, 3, 1], [2, 2, 0]]))],
     {'label_smoothing': 0.1, 'ignore_index': 2})
case('bce_probs', 'binaryCrossEntropy', [uniform(0.05, 0.95, 3, 4), uniform(0, 1, 3, 4)])
case('smoothL1_beta0', 'smoothL1Loss', [normal(3, 4), normal(3, 4)], {'beta': 0.0})
case('conv2d_same_dilation', 'conv2d', [normal(1, 1, 6, 5), normal(2, 1, 3, 2)], {'padding': 'same', 'dilation': 2})
case('conv1d_same', 'conv1d', [normal(1, 2, 7), normal(3, 2, 4)], {'padding': 'same'})
case('maxPool2d_unbatched', 'maxPool2d', [normal(2, 5, 5)], {'k': 2, 'stride': 2})
case('matmul_1d_4d', 'matmul', [normal(2, 1, 3, 4), normal(4)])
case('var_large_correction', 'var', [normal(3, 2)], {'dim': [1], 'correction': 0})
case('std_all', 'std', [normal(4, 5)])
case('logsumexp_neg_inf', 'logsumexp', [const(torch.tensor([[0.5, float('-inf'), 1.0], [2.0, 1.0, float('-inf')]]))],
     {'dim': [1]}, grad=[True])

case('gpMatmul', 'gpMatmul', [normal(3, 4), normal(4, 5, scale=0.5)])
case('gpConv2d', 'gpConv2d', [normal(1, 2, 4, 4), normal(2, 2, 3, 3, scale=0.3)])
case('gradOfProd_zeros', 'gradOfProd', [const(torch.tensor([[0.5, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 3.0],
                                                        [1.5, -1.0, 3.0, 0.5], [0.0, 2.0, -1.0, 0.5]]))], grad=[True])
case('gpMlp', 'gpMlp', [normal(3, 4), normal(6, 4, scale=0.5), normal(6), normal(5, 6, scale=0.5)])

# Added after the cases above, so that their random inputs stay as they were.
for op in ['ceil', 'trunc', 'round']:
    case(op, op, [normal(*U, scale=2.5)])
case('round_ties', 'round', [halves(-3, 3, 2, 7)])  # every value a tie or an integer: halves go to the even neighbour
case('trunc_ties', 'trunc', [halves(-3, 3, 2, 7)])
case('ceil_ties', 'ceil', [halves(-3, 3, 2, 7)])
for op in ['remainder', 'fmod']:
    case(op + '_broadcast', op, [normal(2, 3, 1, scale=4), const(torch.tensor([1.5, -0.7, 2.0, -3.0]))], grad=[True, False])
    case(op + '_grad_divisor', op, [normal(3, 4, scale=4), uniform(0.5, 2, 4)])
    case(op + '_exact', op, [const(torch.tensor([-4.0, 4.0, -3.5, 3.5, 0.0, -0.0, 7.25, -7.25])),
                             const(torch.tensor([2.0, -2.0, 2.0, -2.0, 3.0, 3.0, float('inf'), 0.0]))])
    case(op + '_int', op, [const(torch.tensor([[-7, 7], [5, -5]], dtype=torch.int32)), const(torch.tensor([3, -3], dtype=torch.int32))])
# renorm: sub-tensors on both sides of maxnorm (scaled, passed through), p = 2, 1 and 3, any axis.
case('renorm_rows', 'renorm', [normal(4, 6)], {'p': 2, 'dim': 0, 'maxnorm': 2.4})
case('renorm_p1_middle', 'renorm', [normal(3, 4, 2)], {'p': 1, 'dim': 1, 'maxnorm': 4.5})
case('renorm_p3_last', 'renorm', [normal(2, 5, 3)], {'p': 3, 'dim': -1, 'maxnorm': 2.0})
case('renorm_inside', 'renorm', [normal(3, 4, scale=0.1)], {'p': 2, 'dim': 1, 'maxnorm': 1.0})


def make_input(spec):
    if spec[0] == 'logsoftmax':
        return f32(torch.log_softmax(torch.randn(spec[1], dtype=torch.float64), -1)), True
    return make(spec)


def run_case(name, op, specs, args, grad):
    made = [make_input(s) for s in specs]
    inputs = []
    for i, (t, default) in enumerate(made):
        needs = grad[i] if grad is not None else default
        inputs.append(t.clone().requires_grad_(needs))
    fn = OPS[op]
    out = fn(*inputs, **args)
    outs = list(out) if isinstance(out, tuple) else [out]
    weights = []
    loss = None
    for o in outs:
        if o.requires_grad:
            w = f32(torch.randn(o.shape, dtype=torch.float64))
            weights.append(w)
            term = (o * w).sum()
            loss = term if loss is None else loss + term
        else:
            weights.append(None)
    grads = [None] * len(inputs)
    if loss is not None:
        wanted = [t for t in inputs if t.requires_grad]
        gs = torch.autograd.grad(loss, wanted)
        it = iter(gs)
        grads = [next(it) if t.requires_grad else None for t in inputs]
    jsonable_args = {k: (list(v) if isinstance(v, tuple) else v) for k, v in args.items()}
    return {
        'name': name,
        'op': op,
        'args': jsonable_args,
        'inputs': [dict(encode(t.detach()), grad=t.requires_grad) for t in inputs],
        'outputs': [encode(o.detach()) for o in outs],
        'weights': [None if w is None else values(w) for w in weights],
        'grads': [None if g is None else values(g) for g in grads],
    }


def main():
    cases = [run_case(*c) for c in CASES]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
    print(f'wrote {len(cases)} cases to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
