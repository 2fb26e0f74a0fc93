/**
 * Running a primitive: check devices, infer the output from the contract, call the backend's
 * kernel, and record one graph node when gradients are on.
 */
import { isGradEnabled } from '../autograd/mode.js';
import { getBackend, getDefaultDevice } from '../backend/registry.js';
import { isFloating } from '../dtype.js';
import { PRIMITIVES, type PrimitiveAttrs, type PrimitiveName, type Spec } from '../ops/primitives.js';
import { Node, Tensor } from './tensor.js';
import { RULES } from '../autograd/rules.js';

/** Runs primitive `name` and returns all its outputs. */
export function runMany<K extends PrimitiveName>(
  name: K,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[K],
  device?: string,
): Tensor[] {
  const dev = inputs.length > 0 ? inputs[0]!.device : (device ?? getDefaultDevice());
  for (const t of inputs) {
    if (t.device !== dev) {
      throw new Error(`${name}: expected all tensors on one device, got ${inputs.map((x) => x.device).join(' and ')}`);
    }
  }
  const def = PRIMITIVES[name];
  const specs: Spec[] = def.infer(
    inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })),
    attrs,
  );
  const backend = getBackend(dev);
  const storages = backend.kernels[name](
    inputs.map((t) => ({ storage: t._storage, shape: t.shape, dtype: t.dtype })),
    attrs,
    specs,
  );
  const outputs = storages.map(
    (s, i) => new Tensor(s, specs[i]!.shape, specs[i]!.dtype, dev, def.view ? inputs[0]!._version : undefined),
  );
  const rule = RULES[name];
  if (rule !== null && isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    const node = new Node(name, attrs, inputs, outputs);
    outputs.forEach((o, i) => {
      if (isFloating(o.dtype)) o._setGradFn(node, i);
    });
  }
  return outputs;
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
