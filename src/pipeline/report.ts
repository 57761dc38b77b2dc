// DIR/report.html: a reproduction on one self-contained page (images inlined,
// plots as SVG, no scripts, no network) drawn from results.json only — the
// registered hypotheses, tests, thresholds and rule first (before any number,
// as they were fixed before the run), then the claims with their verdicts and
// the line of numbers behind each, each part's test, p, n and power floor, the
// per-tokenizer table, gFID against rFID and pFID, the pFID curves, sample
// grids, and the before/after grids of post-training on the same tokens.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { curveSvg, escape, gridHtml, htmlPage } from '../eval/index.js';
import { fmt, fmtInterval, fmtP, noiseText, pm, pmSe } from './format.js';
import type { Results } from './results.js';
import type { TestedPart } from './seed_part.js';
import { rankingPlots } from './summary_md.js';
import { SAMPLES_FILE } from './stage_builders.js';
import type { Verdict } from './verdict.js';

/** A table with a header row; cells are escaped here. */
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  `<table><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('\n')}</table>`;

const verdictColour: Record<Verdict, string> = {
  'supported': '#1a7f37', 'not supported': '#b42318', 'inconclusive at this scale': '#8a6d00', "below this design's resolution": '#5a5a5a',
};

/** The SVG namespace is a name, not a link; inline SVG in HTML needs no xmlns, and the page then holds no URL at all. */
const inline = (svg: string) => svg.replace(/ xmlns="[^"]*"/g, '');


const PART_HEAD = ['measure', 'seeds', 'mean [t interval]', 'test', 'one-sided p', 'detectable at 80% power', 'FID sample noise vs seeds', 'left out', 'verdict'];
const partRow = (label: string, p: TestedPart): string[] => [
  label, String(p.n), fmtInterval(p.t.mean, p.t.interval, true), p.test, fmtP(p.p),
  `${fmt(p.detectableEffect.effect)}${p.detectableEffect.reachable ? '' : ` (smallest p ${fmtP(p.detectableEffect.smallestP)}: cannot reach the level)`}`,
  p.sampleNoise ? noiseText(p) : 'n/a', p.dropped.join('; ') || 'none', p.verdict,
];

/** The registration, shown before any number: the hypotheses, their tests and thresholds, the preset's hash and the rule. */
function registrationHtml(r: Results): string {
  const a = r.preset.config.analysis;
  const rows = (['perturbation', 'ranking', 'posttraining'] as const).map((k, i) => [String(i + 1), a.claims[k].hypothesis, a.claims[k].test]);
  return `<h2>Registered before the run</h2>
${table(['#', 'hypothesis', 'test (unit: the seed)'], rows)}
<p>Significance ${a.significance} (one-sided); t intervals at ${Math.round(a.level * 100)}%; claim 1's small rFID cost: at most ${fmt(a.rfidCost, true)} relative;
permutation tests exact up to ${a.exactLimit} relabellings, else ${a.permutations} Monte Carlo draws (seed ${a.seed}). Power stated at 80%.
Preset SHA-256 <code>${escape(r.preset.hash)}</code> (resolved config), file <code>${escape(r.preset.fileHash)}</code>.</p>
<p><small>Rule: ${escape(r.analysis.rule)}</small></p>`;
}

function grid(dir: string, stage: string | undefined, heading: string, caption: string): string {
  const file = stage ? path.join(dir, stage, SAMPLES_FILE) : '';
  return stage && existsSync(file) ? gridHtml(heading, caption, heading, file) : '';
}

