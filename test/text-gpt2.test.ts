import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Gpt2Tokenizer,
  bytesToUnicode,
  formatMergesTxt,
  gpt2ByteOrder,
  loadGpt2Tokenizer,
  preTokenize,
  saveGpt2Tokenizer,
  utf8Decode,
  utf8Encode,
} from '../src/text/index.js';
import { rng } from './helpers.js';

/** The 256 single-byte tokens with GPT-2's ids, plus `extra` tokens after them. */
function byteVocab(extra: string[] = []): Map<string, number> {
  const table = bytesToUnicode();
  const vocab = new Map<string, number>();
  for (const b of gpt2ByteOrder()) vocab.set(table[b], vocab.size);
  for (const t of extra) vocab.set(t, vocab.size);
  return vocab;
}

/** Random text mixing ASCII, accents, combining marks, CJK, emoji, controls, odd spaces, any code point. */
function randomText(next: () => number, length: number, loneSurrogates: boolean): string {
  const pools = [
    "abcXYZ 0123456789.,;:!?'\"-",
    "'s 're 've 'll 'd 't 'm ",
    'éüñßÆøÿ\u00ad\u00a0',
    '\u0301\u0308\u0327\u20dd',
    '日本語中文한국어テキスト',
    '😀🎉👍🏽👨‍👩‍👧\u{1F1EF}\u{1F1F5}\u{10FFFF}',
    '\x00\x01\x1b\x7f\x85\t\n\r\x0b\x0c',
    '\u2003\u3000\u2028\ufeff\u200b',
    '٣٤٥²½Ⅻ',
  ];
  let s = '';
  for (let i = 0; i < length; i++) {
    const r = next();
    if (r < 0.1) {
      // any code point outside the surrogate block, assigned or not
      let cp = Math.floor(next() * 0x110000);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
      s += String.fromCodePoint(cp);
    } else if (loneSurrogates && r < 0.15) {
      s += String.fromCharCode(0xd800 + Math.floor(next() * 0x800));
    } else {
      const pool = Array.from(pools[Math.floor(next() * pools.length)]);
      s += pool[Math.floor(next() * pool.length)];
    }
  }
  return s;
}

/** Replaces each lone surrogate by U+FFFD (what encoding to UTF-8 does to them). */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\uFFFD');
}

test('bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards', () => {
  const table = bytesToUnicode();
  assert.equal(table.length, 256);
  assert.equal(new Set(table).size, 256);
  assert.equal(table[0x21], '!');
  assert.equal(table[0x7e], '~');
  assert.equal(table[0xa1], '¡');
  assert.equal(table[0xac], '¬');
  assert.equal(table[0xae], '®');
  assert.equal(table[0xff], 'ÿ');
  assert.equal(table[0x00], '\u0100');
  assert.equal(table[0x0a], 'Ċ'); // U+010A
  assert.equal(table[0x20], 'Ġ'); // U+0120: 0x00..0x20 are the first 33 non-printable bytes
  assert.equal(table[0x7f], '\u0121');
  assert.equal(table[0xa0], '\u0142');
  assert.equal(table[0xad], '\u0143'); // the soft hyphen is the 68th and last
  // GPT-2's real vocabulary: '!' is 0, 'a' is 64, '\n' is 198, ' ' is 220.
  const order = gpt2ByteOrder();
  assert.equal(order.indexOf(0x21), 0);
  assert.equal(order.indexOf(0x61), 64);
  assert.equal(order.indexOf(0x0a), 198);
  assert.equal(order.indexOf(0x20), 220);
});

