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
import { type Shape, broadcastShapes, fmt, numel, reducedShape } from '../shape.js';

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
  floor: NoAttrs;
  logicalNot: NoAttrs;
  cast: { dtype: DType };
  // elementwise, two inputs, broadcasting
  add: NoAttrs;
  sub: NoAttrs;
  mul: NoAttrs;
  div: NoAttrs;
  pow: NoAttrs;
  maximum: NoAttrs;
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
  // linear algebra: [B, M, K] x [B, K, N], either operand read transposed in its last two axes
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
  conv2d: Conv2dAttrs;
  conv2dBackwardInput: Conv2dAttrs & { inputShape: number[] };
  conv2dBackwardWeight: Conv2dAttrs & { weightShape: number[] };
  maxPool2dIndices: Pool2dAttrs & { dilation: [number, number] };
  avgPool2d: AvgPool2dAttrs;
  avgPool2dBackward: AvgPool2dAttrs & { inputShape: number[] };
  adaptiveAvgPool2d: { outputSize: [number, number] };
  adaptiveAvgPool2dBackward: { inputShape: number[] };
  // creation
  full: { shape: number[]; dtype: DType; value: number };
  randomUniform: RandomAttrs;
  randomNormal: RandomAttrs;
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
  elu: unaryFloat('elu'),
  softplus: unaryFloat('softplus'),
  clamp: unaryNumeric('clamp'),
  floor: unaryNumeric('floor'),
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
      need('bmm', inputs, 2);
      const [x, y] = inputs as [Spec, Spec];
      const d = sameDType('bmm', inputs);
      if (x.shape.length !== 3 || y.shape.length !== 3 || x.shape[0] !== y.shape[0]) {
        throw new Error(`bmm: expected [B, M, K] and [B, K, N], got ${fmt(x.shape)} and ${fmt(y.shape)}`);
      }
      const [m, k1] = a.transA ? [x.shape[2]!, x.shape[1]!] : [x.shape[1]!, x.shape[2]!];
      const [k2, n] = a.transB ? [y.shape[2]!, y.shape[1]!] : [y.shape[1]!, y.shape[2]!];
      if (k1 !== k2) throw new Error(`bmm: inner dimensions differ (${k1} != ${k2})`);
      return [{ shape: [x.shape[0]!, m, n], dtype: d }];
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
  conv2d: {
    infer(inputs, a) {
      need('conv2d', inputs, 2);
      const [x, w] = inputs as [Spec, Spec];
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
  full: {
    infer(inputs, a) {
      need('full', inputs, 0);
      return [{ shape: a.shape, dtype: a.dtype }];
    },
  },
  randomUniform: random,
  randomNormal: random,
};
