/**
 * Learning a byte-level BPE vocabulary from a corpus, the way GPT-2's was learned (Sennrich et al. 2016,
 * "Neural Machine Translation of Rare Words with Subword Units", arXiv:1508.07909, Algorithm 1, on bytes
 * as in Radford et al. 2019, Sec. 2.2). The result loads into Gpt2Tokenizer.
 *
 * The rule, exactly (tools/reference/bpe_reference.py implements the same rule independently):
 * 1. Cut the corpus into pre-tokens with GPT-2's pattern and count each distinct pre-token. Merges never
 *    cross a pre-token boundary. Each pre-token starts as the sequence of its UTF-8 bytes.
 * 2. Count every adjacent pair of symbols inside pre-tokens, weighted by the pre-token's count.
 * 3. Take the pair with the highest count. Ties go to the pair whose (bytes of left, bytes of right) is
 *    smallest, comparing the left symbols' bytes lexicographically first (a proper prefix sorts before
 *    the longer string), then the right symbols'. Stop when `numMerges` merges are learned, no pair is
 *    left, or the best count is below `minFrequency`.
 * 4. Record the merge, and in every pre-token replace each occurrence of the pair, scanning left to
 *    right, by one symbol (so "aaa" with the pair a+a becomes "aa a"). Go to 3.
 * Symbols are identified by their bytes: a merge that spells the same bytes as an existing token gives
 * that token (no new id), and a pair that is already a rule (which only that can bring back) is merged
 * again without a second rule.
 *
 * Vocabulary ids follow GPT-2's layout: the 256 single bytes in bytes_to_unicode order (ids 0..255),
 * then each new merged token in order of its merge, then the special tokens (GPT-2: 50000 merges, so
 * '<|endoftext|>' is 50256).
 *
 * Speed: rather than recounting all pairs after each merge, the trainer keeps the pair counts, an index
 * from each pair to the pre-tokens that contain it, and a max-heap of (count, pair) entries. A merge
 * touches only the pre-tokens that hold the pair: it subtracts their old pairs, adds their new ones, and
 * pushes a heap entry for every pair whose count changed. Heap entries whose count is out of date are
 * dropped when they reach the top.
 */
import { bytesToUnicode, gpt2ByteOrder, preTokenize } from './byte-level.js';
import { END_OF_TEXT } from './gpt2-tokenizer.js';
import { utf8Encode } from './utf8.js';

/** Options of `trainBpe`. */
export interface BpeTrainerOptions {
  /** How many merges to learn (GPT-2: 50000). Fewer are learned if the corpus runs out of pairs. */
  numMerges: number;
  /** Stop when the most frequent pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
  /** Tokens appended to the vocabulary after the merges. Default ['<|endoftext|>']. */
  specialTokens?: readonly string[];
}

/** What `trainBpe` learned: the contents of vocab.json and merges.txt, and how often each merge occurred. */
export interface BpeTrainResult {
  /** Token string (through GPT-2's byte-to-unicode table) to id. */
  vocab: Map<string, number>;
  /** The merges, in the order learned (rank order). */
  merges: [string, string][];
  /** mergeCounts[r]: the count of merge r's pair when it was chosen (non-increasing but for ties). */
  mergeCounts: number[];
}

