/**
 * GPT: a decoder-only Transformer language model.
 *
 * "Improving Language Understanding by Generative Pre-Training", Radford, Narasimhan, Salimans,
 * Sutskever (2018); "Language Models are Unsupervised Multitask Learners", Radford, Wu, Child, Luan,
 * Amodei, Sutskever (2019, GPT-2); "Language Models are Few-Shot Learners", Brown et al. (2020,
 * arXiv 2005.14165, GPT-3). The code follows karpathy/nanoGPT's model.py, leaf modules first, and
 * keeps GPT-2's parameter names (transformer.h.0.attn.c_attn.weight, ...) so that its checkpoints load.
 *
 *   CausalSelfAttention  masked multi-head self-attention (GPT-1 Sec. 3.1; Vaswani et al. 2017 Sec. 3.2)
 *   MLP                  the position-wise feed-forward layer with GELU (GPT-1 Sec. 4.1)
 *   Block                a pre-LayerNorm residual block (GPT-2 Sec. 2.3)
 *   GPT                  embeddings, blocks, final LayerNorm, tied output layer, generation
 *   fromPretrained       a Hugging Face GPT-2 folder (config.json + model.safetensors) into a GPT
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, nn, Tensor, arange, cat, multinomial, noGrad, ones, zeros, type Generator } from '../../src/index.js';
import type { GPTConfig } from './config.js';

const F = nn.functional;

/** Keys and values of the positions seen so far, for one block (filled in by its attention layer). */
export interface LayerCache {
  k: Tensor | null; // [B, nHead, past, headSize]
  v: Tensor | null; // [B, nHead, past, headSize]
}

/** Masked multi-head self-attention: each position attends to itself and the positions before it. */
export class CausalSelfAttention extends nn.Module {
  /** Queries, keys and values of all heads in one matrix (GPT-2's fused c_attn). */
  readonly c_attn: nn.Linear;
  /** The output projection back into the residual stream. */
  readonly c_proj: nn.Linear;
  readonly attn_dropout: nn.Dropout;
  readonly resid_dropout: nn.Dropout;
  private readonly nHead: number;
  private readonly nEmbd: number;

  constructor(config: GPTConfig) {
    super();
    if (config.nEmbd % config.nHead !== 0) throw new Error(`GPT: nEmbd ${config.nEmbd} is not divisible by nHead ${config.nHead}`);
    this.c_attn = new nn.Linear(config.nEmbd, 3 * config.nEmbd, { bias: config.bias });
    this.c_proj = new nn.Linear(config.nEmbd, config.nEmbd, { bias: config.bias });
    this.attn_dropout = new nn.Dropout(config.dropout);
    this.resid_dropout = new nn.Dropout(config.dropout);
    this.nHead = config.nHead;
    this.nEmbd = config.nEmbd;
    // true above the diagonal: key j is in the future of query i. Not saved (nanoGPT's "bias" buffer).
    this.registerBuffer('bias', ones([config.blockSize, config.blockSize]).triu(1).bool(), false);
  }

  /** `x` [B, T, C] holds new positions; with a cache, they follow the cached ones and are appended to it. */
  forward(x: Tensor, cache?: LayerCache): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const hs = C / this.nHead;
    const heads = (t: Tensor) => t.reshape(B, T, this.nHead, hs).transpose(1, 2); // [B, nHead, T, hs]
    const [q0, k0, v0] = this.c_attn.forward(x).split(this.nEmbd, 2) as [Tensor, Tensor, Tensor]; // 3 x [B, T, C]
    const q = heads(q0);
    let k = heads(k0);
    let v = heads(v0);
    const past = cache?.k ? cache.k.shape[2]! : 0;
    if (cache) {
      if (cache.k && cache.v) {
        k = cat([cache.k, k], 2); // [B, nHead, past + T, hs]
        v = cat([cache.v, v], 2);
      }
      cache.k = k;
      cache.v = v;
    }
    const S = past + T;
    // Vaswani et al. Eq. 1: softmax(Q K^T / sqrt(d_k)) V, with the future masked out (GPT-1 Sec. 3.1).
    const future = this.getBuffer('bias')!.slice([past, S], [0, S]); // [T, S]
    let att = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(hs)); // [B, nHead, T, S]
    att = att.maskedFill(future, -Infinity).softmax(-1);
    att = this.attn_dropout.forward(att);
    const y = att.matmul(v).transpose(1, 2).reshape(B, T, C); // [B, nHead, T, hs] -> [B, T, C]
    return this.resid_dropout.forward(this.c_proj.forward(y));
  }
}

