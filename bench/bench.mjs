#!/usr/bin/env node
// `npm run bench`: the same workloads on milestones (cpu backend), PyTorch CPU (Debian's
// python3-torch, OpenBLAS, two threads) and TensorFlow.js (tfjs cpu and tfjs-backend-wasm), in one
// invocation. PyTorch and each TensorFlow.js backend run in worker processes of their own. Every
// round runs each framework once per workload, in turn (interleaved, so a busy machine slows all of
// them alike); after warm-up the median of the rounds is reported, and
// bench/RESULTS.md gets the machine, the versions and the speed ratios.
//
//   npm run bench                      everything (several minutes)
//   npm run bench -- --only=sgemm      workloads whose name contains "sgemm"
//   npm run bench -- --runs=7 --no-tfjs-cpu --no-write --dist=dist-mine  (another tsc output folder)
//   npm run bench -- --tfjs-max-gflop=20   also time TensorFlow.js on the big GEMMs (very slow)
//   npm run bench -- --cpu-time --no-write  one thread each, CPU time (for a machine busy with other work)
//   npm run bench -- --slow-s=10 --slow-runs=3   a framework slower than 10 s per call: no warm-up, 3 samples
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { timeJs } from './time-js.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const arg = (name, dflt) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const flag = (name) => process.argv.includes(`--${name}`);
const RUNS = Number(arg('runs', 5));
const WARMUP = Number(arg('warmup', 2));
// Warm-up also lasts at least this long per framework and workload: V8 optimises our dispatch code
// only after many calls, and two 50 ms rounds left sgemm 128 at 2-3x its steady time.
const WARMUP_S = Number(arg('warmup-s', 1));
const ONLY = arg('only', '');
const MIN_SAMPLE_S = 0.05; // small workloads repeat inside one sample until it lasts this long
// A framework whose single call takes longer than this (TensorFlow.js's cpu backend on the conv
// workloads: tens of seconds per call) gets no further warm-up and SLOW_RUNS samples (by default as
// many as every other cell: a median of 5), so that one invocation still finishes within the hour;
// RESULTS.md marks a cell whose count differs from --runs.
const SLOW_S = Number(arg('slow-s', 10));
const SLOW_RUNS = Number(arg('slow-runs', RUNS));
// --cpu-time: one thread each, timed by process CPU time instead of the wall clock. On a machine
// shared with other work this shows what the kernels cost, where wall time mostly shows the queue.
const CPU_TIME = flag('cpu-time');
if (CPU_TIME) process.env.MILESTONES_NUM_THREADS = '1'; // read when the thread pool starts
const TORCH_THREADS = CPU_TIME ? 1 : Number(arg('torch-threads', 2));
// TensorFlow.js runs at a few GFLOP/s at best; above this many GFLOP per call a median of five takes
// many minutes, so those rows are left out for it (and marked so in RESULTS.md).
const TFJS_MAX_GFLOP = Number(arg('tfjs-max-gflop', 2));

const ms = await import(join(root, arg('dist', 'dist'), 'src', 'index.js'));
if (!ms.availableBackends().includes('cpu')) {
  console.error('bench: the native cpu backend is not built (run npm install); nothing to measure');
  process.exit(1);
}

// ---------------------------------------------------------------- workloads

const W = [];
for (const n of [128, 256, 512, 1024, 2048]) W.push({ name: `sgemm ${n}`, kind: 'sgemm', m: n, k: n, n, flops: 2 * n ** 3 });
W.push({ name: 'sgemm M=4096 K=512 N=2048', kind: 'sgemm', m: 4096, k: 512, n: 2048, flops: 2 * 4096 * 512 * 2048 });
for (const [c, h] of [[16, 32], [32, 16], [64, 8]]) {
  const flops = 2 * 128 * c * h * h * c * 9;
  W.push({ name: `conv2d 3x3 ${c}ch ${h}x${h} b128 fwd`, kind: 'conv', n: 128, c, h, flops });
  W.push({ name: `conv2d 3x3 ${c}ch ${h}x${h} b128 fwd+bwd`, kind: 'convBackward', n: 128, c, h, flops: 3 * flops });
}
W.push({ name: 'add 16M + 16M', kind: 'add', size: 16 * 1024 * 1024, bytes: 3 * 4 * 16 * 1024 * 1024 });
W.push({ name: 'softmax 4096x4096 fwd', kind: 'softmax', rows: 4096, cols: 4096, bytes: 2 * 4 * 4096 * 4096 });
W.push({ name: 'softmax 4096x4096 fwd+bwd', kind: 'softmaxBackward', rows: 4096, cols: 4096, bytes: 5 * 4 * 4096 * 4096 });
const workloads = W.filter((w) => w.name.includes(ONLY));

// ---------------------------------------------------------------- milestones

