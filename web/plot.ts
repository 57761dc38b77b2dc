// Line plots of metrics.jsonl as inline SVG: one small chart per numeric
// field (nested fields flattened: gan.adversarial), x = step.

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attributes: Record<string, string | number>): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, String(v));
  return element;
}

/** `{ a: 1, gan: { d: 2 } }` → `{ a: 1, 'gan.d': 2 }`, numbers only. */
export function flatten(record: Record<string, unknown>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'number' && Number.isFinite(value)) out[prefix + key] = value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, flatten(value as Record<string, unknown>, `${prefix}${key}.`));
  }
  return out;
}

const shortNumber = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(3))));

/** One chart: `points` as [step, value], titled `name`, 240 × 120 px. */
export function lineChart(name: string, points: [number, number][]): SVGElement {
  const [W, H, left, bottom, top] = [240, 120, 44, 18, 16];
  const chart = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'chart', 'data-metric': name });
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * (W - left - 6);
  const py = (y: number) => H - bottom - ((y - y0) / (y1 - y0)) * (H - bottom - top);
  const title = svg('text', { x: 4, y: 11, class: 'chart-title' });
  title.textContent = name;
  chart.append(title, svg('line', { x1: left, y1: H - bottom, x2: W - 6, y2: H - bottom, class: 'axis' }), svg('line', { x1: left, y1: top, x2: left, y2: H - bottom, class: 'axis' }));
  for (const [value, y] of [[y1, top + 4], [y0, H - bottom]] as const) {
    const label = svg('text', { x: left - 3, y, class: 'tick', 'text-anchor': 'end' });
    label.textContent = shortNumber(value);
    chart.append(label);
  }
  for (const [value, anchor] of [[x0, 'start'], [x1, 'end']] as const) {
    const label = svg('text', { x: px(value), y: H - 4, class: 'tick', 'text-anchor': anchor });
    label.textContent = String(value);
    chart.append(label);
  }
  chart.append(svg('polyline', { points: points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '), class: 'line' }));
  return chart;
}

/** A chart for every numeric field of the records that varies or matters (not the step or epoch counters). */
export function metricCharts(records: Record<string, unknown>[]): SVGElement[] {
  const rows = records.map((r) => flatten(r)).filter((r) => typeof r.step === 'number');
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((n) => n !== 'step' && n !== 'epoch' && n !== 'threads');
  return names.map((name) => lineChart(name, rows.filter((r) => name in r).map((r) => [r.step!, r[name]!]))).filter((c) => c.querySelector('polyline')!.getAttribute('points') !== '');
}
