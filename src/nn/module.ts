/**
 * nn.Module and nn.Parameter: the container that holds a model's weights, with PyTorch's names
 * and semantics (parameters(), namedParameters(), stateDict(), train()/eval(), ...).
 *
 * How a module finds its parts. A field that holds a Parameter or a Module is part of the module,
 * named by the field, in declaration order:
 *
 *   class Net extends nn.Module {
 *     fc1 = new nn.Linear(784, 256);   // parameters fc1.weight, fc1.bias
 *     fc2 = new nn.Linear(256, 10);
 *     forward(x: Tensor) { return this.fc2.forward(this.fc1.forward(x).relu()); }
 *   }
 *
 * This is plain JavaScript: `Object.keys(this)` lists own fields in the order they were first
 * assigned, and TypeScript class fields are defined in declaration order. Nothing is patched or
 * intercepted. Two things cannot be read off fields and are registered by name instead:
 * - buffers (registerBuffer): a Tensor field may be anything (a cached mask, a constant), so
 *   only an explicit call says "this is state to save";
 * - parts whose PyTorch name is not a camelCase field name (`in_proj_weight`, `weight_ih_l0`,
 *   `running_mean`): registerParameter / registerModule / registerBuffer under PyTorch's name,
 *   so checkpoints move between the two libraries by name. Layers expose them through
 *   camelCase getters (`bn.runningMean`).
 * A module's own parameters are those registered by name, then those held in fields; children
 * likewise.
 *
 * There is no `__call__`: with no hooks to run, `model.forward(x)` is the invocation, fully
 * typed by each module's own forward signature.
 */
import { Tensor, noGrad } from '../tensor/index.js';
import type { DType } from '../dtype.js';

