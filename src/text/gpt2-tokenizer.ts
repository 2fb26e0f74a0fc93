/**
 * GPT-2's byte-level BPE tokenizer (Radford et al. 2019, "Language Models are Unsupervised Multitask
 * Learners", Sec. 2.2; Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword
 * Units", arXiv:1508.07909, for BPE itself), reading the files GPT-2 ships:
 * - vocab.json (called encoder.json in openai/gpt-2): a JSON object from token string to id, where a
 *   token string spells the token's bytes through the byte-to-unicode table;
 * - merges.txt (vocab.bpe in openai/gpt-2): an optional first line `#version: ...`, then one merge per
 *   line, "left right", in order of priority (the first line is rank 0, merged first).
 *
 * Encoding a text (encoder.py's `encode`): cut it into pre-tokens with GPT-2's pattern; write each
 * pre-token's UTF-8 bytes as byte-to-unicode characters; then, in each pre-token, repeatedly merge the
 * adjacent pair with the lowest rank (every occurrence of it, left to right) until no adjacent pair is in
 * the merge list; the resulting symbols' ids are the encoding. Decoding concatenates the tokens' bytes
 * and reads them as UTF-8, invalid sequences becoming U+FFFD (encoder.py's errors="replace").
 */
import { bytesToUnicode, preTokenize, unicodeToBytes } from './byte-level.js';
import { checkBytes, fromCodePoints, readUtf8, utf8Decode, utf8Encode } from './utf8.js';

/** GPT-2's one special token; id 50256 in its vocabulary, written between documents in training. */
export const END_OF_TEXT = '<|endoftext|>';

/** The first line of GPT-2's merges file. */
export const MERGES_VERSION_LINE = '#version: 0.2';

/** Options for building a Gpt2Tokenizer. */
export interface Gpt2TokenizerOptions {
  /**
   * Tokens that `encode` may treat as indivisible when allowed (see EncodeOptions). Each must be in the
   * vocabulary. Default: ['<|endoftext|>'] if the vocabulary has it, else none.
   */
  specialTokens?: readonly string[];
}

/** Options for `Gpt2Tokenizer.encode`. */
export interface EncodeOptions {
  /**
   * Special tokens whose text in the input becomes the special token's id: 'all', or a list of them.
   * Default: none, as GPT-2's encoder.py does, so the text "<|endoftext|>" is encoded as ordinary text
   * (several tokens) and input text cannot smuggle in a document boundary.
   */
  allowedSpecial?: 'all' | readonly string[];
}

/** The two files of a GPT-2 tokenizer, as text. */
export interface Gpt2TokenizerFiles {
  /** The contents of vocab.json. */
  vocabJson: string;
  /** The contents of merges.txt. */
  mergesTxt: string;
}

/** Escapes a string for use inside a RegExp. */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Parses vocab.json: a JSON object whose values are distinct non-negative integer ids. Errors name the
 * offending token. (JSON.parse keeps the last of two equal keys; such a file is not detected here.)
 */
export function parseVocabJson(json: string, what = 'vocab.json'): Map<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new Error(`${what}: not valid JSON (${(e as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what}: expected a JSON object from token string to id`);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(value as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new Error(`${what}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, not a non-negative integer`);
    }
    vocab.set(token, id);
  }
  return vocab;
}

/**
 * Parses merges.txt into [left, right] pairs in rank order. A first line starting with '#version' is
 * skipped, as is one empty line at the end; every other line must be two non-empty tokens separated by
 * one space. Windows line ends are accepted.
 */
export function parseMergesTxt(text: string, what = 'merges.txt'): [string, string][] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  let start = 0;
  if (lines.length > 0 && lines[0].startsWith('#version')) start = 1;
  let end = lines.length;
  if (end > start && lines[end - 1] === '') end--;
  const merges: [string, string][] = [];
  for (let i = start; i < end; i++) {
    const parts = lines[i].split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`${what}: line ${i + 1} is ${JSON.stringify(lines[i])}; expected two tokens separated by one space`);
    }
    merges.push([parts[0], parts[1]]);
  }
  return merges;
}

/** vocab.json text for a vocabulary, entries in id order. */
export function formatVocabJson(vocab: ReadonlyMap<string, number>): string {
  const entries = [...vocab.entries()].sort((a, b) => a[1] - b[1]);
  return JSON.stringify(Object.fromEntries(entries));
}

