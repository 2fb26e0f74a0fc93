/**
 * matmul with NumPy's rules: 1-D operands are promoted and the added dimension removed again,
 * batch dimensions broadcast. Everything lands on the batched primitive bmm.
 */
import { promoteTypes } from '../dtype.js';
import { broadcastShapes, fmt, numel } from '../shape.js';
import { run } from './dispatch.js';
import { cast } from './elementwise.js';
import type { Tensor } from './tensor.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`matmul: both arguments need at least 1 dimension, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const dtype = promoteTypes(a.dtype, b.dtype);
  if (dtype === 'bool') throw new TypeError('matmul: not defined for bool tensors');
  const x = cast(a, dtype);
  const y = cast(b, dtype);
  const xs = x.ndim === 1 ? [1, x.shape[0]!] : [...x.shape];
  const ys = y.ndim === 1 ? [y.shape[0]!, 1] : [...y.shape];
  const [m, k1] = xs.slice(-2) as [number, number];
  const [k2, n] = ys.slice(-2) as [number, number];
  if (k1 !== k2) {
    throw new Error(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied (${k1} != ${k2})`);
  }
  const xBatch = xs.slice(0, -2);
  const yBatch = ys.slice(0, -2);
  let out: Tensor;
  let batch: number[];
  if (yBatch.length === 0) {
    // [..., M, K] @ [K, N]: fold the batch into the rows, one [1, B*M, K] x [1, K, N] product.
    batch = xBatch;
    out = run('bmm', [x.reshape([1, numel(xBatch) * m, k1]), y.reshape([1, k2, n])], { transA: false, transB: false });
  } else {
    try {
      batch = broadcastShapes('matmul', xBatch, yBatch);
    } catch {
      throw new Error(
        `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be broadcast in their batch dimensions ` +
          `(${fmt(xBatch)} vs ${fmt(yBatch)})`,
      );
    }
    const B = numel(batch);
    const xe = x.reshape(xs).expand([...batch, m, k1]).reshape([B, m, k1]);
    const ye = y.reshape(ys).expand([...batch, k2, n]).reshape([B, k2, n]);
    out = run('bmm', [xe, ye], { transA: false, transB: false });
  }
  const shape = [...batch, m, n];
  if (a.ndim === 1) shape.splice(shape.length - 2, 1);
  if (b.ndim === 1) shape.splice(shape.length - 1, 1);
  return out.reshape(shape);
}
