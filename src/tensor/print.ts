/**
 * Printing that looks like PyTorch's: one number format for the whole tensor, right-aligned
 * columns, rows broken by dimension, long dimensions summarised with "...".
 */
import type { Tensor } from './tensor.js';

const SUMMARIZE_OVER = 1000;
const EDGE = 3;

function floatFormatter(values: number[]): (v: number) => string {
  const finite = values.filter((v) => Number.isFinite(v));
  const allIntegral = finite.every((v) => Number.isInteger(v));
  const absNonzero = finite.map(Math.abs).filter((v) => v > 0);
  const maxAbs = absNonzero.length ? Math.max(...absNonzero) : 0;
  const minAbs = absNonzero.length ? Math.min(...absNonzero) : 0;
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (allIntegral && maxAbs < 1e8) {
    return (v) => (Number.isFinite(v) ? `${v.toFixed(0)}.` : special(v));
  }
  if (maxAbs >= 1e8 || (minAbs > 0 && (minAbs < 1e-4 || maxAbs / minAbs > 1000))) {
    return (v) => {
      if (!Number.isFinite(v)) return special(v);
      const [mant, exp] = v.toExponential(4).split('e') as [string, string];
      const e = Number(exp);
      return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
    };
  }
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : special(v));
}

/** Indices kept along a dimension of `size` (all, or the first and last few around a gap of -1). */
function kept(size: number, summarize: boolean): number[] {
  if (!summarize || size <= 2 * EDGE) return Array.from({ length: size }, (_, i) => i);
  return [0, 1, 2, -1, size - 3, size - 2, size - 1];
}

export function formatTensor(t: Tensor): string {
  const flat = Array.from(t.dataSync());
  const summarize = flat.length > SUMMARIZE_OVER;
  const shape = t.shape;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
  // Only the values that will be shown decide the format, as in PyTorch.
  const shown: number[] = [];
  const visit = (d: number, off: number) => {
    if (d === shape.length) {
      shown.push(flat[off]!);
      return;
    }
    for (const i of kept(shape[d]!, summarize)) if (i >= 0) visit(d + 1, off + i * strides[d]!);
  };
  visit(0, 0);
  let fmt: (v: number) => string;
  if (t.dtype === 'bool') fmt = (v) => (v ? 'True' : 'False');
  else if (t.dtype === 'int32') fmt = (v) => String(v);
  else fmt = floatFormatter(shown);
  const width = Math.max(0, ...shown.map((v) => fmt(v).length));
  const cell = (v: number) => fmt(v).padStart(width);

  const indent = 'tensor('.length;
  const render = (d: number, off: number): string => {
    if (d === shape.length) return cell(flat[off]!);
    const parts = kept(shape[d]!, summarize).map((i) => (i < 0 ? '...' : render(d + 1, off + i * strides[d]!)));
    if (d === shape.length - 1) return `[${parts.join(', ')}]`;
    const blank = '\n'.repeat(Math.max(1, shape.length - d - 1));
    return `[${parts.join(`,${blank}${' '.repeat(indent + d + 1)}`)}]`;
  };

  const extras: string[] = [];
  if (flat.length === 0 && shape.length !== 1) extras.push(`size=[${shape.join(', ')}]`);
  if (t.dtype === 'float64') extras.push('dtype=float64');
  else if (t.dtype === 'int32' && flat.length === 0) extras.push('dtype=int32');
  if (t.device !== 'reference' && t.device !== 'cpu') extras.push(`device='${t.device}'`);
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.op}>`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  const body = flat.length === 0 ? '[]' : render(0, 0);
  return `tensor(${body}${extras.map((e) => `, ${e}`).join('')})`;
}
