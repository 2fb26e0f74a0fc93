"""PyTorch side of `npm run bench:models`: the model-level workloads of bench/models.ts.

Reads one JSON command per line on stdin and answers one JSON line on stdout, so the Node driver
interleaves PyTorch samples with milestones' in a single invocation:
  {"cmd": "info"}                       -> versions and thread settings
  {"cmd": "build", "name": W}           -> builds workload W (model, optimizer, fixed random batch)
  {"cmd": "time", "name": W, "iters": n} -> runs W's step n times; {"seconds": wall, "cpu": process CPU} per step
Run with Debian's /usr/bin/python3 (python3-torch 1.13, OpenBLAS with OpenMP), two threads.
The models mirror bench/models.ts layer for layer (same shapes, same optimizer settings).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
torch.manual_seed(0)


# ------------------------------------------------------------------ ResNet-20 (He et al. 2015, Sec. 4.2)

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout - cin

    def forward(self, x):
        # in place, as torchvision's BasicBlock (ReLU(inplace=True), out += identity), and as ours;
        # PyTorch's step measured from 9% slower to 10% faster than out of place (alternating runs)
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        short = x
        if self.pad > 0:  # option A: subsample by 2, zero-pad the new channels
            short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        out += short  # in place, as torchvision's BasicBlock
        return F.relu(out, inplace=True)


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        x = self.blocks(x)
        return self.fc(x.mean((2, 3)))


# ------------------------------------------------------------------ nanoGPT (karpathy/nanoGPT model.py)

class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block, dropout):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head, self.n_embd = n_head, n_embd
        self.register_buffer("bias", torch.tril(torch.ones(block, block)).view(1, 1, block, block))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        # torch 1.13 has no scaled_dot_product_attention, so nanoGPT takes this manual path too
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block, dropout):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, elementwise_affine=True)
        self.attn = CausalSelfAttention(n_embd, n_head, block, dropout)
        self.ln_2 = nn.LayerNorm(n_embd, elementwise_affine=True)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        # papers/2019-gpt uses GPT-2's tanh GELU; nanoGPT's nn.GELU() is the erf form (same cost class)
        return x + self.dropout(self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")))


class GPT(nn.Module):
    def __init__(self, vocab=65, block=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block, n_embd)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList([Block(n_embd, n_head, block, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        self.lm_head.weight = self.wte.weight
        # nanoGPT's LayerNorm has no bias when bias=False; torch 1.13's LayerNorm cannot drop only
        # the bias, so zero it and leave it out of the optimizer
        for b in self.h:
            for ln in (b.ln_1, b.ln_2):
                ln.bias.requires_grad_(False)
        self.ln_f.bias.requires_grad_(False)

    def forward(self, idx, targets):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


@torch.no_grad()
def generate_cached(model, idx, new_tokens):
    """Greedy decoding with a key/value cache, as papers/2019-gpt's GPT.generate does: the prompt
    once, then one position per new token (nanoGPT's own generate re-reads the whole prefix each
    time; this is the faster way, so it is the fairer baseline)."""
    caches = [None] * len(model.h)
    pos, x_ids, out = 0, idx, [idx]
    for _ in range(new_tokens):
        B, T = x_ids.size()
        x = model.wte(x_ids) + model.wpe(torch.arange(pos, pos + T))
        for i, block in enumerate(model.h):
            a = block.attn
            C, H = a.n_embd, a.n_head
            q, k, v = a.c_attn(block.ln_1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
            if caches[i] is not None:
                k = torch.cat([caches[i][0], k], dim=2)
                v = torch.cat([caches[i][1], v], dim=2)
            caches[i] = (k, v)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            if T > 1:
                att = att.masked_fill(a.bias[:, :, pos:pos + T, :pos + T] == 0, float("-inf"))
            y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C)
            x = x + a.c_proj(y)
            x = x + block.c_proj(F.gelu(block.c_fc(block.ln_2(x)), approximate="tanh"))
        logits = model.lm_head(model.ln_f(x[:, -1, :]))
        pos += T
        x_ids = logits.argmax(-1, keepdim=True)
        out.append(x_ids)
    return torch.cat(out, dim=1)


# ------------------------------------------------------------------ MinAtar DQN (Young & Tian 2019)

class QNetwork(nn.Module):
    def __init__(self, in_channels=4, num_actions=6):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 16, 3, stride=1)
        self.fc_hidden = nn.Linear(16 * 8 * 8, 128)
        self.output = nn.Linear(128, num_actions)

    def forward(self, x):
        # out of place, as MinAtar's examples/dqn.py (ours runs relu_: the same values; PyTorch's step
        # measured 1-13% slower with inplace=True in three alternating runs, so it keeps its own form)
        x = F.relu(self.conv(x))
        return self.output(F.relu(self.fc_hidden(x.view(x.size(0), -1))))


# ------------------------------------------------------------------ workloads

GENERATE_TOKENS = 100  # bench/models.ts uses the same


def build(name):
    if name == "resnet20":
        model = ResNet20().train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        x = torch.randn(128, 3, 32, 32)
        y = torch.randint(0, 10, (128,))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()
        return step
    if name == "gpt":
        model = GPT().train()
        decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
            lr=1e-3, betas=(0.9, 0.99))
        idx = torch.randint(0, 65, (8, 256))
        tgt = torch.randint(0, 65, (8, 256))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = model(idx, tgt)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss.item()
        return step
    if name == "gptGenerate":
        model = GPT().eval()
        start = torch.zeros(1, 1, dtype=torch.long)
        return lambda: generate_cached(model, start, GENERATE_TOKENS)
    if name == "lstm":
        lstm = nn.LSTM(256, 256, 1)
        x = torch.randn(32, 64, 256, requires_grad=True)

        def step():
            lstm.zero_grad(set_to_none=True)
            x.grad = None
            out, _ = lstm(x)
            out.sum().backward()
            return x.grad
        return step
    if name in ("dqnTrain", "dqnAct"):
        policy = QNetwork()
        target = QNetwork()
        target.load_state_dict(policy.state_dict())
        # MinAtar examples/dqn.py: RMSprop(lr=0.00025, alpha=0.95, centered=True, eps=0.01), smooth L1
        opt = torch.optim.RMSprop(policy.parameters(), lr=0.00025, alpha=0.95, centered=True, eps=0.01)
        s = (torch.rand(32, 4, 10, 10) < 0.1).float()
        s2 = (torch.rand(32, 4, 10, 10) < 0.1).float()
        a = torch.randint(0, 6, (32, 1))
        r = torch.randn(32)
        done = (torch.rand(32) < 0.1).float()
        one = (torch.rand(1, 4, 10, 10) < 0.1).float()
        if name == "dqnAct":
            def act():
                with torch.no_grad():
                    return policy(one).argmax(1).item()
            return act

        def train():
            with torch.no_grad():
                q_next = target(s2).max(1)[0]
                y = r + 0.99 * (1 - done) * q_next
            q = policy(s).gather(1, a).squeeze(1)
            loss = F.smooth_l1_loss(q, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss.item()
        return train
    raise ValueError(name)


def main():
    work = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "info":
            out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                   "parallel": torch.__config__.parallel_info().splitlines()[:8]}
        elif cmd["cmd"] == "build":
            work[cmd["name"]] = build(cmd["name"])
            out = {"ok": True}
        elif cmd["cmd"] == "time":
            f = work[cmd["name"]]
            n = int(cmd["iters"])
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(n):
                f()
            out = {"seconds": (time.perf_counter() - t0) / n, "cpu": (time.process_time() - c0) / n}
        else:
            raise ValueError(cmd)
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
