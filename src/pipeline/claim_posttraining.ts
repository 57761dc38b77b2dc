// Claim 3 (docs/method.md, last section): post-training the decoder lowers
// gFID for a fixed generator. Each post-trained decoder is scored on the very
// same sampled tokens as its original decoder, so the difference is paired;
// the decoders post-trained within one seed share that seed's generators'
// noise, so the unit is the seed: per seed, the mean of its paired
// differences, a one-sided t test over seeds, and the sign test over seeds
// beside it (at 3 seeds it cannot reach 0.05, so it does not decide).
//
// A lower gFID after post-training may come from training the decoder longer
// at all rather than from the σ-tokens (docs/method.md §6): the control is the
// same post-training at σ = 1 (ground-truth tokens only), as
// `robustok post-train-compare` runs it, and as the pipeline trains it with
// posttrain.control on (the default). Results that carry one
// (TokenizerRun.control) are tested as post − control, and post − original is
// shown beside it.
import { type FidNoise, type MeanStd, combinationError, meanStd, signTest } from '../metrics/index.js';
import type { AnalysisSettings } from './analysis.js';
import { fmtP, partText } from './format.js';
import type { TokenizerRun } from './measurements.js';
import { type SeedValue, type TestedPart, tPart } from './seed_part.js';
import type { SignResult, Verdict } from './verdict.js';

export interface PosttrainPair { name: string; seed: number; before: number; after: number; difference: number; control: number | null }

/** The gFIDs' replicates behind a pair (not in results.json's pairs: the runs hold them). */
interface PairNoise { before: FidNoise | null; after: FidNoise | null; control: FidNoise | null }

export interface Claim3 {
  claim: string;
  unit: 'seed';
  test: string;
  pairs: PosttrainPair[];
  before: MeanStd;
  after: MeanStd;
  /** gFID(post-trained) − gFID(original decoder), per seed. */
  effect: TestedPart;
  /** gFID(post-trained) − gFID(σ = 1 control), per seed; null when the results carry no control. */
  control: TestedPart | null;
  /** The part that decides: the control where there is one. */
  primary: 'control' | 'original';
  /** The sign test over the primary part's per-seed values (two-sided; shown, not deciding). */
  sign: SignResult;
  verdict: Verdict;
  line: string;
}

/**
 * Per seed, the mean of `f` over that seed's pairs where it is finite (seeds
 * with none are named), and its sample noise: the same mean of the paired
 * replicate differences (`reference` picks the other decoder of the pair).
 */
function perSeed(pairs: readonly PosttrainPair[], noises: readonly PairNoise[], f: (p: PosttrainPair) => number | null, reference: 'before' | 'control', what: string):
  { values: SeedValue[]; errors: SeedValue[]; dropped: string[] } {
  const values: SeedValue[] = [];
  const errors: SeedValue[] = [];
  const dropped: string[] = [];
  for (const seed of [...new Set(pairs.map((p) => p.seed))]) {
    const used = pairs.map((p, i) => ({ d: f(p), noise: noises[i]! })).filter((x, i) => pairs[i]!.seed === seed && x.d !== null && Number.isFinite(x.d));
    if (used.length === 0) {
      dropped.push(`seed ${seed} (no finite ${what})`);
      continue;
    }
    values.push({ seed, value: used.reduce((a, x) => a + x.d!, 0) / used.length });
    const m = used.length;
    errors.push({ seed, value: combinationError(used.flatMap((x) => [{ coefficient: 1 / m, noise: x.noise.after }, { coefficient: -1 / m, noise: x.noise[reference] }])) });
  }
  return { values, errors, dropped };
}

export function claimPosttraining(runs: readonly TokenizerRun[], s: AnalysisSettings): Claim3 {
  const posted = runs.filter((r) => r.posttrained !== null);
  const pairs: PosttrainPair[] = posted.map((r) => ({
    name: r.name, seed: r.seed, before: r.generator.gfid, after: r.posttrained!.gfid, difference: r.posttrained!.gfid - r.generator.gfid,
    control: r.control ? r.posttrained!.gfid - r.control.gfid : null,
  }));
  const noises: PairNoise[] = posted.map((r) => ({ before: r.generator.gfidNoise, after: r.posttrained!.gfidNoise, control: r.control?.gfidNoise ?? null }));
  const effect = tPart({ what: 'gFID(post-trained) − gFID(original decoder), same tokens: per seed, mean over its post-trained decoders', claimed: 'lower',
    ...perSeed(pairs, noises, (p) => p.difference, 'before', 'post − original') }, s);
  const hasControl = pairs.some((p) => p.control !== null);
  const control = hasControl
    ? tPart({ what: 'gFID(post-trained) − gFID(σ = 1 control), same tokens: per seed, mean over its post-trained decoders', claimed: 'lower',
      ...perSeed(pairs, noises, (p) => p.control, 'control', 'post − control') }, s)
    : null;
  const primary = control ?? effect;
  const sign = signTest(primary.values.map((v) => v.value));
  const finite = pairs.filter((p) => Number.isFinite(p.difference));
  const line = `${primary.verdict}: seed as unit, ${finite.length} post-trained decoders; ` +
    (control ? `${partText('ΔgFID vs the σ = 1 control', control)}; ` : '') +
    `${partText('ΔgFID vs the original decoder', effect)}; ${sign.negative}/${sign.positive + sign.negative} seeds lower, sign test p = ${fmtP(sign.p)} (two-sided, shown only)` +
    (control ? '' : '; no σ = 1 control in these results, so a gain cannot be told from longer decoder training');
  return {
    claim: s.claims.posttraining.hypothesis, unit: 'seed', test: primary.test, pairs,
    before: meanStd(finite.map((p) => p.before)), after: meanStd(finite.map((p) => p.after)),
    effect, control, primary: control ? 'control' : 'original', sign, verdict: primary.verdict, line,
  };
}
