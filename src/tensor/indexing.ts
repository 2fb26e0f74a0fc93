/**
 * Indexing ops: selecting, gathering and scattering by integer index tensors, and sorting.
 */
import { IndexError, fmt, normalizeAxis } from '../shape.js';
import { run } from './dispatch.js';
import { cast, scalarTensor } from './elementwise.js';
import { narrow, expand } from './shape-ops.js';
import { Tensor, type TensorOrScalar } from './tensor.js';

/**
 * Runs `fn`, rewording an out-of-range index met by the kernel so that it names the caller's op
 * and argument (the kernel only knows its own primitive).
 */
export function renameIndexError<T>(fn: () => T, message: (value: number) => string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IndexError) throw new IndexError(e.op, e.value, e.size, e.axis, message(e.value));
    throw e;
  }
}

function requireIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') {
    throw new TypeError(`${op}: index must be an int32 tensor, got ${index.dtype}`);
  }
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex('indexSelect', index);
  if (index.ndim > 1) throw new Error(`indexSelect: index must be 1-D, got shape ${fmt(index.shape)}`);
  const axis = normalizeAxis('indexSelect', dim, x.ndim);
  if (x.ndim === 0) throw new Error('indexSelect: cannot index a 0-d tensor');
  return run('indexSelect', [x, index.reshape(-1)], { axis });
}

function checkScatterShapes(op: string, x: Tensor, index: Tensor, axis: number, src?: Tensor): void {
  if (index.ndim !== x.ndim) {
    throw new Error(`${op}: index ${fmt(index.shape)} and input ${fmt(x.shape)} must have the same rank`);
  }
  for (let d = 0; d < x.ndim; d++) {
    if (d !== axis && index.shape[d]! > x.shape[d]!) {
      throw new Error(`${op}: index ${fmt(index.shape)} is larger than input ${fmt(x.shape)} in dimension ${d}`);
    }
    if (src && index.shape[d]! > src.shape[d]!) {
      throw new Error(`${op}: index ${fmt(index.shape)} is larger than src ${fmt(src.shape)} in dimension ${d}`);
    }
  }
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex('gather', index);
  const axis = normalizeAxis('gather', dim, x.ndim);
  checkScatterShapes('gather', x, index, axis);
  return run('gather', [x, index], { axis });
}

/** out = copy of x with src written (or added, for scatterAdd) at the indexed positions along `dim`. */
export function scatter(x: Tensor, dim: number, index: Tensor, src: TensorOrScalar, add: boolean): Tensor {
  const op = add ? 'scatterAdd' : 'scatter';
  requireIndex(op, index);
  const axis = normalizeAxis(op, dim, x.ndim);
  const source = src instanceof Tensor ? cast(src, x.dtype) : expand(scalarTensor(src, x.dtype, x.device), [...index.shape]);
  if (source.ndim !== x.ndim) throw new Error(`${op}: src ${fmt(source.shape)} and input ${fmt(x.shape)} must have the same rank`);
  checkScatterShapes(op, x, index, axis, source);
  return run(add ? 'scatterAdd' : 'scatter', [x, index, source], { axis });
}

export function argsort(x: Tensor, dim: number, descending: boolean): Tensor {
  const axis = x.ndim === 0 ? 0 : normalizeAxis('argsort', dim, x.ndim);
  return run('argsort', [x], { axis, descending });
}

export function sort(x: Tensor, dim: number, descending: boolean): { values: Tensor; indices: Tensor } {
  const indices = argsort(x, dim, descending);
  const values = x.ndim === 0 ? x : gather(x, dim, indices);
  return { values, indices };
}

export function topk(x: Tensor, k: number, dim: number, largest: boolean, _sorted: boolean): { values: Tensor; indices: Tensor } {
  const axis = normalizeAxis('topk', dim, x.ndim);
  const size = x.ndim === 0 ? 1 : x.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new RangeError(`topk: k = ${k} is out of range for dimension ${dim} of size ${size}`);
  }
  const order = argsort(x, axis, largest);
  const indices = x.ndim === 0 ? order : narrow(order, axis, 0, k);
  return { values: x.ndim === 0 ? x : gather(x, axis, indices), indices };
}

/**
 * One-hot rows for integer class labels: shape [...labels.shape, numClasses], int32. With
 * numClasses = -1 (the default, as in PyTorch) it is one more than the largest label, which reads
 * that label back from the device.
 */
export function oneHot(labels: Tensor, numClasses = -1): Tensor {
  requireIndex('oneHot', labels);
  if (numClasses === -1) {
    if (labels.numel() === 0) throw new Error('oneHot: cannot infer numClasses from an empty tensor; pass it');
    numClasses = Math.max(0, labels.amax().item()) + 1;
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`oneHot: numClasses must be positive, got ${numClasses}`);
  const zeros = run('full', [], { shape: [...labels.shape, numClasses], dtype: 'int32', value: 0 }, labels.device);
  const ones = run('full', [], { shape: [...labels.shape, 1], dtype: 'int32', value: 1 }, labels.device);
  return renameIndexError(
    () => run('scatter', [zeros, labels.unsqueeze(-1), ones], { axis: labels.ndim }),
    (v) => `oneHot: class ${v} is out of range for numClasses = ${numClasses}`,
  );
}

/** Rows of `weight` picked by integer `indices`: shape [...indices.shape, embeddingDim]. */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  requireIndex('embedding', indices);
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be 2-D [numEmbeddings, dim], got ${fmt(weight.shape)}`);
  const rows = renameIndexError(
    () => run('indexSelect', [weight, indices.reshape(-1)], { axis: 0 }),
    (v) => `embedding: index ${v} is out of range for a table of ${weight.shape[0]} rows (weight ${fmt(weight.shape)})`,
  );
  return rows.reshape([...indices.shape, weight.shape[1]!]);
}
