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

/** One SGD step of `model` on a batch; returns how many of the batch it got wrong (before the update). */
function sgdStep(model: FourLayerCnn, opt: optim.SGD, xb: Tensor, yb: Tensor): number {
  opt.zeroGrad();
  const logits = model.forward(xb);
  nn.functional.crossEntropy(logits, yb).backward();
  opt.step();
  // Training error as cuda-convnet reports it: on each batch as it is trained on.
  return logits.argmax(1).ne(yb).sum().item();
}

/** The learning rates of the search grid ("0.003,0.01,0.03"; empty: no search). */
export function parseGrid(grid: string): number[] {
  if (grid.trim() === '') return [];
  return grid.split(',').map((part) => {
    const lr = Number(part.trim());
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`alexnet-relu-tanh: lrGrid must list positive learning rates, got '${part}' in '${grid}'`);
    return lr;
  });
}

/** A finished trial of the search: a net, a rate, and its training error (%) after each epoch. */
export interface SearchTrial {
  activation: string;
  lr: number;
  errors: number[];
}

/**
 * The rate a net trains fastest with, by the search's trials: the lowest training error after the
 * last search epoch, the smaller rate on a tie.
 */
export function fastestRate(trials: SearchTrial[], activation: string): number {
  let best: SearchTrial | null = null;
  for (const t of trials) {
    if (t.activation !== activation) continue;
    const e = t.errors[t.errors.length - 1]!;
    const b = best === null ? Infinity : best.errors[best.errors.length - 1]!;
    if (best === null || e < b || (e === b && t.lr < best.lr)) best = t;
  }
  if (best === null) throw new Error(`alexnet-relu-tanh: no search trial for ${activation}`);
  return best.lr;
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
  const initState = defaultGenerator.getState(); // both nets' weights are drawn from here
  const ck = existsSync(run.checkpointPath) ? io.loadCheckpoint(run.checkpointPath) : null;

  // 3. learning rates. Fig. 1's were "chosen independently for each network to make training as
  // fast as possible". With lrGrid set, each net first trains searchEpochs epochs at every rate of
  // the grid (fresh weights from the same draws, the same batches) and keeps the rate with the
  // lowest training error in the last of them. A checkpoint after each trial: a stopped search
  // resumes at the first unfinished trial.
  const grid = parseGrid(c.lrGrid ?? ''); // configs saved before the search existed lack the key
  const trials: SearchTrial[] = ck ? ((ck.extra as { trials?: SearchTrial[] }).trials ?? []) : [];
  const searching = grid.length > 0 && (ck === null || (ck.extra as { phase?: string }).phase === 'search');
  if (searching) {
    // The records of finished trials again, those of an interrupted one gone.
    run.truncateMetrics(0);
    for (const t of trials) t.errors.forEach((e, i) => run.log(i + 1, `search ${t.activation} lr ${t.lr}`, { 'search train error': e }));
    const todo = ACTIVATIONS.flatMap((activation) => grid.map((lr) => ({ activation, lr }))).slice(trials.length);
    const progress = new Progress({ total: todo.length * c.searchEpochs * loader.length, unit: 'img/s', unitsPerStep: c.batchSize, label: 'lr search' });
    let done = 0;
    for (const { activation, lr } of todo) {
      defaultGenerator.setState(initState);
      const model = new FourLayerCnn(activation, c.width);
      const opt = new optim.SGD(model.parameters(), { lr, momentum: c.momentum });
      shuffle.setState(new Generator(c.seed + 1).getState());
      const errors: number[] = [];
      for (let epoch = 0; epoch < c.searchEpochs; epoch++) {
        let wrong = 0;
        let seen = 0;
        for (const batch of loader) {
          const [xb, yb] = batch as [Tensor, Tensor];
          wrong += sgdStep(model, opt, xb, yb);
          seen += yb.shape[0]!;
          progress.update(++done, { [activation]: lr });
          if (await run.poll()) {
            progress.done();
            return; // the checkpoint of the last finished trial stays
          }
        }
        errors.push((100 * wrong) / seen);
        run.log(epoch + 1, `search ${activation} lr ${lr}`, { 'search train error': errors[epoch]! });
      }
      trials.push({ activation, lr, errors });
      io.saveCheckpoint(run.checkpointPath, { model: {}, step: 0, config: c, extra: { phase: 'search', trials } });
    }
    progress.done();
  }
  const rates: Record<string, number> = grid.length > 0 ? { relu: fastestRate(trials, 'relu'), tanh: fastestRate(trials, 'tanh') } : { relu: c.lrRelu, tanh: c.lrTanh };
  defaultGenerator.setState(initState);
  shuffle.setState(new Generator(c.seed + 1).getState());

  // 4. models and optimizers (no weight decay, no dropout: Fig. 1 used "no regularization of any kind")
  const nets = ACTIVATIONS.map((activation) => {
    const model = new FourLayerCnn(activation, c.width);
    return { activation, model, opt: new optim.SGD(model.parameters(), { lr: rates[activation]!, momentum: c.momentum }) };
  });

  const stepsPerEpoch = loader.length;
  let step = 0;
  let epochStartRng = shuffle.getState();
  // Per net: mistakes and examples so far in the current epoch, and the epoch each first hit the target.
  let wrong = [0, 0];
  let seen = 0;
  const reached: (number | null)[] = [null, null];
  if (ck !== null && !searching) {
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
      extra: { phase: 'compare', wrong, seen, reached, trials },
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
        wrong[i]! += sgdStep(n.model, n.opt, xb, yb);
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
  const chosen = grid.length > 0 ? ` (the fastest of ${grid.join(', ')} after ${c.searchEpochs} epoch${c.searchEpochs === 1 ? '' : 's'})` : '';
  const note = `${c.trainLimit || 50000} training images, 4-layer CNN width ${c.width}, lr relu ${rates.relu} / tanh ${rates.tanh}${chosen}`;
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
