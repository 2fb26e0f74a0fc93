/**
 * Containers: Sequential, ModuleList, ModuleDict. Children are named "0", "1", ... (or by key),
 * so parameter names match PyTorch's (`features.0.weight`).
 */
import type { Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/** A module that maps one tensor to one tensor: what Sequential chains. */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

/** Applies its modules in order, each to the previous one's output. */
export class Sequential extends Module {
  private readonly layers: UnaryModule[] = [];

  constructor(...modules: UnaryModule[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end. */
  append(module: UnaryModule): this {
    this.registerModule(String(this.layers.length), module);
    this.layers.push(module);
    return this;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): UnaryModule {
    const m = this.layers.at(index);
    if (!m) throw new RangeError(`Sequential: index ${index} is out of range for ${this.layers.length} modules`);
    return m;
  }

  get length(): number {
    return this.layers.length;
  }

  [Symbol.iterator](): Iterator<UnaryModule> {
    return this.layers[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }
}

/** A list of modules whose parameters belong to the parent (a list field would hide them). */
export class ModuleList<T extends Module = Module> extends Module {
  private readonly items: T[] = [];

  constructor(modules: Iterable<T> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: T): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  extend(modules: Iterable<T>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): T {
    const m = this.items.at(index);
    if (!m) throw new RangeError(`ModuleList: index ${index} is out of range for ${this.items.length} modules`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}

/** Modules by name, in insertion order. */
export class ModuleDict<T extends Module = Module> extends Module {
  private readonly items = new Map<string, T>();

  constructor(modules: Record<string, T> | Iterable<[string, T]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? modules : Object.entries(modules);
    for (const [key, m] of entries as Iterable<[string, T]>) this.set(key, m);
  }

  /** Adds a module under a new key. */
  set(key: string, module: T): this {
    this.registerModule(key, module);
    this.items.set(key, module);
    return this;
  }

  get(key: string): T {
    const m = this.items.get(key);
    if (!m) throw new Error(`ModuleDict: no module '${key}' (keys: ${[...this.items.keys()].join(', ')})`);
    return m;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  values(): T[] {
    return [...this.items.values()];
  }

  entries(): [string, T][] {
    return [...this.items.entries()];
  }

  get size(): number {
    return this.items.size;
  }
}
