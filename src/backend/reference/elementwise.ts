/**
 * Elementwise kernels: unary maps, broadcasting binary maps, where, cast.
 */
import type { PrimitiveAttrs, Spec } from '../../ops/primitives.js';
import { numel } from '../../shape.js';
import { broadcastIndex, broadcastPattern } from './broadcast.js';
import { erf, gelu, geluTanh, geluTanhBackward, sigmoid } from './math.js';
import { type RefInput, type RefStorage, alloc, castValue } from './storage.js';

type Unary = (x: number) => number;

/**
 * x rounded to the nearest integer, halves to the even one, keeping the sign of a zero (torch.round;
 * Math.round rounds halves up). Adding and subtracting 2^52 rounds a magnitude below 2^52 to an
 * integer in the current (nearest, ties to even) mode; larger doubles are integers already.
 */
function roundHalfEven(x: number): number {
  const a = Math.abs(x);
  if (!(a < 2 ** 52)) return x; // large, infinite or NaN
  return Math.sign(x) * (a + 2 ** 52 - 2 ** 52);
}

function mapUnary(f: Unary) {
  return (inputs: readonly RefInput[], _attrs: unknown, outs: readonly Spec[]): RefStorage[] => {
    const x = inputs[0]!.storage.data;
    const out = alloc(outs[0]!.dtype, x.length);
    const o = out.data;
    for (let i = 0; i < x.length; i++) o[i] = f(x[i]!);
    return [out];
  };
}

function mapBinary(f: (a: number, b: number) => number) {
  return (inputs: readonly RefInput[], _attrs: unknown, outs: readonly Spec[]): RefStorage[] => {
    const [a, b] = inputs as [RefInput, RefInput];
    const spec = outs[0]!;
    const pa = broadcastPattern(spec.shape, a.shape);
    const pb = broadcastPattern(spec.shape, b.shape);
    const ad = a.storage.data;
    const bd = b.storage.data;
    const out = alloc(spec.dtype, numel(spec.shape));
    const o = out.data;
    const n = o.length;
    // The common layouts get a loop without an index array; anything else reads through one.
    if (pa.kind === 'same' && pb.kind === 'same') for (let i = 0; i < n; i++) o[i] = f(ad[i]!, bd[i]!);
    else if (pa.kind === 'same' && pb.kind === 'scalar') {
      const v = bd[0]!;
      for (let i = 0; i < n; i++) o[i] = f(ad[i]!, v);
    } else if (pa.kind === 'scalar' && pb.kind === 'same') {
      const v = ad[0]!;
      for (let i = 0; i < n; i++) o[i] = f(v, bd[i]!);
    } else if (pa.kind === 'same' && pb.kind === 'suffix') {
      const m = pb.size;
      for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) o[i + j] = f(ad[i + j]!, bd[j]!);
    } else if (pa.kind === 'suffix' && pb.kind === 'same') {
      const m = pa.size;
      for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) o[i + j] = f(ad[j]!, bd[i + j]!);
    } else {
      const ia = broadcastIndex(spec.shape, a.shape);
      const ib = broadcastIndex(spec.shape, b.shape);
      for (let i = 0; i < n; i++) o[i] = f(ad[ia ? ia[i]! : i]!, bd[ib ? ib[i]! : i]!);
    }
    return [out];
  };
}

