import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor, Tensor } from '../src/index.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
  SafetensorsError,
} from '../src/io/safetensors.js';
import { rng } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = JSON.parse(readFileSync(join(here, '../../test/fixtures/safetensors.json'), 'utf8')) as {
  files: {
    name: string;
    bytes: string;
    metadata: Record<string, string> | null;
    tensors: Record<string, { fileDType: string; dtype: string; shape: number[]; values: (number | string)[] }>;
    /** Holds only dtypes milestones writes, so re-encoding must reproduce the bytes. */
    canonical?: boolean;
  }[];
};

const te = new TextEncoder();

/** A file from header text and data bytes; the header is padded to 8 unless told otherwise. */
function fileOf(header: string, data: ArrayLike<number> = [], pad = true): Uint8Array {
  let h = te.encode(header);
  if (pad && h.length % 8) h = te.encode(header + ' '.repeat(8 - (h.length % 8)));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data instanceof Uint8Array ? data : Array.from(data), 8 + h.length);
  return out;
}

function same(actual: Tensor, expected: Tensor): void {
  assert.equal(actual.dtype, expected.dtype);
  assert.deepEqual([...actual.shape], [...expected.shape]);
  // Object.is per element: NaN matches NaN and -0 must stay -0.
  const a = Array.from(actual.dataSync());
  const e = Array.from(expected.dataSync());
  assert.equal(a.length, e.length);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], e[i]), `element ${i}: ${a[i]} vs ${e[i]}`);
}

test('round trip of every dtype, a scalar, an empty tensor and metadata', () => {
  const tensors: Record<string, Tensor> = {
    'layer.weight': tensor([[1.5, -0, NaN], [Infinity, -Infinity, 3.4028234663852886e38]]),
    'layer.bias': tensor([1e-300, -2.5], { dtype: 'float64' }),
    steps: tensor([0, -1, 2147483647, -2147483648], { dtype: 'int32' }),
    mask: tensor([true, false, true]),
    scalar: tensor(7, { dtype: 'float32' }),
    empty: tensor([], { shape: [0, 4] }),
  };
  const metadata = { framework: 'milestones', 'ключ': 'значение ✓' };
  const bytes = encodeSafetensors(tensors, metadata);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const name of Object.keys(tensors)) same(back.tensors[name]!, tensors[name]!);
  assert.deepEqual(back.metadata, metadata);
  // Encoding what we read gives the same bytes: the layout is canonical.
  assert.deepEqual(encodeSafetensors(back.tensors, back.metadata), bytes);
});

test('the writer matches the reference implementation byte for byte', () => {
  // Expected bytes from the reference implementation's own tests (safetensors/src/tensor.rs:
  // test_serialization, test_serialization_forced_alignement, test_empty).
  const data = tensor([0, 1, 2, 3, 4, 5], { shape: [1, 2, 3] });
  const f32 = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];
  assert.deepEqual(
    Array.from(encodeSafetensors({ 'attn.0': data })),
    [64, 0, 0, 0, 0, 0, 0, 0, ...te.encode('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'), ...f32],
  );
  assert.deepEqual(
    Array.from(encodeSafetensors({ attn0: data.reshape([1, 1, 2, 3]) })),
    [72, 0, 0, 0, 0, 0, 0, 0, ...te.encode('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       '), ...f32],
  );
  assert.deepEqual(Array.from(encodeSafetensors({})), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  assert.deepEqual(
    Array.from(encodeSafetensors({}, { framework: 'pt' })),
    [40, 0, 0, 0, 0, 0, 0, 0, ...te.encode('{"__metadata__":{"framework":"pt"}}     ')],
  );
  // Order: widest dtype first, then by name, so every tensor's data is aligned to its element size.
  const mixed = encodeSafetensors({ b: tensor([true]), a: tensor([1], { dtype: 'int32' }), c: tensor([1], { dtype: 'float64' }), d: tensor([2]) });
  const header = readHeader(mixed);
  assert.deepEqual(header.entries.map((e) => e.name), ['c', 'd', 'a', 'b']);
  for (const e of header.entries) assert.equal((8 + header.headerBytes + e.dataOffsets[0]) % { F64: 8, F32: 4, I32: 4, BOOL: 1 }[e.dtype as 'F64']!, 0);
});