/** A tensor that is a module's learnable weight: a leaf that requires gradients by default. */
export class Parameter extends Tensor {
  /** Wraps `data` (sharing its storage) as a parameter. */
  constructor(data: Tensor, requiresGrad = true) {
    const leaf = data.detach();
    super(leaf._storage, leaf.shape, leaf.dtype, leaf.device, leaf._version);
    this.requiresGrad = requiresGrad;
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

/** A module's saved state: parameter and buffer values by PyTorch-style dotted name, in order. */
export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Throw when a key is missing from the state dict or unexpected in it (default true). */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** A number as Python prints a float (1e-05, 0.1, 2.0), so toString reads like PyTorch's. */
export function pyFloat(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-4) {
    const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
    const e = Number(exponent);
    return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function shapeText(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** The base class of every layer and model (torch.nn.Module). */
export class Module {
  /** Whether the module is in training mode (Dropout drops, BatchNorm uses batch statistics). */
  training = true;
  private readonly _namedParameters = new Map<string, Parameter | null>();
  private readonly _namedBuffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _namedModules = new Map<string, Module | null>();

  /** The class name, as PyTorch prints it. */
  protected typeName(): string {
    return this.constructor.name;
  }

  // ---- registration ----

  /**
   * Registers a parameter under `name` (which need not be a field name); null registers the slot
   * empty, as PyTorch does for a layer built with `bias: false`.
   */
  registerParameter(name: string, param: Parameter | null): void {
    this.checkNewName('registerParameter', name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(`registerParameter: '${name}' must be a Parameter (wrap the tensor in new nn.Parameter(...))`);
    }
    this._namedParameters.set(name, param);
  }

  /**
   * Registers a buffer: state that is not learned but saved in the state dict (BatchNorm's running
   * statistics), unless `persistent` is false.
   */
  registerBuffer(name: string, value: Tensor | null, persistent = true): void {
    this.checkNewName('registerBuffer', name);
    if (value !== null && value instanceof Parameter) throw new TypeError(`registerBuffer: '${name}' is a Parameter; use registerParameter`);
    this._namedBuffers.set(name, value);
    if (!persistent) this._nonPersistent.add(name);
  }

  /** Registers a child module under `name` (Sequential names its children "0", "1", ...). */
  registerModule(name: string, module: Module | null): void {
    this.checkNewName('registerModule', name);
    this._namedModules.set(name, module);
  }

  private checkNewName(op: string, name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`${op}: name must be non-empty and contain no '.', got '${name}'`);
    if (this._namedParameters.has(name) || this._namedBuffers.has(name) || this._namedModules.has(name) || Object.hasOwn(this, name)) {
      throw new Error(`${op}: '${name}' is already part of ${this.typeName()}`);
    }
  }

  /** The parameter registered by name (not a field), e.g. 'in_proj_weight'. */
  protected getParameter(name: string): Parameter | null {
    if (!this._namedParameters.has(name)) throw new Error(`${this.typeName()} has no parameter '${name}'`);
    return this._namedParameters.get(name)!;
  }

  /** The child module registered by name (not a field), e.g. 'out_proj'. */
  protected getModule(name: string): Module | null {
    if (!this._namedModules.has(name)) throw new Error(`${this.typeName()} has no module '${name}'`);
    return this._namedModules.get(name)!;
  }

  /** The buffer registered under `name`, e.g. 'running_mean'. */
  protected getBuffer(name: string): Tensor | null {
    if (!this._namedBuffers.has(name)) throw new Error(`${this.typeName()} has no buffer '${name}'`);
    return this._namedBuffers.get(name)!;
  }

  /** Replaces the value of a registered buffer (an in-place update is usually what you want). */
  protected setBuffer(name: string, value: Tensor | null): void {
    if (!this._namedBuffers.has(name)) throw new Error(`${this.typeName()} has no buffer '${name}'`);
    this._namedBuffers.set(name, value);
  }

  /** This module's own parameters (not its children's), registered ones first, then fields. */
  private ownParameters(): [string, Parameter | null][] {
    const out = [...this._namedParameters];
    for (const key of Object.keys(this)) {
      const value = (this as Record<string, unknown>)[key];
      if (value instanceof Parameter) out.push([key, value]);
    }
    return out;
  }

  private ownChildren(): [string, Module | null][] {
    const out = [...this._namedModules];
    for (const key of Object.keys(this)) {
      const value = (this as Record<string, unknown>)[key];
      if (value instanceof Module) out.push([key, value]);
    }
    return out;
  }

  /** Replaces a parameter wherever it lives (a field or the registry), keeping its name. */
  private replaceParameter(name: string, param: Parameter): void {
    if (this._namedParameters.has(name)) this._namedParameters.set(name, param);
    else (this as Record<string, unknown>)[name] = param;
  }

  // ---- walking the tree ----

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    for (const [name, m] of this.ownChildren()) {
      if (m && !seen.has(m)) {
        seen.add(m);
        out.push([name, m]);
      }
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, each once, with dotted names ('' for this). */
  namedModules(prefix = '', memo: Set<Module> = new Set()): [string, Module][] {
    if (memo.has(this)) return [];
    memo.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.ownChildren()) {
      if (m) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name, memo));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted name (`layer1.0.conv1.weight`): own parameters first, then
   * each child's; a parameter shared by two modules is listed once, under its first name.
   */
  namedParameters(options: { recurse?: boolean } = {}): [string, Parameter][] {
    const seen = new Set<Tensor>();
    const out: [string, Parameter][] = [];
    const modules: [string, Module][] = options.recurse === false ? [['', this]] : this.namedModules();
    for (const [prefix, m] of modules) {
      for (const [name, p] of m.ownParameters()) {
        if (!p || seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  /** Every parameter, in the order of namedParameters (what an optimizer takes). */
  parameters(options: { recurse?: boolean } = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  /** Every buffer with its dotted name (`bn.running_mean`), persistent or not. */
  namedBuffers(options: { recurse?: boolean } = {}): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const modules: [string, Module][] = options.recurse === false ? [['', this]] : this.namedModules();
    for (const [prefix, m] of modules) {
      for (const [name, b] of m._namedBuffers) {
        if (!b || seen.has(b)) continue;
        seen.add(b);
        out.push([prefix ? `${prefix}.${name}` : name, b]);
      }
    }
    return out;
  }

  buffers(options: { recurse?: boolean } = {}): Tensor[] {
    return this.namedBuffers(options).map(([, b]) => b);
  }

  /** The number of parameter elements (only those that require gradients, if asked). */
  numParameters(options: { onlyTrainable?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!options.onlyTrainable || p.requiresGrad) n += p.numel();
    return n;
  }

  /** Calls `fn` on every descendant and then on this module (torch.nn.Module.apply); returns this. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- modes and gradients ----

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: the same as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient (sets it to null, PyTorch's default set_to_none=True). */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      const grad = p._peekGrad();
      if (!grad) continue;
      if (setToNone) p.grad = null;
      else p.grad = noGrad(() => grad.mul(0));
    }
  }

  /** Sets requiresGrad on every parameter (freezing a model with false). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  // ---- state ----

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (each module's own
   * parameters, then its buffers, then its children). The tensors share storage with the module,
   * detached from the graph.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const visit = (m: Module, prefix: string) => {
      for (const [name, p] of m.ownParameters()) if (p) out[prefix + name] = p.detach();
      for (const [name, b] of m._namedBuffers) if (b && !m._nonPersistent.has(name)) out[prefix + name] = b.detach();
      for (const [name, child] of m.ownChildren()) if (child) visit(child, `${prefix}${name}.`);
    };
    visit(this, '');
    return out;
  }

  /**
   * Copies values from `stateDict` into the parameters and persistent buffers of the same name.
   * Strict (the default) throws when keys are missing or unexpected; a wrongly shaped key always
   * throws. The error lists every problem at once.
   */
  loadStateDict(stateDict: StateDict | Map<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const given = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const targets = Object.entries(this.stateDict());
    const expected = new Set(targets.map(([k]) => k));
    const missingKeys: string[] = [];
    const mismatched: string[] = [];
    for (const [key, target] of targets) {
      const value = given.get(key);
      if (value === undefined) missingKeys.push(key);
      else if (!(value instanceof Tensor)) mismatched.push(`${key}: expected a Tensor, got ${typeof value}`);
      else if (value.ndim !== target.ndim || value.shape.some((d, i) => d !== target.shape[i])) {
        mismatched.push(
          `size mismatch for ${key}: copying a param with shape ${shapeText(value)} from checkpoint, ` +
            `the shape in current model is ${shapeText(target)}.`,
        );
      }
    }
    const unexpectedKeys = [...given.keys()].filter((k) => !expected.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length > 0) problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    problems.push(...mismatched);
    if (problems.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.typeName()}:\n\t${problems.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [key, target] of targets) {
        const value = given.get(key);
        if (value) target.copy_(value.to(target.device));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Moves every parameter and buffer to a device, or converts the floating-point ones to a dtype.
   * Parameters are replaced by new Parameter objects where anything changes, so build the
   * optimizer after calling `to`.
   */
  to(target: DType | string): this {
    const isDType = target === 'float32' || target === 'float64' || target === 'int32' || target === 'bool';
    if (isDType && target !== 'float32' && target !== 'float64') throw new TypeError(`Module.to: only floating-point dtypes are allowed, got ${target}`);
    const convert = (t: Tensor) => (isDType && !(t.dtype === 'float32' || t.dtype === 'float64') ? t : t.to(target));
    for (const m of this.modules()) {
      for (const [name, p] of m.ownParameters()) {
        if (!p) continue;
        const moved = noGrad(() => convert(p));
        if (moved === p) continue;
        const next = new Parameter(moved, p.requiresGrad);
        if (p.grad) next.grad = noGrad(() => convert(p.grad!));
        m.replaceParameter(name, next);
      }
      for (const [name, b] of m._namedBuffers) if (b) m._namedBuffers.set(name, noGrad(() => convert(b)));
    }
    return this;
  }

  /** Converts floating-point parameters and buffers to float64. */
  double(): this {
    return this.to('float64');
  }

  /** Converts floating-point parameters and buffers to float32. */
  float(): this {
    return this.to('float32');
  }

  // ---- printing ----

  /** Extra text shown inside this module's parentheses by toString (PyTorch's extra_repr). */
  extraRepr(): string {
    return '';
  }

  /** A tree of the module and its children, as PyTorch prints it. */
  toString(): string {
    const children = this.namedChildren();
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.typeName()}(${extra})`;
    const lines: string[] = [];
    if (extra) lines.push(...extra.split('\n'));
    for (const [name, child] of children) {
      const text = child.toString().split('\n').join('\n  ');
      lines.push(`(${name}): ${text}`);
    }
    return `${this.typeName()}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
