import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { Run, resolveConfig, parseArgs, readMetrics, type ConfigSpec } from '../src/run/index.js';

const spec: ConfigSpec<{ lr: number; epochs: number; name: string; dropout: boolean; sizes: number[] }> = {
  presets: {
    tiny: { lr: 0.1, epochs: 1, name: 'a', dropout: false, sizes: [8, 4] },
    paper: { lr: 0.01, epochs: 100, name: 'a', dropout: true, sizes: [1024, 1024] },
  },
  defaultPreset: 'tiny',
  docs: { lr: 'learning rate', epochs: 'passes over the data', name: 'a name', dropout: 'use dropout', sizes: 'hidden sizes' },
  choices: { name: ['a', 'b'] },
};

test('configs resolve presets and typed overrides, and refuse unknown keys and bad values', () => {
  const c = resolveConfig(spec, 'paper', { lr: '0.5', dropout: 'false', sizes: '3,5' });
  assert.deepEqual(c, { lr: 0.5, epochs: 100, name: 'a', dropout: false, sizes: [3, 5] });
  assert.throws(() => resolveConfig(spec, undefined, { lrr: '1' }), /unknown key 'lrr'. Valid keys:\n {2}--lr {2}learning rate/);
  assert.throws(() => resolveConfig(spec, undefined, { lr: 'fast' }), /--lr=fast is not a valid value \(expected a number\)/);
  assert.throws(() => resolveConfig(spec, undefined, { name: 'c' }), /expected a string: one of a, b/);
  assert.throws(() => resolveConfig(spec, 'huge', {}), /unknown preset 'huge' \(presets: tiny, paper\)/);
  assert.deepEqual(parseArgs(['run', 'x', '--lr=1', '--epochs', '3', '--flag']), {
    flags: { lr: '1', epochs: '3', flag: '' },
    positionals: ['run', 'x'],
  });
});

function chromium(): string | null {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(p)) return p;
  return null;
}

test('a run directory holds config, metrics and a self-contained report whose charts draw in Chromium', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ms-runs-'));
  const run = Run.create(root, { paper: 'demo', preset: 'tiny', device: 'reference', dataDir: null, version: 'test' }, { lr: 0.1 });
  for (let s = 1; s <= 50; s++) run.log(s, 'train', { loss: 5 * Math.exp(-s / 8) + 0.001, accuracy: 1 - Math.exp(-s / 15) });
  for (let s = 10; s <= 50; s += 10) run.log(s, 'eval', { loss: 2.2 * Math.exp(-s / 12) + 0.05, accuracy: 0.9 - Math.exp(-s / 15) });
  run.setResults([{ metric: 'test error (%)', paper: 1.25, ours: 1.3, note: 'demo' }]);
  const png = new PNG({ width: 8, height: 8 });
  png.data.fill(200);
  writeFileSync(join(run.samplesDir, 'grid.png'), PNG.sync.write(png));
  // A torn last line (a run killed mid-write) is skipped, not fatal.
  writeFileSync(join(run.dir, 'metrics.jsonl'), readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8') + '{"step": 51, "spl');
  assert.equal(readMetrics(run.dir).length, 55);
  run.truncateMetrics(30);
  assert.equal(readMetrics(run.dir).filter((r) => r.step > 30).length, 0);
  for (let s = 31; s <= 50; s++) run.log(s, 'train', { loss: 5 * Math.exp(-s / 8) + 0.001, accuracy: 1 - Math.exp(-s / 15) });

  const reopened = Run.open(run.dir);
  assert.deepEqual(reopened.config, { lr: 0.1 });
  const path = reopened.report('Demo');
  const html = readFileSync(path, 'utf8');
  assert.match(html, /<figcaption>loss \(log scale\)<\/figcaption>/);
  assert.match(html, /<figcaption>accuracy<\/figcaption>/);
  assert.equal((html.match(/<path class="series"/g) ?? []).length, 4, 'train and eval series for two metrics');
  assert.match(html, /<td>test error \(%\)<\/td><td>1\.25<\/td><td>1\.3<\/td>/);
  assert.match(html, /src="data:image\/png;base64,/);
  assert.doesNotMatch(html, /<script|https?:\/\//, 'self-contained: no scripts, no network');

  const browser = chromium();
  if (!browser) {
    if (process.env['CI']) assert.fail('Chromium is not installed; .ci/run installs Debian\'s chromium for this test');
    t.skip('Chromium not installed (apt-get install chromium); the report was checked as HTML only');
    return;
  }
  const artifacts = resolve('runs', 'ci-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const shot = join(artifacts, 'report-screenshot.png');
  execFileSync(browser, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'ms-chrome-'))}`,
    '--window-size=1200,1000', `--screenshot=${shot}`, `file://${path}`,
  ], { stdio: 'ignore', timeout: 60000 });
  const img = PNG.sync.read(readFileSync(shot));
  // The train series is drawn in #1f77b4 and the eval series in #d62728: find both colours.
  let blue = 0;
  let red = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
    if (Math.abs(r - 31) < 40 && Math.abs(g - 119) < 40 && Math.abs(b - 180) < 40) blue++;
    if (Math.abs(r - 214) < 40 && Math.abs(g - 39) < 40 && Math.abs(b - 40) < 40) red++;
  }
  assert.ok(blue > 200 && red > 200, `chart lines drawn (blue ${blue} px, red ${red} px); screenshot at ${shot}`);
});
