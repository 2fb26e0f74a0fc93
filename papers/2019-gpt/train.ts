/**
 * Trains a character-level GPT on Tiny Shakespeare, as karpathy/nanoGPT's train.py does with
 * config/train_shakespeare_char.py: AdamW with weight decay on matrices only, linear warmup then
 * cosine decay, gradient clipping and accumulation, evaluation on the held-out 10%, checkpoints,
 * and samples. `milestones run gpt --preset cpu` (README.md has the numbers).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Generator,
  Progress,
  Tensor,
  data,
  defaultGenerator,
  io,
  manualSeed,
  noGrad,
  optim,
  randint,
  tensor,
  text,
  type GeneratorState,
  type Landmark,
  type Run,
  type SampleOptions,
} from '../../src/index.js';
import { spec, type GPTTrainConfig } from './config.js';
import { GPT } from './model.js';

/** nanoGPT's results for the presets (README of karpathy/nanoGPT). */
const NANOGPT_VAL_LOSS: Record<string, { loss: number; note: string }> = {
  cpu: { loss: 1.88, note: 'nanoGPT README, "~3 minutes" on a MacBook CPU' },
  paper: { loss: 1.4697, note: 'nanoGPT README, about 3 minutes on one A100' },
};

/** Learning rate at step `it`: linear warmup, cosine decay to minLr, then flat (nanoGPT's get_lr). */
export function getLr(it: number, c: GPTTrainConfig): number {
  if (it < c.warmupIters) return (c.learningRate * (it + 1)) / (c.warmupIters + 1);
  if (it > c.lrDecayIters) return c.minLr;
  const decayRatio = (it - c.warmupIters) / (c.lrDecayIters - c.warmupIters);
  const coeff = 0.5 * (1 + Math.cos(Math.PI * decayRatio)); // from 1 down to 0
  return c.minLr + coeff * (c.learningRate - c.minLr);
}

/** Random windows of `blockSize + 1` characters: inputs and the same shifted by one (nanoGPT's get_batch). */
function getBatch(ids: readonly number[], c: GPTTrainConfig, gen: Generator): { x: Tensor; y: Tensor } {
  const starts = randint(0, ids.length - c.blockSize, [c.batchSize], { generator: gen }).toArray() as number[];
  return windowsAt(ids, starts, c.blockSize);
}

/** The windows of `blockSize` characters at `starts`, and the same shifted by one: [B, T] each. */
function windowsAt(ids: readonly number[], starts: number[], blockSize: number): { x: Tensor; y: Tensor } {
  const x = starts.map((i) => ids.slice(i, i + blockSize));
  const y = starts.map((i) => ids.slice(i + 1, i + 1 + blockSize));
  return { x: tensor(x, { dtype: 'int32' }), y: tensor(y, { dtype: 'int32' }) };
}

