import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Gpt2Tokenizer, bytesToUnicode, preTokenize, trainBpe, utf8Encode } from '../src/text/index.js';

interface Fixture {
  trainChars: number;
  trainSha256: string;
  numMerges: number;
  minFrequency: number;
  merges: string[];
  mergeCounts: number[];
  vocabJson: string;
  mergesTxt: string;
  heldOut: { text: string; pieces: string[]; ids: number[] }[];
}
const fixture: Fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/text-bpe-shakespeare.json', import.meta.url), 'utf8'));

/**
 * The training rule written the slow, obvious way (recount every pair after every merge), to check the
 * incremental trainer on many small corpora. Symbols are byte arrays compared by their contents.
 */
function naiveTrain(corpus: string, numMerges: number, minFrequency: number): { merges: [string, string][]; counts: number[] } {
  const table = bytesToUnicode();
  const spell = (bytes: number[]) => bytes.map((b) => table[b]).join('');
  const counts = new Map<string, number>();
  for (const p of preTokenize(corpus)) counts.set(p, (counts.get(p) ?? 0) + 1);
  let words = [...counts].map(([p, f]) => ({ syms: utf8Encode(p).map((b) => [b]), f }));
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  };
  const merges: [string, string][] = [];
  const mergeCounts: number[] = [];
  const done = new Set<string>();
  while (merges.length < numMerges) {
    const pairs = new Map<string, { a: number[]; b: number[]; n: number }>();
    for (const { syms, f } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = `${syms[i]}|${syms[i + 1]}`;
        const entry = pairs.get(key) ?? { a: syms[i], b: syms[i + 1], n: 0 };
        entry.n += f;
        pairs.set(key, entry);
      }
    }
    let best: { a: number[]; b: number[]; n: number } | undefined;
    for (const p of pairs.values()) {
      if (!best || p.n > best.n || (p.n === best.n && (cmp(p.a, best.a) < 0 || (cmp(p.a, best.a) === 0 && cmp(p.b, best.b) < 0)))) best = p;
    }
    if (!best || best.n < minFrequency) break;
    const { a, b } = best;
    const key = `${a}|${b}`;
    if (!done.has(key)) {
      done.add(key);
      merges.push([spell(a), spell(b)]);
      mergeCounts.push(best.n);
    }
    words = words.map(({ syms, f }) => {
      const out: number[][] = [];
      for (let i = 0; i < syms.length; ) {
        if (i + 1 < syms.length && cmp(syms[i], a) === 0 && cmp(syms[i + 1], b) === 0) {
          out.push([...a, ...b]);
          i += 2;
        } else {
          out.push(syms[i]);
          i += 1;
        }
      }
      return { syms: out, f };
    });
  }
  return { merges, counts: mergeCounts };
}

test('trainBpe: ties go to the smallest pair by bytes, not by byte-to-unicode characters', () => {
  // "ab x" -> pre-tokens "ab" and " x": pairs (a,b) and (0x20,x) both once. By bytes 0x20 < 0x61, so
  // the space pair wins, though its character 'Ġ' (U+0120) sorts after 'a'.
  assert.deepEqual(trainBpe('ab x', { numMerges: 5, minFrequency: 1 }).merges, [['Ġ', 'x'], ['a', 'b']]);
  // "abc abc": (a,b) and (b,c) twice each, (Ġ,a) once; a < b, so (a,b); then (ab,c); then (Ġ,abc) is
  // below minFrequency 2.
  const r = trainBpe('abc abc', { numMerges: 5 });
  assert.deepEqual(r.merges, [['a', 'b'], ['ab', 'c']]);
  assert.deepEqual(r.mergeCounts, [2, 2]);
  // Two documents, "abab" and "aba": after (a,b), the pairs (ab,ab) and (ab,a) tie at 1; their left
  // parts are equal, and the right part 'a' is a proper prefix of 'ab', so it sorts first.
  assert.deepEqual(trainBpe(['abab', 'aba'], { numMerges: 3, minFrequency: 1 }).merges, [['a', 'b'], ['ab', 'a'], ['ab', 'ab']]);
});

