/**
 * Shape arithmetic shared by the contract, the tensor layer and the backends.
 */

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of any number of shapes; `op` names the caller in the error. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  // Most elementwise ops meet operands of one shape: nothing to broadcast.
  if (shapes.length === 2 && shapesEqual(shapes[0]!, shapes[1]!)) return shapes[0]!.slice();
  let rank = 0;
  for (const s of shapes) if (s.length > rank) rank = s.length;
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new Error(
          `${op}: shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast together ` +
            `(dimension ${o - rank}: ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/** Resolves a possibly negative axis against a rank, naming the op when it is out of range. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis)) throw new Error(`${op}: axis must be an integer, got ${axis}`);
  const lo = rank === 0 ? -1 : -rank;
  const hi = rank === 0 ? 0 : rank - 1;
  if (axis < lo || axis > hi) {
    throw new Error(`${op}: dimension ${axis} is out of range for a tensor of rank ${rank} (expected ${lo} to ${hi})`);
  }
  return axis < 0 ? axis + Math.max(rank, 1) : axis;
}

/** Normalizes a list of axes (undefined means all), rejecting repeats. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) {
    const all = new Array<number>(rank);
    for (let i = 0; i < rank; i++) all[i] = i;
    return all;
  }
  if (typeof axes === 'number') {
    const a = normalizeAxis(op, axes, rank);
    return rank === 0 ? [] : [a];
  }
  const out = axes.map((a) => normalizeAxis(op, a, rank));
  if (rank === 0) return [];
  if (new Set(out).size !== out.length) throw new Error(`${op}: dimension repeated in [${axes.join(', ')}]`);
  return out.sort((a, b) => a - b);
}

/**
 * An index outside [0, size) met by a kernel. Ops that take indices from the user (embedding,
 * oneHot, the losses) catch it and say which of their arguments held the bad value.
 */
export class IndexError extends RangeError {
  constructor(
    readonly op: string,
    readonly value: number,
    readonly size: number,
    readonly axis: number,
    message = `${op}: index ${value} is out of bounds for dimension ${axis} with size ${size}`,
  ) {
    super(message);
    this.name = 'IndexError';
  }
}

/** The shape after reducing `axes`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdim) out.push(1);
    } else out.push(shape[i]!);
  }
  return out;
}

/** Resolves a single -1 in a reshape target. */
export function inferReshape(op: string, from: Shape, to: readonly number[]): number[] {
  const total = numel(from);
  let unknown = -1;
  let known = 1;
  for (let i = 0; i < to.length; i++) {
    const d = to[i]!;
    if (d === -1) {
      if (unknown >= 0) throw new Error(`${op}: only one dimension can be inferred, got ${fmt(to)}`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: invalid dimension ${d} in ${fmt(to)}`);
    } else known *= d;
  }
  const out = to.slice();
  if (unknown >= 0) {
    if (known === 0 || total % known !== 0) {
      throw new Error(`${op}: shape ${fmt(to)} is invalid for input of size ${total} (shape ${fmt(from)})`);
    }
    out[unknown] = total / known;
  }
  if (numel(out) !== total) {
    throw new Error(`${op}: shape ${fmt(to)} is invalid for input of size ${total} (shape ${fmt(from)})`);
  }
  return out;
}
