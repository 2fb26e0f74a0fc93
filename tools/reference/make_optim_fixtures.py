#!/usr/bin/python3
"""Writes the optimizer, gradient-clipping and LR-schedule fixtures that test/optim-*.test.ts replay.

The problem: three float32 parameters of odd shapes and a fixed smooth loss that the TypeScript
tests compute with the same tensor ops,

    loss = sum_i 0.5 * sum(a_i * (w_i - t_i)^2) + 0.1 * sum_i sum(sin(3 w_i)) + 0.2 * mean(w0) * sum(w2)

(a quadratic bowl, a ripple, and a term that couples two parameters), with two parameter groups:
{w0, w1} and {w2}. Each optimizer configuration takes 20 steps from the same start; the fixture
holds the weights after every step, the loss before it, and torch's state_dict after step 10.
Each schedule takes 20 steps (optimizer.step() then scheduler.step()) and records every lr,
the momentum / beta1 of each group, and the weights.

Run: /usr/bin/python3 tools/reference/make_optim_fixtures.py   (writes test/fixtures/optim-*.json)
"""
import json
import math
import os
import re

import torch
from torch.nn.utils import clip_grad_norm_, clip_grad_value_

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures')
STEPS = 20
SHAPES = [[3, 5], [7], [2, 3, 2]]


def f32(values):
    """Float32 values as the shortest decimals that round-trip."""
    return [float('%.9g' % v) for v in values]


def flat(t):
    return f32(t.detach().reshape(-1).tolist())


def snake(key):
    return re.sub(r'[A-Z]', lambda m: '_' + m.group(0).lower(), key)


def camel(key):
    return re.sub(r'_([a-z])', lambda m: m.group(1).upper(), key)


def torch_options(options):
    out = {}
    for k, v in options.items():
        out[snake(k)] = tuple(v) if k == 'betas' else v
    return out


def make_problem():
    g = torch.Generator().manual_seed(1234)
    init = [torch.randn(s, generator=g) for s in SHAPES]
    targets = [torch.randn(s, generator=g) for s in SHAPES]
    scales = [torch.rand(s, generator=g) * 1.5 + 0.5 for s in SHAPES]
    return init, targets, scales


INIT, TARGETS, SCALES = make_problem()


def fresh_params():
    return [w.clone().requires_grad_(True) for w in INIT]


def loss_fn(ws):
    total = 0
    for w, t, a in zip(ws, TARGETS, SCALES):
        total = total + (a * (w - t) ** 2).sum() * 0.5
    for w in ws:
        total = total + torch.sin(w * 3).sum() * 0.1
    return total + ws[0].mean() * ws[2].sum() * 0.2


def groups_for(ws, groups):
    return [dict(torch_options({k: v for k, v in g.items() if k != 'params'}), params=[ws[i] for i in g['params']])
            for g in groups]


def encode_state_dict(sd):
    """torch's optimizer state_dict as JSON with our camelCase keys (see src/optim/optimizer.ts)."""
    state = {}
    for idx, s in sd['state'].items():
        entry = {}
        for k, v in s.items():
            if v is None:
                entry[camel(k)] = None
            elif torch.is_tensor(v) and v.dim() == 0:
                entry[camel(k)] = float(v.item())
            elif torch.is_tensor(v):
                entry[camel(k)] = {'shape': list(v.shape), 'values': flat(v)}
            else:
                entry[camel(k)] = v
        state[str(idx)] = entry
    groups = []
    for g in sd['param_groups']:
        groups.append({camel(k): (list(v) if isinstance(v, tuple) else v) for k, v in g.items()})
    return {'state': state, 'paramGroups': groups}


OPTIMIZERS = {
    'SGD': torch.optim.SGD,
    'Adam': torch.optim.Adam,
    'AdamW': torch.optim.AdamW,
    'RMSprop': torch.optim.RMSprop,
    'Adagrad': torch.optim.Adagrad,
    'Adadelta': torch.optim.Adadelta,
    'Adamax': torch.optim.Adamax,
}