export const elementwiseKernels = {
  neg: mapUnary((x) => -x),
  abs: mapUnary(Math.abs),
  // (x > 0) - (x < 0), as PyTorch computes it: NaN gives 0.
  sign: mapUnary((x) => (x > 0 ? 1 : x < 0 ? -1 : 0)),
  exp: mapUnary(Math.exp),
  log: mapUnary(Math.log),
  log1p: mapUnary(Math.log1p),
  sqrt: mapUnary(Math.sqrt),
  rsqrt: mapUnary((x) => 1 / Math.sqrt(x)),
  sin: mapUnary(Math.sin),
  cos: mapUnary(Math.cos),
  tanh: mapUnary(Math.tanh),
  sigmoid: mapUnary(sigmoid),
  erf: mapUnary(erf),
  relu: mapUnary((x) => (x > 0 ? x : x === x ? 0 : x)),
  gelu: mapUnary(gelu),
  geluTanh: mapUnary(geluTanh),
  geluTanhBackward: mapBinary(geluTanhBackward),
  // NaN in y gives 0, as where(y > 0, gy, 0) does
  reluBackward: mapBinary((y, gy) => (y > 0 ? gy : 0)),
  silu: mapUnary((x) => x * sigmoid(x)),
  floor: mapUnary(Math.floor),
  ceil: mapUnary(Math.ceil),
  trunc: mapUnary(Math.trunc),
  round: mapUnary(roundHalfEven),
  logicalNot: mapUnary((x) => (x === 0 ? 1 : 0)),
  // PyTorch's smooth_l1_loss terms and gradient (beta > 0)
  smoothL1: (inputs: readonly RefInput[], a: PrimitiveAttrs['smoothL1'], outs: readonly Spec[]) =>
    mapUnary((x) => {
      const z = Math.abs(x);
      return z < a.beta ? (0.5 * z * z) / a.beta : z - 0.5 * a.beta;
    })(inputs, a, outs),
  smoothL1Backward: (inputs: readonly RefInput[], a: PrimitiveAttrs['smoothL1Backward'], outs: readonly Spec[]) =>
    mapBinary((x, gy) => (x < -a.beta ? -gy : x > a.beta ? gy : (gy * x) / a.beta))(inputs, a, outs),
  leakyRelu: (inputs: readonly RefInput[], a: PrimitiveAttrs['leakyRelu'], outs: readonly Spec[]) =>
    mapUnary((x) => (x > 0 ? x : a.slope * x))(inputs, a, outs),
  elu: (inputs: readonly RefInput[], a: PrimitiveAttrs['elu'], outs: readonly Spec[]) =>
    mapUnary((x) => (x > 0 ? x : a.alpha * Math.expm1(x)))(inputs, a, outs),
  softplus: (inputs: readonly RefInput[], a: PrimitiveAttrs['softplus'], outs: readonly Spec[]) =>
    mapUnary((x) => (x * a.beta > a.threshold ? x : Math.log1p(Math.exp(a.beta * x)) / a.beta))(inputs, a, outs),
  clamp: (inputs: readonly RefInput[], a: PrimitiveAttrs['clamp'], outs: readonly Spec[]) =>
    mapUnary((x) => {
      if (x !== x) return x;
      let y = x;
      if (a.min !== null && y < a.min) y = a.min;
      if (a.max !== null && y > a.max) y = a.max;
      return y;
    })(inputs, a, outs),
  cast: (inputs: readonly RefInput[], a: PrimitiveAttrs['cast'], outs: readonly Spec[]) =>
    mapUnary((x) => castValue(x, a.dtype))(inputs, a, outs),

  add: mapBinary((a, b) => a + b),
  sub: mapBinary((a, b) => a - b),
  mul: mapBinary((a, b) => a * b),
  div: mapBinary((a, b) => a / b),
  pow: mapBinary(Math.pow),
  // JavaScript's % is C's fmod (exact); remainder moves a nonzero result to the divisor's sign.
  remainder: mapBinary((a, b) => {
    const m = a % b;
    return m !== 0 && b < 0 !== m < 0 ? m + b : m;
  }),
  fmod: mapBinary((a, b) => a % b),
  // NaN propagates, as in torch.maximum/minimum.
  maximum: mapBinary((a, b) => (a !== a || b !== b ? NaN : a > b ? a : b)),
  minimum: mapBinary((a, b) => (a !== a || b !== b ? NaN : a < b ? a : b)),
  eq: mapBinary((a, b) => (a === b ? 1 : 0)),
  ne: mapBinary((a, b) => (a !== b ? 1 : 0)),
  lt: mapBinary((a, b) => (a < b ? 1 : 0)),
  le: mapBinary((a, b) => (a <= b ? 1 : 0)),
  gt: mapBinary((a, b) => (a > b ? 1 : 0)),
  ge: mapBinary((a, b) => (a >= b ? 1 : 0)),
  logicalAnd: mapBinary((a, b) => (a !== 0 && b !== 0 ? 1 : 0)),
  logicalOr: mapBinary((a, b) => (a !== 0 || b !== 0 ? 1 : 0)),
  logicalXor: mapBinary((a, b) => ((a !== 0) !== (b !== 0) ? 1 : 0)),

  where(inputs: readonly RefInput[], _a: unknown, outs: readonly Spec[]): RefStorage[] {
    const [c, a, b] = inputs as [RefInput, RefInput, RefInput];
    const spec = outs[0]!;
    const n = spec.shape.reduce((p, d) => p * d, 1);
    const ic = broadcastIndex(spec.shape, c.shape);
    const ia = broadcastIndex(spec.shape, a.shape);
    const ib = broadcastIndex(spec.shape, b.shape);
    const cd = c.storage.data;
    const ad = a.storage.data;
    const bd = b.storage.data;
    const out = alloc(spec.dtype, n);
    const o = out.data;
    for (let i = 0; i < n; i++) {
      o[i] = cd[ic ? ic[i]! : i] ? ad[ia ? ia[i]! : i]! : bd[ib ? ib[i]! : i]!;
    }
    return [out];
  },
};
