/**
 * Checkpoints: everything needed to stop a run and continue it bit-identically, in one
 * safetensors file.
 *
 * Layout. Every tensor (model weights, optimizer moments, any tensor inside the other state) is a
 * tensor of the safetensors file; the rest of the state is JSON in the file's "__metadata__", where
 * each tensor appears as {"$tensor": "<its name in the file>"}. Model weights are stored as
 * "model/<parameter name>", so the file is also an ordinary weights file for other tools.
 *
 * Why one file and not a .safetensors plus a sidecar JSON: a rename replaces one file atomically,
 * but no file system replaces two together. With a sidecar, a kill between the two renames would
 * pair new weights with an old optimizer state and step. One file, written with writeFileAtomic
 * (temporary file, fsync, rename, fsync of the folder), is always a consistent snapshot.
 */
import type { Tensor } from '../tensor/tensor.js';
import { Tensor as TensorClass } from '../tensor/tensor.js';
import { writeFileAtomic, type AtomicWriteOptions } from './atomic.js';
import { encodeSafetensors, loadSafetensors, type SafetensorsReadOptions } from './safetensors.js';

/** JSON-able state that may hold tensors anywhere (an optimizer's or a scheduler's stateDict). */
export type StateTree = null | boolean | number | string | Tensor | StateTree[] | { [key: string]: StateTree };

/**
 * What a checkpoint holds. The state fields take any JSON-able value (numbers, including NaN and
 * infinities, strings, booleans, null, arrays, plain objects) with Tensors anywhere inside, such as
 * an optimizer's stateDict; they come back with the same structure.
 */
export interface Checkpoint {
  /** The model's stateDict: parameter and buffer names to tensors. */
  model: Record<string, Tensor>;
  /** The optimizer's stateDict. */
  optimizer?: unknown;
  /** The learning-rate scheduler's stateDict. */
  scheduler?: unknown;
  /** Random number generator state(s), e.g. `Generator.getState()`. */
  rng?: unknown;
  /** Optimizer steps taken so far. */
  step: number;
  /** The resolved configuration of the run. */
  config?: unknown;
  /** Anything else the training loop needs to resume (data-loader position, best metric, ...). */
  extra?: unknown;
}

/** Marks the file as a milestones checkpoint and versions the layout. */
const FORMAT = 'milestones.checkpoint';
const VERSION = '1';
const STATE_FIELDS = ['optimizer', 'scheduler', 'rng', 'config', 'extra'] as const;

