/**
 * MultiheadAttention (Vaswani et al. 2017, Sec. 3.2.2), with torch.nn.MultiheadAttention's
 * parameter names (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias) and arguments.
 */
import { Tensor, zeros, softmax, linear } from '../tensor/index.js';
import { Module, Parameter } from './module.js';
import { Linear } from './linear.js';
import * as init from './init.js';
import * as F from './functional.js';

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights, in training (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Feature size of the keys (default embedDim). */
  kdim?: number;
  /** Feature size of the values (default embedDim). */
  vdim?: number;
  /** Inputs and output as [N, L, E] instead of [L, N, E] (default false). */
  batchFirst?: boolean;
}

export interface AttentionCallOptions {
  /** [N, S]: true (or -inf when float) marks keys to ignore, such as padding. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights too (default true). */
  needWeights?: boolean;
  /**
   * [L, S] or [N * numHeads, L, S]: true marks a query-key pair that may not attend; a float
   * mask is added to the scores.
   */
  attnMask?: Tensor | null;
  /** Average the returned weights over heads (default true). */
  averageAttnWeights?: boolean;
}

/** Turns a bool mask (true = blocked) into an additive float mask; float masks pass through. */
function additive(mask: Tensor, dtype: Tensor['dtype']): Tensor {
  if (mask.dtype === 'bool') return zeros([...mask.shape], { dtype, device: mask.device }).maskedFill(mask, -Infinity);
  return mask.to(dtype);
}

/**
 * Attention with numHeads heads, each of size embedDim / numHeads:
 * softmax(Q K^T / sqrt(dK) + mask) V per head, concatenated and projected (Eq. 1 and Sec. 3.2.2).
 */
