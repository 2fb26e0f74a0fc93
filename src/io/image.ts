/**
 * Image files in and out: PNG and JPEG decoded by well-kept pure-JavaScript libraries (pngjs,
 * jpeg-js), returned as [H, W, C] uint8 values in a Tensor (int32, 0..255).
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { type Tensor, tensor } from '../tensor/index.js';

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB) channels. */
  channels: number;
  /** Row-major [H, W, C] bytes. */
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(b: Uint8Array): boolean {
  return PNG_MAGIC.every((v, i) => b[i] === v);
}

function isJpeg(b: Uint8Array): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** RGBA bytes to RGB (or gray when `gray`), dropping alpha. */
function fromRgba(rgba: Uint8Array, width: number, height: number, gray: boolean): DecodedImage {
  const channels = gray ? 1 : 3;
  const out = new Uint8Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    if (gray) out[p] = rgba[4 * p]!;
    else {
      out[3 * p] = rgba[4 * p]!;
      out[3 * p + 1] = rgba[4 * p + 1]!;
      out[3 * p + 2] = rgba[4 * p + 2]!;
    }
  }
  return { width, height, channels, data: out };
}

/** Decodes PNG or JPEG bytes (the format is read from the magic bytes, not the name). */
export function decodeImage(bytes: Uint8Array, name = 'image', options: { grayscale?: boolean } = {}): DecodedImage {
  const gray = options.grayscale ?? false;
  try {
    if (isPng(bytes)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return fromRgba(new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height, gray);
    }
    if (isJpeg(bytes)) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
      return fromRgba(img.data, img.width, img.height, gray);
    }
  } catch (e) {
    throw new Error(`${name}: cannot decode image: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new Error(`${name}: not a PNG or JPEG file (unrecognised magic bytes)`);
}

/** Reads an image file into an [H, W, C] int32 tensor of 0..255 values. */
export function readImage(path: string, options: { grayscale?: boolean } = {}): Tensor {
  const img = decodeImage(readFileSync(path), path, options);
  return tensor(img.data, { shape: [img.height, img.width, img.channels], dtype: 'int32' });
}
