/**
 * Reverse-mode differentiation: walk the recorded graph from the outputs back to the leaves,
 * calling each primitive's rule from the table once its output gradient is complete.
 */
import { availableBackends, getBackend } from '../backend/registry.js';
import type { Backend, Storage } from '../backend/types.js';
import type { DType } from '../dtype.js';
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

/** Throws when input or output `i` saved by `node` was changed in place after the node was recorded. */
function checkSaved(node: Node, t: Tensor, saved: number, kind: 'input' | 'output', i: number): Tensor {
  if (t._version.value !== saved) {
    const what = kind === 'input' ? `input ${i}` : i === 0 ? 'output' : `output ${i}`;
    throw new Error(
      `backward: a tensor saved by '${node.op}' (its ${what}, shape ${fmt(t.shape)}) was modified by an ` +
        `in-place operation after it was used (version ${t._version.value}, saved at ${saved}). ` +
        'Clone it before changing it, or use the out-of-place op.',
    );
  }
  return t;
}

/**
 * The inputs as `node` took them. A tensor that an in-place op recorded since has a new gradFn;
 * the node reads it as it was then (Tensor._history), so the gradient goes where it came from.
 */
function inputsOf(node: Node): readonly Tensor[] {
  const inputs = node.inputs!;
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!._history !== null) {
      return inputs.map((t, j) => (t._history === null ? t : t._asRecordedAt(node.inputVersions[j]!)));
    }
  }
  return inputs;
}

/** What a rule sees of one node: its attributes, the gradients of its outputs, its saved tensors. */
class NodeContext implements GradContext<any> {
  readonly attrs: any;
  readonly numInputs: number;

  constructor(
    private readonly node: Node,
    readonly grad: Tensor,
    private readonly grads: readonly (Tensor | null)[],
    private readonly inputs: readonly Tensor[],
  ) {
    this.attrs = node.attrs;
    this.numInputs = node.inputs!.length;
  }

  input(i: number): Tensor {
    return checkSaved(this.node, this.node.inputs![i]!, this.node.inputVersions[i]!, 'input', i);
  }
  output(i = 0): Tensor {
    return checkSaved(this.node, this.node.outputs![i]!, this.node.outputVersions[i]!, 'output', i);
  }
  outputGrad(i: number): Tensor | null {
    return this.grads[i] ?? null;
  }
  inputShape(i: number): readonly number[] {
    return this.node.inputSpecs[i]!.shape;
  }
  inputDType(i: number): DType {
    return this.node.inputSpecs[i]!.dtype;
  }
  needsGrad(i: number): boolean {
    return this.inputs[i]!.requiresGrad;
  }
}

/**
 * Hands the memory of the gradients the engine has consumed back to their backend
 * (Backend.recycle), so the next output of the same size reuses it, as PyTorch's caching allocator
 * reuses a block freed by its reference count. Without it a gradient's memory waits for the
 * garbage collector (src/backend/cpu/memory.ts says what that costs).
 *
 * Each storage counts the engine's references to it: the slots of pending output gradients that
 * hold it (a view such as a reshape's gradient shares its input's storage). When the count falls
 * to 0, nothing can reach the storage any more unless it was handed out: to a leaf's `.grad`, a
 * retained gradient, or autograd.grad's results, and those are never taken back. The backend
 * takes back only storages it allocated during this pass (the token), so a gradient the user
 * passed in, or a saved tensor a rule returns as a gradient, never is. Not used when the pass is
 * recorded (createGraph), where gradients are graph nodes that later ops may keep.
 */
class Recycler {
  private readonly counts = new Map<Storage, number>();
  /** How many times each storage left the engine (see handOut). */
  private readonly handedOut = new Map<Storage, number>();
  private readonly tokens = new Map<string, { backend: Backend; token: number }>();

  constructor() {
    for (const name of availableBackends()) {
      const backend = getBackend(name);
      if (backend.openRecycling) this.tokens.set(name, { backend, token: backend.openRecycling() });
    }
  }

  /** A pending-gradient slot now holds `t`. */
  hold(t: Tensor): void {
    const s = t._storage;
    this.counts.set(s, (this.counts.get(s) ?? 0) + 1);
  }

  /** A slot that held `t` is emptied; the last one frees its storage. */
  drop(t: Tensor): void {
    const s = t._storage;
    const n = this.counts.get(s)! - 1;
    if (n > 0) {
      this.counts.set(s, n);
      return;
    }
    this.counts.delete(s);
    const owner = this.tokens.get(s.backend);
    if (owner && !this.handedOut.has(s)) owner.backend.recycle!(s, owner.token);
  }

  /** `t` leaves the engine: its storage is never taken back during the pass. */
  handOut(t: Tensor): void {
    const s = t._storage;
    this.handedOut.set(s, (this.handedOut.get(s) ?? 0) + 1);
  }

  /**
   * The token under which leaf gradient `g` may be given back later (Tensor._setGrad), or 0. `g`
   * must be a leaf's final gradient: either a sum the engine made for it (never handed out) or
   * one gradient handed out once, to it alone. A gradient that also went to another leaf, a
   * retained gradient or (through a view) anywhere else has been handed out more than once.
   */
  leafToken(g: Tensor): number {
    const s = g._storage;
    if ((this.handedOut.get(s) ?? 0) > 1) return 0;
    return this.tokens.get(s.backend)?.token ?? 0;
  }

