/**
 * safetensors: read and write the tensor file format of Hugging Face's `safetensors` library
 * (https://github.com/huggingface/safetensors, README "Format"). A file is
 *
 *   8 bytes   N, an unsigned little-endian 64-bit integer: the size of the header
 *   N bytes   a UTF-8 JSON object {name: {dtype, shape, data_offsets: [begin, end]}, ...},
 *             with an optional "__metadata__": {string: string}; it starts with '{' and may be
 *             padded at the end with spaces
 *   rest      the byte buffer; offsets are relative to its start, tensors are row-major,
 *             little-endian, and together they cover the buffer exactly, without holes or overlaps.
 *
 * Reading trusts nothing: every length, offset, shape and dtype is checked against the file before
 * anything is allocated, so a malformed or hostile file gives a clear error (naming the file and the
 * tensor) and never a crash, a hang or an allocation larger than the file. F16, BF16 and the FP8
 * formats are widened to float32; the integer types become int32 (64- and 32-bit unsigned values are
 * checked to fit); BOOL becomes bool.
 *
 * Writing follows the reference implementation byte for byte: tensors sorted by dtype, widest
 * first, then by name (so every tensor starts at a multiple of its element size), the header
 * padded with spaces to a multiple of 8, "__metadata__" first.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { DType } from '../dtype.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';

/** The element types of the safetensors format. */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/**
 * Every dtype in the order of the reference implementation's `Dtype` enum (increasing alignment);
 * writers sort tensors by the reverse of this order.
 */
export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64',
];

const ELEMENT_SIZE: Record<SafetensorsDType, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** The milestones dtype each file dtype is read as. */
const READ_AS: Record<SafetensorsDType, DType> = {
  BOOL: 'bool', U8: 'int32', I8: 'int32', I16: 'int32', U16: 'int32', I32: 'int32', U32: 'int32', I64: 'int32', U64: 'int32',
  F8_E5M2: 'float32', F8_E4M3: 'float32', F16: 'float32', BF16: 'float32', F32: 'float32', F64: 'float64',
};

/** The file dtype each milestones dtype is written as. */
const WRITE_AS: Record<DType, SafetensorsDType> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/** The reference implementation refuses headers over 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

/** JSON nesting never goes deeper than root -> entry -> shape in a valid header. */
const MAX_JSON_DEPTH = 4;

/** One tensor's entry in the header. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** [begin, end) in bytes, relative to the start of the byte buffer. */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed and validated header. */
export interface SafetensorsHeader {
  /** N: the header's length in bytes (the byte buffer starts at 8 + N). */
  readonly headerBytes: number;
  /** The entries in the order of their data in the file. */
  readonly entries: readonly SafetensorsEntry[];
  /** The "__metadata__" map, or null when the file has none. */
  readonly metadata: Readonly<Record<string, string>> | null;
}

/** What reading a file gives: the tensors by name (in file order) and the metadata. */
export interface SafetensorsContents {
  readonly tensors: Record<string, Tensor>;
  readonly metadata: Record<string, string> | null;
  /** The dtype each tensor had in the file (before widening). */
  readonly fileDTypes: Record<string, SafetensorsDType>;
}

export interface SafetensorsReadOptions {
  /** Where the tensors go (default: the default device). */
  device?: string;
  /** Names the data in error messages (default: the path, or `<buffer>`). */
  source?: string;
}

