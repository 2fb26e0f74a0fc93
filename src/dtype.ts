/**
 * The four dtypes and PyTorch's promotion rules between them.
 */

export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype two tensors combine to (torch.promote_types). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * The dtype a tensor combines to with a JavaScript number, as PyTorch treats a Python scalar:
 * a scalar never widens a float tensor, an integral scalar keeps an int tensor int, a fractional
 * one makes it float32, and any number makes a bool tensor numeric.
 */
export function promoteWithScalar(dtype: DType, value: number): DType {
  if (isFloating(dtype)) return dtype;
  if (Number.isInteger(value)) return dtype === 'bool' ? 'int32' : dtype;
  return 'float32';
}

export function assertDType(dtype: string, op: string): DType {
  if ((DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  throw new TypeError(`${op}: unknown dtype '${dtype}' (expected one of ${DTYPES.join(', ')})`);
}