test('trainBpe: overlapping pairs merge left to right, and the vocabulary follows GPT-2 layout', () => {
  // "aaa": (a,a) occurs twice (overlapping); merging left to right gives "aa a", then (aa,a) once.
  const r = trainBpe('aaa', { numMerges: 10, minFrequency: 1 });
  assert.deepEqual(r.merges, [['a', 'a'], ['aa', 'a']]);
  assert.deepEqual(r.mergeCounts, [2, 1]);
  assert.equal(r.vocab.get('!'), 0);
  assert.equal(r.vocab.get('Ġ'), 220);
  assert.equal(r.vocab.get('aa'), 256);
  assert.equal(r.vocab.get('aaa'), 257);
  assert.equal(r.vocab.get('<|endoftext|>'), 258);
  assert.equal(r.vocab.size, 259);
  const tok = new Gpt2Tokenizer(r.vocab, r.merges);
  assert.deepEqual(tok.encode('aaaa aaa'), [256, 256, 220, 257]);
  assert.deepEqual(trainBpe(['xyxy', 'xy'], { numMerges: 1, specialTokens: [] }).vocab.size, 257);
  assert.throws(() => trainBpe('a', { numMerges: -1 }), /numMerges must be a non-negative integer/);
  assert.throws(() => trainBpe('a', { numMerges: 1, minFrequency: 0 }), /minFrequency must be a positive integer/);
});

test('trainBpe agrees with a naive recount-everything trainer on random corpora', () => {
  let seed = 7;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  // few distinct characters, so that pairs tie often and long runs overlap
  const alphabet = ['a', 'b', 'c', ' ', ' ', '\n', "'", 's', '1', 'é', '日', '😀'];
  for (let trial = 0; trial < 25; trial++) {
    let corpus = '';
    const n = 20 + Math.floor(next() * 200);
    for (let i = 0; i < n; i++) corpus += alphabet[Math.floor(next() * alphabet.length)];
    const minFrequency = 1 + Math.floor(next() * 2);
    const expected = naiveTrain(corpus, 40, minFrequency);
    const got = trainBpe(corpus, { numMerges: 40, minFrequency });
    assert.deepEqual(got.merges, expected.merges, JSON.stringify(corpus));
    assert.deepEqual(got.mergeCounts, expected.counts, JSON.stringify(corpus));
    // whatever it learned loads, and encodes its own corpus losslessly
    const tok = new Gpt2Tokenizer(got.vocab, got.merges);
    assert.equal(tok.decode(tok.encode(corpus)), corpus);
  }
});

test('the Python reference vocabulary loads; held-out text splits and encodes exactly as the reference does', () => {
  const tok = Gpt2Tokenizer.fromFiles({ vocabJson: fixture.vocabJson, mergesTxt: fixture.mergesTxt });
  assert.equal(tok.merges.length, fixture.numMerges);
  assert.equal(tok.vocabSize, 256 + fixture.numMerges + 1);
  assert.ok(fixture.heldOut.length >= 5);
  for (const { text, pieces, ids } of fixture.heldOut) {
    assert.deepEqual(preTokenize(text), pieces, JSON.stringify(text.slice(0, 60)));
    assert.deepEqual(tok.encode(text), ids, JSON.stringify(text.slice(0, 60)));
    assert.equal(tok.decode(ids), text);
  }
});

test('trainBpe on Tiny Shakespeare learns the Python reference merges, in order, with the same counts', (t) => {
  const root = process.env.MILESTONES_DATA ?? join(homedir(), '.cache', 'milestones');
  const path = join(root, 'tinyshakespeare', 'input.txt');
  if (!existsSync(path)) {
    t.skip(`Tiny Shakespeare not found at ${path}`);
    return;
  }
  const text = readFileSync(path, 'utf8').slice(0, fixture.trainChars);
  assert.equal(createHash('sha256').update(text, 'utf8').digest('hex'), fixture.trainSha256, `${path} is not the Tiny Shakespeare the fixture was made from`);
  const r = trainBpe(text, { numMerges: fixture.numMerges, minFrequency: fixture.minFrequency });
  assert.deepEqual(r.merges.map(([a, b]) => `${a} ${b}`), fixture.merges);
  assert.deepEqual(r.mergeCounts, fixture.mergeCounts);
  const tok = new Gpt2Tokenizer(r.vocab, r.merges);
  assert.equal(tok.toFiles().vocabJson, Gpt2Tokenizer.fromFiles({ vocabJson: fixture.vocabJson, mergesTxt: fixture.mergesTxt }).toFiles().vocabJson);
  assert.equal(tok.toFiles().mergesTxt, fixture.mergesTxt);
  for (const { text: heldOut, ids } of fixture.heldOut) assert.deepEqual(tok.encode(heldOut), ids);
});
