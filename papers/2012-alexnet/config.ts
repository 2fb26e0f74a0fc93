/**
 * AlexNet's training settings and presets. `paper` is Sec. 5 of Krizhevsky et al. 2012 on ImageNet
 * (an ImageFolder with train/ and val/ under the data root); `small` trains a narrowed net on the
 * CIFAR-10 JPEG folder at its own 32x32 resolution upscaled (a proxy: minutes, not days); `tiny`
 * runs in seconds for CI.
 */
import type { ConfigSpec } from '../../src/index.js';

export interface AlexNetConfig {
  [key: string]: number | string | boolean;
  /** 'alexnet2012' (the paper's net, two-GPU split as groups) or 'alexnet' (torchvision's one-weird-trick net). */
  arch: string;
  /** Divide every channel count and FC width by this (1: the full net). */
  widthDivisor: number;
  /** Folder under the data root holding train/ and the evaluation split, one sub-folder per class. */
  dataset: string;
  /** The evaluation split's folder name ('val' for ImageNet, 'test' for the CIFAR-10 JPEG folder). */
  valSplit: string;
  /** Rescale the shorter side to this, then take the central square (Sec. 2: 256). */
  resizeSize: number;
  /** Side of the random training crops and of the ten test crops (224; 227 makes conv1's arithmetic exact). */
  cropSize: number;
  /** Std of the PCA colour noise alpha (Sec. 4.1: 0.1; 0 turns it off). */
  pcaStd: number;
  /** Evaluate on ten crops (four corners, centre, and their mirrors) and average the softmax (Sec. 4.1). */
  tenCrop: boolean;
  /** Initialisation: 'paper' (Sec. 5: N(0, 0.01), biases 1 in conv2/4/5, fc6/7) or 'default' (PyTorch's). */
  init: string;
  /** Dropout probability in fc6 and fc7. */
  dropout: number;
  /** Passes over the training set (the paper: about 90). */
  epochs: number;
  /** Examples per SGD step (128). */
  batchSize: number;
  /** Initial learning rate (0.01). */
  lr: number;
  /** SGD momentum (0.9). */
  momentum: number;
  /** Weight decay (5e-4). */
  weightDecay: number;
  /** Epochs without improvement of the validation error before lr is divided by 10. */
  plateauPatience: number;
  /** Train on a random N of the training images (0: all). */
  trainLimit: number;
  /** Evaluate on a random N of the evaluation images (0: all). */
  valLimit: number;
  /** Random seed: initialisation, dropout, augmentation, shuffling, subsets. */
  seed: number;
  /** Save a checkpoint every this many steps (and at each epoch end). */
  checkpointEvery: number;
}

const paper: AlexNetConfig = {
  arch: 'alexnet2012',
  widthDivisor: 1,
  dataset: 'imagenet',
  valSplit: 'val',
  resizeSize: 256,
  cropSize: 227,
  pcaStd: 0.1,
  tenCrop: true,
  init: 'paper',
  dropout: 0.5,
  epochs: 90,
  batchSize: 128,
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 5e-4,
  plateauPatience: 2,
  trainLimit: 0,
  valLimit: 0,
  seed: 0,
  checkpointEvery: 1000,
};