/** The feed-forward layer: widen 4x, GELU, project back (GPT-1 Sec. 4.1). */
export class MLP extends nn.Module {
  readonly c_fc: nn.Linear;
  readonly c_proj: nn.Linear;
  readonly dropout: nn.Dropout;

  constructor(config: GPTConfig) {
    super();
    this.c_fc = new nn.Linear(config.nEmbd, 4 * config.nEmbd, { bias: config.bias });
    this.c_proj = new nn.Linear(4 * config.nEmbd, config.nEmbd, { bias: config.bias });
    this.dropout = new nn.Dropout(config.dropout);
  }

  forward(x: Tensor): Tensor {
    // GPT-2 uses GELU's tanh approximation ("gelu_new"); its weights expect it.
    return this.dropout.forward(this.c_proj.forward(this.c_fc.forward(x).gelu('tanh'))); // [B, T, C]
  }
}

/** One Transformer block with LayerNorm at the input of each sub-block (GPT-2 Sec. 2.3). */
export class Block extends nn.Module {
  readonly ln_1: nn.LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: nn.LayerNorm;
  readonly mlp: MLP;

  constructor(config: GPTConfig) {
    super();
    this.ln_1 = new nn.LayerNorm(config.nEmbd, { bias: config.bias, eps: config.layerNormEps });
    this.attn = new CausalSelfAttention(config);
    this.ln_2 = new nn.LayerNorm(config.nEmbd, { bias: config.bias, eps: config.layerNormEps });
    this.mlp = new MLP(config);
  }

  forward(x: Tensor, cache?: LayerCache): Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x), cache));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

/** The trunk, under the name GPT-2 checkpoints give it ("transformer."). */
export class Transformer extends nn.Module {
  /** Token embeddings [vocabSize, nEmbd], shared with the output layer. */
  readonly wte: nn.Embedding;
  /** Learned position embeddings [blockSize, nEmbd] (GPT-1 Sec. 4.1). */
  readonly wpe: nn.Embedding;
  readonly drop: nn.Dropout;
  readonly h: nn.ModuleList<Block>;
  /** The extra LayerNorm after the last block (GPT-2 Sec. 2.3). */
  readonly ln_f: nn.LayerNorm;

  constructor(config: GPTConfig) {
    super();
    this.wte = new nn.Embedding(config.vocabSize, config.nEmbd);
    this.wpe = new nn.Embedding(config.blockSize, config.nEmbd);
    this.drop = new nn.Dropout(config.dropout);
    this.h = new nn.ModuleList(Array.from({ length: config.nLayer }, () => new Block(config)));
    this.ln_f = new nn.LayerNorm(config.nEmbd, { bias: config.bias, eps: config.layerNormEps });
  }
}

/** Options of GPT.generate. */
export interface GenerateOptions {
  /** Divides the logits: below 1 sharpens, above 1 flattens; 0 picks the most likely token. */
  temperature?: number;
  /** Sample only among the k most likely tokens (0: all). */
  topK?: number;
  /** Sample only among the most likely tokens whose probabilities add up to p (nucleus sampling; 1: all). */
  topP?: number;
  generator?: Generator;
  /** Called with each new column of tokens [B] as soon as it is drawn (for streaming). */
  onToken?: (ids: number[]) => void;
}

