/**
 * A character-level tokenizer, as nanoGPT's data/shakespeare_char/prepare.py builds it: the vocabulary
 * is the sorted set of characters in the corpus, and each character's id is its index there.
 * "Character" means Unicode code point (as a Python str iterates), so an emoji outside the BMP is one
 * token, not two UTF-16 halves.
 */

/** How a character is shown in an error message: itself if printable, else its code point. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? `'${ch}' (${hex})` : hex;
}

/** The saved form of a CharTokenizer (what `toJSON()` gives and `fromJSON()` reads). */
export interface CharTokenizerJSON {
  /** Always 'char', so that a file of another tokenizer is recognised as such. */
  type: 'char';
  /** Number of tokens; equal to chars.length (kept for readers of the file). */
  vocabSize: number;
  /** The vocabulary: chars[id] is the character with that id, in code point order. */
  chars: string[];
}

/** Maps each character (code point) to an id, by the position of the character in a sorted vocabulary. */
export class CharTokenizer {
  /** chars[id]: the character of each id (nanoGPT's `itos`). */
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>; // nanoGPT's `stoi`

  /** A tokenizer with exactly these characters, in this order (each one code point, no repeats). */
  constructor(chars: readonly string[]) {
    const ids = new Map<string, number>();
    chars.forEach((ch, id) => {
      if (typeof ch !== 'string' || Array.from(ch).length !== 1) {
        throw new Error(`CharTokenizer: vocabulary entry ${id} is ${JSON.stringify(ch)}, not a single character`);
      }
      const first = ids.get(ch);
      if (first !== undefined) throw new Error(`CharTokenizer: ${describeChar(ch)} appears twice in the vocabulary (ids ${first} and ${id})`);
      ids.set(ch, id);
    });
    this.chars = [...chars];
    this.ids = ids;
  }

  /** The vocabulary of a corpus: its distinct characters sorted by code point (Python's `sorted(set(data))`). */
  static fromText(corpus: string): CharTokenizer {
    const distinct = [...new Set(Array.from(corpus))];
    distinct.sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
    return new CharTokenizer(distinct);
  }

  /** Number of distinct tokens (the embedding table's row count). */
  get vocabSize(): number {
    return this.chars.length;
  }

  /** The id of each character of `text`. A character outside the vocabulary is an error that names it. */
  encode(text: string): number[] {
    const out: number[] = [];
    let offset = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new Error(`CharTokenizer.encode: ${describeChar(ch)} at offset ${offset} is not in the vocabulary of ${this.vocabSize} characters`);
      }
      out.push(id);
      offset += ch.length;
    }
    return out;
  }

  /** The text of a list of ids. An id outside 0..vocabSize-1 is an error. */
  decode(ids: readonly number[]): string {
    let out = '';
    ids.forEach((id, i) => {
      const ch = Number.isInteger(id) ? this.chars[id] : undefined;
      if (ch === undefined) throw new RangeError(`CharTokenizer.decode: id ${id} at position ${i} is not in 0..${this.vocabSize - 1}`);
      out += ch;
    });
    return out;
  }

  /** The saved form, for JSON.stringify. */
  toJSON(): CharTokenizerJSON {
    return { type: 'char', vocabSize: this.vocabSize, chars: [...this.chars] };
  }

  /** Reads the saved form, from a JSON string or an already-parsed object, checking it field by field. */
  static fromJSON(json: string | unknown): CharTokenizer {
    let value: unknown = json;
    if (typeof json === 'string') {
      try {
        value = JSON.parse(json);
      } catch (e) {
        throw new Error(`CharTokenizer.fromJSON: not valid JSON (${(e as Error).message})`);
      }
    }
    const obj = value as Partial<CharTokenizerJSON> | null;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('CharTokenizer.fromJSON: expected a JSON object');
    if (obj.type !== 'char') throw new Error(`CharTokenizer.fromJSON: "type" is ${JSON.stringify(obj.type)}, expected "char"`);
    if (!Array.isArray(obj.chars)) throw new Error('CharTokenizer.fromJSON: "chars" must be an array of characters');
    if (obj.vocabSize !== undefined && obj.vocabSize !== obj.chars.length) {
      throw new Error(`CharTokenizer.fromJSON: "vocabSize" is ${obj.vocabSize} but "chars" has ${obj.chars.length} entries`);
    }
    return new CharTokenizer(obj.chars);
  }
}
