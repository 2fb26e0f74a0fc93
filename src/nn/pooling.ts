/**
 * Pooling layers: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d.
 */
import { Tensor, maxPool2d, avgPool2d, adaptiveAvgPool2d, type Pair } from '../tensor/index.js';
import { Module } from './module.js';

/** A size as PyTorch prints it: 2, or (2, 3). */
function size(v: Pair): string {
  return typeof v === 'number' ? String(v) : `(${v[0]}, ${v[1]})`;
}

export interface MaxPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** Max over each kH x kW window of [N, C, H, W]. */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: MaxPool2dLayerOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernel_size=${size(this.kernelSize)}, stride=${size(o.stride ?? this.kernelSize)}, padding=${size(o.padding ?? 0)}, dilation=${size(o.dilation ?? 1)}, ceil_mode=${o.ceilMode ? 'True' : 'False'}`;
  }
}

export interface AvgPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** Mean over each kH x kW window of [N, C, H, W]. */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: AvgPool2dLayerOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernel_size=${size(this.kernelSize)}, stride=${size(o.stride ?? this.kernelSize)}, padding=${size(o.padding ?? 0)}`;
  }
}

/** Averages [N, C, H, W] down to a fixed [outH, outW] (null keeps that input size). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number | null, number | null]) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    const s = this.outputSize;
    return `output_size=${typeof s === 'number' ? s : `(${s.map((v) => (v === null ? 'None' : v)).join(', ')})`}`;
  }
}
