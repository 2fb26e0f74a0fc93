/**
 * `milestones run dropout`: permutation-invariant MNIST with and without dropout (Srivastava et al.
 * 2014, Table 2 / Table 9). One run trains the nets named in `config.nets` side by side, on the same
 * shuffled batches, so their curves share an x axis; the report plots both.
 */
import { existsSync } from 'node:fs';
import {
  Generator,
  defaultGenerator,
  manualSeed,
  noGrad,
  nn,
  optim,
  data,
  io,
  Progress,
  type GeneratorState,
  type Landmark,
  type Run,
  type Tensor,
} from '../../src/index.js';
import { DropoutMLP, learningRateAt, maxNorm_, momentumAt } from './model.js';
import { NETS, spec, type DropoutConfig, type NetName } from './config.js';

/** Table 2 (and Table 9) of Srivastava et al. 2014, test error in %, for the nets we can name. */
export const PAPER_ERRORS: Record<NetName, { error: number; note: string }> = {
  standard: { error: 1.6, note: 'Table 2: standard neural net (Simard et al. 2003), logistic, 2x800' },
  dropout: { error: 1.25, note: 'Table 2: dropout NN, ReLU, 3x1024' },
  'dropout-maxnorm': { error: 1.06, note: 'Table 2: dropout NN + max-norm, ReLU, 3x1024 (Table 9, 1024-1024-2048: 1.05)' },
};

/** One net of the comparison: its model, optimizer and schedule. */
interface Member {
  name: NetName;
  model: DropoutMLP;
  opt: optim.SGD;
  lr0: number;
  maxNorm: number | null;
}

function limited<T>(ds: data.Dataset<T>, n: number): data.Dataset<T> {
  return n > 0 && n < ds.length ? new data.Subset(ds, Array.from({ length: n }, (_, i) => i)) : ds;
}

function buildMember(name: NetName, c: DropoutConfig): Member {
  const dropout = name !== 'standard';
  const model = new DropoutMLP({
    hidden: c.hidden,
    activation: c.activation as 'relu' | 'logistic',
    inputDropout: dropout ? c.inputDropout : 0,
    hiddenDropout: dropout ? c.hiddenDropout : 0,
  });
  const lr0 = dropout ? c.lr : c.lrStandard;
  return { name, model, opt: new optim.SGD(model.parameters(), { lr: lr0, momentum: c.momentumStart }), lr0, maxNorm: name === 'dropout-maxnorm' ? c.maxNorm : null };
}

/** Test error in % (eval mode: no dropout). */
export function testError(model: nn.Module & { forward(x: Tensor): Tensor }, loader: data.DataLoader<data.Example>): number {
  model.eval();
  let wrong = 0;
  let total = 0;
  noGrad(() => {
    for (const batch of loader) {
      const [x, y] = batch as [Tensor, Tensor];
      wrong += model.forward(x).argmax(1).ne(y).sum().item();
      total += y.shape[0]!;
    }
  });
  model.train();
  return (100 * wrong) / total;
}