/** The language model: tokens [B, T] in, next-token logits [B, T, vocabSize] out. */
export class GPT extends nn.Module {
  readonly transformer: Transformer;
  /** The output layer; its weight is the token embedding matrix (weight tying, Press & Wolf 2017). */
  readonly lm_head: nn.Linear;

  constructor(readonly config: GPTConfig) {
    super();
    this.transformer = new Transformer(config);
    this.lm_head = new nn.Linear(config.nEmbd, config.vocabSize, { bias: false });
    this.lm_head.weight = this.transformer.wte.weight;
    // GPT-2's initialisation: N(0, 0.02) weights, zero biases, and residual projections scaled by
    // 1/sqrt(2 nLayer), since each block adds two of them to the residual stream (GPT-2 Sec. 2.3).
    noGrad(() => {
      for (const [name, p] of this.namedParameters()) {
        if (p.ndim < 2) continue; // LayerNorm weights stay 1, biases 0
        const residual = name.endsWith('c_proj.weight');
        nn.init.normal_(p, 0, residual ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02);
      }
      for (const [name, p] of this.namedParameters()) if (name.endsWith('.bias')) nn.init.zeros_(p);
    });
  }

  /**
   * Parameters counted as nanoGPT's get_num_params does: by default without the position
   * embeddings. The token embeddings count (once), since they are also the output layer's weights.
   */
  getNumParams(nonEmbedding = true): number {
    const n = this.numParameters();
    return nonEmbedding ? n - this.transformer.wpe.weight.numel() : n;
  }

  /**
   * Logits [B, T, vocabSize] for tokens `idx` [B, T] (int32), and the mean cross-entropy against
   * `targets` [B, T] when given. With `caches` (one per block), `idx` continues the cached positions.
   */
  forward(idx: Tensor, targets?: Tensor, caches?: LayerCache[]): { logits: Tensor; loss: Tensor | null } {
    const [B, T] = idx.shape as [number, number];
    const past = caches?.[0]?.k ? caches[0].k.shape[2]! : 0;
    if (past + T > this.config.blockSize) {
      throw new Error(`GPT: cannot forward ${past + T} positions, the block size is only ${this.config.blockSize}`);
    }
    const pos = arange(past, past + T, 1, { dtype: 'int32', device: idx.device }); // [T]
    let x = this.transformer.wte.forward(idx).add(this.transformer.wpe.forward(pos)); // [B, T, C]
    x = this.transformer.drop.forward(x);
    let i = 0;
    for (const block of this.transformer.h) x = block.forward(x, caches?.[i++]);
    x = this.transformer.ln_f.forward(x);
    const logits = this.lm_head.forward(x); // [B, T, vocabSize]
    const loss = targets
      ? F.crossEntropy(logits.reshape(B * T, this.config.vocabSize), targets.reshape(B * T))
      : null;
    return { logits, loss };
  }

  /**
   * Continues each row of `idx` [B, T] by `maxNewTokens` sampled tokens; returns [B, T + maxNewTokens].
   * A key/value cache makes each new token cost one position. When the context fills the block,
   * the cache restarts from the last half block of tokens (nanoGPT instead re-reads the last full
   * block for every token, which no cache can do, since every position would shift).
   */
  generate(idx: Tensor, maxNewTokens: number, options: GenerateOptions = {}): Tensor {
    return noGrad(() => {
      const tokens: Tensor[] = [idx];
      let context = idx.slice(null, [Math.max(0, idx.shape[1]! - this.config.blockSize), null]);
      let caches = this.newCaches();
      let logits = this.forward(context, undefined, caches).logits;
      for (let n = 0; n < maxNewTokens; n++) {
        const next = sampleNext(logits.select(1, logits.shape[1]! - 1), options); // [B, 1]
        tokens.push(next);
        options.onToken?.(next.reshape(-1).toArray() as number[]);
        if (n === maxNewTokens - 1) break;
        if (caches[0]!.k!.shape[2]! >= this.config.blockSize) {
          const all = cat(tokens, 1);
          context = all.slice(null, [all.shape[1]! - Math.floor(this.config.blockSize / 2), null]);
          caches = this.newCaches();
          logits = this.forward(context, undefined, caches).logits;
        } else {
          logits = this.forward(next, undefined, caches).logits; // [B, 1, vocabSize]
        }
      }
      return cat(tokens, 1);
    });
  }