/** merges.txt text for a merge list: the version line, one "left right" line per merge, a final newline. */
export function formatMergesTxt(merges: readonly (readonly [string, string])[]): string {
  return [MERGES_VERSION_LINE, ...merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n';
}

/** GPT-2's byte-level BPE: encode text to ids and decode ids to text with a vocabulary and merge list. */
export class Gpt2Tokenizer {
  /** Token string (bytes spelled through the byte-to-unicode table) to id: vocab.json's contents. */
  readonly encoder: ReadonlyMap<string, number>;
  /** The merges in rank order: merges[r] = [left, right] is merged before any rank above r. */
  readonly merges: readonly (readonly [string, string])[];
  /** The special tokens that `encode` can recognise when allowed. */
  readonly specialTokens: readonly string[];

  private readonly decoder = new Map<number, string>();
  private readonly tokenBytes = new Map<number, number[]>();
  private readonly ranks = new Map<string, number>(); // "left right" -> rank; tokens never contain ' '
  private readonly byteEncoder = bytesToUnicode();
  private readonly byteIds: number[]; // byteIds[b]: the id of the single-byte token for byte b
  private readonly cache = new Map<string, number[]>(); // pre-token -> its ids, as encoder.py's cache
  private readonly maxCacheEntries = 100_000;
  private readonly size: number; // one more than the largest id

  /**
   * A tokenizer from a vocabulary (token string to id) and a merge list in rank order. Checks that ids
   * are distinct, that every token is spelled with byte-to-unicode characters, that all 256 single-byte
   * tokens exist, and that each merge's two parts and its result are in the vocabulary and no merge is
   * listed twice; errors name the token or merge at fault.
   */
  constructor(
    vocab: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
    merges: readonly (readonly [string, string])[],
    options: Gpt2TokenizerOptions = {},
  ) {
    const encoder = vocab instanceof Map ? new Map(vocab) : new Map(Object.entries(vocab));
    const byteDecoder = unicodeToBytes();
    for (const [token, id] of encoder) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
        throw new Error(`Gpt2Tokenizer: token ${JSON.stringify(token)} has id ${id}, not a non-negative integer`);
      }
      const other = this.decoder.get(id);
      if (other !== undefined) {
        throw new Error(`Gpt2Tokenizer: id ${id} is given to two tokens, ${JSON.stringify(other)} and ${JSON.stringify(token)}`);
      }
      if (token.length === 0) throw new Error(`Gpt2Tokenizer: the vocabulary has an empty token (id ${id})`);
      const bytes: number[] = [];
      for (const ch of token) {
        const b = byteDecoder.get(ch);
        if (b === undefined) {
          throw new Error(
            `Gpt2Tokenizer: token ${JSON.stringify(token)} (id ${id}) contains ${JSON.stringify(ch)}, which is not a ` +
              'byte-to-unicode character; GPT-2 vocabularies spell every token through that table',
          );
        }
        bytes.push(b);
      }
      this.decoder.set(id, token);
      this.tokenBytes.set(id, bytes);
    }
    this.byteIds = this.byteEncoder.map((ch, b) => {
      const id = encoder.get(ch);
      if (id === undefined) {
        throw new Error(`Gpt2Tokenizer: the vocabulary lacks the single-byte token ${JSON.stringify(ch)} for byte 0x${b.toString(16).padStart(2, '0')}; every byte needs one`);
      }
      return id;
    });
    merges.forEach(([left, right], rank) => {
      for (const part of [left, right, left + right]) {
        if (!encoder.has(part)) {
          throw new Error(`Gpt2Tokenizer: merge of rank ${rank} ("${left} ${right}") needs ${JSON.stringify(part)}, which is not in the vocabulary`);
        }
      }
      const key = `${left} ${right}`;
      const first = this.ranks.get(key);
      if (first !== undefined) {
        throw new Error(`Gpt2Tokenizer: merge "${key}" is listed twice, with ranks ${first} and ${rank} (merges.txt lines ${first + 2} and ${rank + 2} after a version line)`);
      }
      this.ranks.set(key, rank);
    });
    const specials = options.specialTokens ?? (encoder.has(END_OF_TEXT) ? [END_OF_TEXT] : []);
    for (const s of specials) {
      if (!encoder.has(s)) throw new Error(`Gpt2Tokenizer: special token ${JSON.stringify(s)} is not in the vocabulary`);
    }
    this.encoder = encoder;
    let maxId = -1;
    for (const id of this.decoder.keys()) maxId = Math.max(maxId, id);
    this.size = maxId + 1;
    this.merges = merges.map(([a, b]) => [a, b] as const);
    this.specialTokens = [...specials];
  }

  /** A tokenizer from the text of vocab.json and merges.txt (see the constructor for what is checked). */
  static fromFiles(files: Gpt2TokenizerFiles, options: Gpt2TokenizerOptions = {}): Gpt2Tokenizer {
    return new Gpt2Tokenizer(parseVocabJson(files.vocabJson), parseMergesTxt(files.mergesTxt), options);
  }

  /** The text of vocab.json and merges.txt for this tokenizer. */
  toFiles(): Gpt2TokenizerFiles {
    return { vocabJson: formatVocabJson(this.encoder), mergesTxt: formatMergesTxt(this.merges) };
  }

  /** One more than the largest id: the number of rows an embedding table needs (50257 for GPT-2). */
  get vocabSize(): number {
    return this.size;
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.encoder.get(token);
  }

  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.decoder.get(id);
  }

  /** The id of '<|endoftext|>', or undefined if the vocabulary has none. */
  get endOfTextId(): number | undefined {
    return this.encoder.get(END_OF_TEXT);
  }

  /** The token ids of `text`. Special tokens' text is ordinary text unless allowed in `options`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const allowed = this.allowedSpecials(options);
    if (allowed.length === 0) return this.encodeOrdinary(text);
    // Longest first, so that a special token that is a prefix of another does not cut it.
    const pattern = new RegExp(allowed.sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'gu');
    const ids: number[] = [];
    let last = 0;
    for (const m of text.matchAll(pattern)) {
      const at = m.index ?? 0;
      ids.push(...this.encodeOrdinary(text.slice(last, at)));
      ids.push(this.encoder.get(m[0]) as number);
      last = at + m[0].length;
    }
    ids.push(...this.encodeOrdinary(text.slice(last)));
    return ids;
  }

  /**
   * Token ids for arbitrary bytes, which need not be valid UTF-8: each stretch of valid UTF-8 is encoded
   * as `encode` encodes its text, and each byte of an invalid stretch becomes its single-byte token. So
   * `decodeBytes(encodeBytes(b))` gives back `b` exactly, for any bytes.
   */
  encodeBytes(bytes: readonly number[]): number[] {
    checkBytes(bytes, 'Gpt2Tokenizer.encodeBytes');
    const ids: number[] = [];
    let codePoints: number[] = [];
    const flush = () => {
      if (codePoints.length > 0) ids.push(...this.encodeOrdinary(fromCodePoints(codePoints)));
      codePoints = [];
    };
    for (let i = 0; i < bytes.length; ) {
      const { codePoint, length } = readUtf8(bytes, i);
      if (codePoint === null) {
        flush();
        for (let k = 0; k < length; k++) ids.push(this.byteIds[bytes[i + k]]);
      } else {
        codePoints.push(codePoint);
      }
      i += length;
    }
    flush();
    return ids;
  }

  /** The bytes that a list of ids spells. An unknown id is an error naming it and its position. */
  decodeBytes(ids: readonly number[]): number[] {
    const out: number[] = [];
    ids.forEach((id, i) => {
      const bytes = this.tokenBytes.get(id);
      if (bytes === undefined) throw new RangeError(`Gpt2Tokenizer.decode: id ${id} at position ${i} is not in the vocabulary`);
      for (const b of bytes) out.push(b);
    });
    return out;
  }

  /** The text of a list of ids; bytes that are not valid UTF-8 become U+FFFD, as errors="replace". */
  decode(ids: readonly number[]): string {
    return utf8Decode(this.decodeBytes(ids));
  }

  /** The special tokens that `options` allows, checked against this tokenizer's list. */
  private allowedSpecials(options: EncodeOptions): string[] {
    const { allowedSpecial } = options;
    if (allowedSpecial === undefined) return [];
    if (allowedSpecial === 'all') return [...this.specialTokens];
    for (const s of allowedSpecial) {
      if (!this.specialTokens.includes(s)) {
        throw new Error(`Gpt2Tokenizer.encode: ${JSON.stringify(s)} is not a special token of this tokenizer (${JSON.stringify(this.specialTokens)})`);
      }
    }
    return [...allowedSpecial];
  }

  /** Encodes text with no special tokens: pre-tokenise, then BPE each pre-token (cached). */
  private encodeOrdinary(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(text)) {
      let pieceIds = this.cache.get(piece);
      if (pieceIds === undefined) {
        pieceIds = this.bpe(utf8Encode(piece).map((b) => this.byteEncoder[b]));
        if (this.cache.size >= this.maxCacheEntries) this.cache.clear();
        this.cache.set(piece, pieceIds);
      }
      for (const id of pieceIds) ids.push(id);
    }
    return ids;
  }

  /**
   * encoder.py's `bpe`: start from one symbol per byte; while some adjacent pair is a merge, take the
   * pair of lowest rank and merge each of its occurrences, scanning left to right (so "aaa" with the
   * merge "a a" becomes "aa a"). Returns the ids of the final symbols.
   */
  private bpe(symbols: string[]): number[] {
    let word = symbols;
    while (word.length > 1) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      const left = word[bestAt];
      const right = word[bestAt + 1];
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          merged.push(left + right);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
    }
    return word.map((s) => this.encoder.get(s) as number);
  }
}
