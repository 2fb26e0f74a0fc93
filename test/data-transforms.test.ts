import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, Generator } from '../src/index.js';
import * as T from '../src/data/transforms.js';
import { assertClose } from './helpers.js';

interface Case {
  shape: number[];
  data: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/transforms.json', import.meta.url), 'utf8')) as {
  image: Case;
  cases: Record<string, Case>;
};
const img = tensor(fixture.image.data, { shape: fixture.image.shape });
const expected = (name: string) => tensor(fixture.cases[name]!.data, { shape: fixture.cases[name]!.shape });

test('deterministic transforms match torchvision', () => {
  const tol = { atol: 2e-6, rtol: 1e-5 };
  assertClose(T.normalize([0.4, 0.5, 0.6], [0.2, 0.25, 0.3])(img), expected('normalize'), tol, 'normalize');
  assertClose(T.centerCrop([6, 4])(img), expected('center_crop_6x4'), tol, 'centerCrop');
  assertClose(T.centerCrop([12, 11])(img), expected('center_crop_12x11'), tol, 'centerCrop with padding');
  assertClose(T.resize([5, 7])(img), expected('resize_5x7'), tol, 'resize down');
  assertClose(T.resize([13, 17])(img), expected('resize_13x17'), tol, 'resize up');
  assertClose(T.grayscale(img), expected('grayscale'), tol, 'grayscale');
  assertClose(T.adjustBrightness(img, 1.3), expected('brightness_1.3'), tol, 'brightness');
  assertClose(T.adjustContrast(img, 0.6), expected('contrast_0.6'), tol, 'contrast');
  assertClose(T.adjustSaturation(img, 1.7), expected('saturation_1.7'), tol, 'saturation');
  // Hue goes through HSV and back with divisions; torchvision does it in float32 too.
  assertClose(T.adjustHue(img, 0.2), expected('hue_0.2'), { atol: 1e-5, rtol: 1e-4 }, 'hue +0.2');
  assertClose(T.adjustHue(img, -0.35), expected('hue_-0.35'), { atol: 1e-5, rtol: 1e-4 }, 'hue -0.35');
  assertClose(T.gaussianBlurWith(img, 5, 1.2), expected('blur_5_1.2'), tol, 'gaussian blur');
  assertClose(T.randomHorizontalFlip(1)(img), expected('hflip'), tol, 'flip');
});

test('random transforms are reproducible from the example generator and keep shapes', () => {
  const aug = T.compose([
    T.randomCrop(8, { padding: 2, padMode: 'reflect' }),
    T.randomHorizontalFlip(),
    T.colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }),
    T.randomGrayscale(0.2),
    T.gaussianBlur(3),
  ]);
  const a = aug(img, new Generator(5));
  const b = aug(img, new Generator(5));
  assert.deepEqual(a.toArray(), b.toArray());
  assert.deepEqual(a.shape, [3, 8, 8]);
  assert.notDeepEqual(aug(img, new Generator(6)).toArray(), a.toArray());
  assert.deepEqual(T.randomResizedCrop([4, 5])(img, new Generator(1)).shape, [3, 4, 5]);
  assert.deepEqual(T.resize(4)(img).shape, [3, 4, 5], 'an int resizes the shorter side');
});

test('randomCrop visits every offset and randomHorizontalFlip flips about half the time', () => {
  const x = tensor(Array.from({ length: 16 }, (_, i) => i), { shape: [1, 4, 4] });
  const seen = new Set<number>();
  let flips = 0;
  for (let s = 0; s < 400; s++) {
    seen.add(T.randomCrop(2)(x, new Generator(s)).slice(0, 0, 0).item());
    if (T.randomHorizontalFlip()(x, new Generator(s)).slice(0, 0, 0).item() === 3) flips++;
  }
  assert.equal(seen.size, 9, 'a 2x2 crop of a 4x4 image has 9 positions');
  assert.ok(flips > 150 && flips < 250, `flipped ${flips} of 400`);
});

test('toTensor turns [H, W, C] bytes into a [C, H, W] float image', () => {
  const hwc = tensor([[[255, 0, 51]]], { dtype: 'int32' });
  const chw = T.toTensor()(hwc);
  assert.deepEqual(chw.shape, [3, 1, 1]);
  assertClose(chw, [1, 0, 0.2]);
  assert.throws(() => T.normalize([0.5], [0])(chw), /std must be nonzero/);
  assert.throws(() => T.normalize([0.5], [1])(chw), /1 means and 1 stds for 3 channels/);
});
