/**
 * Does the data pipeline keep up? (issue 5, point 1.) A CIFAR-style pipeline — binary CIFAR-10
 * batches, random crop with 4 pixels of padding, horizontal flip, normalisation, collation into
 * batches of 128 — runs in DataLoader worker threads, and its throughput is compared with that of
 * the ResNet-20 train step it would feed, measured in the same process. The target: batches arrive
 * at least 5x faster than the step consumes them.
 *
 * The CIFAR files are generated (random pixels in the real binary layout): decoding cost is what
 * matters here, not the pictures. Usage: node dist/bench/data-pipeline.js [--workers N] [--batches N]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { data, getDefaultDevice, parseArgs, type Tensor } from '../src/index.js';
import { buildResNetStep } from './resnet20.js';

const T = data.transforms;

/** The CIFAR-10 training augmentation of He et al. (2015), Sec. 4.2; workers import it by name. */
export function cifarTrainTransform(): data.transforms.Transform {
  return T.compose([
    T.randomCrop(32, { padding: 4 }),
    T.randomHorizontalFlip(),
    T.normalize([0.4914, 0.4822, 0.4465], [0.247, 0.2435, 0.2616]),
  ]);
}

function writeCifar(root: string, perFile: number): void {
  const dir = join(root, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  const record = 3073;
  for (const name of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5']) {
    const bytes = new Uint8Array(perFile * record);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (let r = 0; r < perFile; r++) bytes[r * record] = r % 10;
    writeFileSync(join(dir, `${name}.bin`), bytes);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const { flags } = parseArgs(process.argv.slice(2));
  const workers = Number(flags['workers'] ?? 2);
  const batches = Number(flags['batches'] ?? 40);
  const root = mkdtempSync(join(tmpdir(), 'ms-bench-cifar-'));
  try {
    writeCifar(root, 2000);
    const transformRecipe = { module: import.meta.url, factory: 'cifarTrainTransform' };
    const dataset = new data.CIFAR({ root, train: true, transform: cifarTrainTransform(), transformRecipe });
    const loader = new data.DataLoader(dataset, { batchSize: 128, shuffle: true, numWorkers: workers, dropLast: true });

    // Pipeline: batches per second once the workers are warm.
    let seen = 0;
    let start = 0;
    for await (const batch of loader) {
      const [x] = batch as [Tensor, Tensor];
      if (x.shape[0] !== 128) throw new Error('unexpected batch shape');
      seen++;
      if (seen === 3) start = performance.now();
      if (seen === batches + 3) break;
    }
    const loaded = Math.min(seen, batches + 3) - 3;
    const pipelineRate = (loaded * 128) / ((performance.now() - start) / 1000);
    await loader.close();

    // The ResNet-20 step it feeds, on the same machine, now.
    const step = buildResNetStep();
    step();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      step();
      times.push((performance.now() - t0) / 1000);
    }
    const stepRate = 128 / median(times);
    const ratio = pipelineRate / stepRate;
    console.log(`device ${getDefaultDevice()}, ${workers} DataLoader workers, batch 128`);
    console.log(`CIFAR-style pipeline: ${pipelineRate.toFixed(0)} images/s (${loaded} batches)`);
    console.log(`ResNet-20 train step: ${stepRate.toFixed(0)} images/s (median of 5)`);
    console.log(`pipeline / step: ${ratio.toFixed(1)}x (target >= 5x) ${ratio >= 5 ? 'MET' : 'MISSED'}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Worker threads import this module for the transform; only the main thread runs the benchmark.
if (isMainThread && import.meta.url === `file://${process.argv[1]}`) await main();
