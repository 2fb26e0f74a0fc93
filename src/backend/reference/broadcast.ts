/**
 * Broadcast indexing: for each element of an output, the offset of the element it reads from an
 * input whose shape broadcasts to the output's.
 */
import { numel, stridesOf, shapesEqual } from '../../shape.js';

/** Offsets into an input of `inShape` for every element of `outShape`, in row-major order. */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[]): Int32Array | null {
  if (shapesEqual(outShape, inShape)) return null; // identity: read element i for output i
  const rank = outShape.length;
  const inStrides = stridesOf(inShape);
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < inShape.length; i++) {
    const o = rank - inShape.length + i;
    strides[o] = inShape[i] === 1 ? 0 : inStrides[i]!;
  }
  return stridedIndex(outShape, strides, 0);
}

/** Offsets base + sum(index[d] * strides[d]) for every index of `shape`, in row-major order. */
export function stridedIndex(shape: readonly number[], strides: readonly number[], base: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const rank = shape.length;
  if (n === 0) return out;
  const idx = new Array<number>(rank).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * How an input repeats across a broadcast output, for the common cases that need no index array:
 * 'same' (element i reads i), 'scalar' (always element 0), 'suffix' (the input is the output's
 * trailing dimensions, so element i reads i % size, as a bias does), else an explicit index.
 */
export type BroadcastPattern =
  | { kind: 'same' }
  | { kind: 'scalar' }
  | { kind: 'suffix'; size: number }
  | { kind: 'index'; index: Int32Array };

export function broadcastPattern(outShape: readonly number[], inShape: readonly number[]): BroadcastPattern {
  if (shapesEqual(outShape, inShape)) return { kind: 'same' };
  const size = numel(inShape);
  if (size === 1) return { kind: 'scalar' };
  const trimmed = [...inShape];
  while (trimmed.length && trimmed[0] === 1) trimmed.shift();
  if (shapesEqual(trimmed, outShape.slice(outShape.length - trimmed.length))) return { kind: 'suffix', size };
  return { kind: 'index', index: broadcastIndex(outShape, inShape)! };
}