function msBuild(w) {
  const opts = { device: 'cpu' };
  ms.manualSeed(0);
  if (w.kind === 'sgemm') {
    const a = ms.rand([w.m, w.k], opts);
    const b = ms.rand([w.k, w.n], opts);
    return () => a.matmul(b);
  }
  if (w.kind === 'conv' || w.kind === 'convBackward') {
    const x = ms.randn([w.n, w.c, w.h, w.h], opts);
    const wt = ms.randn([w.c, w.c, 3, 3], opts);
    if (w.kind === 'conv') return () => ms.noGrad(() => ms.nn.functional.conv2d(x, wt, null, { padding: 1 }));
    x.requiresGrad = true;
    wt.requiresGrad = true;
    const gy = ms.randn([w.n, w.c, w.h, w.h], opts);
    return () => ms.grad([ms.nn.functional.conv2d(x, wt, null, { padding: 1 })], [x, wt], { gradOutputs: [gy] });
  }
  if (w.kind === 'add') {
    const a = ms.rand([w.size], opts);
    const b = ms.rand([w.size], opts);
    return () => a.add(b);
  }
  const x = ms.randn([w.rows, w.cols], opts);
  if (w.kind === 'softmax') return () => ms.noGrad(() => x.softmax(-1));
  x.requiresGrad = true;
  const gy = ms.randn([w.rows, w.cols], opts);
  return () => ms.grad([x.softmax(-1)], [x], { gradOutputs: [gy] });
}

// ---------------------------------------------------------------- PyTorch (a worker process)

/**
 * A worker process that answers one JSON line per JSON command line: PyTorch (bench/torch_worker.py)
 * and each TensorFlow.js backend (bench/tfjs_worker.mjs) run apart from milestones and each other.
 */
function startWorker(command, args) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (l) => waiting.shift()(JSON.parse(l)));
  const ask = (cmd) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      child.stdin.write(JSON.stringify(cmd) + '\n');
    });
  return { ask, close: () => child.stdin.end() };
}

const startTorch = () => startWorker('/usr/bin/python3', [join(here, 'torch_worker.py'), String(TORCH_THREADS)]);
const startTfjs = (backend) => startWorker(process.execPath, [join(here, 'tfjs_worker.mjs'), backend]);

// ---------------------------------------------------------------- timing

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const frameworks = ['milestones', 'pytorch', 'tfjs-wasm', 'tfjs-cpu'].filter(
    (f) => !flag(`no-${f}`) && !(CPU_TIME && f.startsWith('tfjs')),
  );
  const torch = frameworks.includes('pytorch') ? startTorch() : null;
  const tfjs = Object.fromEntries(['wasm', 'cpu'].filter((b) => frameworks.includes(`tfjs-${b}`)).map((b) => [b, startTfjs(b)]));
  const results = [];
  for (const [wi, w] of workloads.entries()) {
    const runners = {};
    if (frameworks.includes('milestones')) {
      const f = msBuild(w);
      runners.milestones = async (reps) => timeJs(f, reps, CPU_TIME);
    }
    if (torch) {
      await torch.ask({ op: 'setup', id: wi, workload: w });
      runners.pytorch = async (reps) => (await torch.ask({ op: 'run', id: wi, reps, cpu: CPU_TIME })).seconds;
    }
    for (const [backend, worker] of Object.entries(tfjs)) {
      if ((w.flops ?? 0) > TFJS_MAX_GFLOP * 1e9) continue;
      await worker.ask({ op: 'setup', id: wi, workload: w });
      runners[`tfjs-${backend}`] = async (reps) => {
        const a = await worker.ask({ op: 'run', id: wi, reps, cpu: CPU_TIME });
        if (a.error) throw new Error(a.error);
        return a.seconds;
      };
    }
    // Warm-up, which also sets each framework's repetitions per sample. A framework that cannot run
    // the workload (tfjs-backend-wasm has no Conv2DBackpropFilter kernel) is reported as such.
    const reps = {};
    const runs = {};
    const failed = {};
    for (const [name, run] of Object.entries(runners)) {
      try {
        let t = await run(1);
        reps[name] = Math.max(1, Math.ceil(MIN_SAMPLE_S / t));
        runs[name] = t > SLOW_S ? Math.min(SLOW_RUNS, RUNS) : RUNS;
        if (t > SLOW_S) continue;
        const w0 = performance.now();
        for (let i = 1; i < WARMUP || performance.now() - w0 < WARMUP_S * 1000; i++) {
          t = await run(reps[name]);
          // From the warm time: the first call (compiling, first allocations) can be many times
          // slower, and repetitions set from it alone left fast workloads' samples far under
          // MIN_SAMPLE_S (sgemm 128: 10 calls, under 1 ms), timing mostly waking the threads.
          reps[name] = Math.max(1, Math.ceil(MIN_SAMPLE_S / t));
        }
      } catch (e) {
        failed[name] = e.message.split('\n')[0];
        delete runners[name];
        console.log(`${w.name}: ${name} cannot run it: ${failed[name]}`);
      }
    }
    const samples = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const [name, run] of Object.entries(runners)) if (r < runs[name]) samples[name].push(await run(reps[name]));
    }
    const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    results.push({ workload: w, median: med, samples, failed });
    const line = Object.entries(med)
      .map(([k, v]) => `${k} ${(v * 1e3).toFixed(2)} ms`)
      .join(', ');
    console.log(`${w.name}: ${line}`);
  }
  torch?.close();
  for (const worker of Object.values(tfjs)) worker.close();
  return { results, torchInfo: torch ? null : null, frameworks };
}

