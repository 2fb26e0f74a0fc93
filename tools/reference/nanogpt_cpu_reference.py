#!/usr/bin/env python3
"""PyTorch baseline for `milestones run gpt --preset cpu`: karpathy/nanoGPT's model.py and train.py,
condensed, run with nanoGPT's CPU configuration on the same data and schedule, on 2 threads.

nanoGPT README, "I only have a macbook":
  python train.py config/train_shakespeare_char.py --device=cpu --compile=False --eval_iters=20
    --log_interval=1 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128
    --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0
(the rest from config/train_shakespeare_char.py and train.py's defaults: lr 1e-3, min_lr 1e-4,
warmup 100, beta2 0.99, weight decay 0.1, grad clip 1.0, eval every 250, bias False).

One change from nanoGPT, made so that both sides compute the same function: the MLP uses GELU's tanh
approximation (GPT-2's gelu_new, which our model uses so that GPT-2 weights load) where nanoGPT uses
the exact erf GELU. Prints the validation loss at each evaluation and, at the end, one JSON line with
the final losses (nanoGPT's 20-batch estimate, and the loss over the whole validation split in
consecutive windows), wall time and tokens/s.

Usage: /usr/bin/python3 tools/reference/nanogpt_cpu_reference.py [--data-dir DIR] [--max-iters N]

With --trajectory PATH it instead writes the fixture of test/gpt-train.test.ts: the same model, optimizer
groups, schedule and clipping on a small configuration (2 layers, 2 heads, 32 wide, block 16, batch 4,
30 steps, warmup 5, decay over 30, clipping at 0.5), from weights and token batches given by integer
formulas that the test computes too (no data, no random draws); per step the loss, the gradient norm
before clipping and the learning rate, and at the end every parameter's sum and sum of squares.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

p = argparse.ArgumentParser()
p.add_argument('--data-dir', default=os.environ.get('MILESTONES_DATA', os.path.expanduser('~/.cache/milestones')))
p.add_argument('--max-iters', type=int, default=2000)
p.add_argument('--threads', type=int, default=2)
p.add_argument('--seed', type=int, default=1337)
p.add_argument('--trajectory', default=None, help='write the training-trajectory fixture to this path and exit')
args = p.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

# nanoGPT's CPU configuration
batch_size, block_size = 12, 64
n_layer, n_head, n_embd, dropout, bias = 4, 4, 128, 0.0, False
max_iters, lr_decay_iters = args.max_iters, 2000
learning_rate, min_lr, warmup_iters = 1e-3, 1e-4, 100
beta1, beta2, weight_decay, grad_clip = 0.9, 0.99, 0.1, 1.0
eval_interval, eval_iters = 250, 20
if args.trajectory:
    batch_size, block_size = 4, 16
    n_layer, n_head, n_embd = 2, 2, 32
    max_iters, lr_decay_iters, warmup_iters, grad_clip = 30, 30, 5, 0.5
    chars = [chr(32 + i) for i in range(65)]  # any 65 symbols: the batches are token ids
else:
    # data: characters, first 90% train, last 10% val (data/shakespeare_char/prepare.py)
    with open(os.path.join(args.data_dir, 'tinyshakespeare', 'input.txt'), encoding='utf-8') as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    splits = {'train': ids[:n], 'val': ids[n:]}


def get_batch(split):
    d = splits[split]
    ix = torch.randint(len(d) - block_size, (batch_size,))
    x = torch.stack([d[i:i + block_size] for i in ix])
    y = torch.stack([d[i + 1:i + 1 + block_size] for i in ix])
    return x, y


class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.register_buffer('bias', torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        # nanoGPT's path for torch < 2.0 (Debian's torch has no scaled_dot_product_attention)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate='tanh'))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = LayerNorm(n_embd, bias), CausalSelfAttention(), LayerNorm(n_embd, bias), MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=LayerNorm(n_embd, bias)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        t = idx.size(1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


model = GPT(len(chars))
n_params = sum(p.numel() for p in model.parameters()) - model.transformer.wpe.weight.numel()
print(f'number of parameters: {n_params / 1e6:.2f}M')
params = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.AdamW([
    {'params': [p for p in params if p.dim() >= 2], 'weight_decay': weight_decay},
    {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0},
], lr=learning_rate, betas=(beta1, beta2))


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)


@torch.no_grad()
def estimate_loss():
    model.eval()
    out = {}
    for split in ['train', 'val']:
        out[split] = sum(model(*get_batch(split)).item() for _ in range(eval_iters)) / eval_iters
    model.train()
    return out


@torch.no_grad()
def whole_split_loss(d, windows_per_batch=64):
    # mean loss per character over every whole window of block_size characters, in order (no draws)
    model.eval()
    windows = (len(d) - 1) // block_size
    total = 0.0
    for w0 in range(0, windows, windows_per_batch):
        starts = range(w0 * block_size, min(w0 + windows_per_batch, windows) * block_size, block_size)
        x = torch.stack([d[i:i + block_size] for i in starts])
        y = torch.stack([d[i + 1:i + 1 + block_size] for i in starts])
        total += model(x, y).item() * len(starts)
    model.train()
    return total / windows


def formula_weight(k, i, ndim):
    """Element i of parameter k (in name order): exact in double, then rounded to float32 on both sides."""
    u = ((i * 7919 + k * 104729) % 2001) / 1000 - 1  # in [-1, 1]
    return 0.05 * u if ndim >= 2 else 1 + 0.1 * u


def formula_batch(step):
    x = [[(b * 31 + t * 17 + step * 13 + (b * t) % 7) % 65 for t in range(block_size)] for b in range(batch_size)]
    y = [[(b * 29 + t * 11 + step * 5 + (b + t) % 3) % 65 for t in range(block_size)] for b in range(batch_size)]
    return torch.tensor(x), torch.tensor(y)


if args.trajectory:
    with torch.no_grad():
        for k, (name, p) in enumerate(sorted(model.named_parameters())):
            vals = [formula_weight(k, i, p.dim()) for i in range(p.numel())]
            p.copy_(torch.tensor(vals, dtype=torch.float64).to(torch.float32).view(p.shape))
    steps = []
    for it in range(max_iters):
        for g in optimizer.param_groups:
            g['lr'] = get_lr(it)
        loss = model(*formula_batch(it))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        steps.append({'loss': loss.item(), 'grad_norm': norm.item(), 'lr': get_lr(it)})
    final = {name: {'sum': p.double().sum().item(), 'sum_sq': (p.double() ** 2).sum().item()} for name, p in model.named_parameters()}
    with open(args.trajectory, 'w') as f:
        json.dump({'torch': torch.__version__, 'config': {'n_layer': n_layer, 'n_head': n_head, 'n_embd': n_embd, 'block_size': block_size,
                   'batch_size': batch_size, 'max_iters': max_iters, 'warmup_iters': warmup_iters, 'lr_decay_iters': lr_decay_iters,
                   'learning_rate': learning_rate, 'min_lr': min_lr, 'beta1': beta1, 'beta2': beta2, 'weight_decay': weight_decay,
                   'grad_clip': grad_clip}, 'steps': steps, 'final': final}, f, indent=1)
    print('wrote', args.trajectory)
    raise SystemExit(0)

t0 = time.time()
losses = {}
for it in range(max_iters + 1):
    if it % eval_interval == 0 or it == max_iters:
        losses = estimate_loss()
        print(f'step {it}: train loss {losses["train"]:.4f}, val loss {losses["val"]:.4f}, {time.time() - t0:.1f} s', flush=True)
    if it == max_iters:
        break
    for g in optimizer.param_groups:
        g['lr'] = get_lr(it)
    loss = model(*get_batch('train'))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
wall = time.time() - t0
val_whole = whole_split_loss(splits['val'])  # after the clock stops, as papers/2019-gpt/train.ts
print(json.dumps({'torch': torch.__version__, 'threads': args.threads, 'iters': max_iters, 'train_loss': round(losses['train'], 4),
                  'val_loss': round(losses['val'], 4), 'val_loss_whole_split': round(val_whole, 4), 'wall_s': round(wall, 1),
                  'tokens_per_s': round(max_iters * batch_size * block_size / wall)}))
