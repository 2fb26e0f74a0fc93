import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, readIdx } from '../src/io/idx.js';

/** An IDX file: magic (0, 0, type code, rank), big-endian uint32 dims, then the element bytes. */
function idx(code: number, dims: number[], body: number[] | Buffer): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = code;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(body)]);
}

const pixels = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
const images = idx(0x08, [2, 2, 3], pixels); // two 2x3 "images"

test('reads a raw uint8 IDX file: shape from the header, values exact, int32 by default', () => {
  const t = parseIdx(images, 'images.idx');
  assert.deepEqual(t.shape, [2, 2, 3]);
  assert.equal(t.dtype, 'int32');
  assert.deepEqual(t.toArray(), [[[0, 1, 2], [3, 4, 5]], [[250, 251, 252], [253, 254, 255]]]);
  const f = parseIdx(images, 'images.idx', { dtype: 'float32' });
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(Array.from(f.dataSync()), pixels);
});

test('reads a label file (rank 1) as int32 classes', () => {
  const labels = parseIdx(idx(0x08, [5], [5, 0, 4, 1, 9]), 'labels.idx');
  assert.deepEqual(labels.shape, [5]);
  assert.equal(labels.dtype, 'int32');
  assert.deepEqual(labels.toArray(), [5, 0, 4, 1, 9]);
});

test('a gzipped file reads the same as the raw one (detected by its magic bytes, not its name)', () => {
  const t = parseIdx(gzipSync(images), 'images.idx');
  assert.deepEqual(t.shape, [2, 2, 3]);
  assert.deepEqual(Array.from(t.dataSync()), pixels);
});

test('multi-byte element types are big-endian', () => {
  const body = (n: number, write: (b: Buffer, v: number, o: number) => void, values: number[]) => {
    const b = Buffer.alloc(n * values.length);
    values.forEach((v, i) => write(b, v, i * n));
    return b;
  };
  const i8 = parseIdx(idx(0x09, [3], [0xff, 0x80, 0x7f]), 'i8');
  assert.deepEqual(i8.toArray(), [-1, -128, 127]);
  const i16 = parseIdx(idx(0x0b, [3], body(2, (b, v, o) => b.writeInt16BE(v, o), [-2, 300, -32768])), 'i16');
  assert.deepEqual(i16.toArray(), [-2, 300, -32768]);
  const i32 = parseIdx(idx(0x0c, [2], body(4, (b, v, o) => b.writeInt32BE(v, o), [-70000, 2 ** 31 - 1])), 'i32');
  assert.deepEqual(i32.toArray(), [-70000, 2 ** 31 - 1]);
  const f32 = parseIdx(idx(0x0d, [1, 2], body(4, (b, v, o) => b.writeFloatBE(v, o), [0.5, -1.25])), 'f32');
  assert.equal(f32.dtype, 'float32');
  assert.deepEqual(f32.toArray(), [[0.5, -1.25]]);
  const f64 = parseIdx(idx(0x0e, [2], body(8, (b, v, o) => b.writeDoubleBE(v, o), [0.1, -1e300])), 'f64');
  assert.equal(f64.dtype, 'float64');
  assert.deepEqual(f64.toArray(), [0.1, -1e300]);
});

test('float files are not silently truncated to int32', () => {
  const f32 = idx(0x0d, [1], Buffer.alloc(4));
  assert.throws(() => parseIdx(f32, 'weights.idx', { dtype: 'int32' }), {
    message: 'readIdx: weights.idx: holds float32 values; reading them as int32 would truncate them (ask for a float dtype)',
  });
});

test('truncated data names the file, the dimensions and both byte counts', () => {
  const cut = images.subarray(0, images.length - 1);
  assert.throws(() => parseIdx(cut, 'cut.idx'), {
    message: 'readIdx: cut.idx: truncated data: dimensions [2, 2, 3] of uint8 need 12 bytes after the 16-byte header, the file has 11',
  });
  // The same through gzip: the check runs on the decompressed bytes.
  assert.throws(() => parseIdx(gzipSync(cut), 'cut.idx.gz'), /^Error: readIdx: cut\.idx\.gz: truncated data/);
});

