/**
 * Learning-rate schedules, with torch.optim.lr_scheduler's exact semantics (torch 1.13).
 *
 * A schedule owns a step counter, `lastEpoch`, and writes `lr` into each of the optimizer's
 * parameter groups. Construction performs step 0 (so the optimizer's lr is the schedule's first
 * value before any training step); call `optimizer.step()` and then `scheduler.step()` once per
 * epoch (or per batch, for OneCycleLR).
 *
 * Like torch, most schedules are *chainable*: `getLr()` computes the new lr from the group's
 * current lr (lr ← lr · γ), so two schedules on one optimizer compose, and outside changes to lr
 * carry forward. `step(epoch)` with an explicit epoch uses the *closed form* instead
 * (lr = base · γ^epoch), where torch has one; SequentialLR relies on this (it calls `step(0)`
 * at each milestone). The floating-point operations happen in the same order as torch's, so the
 * learning rates agree with torch's to the last bit or two, not just approximately.
 *
 * State dicts hold every field of the schedule except the optimizer (and functions), under our
 * camelCase names (torch's `last_epoch` is `lastEpoch`, `_step_count` is `stepCount`).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer, ParamGroup } from './optimizer.js';

/** A group as schedules see it: any optimizer's settings, plus momentum or betas if it has them. */
type ScheduledGroup = ParamGroup & { momentum?: number; betas?: [number, number] };

/** A schedule's saved state: plain values, keyed by field name. */
export type SchedulerStateDict = Record<string, unknown>;

/** How many elements of the sorted list `xs` are ≤ x (Python's bisect.bisect_right). */
function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function copyPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyPlain);
  if (value instanceof Map) return new Map(value);
  return value;
}

/**
 * The base of the epoch-indexed schedules (torch's `_LRScheduler`). A subclass sets its fields
 * and then calls `this.initialStep()` at the end of its constructor (torch's subclasses set
 * theirs before calling the base constructor, which TypeScript does not allow).
 */
export abstract class LRScheduler {
  /** The optimizer whose groups' lr this schedule sets. */
  readonly optimizer: Optimizer;
  /** Each group's lr at the start of the schedule (its `initialLr`). */
  baseLrs: number[];
  /** The index of the last step taken; -1 before the first. */
  lastEpoch: number;
  /** How many times `step()` has run (torch's `_step_count`); construction counts as one. */
  stepCount = 0;
  /** The lr of each group after the last step. */
  lastLr: number[] = [];

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    } else {
      optimizer.paramGroups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new Error(`${this.constructor.name}: paramGroups[${i}] has no initialLr, needed to resume at lastEpoch ${lastEpoch}`);
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** The new lr of every group, in the chainable form (reads the groups' current lr). */
  protected abstract getLr(): number[];

  /** The lr of every group at `lastEpoch` from the base lrs alone, where the schedule has one. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** @internal Step 0, run by each constructor (and by SequentialLR); resets the step counter. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances the schedule by one and writes the new lr into each group. With `epoch`, jumps to
   * that epoch and uses the closed form where there is one (as torch's deprecated
   * `step(epoch)`).
   */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = values[i]!;
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of each group computed by the last step (torch's get_last_lr). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Every field except the optimizer and functions, copied. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) {
      if (key === 'optimizer' || typeof value === 'function') continue;
      out[key] = copyPlain(value);
    }
    return out;
  }

  /** Restores fields saved by `stateDict()`. */
  loadStateDict(state: SchedulerStateDict): void {
    for (const [key, value] of Object.entries(state)) {
      if (key === 'optimizer') continue;
      (this as Record<string, unknown>)[key] = copyPlain(value);
    }
  }
}

/** Options every epoch-indexed schedule takes. */
export interface SchedulerOptions {
  /** The index of the last epoch when resuming; -1 (the default) starts from the beginning. */
  lastEpoch?: number;
}

/** lr = initialLr · lrLambda(epoch), one function for all groups or one per group (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR extends LRScheduler {
  lrLambdas: ((epoch: number) => number)[];

  constructor(
    optimizer: Optimizer,
    options: SchedulerOptions & { lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[] },
  ) {
    super(optimizer, options.lastEpoch);
    const { lrLambda } = options;
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda) && lrLambda.length !== n) {
      throw new Error(`LambdaLR: expected ${n} lrLambdas, got ${lrLambda.length}`);
    }
    this.lrLambdas = Array.isArray(lrLambda) ? [...lrLambda] : Array.from({ length: n }, () => lrLambda);
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i]!(this.lastEpoch));
  }

  /** As the base, without the functions (torch saves None for plain functions too). */
  override stateDict(): SchedulerStateDict {
    const { lrLambdas: _, ...rest } = super.stateDict();
    return rest;
  }

  override loadStateDict(state: SchedulerStateDict): void {
    const { lrLambdas: _, ...rest } = state;
    super.loadStateDict(rest);
  }
}

