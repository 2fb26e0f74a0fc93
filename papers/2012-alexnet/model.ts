/**
 * AlexNet.
 *
 *   "ImageNet Classification with Deep Convolutional Neural Networks", Krizhevsky, Sutskever,
 *   Hinton, NeurIPS 2012 (Sec. 3 the architecture, Fig. 2; Sec. 3.3 local response normalization;
 *   Sec. 3.4 overlapping pooling; Sec. 4.2 dropout; Sec. 5 initialisation).
 *   "One weird trick for parallelizing convolutional neural networks", Krizhevsky, 2014,
 *   arXiv:1404.5997 (the single-tower 64-192-384-384-256 net, without LRN; torchvision's AlexNet
 *   is this net with conv4 at 256 channels and an adaptive average pool before the classifier).
 *
 * This file holds:
 * - convOutputSize / alexnetFeatureSize: the size arithmetic of the conv stack.
 * - AlexNet2012: the network of the 2012 paper, with its two-GPU split kept as grouped convolutions.
 * - initAlexNet2012_: the paper's initialisation (Sec. 5).
 * - AlexNet: torchvision's AlexNet (the one-weird-trick variant), parameter names as torchvision's.
 */
import { nn, noGrad, type Tensor } from '../../src/index.js';

/** Output size of a convolution or pooling window: floor((n + 2 pad - k) / stride) + 1. */
export function convOutputSize(n: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - kernel) / stride) + 1;
}

/**
 * Spatial size of AlexNet2012's last pooled feature map for a square input: 227 gives 6 (the 6x6x256
 * that fc6 reads). The paper says 224, but 11x11 kernels at stride 4 need 227 to give 55x55
 * (Caffe's bvlc_alexnet uses 227).
 */
export function alexnetFeatureSize(inputSize: number): number {
  let n = convOutputSize(inputSize, 11, 4, 0); // conv1
  n = convOutputSize(n, 3, 2, 0); // pool1
  n = convOutputSize(n, 5, 1, 2); // conv2
  n = convOutputSize(n, 3, 2, 0); // pool2
  n = convOutputSize(n, 3, 2, 0); // conv3-5 keep the size; pool5
  if (n < 1) throw new Error(`AlexNet2012: input ${inputSize}x${inputSize} is too small (needs at least 67)`);
  return n;
}

/** How AlexNet2012 is built: the paper's net by default, or a narrower one for small tests. */
export interface AlexNet2012Options {
  /** Classes in the output layer (1000 for ILSVRC). */
  numClasses?: number;
  /** Side of the square input crop (227; see alexnetFeatureSize). */
  inputSize?: number;
  /** Divide every channel count and FC width by this (1: the paper's net). */
  widthDivisor?: number;
  /** Dropout probability in fc6 and fc7 (0.5, Sec. 4.2). */
  dropout?: number;
}

/**
 * The 2012 network (Fig. 2): five convolutional and three fully connected layers, ReLU after every
 * layer but the last (Sec. 3.1), local response normalization after conv1 and conv2 (Sec. 3.3),
 * overlapping 3x3 max pooling with stride 2 after conv1, conv2 and conv5 (Sec. 3.4), and dropout
 * 0.5 on the outputs of fc6 and fc7 (Sec. 4.2).
 *
 * The two-GPU split (Sec. 3.2) is kept as groups = 2: conv2, conv4 and conv5 see only the kernel
 * maps of their own GPU (48, 192 and 192 input channels per kernel), while conv3 and the fully
 * connected layers see all of them. On one device a grouped convolution computes exactly what the
 * two towers computed; this is also how Caffe's bvlc_alexnet writes it, and it gives the paper's
 * "60 million parameters" (60,965,224).
 *
 * Names follow torchvision's layout (features.i, classifier.i), so the two nets read alike.
 */
export class AlexNet2012 extends nn.Module {
  features: nn.Sequential;
  classifier: nn.Sequential;
  readonly featureSize: number;

