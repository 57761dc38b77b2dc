// A tokenizer evaluation as one self-contained HTML page (images inlined, the curve
// drawn as SVG, no scripts or network) with every number of `robustok eval`,
// the reconstructions next to the perturbed ones, pFID against α and (when
// measured) against δ, the sensitivity and the codebook's crowding.
import { readFileSync } from 'node:fs';
import type { PfidPoint } from './pfid.js';
import type { TokenizerEvalResult } from './tokenizer_eval.js';

export const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
export const fmt = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

/**
 * pFID against α (x from 0 to 1) or against δ (x on a log scale over the
 * measured δ values, which typically double) as an SVG line plot, the y axis
 * fitted to the data, rFID as a dashed reference line.
 */
export function curveSvg(curve: PfidPoint[], rfid: number, width = 480, height = 280, over: 'alpha' | 'delta' = 'alpha'): string {
  if (curve.length === 0) return `<p>No curve was computed (${over === 'alpha' ? '--curve none' : 'no --delta-curve'}).</p>`;
  const margin = { left: 56, right: 16, top: 16, bottom: 40 };
  const values = [rfid, ...curve.map((p) => p.value)];
  const pad = (Math.max(...values) - Math.min(...values)) * 0.1 || 1;
  const [lo, hi] = [Math.min(...values) - pad, Math.max(...values) + pad];
  const along = (p: PfidPoint) => (over === 'alpha' ? p.alpha : Math.log2(p.delta));
  const [x0, x1] = over === 'alpha' ? [0, 1] : [Math.min(...curve.map(along)), Math.max(...curve.map(along))];
  const fraction = (v: number) => (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5);
  const x = (v: number) => (margin.left + fraction(v) * (width - margin.left - margin.right)).toFixed(1);
  const y = (v: number) => (height - margin.bottom - ((v - lo) / (hi - lo)) * (height - margin.top - margin.bottom)).toFixed(1);
  const path = curve.map((p, i) => `${i ? 'L' : 'M'}${x(along(p))},${y(p.value)}`).join(' ');
  const ticks: [number, string][] = over === 'alpha' ? [0, 0.25, 0.5, 0.75, 1].map((a) => [a, String(a)]) : curve.map((p) => [along(p), String(p.delta)]);
  const ticksX = ticks.map(([v, label]) => `<text x="${x(v)}" y="${height - margin.bottom + 18}" text-anchor="middle">${label}</text>`).join('');
  const ticksY = [0, 0.5, 1].map((f) => lo + f * (hi - lo))
    .map((v) => `<text x="${margin.left - 8}" y="${Number(y(v)) + 4}" text-anchor="end">${fmt(v, 1)}</text>`).join('');
  const name = (p: PfidPoint) => (over === 'alpha' ? `α=${p.alpha}` : `δ=${p.delta}`);
  const dots = curve.map((p) => `<circle cx="${x(along(p))}" cy="${y(p.value)}" r="3.5" fill="#1f6fb4"><title>${name(p)}: pFID ${fmt(p.value)}</title></circle>`).join('');
  const axis = over === 'alpha' ? `α (δ = ${curve[0]!.delta}, β = 1)` : `δ, log scale (α = ${curve[0]!.alpha}, β = 1)`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<line x1="${margin.left}" y1="${height - margin.bottom}" x2="${width - margin.right}" y2="${height - margin.bottom}" stroke="#444"/>
<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${height - margin.bottom}" stroke="#444"/>
${ticksX}${ticksY}
<line x1="${margin.left}" y1="${y(rfid)}" x2="${width - margin.right}" y2="${y(rfid)}" stroke="#999" stroke-dasharray="4 4"/>
<text x="${width - margin.right}" y="${Number(y(rfid)) - 4}" text-anchor="end" fill="#666">rFID ${fmt(rfid, 2)}</text>
<text x="${(width + margin.left) / 2}" y="${height - 6}" text-anchor="middle">${axis}</text>
<path d="${path}" fill="none" stroke="#1f6fb4" stroke-width="2"/>${dots}
</svg>`;
}

/** A self-contained page: the shared style, a title and the body. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse}th,td{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
${body}
</body></html>
`;
}

