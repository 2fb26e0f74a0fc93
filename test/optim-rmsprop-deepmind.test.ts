// RMSprop with ε inside the square root (epsInside), the form of Graves 2013 (Eq. 40) and of
// DeepMind's DQN (NeuralQLearner.lua: g ← 0.95 g + 0.05 ∇, g2 ← 0.95 g2 + 0.05 ∇²,
// Δw = −lr ∇ / √(g2 − g² + 0.01)), checked over several steps against that formula written out in
// plain arithmetic; and the default stays PyTorch's √(v − ḡ²) + ε.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optim, tensor, nn } from '../src/index.js';
import { flat } from './helpers.js';

/** f(w) = Σ c_i w_i^3 / 3 + w_i^2 / 2, so ∇_i = c_i w_i^2 + w_i: gradients that change every step. */
const C = [0.5, -1.5, 2, 0.25];

function gradOf(w: number[]): number[] {
  return w.map((v, i) => C[i]! * v * v + v);
}

function runOurs(options: ConstructorParameters<typeof optim.RMSprop>[1], steps: number): number[][] {
  const w = new nn.Parameter(tensor([0.3, -0.7, 0.05, 1.2], { dtype: 'float64' }));
  const opt = new optim.RMSprop([w], options);
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    const c = tensor(C, { dtype: 'float64' });
    const loss = c.mul(w.pow(3)).div(3).add(w.mul(w).div(2)).sum();
    opt.zeroGrad();
    loss.backward();
    opt.step();
    out.push(flat(w));
  }
  return out;
}

function runFormula(lr: number, alpha: number, eps: number, inside: boolean, steps: number): number[][] {
  let w = [0.3, -0.7, 0.05, 1.2];
  const g = [0, 0, 0, 0];
  const g2 = [0, 0, 0, 0];
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    const grad = gradOf(w);
    w = w.map((v, i) => {
      g[i] = alpha * g[i]! + (1 - alpha) * grad[i]!;
      g2[i] = alpha * g2[i]! + (1 - alpha) * grad[i]! * grad[i]!;
      const variance = g2[i]! - g[i]! * g[i]!;
      const denom = inside ? Math.sqrt(variance + eps) : Math.sqrt(variance) + eps;
      return v - (lr * grad[i]!) / denom;
    });
    out.push([...w]);
  }
  return out;
}

function assertTrajectory(ours: number[][], expected: number[][]): void {
  ours.forEach((w, s) => w.forEach((v, i) => assert.ok(Math.abs(v - expected[s]![i]!) < 1e-12, `step ${s + 1}, w[${i}] = ${v}, expected ${expected[s]![i]}`)));
}

test('RMSprop epsInside: DeepMind DQN form √(E[g²] − E[g]² + ε), 10 steps', () => {
  const lr = 0.01;
  const ours = runOurs({ lr, alpha: 0.95, eps: 0.01, centered: true, epsInside: true }, 10);
  assertTrajectory(ours, runFormula(lr, 0.95, 0.01, true, 10));
  // The PyTorch form moves differently from the same start (ε = 0.01 is large beside √variance).
  const torchForm = runFormula(lr, 0.95, 0.01, false, 10);
  assert.ok(Math.abs(ours[9]![0]! - torchForm[9]![0]!) > 1e-4);
});

test('RMSprop default keeps PyTorch\'s centered form √(v − ḡ²) + ε', () => {
  const lr = 0.01;
  const ours = runOurs({ lr, alpha: 0.95, eps: 0.01, centered: true }, 10);
  assertTrajectory(ours, runFormula(lr, 0.95, 0.01, false, 10));
});

test('RMSprop epsInside, uncentered: √(v + ε)', () => {
  const w = new nn.Parameter(tensor([2], { dtype: 'float64' }));
  const opt = new optim.RMSprop([w], { lr: 0.1, alpha: 0.9, eps: 0.5, epsInside: true });
  w.mul(w).sum().backward(); // ∇ = 2w = 4
  opt.step();
  // v = 0.1 * 16 = 1.6; step = 0.1 * 4 / √(1.6 + 0.5)
  assert.ok(Math.abs(flat(w)[0]! - (2 - 0.4 / Math.sqrt(2.1))) < 1e-12);
});
