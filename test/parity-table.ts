/**
 * The ops of tools/reference/make_op_fixtures.py, written with the public API. Each entry takes the
 * fixture's inputs (in order) and its `args`, and returns the op's output or outputs. Shared by the
 * PyTorch parity test (float32) and the gradcheck test (float64, same shapes).
 */
import { readFileSync } from 'node:fs';
import { Tensor, tensor, pow, cat, stack, grad, nn, type DType } from '../src/index.js';

const F = nn.functional;

/** Args as the fixture stores them (JSON). */
export type Args = Record<string, any>;
export type OpFn = (x: Tensor[], a: Args) => Tensor | Tensor[];

export interface FixtureTensor {
  shape: number[];
  dtype: DType;
  data: (number | string)[];
  grad?: boolean;
}

export interface FixtureCase {
  name: string;
  op: string;
  args: Args;
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
  weights: ((number | string)[] | null)[];
  grads: ((number | string)[] | null)[];
}

/** Reads test/fixtures/<file> relative to the repository root (tests run from dist-x/test/). */
export function readFixture<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/${file}`, import.meta.url), 'utf8')) as T;
}

/** JSON numbers, with non-finite values spelled 'inf', '-inf', 'nan' by Python. */
export function num(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return NaN;
}

/** A fixture tensor as a milestones tensor; float inputs in `floatDType`, leaves that need grad marked. */
export function fromFixture(t: FixtureTensor, floatDType: DType = 'float32', requiresGrad = t.grad ?? false): Tensor {
  const dtype = t.dtype === 'float32' ? floatDType : t.dtype;
  return tensor(t.data.map(num), { shape: t.shape, dtype, requiresGrad });
}

const opt = <T>(x: T | undefined): T | null => (x === undefined ? null : x);

export const OPS: Record<string, OpFn> = {
  neg: ([x]) => x!.neg(),
  exp: ([x]) => x!.exp(),
  log: ([x]) => x!.log(),
  log1p: ([x]) => x!.log1p(),
  sqrt: ([x]) => x!.sqrt(),
  rsqrt: ([x]) => x!.rsqrt(),
  abs: ([x]) => x!.abs(),
  sign: ([x]) => x!.sign(),
  sin: ([x]) => x!.sin(),
  cos: ([x]) => x!.cos(),
  tanh: ([x]) => x!.tanh(),
  sigmoid: ([x]) => x!.sigmoid(),
  erf: ([x]) => x!.erf(),
  relu: ([x]) => F.relu(x!),
  leakyRelu: ([x], a) => F.leakyRelu(x!, a.slope),
  elu: ([x], a) => F.elu(x!, a.alpha),
  gelu: ([x]) => F.gelu(x!),
  geluTanh: ([x]) => F.gelu(x!, 'tanh'),
  silu: ([x]) => F.silu(x!),
  softplus: ([x], a) => F.softplus(x!, a.beta, a.threshold),
  clamp: ([x], a) => x!.clamp(a.min, a.max),
  square: ([x]) => x!.square(),
  reciprocal: ([x]) => x!.reciprocal(),
  floor: ([x]) => x!.floor(),
  ceil: ([x]) => x!.ceil(),
  trunc: ([x]) => x!.trunc(),
  round: ([x]) => x!.round(),

  add: ([a, b]) => a!.add(b!),
  addAlpha: ([a, b]) => a!.add(b!, 2.5),
  sub: ([a, b]) => a!.sub(b!),
  mul: ([a, b]) => a!.mul(b!),
  div: ([a, b]) => a!.div(b!),
  pow: ([a, b]) => a!.pow(b!),
  powScalar: ([a], o) => a!.pow(o.p),
  rpowScalar: ([a]) => a!.mul(0).add(pow(2, a!)),
  addScalar: ([a]) => a!.add(1.5),
  maximum: ([a, b]) => a!.maximum(b!),
  minimum: ([a, b]) => a!.minimum(b!),
  remainder: ([a, b]) => a!.remainder(b!),
  fmod: ([a, b]) => a!.fmod(b!),
  where: ([c, a, b]) => a!.where(c!, b!),
  eq: ([a, b]) => a!.eq(b!),
  ne: ([a, b]) => a!.ne(b!),
  lt: ([a, b]) => a!.lt(b!),
  le: ([a, b]) => a!.le(b!),
  gt: ([a, b]) => a!.gt(b!),
  ge: ([a, b]) => a!.ge(b!),
  logicalAnd: ([a, b]) => a!.logicalAnd(b!),
  logicalOr: ([a, b]) => a!.logicalOr(b!),
  logicalXor: ([a, b]) => a!.logicalXor(b!),
  logicalNot: ([a]) => a!.logicalNot(),
  maskedFill: ([x, m], a) => x!.maskedFill(m!, a.value),

  sum: ([x], a) => x!.sum(a.dim, a.keepdim),
  mean: ([x], a) => x!.mean(a.dim, a.keepdim),
  var: ([x], a) => x!.var(a.dim, { correction: a.correction, keepdim: a.keepdim }),
  std: ([x], a) => x!.std(a.dim, { correction: a.correction, keepdim: a.keepdim }),
  prod: ([x], a) => x!.prod(a.dim, a.keepdim),
  amax: ([x], a) => x!.amax(a.dim, a.keepdim),
  amin: ([x], a) => x!.amin(a.dim, a.keepdim),
  maxAll: ([x]) => x!.max(),
  minAll: ([x]) => x!.min(),
  maxDim: ([x], a) => {
    const r = x!.max(a.dim, a.keepdim);
    return [r.values, r.indices];
  },
  minDim: ([x], a) => {
    const r = x!.min(a.dim, a.keepdim);
    return [r.values, r.indices];
  },
  argmax: ([x], a) => x!.argmax(a.dim, a.keepdim),
  argmin: ([x], a) => x!.argmin(a.dim, a.keepdim),
  logsumexp: ([x], a) => x!.logsumexp(a.dim, a.keepdim),
  norm: ([x], a) => x!.norm(num(a.p), a.dim, a.keepdim),
  cumsum: ([x], a) => x!.cumsum(a.dim),
  renorm: ([x], a) => x!.renorm(a.p, a.dim, a.maxnorm),

  matmul: ([a, b]) => a!.matmul(b!),
  linear: ([x, w, b]) => F.linear(x!, w!, b),

  reshape: ([x], a) => x!.reshape(a.shape),
  view: ([x], a) => x!.view(a.shape),
  permute: ([x], a) => x!.permute(a.dims),
  transpose: ([x], a) => x!.transpose(a.d0, a.d1),
  mT: ([x]) => x!.mT,
  T: ([x]) => x!.T,
  expand: ([x], a) => x!.expand(a.shape),
  squeeze: ([x], a) => x!.squeeze(a.dim),
  unsqueeze: ([x], a) => x!.unsqueeze(a.dim),
  flatten: ([x], a) => x!.flatten(a.start, a.end),
  cat: (xs, a) => cat(xs, a.dim),
  stack: (xs, a) => stack(xs, a.dim),
  split: ([x], a) => x!.split(a.size, a.dim),
  chunk: ([x], a) => x!.chunk(a.chunks, a.dim),
  slice: ([x], a) => x!.slice(...a.spec),
  narrow: ([x], a) => x!.narrow(a.dim, a.start, a.length),
  select: ([x], a) => x!.select(a.dim, a.index),
  pad: ([x], a) => F.pad(x!, a.pads, a.mode, a.value ?? 0),
  flip: ([x], a) => x!.flip(a.dims),
  repeat: ([x], a) => x!.repeat(a.repeats),
  tril: ([x], a) => x!.tril(a.diagonal),
  triu: ([x], a) => x!.triu(a.diagonal),

  indexSelect: ([x, i], a) => x!.indexSelect(a.dim, i!),
  gather: ([x, i], a) => x!.gather(a.dim, i!),
  scatter: ([x, i, s], a) => x!.scatter(a.dim, i!, s!),
  scatterAdd: ([x, i, s], a) => x!.scatterAdd(a.dim, i!, s!),
  embedding: ([i, w]) => F.embedding(i!, w!),
  oneHot: ([i], a) => F.oneHot(i!, a.n),
  topk: ([x], a) => {
    const r = x!.topk(a.k, a.dim, a.largest);
    return [r.values, r.indices];
  },
  sort: ([x], a) => {
    const r = x!.sort(a.dim, a.descending);
    return [r.values, r.indices];
  },
  argsort: ([x], a) => x!.argsort(a.dim, a.descending),

  softmax: ([x], a) => F.softmax(x!, a.dim),
  logSoftmax: ([x], a) => F.logSoftmax(x!, a.dim),
  conv1d: ([x, w, b], a) => F.conv1d(x!, w!, b, a),
  conv2d: ([x, w, b], a) => F.conv2d(x!, w!, b, a),
  convTranspose2d: ([x, w, b], a) =>
    F.convTranspose2d(x!, w!, b, {
      stride: a.stride,
      padding: a.padding,
      outputPadding: a.output_padding,
      dilation: a.dilation,
      groups: a.groups,
    }),
  maxPool2d: ([x], a) => {
    const r = F.maxPool2dWithIndices(x!, a.k, { stride: a.stride, padding: a.padding, dilation: a.dilation, ceilMode: a.ceil_mode });
    return [r.values, r.indices];
  },
  avgPool2d: ([x], a) =>
    F.avgPool2d(x!, a.k, {
      stride: a.stride,
      padding: a.padding,
      ceilMode: a.ceil_mode,
      countIncludePad: a.count_include_pad,
      divisorOverride: a.divisor_override,
    }),
  adaptiveAvgPool2d: ([x], a) => F.adaptiveAvgPool2d(x!, a.size),
  batchNormTrain: ([x, rm, rv, w, b], a) => {
    const runningMean = rm!.clone();
    const runningVar = rv!.clone();
    const y = F.batchNorm(x!, runningMean, runningVar, { weight: w, bias: b, training: true, momentum: a.momentum, eps: 1e-5 });
    return [y, runningMean, runningVar];
  },
  batchNormEval: ([x, rm, rv, w, b]) => F.batchNorm(x!, rm!, rv!, { weight: w, bias: b, training: false, eps: 1e-5 }),
  layerNorm: ([x, w, b], a) => F.layerNorm(x!, a.shape, w, b, 1e-5),
  layerNormPlain: ([x], a) => F.layerNorm(x!, a.shape),
  groupNorm: ([x, w, b], a) => F.groupNorm(x!, a.groups, w, b, 1e-5),
  binaryCrossEntropy: ([x, t], a) => F.binaryCrossEntropy(x!, t!, { reduction: a.reduction }),
  localResponseNorm: ([x], a) => F.localResponseNorm(x!, a.size, a.alpha, a.beta, a.k),
  interpolate: ([x], a) => F.interpolate(x!, { size: a.size, scaleFactor: a.scale_factor, mode: a.mode, alignCorners: a.align_corners }),
  crossEntropy: ([x, t, w], a) =>
    F.crossEntropy(x!, t!, { weight: opt(w), ignoreIndex: a.ignore_index, reduction: a.reduction, labelSmoothing: a.label_smoothing }),
  nllLoss: ([x, t, w], a) => F.nllLoss(x!, t!, { weight: opt(w), ignoreIndex: a.ignore_index, reduction: a.reduction }),
  mseLoss: ([x, y], a) => F.mseLoss(x!, y!, a.reduction),
  l1Loss: ([x, y], a) => F.l1Loss(x!, y!, a.reduction),
  smoothL1Loss: ([x, y], a) => F.smoothL1Loss(x!, y!, a.reduction, a.beta),
  huberLoss: ([x, y], a) => F.huberLoss(x!, y!, a.reduction, a.delta),
  bceWithLogits: ([x, t, w, pw], a) => F.binaryCrossEntropyWithLogits(x!, t!, { weight: opt(w), posWeight: opt(pw), reduction: a.reduction }),
  klDiv: ([x, t], a) => F.klDiv(x!, t!, a.reduction, a.logTarget),
  cosineSimilarity: ([x, y], a) => F.cosineSimilarity(x!, y!, a.dim),

  // WGAN-GP style penalties: the gradient of a gradient (createGraph).
  gpMatmul: ([x, w]) => {
    const y = x!.matmul(w!).tanh();
    const [g] = grad(y.sum(), [x!], { createGraph: true });
    return g!.norm(2, 1).sub(1).pow(2).mean();
  },
  gradOfProd: ([x]) => grad(x!.prod(1).sum(), [x!], { createGraph: true })[0]!,
  gpMlp: ([x, w1, b1, w2]) => {
    const h = F.layerNorm(F.gelu(F.linear(x!, w1!, b1)), [w1!.shape[0]!]);
    const y = F.softmax(F.linear(h, w2!), -1).mul(h.slice(null, [0, w2!.shape[0]!])).sum(-1).add(h.logsumexp(-1));
    const [g] = grad(y.sum(), [x!], { createGraph: true });
    return g!.pow(2).sum(1).add(1e-6).sqrt().mean();
  },
  gpConv2d: ([x, w]) => {
    const y = F.conv2d(x!, w!, null, { padding: 1 }).tanh();
    const [g] = grad(y.mul(y).sum(), [x!], { createGraph: true });
    return g!.mul(g!).sum();
  },
};

/** The op's outputs as a list. */
export function outputsOf(op: string, inputs: Tensor[], args: Args): Tensor[] {
  const fn = OPS[op];
  if (!fn) throw new Error(`no op '${op}' in the parity table`);
  const out = fn(inputs, args);
  return Array.isArray(out) ? out : [out];
}
