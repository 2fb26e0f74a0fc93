/**
 * Elementwise ops as the user calls them: scalars wrapped, dtypes promoted as PyTorch promotes
 * them, then one primitive.
 */
import { type DType, isFloating, promoteTypes, promoteWithScalar } from '../dtype.js';
import { getBackend } from '../backend/registry.js';
import type { PrimitiveAttrs, PrimitiveName } from '../ops/primitives.js';
import { run } from './dispatch.js';
import { Tensor, type TensorOrScalar } from './tensor.js';

/** A 0-d tensor holding `value`, on `device`. */
export function scalarTensor(value: number, dtype: DType, device: string): Tensor {
  return new Tensor(getBackend(device).fromValues([value], dtype), [], dtype, device);
}

/** `value` as a tensor next to `like`: a number becomes a 0-d tensor of the dtype it promotes to. */
export function asTensor(value: TensorOrScalar, like: Tensor): Tensor {
  if (value instanceof Tensor) return value;
  return scalarTensor(value, promoteWithScalar(like.dtype, value), like.device);
}

/** Casts to `dtype`; `copy` forces new storage even when the dtype is unchanged. */
export function cast(x: Tensor, dtype: DType, copy = false): Tensor {
  if (x.dtype === dtype && !copy) return x;
  return run('cast', [x], { dtype });
}

function operands(op: string, a: TensorOrScalar, b: TensorOrScalar): [Tensor, Tensor, DType] {
  // The common case: two tensors of one dtype need no promotion.
  if (a instanceof Tensor && b instanceof Tensor && a.dtype === b.dtype) return [a, b, a.dtype];
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new TypeError(`${op}: expected at least one tensor operand, got two numbers`);
  }
  const ta = a instanceof Tensor ? a : null;
  const tb = b instanceof Tensor ? b : null;
  const dtype = ta && tb
    ? promoteTypes(ta.dtype, tb.dtype)
    : ta
      ? promoteWithScalar(ta.dtype, b as number)
      : promoteWithScalar(tb!.dtype, a as number);
  const like = (ta ?? tb)!;
  const wrap = (v: TensorOrScalar) => (v instanceof Tensor ? cast(v, dtype) : scalarTensor(v, dtype, like.device));
  return [wrap(a), wrap(b), dtype];
}

/** Runs a primitive: `run`, or an in-place op's runner (Tensor._inPlace), which writes into its tensor. */
export type Runner = <K extends PrimitiveName>(name: K, inputs: readonly Tensor[], attrs: PrimitiveAttrs[K]) => Tensor;

type Arith = 'add' | 'sub' | 'mul' | 'maximum' | 'minimum';

function arith(name: Arith, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const [x, y, dtype] = operands(name, a, b);
  if (dtype === 'bool' && name !== 'maximum' && name !== 'minimum') {
    // bool + bool is logical in PyTorch; we keep arithmetic numeric instead of guessing.
    return run(name, [cast(x, 'int32'), cast(y, 'int32')], {});
  }
  return run(name, [x, y], {});
}

export const add = (a: TensorOrScalar, b: TensorOrScalar) => arith('add', a, b);
export const sub = (a: TensorOrScalar, b: TensorOrScalar) => arith('sub', a, b);
export const mul = (a: TensorOrScalar, b: TensorOrScalar) => arith('mul', a, b);
export const maximum = (a: TensorOrScalar, b: TensorOrScalar) => arith('maximum', a, b);
export const minimum = (a: TensorOrScalar, b: TensorOrScalar) => arith('minimum', a, b);

/**
 * a (op) b with the last primitive run by `into` (add_, sub_, mul_, div_): promoted as the
 * out-of-place op is, and where the result's dtype is not a's, computed aside (the caller casts).
 */
export function arithInto(into: Runner, name: 'add' | 'sub' | 'mul' | 'div', a: Tensor, b: TensorOrScalar): Tensor {
  const [x, y, dtype] = operands(name, a, b);
  if (dtype === 'bool' || (name === 'div' && !isFloating(dtype))) return name === 'div' ? div(x, y) : arith(name, x, y);
  return into(name, [x, y], {});
}

/** True division: integer operands give float32, as in PyTorch. */
export function div(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const [x, y, dtype] = operands('div', a, b);
  if (!isFloating(dtype)) return run('div', [cast(x, 'float32'), cast(y, 'float32')], {});
  return run('div', [x, y], {});
}

