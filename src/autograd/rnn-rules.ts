/**
 * Gradient rules of the fused recurrent primitives (lstmSequence, gruSequence and their backward
 * primitives), and the same layers written as composites of tensor ops.
 *
 * A fused layer runs a whole sequence in one primitive, so a time step costs no tensor allocation,
 * and its backward is one primitive too (back-propagation through time in a loop). The weight
 * gradient of W_hh is then one matrix product over all steps, sum_t g_t^T h_{t-1}, rather than
 * T products added up one by one.
 *
 * The backward primitives are differentiated once more (for createGraph) by recomputing them from
 * the composites: their rule rebuilds the layer from tensor ops, takes its gradient with the graph
 * recorded, and differentiates that. The saved inputs of a backward primitive (c, gates, h, hn)
 * are a cache of values the composite recomputes, so they receive no gradient.
 */
import type { Tensor } from '../tensor/tensor.js';
import { cat, linear, stack } from '../tensor/index.js';
import { run, runMany } from '../tensor/dispatch.js';
import { grad } from './backward.js';
import { enableGrad, isGradEnabled } from './mode.js';
import type { GradContext } from './rules.js';

/**
 * An LSTM layer from tensor ops: xGates [T, N, 4H] (x W_ih^T + b_ih + b_hh), wHh [4H, H], h0 and
 * c0 [N, H]; returns h and c of every step, each [T, N, H]. The equations of lstmSequence.
 */
export function lstmComposite(xGates: Tensor, wHh: Tensor, h0: Tensor, c0: Tensor, reverse: boolean): [Tensor, Tensor] {
  const T = xGates.shape[0]!;
  const hs = new Array<Tensor>(T);
  const cs = new Array<Tensor>(T);
  let h = h0;
  let c = c0;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const [i, f, g, o] = xGates.select(0, t).add(linear(h, wHh)).chunk(4, -1) as [Tensor, Tensor, Tensor, Tensor];
    c = f.sigmoid().mul(c).add(i.sigmoid().mul(g.tanh()));
    h = o.sigmoid().mul(c.tanh());
    hs[t] = h;
    cs[t] = c;
  }
  return [stack(hs, 0), stack(cs, 0)];
}

/**
 * A GRU layer from tensor ops: xGates [T, N, 3H] (x W_ih^T + b_ih), wHh [3H, H], bHh [3H], h0
 * [N, H]; returns h of every step, [T, N, H]. `probe` [T, N, 3H], when given, is added to each
 * step's h W_hh^T + b_hh, so that the gradient reaching that product can be read as its gradient.
 */
export function gruComposite(xGates: Tensor, wHh: Tensor, bHh: Tensor, h0: Tensor, reverse: boolean, probe?: Tensor): Tensor {
  const T = xGates.shape[0]!;
  const hs = new Array<Tensor>(T);
  let h = h0;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    let hProj = linear(h, wHh, bHh); // [N, 3H]
    if (probe) hProj = hProj.add(probe.select(0, t));
    const [xr, xz, xn] = xGates.select(0, t).chunk(3, -1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = hProj.chunk(3, -1) as [Tensor, Tensor, Tensor];
    const r = xr.add(hr).sigmoid();
    const z = xz.add(hz).sigmoid();
    const n = xn.add(r.mul(hn)).tanh();
    h = n.sub(h).mul(z.neg().add(1)).add(h); // (1 - z) n + z h
    hs[t] = h;
  }
  return stack(hs, 0);
}

function zeros(shape: readonly number[], like: Tensor): Tensor {
  return run('full', [], { shape: [...shape], dtype: like.dtype, value: 0 }, like.device);
}

/**
 * dW_hh = sum_t g_t^T h_{t-1} as one product: g [T, N, G] against the states each step started
 * from, [h0, h_0, ..., h_{T-2}] in time order (shifted the other way for a reversed layer).
 */
function recurrentWeightGrad(g: Tensor, h: Tensor, h0: Tensor, reverse: boolean): Tensor {
  const [T, N, G] = g.shape as [number, number, number];
  const H = h0.shape[1]!;
  if (T === 0) return zeros([G, H], g);
  const first = h0.unsqueeze(0);
  const rest = (start: number) => h.narrow(0, start, T - 1);
  const hPrev = T === 1 ? first : reverse ? cat([rest(1), first], 0) : cat([first, rest(0)], 0); // [T, N, H]
  const gw = run('bmm', [g.reshape([1, T * N, G]), hPrev.reshape([1, T * N, H])], { transA: true, transB: false });
  return gw.reshape([G, H]);
}

/**
 * The rule of a fused backward primitive B, whose first `numDiff` inputs determine it and whose
 * other inputs are saved forward values. `build` recomputes B's outputs from tensor ops of those
 * inputs, differentiably; the rule is the vector-Jacobian product of that composite.
 *
 * When the backward pass records (createGraph), the composite is built on the inputs themselves,
 * so the result is differentiable again; otherwise on detached copies, so the recomputation does
 * not walk the graph behind the inputs.
 */
