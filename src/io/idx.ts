/**
 * The IDX file format, in which MNIST (and Fashion-MNIST, EMNIST, ...) is published.
 *
 * Layout (http://yann.lecun.com/exdb/mnist/), all integers big-endian:
 *   bytes 0-1  zero
 *   byte  2    the element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3    the rank r
 *   then r uint32 dimension sizes, then the elements in row-major order, nothing after them.
 * The published files are gzipped; the reader accepts either form and tells them apart by the gzip
 * magic bytes (1f 8b). Every size in the header is checked against the bytes actually present
 * before anything is allocated, and every error names the file.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { DType } from '../dtype.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** An IDX element type: its name, size in bytes, and how to read one big-endian element. */
interface IdxType {
  name: string;
  bytes: number;
  integer: boolean;
  read: (view: DataView, offset: number) => number;
}

const IDX_TYPES: ReadonlyMap<number, IdxType> = new Map([
  [0x08, { name: 'uint8', bytes: 1, integer: true, read: (v: DataView, o: number) => v.getUint8(o) }],
  [0x09, { name: 'int8', bytes: 1, integer: true, read: (v: DataView, o: number) => v.getInt8(o) }],
  [0x0b, { name: 'int16', bytes: 2, integer: true, read: (v: DataView, o: number) => v.getInt16(o, false) }],
  [0x0c, { name: 'int32', bytes: 4, integer: true, read: (v: DataView, o: number) => v.getInt32(o, false) }],
  [0x0d, { name: 'float32', bytes: 4, integer: false, read: (v: DataView, o: number) => v.getFloat32(o, false) }],
  [0x0e, { name: 'float64', bytes: 8, integer: false, read: (v: DataView, o: number) => v.getFloat64(o, false) }],
]);

/** The most elements one IDX tensor may hold (a typed array's practical limit). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** Gzip streams start with these two bytes (RFC 1952, Sec. 2.3.1). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

export interface IdxOptions {
  /**
   * The dtype of the returned tensor. By default integer files (uint8, int8, int16, int32: images
   * and labels) give int32, the values exactly as stored, and float files give float32 or float64.
   * `'float32'` reads integer files straight to floats (for images, saving a conversion);
   * asking for `'int32'` from a float file is an error rather than a silent truncation.
   */
  dtype?: Exclude<DType, 'bool'>;
  /** The device of the returned tensor (default: the default device). */
  device?: string;
  /** Refuse gzip files that decompress to more than this many bytes (default 1 GiB). */
  maxBytes?: number;
}

/** Reads an IDX file, raw or gzipped, into a tensor of the shape its header gives. */
export function readIdx(path: string, options: IdxOptions = {}): Tensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`readIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseIdx(bytes, path, options);
}

/**
 * Parses the bytes of an IDX file (raw or gzipped); `name` is the file it came from, for errors.
 */
export function parseIdx(bytes: Uint8Array, name: string, options: IdxOptions = {}): Tensor {
  const fail = (what: string) => new Error(`readIdx: ${name}: ${what}`);
  const raw = isGzip(bytes) ? gunzip(bytes, options.maxBytes ?? 2 ** 30, fail) : bytes;

  if (raw.length < 4) throw fail(`too short for an IDX header (${raw.length} bytes, need at least 4)`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw[0] !== 0 || raw[1] !== 0) {
    const magic = view.getUint32(0, false).toString(16).padStart(8, '0');
    throw fail(`bad magic number 0x${magic}: an IDX file starts with two zero bytes, a type code and a rank`);
  }
  const code = raw[2]!;
  const type = IDX_TYPES.get(code);
  if (!type) {
    const known = [...IDX_TYPES].map(([c, t]) => `0x${hex2(c)} ${t.name}`).join(', ');
    throw fail(`unsupported dtype code 0x${hex2(code)} (IDX defines ${known})`);
  }
  const rank = raw[3]!;
  const headerBytes = 4 + 4 * rank;
  if (raw.length < headerBytes) {
    throw fail(`truncated header: rank ${rank} needs ${headerBytes} header bytes, the file has ${raw.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));

  // The product of the sizes, as a double: exact up to 2^53, and compared before any allocation.
  const count = shape.reduce((p, d) => p * d, 1);
  if (count > MAX_ELEMENTS) {
    throw fail(`absurd dimensions [${shape.join(', ')}]: ${count} elements, more than the ${MAX_ELEMENTS} a tensor can hold`);
  }
  const dataBytes = count * type.bytes;
  const present = raw.length - headerBytes;
  const need = `dimensions [${shape.join(', ')}] of ${type.name} need ${dataBytes} bytes after the ${headerBytes}-byte header`;
  if (present < dataBytes) throw fail(`truncated data: ${need}, the file has ${present}`);
  if (present > dataBytes) throw fail(`${present - dataBytes} trailing bytes after the data: ${need}, the file has ${present}`);

  const dtype = options.dtype ?? (type.integer ? 'int32' : type.name === 'float64' ? 'float64' : 'float32');
  if (dtype === 'int32' && !type.integer) {
    throw fail(`holds ${type.name} values; reading them as int32 would truncate them (ask for a float dtype)`);
  }
  const values = dtype === 'int32' ? new Int32Array(count) : dtype === 'float64' ? new Float64Array(count) : new Float32Array(count);
  if (code === 0x08) {
    values.set(raw.subarray(headerBytes)); // uint8 fits every target dtype exactly
  } else {
    for (let i = 0; i < count; i++) values[i] = type.read(view, headerBytes + i * type.bytes);
  }
  return tensor(values, { shape, dtype, device: options.device });
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

function gunzip(bytes: Uint8Array, maxBytes: number, fail: (what: string) => Error): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') {
      throw fail(`decompresses to more than ${maxBytes} bytes (raise maxBytes if the file is genuine)`);
    }
    throw fail(`starts like gzip but does not decompress: ${err.message}`);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
