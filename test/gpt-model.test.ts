/**
 * GPT (papers/2019-gpt): parameter count against nanoGPT's, the key/value cache against full
 * recomputation, sampling filters, and overfitting one batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, manualSeed, noGrad, optim, randint, tensor } from '../src/index.js';
import { GPT, sampleNext } from '../papers/2019-gpt/model.js';
import type { GPTConfig } from '../papers/2019-gpt/config.js';
import { assertClose } from './helpers.js';

const small: GPTConfig = { vocabSize: 23, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true, layerNormEps: 1e-5 };

test('the shakespeare-char model has the 10.65M parameters nanoGPT reports', () => {
  // nanoGPT prints "number of parameters: 10.65M" for config/train_shakespeare_char.py (vocab 65,
  // bias=False), counting without the position embeddings (get_num_params(non_embedding=True)).
  const model = new GPT({ vocabSize: 65, blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false, layerNormEps: 1e-5 });
  // 6 blocks x (2 LayerNorm weights + c_attn + c_proj + c_fc + c_proj) + wte + ln_f.
  assert.equal(model.getNumParams(), 6 * (2 * 384 + 384 * 1152 + 384 * 384 + 2 * 384 * 1536) + 65 * 384 + 384);
  assert.equal(model.getNumParams(), 10_646_784);
  assert.equal((model.getNumParams() / 1e6).toFixed(2), '10.65');
  assert.equal(model.getNumParams(false), 10_646_784 + 256 * 384);
});

test('names and tying follow GPT-2 checkpoints', () => {
  const model = new GPT(small);
  const names = Object.keys(model.stateDict());
  for (const n of ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.ln_1.weight', 'transformer.h.0.attn.c_attn.weight',
    'transformer.h.1.mlp.c_proj.bias', 'transformer.ln_f.bias', 'lm_head.weight']) {
    assert.ok(names.includes(n), `missing ${n}`);
  }
  assert.equal(model.lm_head.weight, model.transformer.wte.weight);
  // Residual projections start 1/sqrt(2 nLayer) smaller than the other matrices (GPT-2 Sec. 2.3).
  const big = new GPT({ ...small, nEmbd: 64, nLayer: 8 });
  const std = (name: string) => big.stateDict()[name]!.std().item();
  assert.ok(Math.abs(std('transformer.h.0.mlp.c_fc.weight') - 0.02) < 0.001);
  assert.ok(Math.abs(std('transformer.h.0.mlp.c_proj.weight') - 0.02 / 4) < 0.0005);
});

test('the key/value cache gives the logits of a full forward pass, one position at a time', () => {
  manualSeed(1);
  const model = new GPT(small).eval();
  const idx = randint(0, small.vocabSize, [2, 10]);
  noGrad(() => {
    const full = model.forward(idx).logits; // [2, 10, V]
    const caches = model.newCaches();
    const first = model.forward(idx.slice(null, [0, 4]), undefined, caches).logits; // a 4-token prompt
    assertClose(first, full.slice(null, [0, 4]), { atol: 1e-5, rtol: 1e-4 }, 'prompt');
    for (let t = 4; t < 10; t++) {
      const step = model.forward(idx.slice(null, [t, t + 1]), undefined, caches).logits; // [2, 1, V]
      assertClose(step, full.slice(null, [t, t + 1]), { atol: 1e-5, rtol: 1e-4 }, `position ${t}`);
    }
    assert.equal(caches[0]!.k!.shape[2], 10);
  });
});

test('greedy generation with the cache equals greedy decoding by full recomputation', () => {
  manualSeed(2);
  const model = new GPT(small).eval();
  const prompt = tensor([[3, 1, 4]], { dtype: 'int32' });
  // 14 new tokens overflow the block of 12, so the cache restart is exercised too.
  const out = model.generate(prompt, 14, { temperature: 0 });
  assert.deepEqual(out.shape, [1, 17]);
  const ids = (out.toArray() as number[][])[0]!;
  const ctx = [3, 1, 4];
  noGrad(() => {
    for (let n = 0; n < 9; n++) { // while the context fits the block, both must agree exactly
      const logits = model.forward(tensor([ctx], { dtype: 'int32' })).logits;
      const next = logits.select(1, ctx.length - 1).argmax(-1).item();
      assert.equal(ids[ctx.length], next, `token ${ctx.length}`);
      ctx.push(next);
    }
  });
});

test('top-k and top-p sampling draw only from the allowed tokens', () => {
  const logits = tensor([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]]).log(); // probs proportional to 0..4 and 4..0
  const gen = new Generator(7);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const ids = sampleNext(logits, { topK: 2, generator: gen }).toArray() as number[][];
    assert.ok(ids[0]![0]! >= 3 && ids[1]![0]! <= 1, `top-k drew ${JSON.stringify(ids)}`);
    seen.add(`${ids[0]![0]}`);
  }
  assert.deepEqual([...seen].sort(), ['3', '4']);
  // Probabilities 0.4, 0.3, 0.2, 0.1, 0: with p = 0.65 the nucleus is {0.4, 0.3} (0.4 alone is short of p).
  for (let i = 0; i < 200; i++) {
    const ids = sampleNext(logits, { topP: 0.65, generator: gen }).toArray() as number[][];
    assert.ok([3, 4].includes(ids[0]![0]!) && [0, 1].includes(ids[1]![0]!), `top-p drew ${JSON.stringify(ids)}`);
  }
  const greedy = sampleNext(logits, { temperature: 0 }).toArray();
  assert.deepEqual(greedy, [[4], [0]]);
});

test('the model overfits one batch', () => {
  manualSeed(3);
  const model = new GPT(small);
  const x = randint(0, small.vocabSize, [4, 12]);
  const y = randint(0, small.vocabSize, [4, 12]);
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0 });
  let first = 0;
  let last = 0;
  for (let i = 0; i < 60; i++) {
    const { loss } = model.forward(x, y);
    if (i === 0) first = loss!.item();
    last = loss!.item();
    opt.zeroGrad();
    loss!.backward();
    opt.step();
  }
  assert.ok(Math.abs(first - Math.log(small.vocabSize)) < 0.2, `initial loss ${first} should be near ln(V) = ${Math.log(small.vocabSize)}`);
  assert.ok(last < 0.1, `loss after 60 steps on one batch: ${last}`);
});
