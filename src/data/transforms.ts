/**
 * Image transforms on [C, H, W] tensors (values in [0, 1] after toTensor), as torchvision.transforms
 * defines them. Random transforms draw from the generator the DataLoader gives each example.
 */
import { Generator, Tensor, cat, conv2d, pad, rand, tensor } from '../tensor/index.js';
import { interpolate } from '../nn/functional.js';

export type Transform = (img: Tensor, rng?: Generator) => Tensor;

/** `n` uniforms in [0, 1) from the example's generator. */
function uniforms(rng: Generator | undefined, n: number): number[] {
  return rand([n], { dtype: 'float64', generator: rng }).toArray() as number[];
}

function size2(size: number | [number, number]): [number, number] {
  return typeof size === 'number' ? [size, size] : size;
}

function checkImage(op: string, img: Tensor): void {
  if (img.ndim !== 3) throw new Error(`${op}: expected a [C, H, W] image, got [${img.shape.join(', ')}]`);
}

/** Applies transforms in order. */
export function compose(transforms: Transform[]): Transform {
  return (img, rng) => transforms.reduce((x, t) => t(x, rng), img);
}

/** [H, W, C] (or [H, W]) bytes 0..255 to a [C, H, W] float32 image in [0, 1] (torchvision ToTensor). */
export function toTensor(): Transform {
  return (img) => {
    const hwc = img.ndim === 2 ? img.unsqueeze(-1) : img;
    if (hwc.ndim !== 3) throw new Error(`toTensor: expected [H, W, C] or [H, W], got [${img.shape.join(', ')}]`);
    return hwc.permute([2, 0, 1]).float().div(255);
  };
}

/** (x - mean[c]) / std[c] per channel. */
export function normalize(mean: number[], std: number[]): Transform {
  if (std.some((s) => s === 0)) throw new Error('normalize: std must be nonzero');
  return (img) => {
    checkImage('normalize', img);
    const C = img.shape[0]!;
    if (mean.length !== C || std.length !== C) throw new Error(`normalize: ${mean.length} means and ${std.length} stds for ${C} channels`);
    const m = tensor(mean, { shape: [C, 1, 1], dtype: img.dtype });
    const s = tensor(std, { shape: [C, 1, 1], dtype: img.dtype });
    return img.sub(m).div(s);
  };
}

function crop(img: Tensor, top: number, left: number, h: number, w: number): Tensor {
  return img.slice(null, [top, top + h], [left, left + w]);
}

/** The central h x w region (zero-padded first if the image is smaller, as torchvision does). */
export function centerCrop(size: number | [number, number]): Transform {
  const [h, w] = size2(size);
  return (img) => {
    checkImage('centerCrop', img);
    let x = img;
    const [H, W] = [x.shape[1]!, x.shape[2]!];
    if (h > H || w > W) {
      const ph = Math.max(0, h - H);
      const pw = Math.max(0, w - W);
      x = pad(x, [Math.floor(pw / 2), Math.ceil(pw / 2), Math.floor(ph / 2), Math.ceil(ph / 2)]);
    }
    const top = Math.round((x.shape[1]! - h) / 2);
    const left = Math.round((x.shape[2]! - w) / 2);
    return crop(x, top, left, h, w);
  };
}

/** A random h x w crop, after optional padding on every side (the CIFAR augmentation). */
export function randomCrop(
  size: number | [number, number],
  options: { padding?: number; padMode?: 'constant' | 'reflect' | 'replicate'; fill?: number } = {},
): Transform {
  const [h, w] = size2(size);
  const p = options.padding ?? 0;
  return (img, rng) => {
    checkImage('randomCrop', img);
    const x = p > 0 ? pad(img, [p, p, p, p], options.padMode ?? 'constant', options.fill ?? 0) : img;
    const [H, W] = [x.shape[1]!, x.shape[2]!];
    if (H < h || W < w) throw new Error(`randomCrop: crop ${h}x${w} is larger than the (padded) image ${H}x${W}`);
    const [u, v] = uniforms(rng, 2) as [number, number];
    return crop(x, Math.floor(u * (H - h + 1)), Math.floor(v * (W - w + 1)), h, w);
  };
}

/** Mirrors left-right with probability p. */
export function randomHorizontalFlip(p = 0.5): Transform {
  return (img, rng) => (uniforms(rng, 1)[0]! < p ? img.flip(-1) : img);
}

