/**
 * The primitive contract: every operation a backend must implement, its attributes, and the rule
 * that gives the shapes and dtypes of its outputs from those of its inputs.
 *
 * Everything else in the library (Tensor methods, nn.functional, losses) is written as a
 * composite of these. Inputs reach a primitive already validated and promoted by the tensor
 * layer, so the checks here guard the contract itself; user-facing errors are raised earlier,
 * under the public op's name.
 */
import { type DType } from '../dtype.js';
import { type Shape, broadcastShapes, fmt, numel, reducedShape, shapesEqual } from '../shape.js';

export interface Spec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

type NoAttrs = Record<string, never>;
export interface Reduce {
  axes: number[];
  keepdim: boolean;
}
export interface Conv2dAttrs {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}
export interface Pool2dAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  ceilMode: boolean;
}
export interface AvgPool2dAttrs extends Pool2dAttrs {
  countIncludePad: boolean;
  divisorOverride: number | null;
}
export interface RandomAttrs {
  shape: number[];
  dtype: DType;
  /** Philox key (two 32-bit words) and the counter at which this draw starts. */
  key: [number, number];
  counter: number;
}

/** Attributes of every primitive, by name. Adding a name here forces a kernel and a gradient rule. */
export interface PrimitiveAttrs {
  // elementwise, one input
  neg: NoAttrs;
  abs: NoAttrs;
  sign: NoAttrs;
  exp: NoAttrs;
  log: NoAttrs;
  log1p: NoAttrs;
  sqrt: NoAttrs;
  rsqrt: NoAttrs;
  sin: NoAttrs;
  cos: NoAttrs;
  tanh: NoAttrs;
  sigmoid: NoAttrs;
  erf: NoAttrs;
  relu: NoAttrs;
  gelu: NoAttrs;
  geluTanh: NoAttrs;
  silu: NoAttrs;
  leakyRelu: { slope: number };
  elu: { alpha: number };
  softplus: { beta: number; threshold: number };
  clamp: { min: number | null; max: number | null };
  /** The smooth L1 (Huber) term of x = input - target: 0.5 x^2 / beta where |x| < beta, else |x| - 0.5 beta (beta > 0). */
  smoothL1: { beta: number };
  floor: NoAttrs;
  ceil: NoAttrs;
  trunc: NoAttrs;
  /** To the nearest integer, halves to the even one (torch.round). */
  round: NoAttrs;
  logicalNot: NoAttrs;
  cast: { dtype: DType };
  // elementwise, two inputs, broadcasting
  add: NoAttrs;
  sub: NoAttrs;
  mul: NoAttrs;
  div: NoAttrs;
  pow: NoAttrs;
  maximum: NoAttrs;
  /** a - b floor(a / b): the sign of b, as Python's % and torch.remainder. */
  remainder: NoAttrs;
  /** a - b trunc(a / b): the sign of a, as C's fmod and torch.fmod. */
  fmod: NoAttrs;
  minimum: NoAttrs;
  eq: NoAttrs;
  ne: NoAttrs;
  lt: NoAttrs;
  le: NoAttrs;
  gt: NoAttrs;
  ge: NoAttrs;
  logicalAnd: NoAttrs;
  logicalOr: NoAttrs;
  logicalXor: NoAttrs;
  where: NoAttrs;
  // reductions
  sum: Reduce;
  prod: Reduce;
  amax: Reduce;
  amin: Reduce;
  argmax: { axis: number; keepdim: boolean };
  argmin: { axis: number; keepdim: boolean };
  cumsum: { axis: number };
  // linear algebra: [B, M, K] x [B, K, N] (or [M, K] x [K, N]), either operand read transposed in
  // its last two axes, plus an optional third input bias [N] added to every row (a linear layer in
  // one call)
  bmm: { transA: boolean; transB: boolean };
  // movement
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  slice: { starts: number[]; steps: number[]; shape: number[] };
  sliceScatter: { starts: number[]; steps: number[]; inputShape: number[] };
  cat: { axis: number };
  flip: { axes: number[] };
  // indexing
  gather: { axis: number };
  scatter: { axis: number };
  scatterAdd: { axis: number };
  indexSelect: { axis: number };
  indexAdd: { axis: number };
  argsort: { axis: number; descending: boolean };
  // neural-network kernels
  softmax: { axis: number };
  logSoftmax: { axis: number };
  /**
   * Each sub-tensor x.select(axis, i) scaled to p-norm at most maxnorm (torch.renorm): by
   * maxnorm / (norm + 1e-7) where its norm exceeds maxnorm, else left as it is. p finite, > 0.
   */
  renorm: { p: number; axis: number; maxnorm: number };
  conv2d: Conv2dAttrs; // inputs x, w and an optional bias [O]
  conv2dBackwardInput: Conv2dAttrs & { inputShape: number[] };
  conv2dBackwardWeight: Conv2dAttrs & { weightShape: number[] };
  maxPool2dIndices: Pool2dAttrs & { dilation: [number, number] };
  avgPool2d: AvgPool2dAttrs;
  avgPool2dBackward: AvgPool2dAttrs & { inputShape: number[] };
  adaptiveAvgPool2d: { outputSize: [number, number] };
  adaptiveAvgPool2dBackward: { inputShape: number[] };
  // normalisation, fused (the rules in src/autograd/rules.ts say what each computes)
  /** (x [N, C, ...], weight [C], bias [C]) -> (y, mean [C], invstd [C]) over the batch statistics. */
  batchNorm: { eps: number };
  /** (gy, x, mean, invstd, weight) -> (gx, gweight, gbias). */
  batchNormBackward: NoAttrs;
  /** (x, weight, bias) -> (y, mean, rstd), statistics over the trailing normalizedShape, kept as size-1 dims. */
  layerNorm: { normalizedShape: number[]; eps: number };
  /** (gy, x, mean, rstd, weight) -> (gx, gweight, gbias). */
  layerNormBackward: { normalizedShape: number[] };
  /** (y, gy) -> y * (gy - sum(gy * y)), y = softmax(x) along axis. */
  softmaxBackward: { axis: number };
  /** (y, gy) -> gy - exp(y) * sum(gy), y = logSoftmax(x) along axis. */
  logSoftmaxBackward: { axis: number };
  /** (x, gy) -> gy * d/dx geluTanh(x): GELU's tanh form, differentiated in one pass. */
  geluTanhBackward: NoAttrs;
  /** (y, gy) -> gy where y > 0, else 0 (y = relu(x)): ReLU's gradient in one pass. */
  reluBackward: NoAttrs;
  /** (x, gy) -> gy * clamp(x / beta, -1, 1): smoothL1's gradient in one pass. */
  smoothL1Backward: { beta: number };
  // creation
  full: { shape: number[]; dtype: DType; value: number };
  randomUniform: RandomAttrs;
  /**
   * x -> (y, keep): inverted dropout in one pass. keep = u >= p for u the uniform draw of x's
   * dtype and shape at (key, counter) (the draw rand would make there), y = keep ? x / (1 - p) : 0,
   * with p and 1 - p rounded to x's dtype: what rand(...).ge(p) and where(keep, x.div(1 - p), 0) give.
   */
  dropout: { p: number; key: [number, number]; counter: number };
  /** (g, keep) -> keep ? g / (1 - p) : 0, 1 - p rounded to g's dtype: dropout's gradient in one pass. */
  dropoutBackward: { p: number };
  randomNormal: RandomAttrs;
  // recurrent layers, fused over a whole sequence (src/autograd/rnn-rules.ts says what each computes)
  /** (xGates [T, N, 4H], wHh [4H, H], h0 [N, H], c0 [N, H]) -> (h [T, N, H], c [T, N, H], gates [T, N, 4H]). */
  lstmSequence: { reverse: boolean };
  /** (xGates, wHh, h0, c0, gh [T, N, H], gc [T, N, H], c, gates) -> (gxGates [T, N, 4H], gh0 [N, H], gc0 [N, H]). */
  lstmSequenceBackward: { reverse: boolean };
  /** (xGates [T, N, 3H], wHh [3H, H], bHh [3H], h0 [N, H]) -> (h [T, N, H], gates [T, N, 3H], hn [T, N, H]). */
  gruSequence: { reverse: boolean };
  /** (xGates, wHh, bHh, h0, gh [T, N, H], h, gates, hn) -> (gxGates [T, N, 3H], ghGates [T, N, 3H], gh0 [N, H]). */
  gruSequenceBackward: { reverse: boolean };
}

