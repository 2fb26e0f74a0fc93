/**
 * The two pieces of GPT-2's byte-level BPE that come before any merge (Radford et al. 2019, "Language
 * Models are Unsupervised Multitask Learners", Sec. 2.2 "Input Representation"; the code is
 * openai/gpt-2 src/encoder.py):
 * - the byte-to-unicode table, which gives each of the 256 byte values a printable character so that
 *   vocab.json and merges.txt can be plain text;
 * - the pre-tokenisation pattern, which cuts text into words, numbers, punctuation runs and spaces before
 *   BPE, so that merges never cross those boundaries ("dog." and "dog!" share the token "dog").
 */

/**
 * GPT-2's `bytes_to_unicode()`: byte b maps to the character with code point b when b is printable
 * ('!'..'~', '¡'..'¬', '®'..'ÿ'), and the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) map,
 * in increasing byte order, to U+0100, U+0101, ... So the space byte 0x20 is 'Ġ' (U+0120) and '\n' is 'Ċ'.
 * Index: byte value; element: a one-character string.
 */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    table.push(String.fromCharCode(printable(b) ? b : 256 + n));
    if (!printable(b)) n++;
  }
  return table;
}

/**
 * The order in which GPT-2's `bytes_to_unicode()` lists the bytes: the printable ones first, then the
 * others. GPT-2's vocab.json gives the 256 single-byte tokens ids in this order ('!' is 0, 'Ġ' is 220),
 * and the BPE trainer does the same.
 */
export function gpt2ByteOrder(): number[] {
  const printable: number[] = [];
  const rest: number[] = [];
  const table = bytesToUnicode();
  for (let b = 0; b < 256; b++) (table[b].charCodeAt(0) === b ? printable : rest).push(b);
  return [...printable, ...rest];
}

/** The inverse of `bytesToUnicode()`: from a character to its byte value. */
export function unicodeToBytes(): Map<string, number> {
  return new Map(bytesToUnicode().map((ch, b) => [ch, b]));
}

/**
 * GPT-2's pre-tokenisation pattern, from encoder.py:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * GPT-2 runs it with Python's `regex` module, where `\s` is Unicode's White_Space property (25 code
 * points). JavaScript's `\s` is a different set (it adds U+FEFF and lacks U+0085), so `\s` is written
 * here as `\p{White_Space}` to split exactly as GPT-2 does. Contractions are matched case-sensitively,
 * as in GPT-2 ("'S" is not a contraction). `\s+(?!\S)` leaves the last space of a run to start the next
 * word, which is why words carry their leading space (" the").
 */
export const GPT2_SPLIT_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** Cuts text into GPT-2's pre-tokens (the pattern's matches, which cover the whole text). */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_SPLIT_PATTERN) ?? [];
}
