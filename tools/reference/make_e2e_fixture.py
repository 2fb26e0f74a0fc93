"""Writes test/fixtures/nn-e2e-cnn.json: a small CNN with BatchNorm and Dropout(p=0), trained 10
steps with SGD momentum from PyTorch's initial weights, for test/nn-e2e.test.ts (issue 4, point 4).
Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/make_e2e_fixture.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)


def model():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.0),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, 5),
    )


m = model()
init = {k: v.detach().clone() for k, v in m.state_dict().items()}
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
batches = []
losses = []
for step in range(10):
    # values rounded to float32-exact numbers
    x = (torch.randn(6, 1, 8, 8) * 64).round() / 64
    y = torch.randint(0, 5, (6,))
    batches.append({"x": x.flatten().tolist(), "y": y.tolist()})
    opt.zero_grad()
    loss = F.cross_entropy(m(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())


def dump(sd):
    out = {}
    for k, v in sd.items():
        out[k] = {"shape": list(v.shape), "data": v.flatten().tolist(), "int": not v.is_floating_point()}
    return out


fixture = {
    "torch": torch.__version__,
    "init": dump(init),
    "batches": batches,
    "losses": losses,
    "final": dump(m.state_dict()),
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "nn-e2e-cnn.json")
with open(path, "w") as f:
    json.dump(fixture, f)
print("wrote", path, "losses", [round(l, 4) for l in losses])