/** Bilinear resize to h x w (no antialiasing; torchvision antialiases when shrinking). */
export function resize(size: number | [number, number]): Transform {
  return (img) => {
    checkImage('resize', img);
    let [h, w] = size2(size);
    if (typeof size === 'number') {
      // An int resizes the shorter side to `size`, keeping the aspect ratio (torchvision).
      const [H, W] = [img.shape[1]!, img.shape[2]!];
      [h, w] = H <= W ? [size, Math.floor((size * W) / H)] : [Math.floor((size * H) / W), size];
    }
    return interpolate(img.unsqueeze(0), { size: [h, w], mode: 'bilinear', alignCorners: false }).squeeze(0);
  };
}

/**
 * A crop of random area (scale of the image) and aspect ratio, resized to `size`: Inception's
 * augmentation (Szegedy et al. 2015), with torchvision's ten attempts and centre-crop fallback.
 */
export function randomResizedCrop(
  size: number | [number, number],
  options: { scale?: [number, number]; ratio?: [number, number] } = {},
): Transform {
  const [oh, ow] = size2(size);
  const [smin, smax] = options.scale ?? [0.08, 1];
  const [rmin, rmax] = options.ratio ?? [3 / 4, 4 / 3];
  return (img, rng) => {
    checkImage('randomResizedCrop', img);
    const [H, W] = [img.shape[1]!, img.shape[2]!];
    const area = H * W;
    const u = uniforms(rng, 40);
    let box: [number, number, number, number] | null = null;
    for (let attempt = 0; attempt < 10 && !box; attempt++) {
      const target = area * (smin + (smax - smin) * u[4 * attempt]!);
      const ratio = Math.exp(Math.log(rmin) + (Math.log(rmax) - Math.log(rmin)) * u[4 * attempt + 1]!);
      const w = Math.round(Math.sqrt(target * ratio));
      const h = Math.round(Math.sqrt(target / ratio));
      if (w > 0 && h > 0 && w <= W && h <= H) {
        box = [Math.floor(u[4 * attempt + 2]! * (H - h + 1)), Math.floor(u[4 * attempt + 3]! * (W - w + 1)), h, w];
      }
    }
    if (!box) {
      const inRatio = W / H;
      let w = W;
      let h = H;
      if (inRatio < rmin) h = Math.round(w / rmin);
      else if (inRatio > rmax) w = Math.round(h * rmax);
      box = [Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w];
    }
    const c = crop(img, ...box);
    return interpolate(c.unsqueeze(0), { size: [oh, ow], mode: 'bilinear', alignCorners: false }).squeeze(0);
  };
}

/** Luma with torchvision's weights (ITU-R 601, red rounded to 0.2989): [1, H, W]. */
export function grayscale(img: Tensor): Tensor {
  if (img.shape[0] !== 3) throw new Error(`grayscale: expected 3 channels, got [${img.shape.join(', ')}]`);
  const w = tensor([0.2989, 0.587, 0.114], { shape: [3, 1, 1], dtype: img.dtype });
  return img.mul(w).sum(0, true);
}

function blend(a: Tensor, b: Tensor, ratio: number): Tensor {
  return a.mul(ratio).add(b.mul(1 - ratio)).clamp(0, 1);
}

/** Scales intensities by `factor` (torchvision's adjust_brightness). */
export function adjustBrightness(img: Tensor, factor: number): Tensor {
  return img.mul(factor).clamp(0, 1);
}

/** Blends with the mean gray level (torchvision's adjust_contrast). */
export function adjustContrast(img: Tensor, factor: number): Tensor {
  return blend(img, grayscale(img).mean().expand([...img.shape]), factor);
}

/** Blends with the grayscale image (torchvision's adjust_saturation). */
export function adjustSaturation(img: Tensor, factor: number): Tensor {
  return blend(img, grayscale(img).expand([...img.shape]), factor);
}

