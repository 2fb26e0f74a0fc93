// TensorFlow.js side of `npm run bench`, one backend per process (argv[2]: 'cpu' or 'wasm'): builds
// each workload on request and times it. Reads one JSON command per line on stdin and answers one
// JSON line on stdout, as bench/torch_worker.py does for PyTorch.
//
// TensorFlow.js runs in its own process so that its memory and garbage cannot slow the other
// frameworks' samples: in the same process as milestones, its 40-second conv gradients made our
// conv forward + backward 2.4x slower on the samples that followed (bench/RESULTS.md).
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { timeJs } from './time-js.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const backend = process.argv[2];
const tf = await import('@tensorflow/tfjs');
if (backend === 'wasm') {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + '/');
  wasm.setThreadsCount?.(2);
}
await tf.setBackend(backend);
await tf.ready();

function build(w) {
  if (w.kind === 'sgemm') {
    const a = tf.randomUniform([w.m, w.k]);
    const b = tf.randomUniform([w.k, w.n]);
    return () => tf.tidy(() => tf.matMul(a, b).dataSync());
  }
  if (w.kind === 'conv' || w.kind === 'convBackward') {
    // TensorFlow.js convolves NHWC tensors with HWIO filters.
    const x = tf.randomNormal([w.n, w.h, w.h, w.c]);
    const f = tf.randomNormal([3, 3, w.c, w.c]);
    if (w.kind === 'conv') return () => tf.tidy(() => tf.conv2d(x, f, 1, 'same').dataSync());
    const gy = tf.randomNormal([w.n, w.h, w.h, w.c]);
    const g = tf.grads((xx, ff) => tf.conv2d(xx, ff, 1, 'same'));
    return () => tf.tidy(() => g([x, f], gy).map((t) => t.dataSync()));
  }
  if (w.kind === 'add') {
    const a = tf.randomUniform([w.size]);
    const b = tf.randomUniform([w.size]);
    return () => tf.tidy(() => tf.add(a, b).dataSync());
  }
  const x = tf.randomNormal([w.rows, w.cols]);
  if (w.kind === 'softmax') return () => tf.tidy(() => tf.softmax(x).dataSync());
  const gy = tf.randomNormal([w.rows, w.cols]);
  const g = tf.grad((xx) => tf.softmax(xx));
  return () => tf.tidy(() => g(x, gy).dataSync());
}

const work = new Map();
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  let answer;
  try {
    if (cmd.op === 'setup') {
      try {
        work.set(cmd.id, build(cmd.workload));
      } catch (e) {
        work.set(cmd.id, () => {
          throw e; // reported when the workload is first run
        });
      }
      answer = { ok: true };
    } else {
      answer = { seconds: timeJs(work.get(cmd.id), cmd.reps, cmd.cpu) };
    }
  } catch (e) {
    answer = { error: String(e.message ?? e).split('\n')[0] };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
