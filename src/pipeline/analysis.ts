// The three claims of docs/method.md (last section), computed from the
// measured numbers of every tokenizer and seed (measurements.ts) and decided
// by the fixed rule of verdict.ts:
//  1. latent perturbation lowers pFID and gFID at a small rFID cost — paired
//     with-minus-without differences within a seed (same seed: same init and
//     data order), over the perturbed sweep entries × seeds;
//  2. pFID ranks tokenizers by gFID better than rFID — Spearman ρ (and
//     Kendall τ-b) over all tokenizers × seeds, the verdict on the paired
//     bootstrap interval of ρ(pFID, gFID) − ρ(rFID, gFID);
//  3. post-training lowers gFID for a fixed generator — after-minus-before
//     on the identical sampled tokens, per post-trained tokenizer and seed.
// Caveat stated in the report: pairs that share a seed share its baseline,
// so the pairs of claim 1 are not independent; the intervals are resampled
// over pairs (or points) all the same, which flatters them when seeds are few.
import { type Interval, type MeanStd, bootstrapInterval, bootstrapMean, kendallTauB, meanStd, signTest, spearman } from '../metrics/index.js';
import type { TokenizerRun } from './measurements.js';
import type { ReproduceConfig } from './preset.js';
import { type SignResult, type Verdict, VERDICT_RULE, allOf, boundVerdict, directionVerdict } from './verdict.js';

export type AnalysisSettings = ReproduceConfig['analysis'] & { baseline: string };

/** One measured effect: its values (one per pair), their summary, interval, sign test and verdict. */
export interface Effect {
  what: string;
  values: number[];
  summary: MeanStd;
  interval: Interval;
  sign: SignResult;
  verdict: Verdict;
}

export interface TokenizerSummary {
  name: string;
  perturbed: boolean;
  seeds: number;
  rfid: MeanStd;
  pfid: MeanStd;
  gfid: MeanStd;
  gfidPosttrained: MeanStd | null;
  sensitivity: MeanStd | null;
  usage: MeanStd;
  perplexity: MeanStd;
  neighbourCosine: MeanStd | null;
  psnr: MeanStd;
}

export interface PerturbationPair { name: string; seed: number; pfid: number; gfid: number; rfidRelative: number }

export interface Claim1 {
  claim: string;
  baseline: string;
  perturbed: string[];
  pairs: PerturbationPair[];
  pfid: Effect;
  gfid: Effect;
  rfidCost: Effect & { bound: number };
  perVariant: { name: string; pfid: MeanStd; gfid: MeanStd; rfidRelative: MeanStd }[];
  verdict: Verdict;
  line: string;
}

export interface Correlations { rfid: Interval; pfid: Interval; difference: Interval }

export interface Claim2 {
  claim: string;
  points: number;
  spearman: Correlations;
  kendall: Correlations;
  verdict: Verdict;
  line: string;
}

export interface PosttrainPair { name: string; seed: number; before: number; after: number; difference: number }

export interface Claim3 {
  claim: string;
  pairs: PosttrainPair[];
  before: MeanStd;
  after: MeanStd;
  effect: Effect;
  verdict: Verdict;
  line: string;
}

export interface Analysis {
  tokenizers: TokenizerSummary[];
  claims: { perturbation: Claim1; ranking: Claim2; posttraining: Claim3 };
  rule: string;
}

/** A number for a verdict line: 3 significant digits, signed where a difference. */
export const fmt = (v: number, signed = false): string =>
  (!Number.isFinite(v) ? 'n/a' : `${signed && v > 0 ? '+' : ''}${Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3)}`);
export const fmtInterval = (i: Interval, signed = false): string => `${fmt(i.estimate, signed)} [${fmt(i.lo, signed)}, ${fmt(i.hi, signed)}]`;
const fmtSign = (s: SignResult, claimed: 'lower' | 'higher'): string =>
  `${claimed === 'lower' ? s.negative : s.positive}/${s.positive + s.negative} ${claimed}, sign test p = ${fmt(s.p)}`;