/** Separable Gaussian blur with a given sigma and reflect padding (torchvision's gaussian_blur). */
export function gaussianBlurWith(img: Tensor, kernelSize: number, sigma: number): Tensor {
  const half = (kernelSize - 1) / 2;
  const k = Array.from({ length: kernelSize }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const total = k.reduce((a, b) => a + b, 0);
  const C = img.shape[0]!;
  const row = tensor(k.map((v) => v / total), { dtype: img.dtype });
  const x = pad(img.unsqueeze(0), [half, half, half, half], 'reflect');
  const horizontal = row.reshape([1, 1, 1, kernelSize]).expand([C, 1, 1, kernelSize]);
  const vertical = row.reshape([1, 1, kernelSize, 1]).expand([C, 1, kernelSize, 1]);
  return conv2d(conv2d(x, horizontal, null, { groups: C }), vertical, null, { groups: C }).squeeze(0);
}

/** Hue rotation by `shift` (a fraction of a turn) through HSV, as torchvision's adjust_hue. */
export function adjustHue(img: Tensor, shift: number): Tensor {
  const [r, g, b] = [img.select(0, 0), img.select(0, 1), img.select(0, 2)];
  const maxc = img.amax(0);
  const minc = img.amin(0);
  const cr = maxc.sub(minc);
  const eq = cr.eq(0);
  const safeMax = maxc.where(maxc.ne(0), 1);
  const s = cr.div(safeMax);
  const crSafe = cr.where(eq.logicalNot(), 1);
  const rc = maxc.sub(r).div(crSafe);
  const gc = maxc.sub(g).div(crSafe);
  const bc = maxc.sub(b).div(crSafe);
  const hr = bc.sub(gc).where(maxc.eq(r), 0);
  const hg = rc.sub(bc).add(2).where(maxc.eq(g).logicalAnd(maxc.ne(r)), 0);
  const hb = gc.sub(rc).add(4).where(maxc.ne(g).logicalAnd(maxc.ne(r)), 0);
  let h = hr.add(hg).add(hb).div(6).add(1);
  h = h.sub(h.floor()); // fmod 1
  h = h.add(shift);
  h = h.sub(h.floor());
  const v = maxc;
  // HSV back to RGB
  const i6 = h.mul(6);
  const i = i6.floor();
  const f = i6.sub(i);
  const p = v.mul(s.neg().add(1)).clamp(0, 1);
  const q = v.mul(s.mul(f).neg().add(1)).clamp(0, 1);
  const t = v.mul(s.mul(f.neg().add(1)).neg().add(1)).clamp(0, 1);
  const sector = i.sub(i.div(6).floor().mul(6)); // i mod 6
  const pick = (choices: Tensor[]) =>
    choices.reduce((acc, c, k) => c.where(sector.eq(k), acc), choices[0]!.mul(0));
  const R = pick([v, q, p, p, t, v]);
  const G = pick([t, v, v, q, p, p]);
  const B = pick([p, p, t, v, v, q]);
  return cat([R.unsqueeze(0), G.unsqueeze(0), B.unsqueeze(0)], 0);
}

/**
 * Random brightness, contrast, saturation and hue, applied in a random order (torchvision's
 * ColorJitter). Each factor is drawn uniformly from [max(0, 1 - x), 1 + x]; hue from [-hue, hue].
 */
export function colorJitter(options: { brightness?: number; contrast?: number; saturation?: number; hue?: number } = {}): Transform {
  const { brightness = 0, contrast = 0, saturation = 0, hue = 0 } = options;
  if (hue < 0 || hue > 0.5) throw new Error(`colorJitter: hue must be in [0, 0.5], got ${hue}`);
  return (img, rng) => {
    checkImage('colorJitter', img);
    const u = uniforms(rng, 8);
    const order = [0, 1, 2, 3].map((k) => [k, u[k]!] as const).sort((a, b) => a[1] - b[1]).map(([k]) => k);
    const factor = (x: number, r: number) => Math.max(0, 1 - x) + (1 + x - Math.max(0, 1 - x)) * r;
    let x = img;
    for (const k of order) {
      if (k === 0 && brightness > 0) x = adjustBrightness(x, factor(brightness, u[4]!));
      if (k === 1 && contrast > 0) x = adjustContrast(x, factor(contrast, u[5]!));
      if (k === 2 && saturation > 0) x = adjustSaturation(x, factor(saturation, u[6]!));
      if (k === 3 && hue > 0) x = adjustHue(x, -hue + 2 * hue * u[7]!);
    }
    return x;
  };
}

/** Converts to grayscale (replicated to 3 channels) with probability p. */
export function randomGrayscale(p = 0.1): Transform {
  return (img, rng) => (uniforms(rng, 1)[0]! < p ? grayscale(img).expand([...img.shape]) : img);
}

/** Gaussian blur with sigma drawn uniformly from [sigmaMin, sigmaMax], reflect padding, as torchvision. */
export function gaussianBlur(kernelSize: number, sigma: [number, number] = [0.1, 2]): Transform {
  if (kernelSize % 2 !== 1 || kernelSize < 1) throw new Error(`gaussianBlur: kernelSize must be odd and positive, got ${kernelSize}`);
  return (img, rng) => {
    checkImage('gaussianBlur', img);
    const s = sigma[0] + (sigma[1] - sigma[0]) * uniforms(rng, 1)[0]!;
    return gaussianBlurWith(img, kernelSize, s);
  };
}
