// DIR/report.html: a reproduction on one self-contained page (images inlined,
// plots as SVG, no scripts, no network) drawn from results.json only — the
// claims with their verdicts and the line of numbers behind each, the
// per-tokenizer table, gFID against rFID and pFID, the pFID curves, sample
// grids, and the before/after grids of post-training on the same tokens.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { curveSvg, escape, gridHtml, htmlPage } from '../eval/index.js';
import type { MeanStd } from '../metrics/index.js';
import { type Effect, fmt } from './analysis.js';
import type { Results } from './results.js';
import { rankingPlots } from './summary_md.js';
import { SAMPLES_FILE } from './stages.js';
import type { Verdict } from './verdict.js';

/** Mean ± std in 3 significant digits; the std left out where undefined (one seed). */
export const pm = (m: MeanStd | null): string =>
  (m === null || !Number.isFinite(m.mean) ? 'n/a' : `${fmt(m.mean)}${Number.isFinite(m.std) ? ` ± ${fmt(m.std)}` : ''}`);

/** A table with a header row; cells are escaped here. */
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  `<table><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('\n')}</table>`;

const verdictColour: Record<Verdict, string> = { 'supported': '#1a7f37', 'not supported': '#b42318', 'inconclusive at this scale': '#8a6d00' };

/** The SVG namespace is a name, not a link; inline SVG in HTML needs no xmlns, and the page then holds no URL at all. */
const inline = (svg: string) => svg.replace(/ xmlns="[^"]*"/g, '');

const effectRow = (label: string, e: Effect): string[] =>
  [label, pm(e.summary), `${fmt(e.interval.estimate, true)} [${fmt(e.interval.lo, true)}, ${fmt(e.interval.hi, true)}]`, `${e.sign.negative} lower / ${e.sign.positive} higher, p = ${fmt(e.sign.p)}`, e.verdict];

function grid(dir: string, stage: string | undefined, heading: string, caption: string): string {
  const file = stage ? path.join(dir, stage, SAMPLES_FILE) : '';
  return stage && existsSync(file) ? gridHtml(heading, caption, heading, file) : '';
}