function versions() {
  const pkg = (p) => JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')).version;
  const torchInfo = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import torch; print(torch.__version__); print(torch.__config__.parallel_info().splitlines()[0])'],
    { encoding: 'utf8' },
  ).stdout.trim();
  let blas = 'unknown';
  for (const link of ['/etc/alternatives/libblas.so.3-x86_64-linux-gnu', '/etc/alternatives/libblas.so.3']) {
    if (existsSync(link)) blas = readlinkSync(link);
  }
  return {
    node: process.version,
    milestones: ms.VERSION,
    cpu: ms.describeBackend('cpu'),
    torch: torchInfo.split('\n')[0],
    blas,
    tfjs: pkg('@tensorflow/tfjs'),
    tfjsWasm: pkg('@tensorflow/tfjs-backend-wasm'),
  };
}

function machine() {
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' }).stdout ?? '';
  const field = (k) => (lscpu.match(new RegExp(`^${k}:\\s*(.*)$`, 'm')) ?? [])[1] ?? '?';
  const flags = field('Flags');
  const isa = ['avx2', 'fma', 'avx512f'].filter((f) => flags.split(' ').includes(f)).join(', ');
  return `${field('Model name')}, ${cpus().length} logical CPUs (${isa}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, L2 ${field('L2 cache')}`;
}

function rate(w, seconds) {
  return w.flops ? `${(w.flops / seconds / 1e9).toFixed(1)} GFLOP/s` : `${(w.bytes / seconds / 1e9).toFixed(1)} GB/s`;
}

const { results, frameworks } = await main();
const v = versions();
const rows = results.map(({ workload: w, median: m, samples, failed }) => {
  const few = (k) => (samples[k] && samples[k].length < RUNS ? ` (median of ${samples[k].length})` : '');
  const cell = (k) => (failed[k] ? 'cannot run it¹' : m[k] === undefined ? '—' : `${(m[k] * 1e3).toFixed(2)} ms${few(k)}`);
  const ratio = (k) => (m[k] === undefined || m.milestones === undefined ? '—' : `${(m[k] / m.milestones).toFixed(2)}×`);
  return `| ${w.name} | ${cell('milestones')} (${rate(w, m.milestones)}) | ${cell('pytorch')}${m.pytorch ? ` (${rate(w, m.pytorch)})` : ''} | ${ratio('pytorch')} | ${cell('tfjs-wasm')} | ${ratio('tfjs-wasm')} | ${cell('tfjs-cpu')} | ${ratio('tfjs-cpu')} |`;
});
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const md = `# Benchmarks

Written by \`npm run bench\` (bench/bench.mjs) on ${new Date().toISOString().slice(0, 10)}${CPU_TIME ? ', with --cpu-time (one thread each, process CPU time)' : ''}. Medians of ${RUNS} interleaved
rounds after ${WARMUP} warm-up rounds (and at least ${WARMUP_S} s of warm-up per framework and workload); one sample repeats a workload until it lasts at least ${MIN_SAMPLE_S * 1e3} ms.
**Speed ratio** = the other framework's median time / milestones' median time, so above 1× means milestones is
faster. Load average at the end of the run: ${load}.

- machine: ${machine()}
- milestones ${v.milestones}, cpu backend: ${v.cpu}; Node ${v.node}
- PyTorch ${v.torch} (Debian python3-torch), ${TORCH_THREADS} threads (\`torch.set_num_threads\`), BLAS: ${v.blas}
- TensorFlow.js ${v.tfjs} (\`cpu\` backend) and tfjs-backend-wasm ${v.tfjsWasm}
- frameworks measured: ${frameworks.join(', ')}; TensorFlow.js only on workloads of at most ${TFJS_MAX_GFLOP} GFLOP
  per call (— in its columns above that: one sample would take minutes); a framework whose one call takes over
  ${SLOW_S} s gets no warm-up beyond its first call and ${SLOW_RUNS} samples${SLOW_RUNS < RUNS ? ' (marked "median of N")' : ''}

| workload | milestones | PyTorch | speed vs PyTorch | tfjs-wasm | speed vs tfjs-wasm | tfjs-cpu | speed vs tfjs-cpu |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
${results.some((r) => Object.keys(r.failed).length) ? `\n¹ ${[...new Set(results.flatMap((r) => Object.entries(r.failed).map(([k, v]) => `${k}: ${v}`)))].join('; ')}\n` : ''}`;
const notesFile = join(here, 'NOTES.md');
const notes = existsSync(notesFile) ? `\n${readFileSync(notesFile, 'utf8')}` : '';
if (!flag('no-write')) {
  writeFileSync(join(here, 'RESULTS.md'), md + notes);
  console.log('wrote bench/RESULTS.md');
} else {
  console.log(md);
}