test('dimensions that do not match the data: too large is truncation, too small leaves trailing bytes', () => {
  assert.throws(() => parseIdx(idx(0x08, [3, 2, 3], pixels), 'big.idx'), {
    message: 'readIdx: big.idx: truncated data: dimensions [3, 2, 3] of uint8 need 18 bytes after the 16-byte header, the file has 12',
  });
  assert.throws(() => parseIdx(idx(0x08, [1, 2, 3], pixels), 'small.idx'), {
    message: 'readIdx: small.idx: 6 trailing bytes after the data: dimensions [1, 2, 3] of uint8 need 6 bytes after the 16-byte header, the file has 12',
  });
  // Multi-byte types count bytes, not elements: 3 int16 values need 6 bytes.
  assert.throws(() => parseIdx(idx(0x0b, [3], [0, 1, 0, 2, 0]), 'short.idx'), /short\.idx: truncated data: dimensions \[3\] of int16 need 6 bytes .* has 5$/);
});

test('absurd dimensions are refused before anything is allocated', () => {
  assert.throws(() => parseIdx(idx(0x08, [65536, 65536, 4], pixels), 'huge.idx'), {
    message: 'readIdx: huge.idx: absurd dimensions [65536, 65536, 4]: 17179869184 elements, more than the 2147483647 a tensor can hold',
  });
  // 0xFFFFFFFF in every dimension (a header of garbage), rank 255.
  const garbage = Buffer.alloc(4 + 4 * 255, 0xff);
  garbage[0] = 0;
  garbage[1] = 0;
  garbage[2] = 0x08;
  assert.throws(() => parseIdx(garbage, 'garbage.idx'), /^Error: readIdx: garbage\.idx: absurd dimensions \[4294967295, /);
});

test('bad magic, unknown type codes and short headers are named', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.throws(() => parseIdx(png, 'digit.png'), {
    message: 'readIdx: digit.png: bad magic number 0x89504e47: an IDX file starts with two zero bytes, a type code and a rank',
  });
  assert.throws(() => parseIdx(idx(0x0a, [1], [0]), 'odd.idx'), {
    message:
      'readIdx: odd.idx: unsupported dtype code 0x0a ' +
      '(IDX defines 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64)',
  });
  assert.throws(() => parseIdx(Buffer.from([0, 0]), 'tiny.idx'), {
    message: 'readIdx: tiny.idx: too short for an IDX header (2 bytes, need at least 4)',
  });
  assert.throws(() => parseIdx(images.subarray(0, 10), 'header.idx'), {
    message: 'readIdx: header.idx: truncated header: rank 3 needs 16 header bytes, the file has 10',
  });
});

test('broken gzip and gzip bombs are refused with the file name', () => {
  const broken = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not really deflate data')]);
  assert.throws(() => parseIdx(broken, 'broken.gz'), /^Error: readIdx: broken\.gz: starts like gzip but does not decompress: /);
  const zipped = gzipSync(idx(0x08, [1000], Buffer.alloc(1000)));
  assert.throws(() => parseIdx(zipped, 'bomb.gz', { maxBytes: 500 }), {
    message: 'readIdx: bomb.gz: decompresses to more than 500 bytes (raise maxBytes if the file is genuine)',
  });
  assert.deepEqual(parseIdx(zipped, 'ok.gz', { maxBytes: 2000 }).shape, [1000]);
});

test('readIdx reads files from disk, raw and gzipped, and names a missing one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'milestones-idx-'));
  try {
    writeFileSync(join(dir, 'a-idx3-ubyte'), images);
    writeFileSync(join(dir, 'a-idx3-ubyte.gz'), gzipSync(images));
    writeFileSync(join(dir, 'cut-idx3-ubyte.gz'), gzipSync(images.subarray(0, 20)));
    assert.deepEqual(Array.from(readIdx(join(dir, 'a-idx3-ubyte')).dataSync()), pixels);
    assert.deepEqual(Array.from(readIdx(join(dir, 'a-idx3-ubyte.gz')).dataSync()), pixels);
    const cut = join(dir, 'cut-idx3-ubyte.gz');
    assert.throws(() => readIdx(cut), { message: `readIdx: ${cut}: truncated data: dimensions [2, 2, 3] of uint8 need 12 bytes after the 16-byte header, the file has 4` });
    const missing = join(dir, 'missing.gz');
    assert.throws(() => readIdx(missing), (e: Error) => e.message.startsWith(`readIdx: cannot read ${missing}: ENOENT`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
