/**
 * Pictures of environments: each frame is an image of palette indices (so an episode becomes a GIF
 * with one global palette), convertible to RGB for PNG. MinAtar frames paint one colour per channel,
 * later channels over earlier ones, on a black background; CartPole is drawn as Gymnasium draws it
 * (cart, pole, axle and track, same colours and proportions) at a chosen width.
 */
import { encodeGif } from '../io/gif.js';
import { encodePng } from '../io/png.js';
import type { CartPoleState } from './cartpole.js';
import { X_THRESHOLD } from './cartpole.js';

/** An [r, g, b] colour, each 0..255. */
export type Rgb = readonly [number, number, number];

/** One picture: `indices` (height x width, row-major) into `palette`. */
export interface IndexedFrame {
  width: number;
  height: number;
  indices: number[];
  palette: readonly Rgb[];
}

/** Background, then one colour per MinAtar channel (ten at most, Seaquest's count). */
export const MINATAR_PALETTE: readonly Rgb[] = [
  [0, 0, 0],
  [82, 170, 255], // channel 0: the player (cannon, chicken, paddle, sub front)
  [235, 64, 52], // 1
  [120, 120, 120], // 2: Asterix, Breakout and Seaquest trails, Space Invaders' left-moving aliens
  [255, 205, 60], // 3
  [255, 140, 0], // 4
  [60, 200, 90], // 5
  [200, 80, 200], // 6
  [0, 190, 190], // 7
  [240, 240, 240], // 8
  [150, 100, 255], // 9
];

/**
 * A MinAtar observation ([channels, 10, 10] flattened, 0/1) as a picture: each grid cell becomes a
 * `scale` x `scale` block coloured by the last channel set in it, with a one-pixel dark grid line.
 */
export function minatarFrame(observation: ArrayLike<number>, channels: number, scale = 16): IndexedFrame {
  if (observation.length !== channels * 100) {
    throw new Error(`minatarFrame: expected ${channels} x 10 x 10 = ${channels * 100} values, got ${observation.length}`);
  }
  if (channels > MINATAR_PALETTE.length - 1) throw new Error(`minatarFrame: at most ${MINATAR_PALETTE.length - 1} channels`);
  const cells = new Array<number>(100).fill(0);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < 100; i++) if (observation[c * 100 + i]) cells[i] = c + 1;
  }
  const size = 10 * scale;
  const indices = new Array<number>(size * size).fill(0);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const onLine = scale > 2 && (x % scale === 0 || y % scale === 0);
      indices[y * size + x] = onLine ? 0 : cells[Math.floor(y / scale) * 10 + Math.floor(x / scale)]!;
    }
  }
  return { width: size, height: size, indices, palette: MINATAR_PALETTE };
}

/** White background, black cart and track, Gymnasium's pole and axle colours. */
export const CARTPOLE_PALETTE: readonly Rgb[] = [
  [255, 255, 255],
  [0, 0, 0],
  [202, 152, 101],
  [129, 132, 203],
];

/** A CartPole state drawn as Gymnasium's 600 x 400 render, scaled to `width` x (2/3 width). */
export function cartPoleFrame(state: CartPoleState, width = 300): IndexedFrame {
  const height = Math.round((width * 2) / 3);
  const k = width / 600; // Gymnasium's geometry is in pixels of a 600-wide screen
  const scale = width / (X_THRESHOLD * 2);
  const poleWidth = 10 * k;
  const poleLength = scale * 1.0; // 2 x the half-length 0.5
  const cartWidth = 50 * k;
  const cartHeight = 30 * k;
  const cartY = 100 * k; // from the bottom
  const [x, , theta] = state;
  const cartX = x * scale + width / 2;
  const indices = new Array<number>(width * height).fill(0);
  const axleY = cartY + cartHeight / 4; // the pole's pivot, in bottom-up coordinates
  // The pole points along (sin theta, cos theta) in bottom-up coordinates (theta > 0 leans right).
  const ux = Math.sin(theta);
  const uy = Math.cos(theta);
  for (let row = 0; row < height; row++) {
    const py = height - 1 - row + 0.5; // bottom-up pixel centre
    for (let col = 0; col < width; col++) {
      const px = col + 0.5;
      let v = 0;
      if (Math.abs(py - cartY) < 0.5) v = 1; // track
      if (Math.abs(px - cartX) <= cartWidth / 2 && py >= cartY - cartHeight / 2 && py <= cartY + cartHeight / 2) v = 1;
      const dx = px - cartX;
      const dy = py - axleY;
      const along = dx * ux + dy * uy;
      const across = dx * uy - dy * ux;
      if (along >= -poleWidth / 2 && along <= poleLength - poleWidth / 2 && Math.abs(across) <= poleWidth / 2) v = 2;
      if (dx * dx + dy * dy <= (poleWidth / 2) ** 2) v = 3;
      indices[row * width + col] = v;
    }
  }
  return { width, height, indices, palette: CARTPOLE_PALETTE };
}

/** The frame as RGB bytes (height x width x 3, row-major). */
export function frameToRgb(frame: IndexedFrame): number[] {
  const out = new Array<number>(frame.indices.length * 3);
  for (let i = 0; i < frame.indices.length; i++) {
    const c = frame.palette[frame.indices[i]!]!;
    out[3 * i] = c[0];
    out[3 * i + 1] = c[1];
    out[3 * i + 2] = c[2];
  }
  return out;
}

/** The frame as a PNG file's bytes. */
export function frameToPng(frame: IndexedFrame) {
  return encodePng(frameToRgb(frame), frame.width, frame.height, 3);
}

/** An episode's frames (same size and palette) as an animated GIF's bytes; `delayCs` in 1/100 s. */
export function framesToGif(frames: IndexedFrame[], delayCs = 10) {
  if (frames.length === 0) throw new Error('framesToGif: no frames');
  const { width, height, palette } = frames[0]!;
  for (const f of frames) {
    if (f.width !== width || f.height !== height || f.palette !== palette) throw new Error('framesToGif: frames differ in size or palette');
  }
  return encodeGif(frames.map((f) => f.indices), width, height, palette, { delayCs });
}
