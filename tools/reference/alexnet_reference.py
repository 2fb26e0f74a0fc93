#!/usr/bin/env python3
"""Writes test/fixtures/alexnet-torchvision.json for test/alexnet-model.test.ts.

Two networks:
- torchvision.models.alexnet() (torchvision 0.14): the one-weird-trick AlexNet.
- The 2012 AlexNet (Krizhevsky et al., Fig. 2) written here with torch.nn in the same layout as
  papers/2012-alexnet/model.ts (AlexNet2012): the two-GPU split as groups=2 in conv2/4/5, LRN with the
  paper's k=2, n=5, alpha=1e-4, beta=0.75 (torch divides alpha by n, so alpha=5e-4 is passed), 3x3/2
  max pooling, fc6/fc7 with ReLU then dropout.

For each the fixture records every state-dict name and shape and the parameter count (torchvision's is
61,100,840). The full weights are far too large for a fixture (61M floats), so for value parity every
tensor is overwritten by values both sides compute from a small integer hash (no shared RNG needed).
For the k-th tensor of the state dict (in order), element i of the flattened tensor is

    h = (i * 2654435761 + k * 40503 + 12345) mod 2^32
    h = h xor (h >> 15);  h = (h * 2246822519) mod 2^32;  h = h xor (h >> 13)
    u = h / 2^32 - 0.5                                      (in [-0.5, 0.5), exact in float64)
    weight = u * sqrt(24 / fan_in)   (std sqrt(2 / fan_in), as He initialisation; fan_in = prod(shape[1:]))
    bias   = u * 0.02

computed in float64 and cast to float32. (A smooth formula such as sin(0.001 i) makes sums over a
row coherent, and the logits then hardly depend on the input.) The input is u with k = 1000 over the
flattened [2, 3, S, S] batch, cast to float32, and the fixture holds the eval-mode logits:
S = 63 for torchvision's net (the smallest size that leaves every pooled map non-empty: conv1 15,
pool1 7, pool2 3, pool5 1, then the adaptive pool to 6x6) and S = 67 for the 2012 net (its smallest,
with fc6 reading 256 x 1 x 1 inputs).

Usage: /usr/bin/python3 tools/reference/alexnet_reference.py
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'alexnet-torchvision.json')


def alexnet_2012(num_classes=1000, input_size=227):
    def out(n, k, s, p):
        return (n + 2 * p - k) // s + 1
    n = out(input_size, 11, 4, 0)
    n = out(n, 3, 2, 0)
    n = out(n, 5, 1, 2)
    n = out(n, 3, 2, 0)
    n = out(n, 3, 2, 0)
    m = nn.Module()
    m.features = nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(),
        nn.MaxPool2d(3, 2),
    )
    m.classifier = nn.Sequential(
        nn.Linear(256 * n * n, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    )
    m.forward = lambda x: m.classifier(torch.flatten(m.features(x), 1))
    return m


def hash_uniform(n, k):
    """u in [-0.5, 0.5) for flat indices 0..n-1 of the k-th tensor (see the module doc)."""
    m = np.uint64(0xFFFFFFFF)
    h = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761) + np.uint64(k * 40503 + 12345)) & m
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(2246822519)) & m
    h ^= h >> np.uint64(13)
    return h.astype(np.float64) / 4294967296.0 - 0.5


def formula_weights(model):
    with torch.no_grad():
        for k, (name, t) in enumerate(model.state_dict().items()):
            u = hash_uniform(t.numel(), k)
            v = u * math.sqrt(24 / t[0].numel()) if t.dim() > 1 else u * 0.02
            t.copy_(torch.from_numpy(v.astype(np.float32)).reshape(t.shape))


def formula_input(size):
    u = hash_uniform(2 * 3 * size * size, 1000)
    return torch.from_numpy(u.astype(np.float32)).reshape(2, 3, size, size)


def describe(model):
    return {
        'names': list(model.state_dict().keys()),
        'shapes': [list(t.shape) for t in model.state_dict().values()],
        'numParameters': sum(p.numel() for p in model.parameters()),
    }


def logits(model, size):
    formula_weights(model)
    model.eval()
    with torch.no_grad():
        y = model(formula_input(size))
    return {'inputSize': size, 'logits': [round(float(v), 7) for v in y.flatten()], 'shape': list(y.shape)}


def main():
    torch.manual_seed(0)
    tv = torchvision.models.alexnet()
    paper = alexnet_2012()
    out = {
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'torchvisionAlexNet': {**describe(tv), 'outputShape224': list(tv.eval()(torch.zeros(1, 3, 224, 224)).shape), **logits(tv, 63)},
        'alexnet2012': {**describe(paper), 'outputShape227': list(paper.eval().forward(torch.zeros(1, 3, 227, 227)).shape)},
    }
    small = alexnet_2012(input_size=67)
    out['alexnet2012Small'] = {**describe(small), **logits(small, 67)}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f)
    print(OUT, os.path.getsize(OUT), 'bytes;', out['torchvisionAlexNet']['numParameters'], out['alexnet2012']['numParameters'])


if __name__ == '__main__':
    main()
