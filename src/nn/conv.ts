/**
 * Convolution layers: Conv1d, Conv2d, ConvTranspose2d (weights as PyTorch lays them out).
 */
import { Tensor, zeros, pad, conv1d, conv2d, convTranspose2d, type Pair } from '../tensor/index.js';
import { Module, Parameter } from './module.js';
import { resetLinearLike } from './linear.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate';

function pairOf(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function tuple(v: readonly number[]): string {
  return `(${v.join(', ')}${v.length === 1 ? ',' : ''})`;
}

export interface Conv2dLayerOptions {
  stride?: Pair;
  /** Zero padding per side, or 'valid' / 'same'. */
  padding?: Pair | 'valid' | 'same';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** How the border is padded: zeros (default), or by reflecting or replicating the edge. */
  paddingMode?: PaddingMode;
}

/** 2-D convolution over [N, C, H, W]; weight [outChannels, inChannels / groups, kH, kW]. */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'valid' | 'same';
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(options.stride ?? 1);
    const p = options.padding ?? 0;
    this.padding = typeof p === 'string' ? p : pairOf(p);
    this.dilation = pairOf(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: groups = ${this.groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    if (this.paddingMode !== 'zeros' && typeof this.padding === 'string') {
      throw new Error(`Conv2d: paddingMode '${this.paddingMode}' needs numeric padding`);
    }
    this.weight = new Parameter(zeros([outChannels, inChannels / this.groups, ...this.kernelSize]));
    this.bias = (options.bias ?? true) ? new Parameter(zeros([outChannels])) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    const { stride, dilation, groups } = this;
    if (this.paddingMode !== 'zeros' && typeof this.padding !== 'string') {
      const [ph, pw] = this.padding;
      return conv2d(pad(x, [pw, pw, ph, ph], this.paddingMode), this.weight, this.bias, { stride, padding: 0, dilation, groups });
    }
    return conv2d(x, this.weight, this.bias, { stride, padding: this.padding, dilation, groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((v) => v !== 0)) s += `, padding=${tuple(this.padding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${tuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}

export interface Conv1dLayerOptions {
  stride?: number;
  padding?: number | 'valid' | 'same';
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

/** 1-D convolution over [N, C, L]; weight [outChannels, inChannels / groups, k]. */
export class Conv1d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: number;
  readonly padding: number | 'valid' | 'same';
  readonly dilation: number;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: Conv1dLayerOptions = {},
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv1d: groups = ${this.groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    this.weight = new Parameter(zeros([outChannels, inChannels / this.groups, kernelSize]));
    this.bias = (options.bias ?? true) ? new Parameter(zeros([outChannels])) : null;
    this.resetParameters();
  }

  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize},), stride=(${this.stride},)`;
    if (this.padding !== 0) s += `, padding=${typeof this.padding === 'string' ? this.padding : `(${this.padding},)`}`;
    if (this.dilation !== 1) s += `, dilation=(${this.dilation},)`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}

export interface ConvTranspose2dLayerOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  bias?: boolean;
  dilation?: Pair;
}

/**
 * Transposed 2-D convolution (the gradient of Conv2d with respect to its input, used as an
 * upsampling layer, as in DCGAN); weight [inChannels, outChannels / groups, kH, kW].
 */
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: ConvTranspose2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(options.stride ?? 1);
    this.padding = pairOf(options.padding ?? 0);
    this.outputPadding = pairOf(options.outputPadding ?? 0);
    this.dilation = pairOf(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`ConvTranspose2d: groups = ${this.groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    this.weight = new Parameter(zeros([inChannels, outChannels / this.groups, ...this.kernelSize]));
    this.bias = (options.bias ?? true) ? new Parameter(zeros([outChannels])) : null;
    this.resetParameters();
  }

  /** PyTorch's default: the same rule as Conv2d, with fanIn read from dim 1 of this weight layout. */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}`;
    if (this.padding.some((v) => v !== 0)) s += `, padding=${tuple(this.padding)}`;
    if (this.outputPadding.some((v) => v !== 0)) s += `, output_padding=${tuple(this.outputPadding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${tuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}