export type PrimitiveName = keyof PrimitiveAttrs;

export interface PrimitiveDef<K extends PrimitiveName> {
  /** Output shapes and dtypes; throws when the inputs break the contract. */
  infer(inputs: readonly Spec[], attrs: PrimitiveAttrs[K]): Spec[];
  /** True when the output shares the input's storage (a view). */
  view?: boolean;
}

function need(name: string, inputs: readonly Spec[], n: number): void {
  if (inputs.length !== n) throw new Error(`${name}: expected ${n} inputs, got ${inputs.length}`);
}

function needBetween(name: string, inputs: readonly Spec[], lo: number, hi: number): void {
  if (inputs.length < lo || inputs.length > hi) throw new Error(`${name}: expected ${lo} to ${hi} inputs, got ${inputs.length}`);
}

function sameDType(name: string, inputs: readonly Spec[]): DType {
  const d = inputs[0]!.dtype;
  for (const s of inputs) {
    if (s.dtype !== d) throw new Error(`${name}: dtypes differ (${inputs.map((x) => x.dtype).join(', ')})`);
  }
  return d;
}

function floatOnly(name: string, s: Spec): void {
  if (s.dtype !== 'float32' && s.dtype !== 'float64') {
    throw new Error(`${name}: expected a floating-point tensor, got ${s.dtype}`);
  }
}

