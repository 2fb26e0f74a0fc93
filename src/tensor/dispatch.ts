/**
 * Running a primitive: check devices, infer the output from the contract, call the backend's
 * kernel, and record one graph node when gradients are on.
 *
 * Every op of every model passes through here, so this path is written as plain loops over the
 * inputs (no per-call closures or intermediate arrays): its fixed cost is what a small tensor op
 * costs in JavaScript.
 */
import { isGradEnabled } from '../autograd/mode.js';
import { getBackend, getDefaultDevice } from '../backend/registry.js';
import type { KernelInput } from '../backend/types.js';
import { isFloating } from '../dtype.js';
import { PRIMITIVES, type PrimitiveAttrs, type PrimitiveName } from '../ops/primitives.js';
import { fmt, shapesEqual } from '../shape.js';
import { Node, Tensor } from './tensor.js';
import { RULES } from '../autograd/rules.js';

function deviceError(name: string, inputs: readonly Tensor[]): Error {
  return new Error(`${name}: expected all tensors on one device, got ${inputs.map((x) => x.device).join(' and ')}`);
}

/**
 * A tensor whose storage a recorded in-place op changed through another tensor (a view, or the
 * base of this view) since this one got its place in the graph: its values no longer match it.
 */
export function staleError(name: string, t: Tensor): Error {
  return new Error(
    `${name}: one of its inputs (shape ${fmt(t.shape)}) shares its storage with a tensor that an in-place op ` +
      'changed while autograd recorded, so its gradient would be wrong; use the in-place op\'s result instead, ' +
      'or clone() the tensor before the in-place op',
  );
}

/** Runs primitive `name` and returns all its outputs. */
export function runMany<K extends PrimitiveName>(
  name: K,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[K],
  device?: string,
): Tensor[] {
  const n = inputs.length;
  const dev = n > 0 ? inputs[0]!.device : (device ?? getDefaultDevice());
  // One pass over the inputs: the device check, what the kernel reads, and whether any input
  // needs a gradient.
  const kernelInputs = new Array<KernelInput>(n);
  let anyRequiresGrad = false;
  for (let i = 0; i < n; i++) {
    const t = inputs[i]!;
    if (t.device !== dev) throw deviceError(name, inputs);
    kernelInputs[i] = { storage: t._storage, shape: t.shape, dtype: t.dtype };
    if (t.requiresGrad) anyRequiresGrad = true;
    if (t._version.rebased === true && t._fnVersion !== t._version.value && isGradEnabled()) throw staleError(name, t);
  }
  const def = PRIMITIVES[name];
  // A tensor is a Spec (it has a shape and a dtype), so the contract reads the inputs directly.
  const specs = def.infer(inputs, attrs);
  const backend = getBackend(dev);
  let storages;
  if (into === null) storages = backend.kernels[name](kernelInputs, attrs, specs);
  else {
    // runInto: the output is to be `into`'s storage, where the backend can put it there.
    const spec = specs[0]!;
    const fits = specs.length === 1 && spec.dtype === into.dtype && shapesEqual(spec.shape, into.shape);
    if (fits) backend.outputInto?.(into._storage);
    try {
      storages = backend.kernels[name](kernelInputs, attrs, specs);
    } finally {
      if (fits) backend.outputInto?.(null);
    }
  }
  const version = def.view ? inputs[0]!._version : undefined;
  const outputs = new Array<Tensor>(storages.length);
  for (let i = 0; i < storages.length; i++) {
    const spec = specs[i]!;
    // An output shaped like the first input (most elementwise ops) shares its frozen shape array
    // instead of freezing a copy of its own.
    const shape = n > 0 && shapesEqual(spec.shape, inputs[0]!.shape) ? inputs[0]!.shape : spec.shape;
    outputs[i] = new Tensor(storages[i]!, shape, spec.dtype, dev, version);
  }
  if (anyRequiresGrad && RULES[name] !== null && isGradEnabled()) {
    const node = new Node(name, attrs, inputs, outputs);
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      if (isFloating(o.dtype)) o._setGradFn(node, i);
    }
  }
  return outputs;
}

/** The tensor whose storage the current runInto's output goes into, or null. */
let into: Tensor | null = null;

/**
 * Runs elementwise primitive `name` with its output in `target`'s storage where the backend can
 * compute it there (Backend.outputInto; the result then shares that storage), for the in-place ops
 * (Tensor._inPlace). The inputs may alias `target` only element for element: a unary or
 * broadcasting binary op whose input has target's shape, or `full` and `cast` of another tensor.
 */
export function runInto<K extends PrimitiveName>(target: Tensor, name: K, inputs: readonly Tensor[], attrs: PrimitiveAttrs[K]): Tensor {
  into = target;
  try {
    return runMany(name, inputs, attrs, target.device)[0]!;
  } finally {
    into = null;
  }
}

/** Runs a primitive with one output. */
export function run<K extends PrimitiveName>(
  name: K,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[K],
  device?: string,
): Tensor {
  return runMany(name, inputs, attrs, device)[0]!;
}
