/**
 * `milestones run alexnet`: AlexNet trained as Sec. 4-5 of Krizhevsky et al. 2012 describe, on an
 * ImageFolder (ImageNet's train/ and val/, a subset such as Imagenette, or the CIFAR-10 JPEG proxy):
 * 256-pixel images, random crops and mirrors, PCA colour noise, SGD with momentum 0.9 and weight
 * decay 5e-4, the learning rate divided by 10 when the validation error stops improving, and ten-crop
 * top-1 / top-5 error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Generator,
  defaultGenerator,
  manualSeed,
  noGrad,
  nn,
  optim,
  data,
  io,
  randn,
  randperm,
  tensor,
  Progress,
  type GeneratorState,
  type Landmark,
  type Run,
  type Tensor,
} from '../../src/index.js';
import { AlexNet, AlexNet2012, initAlexNet2012_ } from './model.js';
import { spec, type AlexNetConfig } from './config.js';

const T = data.transforms;

/**
 * ImageNet's RGB principal components, on pixel values in [0, 1]: the eigenvalues and eigenvectors
 * (columns) used by fb.resnet.torch (datasets/imagenet.lua, `pca`) and the PyTorch AlexNet/ResNet
 * reproductions that copy it. The paper computes them from the training set (Sec. 4.1).
 */
export const IMAGENET_PCA = {
  eigval: [0.2175, 0.0188, 0.0045],
  eigvec: [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.814],
    [-0.5836, -0.6948, 0.4203],
  ],
};

/** torchvision's ImageNet channel statistics (the paper subtracts the mean image instead: deviation 3). */
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/**
 * Sec. 4.1, "altering the intensities of the RGB channels": add [p1, p2, p3] [a1 l1, a2 l2, a3 l3]^T
 * to every pixel, where p_i, l_i are the eigenvectors and eigenvalues of the RGB covariance and
 * a_i ~ N(0, std^2) is drawn once per image (each time the image is used).
 */
export function pcaLighting(std: number): data.transforms.Transform {
  const eigvec = tensor(IMAGENET_PCA.eigvec); // [3, 3], columns p_i
  const eigval = tensor(IMAGENET_PCA.eigval); // [3]
  return (img, rng) => {
    if (std === 0) return img;
    const alpha = randn([3], { generator: rng }).mul(std); // [3]
    const rgb = eigvec.matmul(alpha.mul(eigval).unsqueeze(1)); // [3, 1]
    return img.add(rgb.unsqueeze(2)); // [3, H, W] + [3, 1, 1]
  };
}

/** Sec. 2 and 4.1: shorter side to `resizeSize`, central square, random crop, mirror, PCA noise. */
export function trainTransform(resizeSize: number, cropSize: number, pcaStd: number): data.transforms.Transform {
  return T.compose([
    T.resize(resizeSize),
    T.centerCrop(resizeSize),
    T.randomCrop(cropSize),
    T.randomHorizontalFlip(),
    pcaLighting(pcaStd),
    T.normalize(MEAN, STD),
  ]);
}

/** The evaluation image: the central resizeSize square; the crops are taken in `predict`. */
export function evalTransform(resizeSize: number): data.transforms.Transform {
  return T.compose([T.resize(resizeSize), T.centerCrop(resizeSize), T.normalize(MEAN, STD)]);
}

/**
 * Sec. 4.1, "at test time, the network makes a prediction by extracting five 224x224 patches (the
 * four corner patches and the center patch) as well as their horizontal reflections (hence ten
 * patches in all), and averaging the predictions made by the network's softmax layer on the ten
 * patches". x: [B, 3, S, S] -> averaged probabilities [B, classes]. With tenCrop false: the centre crop.
 */
