"""optimizer.step() alone in PyTorch, for bench/optim-step.ts: the same parameter shapes (read from
`node dist/bench/optim-step.js --shapes`), the same optimizers and settings, one thread, median
microseconds per step (wall and CPU) of torch's default CPU implementation and of foreach=True.

    node dist/bench/optim-step.js --shapes > shapes.json && python3 bench/optim_step_torch.py shapes.json
"""
import json
import statistics
import sys
import time

import torch

torch.set_num_threads(1)
shapes = json.load(open(sys.argv[1]))
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15


def make(name, ps, foreach):
    if name == 'dqn':
        return torch.optim.RMSprop(ps, lr=2.5e-4, alpha=0.95, eps=0.01, centered=True, foreach=foreach)
    if name == 'gpt':
        return torch.optim.AdamW([{'params': [p for p in ps if p.ndim >= 2], 'weight_decay': 0.1},
                                  {'params': [p for p in ps if p.ndim < 2], 'weight_decay': 0.0}],
                                 lr=1e-3, betas=(0.9, 0.99), foreach=foreach)
    return torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-4, foreach=foreach)


for name, shp in shapes.items():
    numel = sum(torch.Size(s).numel() for s in shp)
    steps = max(2, round(2e6 / numel))
    line = []
    for foreach in (None, True):
        ps = [torch.nn.Parameter(torch.randn(s) * 0.05) for s in shp]
        for p in ps:
            p.grad = torch.randn(p.shape) * 0.01
        opt = make(name, ps, foreach)
        for _ in range(steps):
            opt.step()
        walls, cpus = [], []
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(steps):
                opt.step()
            walls.append((time.perf_counter() - t0) * 1e6 / steps)
            cpus.append((time.process_time() - c0) * 1e6 / steps)
        line.append(f"{'foreach' if foreach else 'default'} {statistics.median(walls):.0f} us wall / {statistics.median(cpus):.0f} us cpu")
    print(f"{name:7} torch {torch.__version__}: " + '; '.join(line))
