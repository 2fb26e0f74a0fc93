/**
 * The MNIST MLP of the foundations slice as a full run (`milestones run mlp-mnist`): DataLoader,
 * nn.Sequential, optim.SGD, checkpoints that resume bit-identically, metrics and a report.
 *
 * The closest published anchor is the "standard neural net" of the Dropout paper's Table 2
 * (Simard et al. 2003: 784-800-800-10, 1.60% test error); this smaller 784-256-10 net lands a
 * little above that.
 */
import { existsSync } from 'node:fs';
import {
  Generator,
  manualSeed,
  noGrad,
  nn,
  optim,
  data,
  io,
  type ConfigSpec,
  type Landmark,
  type Run,
  Progress,
  Tensor,
} from '../src/index.js';

interface MlpConfig {
  [key: string]: number;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  hidden: number;
  /** Train on the first N images only (0: all 60,000). */
  trainLimit: number;
  /** Evaluate on the first N test images only (0: all 10,000). */
  testLimit: number;
  seed: number;
  /** Save a checkpoint every this many steps (and at every epoch end). */
  checkpointEvery: number;
}

const spec: ConfigSpec<MlpConfig> = {
  presets: {
    tiny: { epochs: 1, batchSize: 64, lr: 0.1, momentum: 0.9, hidden: 64, trainLimit: 2048, testLimit: 1000, seed: 0, checkpointEvery: 16 },
    small: { epochs: 3, batchSize: 64, lr: 0.05, momentum: 0.9, hidden: 256, trainLimit: 0, testLimit: 0, seed: 0, checkpointEvery: 200 },
    paper: { epochs: 10, batchSize: 64, lr: 0.05, momentum: 0.9, hidden: 256, trainLimit: 0, testLimit: 0, seed: 0, checkpointEvery: 500 },
  },
  defaultPreset: 'small',
  docs: {
    epochs: 'passes over the training set',
    batchSize: 'examples per SGD step',
    lr: 'SGD learning rate',
    momentum: 'SGD momentum',
    hidden: 'width of the hidden layer',
    trainLimit: 'use only the first N training images (0: all)',
    testLimit: 'evaluate on the first N test images (0: all)',
    seed: 'random seed (initialisation and shuffling)',
    checkpointEvery: 'steps between checkpoints',
  },
};

function limited<T>(ds: data.Dataset<T>, n: number): data.Dataset<T> {
  return n > 0 && n < ds.length ? new data.Subset(ds, Array.from({ length: n }, (_, i) => i)) : ds;
}

function evaluate(model: nn.Module & { forward(x: Tensor): Tensor }, loader: data.DataLoader<data.Example>): number {
  model.eval();
  let correct = 0;
  let total = 0;
  noGrad(() => {
    for (const batch of loader) {
      const [x, y] = batch as [Tensor, Tensor];
      correct += model.forward(x).argmax(1).eq(y).sum().item();
      total += y.shape[0]!;
    }
  });
  model.train();
  return correct / total;
}

async function train(run: Run<MlpConfig>): Promise<void> {
  const c = run.config;
  // 1. seed
  manualSeed(c.seed);
  // 2. data
  const root = run.info.dataDir ?? undefined;
  const trainSet = limited(new data.MNIST({ root, train: true }), c.trainLimit);
  const testSet = limited(new data.MNIST({ root, train: false }), c.testLimit);
  const shuffle = new Generator(c.seed + 1);
  const trainLoader = new data.DataLoader(trainSet, { batchSize: c.batchSize, shuffle: true, generator: shuffle });
  const testLoader = new data.DataLoader(testSet, { batchSize: 500 });
  // 3. model
  const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, c.hidden), new nn.ReLU(), new nn.Linear(c.hidden, 10));
  // 4. optimizer
  const opt = new optim.SGD(model.parameters(), { lr: c.lr, momentum: c.momentum });

  const stepsPerEpoch = trainLoader.length;
  const total = c.epochs * stepsPerEpoch;
  let step = 0;
  // The shuffle generator's state at the start of the current epoch: resuming replays that
  // epoch's order and skips the batches already done, so the run continues bit-identically.
  let epochStartRng = shuffle.getState();
  if (existsSync(run.checkpointPath)) {
    const ck = io.loadCheckpoint(run.checkpointPath);
    model.loadStateDict(ck.model);
    opt.loadStateDict(ck.optimizer as Parameters<typeof opt.loadStateDict>[0]);
    step = ck.step;
    epochStartRng = (ck.rng as { shuffle: typeof epochStartRng }).shuffle;
    run.truncateMetrics(step);
    console.log(`resumed from step ${step}`);
  }
  const save = () =>
    io.saveCheckpoint(run.checkpointPath, {
      model: model.stateDict(),
      optimizer: opt.stateDict(),
      rng: { shuffle: epochStartRng },
      step,
      config: c,
    });

  const progress = new Progress({ total, unit: 'img/s', unitsPerStep: c.batchSize, label: 'mlp-mnist' });
  progress.resumeFrom(step);
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
      if (step % 10 === 0) run.log(step, 'train', { loss: l });
      progress.update(step, { epoch: epoch + 1, loss: l });
      await run.poll();
      if (step % c.checkpointEvery === 0 || run.stopRequested) save();
      if (run.stopRequested) {
        progress.done();
        return;
      }
    }
    epochStartRng = shuffle.getState();
    // 6. evaluation
    const acc = evaluate(model, testLoader);
    run.log(step, 'eval', { accuracy: acc, error: 100 * (1 - acc) });
    progress.update(step, { epoch: epoch + 1, testAccuracy: acc }, true);
    // 7. checkpoint
    save();
  }
  progress.done();
  const acc = evaluate(model, testLoader);
  run.setResults([
    { metric: 'test error (%)', paper: 1.6, ours: Number((100 * (1 - acc)).toFixed(2)), note: 'paper: Simard et al. 2003 standard net 784-800-800-10 (Dropout paper, Table 2); ours 784-' + c.hidden + '-10' },
  ]);
}

export const mlpMnist: Landmark<MlpConfig> = {
  name: 'mlp-mnist',
  title: 'MNIST MLP (the foundations slice, end to end)',
  spec,
  train,
};