const unaryFloat = (name: string): PrimitiveDef<any> => ({
  infer(inputs) {
    need(name, inputs, 1);
    floatOnly(name, inputs[0]!);
    return [inputs[0]!];
  },
});

const unaryNumeric = (name: string): PrimitiveDef<any> => ({
  infer(inputs) {
    need(name, inputs, 1);
    if (inputs[0]!.dtype === 'bool') throw new Error(`${name}: not defined for bool tensors`);
    return [inputs[0]!];
  },
});

const binary = (name: string, out?: DType): PrimitiveDef<any> => ({
  infer(inputs) {
    need(name, inputs, 2);
    const d = sameDType(name, inputs);
    return [{ shape: broadcastShapes(name, inputs[0]!.shape, inputs[1]!.shape), dtype: out ?? d }];
  },
});

const reduce = (name: string, outDType?: (d: DType) => DType): PrimitiveDef<any> => ({
  infer(inputs, a: Reduce) {
    need(name, inputs, 1);
    const x = inputs[0]!;
    return [{ shape: reducedShape(x.shape, a.axes, a.keepdim), dtype: outDType ? outDType(x.dtype) : x.dtype }];
  },
});

const argReduce = (name: string): PrimitiveDef<any> => ({
  infer(inputs, a: { axis: number; keepdim: boolean }) {
    need(name, inputs, 1);
    const x = inputs[0]!;
    if (x.shape.length > 0 && x.shape[a.axis] === 0) throw new Error(`${name}: cannot reduce an empty dimension`);
    return [{ shape: reducedShape(x.shape, x.shape.length ? [a.axis] : [], a.keepdim), dtype: 'int32' }];
  },
});

/** Output spatial size of a convolution or pooling window along one axis. */
export function windowOut(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation: number,
  ceilMode = false,
): number {
  const span = dilation * (kernel - 1) + 1;
  const num = size + 2 * padding - span;
  if (!ceilMode) return Math.floor(num / stride) + 1;
  let out = Math.ceil(num / stride) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if ((out - 1) * stride >= size + padding) out--;
  return out;
}

function conv2dOut(x: Shape, w: Shape, a: Conv2dAttrs): number[] {
  const ho = windowOut(x[2]!, w[2]!, a.stride[0], a.padding[0], a.dilation[0]);
  const wo = windowOut(x[3]!, w[3]!, a.stride[1], a.padding[1], a.dilation[1]);
  return [x[0]!, w[0]!, ho, wo];
}

function poolOut(x: Shape, a: Pool2dAttrs, dilation: [number, number] = [1, 1]): number[] {
  const ho = windowOut(x[2]!, a.kernel[0], a.stride[0], a.padding[0], dilation[0], a.ceilMode);
  const wo = windowOut(x[3]!, a.kernel[1], a.stride[1], a.padding[1], dilation[1], a.ceilMode);
  return [x[0]!, x[1]!, ho, wo];
}

