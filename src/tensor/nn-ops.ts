/**
 * The neural-network ops that map onto primitives of their own: linear, softmax, convolution,
 * pooling. nn.functional builds everything else from these and the Tensor methods.
 */
import { isFloating } from '../dtype.js';
import { fmt, normalizeAxis } from '../shape.js';
import { windowOut } from '../ops/primitives.js';
import { run } from './dispatch.js';
import { cast } from './elementwise.js';
import { pad } from './shape-ops.js';
import type { Tensor } from './tensor.js';

export type Pair = number | [number, number];

function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Number.isInteger(p[0]) || !Number.isInteger(p[1]) || p[0] < min || p[1] < min) {
    throw new Error(`${op}: ${name} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return p;
}

function requireFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (!isFloating(t.dtype)) throw new TypeError(`${op}: expected floating-point tensors, got ${t.dtype}`);
}

/** Batched 4-D input: accepts [C, H, W] too, returning whether a batch axis was added. */
function batched(op: string, x: Tensor): [Tensor, boolean] {
  if (x.ndim === 4) return [x, false];
  if (x.ndim === 3) return [x.unsqueeze(0), true];
  throw new Error(`${op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got ${fmt(x.shape)}`);
}

/** y = x W^T + b, with W of shape [out, in] (torch.nn.functional.linear). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  requireFloat('linear', x, weight);
  if (weight.ndim !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${fmt(weight.shape)}`);
  const inF = weight.shape[1]!;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(`linear: input ${fmt(x.shape)} does not end in inFeatures = ${inF} (weight ${fmt(weight.shape)})`);
  }
  const rows = x.numel() / inF;
  // One product without a batch axis: x as [rows, inF] (itself when it is 2-D) times W^T.
  const operands = [x.ndim === 2 ? x : x.reshape([rows, inF]), weight];
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) {
      throw new Error(`linear: bias must be [${weight.shape[0]}], got ${fmt(bias.shape)}`);
    }
    // One call computes x W^T and adds the bias (PyTorch's addmm); a bias of another floating dtype
    // is promoted as a separate add would.
    if (bias.dtype === x.dtype && weight.dtype === x.dtype) operands.push(bias);
    else return linear(x, weight).add(bias);
  }
  const y = run('bmm', operands, { transA: false, transB: true });
  return x.ndim === 2 ? y : y.reshape([...x.shape.slice(0, -1), weight.shape[0]!]);
}

export function softmax(x: Tensor, dim: number): Tensor {
  const axis = normalizeAxis('softmax', dim, x.ndim);
  return run('softmax', [isFloating(x.dtype) ? x : cast(x, 'float32')], { axis });
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  const axis = normalizeAxis('logSoftmax', dim, x.ndim);
  return run('logSoftmax', [isFloating(x.dtype) ? x : cast(x, 'float32')], { axis });
}

export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding per side, or 'valid' (none) or 'same' (output as large as the input, stride 1). */
  padding?: Pair | 'valid' | 'same';
  dilation?: Pair;
  groups?: number;
}

export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  requireFloat(op, input, weight);
  const [x, unbatched] = batched(op, input);
  if (weight.ndim !== 4) throw new Error(`${op}: weight must be 4-D [out, in/groups, kH, kW], got ${fmt(weight.shape)}`);
  const stride = pair(op, 'stride', options.stride ?? 1, 1);
  const dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
  const groups = options.groups ?? 1;
  const C = x.shape[1]!;
  const [O, Cg, KH, KW] = weight.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0) {
    throw new Error(`${op}: groups = ${groups} must divide both in channels (${C}) and out channels (${O})`);
  }
  if (Cg * groups !== C) {
    throw new Error(
      `${op}: input ${fmt(x.shape)} has ${C} channels but weight ${fmt(weight.shape)} expects ${Cg * groups} (groups = ${groups})`,
    );
  }
  let padding: [number, number];
  let source = x;
  if (options.padding === 'valid') padding = [0, 0];
  else if (options.padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error(`${op}: padding 'same' needs stride 1`);
    const totalH = dilation[0] * (KH - 1);
    const totalW = dilation[1] * (KW - 1);
    padding = [Math.floor(totalH / 2), Math.floor(totalW / 2)];
    // An odd total pads one more row/column at the end, as PyTorch does.
    if (totalH % 2 !== 0 || totalW % 2 !== 0) source = pad(x, [0, totalW % 2, 0, totalH % 2]);
  } else padding = pair(op, 'padding', options.padding ?? 0, 0);
  const ho = windowOut(source.shape[2]!, KH, stride[0], padding[0], dilation[0]);
  const wo = windowOut(source.shape[3]!, KW, stride[1], padding[1], dilation[1]);
  if (ho <= 0 || wo <= 0) {
    throw new Error(`${op}: input ${fmt(x.shape)} is too small for kernel ${KH}x${KW} (dilation ${dilation}, padding ${padding})`);
  }
  const operands = [source, weight.to(x.dtype)];
  let separateBias: Tensor | null = null;
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== O) throw new Error(`${op}: bias must be [${O}], got ${fmt(bias.shape)}`);
    // Added in the same call, per output channel; a bias of another dtype is promoted by an add.
    if (bias.dtype === x.dtype) operands.push(bias);
    else separateBias = bias;
  }
  let y = run('conv2d', operands, { stride, padding, dilation, groups });
  if (separateBias) y = y.add(separateBias.reshape([1, O, 1, 1]));
  return unbatched ? y.squeeze(0) : y;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'valid' | 'same';
  dilation?: number;
  groups?: number;
}

