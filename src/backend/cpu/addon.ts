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
  unary(op: number, x: Data, out: Data, p0: number, p1: number, p2: number): void;
  binary(op: number, a: Data, aStrides: number[], b: Data, bStrides: number[], out: Data, shape: number[]): void;
  where(
    c: Data,
    cStrides: number[],
    a: Data,
    aStrides: number[],
    b: Data,
    bStrides: number[],
    out: Data,
    shape: number[],
  ): void;
  strided(x: Data, out: Data, shape: number[], strides: number[], base: number, scatter: boolean): void;
  reduce(op: number, x: Data, shape: number[], axes: number[], out: Data): void;
  argReduce(isMax: boolean, x: Data, outer: number, len: number, inner: number, out: Int32Array): void;
  cumsum(x: Data, out: Data, outer: number, len: number, inner: number): void;
  bmm(a: Data, b: Data, out: Data, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean): void;
  softmax(x: Data, out: Data, outer: number, len: number, inner: number, log: boolean): void;
  conv(kind: number, in0: Data, in1: Data, out: Data, geometry: number[]): void;
  pool(kind: number, x: Data, out: Data, geometry: number[], divisorOverride: number): void;
  uniform(out: Data, key0: number, key1: number, counter: number): void;
}

const ADDON_FILE = join('build', 'Release', 'milestones_cpu.node');

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
    return { addon: createRequire(import.meta.url)(path) as Addon, why: '' };
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
