/**
 * `npm run bench:models`: model-level training and inference steps on milestones and on PyTorch CPU
 * (Debian's python3-torch, OpenBLAS with OpenMP, two threads), in one invocation (issue 4, point 5).
 *
 * The PyTorch side is bench/models_torch.py, a worker that answers one JSON line per command. Each
 * round times milestones, then PyTorch, on the same workload (interleaved, so a busy machine slows
 * both alike); after warm-up the median of the rounds is reported, with wall time and process CPU
 * time per step, and bench/MODELS.md gets the machine, the versions and the speed ratios.
 *
 * Each workload runs in fresh processes on both sides (this script again with --worker=NAME, and
 * its own PyTorch worker), as a training run would: run one after another in one process, the
 * earlier models' garbage stayed in both heaps, and the DQN train step, timed after GPT, ResNet-20
 * and the LSTM, ran at 1.7-2.0x PyTorch's speed where alone it ran at 3.0x (2026-11-27).
 *
 *   node dist/bench/models.js                      every workload, device 'cpu' when built
 *   node dist/bench/models.js --device=reference --only=dqn --runs=7   (with --only, prints only)
 *   node dist/bench/models.js --profile=gpt        profiles milestones' step alone: top functions by self time
 */
import { spawn, spawnSync } from 'node:child_process';
import { arg, flag, repoRoot, writeReport } from './cli.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Session } from 'node:inspector/promises';
import {
  availableBackends,
  describeBackend,
  nn,
  noGrad,
  optim,
  rand,
  randint,
  randn,
  manualSeed,
  setDefaultDevice,
  VERSION,
} from '../src/index.js';
import { GPT } from '../papers/2019-gpt/model.js';
import { buildResNetStep as buildResNet } from './resnet20.js';
import { MinAtarQNetwork } from '../papers/2013-dqn/model.js';

const F = nn.functional;
// dist-*/bench/*.js -> the repository root, where models_torch.py and MODELS.md live
const root = repoRoot(import.meta.url);

const DEVICE = arg('device', availableBackends().includes('cpu') ? 'cpu' : 'reference');
const RUNS = Number(arg('runs', '5'));
/**
 * Warm-up per side before any timing: at least this many seconds (and one step). A JavaScript step
 * runs in V8's interpreter first and reaches optimised code only after a few hundred calls, so a
 * single warm-up step sized the samples on cold code and timed the tier-up; a DQN run trains for
 * millions of steps, so the steady state is what a user sees.
 */
const WARMUP_S = Number(arg('warmup', '2'));
const ONLY = arg('only', '');
const TORCH_THREADS = Number(arg('torch-threads', '2'));
const PROFILE = arg('profile', '');
/** Set in the child process that times one workload (see the file header). */
const WORKER = arg('worker', '');
/** A tiny step repeats inside one sample until the sample lasts this long, so the clock's grain and one stray interrupt do not decide it. */
const MIN_SAMPLE_S = 0.3;
/** A step slower than this (the reference backend on the big models) gets fewer rounds; MODELS.md says so. */
const SLOW_STEP_S = 30;
const SLOW_RUNS = 3;

setDefaultDevice(DEVICE);

// ---------------------------------------------------------------- workloads

interface Workload {
  name: string;
  title: string;
  /** Speed as the issue states it, from seconds per step. */
  unit: string;
  rate: (seconds: number) => number;
  /** True when the unit is a time (lower is better), so the speed ratio is inverted. */
  isTime: boolean;
  /** PyTorch's figure in the issue, in `unit`. */
  issueTorch: number | null;
  /** Target speed ratio milestones / PyTorch. */
  target: number;
  build: () => () => unknown;
}

function buildGPT(): () => unknown {
  // nanoGPT's config/train_shakespeare_char.py
  const model = new GPT({ blockSize: 256, vocabSize: 65, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false, layerNormEps: 1e-5 });
  model.train();
  const params = model.parameters();
  // nanoGPT's configure_optimizers: decay matrices and embeddings, not gains and biases
  const opt = new optim.AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: 0.1 },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: 1e-3, betas: [0.9, 0.99] },
  );
  const idx = randint(0, 65, [8, 256]);
  const tgt = randint(0, 65, [8, 256]);
  return () => {
    opt.zeroGrad();
    const { loss } = model.forward(idx, tgt);
    loss!.backward();
    optim.clipGradNorm_(params, 1.0);
    opt.step();
    return loss!.item();
  };
}

/** New tokens per generation call; bench/models_torch.py uses the same. */
const GENERATE_TOKENS = 100;