async function train(run: Run<GPTTrainConfig>): Promise<void> {
  const c = run.config;
  // 1. seed
  manualSeed(c.seed); // initialisation and dropout
  const batches = new Generator(c.seed + 1); // batch offsets, for training and evaluation

  // 2. data: characters of Tiny Shakespeare, the first 90% to train on, the last 10% held out.
  const [path] = data.requireDataset('tinyshakespeare', ['input.txt'], run.info.dataDir ?? undefined);
  const corpus = readFileSync(path!, 'utf8');
  const tokenizer = text.CharTokenizer.fromText(corpus);
  const ids = tokenizer.encode(corpus);
  const n = Math.floor(0.9 * ids.length);
  const splits = { train: ids.slice(0, n), val: ids.slice(n) };
  text.saveCharTokenizer(tokenizer, join(run.dir, 'tokenizer.json')); // for `milestones sample`

  // 3. model
  const model = new GPT({
    vocabSize: tokenizer.vocabSize,
    blockSize: c.blockSize,
    nLayer: c.nLayer,
    nHead: c.nHead,
    nEmbd: c.nEmbd,
    dropout: c.dropout,
    bias: c.bias,
    layerNormEps: 1e-5,
  });
  console.log(`GPT: ${(model.getNumParams() / 1e6).toFixed(2)}M parameters, vocabulary of ${tokenizer.vocabSize} characters`);

  // 4. optimizer: weight decay on the matrices and embeddings, none on biases and LayerNorm gains.
  const params = model.parameters();
  const opt = new optim.AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: c.weightDecay },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: c.learningRate, betas: [c.beta1, c.beta2] },
  );

  let iter = 0;
  let bestVal = Infinity;
  let last = { train: NaN, val: NaN }; // the latest evaluation
  let lastSample = '';
  let trainSeconds = 0; // wall time of finished steps and evaluations, summed over resumptions
  if (existsSync(run.checkpointPath)) {
    const ck = io.loadCheckpoint(run.checkpointPath);
    model.loadStateDict(ck.model);
    opt.loadStateDict(ck.optimizer as Parameters<typeof opt.loadStateDict>[0]);
    const rng = ck.rng as { batches: GeneratorState; global: GeneratorState };
    batches.setState(rng.batches);
    defaultGenerator.setState(rng.global);
    ({ bestVal, trainSeconds, last, lastSample } = ck.extra as { bestVal: number; trainSeconds: number; last: typeof last; lastSample: string });
    iter = ck.step;
    run.truncateMetrics(iter);
    console.log(`resumed at step ${iter}`);
  }
  const resumedAt = iter;
  const save = () =>
    io.saveCheckpoint(run.checkpointPath, {
      model: model.stateDict(),
      optimizer: opt.stateDict(),
      rng: { batches: batches.getState(), global: defaultGenerator.getState() },
      step: iter,
      config: c,
      extra: { bestVal, trainSeconds, last, lastSample },
    });

  /** Mean loss over `evalIters` random batches of each split, without dropout (nanoGPT's estimate_loss). */
  const estimateLoss = () => {
    model.eval();
    const out = { train: 0, val: 0 };
    noGrad(() => {
      for (const split of ['train', 'val'] as const) {
        for (let k = 0; k < c.evalIters; k++) {
          const { x, y } = getBatch(splits[split], c, batches);
          out[split] += model.forward(x, y).loss!.item() / c.evalIters;
        }
      }
    });
    model.train();
    return out;
  };

  /**
   * Mean loss per character over the whole of a split, read as consecutive windows of blockSize
   * characters (all the whole windows; nothing random). estimateLoss's 20 random batches wander by
   * about 0.01 from one draw to the next (papers/2019-gpt/README.md); this does not, so it is the
   * number to compare between two runs.
   */
  const wholeSplitLoss = (ids: readonly number[], windowsPerBatch = 64) => {
    model.eval();
    const windows = Math.floor((ids.length - 1) / c.blockSize);
    let sum = 0;
    noGrad(() => {
      for (let w0 = 0; w0 < windows; w0 += windowsPerBatch) {
        const starts = Array.from({ length: Math.min(windowsPerBatch, windows - w0) }, (_, k) => (w0 + k) * c.blockSize);
        const { x, y } = windowsAt(ids, starts, c.blockSize);
        sum += model.forward(x, y).loss!.item() * starts.length; // each window weighs blockSize characters
      }
    });
    model.train();
    return sum / windows;
  };

  /** Text from the model, starting from a newline, written to samples/. */
  const sample = (step: number) => {
    model.eval();
    const start = tensor([tokenizer.encode('\n')], { dtype: 'int32' });
    const out = model.generate(start, c.sampleTokens, { temperature: c.temperature, topK: c.topK });
    model.train();
    const s = tokenizer.decode((out.toArray() as number[][])[0]!);
    writeFileSync(join(run.samplesDir, `step-${String(step).padStart(6, '0')}.txt`), s);
    return s;
  };

  // 5. loop
  const tokensPerStep = c.batchSize * c.blockSize * c.gradientAccumulationSteps;
  const progress = new Progress({ total: c.maxIters, unit: 'tok/s', unitsPerStep: tokensPerStep, label: 'gpt' });
  progress.resumeFrom(iter);
  let clock = Date.now();
  for (; ; iter++) {
    // 6. evaluation (at step 0, every evalInterval steps and at the end; not again right after resuming)
    if ((iter % c.evalInterval === 0 || iter === c.maxIters) && !(iter === resumedAt && iter > 0)) {
      last = estimateLoss();
      bestVal = Math.min(bestVal, last.val);
      run.log(iter, 'val', { loss: last.val });
      run.log(iter, 'train_eval', { loss: last.train });
      progress.update(iter, { train: last.train, val: last.val }, true);
      if (c.sampleTokens > 0 && (iter > 0 || c.maxIters === 0)) lastSample = sample(iter);
      // 7. checkpoint
      trainSeconds += (Date.now() - clock) / 1000;
      clock = Date.now();
      save();
    }
    await run.poll();
    if (iter >= c.maxIters || run.stopRequested) break;

    for (const group of opt.paramGroups) group.lr = getLr(iter, c);
    let lossSum = 0;
    for (let micro = 0; micro < c.gradientAccumulationSteps; micro++) {
      const { x, y } = getBatch(splits.train, c, batches);
      // Dividing by the number of micro-batches makes the summed gradients those of their mean loss.
      const loss = model.forward(x, y).loss!.div(c.gradientAccumulationSteps);
      loss.backward();
      lossSum += loss.item();
    }
    if (c.gradClip > 0) optim.clipGradNorm_(params, c.gradClip);
    opt.step();
    opt.zeroGrad();
    if ((iter + 1) % c.logInterval === 0) run.log(iter + 1, 'train', { loss: lossSum, lr: getLr(iter, c) });
    progress.update(iter + 1, { loss: lossSum });
  }
  progress.done();
  if (run.stopRequested && iter < c.maxIters) {
    trainSeconds += (Date.now() - clock) / 1000;
    save();
    return;
  }

  const reference = NANOGPT_VAL_LOSS[run.info.preset];
  // After the clock stops, as in tools/reference/nanogpt_cpu_reference.py.
  const valWhole = wholeSplitLoss(splits.val);
  run.log(iter, 'val_whole', { loss: valWhole });
  console.log(`val loss ${last.val.toFixed(4)} (whole split ${valWhole.toFixed(4)}) after ${iter} steps, ${(trainSeconds / 60).toFixed(1)} min\n--- sample ---\n${lastSample}`);
  run.setResults([
    { metric: 'val loss (nats/char)', paper: reference?.loss ?? null, ours: Number(last.val.toFixed(4)), note: reference?.note ?? 'no nanoGPT number for this preset' },
    { metric: 'val loss, whole split', paper: null, ours: Number(valWhole.toFixed(4)), note: `every whole window of ${c.blockSize} characters of the held-out 10%, in order` },
    { metric: 'best val loss', paper: null, ours: Number(bestVal.toFixed(4)) },
    { metric: 'train loss', paper: null, ours: Number(last.train.toFixed(4)) },
    { metric: 'parameters (M, without wpe)', paper: run.info.preset === 'paper' ? 10.65 : null, ours: Number((model.getNumParams() / 1e6).toFixed(2)) },
    { metric: 'wall time (min)', paper: null, ours: Number((trainSeconds / 60).toFixed(2)), note: `device ${run.info.device}` },
    { metric: 'throughput (tokens/s)', paper: null, ours: Math.round((iter * tokensPerStep) / Math.max(trainSeconds, 1e-9)), note: 'training tokens per second of wall time, evaluations included' },
    { metric: 'sample', paper: null, ours: lastSample.slice(0, 300) },
  ]);
}

