/**
 * Gradient checking by central finite differences, in float64 (the check that every rule in the
 * table is the derivative of its primitive).
 */
import { fmt } from '../shape.js';
import { Tensor, tensor, noGrad, randnLike, type Generator } from '../tensor/index.js';
import { grad } from './backward.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seeds the random projection of the output. */
  generator?: Generator;
}

/**
 * Checks the gradient of `fn` with respect to every input that requires grad: the analytical
 * vector-Jacobian product with a random vector v against (f(x + eps e_i) - f(x - eps e_i)) / 2eps
 * projected on v, for every element i. Throws with the worst element when they disagree.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): true {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3 } = options;
  for (const t of inputs) {
    if (t.requiresGrad && t.dtype !== 'float64') {
      throw new Error(`gradcheck: inputs that require grad must be float64, got ${t.dtype}`);
    }
  }
  const out = fn(...inputs);
  const v = noGrad(() => randnLike(out, { generator: options.generator }));
  const diff = inputs.filter((t) => t.requiresGrad);
  if (!out.requiresGrad) throw new Error('gradcheck: the output does not depend on any input that requires grad');
  const analytical = grad(out, diff, { gradOutputs: [v], allowUnused: true });
  const vFlat = Array.from(v.dataSync());
  const project = (o: Tensor) => Array.from(o.dataSync()).reduce((s, x, k) => s + x * vFlat[k]!, 0);

  diff.forEach((x, which) => {
    const base = Array.from(x.dataSync());
    const ana = analytical[which] ? Array.from(analytical[which]!.dataSync()) : base.map(() => 0);
    const evalAt = (i: number, delta: number) => {
      const values = base.slice();
      values[i]! += delta;
      // Grad mode stays on and the moved input keeps requiresGrad, so that a function which
      // differentiates inside (a gradient penalty) evaluates the same way as for the analytical pass.
      const moved = tensor(values, { dtype: 'float64', shape: [...x.shape], device: x.device, requiresGrad: true });
      return project(fn(...inputs.map((t) => (t === x ? moved : t))));
    };
    for (let i = 0; i < base.length; i++) {
      const numerical = (evalAt(i, eps) - evalAt(i, -eps)) / (2 * eps);
      const a = ana[i]!;
      if (!(Math.abs(a - numerical) <= atol + rtol * Math.abs(numerical))) {
        throw new Error(
          `gradcheck: input ${inputs.indexOf(x)} (shape ${fmt(x.shape)}) element ${i}: ` +
            `analytical ${a} vs numerical ${numerical}`,
        );
      }
    }
  });
  return true;
}
