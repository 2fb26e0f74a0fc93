/**
 * Movement and indexing kernels: every output element is read from (or added into) one input
 * element at a computed offset.
 */
import type { PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import { IndexError, fmt, numel, stridesOf } from '../../shape.js';
import { broadcastIndex, stridedIndex } from './broadcast.js';
import { type RefInput, type RefStorage, alloc } from './storage.js';

function readAt(x: RefInput, offsets: Int32Array | null, spec: Spec): RefStorage[] {
  const out = alloc(spec.dtype, numel(spec.shape));
  const xd = x.storage.data;
  const o = out.data;
  if (!offsets) o.set(xd);
  else for (let i = 0; i < o.length; i++) o[i] = xd[offsets[i]!]!;
  return [out];
}

function copyOf(x: RefInput): RefStorage {
  const out = alloc(x.dtype, x.storage.size);
  out.data.set(x.storage.data);
  return out;
}

/** Layout of `shape` split around `axis`: [outer, len, inner]. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis] ?? 1, numel(shape.slice(axis + 1))];
}

/** Index tensors hold positions in [0, size); negatives are errors, as in PyTorch's gather and index_select. */
function checkIndex(op: string, v: number, size: number, axis: number): number {
  if (v < 0 || v >= size) throw new IndexError(op, v, size, axis);
  return v;
}

/**
 * For gather/scatter: for every element of `index` (shape [..]), the offset in a tensor of `shape`
 * whose coordinates are the element's own, but with the index value on `axis`.
 */
function scatterOffsets(op: string, shape: readonly number[], index: RefInput, axis: number): Int32Array {
  const strides = stridesOf(shape);
  const zeroAxis = strides.map((s, d) => (d === axis ? 0 : s));
  if (index.shape.length !== shape.length) {
    throw new Error(`${op}: index has rank ${index.shape.length} but the tensor has rank ${shape.length}`);
  }
  const base = stridedIndex(index.shape, zeroAxis, 0);
  const id = index.storage.data;
  const size = shape[axis] ?? 1;
  const out = new Int32Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i]! + checkIndex(op, id[i]!, size, axis) * (strides[axis] ?? 0);
  return out;
}

