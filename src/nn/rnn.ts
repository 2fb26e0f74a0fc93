/**
 * Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional) and their single-step Cell forms.
 * Weights carry PyTorch's names and layouts: weight_ih_l{k}[_reverse] is [gates * hidden, input],
 * with the gates stacked in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n), so checkpoints
 * load by name.
 */
import { Tensor, zeros, linear, stack, cat } from '../tensor/index.js';
import { runMany } from '../tensor/dispatch.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';
import * as F from './functional.js';

export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** The weights of one layer in one direction. */
interface CellWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
}

/** A hidden state: h alone, or (h, c) for an LSTM. */
type State = { h: Tensor; c: Tensor | null };

/** One step of the Elman RNN. `xProj` is x W_ih^T + b_ih, computed for all steps at once by the caller. */
function step(mode: 'RNN_TANH' | 'RNN_RELU', xProj: Tensor, state: State, w: CellWeights): State {
  const pre = xProj.add(linear(state.h, w.wHh, w.bHh)); // [N, H]
  return { h: mode === 'RNN_TANH' ? pre.tanh() : pre.relu(), c: null };
}

/**
 * One layer in one direction over the whole sequence x [T, N, in]: returns the output [T, N, H] and
 * the state after the last step. An LSTM or GRU layer is one fused primitive (lstmSequence,
 * gruSequence; equations in src/backend/reference/rnn.ts: the LSTM of Hochreiter & Schmidhuber
 * 1997 with the forget gate of Gers et al. 2000, the GRU of Cho et al. 2014): every step, forward
 * and backward, runs inside it, and W_hh's gradient is one product over all steps. The Elman RNN
 * runs step by step. The input projection x W_ih^T + b_ih is one product over all steps in every case.
 */
function runLayer(mode: RNNMode, x: Tensor, state: State, w: CellWeights, reverse: boolean): { output: Tensor; state: State } {
  const T = x.shape[0]!;
  const last = reverse ? 0 : T - 1;
  if (mode === 'LSTM') {
    // b_hh is added to the input projection once: the pre-activations are the same sum.
    const bias = w.bIh && w.bHh ? w.bIh.add(w.bHh) : (w.bIh ?? w.bHh);
    const xGates = linear(x, w.wIh, bias); // [T, N, 4H]
    const [h, c] = runMany('lstmSequence', [xGates, w.wHh, state.h, state.c!], { reverse }) as [Tensor, Tensor];
    return { output: h, state: T === 0 ? state : { h: h.select(0, last), c: c.select(0, last) } };
  }
  if (mode === 'GRU') {
    // b_hh stays with the recurrent product: the candidate gate scales it by r.
    const H = w.wHh.shape[1]!;
    const bHh = w.bHh ?? zeros([3 * H], { dtype: x.dtype, device: x.device });
    const xGates = linear(x, w.wIh, w.bIh); // [T, N, 3H]
    const [h] = runMany('gruSequence', [xGates, w.wHh, bHh, state.h], { reverse });
    return { output: h!, state: T === 0 ? state : { h: h!.select(0, last), c: null } };
  }
  const xProj = linear(x, w.wIh, w.bIh); // [T, N, H], all steps at once
  const outs = new Array<Tensor>(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    state = step(mode, xProj.select(0, t), state, w);
    outs[t] = state.h;
  }
  const N = x.shape[1]!;
  const H = w.wHh.shape[1]!;
  return { output: T > 0 ? stack(outs, 0) : zeros([0, N, H], { dtype: x.dtype, device: x.device }), state };
}

export interface RNNOptions {
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Learn b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output as [N, T, features] instead of [T, N, features] (default false). */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last, in training (default 0). */
  dropout?: number;
  /** Run a second layer over the reversed sequence and concatenate (default false). */
  bidirectional?: boolean;
}

/** What the shared recurrent core returns: the top layer's outputs and the final states. */
interface RunResult {
  output: Tensor;
  h: Tensor;
  c: Tensor | null;
}