/** A measured effect; a non-finite value (a failed FID) is left out rather than poisoning the rest. */
function effect(what: string, measured: number[], s: AnalysisSettings, decide: (interval: Interval, sign: SignResult) => Verdict): Effect {
  const values = measured.filter(Number.isFinite);
  const interval = bootstrapMean(values, { resamples: s.resamples, level: s.level, seed: s.seed });
  const sign = signTest(values);
  return { what, values, summary: meanStd(values), interval, sign, verdict: decide(interval, sign) };
}

const lower = (s: AnalysisSettings) => (i: Interval, sign: SignResult) => directionVerdict(i, -1, s.significance, sign);
const orNull = (values: (number | null)[]): MeanStd | null => (values.every((v): v is number => v !== null) && values.length > 0 ? meanStd(values) : null);

export function summarise(runs: readonly TokenizerRun[]): TokenizerSummary[] {
  const names = [...new Set(runs.map((r) => r.name))];
  return names.map((name) => {
    const rs = runs.filter((r) => r.name === name);
    const of = (f: (r: TokenizerRun) => number) => meanStd(rs.map(f));
    const post = rs.filter((r) => r.posttrained !== null);
    return {
      name, perturbed: rs[0]!.perturbed, seeds: rs.length,
      rfid: of((r) => r.tokenizer.rfid), pfid: of((r) => r.tokenizer.pfid), gfid: of((r) => r.generator.gfid),
      gfidPosttrained: post.length > 0 ? meanStd(post.map((r) => r.posttrained!.gfid)) : null,
      sensitivity: orNull(rs.map((r) => r.tokenizer.sensitivity)), usage: of((r) => r.tokenizer.usage), perplexity: of((r) => r.tokenizer.perplexity),
      neighbourCosine: orNull(rs.map((r) => r.tokenizer.neighbourCosine)), psnr: of((r) => r.tokenizer.psnr),
    };
  });
}

export function claimPerturbation(runs: readonly TokenizerRun[], s: AnalysisSettings): Claim1 {
  const perturbed = s.perturbed.length > 0 ? [...s.perturbed] : [...new Set(runs.filter((r) => r.name !== s.baseline).map((r) => r.name))];
  const pairs: PerturbationPair[] = [];
  for (const base of runs.filter((r) => r.name === s.baseline)) {
    for (const r of runs.filter((x) => x.seed === base.seed && perturbed.includes(x.name))) {
      pairs.push({
        name: r.name, seed: r.seed, pfid: r.tokenizer.pfid - base.tokenizer.pfid, gfid: r.generator.gfid - base.generator.gfid,
        rfidRelative: r.tokenizer.rfid / base.tokenizer.rfid - 1,
      });
    }
  }
  const pfid = effect('pFID(with) − pFID(without)', pairs.map((p) => p.pfid), s, lower(s));
  const gfid = effect('gFID(with) − gFID(without)', pairs.map((p) => p.gfid), s, lower(s));
  const rfidCost = { ...effect('rFID(with) / rFID(without) − 1', pairs.map((p) => p.rfidRelative), s, (i) => boundVerdict(i, s.rfidCost)), bound: s.rfidCost };
  const verdict = allOf([pfid.verdict, gfid.verdict, rfidCost.verdict]);
  const perVariant = perturbed.map((name) => {
    const ps = pairs.filter((p) => p.name === name);
    return { name, pfid: meanStd(ps.map((p) => p.pfid)), gfid: meanStd(ps.map((p) => p.gfid)), rfidRelative: meanStd(ps.map((p) => p.rfidRelative)) };
  });
  const line = `${verdict}: over ${pairs.length} pairs (${perturbed.join(', ')} vs ${s.baseline}, same seed), ` +
    `ΔpFID ${fmtInterval(pfid.interval, true)} (${fmtSign(pfid.sign, 'lower')}), ΔgFID ${fmtInterval(gfid.interval, true)} (${fmtSign(gfid.sign, 'lower')}), ` +
    `rFID change ${fmtInterval(rfidCost.interval, true)} relative (small: upper end ≤ ${fmt(s.rfidCost, true)})`;
  return { claim: 'Latent perturbation lowers pFID and gFID at a small rFID cost', baseline: s.baseline, perturbed, pairs, pfid, gfid, rfidCost, perVariant, verdict, line };
}

