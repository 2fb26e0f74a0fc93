/**
 * Output storage for the cpu backend's kernels.
 *
 * Allocating an output is much of what a small op costs. A typed array of its own is a fresh
 * ArrayBuffer with a backing store outside the JavaScript heap: about 0.9 us for 32 to 128 floats
 * and 1.2 us for 1,024, against 0.2 us for the N-API call of a whole ReLU on 32. So outputs come
 * in three sizes:
 *
 * - up to 64 bytes (scalars, an action's Q-values): V8's own small arrays, inside its heap, so a
 *   scalar kept by the user (a loss history) holds only itself;
 * - up to SLAB_ITEM_MAX bytes: a view carved from a shared 64 KiB slab, about 0.05-0.3 us. Slab
 *   memory is handed out once and never reused, so it is always zero, and a slab is freed when the
 *   last tensor viewing it is collected. A small tensor kept alive keeps its slab alive: at most 64
 *   KiB each, the trade Node's own Buffer pool makes. (MinAtar's DQN action: 8-16% faster.)
 * - larger: a fresh ArrayBuffer of exactly the right size. `new Float32Array(n)` zero-fills it, a
 *   whole extra pass over the output (an add of two 16M-element tensors would write 64 MB twice),
 *   so outputs that a kernel fully overwrites come uninitialised from Buffer.allocUnsafeSlow (not
 *   Node's shared pool, and malloc's alignment holds for every dtype). Kernels that accumulate into
 *   their output, or leave parts of it untouched, use `allocZeroed`.
 *
 * Tensors therefore may share an ArrayBuffer: code that needs a tensor's bytes alone (transferring
 * them to a worker, checking two arrays for overlap) uses byteOffset and byteLength, or a copy.
 *
 * Slabs and larger outputs start on a 64-byte boundary (the addon reports where a buffer's memory
 * starts; malloc aligns to 16 bytes only). An AVX-512 load from an address that is not a multiple
 * of 64 spans two cache lines: a 1024 -> 128 matrix-vector product (MinAtar's DQN action) took 8.2
 * us with its weight misaligned and 4.8 us aligned, and which one a weight got was chance.
 *
 * Memory known to be dead comes back through `recycle` (the autograd engine's consumed gradients:
 * src/autograd/backward.ts) and is handed out again by the next allocation of the same size,
 * newest first. A collected ArrayBuffer frees its memory only when the garbage collector finds it,
 * and V8 starts a full collection after every 64 MiB or so of new ArrayBuffer memory: a ResNet-20
 * step at batch 128 allocated about 400 MB and ran 6 of them, and wrote every output to memory that
 * was cold in cache. Reused memory is neither new to V8 nor cold.
 */
import { Buffer } from 'node:buffer';
import type { DType } from '../../dtype.js';
import { allocArray } from '../reference/storage.js';
import type { HostArray } from '../types.js';
import type { Addon } from './addon.js';

/** Arrays up to this many bytes stay on V8's heap (its typed_array_max_size_in_heap). */
const ON_HEAP_MAX_BYTES = 64;
/** Arrays up to this many bytes are carved from a slab. */
const SLAB_ITEM_MAX = 4096;
const SLAB_BYTES = 64 * 1024;
/** Views start at multiples of 64 bytes from the slab's start (malloc aligns the slab to 16), which aligns every dtype. */
const ALIGN = 64;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

/** The addon's addressMod64, once tuneAllocator has seen the addon (null: no alignment). */
let addressMod64: ((buffer: ArrayBuffer) => number) | null = null;

/** Memory for one large output: a buffer of its own, used from `offset` (a 64-byte boundary). */
interface Block {
  buffer: ArrayBuffer;
  offset: number;
}

/** The blocks of large outputs, by buffer, with the byte length their array covers: what recycle takes back. */
const blocks = new WeakMap<ArrayBuffer, number>();

/** A new block for `bytes` bytes: zero-filled, or with unspecified contents. */
function freshBlock(bytes: number, zeroed: boolean): Block {
  const pad = addressMod64 === null ? 0 : 64;
  const buffer = zeroed ? new ArrayBuffer(bytes + pad) : Buffer.allocUnsafeSlow(bytes + pad).buffer;
  const offset = pad === 0 ? 0 : (64 - addressMod64!(buffer)) & 63;
  return { buffer, offset };
}

