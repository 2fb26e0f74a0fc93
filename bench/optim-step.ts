/**
 * `optimizer.step()` alone, the Tensor-op updates (before issue 4) against the fused kernels, in
 * one process, interleaved, on three models' parameters with random gradients:
 *   dqn     MinAtar DQN (conv 16x4x3x3, FC 1024x128, FC 128x6, with biases), RMSprop centered
 *   gpt     GPT cpu preset (papers/2019-gpt/config.ts), AdamW with decay on matrices only
 *   resnet  ResNet-20, SGD momentum 0.9 and weight decay 1e-4
 * Prints median wall and CPU microseconds per step of each path.
 *
 *   MILESTONES_NUM_THREADS=1 node dist/bench/optim-step.js [rounds] [--shapes]
 * `--shapes` prints each workload's parameter shapes as JSON (for bench/optim_step_torch.py).
 */
import { optim, randn, type Tensor } from '../src/index.js';
import { GPT } from '../papers/2019-gpt/model.js';
import { ResNet20 } from './resnet20.js';

type OptimizerClass = new (...args: any[]) => optim.SGD;

/** The optimizer with its fused path turned off: every step runs the Tensor ops of `update`. */
function tensorOps(Base: OptimizerClass) {
  return class extends Base {
    protected override fusedUpdate(): boolean {
      return false;
    }
  };
}

interface Workload {
  name: string;
  params: () => Tensor[];
  make: (Cls: OptimizerClass, params: Tensor[]) => optim.Optimizer;
  cls: OptimizerClass;
}

const WORKLOADS: Workload[] = [
  {
    name: 'dqn',
    params: () => [[16, 4, 3, 3], [16], [128, 1024], [128], [6, 128], [6]].map((s) => randn(s).mul(0.05).requiresGrad_()),
    // papers/2013-dqn/train.ts, MinAtar: torch.optim.RMSprop(lr, alpha=0.95, centered=True, eps=0.01)
    make: (Cls, ps) => new Cls(ps, { lr: 2.5e-4, alpha: 0.95, eps: 0.01, centered: true }),
    cls: optim.RMSprop as unknown as OptimizerClass,
  },
  {
    name: 'gpt',
    params: () =>
      new GPT({ blockSize: 64, vocabSize: 65, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false, layerNormEps: 1e-5 }).parameters(),
    // papers/2019-gpt/train.ts
    make: (Cls, ps) =>
      new Cls(
        [
          { params: ps.filter((p) => p.ndim >= 2), weightDecay: 0.1 },
          { params: ps.filter((p) => p.ndim < 2), weightDecay: 0 },
        ],
        { lr: 1e-3, betas: [0.9, 0.99] },
      ),
    cls: optim.AdamW as unknown as OptimizerClass,
  },
  {
    name: 'resnet',
    params: () => new ResNet20().parameters(),
    make: (Cls, ps) => new Cls(ps, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }),
    cls: optim.SGD as unknown as OptimizerClass,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Wall and CPU microseconds per step over `steps` steps. */
function time(opt: optim.Optimizer, steps: number): [number, number] {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) opt.step();
  const c = process.cpuUsage(c0);
  return [((performance.now() - t0) * 1000) / steps, (c.user + c.system) / steps];
}

const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 15);
if (process.argv.includes('--shapes')) {
  console.log(JSON.stringify(Object.fromEntries(WORKLOADS.map((w) => [w.name, w.params().map((p) => p.shape)]))));
} else {
  for (const w of WORKLOADS) {
    const ps = w.params();
    const numel = ps.reduce((n, p) => n + p.numel(), 0);
    // The same parameters and gradients for both paths (the steps move them; timing is what matters).
    const copies = [0, 1].map(() => ps.map((p) => p.detach().clone().requiresGrad_()));
    for (const c of copies) c.forEach((p, i) => (p.grad = randn(ps[i]!.shape as number[]).mul(0.01)));
    const fused = w.make(w.cls, copies[0]!);
    const old = w.make(tensorOps(w.cls), copies[1]!);
    const steps = Math.max(2, Math.round(2e6 / numel));
    time(fused, steps);
    time(old, steps);
    const results = { fused: [[], []] as number[][], old: [[], []] as number[][] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['fused', 'old'] as const) : (['old', 'fused'] as const);
      for (const which of order) {
        const [wall, cpu] = time(which === 'fused' ? fused : old, steps);
        results[which][0]!.push(wall);
        results[which][1]!.push(cpu);
      }
    }
    const [fw, fc, ow, oc] = [results.fused[0]!, results.fused[1]!, results.old[0]!, results.old[1]!].map(median) as [number, number, number, number];
    console.log(
      `${w.name.padEnd(7)} ${ps.length} tensors, ${(numel / 1e6).toFixed(3)}M values: ` +
        `Tensor ops ${ow.toFixed(0)} us wall / ${oc.toFixed(0)} us cpu; fused ${fw.toFixed(0)} us wall / ${fc.toFixed(0)} us cpu; ` +
        `speedup ${(ow / fw).toFixed(1)}x wall, ${(oc / fc).toFixed(1)}x cpu (median of ${rounds} rounds of ${steps} steps)`,
    );
  }
}
