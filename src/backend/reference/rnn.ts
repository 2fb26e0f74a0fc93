/**
 * Fused recurrent layers: an LSTM or GRU run over a whole sequence, and the backward of each, as
 * plain loops. They define the primitives (src/ops/primitives.ts); src/autograd/rnn-rules.ts
 * writes the same computation as a composite of tensor ops, and the native kernels must agree
 * with both. The gates (and the GRU's hn) are outputs so that the backward need not recompute them.
 *
 * Step s visits time t = s, or t = T - 1 - s with `reverse`; the state before the first step is
 * h0 (and c0). Gates are stacked in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n).
 */
import type { PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import type { HostArray } from '../types.js';
import { sigmoid } from './math.js';
import { type RefInput, type RefStorage, alloc } from './storage.js';

const size = (s: Spec) => s.shape.reduce((p, d) => p * d, 1);

/** Row `t` of a [T, ...] array as a subarray of `rowSize` elements (the state array when t is outside). */
function at(data: HostArray, t: number, rowSize: number): HostArray {
  return data.subarray(t * rowSize, (t + 1) * rowSize);
}

/** out[n, j] = x[n, j] + sum_k h[n, k] w[j, k] (+ b[j]): a row of gates before the activations. */
function project(x: HostArray | null, h: HostArray, w: HostArray, b: HostArray | null, N: number, G: number, H: number, out: number[]): void {
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < G; j++) {
      let acc = 0;
      for (let k = 0; k < H; k++) acc += h[n * H + k]! * w[j * H + k]!;
      out[n * G + j] = (x ? x[n * G + j]! : 0) + acc + (b ? b[j]! : 0);
    }
  }
}

/** gh[n, k] = sum_j g[n, j] w[j, k]: the gradient reaching h through h W^T. */
function backProject(g: HostArray, w: HostArray, N: number, G: number, H: number, out: HostArray): void {
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < H; k++) {
      let acc = 0;
      for (let j = 0; j < G; j++) acc += g[n * G + j]! * w[j * H + k]!;
      out[n * H + k] = acc;
    }
  }
}