async function train(run: Run<DropoutConfig>): Promise<void> {
  const c = run.config;
  for (const n of c.nets) if (!(NETS as readonly string[]).includes(n)) throw new Error(`dropout: unknown net '${n}' (nets: ${NETS.join(', ')})`);
  // 1. seed
  manualSeed(c.seed);
  // 2. data: raw pixels in [0, 1], no preprocessing or augmentation (permutation invariant, Sec. 6.1.1)
  const root = run.info.dataDir ?? undefined;
  const trainSet = limited(new data.MNIST({ root, train: true }), c.trainLimit);
  const testSet = limited(new data.MNIST({ root, train: false }), c.testLimit);
  const shuffle = new Generator(c.seed + 1);
  const trainLoader = new data.DataLoader(trainSet, { batchSize: c.batchSize, shuffle: true, generator: shuffle });
  const testLoader = new data.DataLoader(testSet, { batchSize: 1000 });
  // 3. models and 4. optimizers, one per net
  const members = (c.nets as NetName[]).map((n) => buildMember(n, c));

  const stepsPerEpoch = trainLoader.length;
  const total = c.epochs * stepsPerEpoch;
  let step = 0;
  // The shuffle order and the dropout-mask stream at the start of the current epoch / last save.
  let epochStartRng = shuffle.getState();
  let elapsed = 0; // training seconds, carried across resumes
  if (existsSync(run.checkpointPath)) {
    const ck = io.loadCheckpoint(run.checkpointPath);
    for (const m of members) {
      const prefix = `${m.name}.`;
      const own = Object.fromEntries(Object.entries(ck.model).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
      m.model.loadStateDict(own);
      m.opt.loadStateDict((ck.optimizer as Record<string, Parameters<typeof m.opt.loadStateDict>[0]>)[m.name]!);
    }
    const rng = ck.rng as { shuffle: GeneratorState; masks: GeneratorState };
    epochStartRng = rng.shuffle;
    defaultGenerator.setState(rng.masks);
    step = ck.step;
    elapsed = (ck.extra as { elapsed: number }).elapsed;
    run.truncateMetrics(step);
    console.log(`resumed from step ${step}`);
  }
  const save = () => {
    const model: Record<string, Tensor> = {};
    for (const m of members) for (const [k, v] of Object.entries(m.model.stateDict())) model[`${m.name}.${k}`] = v;
    io.saveCheckpoint(run.checkpointPath, {
      model,
      optimizer: Object.fromEntries(members.map((m) => [m.name, m.opt.stateDict()])),
      rng: { shuffle: epochStartRng, masks: defaultGenerator.getState() },
      step,
      config: c,
      extra: { elapsed },
    });
  };

  const progress = new Progress({ total, unit: 'img/s', unitsPerStep: c.batchSize, label: 'dropout' });
  progress.resumeFrom(step);
  let t0 = Date.now();
  // 5. loop
  for (let epoch = Math.floor(step / stepsPerEpoch); epoch < c.epochs; epoch++) {
    // Hinton et al. 2012, App. A: momentum p_t ramps from 0.5 to 0.99; eps_t = eps_0 f^t; and the
    // update is dw_t = p_t dw_{t-1} - (1 - p_t) eps_t <dL/dw>. SGD's buffer form b_t = p_t b_{t-1} + g,
    // w -= lr b_t gives that update with lr = (1 - p_t) eps_t (exactly while p and eps are constant).
    const p = momentumAt(epoch, c.momentumStart, c.momentumEnd, c.momentumRampEpochs);
    for (const m of members) {
      for (const group of m.opt.paramGroups) {
        group.momentum = p;
        group.lr = (1 - p) * learningRateAt(epoch, m.lr0, c.lrDecay);
      }
    }
    shuffle.setState(epochStartRng);
    let b = 0;
    for (const batch of trainLoader) {
      if (b++ < step - epoch * stepsPerEpoch) continue; // done before the checkpoint
      const [x, y] = batch as [Tensor, Tensor];
      const losses: Record<string, number> = {};
      for (const m of members) {
        m.opt.zeroGrad();
        const loss = nn.functional.crossEntropy(m.model.forward(x), y);
        loss.backward();
        m.opt.step();
        // Sec. 5.1: project each hidden unit's incoming weights back into the ball after the update.
        if (m.maxNorm !== null) maxNorm_(m.model.hiddenLayers, m.maxNorm);
        losses[m.name] = loss.item();
      }
      step++;
      if (step % 10 === 0) run.log(step, 'train', Object.fromEntries(Object.entries(losses).map(([k, v]) => [`loss ${k}`, v])));
      progress.update(step, { epoch: epoch + 1, ...losses });
      await run.poll();
      if (step % c.checkpointEvery === 0 || run.stopRequested) {
        elapsed += (Date.now() - t0) / 1000;
        t0 = Date.now();
        save();
      }
      if (run.stopRequested) {
        progress.done();
        return;
      }
    }
    epochStartRng = shuffle.getState();
    // 6. evaluation: test error of each net after each epoch
    const errors: Record<string, number> = {};
    for (const m of members) errors[`test error ${m.name}`] = testError(m.model, testLoader);
    run.log(step, 'eval', { epoch: epoch + 1, lr: learningRateAt(epoch, c.lr, c.lrDecay), momentum: p, ...errors });
    progress.update(step, { epoch: epoch + 1, ...errors }, true);
    // 7. checkpoint
    elapsed += (Date.now() - t0) / 1000;
    t0 = Date.now();
    save();
  }
  progress.done();
  const epochsDone = Math.floor(step / stepsPerEpoch);
  run.setResults(
    members.map((m) => ({
      metric: `test error (%), ${m.name}`,
      paper: PAPER_ERRORS[m.name].error,
      ours: Number(testError(m.model, testLoader).toFixed(2)),
      note: `${PAPER_ERRORS[m.name].note}; ours 784-${c.hidden.join('-')}-10 ${c.activation}, ${epochsDone} epochs (${step} updates), ${Math.round(elapsed)} s`,
    })),
  );
}

export const dropout: Landmark<DropoutConfig> = {
  name: 'dropout',
  title: 'Dropout on permutation-invariant MNIST (Srivastava et al. 2014)',
  spec,
  train,
};