/** The shared implementation of RNN, LSTM and GRU. */
class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** The parameter names, per layer and direction, in PyTorch's order. */
  private readonly weightNames: string[][] = [];

  constructor(
    readonly mode: RNNMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: RNNOptions = {},
  ) {
    super();
    this.numLayers = options.numLayers ?? 1;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    if (this.dropout < 0 || this.dropout > 1) throw new Error(`${mode}: dropout must be between 0 and 1, got ${this.dropout}`);
    const G = GATES[mode] * hiddenSize;
    const directions = this.bidirectional ? 2 : 1;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const layerInput = layer === 0 ? inputSize : hiddenSize * directions;
      for (let d = 0; d < directions; d++) {
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const names = [`weight_ih${suffix}`, `weight_hh${suffix}`];
        this.registerParameter(names[0]!, new Parameter(zeros([G, layerInput])));
        this.registerParameter(names[1]!, new Parameter(zeros([G, hiddenSize])));
        if (this.bias) {
          names.push(`bias_ih${suffix}`, `bias_hh${suffix}`);
          this.registerParameter(names[2]!, new Parameter(zeros([G])));
          this.registerParameter(names[3]!, new Parameter(zeros([G])));
        }
        this.weightNames.push(names);
      }
    }
    this.resetParameters();
  }

  /** PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden)). */
  resetParameters(): void {
    const bound = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) init.uniform_(p, -bound, bound);
  }

  /** The weights of one layer and direction (index layer * directions + d). */
  protected cellWeights(index: number): CellWeights {
    const [ih, hh, bih, bhh] = this.weightNames[index]!;
    return {
      wIh: this.getParameter(ih!)!,
      wHh: this.getParameter(hh!)!,
      bIh: bih ? this.getParameter(bih) : null,
      bHh: bhh ? this.getParameter(bhh) : null,
    };
  }

  /**
   * Runs the stack over input [T, N, in] (or [N, T, in] with batchFirst, or unbatched [T, in])
   * from initial states h0 (and c0) of [layers * directions, N, H] (or [layers * directions, H]).
   */
  protected run(input: Tensor, h0: Tensor | null, c0: Tensor | null): RunResult {
    const name = this.mode === 'RNN_TANH' || this.mode === 'RNN_RELU' ? 'RNN' : this.mode;
    if (input.ndim !== 2 && input.ndim !== 3) throw new Error(`${name}: expected a 2-D or 3-D input, got [${input.shape.join(', ')}]`);
    const unbatched = input.ndim === 2;
    let x = unbatched ? input.unsqueeze(1) : this.batchFirst ? input.transpose(0, 1) : input; // [T, N, in]
    if (x.shape[2] !== this.inputSize) throw new Error(`${name}: input size must be ${this.inputSize}, got [${input.shape.join(', ')}]`);
    const N = x.shape[1]!;
    const directions = this.bidirectional ? 2 : 1;
    const stateShape = [this.numLayers * directions, N, this.hiddenSize];
    const initial = (s: Tensor | null, what: string): Tensor => {
      if (s === null) return zeros(stateShape, { dtype: x.dtype, device: x.device });
      const t = unbatched ? s.unsqueeze(1) : s;
      if (t.ndim !== 3 || t.shape.some((d, i) => d !== stateShape[i])) {
        const want = unbatched ? [stateShape[0], stateShape[2]] : stateShape;
        throw new Error(`${name}: expected ${what} of shape [${want.join(', ')}], got [${s.shape.join(', ')}]`);
      }
      return t;
    };
    const hInit = initial(h0, 'h0');
    const cInit = this.mode === 'LSTM' ? initial(c0, 'c0') : null;
    const hFinal: Tensor[] = [];
    const cFinal: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let d = 0; d < directions; d++) {
        const index = layer * directions + d;
        const start: State = { h: hInit.select(0, index), c: cInit ? cInit.select(0, index) : null };
        const { output, state } = runLayer(this.mode, x, start, this.cellWeights(index), d === 1);
        outputs.push(output); // [T, N, H]
        hFinal.push(state.h);
        if (state.c) cFinal.push(state.c);
      }
      x = directions === 2 ? cat(outputs, 2) : outputs[0]!; // [T, N, H * directions]
      if (layer < this.numLayers - 1 && this.dropout > 0) x = F.dropout(x, this.dropout, this.training);
    }
    const output = unbatched ? x.squeeze(1) : this.batchFirst ? x.transpose(0, 1) : x;
    let h = stack(hFinal, 0); // [layers * directions, N, H]
    let c = cFinal.length > 0 ? stack(cFinal, 0) : null;
    if (unbatched) {
      h = h.squeeze(1);
      c = c ? c.squeeze(1) : null;
    }
    return { output, h, c };
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (this.mode === 'RNN_RELU') s += ", nonlinearity='relu'";
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ', bidirectional=True';
    return s;
  }
}

export interface ElmanRNNOptions extends RNNOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh). Returns [output, hN]. */
export class RNN extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: ElmanRNNOptions = {}) {
    super((options.nonlinearity ?? 'tanh') === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, options);
  }

  forward(input: Tensor, h0: Tensor | null = null): [Tensor, Tensor] {
    const { output, h } = this.run(input, h0, null);
    return [output, h];
  }
}