  constructor(options: AlexNet2012Options = {}) {
    super();
    const numClasses = options.numClasses ?? 1000;
    const inputSize = options.inputSize ?? 227;
    const d = options.widthDivisor ?? 1;
    const p = options.dropout ?? 0.5;
    // Even counts, so the two groups stay equal when the net is narrowed.
    const [c1, c2, c3, c4, c5, fc] = [96, 256, 384, 384, 256, 4096].map((c) => 2 * Math.max(1, Math.round(c / (2 * d)))) as [number, number, number, number, number, number];
    // Sec. 3.3: b = a / (k + alpha * sum_{n neighbours} a^2)^beta with k = 2, n = 5, alpha = 1e-4,
    // beta = 0.75. nn.LocalResponseNorm (like PyTorch's) divides alpha by n, so pass n * alpha.
    const lrn = () => new nn.LocalResponseNorm(5, 5 * 1e-4, 0.75, 2);
    this.features = new nn.Sequential(
      new nn.Conv2d(3, c1, 11, { stride: 4 }), // [B, 96, 55, 55]
      new nn.ReLU(),
      lrn(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 96, 27, 27]
      new nn.Conv2d(c1, c2, 5, { padding: 2, groups: 2 }), // [B, 256, 27, 27]
      new nn.ReLU(),
      lrn(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 256, 13, 13]
      new nn.Conv2d(c2, c3, 3, { padding: 1 }), // [B, 384, 13, 13], across both GPUs
      new nn.ReLU(),
      new nn.Conv2d(c3, c4, 3, { padding: 1, groups: 2 }), // [B, 384, 13, 13]
      new nn.ReLU(),
      new nn.Conv2d(c4, c5, 3, { padding: 1, groups: 2 }), // [B, 256, 13, 13]
      new nn.ReLU(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 256, 6, 6]
    );
    this.featureSize = alexnetFeatureSize(inputSize);
    this.classifier = new nn.Sequential(
      new nn.Linear(c5 * this.featureSize * this.featureSize, fc), // fc6
      new nn.ReLU(),
      new nn.Dropout(p),
      new nn.Linear(fc, fc), // fc7
      new nn.ReLU(),
      new nn.Dropout(p),
      new nn.Linear(fc, numClasses), // fc8, into the 1000-way softmax
    );
  }

  /** x: [B, 3, 227, 227] -> logits [B, numClasses]. */
  forward(x: Tensor): Tensor {
    const f = this.features.forward(x); // [B, 256, 6, 6]
    return this.classifier.forward(f.flatten(1)); // [B, 9216] -> [B, numClasses]
  }
}

/**
 * Sec. 5: weights from N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden fully connected
 * layers ("accelerates the early stages of learning by providing the ReLUs with positive inputs"),
 * 0 in the other layers.
 */
export function initAlexNet2012_(model: AlexNet2012): void {
  const convs = [...model.features].filter((m): m is nn.Conv2d => m instanceof nn.Conv2d);
  const fcs = [...model.classifier].filter((m): m is nn.Linear => m instanceof nn.Linear);
  const biasOne = new Set<nn.Module>([convs[1]!, convs[3]!, convs[4]!, fcs[0]!, fcs[1]!]);
  noGrad(() => {
    for (const layer of [...convs, ...fcs]) {
      nn.init.normal_(layer.weight, 0, 0.01);
      nn.init.constant_(layer.bias!, biasOne.has(layer) ? 1 : 0);
    }
  });
}

/** How AlexNet (torchvision's) is built. */
export interface AlexNetOptions {
  numClasses?: number;
  /** Divide every channel count and FC width by this (1: torchvision's net). */
  widthDivisor?: number;
  /** Dropout probability before fc6 and fc7 (0.5). */
  dropout?: number;
}

