/**
 * Gradient rules of the fused normalisation and softmax-backward primitives (batchNorm, layerNorm,
 * softmaxBackward, ...), kept beside the table in rules.ts because each is a page of algebra.
 *
 * The forward rules call the dedicated backward primitives; the backward primitives' own rules
 * (needed for second derivatives) are their vector-Jacobian products written out with tensor ops.
 * Notation, for a normalised group of M values (a channel for batch norm, a row for layer norm):
 *   xhat = (x - mean) * s,  s = 1 / sqrt(var + eps),  var = sum((x - mean)^2) / M  (biased).
 */
import { run, runMany } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import type { GradContext } from './rules.js';

const sumKeep = (t: Tensor, axes: number[]): Tensor => (axes.length ? run('sum', [t], { axes, keepdim: true }) : t);
const zeros = (shape: readonly number[], like: Tensor): Tensor =>
  run('full', [], { shape: [...shape], dtype: like.dtype, value: 0 }, like.device);

/** [1, C, 1, ...] for an input [N, C, ...], and the axes batch norm reduces over (all but 1). */
function channelLayout(x: Tensor): { shape: number[]; axes: number[]; count: number } {
  const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  return { shape, axes, count: x.numel() / x.shape[1]! };
}

/**
 * The gradient that reaches x through the statistics themselves, when the mean or the inverse std
 * output is used (rarely; the modules only read them to update running statistics):
 * d mean / dx = 1 / M and d s / dx = -s^3 (x - mean) / M.
 */
function throughStats(x: Tensor, mean: Tensor, s: Tensor, gMean: Tensor | null, gS: Tensor | null, count: number): Tensor | null {
  let g: Tensor | null = null;
  if (gMean) g = gMean.div(count);
  if (gS) {
    const viaS = x.sub(mean).mul(s.pow(3).mul(gS).mul(-1 / count));
    g = g ? viaS.add(g) : viaS;
  }
  return g;
}

/** batchNorm: the input, weight and bias gradients from one batchNormBackward, plus any gradient reaching the statistics. */
export function batchNormRule(ctx: GradContext<'batchNorm'>): (Tensor | null)[] {
  const x = ctx.input(0);
  const { shape, count } = channelLayout(x);
  const mean = ctx.output(1);
  const invstd = ctx.output(2);
  const [gx, gw, gb] = runMany('batchNormBackward', [ctx.grad, x, mean, invstd, ctx.input(1)], {});
  const gMean = ctx.outputGrad(1);
  const gS = ctx.outputGrad(2);
  const extra = throughStats(x, mean.reshape(shape), invstd.reshape(shape), gMean && gMean.reshape(shape), gS && gS.reshape(shape), count);
  return [ctx.needsGrad(0) ? (extra ? gx!.add(extra) : gx!) : null, ctx.needsGrad(1) ? gw! : null, ctx.needsGrad(2) ? gb! : null];
}

/**
 * batchNormBackward computes, per channel (sums over every axis but 1, M values):
 *   gbias = sum(gy), gweight = sum(gy * xhat), gx = w s (gy - gbias / M - xhat * gweight / M).
 * Its vector-Jacobian product, for output gradients (Gx, Gw, Gb), follows by the chain rule
 * through gbias and gweight (their total gradients Ggb, Ggw) and then through xhat.
 */
export function batchNormBackwardRule(ctx: GradContext<'batchNormBackward'>): (Tensor | null)[] {
  const gy = ctx.input(0);
  const x = ctx.input(1);
  const { shape, axes, count: M } = channelLayout(x);
  const mean = ctx.input(2).reshape(shape);
  const s = ctx.input(3).reshape(shape);
  const w = ctx.input(4).reshape(shape);
  const Gx = ctx.grad;
  const Gw = (ctx.outputGrad(1) ?? zeros(ctx.inputShape(4), gy)).reshape(shape);
  const Gb = (ctx.outputGrad(2) ?? zeros(ctx.inputShape(4), gy)).reshape(shape);
  const centred = x.sub(mean);
  const xhat = centred.mul(s);
  const gb = sumKeep(gy, axes);
  const gw = sumKeep(gy.mul(xhat), axes);
  const inner = gy.sub(gb.div(M)).sub(xhat.mul(gw.div(M)));
  const ws = w.mul(s);
  const Ggw = Gw.sub(ws.mul(sumKeep(Gx.mul(xhat), axes)).div(M));
  const Ggb = Gb.sub(ws.mul(sumKeep(Gx, axes)).div(M));
  const dxhat = Ggw.mul(gy).sub(ws.mul(gw).div(M).mul(Gx));
  const GxInner = sumKeep(Gx.mul(inner), axes);
  const C = [ctx.inputShape(4)[0]!];
  return [
    ctx.needsGrad(0) ? ws.mul(Gx).add(Ggb).add(Ggw.mul(xhat)) : null,
    ctx.needsGrad(1) ? dxhat.mul(s) : null,
    ctx.needsGrad(2) ? sumKeep(dxhat, axes).mul(s).neg().reshape(C) : null,
    ctx.needsGrad(3) ? sumKeep(dxhat.mul(centred), axes).add(w.mul(GxInner)).reshape(C) : null,
    ctx.needsGrad(4) ? s.mul(GxInner).reshape(C) : null,
  ];
}