TWO_GROUPS = [{'params': [0, 1]}, {'params': [2], 'lr': 0.02}]

# (name, optimizer, options, groups, clip): every option of every optimizer is toggled at least
# once; every configuration has two groups with different settings. Some eps values are large on
# purpose, so that where eps enters the update (inside or outside a square root) shows in the weights.
CONFIGS = [
    ('sgd-plain', 'SGD', {'lr': 0.05}, TWO_GROUPS, None),
    ('sgd-momentum-dampening-wd', 'SGD', {'lr': 0.05, 'momentum': 0.9, 'dampening': 0.1, 'weightDecay': 0.01}, TWO_GROUPS, None),
    ('sgd-nesterov', 'SGD', {'lr': 0.04, 'momentum': 0.8, 'nesterov': True},
     [{'params': [0, 1]}, {'params': [2], 'lr': 0.02, 'weightDecay': 0.05}], None),
    ('sgd-momentum-maximize', 'SGD', {'lr': 0.01, 'momentum': 0.5, 'maximize': True}, TWO_GROUPS, None),
    ('adam-default', 'Adam', {'lr': 0.01}, [{'params': [0, 1]}, {'params': [2], 'lr': 0.03}], None),
    ('adam-amsgrad-wd-betas', 'Adam', {'lr': 0.02, 'amsgrad': True, 'weightDecay': 0.1, 'betas': [0.8, 0.95], 'eps': 0.05},
     TWO_GROUPS, None),
    ('adam-maximize', 'Adam', {'lr': 0.005, 'maximize': True}, TWO_GROUPS, None),
    ('adamw-default', 'AdamW', {'lr': 0.01, 'weightDecay': 0.1},
     [{'params': [0, 1]}, {'params': [2], 'lr': 0.03, 'weightDecay': 0}], None),
    ('adamw-amsgrad-maximize', 'AdamW', {'lr': 0.01, 'amsgrad': True, 'maximize': True, 'betas': [0.85, 0.9], 'eps': 0.02},
     TWO_GROUPS, None),
    ('rmsprop-default', 'RMSprop', {'lr': 0.01}, TWO_GROUPS, None),
    ('rmsprop-centered', 'RMSprop', {'lr': 0.01, 'centered': True, 'alpha': 0.9}, TWO_GROUPS, None),
    ('rmsprop-centered-momentum-wd', 'RMSprop',
     {'lr': 0.005, 'centered': True, 'momentum': 0.9, 'alpha': 0.95, 'eps': 0.1, 'weightDecay': 0.01}, TWO_GROUPS, None),
    ('rmsprop-momentum-maximize', 'RMSprop', {'lr': 0.005, 'momentum': 0.5, 'maximize': True}, TWO_GROUPS, None),
    ('adagrad-default', 'Adagrad', {'lr': 0.1}, TWO_GROUPS, None),
    ('adagrad-lrdecay-init-wd', 'Adagrad',
     {'lr': 0.1, 'lrDecay': 0.05, 'initialAccumulatorValue': 0.1, 'eps': 0.1, 'weightDecay': 0.01}, TWO_GROUPS, None),
    ('adagrad-maximize', 'Adagrad', {'lr': 0.05, 'maximize': True}, TWO_GROUPS, None),
    ('adadelta-default', 'Adadelta', {'lr': 1.0}, [{'params': [0, 1]}, {'params': [2], 'lr': 0.5}], None),
    ('adadelta-rho-eps-wd-maximize', 'Adadelta', {'lr': 1.0, 'rho': 0.8, 'eps': 1e-4, 'weightDecay': 0.01, 'maximize': True},
     [{'params': [0, 1]}, {'params': [2], 'lr': 0.5}], None),
    ('adamax-default', 'Adamax', {'lr': 0.02}, TWO_GROUPS, None),
    ('adamax-betas-eps-wd-maximize', 'Adamax', {'lr': 0.01, 'betas': [0.8, 0.9], 'eps': 0.05, 'weightDecay': 0.05, 'maximize': True},
     TWO_GROUPS, None),
    # Clipping inside the loop: after backward, before the step.
    ('sgd-momentum-clip-norm', 'SGD', {'lr': 0.05, 'momentum': 0.9}, TWO_GROUPS, {'kind': 'norm', 'maxNorm': 1.0, 'normType': 2}),
    ('adam-clip-norm-inf', 'Adam', {'lr': 0.01}, TWO_GROUPS, {'kind': 'norm', 'maxNorm': 0.3, 'normType': math.inf}),
    ('sgd-clip-value', 'SGD', {'lr': 0.05}, TWO_GROUPS, {'kind': 'value', 'clipValue': 0.4}),
]


