// Rendering: PNG (checked against files encoded independently by tools/reference/rl_png_fixture.py
// and by re-inflating our IDAT with node:zlib), GIF structure and LZW round trip (decoded by a
// decoder written here, independently of the encoder), and the MinAtar / CartPole pictures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { crc32, decodePng, encodePng, readPngChunks } from '../src/io/png.js';
import { encodeGif } from '../src/io/gif.js';
import { cartPoleFrame, frameToPng, frameToRgb, framesToGif, MINATAR_PALETTE, minatarFrame } from '../src/rl/render.js';
import { MinAtarEnv } from '../src/rl/minatar/env.js';
import { PhiloxRandom } from '../src/rl/random.js';

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/rl-png.json', import.meta.url), 'utf8')) as {
  cases: { width: number; height: number; channels: number; png: string; pixels: number[] }[];
  crc32_123456789: number;
};

test('crc32 matches zlib on the standard check string', () => {
  const bytes = [...'123456789'].map((c) => c.charCodeAt(0));
  assert.equal(crc32(bytes), fixture.crc32_123456789);
  assert.equal(crc32(bytes), 0xcbf43926);
  // Continuing a CRC over a split input gives the CRC of the whole.
  assert.equal(crc32(bytes, 4, 9, crc32(bytes, 0, 4)), 0xcbf43926);
});

