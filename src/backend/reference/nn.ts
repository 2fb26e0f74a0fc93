/**
 * Neural-network kernels: softmax, convolution and pooling, written as direct loops.
 * These loops are the definition the fast backends are tested against, so they favour
 * plainness over speed; every accumulation is done in float64.
 */
import type { AvgPool2dAttrs, Conv2dAttrs, PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import { numel } from '../../shape.js';
import { type RefInput, type RefStorage, alloc } from './storage.js';
import { addBias } from './reduce.js';

function softmaxLike(log: boolean) {
  return (inputs: readonly RefInput[], a: { axis: number }, outs: readonly Spec[]): RefStorage[] => {
    const x = inputs[0]!;
    const xd = x.storage.data;
    const out = alloc(outs[0]!.dtype, xd.length);
    const shape = x.shape.length ? x.shape : [1];
    const len = shape[a.axis]!;
    const inner = numel(shape.slice(a.axis + 1));
    const outer = numel(shape.slice(0, a.axis));
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let max = -Infinity;
        for (let k = 0; k < len; k++) max = Math.max(max, xd[base + k * inner]!);
        if (max === -Infinity) max = 0;
        let sum = 0;
        for (let k = 0; k < len; k++) sum += Math.exp(xd[base + k * inner]! - max);
        const logSum = Math.log(sum);
        for (let k = 0; k < len; k++) {
          const v = xd[base + k * inner]! - max;
          out.data[base + k * inner] = log ? v - logSum : Math.exp(v) / sum;
        }
      }
    }
    return [out];
  };
}

/** Calls `f(n, o, c, oh, ow, ih, iw)` for every tap of a grouped 2-D convolution that lands inside the input. */
function forEachTap(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  a: Conv2dAttrs,
  f: (xi: number, wi: number, yi: number) => void,
): void {
  const [N, C, H, W] = x as [number, number, number, number];
  const [O, Cg, KH, KW] = w as [number, number, number, number];
  const [, , HO, WO] = y as [number, number, number, number];
  const Og = O / a.groups;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oh = 0; oh < HO; oh++) {
        for (let ow = 0; ow < WO; ow++) {
          const yi = ((n * O + o) * HO + oh) * WO + ow;
          for (let c = 0; c < Cg; c++) {
            const ci = g * Cg + c;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * a.stride[0] - a.padding[0] + kh * a.dilation[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * a.stride[1] - a.padding[1] + kw * a.dilation[1];
                if (iw < 0 || iw >= W) continue;
                f(((n * C + ci) * H + ih) * W + iw, ((o * Cg + c) * KH + kh) * KW + kw, yi);
              }
            }
          }
        }
      }
    }
  }
}

function finish(acc: Float64Array, spec: Spec): RefStorage[] {
  const out = alloc(spec.dtype, acc.length);
  out.data.set(acc);
  return [out];
}

/** Window bounds of output position `o` along one axis, PyTorch's avg_pool2d convention. */
function avgWindow(o: number, size: number, k: number, s: number, p: number): [number, number, number] {
  let start = o * s - p;
  let end = Math.min(start + k, size + p);
  const padded = end - start;
  start = Math.max(start, 0);
  end = Math.min(end, size);
  return [start, end, padded];
}

function forEachAvgWindow(
  x: readonly number[],
  y: readonly number[],
  a: AvgPool2dAttrs,
  f: (xi: number, yi: number, divisor: number) => void,
): void {
  const [N, C, H, W] = x as [number, number, number, number];
  const [, , HO, WO] = y as [number, number, number, number];
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < HO; oh++) {
      const [h0, h1, hp] = avgWindow(oh, H, a.kernel[0], a.stride[0], a.padding[0]);
      for (let ow = 0; ow < WO; ow++) {
        const [w0, w1, wp] = avgWindow(ow, W, a.kernel[1], a.stride[1], a.padding[1]);
        const divisor = a.divisorOverride ?? (a.countIncludePad ? hp * wp : (h1 - h0) * (w1 - w0));
        const yi = (nc * HO + oh) * WO + ow;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) f((nc * H + ih) * W + iw, yi, divisor);
      }
    }
  }
}