export function reproduceReportHtml(r: Results, dir: string): string {
  const { claims } = r.analysis;
  const c = r.preset.config;
  const post = claims.posttraining;
  const hasControl = post.control !== null;
  const claimRows = [claims.perturbation, claims.ranking, claims.posttraining].map((cl, i) =>
    `<tr><td>${i + 1}</td><td>${escape(cl.claim)}</td><td style="color:${verdictColour[cl.verdict]};font-weight:bold">${escape(cl.verdict)}</td><td>${escape(cl.line.slice(cl.verdict.length + 2))}</td></tr>`).join('\n');
  const tokenizerRows = r.analysis.tokenizers.map((t) => [
    t.name, t.perturbed ? 'yes' : 'no', String(t.seeds), pmSe(t.rfid), pmSe(t.pfid), pmSe(t.gfid), pmSe(t.gfidPosttrained), ...(hasControl ? [pmSe(t.gfidControl)] : []), pm(t.sensitivity),
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
    grid(dir, run.stages['eval-posttrained'], `After post-training: ${run.name}, seed ${run.seed}`, `gFID ${fmt(run.posttrained!.gfid)}; the same tokens through the post-trained decoder.`) +
    (run.control ? grid(dir, run.stages['eval-postcontrol'], `σ = 1 control: ${run.name}, seed ${run.seed}`, `gFID ${fmt(run.control.gfid)}; the same tokens through the decoder post-trained on ground-truth tokens.`) : '')).join('\n');
  const body = `<h1>Reproduction: ${escape(r.preset.name)}</h1>
<p>The three claims of docs/method.md (last section), measured on ${escape(r.data)} over seeds ${c.seeds.join(', ')}: ${r.analysis.tokenizers.length} tokenizers (${r.runs.length} trained over the seeds),
one generator each, post-training of ${escape(c.posttrain.tokenizers.join(' and '))} per seed. FIDs through <code>${escape(r.runs[0]?.tokenizer.features ?? c.eval.features)}</code>,
rFID and pFID on ${r.runs[0]?.tokenizer.images ?? c.eval.images} test images, gFID on ${r.runs[0]?.generator.samples ?? c.eval.samples} samples; pFID at α = ${c.eval.pfid.alpha}, δ = ${r.runs[0]?.tokenizer.pfidDelta ?? c.eval.pfid.delta}.
Compute: ${r.minutes.toFixed(1)} min over ${r.stages.length} stages. robustok ${escape(r.versions.robustok)}, libtorch ${escape(r.versions.libtorch)}, Node ${escape(r.versions.node)}.</p>
${registrationHtml(r)}
<h2>Claims</h2>
<table><tr><th>#</th><th>claim</th><th>verdict</th><th>the numbers (mean over seeds [${Math.round(c.analysis.level * 100)}% t interval], the deciding test's p)</th></tr>
${claimRows}</table>
<h2>Tokenizers (mean ± std over seeds; SE: std/√seeds of each FID; sample SE: one FID's bootstrap standard error at its n)</h2>
${table(['tokenizer', 'perturbation', 'seeds', 'rFID', 'pFID', 'gFID', 'gFID post-trained', ...(hasControl ? ['gFID σ = 1 control'] : []), 'sensitivity (pFID α=1 / rFID)', 'codebook usage', 'perplexity', 'neighbour cosine', 'PSNR (dB)'], tokenizerRows)}
<h2>Claim 1: with minus without perturbation, per seed</h2>
${table(PART_HEAD, [partRow('ΔpFID', claims.perturbation.pfid), partRow('ΔgFID', claims.perturbation.gfid),
    partRow(`relative rFID change (small: ≤ ${fmt(claims.perturbation.rfidCost.bound)})`, claims.perturbation.rfidCost)])}
<h3>By sweep entry (vs ${escape(claims.perturbation.baseline)})</h3>
${table(['tokenizer', 'ΔpFID', 'ΔgFID', 'relative rFID change'], claims.perturbation.perVariant.map((v) => [v.name, pm(v.pfid), pm(v.gfid), pm(v.rfidRelative)]))}
<h2>Claim 2: which tokenizer metric ranks by gFID</h2>
${inline(plots.rfid)}
${inline(plots.pfid)}
<p>Each seed's tokenizers are ranked on their own (gFID moves between seeds of one tokenizer), and the per-seed correlations averaged.</p>
${table(['seed', 'tokenizers', 'Spearman ρ(rFID, gFID)', 'ρ(pFID, gFID)', 'Kendall τ-b(rFID, gFID)', 'τ-b(pFID, gFID)'], claims.ranking.seeds.map((x) =>
    [String(x.seed), String(x.tokenizers.length), fmt(x.spearman.rfid), fmt(x.spearman.pfid), fmt(x.kendall.rfid), fmt(x.kendall.pfid)]))}
${table(PART_HEAD, [partRow('Spearman ρ(rFID, gFID)', sp.rfid), partRow('Spearman ρ(pFID, gFID)', sp.pfid), partRow('ρ(pFID) − ρ(rFID): decides', sp.difference)])}
<p>Kendall τ-b, mean over seeds: ${fmt(kt.pfid)} (pFID) vs ${fmt(kt.rfid)} (rFID), difference ${fmt(kt.difference, true)}.</p>
<h2>Claim 3: post-training, the same generator and tokens</h2>
${table(['tokenizer', 'seed', 'gFID before', 'gFID after', 'Δ', ...(hasControl ? ['Δ vs σ = 1 control'] : [])], post.pairs.map((p) =>
    [p.name, String(p.seed), fmt(p.before), fmt(p.after), fmt(p.difference, true), ...(hasControl ? [fmt(p.control ?? NaN, true)] : [])]))}
<p>Before ${pm(post.before)}, after ${pm(post.after)}. ${hasControl ? 'Tested against the σ = 1 control (the same post-training on ground-truth tokens only).'
    : 'These results hold no σ = 1 control (posttrain.control is off in this preset): a gain over the original decoder cannot be told from training the decoder longer.'}
Sign test over seeds: ${post.sign.negative} of ${post.sign.positive + post.sign.negative} lower, two-sided p = ${fmtP(post.sign.p)} (shown; it does not decide).</p>
${table(PART_HEAD, [...(post.control ? [partRow('ΔgFID vs control: decides', post.control)] : []), partRow(`ΔgFID vs original${hasControl ? '' : ': decides'}`, post.effect)])}
${posts}
<h2>pFID against α (and δ, where measured), seed ${firstSeed}</h2>
${curves}
${samples}
<h2>Stages</h2>
${table(['stage', 'this run', 'minutes'], r.stages.map((s) => [s.id, s.status, s.minutes.toFixed(1)]))}`;
  return htmlPage(`robustok reproduce: ${r.preset.name}`, body);
}