/** Thrown when a file is not a valid checkpoint; the message names the file and the problem. */
export class CheckpointError extends Error {
  constructor(path: string, message: string) {
    super(`checkpoint: ${path}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/**
 * Replaces tensors with {"$tensor": name} references and non-finite numbers (which JSON cannot
 * hold) with {"$number": "NaN" | "Infinity" | "-Infinity"}. A user key that starts with '$' gets
 * one more '$', so it can never be mistaken for a reference.
 */
function encodeTree(value: unknown, path: string, tensors: Map<string, Tensor>): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (value instanceof TensorClass) {
    if (tensors.has(path)) throw new Error(`saveCheckpoint: two tensors would be stored as ${JSON.stringify(path)}`);
    tensors.set(path, value);
    return { $tensor: path };
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      if (v === undefined) throw new Error(`saveCheckpoint: undefined at ${path}/${i} (arrays cannot hold undefined in a checkpoint)`);
      return encodeTree(v, `${path}/${i}`, tensors);
    });
  }
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      // defineProperty, so a key named "__proto__" stays an ordinary key.
      Object.defineProperty(out, k.startsWith('$') ? `$${k}` : k, {
        value: encodeTree(v, `${path}/${k}`, tensors),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  const kind = typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value;
  throw new Error(`saveCheckpoint: cannot store a ${kind} at ${path} (use numbers, strings, booleans, null, arrays, plain objects and Tensors)`);
}

function decodeTree(value: unknown, where: string, tensors: Record<string, Tensor>, used: Set<string>, fail: (m: string) => never): StateTree {
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map((v, i) => decodeTree(v, `${where}/${i}`, tensors, used, fail));
  if (typeof value !== 'object') return fail(`unexpected ${typeof value} at ${where}`);
  const keys = Object.keys(value);
  const obj = value as Record<string, unknown>;
  if (keys.length === 1 && keys[0] === '$tensor') {
    const name = obj.$tensor;
    if (typeof name !== 'string' || !(name in tensors)) return fail(`state at ${where} refers to tensor ${JSON.stringify(name)}, which the file does not hold`);
    if (used.has(name)) return fail(`tensor ${JSON.stringify(name)} is referenced twice`);
    used.add(name);
    return tensors[name]!;
  }
  if (keys.length === 1 && keys[0] === '$number') {
    const v = obj.$number;
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    return fail(`bad $number ${JSON.stringify(v)} at ${where}`);
  }
  const out: Record<string, StateTree> = {};
  for (const k of keys) {
    if (k.startsWith('$') && !k.startsWith('$$')) return fail(`unknown marker ${JSON.stringify(k)} at ${where}`);
    const key = k.startsWith('$') ? k.slice(1) : k;
    Object.defineProperty(out, key, {
      value: decodeTree(obj[k], `${where}/${key}`, tensors, used, fail),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The bytes of a checkpoint file (see the module comment for the layout). */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const { model, step } = checkpoint;
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`saveCheckpoint: step must be a non-negative integer, got ${step}`);
  if (model === null || typeof model !== 'object') throw new Error('saveCheckpoint: model must be an object of tensors (a stateDict)');
  const tensors = new Map<string, Tensor>();
  const modelNames = Object.keys(model);
  for (const name of modelNames) {
    const t = model[name];
    if (!(t instanceof TensorClass)) throw new Error(`saveCheckpoint: model entry ${JSON.stringify(name)} is not a Tensor`);
    tensors.set(`model/${name}`, t);
  }
  const state: Record<string, unknown> = { step, model: modelNames };
  for (const field of STATE_FIELDS) {
    if (checkpoint[field] !== undefined) state[field] = encodeTree(checkpoint[field], field, tensors);
  }
  return encodeSafetensors(Object.fromEntries(tensors), { format: FORMAT, version: VERSION, state: JSON.stringify(state) });
}

/**
 * Saves a checkpoint so that a kill at any moment leaves the previous file at `path` intact:
 * the bytes go to a temporary file, which is flushed and renamed into place.
 */
export function saveCheckpoint(path: string, checkpoint: Checkpoint, options: AtomicWriteOptions = {}): void {
  writeFileAtomic(path, encodeCheckpoint(checkpoint), options);
}

/** Loads and validates a checkpoint written by `saveCheckpoint`. */
export function loadCheckpoint(path: string, options: SafetensorsReadOptions = {}): Checkpoint {
  const source = options.source ?? path;
  const fail = (m: string): never => {
    throw new CheckpointError(source, m);
  };
  const { tensors, metadata } = loadSafetensors(path, options);
  if (!metadata || metadata.format !== FORMAT) {
    return fail(`not a milestones checkpoint (no "format": "${FORMAT}" in the safetensors metadata); to read plain weights use loadSafetensors`);
  }
  if (metadata.version !== VERSION) fail(`checkpoint layout version ${JSON.stringify(metadata.version)} is not supported (this library reads version ${VERSION})`);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(metadata.state ?? '') as Record<string, unknown>;
  } catch {
    return fail('the "state" metadata is not valid JSON');
  }
  if (state === null || typeof state !== 'object' || Array.isArray(state)) fail('the "state" metadata is not a JSON object');
  const step = state.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) fail(`"step" must be a non-negative integer, got ${JSON.stringify(step)}`);
  const names = state.model;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) fail('"model" must list the model\'s tensor names');

  const used = new Set<string>();
  const model: Record<string, Tensor> = {};
  for (const name of names as string[]) {
    const key = `model/${name}`;
    if (!(key in tensors)) fail(`model tensor ${JSON.stringify(name)} is listed but not stored`);
    if (used.has(key)) fail(`model tensor ${JSON.stringify(name)} is listed twice`);
    used.add(key);
    Object.defineProperty(model, name, { value: tensors[key], enumerable: true, writable: true, configurable: true });
  }
  const out: Checkpoint = { model, step: step as number };
  for (const field of STATE_FIELDS) {
    if (state[field] !== undefined) out[field] = decodeTree(state[field], field, tensors, used, fail);
  }
  const stray = Object.keys(tensors).filter((k) => !used.has(k));
  if (stray.length > 0) fail(`tensors not referenced by the state: ${stray.slice(0, 5).map((s) => JSON.stringify(s)).join(', ')}${stray.length > 5 ? ', ...' : ''}`);
  return out;
}