export const rnnKernels = {
  // LSTM (Hochreiter & Schmidhuber 1997, forget gate of Gers et al. 2000), PyTorch's equations:
  // i, f, o = sigmoid(.), g = tanh(.) of xGates_t + h_{t-1} W_hh^T; c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
  lstmSequence(inputs: readonly RefInput[], a: PrimitiveAttrs['lstmSequence'], outs: readonly Spec[]): RefStorage[] {
    const [x, w, h0, c0] = inputs.map((i) => i.storage.data) as [HostArray, HostArray, HostArray, HostArray];
    const [T, N, H] = outs[0]!.shape as [number, number, number];
    const G = 4 * H;
    const [h, c, gates] = outs.map((s) => alloc(s.dtype, size(s)));
    const pre = new Array<number>(N * G);
    for (let s = 0; s < T; s++) {
      const t = a.reverse ? T - 1 - s : s;
      const prev = a.reverse ? t + 1 : t - 1;
      const hPrev = s === 0 ? h0 : at(h!.data, prev, N * H);
      const cPrev = s === 0 ? c0 : at(c!.data, prev, N * H);
      project(at(x, t, N * G), hPrev, w, null, N, G, H, pre);
      const gt = at(gates!.data, t, N * G);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < H; k++) {
          const r = n * G + k;
          gt[r] = sigmoid(pre[r]!);
          gt[r + H] = sigmoid(pre[r + H]!);
          gt[r + 2 * H] = Math.tanh(pre[r + 2 * H]!);
          gt[r + 3 * H] = sigmoid(pre[r + 3 * H]!);
          const ct = gt[r + H]! * cPrev[n * H + k]! + gt[r]! * gt[r + 2 * H]!;
          c!.data[(t * N + n) * H + k] = ct;
          h!.data[(t * N + n) * H + k] = gt[r + 3 * H]! * Math.tanh(c!.data[(t * N + n) * H + k]!);
        }
      }
    }
    return [h!, c!, gates!];
  },

  // Back-propagation through time, last step first. With dh = gh_t + (gradient from step t + 1) and
  // dc = gc_t + (from t + 1) + dh o (1 - tanh^2 c_t): the pre-activation gradients are
  // di = dc g i(1 - i), df = dc c_{t-1} f(1 - f), dg = dc i (1 - g^2), do = dh tanh(c_t) o(1 - o);
  // c_{t-1} receives dc f and h_{t-1} receives [di, df, dg, do] W_hh.
  lstmSequenceBackward(inputs: readonly RefInput[], a: PrimitiveAttrs['lstmSequenceBackward'], outs: readonly Spec[]): RefStorage[] {
    const [, w, , c0, gh, gc, c, gates] = inputs.map((i) => i.storage.data) as HostArray[];
    const [T, N, G] = outs[0]!.shape as [number, number, number];
    const H = G / 4;
    const [gx, gh0, gc0] = outs.map((s) => alloc(s.dtype, size(s)));
    const dhNext = gh0!.data; // the gradient reaching h_{t-1}, which is h0 after the last step
    const dcNext = gc0!.data;
    for (let s = T - 1; s >= 0; s--) {
      const t = a.reverse ? T - 1 - s : s;
      const cPrev = s === 0 ? c0! : at(c!, a.reverse ? t + 1 : t - 1, N * H);
      const gt = at(gates!, t, N * G);
      const dt = at(gx!.data, t, N * G);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < H; k++) {
          const e = (t * N + n) * H + k;
          const r = n * G + k;
          const [i, f, g, o] = [gt[r]!, gt[r + H]!, gt[r + 2 * H]!, gt[r + 3 * H]!];
          const tc = Math.tanh(c![e]!);
          const dh = gh![e]! + dhNext[n * H + k]!;
          const dc = gc![e]! + dcNext[n * H + k]! + dh * o * (1 - tc * tc);
          dt[r] = dc * g * i * (1 - i);
          dt[r + H] = dc * cPrev[n * H + k]! * f * (1 - f);
          dt[r + 2 * H] = dc * i * (1 - g * g);
          dt[r + 3 * H] = dh * tc * o * (1 - o);
          dcNext[n * H + k] = dc * f;
        }
      }
      backProject(dt, w!, N, G, H, dhNext);
    }
    return [gx!, gh0!, gc0!];
  },

  // GRU (Cho et al. 2014), PyTorch's equations: r, z = sigmoid(.) of xGates_t + h_{t-1} W_hh^T + b_hh;
  // n = tanh(xn_t + r hn) with hn = h_{t-1} W_hn^T + b_hn; h_t = (1 - z) n + z h_{t-1}.
  gruSequence(inputs: readonly RefInput[], a: PrimitiveAttrs['gruSequence'], outs: readonly Spec[]): RefStorage[] {
    const [x, w, b, h0] = inputs.map((i) => i.storage.data) as [HostArray, HostArray, HostArray, HostArray];
    const [T, N, H] = outs[0]!.shape as [number, number, number];
    const G = 3 * H;
    const [h, gates, hn] = outs.map((s) => alloc(s.dtype, size(s)));
    const hp = new Array<number>(N * G);
    for (let s = 0; s < T; s++) {
      const t = a.reverse ? T - 1 - s : s;
      const hPrev = s === 0 ? h0 : at(h!.data, a.reverse ? t + 1 : t - 1, N * H);
      project(null, hPrev, w, b, N, G, H, hp);
      const xt = at(x, t, N * G);
      const gt = at(gates!.data, t, N * G);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < H; k++) {
          const r = n * G + k;
          const e = (t * N + n) * H + k;
          gt[r] = sigmoid(xt[r]! + hp[r]!);
          gt[r + H] = sigmoid(xt[r + H]! + hp[r + H]!);
          hn!.data[e] = hp[r + 2 * H]!;
          gt[r + 2 * H] = Math.tanh(xt[r + 2 * H]! + gt[r]! * hn!.data[e]!);
          const z = gt[r + H]!;
          h!.data[e] = (1 - z) * gt[r + 2 * H]! + z * hPrev[n * H + k]!;
        }
      }
    }
    return [h!, gates!, hn!];
  },

  // Back-propagation through time. With dh the total gradient reaching h_t: dn = dh (1 - z) (1 - n^2),
  // dz = dh (h_{t-1} - n) z (1 - z), dr = dn hn r (1 - r). The x-side gradient is [dr, dz, dn]; the
  // h-side one (of h_{t-1} W_hh^T + b_hh) is [dr, dz, dn r]; h_{t-1} receives dh z + (h-side) W_hh.
  gruSequenceBackward(inputs: readonly RefInput[], a: PrimitiveAttrs['gruSequenceBackward'], outs: readonly Spec[]): RefStorage[] {
    const [, w, , h0, gh, h, gates, hn] = inputs.map((i) => i.storage.data) as HostArray[];
    const [T, N, G] = outs[0]!.shape as [number, number, number];
    const H = G / 3;
    const [gx, ghg, gh0] = outs.map((s) => alloc(s.dtype, size(s)));
    const dhNext = gh0!.data;
    for (let s = T - 1; s >= 0; s--) {
      const t = a.reverse ? T - 1 - s : s;
      const hPrev = s === 0 ? h0! : at(h!, a.reverse ? t + 1 : t - 1, N * H);
      const gt = at(gates!, t, N * G);
      const dx = at(gx!.data, t, N * G);
      const dhg = at(ghg!.data, t, N * G);
      const direct = new Array<number>(N * H);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < H; k++) {
          const e = (t * N + n) * H + k;
          const r = n * G + k;
          const [rg, z, ng] = [gt[r]!, gt[r + H]!, gt[r + 2 * H]!];
          const dh = gh![e]! + dhNext[n * H + k]!;
          const dn = dh * (1 - z) * (1 - ng * ng);
          const dz = dh * (hPrev[n * H + k]! - ng) * z * (1 - z);
          const dr = dn * hn![e]! * rg * (1 - rg);
          dx[r] = dr;
          dx[r + H] = dz;
          dx[r + 2 * H] = dn;
          dhg[r] = dr;
          dhg[r + H] = dz;
          dhg[r + 2 * H] = dn * rg;
          direct[n * H + k] = dh * z;
        }
      }
      backProject(dhg, w!, N, G, H, dhNext);
      for (let e = 0; e < N * H; e++) dhNext[e] = dhNext[e]! + direct[e]!;
    }
    return [gx!, ghg!, gh0!];
  },
};
