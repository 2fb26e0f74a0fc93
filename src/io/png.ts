/**
 * PNG (ISO/IEC 15948, RFC 2083) writing and reading, for samples and environment frames.
 * Writing: 8-bit greyscale, RGB or RGBA, no interlace, filter type 0 on every row, one IDAT chunk
 * compressed with node:zlib. Reading: 8-bit greyscale, grey+alpha, RGB and RGBA, non-interlaced,
 * all five filter types; every chunk's length and CRC is checked against the file before use.
 */
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** CRC-32 (ISO 3309, the polynomial 0xEDB88320 reflected) table, as PNG's chunk checksums use. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of `bytes[start, end)`, continuing from `crc` (0 to start). */
export function crc32(bytes: ArrayLike<number>, start = 0, end = bytes.length, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Samples per pixel for each supported colour type. */
const CHANNELS_OF_COLOR_TYPE: Record<number, number> = { 0: 1, 4: 2, 2: 3, 6: 4 };
const COLOR_TYPE_OF_CHANNELS: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** A decoded image: `data` is height x width x channels bytes, row-major. */
export interface PngImage {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  data: Uint8Array;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * Encodes `pixels` (height x width x channels values in 0..255, row-major; channels 1, 2, 3 or 4)
 * as a PNG file.
 */
export function encodePng(pixels: ArrayLike<number>, width: number, height: number, channels = 3): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`encodePng: width and height must be positive integers, got ${width} x ${height}`);
  }
  const colorType = COLOR_TYPE_OF_CHANNELS[channels];
  if (colorType === undefined) throw new RangeError(`encodePng: channels must be 1, 2, 3 or 4, got ${channels}`);
  const stride = width * channels;
  if (pixels.length !== height * stride) {
    throw new RangeError(`encodePng: expected ${height} x ${width} x ${channels} = ${height * stride} values, got ${pixels.length}`);
  }
  // Each scanline is a filter-type byte (0: None) followed by the row's bytes.
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const rowStart = y * (stride + 1);
    for (let i = 0; i < stride; i++) raw[rowStart + 1 + i] = pixels[y * stride + i]!;
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = colorType;
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method 0
  header[12] = 0; // no interlace
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', header),
    chunk('IDAT', new Uint8Array(deflateSync(raw))),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One chunk of a PNG file, located by `readPngChunks`. */
export interface PngChunk {
  type: string;
  data: Uint8Array;
}

/** Splits a PNG file into its chunks, checking the signature, every length and every CRC. */
export function readPngChunks(file: Uint8Array): PngChunk[] {
  if (file.length < 8 || SIGNATURE.some((b, i) => file[i] !== b)) throw new Error('readPng: not a PNG file (bad signature)');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < file.length) {
    if (at + 12 > file.length) throw new Error(`readPng: truncated chunk header at byte ${at}`);
    const length = view.getUint32(at);
    if (at + 12 + length > file.length) throw new Error(`readPng: chunk at byte ${at} claims ${length} bytes, past the end of the file`);
    const type = String.fromCharCode(...file.subarray(at + 4, at + 8));
    const stored = view.getUint32(at + 8 + length);
    const actual = crc32(file, at + 4, at + 8 + length);
    if (stored !== actual) throw new Error(`readPng: CRC mismatch in ${type} chunk at byte ${at}`);
    chunks.push({ type, data: file.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Decodes an 8-bit, non-interlaced greyscale, grey+alpha, RGB or RGBA PNG. */
export function decodePng(file: Uint8Array): PngImage {
  const chunks = readPngChunks(file);
  const ihdr = chunks[0];
  if (!ihdr || ihdr.type !== 'IHDR' || ihdr.data.length !== 13) throw new Error('readPng: first chunk must be a 13-byte IHDR');
  const hv = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 13);
  const width = hv.getUint32(0);
  const height = hv.getUint32(4);
  const [bitDepth, colorType, compression, filterMethod, interlace] = ihdr.data.subarray(8, 13);
  const channels = CHANNELS_OF_COLOR_TYPE[colorType!];
  if (width < 1 || height < 1) throw new Error(`readPng: bad size ${width} x ${height}`);
  if (bitDepth !== 8 || channels === undefined) throw new Error(`readPng: only 8-bit grey/RGB(A) images are supported (bit depth ${bitDepth}, colour type ${colorType})`);
  if (compression !== 0 || filterMethod !== 0 || interlace !== 0) throw new Error('readPng: unsupported compression, filter method or interlace');
  if (!chunks.some((c) => c.type === 'IEND')) throw new Error('readPng: missing IEND chunk');
  const idat = chunks.filter((c) => c.type === 'IDAT');
  if (idat.length === 0) throw new Error('readPng: no IDAT chunk');
  const compressed = new Uint8Array(idat.reduce((n, c) => n + c.data.length, 0));
  let at = 0;
  for (const c of idat) {
    compressed.set(c.data, at);
    at += c.data.length;
  }
  const stride = width * channels;
  const expected = height * (stride + 1);
  if (expected > 2 ** 31) throw new Error(`readPng: ${width} x ${height} image is too large`);
  const raw = new Uint8Array(inflateSync(compressed, { maxOutputLength: expected }));
  if (raw.length !== expected) throw new Error(`readPng: image data holds ${raw.length} bytes, expected ${expected}`);
  const data = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? data[dst + i - channels]! : 0; // left
      const b = y > 0 ? data[dst - stride + i]! : 0; // up
      const c = i >= channels && y > 0 ? data[dst - stride + i - channels]! : 0; // up-left
      const x = raw[src + i]!;
      let v: number;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >>> 1); break;
        case 4: v = x + paeth(a, b, c); break;
        default: throw new Error(`readPng: unknown filter type ${filter} on row ${y}`);
      }
      data[dst + i] = v & 0xff;
    }
  }
  return { width, height, channels, data };
}