def run_optimizer(name, opt_name, options, groups, clip):
    ws = fresh_params()
    opt = OPTIMIZERS[opt_name](groups_for(ws, groups), **torch_options(options))
    weights, losses, norms = [], [], []
    state_at_10 = None
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        loss = loss_fn(ws)
        loss.backward()
        losses.append(float(loss.item()))
        if clip is not None and clip['kind'] == 'norm':
            norms.append(float(clip_grad_norm_(ws, clip['maxNorm'], clip['normType']).item()))
        elif clip is not None:
            clip_grad_value_(ws, clip['clipValue'])
        opt.step()
        weights.append([flat(w) for w in ws])
        if step == 10:
            state_at_10 = encode_state_dict(opt.state_dict())
    out = {'name': name, 'optimizer': opt_name, 'options': options, 'groups': groups, 'clip': clip,
           'losses': losses, 'weights': weights, 'stateAt10': state_at_10}
    if clip is not None and clip['kind'] == 'norm':
        out['clip'] = dict(clip, normType='inf' if clip['normType'] == math.inf else clip['normType'])
        out['norms'] = norms
    return out


# ---- clipping on fixed gradients ----

def clip_cases():
    g = torch.Generator().manual_seed(99)
    grads = [torch.randn(s, generator=g) for s in SHAPES]
    cases = []
    for max_norm, norm_type in [(1.0, 2), (100.0, 2), (0.5, 1), (2.0, 3), (0.7, math.inf), (1.5, 0.5)]:
        ws = [torch.zeros(s, requires_grad=True) for s in SHAPES]
        for w, gr in zip(ws, grads):
            w.grad = gr.clone()
        total = clip_grad_norm_(ws, max_norm, norm_type)
        cases.append({'kind': 'norm', 'maxNorm': max_norm, 'normType': 'inf' if norm_type == math.inf else norm_type,
                      'totalNorm': float(total.item()), 'clipped': [flat(w.grad) for w in ws]})
    for clip_value in [0.3, 5.0]:
        ws = [torch.zeros(s, requires_grad=True) for s in SHAPES]
        for w, gr in zip(ws, grads):
            w.grad = gr.clone()
        clip_grad_value_(ws, clip_value)
        cases.append({'kind': 'value', 'clipValue': clip_value, 'clipped': [flat(w.grad) for w in ws]})
    return {'grads': [flat(x) for x in grads], 'cases': cases}


# ---- schedules ----

LAMBDAS = {
    'power-095': lambda e: 0.95 ** e,
    'inverse': lambda e: 1.0 / (e + 1),
    'power-09': lambda e: 0.9 ** e,
}


def build_scheduler(opt, spec):
    kind, o = spec['scheduler'], spec.get('options', {})
    S = torch.optim.lr_scheduler
    if kind == 'StepLR':
        return S.StepLR(opt, o['stepSize'], gamma=o['gamma'])
    if kind == 'MultiStepLR':
        return S.MultiStepLR(opt, o['milestones'], gamma=o['gamma'])
    if kind == 'ExponentialLR':
        return S.ExponentialLR(opt, o['gamma'])
    if kind == 'CosineAnnealingLR':
        return S.CosineAnnealingLR(opt, o['tMax'], eta_min=o.get('etaMin', 0), last_epoch=o.get('lastEpoch', -1))
    if kind == 'LinearLR':
        return S.LinearLR(opt, start_factor=o['startFactor'], end_factor=o['endFactor'], total_iters=o['totalIters'])
    if kind == 'LambdaLR':
        fns = o['lrLambda']
        return S.LambdaLR(opt, [LAMBDAS[f] for f in fns] if isinstance(fns, list) else LAMBDAS[fns])
    if kind == 'OneCycleLR':
        kw = {snake(k): v for k, v in o.items()}
        return S.OneCycleLR(opt, **kw)
    if kind == 'SequentialLR':
        children = [build_scheduler(opt, c) for c in o['schedulers']]
        return S.SequentialLR(opt, children, milestones=o['milestones'])
    if kind == 'ReduceLROnPlateau':
        kw = {snake(k): v for k, v in o.items() if k != 'metrics'}
        return S.ReduceLROnPlateau(opt, **kw)
    raise ValueError(kind)


