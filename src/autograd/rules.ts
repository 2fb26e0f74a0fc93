/**
 * The gradient of every primitive, written once, with tensor ops, independent of any backend.
 *
 * The table's type lists every primitive name, so a primitive added to the contract without a rule
 * here does not compile. `null` marks a primitive with no gradient (comparisons, indices, random
 * draws); its outputs never require grad.
 *
 * Each rule receives the gradient of the output and returns one gradient per input (null where an
 * input has none). Rules that use saved inputs or outputs get them through `ctx.input(i)` and
 * `ctx.output()`, which fail loudly if an in-place op changed them after they were saved.
 */
import type { DType } from '../dtype.js';
import type { PrimitiveAttrs, PrimitiveName } from '../ops/primitives.js';
import { fmt, shapesEqual } from '../shape.js';
import { run } from '../tensor/dispatch.js';
import { where } from '../tensor/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { gruSequenceBackwardRule, gruSequenceRule, lstmSequenceBackwardRule, lstmSequenceRule } from './rnn-rules.js';
import {
  batchNormBackwardRule,
  batchNormRule,
  layerNormBackwardRule,
  layerNormRule,
  logSoftmaxBackwardRule,
  softmaxBackwardRule,
} from './norm-rules.js';

export interface GradContext<K extends PrimitiveName> {
  readonly attrs: PrimitiveAttrs[K];
  /** Gradient with respect to the (first) output. */
  readonly grad: Tensor;
  /** A saved input, checked against in-place changes. */
  input(i: number): Tensor;
  /** The saved output (output i of a primitive with several), checked against in-place changes. */
  output(i?: number): Tensor;
  /** Gradient with respect to output i of a primitive with several outputs (null when none reached it). */
  outputGrad(i: number): Tensor | null;
  inputShape(i: number): readonly number[];
  /** The dtype input i had (no in-place check: reading it needs no saved values). */
  inputDType(i: number): DType;
  readonly numInputs: number;
  /** Whether input i needs a gradient (skip work when it does not). */
  needsGrad(i: number): boolean;
}

export type GradRule<K extends PrimitiveName> = (ctx: GradContext<K>) => (Tensor | null)[];

/** Sums a broadcast gradient back down to the shape of the input it came from. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? run('sum', [g], { axes, keepdim: true }) : g;
  if (summed.ndim - lead !== shape.length) throw new Error(`sumToShape: cannot reduce ${fmt(g.shape)} to ${fmt(shape)}`);
  return summed.reshape([...shape]);
}

/** Broadcasts a reduced gradient back over the reduced axes. */
function unreduce(g: Tensor, inShape: readonly number[], axes: readonly number[], keepdim: boolean): Tensor {
  const kept = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  const shaped = keepdim ? g : g.reshape(kept);
  return shaped.expand([...inShape]);
}

const zeroGrad = (ctx: GradContext<any>) => [run('full', [], { shape: [...ctx.inputShape(0)], dtype: ctx.grad.dtype, value: 0 }, ctx.grad.device)];

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function minMaxGrad(ctx: GradContext<'maximum' | 'minimum'>, greater: boolean): (Tensor | null)[] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  const g = ctx.grad;
  // Where the operands tie, each gets half the gradient, as in PyTorch.
  const half = g.mul(0.5);
  const wins = greater ? a.gt(b) : a.lt(b);
  const loses = greater ? a.lt(b) : a.gt(b);
  return [
    ctx.needsGrad(0) ? sumToShape(where(wins, g, where(loses, 0, half)), ctx.inputShape(0)) : null,
    ctx.needsGrad(1) ? sumToShape(where(loses, g, where(wins, 0, half)), ctx.inputShape(1)) : null,
  ];
}

function amaxGrad(ctx: GradContext<'amax' | 'amin'>): (Tensor | null)[] {
  const x = ctx.input(0);
  const { axes, keepdim } = ctx.attrs;
  const out = unreduce(ctx.output(), x.shape, axes, keepdim);
  // Ties share the gradient evenly (torch.amax's rule).
  const mask = x.eq(out).to(x.dtype);
  const count = run('sum', [mask], { axes, keepdim: true });
  return [unreduce(ctx.grad, x.shape, axes, keepdim).mul(mask).div(count)];
}

