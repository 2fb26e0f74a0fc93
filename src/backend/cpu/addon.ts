/**
 * Loads the native addon (native/cpu/, built by node-gyp at install time into build/Release/).
 * When it is missing or fails to load, `addon` is null, the library says so once on stderr, and
 * the reference backend runs everything. `MILESTONES_NATIVE=off` skips loading it;
 * `MILESTONES_NATIVE_ADDON=path` loads another build (the AddressSanitizer one, native/README.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Typed arrays as the addon receives them (the storage of every dtype). */
type Data = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The functions native/cpu/addon.cc exports; argument order is documented there. */
export interface Addon {
  info(): { isa: string; threads: number; cores: number };
  /** The argument layout addon.cc was built with (absent before shapes travelled packed). */
  glueVersion?: number;
  unary(op: number, x: Data, out: Data, p0: number, p1: number, p2: number): void;
  // The Float64Array `geometry` arguments pack the integers a kernel needs; addon.cc lists each layout.
  binary(op: number, a: Data, b: Data, out: Data, geometry: Float64Array): void;
  where(c: Data, a: Data, b: Data, out: Data, geometry: Float64Array): void;
  /** Absent from addons built before it (the reference kernel then runs). */
  reluBackward?(y: Data, gy: Data, out: Data): void;
  strided(x: Data, out: Data, geometry: Float64Array, base: number, scatter: boolean): void;
  reduce(op: number, x: Data, geometry: Float64Array, out: Data): void;
  argReduce(isMax: boolean, x: Data, outer: number, len: number, inner: number, out: Int32Array): void;
  cumsum(x: Data, out: Data, outer: number, len: number, inner: number): void;
  bmm(a: Data, b: Data, out: Data, geometry: Float64Array, bias?: Data): void;
  smoothL1Backward(x: Data, gy: Data, out: Data, beta: number): void;
  softmax(x: Data, out: Data, outer: number, len: number, inner: number, log: boolean): void;
  /** Absent from addons built before it (the cpu backend then runs the reference kernel). */
  renorm?(x: Data, out: Data, outer: number, len: number, inner: number, p: number, maxnorm: number): void;
  conv(kind: number, in0: Data, in1: Data, out: Data, geometry: Float64Array, bias?: Data): void;
  pool(kind: number, x: Data, out: Data, geometry: Float64Array, divisorOverride: number): void;
  uniform(out: Data, key0: number, key1: number, counter: number): void;
  /** Absent from addons built before it (the cpu backend then runs the reference kernel). */
  dropout?(x: Data, y: Data, keep: Data, key0: number, key1: number, counter: number, p: number): void;
  dropoutBackward?(g: Data, keep: Data, out: Data, p: number): void;
  // norm.cc (absent from addons built before it: the cpu backend then runs the reference kernels)
  batchNorm?(x: Data, w: Data, b: Data, y: Data, mean: Data, invstd: Data, N: number, C: number, S: number, eps: number): void;
  batchNormBackward?(gy: Data, x: Data, mean: Data, invstd: Data, w: Data, gx: Data, gw: Data, gb: Data, N: number, C: number, S: number): void;
  layerNorm?(x: Data, w: Data, b: Data, y: Data, mean: Data, rstd: Data, rows: number, D: number, eps: number): void;
  layerNormBackward?(gy: Data, x: Data, mean: Data, rstd: Data, w: Data, gx: Data, gw: Data, gb: Data, rows: number, D: number): void;
  softmaxBackward?(y: Data, gy: Data, out: Data, outer: number, len: number, inner: number, log: boolean): void;
  // vmath.cc (absent from addons built before it: the cpu backend then runs the reference kernel)
  geluTanhBackward?(x: Data, gy: Data, out: Data): void;
  // rnn.cc (absent from addons built before it: the cpu backend then runs the reference kernels)
  lstmSequence?(x: Data, w: Data, h0: Data, c0: Data, h: Data, c: Data, gates: Data, T: number, N: number, H: number, reverse: boolean): void;
  lstmSequenceBackward?(
    w: Data, c0: Data, gh: Data, gc: Data, c: Data, gates: Data, gx: Data, gh0: Data, gc0: Data,
    T: number, N: number, H: number, reverse: boolean,
  ): void;
  gruSequence?(x: Data, w: Data, b: Data, h0: Data, h: Data, gates: Data, hn: Data, T: number, N: number, H: number, reverse: boolean): void;
  gruSequenceBackward?(
    w: Data, h0: Data, gh: Data, h: Data, gates: Data, hn: Data, gx: Data, ghg: Data, gh0: Data,
    T: number, N: number, H: number, reverse: boolean,
  ): void;
  // indexing.cc (absent from older addons: the reference kernels then run). The index functions return
  // the position of the first out-of-range index, or -1.
  gather?(x: Data, xShape: number[], index: Data, indexShape: number[], axis: number, out: Data): number;
  scatter?(
    add: boolean,
    x: Data,
    xShape: number[],
    index: Data,
    indexShape: number[],
    src: Data,
    srcShape: number[],
    axis: number,
    out: Data,
  ): number;
  indexSelect?(x: Data, index: Data, outer: number, len: number, inner: number, out: Data): number;
  indexAdd?(x: Data, index: Data, src: Data, outer: number, len: number, inner: number, out: Data): number;
  argsort?(x: Data, outer: number, len: number, inner: number, descending: boolean, out: Int32Array): void;
  adaptiveAvgPool?(backward: boolean, x: Data, out: Data, geometry: number[]): void;
  // memory.cc: malloc thresholds for tensor storage; false where the C library is not glibc
  tuneAllocator?(mmapThreshold: number, trimThreshold: number): boolean;
  /** The address of the buffer's first byte modulo 64 (absent from older addons). */
  addressMod64?(buffer: ArrayBuffer): number;
  // optim.cc (absent from older addons: the reference loops then run). `optim`'s buffers and
  // settings for each kind are listed in native/cpu/optim.h and packed by src/backend/cpu/optim.ts.
  optim?(kind: number, param: Data, grad: Data, s0: Data | null, s1: Data | null, s2: Data | null, settings: Float64Array): void;
  sumOfSquares?(inputs: Data[], out: Float64Array): void;
  scale?(x: Data, factor: Data): void;
}

const ADDON_FILE = join('build', 'Release', 'milestones_cpu.node');

/** addon.cc's glueVersion this code calls with; an addon built from older sources would misread it. */
const GLUE_VERSION = 4;

/** The package root is the first folder above this module that holds the built addon. */
function findAddon(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

function load(): { addon: Addon | null; why: string } {
  if (process.env['MILESTONES_NATIVE'] === 'off') return { addon: null, why: 'MILESTONES_NATIVE=off' };
  const path = process.env['MILESTONES_NATIVE_ADDON'] || findAddon();
  if (path === null) return { addon: null, why: `${ADDON_FILE} was not built` };
  try {
    const built = createRequire(import.meta.url)(path) as Addon;
    if (built.glueVersion !== GLUE_VERSION) return { addon: null, why: `${path} was built from older sources (rebuild it)` };
    return { addon: built, why: '' };
  } catch (e) {
    return { addon: null, why: `${path} failed to load: ${(e as Error).message}` };
  }
}

const loaded = load();

/** The addon, or null when the library runs on the reference backend only. */
export const addon: Addon | null = loaded.addon;

/** Why the addon is absent ('' when it loaded). */
export const whyNoAddon: string = loaded.why;

if (addon === null && process.env['MILESTONES_NATIVE'] !== 'off') {
  process.stderr.write(`milestones: native cpu backend unavailable (${whyNoAddon}); using the reference backend\n`);
}
