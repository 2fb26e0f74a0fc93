/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
 * counter-based generator PyTorch and JAX use on GPUs. Each 128-bit counter value gives four
 * 32-bit words with no state carried between them, so element i of a draw is a pure function of
 * (key, counter + block(i)): every backend and any thread count produce the same numbers.
 *
 * How draws map words to values is fixed here and shared by every backend:
 * - uniform float32: element i takes word i (block i/4, lane i%4), 24 bits;
 * - uniform float64: element i takes words 2i and 2i+1, 53 bits;
 * - normal: elements 2j and 2j+1 are the Box-Muller pair of the uniforms of pair j
 *   (float32: words 2j, 2j+1; float64: words 4j..4j+3).
 */
import type { DType } from '../dtype.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lolo = aLo * bLo;
  const lohi = aLo * bHi;
  const hilo = aHi * bLo;
  const hihi = aHi * bHi;
  const mid = (lolo >>> 16) + (lohi & 0xffff) + (hilo & 0xffff);
  return (hihi + (lohi >>> 16) + (hilo >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** Writes the four words of block `counter` (a non-negative integer below 2^53) into `out`. */
export function philoxBlock(key0: number, key1: number, counter: number, out: Uint32Array): void {
  let c0 = counter >>> 0;
  let c1 = Math.floor(counter / 4294967296) >>> 0;
  let c2 = 0;
  let c3 = 0;
  let k0 = key0 >>> 0;
  let k1 = key1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** Number of 128-bit blocks a draw of `n` values consumes; the generator advances by this. */
export function blocksFor(kind: 'uniform' | 'normal', dtype: DType, n: number): number {
  const wordsPerValue = dtype === 'float64' ? 2 : 1;
  const words = kind === 'normal' ? 2 * Math.ceil(n / 2) * wordsPerValue : n * wordsPerValue;
  return Math.ceil(words / 4);
}

const TWO_POW_M24 = 1 / 16777216;
const TWO_POW_M53 = 1 / 9007199254740992;

/** Reads words sequentially from consecutive blocks. */
class WordStream {
  private block = new Uint32Array(4);
  private lane = 4;
  private counter: number;
  constructor(
    private readonly k0: number,
    private readonly k1: number,
    counter: number,
  ) {
    this.counter = counter;
  }
  next(): number {
    if (this.lane === 4) {
      philoxBlock(this.k0, this.k1, this.counter++, this.block);
      this.lane = 0;
    }
    return this.block[this.lane++]!;
  }
  /** A uniform number in [0, 1) with the dtype's precision. */
  uniform(dtype: DType): number {
    if (dtype === 'float64') {
      const a = this.next() >>> 5;
      const b = this.next() >>> 6;
      return (a * 67108864 + b) * TWO_POW_M53;
    }
    return (this.next() >>> 8) * TWO_POW_M24;
  }
}

/** Fills `out` with uniforms in [low, high). */
export function fillUniform(
  out: { length: number; [i: number]: number },
  dtype: DType,
  key: [number, number],
  counter: number,
  low = 0,
  high = 1,
): void {
  const s = new WordStream(key[0], key[1], counter);
  const span = high - low;
  for (let i = 0; i < out.length; i++) out[i] = low + span * s.uniform(dtype);
}

/** Fills `out` with standard normals by the Box-Muller transform. */
export function fillNormal(
  out: { length: number; [i: number]: number },
  dtype: DType,
  key: [number, number],
  counter: number,
  mean = 0,
  std = 1,
): void {
  const s = new WordStream(key[0], key[1], counter);
  const eps = dtype === 'float64' ? TWO_POW_M53 : TWO_POW_M24;
  for (let i = 0; i < out.length; i += 2) {
    const u1 = s.uniform(dtype) + eps; // in (0, 1], so the log is finite
    const u2 = s.uniform(dtype);
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
}