test('encodePng writes IHDR, IDAT, IEND whose data node:zlib inflates to the filtered rows', () => {
  const width = 3;
  const height = 2;
  const pixels = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90];
  const png = encodePng(pixels, width, height, 3);
  const chunks = readPngChunks(png);
  assert.deepEqual(chunks.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
  assert.deepEqual([...chunks[0]!.data], [0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
  const raw = [...inflateSync(chunks[1]!.data)];
  assert.deepEqual(raw, [0, ...pixels.slice(0, 9), 0, ...pixels.slice(9)]);
  // Every chunk's CRC is checked on reading.
  const bad = png.slice();
  bad[bad.length - 20] ^= 1;
  assert.throws(() => readPngChunks(bad), /CRC mismatch/);
  assert.throws(() => decodePng(png.slice(0, 30)), /truncated|past the end/);
  assert.throws(() => encodePng([1, 2], 1, 1, 3), /expected 1 x 1 x 3 = 3 values/);
});

test('decodePng undoes all five filters in independently encoded files, and round-trips ours', () => {
  for (const c of fixture.cases) {
    const file = Uint8Array.from(Buffer.from(c.png, 'base64'));
    const img = decodePng(file);
    assert.deepEqual([img.width, img.height, img.channels], [c.width, c.height, c.channels]);
    assert.deepEqual([...img.data], c.pixels);
    const again = decodePng(encodePng(c.pixels, c.width, c.height, c.channels));
    assert.deepEqual([...again.data], c.pixels);
  }
});

/** A GIF reader written for this test: returns the logical screen, palette, delays and frames. */
function parseGif(bytes: Uint8Array) {
  let at = 0;
  const u8 = () => bytes[at++]!;
  const u16 = () => u8() | (u8() << 8);
  const header = String.fromCharCode(...bytes.subarray(0, 6));
  at = 6;
  const width = u16();
  const height = u16();
  const packed = u8();
  u8();
  u8();
  const tableSize = packed & 0x80 ? 2 << (packed & 7) : 0;
  const palette: number[][] = [];
  for (let i = 0; i < tableSize; i++) palette.push([u8(), u8(), u8()]);
  const frames: number[][] = [];
  const delays: number[] = [];
  let loops: number | null = null;
  const subBlocks = () => {
    const out: number[] = [];
    for (let n = u8(); n > 0; n = u8()) for (let i = 0; i < n; i++) out.push(u8());
    return out;
  };
  for (;;) {
    const block = u8();
    if (block === 0x3b) break;
    if (block === 0x21) {
      const label = u8();
      const data = subBlocks();
      if (label === 0xf9) delays.push(data[1]! | (data[2]! << 8));
      if (label === 0xff && String.fromCharCode(...data.slice(0, 11)) === 'NETSCAPE2.0') loops = data[12]! | (data[13]! << 8);
    } else if (block === 0x2c) {
      at += 8;
      const flags = u8();
      assert.equal(flags, 0, 'no local table, not interlaced');
      const minCodeSize = u8();
      frames.push(lzwDecode(subBlocks(), minCodeSize));
    } else {
      throw new Error(`parseGif: unexpected block 0x${block.toString(16)} at byte ${at - 1}`);
    }
  }
  assert.equal(at, bytes.length, 'the trailer is the last byte');
  return { header, width, height, palette, frames, delays, loops };
}

/** GIF LZW decoding (spec appendix F), from the decoder's side. */
function lzwDecode(data: number[], minCodeSize: number): number[] {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  let size = minCodeSize + 1;
  let table: number[][] = [];
  const resetTable = () => {
    table = [];
    for (let i = 0; i < clear; i++) table.push([i]);
    table.push([], []);
    size = minCodeSize + 1;
  };
  resetTable();
  const out: number[] = [];
  let bit = 0;
  let prev: number[] | null = null;
  for (;;) {
    let code = 0;
    for (let i = 0; i < size; i++, bit++) code |= ((data[bit >> 3]! >> (bit & 7)) & 1) << i;
    if (code === clear) {
      resetTable();
      prev = null;
      continue;
    }
    if (code === end) break;
    let entry: number[];
    if (code < table.length) entry = table[code]!;
    else if (code === table.length && prev) entry = [...prev, prev[0]!];
    else throw new Error(`lzwDecode: bad code ${code}`);
    out.push(...entry);
    if (prev && table.length < 4096) table.push([...prev, entry[0]!]);
    if (table.length === 1 << size && size < 12) size++;
    prev = entry;
  }
  return out;
}

test('encodeGif: header, palette, loop block, one image per frame, trailer; LZW round-trips', () => {
  const rng = new PhiloxRandom(1);
  const palette = Array.from({ length: 11 }, (_, i) => [i * 20, 255 - i * 20, (i * 77) % 256] as [number, number, number]);
  // A long random frame makes the code table fill up and restart (4096 codes); a flat one makes long runs.
  const big = Array.from({ length: 128 * 128 }, () => Math.floor(rng.random() * 11));
  const flat = new Array<number>(128 * 128).fill(3);
  const stripes = Array.from({ length: 128 * 128 }, (_, i) => (i >> 7) % 11);
  const gif = encodeGif([big, flat, stripes], 128, 128, palette, { delayCs: 7 });
  const parsed = parseGif(gif);
  assert.equal(parsed.header, 'GIF89a');
  assert.deepEqual([parsed.width, parsed.height], [128, 128]);
  assert.equal(parsed.palette.length, 16); // 11 colours padded to a power of two
  assert.deepEqual(parsed.palette.slice(0, 11), palette);
  assert.equal(parsed.loops, 0);
  assert.deepEqual(parsed.delays, [7, 7, 7]);
  assert.equal(parsed.frames.length, 3);
  assert.deepEqual(parsed.frames[0], big);
  assert.deepEqual(parsed.frames[1], flat);
  assert.deepEqual(parsed.frames[2], stripes);
  // Two colours: the smallest table and the minimum LZW code size of 2.
  const tiny = parseGif(encodeGif([[0, 1, 1, 0]], 2, 2, [[0, 0, 0], [255, 255, 255]]));
  assert.deepEqual(tiny.frames, [[0, 1, 1, 0]]);
  assert.throws(() => encodeGif([[0, 5]], 2, 1, palette.slice(0, 2)), /outside the 2-colour palette/);
});

test('minatarFrame colours each cell by its last lit channel, with grid lines', () => {
  const obs = new Array<number>(300).fill(0);
  obs[0 * 100 + 0] = 1; // channel 0 at (0, 0)
  obs[2 * 100 + 0] = 1; // channel 2 at (0, 0) too: drawn on top
  obs[1 * 100 + 99] = 1; // channel 1 at (9, 9)
  const f = minatarFrame(obs, 3, 4);
  assert.deepEqual([f.width, f.height], [40, 40]);
  assert.equal(f.indices[1 * 40 + 1], 3); // inside cell (0, 0): channel 2 -> palette 3
  assert.equal(f.indices[39 * 40 + 39], 2); // inside cell (9, 9): channel 1 -> palette 2
  assert.equal(f.indices[0], 0); // grid line
  assert.equal(f.indices[5 * 40 + 5], 0); // empty cell
  const rgb = frameToRgb(f);
  assert.deepEqual(rgb.slice(3 * 41, 3 * 41 + 3), [...MINATAR_PALETTE[3]!]);
  const img = decodePng(frameToPng(f));
  assert.deepEqual([...img.data], rgb);
});

test('an episode of Breakout becomes a GIF with one frame per observation', () => {
  const env = new MinAtarEnv('breakout', { seed: 2 });
  const frames = [minatarFrame(env.observationArray(), 4, 8)];
  for (let done = false; !done; ) {
    done = env.act(0).terminated;
    frames.push(minatarFrame(env.observationArray(), 4, 8));
  }
  const parsed = parseGif(framesToGif(frames, 5));
  assert.equal(parsed.frames.length, frames.length);
  frames.forEach((f, i) => assert.deepEqual(parsed.frames[i], f.indices));
});

test('cartPoleFrame draws the pole above the cart, leaning with theta', () => {
  const poleColumns = (theta: number) => {
    const f = cartPoleFrame([0, 0, theta, 0], 300);
    const cols: number[] = [];
    // Pole pixels (palette 2) in the top part of the picture, well above the cart.
    for (let row = 0; row < 100; row++) for (let col = 0; col < 300; col++) if (f.indices[row * 300 + col] === 2) cols.push(col);
    return cols;
  };
  const up = poleColumns(0);
  assert.ok(up.length > 0);
  assert.ok(up.every((c) => Math.abs(c - 150) <= 3), 'upright pole is centred on the cart');
  const right = poleColumns(0.2);
  assert.ok(right.every((c) => c > 150), 'positive theta leans right');
  const f = cartPoleFrame([1, 0, 0, 0], 300);
  // The cart (palette 1) is centred at x = 1 m: 150 + 1 * 300 / 4.8 = 212.5 px.
  const cartRow = 200 - 1 - 50; // cart centre, 50 px (100 * 0.5) from the bottom
  const cartCols = [];
  for (let col = 0; col < 300; col++) if (f.indices[cartRow * 300 + col] === 1) cartCols.push(col);
  assert.equal(Math.round((cartCols[0]! + cartCols[cartCols.length - 1]!) / 2), 212);
});
