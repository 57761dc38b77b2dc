// DIR/summary.md and DIR/plots/: the parts of a reproduction a README or an
// issue comment quotes — the claims with their verdicts, the per-tokenizer
// table, and the two ranking plots as standalone SVG files — generated from
// results.json like report.html, so no number in them is typed by hand.
import type { Results } from './results.js';
import { fmt, pm, pmSe } from './format.js';
import { scatterSvg } from './scatter_svg.js';

const row = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
const markdownTable = (head: readonly string[], rows: readonly (readonly string[])[]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');

/** The scatter plots of claim 2: gFID against rFID and against pFID, one point per tokenizer and seed. */
export function rankingPlots(r: Results): { rfid: string; pfid: string } {
  const points = (x: (run: Results['runs'][number]) => number) =>
    r.runs.map((run) => ({ x: x(run), y: run.generator.gfid, group: run.name, series: `seed ${run.seed}`, label: `${run.name} seed ${run.seed}` }));
  const { spearman: sp, kendall: kt } = r.analysis.claims.ranking;
  return {
    rfid: scatterSvg(points((run) => run.tokenizer.rfid), { xLabel: 'rFID', yLabel: 'gFID', title: `gFID vs rFID: per-seed ρ = ${fmt(sp.rfid.t.mean)}, τ = ${fmt(kt.rfid)}` }),
    pfid: scatterSvg(points((run) => run.tokenizer.pfid), { xLabel: 'pFID', yLabel: 'gFID', title: `gFID vs pFID: per-seed ρ = ${fmt(sp.pfid.t.mean)}, τ = ${fmt(kt.pfid)}` }),
  };
}


export function reproduceMarkdown(r: Results): string {
  const { claims } = r.analysis;
  const claimRows = [claims.perturbation, claims.ranking, claims.posttraining].map((c, i) =>
    [String(i + 1), c.claim, `**${c.verdict}**`, c.line.slice(c.verdict.length + 2)]);
  const tokenizerRows = r.analysis.tokenizers.map((t) => [
    t.name, t.perturbed ? 'yes' : 'no', pmSe(t.rfid), pmSe(t.pfid), pm(t.sensitivity), pmSe(t.gfid), pmSe(t.gfidPosttrained), pm(t.usage), pm(t.neighbourCosine),
  ]);
  const a = r.preset.config.analysis;
  return [
    `Registered before the run (preset SHA-256 ${r.preset.hash.slice(0, 16)}…): ${r.analysis.rule} Significance ${a.significance} one-sided; ` +
      `small rFID cost: at most ${fmt(a.rfidCost, true)} relative.`,
    '',
    markdownTable(['#', 'claim', 'verdict', `the numbers (mean over seeds [${Math.round(a.level * 100)}% t interval], the deciding test's p)`], claimRows),
    '',
    markdownTable(['tokenizer', 'perturbation', 'rFID', 'pFID', 'sensitivity', 'gFID', 'gFID post-trained', 'codebook usage', 'neighbour cosine'], tokenizerRows),
    '',
    `Mean ± std over seeds ${r.preset.config.seeds.join(', ')}; (SE) the standard error of a FID's mean over seeds; (sample SE) one FID's bootstrap standard error ` +
      `over images or samples at its n, the part of the spread that is sample noise. Claim 3 pairs: ` +
      claims.posttraining.pairs.map((p) => `${p.name} s${p.seed} ${fmt(p.before)} → ${fmt(p.after)}`).join('; ') + '.',
    '',
  ].join('\n');
}