/** LSTM (gates i, f, g, o). Returns [output, [hN, cN]]; initial states as [h0, c0]. */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('LSTM', inputSize, hiddenSize, options);
  }

  forward(input: Tensor, hx: [Tensor, Tensor] | null = null): [Tensor, [Tensor, Tensor]] {
    const { output, h, c } = this.run(input, hx ? hx[0] : null, hx ? hx[1] : null);
    return [output, [h, c!]];
  }
}

/** GRU (gates r, z, n). Returns [output, hN]. */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super('GRU', inputSize, hiddenSize, options);
  }

  forward(input: Tensor, h0: Tensor | null = null): [Tensor, Tensor] {
    const { output, h } = this.run(input, h0, null);
    return [output, h];
  }
}

/** The shared implementation of the single-step cells (weights weight_ih, weight_hh, bias_ih, bias_hh). */
class RNNCellBase extends Module {
  constructor(
    readonly mode: RNNMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly bias: boolean,
  ) {
    super();
    const G = GATES[mode] * hiddenSize;
    this.registerParameter('weight_ih', new Parameter(zeros([G, inputSize])));
    this.registerParameter('weight_hh', new Parameter(zeros([G, hiddenSize])));
    this.registerParameter('bias_ih', bias ? new Parameter(zeros([G])) : null);
    this.registerParameter('bias_hh', bias ? new Parameter(zeros([G])) : null);
    this.resetParameters();
  }

  get weightIh(): Parameter {
    return this.getParameter('weight_ih')!;
  }
  get weightHh(): Parameter {
    return this.getParameter('weight_hh')!;
  }
  get biasIh(): Parameter | null {
    return this.getParameter('bias_ih');
  }
  get biasHh(): Parameter | null {
    return this.getParameter('bias_hh');
  }

  /** PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden)). */
  resetParameters(): void {
    const bound = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) init.uniform_(p, -bound, bound);
  }

  /** One step on input [N, in] (or [in]) from state [N, H] (or [H]); zeros when not given. */
  protected cell(input: Tensor, h: Tensor | null, c: Tensor | null): State {
    const name = this.constructor.name;
    if (input.ndim !== 1 && input.ndim !== 2) throw new Error(`${name}: expected a 1-D or 2-D input, got [${input.shape.join(', ')}]`);
    if (input.shape[input.ndim - 1] !== this.inputSize) throw new Error(`${name}: input size must be ${this.inputSize}, got [${input.shape.join(', ')}]`);
    const unbatched = input.ndim === 1;
    const x = unbatched ? input.unsqueeze(0) : input;
    const shape = [x.shape[0]!, this.hiddenSize];
    const prepare = (s: Tensor | null, what: string): Tensor => {
      if (s === null) return zeros(shape, { dtype: x.dtype, device: x.device });
      const t = unbatched ? s.unsqueeze(0) : s;
      if (t.ndim !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1]) {
        throw new Error(`${name}: expected ${what} of shape [${(unbatched ? [this.hiddenSize] : shape).join(', ')}], got [${s.shape.join(', ')}]`);
      }
      return t;
    };
    const state = { h: prepare(h, 'hx'), c: this.mode === 'LSTM' ? prepare(c, 'cx') : null };
    const w = { wIh: this.weightIh, wHh: this.weightHh, bIh: this.biasIh, bHh: this.biasHh };
    const next = runLayer(this.mode, x.unsqueeze(0), state, w, false).state; // a sequence of one step
    if (!unbatched) return next;
    return { h: next.h.squeeze(0), c: next.c ? next.c.squeeze(0) : null };
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias ? '' : ', bias=False'}${this.mode === 'RNN_RELU' ? ", nonlinearity='relu'" : ''}`;
  }
}

/** One Elman RNN step: returns h'. */
export class RNNCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean; nonlinearity?: 'tanh' | 'relu' } = {}) {
    super((options.nonlinearity ?? 'tanh') === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, options.bias ?? true);
  }

  forward(input: Tensor, hx: Tensor | null = null): Tensor {
    return this.cell(input, hx, null).h;
  }
}

/** One LSTM step: returns [h', c']. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean } = {}) {
    super('LSTM', inputSize, hiddenSize, options.bias ?? true);
  }

  forward(input: Tensor, hx: [Tensor, Tensor] | null = null): [Tensor, Tensor] {
    const next = this.cell(input, hx ? hx[0] : null, hx ? hx[1] : null);
    return [next.h, next.c!];
  }
}

/** One GRU step: returns h'. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean } = {}) {
    super('GRU', inputSize, hiddenSize, options.bias ?? true);
  }

  forward(input: Tensor, hx: Tensor | null = null): Tensor {
    return this.cell(input, hx, null).h;
  }
}