/** Thrown for every problem with a safetensors file; the message names the file and the tensor. */
export class SafetensorsError extends Error {
  constructor(source: string, message: string) {
    super(`safetensors: ${source}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

// ---------------------------------------------------------------------------------------------
// The header's JSON. JSON.parse cannot see duplicate keys (the format disallows them) and would
// accept numbers like 1e400 or 1.5 where the format needs integers, so the header is read by a
// small strict parser. Objects are Maps, so a key like "__proto__" is just a key.
// ---------------------------------------------------------------------------------------------

/** A UTF-16 surrogate without its partner: such a string has no UTF-8 encoding. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

type Json = null | boolean | number | string | Json[] | Map<string, Json>;

class HeaderParser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly fail: (msg: string) => never,
  ) {}

  parseDocument(): Json {
    const value = this.value(0);
    this.skipSpace();
    if (this.i !== this.text.length) this.fail(`header: unexpected ${this.describe()} after the JSON object`);
    return value;
  }

  private describe(): string {
    if (this.i >= this.text.length) return 'end of header';
    return `character ${JSON.stringify(this.text[this.i])} at header offset ${this.i}`;
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.i++;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_JSON_DEPTH) this.fail(`header: JSON nested deeper than a safetensors header can be (at header offset ${this.i})`);
    this.skipSpace();
    const c = this.text[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.integer();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(`header: invalid JSON: unexpected ${this.describe()}`);
  }

  private object(depth: number): Map<string, Json> {
    const out = new Map<string, Json>();
    this.i++; // '{'
    this.skipSpace();
    if (this.text[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] !== '"') this.fail(`header: invalid JSON: expected a key, got ${this.describe()}`);
      const key = this.string();
      if (out.has(key)) this.fail(`header: duplicate key ${JSON.stringify(key)} (the format disallows duplicates)`);
      this.skipSpace();
      if (this.text[this.i] !== ':') this.fail(`header: invalid JSON: expected ':', got ${this.describe()}`);
      this.i++;
      out.set(key, this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.i];
      this.i++;
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail(`header: invalid JSON: expected ',' or '}', got ${this.describe()}`);
      }
    }
  }

  private array(depth: number): Json[] {
    const out: Json[] = [];
    this.i++; // '['
    this.skipSpace();
    if (this.text[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.skipSpace();
      const c = this.text[this.i];
      this.i++;
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail(`header: invalid JSON: expected ',' or ']', got ${this.describe()}`);
      }
    }
  }

  private string(): string {
    const t = this.text;
    this.i++; // opening quote
    let out = '';
    let runStart = this.i;
    for (;;) {
      if (this.i >= t.length) this.fail('header: invalid JSON: unterminated string');
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        out += t.slice(runStart, this.i);
        this.i++;
        if (LONE_SURROGATE.test(out)) this.fail(`header: invalid JSON: string ending at header offset ${this.i} has a lone surrogate escape`);
        return out;
      }
      if (c < 0x20) this.fail(`header: invalid JSON: control character in a string at header offset ${this.i}`);
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += t.slice(runStart, this.i);
      const e = t[this.i + 1];
      this.i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = t.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`header: invalid JSON: bad \\u escape at header offset ${this.i - 2}`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          this.i -= 2;
          this.fail(`header: invalid JSON: bad escape at header offset ${this.i}`);
      }
      runStart = this.i;
    }
  }

  /** Every number in a safetensors header is an integer; fractions and exponents are refused. */
  private integer(): number {
    const m = /-?(0|[1-9][0-9]*)/y;
    m.lastIndex = this.i;
    const found = m.exec(this.text);
    if (!found) this.fail(`header: invalid JSON number at header offset ${this.i}`);
    const after = this.text[this.i + found[0].length];
    if (after === '.' || after === 'e' || after === 'E') {
      this.fail(`header: number at header offset ${this.i} is not an integer (safetensors headers hold only integers)`);
    }
    this.i += found[0].length;
    // Digits beyond 2^53 lose precision; they are caught as "not a safe integer" by the caller.
    return found[0].length > 20 ? Infinity * (found[0][0] === '-' ? -1 : 1) : Number(found[0]);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/**
 * Reads N from the first 8 bytes and checks it against the file's size: N must fit the file (and
 * the 100 MB limit) before a single header byte is read.
 */
export function readHeaderLength(first8: Uint8Array, fileSize: number, source = '<buffer>'): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new SafetensorsError(source, `file is ${fileSize} bytes, too short to hold the 8-byte header length`);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  // hi * 2^32 + lo is exact below 2^53; anything with hi >= 2^21 is far past the limit anyway.
  const n = hi >= 0x200000 ? Infinity : hi * 4294967296 + lo;
  if (n > MAX_HEADER_BYTES) {
    throw new SafetensorsError(source, `header length ${view.getBigUint64(0, true)} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (n > fileSize - 8) {
    throw new SafetensorsError(source, `header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  if (n < 2) throw new SafetensorsError(source, `header length ${n} is too small to hold a JSON object`);
  return n;
}

function isSafeNonNegative(v: Json): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0);
}

/**
 * Parses and validates the header bytes (the N bytes after the length), given the size of the byte
 * buffer that follows them. Checks: UTF-8, a JSON object starting with '{', known dtypes, shapes of
 * non-negative integers, offsets inside the buffer, byte counts equal to numel times the element
 * size, and tensors that tile the buffer exactly (no overlaps, no holes, no trailing bytes).
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, bufferSize: number, source = '<buffer>'): SafetensorsHeader {
  const fail = (msg: string): never => {
    throw new SafetensorsError(source, msg);
  };
  if (headerBytes[0] !== 0x7b) fail(`header must start with '{' (byte 0x7b), found byte 0x${(headerBytes[0] ?? 0).toString(16).padStart(2, '0')}`);
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8');
  }
  const root = new HeaderParser(text, fail).parseDocument();
  if (!(root instanceof Map)) return fail('header is not a JSON object');

  let metadata: Record<string, string> | null = null;
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of root) {
    if (name === '__metadata__') {
      if (!(info instanceof Map)) fail('"__metadata__" must be an object of strings');
      metadata = Object.create(null) as Record<string, string>;
      for (const [k, v] of info as Map<string, Json>) {
        if (typeof v !== 'string') fail(`"__metadata__" value for ${JSON.stringify(k)} must be a string, got ${describeJson(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (!(info instanceof Map)) fail(`${where}: entry must be an object {dtype, shape, data_offsets}, got ${describeJson(info)}`);
    const entry = info as Map<string, Json>;
    for (const key of entry.keys()) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') fail(`${where}: unknown field ${JSON.stringify(key)}`);
    }
    const dtype = entry.get('dtype');
    if (typeof dtype !== 'string' || !(SAFETENSORS_DTYPES as readonly string[]).includes(dtype)) {
      fail(`${where}: unknown dtype ${describeJson(dtype ?? null)} (known: ${SAFETENSORS_DTYPES.join(', ')})`);
    }
    const shape = entry.get('shape');
    if (!Array.isArray(shape)) fail(`${where}: "shape" must be an array of non-negative integers, got ${describeJson(shape ?? null)}`);
    const dims = shape as Json[];
    let numel = 1;
    for (const d of dims) {
      if (!isSafeNonNegative(d)) fail(`${where}: shape ${describeJson(dims)} has an entry that is not a non-negative integer`);
      numel *= d as number;
    }
    // Checked after the loop: a zero anywhere makes the tensor empty (and harmless) whatever the
    // other dimensions; otherwise the element count must be exactly representable.
    if (!Number.isSafeInteger(numel)) fail(`${where}: shape [${dims.join(', ')}] has more elements than can be addressed`);
    const offsets = entry.get('data_offsets');
    if (!Array.isArray(offsets) || offsets.length !== 2 || !isSafeNonNegative(offsets[0]!) || !isSafeNonNegative(offsets[1]!)) {
      fail(`${where}: "data_offsets" must be [begin, end] with non-negative integers, got ${describeJson(offsets ?? null)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > bufferSize) fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${bufferSize}-byte data buffer`);
    const bytes = numel * ELEMENT_SIZE[dtype as SafetensorsDType];
    if (end - begin !== bytes) {
      fail(`${where}: ${dtype} shape [${dims.join(', ')}] needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: dims as number[], dataOffsets: [begin, end] });
  }
  // The tensors must tile the buffer: sorted by offset, each begins where the previous ended.
  entries.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    const [begin, end] = e.dataOffsets;
    if (begin < cursor) {
      fail(`tensor ${JSON.stringify(e.name)}: data_offsets [${begin}, ${end}] overlap tensor ${JSON.stringify(entries[k - 1]!.name)} (which ends at ${cursor})`);
    }
    if (begin > cursor) fail(`tensor ${JSON.stringify(e.name)}: data_offsets begin at ${begin}, leaving a hole of ${begin - cursor} bytes after offset ${cursor}`);
    cursor = end;
  }
  if (cursor !== bufferSize) {
    fail(`the tensors cover ${cursor} bytes but the data buffer has ${bufferSize} (${bufferSize - cursor} extra bytes at the end)`);
  }
  return { headerBytes: headerBytes.length, entries, metadata };
}

function describeJson(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return `[${v.slice(0, 8).map(describeJson).join(', ')}${v.length > 8 ? `, ... (${v.length} entries)` : ''}]`;
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Typed arrays use the host's byte order and safetensors data is little-endian. */
function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: reading and writing need a little-endian host');
}

/** FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN, bias 7), as in the FP8 formats paper (arXiv 2209.05433). */
const FP8_E4M3 = Float32Array.from({ length: 256 }, (_, b) => {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const man = b & 0x7;
  if (exp === 0xf && man === 0x7) return NaN;
  if (exp === 0) return sign * man * 2 ** -9; // subnormal: man/8 * 2^(1-7)
  return sign * (1 + man / 8) * 2 ** (exp - 7);
});

/** FP8 E5M2: IEEE-754 style with infinities and NaNs, bias 15. */
const FP8_E5M2 = Float32Array.from({ length: 256 }, (_, b) => {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 2) & 0x1f;
  const man = b & 0x3;
  if (exp === 0x1f) return man === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * man * 2 ** -16; // man/4 * 2^(1-15)
  return sign * (1 + man / 4) * 2 ** (exp - 15);
});

/** IEEE half precision to float32 bits-exactly (every half value is a float32 value). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man === 0 ? sign * Infinity : NaN;
  return sign * (1024 + man) * 2 ** (exp - 25);
}

/**
 * Converts one tensor's bytes (exactly its data, already checked) to a Tensor. `own` must start a
 * fresh ArrayBuffer of its own, so it is aligned for every element type.
 */
function tensorFromBytes(entry: SafetensorsEntry, own: Uint8Array, device: string | undefined, source: string): Tensor {
  const { name, dtype } = entry;
  const shape = [...entry.shape];
  const n = own.length / ELEMENT_SIZE[dtype];
  const make = (values: ArrayLike<number>) => tensor(values, { shape, dtype: READ_AS[dtype], device });
  const outOfRange = (index: number, what: string): never => {
    throw new SafetensorsError(source, `tensor ${JSON.stringify(name)}: ${dtype} value at flat index ${index} ${what} does not fit in int32`);
  };
  switch (dtype) {
    case 'F32':
      return make(new Float32Array(own.buffer));
    case 'F64':
      return make(new Float64Array(own.buffer));
    case 'I32':
      return make(new Int32Array(own.buffer));
    case 'I16':
      return make(new Int16Array(own.buffer));
    case 'U16':
      return make(new Uint16Array(own.buffer));
    case 'I8':
      return make(new Int8Array(own.buffer));
    case 'U8':
      return make(own);
    case 'BOOL': {
      for (let i = 0; i < n; i++) {
        if (own[i]! > 1) throw new SafetensorsError(source, `tensor ${JSON.stringify(name)}: BOOL byte at flat index ${i} is ${own[i]}, not 0 or 1`);
      }
      return make(own);
    }
    case 'U32': {
      const src = new Uint32Array(own.buffer);
      for (let i = 0; i < n; i++) if (src[i]! > 0x7fffffff) outOfRange(i, `(${src[i]})`);
      return make(new Int32Array(own.buffer));
    }
    case 'I64':
    case 'U64': {
      // Each value is two 32-bit words, low first. It fits int32 iff the high word is the sign
      // extension of the low word (and, for U64, the value is non-negative).
      const words = new Int32Array(own.buffer);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = words[2 * i]!;
        const hi = words[2 * i + 1]!;
        if (hi !== lo >> 31 || (dtype === 'U64' && hi !== 0)) {
          const value = dtype === 'U64' ? new DataView(own.buffer).getBigUint64(8 * i, true) : new DataView(own.buffer).getBigInt64(8 * i, true);
          outOfRange(i, `(${value})`);
        }
        out[i] = lo;
      }
      return make(out);
    }
    case 'F16': {
      const src = new Uint16Array(own.buffer);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]!);
      return make(out);
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const src = new Uint16Array(own.buffer);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
      return make(new Float32Array(bits.buffer));
    }
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const table = dtype === 'F8_E4M3' ? FP8_E4M3 : FP8_E5M2;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[own[i]!]!;
      return make(out);
    }
  }
}

/** Builds the tensors, getting each one's bytes (a fresh, aligned copy) from `bytesOf`. */
function buildContents(header: SafetensorsHeader, bytesOf: (begin: number, end: number) => Uint8Array, options: SafetensorsReadOptions, source: string): SafetensorsContents {
  assertLittleEndian();
  const tensors: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  const fileDTypes: Record<string, SafetensorsDType> = Object.create(null) as Record<string, SafetensorsDType>;
  for (const e of header.entries) {
    tensors[e.name] = tensorFromBytes(e, bytesOf(e.dataOffsets[0], e.dataOffsets[1]), options.device, source);
    fileDTypes[e.name] = e.dtype;
  }
  return { tensors, metadata: header.metadata ? { ...header.metadata } : null, fileDTypes };
}

/** Parses a whole safetensors file held in memory. */
export function decodeSafetensors(bytes: Uint8Array, options: SafetensorsReadOptions = {}): SafetensorsContents {
  const source = options.source ?? '<buffer>';
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, source);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  // slice() copies into a fresh ArrayBuffer.
  return buildContents(header, (begin, end) => bytes.slice(8 + n + begin, 8 + n + end), options, source);
}

/** Reads exactly `length` bytes at `position`, or fails naming the file (it changed under us). */
function readExactly(fd: number, length: number, position: number, source: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const got = readSync(fd, out, done, length - done, position + done);
    if (got === 0) throw new SafetensorsError(source, `file ended early (it changed while being read)`);
    done += got;
  }
  return out;
}

/** Reads only the header of a file (cheap even for a large model): names, dtypes, shapes, metadata. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = readHeaderLength(readExactly(fd, Math.min(8, size), 0, path), size, path);
    return parseSafetensorsHeader(readExactly(fd, n, 8, path), size - 8 - n, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a safetensors file. The header is read and validated against the file's size first; only
 * then is the data read, tensor by tensor, so a bad file never causes an allocation beyond its
 * own size.
 */
export function loadSafetensors(path: string, options: SafetensorsReadOptions = {}): SafetensorsContents {
  const source = options.source ?? path;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = readHeaderLength(readExactly(fd, Math.min(8, size), 0, source), size, source);
    const header = parseSafetensorsHeader(readExactly(fd, n, 8, source), size - 8 - n, source);
    // Each tensor is read straight into its own buffer: no second copy of the whole file.
    return buildContents(header, (begin, end) => readExactly(fd, end - begin, 8 + n + begin, source), options, source);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Byte-wise comparison of UTF-8 encodings, the order Rust's `String::cmp` gives. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function checkName(name: string, what: string): void {
  if (LONE_SURROGATE.test(name)) throw new Error(`safetensors: ${what} ${JSON.stringify(name)} contains a lone surrogate and cannot be UTF-8 encoded`);
}

/**
 * Serializes tensors (and optional string metadata) to the bytes of a safetensors file, in the
 * same layout as the reference implementation writes.
 */
export function encodeSafetensors(tensors: Readonly<Record<string, Tensor>>, metadata?: Readonly<Record<string, string>> | null): Uint8Array {
  assertLittleEndian();
  const items = Object.keys(tensors).map((name) => {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is reserved and cannot name a tensor');
    checkName(name, 'tensor name');
    const t = tensors[name]!;
    const dtype = WRITE_AS[t.dtype];
    const values = t.dataSync();
    return { name, dtype, shape: [...t.shape], data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
  });
  // Widest dtype first, then by name: every tensor then starts aligned to its element size.
  const rank = (d: SafetensorsDType) => SAFETENSORS_DTYPES.indexOf(d);
  items.sort((a, b) => rank(b.dtype) - rank(a.dtype) || compareUtf8(a.name, b.name));

  const parts: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort(compareUtf8);
    const body = keys.map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') throw new Error(`safetensors: metadata value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
      checkName(k, 'metadata key');
      checkName(v, 'metadata value');
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${body.join(',')}}`);
  }
  let offset = 0;
  for (const it of items) {
    const end = offset + it.data.length;
    parts.push(`${JSON.stringify(it.name)}:{"dtype":"${it.dtype}","shape":[${it.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8Encoder.encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const it of items) {
    out.set(it.data, at);
    at += it.data.length;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file atomically: to a temporary file in the same folder,
 * flushed to disk, then renamed over `path`, so a reader never sees a half-written file.
 */
export function saveSafetensors(path: string, tensors: Readonly<Record<string, Tensor>>, metadata?: Readonly<Record<string, string>> | null): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