export function predict(model: { forward(x: Tensor): Tensor }, x: Tensor, cropSize: number, tenCrop: boolean): Tensor {
  const S = x.shape[2]!;
  const c = cropSize;
  const mid = Math.floor((S - c) / 2);
  const corners: [number, number][] = tenCrop ? [[0, 0], [0, S - c], [S - c, 0], [S - c, S - c], [mid, mid]] : [[mid, mid]];
  let sum: Tensor | null = null;
  for (const [top, left] of corners) {
    const patch = x.slice(null, null, [top, top + c], [left, left + c]); // [B, 3, c, c]
    for (const view of tenCrop ? [patch, patch.flip(-1)] : [patch]) {
      const p = model.forward(view).softmax(-1); // [B, classes]
      sum = sum === null ? p : sum.add(p);
    }
  }
  return sum!.div(corners.length * (tenCrop ? 2 : 1));
}

/**
 * Counts of top-1 and top-5 mistakes of probabilities [B, classes] against labels [B]: a top-5
 * mistake is a label outside the five most probable classes (Sec. 1).
 */
export function topErrors(probs: Tensor, labels: Tensor): { top1: number; top5: number; n: number } {
  const k = Math.min(5, probs.shape[1]!);
  const top = probs.topk(k, 1).indices; // [B, k]
  const hit = top.eq(labels.unsqueeze(1)); // [B, k]
  const n = labels.shape[0]!;
  return { top1: n - hit.slice(null, [0, 1]).sum().item(), top5: n - hit.any(1).sum().item(), n };
}

function randomSubset<X>(ds: data.Dataset<X>, n: number, seed: number): data.Dataset<X> {
  if (n <= 0 || n >= ds.length) return ds;
  const order = randperm(ds.length, { generator: new Generator(seed) }).toArray() as number[];
  return new data.Subset(ds, order.slice(0, n).sort((a, b) => a - b));
}

function evaluate(model: nn.Module & { forward(x: Tensor): Tensor }, loader: data.DataLoader<data.Example>, c: AlexNetConfig): { top1: number; top5: number } {
  model.eval();
  let top1 = 0;
  let top5 = 0;
  let n = 0;
  noGrad(() => {
    for (const batch of loader) {
      const [x, y] = batch as [Tensor, Tensor];
      const e = topErrors(predict(model, x, c.cropSize, c.tenCrop), y);
      top1 += e.top1;
      top5 += e.top5;
      n += e.n;
    }
  });
  model.train();
  return { top1: (100 * top1) / n, top5: (100 * top5) / n }; // in %
}

/** The net a config names, initialised as it says. */
export function buildModel(c: AlexNetConfig, numClasses: number): AlexNet | AlexNet2012 {
  if (c.arch === 'alexnet2012') {
    const model = new AlexNet2012({ numClasses, inputSize: c.cropSize, widthDivisor: c.widthDivisor, dropout: c.dropout });
    if (c.init === 'paper') initAlexNet2012_(model);
    return model;
  }
  if (c.init === 'paper') throw new Error("alexnet: init 'paper' is the 2012 net's (Sec. 5); use it with arch alexnet2012");
  return new AlexNet({ numClasses, widthDivisor: c.widthDivisor, dropout: c.dropout });
}