function readHeader(bytes: Uint8Array) {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    writeFileSync(join(dir, 'x.safetensors'), bytes);
    return readSafetensorsHeader(join(dir, 'x.safetensors'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('files laid out like safetensors.torch.save_file read as PyTorch reads them (F16, BF16, I64, U8, ...)', () => {
  for (const file of fixtures.files) {
    const bytes = Uint8Array.from(Buffer.from(file.bytes, 'base64'));
    const got = decodeSafetensors(bytes, { source: file.name });
    assert.deepEqual(got.metadata, file.metadata, file.name);
    assert.deepEqual(Object.keys(got.tensors).sort(), Object.keys(file.tensors).sort(), file.name);
    for (const [name, e] of Object.entries(file.tensors)) {
      const t = got.tensors[name]!;
      assert.equal(t.dtype, e.dtype, `${file.name}/${name} dtype`);
      assert.equal(got.fileDTypes[name], e.fileDType);
      assert.deepEqual([...t.shape], e.shape, `${file.name}/${name} shape`);
      const expected = e.values.map((v) => (typeof v === 'string' ? Number(v.replace('inf', 'Infinity')) : v));
      const actual = Array.from(t.dataSync());
      // Widening F16/BF16 to float32 is exact, so the comparison is exact.
      for (let i = 0; i < expected.length; i++) assert.ok(Object.is(actual[i], expected[i]), `${file.name}/${name}[${i}]: ${actual[i]} vs ${expected[i]}`);
    }
    if (file.canonical) {
      // Ordering (dtype, then UTF-8 bytes of the name), JSON and padding agree with an independent writer.
      assert.deepEqual(encodeSafetensors(got.tensors, got.metadata), bytes, `${file.name}: re-encoded bytes`);
    }
  }
  assert.ok(fixtures.files.some((f) => f.canonical));
});

test('FP8 formats decode as in the FP8 paper (E4M3 without infinities, E5M2 IEEE-like)', () => {
  // E4M3: 0x38 = 1.0, 0x7e = 448 (largest), 0x01 = 2^-9 (smallest subnormal), 0x7f = NaN, 0xb8 = -1.
  // E5M2: 0x3c = 1.0, 0x7b = 57344 (largest), 0x7c = inf, 0x01 = 2^-16, 0x7d = NaN.
  const bytes = fileOf(
    '{"a":{"dtype":"F8_E4M3","shape":[5],"data_offsets":[0,5]},"b":{"dtype":"F8_E5M2","shape":[5],"data_offsets":[5,10]}}',
    [0x38, 0x7e, 0x01, 0x7f, 0xb8, 0x3c, 0x7b, 0x7c, 0x01, 0x7d],
  );
  const { tensors } = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(tensors.a!.dataSync()), [1, 448, 2 ** -9, NaN, -1]);
  assert.deepEqual(Array.from(tensors.b!.dataSync()), [1, 57344, Infinity, 2 ** -16, NaN]);
});

test('save and load through a file, and errors name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'st-'));
  try {
    const path = join(dir, 'model.safetensors');
    saveSafetensors(path, { w: tensor([[1, 2], [3, 4]]) }, { step: '3' });
    const back = loadSafetensors(path);
    same(back.tensors.w!, tensor([[1, 2], [3, 4]]));
    assert.deepEqual(back.metadata, { step: '3' });
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, fileOf('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', [0, 0, 0, 0]));
    assert.throws(() => loadSafetensors(bad), (e: Error) => e instanceof SafetensorsError && e.message.includes(bad) && e.message.includes('"w"'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed files are each rejected with a message that says what is wrong', () => {
  const ok = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];
  const withLength = (n: bigint, rest: ArrayLike<number> = []) => {
    const out = new Uint8Array(8 + rest.length);
    new DataView(out.buffer).setBigUint64(0, n, true);
    out.set(Array.from(rest), 8);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array([1, 0, 0]), /too short to hold the 8-byte header length/],
    ['header over 100 MB', withLength(100_000_001n, te.encode('{}')), /exceeds the limit of 100000000 bytes/],
    ['header length of 2^64 - 1', withLength(0xffffffffffffffffn, te.encode('{}')), /header length 18446744073709551615 exceeds the limit/],
    ['header past the end of the file', withLength(64n, te.encode('{}      ')), /runs past the end of the file/],
    ['header not UTF-8', fileOf('{"\u00ff":1}').map((b, i) => (i === 11 ? 0xff : b)), /not valid UTF-8/],
    ['header not starting with {', fileOf(' {}'), /must start with '\{'/],
    ['a UTF-8 byte-order mark before {', fileOf('\ufeff{}'), /must start with '\{'/],
    ['header not JSON', fileOf('{"w":}'), /invalid JSON/],
    ['trailing garbage after the object', fileOf('{} x'), /after the JSON object/],
    ['duplicate tensor names', fileOf(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), /duplicate key "w"/],
    ['unknown dtype', fileOf(ok.replace('F32', 'F128'), eight), /tensor "w": unknown dtype "F128"/],
    ['dtype not a string', fileOf(ok.replace('"F32"', '32'), eight), /tensor "w": unknown dtype 32/],
    ['negative dimension', fileOf(ok.replace('[2]', '[-2]'), eight), /tensor "w": shape \[-2\] has an entry that is not a non-negative integer/],
    ['fractional dimension', fileOf(ok.replace('[2]', '[2.0]'), eight), /not an integer/],
    ['dimension in exponent form', fileOf(ok.replace('[2]', '[2e0]'), eight), /not an integer/],
    ['dimension beyond 2^53', fileOf(ok.replace('[2]', '[99999999999999999999]'), eight), /not a non-negative integer/],
    ['shape not an array', fileOf(ok.replace('[2]', '2'), eight), /"shape" must be an array/],
    ['element count overflows', fileOf(ok.replace('[2]', '[1073741824,1073741824,1073741824]'), eight), /more elements than can be addressed/],
    ['offsets missing', fileOf('{"w":{"dtype":"F32","shape":[2]}}', eight), /"data_offsets" must be \[begin, end\]/],
    ['offsets reversed', fileOf(ok.replace('[0,8]', '[8,0]'), eight), /end before they begin/],
    ['offsets past the buffer', fileOf(ok.replace('[0,8]', '[0,16]'), eight), /run past the end of the 8-byte data buffer/],
    ['byte count not numel x size', fileOf(ok.replace('[2]', '[3]'), eight), /F32 shape \[3\] needs 12 bytes but data_offsets \[0, 8\] hold 8/],
    [
      'overlapping tensors',
      fileOf('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight),
      /tensor "b": data_offsets \[4, 8\] overlap tensor "a"/,
    ],
    ['a hole before a tensor', fileOf('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight), /leaving a hole of 4 bytes/],
    ['extra bytes after the tensors', fileOf(ok, [...eight, 1, 2, 3]), /3 extra bytes at the end/],
    ['metadata value not a string', fileOf('{"__metadata__":{"step":3}}'), /"__metadata__" value for "step" must be a string/],
    ['metadata not an object', fileOf('{"__metadata__":"x"}'), /"__metadata__" must be an object/],
    ['unknown field in an entry', fileOf(ok.replace('{"dtype"', '{"offset":0,"dtype"'), eight), /tensor "w": unknown field "offset"/],
    ['entry not an object', fileOf('{"w":[1,2]}'), /tensor "w": entry must be an object/],
    ['nesting deeper than a header can be', fileOf(`{"w":${'['.repeat(5000)}${']'.repeat(5000)}}`), /nested deeper/],
    ['lone surrogate in a name', fileOf('{"\\ud800":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'), /lone surrogate/],
    ['I64 value beyond int32', fileOf('{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [0, 0, 0, 128, 0, 0, 0, 0]), /tensor "i": I64 value at flat index 0 \(2147483648\) does not fit in int32/],
    ['U64 value beyond int32', fileOf('{"i":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}}', [255, 255, 255, 255, 255, 255, 255, 255]), /U64 value at flat index 0 \(18446744073709551615\)/],
    ['U32 value beyond int32', fileOf('{"i":{"dtype":"U32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 128]), /U32 value at flat index 0 \(2147483648\)/],
    ['BOOL byte other than 0 or 1', fileOf('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', [1, 2]), /tensor "m": BOOL byte at flat index 1 is 2/],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(
      () => decodeSafetensors(bytes, { source: 'case.safetensors' }),
      (e: Error) => {
        assert.ok(e instanceof SafetensorsError, `${what}: expected a SafetensorsError, got ${e}`);
        assert.match(e.message, /^safetensors: case\.safetensors: /, what);
        assert.match(e.message, message, what);
        return true;
      },
      what,
    );
  }
  // The well-formed base case and an unpadded header are accepted (padding is optional).
  assert.deepEqual(Array.from(decodeSafetensors(fileOf(ok, eight)).tensors.w!.dataSync()), [1, 2]);
  assert.deepEqual(Array.from(decodeSafetensors(fileOf(ok, eight, false)).tensors.w!.dataSync()), [1, 2]);
});

test('the writer refuses names it cannot encode', () => {
  assert.throws(() => encodeSafetensors({ __metadata__: tensor([1]) }), /reserved/);
  assert.throws(() => encodeSafetensors({ ['\ud800']: tensor([1]) }), /lone surrogate/);
});

test('fuzz: 100,000 mutated files give a valid result or a SafetensorsError, quickly and without large allocations', () => {
  const seeds: Uint8Array[] = [
    encodeSafetensors({ a: tensor([[1, 2], [3, 4]]), b: tensor([1, 2, 3], { dtype: 'int32' }), m: tensor([true, false]) }, { k: 'v' }),
    encodeSafetensors({ d: tensor([1.5, -2], { dtype: 'float64' }), s: tensor(3), e: tensor([], { shape: [0, 2] }) }),
    ...fixtures.files.map((f) => Uint8Array.from(Buffer.from(f.bytes, 'base64'))),
    fileOf('{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"g":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},"i":{"dtype":"I64","shape":[1],"data_offsets":[6,14]}}', [0, 60, 0, 192, 128, 63, 1, 0, 0, 0, 0, 0, 0, 0]),
  ];
  const random = rng(20241127);
  const int = (n: number) => Math.floor(random() * n);
  const SPECIAL = te.encode('{}[]",:-.eE0123456789 \\u');
  const DTYPES = ['F32', 'F64', 'F16', 'BF16', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2', 'X'];

  const td = new TextDecoder();
  const headerLen = (b: Uint8Array) => (b.length < 8 ? 0 : Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true)));
  /** Edits the header as JSON (shapes, offsets, dtypes), keeping the header length consistent. */
  const jsonEdit = (src: Uint8Array): Uint8Array => {
    const n = headerLen(src);
    let header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    try {
      header = JSON.parse(td.decode(src.subarray(8, 8 + n)));
      if (typeof header !== 'object' || header === null) return src;
    } catch {
      return src; // already broken by an earlier mutation
    }
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    if (names.length === 0) return src;
    const entry = header[names[int(names.length)]!]!;
    if (typeof entry !== 'object' || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) return src;
    const nudge = () => [0, 1, -1, 2, 4, -4, 8, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e300][int(12)]!;
    switch (int(4)) {
      case 0: entry.dtype = DTYPES[int(DTYPES.length)]!; break;
      case 1: if (entry.shape.length) entry.shape[int(entry.shape.length)]! += nudge(); else entry.shape.push(int(3)); break;
      case 2: entry.data_offsets[int(2)]! += nudge(); break;
      default: entry.shape = entry.shape.concat([nudge()]);
    }
    return fileOf(JSON.stringify(header), src.subarray(8 + n));
  };
  const mutate = (src: Uint8Array): Uint8Array => {
    const b = Uint8Array.from(src);
    switch (int(8)) {
      case 0: { // bit flips anywhere
        const k = 1 + int(4);
        for (let i = 0; i < k; i++) b[int(b.length)]! ^= 1 << int(8);
        return b;
      }
      case 1: // truncation
        return b.subarray(0, int(b.length));
      case 2: { // a JSON-significant character written into the header
        const n = Math.min(headerLen(b), b.length - 8);
        if (n > 0) b[8 + int(n)] = SPECIAL[int(SPECIAL.length)]!;
        return b;
      }
      case 3: { // the header length replaced: small, near the size, or huge
        const choices = [0n, 1n, 7n, BigInt(b.length), BigInt(b.length - 8), BigInt(headerLen(b) + 1), BigInt(headerLen(b) - 1), 100_000_000n, 2n ** 63n, 2n ** 64n - 1n, BigInt(int(2 ** 31))];
        if (b.length < 8) return b;
        new DataView(b.buffer).setBigUint64(0, choices[int(choices.length)]!, true);
        return b;
      }
      case 4: { // bytes appended
        const out = new Uint8Array(b.length + 1 + int(16));
        out.set(b);
        for (let i = b.length; i < out.length; i++) out[i] = int(256);
        return out;
      }
      case 5: { // a byte range duplicated in the middle
        const i = int(b.length);
        const j = Math.min(b.length, i + int(24));
        const out = new Uint8Array(b.length + (j - i));
        out.set(b.subarray(0, j));
        out.set(b.subarray(i), j);
        return out;
      }
      default:
        return jsonEdit(src);
    }
  };

  const N = 100_000;
  let accepted = 0;
  let slowest = 0;
  let decoding = 0;
  const start = performance.now();
  for (let iter = 0; iter < N; iter++) {
    let bytes = seeds[int(seeds.length)]!;
    for (let k = 1 + int(2); k > 0; k--) bytes = mutate(bytes);
    // CPU time, not wall time, so a busy machine does not look like a slow input.
    const t0 = process.cpuUsage();
    try {
      const { tensors } = decodeSafetensors(bytes);
      accepted++;
      // A success allocates at most 4 bytes of output per input byte (I8/U8 widened to int32).
      let outBytes = 0;
      for (const t of Object.values(tensors)) outBytes += t.numel() * (t.dtype === 'float64' ? 8 : 4);
      assert.ok(outBytes <= 4 * bytes.length, `iteration ${iter}: ${outBytes} bytes of tensors from a ${bytes.length}-byte file`);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) {
        throw new Error(`iteration ${iter}: decoding ${Buffer.from(bytes).toString('base64')} threw a non-SafetensorsError: ${e}`);
      }
    }
    const used = process.cpuUsage(t0);
    const took = (used.user + used.system) / 1000;
    decoding += took;
    slowest = Math.max(slowest, took);
    if (iter % 10_000 === 0) {
      const external = process.memoryUsage().arrayBuffers;
      assert.ok(external < 256 * 2 ** 20, `iteration ${iter}: ${external} bytes of array buffers in use`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  // Both paths are exercised: the mutations keep some files valid and break most.
  assert.ok(accepted > N / 100 && accepted < N / 2, `accepted ${accepted} of ${N}`);
  // Inputs are at most a few kB; anything near a second would mean super-linear work somewhere.
  assert.ok(slowest < 1000, `slowest input took ${slowest.toFixed(1)} ms of CPU`);
  console.log(`fuzz: ${N} inputs, ${accepted} valid, ${N - accepted} rejected, ${seconds.toFixed(2)} s (${(decoding / 1000).toFixed(2)} s of CPU decoding), slowest ${slowest.toFixed(2)} ms of CPU`);
});
