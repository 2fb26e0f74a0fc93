/**
 * The cpu backend: the primitives as C++17 kernels (native/cpu/) called through N-API. Tensors live
 * in JavaScript typed arrays, as in the reference backend, so the garbage collector frees them and
 * the kernels read and write them in place.
 *
 * Every primitive is native (DELEGATED is empty; integer bmm and calls an addon built before a
 * kernel existed still run the reference kernel on the same storage). Integer and bool tensors go
 * through the same kernels with typed-array semantics.
 */
import type { DType } from '../../dtype.js';
import type { PrimitiveAttrs, PrimitiveName, Spec } from '../../ops/primitives.js';
import { numel, stridesOf } from '../../shape.js';
import { fillNormal } from '../philox.js';
import { referenceBackend } from '../reference/index.js';
import { setCastsExactly } from '../reference/storage.js';
import type { Backend, HostArray, Kernel, KernelInput } from '../types.js';
import { type Addon, addon } from './addon.js';
import { normKernels } from './norm.js';
import { rnnKernels } from './rnn.js';
import { indexingKernels } from './indexing.js';
import { allocUninitialised, tuneAllocator } from './memory.js';
import { alloc, allocZeroed, closeRecycling, type CpuStorage, openRecycling, outputInto, recycle, wrap } from './storage.js';
import { optimMethods } from './optim.js';

/** A cpu tensor's storage: a typed array on the JavaScript heap. */
export type { CpuStorage } from './storage.js';

type In = KernelInput<CpuStorage>;

/** Element strides of `inShape` read as `outShape` under broadcasting (0 along broadcast axes). */
function broadcastStrides(outShape: readonly number[], inShape: readonly number[]): number[] {
  // One pass from the last axis, `stride` being the product of the input's later dimensions.
  const out = new Array<number>(outShape.length);
  const lead = outShape.length - inShape.length;
  let stride = 1;
  for (let o = outShape.length - 1; o >= 0; o--) {
    const d = o < lead ? 1 : inShape[o - lead]!;
    out[o] = d === 1 ? 0 : stride;
    stride *= d;
  }
  return out;
}

/**
 * The integers an addon call reads (shapes, strides, geometry) travel in one Float64Array, which
 * native/cpu/napi-glue.h reads with a single N-API call; reading a JavaScript array costs a call per
 * element, about 1 us for a conv's geometry. Addon calls are synchronous and never reenter
 * JavaScript, so one buffer serves every call.
 */
let scratch = new Float64Array(64);

