/**
 * UTF-8 by hand, on plain arrays of byte values (0..255).
 *
 * Byte-level BPE works on the UTF-8 bytes of a text, so the tokenizers need both directions. They are
 * written out here rather than taken from TextEncoder/TextDecoder so that the rules are visible and the
 * text layer stays on plain arrays (typed arrays live in src/backend and src/io only). The behaviour is
 * the WHATWG Encoding Standard's, which is also what Python's `bytes.decode('utf-8', errors='replace')`
 * does (GPT-2's encoder.py decodes with errors="replace"):
 * - encoding: a lone surrogate (half of a UTF-16 pair with no partner) cannot be UTF-8, and is encoded
 *   as U+FFFD REPLACEMENT CHARACTER (EF BF BD), as TextEncoder does;
 * - decoding: each maximal prefix of a valid sequence that ends early (an "ill-formed subsequence",
 *   Unicode Core Spec Sec. 3.9, "U+FFFD Substitution of Maximal Subparts") becomes one U+FFFD.
 */

/** U+FFFD, the character that stands for bytes or UTF-16 units that are not valid. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/** Appends the UTF-8 bytes of one code point (0..0x10FFFF, not a surrogate) to `out`. */
function pushCodePoint(cp: number, out: number[]): void {
  if (cp < 0x80) {
    out.push(cp);
  } else if (cp < 0x800) {
    out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  } else {
    out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
}

/** The UTF-8 bytes of a string. Lone surrogates become U+FFFD (bytes EF BF BD), as TextEncoder does. */
export function utf8Encode(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        pushCodePoint(0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00), out);
        i++;
      } else {
        pushCodePoint(0xfffd, out);
      }
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      pushCodePoint(0xfffd, out);
    } else {
      pushCodePoint(unit, out);
    }
  }
  return out;
}

/**
 * Reads the UTF-8 sequence that starts at `bytes[start]`. Returns its code point and length, or, when
 * the bytes there are not a valid sequence, `codePoint: null` and the length of the maximal subpart
 * (the lead byte and the continuation bytes that were still acceptable; at least 1).
 *
 * Valid sequences (Unicode Core Spec Table 3-7): 00..7F; C2..DF 80..BF; E0 A0..BF 80..BF;
 * E1..EC 80..BF 80..BF; ED 80..9F 80..BF (no surrogates); EE..EF 80..BF 80..BF; F0 90..BF 80..BF 80..BF;
 * F1..F3 80..BF 80..BF 80..BF; F4 80..8F 80..BF 80..BF (nothing above U+10FFFF).
 */
export function readUtf8(bytes: readonly number[], start: number): { codePoint: number | null; length: number } {
  const b0 = bytes[start];
  if (b0 < 0x80) return { codePoint: b0, length: 1 };
  let needed: number;
  let cp: number;
  let lower = 0x80;
  let upper = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    needed = 1;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    needed = 2;
    cp = b0 & 0x0f;
    if (b0 === 0xe0) lower = 0xa0; // shorter forms are overlong
    if (b0 === 0xed) upper = 0x9f; // ED A0..BF would encode a surrogate
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    needed = 3;
    cp = b0 & 0x07;
    if (b0 === 0xf0) lower = 0x90; // overlong
    if (b0 === 0xf4) upper = 0x8f; // above U+10FFFF
  } else {
    return { codePoint: null, length: 1 }; // 80..C1 and F5..FF never start a sequence
  }
  for (let k = 1; k <= needed; k++) {
    const b = start + k < bytes.length ? bytes[start + k] : -1;
    if (b < lower || b > upper) return { codePoint: null, length: k };
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
  }
  return { codePoint: cp, length: needed + 1 };
}

/** Builds a string from code points, in chunks so that long texts do not overflow the call stack. */
export function fromCodePoints(codePoints: readonly number[]): string {
  let out = '';
  for (let i = 0; i < codePoints.length; i += 8192) {
    out += String.fromCodePoint(...codePoints.slice(i, i + 8192));
  }
  return out;
}

/** Decodes UTF-8 bytes; each invalid stretch (maximal subpart) becomes one U+FFFD, as errors='replace'. */
export function utf8Decode(bytes: readonly number[]): string {
  const codePoints: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const { codePoint, length } = readUtf8(bytes, i);
    codePoints.push(codePoint ?? 0xfffd);
    i += length;
  }
  return fromCodePoints(codePoints);
}

/** Checks that every element is an integer byte value 0..255, naming `what` and the position if not. */
export function checkBytes(bytes: readonly number[], what: string): void {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (!Number.isInteger(b) || b < 0 || b > 255) {
      throw new RangeError(`${what}: element ${i} is ${b}, not a byte (an integer 0..255)`);
    }
  }
}
