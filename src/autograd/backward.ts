/**
 * Reverse-mode differentiation: walk the recorded graph from the outputs back to the leaves,
 * calling each primitive's rule from the table once its output gradient is complete.
 */
import { numel, fmt, shapesEqual } from '../shape.js';
import { run } from '../tensor/dispatch.js';
import type { Node, Tensor } from '../tensor/tensor.js';
import { setGradEnabled } from './mode.js';
import { type GradContext, RULES } from './rules.js';

export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. Defaults to `createGraph`. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated again. */
  createGraph?: boolean;
}

function ones(like: Tensor): Tensor {
  return run('full', [], { shape: [...like.shape], dtype: like.dtype, value: 1 }, like.device);
}

function zeros(shape: readonly number[], like: Tensor): Tensor {
  return run('full', [], { shape: [...shape], dtype: like.dtype, value: 0 }, like.device);
}

function contextFor(node: Node, grad: Tensor): GradContext<any> {
  const check = (t: Tensor, saved: number, what: string) => {
    if (t._version.value !== saved) {
      throw new Error(
        `backward: a tensor saved by '${node.op}' (its ${what}, shape ${fmt(t.shape)}) was modified by an ` +
          `in-place operation after it was used (version ${t._version.value}, saved at ${saved}). ` +
          'Clone it before changing it, or use the out-of-place op.',
      );
    }
    return t;
  };
  const inputs = node.inputs!;
  return {
    attrs: node.attrs,
    grad,
    numInputs: inputs.length,
    input: (i) => check(inputs[i]!, node.inputVersions[i]!, `input ${i}`),
    output: () => check(node.outputs![0]!, node.outputVersions[0]!, 'output'),
    inputShape: (i) => node.inputSpecs[i]!.shape,
    inputDType: (i) => node.inputSpecs[i]!.dtype,
    needsGrad: (i) => inputs[i]!.requiresGrad,
  };
}

/**
 * The engine: returns the gradient reaching each tensor of `capture` when given, and otherwise
 * accumulates gradients into the `.grad` of leaves.
 */