SGD_M = {'optimizer': 'SGD', 'optimizerOptions': {'lr': 0.1, 'momentum': 0.9},
         'groups': [{'params': [0, 1]}, {'params': [2], 'lr': 0.05}]}
ADAM = {'optimizer': 'Adam', 'optimizerOptions': {'lr': 0.01}, 'groups': [{'params': [0, 1]}, {'params': [2], 'lr': 0.005}]}

PLATEAU_METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.0, 3.0, 3.0, 3.0, 3.0, 2.9995, 3.5, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
RISING_METRICS = [1.0, 1.05, 1.2, 1.25, 1.3, 1.3, 1.5, 1.55, 1.58, 1.6, 2.0, 2.0, 2.0, 2.05, 2.1, 3.0, 3.0, 3.0, 3.0, 3.0]

SCHEDULES = [
    dict(SGD_M, name='step', scheduler='StepLR', options={'stepSize': 3, 'gamma': 0.5}),
    dict(SGD_M, name='multistep-repeated', scheduler='MultiStepLR', options={'milestones': [2, 5, 5, 9], 'gamma': 0.3}),
    dict(SGD_M, name='exponential', scheduler='ExponentialLR', options={'gamma': 0.9}),
    dict(SGD_M, name='cosine-past-tmax', scheduler='CosineAnnealingLR', options={'tMax': 8, 'etaMin': 0.001}),
    # Resuming at lastEpoch 4 (groups carry initialLr, as after loading a checkpoint).
    dict(SGD_M, name='cosine-resume', scheduler='CosineAnnealingLR', options={'tMax': 10, 'etaMin': 0.01, 'lastEpoch': 4},
         groups=[{'params': [0, 1], 'initialLr': 0.2}, {'params': [2], 'lr': 0.05, 'initialLr': 0.1}]),
    dict(SGD_M, name='linear-warmup', scheduler='LinearLR', options={'startFactor': 0.25, 'endFactor': 1.0, 'totalIters': 6}),
    dict(SGD_M, name='linear-decay', scheduler='LinearLR', options={'startFactor': 1.0, 'endFactor': 0.1, 'totalIters': 10}),
    dict(SGD_M, name='lambda-shared', scheduler='LambdaLR', options={'lrLambda': 'power-095'}),
    dict(SGD_M, name='lambda-per-group', scheduler='LambdaLR', options={'lrLambda': ['inverse', 'power-09']}),
    dict(SGD_M, name='onecycle-cos-sgd', scheduler='OneCycleLR', options={'maxLr': 0.5, 'totalSteps': 20}),
    dict(ADAM, name='onecycle-linear-three-phase-adam', scheduler='OneCycleLR',
         options={'maxLr': [0.05, 0.02], 'totalSteps': 20, 'annealStrategy': 'linear', 'threePhase': True,
                  'pctStart': 0.25, 'baseMomentum': 0.8, 'maxMomentum': 0.9, 'divFactor': 10.0, 'finalDivFactor': 100.0}),
    dict(SGD_M, name='onecycle-epochs-no-momentum', scheduler='OneCycleLR',
         options={'maxLr': 0.3, 'epochs': 4, 'stepsPerEpoch': 5, 'cycleMomentum': False, 'pctStart': 0.4}),
    dict(SGD_M, name='sequential-warmup-cosine', scheduler='SequentialLR',
         options={'schedulers': [{'scheduler': 'LinearLR', 'options': {'startFactor': 0.1, 'endFactor': 1.0, 'totalIters': 5}},
                                 {'scheduler': 'CosineAnnealingLR', 'options': {'tMax': 15}}],
                  'milestones': [5]}),
    dict(ADAM, name='sequential-three', scheduler='SequentialLR',
         options={'schedulers': [{'scheduler': 'LinearLR', 'options': {'startFactor': 0.5, 'endFactor': 1.0, 'totalIters': 4}},
                                 {'scheduler': 'ExponentialLR', 'options': {'gamma': 0.9}},
                                 {'scheduler': 'StepLR', 'options': {'stepSize': 3, 'gamma': 0.5}}],
                  'milestones': [4, 10]}),
    dict(SGD_M, name='plateau-min-rel-cooldown', scheduler='ReduceLROnPlateau',
         options={'mode': 'min', 'factor': 0.5, 'patience': 2, 'cooldown': 1, 'minLr': [0.01, 0.02], 'metrics': PLATEAU_METRICS}),
    dict(SGD_M, name='plateau-min-abs', scheduler='ReduceLROnPlateau',
         options={'mode': 'min', 'factor': 0.3, 'patience': 1, 'threshold': 0.01, 'thresholdMode': 'abs', 'metrics': PLATEAU_METRICS}),
    dict(SGD_M, name='plateau-max-rel-eps', scheduler='ReduceLROnPlateau',
         options={'mode': 'max', 'factor': 0.5, 'patience': 1, 'threshold': 0.05, 'minLr': 0.03, 'eps': 0.02,
                  'metrics': RISING_METRICS}),
    dict(SGD_M, name='plateau-max-abs', scheduler='ReduceLROnPlateau',
         options={'mode': 'max', 'factor': 0.1, 'patience': 0, 'threshold': 0.02, 'thresholdMode': 'abs',
                  'metrics': RISING_METRICS}),
]