  /** One empty cache per block. */
  newCaches(): LayerCache[] {
    return Array.from({ length: this.config.nLayer }, () => ({ k: null, v: null }));
  }
}

/** Draws one token per row from logits [B, vocabSize], with temperature, top-k and top-p; [B, 1] int32. */
export function sampleNext(logits: Tensor, options: GenerateOptions = {}): Tensor {
  const { temperature = 1, topK = 0, topP = 1 } = options;
  if (temperature === 0) return logits.argmax(-1, true).int();
  let l = logits.div(temperature);
  const V = l.shape[1]!;
  if (topK > 0 && topK < V) {
    const kth = l.topk(topK, -1).values.slice(null, [topK - 1, topK]); // [B, 1]
    l = l.maskedFill(l.lt(kth), -Infinity);
  }
  let probs = l.softmax(-1); // [B, V]
  if (topP < 1) {
    // Holtzman et al. 2020: keep the smallest set of most likely tokens whose mass reaches p.
    const sorted = probs.sort(-1, true);
    const massBefore = sorted.values.cumsum(-1).sub(sorted.values); // [B, V]
    const dropSorted = massBefore.gt(topP).float(); // the most likely token always stays
    const drop = zeros([...probs.shape], { device: probs.device }).scatter(-1, sorted.indices, dropSorted).gt(0);
    probs = probs.maskedFill(drop, 0);
  }
  return multinomial(probs, 1, true, { generator: options.generator }); // [B, 1]
}

/** What fromPretrained reads from a Hugging Face GPT2Config (config.json). */
interface HFGPT2Config {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  layer_norm_epsilon?: number;
  activation_function?: string;
  resid_pdrop?: number;
}

/** Hugging Face stores these as Conv1D weights, [in, out]: the transpose of a Linear's [out, in]. */
const CONV1D = ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight'];

/**
 * Loads a Hugging Face GPT-2 folder (config.json and model.safetensors, as `save_pretrained` writes
 * them) into a GPT, mapping names as nanoGPT's from_pretrained does. The model is in eval mode.
 */
export function fromPretrained(dir: string): GPT {
  const hf = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HFGPT2Config;
  const act = hf.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new') throw new Error(`fromPretrained: ${dir} uses activation '${act}'; this GPT implements GPT-2's gelu_new only`);
  const model = new GPT({
    vocabSize: hf.vocab_size,
    blockSize: hf.n_positions,
    nEmbd: hf.n_embd,
    nLayer: hf.n_layer,
    nHead: hf.n_head,
    layerNormEps: hf.layer_norm_epsilon ?? 1e-5,
    dropout: hf.resid_pdrop ?? 0.1,
    bias: true,
  });
  const { tensors } = io.loadSafetensors(join(dir, 'model.safetensors'));
  const state: Record<string, Tensor> = {};
  for (const [fileName, t] of Object.entries(tensors)) {
    const name = fileName.startsWith('transformer.') ? fileName.slice('transformer.'.length) : fileName;
    if (/\.attn\.(masked_)?bias$/.test(name)) continue; // causal-mask buffers, not weights (c_attn.bias is)
    if (name === 'lm_head.weight') continue; // tied to wte
    state[`transformer.${name}`] = CONV1D.some((s) => name.endsWith(s)) ? t.t().contiguous() : t;
  }
  state['lm_head.weight'] = state['transformer.wte.weight']!;
  model.loadStateDict(state);
  return model.eval();
}