function prodGrad(ctx: GradContext<'prod'>): (Tensor | null)[] {
  // d prod / d x_i = the product of the other elements, computed without dividing by zero. With
  // P the product of the nonzero elements of the slice:
  //   nonzero x_i: P * (product of the zeros) / x_i;
  //   zero x_i, the only zero: P;
  //   zero x_i, one other zero x_l: P * x_l, written P * (sum of the zeros - x_i);
  //   zero x_i, two or more other zeros: 0.
  // Each case is written as the function it is near x (zeros kept as factors rather than constant
  // zeros), so the rule is itself differentiable there, as double backward needs.
  const x = ctx.input(0);
  const { axes, keepdim } = ctx.attrs;
  const isZero = x.eq(0);
  const slice = (t: Tensor, op: 'sum' | 'prod') => run(op, [t], { axes, keepdim: true }).expand([...x.shape]);
  const zeros = slice(isZero.to('int32'), 'sum');
  const safe = where(isZero, 1, x);
  const nonzeroProd = slice(safe, 'prod');
  const zerosProd = slice(where(isZero, x, 1), 'prod');
  const otherZero = slice(where(isZero, x, 0), 'sum').sub(x);
  const atZero = where(zeros.eq(1), nonzeroProd, where(zeros.eq(2), nonzeroProd.mul(otherZero), 0));
  const others = where(isZero, atZero, nonzeroProd.mul(zerosProd).div(safe));
  return [unreduce(ctx.grad, x.shape, axes, keepdim).mul(others)];
}

/** op(X) op(Y) as one bmm, where op transposes the last two axes when asked. */
const mm = (x: Tensor, tx: boolean, y: Tensor, ty: boolean) => run('bmm', [x, y], { transA: tx, transB: ty });