function runBackward(
  roots: readonly Tensor[],
  rootGrads: readonly Tensor[],
  options: BackwardOptions,
  capture?: readonly Tensor[],
): Map<Tensor, Tensor> {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;

  // Count, for each node, how many edges from other reachable nodes feed gradient into it.
  const pending = new Map<Node, number>();
  const stack: Node[] = [];
  for (const r of roots) {
    if (r.gradFn && !pending.has(r.gradFn)) {
      pending.set(r.gradFn, 0);
      stack.push(r.gradFn);
    }
  }
  while (stack.length) {
    const node = stack.pop()!;
    if (!node.inputs) {
      throw new Error(
        'backward: trying to backward through the graph a second time (its saved tensors were freed); ' +
          'pass { retainGraph: true } to the first backward() if you need to',
      );
    }
    for (const t of node.inputs) {
      const next = t.gradFn;
      if (!next || !t.requiresGrad) continue;
      if (!pending.has(next)) {
        pending.set(next, 0);
        stack.push(next);
      }
      pending.set(next, pending.get(next)! + 1);
    }
  }

  const buffers = new Map<Node, (Tensor | null)[]>();
  const captured = new Map<Tensor, Tensor>();
  const wanted = new Set(capture ?? []);
  const leafGrads = new Map<Tensor, Tensor>();
  const addTo = (map: Map<Tensor, Tensor>, t: Tensor, g: Tensor) => {
    const prev = map.get(t);
    map.set(t, prev ? prev.add(g) : g);
  };
  const deliver = (t: Tensor, g: Tensor) => {
    if (!shapesEqual(g.shape, t.shape)) {
      throw new Error(`backward: gradient of shape ${fmt(g.shape)} for a tensor of shape ${fmt(t.shape)}`);
    }
    if (t.gradFn) {
      const buf = buffers.get(t.gradFn) ?? new Array<Tensor | null>(t.gradFn.outputs!.length).fill(null);
      const prev = buf[t._outputIndex];
      buf[t._outputIndex] = prev ? prev.add(g) : g;
      buffers.set(t.gradFn, buf);
    } else if (wanted.has(t)) {
      addTo(captured, t, g);
    } else if (!capture) {
      addTo(leafGrads, t, g);
    }
  };

  const previous = setGradEnabled(createGraph);
  try {
    roots.forEach((r, i) => deliver(r, rootGrads[i]!));
    const ready = [...pending.entries()].filter(([, n]) => n === 0).map(([node]) => node);
    while (ready.length) {
      const node = ready.pop()!;
      const grads = buffers.get(node);
      buffers.delete(node);
      const outputs = node.outputs!;
      if (grads) {
        outputs.forEach((o, i) => {
          const g = grads[i];
          if (!g) return;
          if (wanted.has(o)) addTo(captured, o, g);
          if (o._retainsGrad && !capture) o.grad = o.grad ? o.grad.add(g) : g;
        });
      }
      const inputs = node.inputs!;
      if (grads && grads.some((g) => g)) {
        const rule = RULES[node.op]!;
        const g0 = grads[0] ?? zeros(outputs[0]!.shape, outputs[0]!);
        const inputGrads = rule(contextFor(node, g0));
        inputs.forEach((t, i) => {
          const gi = inputGrads[i];
          if (gi && t.requiresGrad) deliver(t, gi.dtype === t.dtype ? gi : gi.to(t.dtype));
        });
      }
      for (const t of inputs) {
        const next = t.gradFn;
        if (!next || !t.requiresGrad) continue;
        const left = pending.get(next)! - 1;
        pending.set(next, left);
        if (left === 0) ready.push(next);
      }
      if (!retainGraph) {
        node.inputs = null;
        node.outputs = null;
      }
    }
  } finally {
    setGradEnabled(previous);
  }

  if (!capture) {
    for (const [leaf, g] of leafGrads) {
      const add = createGraph ? g : g.detach();
      leaf.grad = leaf.grad ? (createGraph ? leaf.grad.add(add) : leaf.grad.detach().add(add).detach()) : add;
    }
  }
  return captured;
}

function rootGradsFor(op: string, roots: readonly Tensor[], grads: readonly Tensor[] | undefined): Tensor[] {
  return roots.map((r, i) => {
    if (!r.requiresGrad) {
      throw new Error(`${op}: element ${i} of the outputs does not require grad and has no gradFn`);
    }
    const g = grads?.[i];
    if (g) {
      if (!shapesEqual(g.shape, r.shape)) {
        throw new Error(`${op}: gradient has shape ${fmt(g.shape)} but the output has shape ${fmt(r.shape)}`);
      }
      return g.dtype === r.dtype ? g : g.to(r.dtype);
    }
    if (numel(r.shape) !== 1) {
      throw new Error(
        `${op}: a gradient can be created implicitly only for scalar outputs; pass one of shape ${fmt(r.shape)}`,
      );
    }
    return ones(r);
  });
}

/** Accumulates d(roots)/d(leaf) into every leaf's `.grad` (torch.autograd.backward). */
export function backward(roots: readonly Tensor[], grads?: readonly Tensor[], options: BackwardOptions = {}): void {
  runBackward(roots, rootGradsFor('backward', roots, grads), options);
}

/**
 * Returns d(outputs)/d(inputs) without touching `.grad` (torch.autograd.grad). With
 * `createGraph: true` the results are themselves differentiable, as a gradient penalty needs.
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: BackwardOptions & { gradOutputs?: readonly Tensor[]; allowUnused?: boolean } = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs as Tensor];
  const ins = Array.isArray(inputs) ? inputs : [inputs as Tensor];
  ins.forEach((t, i) => {
    if (!t.requiresGrad) throw new Error(`grad: input ${i} does not require grad`);
  });
  const captured = runBackward(outs, rootGradsFor('grad', outs, options.gradOutputs), options, ins);
  return ins.map((t, i) => {
    const g = captured.get(t);
    if (!g && !options.allowUnused) {
      throw new Error(`grad: input ${i} was not used to compute the outputs (pass allowUnused: true to get null)`);
    }
    return g ?? null;
  });
}
