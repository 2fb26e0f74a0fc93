/**
 * A run directory, `runs/<paper>/<time>/`: the resolved config.json, metrics.jsonl (one JSON
 * object per line, appended as the run goes), results.json (ours beside the paper's numbers),
 * checkpoints, samples/ and report.html.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeReport, type ResultRow } from '../report/report.js';
import type { Config } from './config.js';

export interface RunInfo {
  paper: string;
  preset: string;
  device: string;
  dataDir: string | null;
  startedAt: string;
  version: string;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export class Run<C extends Config = Config> {
  /** Set by the CLI's Ctrl-C handler; a training loop checkpoints and returns when it sees it. */
  stopRequested = false;
  private lastPoll = Date.now();

  private constructor(
    readonly dir: string,
    readonly info: RunInfo,
    readonly config: C,
  ) {}

  /** Makes a fresh run directory under `root` and writes config.json. */
  static create<C extends Config>(root: string, info: Omit<RunInfo, 'startedAt'>, config: C): Run<C> {
    const now = new Date();
    let dir = resolve(root, info.paper, stamp(now));
    for (let k = 1; existsSync(dir); k++) dir = resolve(root, info.paper, `${stamp(now)}-${k}`);
    mkdirSync(join(dir, 'samples'), { recursive: true });
    const full: RunInfo = { ...info, startedAt: now.toISOString() };
    writeJsonAtomic(join(dir, 'config.json'), { ...full, config });
    return new Run(dir, full, config);
  }

  /** Reopens an existing run directory (to resume it or to rebuild its report). */
  static open<C extends Config = Config>(dir: string): Run<C> {
    const path = join(dir, 'config.json');
    if (!existsSync(path)) throw new Error(`${dir} is not a run directory (no config.json)`);
    const saved = JSON.parse(readFileSync(path, 'utf8')) as RunInfo & { config: C };
    const { config, ...info } = saved;
    mkdirSync(join(dir, 'samples'), { recursive: true });
    return new Run(resolve(dir), info, config);
  }

  /**
   * Lets a Ctrl-C be noticed: a synchronous training loop never gives the event loop a turn, so
   * the signal handler could not run. Awaiting this once a step yields at most every 100 ms
   * (cheap) and returns whether a stop was requested.
   */
  async poll(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastPoll >= 100) {
      this.lastPoll = now;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return this.stopRequested;
  }

  get samplesDir(): string {
    return join(this.dir, 'samples');
  }

  /** Where the latest checkpoint lives (written atomically by the checkpoint module). */
  get checkpointPath(): string {
    return join(this.dir, 'checkpoint.safetensors');
  }

  /** Appends one record to metrics.jsonl. */
  log(step: number, split: string, metrics: Record<string, number>): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), `${JSON.stringify({ step, split, time: Date.now() / 1000, ...metrics })}\n`);
  }

  /**
   * Drops metric records after `step`: a resumed run repeats the steps after its last checkpoint,
   * and their records must not appear twice.
   */
  truncateMetrics(step: number): void {
    const path = join(this.dir, 'metrics.jsonl');
    if (!existsSync(path)) return;
    const kept = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          return (JSON.parse(line) as { step: number }).step <= step;
        } catch {
          return false;
        }
      });
    writeFileSync(`${path}.tmp`, kept.map((l) => `${l}\n`).join(''));
    renameSync(`${path}.tmp`, path);
  }

  /** Records the results table (ours beside the paper's). */
  setResults(rows: ResultRow[]): void {
    writeJsonAtomic(join(this.dir, 'results.json'), rows);
  }

  /** Writes report.html and returns its path. */
  report(title?: string): string {
    return writeReport(this.dir, title);
  }
}
