// A generator evaluation as one self-contained HTML page (the sample grid
// inlined, no scripts or network): every number of `robustok eval-generator`
// with the network, the sample count and the sampling settings behind it,
// and a row of samples per class.
import type { Sampling } from '../generator/index.js';
import type { GeneratorEvalResult } from './generator_eval.js';
import { escape, fmt, gridHtml, htmlPage, tableHtml } from './report.js';

export type GeneratorReportInput = Omit<GeneratorEvalResult, 'grid'> & {
  generator: string; tokenizer: string; data: string; split: string; sampling: Sampling & { seed: number };
};

export function generatorReportHtml(r: GeneratorReportInput, o: { classes: readonly string[]; grid: string | null }): string {
  const s = r.sampling;
  const rows: [string, string][] = [
    ['feature network', r.features],
    ['samples', `${r.n}, class-balanced${r.biased ? ' — fewer than 2,048: FID is biased upwards' : ''}`],
    ['real images', `${r.real} (${r.data}, ${r.split} split)`],
    ['gFID', fmt(r.gfid)],
    ['Inception Score', r.is ? `${fmt(r.is.mean)} ± ${fmt(r.is.std)} (${r.is.splits} splits)` : 'n/a (the network has no classifier head)'],
    ['precision / recall (k = 3)', `${fmt(r.precision)} / ${fmt(r.recall)}`],
    ['sampling', `cfg ${s.cfg} (${s.schedule}${s.schedule === 'cosine' ? `, p = ${s.power}` : ''}), temperature ${s.temperature}, top-k ${s.topK || 'off'}, top-p ${s.topP}, seed ${s.seed}`],
    ['tokenizer (decoder)', r.tokenizer],
  ];
  const grid = o.grid ? gridHtml('Samples', `One row per class: ${o.classes.join(', ')}.`, 'samples, a row per class', o.grid) : '';
  return htmlPage(`robustok eval-generator: ${r.generator}`, `<h1>Generator evaluation</h1>
<p>Generator <code>${escape(r.generator)}</code> (docs/method.md §5): class-balanced samples decoded by the tokenizer, compared with real images through one feature network.</p>
${tableHtml(rows)}
${grid}`);
}