/** Greedy generation with the key/value cache: the paper-sized model, one prompt token, 100 new tokens. */
function buildGPTGenerate(): () => unknown {
  const model = new GPT({ blockSize: 256, vocabSize: 65, nLayer: 6, nHead: 6, nEmbd: 384, dropout: 0.2, bias: false, layerNormEps: 1e-5 });
  model.eval();
  const start = randint(0, 1, [1, 1]);
  return () => model.generate(start, GENERATE_TOKENS, { temperature: 0 }).dataSync();
}

function buildLSTM(): () => unknown {
  const lstm = new nn.LSTM(256, 256);
  const x = randn([32, 64, 256]); // [T, N, in]
  x.requiresGrad = true;
  return () => {
    lstm.zeroGrad();
    x.grad = null;
    const [out] = lstm.forward(x); // [T, N, H]
    out.sum().backward();
    return x.grad!.dataSync();
  };
}

/** MinAtar's DQN (examples/dqn.py): policy and target networks, RMSprop, smooth L1 TD loss. */
function buildDQN(act: boolean): () => unknown {
  const policy = new MinAtarQNetwork(4, 6);
  const target = new MinAtarQNetwork(4, 6);
  target.loadStateDict(policy.stateDict());
  const opt = new optim.RMSprop(policy.parameters(), { lr: 0.00025, alpha: 0.95, centered: true, eps: 0.01 });
  const s = rand([32, 4, 10, 10]).lt(0.1).float();
  const s2 = rand([32, 4, 10, 10]).lt(0.1).float();
  const a = randint(0, 6, [32, 1]);
  const r = randn([32]);
  const done = rand([32]).lt(0.1).float();
  const one = rand([1, 4, 10, 10]).lt(0.1).float();
  if (act) return () => noGrad(() => policy.forward(one).argmax(1).item());
  return () => {
    const y = noGrad(() => r.add(done.neg().add(1).mul(0.99).mul(target.forward(s2).amax(1)))); // [32]
    const q = policy.forward(s).gather(1, a).squeeze(1); // [32]
    const loss = F.smoothL1Loss(q, y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  };
}

const WORKLOADS: Workload[] = [
  {
    name: 'resnet20',
    title: 'ResNet-20 train step, SGD momentum, batch 128',
    unit: 'images/s',
    rate: (s) => 128 / s,
    isTime: false,
    issueTorch: 325,
    target: 1,
    build: buildResNet,
  },
  {
    name: 'gpt',
    title: 'nanoGPT shakespeare-char train step, AdamW, batch 8 x 256',
    unit: 'tokens/s',
    rate: (s) => (8 * 256) / s,
    isTime: false,
    issueTorch: 1045,
    target: 1,
    build: buildGPT,
  },
  {
    name: 'gptGenerate',
    title: `nanoGPT shakespeare-char generation, greedy, key/value cache, ${GENERATE_TOKENS} tokens`,
    unit: 'tokens/s',
    rate: (s) => GENERATE_TOKENS / s,
    isTime: false,
    issueTorch: null,
    target: 1,
    build: buildGPTGenerate,
  },
  {
    name: 'lstm',
    title: 'LSTM 256-256, T=32, batch 64, forward + backward',
    unit: 'ms',
    rate: (s) => s * 1000,
    isTime: true,
    issueTorch: 73,
    target: 1,
    build: buildLSTM,
  },
  {
    name: 'dqnTrain',
    title: 'MinAtar DQN train step, batch 32, target forward, RMSprop',
    unit: 'steps/s',
    rate: (s) => 1 / s,
    isTime: false,
    issueTorch: 540,
    target: 3,
    build: () => buildDQN(false),
  },
  {
    name: 'dqnAct',
    title: 'MinAtar DQN action, one state, argmax',
    unit: 'actions/s',
    rate: (s) => 1 / s,
    isTime: false,
    issueTorch: 7500,
    target: 5,
    build: () => buildDQN(true),
  },
];

// ---------------------------------------------------------------- timing

interface Sample {
  wall: number; // seconds per step
  cpu: number; // process CPU seconds per step (all threads)
}

function timeMs(f: () => unknown, iters: number): Sample {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) f();
  const wall = (performance.now() - t0) / 1000 / iters;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 / iters };
}

/**
 * Runs a step in growing batches until WARMUP_S seconds have passed, and returns the seconds per
 * step of the last batch (warm code): `time(n)` runs n steps and returns seconds per step.
 */
async function warmUp(time: (n: number) => number | Promise<number>): Promise<number> {
  const end = performance.now() + WARMUP_S * 1000;
  let n = 1;
  let perStep = await time(n);
  while (performance.now() < end) {
    n = Math.max(1, Math.min(n * 2, Math.ceil(0.25 / perStep)));
    perStep = await time(n);
  }
  return perStep;
}

