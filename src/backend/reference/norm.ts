/**
 * Normalisation kernels (batch norm, layer norm, forward and backward) and the softmax backward
 * kernels, as plain loops with every sum in float64: the definition the native kernels are tested
 * against. The formulas are written out in src/autograd/norm-rules.ts.
 */
import type { PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import { numel } from '../../shape.js';
import { type RefInput, type RefStorage, alloc } from './storage.js';

/** [N, C, S] of an input [N, C, ...] (S: the product of the spatial dimensions). */
function channels(shape: readonly number[]): [number, number, number] {
  return [shape[0]!, shape[1]!, numel(shape.slice(2))];
}

/** [outer, len, inner] around `axis` (a scalar counts as one element). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

function softmaxBackwardLike(log: boolean) {
  return (inputs: readonly RefInput[], a: { axis: number }, outs: readonly Spec[]): RefStorage[] => {
    const [y, gy] = inputs.map((t) => t.storage.data) as [RefStorage['data'], RefStorage['data']];
    const out = alloc(outs[0]!.dtype, y.length);
    const [outer, len, inner] = around(inputs[0]!.shape, a.axis);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        // softmax: sum(gy * y); logSoftmax: sum(gy).
        let dot = 0;
        for (let k = 0; k < len; k++) dot += log ? gy[base + k * inner]! : gy[base + k * inner]! * y[base + k * inner]!;
        for (let k = 0; k < len; k++) {
          const i = base + k * inner;
          out.data[i] = log ? gy[i]! - Math.exp(y[i]!) * dot : y[i]! * (gy[i]! - dot);
        }
      }
    }
    return [out];
  };
}

/** The reference kernels of the normalisation and softmax-backward primitives. */
export const normKernels = {
  batchNorm(inputs: readonly RefInput[], a: PrimitiveAttrs['batchNorm'], outs: readonly Spec[]): RefStorage[] {
    const [x, w, b] = inputs.map((t) => t.storage.data) as [RefStorage['data'], RefStorage['data'], RefStorage['data']];
    const [N, C, S] = channels(inputs[0]!.shape);
    const dtype = outs[0]!.dtype;
    const y = alloc(dtype, x.length);
    const mean = alloc(dtype, C);
    const invstd = alloc(dtype, C);
    const M = N * S;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sum += x[(n * C + c) * S + s]!;
      const mu = sum / M;
      let sq = 0;
      for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) sq += (x[(n * C + c) * S + s]! - mu) ** 2;
      const is = 1 / Math.sqrt(sq / M + a.eps);
      mean.data[c] = mu;
      invstd.data[c] = is;
      for (let n = 0; n < N; n++) {
        for (let s = 0; s < S; s++) {
          const i = (n * C + c) * S + s;
          y.data[i] = (x[i]! - mu) * is * w[c]! + b[c]!;
        }
      }
    }
    return [y, mean, invstd];
  },
  batchNormBackward(inputs: readonly RefInput[], _a: PrimitiveAttrs['batchNormBackward'], outs: readonly Spec[]): RefStorage[] {
    const [gy, x, mean, invstd, w] = inputs.map((t) => t.storage.data);
    const [N, C, S] = channels(inputs[1]!.shape);
    const dtype = outs[0]!.dtype;
    const gx = alloc(dtype, x!.length);
    const gw = alloc(dtype, C);
    const gb = alloc(dtype, C);
    const M = N * S;
    for (let c = 0; c < C; c++) {
      const mu = mean![c]!;
      const is = invstd![c]!;
      let sumG = 0;
      let sumGX = 0;
      for (let n = 0; n < N; n++) {
        for (let s = 0; s < S; s++) {
          const i = (n * C + c) * S + s;
          sumG += gy![i]!;
          sumGX += gy![i]! * (x![i]! - mu) * is;
        }
      }
      gb.data[c] = sumG;
      gw.data[c] = sumGX;
      for (let n = 0; n < N; n++) {
        for (let s = 0; s < S; s++) {
          const i = (n * C + c) * S + s;
          const xhat = (x![i]! - mu) * is;
          gx.data[i] = w![c]! * is * (gy![i]! - sumG / M - (xhat * sumGX) / M);
        }
      }
    }
    return [gx, gw, gb];
  },
  layerNorm(inputs: readonly RefInput[], a: PrimitiveAttrs['layerNorm'], outs: readonly Spec[]): RefStorage[] {
    const [x, w, b] = inputs.map((t) => t.storage.data) as [RefStorage['data'], RefStorage['data'], RefStorage['data']];
    const D = numel(a.normalizedShape);
    const rows = numel(outs[1]!.shape);
    const dtype = outs[0]!.dtype;
    const y = alloc(dtype, x.length);
    const mean = alloc(dtype, rows);
    const rstd = alloc(dtype, rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < D; j++) sum += x[r * D + j]!;
      const mu = sum / D;
      let sq = 0;
      for (let j = 0; j < D; j++) sq += (x[r * D + j]! - mu) ** 2;
      const rs = 1 / Math.sqrt(sq / D + a.eps);
      mean.data[r] = mu;
      rstd.data[r] = rs;
      for (let j = 0; j < D; j++) y.data[r * D + j] = (x[r * D + j]! - mu) * rs * w[j]! + b[j]!;
    }
    return [y, mean, rstd];
  },
  layerNormBackward(inputs: readonly RefInput[], a: PrimitiveAttrs['layerNormBackward'], outs: readonly Spec[]): RefStorage[] {
    const [gy, x, mean, rstd, w] = inputs.map((t) => t.storage.data);
    const D = numel(a.normalizedShape);
    const rows = numel(inputs[2]!.shape);
    const dtype = outs[0]!.dtype;
    const gx = alloc(dtype, x!.length);
    const gwAcc = new Float64Array(D);
    const gbAcc = new Float64Array(D);
    for (let r = 0; r < rows; r++) {
      const mu = mean![r]!;
      const rs = rstd![r]!;
      let sumG = 0;
      let sumGX = 0;
      for (let j = 0; j < D; j++) {
        const i = r * D + j;
        const xhat = (x![i]! - mu) * rs;
        sumG += gy![i]! * w![j]!;
        sumGX += gy![i]! * w![j]! * xhat;
        gwAcc[j] += gy![i]! * xhat;
        gbAcc[j] += gy![i]!;
      }
      for (let j = 0; j < D; j++) {
        const i = r * D + j;
        const xhat = (x![i]! - mu) * rs;
        gx.data[i] = rs * (gy![i]! * w![j]! - sumG / D - (xhat * sumGX) / D);
      }
    }
    const gw = alloc(dtype, D);
    const gb = alloc(dtype, D);
    gw.data.set(gwAcc);
    gb.data.set(gbAcc);
    return [gx, gw, gb];
  },
  softmaxBackward: softmaxBackwardLike(false),
  logSoftmaxBackward: softmaxBackwardLike(true),
};
