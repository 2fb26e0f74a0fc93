/**
 * report.html: one self-contained file per run, readable offline: a chart of every logged metric
 * (train and eval on shared axes), the paper's numbers beside the run's, the config, and samples.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Series } from './chart.js';

/** One line of metrics.jsonl. */
export interface MetricRecord {
  step: number;
  split: string;
  time?: number;
  [metric: string]: number | string | undefined;
}

/** A row of the results table: the paper's number beside ours. */
export interface ResultRow {
  metric: string;
  paper: string | number | null;
  ours: string | number | null;
  note?: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function readMetrics(dir: string): MetricRecord[] {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  const out: MetricRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetricRecord);
    } catch {
      // A run killed mid-write can leave a torn last line; the rest is still good.
    }
  }
  return out;
}

/** Charts, grouped by metric name, with one series per split. */
function charts(records: MetricRecord[]): string[] {
  const byMetric = new Map<string, Map<string, [number, number][]>>();
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      if (k === 'step' || k === 'split' || k === 'time' || typeof v !== 'number') continue;
      const bySplit = byMetric.get(k) ?? new Map<string, [number, number][]>();
      const pts = bySplit.get(r.split) ?? [];
      pts.push([r.step, v]);
      bySplit.set(r.split, pts);
      byMetric.set(k, bySplit);
    }
  }
  return [...byMetric.entries()].map(([metric, bySplit]) => {
    const series: Series[] = [...bySplit.entries()].map(([split, points]) => ({ name: split, points }));
    return lineChart(metric, series);
  });
}

function table(rows: ResultRow[]): string {
  if (rows.length === 0) return '<p>No results recorded yet.</p>';
  const cell = (v: string | number | null) => (v === null ? '—' : esc(typeof v === 'number' ? String(Number(v.toPrecision(6))) : v));
  return (
    '<table><thead><tr><th>metric</th><th>paper</th><th>this run</th><th>note</th></tr></thead><tbody>' +
    rows.map((r) => `<tr><td>${esc(r.metric)}</td><td>${cell(r.paper)}</td><td>${cell(r.ours)}</td><td>${esc(r.note ?? '')}</td></tr>`).join('') +
    '</tbody></table>'
  );
}

/** PNG and GIF files in samples/, inlined as data URIs so the report stays one file. */
function samples(dir: string): string {
  const sdir = join(dir, 'samples');
  if (!existsSync(sdir)) return '';
  const files = readdirSync(sdir).filter((f) => /\.(png|gif)$/i.test(f)).sort();
  if (files.length === 0) return '';
  return (
    '<h2>Samples</h2><div class="samples">' +
    files
      .map((f) => {
        const mime = f.toLowerCase().endsWith('.gif') ? 'image/gif' : 'image/png';
        const b64 = readFileSync(join(sdir, f)).toString('base64');
        return `<figure><img src="data:${mime};base64,${b64}" alt="${esc(f)}"/><figcaption>${esc(f)}</figcaption></figure>`;
      })
      .join('') +
    '</div>'
  );
}

/** Writes `<dir>/report.html` from the run directory's files; returns its path. */
export function writeReport(dir: string, title?: string): string {
  const config = existsSync(join(dir, 'config.json')) ? (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>) : {};
  const results = existsSync(join(dir, 'results.json')) ? (JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as ResultRow[]) : [];
  const records = readMetrics(dir);
  const heading = title ?? String(config['paper'] ?? 'run');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(heading)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1150px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0}figcaption{font-weight:600;margin-bottom:4px}
.tick{font-size:10px;fill:#555}.legend{font-size:12px;font-weight:600}.axis{font-size:11px;fill:#555}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}
pre{background:#f6f6f6;padding:10px;overflow:auto}.samples{display:flex;flex-wrap:wrap;gap:12px}
.samples img{image-rendering:pixelated;min-width:128px}
</style></head><body>
<h1>${esc(heading)}</h1>
<p>Run directory: <code>${esc(dir)}</code>; ${records.length} metric records.</p>
<h2>Results beside the paper</h2>
${table(results)}
<h2>Curves</h2>
<div class="charts">${charts(records).join('\n') || '<p>No metrics logged yet.</p>'}</div>
${samples(dir)}
<h2>Config</h2>
<pre>${esc(JSON.stringify(config, null, 2))}</pre>
</body></html>
`;
  const path = join(dir, 'report.html');
  writeFileSync(`${path}.tmp`, html);
  renameSync(`${path}.tmp`, path);
  return path;
}
