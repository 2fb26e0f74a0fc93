/**
 * Reductions, scans and batched matrix multiply.
 */
import type { PrimitiveAttrs, Reduce, Spec } from '../../ops/primitives.js';
import { numel, stridesOf } from '../../shape.js';
import { stridedIndex } from './broadcast.js';
import { type RefInput, type RefStorage, alloc } from './storage.js';

/** For every input element, the offset of the output element it reduces into. */
function reduceIndex(inShape: readonly number[], axes: readonly number[]): Int32Array {
  const keep = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = stridesOf(keep).map((s, i) => (axes.includes(i) ? 0 : s));
  return stridedIndex(inShape, outStrides, 0);
}

function reduceWith(init: number, step: (acc: number, v: number) => number) {
  return (inputs: readonly RefInput[], a: Reduce, outs: readonly Spec[]): RefStorage[] => {
    const x = inputs[0]!;
    const spec = outs[0]!;
    const acc = new Float64Array(numel(spec.shape)).fill(init);
    const idx = reduceIndex(x.shape, a.axes);
    const xd = x.storage.data;
    for (let i = 0; i < xd.length; i++) acc[idx[i]!] = step(acc[idx[i]!]!, xd[i]!);
    const out = alloc(spec.dtype, acc.length);
    out.data.set(acc);
    return [out];
  };
}

function argReduce(better: (v: number, best: number) => boolean) {
  return (inputs: readonly RefInput[], a: { axis: number; keepdim: boolean }, outs: readonly Spec[]): RefStorage[] => {
    const x = inputs[0]!;
    const xd = x.storage.data;
    const out = alloc('int32', numel(outs[0]!.shape));
    if (x.shape.length === 0) return [out];
    const len = x.shape[a.axis]!;
    const inner = numel(x.shape.slice(a.axis + 1));
    const outer = numel(x.shape.slice(0, a.axis));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let best = xd[base]!;
        let bi = 0;
        for (let k = 1; k < len; k++) {
          const v = xd[base + k * inner]!;
          if (better(v, best)) {
            best = v;
            bi = k;
          }
        }
        out.data[o * inner + j] = bi;
      }
    }
    return [out];
  };
}

// NaN wins a max or min and stays, as in PyTorch.
const isNaN = (v: number) => v !== v;

function bmm(inputs: readonly RefInput[], a: PrimitiveAttrs['bmm'], outs: readonly Spec[]): RefStorage[] {
  const [x, y] = inputs as [RefInput, RefInput];
  const [B, M, N] = outs[0]!.shape as [number, number, number];
  const K = a.transA ? x.shape[1]! : x.shape[2]!;
  const xd = x.storage.data;
  const yd = y.storage.data;
  const out = alloc(outs[0]!.dtype, B * M * N);
  const o = out.data;
  const row = new Float64Array(N);
  // Element strides of A[i, k] and B[k, j] within one batch, with the transposes folded in.
  const [aI, aK] = a.transA ? [1, M] : [K, 1];
  const [bK, bJ] = a.transB ? [1, K] : [N, 1];
  for (let b = 0; b < B; b++) {
    const xo = b * M * K;
    const yo = b * K * N;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const av = xd[xo + i * aI + k * aK]!;
        if (av === 0) continue;
        const yb = yo + k * bK;
        for (let j = 0; j < N; j++) row[j]! += av * yd[yb + j * bJ]!;
      }
      o.set(row, b * M * N + i * N);
    }
  }
  return [out];
}

export const reduceKernels = {
  sum: reduceWith(0, (acc, v) => acc + v),
  prod: reduceWith(1, (acc, v) => acc * v),
  amax: reduceWith(-Infinity, (acc, v) => (isNaN(acc) || isNaN(v) ? NaN : v > acc ? v : acc)),
  amin: reduceWith(Infinity, (acc, v) => (isNaN(acc) || isNaN(v) ? NaN : v < acc ? v : acc)),
  argmax: argReduce((v, best) => !isNaN(best) && (isNaN(v) || v > best)),
  argmin: argReduce((v, best) => !isNaN(best) && (isNaN(v) || v < best)),
  cumsum(inputs: readonly RefInput[], a: PrimitiveAttrs['cumsum'], outs: readonly Spec[]): RefStorage[] {
    const x = inputs[0]!;
    const xd = x.storage.data;
    const out = alloc(outs[0]!.dtype, xd.length);
    if (x.shape.length === 0) {
      out.data.set(xd);
      return [out];
    }
    const len = x.shape[a.axis]!;
    const inner = numel(x.shape.slice(a.axis + 1));
    const outer = numel(x.shape.slice(0, a.axis));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        let acc = 0;
        for (let k = 0; k < len; k++) {
          const p = o * len * inner + k * inner + j;
          acc += xd[p]!;
          out.data[p] = acc;
        }
      }
    }
    return [out];
  },
  bmm,
};