/** The normalised (trailing) axes of layer norm, the leading ones, and the group size D. */
function rowLayout(x: Tensor, normalizedShape: readonly number[]): { norm: number[]; lead: number[]; D: number } {
  const k = normalizedShape.length;
  const lead = Array.from({ length: x.ndim - k }, (_, i) => i);
  const norm = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  return { norm, lead, D: normalizedShape.reduce((p, d) => p * d, 1) };
}

/** layerNorm: the input, weight and bias gradients from one layerNormBackward, plus any gradient reaching the statistics. */
export function layerNormRule(ctx: GradContext<'layerNorm'>): (Tensor | null)[] {
  const x = ctx.input(0);
  const { normalizedShape } = ctx.attrs;
  const mean = ctx.output(1);
  const rstd = ctx.output(2);
  const [gx, gw, gb] = runMany('layerNormBackward', [ctx.grad, x, mean, rstd, ctx.input(1)], { normalizedShape });
  const { D } = rowLayout(x, normalizedShape);
  const extra = throughStats(x, mean, rstd, ctx.outputGrad(1), ctx.outputGrad(2), D);
  return [ctx.needsGrad(0) ? (extra ? gx!.add(extra) : gx!) : null, ctx.needsGrad(1) ? gw! : null, ctx.needsGrad(2) ? gb! : null];
}

/**
 * layerNormBackward computes, per row of D values, with g = gy * w:
 *   gx = r (g - mean(g) - xhat * mean(g * xhat)),
 * and over all rows gweight = sum(gy * xhat), gbias = sum(gy). Its vector-Jacobian product for
 * output gradients (Gx, Gw, Gb) is written out below (inner = gx / r).
 */
export function layerNormBackwardRule(ctx: GradContext<'layerNormBackward'>): (Tensor | null)[] {
  const gy = ctx.input(0);
  const x = ctx.input(1);
  const mean = ctx.input(2);
  const r = ctx.input(3);
  const w = ctx.input(4);
  const { norm, lead, D } = rowLayout(x, ctx.attrs.normalizedShape);
  const meanD = (t: Tensor) => sumKeep(t, norm).div(D);
  const sumRows = (t: Tensor) => (lead.length ? run('sum', [t], { axes: lead, keepdim: false }) : t);
  const Gx = ctx.grad;
  const Gw = ctx.outputGrad(1) ?? zeros(ctx.inputShape(4), gy);
  const Gb = ctx.outputGrad(2) ?? zeros(ctx.inputShape(4), gy);
  const centred = x.sub(mean);
  const xhat = centred.mul(r);
  const g = gy.mul(w);
  const B = meanD(g.mul(xhat));
  const inner = g.sub(meanD(g)).sub(xhat.mul(B));
  const GxXhat = meanD(Gx.mul(xhat));
  const dg = r.mul(Gx.sub(meanD(Gx)).sub(xhat.mul(GxXhat)));
  const dxhat = r.mul(B).mul(Gx).add(r.mul(GxXhat).mul(g)).neg().add(Gw.mul(gy));
  return [
    ctx.needsGrad(0) ? dg.mul(w).add(Gw.mul(xhat)).add(Gb) : null,
    ctx.needsGrad(1) ? dxhat.mul(r) : null,
    ctx.needsGrad(2) ? sumKeep(dxhat, norm).mul(r).neg() : null,
    ctx.needsGrad(3) ? sumKeep(dxhat.mul(centred), norm).add(sumKeep(Gx.mul(inner), norm)) : null,
    ctx.needsGrad(4) ? sumRows(dg.mul(gy)) : null,
  ];
}

/**
 * softmaxBackward(y, gy) = y * (gy - d), d = sum(gy * y). It is linear in gy, with the same
 * operator as its own adjoint: d/dgy of <G, .> is softmaxBackward(y, G); and d/dy is
 * G * (gy - d) - gy * sum(G * y).
 */
export function softmaxBackwardRule(ctx: GradContext<'softmaxBackward'>): (Tensor | null)[] {
  const y = ctx.input(0);
  const gy = ctx.input(1);
  const G = ctx.grad;
  const axes = y.ndim ? [ctx.attrs.axis] : [];
  return [
    ctx.needsGrad(0) ? G.mul(gy.sub(sumKeep(gy.mul(y), axes))).sub(gy.mul(sumKeep(G.mul(y), axes))) : null,
    ctx.needsGrad(1) ? run('softmaxBackward', [y, G], ctx.attrs) : null,
  ];
}

/** logSoftmaxBackward(y, gy) = gy - exp(y) * sum(gy): d/dy is -G exp(y) sum(gy); d/dgy is G - sum(G exp(y)). */
export function logSoftmaxBackwardRule(ctx: GradContext<'logSoftmaxBackward'>): (Tensor | null)[] {
  const y = ctx.input(0);
  const gy = ctx.input(1);
  const G = ctx.grad;
  const axes = y.ndim ? [ctx.attrs.axis] : [];
  const p = y.exp();
  return [
    ctx.needsGrad(0) ? G.mul(p).mul(sumKeep(gy, axes)).neg() : null,
    ctx.needsGrad(1) ? G.sub(sumKeep(G.mul(p), axes)) : null,
  ];
}
