/**
 * The fixed problem of tools/reference/make_optim_fixtures.py, rebuilt from a fixture: three
 * float32 parameters of odd shapes and the loss
 *
 *   sum_i 0.5 * sum(a_i * (w_i - t_i)^2) + 0.1 * sum_i sum(sin(3 w_i)) + 0.2 * mean(w0) * sum(w2)
 *
 * computed with the same ops in the same order as the script.
 */
import { readFileSync } from 'node:fs';
import { Tensor, tensor } from '../src/index.js';
import * as optim from '../src/optim/index.js';

export interface Problem {
  shapes: number[][];
  init: number[][];
  targets: number[][];
  scales: number[][];
}

/** A fixture file under test/fixtures (read from the source tree, next to the compiled test). */
export function readFixture<T>(name: string): T {
  const url = new URL(`../../test/fixtures/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

export function makeTensors(values: number[][], shapes: number[][], requiresGrad = false): Tensor[] {
  return values.map((v, i) => tensor(v, { shape: shapes[i]!, requiresGrad }));
}

/** Fresh leaf parameters at the problem's starting point. */
export function freshParams(problem: Problem): Tensor[] {
  return makeTensors(problem.init, problem.shapes, true);
}

/** The loss as a function of the parameters. */
export function lossFn(problem: Problem): (ws: Tensor[]) => Tensor {
  const targets = makeTensors(problem.targets, problem.shapes);
  const scales = makeTensors(problem.scales, problem.shapes);
  return (ws) => {
    let total: Tensor | null = null;
    ws.forEach((w, i) => {
      const d = w.sub(targets[i]!);
      const term = scales[i]!.mul(d.mul(d)).sum().mul(0.5);
      total = total === null ? term : total.add(term);
    });
    for (const w of ws) total = total!.add(w.mul(3).sin().sum().mul(0.1));
    return total!.add(ws[0]!.mean().mul(ws[2]!.sum()).mul(0.2));
  };
}

/** A group spec of the fixture: parameter indices plus settings. */
export type GroupSpec = Record<string, unknown> & { params: number[] };

/** The fixture's groups with indices replaced by the parameters. */
export function groupsFor(ws: Tensor[], groups: GroupSpec[]): optim.ParamGroupInput[] {
  return groups.map((g) => ({ ...g, params: g.params.map((i) => ws[i]!) }));
}

/** Builds an optimizer by its torch class name. */
export function makeOptimizer(name: string, params: optim.ParamGroupInput[], options: Record<string, unknown>): optim.Optimizer {
  const o = options as never;
  switch (name) {
    case 'SGD':
      return new optim.SGD(params as never, o);
    case 'Adam':
      return new optim.Adam(params as never, o);
    case 'AdamW':
      return new optim.AdamW(params as never, o);
    case 'RMSprop':
      return new optim.RMSprop(params as never, o);
    case 'Adagrad':
      return new optim.Adagrad(params as never, o);
    case 'Adadelta':
      return new optim.Adadelta(params as never, o);
    case 'Adamax':
      return new optim.Adamax(params as never, o);
    default:
      throw new Error(`unknown optimizer ${name}`);
  }
}
