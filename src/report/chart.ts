/**
 * Line charts as inline SVG: no script and no network, so a report opens anywhere, offline.
 */

export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `n` round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
}

/**
 * One chart: every series on shared axes; a log y-axis when all values are positive and span more
 * than two decades (losses), linear otherwise.
 */
export function lineChart(title: string, series: Series[], width = 520, height = 300): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p>no finite values</p></figure>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const logY = y0 > 0 && y1 / y0 > 100;
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const m = { left: 60, right: 12, top: 28, bottom: 36 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const fy = (y: number) => (logY ? Math.log10(y) : y);
  const [ly0, ly1] = [fy(y0), fy(y1)];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + ph - ((fy(y) - ly0) / (ly1 - ly0)) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#ccc"/>`);
  for (const t of ticks(x0, x1)) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle" class="tick">${label(t)}</text>`);
  }
  const yTicks = logY
    ? Array.from({ length: Math.floor(ly1) - Math.ceil(ly0) + 1 }, (_, i) => 10 ** (Math.ceil(ly0) + i))
    : ticks(y0, y1);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${label(t)}</text>`);
  }
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    if (pts.length === 0) return;
    const color = COLORS[i % COLORS.length]!;
    const d = pts.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    if (pts.length === 1) parts.push(`<circle cx="${sx(pts[0]![0]).toFixed(1)}" cy="${sy(pts[0]![1]).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(`<text x="${m.left + 8 + i * 110}" y="${m.top - 10}" fill="${color}" class="legend">${esc(s.name)}</text>`);
  });
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 4}" text-anchor="middle" class="axis">step</text>`);
  return (
    `<figure class="chart"><figcaption>${esc(title)}${logY ? ' (log scale)' : ''}</figcaption>` +
    `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg></figure>`
  );
}
