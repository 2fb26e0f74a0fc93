/**
 * The optimizer base: parameter groups with their own settings, per-parameter state, `step()`,
 * `zeroGrad()` and state dicts, following torch.optim.Optimizer.
 *
 * Each algorithm (sgd.ts, adam.ts, ...) supplies one function, `update(param, grad, state, group)`,
 * that moves one parameter by one step with plain in-place tensor ops: the readable statement of
 * the algorithm. Each also supplies `fusedUpdate`, which takes the same step as one fused backend
 * kernel (fused.ts) where it applies (dense float tensors), computing the same bits without
 * allocating; `update` runs otherwise. The base class loops over the groups and parameters,
 * skips parameters without a gradient (as PyTorch does), and runs the loop under `noGrad`.
 *
 * State dict layout: PyTorch's, with our camelCase keys.
 *
 *   { state: { 0: { step: 3, expAvg: Tensor, expAvgSq: Tensor }, ... },
 *     paramGroups: [{ lr: 0.001, betas: [0.9, 0.999], ..., params: [0, 1] }, ...] }
 *
 * Parameters are numbered in order across the groups, as in torch; each key is PyTorch's key in
 * camelCase (exp_avg_sq ↔ expAvgSq, weight_decay ↔ weightDecay, param_groups ↔ paramGroups,
 * initial_lr ↔ initialLr). One deviation: `step` is a plain number (torch 1.13 keeps a 0-d
 * tensor for Adam, AdamW, Adamax and Adagrad). `stateDict()` copies the state tensors, so a saved
 * dict does not change when training continues (torch returns references and relies on the
 * caller to deepcopy or serialise); `loadStateDict()` copies them in, as torch does.
 */
import { Tensor } from '../tensor/tensor.js';
import { enableGrad, noGrad } from '../autograd/mode.js';

/** The setting every optimizer has. */
export interface OptimizerOptions {
  /** Learning rate. */
  lr: number;
}

/**
 * Settings that learning-rate schedules write into a group (torch's `initial_lr`, `max_lr`, ...).
 * They live in the group, so they are saved with the optimizer's state dict, as in torch.
 */
export interface ScheduleFields {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
}

/** One parameter group: its parameters and its own copy of every setting. */
export type ParamGroup<O extends OptimizerOptions = OptimizerOptions> = O & ScheduleFields & { params: Tensor[] };

/** A group as the user passes it: parameters and any settings that differ from the defaults. */
export type ParamGroupInput<O extends OptimizerOptions = OptimizerOptions> = Partial<O> & { params: Iterable<Tensor> };

/** What an optimizer takes: parameters, or parameter groups. */
export type Params<O extends OptimizerOptions = OptimizerOptions> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** One entry of per-parameter state: a tensor like the parameter, or a number (the step count). */
export type StateValue = Tensor | number;

/** Per-parameter state of one algorithm, e.g. `{ step, expAvg, expAvgSq }`; absent entries are undefined. */
export type ParamState = Record<string, StateValue | undefined>;

/** A saved group: the settings, and the parameters as indices into the numbering of `state`. */
export type SavedParamGroup = Record<string, unknown> & { params: number[] };

/** The whole optimizer state, laid out as torch.optim.Optimizer.state_dict() (see the file header). */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: SavedParamGroup[];
}

/** A closure that recomputes the loss (with gradients), as passed to `step()`. */
export type Closure = () => Tensor | number;

function copyValue(value: unknown): unknown {
  if (value instanceof Tensor) return noGrad(() => value.detach().clone());
  if (Array.isArray(value)) return value.map(copyValue);
  return value;
}

/**
 * The base of every optimizer. `O` is the algorithm's settings, `S` its per-parameter state.
 */
export abstract class Optimizer<O extends OptimizerOptions = OptimizerOptions, S extends ParamState = ParamState> {
  /** The settings a group gets when it does not give its own. */
  readonly defaults: O;
  /** The groups, each with its parameters and settings; schedules change `lr` here. */
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on a parameter's first step. */
  state = new Map<Tensor, S>();

