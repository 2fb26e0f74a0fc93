/**
 * Progress of a long run: a redrawn bar with step, metrics, throughput and ETA on a terminal, and
 * plain log lines elsewhere (CI, files), at most one every `intervalMs`.
 */

export interface ProgressOptions {
  total: number;
  /** What a step counts, for the throughput ("img/s", "steps/s"). */
  unit?: string;
  /** How many units one step is (e.g. the batch size). */
  unitsPerStep?: number;
  stream?: NodeJS.WriteStream;
  intervalMs?: number;
  label?: string;
}

function fmtTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

function fmtMetric(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

export class Progress {
  private readonly start = Date.now();
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  private last = 0;
  private startStep = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env['CI'];
  }

  /** Steps completed before this process started (a resumed run), so rates count only new work. */
  resumeFrom(step: number): void {
    this.startStep = step;
  }

  update(step: number, metrics: Record<string, number> = {}, force = false): void {
    const now = Date.now();
    const interval = this.options.intervalMs ?? (this.tty ? 100 : 10000);
    if (!force && now - this.last < interval && step < this.options.total) return;
    this.last = now;
    const elapsed = (now - this.start) / 1000;
    const done = step - this.startStep;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.options.total - step) / rate : Infinity;
    const units = rate * (this.options.unitsPerStep ?? 1);
    const parts = Object.entries(metrics).map(([k, v]) => `${k} ${fmtMetric(v)}`);
    const speed = `${units >= 100 ? units.toFixed(0) : units.toFixed(2)} ${this.options.unit ?? 'steps/s'}`;
    const label = this.options.label ? `${this.options.label} ` : '';
    if (this.tty) {
      const frac = Math.min(1, step / this.options.total);
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[K${label}${bar} ${step}/${this.options.total} ${parts.join(' ')} | ${speed} | eta ${fmtTime(eta)}`);
    } else {
      this.stream.write(`${label}step ${step}/${this.options.total} ${parts.join(' ')} | ${speed} | elapsed ${fmtTime(elapsed)} eta ${fmtTime(eta)}\n`);
    }
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}