/**
 * `milestones sample gpt --run DIR --prompt "ROMEO:"`: rebuilds the model from the run's config and
 * latest checkpoint, then streams characters as `generate` draws them (with the key/value cache,
 * each new character costs one position).
 */
async function sample(run: Run<GPTTrainConfig>, o: SampleOptions, write: (text: string) => void): Promise<void> {
  const c = run.config;
  if (!existsSync(run.checkpointPath)) throw new Error(`sample: ${run.dir} has no checkpoint yet (train it first)`);
  const tokenizer = text.loadCharTokenizer(join(run.dir, 'tokenizer.json'));
  const model = new GPT({
    vocabSize: tokenizer.vocabSize,
    blockSize: c.blockSize,
    nLayer: c.nLayer,
    nHead: c.nHead,
    nEmbd: c.nEmbd,
    dropout: 0,
    bias: c.bias,
    layerNormEps: 1e-5,
  });
  const ck = io.loadCheckpoint(run.checkpointPath);
  model.loadStateDict(ck.model);
  model.eval();
  // An empty prompt starts from a newline, as the samples written during training do.
  const prompt = o.prompt === '' ? '\n' : o.prompt;
  const start = tensor([tokenizer.encode(prompt)], { dtype: 'int32' }); // throws on unknown characters
  write(o.prompt);
  model.generate(start, o.tokens, {
    temperature: o.temperature,
    topK: o.topK,
    topP: o.topP,
    generator: new Generator(o.seed),
    onToken: (ids) => write(tokenizer.decode(ids)),
  });
  write('\n');
}

/** The landmark as the CLI sees it: `milestones run gpt --preset tiny|cpu|paper`, `milestones sample gpt`. */
export const gpt: Landmark<GPTTrainConfig> = {
  name: 'gpt',
  title: 'GPT (Radford et al. 2018, 2019): a character-level GPT on Tiny Shakespeare, after nanoGPT',
  spec,
  train,
  sample,
};
