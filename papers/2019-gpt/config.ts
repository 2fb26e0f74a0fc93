/**
 * GPT configuration: the model's shape (nanoGPT's GPTConfig) and the training run (nanoGPT's train.py
 * globals), with the presets of nanoGPT's README.
 */
import type { ConfigSpec } from '../../src/index.js';

/** The model's shape (nanoGPT's `GPTConfig`; Hugging Face's `GPT2Config` names in brackets). */
export interface GPTConfig {
  /** Longest context the model sees; the number of learned positions [n_positions]. */
  blockSize: number;
  /** Number of token ids [vocab_size]. */
  vocabSize: number;
  /** Transformer blocks [n_layer]. */
  nLayer: number;
  /** Attention heads per block [n_head]. */
  nHead: number;
  /** Width of the residual stream [n_embd]. */
  nEmbd: number;
  /** Dropout probability on embeddings, attention weights and residual branches. */
  dropout: number;
  /** Biases in Linear and LayerNorm layers (GPT-2: true; nanoGPT trains without: slightly better, faster). */
  bias: boolean;
  /** LayerNorm epsilon [layer_norm_epsilon]. */
  layerNormEps: number;
}

/** One training run (nanoGPT's train.py settings, camelCased). */
export interface GPTTrainConfig {
  [key: string]: number | string | boolean;
  /** Seed of the model's initialisation, the batch sampler and dropout. */
  seed: number;
  /** Dataset: 'shakespeare_char' reads <data root>/tinyshakespeare/input.txt. */
  dataset: string;
  /** Transformer blocks. */
  nLayer: number;
  /** Attention heads per block. */
  nHead: number;
  /** Width of the residual stream. */
  nEmbd: number;
  /** Context length in characters. */
  blockSize: number;
  /** Dropout probability (0 for the small CPU model, 0.2 for the GPU shakespeare-char model). */
  dropout: number;
  /** Biases in Linear and LayerNorm layers (nanoGPT's train.py default: false). */
  bias: boolean;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches whose gradients are summed into one optimizer step. */
  gradientAccumulationSteps: number;
  /** Optimizer steps in the run. */
  maxIters: number;
  /** Peak learning rate, reached after the warmup. */
  learningRate: number;
  /** Linear warmup steps. */
  warmupIters: number;
  /** Step at which the cosine decay reaches minLr (after it, the rate stays there). */
  lrDecayIters: number;
  /** Floor of the cosine decay (nanoGPT: about learningRate / 10). */
  minLr: number;
  /** AdamW β1. */
  beta1: number;
  /** AdamW β2 (0.99: the batches are small, so the second moment may adapt faster). */
  beta2: number;
  /** AdamW decoupled weight decay, applied to matrices and embeddings only. */
  weightDecay: number;
  /** Clip the gradients' joint 2-norm to this (0: no clipping). */
  gradClip: number;
  /** Evaluate (and checkpoint) every this many steps. */
  evalInterval: number;
  /** Batches per split averaged by an evaluation. */
  evalIters: number;
  /** Log the training loss every this many steps. */
  logInterval: number;
  /** Characters sampled from the model at each evaluation and at the end. */
  sampleTokens: number;
  /** Sampling temperature of those samples. */
  temperature: number;
  /** Keep only the k most likely tokens when sampling (0: all). */
  topK: number;
}

const cpu: GPTTrainConfig = {
  seed: 1337,
  dataset: 'shakespeare_char',
  nLayer: 4,
  nHead: 4,
  nEmbd: 128,
  blockSize: 64,
  dropout: 0,
  bias: false,
  batchSize: 12,
  gradientAccumulationSteps: 1,
  maxIters: 2000,
  learningRate: 1e-3,
  warmupIters: 100,
  lrDecayIters: 2000,
  minLr: 1e-4,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0.1,
  gradClip: 1.0,
  evalInterval: 250,
  evalIters: 20,
  logInterval: 10,
  sampleTokens: 500,
  temperature: 0.8,
  topK: 200,
};

/** nanoGPT's config/train_shakespeare_char.py, as run on one A100 (about 3 minutes there). */
const paper: GPTTrainConfig = {
  ...cpu,
  nLayer: 6,
  nHead: 6,
  nEmbd: 384,
  blockSize: 256,
  dropout: 0.2,
  batchSize: 64,
  maxIters: 5000,
  lrDecayIters: 5000,
  evalInterval: 250,
  evalIters: 200,
};

/** A few seconds anywhere: checks the whole pipeline, learns little. */
const tiny: GPTTrainConfig = {
  ...cpu,
  nLayer: 2,
  nHead: 2,
  nEmbd: 32,
  blockSize: 16,
  batchSize: 4,
  gradientAccumulationSteps: 2,
  maxIters: 20,
  learningRate: 1e-2,
  minLr: 1e-3,
  warmupIters: 5,
  lrDecayIters: 20,
  evalInterval: 10,
  evalIters: 2,
  logInterval: 5,
  sampleTokens: 40,
};

export const spec: ConfigSpec<GPTTrainConfig> = {
  presets: { tiny, cpu, paper },
  defaultPreset: 'cpu',
  docs: {
    seed: 'seed of the initialisation, the batch sampler and dropout',
    dataset: "dataset: 'shakespeare_char' (<data root>/tinyshakespeare/input.txt)",
    nLayer: 'transformer blocks',
    nHead: 'attention heads per block',
    nEmbd: 'width of the residual stream',
    blockSize: 'context length in characters',
    dropout: 'dropout probability',
    bias: 'biases in Linear and LayerNorm layers',
    batchSize: 'sequences per micro-batch',
    gradientAccumulationSteps: 'micro-batches per optimizer step',
    maxIters: 'optimizer steps',
    learningRate: 'peak learning rate',
    warmupIters: 'linear warmup steps',
    lrDecayIters: 'step where the cosine decay reaches minLr',
    minLr: 'floor of the cosine decay',
    beta1: 'AdamW beta1',
    beta2: 'AdamW beta2',
    weightDecay: 'AdamW weight decay (matrices and embeddings only)',
    gradClip: 'clip the gradient norm to this (0: off)',
    evalInterval: 'evaluate and checkpoint every this many steps',
    evalIters: 'batches per split in an evaluation',
    logInterval: 'log the training loss every this many steps',
    sampleTokens: 'characters sampled at each evaluation',
    temperature: 'sampling temperature',
    topK: 'sample from the k most likely tokens (0: all)',
  },
  choices: { dataset: ['shakespeare_char'] },
};