test('pre-tokenisation follows GPT-2 pattern, with \\s as Unicode White_Space', () => {
  assert.deepEqual(preTokenize("Hello world, it's 2024!!  Ok\n\n"), ['Hello', ' world', ',', ' it', "'s", ' 2024', '!!', ' ', ' Ok', '\n\n']);
  assert.deepEqual(preTokenize("DON'T don't"), ['DON', "'", 'T', ' don', "'t"]); // contractions are lowercase only
  assert.deepEqual(preTokenize('a   b'), ['a', '  ', ' b']); // the last space goes with the word
  assert.deepEqual(preTokenize('a \t b'), ['a', ' \t', ' b']);
  assert.deepEqual(preTokenize('x  '), ['x', '  ']);
  assert.deepEqual(preTokenize('abc123def'), ['abc', '123', 'def']);
  // U+0085 is White_Space (as in Python's regex); with JavaScript's \s, " \x85" would be one "other" run.
  assert.deepEqual(preTokenize('x \x85y'), ['x', ' ', '\x85', 'y']);
  // U+FEFF is not White_Space (JavaScript's \s would count it as a space).
  assert.deepEqual(preTokenize('x \ufeffy'), ['x', ' \ufeff', 'y']);
  assert.deepEqual(preTokenize(''), []);
  const next = rng(1);
  for (let i = 0; i < 300; i++) {
    const s = randomText(next, 1 + Math.floor(next() * 40), true);
    assert.equal(preTokenize(s).join(''), s, 'the pieces cover the text');
  }
});

test('UTF-8: encode and decode agree with TextEncoder and TextDecoder (replacement of bad bytes)', () => {
  const next = rng(2);
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  for (let i = 0; i < 500; i++) {
    const s = randomText(next, Math.floor(next() * 30), true);
    assert.deepEqual(utf8Encode(s), Array.from(enc.encode(s)), JSON.stringify(s));
  }
  // bytes biased towards lead and continuation bytes, so that truncated and overlong forms are common
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
  for (let i = 0; i < 2000; i++) {
    const bytes = Array.from({ length: Math.floor(next() * 12) }, () =>
      next() < 0.7 ? interesting[Math.floor(next() * interesting.length)] : Math.floor(next() * 256),
    );
    assert.equal(utf8Decode(bytes), dec.decode(Uint8Array.from(bytes)), `bytes ${bytes.map((b) => b.toString(16))}`);
  }
  assert.equal(utf8Decode([0xe2, 0x82]), '\uFFFD'); // a truncated sequence is one replacement
  assert.equal(utf8Decode([0xf0, 0x80, 0x80]), '\uFFFD\uFFFD\uFFFD'); // F0 80 is never valid: three
  assert.equal(utf8Decode([0xed, 0xa0, 0x80]), '\uFFFD\uFFFD\uFFFD'); // an encoded surrogate
  assert.deepEqual(utf8Encode('\ud800x'), [0xef, 0xbf, 0xbd, 0x78]);
});

// A hand-made vocabulary: the 256 bytes (ids 0..255, GPT-2's order) and six merges.
const HAND_MERGES: [string, string][] = [
  ['h', 'e'], // rank 0 -> 'he' 256
  ['Ġ', 't'], // rank 1 -> 'Ġt' 257
  ['Ġt', 'he'], // rank 2 -> 'Ġthe' 258
  ['l', 'l'], // rank 3 -> 'll' 259
  ['e', 'll'], // rank 4 -> 'ell' 260
  ['a', 'a'], // rank 5 -> 'aa' 261
];
const handTokenizer = () =>
  new Gpt2Tokenizer(byteVocab(['he', 'Ġt', 'Ġthe', 'll', 'ell', 'aa', '<|endoftext|>']), HAND_MERGES);

test('GPT-2 encoder on a hand-made vocabulary gives the encodings worked out by hand', () => {
  const tok = handTokenizer();
  // Byte ids: a printable ASCII byte b has id b - 0x21; the space 'Ġ' is 220.
  // "the"     : t h e -> (h,e) rank 0 -> [t, he]; (t,he) is no merge.          -> 83, 256
  // " hello"  : Ġ h e l l o -> he (0) -> ll (3) -> [Ġ, he, ll, o]; (he,ll) none -> 220, 256, 259, 78
  // " theell" : Ġ t h e e l l -> he (0), Ġt (1), Ġthe (2), ll (3), ell (4)     -> 258, 260
  // " aaa"    : Ġ a a a -> (a,a) rank 5, left to right -> [Ġ, aa, a]            -> 220, 261, 64
  assert.deepEqual(tok.encode('the hello theell aaa'), [83, 256, 220, 256, 259, 78, 258, 260, 220, 261, 64]);
  // "it's" -> "it", "'s"; the apostrophe is byte 0x27, id 6.
  assert.deepEqual(tok.encode("it's"), [72, 83, 6, 82]);
  // "\n" is 198 as in GPT-2; "é" is two bytes C3 A9, each its own token ('Ã' 127 and '©' 102, as in GPT-2).
  assert.deepEqual(tok.encode('\né'), [198, 127, 102]);
  assert.equal(tok.decode([83, 256, 220, 256, 259, 78]), 'the hello');
  assert.equal(tok.vocabSize, 263);
  assert.equal(tok.endOfTextId, 262);
});

