/**
 * A 784-256-10 multilayer perceptron on MNIST, trained with nothing but tensor ops, autograd and a
 * hand-written SGD-with-momentum step: no modules, no optimizer classes, no data loader. It is the
 * vertical slice that shows the foundations (Tensor, primitives, autograd, reference backend) work
 * end to end on real data.
 *
 *   node dist/examples/mlp-mnist.js [--epochs N] [--data-dir D] [--batch-size B] [--lr LR] [--seed S]
 *
 * Data: the four gzipped IDX files of MNIST (LeCun et al. 1998) in `<data root>/mnist/`, where the
 * data root is --data-dir, else MILESTONES_DATA, else ~/.cache/milestones.
 */
import { pathToFileURL } from 'node:url';
import { data, io, manualSeed, nn, noGrad, rand, randperm, zerosLike, type Tensor } from '../src/index.js';

export interface MlpMnistOptions {
  /** Passes over the 60,000 training images. */
  epochs?: number;
  /** Images per SGD step. */
  batchSize?: number;
  /** Peak learning rate; it decays linearly to zero over the run. */
  lr?: number;
  /** Momentum coefficient of SGD (PyTorch's form: v = mu v + g, w = w - lr v). */
  momentum?: number;
  /** Seed for the initial weights and the shuffling. */
  seed?: number;
  /** The data root (a --data-dir flag); by default MILESTONES_DATA, else ~/.cache/milestones. */
  dataDir?: string;
  /** Where progress lines go (default: console.log). */
  log?: (line: string) => void;
}

/** The files the example reads from `<data root>/mnist/`, as published. */
export const MNIST_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
] as const;

const DEFAULTS = { epochs: 2, batchSize: 128, lr: 0.2, momentum: 0.9, seed: 0 };

/** Trains the MLP and returns its accuracy on all 10,000 test images, as a fraction. */
export function trainMlpMnist(options: MlpMnistOptions = {}): number {
  const { epochs, batchSize, lr, momentum, seed } = { ...DEFAULTS, ...options };
  const log = options.log ?? ((line: string) => console.log(line));

  // Seed.
  manualSeed(seed);

  // Data: pixels stay 0..255 here and are scaled to [0, 1] per batch (no second 60000 x 784 copy,
  // and the zero background stays zero, which the matmul kernel skips); labels are int32 classes.
  const [trainImages, trainLabels, testImages, testLabels] = data.requireDataset('mnist', MNIST_FILES, options.dataDir);
  const xTrain = io.readIdx(trainImages!, { dtype: 'float32' }).reshape([-1, 784]); // [60000, 784]
  const yTrain = io.readIdx(trainLabels!); // [60000]
  const xTest = io.readIdx(testImages!, { dtype: 'float32' }).reshape([-1, 784]); // [10000, 784]
  const yTest = io.readIdx(testLabels!); // [10000]
  const nTrain = xTrain.shape[0]!;

  // Model: two affine maps with a ReLU between, as plain tensors. PyTorch's nn.Linear draws
  // weights and biases from U(-1/sqrt(fanIn), 1/sqrt(fanIn)); we do the same.
  const uniform = (shape: number[], fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return rand(shape).mul(2 * bound).sub(bound).requiresGrad_();
  };
  const w1 = uniform([784, 256], 784);
  const b1 = uniform([256], 784);
  const w2 = uniform([256, 10], 256);
  const b2 = uniform([10], 256);
  const params = [w1, b1, w2, b2];
  const forward = (x: Tensor) => x.matmul(w1).add(b1).relu().matmul(w2).add(b2); // [B, 784] -> [B, 10]

  // Optimizer: one velocity buffer per parameter.
  const velocity = params.map((p) => zerosLike(p));
  const stepsPerEpoch = Math.floor(nTrain / batchSize); // the last partial batch is dropped
  const totalSteps = epochs * stepsPerEpoch;

  const evaluate = (): number => {
    let correct = 0;
    noGrad(() => {
      for (let start = 0; start < xTest.shape[0]!; start += 1000) {
        const x = xTest.slice([start, start + 1000]).div(255); // [1000, 784]
        const y = yTest.slice([start, start + 1000]); // [1000]
        correct += forward(x).argmax(1).eq(y).sum().item();
      }
    });
    return correct / xTest.shape[0]!;
  };

  // Loop.
  log(`mlp-mnist: 784-256-10 MLP, ${epochs} epochs of ${stepsPerEpoch} steps, batch ${batchSize}, lr ${lr}, momentum ${momentum}`);
  let step = 0;
  let testAccuracy = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const began = performance.now();
    const perm = randperm(nTrain); // [60000], a fresh order each epoch
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const idx = perm.slice([s * batchSize, (s + 1) * batchSize]); // [B]
      const x = xTrain.indexSelect(0, idx).div(255); // [B, 784]
      const y = yTrain.indexSelect(0, idx); // [B]
      const logits = forward(x); // [B, 10]
      const loss = nn.functional.crossEntropy(logits, y);
      loss.backward();

      // The SGD step, by hand: the rate decays linearly to zero, and momentum (Polyak 1964;
      // Sutskever et al. 2013) in PyTorch's form, v = mu v + g, w = w - rate v.
      const rate = lr * (1 - step / totalSteps);
      noGrad(() => {
        params.forEach((p, i) => {
          const v = velocity[i]!;
          v.mul_(momentum).add_(p.grad!);
          p.sub_(v, rate);
          p.grad = null;
        });
      });
      step++;

      lossSum += loss.item();
      correct += noGrad(() => logits.argmax(1).eq(y).sum().item());
    }
    const seconds = (performance.now() - began) / 1000;
    const seen = stepsPerEpoch * batchSize;
    testAccuracy = evaluate();
    log(
      `epoch ${epoch}/${epochs}: loss ${(lossSum / stepsPerEpoch).toFixed(4)}, ` +
        `train accuracy ${pct(correct / seen)}, test accuracy ${pct(testAccuracy)}, ` +
        `${Math.round(seen / seconds)} images/s`,
    );
  }

  // Evaluation: all 10,000 test images, after the last epoch.
  log(`final test accuracy: ${pct(testAccuracy)} (${Math.round(testAccuracy * xTest.shape[0]!)}/${xTest.shape[0]})`);
  return testAccuracy;
}

function pct(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** Parses `--key value` and `--key=value` flags into options. */
function parseArgs(argv: readonly string[]): MlpMnistOptions {
  const options: MlpMnistOptions = {};
  const numeric = { '--epochs': 'epochs', '--batch-size': 'batchSize', '--lr': 'lr', '--momentum': 'momentum', '--seed': 'seed' } as const;
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i]!.split('=', 2) as [string, string | undefined];
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new Error(`mlp-mnist: ${flag} needs a value`);
    if (flag === '--data-dir') options.dataDir = value;
    else if (flag in numeric) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`mlp-mnist: ${flag} expects a number, got '${value}'`);
      options[numeric[flag as keyof typeof numeric]] = n;
    } else {
      throw new Error(`mlp-mnist: unknown flag ${flag} (known: --epochs, --batch-size, --lr, --momentum, --seed, --data-dir)`);
    }
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    trainMlpMnist(parseArgs(process.argv.slice(2)));
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
}
