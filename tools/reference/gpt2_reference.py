#!/usr/bin/env python3
"""Writes test/fixtures/gpt-hf-tiny/: a small, randomly initialised GPT-2 in the exact layout of a
Hugging Face GPT-2 folder (config.json, model.safetensors, vocab.json, merges.txt), and
test/fixtures/gpt-hf-tiny-logits.json: input ids and the logits of GPT-2's forward pass.

`transformers` and the `safetensors` package are not installed here, so GPT-2's forward is written
below in PyTorch with Hugging Face's names and Conv1D layout (weight [in, out], y = x W + b), and the
safetensors file is written by hand (8-byte little-endian header length, JSON header padded with
spaces to a multiple of 8, then the raw little-endian data), as the format's specification says.

The weights are drawn with a larger spread than GPT-2's initialisation and the LayerNorm gains and
all biases are random too, so that a weight loaded under the wrong name, or not transposed, changes
the logits visibly. The logits are computed in float64 from the float32 weights that the file holds.

Usage: /usr/bin/python3 tools/reference/gpt2_reference.py
"""
import json
import math
import os
import struct

import torch

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', '..', 'test', 'fixtures')
DIR = os.path.join(OUT, 'gpt-hf-tiny')

# 256 byte tokens, three merges, <|endoftext|>: the smallest vocabulary a byte-level BPE can have, plus a few.
n_layer, n_head, n_embd, n_positions, vocab_size, eps = 2, 2, 32, 16, 260, 1e-5
config = {
    'activation_function': 'gelu_new', 'architectures': ['GPT2LMHeadModel'], 'attn_pdrop': 0.1,
    'bos_token_id': 259, 'embd_pdrop': 0.1, 'eos_token_id': 259, 'initializer_range': 0.02,
    'layer_norm_epsilon': eps, 'model_type': 'gpt2', 'n_ctx': n_positions, 'n_embd': n_embd,
    'n_head': n_head, 'n_inner': None, 'n_layer': n_layer, 'n_positions': n_positions,
    'resid_pdrop': 0.1, 'vocab_size': vocab_size,
}


def rand(*shape, std=0.2, mean=0.0):
    return (torch.randn(*shape) * std + mean).float()


# Names as in the Hugging Face hub's gpt2/model.safetensors (GPT2Model, no "transformer." prefix),
# including the attn.bias causal-mask buffers that older saves hold.
w = {'wte.weight': rand(vocab_size, n_embd), 'wpe.weight': rand(n_positions, n_embd)}
for i in range(n_layer):
    p = f'h.{i}.'
    w[p + 'ln_1.weight'] = rand(n_embd, mean=1.0)
    w[p + 'ln_1.bias'] = rand(n_embd)
    w[p + 'attn.bias'] = torch.tril(torch.ones(n_positions, n_positions)).view(1, 1, n_positions, n_positions)
    w[p + 'attn.c_attn.weight'] = rand(n_embd, 3 * n_embd)  # Conv1D: [in, out]
    w[p + 'attn.c_attn.bias'] = rand(3 * n_embd)
    w[p + 'attn.c_proj.weight'] = rand(n_embd, n_embd)
    w[p + 'attn.c_proj.bias'] = rand(n_embd)
    w[p + 'ln_2.weight'] = rand(n_embd, mean=1.0)
    w[p + 'ln_2.bias'] = rand(n_embd)
    w[p + 'mlp.c_fc.weight'] = rand(n_embd, 4 * n_embd)
    w[p + 'mlp.c_fc.bias'] = rand(4 * n_embd)
    w[p + 'mlp.c_proj.weight'] = rand(4 * n_embd, n_embd)
    w[p + 'mlp.c_proj.bias'] = rand(n_embd)
w['ln_f.weight'] = rand(n_embd, mean=1.0)
w['ln_f.bias'] = rand(n_embd)


def gelu_new(x):
    """GPT-2's GELU, the tanh approximation (Hendrycks & Gimpel 2016)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_forward(idx):
    """GPT-2's forward pass (transformers' GPT2LMHeadModel in eval mode), in float64."""
    W = {k: v.double() for k, v in w.items()}
    B, T = idx.shape
    hs = n_embd // n_head
    x = W['wte.weight'][idx] + W['wpe.weight'][torch.arange(T)]
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (n_embd,), W[p + '.weight'], W[p + '.bias'], eps)
    conv1d = lambda x, p: x @ W[p + '.weight'] + W[p + '.bias']
    for i in range(n_layer):
        p = f'h.{i}.'
        q, k, v = conv1d(ln(x, p + 'ln_1'), p + 'attn.c_attn').split(n_embd, dim=2)
        q, k, v = (t.view(B, T, n_head, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hs)
        att = att.masked_fill(W[p + 'attn.bias'][:, :, :T, :T] == 0, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, n_embd)
        x = x + conv1d(y, p + 'attn.c_proj')
        x = x + conv1d(gelu_new(conv1d(ln(x, p + 'ln_2'), p + 'mlp.c_fc')), p + 'mlp.c_proj')
    return ln(x, 'ln_f') @ W['wte.weight'].T  # lm_head tied to wte


def save_safetensors(path, tensors):
    """The safetensors format, written by hand: tensors in name order, data offsets relative to the data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header['__metadata__'] = {'format': 'pt'}
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def bytes_to_unicode():
    """openai/gpt-2 encoder.py: a printable character for every byte."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


os.makedirs(DIR, exist_ok=True)
with open(os.path.join(DIR, 'config.json'), 'w') as f:
    json.dump(config, f, indent=2)
save_safetensors(os.path.join(DIR, 'model.safetensors'), w)
byte_chars = list(bytes_to_unicode().values())
merges = [('Ġ', 't'), ('h', 'e'), ('Ġt', 'he')]
vocab = {c: i for i, c in enumerate(byte_chars)}
for a, b in merges:
    vocab[a + b] = len(vocab)
vocab['<|endoftext|>'] = len(vocab)
assert len(vocab) == vocab_size
with open(os.path.join(DIR, 'vocab.json'), 'w', encoding='utf-8') as f:
    json.dump(vocab, f, ensure_ascii=False)
with open(os.path.join(DIR, 'merges.txt'), 'w', encoding='utf-8') as f:
    f.write('#version: 0.2\n' + ''.join(f'{a} {b}\n' for a, b in merges))

idx = torch.randint(0, vocab_size, (2, n_positions))
logits = gpt2_forward(idx)
with open(os.path.join(OUT, 'gpt-hf-tiny-logits.json'), 'w') as f:
    json.dump({'input_ids': idx.tolist(), 'logits': [round(v, 7) for v in logits.flatten().tolist()], 'shape': list(logits.shape)}, f)
print(f'wrote {DIR} and gpt-hf-tiny-logits.json; logits std {logits.std().item():.3f}')