export const spec: ConfigSpec<AlexNetConfig> = {
  presets: {
    tiny: {
      ...paper,
      arch: 'alexnet',
      widthDivisor: 32,
      dataset: 'imagenet-tiny',
      resizeSize: 72,
      cropSize: 63,
      init: 'default',
      epochs: 2,
      batchSize: 4,
      plateauPatience: 0,
      checkpointEvery: 2,
    },
    small: {
      ...paper,
      widthDivisor: 4,
      dataset: 'cifar10-jpeg',
      valSplit: 'test',
      resizeSize: 76,
      cropSize: 67,
      init: 'default',
      epochs: 10,
      batchSize: 64,
      trainLimit: 10000,
      valLimit: 2000,
      checkpointEvery: 100,
    },
    paper,
  },
  defaultPreset: 'small',
  docs: {
    arch: "'alexnet2012' (the paper's net) or 'alexnet' (torchvision's one-weird-trick net)",
    widthDivisor: 'divide every channel count and FC width by this (1: full width)',
    dataset: 'folder under the data root with train/ and the evaluation split (ImageFolder layout)',
    valSplit: "the evaluation split's folder ('val', or 'test')",
    resizeSize: 'shorter side rescaled to this, then the central square kept (256)',
    cropSize: 'random training crop and ten-crop size (224/227)',
    pcaStd: 'std of the PCA colour augmentation (0.1; 0: off)',
    tenCrop: 'evaluate on ten crops and average the softmax (else the centre crop)',
    init: "'paper' (N(0, 0.01), biases 1 in conv2/4/5 and fc6/7) or 'default' (PyTorch's)",
    dropout: 'dropout probability in fc6 and fc7 (0.5)',
    epochs: 'passes over the training set',
    batchSize: 'examples per SGD step',
    lr: 'initial learning rate',
    momentum: 'SGD momentum',
    weightDecay: 'weight decay',
    plateauPatience: 'epochs without a better validation error before lr /= 10',
    trainLimit: 'train on a random N training images (0: all)',
    valLimit: 'evaluate on a random N evaluation images (0: all)',
    seed: 'random seed',
    checkpointEvery: 'steps between checkpoints',
  },
  choices: { arch: ['alexnet2012', 'alexnet'], init: ['paper', 'default'] },
};

/** Fig. 1, ReLU against tanh: the settings of `milestones run alexnet-relu-tanh`. */
export interface ReluTanhConfig {
  [key: string]: number | string;
  /** Folder under the data root with train/<class>/ images (the CIFAR-10 JPEG folder). */
  dataset: string;
  /** Train on a random N of the training images (0: all 50,000). */
  trainLimit: number;
  /** Width of the first convolution (the others: same, then twice). */
  width: number;
  /** Learning rate of the ReLU net ("chosen independently to make training as fast as possible"). */
  lrRelu: number;
  /** Learning rate of the tanh net. */
  lrTanh: number;
  /**
   * Rates to search, comma-separated ('' = none): each net trains `searchEpochs` epochs at each and
   * keeps the fastest, replacing lrRelu / lrTanh ("chosen independently to make training as fast
   * as possible", Sec. 3.1).
   */
  lrGrid: string;
  /** Epochs of each search trial. */
  searchEpochs: number;
  /** SGD momentum. */
  momentum: number;
  /** Examples per SGD step. */
  batchSize: number;
  /** Stop after this many epochs even if a net has not reached the target. */
  epochs: number;
  /** Training error (%) the figure times (25). */
  targetError: number;
  /** Random seed. */
  seed: number;
}

const reluTanhPaper: ReluTanhConfig = {
  dataset: 'cifar10-jpeg',
  trainLimit: 0,
  width: 32,
  lrRelu: 0.01,
  lrTanh: 0.01,
  lrGrid: '0.003,0.01,0.03,0.1',
  searchEpochs: 2,
  momentum: 0.9,
  batchSize: 128,
  epochs: 40,
  targetError: 25,
  seed: 0,
};

export const reluTanhSpec: ConfigSpec<ReluTanhConfig> = {
  presets: {
    tiny: { ...reluTanhPaper, dataset: 'cifar-tiny', width: 4, batchSize: 8, epochs: 2, lrGrid: '' },
    small: { ...reluTanhPaper, trainLimit: 1000, batchSize: 50, epochs: 30, lrGrid: '' },
    paper: reluTanhPaper,
  },
  defaultPreset: 'small',
  docs: {
    dataset: 'folder under the data root with train/<class>/ images',
    trainLimit: 'train on a random N images (0: all)',
    width: 'channels of the first convolution',
    lrRelu: 'learning rate of the ReLU net',
    lrTanh: 'learning rate of the tanh net',
    lrGrid: "learning rates to search, e.g. '0.003,0.01,0.03' (each net keeps its fastest; '' = use lrRelu / lrTanh)",
    searchEpochs: 'epochs of each search trial',
    momentum: 'SGD momentum',
    batchSize: 'examples per SGD step',
    epochs: 'epochs at most',
    targetError: 'training error (%) to time (25)',
    seed: 'random seed',
  },
};