export class MultiheadAttention extends Module {
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  /** Whether queries, keys and values share one packed [3E, E] in_proj_weight. */
  private readonly packed: boolean;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.dropout = options.dropout ?? 0;
    this.batchFirst = options.batchFirst ?? false;
    this.headDim = Math.floor(embedDim / numHeads);
    if (this.headDim * numHeads !== embedDim) throw new Error(`MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    this.packed = this.kdim === embedDim && this.vdim === embedDim;
    const E = embedDim;
    if (this.packed) {
      this.registerParameter('in_proj_weight', new Parameter(zeros([3 * E, E])));
    } else {
      this.registerParameter('q_proj_weight', new Parameter(zeros([E, E])));
      this.registerParameter('k_proj_weight', new Parameter(zeros([E, this.kdim])));
      this.registerParameter('v_proj_weight', new Parameter(zeros([E, this.vdim])));
    }
    const bias = options.bias ?? true;
    this.registerParameter('in_proj_bias', bias ? new Parameter(zeros([3 * E])) : null);
    // A child module, so its parameters are out_proj.weight and out_proj.bias.
    this.registerModule('out_proj', new Linear(E, E, { bias }));
    this.resetParameters();
  }

  /** PyTorch's default: Xavier-uniform input projections, zero biases, out_proj's weight as Linear's. */
  resetParameters(): void {
    if (this.packed) init.xavierUniform_(this.getParameter('in_proj_weight')!);
    else for (const name of ['q_proj_weight', 'k_proj_weight', 'v_proj_weight']) init.xavierUniform_(this.getParameter(name)!);
    const inBias = this.getParameter('in_proj_bias');
    if (inBias) init.zeros_(inBias);
    if (this.outProj.bias) init.zeros_(this.outProj.bias);
  }

  /** The output projection W^O (Sec. 3.2.2). */
  get outProj(): Linear {
    return this.getModule('out_proj') as Linear;
  }

  /** The packed projection [3E, E] (null when kdim or vdim differ from embedDim). */
  get inProjWeight(): Parameter | null {
    return this.packed ? this.getParameter('in_proj_weight') : null;
  }
  get inProjBias(): Parameter | null {
    return this.getParameter('in_proj_bias');
  }

  /** The three projection weights, sliced from in_proj_weight when packed. */
  private projections(): [Tensor, Tensor, Tensor] {
    if (this.packed) return this.getParameter('in_proj_weight')!.chunk(3, 0) as [Tensor, Tensor, Tensor];
    return [this.getParameter('q_proj_weight')!, this.getParameter('k_proj_weight')!, this.getParameter('v_proj_weight')!];
  }

  /**
   * query [L, N, E], key [S, N, kdim], value [S, N, vdim] (batch first with batchFirst; unbatched
   * [L, E] too). Returns [output [L, N, E], weights [N, L, S] (or [N, numHeads, L, S]) or null].
   */
  forward(query: Tensor, key: Tensor, value: Tensor, options: AttentionCallOptions = {}): [Tensor, Tensor | null] {
    const { keyPaddingMask = null, needWeights = true, attnMask = null, averageAttnWeights = true } = options;
    const unbatched = query.ndim === 2;
    if (query.ndim !== (unbatched ? 2 : 3) || key.ndim !== query.ndim || value.ndim !== query.ndim) {
      throw new Error(`MultiheadAttention: query, key and value must all be 2-D or all 3-D, got [${query.shape}], [${key.shape}], [${value.shape}]`);
    }
    const toSeqFirst = (t: Tensor) => (unbatched ? t.unsqueeze(1) : this.batchFirst ? t.transpose(0, 1) : t);
    const q0 = toSeqFirst(query); // [L, N, E]
    const k0 = toSeqFirst(key); // [S, N, kdim]
    const v0 = toSeqFirst(value); // [S, N, vdim]
    const [L, N, E] = q0.shape as [number, number, number];
    const S = k0.shape[0]!;
    if (E !== this.embedDim) throw new Error(`MultiheadAttention: query must have ${this.embedDim} features, got [${query.shape}]`);
    if (k0.shape[2] !== this.kdim || v0.shape[2] !== this.vdim || v0.shape[0] !== S || k0.shape[1] !== N || v0.shape[1] !== N) {
      throw new Error(`MultiheadAttention: key [${key.shape}] and value [${value.shape}] do not fit query [${query.shape}] (kdim ${this.kdim}, vdim ${this.vdim})`);
    }
    const H = this.numHeads;
    const dK = this.headDim;
    const [wq, wk, wv] = this.projections();
    const bias = this.inProjBias;
    const [bq, bk, bv] = bias ? (bias.chunk(3, 0) as [Tensor, Tensor, Tensor]) : [null, null, null];
    const heads = (t: Tensor, len: number) => t.reshape([len, N, H, dK]).permute(1, 2, 0, 3); // [N, H, len, dK]
    const q = heads(linear(q0, wq, bq), L);
    const k = heads(linear(k0, wk, bk), S);
    const v = heads(linear(v0, wv, bv), S);

    // Eq. 1: scores scaled by 1/sqrt(dK).
    let scores = q.mul(1 / Math.sqrt(dK)).matmul(k.transpose(-2, -1)); // [N, H, L, S]
    if (attnMask) {
      let m = additive(attnMask, scores.dtype);
      if (m.ndim === 2) {
        if (m.shape[0] !== L || m.shape[1] !== S) throw new Error(`MultiheadAttention: attnMask must be [${L}, ${S}], got [${attnMask.shape}]`);
      } else if (m.ndim === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S) {
        m = m.reshape([N, H, L, S]);
      } else throw new Error(`MultiheadAttention: attnMask must be [${L}, ${S}] or [${N * H}, ${L}, ${S}], got [${attnMask.shape}]`);
      scores = scores.add(m);
    }
    if (keyPaddingMask) {
      const expected = unbatched ? [S] : [N, S];
      if (keyPaddingMask.ndim !== expected.length || keyPaddingMask.shape.some((d, i) => d !== expected[i])) {
        throw new Error(`MultiheadAttention: keyPaddingMask must be [${expected}], got [${keyPaddingMask.shape}]`);
      }
      scores = scores.add(additive(keyPaddingMask, scores.dtype).reshape([N, 1, 1, S]));
    }
    let weights = softmax(scores, -1); // [N, H, L, S]
    if (this.dropout > 0) weights = F.dropout(weights, this.dropout, this.training);
    const context = weights.matmul(v).permute(2, 0, 1, 3).reshape([L, N, E]); // [L, N, E], heads concatenated
    let output = this.outProj.forward(context);
    output = unbatched ? output.squeeze(1) : this.batchFirst ? output.transpose(0, 1) : output;
    if (!needWeights) return [output, null];
    let w = averageAttnWeights ? weights.mean(1) : weights; // [N, L, S] or [N, H, L, S]
    if (unbatched) w = w.squeeze(0);
    return [output, w];
  }
}