function forEachAdaptiveWindow(
  x: readonly number[],
  y: readonly number[],
  f: (xi: number, yi: number, count: number) => void,
): void {
  const [N, C, H, W] = x as [number, number, number, number];
  const [, , HO, WO] = y as [number, number, number, number];
  for (let nc = 0; nc < N * C; nc++) {
    for (let oh = 0; oh < HO; oh++) {
      const h0 = Math.floor((oh * H) / HO);
      const h1 = Math.ceil(((oh + 1) * H) / HO);
      for (let ow = 0; ow < WO; ow++) {
        const w0 = Math.floor((ow * W) / WO);
        const w1 = Math.ceil(((ow + 1) * W) / WO);
        const yi = (nc * HO + oh) * WO + ow;
        const count = (h1 - h0) * (w1 - w0);
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) f((nc * H + ih) * W + iw, yi, count);
      }
    }
  }
}

/**
 * renorm: sub-tensor i along the axis is x[o, i, k] of x viewed as [outer, len, inner]. Its p-norm is
 * summed in float64 and rounded to the dtype; the factor is computed in the dtype, as PyTorch does
 * (norm > maxnorm ? maxnorm / (norm + 1e-7) : 1), and each output is x times it, rounded once.
 */
function renorm(inputs: readonly RefInput[], a: PrimitiveAttrs['renorm'], outs: readonly Spec[]): RefStorage[] {
  const xd = inputs[0]!.storage.data;
  const shape = inputs[0]!.shape;
  const out = alloc(outs[0]!.dtype, xd.length);
  const round = outs[0]!.dtype === 'float32' ? Math.fround : (v: number) => v;
  const len = shape[a.axis]!;
  const inner = numel(shape.slice(a.axis + 1));
  const outer = numel(shape.slice(0, a.axis));
  const maxnorm = round(a.maxnorm);
  const eps = round(1e-7);
  for (let i = 0; i < len; i++) {
    let s = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * len + i) * inner;
      for (let k = 0; k < inner; k++) {
        const v = Math.abs(xd[base + k]!);
        s += a.p === 2 ? v * v : a.p === 1 ? v : v ** a.p;
      }
    }
    const norm = round(a.p === 2 ? Math.sqrt(s) : a.p === 1 ? s : s ** (1 / a.p));
    const factor = norm > maxnorm ? round(maxnorm / round(norm + eps)) : 1;
    for (let o = 0; o < outer; o++) {
      const base = (o * len + i) * inner;
      for (let k = 0; k < inner; k++) out.data[base + k] = xd[base + k]! * factor;
    }
  }
  return [out];
}