/** Recycled blocks by byte length, the most recently recycled last. */
const pool = new Map<number, Block[]>();
let pooledBytes = 0;
/** Beyond this much recycled memory waiting for reuse, more is left to the garbage collector. */
const POOL_MAX_BYTES = 128 * 2 ** 20;

/** Takes back the memory of `a`, which nothing will read or write again; arrays that share their buffer are left alone. */
export function recycle(a: HostArray): void {
  const buffer = a.buffer as ArrayBuffer;
  const bytes = a.byteLength;
  // Only a whole block of a large output (a slab's views, or an array from elsewhere, stay).
  if (blocks.get(buffer) !== bytes || pooledBytes + bytes > POOL_MAX_BYTES) return;
  const block = { buffer, offset: a.byteOffset };
  const list = pool.get(bytes);
  if (list) list.push(block);
  else pool.set(bytes, [block]);
  pooledBytes += bytes;
}

function takeRecycled(bytes: number): Block | undefined {
  const block = pool.get(bytes)?.pop();
  if (block) pooledBytes -= bytes;
  return block;
}

/** Bytes of recycled memory waiting for reuse (for tests). */
export function recycledBytes(): number {
  return pooledBytes;
}

function view(dtype: DType, block: Block, n: number): HostArray {
  const { buffer, offset } = block;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, offset, n);
    case 'float64':
      return new Float64Array(buffer, offset, n);
    case 'int32':
      return new Int32Array(buffer, offset, n);
    case 'bool':
      return new Uint8Array(buffer, offset, n);
  }
}

/** A large output's array over `block`, recorded so that recycle can take the block back. */
function blockArray(dtype: DType, block: Block, n: number, bytes: number): HostArray {
  blocks.set(block.buffer, bytes);
  return view(dtype, block, n);
}

let slab = new ArrayBuffer(0);
let slabUsed = 0;
let slabEnd = 0;

/** n zeros of dtype from the current slab (a new slab when it is full). */
function carve(dtype: DType, n: number, bytes: number): HostArray {
  if (slabUsed + bytes > slabEnd) {
    const block = freshBlock(SLAB_BYTES, true);
    slab = block.buffer;
    slabUsed = block.offset;
    slabEnd = block.offset + SLAB_BYTES;
  }
  const at = slabUsed;
  slabUsed += (bytes + ALIGN - 1) & ~(ALIGN - 1);
  switch (dtype) {
    case 'float32':
      return new Float32Array(slab, at, n);
    case 'float64':
      return new Float64Array(slab, at, n);
    case 'int32':
      return new Int32Array(slab, at, n);
    case 'bool':
      return new Uint8Array(slab, at, n);
  }
}

/** Storage of `n` elements of `dtype` with unspecified contents: the caller must write every element. */
export function allocUninitialised(dtype: DType, n: number): HostArray {
  const bytes = n * BYTES[dtype];
  if (bytes <= ON_HEAP_MAX_BYTES) return allocArray(dtype, n);
  if (bytes <= SLAB_ITEM_MAX) return carve(dtype, n, bytes);
  return blockArray(dtype, takeRecycled(bytes) ?? freshBlock(bytes, false), n, bytes);
}

/** Storage of `n` zeros of `dtype`, for kernels that add into their output or skip elements. */
export function allocZeroed(dtype: DType, n: number): HostArray {
  const bytes = n * BYTES[dtype];
  if (bytes <= ON_HEAP_MAX_BYTES) return allocArray(dtype, n);
  if (bytes <= SLAB_ITEM_MAX) return carve(dtype, n, bytes);
  const recycled = takeRecycled(bytes);
  return recycled ? blockArray(dtype, recycled, n, bytes).fill(0) : blockArray(dtype, freshBlock(bytes, true), n, bytes);
}

let tuned = false;

/**
 * Starts large outputs on 64-byte boundaries from now on (with an addon that reports addresses),
 * and keeps freed tensor memory in the C library's heap for reuse instead of returning it to the
 * kernel after every garbage collection (native/cpu/memory.cc says why; once per process;
 * `MILESTONES_MALLOC=default` leaves the C library's policy alone).
 */
export function tuneAllocator(native: Addon): void {
  if (native.addressMod64) addressMod64 = native.addressMod64;
  if (tuned || !native.tuneAllocator || process.env['MILESTONES_MALLOC'] === 'default') return;
  tuned = true;
  // Blocks up to 256 MiB come from the heap; up to 512 MiB of freed memory stays there.
  native.tuneAllocator(256 * 2 ** 20, 512 * 2 ** 20);
}