/** 1-D convolution over [N, C, L], as a 2-D convolution of height 1. */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  if (input.ndim !== 2 && input.ndim !== 3) throw new Error(`conv1d: expected [C, L] or [N, C, L], got ${fmt(input.shape)}`);
  if (weight.ndim !== 3) throw new Error(`conv1d: weight must be 3-D [out, in/groups, k], got ${fmt(weight.shape)}`);
  const unbatched = input.ndim === 2;
  const padding = options.padding ?? 0;
  // Checked here so that errors show the caller's 3-D shapes, not the 4-D ones conv2d sees.
  const groups = options.groups ?? 1;
  const [C, L] = input.shape.slice(-2) as [number, number];
  const [, Cg, K] = weight.shape as [number, number, number];
  if (Number.isInteger(groups) && groups >= 1 && Cg * groups !== C) {
    throw new Error(`conv1d: input ${fmt(input.shape)} has ${C} channels but weight ${fmt(weight.shape)} expects ${Cg * groups} (groups = ${groups})`);
  }
  if (typeof padding === 'number' && windowOut(L, K, options.stride ?? 1, padding, options.dilation ?? 1) <= 0) {
    throw new Error(`conv1d: input ${fmt(input.shape)} is too small for kernel ${K} (dilation ${options.dilation ?? 1}, padding ${padding})`);
  }
  const x = (unbatched ? input.unsqueeze(0) : input).unsqueeze(2); // [N, C, 1, L]
  const y = conv2d(x, weight.unsqueeze(2), bias, {
    stride: [1, options.stride ?? 1],
    padding: typeof padding === 'number' ? [0, padding] : padding,
    dilation: [1, options.dilation ?? 1],
    groups: options.groups ?? 1,
  }).squeeze(2);
  return unbatched ? y.squeeze(0) : y;
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/**
 * Transposed convolution: the gradient of conv2d with respect to its input, used as a layer.
 * Weight is [in, out/groups, kH, kW], as in PyTorch.
 */
export function convTranspose2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTranspose2dOptions = {},
): Tensor {
  const op = 'convTranspose2d';
  requireFloat(op, input, weight);
  const [x, unbatched] = batched(op, input);
  if (weight.ndim !== 4) throw new Error(`${op}: weight must be 4-D [in, out/groups, kH, kW], got ${fmt(weight.shape)}`);
  const stride = pair(op, 'stride', options.stride ?? 1, 1);
  const padding = pair(op, 'padding', options.padding ?? 0, 0);
  const outputPadding = pair(op, 'outputPadding', options.outputPadding ?? 0, 0);
  const dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
  const groups = options.groups ?? 1;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Cin, Og, KH, KW] = weight.shape as [number, number, number, number];
  if (Cin !== C) throw new Error(`${op}: input ${fmt(x.shape)} has ${C} channels but weight ${fmt(weight.shape)} expects ${Cin}`);
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) {
    throw new Error(`${op}: groups = ${groups} must divide the in channels (${C})`);
  }
  if (outputPadding[0] >= Math.max(stride[0], dilation[0]) || outputPadding[1] >= Math.max(stride[1], dilation[1])) {
    throw new Error(`${op}: outputPadding ${outputPadding} must be smaller than stride or dilation`);
  }
  const O = Og * groups;
  const ho = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (KH - 1) + outputPadding[0] + 1;
  const wo = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (KW - 1) + outputPadding[1] + 1;
  if (ho <= 0 || wo <= 0) throw new Error(`${op}: the output would be empty (${ho}x${wo})`);
  let y = run('conv2dBackwardInput', [x, weight.to(x.dtype)], {
    stride,
    padding,
    dilation,
    groups,
    inputShape: [N, O, ho, wo],
  });
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== O) throw new Error(`${op}: bias must be [${O}], got ${fmt(bias.shape)}`);
    y = y.add(bias.reshape([1, O, 1, 1]));
  }
  return unbatched ? y.squeeze(0) : y;
}

