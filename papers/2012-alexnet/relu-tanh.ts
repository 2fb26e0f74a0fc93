/**
 * `milestones run alexnet-relu-tanh`: Fig. 1 of Krizhevsky et al. 2012, "a four-layer convolutional
 * neural network with ReLUs (solid line) reaches a 25% training error rate on CIFAR-10 six times
 * faster than an equivalent network with tanh neurons (dashed line)". Both nets train side by side on
 * the same batches from the same kind of initialisation; each epoch logs both training-error curves,
 * and the results record the epochs each needed to reach the target.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Generator,
  defaultGenerator,
  manualSeed,
  nn,
  optim,
  data,
  io,
  randperm,
  stack,
  tensor,
  Progress,
  type GeneratorState,
  type Landmark,
  type Run,
  type Tensor,
} from '../../src/index.js';
import { FourLayerCnn } from './model.js';
import { reluTanhSpec, type ReluTanhConfig } from './config.js';

const ACTIVATIONS = ['relu', 'tanh'] as const;

/** The training images decoded once into memory, each channel standardised: [N, 3, 32, 32] and labels [N]. */
function loadImages(dir: string, limit: number, seed: number): { x: Tensor; y: Tensor } {
  const folder = new data.ImageFolder(dir);
  let indices = Array.from({ length: folder.length }, (_, i) => i);
  if (limit > 0 && limit < folder.length) indices = (randperm(folder.length, { generator: new Generator(seed) }).toArray() as number[]).slice(0, limit);
  const items = indices.map((i) => folder.get(i));
  const x = stack(items.map(([img]) => img)); // [N, 3, 32, 32] in [0, 1]
  const mean = x.mean([0, 2, 3], true); // [1, 3, 1, 1]
  const std = x.std([0, 2, 3], { keepdim: true });
  return { x: x.sub(mean).div(std), y: tensor(items.map(([, label]) => label), { dtype: 'int32' }) };
}

async function train(run: Run<ReluTanhConfig>): Promise<void> {
  const c = run.config;
  // 1. seed
  manualSeed(c.seed);
  // 2. data
  const root = data.dataRoot(run.info.dataDir ?? undefined);
  const { x, y } = loadImages(join(root, c.dataset, 'train'), c.trainLimit, c.seed + 2);
  const shuffle = new Generator(c.seed + 1);
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: c.batchSize, shuffle: true, generator: shuffle });
  // 3. models and 4. optimizers (no weight decay, no dropout: Fig. 1 used "no regularization of any kind")
  const nets = ACTIVATIONS.map((activation) => {
    const model = new FourLayerCnn(activation, c.width);
    const lr = activation === 'relu' ? c.lrRelu : c.lrTanh;
    return { activation, model, opt: new optim.SGD(model.parameters(), { lr, momentum: c.momentum }) };
  });

  const stepsPerEpoch = loader.length;
  let step = 0;
  let epochStartRng = shuffle.getState();
  // Per net: mistakes and examples so far in the current epoch, and the epoch each first hit the target.
  let wrong = [0, 0];
  let seen = 0;
  const reached: (number | null)[] = [null, null];
  if (existsSync(run.checkpointPath)) {
    const ck = io.loadCheckpoint(run.checkpointPath);
    nets.forEach((n) => {
      const prefix = `${n.activation}.`;
      n.model.loadStateDict(Object.fromEntries(Object.entries(ck.model).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v])));
      n.opt.loadStateDict((ck.optimizer as Record<string, Parameters<typeof n.opt.loadStateDict>[0]>)[n.activation]!);
    });
    const rng = ck.rng as { shuffle: GeneratorState; global: GeneratorState };
    epochStartRng = rng.shuffle;
    defaultGenerator.setState(rng.global);
    const extra = ck.extra as { wrong: number[]; seen: number; reached: (number | null)[] };
    [wrong, seen] = [extra.wrong, extra.seen];
    reached.splice(0, 2, ...extra.reached);
    step = ck.step;
    run.truncateMetrics(step);
  }
  const save = () => {
    const model: Record<string, Tensor> = {};
    for (const n of nets) for (const [k, v] of Object.entries(n.model.stateDict())) model[`${n.activation}.${k}`] = v;
    io.saveCheckpoint(run.checkpointPath, {
      model,
      optimizer: Object.fromEntries(nets.map((n) => [n.activation, n.opt.stateDict()])),
      rng: { shuffle: epochStartRng, global: defaultGenerator.getState() },
      step,
      config: c,
      extra: { wrong, seen, reached },
    });
  };

  const progress = new Progress({ total: c.epochs * stepsPerEpoch, unit: 'img/s', unitsPerStep: c.batchSize, label: 'relu-tanh' });
  progress.resumeFrom(step);
  // 5. loop, until both nets are under the target or the epochs run out
  for (let epoch = Math.floor(step / stepsPerEpoch); epoch < c.epochs && reached.some((r) => r === null); epoch++) {
    shuffle.setState(epochStartRng);
    let b = 0;
    for (const batch of loader) {
      if (b++ < step - epoch * stepsPerEpoch) continue; // done before the checkpoint
      const [xb, yb] = batch as [Tensor, Tensor];
      nets.forEach((n, i) => {
        n.opt.zeroGrad();
        const logits = n.model.forward(xb);
        nn.functional.crossEntropy(logits, yb).backward();
        n.opt.step();
        // Training error as cuda-convnet reports it: on each batch as it is trained on.
        wrong[i]! += logits.argmax(1).ne(yb).sum().item();
      });
      seen += yb.shape[0]!;
      step++;
      progress.update(step, { epoch: epoch + 1 });
      await run.poll();
      if (run.stopRequested) {
        save();
        progress.done();
        return;
      }
    }
    epochStartRng = shuffle.getState();
    // 6. evaluation: this epoch's training error of each net
    const errors = wrong.map((w) => (100 * w) / seen);
    errors.forEach((e, i) => {
      if (reached[i] === null && e <= c.targetError) reached[i] = epoch + 1;
    });
    run.log(step, 'train', { epoch: epoch + 1, 'train error relu': errors[0]!, 'train error tanh': errors[1]! });
    progress.update(step, { epoch: epoch + 1, relu: errors[0]!, tanh: errors[1]! }, true);
    wrong = [0, 0];
    seen = 0;
    // 7. checkpoint
    save();
  }
  progress.done();
  const epochsRun = Math.floor(step / stepsPerEpoch);
  const show = (r: number | null) => (r === null ? `> ${epochsRun}` : r);
  const ratio = reached[0] !== null && reached[1] !== null ? Number((reached[1] / reached[0]).toFixed(2)) : reached[0] !== null ? `> ${(epochsRun / reached[0]).toFixed(1)}` : null;
  const note = `${c.trainLimit || 50000} training images, 4-layer CNN width ${c.width}, lr relu ${c.lrRelu} / tanh ${c.lrTanh}`;
  run.setResults([
    { metric: `epochs to ${c.targetError}% training error, ReLU`, paper: 'about 6', ours: show(reached[0]!), note },
    { metric: `epochs to ${c.targetError}% training error, tanh`, paper: 'about 36', ours: show(reached[1]!), note },
    { metric: 'tanh epochs / ReLU epochs', paper: 'about 6', ours: ratio, note: 'Fig. 1 (paper values read off the figure)' },
  ]);
}

export const alexnetReluTanh: Landmark<ReluTanhConfig> = {
  name: 'alexnet-relu-tanh',
  title: 'AlexNet Fig. 1: ReLU against tanh on CIFAR-10 (Krizhevsky et al. 2012)',
  spec: reluTanhSpec,
  train,
};