test('GPT-2 encoder: <|endoftext|> is ordinary text unless allowed', () => {
  const tok = handTokenizer();
  const ordinary = [64, 27, 91, 68, 77, 67, 78, 69, 83, 68, 87, 83, 91, 29]; // a < | e n d o f t e x t | >
  assert.deepEqual(tok.encode('a<|endoftext|>'), ordinary);
  assert.deepEqual(tok.encode('a<|endoftext|>', { allowedSpecial: 'all' }), [64, 262]);
  assert.deepEqual(tok.encode('<|endoftext|>he<|endoftext|>', { allowedSpecial: ['<|endoftext|>'] }), [262, 256, 262]);
  assert.equal(tok.decode([64, 262]), 'a<|endoftext|>');
  assert.throws(() => tok.encode('x', { allowedSpecial: ['<|pad|>'] }), /"<\|pad\|>" is not a special token/);
  assert.throws(() => new Gpt2Tokenizer(byteVocab(), [], { specialTokens: ['<|pad|>'] }), /special token "<\|pad\|>" is not in the vocabulary/);
});

test('GPT-2 tokenizer files: write, read back, and reject malformed ones with clear errors', () => {
  const tok = handTokenizer();
  const { vocabJson, mergesTxt } = tok.toFiles();
  assert.ok(mergesTxt.startsWith('#version: 0.2\nh e\nĠ t\n'));
  const again = Gpt2Tokenizer.fromFiles({ vocabJson, mergesTxt });
  assert.deepEqual(again.encode('the hello theell aaa'), tok.encode('the hello theell aaa'));
  // Windows line ends, and a merges file with no version line.
  assert.deepEqual(Gpt2Tokenizer.fromFiles({ vocabJson, mergesTxt: 'h e\r\nĠ t\r\n' }).merges, [['h', 'e'], ['Ġ', 't']]);

  const dir = mkdtempSync(join(tmpdir(), 'text-gpt2-'));
  try {
    saveGpt2Tokenizer(tok, dir);
    assert.deepEqual(loadGpt2Tokenizer(dir).encode(' theell'), [258, 260]);
    writeFileSync(join(dir, 'vocab.json'), '{"a": 0,');
    assert.throws(() => loadGpt2Tokenizer(dir), /vocab\.json \+ merges\.txt\): vocab\.json: not valid JSON/);
    rmSync(join(dir, 'vocab.json'));
    writeFileSync(join(dir, 'encoder.json'), vocabJson); // openai/gpt-2's names work too
    assert.deepEqual(loadGpt2Tokenizer(dir).encode('aaa'), [261, 64]);
    rmSync(join(dir, 'merges.txt'));
    assert.throws(() => loadGpt2Tokenizer(dir), /has none of merges\.txt, vocab\.bpe/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const files = (v: string, m: string) => () => Gpt2Tokenizer.fromFiles({ vocabJson: v, mergesTxt: m });
  assert.throws(files('[1, 2]', ''), /expected a JSON object/);
  assert.throws(files('{"a": -1}', ''), /token "a" has id -1, not a non-negative integer/);
  assert.throws(files('{"a": "0"}', ''), /token "a" has id "0"/);
  const vocab = JSON.parse(vocabJson) as Record<string, number>;
  assert.throws(files(JSON.stringify({ ...vocab, dup: 5 }), ''), /id 5 is given to two tokens, "&" and "dup"/);
  assert.throws(files(JSON.stringify({ ...vocab, 'a b': 300 }), ''), /token "a b" \(id 300\) contains " ", which is not a byte-to-unicode character/);
  const { Ġ: _space, ...noSpace } = vocab;
  assert.throws(files(JSON.stringify(noSpace), ''), /lacks the single-byte token "Ġ" for byte 0x20/);
  assert.throws(files(vocabJson, '#version: 0.2\nh e\nq z\n'), /merge of rank 1 \("q z"\) needs "qz", which is not in the vocabulary/);
  assert.throws(files(vocabJson, '#version: 0.2\nh e\nh x\n'), /"hx", which is not in the vocabulary/);
  assert.throws(files(vocabJson, '#version: 0.2\nh e\nl l\nh e\n'), /merge "h e" is listed twice, with ranks 0 and 2/);
  assert.throws(files(vocabJson, '#version: 0.2\nh e\nhe\n'), /line 3 is "he"; expected two tokens separated by one space/);
  assert.throws(files(vocabJson, '#version: 0.2\nh e\n\nl l\n'), /line 3 is ""/);
  assert.throws(files(vocabJson, 'h  e\n'), /line 1 is "h  e"/);
  assert.throws(() => tok.decode([5, 263]), /id 263 at position 1 is not in the vocabulary/);
  assert.throws(() => tok.encodeBytes([1, 256]), /element 1 is 256, not a byte/);
  assert.equal(formatMergesTxt([]), '#version: 0.2\n');
});

/** The Python reference's vocabulary, trained on Tiny Shakespeare: real merges for round-trip tests. */
function shakespeareTokenizer(): Gpt2Tokenizer {
  const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/text-bpe-shakespeare.json', import.meta.url), 'utf8'));
  return Gpt2Tokenizer.fromFiles({ vocabJson: fixture.vocabJson, mergesTxt: fixture.mergesTxt });
}

test('round trip: any Unicode text survives encode then decode (lone surrogates become U+FFFD)', () => {
  const next = rng(3);
  for (const tok of [shakespeareTokenizer(), new Gpt2Tokenizer(byteVocab(), [])]) {
    for (let i = 0; i < 400; i++) {
      const s = randomText(next, Math.floor(next() * 60), false);
      const ids = tok.encode(s);
      assert.equal(tok.decode(ids), s, JSON.stringify(s));
      assert.deepEqual(tok.decodeBytes(ids), utf8Encode(s));
    }
    for (let i = 0; i < 200; i++) {
      const s = randomText(next, 1 + Math.floor(next() * 40), true);
      assert.equal(tok.decode(tok.encode(s)), wellFormed(s), JSON.stringify(s));
    }
  }
  // A byte-level vocabulary is never stuck: every text encodes, and Shakespeare compresses.
  const tok = shakespeareTokenizer();
  const text = 'ROMEO:\nBut soft, what light through yonder window breaks?\n';
  assert.ok(tok.encode(text).length < utf8Encode(text).length / 2);
});

test('round trip: arbitrary bytes survive encodeBytes then decodeBytes; decode replaces invalid UTF-8', () => {
  const next = rng(4);
  const tok = shakespeareTokenizer();
  const dec = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  for (let i = 0; i < 500; i++) {
    const bytes: number[] = [];
    const n = Math.floor(next() * 40);
    for (let k = 0; k < n; k++) {
      const r = next();
      if (r < 0.4) bytes.push(...utf8Encode('the king ')); // valid text that merges
      else if (r < 0.7) bytes.push(0x80 + Math.floor(next() * 0x80)); // lead or continuation bytes
      else bytes.push(Math.floor(next() * 256));
    }
    const ids = tok.encodeBytes(bytes);
    assert.deepEqual(tok.decodeBytes(ids), bytes);
    assert.equal(tok.decode(ids), dec.decode(Uint8Array.from(bytes)));
  }
  // valid UTF-8 encodes exactly as its text does
  const s = 'Thou art 日本 😀';
  assert.deepEqual(tok.encodeBytes(utf8Encode(s)), tok.encode(s));
  // every single byte alone decodes to itself
  for (let b = 0; b < 256; b++) assert.deepEqual(tok.decodeBytes(tok.encodeBytes([b])), [b]);
});