function recomputedRule(ctx: GradContext<any>, numDiff: number, numOut: number, build: (xs: Tensor[]) => Tensor[]): (Tensor | null)[] {
  const result = new Array<Tensor | null>(ctx.numInputs).fill(null);
  const want: number[] = [];
  for (let i = 0; i < numDiff; i++) if (ctx.needsGrad(i)) want.push(i);
  if (want.length === 0 || ctx.inputShape(0)[0] === 0) return result; // T = 0: B's outputs are constant zeros
  const recording = isGradEnabled();
  return enableGrad(() => {
    const xs: Tensor[] = [];
    for (let i = 0; i < numDiff; i++) {
      const t = ctx.input(i);
      xs.push(recording && t.requiresGrad ? t : t.detach().requiresGrad_());
    }
    const outs = build(xs);
    let total: Tensor | null = null;
    for (let k = 0; k < numOut; k++) {
      const cot = ctx.outputGrad(k);
      if (cot === null) continue;
      const term = outs[k]!.mul(cot).sum();
      total = total ? total.add(term) : term;
    }
    if (total === null) return result;
    const gs = grad(total, want.map((i) => xs[i]!), { createGraph: recording, retainGraph: true, allowUnused: true });
    want.forEach((i, j) => (result[i] = gs[j]!));
    return result;
  });
}

/** lstmSequence: inputs (xGates, wHh, h0, c0); gradients flow from h and c (gates is saved only). */
export function lstmSequenceRule(ctx: GradContext<'lstmSequence'>): (Tensor | null)[] {
  if (ctx.outputGrad(2) !== null) throw new Error('lstmSequence: its gates output is saved for the backward pass and has no gradient');
  const [xGates, wHh, h0, c0] = [0, 1, 2, 3].map((i) => ctx.input(i)) as [Tensor, Tensor, Tensor, Tensor];
  const [h, c, gates] = [ctx.output(0), ctx.output(1), ctx.output(2)];
  const gh = ctx.outputGrad(0) ?? zeros(h.shape, h);
  const gc = ctx.outputGrad(1) ?? zeros(c.shape, c);
  const [gx, gh0, gc0] = runMany('lstmSequenceBackward', [xGates, wHh, h0, c0, gh, gc, c, gates], ctx.attrs) as [Tensor, Tensor, Tensor];
  // xGates enters the pre-activations unchanged, so its gradient is theirs.
  return [gx, ctx.needsGrad(1) ? recurrentWeightGrad(gx, h, h0, ctx.attrs.reverse) : null, gh0, gc0];
}

/** lstmSequenceBackward: recomputed from lstmComposite (inputs xGates, wHh, h0, c0, gh, gc). */
export function lstmSequenceBackwardRule(ctx: GradContext<'lstmSequenceBackward'>): (Tensor | null)[] {
  return recomputedRule(ctx, 6, 3, ([x, w, h0, c0, gh, gc]) => {
    const [h, c] = lstmComposite(x!, w!, h0!, c0!, ctx.attrs.reverse);
    const loss = h.mul(gh!).sum().add(c.mul(gc!).sum());
    return grad(loss, [x!, h0!, c0!], { createGraph: true, retainGraph: true }) as Tensor[];
  });
}

/** gruSequence: inputs (xGates, wHh, bHh, h0); gradients flow from h (gates and hn are saved only). */
export function gruSequenceRule(ctx: GradContext<'gruSequence'>): (Tensor | null)[] {
  if (ctx.outputGrad(1) !== null || ctx.outputGrad(2) !== null) {
    throw new Error('gruSequence: its gates and hn outputs are saved for the backward pass and have no gradient');
  }
  const [xGates, wHh, bHh, h0] = [0, 1, 2, 3].map((i) => ctx.input(i)) as [Tensor, Tensor, Tensor, Tensor];
  const [h, gates, hn] = [ctx.output(0), ctx.output(1), ctx.output(2)];
  const inputs = [xGates, wHh, bHh, h0, ctx.grad, h, gates, hn];
  const [gx, ghg, gh0] = runMany('gruSequenceBackward', inputs, ctx.attrs) as [Tensor, Tensor, Tensor];
  // ghg is the gradient of each step's h W_hh^T + b_hh.
  return [
    gx,
    ctx.needsGrad(1) ? recurrentWeightGrad(ghg, h, h0, ctx.attrs.reverse) : null,
    ctx.needsGrad(2) ? run('sum', [ghg], { axes: [0, 1], keepdim: false }) : null,
    gh0,
  ];
}

/** gruSequenceBackward: recomputed from gruComposite (inputs xGates, wHh, bHh, h0, gh). */
export function gruSequenceBackwardRule(ctx: GradContext<'gruSequenceBackward'>): (Tensor | null)[] {
  return recomputedRule(ctx, 5, 3, ([x, w, b, h0, gh]) => {
    const probe = zeros(x!.shape, x!).requiresGrad_();
    const h = gruComposite(x!, w!, b!, h0!, ctx.attrs.reverse, probe);
    return grad(h.mul(gh!).sum(), [x!, probe, h0!], { createGraph: true, retainGraph: true }) as Tensor[];
  });
}
