/**
 * Nothing is lost (DESIGN.md, invariant 8): a run killed with SIGKILL in the middle and resumed
 * with `milestones resume` ends with exactly the weights of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, data } from '../src/index.js';

const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const mnist = data.locateDataset('mnist', ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz']);
const args = ['run', 'mlp-mnist', '--preset', 'tiny', '--epochs', '3', '--checkpointEvery', '8'];

function runDir(root: string): string {
  const base = join(root, 'mlp-mnist');
  const [dir] = readdirSync(base);
  return join(base, dir!);
}

test('a run killed with SIGKILL and resumed matches an uninterrupted run bit for bit', { skip: mnist.missing.length ? `MNIST not found in ${mnist.dir}` : false }, async () => {
  const env = { ...process.env, CI: 'true' };
  const straight = mkdtempSync(join(tmpdir(), 'ms-straight-'));
  const r = spawnSync(process.execPath, [cli, ...args, '--runs-dir', straight], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);

  const killed = mkdtempSync(join(tmpdir(), 'ms-killed-'));
  const child = spawn(process.execPath, [cli, ...args, '--runs-dir', killed], { env, stdio: 'ignore' });
  // Kill once a checkpoint from the second epoch is on disk (epochs are 32 steps): resuming must
  // then restore the shuffle order of an epoch other than the first, mid-epoch.
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      const base = join(killed, 'mlp-mnist');
      const path = existsSync(base) && readdirSync(base).length ? join(runDir(killed), 'checkpoint.safetensors') : '';
      if (path && existsSync(path) && io.loadCheckpoint(path).step > 32) {
        clearInterval(poll);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
    child.on('exit', (code) => {
      clearInterval(poll);
      if (code === 0) reject(new Error('the run finished before it could be killed'));
    });
  });
  await new Promise((resolve) => child.on('exit', resolve));
  const dir = runDir(killed);
  const before = io.loadCheckpoint(join(dir, 'checkpoint.safetensors'));
  assert.ok(before.step > 32 && before.step < 96, `killed at step ${before.step} of 96`);
  const resumed = spawnSync(process.execPath, [cli, 'resume', dir], { env, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout + resumed.stderr, /resumed from step \d+/);

  const a = io.loadCheckpoint(join(runDir(straight), 'checkpoint.safetensors'));
  const b = io.loadCheckpoint(join(dir, 'checkpoint.safetensors'));
  assert.equal(b.step, a.step);
  for (const [name, t] of Object.entries(a.model)) {
    assert.deepEqual(Array.from(b.model[name]!.dataSync()), Array.from(t.dataSync()), `${name} differs after resume`);
  }
  assert.ok(existsSync(join(dir, 'report.html')));
});

test('Ctrl-C checkpoints and exits cleanly, and the run resumes to the end', { skip: mnist.missing.length ? `MNIST not found in ${mnist.dir}` : false }, async () => {
  const env = { ...process.env, CI: 'true' };
  const root = mkdtempSync(join(tmpdir(), 'ms-sigint-'));
  // Ten epochs (320 steps): time enough for the signal to land mid-run on a fast machine.
  const longer = ['run', 'mlp-mnist', '--preset', 'tiny', '--epochs', '10', '--checkpointEvery', '8'];
  const child = spawn(process.execPath, [cli, ...longer, '--runs-dir', root], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const interrupted = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const base = join(root, 'mlp-mnist');
      if (existsSync(base) && readdirSync(base).length && existsSync(join(runDir(root), 'checkpoint.safetensors'))) {
        clearInterval(poll);
        child.kill('SIGINT');
        resolve();
      }
    }, 5);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  await interrupted;
  assert.equal(code, 0, output);
  assert.match(output, /stopping after this step/);
  assert.match(output, /stopped; resume with: milestones resume /);
  const dir = runDir(root);
  const stopped = io.loadCheckpoint(join(dir, 'checkpoint.safetensors'));
  assert.ok(stopped.step < 320, `stopped at step ${stopped.step}`);
  assert.ok(existsSync(join(dir, 'report.html')), 'the report is written on the way out');
  const resumed = spawnSync(process.execPath, [cli, 'resume', dir], { env, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(io.loadCheckpoint(join(dir, 'checkpoint.safetensors')).step, 320);
});
