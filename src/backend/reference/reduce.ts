/**
 * Reductions, scans and batched matrix multiply.
 */
import type { PrimitiveAttrs, Reduce, Spec } from '../../ops/primitives.js';
import { numel, stridesOf } from '../../shape.js';
import { stridedIndex } from './broadcast.js';
import type { HostArray } from '../types.js';
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

/** [B, M, N] of a bmm output, which is [B, M, N] or (no batch axis) [M, N]. */
function bmmDims(out: readonly number[]): [number, number, number] {
  return out.length === 3 ? [out[0]!, out[1]!, out[2]!] : [1, out[0]!, out[1]!];
}

function bmm(inputs: readonly RefInput[], a: PrimitiveAttrs['bmm'], outs: readonly Spec[]): RefStorage[] {
  const [x, y] = inputs as [RefInput, RefInput];
  const [B, M, N] = bmmDims(outs[0]!.shape);
  const K = x.shape[x.shape.length - (a.transA ? 2 : 1)]!;
  const xd = x.storage.data;
  const yd = y.storage.data;
  const out = alloc(outs[0]!.dtype, B * M * N);
  const o = out.data;
  // C[i, :] = sum over k of A[i, k] * B[k, :], accumulated in float64 in increasing k, zero A[i, k]
  // skipped where that changes nothing. Everything below only arranges that loop so V8 runs it
  // fast; the sums are the same.
  const row = new Float64Array(N);
  // One batch of B as a row-major [K, N] float64 copy: the inner loop reads memory in order
  // whatever the transpose, and always from one array type.
  const panel = new Float64Array(K * N);
  // Whether row k of the panel is all finite: a zero A[i, k] may be skipped only then, since
  // 0 * inf and 0 * NaN are NaN (PyTorch's matmul propagates them).
  const finite = new Uint8Array(K);
  // The nonzero A[i, k] of the current row and the offsets of their rows in the panel.
  const coef = new Float64Array(K);
  const at = new Int32Array(K);
  // Element strides of A[i, k] within one batch, with the transpose folded in.
  const [aI, aK] = a.transA ? [1, M] : [K, 1];
  for (let b = 0; b < B; b++) {
    const xo = b * M * K;
    const yo = b * K * N;
    if (a.transB) {
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) panel[k * N + j] = yd[yo + j * K + k]!;
    } else {
      for (let p = 0; p < K * N; p++) panel[p] = yd[yo + p]!;
    }
    for (let k = 0; k < K; k++) {
      let ok = 1;
      for (let j = 0; j < N && ok; j++) ok = Number.isFinite(panel[k * N + j]!) ? 1 : 0;
      finite[k] = ok;
    }
    for (let i = 0; i < M; i++) {
      let n = 0;
      for (let k = 0; k < K; k++) {
        const av = xd[xo + i * aI + k * aK]!;
        if (av === 0 && finite[k]) continue;
        coef[n] = av;
        at[n] = k * N;
        n++;
      }
      row.fill(0);
      // Four k at a time: each row[j] is loaded and stored once per four products, added in order.
      let t = 0;
      for (; t + 4 <= n; t += 4) {
        const [a0, a1, a2, a3] = [coef[t]!, coef[t + 1]!, coef[t + 2]!, coef[t + 3]!];
        const [p0, p1, p2, p3] = [at[t]!, at[t + 1]!, at[t + 2]!, at[t + 3]!];
        for (let j = 0; j < N; j++) {
          let r = row[j]!;
          r += a0 * panel[p0 + j]!;
          r += a1 * panel[p1 + j]!;
          r += a2 * panel[p2 + j]!;
          r += a3 * panel[p3 + j]!;
          row[j] = r;
        }
      }
      for (; t < n; t++) {
        const [av, pk] = [coef[t]!, at[t]!];
        for (let j = 0; j < N; j++) row[j]! += av * panel[pk + j]!;
      }
      o.set(row, b * M * N + i * N);
    }
  }
  // The bias after the product has been rounded to the output's type: the same two roundings as
  // a separate add.
  if (inputs[2]) addBias(o, inputs[2].storage.data, B * M, N, 1);
  return [out];
}

/** out[r, c, i] += bias[c] (out is [rows, C, inner]), rounding each sum to out's type. */
export function addBias(o: HostArray, bias: HostArray, rows: number, C: number, inner: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      const v = bias[c]!;
      const at = (r * C + c) * inner;
      for (let i = 0; i < inner; i++) o[at + i] = o[at + i]! + v;
    }
  }
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