def group_momentum(group):
    return group['betas'][0] if 'betas' in group else group.get('momentum', 0.0)


def run_schedule(spec):
    ws = fresh_params()
    opt = OPTIMIZERS[spec['optimizer']](groups_for(ws, spec['groups']), **torch_options(spec['optimizerOptions']))
    sched = build_scheduler(opt, spec)
    lrs = [[g['lr'] for g in opt.param_groups]]
    momenta = [[group_momentum(g) for g in opt.param_groups]]
    weights = []
    metrics = spec['options'].get('metrics')
    for step in range(STEPS):
        opt.zero_grad()
        loss_fn(ws).backward()
        opt.step()
        if metrics is not None:
            sched.step(metrics[step])
        else:
            sched.step()
        lrs.append([g['lr'] for g in opt.param_groups])
        momenta.append([group_momentum(g) for g in opt.param_groups])
        weights.append([flat(w) for w in ws])
    last_lr = sched._last_lr
    assert all(a == b for a, b in zip(last_lr, lrs[-1]))
    return dict(spec, lrs=lrs, momenta=momenta, weights=weights)


def main():
    os.makedirs(OUT, exist_ok=True)
    problem = {'shapes': SHAPES, 'init': [flat(w) for w in INIT], 'targets': [flat(t) for t in TARGETS],
               'scales': [flat(a) for a in SCALES]}
    header = {'torch': torch.__version__, 'steps': STEPS, 'problem': problem}
    files = {
        'optim-optimizers.json': dict(header, configs=[run_optimizer(*c) for c in CONFIGS]),
        'optim-clip.json': dict(header, **clip_cases()),
        'optim-schedules.json': dict(header, schedules=[run_schedule(s) for s in SCHEDULES]),
    }
    for name, data in files.items():
        path = os.path.join(OUT, name)
        with open(path, 'w') as f:
            json.dump(data, f, separators=(',', ':'))
        print(f'wrote {path} ({os.path.getsize(path) // 1024} KiB)')


if __name__ == '__main__':
    torch.set_num_threads(1)
    main()