  constructor(params: Params<O>, defaults: O) {
    this.defaults = defaults;
    const list: (Tensor | ParamGroupInput<O>)[] = [...params];
    if (list.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    const tensors = list.filter((p): p is Tensor => p instanceof Tensor);
    const groups: ParamGroupInput<O>[] = tensors.length === list.length
      ? [{ params: tensors } as Partial<O> & { params: Tensor[] }]
      : (list as ParamGroupInput<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group (torch.optim.Optimizer.add_param_group); unset settings come from `defaults`. */
  addParamGroup(group: ParamGroupInput<O>): void {
    if (group instanceof Tensor || typeof group !== 'object' || group === null || !('params' in group)) {
      throw new TypeError(`${this.constructor.name}.addParamGroup: expected { params: Tensor[], ...settings }`);
    }
    const params = group.params instanceof Tensor ? [group.params] : [...group.params];
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: parameters must be Tensors`);
      if (!p.isLeaf) throw new Error(`${this.constructor.name}: can't optimize a non-leaf Tensor`);
    }
    if (new Set(params).size !== params.length) {
      throw new Error(`${this.constructor.name}: a parameter group holds the same parameter twice`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => seen.has(p))) {
      throw new Error(`${this.constructor.name}: some parameters appear in more than one parameter group`);
    }
    const merged: Record<string, unknown> = { ...this.defaults, ...group, params };
    for (const [key, value] of Object.entries(merged)) {
      if (value === undefined) throw new Error(`${this.constructor.name}: parameter group has no value for '${key}'`);
      // Copy settings like betas, so groups never share (and schedules never change) one array.
      if (Array.isArray(value) && key !== 'params') merged[key] = [...value];
    }
    const complete = merged as unknown as ParamGroup<O>;
    this.checkGroup(complete);
    this.paramGroups.push(complete);
  }

  /** Checks a group's settings; each algorithm throws on values PyTorch rejects. */
  protected checkGroup(group: ParamGroup<O>): void {
    if (!(group.lr >= 0)) throw new RangeError(`${this.constructor.name}: invalid learning rate ${group.lr}`);
  }

  /** The state of a parameter on its first step: zeros like the parameter, and step 0. */
  protected abstract initState(param: Tensor, group: ParamGroup<O>): S;

  /** Moves one parameter by one step, in place, with Tensor ops; runs with gradients off. */
  protected abstract update(param: Tensor, grad: Tensor, state: S, group: ParamGroup<O>): void;

  /**
   * Takes the same step as `update` with the backend's fused kernel (fused.ts) and returns true,
   * or returns false, having changed nothing, where that does not apply; `update` then runs.
   * The base class never fuses.
   */
  protected fusedUpdate(param: Tensor, grad: Tensor, state: S, group: ParamGroup<O>): boolean {
    return false;
  }

  /**
   * Takes one optimization step for every parameter that has a gradient. With a closure, calls it
   * first (with gradients on) and returns its loss, as torch does.
   */
  step(closure?: Closure): Tensor | number | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const grad = p._peekGrad();
          if (grad === null) continue;
          let s = this.state.get(p);
          if (s === undefined) {
            s = this.initState(p, group);
            this.state.set(p, s);
          }
          // The fused kernel only reads the gradient; `update` gets it as `.grad` hands it out,
          // since an update written in tensor ops might keep it (Tensor._setGrad says why it matters).
          if (!this.fusedUpdate(p, grad, s, group)) this.update(p, p.grad!, s, group);
        }
      }
    });
    return loss;
  }

  /** Clears the gradients: sets them to null (torch's `set_to_none=True`), or to zeros in place. */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const grad = p._peekGrad();
        if (grad === null) continue;
        if (setToNone) p.grad = null;
        else noGrad(() => grad.zero_());
      }
    }
  }

  /** The state and settings, with parameters replaced by their index (see the file header). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups: SavedParamGroup[] = this.paramGroups.map((group) => {
      const saved: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(group)) {
        if (key !== 'params') saved[key] = copyValue(value);
      }
      const params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...saved, params };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const copy: ParamState = {};
      for (const [key, value] of Object.entries(s)) {
        if (value !== undefined) copy[key] = copyValue(value) as StateValue;
      }
      state[i] = copy;
    }
    return { state, paramGroups };
  }

  /**
   * Restores state and settings saved by `stateDict()` (torch.optim.Optimizer.load_state_dict):
   * the groups must hold as many parameters as the saved ones; their settings are replaced by the
   * saved settings, and state tensors are copied and cast to each parameter's dtype.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const saved = stateDict.paramGroups;
    if (!Array.isArray(saved) || saved.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the saved state has ${saved?.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    saved.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i]!.params.length) {
        throw new Error(
          `${name}.loadStateDict: saved parameter group ${i} has ${g.params.length} parameters, the optimizer's has ${this.paramGroups[i]!.params.length}`,
        );
      }
    });
    const byIndex = new Map<number, Tensor>();
    saved.forEach((g, i) => g.params.forEach((id, j) => byIndex.set(id, this.paramGroups[i]!.params[j]!)));
    const state = new Map<Tensor, S>();
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const p = byIndex.get(Number(key));
      if (p === undefined) throw new Error(`${name}.loadStateDict: state for parameter ${key}, which no group holds`);
      const restored: ParamState = {};
      for (const [k, v] of Object.entries(entry)) {
        if (v instanceof Tensor) {
          if (k !== 'step' && v.shape.join() !== p.shape.join()) {
            throw new Error(`${name}.loadStateDict: state '${k}' of parameter ${key} has shape [${v.shape}], the parameter [${p.shape}]`);
          }
          // A 0-d `step` tensor (torch's layout) becomes a number; other tensors follow the parameter.
          restored[k] = k === 'step' ? v.item() : noGrad(() => v.detach().to(p.dtype).clone());
        } else if (v !== null && v !== undefined) {
          // torch saves `momentum_buffer: None` for SGD without momentum; absent means the same here.
          restored[k] = v;
        }
      }
      state.set(p, restored as S);
    }
    this.paramGroups = this.paramGroups.map((group, i) => {
      const settings: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(saved[i]!)) if (k !== 'params') settings[k] = copyValue(v);
      return { ...settings, params: group.params } as ParamGroup<O>;
    });
    this.state = state;
  }
}
