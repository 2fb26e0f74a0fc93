import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { ones, zeros, cat, io } from '../src/index.js';

test('makeGrid tiles a batch with padding, and saveImage writes a PNG with those pixels', () => {
  // Three 2x2 images: white, black, white; two per row with 1 pixel of padding (value 0.5).
  const batch = cat([ones([1, 3, 2, 2]), zeros([1, 3, 2, 2]), ones([1, 3, 2, 2])], 0);
  const grid = io.makeGrid(batch, { nrow: 2, padding: 1, padValue: 0.5 });
  assert.deepEqual(grid.shape, [3, 2 * 3 + 1, 2 * 3 + 1]);
  const px = (y: number, x: number) => grid.slice(0, y, x).item();
  assert.equal(px(0, 0), 0.5, 'top padding');
  assert.equal(px(1, 1), 1, 'first image');
  assert.equal(px(1, 4), 0, 'second image');
  assert.equal(px(4, 1), 1, 'third image, second row');
  assert.equal(px(4, 4), 0.5, 'the empty cell is padding colour');
  const path = join(mkdtempSync(join(tmpdir(), 'ms-grid-')), 'grid.png');
  io.saveImage(batch, path, { nrow: 2, padding: 1, padValue: 0.5 });
  const png = PNG.sync.read(readFileSync(path));
  assert.equal(png.width, 7);
  assert.equal(png.height, 7);
  const at = (y: number, x: number) => png.data[(y * 7 + x) * 4]!;
  assert.deepEqual([at(0, 0), at(1, 1), at(1, 4), at(4, 4)], [128, 255, 0, 128]);
  assert.throws(() => io.makeGrid(zeros([2, 2, 4, 4])), /expected \[N, 1 or 3, H, W\]/);
});