const random: PrimitiveDef<any> = {
  infer(inputs, a) {
    need('random', inputs, 0);
    return [{ shape: a.shape, dtype: a.dtype }];
  },
};

/** Checks that every tensor of `perC` is [C] for an input [N, C, ...]. */
function perChannel(name: string, x: Spec, perC: readonly Spec[]): void {
  if (x.shape.length < 2) throw new Error(`${name}: expected an input [N, C, ...], got ${fmt(x.shape)}`);
  for (const s of perC) {
    if (s.shape.length !== 1 || s.shape[0] !== x.shape[1]) {
      throw new Error(`${name}: expected per-channel tensors of shape [${x.shape[1]}], got ${fmt(s.shape)}`);
    }
  }
}

/** The shape of layer norm's mean and rstd: x's leading dimensions, then a 1 per normalised one. */
function layerNormStatShape(name: string, x: Spec, normalized: readonly number[], affine: readonly Spec[]): number[] {
  const lead = x.shape.length - normalized.length;
  if (normalized.length === 0 || lead < 0 || normalized.some((d, i) => x.shape[lead + i] !== d)) {
    throw new Error(`${name}: input ${fmt(x.shape)} does not end in the normalized shape ${fmt(normalized)}`);
  }
  for (const s of affine) {
    if (!shapesEqual(s.shape, normalized)) {
      throw new Error(`${name}: weight and bias must have the normalized shape ${fmt(normalized)}, got ${fmt(s.shape)}`);
    }
  }
  return x.shape.map((d, i) => (i < lead ? d : 1));
}

/** softmaxBackward(y, gy) and logSoftmaxBackward(y, gy): the input gradient, shaped like y. */
function softmaxBackwardDef(name: string): PrimitiveDef<'softmaxBackward' | 'logSoftmaxBackward'> {
  return {
    infer(inputs) {
      need(name, inputs, 2);
      const [y, gy] = inputs as [Spec, Spec];
      floatOnly(name, y);
      const d = sameDType(name, inputs);
      if (!shapesEqual(y.shape, gy.shape)) throw new Error(`${name}: output ${fmt(y.shape)} and gradient ${fmt(gy.shape)} differ`);
      return [{ shape: y.shape, dtype: d }];
    },
  };
}

/** geluTanhBackward(x, gy), reluBackward(y, gy), smoothL1Backward(x, gy): an input gradient, shaped like x. */
function activationBackwardDef<K extends 'geluTanhBackward' | 'reluBackward' | 'smoothL1Backward'>(name: K): PrimitiveDef<K> {
  return {
    infer(inputs) {
      need(name, inputs, 2);
      const [x, gy] = inputs as [Spec, Spec];
      floatOnly(name, x);
      const d = sameDType(name, inputs);
      if (!shapesEqual(x.shape, gy.shape)) throw new Error(`${name}: input ${fmt(x.shape)} and gradient ${fmt(gy.shape)} differ`);
      return [{ shape: x.shape, dtype: d }];
    },
  };
}