/**
 * torchvision.models.AlexNet (vision/torchvision/models/alexnet.py): the one-weird-trick network
 * (conv 64-192-384-256-256, no LRN), with an AdaptiveAvgPool2d(6) so any input of at least 63x63
 * works, and dropout on the inputs of fc6 and fc7. 61,100,840 parameters. Names and order match
 * torchvision's state dict (features.0.weight ... classifier.6.bias), so its weights load as they are.
 */
export class AlexNet extends nn.Module {
  features: nn.Sequential;
  avgpool: nn.AdaptiveAvgPool2d;
  classifier: nn.Sequential;

  constructor(options: AlexNetOptions = {}) {
    super();
    const numClasses = options.numClasses ?? 1000;
    const d = options.widthDivisor ?? 1;
    const p = options.dropout ?? 0.5;
    const [c1, c2, c3, c4, c5, fc] = [64, 192, 384, 256, 256, 4096].map((c) => Math.max(1, Math.round(c / d))) as [number, number, number, number, number, number];
    this.features = new nn.Sequential(
      new nn.Conv2d(3, c1, 11, { stride: 4, padding: 2 }), // [B, 64, 55, 55] for 224
      new nn.ReLU(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 64, 27, 27]
      new nn.Conv2d(c1, c2, 5, { padding: 2 }), // [B, 192, 27, 27]
      new nn.ReLU(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 192, 13, 13]
      new nn.Conv2d(c2, c3, 3, { padding: 1 }), // [B, 384, 13, 13]
      new nn.ReLU(),
      new nn.Conv2d(c3, c4, 3, { padding: 1 }), // [B, 256, 13, 13]
      new nn.ReLU(),
      new nn.Conv2d(c4, c5, 3, { padding: 1 }), // [B, 256, 13, 13]
      new nn.ReLU(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 256, 6, 6]
    );
    this.avgpool = new nn.AdaptiveAvgPool2d([6, 6]); // [B, 256, 6, 6] whatever the input size
    this.classifier = new nn.Sequential(
      new nn.Dropout(p),
      new nn.Linear(c5 * 6 * 6, fc),
      new nn.ReLU(),
      new nn.Dropout(p),
      new nn.Linear(fc, fc),
      new nn.ReLU(),
      new nn.Linear(fc, numClasses),
    );
  }

  /** x: [B, 3, H, W] with H, W >= 63 -> logits [B, numClasses]. */
  forward(x: Tensor): Tensor {
    const f = this.avgpool.forward(this.features.forward(x)); // [B, 256, 6, 6]
    return this.classifier.forward(f.flatten(1)); // [B, 9216] -> [B, numClasses]
  }
}

/**
 * Fig. 1's "four-layer convolutional neural network" on 32x32 CIFAR-10 images, written after
 * cuda-convnet's small CIFAR nets (the paper gives no layer sizes): three 5x5 convolutions (32, 32, 64
 * maps, padding 2), each followed by the nonlinearity and 3x3/2 max pooling (32 -> 15 -> 7 -> 3), and
 * a linear layer to 10 classes. `activation` is the only difference between Fig. 1's two curves.
 */
export class FourLayerCnn extends nn.Module {
  features: nn.Sequential;
  classifier: nn.Linear;

  constructor(activation: 'relu' | 'tanh', width = 32) {
    super();
    const act = () => (activation === 'relu' ? new nn.ReLU() : new nn.Tanh());
    this.features = new nn.Sequential(
      new nn.Conv2d(3, width, 5, { padding: 2 }), // [B, 32, 32, 32]
      act(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 32, 15, 15]
      new nn.Conv2d(width, width, 5, { padding: 2 }),
      act(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 32, 7, 7]
      new nn.Conv2d(width, 2 * width, 5, { padding: 2 }),
      act(),
      new nn.MaxPool2d(3, { stride: 2 }), // [B, 64, 3, 3]
    );
    this.classifier = new nn.Linear(2 * width * 3 * 3, 10);
  }

  /** x: [B, 3, 32, 32] -> logits [B, 10]. */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x).flatten(1)); // [B, 576] -> [B, 10]
  }
}
