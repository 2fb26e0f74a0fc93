import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharTokenizer, loadCharTokenizer, saveCharTokenizer } from '../src/text/index.js';

test('CharTokenizer: vocabulary is the sorted distinct characters, ids are positions', () => {
  const tok = CharTokenizer.fromText('hello world');
  assert.deepEqual(tok.chars, [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  assert.equal(tok.vocabSize, 8);
  assert.deepEqual(tok.encode('hello'), [3, 2, 4, 4, 5]);
  assert.equal(tok.decode([7, 5, 6, 4, 1]), 'world');
});

test('CharTokenizer: characters are code points, sorted by code point as Python sorts', () => {
  // UTF-16 order would put the emoji (a surrogate pair, 0xD83D...) before U+FFFD; code point order after.
  const tok = CharTokenizer.fromText('😀\uFFFDa😀é\u0301');
  assert.deepEqual(tok.chars, ['a', 'é', '\u0301', '\uFFFD', '😀']);
  assert.deepEqual(tok.encode('😀a'), [4, 0]);
  const text = 'a😀\u0301é';
  assert.equal(tok.decode(tok.encode(text)), text);
});

test('CharTokenizer: unknown characters and bad ids are clear errors', () => {
  const tok = CharTokenizer.fromText('abc');
  assert.throws(() => tok.encode('abz'), /'z' \(U\+007A\) at offset 2 is not in the vocabulary of 3 characters/);
  assert.throws(() => tok.encode('ab\n'), /U\+000A at offset 2/);
  assert.throws(() => tok.decode([0, 3]), /id 3 at position 1 is not in 0\.\.2/);
  assert.throws(() => tok.decode([1.5]), /id 1\.5/);
  assert.throws(() => new CharTokenizer(['a', 'b', 'a']), /'a' \(U\+0061\) appears twice in the vocabulary \(ids 0 and 2\)/);
  assert.throws(() => new CharTokenizer(['ab']), /entry 0 is "ab", not a single character/);
});

test('CharTokenizer: saves and loads as JSON, and rejects malformed files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'text-char-'));
  try {
    const tok = CharTokenizer.fromText('To be, or not to be 😀\n');
    const path = join(dir, 'tokenizer.json');
    saveCharTokenizer(tok, path);
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(saved.type, 'char');
    assert.equal(saved.vocabSize, tok.vocabSize);
    const loaded = loadCharTokenizer(path);
    assert.deepEqual(loaded.chars, tok.chars);
    assert.deepEqual(loaded.encode('not to be 😀'), tok.encode('not to be 😀'));

    writeFileSync(path, '{"type": "char", "chars": ["a"');
    assert.throws(() => loadCharTokenizer(path), /not valid JSON/);
    assert.throws(() => CharTokenizer.fromJSON('{"type": "bpe", "chars": []}'), /"type" is "bpe", expected "char"/);
    assert.throws(() => CharTokenizer.fromJSON('{"type": "char", "vocabSize": 3, "chars": ["a"]}'), /"vocabSize" is 3 but "chars" has 1/);
    assert.throws(() => CharTokenizer.fromJSON('[1]'), /expected a JSON object/);
    assert.throws(() => loadCharTokenizer(join(dir, 'missing.json')), /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CharTokenizer: Tiny Shakespeare has the 65 characters nanoGPT reports', (t) => {
  const root = process.env.MILESTONES_DATA ?? join(homedir(), '.cache', 'milestones');
  const path = join(root, 'tinyshakespeare', 'input.txt');
  if (!existsSync(path)) {
    t.skip(`Tiny Shakespeare not found at ${path}`);
    return;
  }
  const text = readFileSync(path, 'utf8');
  const tok = CharTokenizer.fromText(text);
  assert.equal(tok.vocabSize, 65);
  assert.equal(tok.chars.join(''), "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  const ids = tok.encode(text.slice(0, 10000));
  assert.equal(tok.decode(ids), text.slice(0, 10000));
});
