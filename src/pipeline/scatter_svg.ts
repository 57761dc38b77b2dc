// A scatter plot as inline SVG (no scripts, no namespace URL: the report is
// read offline), one colour per group and one marker shape per series, with
// a legend, each point titled with its label — for gFID against rFID and
// against pFID (claim 2): colour = tokenizer, shape = seed.
import { escape } from '../eval/index.js';

export interface ScatterPoint {
  x: number;
  y: number;
  /** Colour. */
  group: string;
  /** Marker shape (e.g. the seed). */
  series: string;
  label: string;
}

export interface ScatterOptions {
  xLabel: string;
  yLabel: string;
  title: string;
  width?: number;
  height?: number;
}

/** Ten colours that stay apart for the usual forms of colour blindness (Tableau 10). */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Marker `k` (circle, square, triangle, diamond, then again) centred at (x, y), filled with `fill`; `inner` goes inside the element. */
function marker(k: number, x: number, y: number, fill: string, inner = ''): string {
  const r = 4.5;
  const at = (points: [number, number][]) => points.map(([dx, dy]) => `${(x + dx * r).toFixed(1)},${(y + dy * r).toFixed(1)}`).join(' ');
  const attrs = `fill="${fill}" fill-opacity="0.85"`;
  switch (k % 4) {
    case 0: return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" ${attrs}>${inner}</circle>`;
    case 1: return `<rect x="${(x - r * 0.9).toFixed(1)}" y="${(y - r * 0.9).toFixed(1)}" width="${(1.8 * r).toFixed(1)}" height="${(1.8 * r).toFixed(1)}" ${attrs}>${inner}</rect>`;
    case 2: return `<polygon points="${at([[0, -1.2], [1.1, 0.8], [-1.1, 0.8]])}" ${attrs}>${inner}</polygon>`;
    default: return `<polygon points="${at([[0, -1.2], [1.1, 0], [0, 1.2], [-1.1, 0]])}" ${attrs}>${inner}</polygon>`;
  }
}

const tick = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3));

/** [lo, hi] of `values` padded by 8% (1 when they are all equal). */
function range(values: number[]): [number, number] {
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const pad = (hi - lo) * 0.08 || 1;
  return [lo - pad, hi + pad];
}

export function scatterSvg(points: readonly ScatterPoint[], o: ScatterOptions): string {
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (finite.length === 0) return `<p>${escape(o.title)}: no points to plot.</p>`;
  const width = o.width ?? 480;
  const height = o.height ?? 340;
  const groups = [...new Set(finite.map((p) => p.group))];
  const series = [...new Set(finite.map((p) => p.series))];
  const m = { left: 60, right: 130, top: 28, bottom: 44 };
  const [x0, x1] = range(finite.map((p) => p.x));
  const [y0, y1] = range(finite.map((p) => p.y));
  const x = (v: number) => m.left + ((v - x0) / (x1 - x0)) * (width - m.left - m.right);
  const y = (v: number) => height - m.bottom - ((v - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const colour = (g: string) => PALETTE[groups.indexOf(g) % PALETTE.length]!;
  const ticks = [0.1, 0.5, 0.9];
  const xTicks = ticks.map((f) => x0 + f * (x1 - x0)).map((v) => `<text x="${x(v).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${tick(v)}</text>`).join('');
  const yTicks = ticks.map((f) => y0 + f * (y1 - y0)).map((v) => `<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${tick(v)}</text>`).join('');
  const dots = finite.map((p) => marker(series.indexOf(p.series), x(p.x), y(p.y), colour(p.group),
    `<title>${escape(p.label)}: ${escape(o.xLabel)} ${tick(p.x)}, ${escape(o.yLabel)} ${tick(p.y)}</title>`)).join('');
  const row = (i: number) => m.top + 8 + i * 18;
  const legend = [
    ...groups.map((g, i) => `${marker(0, width - m.right + 16, row(i), colour(g))}<text x="${width - m.right + 26}" y="${row(i) + 4}">${escape(g)}</text>`),
    ...series.map((sr, i) => `${marker(i, width - m.right + 16, row(groups.length + 1 + i), '#666')}<text x="${width - m.right + 26}" y="${row(groups.length + 1 + i) + 4}">${escape(sr)}</text>`),
  ].join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escape(o.title)}">
<text x="${m.left}" y="16" font-weight="bold">${escape(o.title)}</text>
<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#444"/>
<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#444"/>
${xTicks}${yTicks}
<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${escape(o.xLabel)}</text>
<text transform="translate(14,${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}</text>
${dots}${legend}
</svg>`;
}