/** An inlined PNG grid under a heading and a caption. */
export const gridHtml = (heading: string, caption: string, alt: string, file: string): string =>
  `<h2>${escape(heading)}</h2><p>${escape(caption)}</p>
<img alt="${escape(alt)}" style="image-rendering:pixelated;width:min(100%,960px)" src="data:image/png;base64,${readFileSync(file).toString('base64')}">`;

/** Rows of label / value as an HTML table. */
export const tableHtml = (rows: [string, string][]): string =>
  `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('\n')}</table>`;

/** A curve's points as an HTML table: α, δ, pFID. */
const curveTable = (curve: PfidPoint[], r: TokenizerEvalResult): string =>
  curve.length === 0 ? '' : `<table><tr><th>α</th><th>δ</th><th>pFID (${escape(r.features)}, n = ${r.n})</th></tr>${
    curve.map((p) => `<tr><td>${p.alpha}</td><td>${p.delta}</td><td>${fmt(p.value)}</td></tr>`).join('')}</table>`;

export function reportHtml(r: TokenizerEvalResult, o: { tokenizer: string; data: string; split: string; grid: string | null }): string {
  const rows: [string, string][] = [
    ['feature network', r.features],
    ['images', `${r.n} (${o.data}; split: ${o.split})${r.biased ? ' — fewer than 2,048: FIDs are biased upwards' : ''}`],
    ['rFID', fmt(r.rfid)],
    [`pFID (α = ${r.pfid.alpha}, δ = ${r.pfid.delta}, β = 1)`, fmt(r.pfid.value)],
    [`sensitivity: pFID (α = 1, δ = ${r.pfid.delta}) / rFID`, fmt(r.sensitivity)],
    [`PSNR (clean / at the pFID level α = ${r.pfid.alpha}, δ = ${r.pfid.delta})`, `${fmt(r.psnr, 2)} dB / ${fmt(r.psnrPfidLevel, 2)} dB`],
    ['SSIM', fmt(r.ssim, 4)],
    ['codebook usage', `${fmt(100 * r.usage, 1)}%`],
    ['perplexity', fmt(r.perplexity, 1)],
    [`mean cosine of a used code to its ${r.pfid.delta - 1} nearest other codes (its swap candidates at δ = ${r.pfid.delta})`,
      r.neighbourCosine === null ? '— (δ = 1: no candidates)' : fmt(r.neighbourCosine)],
  ];
  const grid = o.grid
    ? gridHtml('Reconstructions', `Rows: real images, reconstructions, reconstructions from perturbed tokens (α = ${r.pfid.alpha}, δ = ${r.pfid.delta}).`, 'real, reconstructed and perturbed', o.grid)
    : '';
  const deltaCurve = r.deltaCurve.length === 0 ? '' : `<h2>pFID against δ</h2>
${curveSvg(r.deltaCurve, r.rfid, 480, 280, 'delta')}
${curveTable(r.deltaCurve, r)}`;
  return htmlPage(`robustok eval: ${o.tokenizer}`, `<h1>Tokenizer evaluation</h1>
<p>Tokenizer <code>${escape(o.tokenizer)}</code>. pFID (RobusTok, docs/method.md §3): FID between the real images and reconstructions from perturbed tokens, every image perturbed; each token is redrawn with probability α among its δ nearest codes, with a fixed seed. A sensitivity near 1 means that even redrawing every token barely moves FID: at this scale pFID cannot separate tokenizers (docs/method.md §2, "Small codebooks").</p>
${tableHtml(rows)}
<h2>pFID against α</h2>
${curveSvg(r.curve, r.rfid)}
${curveTable(r.curve, r)}
${deltaCurve}
${grid}`);
}
