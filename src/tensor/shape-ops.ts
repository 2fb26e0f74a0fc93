/**
 * Shape and movement ops. reshape is a view; the rest copy through primitives (permute, expand,
 * slice, cat, flip) or are written from them.
 */
import { promoteTypes } from '../dtype.js';
import { fmt, inferReshape, normalizeAxes, normalizeAxis, numel, shapesEqual } from '../shape.js';
import { run } from './dispatch.js';
import { constTensor, where } from './elementwise.js';
import type { Tensor } from './tensor.js';

export const axis = normalizeAxis;

/** Accepts both `f(2, 3)` and `f([2, 3])`. */
export function shapeArg(args: number[] | [number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
}

export function reshape(x: Tensor, shape: number[], op = 'reshape'): Tensor {
  const target = inferReshape(op, x.shape, shape);
  if (shapesEqual(target, x.shape)) return x;
  return run('reshape', [x], { shape: target });
}

export function permute(x: Tensor, dims: number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(`permute: expected ${x.ndim} dimensions for a tensor of shape ${fmt(x.shape)}, got [${dims.join(', ')}]`);
  }
  const perm = dims.map((d) => normalizeAxis('permute', d, x.ndim));
  if (new Set(perm).size !== perm.length) throw new Error(`permute: repeated dimension in [${dims.join(', ')}]`);
  if (perm.every((p, i) => p === i)) return x;
  return run('permute', [x], { perm });
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeAxis('transpose', dim0, x.ndim);
  const b = normalizeAxis('transpose', dim1, x.ndim);
  const perm = Array.from({ length: x.ndim }, (_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

export function expand(x: Tensor, shape: number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new Error(`expand: the target ${fmt(shape)} has fewer dimensions than the tensor ${fmt(x.shape)}`);
  }
  // -1 keeps a dimension's size, as in PyTorch.
  const offset = shape.length - x.ndim;
  const target = shape.map((d, i) => (d === -1 && i >= offset ? x.shape[i - offset]! : d));
  for (let i = 0; i < x.ndim; i++) {
    const have = x.shape[i]!;
    const want = target[i + offset]!;
    if (have !== 1 && have !== want) {
      throw new Error(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)} (dimension ${i + offset}: ${have} vs ${want})`);
    }
  }
  if (target.length === x.ndim && target.every((d, i) => d === x.shape[i])) return x;
  return run('expand', [x], { shape: target });
}

export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  const axes = dim === undefined ? x.shape.map((_, i) => i) : normalizeAxes('squeeze', dim, x.ndim);
  return reshape(x, x.shape.filter((d, i) => !(d === 1 && axes.includes(i))) as number[], 'squeeze');
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const a = normalizeAxis('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape, 'unsqueeze');
}

export function flatten(x: Tensor, startDim: number, endDim: number): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startDim, x.ndim);
  const e = normalizeAxis('flatten', endDim, x.ndim);
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape, 'flatten');
}

export function unflatten(x: Tensor, dim: number, sizes: number[]): Tensor {
  const a = normalizeAxis('unflatten', dim, x.ndim);
  const inner = inferReshape('unflatten', [x.shape[a]!], sizes);
  return reshape(x, [...x.shape.slice(0, a), ...inner, ...x.shape.slice(a + 1)], 'unflatten');
}

/** One entry of `Tensor.slice`: a number selects, null takes all, [start, end, step] slices. */
export type SliceSpec = number | null | [number | null, (number | null)?, (number | null)?];

/** Strided slice with explicit starts, steps and output sizes per axis. */
function stridedSlice(x: Tensor, starts: number[], steps: number[], shape: number[]): Tensor {
  if (starts.every((s) => s === 0) && steps.every((s) => s === 1) && shape.every((d, i) => d === x.shape[i])) return x;
  return run('slice', [x], { starts, steps, shape });
}

/** Resolves Python-style slice bounds against a dimension of `size`. */
function resolveRange(op: string, size: number, spec: [number | null, (number | null)?, (number | null)?]): [number, number, number] {
  const step = spec[2] ?? 1;
  if (!Number.isInteger(step) || step <= 0) throw new Error(`${op}: slice step must be a positive integer, got ${step}`);
  const clampIdx = (v: number | null | undefined, dflt: number) => {
    if (v === null || v === undefined) return dflt;
    const r = v < 0 ? v + size : v;
    return Math.min(Math.max(r, 0), size);
  };
  const start = clampIdx(spec[0], 0);
  const end = clampIdx(spec[1], size);
  const len = end > start ? Math.ceil((end - start) / step) : 0;
  return [start, step, len];
}

export function slice(x: Tensor, index: SliceSpec[]): Tensor {
  if (index.length > x.ndim) {
    throw new Error(`slice: too many indices (${index.length}) for a tensor of shape ${fmt(x.shape)}`);
  }
  const starts = x.shape.map(() => 0);
  const steps = x.shape.map(() => 1);
  const shape = [...x.shape];
  const drop: number[] = [];
  index.forEach((spec, d) => {
    const size = x.shape[d]!;
    if (spec === null) return;
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -size || spec >= size) {
        throw new RangeError(`slice: index ${spec} is out of bounds for dimension ${d} with size ${size}`);
      }
      starts[d] = spec < 0 ? spec + size : spec;
      shape[d] = 1;
      drop.push(d);
      return;
    }
    const [start, step, len] = resolveRange('slice', size, spec);
    starts[d] = start;
    steps[d] = step;
    shape[d] = len;
  });
  const out = stridedSlice(x, starts, steps, shape);
  return drop.length ? reshape(out, shape.filter((_, i) => !drop.includes(i)), 'slice') : out;
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const a = normalizeAxis('narrow', dim, x.ndim);
  const size = x.shape[a]!;
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size) {
    throw new RangeError(`narrow: start ${start} and length ${length} exceed dimension ${dim} of size ${size}`);
  }
  const spec: SliceSpec[] = x.shape.map(() => null);
  spec[a] = [s, s + length];
  return slice(x, spec);
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  const a = normalizeAxis('select', dim, x.ndim);
  const spec: SliceSpec[] = x.shape.map(() => null);
  spec[a] = index;
  return slice(x, spec);
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat: expected a non-empty list of tensors');
  const first = tensors[0]!;
  const a = normalizeAxis('cat', dim, first.ndim);
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(
        `cat: sizes must match except in dimension ${dim}, got ${tensors.map((x) => fmt(x.shape)).join(', ')}`,
      );
    }
  }
  if (tensors.length === 1) return first;
  const dtype = tensors.map((t) => t.dtype).reduce(promoteTypes);
  return run('cat', tensors.map((t) => t.to(dtype)), { axis: a });
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected a non-empty list of tensors');
  const first = tensors[0]!;
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new Error(`stack: expects each tensor to be equal size, got ${tensors.map((x) => fmt(x.shape)).join(', ')}`);
    }
  }
  const a = normalizeAxis('stack', dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, a)), a);
}

export function split(x: Tensor, splitSize: number | number[], dim: number): Tensor[] {
  const a = normalizeAxis('split', dim, x.ndim);
  const size = x.shape[a]!;
  let sizes: number[];
  if (typeof splitSize === 'number') {
    if (!Number.isInteger(splitSize) || splitSize <= 0) throw new Error(`split: split size must be positive, got ${splitSize}`);
    sizes = [];
    for (let s = 0; s < size; s += splitSize) sizes.push(Math.min(splitSize, size - s));
    if (sizes.length === 0) sizes.push(0);
  } else {
    sizes = splitSize;
    const total = sizes.reduce((p, d) => p + d, 0);
    if (total !== size) throw new Error(`split: sizes [${sizes.join(', ')}] add up to ${total}, not ${size} (dimension ${dim})`);
  }
  let at = 0;
  return sizes.map((len) => {
    const piece = narrow(x, a, at, len);
    at += len;
    return piece;
  });
}

export function chunk(x: Tensor, chunks: number, dim: number): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new Error(`chunk: number of chunks must be positive, got ${chunks}`);
  const a = normalizeAxis('chunk', dim, x.ndim);
  return split(x, Math.max(1, Math.ceil(x.shape[a]! / chunks)), a);
}

export function flip(x: Tensor, dims: number | number[]): Tensor {
  const axes = normalizeAxes('flip', dims, x.ndim);
  if (axes.length === 0) return x;
  return run('flip', [x], { axes });
}

/** Tiles the tensor `repeats[i]` times along each dimension (torch.Tensor.repeat). */
export function repeat(x: Tensor, repeats: number[]): Tensor {
  if (repeats.length < x.ndim) {
    throw new Error(`repeat: needs at least ${x.ndim} repeat counts for shape ${fmt(x.shape)}, got ${repeats.length}`);
  }
  const shape = [...new Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  // [a, b] -> [1, a, 1, b] -> [r0, a, r1, b] -> [r0 * a, r1 * b]
  const interleaved = shape.flatMap((d) => [1, d]);
  const expanded = shape.flatMap((d, i) => [repeats[i]!, d]);
  return reshape(expand(reshape(x, interleaved), expanded), shape.map((d, i) => d * repeats[i]!));
}

/** Keeps the lower (or upper) triangle of the last two dimensions, zeroing the rest. */
export function triangle(x: Tensor, diagonal: number, upper: boolean): Tensor {
  const op = upper ? 'triu' : 'tril';
  if (x.ndim < 2) throw new Error(`${op}: expects a tensor with at least 2 dimensions, got ${fmt(x.shape)}`);
  const rows = x.shape[x.ndim - 2]!;
  const cols = x.shape[x.ndim - 1]!;
  const mask: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mask.push((upper ? j - i >= diagonal : j - i <= diagonal) ? 1 : 0);
  return where(constTensor(mask, [rows, cols], 'bool', x.device), x, 0);
}

/**
 * Pads the last dimensions; `pad` lists (before, after) pairs starting from the last dimension,
 * as torch.nn.functional.pad does.
 */
export function pad(x: Tensor, pads: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new Error(`pad: padding length ${pads.length} must be even and at most twice the rank of ${fmt(x.shape)}`);
  }
  let out = x;
  for (let k = 0; k < pads.length / 2; k++) {
    const d = x.ndim - 1 - k;
    const before = pads[2 * k]!;
    const after = pads[2 * k + 1]!;
    if (before < 0 || after < 0 || !Number.isInteger(before) || !Number.isInteger(after)) {
      throw new Error(`pad: paddings must be non-negative integers, got [${pads.join(', ')}]`);
    }
    if (before === 0 && after === 0) continue;
    const size = out.shape[d]!;
    const parts: Tensor[] = [];
    if (mode === 'constant') {
      const block = (n: number) => {
        const shape = [...out.shape];
        shape[d] = n;
        return run('full', [], { shape, dtype: out.dtype, value }, out.device);
      };
      if (before) parts.push(block(before));
      parts.push(out);
      if (after) parts.push(block(after));
    } else if (mode === 'reflect') {
      if (before >= size || after >= size) {
        throw new Error(`pad: reflect padding (${before}, ${after}) must be smaller than dimension ${d} of size ${size}`);
      }
      if (before) parts.push(flip(narrow(out, d, 1, before), d));
      parts.push(out);
      if (after) parts.push(flip(narrow(out, d, size - 1 - after, after), d));
    } else {
      if (size === 0) throw new Error(`pad: cannot replicate-pad an empty dimension ${d}`);
      const edge = (at: number, n: number) => {
        const shape = [...out.shape];
        shape[d] = n;
        return expand(narrow(out, d, at, 1), shape);
      };
      if (before) parts.push(edge(0, before));
      parts.push(out);
      if (after) parts.push(edge(size - 1, after));
    }
    out = cat(parts, d);
  }
  return out;
}

