/**
 * The CIFAR-10 and CIFAR-100 binary format (Krizhevsky 2009): files of fixed-size records, each a
 * label byte (CIFAR-100: a coarse and a fine label byte) then 3072 pixel bytes, the red, green and
 * blue 32x32 planes in turn.
 */
import { readFileSync, statSync } from 'node:fs';
import { type Tensor, tensor } from '../tensor/index.js';

const PIXELS = 3 * 32 * 32;

export interface CifarBatch {
  /** [N, 3, 32, 32] int32 values 0..255. */
  images: Tensor;
  /** [N] int32 labels (CIFAR-100: the fine labels). */
  labels: Tensor;
  /** CIFAR-100 only: [N] coarse labels. */
  coarseLabels?: Tensor;
}

/** Parses one binary batch file, checking its length and every label before allocating tensors. */
export function parseCifarBinary(bytes: Uint8Array, name: string, variant: 'cifar10' | 'cifar100'): CifarBatch {
  const labelBytes = variant === 'cifar10' ? 1 : 2;
  const classes = variant === 'cifar10' ? 10 : 100;
  const record = labelBytes + PIXELS;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new Error(
      `${name}: ${bytes.length} bytes is not a whole number of ${variant} records of ${record} bytes ` +
        '(truncated, or not a CIFAR binary batch)',
    );
  }
  const n = bytes.length / record;
  const labels = new Int32Array(n);
  const coarse = variant === 'cifar100' ? new Int32Array(n) : null;
  const pixels = new Uint8Array(n * PIXELS);
  for (let i = 0; i < n; i++) {
    const at = i * record;
    const fine = bytes[at + labelBytes - 1]!;
    if (fine >= classes) throw new Error(`${name}: record ${i} has label ${fine}, outside 0..${classes - 1}`);
    labels[i] = fine;
    if (coarse) {
      const c = bytes[at]!;
      if (c >= 20) throw new Error(`${name}: record ${i} has coarse label ${c}, outside 0..19`);
      coarse[i] = c;
    }
    pixels.set(bytes.subarray(at + labelBytes, at + record), i * PIXELS);
  }
  return {
    images: tensor(pixels, { shape: [n, 3, 32, 32], dtype: 'int32' }),
    labels: tensor(labels, { dtype: 'int32' }),
    ...(coarse ? { coarseLabels: tensor(coarse, { dtype: 'int32' }) } : {}),
  };
}

/** Reads a batch file (data_batch_1.bin, test_batch.bin, train.bin, test.bin). */
export function readCifarBinary(path: string, variant: 'cifar10' | 'cifar100' = 'cifar10'): CifarBatch {
  const size = statSync(path).size;
  const record = (variant === 'cifar10' ? 1 : 2) + PIXELS;
  if (size % record !== 0) {
    throw new Error(`${path}: ${size} bytes is not a whole number of ${variant} records of ${record} bytes`);
  }
  return parseCifarBinary(readFileSync(path), path, variant);
}
