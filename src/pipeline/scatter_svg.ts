// A scatter plot as inline SVG (no scripts, no namespace URL: the report is
// read offline), one colour per group with a legend, each point titled with
// its label — for gFID against rFID and against pFID (claim 2), one point per
// tokenizer and seed.
import { escape } from '../eval/report.js';

export interface ScatterPoint {
  x: number;
  y: number;
  group: string;
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
  const m = { left: 60, right: 130, top: 28, bottom: 44 };
  const [x0, x1] = range(finite.map((p) => p.x));
  const [y0, y1] = range(finite.map((p) => p.y));
  const x = (v: number) => m.left + ((v - x0) / (x1 - x0)) * (width - m.left - m.right);
  const y = (v: number) => height - m.bottom - ((v - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const colour = (g: string) => PALETTE[groups.indexOf(g) % PALETTE.length]!;
  const ticks = [0.1, 0.5, 0.9];
  const xTicks = ticks.map((f) => x0 + f * (x1 - x0)).map((v) => `<text x="${x(v).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${tick(v)}</text>`).join('');
  const yTicks = ticks.map((f) => y0 + f * (y1 - y0)).map((v) => `<text x="${m.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${tick(v)}</text>`).join('');
  const dots = finite.map((p) => `<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="4.5" fill="${colour(p.group)}" fill-opacity="0.85">` +
    `<title>${escape(p.label)}: ${escape(o.xLabel)} ${tick(p.x)}, ${escape(o.yLabel)} ${tick(p.y)}</title></circle>`).join('');
  const legend = groups.map((g, i) => `<circle cx="${width - m.right + 16}" cy="${m.top + 8 + i * 18}" r="5" fill="${colour(g)}"/>` +
    `<text x="${width - m.right + 26}" y="${m.top + 12 + i * 18}">${escape(g)}</text>`).join('');
  return `<svg width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${escape(o.title)}">
<text x="${m.left}" y="16" font-weight="bold">${escape(o.title)}</text>
<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="#444"/>
<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="#444"/>
${xTicks}${yTicks}
<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">${escape(o.xLabel)}</text>
<text transform="translate(14,${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(o.yLabel)}</text>
${dots}${legend}
</svg>`;
}