export const nnKernels = {
  softmax: softmaxLike(false),
  logSoftmax: softmaxLike(true),
  renorm,
  conv2d(inputs: readonly RefInput[], a: PrimitiveAttrs['conv2d'], outs: readonly Spec[]): RefStorage[] {
    const [x, w] = inputs as [RefInput, RefInput];
    const acc = new Float64Array(numel(outs[0]!.shape));
    const xd = x.storage.data;
    const wd = w.storage.data;
    forEachTap(x.shape, w.shape, outs[0]!.shape, a, (xi, wi, yi) => {
      acc[yi]! += xd[xi]! * wd[wi]!;
    });
    const out = finish(acc, outs[0]!);
    const [N, O, HO, WO] = outs[0]!.shape as [number, number, number, number];
    if (inputs[2]) addBias(out[0]!.data, inputs[2].storage.data, N, O, HO * WO);
    return out;
  },
  conv2dBackwardInput(
    inputs: readonly RefInput[],
    a: PrimitiveAttrs['conv2dBackwardInput'],
    outs: readonly Spec[],
  ): RefStorage[] {
    const [gy, w] = inputs as [RefInput, RefInput];
    const acc = new Float64Array(numel(a.inputShape));
    const gd = gy.storage.data;
    const wd = w.storage.data;
    forEachTap(a.inputShape, w.shape, gy.shape, a, (xi, wi, yi) => {
      acc[xi]! += gd[yi]! * wd[wi]!;
    });
    return finish(acc, outs[0]!);
  },
  conv2dBackwardWeight(
    inputs: readonly RefInput[],
    a: PrimitiveAttrs['conv2dBackwardWeight'],
    outs: readonly Spec[],
  ): RefStorage[] {
    const [x, gy] = inputs as [RefInput, RefInput];
    const acc = new Float64Array(numel(a.weightShape));
    const xd = x.storage.data;
    const gd = gy.storage.data;
    forEachTap(x.shape, a.weightShape, gy.shape, a, (xi, wi, yi) => {
      acc[wi]! += xd[xi]! * gd[yi]!;
    });
    return finish(acc, outs[0]!);
  },
  maxPool2dIndices(
    inputs: readonly RefInput[],
    a: PrimitiveAttrs['maxPool2dIndices'],
    outs: readonly Spec[],
  ): RefStorage[] {
    const x = inputs[0]!;
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const [, , HO, WO] = outs[0]!.shape as [number, number, number, number];
    const xd = x.storage.data;
    const out = alloc('int32', N * C * HO * WO);
    for (let nc = 0; nc < N * C; nc++) {
      for (let oh = 0; oh < HO; oh++) {
        for (let ow = 0; ow < WO; ow++) {
          let best = -Infinity;
          let bi = -1;
          for (let kh = 0; kh < a.kernel[0]; kh++) {
            const ih = oh * a.stride[0] - a.padding[0] + kh * a.dilation[0];
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < a.kernel[1]; kw++) {
              const iw = ow * a.stride[1] - a.padding[1] + kw * a.dilation[1];
              if (iw < 0 || iw >= W) continue;
              const v = xd[(nc * H + ih) * W + iw]!;
              // The first maximum in scan order wins; NaN wins over any number, as in PyTorch.
              if (bi < 0 || v > best || (v !== v && best === best)) {
                best = v;
                bi = ih * W + iw;
              }
            }
          }
          out.data[(nc * HO + oh) * WO + ow] = bi;
        }
      }
    }
    return [out];
  },
  avgPool2d(inputs: readonly RefInput[], a: PrimitiveAttrs['avgPool2d'], outs: readonly Spec[]): RefStorage[] {
    const x = inputs[0]!;
    const xd = x.storage.data;
    const acc = new Float64Array(numel(outs[0]!.shape));
    forEachAvgWindow(x.shape, outs[0]!.shape, a, (xi, yi, div) => {
      acc[yi]! += xd[xi]! / div;
    });
    return finish(acc, outs[0]!);
  },
  avgPool2dBackward(
    inputs: readonly RefInput[],
    a: PrimitiveAttrs['avgPool2dBackward'],
    outs: readonly Spec[],
  ): RefStorage[] {
    const gy = inputs[0]!;
    const gd = gy.storage.data;
    const acc = new Float64Array(numel(a.inputShape));
    forEachAvgWindow(a.inputShape, gy.shape, a, (xi, yi, div) => {
      acc[xi]! += gd[yi]! / div;
    });
    return finish(acc, outs[0]!);
  },
  adaptiveAvgPool2d(
    inputs: readonly RefInput[],
    _a: PrimitiveAttrs['adaptiveAvgPool2d'],
    outs: readonly Spec[],
  ): RefStorage[] {
    const x = inputs[0]!;
    const xd = x.storage.data;
    const acc = new Float64Array(numel(outs[0]!.shape));
    forEachAdaptiveWindow(x.shape, outs[0]!.shape, (xi, yi, count) => {
      acc[yi]! += xd[xi]! / count;
    });
    return finish(acc, outs[0]!);
  },
  adaptiveAvgPool2dBackward(
    inputs: readonly RefInput[],
    a: PrimitiveAttrs['adaptiveAvgPool2dBackward'],
    outs: readonly Spec[],
  ): RefStorage[] {
    const gy = inputs[0]!;
    const gd = gy.storage.data;
    const acc = new Float64Array(numel(a.inputShape));
    forEachAdaptiveWindow(a.inputShape, gy.shape, (xi, yi, count) => {
      acc[xi]! += gd[yi]! / count;
    });
    return finish(acc, outs[0]!);
  },
};