/** Compares two byte strings lexicographically; a proper prefix sorts first. */
function compareBytes(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** One heap entry: a pair of symbol ids and its count when pushed. */
interface PairEntry {
  count: number;
  left: number;
  right: number;
}

/** A binary max-heap ordered by a "comes first" test. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.before(items[l], items[best])) best = l;
        if (r < items.length && this.before(items[r], items[best])) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }
}

/** Pair (left, right) as one Map key; symbol ids stay below 2^21, so the key is an exact integer. */
const PAIR_SHIFT = 2 ** 21;
const pairKey = (left: number, right: number) => left * PAIR_SHIFT + right;

/**
 * Learns `options.numMerges` byte-level BPE merges from `corpus` by the rule in this file's header.
 * The corpus may be one string or several documents (pre-tokens never span two documents).
 */
export function trainBpe(corpus: string | Iterable<string>, options: BpeTrainerOptions): BpeTrainResult {
  const { numMerges, minFrequency = 2, specialTokens = [END_OF_TEXT] } = options;
  if (!Number.isInteger(numMerges) || numMerges < 0) throw new RangeError(`trainBpe: numMerges must be a non-negative integer, got ${numMerges}`);
  if (numMerges + 256 >= PAIR_SHIFT) throw new RangeError(`trainBpe: numMerges ${numMerges} is above the limit of ${PAIR_SHIFT - 257}`);
  if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new RangeError(`trainBpe: minFrequency must be a positive integer, got ${minFrequency}`);

  // 1. Distinct pre-tokens and their counts.
  const wordCounts = new Map<string, number>();
  for (const doc of typeof corpus === 'string' ? [corpus] : corpus) {
    for (const piece of preTokenize(doc)) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
  }
  const words: number[][] = []; // each pre-token as symbol ids; ids 0..255 are the bytes themselves
  const freqs: number[] = [];
  for (const [piece, count] of wordCounts) {
    words.push(utf8Encode(piece));
    freqs.push(count);
  }

  // Symbols: their bytes, and an id per distinct byte string (so equal spellings share an id).
  const symbolBytes: number[][] = [];
  const symbolByKey = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    symbolBytes.push([b]);
    symbolByKey.set(String(b), b);
  }

  // 2. Pair counts, and which pre-tokens hold each pair (entries may be stale; checked on use).
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number, delta: Map<number, number>) => {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      delta.set(key, (delta.get(key) ?? 0) + sign * freqs[w]);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (set === undefined) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const initial = new Map<number, number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);

  const before = (x: PairEntry, y: PairEntry): boolean => {
    if (x.count !== y.count) return x.count > y.count;
    const c = compareBytes(symbolBytes[x.left], symbolBytes[y.left]);
    if (c !== 0) return c < 0;
    return compareBytes(symbolBytes[x.right], symbolBytes[y.right]) < 0;
  };
  const heap = new Heap<PairEntry>(before);
  const applyDelta = (delta: Map<number, number>) => {
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const count = (pairCounts.get(key) ?? 0) + d;
      if (count > 0) {
        pairCounts.set(key, count);
        heap.push({ count, left: Math.floor(key / PAIR_SHIFT), right: key % PAIR_SHIFT });
      } else {
        pairCounts.delete(key);
      }
    }
  };
  applyDelta(initial);

  // 3-4. Merge the best pair until done.
  const mergeIds: [number, number][] = [];
  const mergeCounts: number[] = [];
  const rules = new Set<number>();
  while (mergeIds.length < numMerges) {
    const top = heap.pop();
    if (top === undefined) break;
    const key = pairKey(top.left, top.right);
    if (pairCounts.get(key) !== top.count) continue; // out of date: a newer entry holds the current count
    if (top.count < minFrequency) break;
    const { left, right } = top;
    const bytes = [...symbolBytes[left], ...symbolBytes[right]];
    const spelling = bytes.join(',');
    let merged = symbolByKey.get(spelling);
    if (merged === undefined) {
      merged = symbolBytes.length;
      symbolBytes.push(bytes);
      symbolByKey.set(spelling, merged);
    }
    if (!rules.has(key)) {
      rules.add(key);
      mergeIds.push([left, right]);
      mergeCounts.push(top.count);
    }
    const delta = new Map<number, number>();
    for (const w of pairWords.get(key) ?? []) {
      const word = words[w];
      let holds = false;
      for (let i = 0; i + 1 < word.length && !holds; i++) holds = word[i] === left && word[i + 1] === right;
      if (!holds) continue; // the index entry is stale
      addPairs(w, -1, delta);
      const next: number[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          next.push(merged);
          i += 2;
        } else {
          next.push(word[i]);
          i += 1;
        }
      }
      words[w] = next;
      addPairs(w, 1, delta);
    }
    pairWords.delete(key);
    applyDelta(delta);
  }

  // The files: byte tokens in GPT-2's order, merged tokens in merge order, then the special tokens.
  const table = bytesToUnicode();
  const spell = (symbol: number) => symbolBytes[symbol].map((b) => table[b]).join('');
  const vocab = new Map<string, number>();
  for (const b of gpt2ByteOrder()) vocab.set(table[b], vocab.size);
  const merges: [string, string][] = [];
  for (const [left, right] of mergeIds) {
    merges.push([spell(left), spell(right)]);
    const token = spell(left) + spell(right);
    if (!vocab.has(token)) vocab.set(token, vocab.size);
  }
  for (const s of specialTokens) {
    if (vocab.has(s)) throw new Error(`trainBpe: special token ${JSON.stringify(s)} is already a learned token`);
    vocab.set(s, vocab.size);
  }
  return { vocab, merges, mergeCounts };
}