export const movementKernels = {
  reshape(inputs: readonly RefInput[]): RefStorage[] {
    return [inputs[0]!.storage];
  },
  permute(inputs: readonly RefInput[], a: PrimitiveAttrs['permute'], outs: readonly Spec[]): RefStorage[] {
    const x = inputs[0]!;
    const strides = stridesOf(x.shape);
    return readAt(x, stridedIndex(outs[0]!.shape, a.perm.map((p) => strides[p]!), 0), outs[0]!);
  },
  expand(inputs: readonly RefInput[], _a: unknown, outs: readonly Spec[]): RefStorage[] {
    return readAt(inputs[0]!, broadcastIndex(outs[0]!.shape, inputs[0]!.shape), outs[0]!);
  },
  slice(inputs: readonly RefInput[], a: PrimitiveAttrs['slice'], outs: readonly Spec[]): RefStorage[] {
    const x = inputs[0]!;
    const strides = stridesOf(x.shape);
    const base = a.starts.reduce((acc, s, d) => acc + s * strides[d]!, 0);
    return readAt(x, stridedIndex(a.shape, a.steps.map((st, d) => st * strides[d]!), base), outs[0]!);
  },
  sliceScatter(inputs: readonly RefInput[], a: PrimitiveAttrs['sliceScatter'], outs: readonly Spec[]): RefStorage[] {
    const g = inputs[0]!;
    const strides = stridesOf(a.inputShape);
    const base = a.starts.reduce((acc, s, d) => acc + s * strides[d]!, 0);
    const offsets = stridedIndex(g.shape, a.steps.map((st, d) => st * strides[d]!), base);
    const out = alloc(outs[0]!.dtype, numel(a.inputShape));
    const gd = g.storage.data;
    for (let i = 0; i < offsets.length; i++) out.data[offsets[i]!] = gd[i]!;
    return [out];
  },
  cat(inputs: readonly RefInput[], a: PrimitiveAttrs['cat'], outs: readonly Spec[]): RefStorage[] {
    const spec = outs[0]!;
    const out = alloc(spec.dtype, numel(spec.shape));
    const [outer, total, inner] = around(spec.shape, a.axis);
    let at = 0;
    for (const x of inputs) {
      const len = x.shape[a.axis]!;
      const xd = x.storage.data;
      for (let o = 0; o < outer; o++) {
        out.data.set(xd.subarray(o * len * inner, (o + 1) * len * inner), (o * total + at) * inner);
      }
      at += len;
    }
    return [out];
  },
  flip(inputs: readonly RefInput[], a: PrimitiveAttrs['flip'], outs: readonly Spec[]): RefStorage[] {
    const x = inputs[0]!;
    const strides = stridesOf(x.shape);
    let base = 0;
    const st = strides.map((s, d) => {
      if (!a.axes.includes(d)) return s;
      base += (x.shape[d]! - 1) * s;
      return -s;
    });
    return readAt(x, numel(x.shape) ? stridedIndex(x.shape, st, base) : null, outs[0]!);
  },
  gather(inputs: readonly RefInput[], a: PrimitiveAttrs['gather'], outs: readonly Spec[]): RefStorage[] {
    const [x, index] = inputs as [RefInput, RefInput];
    for (let d = 0; d < x.shape.length; d++) {
      if (d !== a.axis && index.shape[d]! > x.shape[d]!) {
        throw new Error(`gather: index ${fmt(index.shape)} is larger than input ${fmt(x.shape)} in dimension ${d}`);
      }
    }
    return readAt(x, scatterOffsets('gather', x.shape, index, a.axis), outs[0]!);
  },
  scatter(inputs: readonly RefInput[], a: PrimitiveAttrs['scatter']): RefStorage[] {
    const [x, index, src] = inputs as [RefInput, RefInput, RefInput];
    const out = copyOf(x);
    const offsets = scatterOffsets('scatter', x.shape, index, a.axis);
    const srcAt = stridedIndex(index.shape, stridesOf(src.shape), 0);
    for (let i = 0; i < offsets.length; i++) out.data[offsets[i]!] = src.storage.data[srcAt[i]!]!;
    return [out];
  },
  scatterAdd(inputs: readonly RefInput[], a: PrimitiveAttrs['scatterAdd']): RefStorage[] {
    const [x, index, src] = inputs as [RefInput, RefInput, RefInput];
    const out = copyOf(x);
    const offsets = scatterOffsets('scatterAdd', x.shape, index, a.axis);
    const srcAt = stridedIndex(index.shape, stridesOf(src.shape), 0);
    for (let i = 0; i < offsets.length; i++) out.data[offsets[i]!]! += src.storage.data[srcAt[i]!]!;
    return [out];
  },
  indexSelect(inputs: readonly RefInput[], a: PrimitiveAttrs['indexSelect'], outs: readonly Spec[]): RefStorage[] {
    const [x, index] = inputs as [RefInput, RefInput];
    const [outer, len, inner] = around(x.shape, a.axis);
    const k = index.shape[0]!;
    const out = alloc(outs[0]!.dtype, outer * k * inner);
    const xd = x.storage.data;
    for (let j = 0; j < k; j++) {
      const r = checkIndex('indexSelect', index.storage.data[j]!, len, a.axis);
      for (let o = 0; o < outer; o++) {
        out.data.set(xd.subarray((o * len + r) * inner, (o * len + r + 1) * inner), (o * k + j) * inner);
      }
    }
    return [out];
  },
  indexAdd(inputs: readonly RefInput[], a: PrimitiveAttrs['indexAdd']): RefStorage[] {
    const [x, index, src] = inputs as [RefInput, RefInput, RefInput];
    const [outer, len, inner] = around(x.shape, a.axis);
    const k = index.shape[0]!;
    const out = copyOf(x);
    const sd = src.storage.data;
    for (let j = 0; j < k; j++) {
      const r = checkIndex('indexAdd', index.storage.data[j]!, len, a.axis);
      for (let o = 0; o < outer; o++) {
        const to = (o * len + r) * inner;
        const from = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) out.data[to + i]! += sd[from + i]!;
      }
    }
    return [out];
  },
  argsort(inputs: readonly RefInput[], a: PrimitiveAttrs['argsort'], outs: readonly Spec[]): RefStorage[] {
    const x = inputs[0]!;
    const out = alloc('int32', numel(outs[0]!.shape));
    if (x.shape.length === 0) return [out];
    const [outer, len, inner] = around(x.shape, a.axis);
    const xd = x.storage.data;
    const order = new Array<number>(len);
    const vals = new Float64Array(len);
    // NaN sorts as the largest value; ties keep their original order (a stable sort).
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        for (let k = 0; k < len; k++) {
          order[k] = k;
          vals[k] = xd[(o * len + k) * inner + j]!;
        }
        order.sort((p, q) => {
          const vp = vals[p]!;
          const vq = vals[q]!;
          const np = vp !== vp;
          const nq = vq !== vq;
          let c = np && nq ? 0 : np ? 1 : nq ? -1 : vp < vq ? -1 : vp > vq ? 1 : 0;
          if (a.descending) c = -c;
          return c !== 0 ? c : p - q;
        });
        for (let k = 0; k < len; k++) out.data[(o * len + k) * inner + j] = order[k]!;
      }
    }
    return [out];
  },
};