  close(): void {
    for (const { backend } of this.tokens.values()) backend.closeRecycling!();
  }
}

/** The engine's bookkeeping for one reachable node. */
interface NodeState {
  /** Edges from other reachable nodes that have yet to deliver their gradient into this one. */
  pending: number;
  /** Gradient of each output, summed as it arrives (null until some arrives). */
  grads: (Tensor | null)[] | null;
}

/**
 * The engine: returns the gradient reaching each tensor of `capture` when given, and otherwise
 * accumulates gradients into the `.grad` of leaves.
 *
 * It runs once per training step over every recorded op, so it keeps one map entry per node and
 * plain loops (no closures or arrays made per node beyond the gradient buffers themselves).
 */
function runBackward(
  roots: readonly Tensor[],
  rootGrads: readonly Tensor[],
  options: BackwardOptions,
  capture?: readonly Tensor[],
): Map<Tensor, Tensor> {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;

  // Find the reachable nodes and count, for each, how many edges from other reachable nodes
  // feed gradient into it.
  const states = new Map<Node, NodeState>();
  const stack: Node[] = [];
  for (const r of roots) {
    if (r.gradFn && !states.has(r.gradFn)) {
      states.set(r.gradFn, { pending: 0, grads: null });
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
    for (const t of inputsOf(node)) {
      const next = t.gradFn;
      if (!next || !t.requiresGrad) continue;
      const state = states.get(next);
      if (state) state.pending++;
      else {
        states.set(next, { pending: 1, grads: null });
        stack.push(next);
      }
    }
  }

  const recycler = createGraph ? null : new Recycler();
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
    const fn = t.gradFn;
    if (fn) {
      // Every node a gradient can reach was found above.
      const state = states.get(fn)!;
      if (!state.grads) state.grads = new Array<Tensor | null>(fn.outputs!.length).fill(null);
      const prev = state.grads[t._outputIndex];
      const sum = prev ? prev.add(g) : g;
      state.grads[t._outputIndex] = sum;
      recycler?.hold(sum);
      if (prev) recycler?.drop(prev);
    } else if (wanted.has(t)) {
      recycler?.handOut(g);
      addTo(captured, t, g);
    } else if (!capture) {
      recycler?.handOut(g);
      addTo(leafGrads, t, g);
    }
  };

  const previous = setGradEnabled(createGraph);
  try {
    for (let i = 0; i < roots.length; i++) deliver(roots[i]!, rootGrads[i]!);
    const ready: Node[] = [];
    for (const [node, state] of states) if (state.pending === 0) ready.push(node);
    while (ready.length) {
      const node = ready.pop()!;
      const state = states.get(node)!;
      const grads = state.grads;
      state.grads = null;
      const outputs = node.outputs!;
      const inputs = inputsOf(node);
      if (grads) {
        let reached = false;
        for (let i = 0; i < outputs.length; i++) {
          const g = grads[i];
          if (!g) continue;
          reached = true;
          const o = outputs[i]!;
          if (wanted.has(o)) {
            recycler?.handOut(g);
            addTo(captured, o, g);
          }
          if (o._retainsGrad && !capture) {
            recycler?.handOut(g);
            o.grad = o.grad ? o.grad.add(g) : g;
          }
        }
        if (reached) {
          const rule = RULES[node.op]!;
          const g0 = grads[0] ?? zeros(outputs[0]!.shape, outputs[0]!);
          const inputGrads = rule(new NodeContext(node, g0, grads, inputs));
          for (let i = 0; i < inputs.length; i++) {
            const t = inputs[i]!;
            const gi = inputGrads[i];
            if (gi && t.requiresGrad) deliver(t, gi.dtype === t.dtype ? gi : gi.to(t.dtype));
          }
        }
        // after delivering, which may have passed one of these on (an add's rule returns its
        // output's gradient as both inputs')
        if (recycler) for (const g of grads) if (g) recycler.drop(g);
      }
      for (const t of inputs) {
        const next = t.gradFn;
        if (!next || !t.requiresGrad) continue;
        if (--states.get(next)!.pending === 0) ready.push(next);
      }
      if (!retainGraph) {
        node.inputs = null;
        node.outputs = null;
      }
    }
  } finally {
    recycler?.close();
    setGradEnabled(previous);
  }

  if (!capture) {
    for (const [leaf, g] of leafGrads) {
      if (createGraph) {
        // The gradient is part of a graph that may keep it: handed out (`.grad`), never given back.
        leaf.grad = leaf.grad ? leaf.grad.add(g) : g;
        continue;
      }
      const prev = leaf._peekGrad();
      // A first gradient may have its memory given back when it is dropped (leafToken); a sum
      // made here after the pass is new memory the backend did not tag, so its token is 0.
      if (prev === null) leaf._setGrad(g.detach(), recycler!.leafToken(g));
      else leaf._setGrad(prev.detach().add(g.detach()).detach(), 0);
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