export const RULES: { readonly [K in PrimitiveName]: GradRule<K> | null } = {
  neg: (ctx) => [ctx.grad.neg()],
  abs: (ctx) => [ctx.grad.mul(ctx.input(0).sign())],
  sign: zeroGrad,
  floor: zeroGrad,
  ceil: zeroGrad,
  trunc: zeroGrad,
  round: zeroGrad,
  exp: (ctx) => [ctx.grad.mul(ctx.output())],
  log: (ctx) => [ctx.grad.div(ctx.input(0))],
  log1p: (ctx) => [ctx.grad.div(ctx.input(0).add(1))],
  sqrt: (ctx) => [ctx.grad.div(ctx.output().mul(2))],
  rsqrt: (ctx) => [ctx.grad.mul(ctx.output().pow(3)).mul(-0.5)],
  sin: (ctx) => [ctx.grad.mul(ctx.input(0).cos())],
  cos: (ctx) => [ctx.grad.mul(ctx.input(0).sin()).neg()],
  tanh: (ctx) => {
    const y = ctx.output();
    return [ctx.grad.mul(y.mul(y).neg().add(1))];
  },
  sigmoid: (ctx) => {
    const y = ctx.output();
    return [ctx.grad.mul(y.mul(y.neg().add(1)))];
  },
  erf: (ctx) => {
    const x = ctx.input(0);
    return [ctx.grad.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI)))];
  },
  relu: (ctx) => [run('reluBackward', [ctx.output(), ctx.grad], {})],
  // Linear in gy, piecewise constant in y (no gradient to y).
  reluBackward: (ctx) => [null, run('reluBackward', [ctx.input(0), ctx.grad], {})],
  smoothL1: (ctx) => [run('smoothL1Backward', [ctx.input(0), ctx.grad], { beta: ctx.attrs.beta })],
  // smoothL1Backward(x, gy) = gy clamp(x / beta, -1, 1): linear in gy; in x its slope is gy / beta
  // inside (-beta, beta) and 0 outside.
  smoothL1Backward: (ctx) => {
    const [x, gy, g] = [ctx.input(0), ctx.input(1), ctx.grad];
    const beta = ctx.attrs.beta;
    return [
      ctx.needsGrad(0) ? where(x.abs().lt(beta), g.mul(gy).div(beta), 0) : null,
      ctx.needsGrad(1) ? run('smoothL1Backward', [x, g], { beta }) : null,
    ];
  },
  gelu: (ctx) => {
    // d/dx [x Phi(x)] = Phi(x) + x phi(x)
    const x = ctx.input(0);
    const cdf = x.mul(Math.SQRT1_2).erf().add(1).mul(0.5);
    const pdf = x.mul(x).mul(-0.5).exp().mul(INV_SQRT_2PI);
    return [ctx.grad.mul(cdf.add(x.mul(pdf)))];
  },
  // One fused pass instead of about twenty elementwise ops (src/backend/reference/math.ts has the formula).
  geluTanh: (ctx) => [run('geluTanhBackward', [ctx.input(0), ctx.grad], {})],
  geluTanhBackward: (ctx) => {
    // gy d(x) with d = (1 + t) / 2 + x (1 - t^2) u' / 2, t = tanh(u), u = S (x + k x^3):
    // d/dgy is G d(x), the primitive itself; d/dx is G gy d'(x), with
    // d'(x) = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2), u' = S (1 + 3k x^2), u'' = 6 S k x.
    const [x, gy] = [ctx.input(0), ctx.input(1)];
    const x2 = x.mul(x);
    const t = x.add(x2.mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI).tanh();
    const du = x2.mul(3 * 0.044715).add(1).mul(SQRT_2_OVER_PI);
    const ddu = x.mul(6 * 0.044715 * SQRT_2_OVER_PI);
    const dd = t.mul(t).neg().add(1).mul(du.add(x.mul(0.5).mul(ddu.sub(t.mul(2).mul(du).mul(du)))));
    return [ctx.grad.mul(gy).mul(dd), run('geluTanhBackward', [x, ctx.grad], {})];
  },
  silu: (ctx) => {
    const x = ctx.input(0);
    const s = x.sigmoid();
    return [ctx.grad.mul(s.mul(x.mul(s.neg().add(1)).add(1)))];
  },
  leakyRelu: (ctx) => [where(ctx.input(0).gt(0), ctx.grad, ctx.grad.mul(ctx.attrs.slope))],
  elu: (ctx) => [where(ctx.input(0).gt(0), ctx.grad, ctx.grad.mul(ctx.output().add(ctx.attrs.alpha)))],
  softplus: (ctx) => {
    const bx = ctx.input(0).mul(ctx.attrs.beta);
    return [where(bx.gt(ctx.attrs.threshold), ctx.grad, ctx.grad.mul(bx.sigmoid()))];
  },
  clamp: (ctx) => {
    const x = ctx.input(0);
    const { min, max } = ctx.attrs;
    let pass = x.eq(x);
    if (min !== null) pass = pass.logicalAnd(x.ge(min));
    if (max !== null) pass = pass.logicalAnd(x.le(max));
    return [where(pass, ctx.grad, 0)];
  },
  logicalNot: null,
  // Only the input's dtype is needed, so a cast (or clone) of a tensor later changed in place still differentiates.
  cast: (ctx) => {
    const d = ctx.inputDType(0);
    return [d === 'float32' || d === 'float64' ? ctx.grad.to(d) : null];
  },

  add: (ctx) => [
    ctx.needsGrad(0) ? sumToShape(ctx.grad, ctx.inputShape(0)) : null,
    ctx.needsGrad(1) ? sumToShape(ctx.grad, ctx.inputShape(1)) : null,
  ],
  sub: (ctx) => [
    ctx.needsGrad(0) ? sumToShape(ctx.grad, ctx.inputShape(0)) : null,
    ctx.needsGrad(1) ? sumToShape(ctx.grad.neg(), ctx.inputShape(1)) : null,
  ],
  mul: (ctx) => [
    ctx.needsGrad(0) ? sumToShape(ctx.grad.mul(ctx.input(1)), ctx.inputShape(0)) : null,
    ctx.needsGrad(1) ? sumToShape(ctx.grad.mul(ctx.input(0)), ctx.inputShape(1)) : null,
  ],
  div: (ctx) => {
    const b = ctx.input(1);
    return [
      ctx.needsGrad(0) ? sumToShape(ctx.grad.div(b), ctx.inputShape(0)) : null,
      ctx.needsGrad(1) ? sumToShape(ctx.grad.mul(ctx.input(0)).div(b.mul(b)).neg(), ctx.inputShape(1)) : null,
    ];
  },
  pow: (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1);
    // As in PyTorch: an exponent of 0 gives no gradient to the base, and a base of 0 with a
    // non-negative exponent gives none to the exponent (instead of 0 * log 0 = NaN).
    return [
      ctx.needsGrad(0) ? sumToShape(where(b.eq(0), 0, ctx.grad.mul(b).mul(a.pow(b.sub(1)))), ctx.inputShape(0)) : null,
      ctx.needsGrad(1)
        ? sumToShape(where(a.eq(0).logicalAnd(b.ge(0)), 0, ctx.grad.mul(ctx.output()).mul(a.log())), ctx.inputShape(1))
        : null,
    ];
  },
  // d/da = 1; d/db = -(the integer quotient), as PyTorch: floor division computed from the
  // remainder (exact where a / b rounds across an integer), truncation of a / b for fmod.
  remainder: (ctx) => {
    const a = ctx.input(0);
    const b = ctx.input(1);
    const exact = a.sub(ctx.output()).div(b);
    const floor = exact.floor();
    const quotient = where(b.eq(0), a.div(b), where(exact.sub(floor).gt(0.5), floor.add(1), floor));
    return [
      ctx.needsGrad(0) ? sumToShape(ctx.grad, ctx.inputShape(0)) : null,
      ctx.needsGrad(1) ? sumToShape(ctx.grad.mul(quotient).neg(), ctx.inputShape(1)) : null,
    ];
  },
  fmod: (ctx) => [
    ctx.needsGrad(0) ? sumToShape(ctx.grad, ctx.inputShape(0)) : null,
    ctx.needsGrad(1) ? sumToShape(ctx.grad.mul(ctx.input(0).div(ctx.input(1)).trunc()).neg(), ctx.inputShape(1)) : null,
  ],
  maximum: (ctx) => minMaxGrad(ctx, true),
  minimum: (ctx) => minMaxGrad(ctx, false),
  eq: null,
  ne: null,
  lt: null,
  le: null,
  gt: null,
  ge: null,
  logicalAnd: null,
  logicalOr: null,
  logicalXor: null,
  where: (ctx) => {
    const c = ctx.input(0);
    return [
      null,
      ctx.needsGrad(1) ? sumToShape(where(c, ctx.grad, 0), ctx.inputShape(1)) : null,
      ctx.needsGrad(2) ? sumToShape(where(c, 0, ctx.grad), ctx.inputShape(2)) : null,
    ];
  },

  sum: (ctx) => [unreduce(ctx.grad, ctx.inputShape(0), ctx.attrs.axes, ctx.attrs.keepdim)],
  prod: prodGrad,
  amax: amaxGrad,
  amin: amaxGrad,
  argmax: null,
  argmin: null,
  cumsum: (ctx) => {
    const axis = ctx.attrs.axis;
    if (ctx.grad.ndim === 0) return [ctx.grad];
    return [ctx.grad.flip(axis).cumsum(axis).flip(axis)];
  },

  bmm: (ctx) => {
    const { transA, transB } = ctx.attrs;
    const a = ctx.input(0);
    const b = ctx.input(1);
    const g = ctx.grad;
    // C = op(A) op(B): dop(A) = G op(B)^T and dop(B) = op(A)^T G, transposed back where stored transposed.
    // The bias, added to every row of every batch, gets the gradient summed over both.
    return [
      ctx.needsGrad(0) ? (transA ? mm(b, transB, g, true) : mm(g, false, b, !transB)) : null,
      ctx.needsGrad(1) ? (transB ? mm(g, true, a, transA) : mm(a, !transA, g, false)) : null,
      ctx.numInputs > 2 && ctx.needsGrad(2) ? run('sum', [g], { axes: g.ndim === 3 ? [0, 1] : [0], keepdim: false }) : null,
    ];
  },

  reshape: (ctx) => [ctx.grad.reshape([...ctx.inputShape(0)])],
  permute: (ctx) => {
    const inverse = new Array<number>(ctx.attrs.perm.length);
    ctx.attrs.perm.forEach((p, i) => (inverse[p] = i));
    return [run('permute', [ctx.grad], { perm: inverse })];
  },
  expand: (ctx) => [sumToShape(ctx.grad, ctx.inputShape(0))],
  slice: (ctx) => [
    run('sliceScatter', [ctx.grad], { starts: ctx.attrs.starts, steps: ctx.attrs.steps, inputShape: [...ctx.inputShape(0)] }),
  ],
  sliceScatter: (ctx) => [
    run('slice', [ctx.grad], { starts: ctx.attrs.starts, steps: ctx.attrs.steps, shape: [...ctx.inputShape(0)] }),
  ],
  cat: (ctx) => {
    const axis = ctx.attrs.axis;
    const out: (Tensor | null)[] = [];
    let at = 0;
    for (let i = 0; i < ctx.numInputs; i++) {
      const len = ctx.inputShape(i)[axis]!;
      out.push(ctx.needsGrad(i) ? ctx.grad.narrow(axis, at, len) : null);
      at += len;
    }
    return out;
  },
  flip: (ctx) => [run('flip', [ctx.grad], { axes: ctx.attrs.axes })],

  gather: (ctx) => {
    const zeros = run('full', [], { shape: [...ctx.inputShape(0)], dtype: ctx.grad.dtype, value: 0 }, ctx.grad.device);
    return [run('scatterAdd', [zeros, ctx.input(1), ctx.grad], { axis: ctx.attrs.axis }), null];
  },
  scatter: (ctx) => {
    const index = ctx.input(1);
    const axis = ctx.attrs.axis;
    const zeros = run('full', [], { shape: [...index.shape], dtype: ctx.grad.dtype, value: 0 }, ctx.grad.device);
    return [
      ctx.needsGrad(0) ? run('scatter', [ctx.grad, index, zeros], { axis }) : null,
      null,
      ctx.needsGrad(2) ? padTo(run('gather', [ctx.grad, index], { axis }), ctx.inputShape(2)) : null,
    ];
  },
  scatterAdd: (ctx) => {
    const index = ctx.input(1);
    return [
      ctx.needsGrad(0) ? ctx.grad : null,
      null,
      ctx.needsGrad(2) ? padTo(run('gather', [ctx.grad, index], { axis: ctx.attrs.axis }), ctx.inputShape(2)) : null,
    ];
  },
  indexSelect: (ctx) => {
    const zeros = run('full', [], { shape: [...ctx.inputShape(0)], dtype: ctx.grad.dtype, value: 0 }, ctx.grad.device);
    return [run('indexAdd', [zeros, ctx.input(1), ctx.grad], { axis: ctx.attrs.axis }), null];
  },
  indexAdd: (ctx) => [
    ctx.needsGrad(0) ? ctx.grad : null,
    null,
    ctx.needsGrad(2) ? run('indexSelect', [ctx.grad, ctx.input(1)], { axis: ctx.attrs.axis }) : null,
  ],
  argsort: null,

  // y * (gy - sum(gy * y)) and gy - exp(y) * sum(gy), each one fused primitive.
  softmax: (ctx) => [run('softmaxBackward', [ctx.output(), ctx.grad], { axis: ctx.attrs.axis })],
  logSoftmax: (ctx) => [run('logSoftmaxBackward', [ctx.output(), ctx.grad], { axis: ctx.attrs.axis })],
  renorm: (ctx) => {
    // y = x * f(n), n = ||x_i||_p over the sub-tensor, f = maxnorm / (n + 1e-7) where n > maxnorm:
    // dx = f * (g - (sum(g * x) / (n + 1e-7)) * dn/dx) there, g elsewhere (PyTorch's renorm_backward).
    const x = ctx.input(0);
    const g = ctx.grad;
    const { p, axis, maxnorm } = ctx.attrs;
    const dims = x.shape.map((_, i) => i).filter((i) => i !== axis);
    const n = x.norm(p, dims, true);
    const dn = p === 2 ? x.div(n) : p === 1 ? x.sign() : x.sign().mul(x.abs().pow(p - 1)).div(n.pow(p - 1));
    const inv = n.add(1e-7).reciprocal();
    const scaled = inv.mul(maxnorm).mul(g.sub(inv.mul(x.mul(g).sum(dims, true)).mul(dn)));
    return [where(n.gt(maxnorm), scaled, g)];
  },
  conv2d: (ctx) => {
    const { stride, padding, dilation, groups } = ctx.attrs;
    const conv = { stride, padding, dilation, groups };
    return [
      ctx.needsGrad(0)
        ? run('conv2dBackwardInput', [ctx.grad, ctx.input(1)], { ...conv, inputShape: [...ctx.inputShape(0)] })
        : null,
      ctx.needsGrad(1)
        ? run('conv2dBackwardWeight', [ctx.input(0), ctx.grad], { ...conv, weightShape: [...ctx.inputShape(1)] })
        : null,
      // The bias of output channel o is added at every image and position.
      ctx.numInputs > 2 && ctx.needsGrad(2) ? run('sum', [ctx.grad], { axes: [0, 2, 3], keepdim: false }) : null,
    ];
  },
  // conv2dBackwardInput(gy, w) is linear in each argument: <BI(gy, w), z> = <gy, conv2d(z, w)>.
  // Its output may be larger than the convolution's reach (convTranspose2d's outputPadding), so
  // conv2d of that size can have an extra row or column that gy does not have: crop it.
  conv2dBackwardInput: (ctx) => {
    const { stride, padding, dilation, groups } = ctx.attrs;
    const conv = { stride, padding, dilation, groups };
    return [
      ctx.needsGrad(0) ? cropTo(run('conv2d', [ctx.grad, ctx.input(1)], conv), ctx.inputShape(0)) : null,
      ctx.needsGrad(1)
        ? run('conv2dBackwardWeight', [ctx.grad, ctx.input(0)], { ...conv, weightShape: [...ctx.inputShape(1)] })
        : null,
    ];
  },
  // <BW(x, gy), z> = <gy, conv2d(x, z)>.
  conv2dBackwardWeight: (ctx) => {
    const { stride, padding, dilation, groups } = ctx.attrs;
    const conv = { stride, padding, dilation, groups };
    return [
      ctx.needsGrad(0)
        ? run('conv2dBackwardInput', [ctx.input(1), ctx.grad], { ...conv, inputShape: [...ctx.inputShape(0)] })
        : null,
      ctx.needsGrad(1) ? cropTo(run('conv2d', [ctx.input(0), ctx.grad], conv), ctx.inputShape(1)) : null,
    ];
  },
  maxPool2dIndices: null,
  avgPool2d: (ctx) => [run('avgPool2dBackward', [ctx.grad], { ...ctx.attrs, inputShape: [...ctx.inputShape(0)] })],
  avgPool2dBackward: (ctx) => {
    const { inputShape: _ignored, ...pool } = ctx.attrs;
    return [run('avgPool2d', [ctx.grad], pool)];
  },
  adaptiveAvgPool2d: (ctx) => [run('adaptiveAvgPool2dBackward', [ctx.grad], { inputShape: [...ctx.inputShape(0)] })],
  adaptiveAvgPool2dBackward: (ctx) => {
    const s = ctx.inputShape(0);
    return [run('adaptiveAvgPool2d', [ctx.grad], { outputSize: [s[2]!, s[3]!] })];
  },
  full: null,
  randomUniform: null,
  // y = keep ? x / (1 - p) : 0 -> dx = keep ? g / (1 - p) : 0 (as where and div's rules give it).
  dropout: (ctx) => [run('dropoutBackward', [ctx.grad, ctx.output(1)], { p: ctx.attrs.p })],
  dropoutBackward: (ctx) => [run('dropoutBackward', [ctx.grad, ctx.input(1)], { p: ctx.attrs.p }), null],
  randomNormal: null,
  lstmSequence: lstmSequenceRule,
  lstmSequenceBackward: lstmSequenceBackwardRule,
  gruSequence: gruSequenceRule,
  gruSequenceBackward: gruSequenceBackwardRule,
  batchNorm: batchNormRule,
  batchNormBackward: batchNormBackwardRule,
  layerNorm: layerNormRule,
  layerNormBackward: layerNormBackwardRule,
  softmaxBackward: softmaxBackwardRule,
  logSoftmaxBackward: logSoftmaxBackwardRule,
};

/** The leading block of `t` of the given shape (each dimension at most as large as t's). */
function cropTo(t: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(t.shape, shape)) return t;
  return run('slice', [t], { starts: shape.map(() => 0), steps: shape.map(() => 1), shape: [...shape] });
}

/** Zero-pads a gathered gradient up to the shape of the src it belongs to (src may be larger than index). */
function padTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  return run('sliceScatter', [g], { starts: shape.map(() => 0), steps: shape.map(() => 1), inputShape: [...shape] });
}