/** ρ or τ of rFID and of pFID against gFID, and their difference, on the same resamples of the points. */
function correlations(runs: readonly TokenizerRun[], s: AnalysisSettings, rank: (x: number[], y: number[]) => number): Correlations {
  const pick = (ix: readonly number[], f: (r: TokenizerRun) => number) => ix.map((i) => f(runs[i]!));
  const against = (ix: readonly number[], f: (r: TokenizerRun) => number) => rank(pick(ix, f), pick(ix, (r) => r.generator.gfid));
  const o = { resamples: s.resamples, level: s.level, seed: s.seed };
  return {
    rfid: bootstrapInterval(runs.length, (ix) => against(ix, (r) => r.tokenizer.rfid), o),
    pfid: bootstrapInterval(runs.length, (ix) => against(ix, (r) => r.tokenizer.pfid), o),
    difference: bootstrapInterval(runs.length, (ix) => against(ix, (r) => r.tokenizer.pfid) - against(ix, (r) => r.tokenizer.rfid), o),
  };
}

export function claimRanking(measured: readonly TokenizerRun[], s: AnalysisSettings): Claim2 {
  const runs = measured.filter((r) => [r.tokenizer.rfid, r.tokenizer.pfid, r.generator.gfid].every(Number.isFinite));
  const sp = correlations(runs, s, spearman);
  const kt = correlations(runs, s, kendallTauB);
  // Spearman ρ decides (named here before any data); Kendall τ-b is shown beside it.
  const verdict = directionVerdict(sp.difference, 1, s.significance);
  const line = `${verdict}: over ${runs.length} tokenizers × seeds, Spearman ρ(pFID, gFID) ${fmtInterval(sp.pfid)} vs ρ(rFID, gFID) ${fmtInterval(sp.rfid)}, ` +
    `difference ${fmtInterval(sp.difference, true)}; Kendall τ-b ${fmt(kt.pfid.estimate)} vs ${fmt(kt.rfid.estimate)}`;
  return { claim: 'pFID ranks tokenizers by gFID better than rFID', points: runs.length, spearman: sp, kendall: kt, verdict, line };
}

export function claimPosttraining(runs: readonly TokenizerRun[], s: AnalysisSettings): Claim3 {
  const pairs: PosttrainPair[] = runs.filter((r) => r.posttrained !== null).map((r) => ({
    name: r.name, seed: r.seed, before: r.generator.gfid, after: r.posttrained!.gfid, difference: r.posttrained!.gfid - r.generator.gfid,
  }));
  const e = effect('gFID(post-trained decoder) − gFID(original decoder), same tokens', pairs.map((p) => p.difference), s, lower(s));
  const line = `${e.verdict}: over ${pairs.length} post-trained tokenizers × seeds, ΔgFID ${fmtInterval(e.interval, true)} ` +
    `(mean ± std ${fmt(e.summary.mean, true)} ± ${fmt(e.summary.std)}; ${fmtSign(e.sign, 'lower')})`;
  return {
    claim: 'Post-training the decoder lowers gFID for a fixed generator', pairs,
    before: meanStd(pairs.map((p) => p.before)), after: meanStd(pairs.map((p) => p.after)), effect: e, verdict: e.verdict, line,
  };
}

export function analyse(runs: readonly TokenizerRun[], s: AnalysisSettings): Analysis {
  return {
    tokenizers: summarise(runs),
    claims: { perturbation: claimPerturbation(runs, s), ranking: claimRanking(runs, s), posttraining: claimPosttraining(runs, s) },
    rule: VERDICT_RULE,
  };
}
