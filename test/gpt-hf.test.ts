/**
 * Loading Hugging Face GPT-2 folders (papers/2019-gpt/model.ts, fromPretrained) against GPT-2's
 * forward pass in PyTorch: test/fixtures/gpt-hf-tiny/ is a random 2-layer GPT-2 in the hub's layout
 * (Conv1D weights [in, out], attn.bias buffers, no "transformer." prefix), written with its logits by
 * tools/reference/gpt2_reference.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, noGrad, tensor, text, type Tensor } from '../src/index.js';
import { fromPretrained } from '../papers/2019-gpt/model.js';
import { assertClose } from './helpers.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/gpt-hf-tiny', import.meta.url));
const expected = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/fixtures/gpt-hf-tiny-logits.json', import.meta.url)), 'utf8')) as {
  input_ids: number[][];
  logits: number[];
  shape: number[];
};

function logitsOf(dir: string): Tensor {
  const model = fromPretrained(dir);
  return noGrad(() => model.forward(tensor(expected.input_ids, { dtype: 'int32' })).logits);
}

test('a Hugging Face GPT-2 folder loads and gives PyTorch GPT-2 logits within 1e-4', () => {
  const model = fromPretrained(DIR);
  assert.equal(model.config.nLayer, 2);
  assert.equal(model.config.vocabSize, 260);
  assert.equal(model.training, false);
  const logits = logitsOf(DIR);
  assert.deepEqual([...logits.shape], expected.shape);
  assertClose(logits, expected.logits, { atol: 1e-4, rtol: 0 }, 'logits');
});

test('names prefixed with "transformer." (GPT2LMHeadModel saves) load the same', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gpt-hf-'));
  try {
    const { tensors } = io.loadSafetensors(join(DIR, 'model.safetensors'));
    const renamed = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [`transformer.${k}`, v]));
    renamed['lm_head.weight'] = tensors['wte.weight']!;
    io.saveSafetensors(join(tmp, 'model.safetensors'), renamed);
    copyFileSync(join(DIR, 'config.json'), join(tmp, 'config.json'));
    assertClose(logitsOf(tmp), expected.logits, { atol: 1e-4, rtol: 0 }, 'logits');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a wrongly shaped checkpoint is refused with the name of the tensor', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gpt-hf-'));
  try {
    const { tensors } = io.loadSafetensors(join(DIR, 'model.safetensors'));
    // A Linear-layout ([out, in]) c_fc weight where Conv1D's [in, out] is expected.
    io.saveSafetensors(join(tmp, 'model.safetensors'), { ...tensors, 'h.1.mlp.c_fc.weight': tensors['h.1.mlp.c_fc.weight']!.t().contiguous() });
    copyFileSync(join(DIR, 'config.json'), join(tmp, 'config.json'));
    assert.throws(() => fromPretrained(tmp), /transformer\.h\.1\.mlp\.c_fc\.weight/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the folder\'s vocab.json and merges.txt load as GPT-2\'s tokenizer', () => {
  const tok = text.loadGpt2Tokenizer(DIR);
  // " the" merges to one token (Ġ t -> Ġt, h e -> he, Ġt he -> Ġthe); other bytes stay single tokens.
  assert.deepEqual(tok.encode(' the'), [258]);
  assert.equal(tok.encode(' theatre').length, 1 + 'atre'.length);
  assert.equal(tok.decode(tok.encode('Hello, world! ✓')), 'Hello, world! ✓');
});