export const PRIMITIVES: { [K in PrimitiveName]: PrimitiveDef<K> } = {
  neg: unaryNumeric('neg'),
  abs: unaryNumeric('abs'),
  sign: unaryNumeric('sign'),
  exp: unaryFloat('exp'),
  log: unaryFloat('log'),
  log1p: unaryFloat('log1p'),
  sqrt: unaryFloat('sqrt'),
  rsqrt: unaryFloat('rsqrt'),
  sin: unaryFloat('sin'),
  cos: unaryFloat('cos'),
  tanh: unaryFloat('tanh'),
  sigmoid: unaryFloat('sigmoid'),
  erf: unaryFloat('erf'),
  relu: unaryNumeric('relu'),
  gelu: unaryFloat('gelu'),
  geluTanh: unaryFloat('geluTanh'),
  silu: unaryFloat('silu'),
  leakyRelu: unaryFloat('leakyRelu'),
  smoothL1: unaryFloat('smoothL1'),
  elu: unaryFloat('elu'),
  softplus: unaryFloat('softplus'),
  clamp: unaryNumeric('clamp'),
  floor: unaryNumeric('floor'),
  ceil: unaryNumeric('ceil'),
  trunc: unaryNumeric('trunc'),
  round: unaryNumeric('round'),
  logicalNot: {
    infer(inputs) {
      need('logicalNot', inputs, 1);
      return [{ shape: inputs[0]!.shape, dtype: 'bool' }];
    },
  },
  cast: {
    infer(inputs, a) {
      need('cast', inputs, 1);
      return [{ shape: inputs[0]!.shape, dtype: a.dtype }];
    },
  },
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  pow: binary('pow'),
  maximum: binary('maximum'),
  remainder: binary('remainder'),
  fmod: binary('fmod'),
  minimum: binary('minimum'),
  eq: binary('eq', 'bool'),
  ne: binary('ne', 'bool'),
  lt: binary('lt', 'bool'),
  le: binary('le', 'bool'),
  gt: binary('gt', 'bool'),
  ge: binary('ge', 'bool'),
  logicalAnd: binary('logicalAnd', 'bool'),
  logicalOr: binary('logicalOr', 'bool'),
  logicalXor: binary('logicalXor', 'bool'),
  where: {
    infer(inputs) {
      need('where', inputs, 3);
      if (inputs[0]!.dtype !== 'bool') throw new Error(`where: condition must be bool, got ${inputs[0]!.dtype}`);
      const d = sameDType('where', inputs.slice(1));
      return [{ shape: broadcastShapes('where', ...inputs.map((s) => s.shape)), dtype: d }];
    },
  },
  sum: reduce('sum', (d) => (d === 'bool' ? 'int32' : d)),
  prod: reduce('prod', (d) => (d === 'bool' ? 'int32' : d)),
  amax: reduce('amax'),
  amin: reduce('amin'),
  argmax: argReduce('argmax'),
  argmin: argReduce('argmin'),
  cumsum: {
    infer(inputs) {
      need('cumsum', inputs, 1);
      const x = inputs[0]!;
      return [{ shape: x.shape, dtype: x.dtype === 'bool' ? 'int32' : x.dtype }];
    },
  },
  bmm: {
    infer(inputs, a) {
      needBetween('bmm', inputs, 2, 3);
      const [x, y, bias] = inputs as [Spec, Spec, Spec | undefined];
      const d = sameDType('bmm', inputs);
      // [B, M, K] x [B, K, N], or one product without a batch axis ([M, K] x [K, N]: a linear layer)
      const r = x.shape.length;
      if ((r !== 3 && r !== 2) || y.shape.length !== r || (r === 3 && x.shape[0] !== y.shape[0])) {
        throw new Error(`bmm: expected [B, M, K] and [B, K, N] (or [M, K] and [K, N]), got ${fmt(x.shape)} and ${fmt(y.shape)}`);
      }
      const [m, k1] = a.transA ? [x.shape[r - 1]!, x.shape[r - 2]!] : [x.shape[r - 2]!, x.shape[r - 1]!];
      const [k2, n] = a.transB ? [y.shape[r - 1]!, y.shape[r - 2]!] : [y.shape[r - 2]!, y.shape[r - 1]!];
      if (k1 !== k2) throw new Error(`bmm: inner dimensions differ (${k1} != ${k2})`);
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) throw new Error(`bmm: bias must be [${n}], got ${fmt(bias.shape)}`);
      return [{ shape: r === 3 ? [x.shape[0]!, m, n] : [m, n], dtype: d }];
    },
  },
  reshape: {
    view: true,
    infer(inputs, a) {
      need('reshape', inputs, 1);
      if (numel(a.shape) !== numel(inputs[0]!.shape)) {
        throw new Error(`reshape: cannot view ${fmt(inputs[0]!.shape)} as ${fmt(a.shape)}`);
      }
      return [{ shape: a.shape, dtype: inputs[0]!.dtype }];
    },
  },
  permute: {
    infer(inputs, a) {
      need('permute', inputs, 1);
      const x = inputs[0]!;
      return [{ shape: a.perm.map((p) => x.shape[p]!), dtype: x.dtype }];
    },
  },
  expand: {
    infer(inputs, a) {
      need('expand', inputs, 1);
      const x = inputs[0]!;
      const b = broadcastShapes('expand', x.shape, a.shape);
      if (b.length !== a.shape.length || b.some((d, i) => d !== a.shape[i])) {
        throw new Error(`expand: cannot expand ${fmt(x.shape)} to ${fmt(a.shape)}`);
      }
      return [{ shape: a.shape, dtype: x.dtype }];
    },
  },
  slice: {
    infer(inputs, a) {
      need('slice', inputs, 1);
      return [{ shape: a.shape, dtype: inputs[0]!.dtype }];
    },
  },
  sliceScatter: {
    infer(inputs, a) {
      need('sliceScatter', inputs, 1);
      return [{ shape: a.inputShape, dtype: inputs[0]!.dtype }];
    },
  },
  cat: {
    infer(inputs, a) {
      if (inputs.length === 0) throw new Error('cat: expected at least one tensor');
      const d = sameDType('cat', inputs);
      const first = inputs[0]!.shape;
      let total = 0;
      for (const s of inputs) {
        if (s.shape.length !== first.length || s.shape.some((v, i) => i !== a.axis && v !== first[i])) {
          throw new Error(`cat: shapes ${inputs.map((x) => fmt(x.shape)).join(', ')} differ outside dimension ${a.axis}`);
        }
        total += s.shape[a.axis]!;
      }
      const shape = [...first];
      shape[a.axis] = total;
      return [{ shape, dtype: d }];
    },
  },
  flip: {
    infer(inputs) {
      need('flip', inputs, 1);
      return [inputs[0]!];
    },
  },
  gather: {
    infer(inputs) {
      need('gather', inputs, 2);
      return [{ shape: inputs[1]!.shape, dtype: inputs[0]!.dtype }];
    },
  },
  scatter: {
    infer(inputs) {
      need('scatter', inputs, 3);
      return [inputs[0]!];
    },
  },
  scatterAdd: {
    infer(inputs) {
      need('scatterAdd', inputs, 3);
      return [inputs[0]!];
    },
  },
  indexSelect: {
    infer(inputs, a) {
      need('indexSelect', inputs, 2);
      const shape = [...inputs[0]!.shape];
      shape[a.axis] = inputs[1]!.shape[0]!;
      return [{ shape, dtype: inputs[0]!.dtype }];
    },
  },
  indexAdd: {
    infer(inputs) {
      need('indexAdd', inputs, 3);
      return [inputs[0]!];
    },
  },
  argsort: {
    infer(inputs) {
      need('argsort', inputs, 1);
      return [{ shape: inputs[0]!.shape, dtype: 'int32' }];
    },
  },
  softmax: unaryFloat('softmax'),
  logSoftmax: unaryFloat('logSoftmax'),
  renorm: {
    infer(inputs, a) {
      need('renorm', inputs, 1);
      floatOnly('renorm', inputs[0]!);
      const rank = inputs[0]!.shape.length;
      if (rank < 2 || a.axis < 0 || a.axis >= rank) throw new Error(`renorm: axis ${a.axis} of a rank-${rank} input (rank 2 or more)`);
      if (!(a.p > 0 && Number.isFinite(a.p)) || !(a.maxnorm >= 0)) throw new Error(`renorm: p ${a.p} and maxnorm ${a.maxnorm}`);
      return [inputs[0]!];
    },
  },
  conv2d: {
    infer(inputs, a) {
      needBetween('conv2d', inputs, 2, 3);
      const [x, w, bias] = inputs as [Spec, Spec, Spec | undefined];
      const O = w.shape[0]!;
      if (bias && (bias.shape.length !== 1 || bias.shape[0] !== O)) throw new Error(`conv2d: bias must be [${O}], got ${fmt(bias.shape)}`);
      return [{ shape: conv2dOut(x.shape, w.shape, a), dtype: sameDType('conv2d', inputs) }];
    },
  },
  conv2dBackwardInput: {
    infer(inputs, a) {
      need('conv2dBackwardInput', inputs, 2);
      return [{ shape: a.inputShape, dtype: sameDType('conv2dBackwardInput', inputs) }];
    },
  },
  conv2dBackwardWeight: {
    infer(inputs, a) {
      need('conv2dBackwardWeight', inputs, 2);
      return [{ shape: a.weightShape, dtype: sameDType('conv2dBackwardWeight', inputs) }];
    },
  },
  maxPool2dIndices: {
    infer(inputs, a) {
      need('maxPool2dIndices', inputs, 1);
      return [{ shape: poolOut(inputs[0]!.shape, a, a.dilation), dtype: 'int32' }];
    },
  },
  avgPool2d: {
    infer(inputs, a) {
      need('avgPool2d', inputs, 1);
      return [{ shape: poolOut(inputs[0]!.shape, a), dtype: inputs[0]!.dtype }];
    },
  },
  avgPool2dBackward: {
    infer(inputs, a) {
      need('avgPool2dBackward', inputs, 1);
      return [{ shape: a.inputShape, dtype: inputs[0]!.dtype }];
    },
  },
  adaptiveAvgPool2d: {
    infer(inputs, a) {
      need('adaptiveAvgPool2d', inputs, 1);
      const x = inputs[0]!;
      return [{ shape: [x.shape[0]!, x.shape[1]!, a.outputSize[0], a.outputSize[1]], dtype: x.dtype }];
    },
  },
  adaptiveAvgPool2dBackward: {
    infer(inputs, a) {
      need('adaptiveAvgPool2dBackward', inputs, 1);
      return [{ shape: a.inputShape, dtype: inputs[0]!.dtype }];
    },
  },
  batchNorm: {
    infer(inputs) {
      need('batchNorm', inputs, 3);
      const [x, w, b] = inputs as [Spec, Spec, Spec];
      floatOnly('batchNorm', x);
      const d = sameDType('batchNorm', inputs);
      perChannel('batchNorm', x, [w, b]);
      const stat = { shape: [x.shape[1]!], dtype: d };
      return [x, stat, stat];
    },
  },
  batchNormBackward: {
    infer(inputs) {
      need('batchNormBackward', inputs, 5);
      const [gy, x, mean, invstd, w] = inputs as [Spec, Spec, Spec, Spec, Spec];
      floatOnly('batchNormBackward', x);
      const d = sameDType('batchNormBackward', inputs);
      if (!shapesEqual(gy.shape, x.shape)) {
        throw new Error(`batchNormBackward: gradient ${fmt(gy.shape)} and input ${fmt(x.shape)} differ`);
      }
      perChannel('batchNormBackward', x, [mean, invstd, w]);
      return [x, w, w].map((s) => ({ shape: s.shape, dtype: d }));
    },
  },
  layerNorm: {
    infer(inputs, a) {
      need('layerNorm', inputs, 3);
      const [x, w, b] = inputs as [Spec, Spec, Spec];
      floatOnly('layerNorm', x);
      const d = sameDType('layerNorm', inputs);
      const stat = { shape: layerNormStatShape('layerNorm', x, a.normalizedShape, [w, b]), dtype: d };
      return [x, stat, stat];
    },
  },
  layerNormBackward: {
    infer(inputs, a) {
      need('layerNormBackward', inputs, 5);
      const [gy, x, mean, rstd, w] = inputs as [Spec, Spec, Spec, Spec, Spec];
      floatOnly('layerNormBackward', x);
      const d = sameDType('layerNormBackward', inputs);
      const stat = layerNormStatShape('layerNormBackward', x, a.normalizedShape, [w]);
      if (!shapesEqual(gy.shape, x.shape) || !shapesEqual(mean.shape, stat) || !shapesEqual(rstd.shape, stat)) {
        throw new Error(
          `layerNormBackward: expected gradient ${fmt(x.shape)} and statistics ${fmt(stat)}, ` +
            `got ${fmt(gy.shape)}, ${fmt(mean.shape)} and ${fmt(rstd.shape)}`,
        );
      }
      return [x, w, w].map((s) => ({ shape: s.shape, dtype: d }));
    },
  },
  softmaxBackward: softmaxBackwardDef('softmaxBackward'),
  logSoftmaxBackward: softmaxBackwardDef('logSoftmaxBackward'),
  geluTanhBackward: activationBackwardDef('geluTanhBackward'),
  reluBackward: activationBackwardDef('reluBackward'),
  smoothL1Backward: activationBackwardDef('smoothL1Backward'),
  full: {
    infer(inputs, a) {
      need('full', inputs, 0);
      return [{ shape: a.shape, dtype: a.dtype }];
    },
  },
  randomUniform: random,
  dropout: {
    infer(inputs, a) {
      need('dropout', inputs, 1);
      floatOnly('dropout', inputs[0]!);
      if (!(a.p > 0 && a.p < 1)) throw new Error(`dropout: p must be in (0, 1), got ${a.p}`);
      return [inputs[0]!, { shape: inputs[0]!.shape, dtype: 'bool' }];
    },
  },
  dropoutBackward: {
    infer(inputs) {
      need('dropoutBackward', inputs, 2);
      floatOnly('dropoutBackward', inputs[0]!);
      const [g, keep] = inputs as [Spec, Spec];
      if (keep.dtype !== 'bool' || !shapesEqual(g.shape, keep.shape)) {
        throw new Error(`dropoutBackward: keep must be a bool ${fmt(g.shape)}, got ${keep.dtype} ${fmt(keep.shape)}`);
      }
      return [g];
    },
  },
  randomNormal: random,
  lstmSequence: {
    infer(inputs) {
      need('lstmSequence', inputs, 4);
      const { T, N, H, d } = recurrentSizes('lstmSequence', inputs, 4, 2);
      return [[T, N, H], [T, N, H], [T, N, 4 * H]].map((shape) => ({ shape, dtype: d }));
    },
  },
  lstmSequenceBackward: {
    infer(inputs) {
      need('lstmSequenceBackward', inputs, 8);
      const { T, N, H, d } = recurrentSizes('lstmSequenceBackward', inputs, 4, 2);
      sequenceShapes('lstmSequenceBackward', inputs.slice(4), [[T, N, H], [T, N, H], [T, N, H], [T, N, 4 * H]]);
      return [[T, N, 4 * H], [N, H], [N, H]].map((shape) => ({ shape, dtype: d }));
    },
  },
  gruSequence: {
    infer(inputs) {
      need('gruSequence', inputs, 4);
      const { T, N, H, d } = recurrentSizes('gruSequence', inputs, 3, 3);
      return [[T, N, H], [T, N, 3 * H], [T, N, H]].map((shape) => ({ shape, dtype: d }));
    },
  },
  gruSequenceBackward: {
    infer(inputs) {
      need('gruSequenceBackward', inputs, 8);
      const { T, N, H, d } = recurrentSizes('gruSequenceBackward', inputs, 3, 3);
      sequenceShapes('gruSequenceBackward', inputs.slice(4), [[T, N, H], [T, N, H], [T, N, 3 * H], [T, N, H]]);
      return [[T, N, 3 * H], [T, N, 3 * H], [N, H]].map((shape) => ({ shape, dtype: d }));
    },
  },
};