export interface MaxPool2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** Kernel, stride and padding of a pooling op; padding may be at most half the kernel, as in PyTorch. */
function poolGeometry(op: string, x: Tensor, kernelSize: Pair, options: { stride?: Pair; padding?: Pair }) {
  const kernel = pair(op, 'kernelSize', kernelSize, 1);
  const stride = pair(op, 'stride', options.stride ?? kernel, 1);
  const padding = pair(op, 'padding', options.padding ?? 0, 0);
  if (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1]) {
    throw new Error(`${op}: padding ${padding} should be at most half the kernel size ${kernel}`);
  }
  return { kernel, stride, padding };
}

/** Whether every window along one axis reaches at least one input element (not only padding). */
function everyWindowTouchesInput(size: number, out: number, k: number, s: number, p: number, d: number): boolean {
  for (let o = 0; o < out; o++) {
    let touches = false;
    for (let t = 0; t < k && !touches; t++) {
      const i = o * s - p + t * d;
      touches = i >= 0 && i < size;
    }
    if (!touches) return false;
  }
  return true;
}

/** Max pooling; returns the values and, for each, the flat index h * W + w of the max in its plane. */
export function maxPool2dWithIndices(input: Tensor, kernelSize: Pair, options: MaxPool2dOptions = {}): { values: Tensor; indices: Tensor } {
  const op = 'maxPool2d';
  const [x, unbatched] = batched(op, input);
  const dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
  const { kernel, stride, padding } = poolGeometry(op, x, kernelSize, options);
  const ceilMode = options.ceilMode ?? false;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const ho = windowOut(H, kernel[0], stride[0], padding[0], dilation[0], ceilMode);
  const wo = windowOut(W, kernel[1], stride[1], padding[1], dilation[1], ceilMode);
  if (ho <= 0 || wo <= 0) throw new Error(`${op}: input ${fmt(x.shape)} is too small for kernel ${kernel}`);
  // With dilation a window can fall between input elements, entirely on padding: it has no maximum.
  if (
    !everyWindowTouchesInput(H, ho, kernel[0], stride[0], padding[0], dilation[0]) ||
    !everyWindowTouchesInput(W, wo, kernel[1], stride[1], padding[1], dilation[1])
  ) {
    throw new Error(
      `${op}: with input ${fmt(x.shape)}, kernel ${kernel}, padding ${padding} and dilation ${dilation} ` +
        'some pooling window covers only padding',
    );
  }
  const indices = run('maxPool2dIndices', [x], { kernel, stride, padding, dilation, ceilMode });
  // Values are gathered through the indices, so their gradient flows back along the same choice.
  const values = x
    .reshape([N, C, H * W])
    .gather(2, indices.reshape([N, C, ho * wo]))
    .reshape([N, C, ho, wo]);
  return unbatched ? { values: values.squeeze(0), indices: indices.squeeze(0) } : { values, indices };
}

export function maxPool2d(input: Tensor, kernelSize: Pair, options: MaxPool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(input, kernelSize, options).values;
}

export interface AvgPool2dOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export function avgPool2d(input: Tensor, kernelSize: Pair, options: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  requireFloat(op, input);
  const [x, unbatched] = batched(op, input);
  const { kernel, stride, padding } = poolGeometry(op, x, kernelSize, options);
  const divisorOverride = options.divisorOverride ?? null;
  if (divisorOverride !== null && divisorOverride <= 0) throw new Error(`${op}: divisorOverride must be positive`);
  const y = run('avgPool2d', [x], {
    kernel,
    stride,
    padding,
    ceilMode: options.ceilMode ?? false,
    countIncludePad: options.countIncludePad ?? true,
    divisorOverride,
  });
  return unbatched ? y.squeeze(0) : y;
}

/** Average pooling to a fixed output size; null keeps that dimension's input size. */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  const op = 'adaptiveAvgPool2d';
  requireFloat(op, input);
  const [x, unbatched] = batched(op, input);
  const [oh, ow] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const size: [number, number] = [oh ?? x.shape[2]!, ow ?? x.shape[3]!];
  if (size.some((d) => !Number.isInteger(d) || d <= 0)) throw new Error(`${op}: output size must be positive, got ${size}`);
  if (x.shape[2] === 0 || x.shape[3] === 0) throw new Error(`${op}: input ${fmt(x.shape)} has an empty spatial dimension`);
  const y = run('adaptiveAvgPool2d', [x], { outputSize: size });
  return unbatched ? y.squeeze(0) : y;
}