/** The shared geometry buffer, grown to hold at least n values. */
function geometry(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

/**
 * Packs an iteration over `shape` in which operand k steps by `strides[k]` as
 * [rank, shape, strides of operand 0, operand 1, ...], simplified by coalescePacked().
 */
function packIteration(shape: readonly number[], strides: readonly (readonly number[])[]): Float64Array {
  const R = shape.length;
  const room = Math.max(R, 1);
  const g = geometry(1 + (strides.length + 1) * room);
  for (let d = 0; d < R; d++) g[1 + d] = shape[d]!;
  for (let k = 0; k < strides.length; k++) for (let d = 0; d < R; d++) g[1 + (k + 1) * room + d] = strides[k]![d]!;
  return coalescePacked(g, R, strides.length);
}

/** packIteration() for operands of shapes `inShapes` broadcast to `shape` (stride 0 along broadcast axes). */
function packBroadcast(shape: readonly number[], inShapes: readonly (readonly number[])[]): Float64Array {
  const R = shape.length;
  const room = Math.max(R, 1);
  const g = geometry(1 + (inShapes.length + 1) * room);
  for (let d = 0; d < R; d++) g[1 + d] = shape[d]!;
  for (let k = 0; k < inShapes.length; k++) {
    // As broadcastStrides(): from the last axis, `stride` the product of the input's later dimensions.
    const inShape = inShapes[k]!;
    const lead = R - inShape.length;
    const at = 1 + (k + 1) * room;
    let stride = 1;
    for (let o = R - 1; o >= 0; o--) {
      const size = o < lead ? 1 : inShape[o - lead]!;
      g[at + o] = size === 1 ? 0 : stride;
      stride *= size;
    }
  }
  return coalescePacked(g, R, inShapes.length);
}

/**
 * Simplifies, in place, the packed iteration g = [_, shape (R), then K stride blocks of R entries] as
 * native/cpu/elementwise.cc's coalesce() simplifies it: size-1 dimensions dropped, and neighbours
 * merged where every operand steps through the pair as through one dimension; then stores the new
 * rank in g[0] and closes the blocks up to that length. The kernel then finds nothing left to merge.
 */
function coalescePacked(g: Float64Array, R: number, K: number): Float64Array {
  const room = Math.max(R, 1);
  let rank = 0; // dimensions kept so far; writes land at rank <= d, behind the reads
  for (let d = 0; d < R; d++) {
    const size = g[1 + d]!;
    if (size === 1) continue;
    let merge = rank > 0;
    for (let k = 0; merge && k < K; k++) {
      const at = 1 + (k + 1) * room;
      merge = g[at + rank - 1] === g[at + d]! * size;
    }
    if (merge) {
      g[rank]! *= size; // g[1 + rank - 1]: the last kept dimension
      for (let k = 0; k < K; k++) g[1 + (k + 1) * room + rank - 1] = g[1 + (k + 1) * room + d]!;
    } else {
      g[1 + rank] = size;
      for (let k = 0; k < K; k++) g[1 + (k + 1) * room + rank] = g[1 + (k + 1) * room + d]!;
      rank++;
    }
  }
  if (rank === 0) {
    g[1] = 1;
    for (let k = 0; k < K; k++) g[1 + (k + 1) * room] = 0;
    rank = 1;
  }
  // Blocks move down in order, so none overwrites one not yet moved.
  if (rank < room) for (let k = 0; k < K; k++) g.copyWithin(1 + (k + 1) * rank, 1 + (k + 1) * room, 1 + (k + 1) * room + rank);
  g[0] = rank;
  return g;
}

/** [outer, len, inner] of `shape` around `axis` (a scalar counts as one element). */
function around(shape: readonly number[], axis: number): [number, number, number] {
  if (shape.length === 0) return [1, 1, 1];
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

// Operation codes shared with native/cpu/elementwise.cc and reduce.cc.
const UNARY = {
  neg: 0, abs: 1, sign: 2, exp: 3, log: 4, log1p: 5, sqrt: 6, rsqrt: 7, sin: 8, cos: 9, tanh: 10,
  sigmoid: 11, erf: 12, relu: 13, gelu: 14, geluTanh: 15, silu: 16, leakyRelu: 17, elu: 18,
  softplus: 19, clamp: 20, floor: 21, logicalNot: 22, cast: 23, smoothL1: 24, ceil: 25, trunc: 26, round: 27,
} as const;
const BINARY = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, eq: 7, ne: 8, lt: 9, le: 10,
  gt: 11, ge: 12, logicalAnd: 13, logicalOr: 14, logicalXor: 15, remainder: 16, fmod: 17,
} as const;
const REDUCE = { sum: 0, prod: 1, amax: 2, amin: 3 } as const;

/** Primitives that still run the reference kernel (on the same typed arrays): none since issue #3. */
export const DELEGATED: readonly PrimitiveName[] = [];

function kernels(native: Addon): { [K in PrimitiveName]: Kernel<K, CpuStorage> } {
  tuneAllocator(native);
  const noParams: [number, number, number] = [0, 0, 0];
  const unary =
    (op: number, params?: (a: any) => [number, number, number]) =>
    (inputs: readonly In[], a: any, outs: readonly Spec[]): CpuStorage[] => {
      const out = alloc(outs[0]!);
      const p = params ? params(a) : noParams;
      native.unary(op, inputs[0]!.storage.data, out.data, p[0], p[1], p[2]);
      return [out];
    };
  const binary =
    (op: number) =>
    (inputs: readonly In[], _a: unknown, outs: readonly Spec[]): CpuStorage[] => {
      const [x, y] = inputs as [In, In];
      const shape = outs[0]!.shape;
      const out = alloc(outs[0]!);
      const g = packBroadcast(shape, [x.shape, y.shape]);
      native.binary(op, x.storage.data, y.storage.data, out.data, g);
      return [out];
    };
  const reduce =
    (op: number) =>
    (inputs: readonly In[], a: PrimitiveAttrs['sum'], outs: readonly Spec[]): CpuStorage[] => {
      const x = inputs[0]!;
      const out = alloc(outs[0]!);
      const rank = x.shape.length;
      const g = geometry(1 + 2 * rank);
      g[0] = rank;
      for (let d = 0; d < rank; d++) {
        g[1 + d] = x.shape[d]!;
        g[1 + rank + d] = 0;
      }
      for (const axis of a.axes) g[1 + rank + axis] = 1;
      native.reduce(op, x.storage.data, g, out.data);
      return [out];
    };
  const argReduce =
    (isMax: boolean) =>
    (inputs: readonly In[], a: PrimitiveAttrs['argmax'], outs: readonly Spec[]): CpuStorage[] => {
      const x = inputs[0]!;
      // A few values (the argmax over a DQN's 6 actions): the reference's loop, the definition the
      // native kernel is tested against, costs less than the call into the addon (0.3 against 0.9 us).
      if (x.storage.size <= 64) return delegate(isMax ? 'argmax' : 'argmin')(inputs, a, outs);
      const out = allocZeroed(outs[0]!); // a 0-d input's answer is the zero already there
      if (x.shape.length === 0) return [out];
      const [outer, len, inner] = around(x.shape, a.axis);
      native.argReduce(isMax, x.storage.data, outer, len, inner, out.data as Int32Array);
      return [out];
    };
  /** A strided read of the input: out[i] = x[base + sum_d index_d(i) * strides[d]]. */
  const gatherStrided = (x: In, spec: Spec, strides: number[], base: number): CpuStorage[] => {
    const out = alloc(spec);
    native.strided(x.storage.data, out.data, packIteration(spec.shape, [strides]), base, false);
    return [out];
  };
  const softmaxLike =
    (log: boolean) =>
    (inputs: readonly In[], a: PrimitiveAttrs['softmax'], outs: readonly Spec[]): CpuStorage[] => {
      const x = inputs[0]!;
      const out = alloc(outs[0]!);
      const [outer, len, inner] = around(x.shape, a.axis);
      native.softmax(x.storage.data, out.data, outer, len, inner, log);
      return [out];
    };
  /** [N, C, H, W, O, C / groups, KH, KW, HO, WO, sh, sw, ph, pw, dh, dw, groups], as addon.cc reads it. */
  const convGeometry = (
    xShape: readonly number[],
    wShape: readonly number[],
    yShape: readonly number[],
    a: PrimitiveAttrs['conv2d'],
  ): Float64Array => {
    const g = geometry(17);
    for (let i = 0; i < 4; i++) {
      g[i] = xShape[i]!;
      g[4 + i] = wShape[i]!;
    }
    g[8] = yShape[2]!;
    g[9] = yShape[3]!;
    g.set(a.stride, 10);
    g.set(a.padding, 12);
    g.set(a.dilation, 14);
    g[16] = a.groups;
    return g;
  };
  /** [N * C, H, W, HO, WO, kh, kw, sh, sw, ph, pw, dh, dw, countIncludePad], as addon.cc reads it. */
  const poolGeometry = (
    x: readonly number[],
    y: readonly number[],
    a: PrimitiveAttrs['avgPool2d'] | PrimitiveAttrs['maxPool2dIndices'],
    dilation: readonly [number, number],
    countIncludePad: boolean,
  ): Float64Array => {
    const g = geometry(14);
    g[0] = x[0]! * x[1]!;
    g[1] = x[2]!;
    g[2] = x[3]!;
    g[3] = y[2]!;
    g[4] = y[3]!;
    g.set(a.kernel, 5);
    g.set(a.stride, 7);
    g.set(a.padding, 9);
    g.set(dilation, 11);
    g[13] = countIncludePad ? 1 : 0;
    return g;
  };
  const ref = referenceBackend.kernels as unknown as Record<string, Kernel<any, any>>;
  /** Runs the reference kernel on the same typed arrays and relabels its outputs as cpu storage. */
  const delegate =
    (name: PrimitiveName) =>
    (inputs: readonly In[], a: any, outs: readonly Spec[]): CpuStorage[] =>
      ref[name]!(inputs, a, outs).map((s: { data: HostArray; dtype: DType }) => wrap(s.data, s.dtype));

  return {
    neg: unary(UNARY.neg),
    abs: unary(UNARY.abs),
    sign: unary(UNARY.sign),
    exp: unary(UNARY.exp),
    log: unary(UNARY.log),
    log1p: unary(UNARY.log1p),
    sqrt: unary(UNARY.sqrt),
    rsqrt: unary(UNARY.rsqrt),
    sin: unary(UNARY.sin),
    cos: unary(UNARY.cos),
    tanh: unary(UNARY.tanh),
    sigmoid: unary(UNARY.sigmoid),
    erf: unary(UNARY.erf),
    relu: unary(UNARY.relu),
    gelu: unary(UNARY.gelu),
    geluTanh: unary(UNARY.geluTanh),
    geluTanhBackward: native.geluTanhBackward
      ? (inputs, _a, outs) => {
          const [x, gy] = inputs as [In, In];
          const out = alloc(outs[0]!);
          native.geluTanhBackward!(x.storage.data, gy.storage.data, out.data);
          return [out];
        }
      : delegate('geluTanhBackward'), // an addon built before vmath.cc
    reluBackward: native.reluBackward
      ? (inputs, _a, outs) => {
          const [y, gy] = inputs as [In, In];
          const out = alloc(outs[0]!);
          native.reluBackward!(y.storage.data, gy.storage.data, out.data);
          return [out];
        }
      : delegate('reluBackward'),
    smoothL1: unary(UNARY.smoothL1, (a: PrimitiveAttrs['smoothL1']) => [a.beta, 0, 0]),
    smoothL1Backward(inputs, a, outs) {
      const [x, gy] = inputs as [In, In];
      const out = alloc(outs[0]!);
      native.smoothL1Backward(x.storage.data, gy.storage.data, out.data, a.beta);
      return [out];
    },
    silu: unary(UNARY.silu),
    leakyRelu: unary(UNARY.leakyRelu, (a: PrimitiveAttrs['leakyRelu']) => [a.slope, 0, 0]),
    elu: unary(UNARY.elu, (a: PrimitiveAttrs['elu']) => [a.alpha, 0, 0]),
    softplus: unary(UNARY.softplus, (a: PrimitiveAttrs['softplus']) => [a.beta, a.threshold, 0]),
    clamp: unary(UNARY.clamp, (a: PrimitiveAttrs['clamp']) => [
      a.min ?? 0,
      a.max ?? 0,
      (a.min !== null ? 1 : 0) | (a.max !== null ? 2 : 0),
    ]),
    floor: unary(UNARY.floor),
    ceil: unary(UNARY.ceil),
    trunc: unary(UNARY.trunc),
    round: unary(UNARY.round),
    logicalNot: unary(UNARY.logicalNot),
    cast: unary(UNARY.cast),

    add: binary(BINARY.add),
    sub: binary(BINARY.sub),
    mul: binary(BINARY.mul),
    div: binary(BINARY.div),
    pow: binary(BINARY.pow),
    maximum: binary(BINARY.maximum),
    minimum: binary(BINARY.minimum),
    remainder: binary(BINARY.remainder),
    fmod: binary(BINARY.fmod),
    eq: binary(BINARY.eq),
    ne: binary(BINARY.ne),
    lt: binary(BINARY.lt),
    le: binary(BINARY.le),
    gt: binary(BINARY.gt),
    ge: binary(BINARY.ge),
    logicalAnd: binary(BINARY.logicalAnd),
    logicalOr: binary(BINARY.logicalOr),
    logicalXor: binary(BINARY.logicalXor),
    where(inputs, _a, outs) {
      const [c, x, y] = inputs as [In, In, In];
      const shape = outs[0]!.shape;
      const out = alloc(outs[0]!);
      const g = packBroadcast(shape, [c.shape, x.shape, y.shape]);
      native.where(c.storage.data, x.storage.data, y.storage.data, out.data, g);
      return [out];
    },

    sum: reduce(REDUCE.sum),
    prod: reduce(REDUCE.prod),
    amax: reduce(REDUCE.amax),
    amin: reduce(REDUCE.amin),
    argmax: argReduce(true),
    argmin: argReduce(false),
    cumsum(inputs, a, outs) {
      const x = inputs[0]!;
      const out = alloc(outs[0]!);
      const [outer, len, inner] = around(x.shape, a.axis);
      native.cumsum(x.storage.data, out.data, outer, len, inner);
      return [out];
    },
    bmm(inputs, a, outs) {
      const [x, y] = inputs as [In, In];
      const shape = outs[0]!.shape;
      // [B, M, N], or [M, N] for a product without a batch axis
      const three = shape.length === 3;
      const B = three ? shape[0]! : 1;
      const M = shape[shape.length - 2]!;
      const N = shape[shape.length - 1]!;
      const K = x.shape[x.shape.length - (a.transA ? 2 : 1)]!;
      const out = alloc(outs[0]!);
      if (x.dtype === 'float32' || x.dtype === 'float64') {
        const g = geometry(6);
        g[0] = B;
        g[1] = M;
        g[2] = N;
        g[3] = K;
        g[4] = a.transA ? 1 : 0;
        g[5] = a.transB ? 1 : 0;
        native.bmm(x.storage.data, y.storage.data, out.data, g, inputs[2]?.storage.data);
        return [out];
      }
      return delegate('bmm')(inputs, a, outs); // integer matmul: rare, exact in the reference
    },

    reshape: (inputs) => [inputs[0]!.storage],
    permute(inputs, a, outs) {
      const strides = stridesOf(inputs[0]!.shape);
      return gatherStrided(inputs[0]!, outs[0]!, a.perm.map((p) => strides[p]!), 0);
    },
    expand(inputs, _a, outs) {
      return gatherStrided(inputs[0]!, outs[0]!, broadcastStrides(outs[0]!.shape, inputs[0]!.shape), 0);
    },
    slice(inputs, a, outs) {
      const strides = stridesOf(inputs[0]!.shape);
      const base = a.starts.reduce((acc, s, d) => acc + s * strides[d]!, 0);
      return gatherStrided(inputs[0]!, outs[0]!, a.steps.map((st, d) => st * strides[d]!), base);
    },
    sliceScatter(inputs, a, outs) {
      const g = inputs[0]!;
      const strides = stridesOf(a.inputShape);
      const base = a.starts.reduce((acc, s, d) => acc + s * strides[d]!, 0);
      const out = allocZeroed(outs[0]!); // only the slice is written
      const it = packIteration(g.shape, [a.steps.map((st, d) => st * strides[d]!)]);
      native.strided(g.storage.data, out.data, it, base, true);
      return [out];
    },
    cat(inputs, a, outs) {
      // Row copies with TypedArray.set (a memcpy inside V8).
      const out = alloc(outs[0]!);
      const [outer, total, inner] = around(outs[0]!.shape, a.axis);
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
    flip(inputs, a, outs) {
      const x = inputs[0]!;
      const strides = stridesOf(x.shape);
      let base = 0;
      const st = strides.map((s, d) => {
        if (!a.axes.includes(d) || x.shape[d] === 0) return s;
        base += (x.shape[d]! - 1) * s;
        return -s;
      });
      return gatherStrided(x, outs[0]!, st, base);
    },

    softmax: softmaxLike(false),
    logSoftmax: softmaxLike(true),
    renorm: native.renorm
      ? (inputs, a, outs) => {
          const x = inputs[0]!;
          const out = alloc(outs[0]!); // every element written (or, computed in place, kept)
          const [outer, len, inner] = around(x.shape, a.axis);
          native.renorm!(x.storage.data, out.data, outer, len, inner, a.p, a.maxnorm);
          return [out];
        }
      : delegate('renorm'), // an addon built before renorm
    conv2d(inputs, a, outs) {
      const [x, w] = inputs as [In, In];
      const out = alloc(outs[0]!); // conv.cc writes every output element, on every path
      const geometry = convGeometry(x.shape, w.shape, outs[0]!.shape, a);
      native.conv(0, x.storage.data, w.storage.data, out.data, geometry, inputs[2]?.storage.data); // optional bias
      return [out];
    },
    conv2dBackwardInput(inputs, a, outs) {
      const [gy, w] = inputs as [In, In];
      const out = alloc(outs[0]!);
      native.conv(1, gy.storage.data, w.storage.data, out.data, convGeometry(a.inputShape, w.shape, gy.shape, a));
      return [out];
    },
    conv2dBackwardWeight(inputs, a, outs) {
      const [x, gy] = inputs as [In, In];
      const out = alloc(outs[0]!);
      native.conv(2, x.storage.data, gy.storage.data, out.data, convGeometry(x.shape, a.weightShape, gy.shape, a));
      return [out];
    },
    maxPool2dIndices(inputs, a, outs) {
      const x = inputs[0]!;
      const out = alloc(outs[0]!);
      native.pool(0, x.storage.data, out.data, poolGeometry(x.shape, outs[0]!.shape, a, a.dilation, false), 0);
      return [out];
    },
    avgPool2d(inputs, a, outs) {
      const x = inputs[0]!;
      const out = alloc(outs[0]!);
      const geometry = poolGeometry(x.shape, outs[0]!.shape, a, [1, 1], a.countIncludePad);
      native.pool(1, x.storage.data, out.data, geometry, a.divisorOverride ?? 0);
      return [out];
    },
    avgPool2dBackward(inputs, a, outs) {
      const gy = inputs[0]!;
      const out = alloc(outs[0]!);
      const geometry = poolGeometry(a.inputShape, gy.shape, a, [1, 1], a.countIncludePad);
      native.pool(2, gy.storage.data, out.data, geometry, a.divisorOverride ?? 0);
      return [out];
    },

    full(_inputs, a, outs) {
      const out = alloc(outs[0]!);
      out.data.fill(a.dtype === 'bool' ? (a.value !== 0 ? 1 : 0) : a.dtype === 'int32' ? Math.trunc(a.value) | 0 : a.value);
      return [out];
    },
    randomUniform(_inputs, a, outs) {
      const out = alloc(outs[0]!);
      native.uniform(out.data, a.key[0] >>> 0, a.key[1] >>> 0, a.counter);
      return [out];
    },
    dropout: native.dropout
      ? (inputs, a, outs) => {
          const [y, keep] = outs.map(alloc) as [CpuStorage, CpuStorage]; // every element written
          native.dropout!(inputs[0]!.storage.data, y.data, keep.data, a.key[0] >>> 0, a.key[1] >>> 0, a.counter, a.p);
          return [y, keep];
        }
      : delegate('dropout'), // an addon built before dropout
    dropoutBackward: native.dropoutBackward
      ? (inputs, a, outs) => {
          const out = alloc(outs[0]!); // every element written
          native.dropoutBackward!(inputs[0]!.storage.data, inputs[1]!.storage.data, out.data, a.p);
          return [out];
        }
      : delegate('dropoutBackward'),
    randomNormal(_inputs, a, outs) {
      // Box-Muller in TypeScript: Math.log/cos/sin here are the reference's exactly, so draws are
      // bit-identical; the C++ libm could differ in the last bit.
      const out = alloc(outs[0]!);
      fillNormal(out.data, a.dtype, a.key, a.counter);
      return [out];
    },

    ...normKernels(native),
    ...rnnKernels(native),
    ...indexingKernels(native, alloc),
  };
}

function describe(native: Addon): string {
  const { isa, threads, cores } = native.info();
  const simd = isa === 'avx512' ? 'AVX-512F' : isa === 'avx2' ? 'AVX2+FMA' : 'portable C++';
  return `native C++ (N-API), sgemm micro-kernel ${simd}, ${threads} thread${threads === 1 ? '' : 's'} (${cores} cores; MILESTONES_NUM_THREADS overrides)`;
}

/** The cpu backend, or null when the native addon is not built (the reference backend then runs). */
export const cpuBackend: Backend<CpuStorage> | null =
  addon === null
    ? null
    : {
        name: 'cpu',
        describe: () => describe(addon!),
        fromValues(values: ArrayLike<number>, dtype: DType): CpuStorage {
          if (setCastsExactly(values, dtype)) {
            // every element is overwritten, so the storage need not be zeroed first
            const data = allocUninitialised(dtype, values.length);
            data.set(values);
            return wrap(data, dtype);
          }
          const r = referenceBackend.fromValues(values, dtype);
          return wrap(r.data, dtype);
        },
        read(storage: CpuStorage): HostArray {
          return storage.data.slice();
        },
        copyInto(dst: CpuStorage, src: CpuStorage): void {
          dst.data.set(src.data);
        },
        outputInto,
        openRecycling,
        closeRecycling,
        recycle,
        ...optimMethods(addon),
        kernels: kernels(addon),
      };