/** The PyTorch worker: one JSON request, one JSON answer, in order. */
class TorchWorker {
  private readonly proc = spawn('/usr/bin/python3', [join(root, 'bench', 'models_torch.py'), String(TORCH_THREADS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  private readonly lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();

  async ask(cmd: object): Promise<Record<string, unknown>> {
    this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    const { value, done } = await this.lines.next();
    if (done) throw new Error('bench: the PyTorch worker exited');
    return JSON.parse(value as string) as Record<string, unknown>;
  }

  close(): void {
    this.proc.stdin.end();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------- profile mode

/** Runs milestones' step `steps` times under the V8 profiler and prints the top functions by self time. */
async function profile(w: Workload, steps: number): Promise<string> {
  manualSeed(0);
  const f = w.build();
  f(); // warm-up, outside the profile
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) f();
  const total = performance.now() - t0;
  const { profile: p } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  session.disconnect();
  // for Chrome DevTools or speedscope
  const out = join(tmpdir(), `milestones-models-${w.name}.cpuprofile`);
  writeFileSync(out, JSON.stringify(p));
  console.log(`profile written to ${out}`);
  return summarize(p, total / steps);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and, for kernels, per caller chain: the top entries as a Markdown table. */
function summarize(p: CpuProfile, msPerStep: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const label = (id: number): string => {
    const n = byId.get(id)!;
    const file = n.callFrame.url.replace(/^.*\/(dist-[^/]+|dist)\//, '');
    return `${n.callFrame.functionName || '(anonymous)'} ${file ? `${file}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
  };
  const agg = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    total += us;
    // attribute to the function and its nearest named caller (native kernels show as anonymous
    // frames; the backend function that called them names the primitive)
    let par = parent.get(id);
    while (par !== undefined && !byId.get(par)!.callFrame.functionName) par = parent.get(par);
    const key = par !== undefined ? `${label(id)} <- ${label(par)}` : label(id);
    agg.set(key, (agg.get(key) ?? 0) + us);
  }
  const rows = [...agg].sort((a, b) => b[1] - a[1]).slice(0, 15);
  const lines = [`${msPerStep.toFixed(1)} ms per step under the profiler; self time by function (<- caller):`, '', '| share | function <- caller |', '| ---: | --- |'];
  for (const [k, us] of rows) lines.push(`| ${((100 * us) / total).toFixed(1)}% | \`${k}\` |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

const machine = (() => {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? '?';
  const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/flags\s*:\s*(.*)/)?.[1]?.split(' ') ?? [];
  const isa = ['avx512f', 'avx2', 'fma'].filter((f) => flags.includes(f)).join(', ');
  return `${model}, ${cpus().length} cores (${isa}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
})();

interface Result {
  w: Workload;
  ms: Sample[];
  pt: Sample[];
  runs: number;
}

/** Times workload `w` against PyTorch in this process, with a PyTorch worker of its own. */
async function measure(w: Workload): Promise<{ result: Result; info: Record<string, unknown> }> {
  const torch = new TorchWorker();
  const info = await torch.ask({ cmd: 'info' });
  console.log(`PyTorch ${String(info['torch'])}, ${String(info['threads'])} threads; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  manualSeed(0);
  const f = w.build();
  await torch.ask({ cmd: 'build', name: w.name });
  // warm-up, which also sizes each sample (repeat tiny steps up to MIN_SAMPLE_S)
  const msStep = await warmUp((n) => timeMs(f, n).wall);
  const ptStep = await warmUp(async (n) => (await torch.ask({ cmd: 'time', name: w.name, iters: n }))['seconds'] as number);
  const msIters = Math.max(1, Math.ceil(MIN_SAMPLE_S / msStep));
  const ptIters = Math.max(1, Math.ceil(MIN_SAMPLE_S / ptStep));
  const runs = Math.max(msStep, ptStep) > SLOW_STEP_S ? Math.min(RUNS, SLOW_RUNS) : RUNS;
  const ms: Sample[] = [];
  const pt: Sample[] = [];
  for (let r = 0; r < runs; r++) {
    ms.push(timeMs(f, msIters));
    const a = await torch.ask({ cmd: 'time', name: w.name, iters: ptIters });
    pt.push({ wall: a['seconds'] as number, cpu: a['cpu'] as number });
    process.stdout.write('.');
  }
  torch.close();
  const [m, t] = [median(ms.map((x) => x.wall)), median(pt.map((x) => x.wall))];
  console.log(
    `\n${w.title}: milestones ${fmt(w.rate(m))} ${w.unit}, PyTorch ${fmt(w.rate(t))} ${w.unit}, ` +
      `speed ratio ${(t / m).toFixed(2)}x (target ${w.target}x); ${runs} rounds of ${msIters}/${ptIters} steps`,
  );
  return { result: { w, ms, pt, runs }, info };
}

/** The line a --worker child ends with: its samples, for the parent's report. */
const RESULT_PREFIX = 'RESULT ';

async function main(): Promise<void> {
  if (WORKER) {
    const w = WORKLOADS.find((x) => x.name === WORKER);
    if (!w) throw new Error(`--worker: no workload '${WORKER}' (${WORKLOADS.map((x) => x.name).join(', ')})`);
    const { result, info } = await measure(w);
    console.log(RESULT_PREFIX + JSON.stringify({ ms: result.ms, pt: result.pt, runs: result.runs, info }));
    return;
  }
  const selected = WORKLOADS.filter((w) => w.name.toLowerCase().includes(ONLY.toLowerCase()));
  console.log(`bench:models on device '${DEVICE}' (${describeBackend(DEVICE)}); ${machine}`);
  if (PROFILE) {
    const w = WORKLOADS.find((x) => x.name === PROFILE);
    if (!w) throw new Error(`--profile: no workload '${PROFILE}' (${WORKLOADS.map((x) => x.name).join(', ')})`);
    console.log(await profile(w, Number(arg('steps', '3'))));
    return;
  }
  // the settings that shape a measurement go to each child
  const settings = ['device', 'runs', 'warmup', 'torch-threads'].flatMap((k) => (arg(k, '') ? [`--${k}=${arg(k, '')}`] : []));
  const results: Result[] = [];
  let info: Record<string, unknown> = {};
  for (const w of selected) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), `--worker=${w.name}`, ...settings], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = child.stdout.split('\n');
    process.stdout.write(lines.filter((l) => !l.startsWith(RESULT_PREFIX)).join('\n'));
    const last = lines.find((l) => l.startsWith(RESULT_PREFIX));
    if (child.status !== 0 || !last) throw new Error(`bench: the child timing ${w.name} failed (exit ${child.status})`);
    const r = JSON.parse(last.slice(RESULT_PREFIX.length)) as { ms: Sample[]; pt: Sample[]; runs: number; info: Record<string, unknown> };
    results.push({ w, ms: r.ms, pt: r.pt, runs: r.runs });
    info = r.info;
  }
  // a partial run (--only) would replace the full table with a few rows, so it only prints
  if (!flag('no-write') && !ONLY) {
    // the hand-written analysis below the marker (profiles, where the time goes) survives a rerun
    const path = join(root, 'bench', 'MODELS.md');
    writeReport(path, report(results, info), NOTES_MARKER);
    console.log('wrote bench/MODELS.md');
  }
}

/** An installed Debian package's version, or '?' (not Debian, or not installed). */
function debVersion(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout ? r.stdout : '?';
}

const NOTES_MARKER = '<!-- notes: kept across runs -->';

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function report(results: Result[], info: Record<string, unknown>): string {
  const L: string[] = [];
  L.push('# Model-level benchmarks: milestones against PyTorch', '');
  L.push(`Written by \`node dist/bench/models.js\` on ${new Date().toISOString()}.`, '');
  L.push(`- machine: ${machine}; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  L.push(`- milestones ${VERSION} on device \`${DEVICE}\` (${describeBackend(DEVICE)}), Node ${process.version}`);
  L.push(`- PyTorch ${String(info['torch'])} (Debian python3-torch ${debVersion('python3-torch')}), ${String(info['threads'])} threads, OpenBLAS ${debVersion('libopenblas0-openmp')} (libopenblas0-openmp)`);
  L.push(`- each workload in fresh processes on both sides; each side warmed up for ${WARMUP_S} s (optimised code, warm caches); median of the rounds that follow, each timing milestones then PyTorch on the same workload`, '');
  L.push('| workload | unit | milestones | PyTorch | speed ratio (wall) | speed ratio (CPU time) | target | PyTorch in the issue |');
  L.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { w, ms, pt } of results) {
    const [m, t] = [median(ms.map((s) => s.wall)), median(pt.map((s) => s.wall))];
    const [mc, tc] = [median(ms.map((s) => s.cpu)), median(pt.map((s) => s.cpu))];
    const ok = t / m >= w.target ? 'met' : 'missed';
    L.push(`| ${w.title} | ${w.unit} | ${fmt(w.rate(m))} | ${fmt(w.rate(t))} | ${(t / m).toFixed(2)}x | ${(tc / mc).toFixed(2)}x | ${w.target}x (${ok}) | ${w.issueTorch ?? '—'} |`);
  }
  L.push('');
  return L.join('\n');
}

await main();