/** Multiplies lr by `gamma` every `stepSize` epochs (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { stepSize: number; gamma?: number }) {
    super(optimizer, options.lastEpoch);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Multiplies lr by `gamma` at each milestone epoch; a repeated milestone applies twice (torch.optim.lr_scheduler.MultiStepLR). */
export class MultiStepLR extends LRScheduler {
  /** The milestones, sorted (repeats kept). */
  milestones: number[];
  gamma: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { milestones: number[]; gamma?: number }) {
    super(optimizer, options.lastEpoch);
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** bisectRight(this.milestones, this.lastEpoch));
  }
}

/** Multiplies lr by `gamma` every epoch (torch.optim.lr_scheduler.ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { gamma: number }) {
    super(optimizer, options.lastEpoch);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` epochs: Loshchilov & Hutter,
 * "SGDR: Stochastic Gradient Descent with Warm Restarts" (ICLR 2017, arXiv:1608.03983), Eq. 5,
 * without the restarts (torch.optim.lr_scheduler.CosineAnnealingLR). Past tMax the cosine
 * continues, so lr rises again.
 *
 *   η_t = η_min + ½ (η_max − η_min) (1 + cos(π t / T_max))
 *
 * The chainable form (torch's) multiplies the current lr's distance from η_min by the ratio of
 * consecutive cosine terms, stepping explicitly through the minimum where that ratio is 0/0.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, options: SchedulerOptions & { tMax: number; etaMin?: number }) {
    super(optimizer, options.lastEpoch);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: t, tMax, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (t === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((t * Math.PI) / tMax))) / 2);
    }
    // Python's % is a floor modulo; t − 1 − T_max may be negative.
    const k = 2 * tMax;
    if ((((t - 1 - tMax) % k) + k) % k === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return groups.map(
      (g) => ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (g.lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map(
      (base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2,
    );
  }
}

/**
 * Scales lr by a factor that moves linearly from `startFactor` to `endFactor` over `totalIters`
 * epochs, then stays (torch.optim.lr_scheduler.LinearLR); the usual warmup.
 */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(
    optimizer: Optimizer,
    options: SchedulerOptions & { startFactor?: number; endFactor?: number; totalIters?: number } = {},
  ) {
    super(optimizer, options.lastEpoch);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1.0;
    this.totalIters = options.totalIters ?? 5;
    if (this.startFactor > 1 || this.startFactor <= 0) {
      throw new RangeError(`LinearLR: startFactor must be in (0, 1], got ${this.startFactor}`);
    }
    if (this.endFactor > 1 || this.endFactor < 0) throw new RangeError(`LinearLR: endFactor must be in [0, 1], got ${this.endFactor}`);
    this.initialStep();
  }

  protected getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    const { lastEpoch: t, startFactor: s, endFactor: e, totalIters: n } = this;
    if (t === 0) return groups.map((g) => g.lr * s);
    if (t > n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (e - s) / (n * s + (t - 1) * (e - s))));
  }

  protected override closedFormLr(): number[] {
    const { lastEpoch: t, startFactor: s, endFactor: e, totalIters: n } = this;
    return this.baseLrs.map((base) => base * (s + ((e - s) * Math.min(n, t)) / n));
  }
}

/** OneCycleLR's settings (torch.optim.lr_scheduler.OneCycleLR). */
export interface OneCycleLROptions extends SchedulerOptions {
  /** The peak lr, for all groups or one per group. */
  maxLr: number | number[];
  /** Length of the cycle in steps; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent raising the lr. Default 0.3. */
  pctStart?: number;
  /** 'cos' (default) or 'linear' interpolation within each phase. */
  annealStrategy?: 'cos' | 'linear';
  /** Move momentum (SGD's momentum, or Adam's β1) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the lr peak. Default 0.85. */
  baseMomentum?: number | number[];
  /** Highest momentum, at the start and the end. Default 0.95. */
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  /** Three phases (up, back down to initialLr, then annihilate), as fast.ai; default two (up, down to minLr). */
  threePhase?: boolean;
}

type GroupKey = 'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum';

interface Phase {
  endStep: number;
  startLr: GroupKey;
  endLr: GroupKey;
  startMomentum: GroupKey;
  endMomentum: GroupKey;
}

