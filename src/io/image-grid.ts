/**
 * Image grids for reports (torchvision's make_grid and save_image): a batch [N, C, H, W] of values
 * in [0, 1] (or a given range) tiled into one picture and written as PNG.
 */
import { writeFileSync } from 'node:fs';
import { Tensor, full, noGrad, cat } from '../tensor/index.js';
import { encodePng } from './png.js';

export interface GridOptions {
  /** Images per row. */
  nrow?: number;
  /** Pixels between images. */
  padding?: number;
  /** The value range mapped to 0..255; by default [0, 1]. */
  range?: [number, number];
  /** Rescale each image by its own min and max instead (for weights, generated samples). */
  normalizeEach?: boolean;
  padValue?: number;
}

/** Tiles [N, C, H, W] (C = 1 or 3) into one [C, H', W'] image in [0, 1]. */
export function makeGrid(images: Tensor, options: GridOptions = {}): Tensor {
  if (images.ndim !== 4 || (images.shape[1] !== 1 && images.shape[1] !== 3)) {
    throw new Error(`makeGrid: expected [N, 1 or 3, H, W], got [${images.shape.join(', ')}]`);
  }
  const [N, C, H, W] = images.shape as [number, number, number, number];
  const nrow = Math.min(options.nrow ?? 8, N);
  const pad = options.padding ?? 2;
  const [lo, hi] = options.range ?? [0, 1];
  return noGrad(() => {
    let x = images.float();
    if (options.normalizeEach) {
      const mn = x.amin([1, 2, 3], true);
      const mx = x.amax([1, 2, 3], true);
      x = x.sub(mn).div(mx.sub(mn).clamp(1e-12, null));
    } else x = x.sub(lo).div(hi - lo);
    x = x.clamp(0, 1);
    const rows = Math.ceil(N / nrow);
    const fill = (h: number, w: number) => full([C, h, w], options.padValue ?? 0);
    const rowImages: Tensor[] = [];
    for (let r = 0; r < rows; r++) {
      const tiles: Tensor[] = [fill(H, pad)];
      for (let c = 0; c < nrow; c++) {
        const i = r * nrow + c;
        tiles.push(i < N ? x.select(0, i) : fill(H, W), fill(H, pad));
      }
      rowImages.push(fill(pad, nrow * (W + pad) + pad), cat(tiles, 2));
    }
    rowImages.push(fill(pad, nrow * (W + pad) + pad));
    return cat(rowImages, 1);
  });
}

/** Writes a [C, H, W] image in [0, 1], or a batch tiled by makeGrid, as a PNG file. */
export function saveImage(image: Tensor, path: string, options: GridOptions = {}): void {
  const img = image.ndim === 4 ? makeGrid(image, options) : image;
  if (img.ndim !== 3 || (img.shape[0] !== 1 && img.shape[0] !== 3)) {
    throw new Error(`saveImage: expected [C, H, W] or [N, C, H, W] with C = 1 or 3, got [${image.shape.join(', ')}]`);
  }
  const [C, H, W] = img.shape as [number, number, number];
  const bytes = noGrad(() => img.clamp(0, 1).mul(255).add(0.5).floor().permute([1, 2, 0]).int());
  writeFileSync(path, encodePng(bytes.dataSync(), W, H, C));
}