async function train(run: Run<AlexNetConfig>): Promise<void> {
  const c = run.config;
  // 1. seed
  manualSeed(c.seed);
  // 2. data
  const root = data.dataRoot(run.info.dataDir ?? undefined);
  const dir = join(root, c.dataset);
  const trainFolder = new data.ImageFolder(join(dir, 'train'), { transform: trainTransform(c.resizeSize, c.cropSize, c.pcaStd) });
  const valFolder = new data.ImageFolder(join(dir, c.valSplit), { transform: evalTransform(c.resizeSize) });
  if (valFolder.classes.join() !== trainFolder.classes.join()) throw new Error(`alexnet: ${dir}/train and ${dir}/${c.valSplit} have different classes`);
  const trainSet = randomSubset(trainFolder, c.trainLimit, c.seed + 2);
  const valSet = randomSubset(valFolder, c.valLimit, c.seed + 3);
  const shuffle = new Generator(c.seed + 1);
  const trainLoader = new data.DataLoader(trainSet, { batchSize: c.batchSize, shuffle: true, generator: shuffle });
  const valLoader = new data.DataLoader(valSet, { batchSize: c.batchSize });
  // 3. model
  const numClasses = trainFolder.classes.length;
  const model = buildModel(c, numClasses);
  // 4. optimizer: Sec. 5, SGD with batch 128, momentum 0.9, weight decay 0.0005, lr 0.01 divided by
  // 10 "when the validation error rate stopped improving with the current learning rate".
  const opt = new optim.SGD(model.parameters(), { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const plateau = new optim.ReduceLROnPlateau(opt, { mode: 'min', factor: 0.1, patience: c.plateauPatience });

  const stepsPerEpoch = trainLoader.length;
  const total = c.epochs * stepsPerEpoch;
  let step = 0;
  let epochStartRng = shuffle.getState();
  if (existsSync(run.checkpointPath)) {
    const ck = io.loadCheckpoint(run.checkpointPath);
    model.loadStateDict(ck.model);
    opt.loadStateDict(ck.optimizer as Parameters<typeof opt.loadStateDict>[0]);
    plateau.loadStateDict(ck.scheduler as Parameters<typeof plateau.loadStateDict>[0]);
    const rng = ck.rng as { shuffle: GeneratorState; global: GeneratorState };
    epochStartRng = rng.shuffle;
    defaultGenerator.setState(rng.global);
    step = ck.step;
    run.truncateMetrics(step);
    console.log(`resumed from step ${step}`);
  }
  const save = () =>
    io.saveCheckpoint(run.checkpointPath, {
      model: model.stateDict(),
      optimizer: opt.stateDict(),
      scheduler: plateau.stateDict(),
      rng: { shuffle: epochStartRng, global: defaultGenerator.getState() },
      step,
      config: c,
    });

  const progress = new Progress({ total, unit: 'img/s', unitsPerStep: c.batchSize, label: 'alexnet' });
  progress.resumeFrom(step);
  let last = { top1: NaN, top5: NaN };
  // 5. loop
  for (let epoch = Math.floor(step / stepsPerEpoch); epoch < c.epochs; epoch++) {
    shuffle.setState(epochStartRng);
    let b = 0;
    for (const batch of trainLoader) {
      if (b++ < step - epoch * stepsPerEpoch) continue; // done before the checkpoint
      const [x, y] = batch as [Tensor, Tensor];
      opt.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      step++;
      const l = loss.item();
      if (step % 10 === 0 || step === 1) run.log(step, 'train', { loss: l, lr: opt.paramGroups[0]!.lr });
      progress.update(step, { epoch: epoch + 1, loss: l });
      await run.poll();
      if (step % c.checkpointEvery === 0 || run.stopRequested) save();
      if (run.stopRequested) {
        progress.done();
        return;
      }
    }
    epochStartRng = shuffle.getState();
    // 6. evaluation: ten-crop top-1 / top-5 error; the plateau schedule watches top-1
    last = evaluate(model, valLoader, c);
    plateau.step(last.top1);
    run.log(step, 'eval', { epoch: epoch + 1, 'top-1 error': last.top1, 'top-5 error': last.top5, lr: opt.paramGroups[0]!.lr });
    progress.update(step, { epoch: epoch + 1, top1: last.top1, top5: last.top5 }, true);
    // 7. checkpoint
    save();
  }
  progress.done();
  if (Number.isNaN(last.top1)) last = evaluate(model, valLoader, c);
  const where = `${c.dataset}/${c.valSplit} (${valSet.length} images, ${numClasses} classes), ${c.arch}/${c.widthDivisor}, ${Math.floor(step / stepsPerEpoch)} epochs`;
  run.setResults([
    { metric: 'top-1 error (%)', paper: 40.7, ours: Number(last.top1.toFixed(2)), note: `paper: 1 CNN, ILSVRC-2012 val (Table 2); ours: ${where}` },
    { metric: 'top-5 error (%)', paper: 18.2, ours: Number(last.top5.toFixed(2)), note: `paper: 1 CNN, ILSVRC-2012 val (Table 2); ours: ${where}` },
  ]);
}

export const alexnet: Landmark<AlexNetConfig> = {
  name: 'alexnet',
  title: 'AlexNet (Krizhevsky, Sutskever and Hinton 2012)',
  spec,
  train,
};