/** Checks OneCycleLR's options and writes initialLr, maxLr, minLr and the momentum range into the groups. */
function prepareOneCycle(optimizer: Optimizer, options: OneCycleLROptions): void {
  const { totalSteps, epochs, stepsPerEpoch, pctStart = 0.3, annealStrategy = 'cos', lastEpoch = -1 } = options;
  const positiveInt = (x: number | undefined) => x !== undefined && Number.isInteger(x) && x > 0;
  if (totalSteps === undefined && (epochs === undefined || stepsPerEpoch === undefined)) {
    throw new Error('OneCycleLR: give either totalSteps or both epochs and stepsPerEpoch');
  }
  const counts: [string, number | undefined][] = totalSteps !== undefined
    ? [['totalSteps', totalSteps]]
    : [['epochs', epochs], ['stepsPerEpoch', stepsPerEpoch]];
  for (const [name, value] of counts) {
    if (!positiveInt(value)) throw new RangeError(`OneCycleLR: expected a positive integer ${name}, got ${value}`);
  }
  if (!(pctStart >= 0 && pctStart <= 1)) throw new RangeError(`OneCycleLR: expected pctStart between 0 and 1, got ${pctStart}`);
  if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
    throw new Error(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${annealStrategy}`);
  }
  const groups = optimizer.paramGroups as ScheduledGroup[];
  const perGroup = (name: string, v: number | number[]): number[] => {
    if (!Array.isArray(v)) return groups.map(() => v);
    if (v.length !== groups.length) throw new Error(`OneCycleLR: expected ${groups.length} values for ${name}, got ${v.length}`);
    return v;
  };
  const divFactor = options.divFactor ?? 25;
  const finalDivFactor = options.finalDivFactor ?? 1e4;
  const maxLrs = perGroup('maxLr', options.maxLr);
  if (lastEpoch === -1) {
    groups.forEach((g, i) => {
      g.initialLr = maxLrs[i]! / divFactor;
      g.maxLr = maxLrs[i]!;
      g.minLr = g.initialLr / finalDivFactor;
    });
  }
  if (options.cycleMomentum ?? true) {
    const defaults = optimizer.defaults as object;
    if (!('momentum' in defaults) && !('betas' in defaults)) {
      throw new Error('OneCycleLR: the optimizer has no momentum or betas to cycle; pass cycleMomentum: false');
    }
    const useBeta1 = 'betas' in defaults;
    const maxMomentums = perGroup('maxMomentum', options.maxMomentum ?? 0.95);
    const baseMomentums = perGroup('baseMomentum', options.baseMomentum ?? 0.85);
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        if (useBeta1) g.betas = [maxMomentums[i]!, g.betas![1]];
        else g.momentum = maxMomentums[i]!;
        g.maxMomentum = maxMomentums[i]!;
        g.baseMomentum = baseMomentums[i]!;
      });
    }
  }
}

/**
 * The 1cycle policy: Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks
 * Using Large Learning Rates" (arXiv:1708.07120); lr rises from maxLr/divFactor to
 * maxLr, then falls far below the start, while momentum does the opposite. Stepped once per
 * batch; stepping past `totalSteps` throws, as in torch.
 */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  /** Whether momentum is Adam's β1 (the optimizer has `betas`) rather than SGD's `momentum`. */
  useBeta1: boolean;
  phases: Phase[];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    super(optimizer, options.lastEpoch);
    prepareOneCycle(optimizer, options);
    // torch writes initialLr before its base class reads it; here the base has read it already.
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    const { epochs, stepsPerEpoch, pctStart = 0.3 } = options;
    this.totalSteps = options.totalSteps ?? epochs! * stepsPerEpoch!;
    this.annealStrategy = options.annealStrategy ?? 'cos';
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = 'betas' in optimizer.defaults;
    const n = this.totalSteps;
    this.phases = options.threePhase
      ? [
          { endStep: pctStart * n - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pctStart * n - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: n - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pctStart * n - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: n - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new Error(`OneCycleLR: tried to step ${stepNum + 1} times; the schedule has ${this.totalSteps} total steps`);
    }
    return (this.optimizer.paramGroups as ScheduledGroup[]).map((group) => {
      let startStep = 0;
      let lr = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i]!;
        const endStep = phase.endStep;
        if (stepNum <= endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (endStep - startStep);
          lr = this.anneal(group[phase.startLr]!, group[phase.endLr]!, pct);
          if (this.cycleMomentum) {
            const momentum = this.anneal(group[phase.startMomentum]!, group[phase.endMomentum]!, pct);
            if (this.useBeta1) group.betas = [momentum, group.betas![1]];
            else group.momentum = momentum;
          }
          break;
        }
        startStep = phase.endStep;
      }
      return lr;
    });
  }
}

/**
 * Runs schedules one after another, switching at the milestones (torch.optim.lr_scheduler.SequentialLR):
 * e.g. LinearLR warmup for 5 epochs, then CosineAnnealingLR. At a milestone the next schedule
 * starts from its epoch 0 (its closed form), so it begins from the base lr.
 */
export class SequentialLR {
  readonly optimizer: Optimizer;
  schedulers: LRScheduler[];
  milestones: number[];
  lastEpoch: number;
  lastLr: number[];

  constructor(optimizer: Optimizer, options: SchedulerOptions & { schedulers: LRScheduler[]; milestones: number[] }) {
    const { schedulers, milestones, lastEpoch = -1 } = options;
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new Error(`SequentialLR: expects all schedulers to belong to its optimizer, but scheduler ${i} has another`);
      }
    });
    if (milestones.length !== schedulers.length - 1) {
      throw new Error(
        `SequentialLR: expects one more scheduler than milestones, got ${schedulers.length} schedulers and ${milestones.length} milestones`,
      );
    }
    this.optimizer = optimizer;
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.lastEpoch = lastEpoch + 1;
    // Undo what constructing the schedulers did to lr and to their counters, then start the first.
    for (const group of optimizer.paramGroups) group.lr = group.initialLr!;
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0]!.initialStep();
    this.lastLr = schedulers[0]!.getLastLr();
  }

  /** Advances by one epoch, stepping the schedule whose turn it is. */
  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Its own counters plus each schedule's state dict. */
  stateDict(): SchedulerStateDict {
    return {
      milestones: [...this.milestones],
      lastEpoch: this.lastEpoch,
      lastLr: [...this.lastLr],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  loadStateDict(state: SchedulerStateDict): void {
    this.milestones = [...(state.milestones as number[])];
    this.lastEpoch = state.lastEpoch as number;
    this.lastLr = [...(state.lastLr as number[])];
    (state.schedulers as SchedulerStateDict[]).forEach((s, i) => this.schedulers[i]!.loadStateDict(s));
  }
}

/** ReduceLROnPlateau's settings (torch.optim.lr_scheduler.ReduceLROnPlateau). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): the metric should fall; 'max': it should rise. */
  mode?: 'min' | 'max';
  /** new lr = lr · factor. Default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing. Default 10. */
  patience?: number;
  /** How much better than the best a value must be to count as an improvement. Default 1e-4. */
  threshold?: number;
  /** 'rel' (default): best · (1 ∓ threshold); 'abs': best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again. Default 0. */
  cooldown?: number;
  /** Lower bound on lr, for all groups or one per group. Default 0. */
  minLr?: number | number[];
  /** A reduction smaller than this is skipped. Default 1e-8. */
  eps?: number;
}

/**
 * Divides lr by 1/factor when a metric has stopped improving for `patience` epochs
 * (torch.optim.lr_scheduler.ReduceLROnPlateau). `step(metric)` is called once per epoch with the
 * validation metric.
 */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  cooldownCounter = 0;
  minLrs: number[];
  eps: number;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  lastEpoch = 0;
  lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    this.optimizer = optimizer;
    this.factor = options.factor ?? 0.1;
    if (this.factor >= 1) throw new RangeError('ReduceLROnPlateau: factor should be < 1.0');
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== n) throw new Error(`ReduceLROnPlateau: expected ${n} minLrs, got ${minLr.length}`);
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array.from({ length: n }, () => minLr);
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    this.mode = options.mode ?? 'min';
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.mode !== 'min' && this.mode !== 'max') throw new Error(`ReduceLROnPlateau: mode ${this.mode} is unknown`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new Error(`ReduceLROnPlateau: thresholdMode ${this.thresholdMode} is unknown`);
    }
    this.eps = options.eps ?? 1e-8;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Records one epoch's metric and reduces lr if it has not improved for more than `patience` epochs. */
  step(metric: number | Tensor): void {
    const current = typeof metric === 'number' ? metric : metric.item();
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((group, i) => {
        const newLr = Math.max(group.lr * this.factor, this.minLrs[i]!);
        if (group.lr - newLr > this.eps) group.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Every field except the optimizer, copied. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) if (key !== 'optimizer') out[key] = copyPlain(value);
    return out;
  }

  loadStateDict(state: SchedulerStateDict): void {
    for (const [key, value] of Object.entries(state)) {
      if (key !== 'optimizer') (this as Record<string, unknown>)[key] = copyPlain(value);
    }
    // JSON writes the starting best, ±Infinity, as null.
    if (this.best === null) this.best = this.mode === 'min' ? Infinity : -Infinity;
  }
}