/**
 * The sizes of a fused recurrent primitive from its leading inputs: xGates [T, N, G * H] and
 * wHh [G * H, H], then (GRU only) bHh [G * H], then h0 (and c0) [N, H], where `state` is the
 * index of h0. All inputs must share one floating dtype.
 */
function recurrentSizes(name: string, inputs: readonly Spec[], G: number, state: number): { T: number; N: number; H: number; d: DType } {
  const [x, w] = inputs as [Spec, Spec];
  floatOnly(name, x);
  const d = sameDType(name, inputs);
  const H = w.shape[1] ?? -1;
  const ok =
    x.shape.length === 3 &&
    w.shape.length === 2 &&
    w.shape[0] === G * H &&
    x.shape[2] === G * H &&
    (state === 2 || shapesEqual(inputs[2]!.shape, [G * H])) &&
    inputs.slice(state, 4).every((s) => shapesEqual(s.shape, [x.shape[1]!, H]));
  if (!ok) {
    throw new Error(
      `${name}: expected xGates [T, N, ${G}H], wHh [${G}H, H]${state === 3 ? `, bHh [${G}H]` : ''} and states [N, H], ` +
        `got ${inputs.slice(0, 4).map((s) => fmt(s.shape)).join(', ')}`,
    );
  }
  return { T: x.shape[0]!, N: x.shape[1]!, H, d };
}

/** Checks the gradient and saved inputs of a fused recurrent backward primitive against their shapes. */
function sequenceShapes(name: string, inputs: readonly Spec[], shapes: readonly number[][]): void {
  inputs.forEach((s, i) => {
    if (!shapesEqual(s.shape, shapes[i]!)) throw new Error(`${name}: input ${i + 4} should be ${fmt(shapes[i]!)}, got ${fmt(s.shape)}`);
  });
}
