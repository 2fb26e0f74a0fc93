/**
 * Embedding: a lookup table of learned vectors.
 */
import { Tensor, zeros, arange, where, embedding, noGrad } from '../tensor/index.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';

export interface EmbeddingOptions {
  /**
   * An index whose row is initialised to zeros and receives no gradient (a padding token);
   * negative values count from the end.
   */
  paddingIdx?: number | null;
}

/** Rows of weight [numEmbeddings, embeddingDim] picked by int32 indices; initialised N(0, 1). */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    let paddingIdx = options.paddingIdx ?? null;
    if (paddingIdx !== null) {
      if (!Number.isInteger(paddingIdx) || paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) {
        throw new Error(`Embedding: paddingIdx must be an integer within numEmbeddings (${numEmbeddings}), got ${paddingIdx}`);
      }
      if (paddingIdx < 0) paddingIdx += numEmbeddings;
    }
    this.paddingIdx = paddingIdx;
    this.weight = new Parameter(zeros([numEmbeddings, embeddingDim]));
    this.resetParameters();
  }

  resetParameters(): void {
    init.normal_(this.weight);
    if (this.paddingIdx !== null) {
      const isPadding = arange(this.numEmbeddings, undefined, 1, { device: this.weight.device }).eq(this.paddingIdx).unsqueeze(1); // [n, 1]
      noGrad(() => this.weight.copy_(where(isPadding, 0, this.weight)));
    }
  }

  forward(indices: Tensor): Tensor {
    const out = embedding(indices, this.weight); // [...indices.shape, embeddingDim]
    if (this.paddingIdx === null) return out;
    // Positions holding the padding index read the row but pass no gradient back to it.
    return where(indices.eq(this.paddingIdx).unsqueeze(-1), out.detach(), out);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}