export function pow(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const [x, y, dtype] = operands('pow', a, b);
  if (!isFloating(dtype) && typeof b === 'number' && b < 0) {
    throw new Error(`pow: integers to negative integer powers are not allowed (exponent ${b}); convert with .float() first`);
  }
  if (dtype === 'bool') return run('pow', [cast(x, 'int32'), cast(y, 'int32')], {});
  return run('pow', [x, y], {});
}

/**
 * remainder (the sign of b, as Python's %) and fmod (the sign of a). Integer operands with a zero
 * divisor are refused, as PyTorch refuses them ("ZeroDivisionError"); floats give NaN there.
 */
export function modulo(name: 'remainder' | 'fmod', a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const [x, y, dtype] = operands(name, a, b);
  if (dtype === 'bool') return modulo(name, cast(x, 'int32'), cast(y, 'int32'));
  if (!isFloating(dtype) && y.eq(0).any().item() !== 0) throw new RangeError(`${name}: integer division by zero`);
  return run(name, [x, y], {});
}

export function compare(name: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const [x, y] = operands(name, a, b);
  return run(name, [x, y], {});
}

export function logical(name: 'logicalAnd' | 'logicalOr' | 'logicalXor', a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const [x, y] = operands(name, a, b);
  return run(name, [x, y], {});
}

export function logicalNot(x: Tensor): Tensor {
  return run('logicalNot', [x], {});
}

type UnaryName = 'neg' | 'abs' | 'sign' | 'relu' | 'floor' | 'ceil' | 'trunc' | 'round';
type FloatUnaryName =
  | 'exp' | 'log' | 'log1p' | 'sqrt' | 'rsqrt' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'erf'
  | 'gelu' | 'geluTanh' | 'silu' | 'leakyRelu' | 'elu' | 'softplus';

/** A unary op defined on every numeric dtype. */
export function unary(name: UnaryName, x: Tensor, into: Runner = run): Tensor {
  if (x.dtype === 'bool') throw new TypeError(`${name}: not defined for bool tensors`);
  return into(name, [x], {});
}

/** A unary op defined on floats; integer and bool inputs are promoted to float32 first. */
export function unaryFloat<K extends FloatUnaryName>(name: K, x: Tensor, attrs?: PrimitiveAttrs[K]): Tensor {
  const input = isFloating(x.dtype) ? x : cast(x, 'float32');
  return run(name, [input], (attrs ?? {}) as PrimitiveAttrs[K]);
}

export function clamp(x: Tensor, min: number | null, max: number | null, into: Runner = run): Tensor {
  if (min === null && max === null) throw new Error('clamp: at least one of min and max must be given');
  if (x.dtype === 'bool') throw new TypeError('clamp: not defined for bool tensors');
  const fractional = [min, max].some((v) => v !== null && !Number.isInteger(v));
  const input = !isFloating(x.dtype) && fractional ? cast(x, 'float32') : x;
  return into('clamp', [input], { min, max });
}

/** Elements of `a` where `condition` holds, else of `b` (torch.where). */
export function where(condition: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  if (condition.dtype !== 'bool') {
    throw new TypeError(`where: condition must be a bool tensor, got ${condition.dtype}`);
  }
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    const dtype = Number.isInteger(a) && Number.isInteger(b) ? 'int32' : 'float32';
    return run('where', [condition, scalarTensor(a, dtype, condition.device), scalarTensor(b, dtype, condition.device)], {});
  }
  const [x, y] = operands('where', a, b);
  return run('where', [condition, x, y], {});
}

export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  if (mask.dtype !== 'bool') throw new TypeError(`maskedFill: mask must be a bool tensor, got ${mask.dtype}`);
  // The result keeps the input's shape, so the mask must broadcast to it (not the other way round).
  const lead = x.ndim - mask.ndim;
  if (lead < 0 || mask.shape.some((d, i) => d !== 1 && d !== x.shape[lead + i])) {
    throw new Error(`maskedFill: mask [${mask.shape.join(', ')}] does not broadcast to the input [${x.shape.join(', ')}]`);
  }
  return run('where', [mask, scalarTensor(value, x.dtype, x.device), x], {});
}

/** A constant tensor from host values (indices, masks), on `device`. */
export function constTensor(values: readonly number[], shape: readonly number[], dtype: DType, device: string): Tensor {
  return new Tensor(getBackend(device).fromValues(values, dtype), shape, dtype, device);
}