export function reproduceReportHtml(r: Results, dir: string): string {
  const { claims } = r.analysis;
  const c = r.preset.config;
  const claimRows = [claims.perturbation, claims.ranking, claims.posttraining].map((cl, i) =>
    `<tr><td>${i + 1}</td><td>${escape(cl.claim)}</td><td style="color:${verdictColour[cl.verdict]};font-weight:bold">${escape(cl.verdict)}</td><td>${escape(cl.line.slice(cl.verdict.length + 2))}</td></tr>`).join('\n');
  const tokenizerRows = r.analysis.tokenizers.map((t) => [
    t.name, t.perturbed ? 'yes' : 'no', String(t.seeds), pm(t.rfid), pm(t.pfid), pm(t.gfid), pm(t.gfidPosttrained), pm(t.sensitivity),
    pm(t.usage), pm(t.perplexity), pm(t.neighbourCosine), pm(t.psnr),
  ]);
  const plots = rankingPlots(r);
  const sp = claims.ranking.spearman;
  const kt = claims.ranking.kendall;
  const firstSeed = c.seeds[0]!;
  const shown = r.runs.filter((run) => run.seed === firstSeed);
  const curves = shown.map((run) => `<h3>${escape(run.name)} (seed ${run.seed})</h3>${inline(curveSvg(run.tokenizer.curve, run.tokenizer.rfid, 420, 240))}` +
    (run.tokenizer.deltaCurve.length > 0 ? inline(curveSvg(run.tokenizer.deltaCurve, run.tokenizer.rfid, 420, 240, 'delta')) : '')).join('\n');
  const samples = shown.map((run) => grid(dir, run.stages['eval-generator'], `Samples: ${run.name}, seed ${run.seed}`, 'One row per class, the original decoder.')).join('\n');
  const posts = r.runs.filter((run) => run.posttrained !== null).map((run) =>
    grid(dir, run.stages['eval-generator'], `Before post-training: ${run.name}, seed ${run.seed}`, `gFID ${fmt(run.generator.gfid)}; the generator's sampled tokens through the original decoder.`) +
    grid(dir, run.stages['eval-posttrained'], `After post-training: ${run.name}, seed ${run.seed}`, `gFID ${fmt(run.posttrained!.gfid)}; the same tokens through the post-trained decoder.`)).join('\n');
  const body = `<h1>Reproduction: ${escape(r.preset.name)}</h1>
<p>The three claims of docs/method.md (last section), measured on ${escape(r.data)} over seeds ${c.seeds.join(', ')}: ${r.analysis.tokenizers.length} tokenizers per seed,
one generator each, post-training of ${escape(c.posttrain.tokenizers.join(' and '))} per seed. FIDs through <code>${escape(r.runs[0]?.tokenizer.features ?? c.eval.features)}</code>,
rFID and pFID on ${r.runs[0]?.tokenizer.images ?? c.eval.images} test images, gFID on ${r.runs[0]?.generator.samples ?? c.eval.samples} samples; pFID at α = ${c.eval.pfid.alpha}, δ = ${r.runs[0]?.tokenizer.pfidDelta ?? c.eval.pfid.delta}.
Compute: ${r.minutes.toFixed(1)} min over ${r.stages.length} stages. robustok ${escape(r.versions.robustok)}, libtorch ${escape(r.versions.libtorch)}, Node ${escape(r.versions.node)}.</p>
<h2>Claims</h2>
<table><tr><th>#</th><th>claim</th><th>verdict</th><th>the numbers (estimate [${Math.round(c.analysis.level * 100)}% bootstrap interval])</th></tr>
${claimRows}</table>
<p><small>Rule, fixed before the runs: ${escape(r.analysis.rule)} Significance ${c.analysis.significance}; ${c.analysis.resamples} bootstrap resamples.
Pairs of one seed share its baseline, and points of one seed share its noise: the intervals treat them as independent, which flatters them when seeds are few.</small></p>
<h2>Tokenizers (mean ± std over seeds)</h2>
${table(['tokenizer', 'perturbation', 'seeds', 'rFID', 'pFID', 'gFID', 'gFID post-trained', 'sensitivity (pFID α=1 / rFID)', 'codebook usage', 'perplexity', 'neighbour cosine', 'PSNR (dB)'], tokenizerRows)}
<h2>Claim 1: with minus without perturbation, same seed</h2>
${table(['measure', 'mean ± std', 'mean [interval]', 'sign', 'verdict'], [
    effectRow('ΔpFID', claims.perturbation.pfid), effectRow('ΔgFID', claims.perturbation.gfid),
    effectRow(`relative rFID change (small: ≤ ${fmt(claims.perturbation.rfidCost.bound)})`, claims.perturbation.rfidCost)])}
<h3>By sweep entry (vs ${escape(claims.perturbation.baseline)})</h3>
${table(['tokenizer', 'ΔpFID', 'ΔgFID', 'relative rFID change'], claims.perturbation.perVariant.map((v) => [v.name, pm(v.pfid), pm(v.gfid), pm(v.rfidRelative)]))}
<h2>Claim 2: which tokenizer metric ranks by gFID</h2>
${inline(plots.rfid)}
${inline(plots.pfid)}
${table(['rank correlation with gFID', 'rFID', 'pFID', 'pFID − rFID'], [
    ['Spearman ρ', fmt(sp.rfid.estimate), fmt(sp.pfid.estimate), `${fmt(sp.difference.estimate, true)} [${fmt(sp.difference.lo, true)}, ${fmt(sp.difference.hi, true)}]`],
    ['Kendall τ-b', fmt(kt.rfid.estimate), fmt(kt.pfid.estimate), `${fmt(kt.difference.estimate, true)} [${fmt(kt.difference.lo, true)}, ${fmt(kt.difference.hi, true)}]`]])}
<h2>Claim 3: post-training, the same generator and tokens</h2>
${table(['tokenizer', 'seed', 'gFID before', 'gFID after', 'Δ'], claims.posttraining.pairs.map((p) => [p.name, String(p.seed), fmt(p.before), fmt(p.after), fmt(p.difference, true)]))}
<p>Before ${pm(claims.posttraining.before)}, after ${pm(claims.posttraining.after)}.</p>
${posts}
<h2>pFID against α (and δ, where measured), seed ${firstSeed}</h2>
${curves}
${samples}
<h2>Stages</h2>
${table(['stage', 'this run', 'minutes'], r.stages.map((s) => [s.id, s.status, s.minutes.toFixed(1)]))}`;
  return htmlPage(`robustok reproduce: ${r.preset.name}`, body);
}
